/*
 * cli_bench.c: --bench: rates of the scheduler and of a campaign, time to
 * the first violation of the two-reclaimers race per strategy, and the
 * exhaustive proof for lease.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "cli.h"
#include "plan.h"
#include "scenario.h"
#include "trace.h"
#include "traits.h"

/* An implementation that only makes cheap environment calls: measures the
 * scheduler, the world and the trace hash without JSON work. */
static enum lease_status null_acquire(const struct lease_env *env, const struct lease_options *options,
                                      struct lease_result *result) {
    (void)options;
    for (int index = 0; index < 64; index++) env->monotonic_ms(env->context);
    result->status = LEASE_STATUS_ERROR;
    return LEASE_STATUS_ERROR;
}

/* The race the bench times is the scenario file's (one plan, two sources
 * would drift); the bench runs from the top of the tree, as make does. */
#define BENCH_SCENARIO "fixtures/scenarios/two-reclaimers.scn"

static void bench_rates(struct cli *cli, const char *title, const struct lease_ops *ops, uint64_t seeds) {
    struct sim_request request = cli->request;
    request.ops = ops;
    request.traits = sim_traits_for(ops->name);
    request.scenario = NULL;
    request.strategy = SIM_STRATEGY_RANDOM;
    uint64_t steps = 0;
    double started = seconds_now();
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        struct sim_plan plan;
        sim_make_plan(&request, seed, &plan);
        sim_run_seed(&request, &plan, seed, NULL, false);
        steps += sim_world_get()->step;
    }
    double elapsed = seconds_now() - started;
    printf("%-44s %10.0f steps/s  %8.0f seeds/s  (%llu seeds, %llu steps, %.2fs)\n", title, (double)steps / elapsed,
           (double)seeds / elapsed, (unsigned long long)seeds, (unsigned long long)steps, elapsed);
}

/* The proof with two crashing holders (fixtures/exhaustive/c2+2.scn): its
 * schedules and classes are the same on every machine; the CPU seconds
 * (clock(3), not the wall) are printed beside them. */
#define BENCH_TWO_HOLDERS "fixtures/exhaustive/c2+2.scn"

static void bench_two_holders(struct sim_request *request) {
    static struct sim_scenario scenario;
    char error[512];
    if (sim_scenario_load(BENCH_TWO_HOLDERS, &scenario, error, sizeof error) != 0) {
        fprintf(stderr, "leasesim: --bench: %s: %s\n", BENCH_TWO_HOLDERS, error);
        return;
    }
    request->scenario = &scenario;
    request->reduction = SIM_REDUCTION_DPOR;
    clock_t started = clock();
    struct sim_exploration result = sim_explore(request, &scenario.plan, 50000000);
    double cpu = (double)(clock() - started) / CLOCKS_PER_SEC;
    printf("exhaustive 2 contenders + 2 holders crashed at every point: %s\n",
           result.violation  ? sim_invariant_name(result.violation)
           : result.complete ? "proven (complete)"
                             : "incomplete");
    printf("sim_lease_exhaustive_2p2_schedules %llu schedules\n", (unsigned long long)result.schedules);
    printf("sim_lease_exhaustive_2p2_classes %llu classes\n", (unsigned long long)result.classes);
    printf("sim_lease_exhaustive_2p2_cpu_seconds %.2f s\n", cpu);
}

