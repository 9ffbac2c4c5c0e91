/*
 * sched.c: the scheduler. A discrete-event loop over simulated true time:
 * due plan events fire (arrivals, kills, clock jumps, pid reuse), then one
 * ready process is chosen (random, PCT or exhaustive enumeration), may be
 * crashed at this point, or runs its next environment call and then its own
 * code up to the following one. Time advances only when nobody is ready.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "alloc.h"
#include "coroutine.h"
#include "env.h"
#include "sched.h"
#include "trace.h"
#include "world.h"

#define CHOICE_MAX 16

static struct sim_coroutine pool[SIM_PROCESS_MAX];
static struct sim_process *running;

struct sim_process *sim_current(void) {
    return running;
}

static uint64_t fnv_text(const char *text) {
    uint64_t hash = 1469598103934665603ULL;
    for (int index = 0; text[index] != '\0' && index < SIM_PATH_MAX; index++)
        hash = (hash ^ (unsigned char)text[index]) * 1099511628211ULL;
    return hash | (1ULL << 63);
}

static void footprint_add(struct sim_footprint *footprint, uint64_t key, bool write) {
    if (footprint->count < 3) {
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

/* Which objects the pending operation reads or writes (exhaustive mode). */
static void compute_footprint(struct sim_process *process, enum sim_op op, const char *path, const char *path2, int fd,
                              int64_t pid) {
    struct sim_footprint *footprint = &process->pending;
    struct sim_world *world = process->world;
    int fd_inode = fd >= 0 ? sim_fs_fd_inode(process, fd) : -1;
    *footprint = (struct sim_footprint){0};
    switch (op) {
    case SIM_OP_OPEN_READ: footprint_add(footprint, fnv_text(path), false); break;
    case SIM_OP_CREATE_EXCLUSIVE:
    case SIM_OP_UNLINK:
    case SIM_OP_MKDIR: footprint_add(footprint, fnv_text(path), true); break;
    case SIM_OP_LSTAT: {
        footprint_add(footprint, fnv_text(path), false);
        int inode = sim_fs_lookup(world, path);
        if (inode >= 0) footprint_add(footprint, KEY_INODE(inode), false);
        break;
    }
    case SIM_OP_LINK:
        footprint_add(footprint, fnv_text(path), false);
        footprint_add(footprint, fnv_text(path2), true);
        break;
    case SIM_OP_RENAME:
        footprint_add(footprint, fnv_text(path), true);
        footprint_add(footprint, fnv_text(path2), true);
        break;
    case SIM_OP_READ:
    case SIM_OP_FSTAT:
    case SIM_OP_FSYNC:
    case SIM_OP_CLOSE:
    case SIM_OP_PREAD: footprint_add(footprint, KEY_INODE(fd_inode), false); break;
    case SIM_OP_WRITE:
    case SIM_OP_PWRITE: footprint_add(footprint, KEY_INODE(fd_inode), true); break;
    case SIM_OP_LOCK: {
        footprint_add(footprint, fnv_text(path), true);
        int inode = sim_fs_lookup(world, path);
        if (inode >= 0) footprint_add(footprint, KEY_LOCK(inode), true);
        break;
    }
    case SIM_OP_UNLOCK: footprint_add(footprint, KEY_LOCK(fd_inode), true); break;
    case SIM_OP_PID_PROBE:
    case SIM_OP_PID_START_TIME: footprint_add(footprint, KEY_PID(pid), false); break;
    case SIM_OP_BODY_ENTER:
    case SIM_OP_BODY_EXIT: footprint_add(footprint, KEY_BODY, true); break;
    case SIM_OP_EXIT: footprint->everything = true; break;
    default: break; /* local: clocks, randomness, sleep */
    }
}

