/*
 * workload.c: what the simulated processes do (the plan they follow is
 * drawn in plan.c). The four programs wrap a body in the lease exactly as the real ones
 * do (owner = program name, reason "manual-cli"); an orchestrator runs them
 * as children, lending its lease through the inherited-token variable (and,
 * with renew, renewing it while they work); a launcher acquires the lease
 * naming the worker it spawns (acquire --pid) and hands it the token.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "mix.h"
#include "oracle.h"
#include "sched.h"
#include "trace.h"
#include "workload.h"
#include "world.h"

#define BODY_ROUNDS_MAX 100000

/* Entering the body is a step of its own (the scheduler may switch here);
 * the oracle only watches the entry, it never yields. */
static void enter_body(struct sim_process *process, const struct lease_result *lease) {
    sim_yield(process, SIM_OP_BODY_ENTER, NULL, NULL, -1, 0);
    sim_oracle_body_enter(process, lease);
}

/* The process group is recorded by the process that leads it (a tree
 * program, a renewing orchestrator), not by the members working in it. */
static struct lease_options program_options(const struct sim_process *process, const char *owner) {
    const struct sim_knobs *knobs = &process->world->plan.knobs;
    return (struct lease_options){.path = process->world->lease_path,
                                  .owner = owner,
                                  .reason = "manual-cli",
                                  .ttl_ms = knobs->ttl_ms,
                                  .lock_timeout_ms = knobs->lock_timeout_ms,
                                  .process_group = process->group == process->pid ? process->group : 0};
}

struct body_shape {
    int64_t body_ms;
    bool hang;
    bool fail;
    int64_t crash_after_ms;
};

static struct body_shape shape_of(const struct sim_process *process) {
    if (process->spec < 0) return (struct body_shape){process->child.body_ms, process->child.hang, false, -1};
    const struct sim_spec *spec = &process->world->plan.specs[process->spec];
    return (struct body_shape){spec->body_ms, spec->hang, spec->fail, spec->crash_after_ms};
}

static void sleep_for(struct sim_process *process, int64_t duration_ms) {
    process->env.sleep_ms(process->env.context, duration_ms);
}

static int64_t tree_ms_of(const struct sim_process *process) {
    return process->spec >= 0 ? process->world->plan.specs[process->spec].tree_ms : 0;
}

/* A tree program's body starts a child in its process group (as `lease run`
 * starts CMD, and CMD its own children): the child works under the same
 * lease and outlives a crash of the program. */
static struct sim_process *start_body_child(struct sim_process *process, const struct lease_result *lease) {
    char label[SIM_LABEL_MAX];
    snprintf(label, sizeof label, "%.20s.body", process->label);
    struct sim_process *child = sim_spawn(process->world, SIM_ROLE_BODY_CHILD, label, -1, 0);
    if (child == NULL) return NULL;
    child->parent = process->index;
    child->group = process->group;
    child->child.body_ms = tree_ms_of(process);
    lease_copy_text(child->owner, sizeof child->owner, process->owner);
    lease_copy_text(child->body_token, sizeof child->body_token, lease->lease.token);
    lease_copy_text(child->inherited_token, sizeof child->inherited_token, lease->lease.expires_at);
    return child;
}

static void run_body_child(struct sim_process *process) {
    struct lease_result lease = {.status = LEASE_STATUS_INHERITED, .has_lease = true};
    lease_copy_text(lease.lease.token, sizeof lease.lease.token, process->body_token);
    lease_copy_text(lease.lease.expires_at, sizeof lease.lease.expires_at, process->inherited_token);
    process->phase = SIM_PHASE_BODY;
    enter_body(process, &lease);
    sleep_for(process, process->child.body_ms);
    sim_oracle_body_exit(process);
}

/* Renews every ttl/3 when the implementation can; a failed renewal is
 * reported and the body carries on (as a real job would). */
static void renew_now(struct sim_process *process, const char *token, bool *renew) {
    struct lease_options options = program_options(process, process->owner);
    struct lease_result result = {0};
    process->phase = SIM_PHASE_RENEWING;
    process->renew_start_wall_ms = sim_world_wall_ms(process->world);
    process->jumps_at_call_start = process->world->counters[SIM_COUNTER_CLOCK_JUMP];
    enum lease_status status = lease_renew(sim_process_ops(process), &process->env, &options, token, &result);
    process->phase = SIM_PHASE_BODY;
    if (status == LEASE_STATUS_RENEWED)
        sim_oracle_renewed(process, &result);
    else if (status == LEASE_STATUS_ERROR && result.error_number == ENOSYS)
        *renew = false;
    else
        sim_story(process->world, SIM_STORY_RENEW, process->index, "renew: %s", lease_status_name(status));
    lease_result_clear(&result);
}