int sim_cli_bench(struct cli *cli) {
    static const struct lease_ops null_ops = {.version = LEASE_OPS_VERSION,
                                              .name = "null",
                                              .impl_version = "0",
                                              .description = "environment calls only",
                                              .acquire = null_acquire};
    static struct sim_scenario scenario;
    char error[512];
    if (sim_scenario_load(BENCH_SCENARIO, &scenario, error, sizeof error) != 0) {
        fprintf(stderr, "leasesim: --bench needs %s (run it from the top of the source tree): %s\n", BENCH_SCENARIO,
                error);
        return EX_NOINPUT;
    }
    scenario.seed_first = scenario.seed_last = 1;
    struct sim_plan plan = scenario.plan;
    /* LEASESIM_BENCH_RATES=null|lease: that rate line alone, for
     * ci/bench-instructions.sh to count its instructions per step. */
    const char *only = getenv("LEASESIM_BENCH_RATES");
    if (only != NULL && strcmp(only, "null") != 0 && strcmp(only, "lease") != 0) {
        fprintf(stderr, "leasesim: LEASESIM_BENCH_RATES must be null or lease, not '%s'\n", only);
        return EX_USAGE;
    }
    printf("leasesim bench (one core)\n");
    if (only == NULL || strcmp(only, "null") == 0)
        bench_rates(cli, "scheduler+world only (null impl, 64 calls)", &null_ops, 20000);
    if (only == NULL || strcmp(only, "lease") == 0)
        bench_rates(cli, "default campaign, impl lease", sim_impl_find("lease"), 5000);
    if (only != NULL) return 0;
    const char *impls[] = {"neo-v1", "neo-v2"};
    const char *strategies[] = {"random", "pct", "exhaustive"};
    printf("time to the first exclusion violation, two-reclaimers race:\n");
    for (int impl = 0; impl < 2; impl++)
        for (int strategy = 0; strategy < 3; strategy++) {
            struct sim_request request = cli->request;
            request.ops = sim_impl_find(impls[impl]);
            request.traits = sim_traits_for(impls[impl]);
            request.scenario = &scenario;
            parse_strategy(strategies[strategy], &request.strategy);
            request.first_seed = 1;
            if (request.strategy == SIM_STRATEGY_EXHAUSTIVE) {
                double started = seconds_now();
                struct sim_exploration result = sim_explore(&request, &plan, 1000000);
                printf("  %-7s %-10s %8llu schedules %8.3fs  %s\n", impls[impl], strategies[strategy],
                       (unsigned long long)result.schedules, seconds_now() - started,
                       result.violation ? sim_invariant_name(result.violation) : "none found");
            } else {
                struct first_hit hit = first_violation(&request, 1, 1000000);
                printf("  %-7s %-10s %8llu seeds     %8.3fs  %s\n", impls[impl], strategies[strategy],
                       (unsigned long long)hit.seeds, hit.seconds,
                       hit.invariant ? sim_invariant_name(hit.invariant) : "none found");
            }
        }
    struct sim_request request = cli->request;
    request.ops = sim_impl_find("lease");
    request.traits = sim_traits_for("lease");
    request.scenario = NULL;
    request.strategy = SIM_STRATEGY_EXHAUSTIVE;
    sim_plan_exhaustive(&plan);
    request.reduction = SIM_REDUCTION_DPOR;
    double started = seconds_now();
    struct sim_exploration result = sim_explore(&request, &plan, 50000000);
    printf("exhaustive, impl lease, 2 contenders + 1 holder crashed at every point: %llu schedules, %llu steps, "
           "%.2fs, %s\n",
           (unsigned long long)result.schedules, (unsigned long long)result.steps, seconds_now() - started,
           result.violation  ? sim_invariant_name(result.violation)
           : result.complete ? "proven (complete)"
                             : "incomplete");
    /* The same proof with sleep sets alone (the search before DPOR): the
     * ratio of schedules is the reduction's worth, whatever the machine. */
    request.reduction = SIM_REDUCTION_SLEEP;
    struct sim_exploration sleep = sim_explore(&request, &plan, 50000000);
    printf("sim_lease_exhaustive_proof_classes %llu classes\n", (unsigned long long)result.classes);
    printf("sim_lease_exhaustive_sleep_sets_schedules %llu schedules\n", (unsigned long long)sleep.schedules);
    if (result.schedules > 0)
        printf("sim_lease_exhaustive_dpor_vs_sleep_sets_ratio %.3f ratio\n",
               (double)result.schedules / (double)(sleep.schedules > 0 ? sleep.schedules : 1));
    bench_two_holders(&request);
    return 0;
}
