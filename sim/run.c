/*
 * run.c: one seed from start to verdict, the exhaustive search driver and
 * the shrinker. Shared by the command line and the benchmarks.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "history.h"
#include "mix.h"
#include "dpor.h"
#include "oracle.h"
#include "plan.h"
#include "sched.h"
#include "trace.h"
#include "workload.h"
#include "world.h"

static struct sim_world world_storage;

static void copy_plan(struct sim_plan *to, const struct sim_plan *from);

struct sim_world *sim_world_get(void) {
    return &world_storage;
}

/* Whether spec kills an orchestrator that renews (renewer) or aims at a
 * launcher's worker (else). */
static bool aims_at(const struct sim_plan *plan, const struct sim_spec *spec, bool renewer) {
    if (spec->kind != SIM_SPEC_KILL && spec->kind != SIM_SPEC_REUSE_PID) return false;
    for (int index = 0; index < plan->spec_count; index++) {
        const struct sim_spec *aimed = &plan->specs[index];
        char worker[SIM_LABEL_MAX + 8];
        snprintf(worker, sizeof worker, "%.20s.worker", aimed->label);
        if (renewer ? aimed->renew && strcmp(aimed->label, spec->target) == 0
                    : aimed->kind == SIM_SPEC_LAUNCHER && strcmp(worker, spec->target) == 0)
            return true;
    }
    return false;
}

/* The workloads of docs/spec.md 9.23 and 9.24 switched off in a whole plan
 * ("launchers": every launcher and the events aimed at its worker;
 * "orchestrator-renew": orchestrators hold without renewing, and are not
 * killed), to show what only they reach. false: not such a word. */
static bool drop_workload(struct sim_plan *plan, const char *word) {
    bool launchers = strcmp(word, "launchers") == 0, renewals = strcmp(word, "orchestrator-renew") == 0;
    for (int index = 0; index < plan->spec_count; index++) {
        struct sim_spec *spec = &plan->specs[index];
        if ((launchers && (spec->kind == SIM_SPEC_LAUNCHER || aims_at(plan, spec, false))) ||
            (renewals && aims_at(plan, spec, true)))
            spec->disabled = true;
    }
    for (int index = 0; index < plan->spec_count && renewals; index++) plan->specs[index].renew = false;
    return launchers || renewals;
}

/* "1,3,crashes,partial-writes": actors/events to drop and knobs to clear. */
void sim_apply_drops(struct sim_plan *plan, const char *drops) {
    char copy[256];
    lease_copy_text(copy, sizeof copy, drops != NULL ? drops : "");
    for (char *word = strtok(copy, ","); word != NULL; word = strtok(NULL, ",")) {
        bool knob = drop_workload(plan, word);
        for (size_t index = 0; index < sim_knob_count() && !knob; index++) {
            const struct sim_knob *row = sim_knob_at(index);
            if (row->drop != NULL && strcmp(word, row->drop) == 0) sim_knob_clear(&plan->knobs, row), knob = true;
        }
        if (!knob) {
            int index = atoi(word);
            if (index >= 0 && index < plan->spec_count) plan->specs[index].disabled = true;
        }
    }
}

void sim_make_plan(const struct sim_request *request, uint64_t seed, struct sim_plan *plan) {
    if (request->scenario != NULL)
        copy_plan(plan, &request->scenario->plan);
    else if (request->strategy == SIM_STRATEGY_EXHAUSTIVE)
        sim_plan_exhaustive(plan);
    else
        sim_plan_random(plan, seed, request->strategy);
    if (request->mix != NULL && request->scenario == NULL && request->strategy != SIM_STRATEGY_EXHAUSTIVE)
        sim_plan_mix(plan, seed, request->ops->name, request->mix);
    sim_apply_drops(plan, request->drops);
}

/* The world's large tables, which a seed clears only as far as it used them
 * (sim_world_reset for the file system and the pid slots; a process is
 * cleared when spawned; the plan's specs, the history and the story are
 * read only below their counts). */
