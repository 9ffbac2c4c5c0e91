/*
 * sched.c: the scheduler. A discrete-event loop over simulated true time:
 * due plan events fire (arrivals, kills, clock jumps, pid reuse), then one
 * ready process is chosen (random, PCT or exhaustive enumeration), may be
 * crashed at this point, or runs its next environment call and then its own
 * code up to the following one. Time advances only when nobody is ready.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "alloc.h"
#include "coroutine.h"
#include "dpor.h"
#include "env.h"
#include "sched.h"
#include "trace.h"
#include "world.h"

#define CHOICE_MAX SIM_CHOICE_MAX

static struct sim_coroutine pool[SIM_PROCESS_MAX];
static struct sim_process *running;

/* ---- the ready set ----
 * Which processes are ready is kept up to date as things change instead of
 * asking every process at every step, so a step costs about the same with
 * 8 processes or 500. A process's own readiness changes only when it runs,
 * is spawned, crashes or ends (it is re-filed then: file_process), when
 * time passes its wake time (a heap of timers), when the lock it waits for
 * changes hands (blocked processes are grouped by the lock's inode; each
 * group's lock is asked once per step) or when the child it waits for ends.
 * The ready set is a bit set in process order, so the ready list is the one
 * the full scan gave, in the same order (LEASESIM_CHECK_SCHEDULER=1 checks
 * that at every step against the scan). */
#define WORDS ((SIM_PROCESS_MAX + 63) / 64)
#define GROUP_MAX 32
#define TIMER_MAX (4 * SIM_PROCESS_MAX)

struct lock_group {
    int inode;
    int count;
    uint64_t members[WORDS];
};
struct timer {
    int64_t wake_ms;
    int process;
    uint32_t stamp;
};

static struct {
    const struct sim_world *world; /* the world being run; NULL: none */
    uint64_t due[WORDS];           /* runnable or blocked, wake time reached */
    uint64_t waiting[WORDS];       /* waiting for a child that still runs */
    uint64_t waited[WORDS];        /* waiting for a child that has ended */
    struct lock_group groups[GROUP_MAX];
    int group_count;
    signed char group_of[SIM_PROCESS_MAX]; /* -1: in no group */
    uint32_t stamp[SIM_PROCESS_MAX];
    struct timer timers[TIMER_MAX]; /* a min-heap on wake_ms; stale entries are skipped */
    int timer_count;
    int spec_order[SIM_SPEC_MAX]; /* enabled specs by time, then index */
    int spec_count;
    int spec_next;
    bool check; /* LEASESIM_CHECK_SCHEDULER */
} ready_state;

static void bit_set(uint64_t *bits, int index) {
    bits[index >> 6] |= 1ULL << (index & 63);
}
static void bit_clear(uint64_t *bits, int index) {
    bits[index >> 6] &= ~(1ULL << (index & 63));
}
static bool bit_test(const uint64_t *bits, int index) {
    return bits[index >> 6] >> (index & 63) & 1;
}
/* Set bits, one round each (ready sets are small; no popcnt instruction
 * is assumed). */
static int bit_count(uint64_t bits) {
    int count = 0;
    for (; bits != 0; bits &= bits - 1) count++;
    return count;
}
/* The words that hold the world's processes. */
static int used_words(const struct sim_world *world) {
    return (world->process_count + 63) >> 6;
}

static bool timer_before(const struct timer *left, const struct timer *right) {
    return left->wake_ms < right->wake_ms || (left->wake_ms == right->wake_ms && left->process < right->process);
}

static void timer_sift_down(int at) {
    struct timer *heap = ready_state.timers;
    for (;;) {
        int smallest = at, left = 2 * at + 1, right = left + 1;
        if (left < ready_state.timer_count && timer_before(&heap[left], &heap[smallest])) smallest = left;
        if (right < ready_state.timer_count && timer_before(&heap[right], &heap[smallest])) smallest = right;
        if (smallest == at) return;
        struct timer swap = heap[at];
        heap[at] = heap[smallest];
        heap[smallest] = swap;
        at = smallest;
    }
}

/* Runnable or blocked, or waiting for a child with a deadline: its wake
 * time counts. */
static bool has_wake_time(const struct sim_process *process) {
    return process->state == SIM_PROCESS_RUNNABLE || process->state == SIM_PROCESS_BLOCKED ||
           (process->state == SIM_PROCESS_WAITING && process->wait_deadline);
}

static bool timer_valid(const struct sim_world *world, const struct timer *timer) {
    const struct sim_process *process = &world->processes[timer->process];
    return timer->stamp == ready_state.stamp[timer->process] && has_wake_time(process) &&
           process->wake_ms == timer->wake_ms;
}

static void timer_pop(void) {
    ready_state.timers[0] = ready_state.timers[--ready_state.timer_count];
    timer_sift_down(0);
}

/* Drops the stale timers (a full heap holds mostly those). */
static void timers_compact(const struct sim_world *world) {
    int kept = 0;
    for (int index = 0; index < ready_state.timer_count; index++)
        if (timer_valid(world, &ready_state.timers[index])) ready_state.timers[kept++] = ready_state.timers[index];
    ready_state.timer_count = kept;
    for (int index = kept / 2 - 1; index >= 0; index--) timer_sift_down(index);
}

