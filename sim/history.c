/*
 * history.c: --history FILE. Records what a judge outside the simulator needs
 * to check the invariants again on its own (conformance/oracle/): the calls'
 * invokes and results (through a recording copy of the implementation's
 * struct lease_ops), body entry and exit (through the trace's observer), every
 * change of the lease file with its bytes (through the world's hook), the
 * processes' ends and the first oracle's verdict. It changes no step, draw or
 * output: the wrappers call through and record only.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "sim.h"
#include "history.h"
#include "mix.h"
#include "plan.h"
#include "sched.h"
#include "trace.h"
#include "workload.h"
#include "world.h"

static FILE *history_out;
static uint64_t run_number;
static struct sim_world *recording;
/* A recording copy of each implementation the run calls (a mixed run calls
 * several): the same table with the four calls recorded. */
#define RECORDED_MAX 16
static int recorded_count;
static const struct lease_ops *recorded_inner[RECORDED_MAX];
static struct lease_ops recorded_copy[RECORDED_MAX];
static struct sim_hooks inner_hooks;
/* Per process: the token its body runs under (its last acquired or
 * inherited result, or one acquired naming it), kept here, not read from
 * the oracle. */
static char body_tokens[SIM_PROCESS_MAX][LEASE_TEXT_MAX];
static char body_expiries[SIM_PROCESS_MAX][LEASE_TEXT_MAX];

static void close_history(void) {
    if (history_out != NULL) fclose(history_out);
    history_out = NULL;
}

int sim_history_open(const char *path) {
    history_out = fopen(path, "w");
    if (history_out == NULL) {
        fprintf(stderr, "leasesim: cannot write --history %s: %s\n", path, strerror(errno));
        return EX_CANTCREAT;
    }
    atexit(close_history);
    return 0;
}

/* Text that is not UTF-8 is kept byte for byte as \xNN (never dropped). */
static json_t *text(const char *value, size_t size) {
    json_t *string = json_stringn(value, size);
    if (string != NULL) return string;
    char *escaped = malloc(size * 4 + 1);
    if (escaped == NULL) return json_null();
    size_t used = 0;
    for (size_t index = 0; index < size; index++) {
        unsigned char byte = (unsigned char)value[index];
        if (byte >= 0x80 || byte == 0)
            used += (size_t)sprintf(escaped + used, "\\x%02x", byte);
        else
            escaped[used++] = (char)byte;
    }
    string = json_stringn(escaped, used);
    free(escaped);
    return string != NULL ? string : json_null();
}

static json_t *record(const char *type, const struct sim_process *process) {
    struct sim_world *world = recording;
    json_t *object = json_object();
    json_object_set_new(object, "run", json_integer((json_int_t)run_number));
    json_object_set_new(object, "type", json_string(type));
    json_object_set_new(object, "step", json_integer((json_int_t)world->step));
    json_object_set_new(object, "t", json_integer(world->now_ms));
    json_object_set_new(object, "wall", json_integer(sim_world_wall_ms(world)));
    json_object_set_new(object, "clock", json_integer(world->wall_offset_ms));
    if (process != NULL) {
        json_object_set_new(object, "proc", json_integer(process->index));
        json_object_set_new(object, "label", text(process->label, strlen(process->label)));
        json_object_set_new(object, "pid", json_integer(process->pid));
        json_object_set_new(object, "impl", json_string(sim_process_impl_name(process)));
    }
    return object;
}

