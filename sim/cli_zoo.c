/*
 * cli_zoo.c: --zoo: each member of the bug zoo must be caught.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "trace.h"
#include "traits.h"

int sim_cli_zoo(struct cli *cli) {
    uint64_t first = cli->has_seeds ? cli->first : 1, last = cli->has_seeds ? cli->last : 20000;
    int missed = 0;
    printf("%-26s %-58s %-18s %8s %8s\n", "implementation", "rule broken", "caught by", "seeds", "seconds");
    for (size_t index = 0; index < zoo_count(); index++) {
        struct sim_request request = cli->request;
        request.ops = zoo_at(index);
        request.traits = sim_traits_for(request.ops->name);
        struct first_hit hit = first_violation(&request, first, last);
        printf("%-26s %-58s %-18s %8llu %8.2f\n", request.ops->name, request.ops->description,
               hit.invariant ? sim_invariant_name(hit.invariant) : "NOT CAUGHT", (unsigned long long)hit.seeds,
               hit.seconds);
        if (hit.invariant == SIM_INVARIANT_NONE) missed++;
    }
    printf("zoo: %zu members, %d not caught\n", zoo_count(), missed);
    /* Seeds to the first violation per strategy (random, PCT and POS:
     * partial-order sampling), from the same seeds: which strategy finds
     * each bug soonest. Fewer is better; "-" is not caught in the range. */
    static const struct {
        const char *name;
        enum sim_strategy strategy;
    } strategies[] = {{"random", SIM_STRATEGY_RANDOM}, {"pct", SIM_STRATEGY_PCT}, {"pos", SIM_STRATEGY_POS}};
    uint64_t totals[3] = {0};
    printf("seeds to catch per strategy:\n%-26s %10s %10s %10s\n", "implementation", "random", "pct", "pos");
    for (size_t index = 0; index < zoo_count(); index++) {
        printf("%-26s", zoo_at(index)->name);
        for (int column = 0; column < 3; column++) {
            struct sim_request request = cli->request;
            request.ops = zoo_at(index);
            request.traits = sim_traits_for(request.ops->name);
            request.strategy = strategies[column].strategy;
            struct first_hit hit = first_violation(&request, first, last);
            if (hit.invariant == SIM_INVARIANT_NONE)
                printf(" %10s", "-");
            else
                printf(" %10llu", (unsigned long long)hit.seeds);
            totals[column] += hit.invariant == SIM_INVARIANT_NONE ? last - first + 1 : hit.seeds;
        }
        printf("\n");
    }
    printf("%-26s %10llu %10llu %10llu\n", "total", (unsigned long long)totals[0], (unsigned long long)totals[1],
           (unsigned long long)totals[2]);
    for (int column = 0; column < 3; column++)
        printf("sim_zoo_%s_seeds_to_catch %llu seeds\n", strategies[column].name, (unsigned long long)totals[column]);
    return missed > 0 ? 1 : 0;
}