static void timer_push(const struct sim_world *world, int process, int64_t wake_ms) {
    if (ready_state.timer_count >= TIMER_MAX) timers_compact(world);
    assert(ready_state.timer_count < TIMER_MAX); /* at most one live timer per process */
    struct timer *heap = ready_state.timers;
    int at = ready_state.timer_count++;
    heap[at] = (struct timer){wake_ms, process, ready_state.stamp[process]};
    while (at > 0 && timer_before(&heap[at], &heap[(at - 1) / 2])) {
        struct timer swap = heap[at];
        heap[at] = heap[(at - 1) / 2];
        heap[(at - 1) / 2] = swap;
        at = (at - 1) / 2;
    }
}

static void group_leave(int process) {
    int group = ready_state.group_of[process];
    if (group < 0) return;
    struct lock_group *entry = &ready_state.groups[group];
    bit_clear(entry->members, process);
    ready_state.group_of[process] = -1;
    if (--entry->count > 0) return;
    /* the last group moves into the hole */
    int last = --ready_state.group_count;
    if (group != last) {
        ready_state.groups[group] = ready_state.groups[last];
        for (int word = 0; word < WORDS; word++)
            for (uint64_t bits = ready_state.groups[group].members[word]; bits != 0; bits &= bits - 1)
                ready_state.group_of[word * 64 + __builtin_ctzll(bits)] = (signed char)group;
    }
}

static void group_join(int process, int inode) {
    int group = 0;
    while (group < ready_state.group_count && ready_state.groups[group].inode != inode) group++;
    if (group == ready_state.group_count) {
        assert(group < GROUP_MAX);
        ready_state.group_count++;
        ready_state.groups[group].inode = inode;
        ready_state.groups[group].count = 0;
        memset(ready_state.groups[group].members, 0, sizeof ready_state.groups[group].members);
    }
    bit_set(ready_state.groups[group].members, process);
    ready_state.groups[group].count++;
    ready_state.group_of[process] = (signed char)group;
}

static bool process_ended(const struct sim_process *process) {
    return process->state == SIM_PROCESS_FINISHED || process->state == SIM_PROCESS_DEAD;
}

/* Files process by its state and wake time (after anything about it changed). */
static void file_process(const struct sim_world *world, const struct sim_process *process) {
    if (ready_state.world != world) return;
    int index = process->index;
    ready_state.stamp[index]++;
    bit_clear(ready_state.due, index);
    bit_clear(ready_state.waiting, index);
    bit_clear(ready_state.waited, index);
    group_leave(index);
    switch (process->state) {
    case SIM_PROCESS_BLOCKED: group_join(index, process->blocked_inode); /* fall through */
    case SIM_PROCESS_RUNNABLE:
        if (process->wake_ms <= world->now_ms)
            bit_set(ready_state.due, index);
        else
            timer_push(world, index, process->wake_ms);
        break;
    case SIM_PROCESS_WAITING:
        bit_set(process_ended(&world->processes[process->waiting_child]) ? ready_state.waited : ready_state.waiting,
                index);
        /* a deadline: due at it, like a sleeper */
        if (!process->wait_deadline) break;
        if (process->wake_ms <= world->now_ms)
            bit_set(ready_state.due, index);
        else
            timer_push(world, index, process->wake_ms);
        break;
    default: break;
    }
}

/* A process ended: whoever waited for it is ready. */
static void wake_waiters(const struct sim_world *world, int ended) {
    for (int word = 0; word < used_words(world); word++)
        for (uint64_t bits = ready_state.waiting[word]; bits != 0; bits &= bits - 1) {
            int index = word * 64 + __builtin_ctzll(bits);
            if (world->processes[index].waiting_child == ended) {
                bit_clear(ready_state.waiting, index);
                bit_set(ready_state.waited, index);
            }
        }
}

/* Time moved on: the timers it passed make their processes due. */
static void timers_expire(const struct sim_world *world) {
    while (ready_state.timer_count > 0 && ready_state.timers[0].wake_ms <= world->now_ms) {
        struct timer timer = ready_state.timers[0];
        timer_pop();
        if (timer_valid(world, &timer)) bit_set(ready_state.due, timer.process);
    }
}

static void ready_start(const struct sim_world *world) {
    static int check = -1;
    if (check < 0) {
        const char *text = getenv("LEASESIM_CHECK_SCHEDULER");
        check = text != NULL && text[0] != '\0' && strcmp(text, "0") != 0;
    }
    memset(&ready_state.due, 0, sizeof ready_state.due);
    memset(&ready_state.waiting, 0, sizeof ready_state.waiting);
    memset(&ready_state.waited, 0, sizeof ready_state.waited);
    ready_state.group_count = 0;
    ready_state.timer_count = 0;
    ready_state.check = check;
    ready_state.world = world;
    for (int index = 0; index < world->process_count; index++) {
        ready_state.group_of[index] = -1;
        file_process(world, &world->processes[index]);
    }
    /* the plan's events by time (stable: the same time keeps index order) */
    ready_state.spec_count = 0;
    ready_state.spec_next = 0;
    for (int index = 0; index < world->plan.spec_count; index++) {
        if (world->plan.specs[index].disabled || world->spec_fired[index]) continue;
        int at = ready_state.spec_count++;
        int64_t at_ms = world->plan.specs[index].at_ms;
        while (at > 0 && world->plan.specs[ready_state.spec_order[at - 1]].at_ms > at_ms) {
            ready_state.spec_order[at] = ready_state.spec_order[at - 1];
            at--;
        }
        ready_state.spec_order[at] = index;
    }
}

