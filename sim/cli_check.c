/*
 * cli_check.c: --check: each expect line of a scenario against the verdict
 * of the implementations it names.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "trace.h"
#include "traits.h"

static bool expectation_met(const struct sim_expectation *expect, enum sim_invariant got, const uint64_t *counters) {
    if (got != expect->verdict) return false;
    for (int index = 0; index < expect->reached_count; index++)
        if (counters[expect->reached[index]] == 0) return false;
    return true;
}

static int check_one(struct cli *cli, const struct sim_expectation *expect, const char *impl) {
    struct sim_request request = cli->request;
    request.ops = sim_impl_find(impl);
    request.traits = sim_traits_for(impl);
    if (request.ops == NULL) {
        printf("FAIL %-28s %-8s unknown implementation\n", cli->scenario.plan.name, impl);
        return 1;
    }
    uint64_t counters[SIM_COUNTER_COUNT] = {0};
    enum sim_invariant got = SIM_INVARIANT_NONE;
    uint64_t seed = cli->scenario.seed_first, hit_seed = 0;
    struct sim_wedge longest = {0};
    /* An expected violation is searched for past other violations (a model
     * may break another rule first on some seeds); a pass stops at any. */
    for (; seed <= cli->scenario.seed_last; seed++) {
        sim_run_seed(&request, &cli->scenario.plan, seed, NULL, false);
        struct sim_world *world = sim_world_get();
        for (int index = 0; index < SIM_COUNTER_COUNT; index++) counters[index] += world->counters[index];
        if (world->counters[SIM_COUNTER_WEDGE_UNTIL_TTL] > 0) {
            /* a wedge is a finding: its length needs the story */
            sim_run_seed(&request, &cli->scenario.plan, seed, NULL, true);
            struct sim_wedge wedge = sim_wedge_longest(world);
            if (wedge.runs > 0 && (longest.runs == 0 || wedge.ms > longest.ms)) longest = wedge;
        }
        if (world->violation == SIM_INVARIANT_NONE) continue;
        if (got == SIM_INVARIANT_NONE || world->violation == expect->verdict) {
            got = world->violation;
            hit_seed = seed;
        }
        if (got == expect->verdict || expect->verdict == SIM_INVARIANT_NONE) break;
    }
    seed = hit_seed;
    /* A wedge is a finding: "pass" means none, "wedged" requires one. */
    bool wedged = got == SIM_INVARIANT_NONE && longest.runs > 0;
    bool ok = expectation_met(expect, got, counters) &&
              (got != SIM_INVARIANT_NONE || expect->wedge_allowed || wedged == expect->wedged);
    printf("%s %-28s %-8s expected %-18s got %-18s", ok ? "ok  " : "FAIL", cli->scenario.plan.name, impl,
           expect->verdict         ? sim_invariant_name(expect->verdict)
           : expect->wedge_allowed ? "pass|wedged"
           : expect->wedged        ? "wedged"
                                   : "pass",
           got      ? sim_invariant_name(got)
           : wedged ? "wedged"
                    : "pass");
    if (got != SIM_INVARIANT_NONE) printf(" (seed %llu)", (unsigned long long)seed);
    for (int index = 0; index < expect->reached_count; index++)
        printf(" %s=%llu", sim_counter_name(expect->reached[index]),
               (unsigned long long)counters[expect->reached[index]]);
    if (longest.runs > 0) {
        char text[160];
        sim_wedge_describe(&longest, text, sizeof text);
        printf(" WEDGED%s", text + strlen("wedged"));
    }
    putchar('\n');
    if (!ok && got != SIM_INVARIANT_NONE) printf("     %s\n", sim_world_get()->violation_text);
    return ok ? 0 : 1;
}

int sim_cli_check(struct cli *cli) {
    int failures = 0;
    for (int index = 0; index < cli->scenario.expectation_count; index++) {
        const struct sim_expectation *expect = &cli->scenario.expectations[index];
        if (strcmp(expect->impl, "*") != 0) {
            failures += check_one(cli, expect, expect->impl);
            continue;
        }
        /* "*" means every implementation of the library's registry that the
         * simulated world can run. */
        for (size_t impl = 0; impl < lease_impl_count(); impl++)
            if (!sim_traits_for(lease_impl_at(impl)->name).outside_the_world)
                failures += check_one(cli, expect, lease_impl_at(impl)->name);
    }
    /* Every registered implementation the world can run is judged: one that
     * no expect line names gets a verdict derived from its traits (no
     * violation; a wedge only when it cannot detect a holder's death or
     * pid reuse). */
    for (size_t impl = 0; impl < lease_impl_count() && cli->scenario.expectation_count > 0; impl++) {
        const char *name = lease_impl_at(impl)->name;
        struct sim_traits traits = sim_traits_for(name);
        if (traits.outside_the_world) continue;
        bool named = false;
        for (int index = 0; index < cli->scenario.expectation_count && !named; index++)
            named = strcmp(cli->scenario.expectations[index].impl, name) == 0 ||
                    strcmp(cli->scenario.expectations[index].impl, "*") == 0;
        if (named) continue;
        struct sim_expectation derived = {.verdict = SIM_INVARIANT_NONE};
        lease_copy_text(derived.impl, sizeof derived.impl, name);
        derived.wedge_allowed = !(traits.detects_death && traits.detects_reuse);
        printf("     (%s: no expect line; derived from its traits: %s)\n", name,
               derived.wedge_allowed ? "no violation, a wedge allowed" : "pass");
        failures += check_one(cli, &derived, name);
    }
    if (cli->scenario.expectation_count == 0) {
        printf("FAIL %s: no expect line\n", cli->scenario_path);
        failures++;
    }
    return failures > 0 ? 1 : 0;
}
