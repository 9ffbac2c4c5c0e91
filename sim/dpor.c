/*
 * dpor.c: dynamic partial-order reduction for the exhaustive search.
 *
 * The search is stateless: each schedule is a run from the start that
 * replays a prefix of recorded decisions (frames, one per state with more
 * than one choice) and then decides afresh. A choice is a process taking its
 * next step, or a crash-anywhere process crashing there. Two steps are
 * dependent when their footprints touch one object (path, inode, lock, pid,
 * the body) and one changes it; a crash or an exit is dependent with all.
 *
 * Source-set DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas 2014):
 * a new frame explores one choice that is not asleep; after each run every
 * race (two dependent steps of different processes not ordered through
 * other steps) asks for its reversal at the state before the first step:
 * unless a process that can start the reversed order (an initial of the
 * steps after it that do not depend on it, then the second step) is already
 * to be explored or asleep there, one is added. Sleep sets prune what an
 * earlier sibling covered. A crash is its process's other transition at the
 * same state: whenever a process's step is explored at a frame, its crash
 * there is too. A crash changes its pid, the locks it holds, the body and
 * the processes' lives; an exit its pid and the lives; every process's first
 * step (its call's start, which the oracle judges against the others'
 * lives) reads the lives (LEASESIM_CRASH_FOOTPRINT=everything: a crash
 * dependent with all, as before). When a reversal cannot start at that state (its initial is
 * not ready there: asleep in simulated time, not yet spawned), every choice
 * of the frame is explored (conservative). A run longer than the event log
 * explores every choice of its frames.
 *
 * SIM_REDUCTION_NONE explores every choice of every frame without sleep
 * sets: every interleaving, the reference for the check that the reduced
 * search finds every violation the full one finds (make test-sim-dpor).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "dpor.h"

#define EVENT_MAX 4096

struct event {
    int process;
    int frame; /* frame index of the state before it, -1 when it was the only choice */
    int seq;   /* its rank among its process's steps, from 1 */
    bool crash;
    int op;
    struct sim_footprint footprint;
};

static struct {
    int count;
    bool overflow;
    struct event events[EVENT_MAX];
    uint16_t clocks[EVENT_MAX][SIM_EXHAUSTIVE_PROCESS_MAX]; /* vector clocks (happens-before) */
} log_state;

bool sim_footprints_independent(const struct sim_footprint *left, const struct sim_footprint *right) {
    if (left->everything || right->everything) return false;
    for (int i = 0; i < left->count; i++)
        for (int j = 0; j < right->count; j++)
            if (left->keys[i] == right->keys[j] && (left->writes[i] || right->writes[j])) return false;
    return true;
}

void sim_dpor_run_start(struct sim_world *world) {
    (void)world;
    log_state.count = 0;
    log_state.overflow = false;
}

static void record(struct sim_world *world, int process, bool crash, int frame) {
    if (log_state.count >= EVENT_MAX) {
        log_state.overflow = true;
        return;
    }
    struct event *event = &log_state.events[log_state.count++];
    event->process = process;
    event->crash = crash;
    event->frame = frame;
    event->op = world->processes[process].pending_op;
    if (crash)
        event->footprint = world->processes[process].crash_footprint;
    else
        event->footprint = world->processes[process].pending;
}

static uint64_t choice_bit(int index) {
    return 1u << index;
}

/* The index of choice (process, crash) in frame, or -1. */
static int choice_index(const struct sim_frame *frame, int process, bool crash) {
    for (int index = 0; index < frame->choice_count; index++)
        if (frame->process[index] == process && ((frame->crash_bits >> index & 1) != 0) == crash) return index;
    return -1;
}

/* Explore index, and its process's crash there when it is a step. */
static void want(struct sim_frame *frame, int index) {
    frame->backtrack |= (uint32_t)choice_bit(index);
    if (!(frame->crash_bits >> index & 1)) {
        int crash = choice_index(frame, frame->process[index], true);
        if (crash >= 0) frame->backtrack |= (uint32_t)choice_bit(crash);
    }
}

static bool asleep(const struct sim_frame *frame, int index) {
    return !(frame->crash_bits >> index & 1) && (frame->sleep_mask >> frame->process[index] & 1);
}