/* The ready set: due, waited-for, or blocked on a lock that is free now. */
static int ready_bits(const struct sim_world *world, uint64_t *bits) {
    int count = 0, words = used_words(world);
    for (int word = 0; word < words; word++) bits[word] = ready_state.due[word] | ready_state.waited[word];
    for (int word = words; word < WORDS; word++) bits[word] = 0;
    for (int group = 0; group < ready_state.group_count; group++)
        if (!sim_fs_lock_busy(world, ready_state.groups[group].inode))
            for (int word = 0; word < words; word++) bits[word] |= ready_state.groups[group].members[word];
    for (int word = 0; word < words; word++) count += bit_count(bits[word]);
    return count;
}

/* The n-th ready process, in process order. */
static int ready_select(const uint64_t *bits, int n) {
    for (int word = 0; word < WORDS; word++) {
        if (bits[word] == 0) continue;
        int here = bit_count(bits[word]);
        if (n >= here) {
            n -= here;
            continue;
        }
        uint64_t rest = bits[word];
        while (n-- > 0) rest &= rest - 1;
        return word * 64 + __builtin_ctzll(rest);
    }
    return -1;
}

static int ready_list(const uint64_t *bits, int *ready) {
    int count = 0;
    for (int word = 0; word < WORDS; word++)
        for (uint64_t rest = bits[word]; rest != 0; rest &= rest - 1)
            ready[count++] = word * 64 + __builtin_ctzll(rest);
    return count;
}

struct sim_process *sim_current(void) {
    return running;
}

static uint64_t fnv_step(uint64_t hash, uint64_t word) {
    return (hash ^ word) * 1099511628211ULL;
}

/* A path's footprint key (only ever compared for equality): FNV-1a folded
 * eight bytes at a time; the top bit keeps it apart from the inode, lock
 * and pid keys. */
static uint64_t fnv_text(const char *text) {
    return sim_fold_text(1469598103934665603ULL, text, SIM_PATH_MAX, fnv_step) | (1ULL << 63);
}

static void footprint_add(struct sim_footprint *footprint, uint64_t key, bool write) {
    if (footprint->count < 4) {
        footprint->keys[footprint->count] = key;
        footprint->writes[footprint->count] = write;
        footprint->count++;
    } else {
        footprint->everything = true;
    }
}

#define KEY_INODE(inode) (0x100000000ULL + (uint64_t)(inode))
#define KEY_PID(pid) (0x200000000ULL + (uint64_t)(pid))
#define KEY_LOCK(inode) (0x300000000ULL + (uint64_t)(inode))
#define KEY_BODY 1ULL
#define KEY_LIVES 2ULL /* which processes live: a crash or an exit changes it, a call's start reads it */

/* A path's key: the pending operation's paths were hashed when it was
 * asked for (refresh_footprints takes its footprint again at each
 * decision). */
static uint64_t path_key(const struct sim_process *process, const char *path) {
    if (path == process->pending_path) return process->pending_keys[0];
    if (path == process->pending_path2) return process->pending_keys[1];
    return fnv_text(path);
}

/* A write that fails leaves the world as it was: a read of what made it
 * fail (the path exists or is missing). Judged at each decision against
 * the world as it is then (refresh_footprints), so exact. */
static void path_write_unless(struct sim_footprint *footprint, const struct sim_process *process, const char *path,
                              bool fails) {
    footprint_add(footprint, path_key(process, path), !fails);
}

static bool path_exists(const struct sim_world *world, const char *path) {
    return sim_fs_lookup(world, path) >= 0;
}

/* Whether the process's death can be judged: it wrote a version of the
 * lease file (a held result naming a holder that died before the call:
 * oracle.c), or it belongs to a process group (a body's group outlives its
 * leader). Only such a process's exit or crash changes what a call's start
 * reads. */
static bool death_judged(const struct sim_world *world, const struct sim_process *process) {
    if (process->group != 0) return true;
    for (int index = 0; index < world->history_count; index++)
        if (world->history[index].writer == process->index) return true;
    return false;
}

/* The locks the process holds (its end drops them). */
static void add_held_locks(struct sim_footprint *footprint, const struct sim_process *process) {
    for (int fd = 0; fd < SIM_FD_MAX; fd++)
        if (process->fds[fd].used && process->fds[fd].is_lock)
            footprint_add(footprint, KEY_LOCK(process->fds[fd].inode), true);
}

/* A process's end (exit or crash): its pid, the locks it holds, and the
 * processes' lives when its death can be judged (death_judged). */
static void add_end(struct sim_footprint *footprint, const struct sim_process *process) {
    footprint_add(footprint, KEY_PID(process->pid), true);
    if (death_judged(process->world, process)) footprint_add(footprint, KEY_LIVES, true);
    add_held_locks(footprint, process);
}

/* close(2): drops the descriptor; a lock descriptor's lock goes with it.
 * Without inode reuse nothing else is visible (a freed inode number is
 * never handed out again); with it, as a read of the inode (as before). */