static int run_body(struct sim_process *process, const struct lease_result *lease) {
    struct body_shape shape = shape_of(process);
    const struct sim_knobs *knobs = &process->world->plan.knobs;
    char token[LEASE_TEXT_MAX];
    lease_copy_text(token, sizeof token, lease->lease.token);
    bool renew = knobs->renew && sim_process_ops(process)->renew != NULL && lease_status_is_acquired(lease->status);
    process->phase = SIM_PHASE_BODY;
    enter_body(process, lease);
    struct sim_process *body_child = tree_ms_of(process) > 0 ? start_body_child(process, lease) : NULL;
    if (shape.hang) sleep_for(process, SIM_FOREVER_MS);
    int64_t chunk_ms = renew ? lease_renew_interval_ms(knobs->ttl_ms) : shape.body_ms;
    int64_t elapsed_ms = 0;
    for (int round = 0; round < BODY_ROUNDS_MAX && elapsed_ms < shape.body_ms; round++) {
        int64_t step_ms = shape.body_ms - elapsed_ms < chunk_ms ? shape.body_ms - elapsed_ms : chunk_ms;
        if (shape.crash_after_ms >= elapsed_ms && shape.crash_after_ms < elapsed_ms + step_ms)
            step_ms = shape.crash_after_ms - elapsed_ms;
        if (step_ms > 0) sleep_for(process, step_ms);
        elapsed_ms += step_ms;
        if (shape.crash_after_ms >= 0 && elapsed_ms >= shape.crash_after_ms) {
            process->crash_requested = true;
            sleep_for(process, 0); /* the scheduler crashes it here */
        }
        if (renew && elapsed_ms < shape.body_ms) renew_now(process, token, &renew);
    }
    /* The body is the whole tree: it ends when its last process does. */
    if (body_child != NULL) sim_wait_child(process, body_child->index);
    sim_oracle_body_exit(process);
    process->phase = SIM_PHASE_RELEASING;
    return shape.fail ? 1 : 0;
}

static int body_callback(void *argument, const struct lease_result *lease) {
    struct sim_process *process = argument;
    sim_oracle_acquire_result(process, lease);
    return run_body(process, lease);
}

static void note_result(struct sim_process *process, enum lease_status status) {
    snprintf(process->result_text, sizeof process->result_text, "%s", lease_status_name(status));
}

static void release_explicitly(struct sim_process *process, const char *token) {
    struct lease_options options = program_options(process, process->owner);
    struct lease_result released = {0};
    process->phase = SIM_PHASE_RELEASING;
    enum lease_status status = lease_release(sim_process_ops(process), &process->env, &options, token, &released);
    if (status == LEASE_STATUS_NOT_OWNER) process->world->counters[SIM_COUNTER_NOT_OWNER_RELEASE]++;
    sim_story(process->world, SIM_STORY_RESULT, process->index, "release: %s", lease_status_name(status));
    lease_result_clear(&released);
}

static void run_program(struct sim_process *process) {
    if (tree_ms_of(process) > 0) process->group = process->pid;
    struct lease_options options = program_options(process, process->owner);
    struct lease_result result = {0};
    const struct lease_ops *ops = sim_process_ops(process);
    process->phase = SIM_PHASE_ACQUIRING;
    sim_oracle_call_start(process);
    if (process->parent >= 0) {
        enum lease_status status = lease_run(ops, &process->env, &options, body_callback, process, &result);
        if (status != LEASE_STATUS_COMPLETED && status != LEASE_STATUS_INHERITED)
            sim_oracle_acquire_result(process, &result);
        note_result(process, status);
    } else {
        enum lease_status status = lease_acquire(ops, &process->env, &options, &result);
        sim_oracle_acquire_result(process, &result);
        note_result(process, status);
        if (lease_status_is_acquired(status)) {
            char token[LEASE_TEXT_MAX];
            lease_copy_text(token, sizeof token, result.lease.token);
            run_body(process, &result);
            release_explicitly(process, token);
        }
    }
    lease_result_clear(&result);
}

/* A renewing orchestrator: the lease it holds while its children work. */
struct keeping {
    bool renew;
    char token[LEASE_TEXT_MAX];
    int64_t next_ms; /* true time of the next renewal */
};

/* Waits for child to end; a renewing holder wakes every ttl/3 meanwhile to
 * renew (as run_body does), so the lease outlives a TTL shorter than the
 * children's work. */
static void wait_renewing(struct sim_process *process, struct sim_process *child, struct keeping *keeping) {
    int64_t interval_ms = lease_renew_interval_ms(process->world->plan.knobs.ttl_ms);
    for (int round = 0; round < BODY_ROUNDS_MAX && keeping->renew; round++) {
        if (sim_wait_child_until(process, child->index, keeping->next_ms)) return;
        renew_now(process, keeping->token, &keeping->renew);
        keeping->next_ms = process->world->now_ms + interval_ms;
    }
    sim_wait_child(process, child->index);
}