static void emit(json_t *object) {
    json_dumpf(object, history_out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputc('\n', history_out);
    json_decref(object);
}

static struct sim_process *caller(const struct lease_env *env) {
    struct sim_process *process = sim_current();
    return process != NULL ? process : (struct sim_process *)env->context;
}

/* The implementation the calling process really runs. */
static const struct lease_ops *inner_of(struct sim_process *process) {
    return sim_process_impl(process);
}

/* named: the process an acquire names (options.pid, acquire --pid), or NULL. */
static void emit_invoke(const char *function, const struct sim_process *process, const char *token,
                        const struct sim_process *named) {
    json_t *object = record("invoke", process);
    json_object_set_new(object, "f", json_string(function));
    if (token != NULL) json_object_set_new(object, "token", text(token, strlen(token)));
    if (named != NULL) {
        json_t *target = json_object();
        json_object_set_new(target, "proc", json_integer(named->index));
        json_object_set_new(target, "label", text(named->label, strlen(named->label)));
        json_object_set_new(target, "pid", json_integer(named->pid));
        json_object_set_new(object, "for", target);
    }
    emit(object);
}

static void emit_result(const char *function, struct sim_process *process, enum lease_status status,
                        const struct lease_result *result) {
    json_t *object = record("ok", process);
    json_object_set_new(object, "f", json_string(function));
    json_object_set_new(object, "status", json_string(lease_status_name(status)));
    if (result->has_lease) {
        const struct lease_holder *lease = &result->lease;
        json_t *holder = json_object();
        json_object_set_new(holder, "owner", text(lease->owner, strlen(lease->owner)));
        if (lease->pid_is_integer) json_object_set_new(holder, "pid", json_integer(lease->pid));
        json_object_set_new(holder, "token", text(lease->token, strlen(lease->token)));
        json_object_set_new(holder, "expiresAt", text(lease->expires_at, strlen(lease->expires_at)));
        if (lease->has_fence) json_object_set_new(holder, "fence", json_integer(lease->fence));
        json_object_set_new(object, "lease", holder);
    } else {
        json_object_set_new(object, "lease", json_null());
    }
    emit(object);
    if (process->index < SIM_PROCESS_MAX && result->has_lease &&
        (lease_status_is_acquired(status) || status == LEASE_STATUS_ACTIVE)) {
        lease_copy_text(body_tokens[process->index], LEASE_TEXT_MAX, result->lease.token);
        lease_copy_text(body_expiries[process->index], LEASE_TEXT_MAX, result->lease.expires_at);
    }
}

static enum lease_status record_inspect(const struct lease_env *env, const struct lease_options *options,
                                        struct lease_result *result) {
    struct sim_process *process = caller(env);
    emit_invoke("inspect", process, NULL, NULL);
    enum lease_status status = inner_of(process)->inspect(env, options, result);
    emit_result("inspect", process, status, result);
    return status;
}

static enum lease_status record_acquire(const struct lease_env *env, const struct lease_options *options,
                                        struct lease_result *result) {
    struct sim_process *process = caller(env);
    /* acquire --pid: the lease is the named process's; its body runs under it */
    struct sim_process *named =
        options->pid > 0 && options->pid != process->pid ? sim_world_pid_owner(recording, options->pid) : NULL;
    emit_invoke("acquire", process, NULL, named);
    enum lease_status status = inner_of(process)->acquire(env, options, result);
    emit_result("acquire", process, status, result);
    if (named != NULL && result->has_lease && lease_status_is_acquired(status)) {
        lease_copy_text(body_tokens[named->index], LEASE_TEXT_MAX, result->lease.token);
        lease_copy_text(body_expiries[named->index], LEASE_TEXT_MAX, result->lease.expires_at);
    }
    return status;
}

static enum lease_status record_release(const struct lease_env *env, const struct lease_options *options,
                                        const char *token, struct lease_result *result) {
    struct sim_process *process = caller(env);
    emit_invoke("release", process, token, NULL);
    enum lease_status status = inner_of(process)->release(env, options, token, result);
    emit_result("release", process, status, result);
    return status;
}

static enum lease_status record_renew(const struct lease_env *env, const struct lease_options *options,
                                      const char *token, struct lease_result *result) {
    struct sim_process *process = caller(env);
    emit_invoke("renew", process, token, NULL);
    enum lease_status status = inner_of(process)->renew(env, options, token, result);
    emit_result("renew", process, status, result);
    return status;
}

/* Body entry and exit, seen in the trace's stream of operations at the step
 * they happen. The token and expiry are this file's own bookkeeping (the
 * process's last acquired or inherited result), not the oracle's. */
static void observe(struct sim_process *process, enum sim_op op, const char *path, int status, int64_t value) {
    (void)path, (void)status, (void)value;
    if (op != SIM_OP_BODY_ENTER && op != SIM_OP_BODY_EXIT) return;
    json_t *object = record(op == SIM_OP_BODY_ENTER ? "body-enter" : "body-exit", process);
    if (op == SIM_OP_BODY_ENTER) {
        /* A tree program's body child works under its parent's lease. */
        bool child = process->role == SIM_ROLE_BODY_CHILD;
        const char *token = child ? process->body_token : body_tokens[process->index];
        const char *expires = child ? process->inherited_token : body_expiries[process->index];
        json_object_set_new(object, "token", text(token, strlen(token)));
        json_object_set_new(object, "expiresAt", text(expires, strlen(expires)));
    }
    emit(object);
}

static void emit_file(struct sim_world *world, const struct sim_process *actor, int removed_inode) {
    json_t *object = record("file", actor);
    json_object_set_new(object, "inode", json_integer(world->lease_inode));
    if (world->lease_inode >= 0) {
        const struct sim_inode *inode = &world->inodes[world->lease_inode];
        json_object_set_new(object, "writer", json_integer(inode->writer));
        json_object_set_new(object, "data", text(inode->data != NULL ? inode->data : "", inode->size));
    }
    if (removed_inode >= 0) json_object_set_new(object, "removed", json_integer(removed_inode));
    /* exchanged away, still linked under another name (docs/spec.md 9.26) */
    if (removed_inode >= 0 && world->inodes[removed_inode].link_count > 0)
        json_object_set_new(object, "displaced", json_true());
    emit(object);
}

static void record_lease_changed(struct sim_world *world, struct sim_process *actor, int removed_inode) {
    emit_file(world, actor, removed_inode);
    if (inner_hooks.lease_changed != NULL) inner_hooks.lease_changed(world, actor, removed_inode);
}

/* struct sim_hooks.wrap_ops: the recording copy of real, made at its first call. */
static const struct lease_ops *recording_ops(const struct lease_ops *real) {
    for (int index = 0; index < recorded_count; index++)
        if (recorded_inner[index] == real) return &recorded_copy[index];
    if (recorded_count == RECORDED_MAX) return real; /* not recorded: more implementations than a mix names */
    struct lease_ops *copy = &recorded_copy[recorded_count];
    recorded_inner[recorded_count++] = real;
    *copy = *real;
    copy->inspect = real->inspect != NULL ? record_inspect : NULL;
    copy->acquire = record_acquire;
    copy->release = record_release;
    copy->renew = real->renew != NULL ? record_renew : NULL;
    return copy;
}

void sim_history_run(struct sim_world *world, uint64_t seed) {
    if (history_out == NULL) {
        sim_setup_initial(world);
        sim_run(world);
        return;
    }
    run_number++;
    recording = world;
    memset(body_tokens, 0, sizeof body_tokens);
    memset(body_expiries, 0, sizeof body_expiries);
    recorded_count = 0;
    inner_hooks = world->config.hooks;
    sim_trace_observer = observe;
    world->config.hooks.lease_changed = record_lease_changed;
    world->config.hooks.wrap_ops = recording_ops;

    char knobs[512];
    sim_plan_describe(&world->plan, knobs, sizeof knobs);
    json_t *header = record("run", NULL);
    json_object_set_new(header, "schema", json_integer(1));
    json_object_set_new(header, "seed", json_integer((json_int_t)seed));
    char mix[256];
    sim_mix_name(world, mix, sizeof mix);
    json_object_set_new(header, "impl", json_string(mix));
    json_object_set_new(header, "under_test", json_string(world->config.ops->name));
    json_object_set_new(header, "plan", text(world->plan.name, strlen(world->plan.name)));
    json_object_set_new(header, "knobs", text(knobs, strlen(knobs)));
    emit(header);

    sim_setup_initial(world);
    sim_run(world);

    /* How each process ended, at the step it ended (crash, kill or exit). */
    for (int index = 0; index < world->process_count; index++) {
        const struct sim_process *process = &world->processes[index];
        if (process->death_step < 0) continue;
        json_t *object = record("end", process);
        json_object_set_new(object, "step", json_integer(process->death_step));
        json_object_set_new(object, "t", json_integer(process->died_ms));
        json_object_del(object, "wall"); /* the end of the run's clock, not the process's */
        json_object_del(object, "clock");
        json_object_set_new(object, "how", json_string(process->state == SIM_PROCESS_DEAD ? "crash" : "exit"));
        emit(object);
    }
    json_t *verdict = record("verdict", NULL);
    json_object_set_new(verdict, "seed", json_integer((json_int_t)seed));
    json_object_set_new(verdict, "violation", json_string(sim_invariant_name(world->violation)));
    json_object_set_new(verdict, "text", text(world->violation_text, strlen(world->violation_text)));
    emit(verdict);
    fflush(history_out);

    world->config.hooks = inner_hooks;
    sim_trace_observer = NULL;
    recording = NULL;
}