static void add_close(struct sim_footprint *footprint, const struct sim_process *process, int fd, int fd_inode) {
    const struct sim_fd *file = fd >= 0 && fd < SIM_FD_MAX ? &process->fds[fd] : NULL;
    if (file != NULL && file->used && file->is_lock) footprint_add(footprint, KEY_LOCK(fd_inode), true);
    if (process->world->plan.knobs.inode_reuse) footprint_add(footprint, KEY_INODE(fd_inode), false);
}

/* Which objects the pending operation reads or writes (exhaustive mode).
 * Two steps conflict only when they touch one object and one changes it:
 * reads of one file commute, and so do writes that will fail. */
static void compute_footprint(struct sim_process *process, enum sim_op op, const char *path, const char *path2, int fd,
                              int64_t pid) {
    struct sim_footprint *footprint = &process->pending;
    struct sim_world *world = process->world;
    int fd_inode = fd >= 0 ? sim_fs_fd_inode(process, fd) : -1;
    *footprint = (struct sim_footprint){0};
    switch (op) {
    case SIM_OP_OPEN_READ: footprint_add(footprint, path_key(process, path), false); break;
    case SIM_OP_CREATE_EXCLUSIVE:
    case SIM_OP_MKDIR: path_write_unless(footprint, process, path, path_exists(world, path)); break;
    case SIM_OP_UNLINK: path_write_unless(footprint, process, path, !path_exists(world, path)); break;
    case SIM_OP_LSTAT: {
        footprint_add(footprint, path_key(process, path), false);
        int inode = sim_fs_lookup(world, path);
        if (inode >= 0) footprint_add(footprint, KEY_INODE(inode), false);
        break;
    }
    case SIM_OP_LINK:
        footprint_add(footprint, path_key(process, path), false);
        path_write_unless(footprint, process, path2, path_exists(world, path2) || !path_exists(world, path));
        break;
    case SIM_OP_RENAME:
    case SIM_OP_EXCHANGE:
        footprint_add(footprint, path_key(process, path), true);
        footprint_add(footprint, path_key(process, path2), true);
        break;
    case SIM_OP_CLOSE: add_close(footprint, process, fd, fd_inode); break;
    case SIM_OP_READ:
    case SIM_OP_FSTAT:
    case SIM_OP_FSYNC:
    case SIM_OP_PREAD: footprint_add(footprint, KEY_INODE(fd_inode), false); break;
    case SIM_OP_WRITE:
    case SIM_OP_PWRITE: footprint_add(footprint, KEY_INODE(fd_inode), true); break;
    case SIM_OP_LOCK: {
        /* opens the sidecar (creating it when missing), then the lock */
        int inode = sim_fs_lookup(world, path);
        path_write_unless(footprint, process, path, inode >= 0);
        if (inode >= 0) footprint_add(footprint, KEY_LOCK(inode), true);
        break;
    }
    case SIM_OP_UNLOCK: footprint_add(footprint, KEY_LOCK(fd_inode), true); break;
    case SIM_OP_PID_PROBE:
    case SIM_OP_PID_START_TIME: footprint_add(footprint, KEY_PID(pid), false); break;
    case SIM_OP_BODY_ENTER:
    case SIM_OP_BODY_EXIT: footprint_add(footprint, KEY_BODY, true); break;
    case SIM_OP_EXIT: add_end(footprint, process); break;
    default: break; /* local: clocks, randomness, sleep */
    }
}

/* Whether the footprint changes an object (a step that does not leaves a
 * crash after it equivalent to the crash before it). */
static bool footprint_writes(const struct sim_footprint *footprint) {
    if (footprint->everything) return true;
    for (int index = 0; index < footprint->count; index++)
        if (footprint->writes[index]) return true;
    return false;
}

/* Recomputes the footprints that depend on the file system's current state
 * (whether a path exists, which inode it names: lock, lstat, create, link,
 * unlink, mkdir; a process's end) for every live process, just before a
 * scheduling decision of the exhaustive search. */
static void refresh_footprints(struct sim_world *world) {
    /* LEASESIM_CRASH_FOOTPRINT=everything: a crash conflicts with all. */
    static int everything = -1;
    if (everything < 0) {
        const char *text = getenv("LEASESIM_CRASH_FOOTPRINT");
        everything = text != NULL && strcmp(text, "everything") == 0;
    }
    for (int index = 0; index < world->process_count; index++) {
        struct sim_process *process = &world->processes[index];
        if (process->state != SIM_PROCESS_RUNNABLE && process->state != SIM_PROCESS_BLOCKED) continue;
        if (process->crash_eligible) {
            /* A crash ends the process (its pid, its locks, its life when
             * judged) and its body when it is in one; nothing else. */
            struct sim_footprint *crash = &process->crash_footprint;
            *crash = (struct sim_footprint){0};
            crash->everything = everything;
            add_end(crash, process);
            if (process->in_body) footprint_add(crash, KEY_BODY, true);
        }
        if (process->pending_op != SIM_OP_SLEEP && process->pending_op != SIM_OP_OPEN_READ &&
            process->pending_path != NULL && process->pending.count > 0)
            compute_footprint(process, process->pending_op, process->pending_path, process->pending_path2,
                              process->pending_fd, process->pending_pid);
        else if (process->pending_op == SIM_OP_EXIT)
            compute_footprint(process, SIM_OP_EXIT, NULL, NULL, -1, 0);
    }
}

