/*
 * plan.c: the plan drawn from a seed (which programs, orchestrators, kills,
 * clock jumps and pid reuses, and the fault knobs) and its one-line
 * description. Below the world: a plan is data, it runs nothing.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "plan.h"

/* The four maintenance programs (src/programs/) a plan draws owners from. */
static const char *const program_names[] = {"sandman", "kbSync", "backup", "syncGithubWorkflow"};

static struct sim_spec *add_spec(struct sim_plan *plan, enum sim_spec_kind kind, const char *label, int64_t at_ms) {
    if (plan->spec_count >= SIM_SPEC_MAX) return NULL;
    struct sim_spec *spec = &plan->specs[plan->spec_count++];
    memset(spec, 0, sizeof *spec);
    spec->kind = kind;
    spec->at_ms = at_ms;
    spec->crash_after_ms = -1;
    lease_copy_text(spec->label, sizeof spec->label, label);
    return spec;
}

static void random_programs(struct sim_plan *plan, struct sim_prng *rng, int64_t spread_ms) {
    int64_t ttl_ms = plan->knobs.ttl_ms;
    int count = (int)sim_prng_range(rng, 2, 6);
    for (int index = 0; index < count; index++) {
        const char *owner = program_names[sim_prng_below(rng, 4)];
        char label[SIM_LABEL_MAX];
        snprintf(label, sizeof label, "%.18s#%d", owner, index + 1);
        struct sim_spec *spec = add_spec(plan, SIM_SPEC_PROGRAM, label, sim_prng_range(rng, 0, spread_ms) / 10 * 10);
        if (spec == NULL) return;
        lease_copy_text(spec->owner, sizeof spec->owner, owner);
        spec->body_ms =
            sim_prng_permille(rng, 300) ? sim_prng_range(rng, ttl_ms, ttl_ms * 2) : sim_prng_range(rng, 1, ttl_ms / 2);
        spec->fail = sim_prng_permille(rng, 50);
        if (sim_prng_permille(rng, 60)) {
            spec->hang = true;
            struct sim_spec *kill =
                add_spec(plan, SIM_SPEC_KILL, "kill", spec->at_ms + sim_prng_range(rng, 1, ttl_ms * 2));
            if (kill != NULL) lease_copy_text(kill->target, sizeof kill->target, label);
        } else if (sim_prng_permille(rng, 150)) {
            spec->crash_after_ms = sim_prng_range(rng, 0, spec->body_ms);
            if (sim_prng_permille(rng, 400)) {
                struct sim_spec *reuse = add_spec(plan, SIM_SPEC_REUSE_PID, "reuser",
                                                  spec->at_ms + spec->crash_after_ms + sim_prng_range(rng, 1, 100));
                if (reuse != NULL) lease_copy_text(reuse->target, sizeof reuse->target, label);
            }
        }
    }
}

static void random_orchestrator(struct sim_plan *plan, struct sim_prng *rng, int64_t spread_ms) {
    struct sim_spec *spec = add_spec(plan, SIM_SPEC_ORCHESTRATOR, "orch", sim_prng_range(rng, 0, spread_ms) / 10 * 10);
    if (spec == NULL) return;
    lease_copy_text(spec->owner, sizeof spec->owner, "orchestrator");
    spec->hold = sim_prng_permille(rng, 700);
    spec->child_count = (int)sim_prng_range(rng, 1, 3);
    for (int index = 0; index < spec->child_count; index++) {
        struct sim_child *child = &spec->children[index];
        lease_copy_text(child->owner, sizeof child->owner, program_names[sim_prng_below(rng, 4)]);
        child->body_ms = sim_prng_range(rng, 1, plan->knobs.ttl_ms / 2);
    }
}

/* The workloads of docs/spec.md 9.23 and 9.24, drawn from a stream of their
 * own after everything else: a holding orchestrator renews while its
 * children inherit (half of them, when the plan renews); a launcher
 * acquires for the pid of a worker it spawns (a fifth of the seeds), whose
 * body may crash (its lease is then stale) and whose pid may come back. */