static const struct {
    size_t offset, size;
} large_tables[] = {
    {offsetof(struct sim_world, plan.specs), sizeof(((struct sim_world *)0)->plan.specs)},
    {offsetof(struct sim_world, inodes), sizeof(((struct sim_world *)0)->inodes)},
    {offsetof(struct sim_world, entries), sizeof(((struct sim_world *)0)->entries)},
    {offsetof(struct sim_world, processes), sizeof(((struct sim_world *)0)->processes)},
    {offsetof(struct sim_world, pid_generation), sizeof(((struct sim_world *)0)->pid_generation)},
    {offsetof(struct sim_world, pid_changed_step), sizeof(((struct sim_world *)0)->pid_changed_step)},
    {offsetof(struct sim_world, history), sizeof(((struct sim_world *)0)->history)},
    {offsetof(struct sim_world, story), sizeof(((struct sim_world *)0)->story)},
    {offsetof(struct sim_world, spec_process), sizeof(((struct sim_world *)0)->spec_process)},
    {offsetof(struct sim_world, spec_fired), sizeof(((struct sim_world *)0)->spec_fired)},
};

/* Zeroes every byte of the world outside the large tables (a memset of the
 * whole world cost more than the seed it prepared). */
static void clear_world(struct sim_world *world) {
    enum { TABLES = sizeof large_tables / sizeof large_tables[0] };
    static size_t order[TABLES];
    static bool sorted;
    if (!sorted) {
        for (size_t index = 0; index < TABLES; index++) order[index] = index;
        for (size_t index = 1; index < TABLES; index++)
            for (size_t back = index;
                 back > 0 && large_tables[order[back]].offset < large_tables[order[back - 1]].offset; back--) {
                size_t swap = order[back];
                order[back] = order[back - 1];
                order[back - 1] = swap;
            }
        sorted = true;
    }
    unsigned char *bytes = (unsigned char *)world;
    size_t from = 0;
    for (size_t index = 0; index < TABLES; index++) {
        size_t offset = large_tables[order[index]].offset;
        assert(offset >= from);
        memset(bytes + from, 0, offset - from);
        from = offset + large_tables[order[index]].size;
    }
    memset(bytes + from, 0, sizeof *world - from);
}

/* The plan without its unused specs. */
static void copy_plan(struct sim_plan *to, const struct sim_plan *from) {
    assert(from->spec_count >= 0 && from->spec_count <= SIM_SPEC_MAX);
    memcpy(to, from, offsetof(struct sim_plan, specs));
    memcpy(to->specs, from->specs, sizeof from->specs[0] * (size_t)from->spec_count);
}

static void prepare(struct sim_world *world, const struct sim_request *request, const struct sim_plan *plan,
                    uint64_t seed, FILE *trace, bool keep_story) {
    struct sim_frame *frames = world->frames;
    /* the per-spec tables, as far as the last plan or this one reaches */
    int specs = world->plan.spec_count > plan->spec_count ? world->plan.spec_count : plan->spec_count;
    assert(specs >= 0 && specs <= SIM_SPEC_MAX);
    memset(world->spec_fired, 0, sizeof world->spec_fired[0] * (size_t)specs);
    for (int index = 0; index < specs; index++) world->spec_process[index] = -1;
    sim_world_reset(world);
    clear_world(world);
    sim_world_reset(world);
    world->frames = frames;
    world->seed = seed;
    copy_plan(&world->plan, plan);
    static const struct sim_hooks hooks = {.lease_changed = sim_oracle_lease_changed,
                                           .pid_allocated = sim_oracle_pid_allocated,
                                           .yield = sim_yield,
                                           .program_main = sim_program_main};
    world->config = (struct sim_config){.ops = request->ops,
                                        .hooks = hooks,
                                        .traits = request->traits,
                                        .strategy = request->strategy,
                                        .reduction = request->reduction,
                                        .pct_depth = request->pct_depth,
                                        .trace = trace,
                                        .keep_story = keep_story,
                                        .step_limit = request->step_limit > 0 ? request->step_limit : 200000};
    world->config.mixed = sim_plan_is_mixed(plan, request->ops);
    sim_prng_seed(&world->schedule_rng, seed ^ 0x7363686564756c65ULL);
    sim_prng_seed(&world->world_rng, seed ^ 0x776f726c64776f72ULL);
    lease_copy_text(world->lease_path, sizeof world->lease_path, LEASE_DEFAULT_PATH);
    snprintf(world->boot_id, sizeof world->boot_id, "%016llx-boot",
             (unsigned long long)sim_prng_next(&world->world_rng));
    for (int index = 0; index < 8; index++) world->pct_change_steps[index] = sim_prng_below(&world->schedule_rng, 3000);
}