static void check_crash_triggers(struct sim_process *process, enum sim_op op) {
    process->calls++;
    if (process->crash_at_call > 0 && process->calls >= process->crash_at_call) process->crash_requested = true;
    if (process->spec >= 0) {
        const struct sim_spec *spec = &process->world->plan.specs[process->spec];
        if (spec->crash_after_op[0] != '\0') {
            if (process->saw_crash_op)
                process->crash_requested = true;
            else if (strcmp(sim_op_name(op), spec->crash_after_op) == 0)
                process->saw_crash_op = true;
        }
    }
}

/* The pending operation's arguments and footprint. */
static void note_pending(struct sim_process *process, enum sim_op op, const char *path, const char *path2, int fd,
                         int64_t pid) {
    process->pending_path = path;
    process->pending_path2 = path2;
    process->pending_keys[0] = path != NULL ? fnv_text(path) : 0;
    process->pending_keys[1] = path2 != NULL ? fnv_text(path2) : 0;
    process->pending_fd = fd;
    process->pending_pid = pid;
    compute_footprint(process, op, path, path2, fd, pid);
}

void sim_yield(struct sim_process *process, enum sim_op op, const char *path, const char *path2, int fd, int64_t pid) {
    struct sim_world *world = process->world;
    check_crash_triggers(process, op);
    if (world->config.strategy == SIM_STRATEGY_EXHAUSTIVE) {
        if (!sim_op_visible(op) && !process->crash_requested) return;
        note_pending(process, op, path, path2, fd, pid);
        if (op != SIM_OP_SLEEP && process->state == SIM_PROCESS_RUNNABLE) process->wake_ms = world->now_ms;
    } else if (op != SIM_OP_SLEEP && process->state == SIM_PROCESS_RUNNABLE) {
        if (world->config.strategy == SIM_STRATEGY_POS) note_pending(process, op, path, path2, fd, pid);
        /* Each call costs 0 or 1 simulated ms, so interleavings vary. */
        process->wake_ms = world->now_ms + ((sim_prng_next(&world->schedule_rng) & 3) == 0);
    }
    process->pending_op = op;
    sim_coroutine_yield(&pool[process->index]);
}

static void finish_process(struct sim_world *world, struct sim_process *process, enum sim_state state) {
    process->state = state;
    process->death_step = (int64_t)world->step;
    process->died_ms = world->now_ms;
    process->in_body = false;
    if (process->pid >= 300 && process->pid < 1324) world->pid_changed_step[process->pid - 300] = world->step;
    sim_fs_drop_process(world, process);
    sim_alloc_free_all(&process->allocations);
    file_process(world, process);
    if (ready_state.world == world) wake_waiters(world, process->index);
}

void sim_crash(struct sim_world *world, struct sim_process *process, const char *why) {
    if (process->state == SIM_PROCESS_DEAD || process->state == SIM_PROCESS_FINISHED) return;
    bool holding = process->in_body;
    if (holding) {
        world->counters[SIM_COUNTER_CRASH_WHILE_HOLDING]++;
        process->body_end_ms = world->now_ms;
    }
    finish_process(world, process, SIM_PROCESS_DEAD);
    sim_story(world, strcmp(why, "killed") == 0 ? SIM_STORY_KILL : SIM_STORY_CRASH, process->index,
              "%s %s (pid %lld)%s", process->label, why, (long long)process->pid, holding ? " while holding" : "");
}

struct sim_process *sim_spawn(struct sim_world *world, enum sim_role role, const char *label, int spec, int64_t pid) {
    if (world->process_count >= SIM_PROCESS_MAX) return NULL;
    struct sim_process *process = &world->processes[world->process_count];
    memset(process, 0, sizeof *process);
    process->index = world->process_count++;
    process->world = world;
    process->role = role;
    process->spec = spec;
    process->parent = -1;
    process->crash_at_call = -1;
    process->death_step = -1;
    process->body_start_ms = process->body_end_ms = -1;
    lease_copy_text(process->label, sizeof process->label, label);
    process->pid = sim_world_allocate_pid(world, pid);
    process->start_time = (uint64_t)(world->now_ms / 10) + 4200;
    process->wake_ms = world->now_ms;
    process->pct_priority = sim_prng_next(&world->schedule_rng) | (1ULL << 62);
    /* Its first step starts its call, which the oracle judges against the
     * other processes' lives: it reads the key their crashes and exits write. */
    if (world->config.strategy == SIM_STRATEGY_EXHAUSTIVE) footprint_add(&process->pending, KEY_LIVES, false);
    sim_env_bind(process);
    if (role == SIM_ROLE_GHOST) {
        process->state = SIM_PROCESS_DEAD;
        process->death_step = 0;
        if (ready_state.world == world) ready_state.group_of[process->index] = -1;
        return process;
    }
    process->state = SIM_PROCESS_RUNNABLE;
    struct sim_coroutine *coroutine = &pool[process->index];
    if (coroutine->stack == NULL && sim_coroutine_init(coroutine, SIM_STACK_BYTES) != 0) abort();
    assert(world->config.hooks.program_main != NULL);
    sim_coroutine_start(coroutine, world->config.hooks.program_main, process);
    if (ready_state.world == world) {
        ready_state.group_of[process->index] = -1;
        file_process(world, process);
    }
    sim_story(world, SIM_STORY_SPAWN, process->index, "%s starts (pid %lld)", label, (long long)process->pid);
    return process;
}