static bool independent(const struct sim_footprint *left, const struct sim_footprint *right) {
    if (left->everything || right->everything) return false;
    for (int i = 0; i < left->count; i++)
        for (int j = 0; j < right->count; j++)
            if (left->keys[i] == right->keys[j] && (left->writes[i] || right->writes[j])) return false;
    return true;
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

void sim_yield(struct sim_process *process, enum sim_op op, const char *path, const char *path2, int fd, int64_t pid) {
    struct sim_world *world = process->world;
    check_crash_triggers(process, op);
    if (world->config.strategy == SIM_STRATEGY_EXHAUSTIVE) {
        if (!sim_op_visible(op) && !process->crash_requested) return;
        compute_footprint(process, op, path, path2, fd, pid);
        if (op != SIM_OP_SLEEP && process->state == SIM_PROCESS_RUNNABLE) process->wake_ms = world->now_ms;
    } else if (op != SIM_OP_SLEEP && process->state == SIM_PROCESS_RUNNABLE) {
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
    sim_env_bind(process);
    if (role == SIM_ROLE_GHOST) {
        process->state = SIM_PROCESS_DEAD;
        process->death_step = 0;
        return process;
    }
    process->state = SIM_PROCESS_RUNNABLE;
    struct sim_coroutine *coroutine = &pool[process->index];
    if (coroutine->stack == NULL && sim_coroutine_init(coroutine, SIM_STACK_BYTES) != 0) abort();
    assert(world->config.hooks.program_main != NULL);
    sim_coroutine_start(coroutine, world->config.hooks.program_main, process);
    sim_story(world, SIM_STORY_SPAWN, process->index, "%s starts (pid %lld)", label, (long long)process->pid);
    return process;
}

void sim_wait_child(struct sim_process *process, int child) {
    process->state = SIM_PROCESS_WAITING;
    process->waiting_child = child;
    process->pending_op = SIM_OP_SLEEP;
    process->pending = (struct sim_footprint){0};
    sim_coroutine_yield(&pool[process->index]);
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
    case SIM_SPEC_ORCHESTRATOR: {
        struct sim_process *process = sim_spawn(
            world, spec->kind == SIM_SPEC_PROGRAM ? SIM_ROLE_PROGRAM : SIM_ROLE_ORCHESTRATOR, spec->label, index, 0);
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

static void fire_due(struct sim_world *world) {
    for (int index = 0; index < world->plan.spec_count; index++)
        if (!world->spec_fired[index] && !world->plan.specs[index].disabled &&
            world->plan.specs[index].at_ms <= world->now_ms)
            fire_spec(world, index);
}

static bool is_ready(const struct sim_world *world, const struct sim_process *process) {
    switch (process->state) {
    case SIM_PROCESS_RUNNABLE: return process->wake_ms <= world->now_ms;
    case SIM_PROCESS_BLOCKED:
        return process->wake_ms <= world->now_ms || !sim_fs_lock_busy(world, process->blocked_inode);
    case SIM_PROCESS_WAITING: {
        enum sim_state child = world->processes[process->waiting_child].state;
        return child == SIM_PROCESS_FINISHED || child == SIM_PROCESS_DEAD;
    }
    default: return false;
    }
}

/* The next instant something can happen, or SIM_FOREVER_MS. */
static int64_t next_instant(const struct sim_world *world) {
    int64_t next = SIM_FOREVER_MS;
    for (int index = 0; index < world->process_count; index++) {
        const struct sim_process *process = &world->processes[index];
        if ((process->state == SIM_PROCESS_RUNNABLE || process->state == SIM_PROCESS_BLOCKED) &&
            process->wake_ms < next)
            next = process->wake_ms;
    }
    for (int index = 0; index < world->plan.spec_count; index++)
        if (!world->spec_fired[index] && !world->plan.specs[index].disabled && world->plan.specs[index].at_ms < next)
            next = world->plan.specs[index].at_ms;
    return next;
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
                independent(&world->processes[index].pending, &world->processes[choices[0].process].pending))
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
                independent(&world->processes[index].pending, &world->processes[chosen.process].pending))
                kept |= 1ULL << index;
    world->child_sleep_mask = kept;
    /* remember the alternatives for the driver */
    frame->done_mask = 0;
    for (int index = 0; index < choice_count; index++)
        frame->done_mask |= (uint64_t)(choices[index].crash || !(frame->sleep_mask >> choices[index].process & 1))
                            << index;
    return chosen;
}

static struct choice choose(struct sim_world *world, const int *ready, int count) {
    struct choice choice = {ready[0], false};
    switch (world->config.strategy) {
    case SIM_STRATEGY_EXHAUSTIVE: return pick_exhaustive(world, ready, count);
    case SIM_STRATEGY_PCT: choice.process = ready[pick_pct(world, ready, count)]; break;
    case SIM_STRATEGY_RANDOM:
        if (count > 1) choice.process = ready[sim_prng_below(&world->schedule_rng, (uint64_t)count)];
        break;
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
    }
}

void sim_run(struct sim_world *world) {
    int ready[SIM_PROCESS_MAX];
    for (uint64_t round = 0; round < world->config.step_limit * 4 && !world->stopped; round++) {
        if (world->step >= world->config.step_limit) break;
        fire_due(world);
        int count = 0;
        for (int index = 0; index < world->process_count; index++)
            if (is_ready(world, &world->processes[index])) ready[count++] = index;
        if (count == 0) {
            int64_t next = next_instant(world);
            if (next == SIM_FOREVER_MS || next > world->plan.knobs.horizon_ms) break;
            world->now_ms = next > world->now_ms ? next : world->now_ms + 1;
            continue;
        }
        struct choice choice = choose(world, ready, count);
        if (world->stopped) break;
        struct sim_process *process = &world->processes[choice.process];
        if (choice.crash)
            sim_crash(world, process, "crashes");
        else
            step_process(world, process);
        world->step++;
    }
    for (int index = 0; index < world->process_count; index++) sim_alloc_free_all(&world->processes[index].allocations);
}