struct sim_dpor_choice sim_dpor_pick(struct sim_world *world, const int *ready, int count) {
    bool reduce = world->config.reduction == SIM_REDUCTION_DPOR;
    struct sim_frame scratch = {0};
    for (int index = 0; index < count; index++) {
        if (scratch.choice_count + 2 > SIM_CHOICE_MAX) {
            world->frame_overflow = true; /* more choices than a frame holds: incomplete */
            break;
        }
        scratch.process[scratch.choice_count++] = (unsigned char)ready[index];
        const struct sim_process *process = &world->processes[ready[index]];
        if (process->crash_eligible && !(reduce && process->crash_redundant)) {
            scratch.crash_bits |= (uint32_t)choice_bit(scratch.choice_count);
            scratch.process[scratch.choice_count++] = (unsigned char)ready[index];
        }
    }
    struct sim_dpor_choice chosen = {scratch.process[0], (scratch.crash_bits & 1) != 0};
    const struct sim_footprint *pending = &world->processes[chosen.process].pending;
    if (scratch.choice_count == 1) {
        uint64_t kept = 0;
        if (reduce && !chosen.crash)
            for (int index = 0; index < world->process_count; index++)
                if ((world->child_sleep_mask >> index & 1) && index != chosen.process &&
                    sim_footprints_independent(&world->processes[index].pending, pending))
                    kept |= 1ULL << index;
        world->child_sleep_mask = kept;
        record(world, chosen.process, chosen.crash, -1);
        return chosen;
    }
    if (world->frame_count >= SIM_FRAME_MAX) {
        world->frame_overflow = true;
        world->stopped = true;
        return chosen;
    }
    int depth = world->frame_count;
    struct sim_frame *frame = &world->frames[depth];
    if (depth >= world->frame_replay) {
        *frame = scratch;
        frame->sleep_mask = reduce ? world->child_sleep_mask : 0;
        frame->chosen = -1;
        if (!reduce) {
            frame->backtrack = (uint32_t)(choice_bit(frame->choice_count) - 1);
            frame->chosen = 0;
        } else {
            for (int index = 0; index < frame->choice_count && frame->chosen < 0; index++)
                if (!asleep(frame, index)) frame->chosen = index;
            if (frame->chosen < 0) {
                world->stopped = true; /* every choice asleep: a redundant schedule */
                world->redundant = true;
                return chosen;
            }
            want(frame, frame->chosen);
        }
    }
    /* a replayed frame offers the same choices */
    assert(frame->choice_count == scratch.choice_count && frame->crash_bits == scratch.crash_bits);
    assert(frame->chosen >= 0 && frame->chosen < frame->choice_count);
    world->frame_count++;
    frame->done |= (uint32_t)choice_bit(frame->chosen);
    chosen.process = frame->process[frame->chosen];
    chosen.crash = (frame->crash_bits >> frame->chosen & 1) != 0;
    pending = &world->processes[chosen.process].pending;
    uint64_t kept = 0;
    if (reduce && !chosen.crash) {
        /* asleep below: asleep here, or a step explored here before */
        uint64_t sleep = frame->sleep_mask;
        for (int index = 0; index < frame->choice_count; index++)
            if (index != frame->chosen && (frame->done >> index & 1) && !(frame->crash_bits >> index & 1))
                sleep |= 1ULL << frame->process[index];
        for (int index = 0; index < world->process_count; index++)
            if ((sleep >> index & 1) && index != chosen.process &&
                sim_footprints_independent(&world->processes[index].pending, pending))
                kept |= 1ULL << index;
    }
    world->child_sleep_mask = kept;
    record(world, chosen.process, chosen.crash, depth);
    return chosen;
}

static bool happens_before(int before, int after) {
    const struct event *event = &log_state.events[before];
    return log_state.clocks[after][event->process] >= event->seq;
}

static bool dependent(const struct event *left, const struct event *right) {
    return !sim_footprints_independent(&left->footprint, &right->footprint);
}

/* The race (first, second): make sure its reversal is explored from the
 * state before first. */
static void reverse(struct sim_world *world, int first, int second) {
    const struct event *race = &log_state.events[first];
    if (race->frame < 0 || race->frame >= world->frame_count) return;
    struct sim_frame *frame = &world->frames[race->frame];
    /* The initials of v = (steps after first not ordered after it), second:
     * the first step of each process in v that nothing earlier in v
     * precedes. first_seq[p]: p's first step in v, 0 if none yet. */
    int first_seq[SIM_EXHAUSTIVE_PROCESS_MAX] = {0};
    int initials[SIM_EXHAUSTIVE_PROCESS_MAX];
    bool initial_crash[SIM_EXHAUSTIVE_PROCESS_MAX];
    int initial_count = 0;
    int processes = world->process_count;
    for (int index = first + 1; index <= second; index++) {
        if (index != second && happens_before(first, index)) continue;
        const struct event *event = &log_state.events[index];
        bool initial = first_seq[event->process] == 0;
        for (int process = 0; process < processes && initial; process++)
            if (process != event->process && first_seq[process] != 0 &&
                log_state.clocks[index][process] >= first_seq[process])
                initial = false;
        if (first_seq[event->process] == 0) first_seq[event->process] = event->seq;
        if (initial) {
            initials[initial_count] = event->process;
            initial_crash[initial_count++] = event->crash;
        }
    }
    int candidate = -1;
    for (int at = 0; at < initial_count; at++) {
        int index = choice_index(frame, initials[at], initial_crash[at]);
        if (index < 0) continue;
        if ((frame->backtrack >> index & 1) || asleep(frame, index)) return; /* covered */
        if (candidate < 0) candidate = index;
    }
    if (candidate >= 0) {
        want(frame, candidate);
        return;
    }
    /* no initial can start here: every choice (conservative) */
    frame->backtrack = (uint32_t)(choice_bit(frame->choice_count) - 1);
}