static int orchestrator_body(void *argument, const struct lease_result *lease) {
    struct sim_process *process = argument;
    struct sim_world *world = process->world;
    const struct sim_spec *spec = &world->plan.specs[process->spec];
    struct keeping keeping = {0};
    if (lease != NULL) {
        sim_oracle_acquire_result(process, lease);
        process->phase = SIM_PHASE_BODY;
        enter_body(process, lease);
        keeping.renew =
            spec->renew && sim_process_impl(process)->renew != NULL && lease_status_is_acquired(lease->status);
        lease_copy_text(keeping.token, sizeof keeping.token, lease->lease.token);
        keeping.next_ms = world->now_ms + lease_renew_interval_ms(world->plan.knobs.ttl_ms);
    }
    for (int index = 0; index < spec->child_count && index < SIM_CHILD_MAX; index++) {
        char label[SIM_LABEL_MAX];
        snprintf(label, sizeof label, "%.18s.%d", process->label, index + 1);
        struct sim_process *child = sim_spawn(world, SIM_ROLE_PROGRAM, label, -1, 0);
        if (child == NULL) break;
        child->parent = process->index;
        child->child = spec->children[index];
        child->crash_eligible = world->config.strategy != SIM_STRATEGY_EXHAUSTIVE;
        child->group = process->group; /* a renewing orchestrator's children work in its group */
        lease_copy_text(child->owner, sizeof child->owner, spec->children[index].owner);
        if (lease != NULL) lease_copy_text(child->inherited_token, sizeof child->inherited_token, lease->lease.token);
        if (keeping.renew)
            wait_renewing(process, child, &keeping);
        else
            sim_wait_child(process, child->index);
    }
    if (lease != NULL) sim_oracle_body_exit(process);
    process->phase = SIM_PHASE_RELEASING;
    return 0;
}

static void run_orchestrator(struct sim_process *process) {
    const struct sim_spec *spec = &process->world->plan.specs[process->spec];
    if (!spec->hold) {
        orchestrator_body(process, NULL);
        note_result(process, LEASE_STATUS_NONE);
        return;
    }
    /* A renewing orchestrator is `lease run` around the orchestrator: its
     * children work in its process group, which the lease records, so the
     * lease lives while they do (docs/spec.md 9.8). */
    if (spec->renew) process->group = process->pid;
    struct lease_options options = program_options(process, "orchestrator");
    struct lease_result result = {0};
    process->phase = SIM_PHASE_ACQUIRING;
    sim_oracle_call_start(process);
    enum lease_status status =
        lease_run(sim_process_ops(process), &process->env, &options, orchestrator_body, process, &result);
    if (status != LEASE_STATUS_COMPLETED && status != LEASE_STATUS_INHERITED)
        sim_oracle_acquire_result(process, &result);
    note_result(process, status);
    lease_result_clear(&result);
}

/* acquire --pid: the launcher spawns its worker, acquires the lease naming
 * the worker's pid, hands it the token and exits (docs/spec.md 9.24). */
static void run_launcher(struct sim_process *process) {
    struct sim_world *world = process->world;
    char label[SIM_LABEL_MAX];
    snprintf(label, sizeof label, "%.20s.worker", process->label);
    struct sim_process *worker = sim_spawn(world, SIM_ROLE_WORKER, label, process->spec, 0);
    if (worker == NULL) return;
    worker->parent = process->index;
    worker->crash_eligible = world->config.strategy != SIM_STRATEGY_EXHAUSTIVE;
    lease_copy_text(worker->owner, sizeof worker->owner, process->owner);
    struct lease_options options = program_options(process, process->owner);
    options.pid = worker->pid;
    struct lease_result result = {0};
    process->phase = SIM_PHASE_ACQUIRING;
    sim_oracle_call_start(process);
    enum lease_status status = lease_acquire(sim_process_ops(process), &process->env, &options, &result);
    sim_oracle_acquire_result(process, &result);
    note_result(process, status);
    if (lease_status_is_acquired(status)) {
        lease_copy_text(worker->handed_token, sizeof worker->handed_token, result.lease.token);
        lease_copy_text(worker->handed_expires_at, sizeof worker->handed_expires_at, result.lease.expires_at);
        sim_oracle_lease_handed(process, worker);
    }
    lease_result_clear(&result);
}

/* The worker waits for its launcher to hand over the token and exit (a
 * launcher that died first handed nothing), then runs the body under that
 * lease and releases it with the token. */