/* deadline: also runnable from its wake time (sim_wait_child_until). */
static void wait_for(struct sim_process *process, int child, bool deadline) {
    process->state = SIM_PROCESS_WAITING;
    process->waiting_child = child;
    process->wait_deadline = deadline;
    process->pending_op = SIM_OP_SLEEP;
    process->pending = (struct sim_footprint){0};
    sim_coroutine_yield(&pool[process->index]);
}

void sim_wait_child(struct sim_process *process, int child) {
    wait_for(process, child, false);
}

/* Waits for child to end or for the true time deadline_ms, whichever comes
 * first (a holder that renews while its child works); true when the child
 * has ended. */
bool sim_wait_child_until(struct sim_process *process, int child, int64_t deadline_ms) {
    struct sim_world *world = process->world;
    if (!process_ended(&world->processes[child])) {
        process->wake_ms = deadline_ms;
        wait_for(process, child, true);
        process->wait_deadline = false;
        process->wake_ms = world->now_ms;
    }
    return process_ended(&world->processes[child]);
}

static struct sim_process *find_label(struct sim_world *world, const char *label) {
    for (int index = world->process_count - 1; index >= 0; index--)
        if (strcmp(world->processes[index].label, label) == 0) return &world->processes[index];
    return NULL;
}

static void fire_spec(struct sim_world *world, int index) {
    struct sim_spec *spec = &world->plan.specs[index];
    struct sim_process *target = find_label(world, spec->target);
    world->spec_fired[index] = true;
    switch (spec->kind) {
    case SIM_SPEC_PROGRAM:
    case SIM_SPEC_ORCHESTRATOR:
    case SIM_SPEC_LAUNCHER: {
        enum sim_role role = spec->kind == SIM_SPEC_PROGRAM        ? SIM_ROLE_PROGRAM
                             : spec->kind == SIM_SPEC_ORCHESTRATOR ? SIM_ROLE_ORCHESTRATOR
                                                                   : SIM_ROLE_LAUNCHER;
        struct sim_process *process = sim_spawn(world, role, spec->label, index, 0);
        if (process == NULL) break;
        world->spec_process[index] = process->index;
        lease_copy_text(process->owner, sizeof process->owner, spec->owner);
        process->crash_eligible = world->config.strategy == SIM_STRATEGY_EXHAUSTIVE ? spec->crash_anywhere : true;
        break;
    }
    case SIM_SPEC_KILL:
        if (target != NULL) sim_crash(world, target, "killed");
        break;
    case SIM_SPEC_CLOCK_JUMP:
        world->wall_offset_ms += spec->jump_ms;
        world->counters[SIM_COUNTER_CLOCK_JUMP]++;
        sim_story(world, SIM_STORY_CLOCK_JUMP, -1, "wall clock jumps %+lld ms", (long long)spec->jump_ms);
        break;
    case SIM_SPEC_REUSE_PID:
        if (target != NULL && target->state != SIM_PROCESS_RUNNABLE && target->state != SIM_PROCESS_BLOCKED &&
            target->state != SIM_PROCESS_WAITING) {
            struct sim_process *bystander = sim_spawn(world, SIM_ROLE_BYSTANDER, spec->label, -1, target->pid);
            if (bystander != NULL)
                sim_story(world, SIM_STORY_PID_REUSE, bystander->index, "%s takes pid %lld of %s", spec->label,
                          (long long)bystander->pid, target->label);
        }
        break;
    }
}

/* Fires the plan's events that are due, in index order (as a scan of the
 * plan would): the due ones are a prefix of the time-ordered list. */
static void fire_due(struct sim_world *world) {
    int batch[SIM_SPEC_MAX];
    int count = 0;
    while (ready_state.spec_next < ready_state.spec_count &&
           world->plan.specs[ready_state.spec_order[ready_state.spec_next]].at_ms <= world->now_ms) {
        int index = ready_state.spec_order[ready_state.spec_next++];
        int at = count++;
        while (at > 0 && batch[at - 1] > index) {
            batch[at] = batch[at - 1];
            at--;
        }
        batch[at] = index;
    }
    for (int at = 0; at < count; at++)
        if (!world->spec_fired[batch[at]]) fire_spec(world, batch[at]);
}

static bool is_ready(const struct sim_world *world, const struct sim_process *process) {
    switch (process->state) {
    case SIM_PROCESS_RUNNABLE: return process->wake_ms <= world->now_ms;
    case SIM_PROCESS_BLOCKED:
        return process->wake_ms <= world->now_ms || !sim_fs_lock_busy(world, process->blocked_inode);
    case SIM_PROCESS_WAITING:
        return process_ended(&world->processes[process->waiting_child]) ||
               (process->wait_deadline && process->wake_ms <= world->now_ms);
    default: return false;
    }
}

/* The next instant something can happen, or SIM_FOREVER_MS: the earliest
 * live timer or plan event (nobody is ready, so every runnable or blocked
 * process has a timer). */