static void analyse_races(struct sim_world *world) {
    int last[SIM_EXHAUSTIVE_PROCESS_MAX];
    int counts[SIM_EXHAUSTIVE_PROCESS_MAX] = {0};
    int processes = world->process_count;
    for (int process = 0; process < processes; process++) last[process] = -1;
    static int direct[EVENT_MAX];
    for (int index = 0; index < log_state.count; index++) {
        struct event *event = &log_state.events[index];
        uint16_t *clock = log_state.clocks[index];
        int previous = last[event->process];
        if (previous >= 0)
            memcpy(clock, log_state.clocks[previous], sizeof clock[0] * (size_t)processes);
        else
            memset(clock, 0, sizeof clock[0] * (size_t)processes);
        int direct_count = 0;
        for (int before = 0; before < index; before++) {
            const struct event *other = &log_state.events[before];
            if (other->process == event->process || !dependent(other, event)) continue;
            direct[direct_count++] = before;
            for (int process = 0; process < processes; process++)
                if (log_state.clocks[before][process] > clock[process])
                    clock[process] = log_state.clocks[before][process];
        }
        event->seq = ++counts[event->process];
        clock[event->process] = (uint16_t)event->seq;
        last[event->process] = index;
        /* a race: a direct predecessor not ordered before this step through
         * another direct predecessor (or this process's previous step) */
        for (int at = 0; at < direct_count; at++) {
            int candidate = direct[at];
            bool through = previous >= 0 && happens_before(candidate, previous);
            for (int other = 0; other < direct_count && !through; other++)
                if (other != at && happens_before(candidate, direct[other])) through = true;
            if (!through) reverse(world, candidate, index);
        }
    }
}

/* LEASESIM_DPOR_DEBUG: one line per run, the run's partial order (each
 * step with the steps it depends on directly): equivalent runs print the
 * same line. */
static void print_signature(struct sim_world *world) {
    static int debug = -1;
    if (debug < 0) debug = getenv("LEASESIM_DPOR_DEBUG") != NULL;
    if (!debug) return;
    for (int index = 0; index < log_state.count; index++) {
        const struct event *event = &log_state.events[index];
        printf("%d.%d%s:%d<", event->process, event->seq, event->crash ? "!" : "", event->op);
        for (int before = 0; before < index; before++) {
            const struct event *other = &log_state.events[before];
            if (other->process != event->process && dependent(other, event))
                printf("%d.%d,", other->process, other->seq);
        }
        printf("> ");
    }
    printf("%s\n", world->redundant ? "REDUNDANT" : "");
    (void)world;
}

int sim_dpor_next(struct sim_world *world) {
    {
        /* clocks and seq for the signature */
        int counts[SIM_EXHAUSTIVE_PROCESS_MAX] = {0};
        for (int index = 0; index < log_state.count; index++)
            log_state.events[index].seq = ++counts[log_state.events[index].process];
        print_signature(world);
    }
    /* LEASESIM_DPOR_BREAK: no race reversal (a broken reduction that the
     * check in make test-sim-dpor must catch) */
    static int broken = -1;
    if (broken < 0) broken = getenv("LEASESIM_DPOR_BREAK") != NULL;
    if (world->config.reduction == SIM_REDUCTION_DPOR && !broken) {
        if (log_state.overflow)
            for (int depth = 0; depth < world->frame_count; depth++)
                world->frames[depth].backtrack = (uint32_t)(choice_bit(world->frames[depth].choice_count) - 1);
        else
            analyse_races(world);
    }
    for (int depth = world->frame_count - 1; depth >= 0; depth--) {
        struct sim_frame *frame = &world->frames[depth];
        for (int index = 0; index < frame->choice_count; index++) {
            if (!(frame->backtrack >> index & 1) || (frame->done >> index & 1)) continue;
            if (world->config.reduction == SIM_REDUCTION_DPOR && asleep(frame, index)) {
                frame->done |= (uint32_t)choice_bit(index);
                continue;
            }
            frame->chosen = index;
            return depth + 1;
        }
    }
    return -1;
}