static void run_worker(struct sim_process *process) {
    sim_wait_child(process, process->parent);
    if (process->handed_token[0] == '\0') {
        note_result(process, LEASE_STATUS_NONE);
        return;
    }
    struct lease_result lease = {.status = LEASE_STATUS_ACQUIRED, .has_lease = true};
    lease_copy_text(lease.lease.token, sizeof lease.lease.token, process->handed_token);
    lease_copy_text(lease.lease.expires_at, sizeof lease.lease.expires_at, process->handed_expires_at);
    note_result(process, LEASE_STATUS_ACQUIRED);
    run_body(process, &lease);
    release_explicitly(process, process->handed_token);
}

void sim_program_main(void *argument) {
    struct sim_process *process = argument;
    if (process->role == SIM_ROLE_ORCHESTRATOR)
        run_orchestrator(process);
    else if (process->role == SIM_ROLE_PROGRAM)
        run_program(process);
    else if (process->role == SIM_ROLE_BODY_CHILD)
        run_body_child(process);
    else if (process->role == SIM_ROLE_LAUNCHER)
        run_launcher(process);
    else if (process->role == SIM_ROLE_WORKER)
        run_worker(process);
    else
        sleep_for(process, SIM_FOREVER_MS);
    process->phase = SIM_PHASE_DONE;
    sim_yield(process, SIM_OP_EXIT, NULL, NULL, -1, 0);
}

/* ---- the initial lease file ---- */

static void write_initial(struct sim_world *world, const struct sim_process *holder, bool with_metadata, bool torn) {
    struct lease_holder payload;
    struct lease_options options = {.owner = "backup", .reason = "manual-cli", .ttl_ms = world->plan.knobs.ttl_ms};
    int64_t now_ms = sim_world_wall_ms(world);
    memset(&payload, 0, sizeof payload);
    lease_copy_text(payload.owner, sizeof payload.owner, options.owner);
    lease_copy_text(payload.reason, sizeof payload.reason, options.reason);
    payload.has_pid = payload.pid_is_integer = true;
    payload.pid = holder->pid;
    snprintf(payload.pid_text, sizeof payload.pid_text, "%lld", (long long)holder->pid);
    for (int index = 0; index < 4; index++)
        snprintf(payload.token + index * 8, 9, "%08llx", (unsigned long long)(sim_prng_next(&world->world_rng) >> 32));
    lease_time_format(now_ms, payload.acquired_at);
    payload.has_stale_after_ms = true;
    payload.stale_after_ms = options.ttl_ms;
    lease_time_format(now_ms + options.ttl_ms, payload.expires_at);
    payload.has_pid_start_time = with_metadata;
    payload.pid_start_time = holder->start_time;
    if (with_metadata) lease_copy_text(payload.boot_id, sizeof payload.boot_id, world->boot_id);
    size_t length = 0;
    char *text = lease_payload_format(&payload, with_metadata, &length);
    if (text == NULL) return;
    if (torn) length = (size_t)sim_prng_below(&world->world_rng, length);
    sim_fs_put_file(world, world->lease_path, text, length, holder->index);
    lease_free(text);
}

void sim_setup_initial(struct sim_world *world) {
    const struct sim_knobs *knobs = &world->plan.knobs;
    if (knobs->dir_exists || knobs->initial != SIM_INITIAL_NONE) {
        sim_fs_mkdir(world, ".neo-ai-data");
        sim_fs_mkdir(world, ".neo-ai-data/orchestrator-daemon");
    }
    bool with_metadata = sim_prng_permille(&world->world_rng, 500);
    struct sim_process *holder = NULL;
    switch (knobs->initial) {
    case SIM_INITIAL_NONE: return;
    case SIM_INITIAL_LIVE: holder = sim_spawn(world, SIM_ROLE_BYSTANDER, "holder", -1, 0); break;
    case SIM_INITIAL_DEAD:
    case SIM_INITIAL_TORN:
    case SIM_INITIAL_REUSED: holder = sim_spawn(world, SIM_ROLE_GHOST, "ghost", -1, 0); break;
    }
    if (holder == NULL) return;
    if (knobs->initial == SIM_INITIAL_REUSED) {
        holder->start_time -= 7;
        with_metadata = true;
    }
    write_initial(world, holder, with_metadata, knobs->initial == SIM_INITIAL_TORN);
    if (knobs->initial == SIM_INITIAL_REUSED) {
        struct sim_process *bystander = sim_spawn(world, SIM_ROLE_BYSTANDER, "reuser", -1, holder->pid);
        if (bystander != NULL)
            sim_story(world, SIM_STORY_PID_REUSE, bystander->index, "reuser takes pid %lld of ghost",
                      (long long)bystander->pid);
    }
}