static void random_workloads(struct sim_plan *plan, uint64_t seed, int64_t spread_ms) {
    struct sim_prng rng;
    sim_prng_seed(&rng, seed ^ 0x776f726b6c6f6164ULL);
    int64_t ttl_ms = plan->knobs.ttl_ms;
    bool renew = sim_prng_permille(&rng, 500), kill = sim_prng_permille(&rng, 500);
    int count = plan->spec_count;
    for (int index = 0; index < count; index++) {
        struct sim_spec *spec = &plan->specs[index];
        if (spec->kind != SIM_SPEC_ORCHESTRATOR || !spec->hold || !renew || !plan->knobs.renew) continue;
        spec->renew = true;
        /* killed after its first renewal while its children work (docs/spec.md 9.8) */
        int64_t work_ms = 0, interval_ms = lease_renew_interval_ms(ttl_ms);
        for (int child = 0; child < spec->child_count; child++) work_ms += spec->children[child].body_ms;
        if (!kill || work_ms <= interval_ms) continue;
        struct sim_spec *killer =
            add_spec(plan, SIM_SPEC_KILL, "kill", spec->at_ms + sim_prng_range(&rng, interval_ms + 1, work_ms));
        if (killer != NULL) lease_copy_text(killer->target, sizeof killer->target, spec->label);
    }
    if (!sim_prng_permille(&rng, 200)) return;
    const char *owner = program_names[sim_prng_below(&rng, 4)];
    struct sim_spec *spec = add_spec(plan, SIM_SPEC_LAUNCHER, "launcher", sim_prng_range(&rng, 0, spread_ms) / 10 * 10);
    if (spec == NULL) return;
    lease_copy_text(spec->owner, sizeof spec->owner, owner);
    spec->body_ms =
        sim_prng_permille(&rng, 300) ? sim_prng_range(&rng, ttl_ms, ttl_ms * 2) : sim_prng_range(&rng, 1, ttl_ms / 2);
    if (!sim_prng_permille(&rng, 300)) return;
    spec->crash_after_ms = sim_prng_range(&rng, 0, spec->body_ms);
    if (!sim_prng_permille(&rng, 400)) return;
    struct sim_spec *reuse =
        add_spec(plan, SIM_SPEC_REUSE_PID, "reuser", spec->at_ms + spec->crash_after_ms + sim_prng_range(&rng, 1, 100));
    if (reuse != NULL) lease_copy_text(reuse->target, sizeof reuse->target, "launcher.worker");
}

void sim_plan_random(struct sim_plan *plan, uint64_t seed, enum sim_strategy strategy) {
    static const int64_t ttls_ms[] = {1000, 3000, 10000, 60000};
    static const int crash_permilles[] = {0, 0, 1, 3, 10};
    static const enum sim_initial initials[] = {SIM_INITIAL_NONE, SIM_INITIAL_NONE,  SIM_INITIAL_NONE,
                                                SIM_INITIAL_DEAD, SIM_INITIAL_DEAD,  SIM_INITIAL_LIVE,
                                                SIM_INITIAL_TORN, SIM_INITIAL_REUSED};
    struct sim_prng rng;
    sim_prng_seed(&rng, seed ^ 0x706c616e706c616eULL);
    memset(plan, 0, offsetof(struct sim_plan, specs)); /* each spec is cleared as it is added */
    snprintf(plan->name, sizeof plan->name, "random");
    struct sim_knobs *knobs = &plan->knobs;
    knobs->ttl_ms = ttls_ms[sim_prng_below(&rng, 4)];
    knobs->renew = sim_prng_permille(&rng, 600);
    knobs->initial = initials[sim_prng_below(&rng, 8)];
    knobs->crash_permille = crash_permilles[sim_prng_below(&rng, 5)];
    knobs->wall_resolution_ms = sim_prng_permille(&rng, 300) ? 1000 : 1;
    knobs->partial_writes = sim_prng_permille(&rng, 500);
    knobs->dir_exists = sim_prng_permille(&rng, 700);
    knobs->pid_space = sim_prng_permille(&rng, 300) ? 8 : 1000;
    knobs->lock_timeout_ms = sim_prng_permille(&rng, 200) ? 50 : 10000;
    knobs->horizon_ms = knobs->ttl_ms * 8 + 60000;
    int64_t spreads_ms[] = {0, 50, knobs->ttl_ms, knobs->ttl_ms * 3};
    int64_t spread_ms = spreads_ms[sim_prng_below(&rng, 4)];
    random_programs(plan, &rng, spread_ms);
    if (sim_prng_permille(&rng, 300)) random_orchestrator(plan, &rng, spread_ms);
    if (sim_prng_permille(&rng, 150)) {
        struct sim_spec *jump =
            add_spec(plan, SIM_SPEC_CLOCK_JUMP, "clock", sim_prng_range(&rng, 0, spread_ms + knobs->ttl_ms));
        if (jump != NULL) jump->jump_ms = sim_prng_range(&rng, -2 * knobs->ttl_ms, 2 * knobs->ttl_ms);
    }
    /* Drawn from a stream of its own, after the rest: the other draws of
     * every seed stay what they were. */
    struct sim_prng world_knobs;
    sim_prng_seed(&world_knobs, seed ^ 0x6570657266656f6eULL);
    knobs->foreign_pids = sim_prng_permille(&world_knobs, 250);
    knobs->inode_reuse = sim_prng_permille(&world_knobs, 500);
    knobs->lock_stall_ms = sim_prng_permille(&world_knobs, 150) ? knobs->lock_timeout_ms * 2 : 0;
    random_workloads(plan, seed, spread_ms);
    (void)strategy;
}

