/*
 * cli_exhaustive.c: --strategy exhaustive: every interleaving of one plan.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "plan.h"
#include "trace.h"

int sim_cli_exhaustive(struct cli *cli) {
    struct sim_plan plan;
    sim_make_plan(&cli->request, cli->first, &plan);
    char description[512];
    sim_plan_describe(&plan, description, sizeof description);
    printf("leasesim: seed %llu impl=%s strategy=exhaustive scenario=%s %s (every interleaving, crash points of the "
           "crash-anywhere actors)\n",
           (unsigned long long)cli->first, cli->impl_name, cli->scenario_path ? cli->scenario_path : plan.name,
           description);
    double started = seconds_now();
    struct sim_exploration result = sim_explore(&cli->request, &plan, 50000000);
    double elapsed = seconds_now() - started;
    printf("exhaustive: %llu schedules, %llu steps, %.2fs, %s\n", (unsigned long long)result.schedules,
           (unsigned long long)result.steps, elapsed,
           result.violation != SIM_INVARIANT_NONE ? "VIOLATION"
           : result.complete                      ? "complete: no violation"
                                                  : "incomplete");
    if (result.violation != SIM_INVARIANT_NONE) {
        struct sim_world *world = sim_world_get();
        printf("VIOLATION impl=%s invariant=%s (schedule %llu)\n  %s\nreplay: ", cli->impl_name,
               sim_invariant_name(result.violation), (unsigned long long)result.schedules, world->violation_text);
        print_replay(cli, stdout, cli->first, NULL);
        return 1;
    }
    return result.complete ? 0 : 1;
}
