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

/* LEASESIM_REDUCTION=dpor (the default), sleep or none. */
static bool reduction_from_environment(enum sim_reduction *reduction) {
    const char *text = getenv("LEASESIM_REDUCTION");
    if (text == NULL || text[0] == '\0' || strcmp(text, "dpor") == 0)
        *reduction = SIM_REDUCTION_DPOR;
    else if (strcmp(text, "sleep") == 0)
        *reduction = SIM_REDUCTION_SLEEP;
    else if (strcmp(text, "none") == 0)
        *reduction = SIM_REDUCTION_NONE;
    else
        return false;
    return true;
}

static const char *reduction_name(enum sim_reduction reduction) {
    return reduction == SIM_REDUCTION_DPOR ? "dpor" : reduction == SIM_REDUCTION_SLEEP ? "sleep sets" : "none";
}

int sim_cli_exhaustive(struct cli *cli) {
    struct sim_plan plan;
    if (!reduction_from_environment(&cli->request.reduction)) {
        fprintf(stderr, "leasesim: LEASESIM_REDUCTION must be dpor, sleep or none\n");
        return EX_USAGE;
    }
    sim_make_plan(&cli->request, cli->first, &plan);
    char description[512];
    sim_plan_describe(&plan, description, sizeof description);
    printf("leasesim: seed %llu impl=%s strategy=exhaustive scenario=%s %s (every interleaving, crash points of the "
           "crash-anywhere actors)\n",
           (unsigned long long)cli->first, cli->impl_name, cli->scenario_path ? cli->scenario_path : plan.name,
           description);
    const char *all = getenv("LEASESIM_EXHAUSTIVE_ALL");
    cli->request.keep_going = all != NULL && all[0] != '\0' && strcmp(all, "0") != 0;
    double started = seconds_now();
    struct sim_exploration result = sim_explore(&cli->request, &plan, 50000000);
    double elapsed = seconds_now() - started;
    printf("exhaustive: %llu schedules, %llu steps, %.2fs, %s\n"
           "reduction: %s; %llu schedules explored, %llu equivalence classes (complete runs), %llu cut as "
           "equivalent\n",
           (unsigned long long)result.schedules, (unsigned long long)result.steps, elapsed,
           result.violation != SIM_INVARIANT_NONE ? "VIOLATION"
           : result.complete                      ? "complete: no violation"
                                                  : "incomplete",
           reduction_name(cli->request.reduction), (unsigned long long)result.schedules,
           (unsigned long long)result.classes, (unsigned long long)(result.schedules - result.classes));
    if (cli->request.keep_going) {
        /* every invariant some schedule violates (LEASESIM_EXHAUSTIVE_ALL) */
        printf("violations:");
        for (int invariant = 1; invariant < SIM_INVARIANT_COUNT; invariant++)
            if (result.violations >> invariant & 1) printf(" %s", sim_invariant_name((enum sim_invariant)invariant));
        printf("%s\n", result.violations == 0 ? " none" : "");
        return result.violations != 0 ? 1 : result.complete ? 0 : 1;
    }
    if (result.violation != SIM_INVARIANT_NONE) {
        struct sim_world *world = sim_world_get();
        printf("VIOLATION impl=%s invariant=%s (schedule %llu)\n  %s\nreplay: ", cli->impl_name,
               sim_invariant_name(result.violation), (unsigned long long)result.schedules, world->violation_text);
        print_replay(cli, stdout, cli->first, NULL);
        return 1;
    }
    return result.complete ? 0 : 1;
}