/* The implementation under test is one of the names drawn (so both kinds of
 * writer meet), the models each another; a stream of its own keeps every
 * other draw of the seed what it is without --mix. */
void sim_plan_mix(struct sim_plan *plan, uint64_t seed, const char *under_test, const char *mix) {
    enum { NAMES_MAX = 16 };
    char copy[256];
    const char *names[NAMES_MAX] = {under_test};
    int count = 1;
    lease_copy_text(copy, sizeof copy, mix);
    for (char *cursor = copy, *word; (word = strsep(&cursor, ",")) != NULL && count < NAMES_MAX;)
        if (word[0] != '\0') names[count++] = word;
    struct sim_prng rng;
    sim_prng_seed(&rng, seed ^ 0x6d69786d6f64656cULL);
    for (int index = 0; index < plan->spec_count; index++) {
        struct sim_spec *spec = &plan->specs[index];
        if (spec->kind != SIM_SPEC_PROGRAM && spec->kind != SIM_SPEC_ORCHESTRATOR) continue;
        lease_copy_text(spec->impl, sizeof spec->impl, names[sim_prng_below(&rng, (uint64_t)count)]);
    }
}

/* Two contenders and a holder that the search crashes at every point. */
void sim_plan_exhaustive(struct sim_plan *plan) {
    memset(plan, 0, offsetof(struct sim_plan, specs)); /* each spec is cleared as it is added */
    snprintf(plan->name, sizeof plan->name, "exhaustive-2+1");
    plan->knobs = (struct sim_knobs){.ttl_ms = 60000,
                                     .renew = false,
                                     .initial = SIM_INITIAL_NONE,
                                     .crash_permille = 0,
                                     .wall_resolution_ms = 1,
                                     .partial_writes = false,
                                     .dir_exists = true,
                                     .pid_space = 1000,
                                     .lock_timeout_ms = 10000,
                                     .horizon_ms = 600000};
    const char *labels[] = {"holder", "kbSync", "backup"};
    const char *owners[] = {"sandman", "kbSync", "backup"};
    for (int index = 0; index < 3; index++) {
        struct sim_spec *spec = add_spec(plan, SIM_SPEC_PROGRAM, labels[index], 0);
        lease_copy_text(spec->owner, sizeof spec->owner, owners[index]);
        spec->body_ms = 100;
        spec->crash_anywhere = index == 0;
    }
}

void sim_plan_describe(const struct sim_plan *plan, char *buffer, size_t size) {
    int counts[6] = {0};
    for (int index = 0; index < plan->spec_count; index++)
        if (!plan->specs[index].disabled) counts[plan->specs[index].kind]++;
    char knobs[384];
    sim_knobs_describe(&plan->knobs, knobs, sizeof knobs);
    int used = snprintf(buffer, size, "%s programs=%d orchestrators=%d kills=%d clock-jumps=%d pid-reuses=%d", knobs,
                        counts[SIM_SPEC_PROGRAM], counts[SIM_SPEC_ORCHESTRATOR], counts[SIM_SPEC_KILL],
                        counts[SIM_SPEC_CLOCK_JUMP], counts[SIM_SPEC_REUSE_PID]);
    /* only when there are any: a plan without them reads as it always did */
    if (counts[SIM_SPEC_LAUNCHER] > 0 && used >= 0 && (size_t)used < size)
        snprintf(buffer + used, size - (size_t)used, " launchers=%d", counts[SIM_SPEC_LAUNCHER]);
}
