/*
 * cli_common.c: helpers the modes of the command line share.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "cli.h"
#include "trace.h"

double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now); /* rates only, never a simulation input */
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

void print_replay(const struct cli *cli, FILE *out, uint64_t seed, const char *drops) {
    fprintf(out, "%s --impl %s", cli->argv0, cli->impl_name);
    if (cli->scenario_path != NULL) fprintf(out, " --scenario %s", cli->scenario_path);
    fprintf(out, " --strategy %s", cli->strategy_name); /* always: a replay line outlives a change of default */
    if (cli->request.mix != NULL) fprintf(out, " --mix %s", cli->request.mix);
    fprintf(out, " --seed %llu", (unsigned long long)seed);
    if (drops != NULL && drops[0] != '\0') fprintf(out, " --drop %s", drops);
    fputc('\n', out);
}

void print_counters(const uint64_t *counters, FILE *out) {
    fputs("reached:", out);
    for (int index = 0; index < SIM_COUNTER_COUNT; index++)
        if (counters[index] > 0) fprintf(out, " %s=%llu", sim_counter_name(index), (unsigned long long)counters[index]);
    fputs("\nnever reached:", out);
    int never = 0;
    /* model-race is reachable only in mixed runs: not listed as missed elsewhere */
    for (int index = 0; index < SIM_COUNTER_COUNT; index++)
        if (counters[index] == 0 && index != SIM_COUNTER_MODEL_RACE)
            fprintf(out, " %s", sim_counter_name(index)), never++;
    fputs(never ? "\n" : " (none)\n", out);
}

struct first_hit first_violation(const struct sim_request *request, uint64_t first, uint64_t last) {
    struct first_hit hit = {0};
    double started = seconds_now();
    for (uint64_t seed = first; seed <= last; seed++) {
        struct sim_plan plan;
        sim_make_plan(request, seed, &plan);
        sim_run_seed(request, &plan, seed, NULL, false);
        hit.seeds++;
        if (sim_world_get()->violation != SIM_INVARIANT_NONE) {
            hit.invariant = sim_world_get()->violation;
            break;
        }
    }
    hit.seconds = seconds_now() - started;
    return hit;
}