void sim_run_seed(const struct sim_request *request, const struct sim_plan *plan, uint64_t seed, FILE *trace,
                  bool keep_story) {
    struct sim_world *world = &world_storage;
    prepare(world, request, plan, seed, trace, keep_story);
    if (trace != NULL) sim_trace_header(world, seed);
    sim_history_run(world, seed); /* sim_setup_initial + sim_run, recorded under --history */
}

/* Stateless search: re-run from the start with a replayed prefix of
 * decisions, then take the next unexplored alternative at the deepest frame
 * that has one. */
struct sim_exploration sim_explore(const struct sim_request *request, const struct sim_plan *plan, uint64_t limit) {
    struct sim_world *world = &world_storage;
    struct sim_exploration result = {0};
    if (world->frames == NULL) world->frames = calloc(SIM_FRAME_MAX, sizeof *world->frames);
    int replay = 0;
    for (uint64_t run = 0; run < limit; run++) {
        prepare(world, request, plan, request->first_seed, NULL, false);
        world->frame_replay = replay;
        sim_setup_initial(world);
        sim_run(world);
        result.schedules++;
        result.classes += !world->redundant;
        result.steps += world->step;
        if (world->frame_overflow) result.overflow = true;
        if (world->violation != SIM_INVARIANT_NONE) {
            if (result.violation == SIM_INVARIANT_NONE) result.violation = world->violation;
            result.violations |= 1u << world->violation;
            if (!request->keep_going) return result;
        }
        if (request->reduction != SIM_REDUCTION_SLEEP) {
            replay = sim_dpor_next(world);
            if (replay < 0) {
                result.complete = !result.overflow;
                return result;
            }
            continue;
        }
        int depth = world->frame_count - 1;
        for (; depth >= 0; depth--) {
            struct sim_frame *frame = &world->frames[depth];
            int next = frame->chosen + 1;
            while (next < frame->choice_count && !(frame->done_mask >> next & 1)) next++;
            if (next < frame->choice_count) {
                frame->chosen = next;
                break;
            }
        }
        if (depth < 0) {
            result.complete = !result.overflow;
            return result;
        }
        replay = depth + 1;
    }
    return result;
}

static bool still_violates(const struct sim_request *request, const struct sim_plan *plan, uint64_t seed,
                           enum sim_invariant invariant) {
    sim_run_seed(request, plan, seed, NULL, false);
    return world_storage.violation == invariant;
}

/* Greedy: drop each actor/event, then each fault knob, while the same
 * invariant still breaks. Writes the drop list. */
void sim_shrink(const struct sim_request *request, uint64_t seed, enum sim_invariant invariant, char *drops,
                size_t size) {
    struct sim_plan plan;
    sim_make_plan(request, seed, &plan);
    bool changed = true;
    for (int pass = 0; pass < 4 && changed; pass++) {
        changed = false;
        for (int index = 0; index < plan.spec_count; index++) {
            if (plan.specs[index].disabled) continue;
            plan.specs[index].disabled = true;
            if (still_violates(request, &plan, seed, invariant))
                changed = true;
            else
                plan.specs[index].disabled = false;
        }
    }
    bool cleared[SIM_KNOB_TABLE_MAX] = {false};
    assert(sim_knob_count() <= SIM_KNOB_TABLE_MAX);
    for (size_t index = 0; index < sim_knob_count(); index++) {
        const struct sim_knob *knob = sim_knob_at(index);
        if (knob->drop == NULL || !sim_knob_is_set(&plan.knobs, knob)) continue;
        struct sim_plan trial = plan;
        sim_knob_clear(&trial.knobs, knob);
        cleared[index] = still_violates(request, &trial, seed, invariant);
        if (cleared[index]) plan = trial;
    }
    size_t used = 0;
    drops[0] = '\0';
    if (request->drops != NULL && request->drops[0] != '\0')
        used += (size_t)snprintf(drops + used, size - used, "%s,", request->drops);
    for (int index = 0; index < plan.spec_count && used < size; index++)
        if (plan.specs[index].disabled) used += (size_t)snprintf(drops + used, size - used, "%d,", index);
    for (size_t index = 0; index < sim_knob_count() && used < size; index++)
        if (cleared[index]) used += (size_t)snprintf(drops + used, size - used, "%s,", sim_knob_at(index)->drop);
    if (used > 0 && used < size) drops[used - 1] = '\0';
}
