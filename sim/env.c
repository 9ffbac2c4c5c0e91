/*
 * env.c: the simulated struct lease_env. Each function is one step: it
 * yields to the scheduler first (a scheduling point and a possible crash
 * point: a crashed process is never resumed), then performs its operation
 * atomically on the world and records it in the trace.
 */
#include <errno.h>
#include <string.h>

#include "sim.h"
#include "env.h"
#include "trace.h"
#include "world.h"

#define LOCK_WAIT_ROUNDS_MAX 100000

/* Each operation is one step: the scheduler (registered in the hooks) may
 * switch to another process or crash this one here. */
static void yield(struct sim_process *process, enum sim_op op, const char *path, const char *path2, int fd,
                  int64_t pid) {
    assert(process->world->config.hooks.yield != NULL);
    process->world->config.hooks.yield(process, op, path, path2, fd, pid);
}
static struct sim_process *self(void *context) {
    return context;
}

static int env_open_read(void *context, const char *path, int *fd) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_OPEN_READ, path, NULL, -1, 0);
    int status = sim_fs_open_read(process->world, process, path, fd);
    sim_trace_op(process, SIM_OP_OPEN_READ, path, status, status == 0 ? *fd : -1);
    return status;
}

static int env_create_exclusive(void *context, const char *path, int *fd) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_CREATE_EXCLUSIVE, path, NULL, -1, 0);
    int status = sim_fs_create_exclusive(process->world, process, path, fd);
    sim_trace_op(process, SIM_OP_CREATE_EXCLUSIVE, path, status, status == 0 ? *fd : -1);
    return status;
}

static int env_read(void *context, int fd, void *buffer, size_t size, size_t *done) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_READ, NULL, NULL, fd, 0);
    int status = sim_fs_read(process->world, process, fd, buffer, size, done);
    sim_trace_op(process, SIM_OP_READ, NULL, status, (int64_t)*done);
    return status;
}

/* A short write when the plan asks for them: torn content becomes visible
 * between the create and the last byte. */
static int env_write(void *context, int fd, const void *buffer, size_t size, size_t *done) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_WRITE, NULL, NULL, fd, 0);
    size_t chunk = size;
    if (process->world->plan.knobs.partial_writes && size > 1)
        chunk = 1 + (size_t)sim_prng_below(&process->world->world_rng, size);
    int status = sim_fs_write(process->world, process, fd, buffer, chunk, done);
    sim_trace_op(process, SIM_OP_WRITE, NULL, status, (int64_t)*done);
    return status;
}

static int env_fsync(void *context, int fd) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_FSYNC, NULL, NULL, fd, 0);
    int status = sim_fs_fd_inode(process, fd) >= 0 ? 0 : -EBADF;
    sim_trace_op(process, SIM_OP_FSYNC, NULL, status, fd);
    return status;
}

static int env_fstat(void *context, int fd, struct lease_stat *stat) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_FSTAT, NULL, NULL, fd, 0);
    int status = sim_fs_fstat(process->world, process, fd, stat);
    sim_trace_op(process, SIM_OP_FSTAT, NULL, status, status == 0 ? stat->size_bytes : -1);
    return status;
}

static int env_lstat(void *context, const char *path, struct lease_stat *stat) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_LSTAT, path, NULL, -1, 0);
    int status = sim_fs_lstat(process->world, path, stat);
    sim_trace_op(process, SIM_OP_LSTAT, path, status, status == 0 ? (int64_t)stat->inode : -1);
    return status;
}

static int env_close(void *context, int fd) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_CLOSE, NULL, NULL, fd, 0);
    int status = sim_fs_close(process->world, process, fd);
    sim_trace_op(process, SIM_OP_CLOSE, NULL, status, fd);
    return status;
}

static int env_link(void *context, const char *from, const char *to) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_LINK, from, to, -1, 0);
    int status = sim_fs_link(process->world, process, from, to);
    sim_trace_op(process, SIM_OP_LINK, to, status, 0);
    return status;
}

static int env_rename(void *context, const char *from, const char *to) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_RENAME, from, to, -1, 0);
    int status = sim_fs_rename(process->world, process, from, to);
    sim_trace_op(process, SIM_OP_RENAME, to, status, 0);
    return status;
}

static int env_exchange(void *context, const char *first, const char *second) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_EXCHANGE, first, second, -1, 0);
    int status = sim_fs_exchange(process->world, process, first, second);
    sim_trace_op(process, SIM_OP_EXCHANGE, second, status, 0);
    return status;
}