static int64_t next_instant(const struct sim_world *world) {
    int64_t next = SIM_FOREVER_MS;
    while (ready_state.timer_count > 0 && !timer_valid(world, &ready_state.timers[0])) timer_pop();
    if (ready_state.timer_count > 0) next = ready_state.timers[0].wake_ms;
    if (ready_state.spec_next < ready_state.spec_count) {
        int64_t at_ms = world->plan.specs[ready_state.spec_order[ready_state.spec_next]].at_ms;
        if (at_ms < next) next = at_ms;
    }
    return next;
}

/* LEASESIM_CHECK_SCHEDULER: the ready set and the next instant against a
 * scan of every process and event, as the scheduler once did. */
static void check_against_scan(const struct sim_world *world, const uint64_t *bits, int count) {
    int scanned = 0;
    for (int index = 0; index < world->process_count; index++) {
        bool ready = is_ready(world, &world->processes[index]);
        scanned += ready;
        if (ready != bit_test(bits, index)) {
            fprintf(stderr,
                    "leasesim: scheduler check: process %d ready=%d in the scan, %d in the ready set (step %llu)\n",
                    index, ready, bit_test(bits, index), (unsigned long long)world->step);
            abort();
        }
    }
    assert(scanned == count);
    if (count > 0) return;
    int64_t next = SIM_FOREVER_MS;
    for (int index = 0; index < world->process_count; index++) {
        const struct sim_process *process = &world->processes[index];
        if (has_wake_time(process) && process->wake_ms < next) next = process->wake_ms;
    }
    for (int index = 0; index < world->plan.spec_count; index++)
        if (!world->spec_fired[index] && !world->plan.specs[index].disabled && world->plan.specs[index].at_ms < next)
            next = world->plan.specs[index].at_ms;
    if (next != next_instant(world)) {
        fprintf(stderr, "leasesim: scheduler check: next instant %lld in the scan, %lld from the queues\n",
                (long long)next, (long long)next_instant(world));
        abort();
    }
}

struct choice {
    int process;
    bool crash;
};

static int pick_pct(struct sim_world *world, const int *ready, int count) {
    int best = 0;
    for (int index = 1; index < count; index++)
        if (world->processes[ready[index]].pct_priority > world->processes[ready[best]].pct_priority) best = index;
    for (int change = 0; change < world->config.pct_depth && change < 8; change++) {
        if (world->pct_change_steps[change] == world->step) {
            /* a change point: the leader drops below everyone, once */
            world->pct_change_steps[change] = UINT64_MAX;
            world->processes[ready[best]].pct_priority = (uint64_t)world->pct_changes_done++;
            return pick_pct(world, ready, count);
        }
    }
    return best;
}

/* Sleep-set search: one representative per class of equivalent
 * interleavings (operations on different objects commute). */
static struct choice pick_exhaustive(struct sim_world *world, const int *ready, int count) {
    struct choice choices[CHOICE_MAX];
    int choice_count = 0;
    if (world->process_count > SIM_EXHAUSTIVE_PROCESS_MAX) {
        /* the sleep sets are 64-bit masks indexed by process: beyond them
         * the search stops, incomplete (never a false proof) */
        world->frame_overflow = true;
        world->stopped = true;
        return (struct choice){ready[0], false};
    }
    for (int index = 0; index < count && choice_count < CHOICE_MAX - 1; index++) {
        choices[choice_count++] = (struct choice){ready[index], false};
        if (world->processes[ready[index]].crash_eligible)
            choices[choice_count++] = (struct choice){ready[index], true};
    }
    if (choice_count == 1) {
        world->child_sleep_mask &= ~(1ULL << choices[0].process);
        uint64_t kept = 0;
        for (int index = 0; index < world->process_count; index++)
            if ((world->child_sleep_mask >> index & 1) &&
                sim_footprints_independent(&world->processes[index].pending,
                                           &world->processes[choices[0].process].pending))
                kept |= 1ULL << index;
        world->child_sleep_mask = choices[0].crash ? 0 : kept;
        return choices[0];
    }
    if (world->frame_count >= SIM_FRAME_MAX) {
        world->frame_overflow = true;
        return choices[0];
    }
    struct sim_frame *frame = &world->frames[sim_checked_index(world->frame_count, SIM_FRAME_MAX)];
    if (world->frame_count >= world->frame_replay) {
        frame->choice_count = choice_count;
        frame->sleep_mask = world->child_sleep_mask;
        frame->chosen = -1;
        for (int index = 0; index < choice_count && frame->chosen < 0; index++)
            if (choices[index].crash || !(frame->sleep_mask >> choices[index].process & 1)) frame->chosen = index;
        if (frame->chosen < 0) {
            world->stopped = true; /* every choice asleep: a redundant schedule */
            world->redundant = true;
            return choices[0];
        }
    }
    for (int index = 0; index < choice_count; index++) frame->done_mask = 0;
    world->frame_count++;
    assert(frame->chosen >= 0 && frame->chosen < choice_count); /* a replayed frame offers the same choices */
    struct choice chosen = choices[frame->chosen];
    uint64_t sleep = frame->sleep_mask;
    for (int index = 0; index < frame->chosen; index++)
        if (!choices[index].crash) sleep |= 1ULL << choices[index].process;
    uint64_t kept = 0;
    if (!chosen.crash)
        for (int index = 0; index < world->process_count; index++)
            if ((sleep >> index & 1) && index != chosen.process &&
                sim_footprints_independent(&world->processes[index].pending, &world->processes[chosen.process].pending))
                kept |= 1ULL << index;
    world->child_sleep_mask = kept;
    /* remember the alternatives for the driver */
    frame->done_mask = 0;
    for (int index = 0; index < choice_count; index++)
        frame->done_mask |= (uint64_t)(choices[index].crash || !(frame->sleep_mask >> choices[index].process & 1))
                            << index;
    return chosen;
}

