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
    return missed > 0 ? 1 : 0;
}