static int env_unlink(void *context, const char *path) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_UNLINK, path, NULL, -1, 0);
    int status = sim_fs_unlink(process->world, process, path);
    sim_trace_op(process, SIM_OP_UNLINK, path, status, 0);
    return status;
}

static int env_mkdir(void *context, const char *path) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_MKDIR, path, NULL, -1, 0);
    int status = sim_fs_mkdir(process->world, path);
    sim_trace_op(process, SIM_OP_MKDIR, path, status, 0);
    return status;
}

static int env_sleep_ms(void *context, int64_t duration_ms);

/* Blocks the simulated process (not the simulator) until the lock is free
 * or the timeout passes in simulated time. */
static int env_lock(void *context, const char *path, int64_t timeout_ms, int *fd) {
    struct sim_process *process = self(context);
    struct sim_world *world = process->world;
    yield(process, SIM_OP_LOCK, path, NULL, -1, 0);
    int64_t deadline_ms = world->now_ms + (timeout_ms > 0 ? timeout_ms : 0);
    int status = -EWOULDBLOCK, inode = -1, waiting_fd = -1;
    for (int round = 0; round < LOCK_WAIT_ROUNDS_MAX; round++) {
        /* flock(2): a waiter keeps the inode it opened (sim_fs_lock_retry) */
        status = waiting_fd < 0 ? sim_fs_lock_try(world, process, path, &waiting_fd, &inode)
                                : sim_fs_lock_retry(world, process, waiting_fd);
        if (status != -EWOULDBLOCK || world->now_ms >= deadline_ms) break;
        process->state = SIM_PROCESS_BLOCKED;
        process->blocked_inode = inode;
        process->wake_ms = deadline_ms;
        yield(process, SIM_OP_LOCK, path, NULL, -1, 0);
    }
    if (status == 0 && world->plan.knobs.lock_stall_ms > 0 && !world->lock_stalled) {
        /* lock-stall: the run's first lock holder stops (SIGSTOP, a
         * page-fault storm) while it holds the kernel lock */
        world->lock_stalled = true;
        sim_trace_op(process, SIM_OP_LOCK, path, status, waiting_fd);
        sim_story(world, SIM_STORY_CRASH, process->index, "%s stalls %lld ms holding the lock", process->label,
                  (long long)world->plan.knobs.lock_stall_ms);
        env_sleep_ms(context, world->plan.knobs.lock_stall_ms);
        *fd = waiting_fd;
        return status;
    }
    if (status == 0)
        *fd = waiting_fd;
    else if (status == -EWOULDBLOCK && waiting_fd >= 0)
        sim_fs_close(world, process, waiting_fd); /* timed out: the waiter's descriptor is closed */
    sim_trace_op(process, SIM_OP_LOCK, path, status, status == 0 ? *fd : -1);
    return status;
}

static int env_unlock(void *context, int fd) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_UNLOCK, NULL, NULL, fd, 0);
    int status = sim_fs_unlock(process->world, process, fd);
    sim_trace_op(process, SIM_OP_UNLOCK, NULL, status, fd);
    return status;
}

static int env_pread(void *context, int fd, void *buffer, size_t size, int64_t offset, size_t *done) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_PREAD, NULL, NULL, fd, 0);
    int status = sim_fs_pread(process->world, process, fd, buffer, size, offset, done);
    sim_trace_op(process, SIM_OP_PREAD, NULL, status, (int64_t)*done);
    return status;
}

static int env_pwrite(void *context, int fd, const void *buffer, size_t size, int64_t offset, size_t *done) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_PWRITE, NULL, NULL, fd, 0);
    int status = sim_fs_pwrite(process->world, process, fd, buffer, size, offset, done);
    sim_trace_op(process, SIM_OP_PWRITE, NULL, status, (int64_t)*done);
    return status;
}

static int64_t env_wall_clock_ms(void *context) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_WALL_CLOCK, NULL, NULL, -1, 0);
    int64_t wall_ms = sim_world_wall_ms(process->world);
    sim_trace_op(process, SIM_OP_WALL_CLOCK, NULL, 0, wall_ms);
    return wall_ms;
}

static int64_t env_monotonic_ms(void *context) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_MONOTONIC, NULL, NULL, -1, 0);
    sim_trace_op(process, SIM_OP_MONOTONIC, NULL, 0, process->world->now_ms);
    return process->world->now_ms;
}