static struct choice choose(struct sim_world *world, const uint64_t *bits, int count) {
    struct choice choice = {ready_select(bits, 0), false};
    static int ready[SIM_PROCESS_MAX];
    switch (world->config.strategy) {
    case SIM_STRATEGY_EXHAUSTIVE:
        ready_list(bits, ready);
        refresh_footprints(world);
        if (world->config.reduction == SIM_REDUCTION_SLEEP) return pick_exhaustive(world, ready, count);
        {
            struct sim_dpor_choice picked = sim_dpor_pick(world, ready, count);
            return (struct choice){picked.process, picked.crash};
        }
    case SIM_STRATEGY_PCT:
        ready_list(bits, ready);
        choice.process = ready[pick_pct(world, ready, count)];
        break;
    case SIM_STRATEGY_RANDOM:
        if (count > 1) choice.process = ready_select(bits, (int)sim_prng_below(&world->schedule_rng, (uint64_t)count));
        break;
    case SIM_STRATEGY_POS: {
        /* the ready operation with the highest priority */
        int best = -1;
        for (int word = 0; word < WORDS; word++)
            for (uint64_t rest = bits[word]; rest != 0; rest &= rest - 1) {
                int index = word * 64 + __builtin_ctzll(rest);
                if (best < 0 || world->processes[index].pct_priority > world->processes[best].pct_priority)
                    best = index;
            }
        choice.process = best;
        break;
    }
    }
    struct sim_process *process = &world->processes[choice.process];
    if (process->crash_eligible && process->role != SIM_ROLE_BYSTANDER &&
        sim_prng_permille(&world->schedule_rng, world->plan.knobs.crash_permille))
        choice.crash = true;
    return choice;
}

static void step_process(struct sim_world *world, struct sim_process *process) {
    /* A crashed or finished process's coroutine is never resumed: its stack
     * is abandoned and may be started afresh for a later process. */
    assert(process->state != SIM_PROCESS_DEAD && process->state != SIM_PROCESS_FINISHED &&
           process->state != SIM_PROCESS_FREE);
    if (process->state == SIM_PROCESS_BLOCKED || process->state == SIM_PROCESS_WAITING)
        process->state = SIM_PROCESS_RUNNABLE;
    running = process;
    sim_alloc_charge(&process->allocations);
    sim_coroutine_resume(&pool[process->index]);
    sim_alloc_charge(NULL);
    running = NULL;
    if (process->crash_requested) {
        sim_crash(world, process, "crashes");
    } else if (pool[process->index].finished) {
        finish_process(world, process, SIM_PROCESS_FINISHED);
        sim_story(world, SIM_STORY_EXIT, process->index, "%s exits (%s)", process->label, process->result_text);
    } else {
        file_process(world, process);
    }
}

/* POS: the operation just run and every pending one that conflicts with it
 * draw new priorities (a crash or an exit conflicts with all). */
static void pos_reprioritise(struct sim_world *world, struct sim_process *ran_by, const struct sim_footprint *ran) {
    ran_by->pct_priority = sim_prng_next(&world->schedule_rng);
    for (int index = 0; index < world->process_count; index++) {
        struct sim_process *process = &world->processes[index];
        if (process == ran_by || (process->state != SIM_PROCESS_RUNNABLE && process->state != SIM_PROCESS_BLOCKED))
            continue;
        if (!sim_footprints_independent(&process->pending, ran))
            process->pct_priority = sim_prng_next(&world->schedule_rng);
    }
}

void sim_run(struct sim_world *world) {
    uint64_t bits[WORDS];
    ready_start(world);
    if (world->config.strategy == SIM_STRATEGY_EXHAUSTIVE) sim_dpor_run_start(world);
    for (uint64_t round = 0; round < world->config.step_limit * 4 && !world->stopped; round++) {
        if (world->step >= world->config.step_limit) break;
        fire_due(world);
        int count = ready_bits(world, bits);
        if (ready_state.check) check_against_scan(world, bits, count);
        if (count == 0) {
            int64_t next = next_instant(world);
            if (next == SIM_FOREVER_MS || next > world->plan.knobs.horizon_ms) break;
            world->now_ms = next > world->now_ms ? next : world->now_ms + 1;
            timers_expire(world);
            continue;
        }
        struct choice choice = choose(world, bits, count);
        if (world->stopped) break;
        struct sim_process *process = &world->processes[choice.process];
        struct sim_footprint ran = process->pending;
        if (choice.crash)
            sim_crash(world, process, "crashes");
        else
            step_process(world, process);
        if (world->config.strategy == SIM_STRATEGY_EXHAUSTIVE) process->crash_redundant = !footprint_writes(&ran);
        if (world->config.strategy == SIM_STRATEGY_POS) pos_reprioritise(world, process, &ran);
        world->step++;
    }
    ready_state.world = NULL;
    for (int index = 0; index < world->process_count; index++) sim_alloc_free_all(&world->processes[index].allocations);
}