static int env_sleep_ms(void *context, int64_t duration_ms) {
    struct sim_process *process = self(context);
    struct sim_world *world = process->world;
    int64_t until_ms = duration_ms >= SIM_FOREVER_MS - world->now_ms ? SIM_FOREVER_MS : world->now_ms + duration_ms;
    sim_trace_op(process, SIM_OP_SLEEP, NULL, 0, duration_ms);
    process->wake_ms = until_ms < world->now_ms ? world->now_ms : until_ms;
    yield(process, SIM_OP_SLEEP, NULL, NULL, -1, 0);
    return 0;
}

static int64_t env_self_pid(void *context) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_SELF_PID, NULL, NULL, -1, 0);
    sim_trace_op(process, SIM_OP_SELF_PID, NULL, 0, process->pid);
    return process->pid;
}

static int env_pid_probe(void *context, int64_t pid) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_PID_PROBE, NULL, NULL, -1, pid);
    int status = sim_world_pid_probe_by(process->world, process->pid, pid);
    sim_trace_op(process, SIM_OP_PID_PROBE, NULL, status, pid);
    return status;
}

/* Only called for a lease that records a process group (tree scenarios), so
 * the traces of every other seed are unchanged. */
static int env_group_probe(void *context, int64_t group) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_PID_PROBE, NULL, NULL, -1, group);
    int status = sim_world_group_probe(process->world, group);
    sim_trace_op(process, SIM_OP_PID_PROBE, "group", status, group);
    return status;
}

static int env_pid_start_time(void *context, int64_t pid, uint64_t *start_time) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_PID_START_TIME, NULL, NULL, -1, pid);
    int status = sim_world_pid_start_time(process->world, pid, start_time);
    sim_trace_op(process, SIM_OP_PID_START_TIME, NULL, status, status == 0 ? (int64_t)*start_time : pid);
    return status;
}

static int env_boot_id(void *context, char *buffer, size_t size) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_BOOT_ID, NULL, NULL, -1, 0);
    size_t length = strlen(process->world->boot_id);
    int status = length < size ? 0 : -ERANGE;
    if (status == 0) memcpy(buffer, process->world->boot_id, length + 1);
    sim_trace_op(process, SIM_OP_BOOT_ID, NULL, status, 0);
    return status;
}

static int env_random_bytes(void *context, void *buffer, size_t size) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_RANDOM, NULL, NULL, -1, 0);
    unsigned char *bytes = buffer;
    for (size_t index = 0; index < size; index += 8) {
        uint64_t value = sim_prng_next(&process->world->world_rng);
        size_t count = size - index < 8 ? size - index : 8;
        memcpy(bytes + index, &value, count);
    }
    sim_trace_op(process, SIM_OP_RANDOM, NULL, 0, (int64_t)size);
    return 0;
}

static const char *env_getenv(void *context, const char *name) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_GETENV, NULL, NULL, -1, 0);
    const char *value = NULL;
    if (strcmp(name, LEASE_INHERITED_TOKEN_ENV) == 0 && process->inherited_token[0] != '\0')
        value = process->inherited_token;
    sim_trace_op(process, SIM_OP_GETENV, name, 0, value != NULL);
    return value;
}

static void env_warn(void *context, const char *line) {
    struct sim_process *process = self(context);
    yield(process, SIM_OP_WARN, NULL, NULL, -1, 0);
    if (strstr(line, "not-owner") != NULL) process->world->counters[SIM_COUNTER_NOT_OWNER_RELEASE]++;
    sim_trace_op(process, SIM_OP_WARN, line, 0, 0);
    sim_story(process->world, SIM_STORY_RESULT, process->index, "warn: %.150s", line);
}

void sim_env_bind(struct sim_process *process) {
    process->env = (struct lease_env){
        .version = LEASE_ENV_VERSION,
        .name = "sim",
        .context = process,
        .open_read = env_open_read,
        .create_exclusive = env_create_exclusive,
        .read = env_read,
        .write = env_write,
        .fsync = env_fsync,
        .fstat = env_fstat,
        .lstat = env_lstat,
        .close = env_close,
        .link = env_link,
        .rename = env_rename,
        .exchange = env_exchange,
        .unlink = env_unlink,
        .mkdir = env_mkdir,
        .lock = env_lock,
        .unlock = env_unlock,
        .pread = env_pread,
        .pwrite = env_pwrite,
        .wall_clock_ms = env_wall_clock_ms,
        .monotonic_ms = env_monotonic_ms,
        .sleep_ms = env_sleep_ms,
        .self_pid = env_self_pid,
        .pid_probe = env_pid_probe,
        .pid_start_time = env_pid_start_time,
        .boot_id = env_boot_id,
        .random_bytes = env_random_bytes,
        .getenv = env_getenv,
        .warn = env_warn,
        .group_probe = env_group_probe,
    };
}
