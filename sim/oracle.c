/*
 * oracle.c: the invariants of docs/spec.md section 6, judged against the
 * simulated truth (which process wrote which file, who is alive, what the
 * wall clock says) at the step where each can first break:
 *  - exclusion: at every body entry and every successful renewal;
 *  - no foreign release: at every removal of the lease path's file;
 *  - honest deferral and bounded wedge: at every held result.
 * It also counts the interesting states a campaign reached.
 */
#include <stdarg.h>
#include <string.h>

#include "sim.h"
#include "mix.h"
#include "oracle.h"
#include "sched.h"
#include "trace.h"
#include "world.h"

void sim_violation(struct sim_world *world, enum sim_invariant invariant, const char *format, ...) {
    if (world->violation != SIM_INVARIANT_NONE) return;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(world->violation_text, sizeof world->violation_text, format, arguments);
    va_end(arguments);
    world->violation = invariant;
    world->violation_step = world->step;
    world->stopped = true;
    sim_story(world, SIM_STORY_VIOLATION, sim_current() != NULL ? sim_current()->index : -1, "VIOLATION %s: %s",
              sim_invariant_name(invariant), world->violation_text);
}

/* ---- attribution in mixed runs (docs/spec.md 9.22) ----
 * A violation is the implementation under test's when one of its processes
 * caused it; one caused by model processes alone (the original's writers
 * beside it) is counted as a model race and the run goes on. */

/* A process a violation names: its role, and whether it caused it. */
struct party {
    const char *role;
    struct sim_process *process;
    bool culprit;
};

/* Who made the change at history[index] and so took the version before it
 * off the path (-1: nobody yet). An exchange only displaces that version
 * (docs/spec.md 9.26: the displacing process checks it and puts it back at
 * once): while the displacing process lives, the version is not gone yet;
 * when it never came back, whoever took the displacing version off the path
 * in the meantime kept it out, else the displacing process did (it died in
 * between). */
static int remover_at(const struct sim_world *world, int index) {
    int actor = world->history[index].actor;
    if (!world->history[index].displaced) return actor;
    if (index + 1 < world->history_count && world->history[index + 1].actor >= 0)
        return world->history[index + 1].actor;
    bool pending =
        actor >= 0 && world->processes[actor].death_step < 0 &&
        (world->processes[actor].phase == SIM_PHASE_ACQUIRING || world->processes[actor].phase == SIM_PHASE_RENEWING);
    return pending ? -1 : actor;
}

/* The process that took the last version of the lease path that was
 * process's (it created the file, or the file carried token) off the path;
 * NULL when that version still stands, or process itself replaced it. Read
 * from the lease path's history (its writer and its actor). */
static struct sim_process *remover_of(struct sim_world *world, const struct sim_process *process, const char *token) {
    for (int index = world->history_count - 1; index >= 0; index--) {
        const struct sim_history *entry = &world->history[index];
        bool mine = (entry->inode >= 0 && entry->writer == process->index) ||
                    (token != NULL && token[0] != '\0' && strcmp(entry->token, token) == 0);
        if (!mine) continue;
        if (index + 1 >= world->history_count) return NULL;
        int actor = remover_at(world, index + 1);
        return actor >= 0 && actor != process->index ? &world->processes[actor] : NULL;
    }
    return NULL;
}

/* The parties of a race between taker (its acquisition or renewal) and
 * victim (whose valid lease it broke). Whoever took the victim's lease off
 * the path caused it, and whoever took the taker's own file off the path
 * (the taker then runs under a lease that is no longer there). When neither
 * happened at another's hand, the taker caused it: it overrode or ignored a
 * lease that stood. Returns the number of parties. */
static int race_parties(struct sim_world *world, struct sim_process *taker, const char *taker_token,
                        struct sim_process *victim, const char *victim_token, struct party *parties) {
    struct sim_process *removed_victim = remover_of(world, victim, victim_token);
    struct sim_process *removed_taker = remover_of(world, taker, taker_token);
    bool by_another = (removed_victim != NULL && removed_victim != taker) || removed_taker != NULL;
    int count = 0;
    parties[count++] = (struct party){"taker", taker, !by_another || removed_victim == taker};
    parties[count++] = (struct party){"victim", victim, false};
    if (removed_victim != NULL && removed_victim != taker)
        parties[count++] = (struct party){"remover", removed_victim, true};
    if (removed_taker != NULL && removed_taker != removed_victim && removed_taker != victim)
        parties[count++] = (struct party){"remover", removed_taker, true};
    else if (removed_taker == victim)
        parties[1].culprit = true;
    return count;
}

/* A held result naming a token that never stood at the lease path: the
 * deferring process caused it, unless the holder it names (by pid) had its
 * own file taken off the path by another process (the holder then wrote its
 * lease into a file no longer there, which the deferring process had opened
 * while it stood): that remover caused it. */
static int orphan_parties(struct sim_world *world, struct sim_process *process, const struct lease_holder *lease,
                          struct party *parties) {
    parties[0] = (struct party){"by", process, true};
    struct sim_process *holder = lease->pid_is_integer ? sim_world_pid_owner(world, lease->pid) : NULL;
    struct sim_process *remover = holder != NULL && holder != process ? remover_of(world, holder, NULL) : NULL;
    if (remover == NULL) return 1;
    parties[0].culprit = remover == process;
    parties[1] = (struct party){"holder", holder, false};
    if (remover == process) return 2;
    parties[2] = (struct party){"remover", remover, true};
    return 3;
}

/* The one judgement of every violation: in a run that mixes nothing it is a
 * violation as it always was; in a mixed one its text names each party's
 * implementation, and it fails only when a culprit runs the implementation
 * under test (else: counted as model-race). Returns whether it failed. */
static bool attribute(struct sim_world *world, enum sim_invariant invariant, const struct party *parties, int count,
                      const char *format, ...) __attribute__((format(printf, 5, 6)));
static bool attribute(struct sim_world *world, enum sim_invariant invariant, const struct party *parties, int count,
                      const char *format, ...) {
    if (world->violation != SIM_INVARIANT_NONE) return true;
    char text[sizeof world->violation_text];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(text, sizeof text, format, arguments);
    va_end(arguments);
    if (!world->config.mixed) {
        sim_violation(world, invariant, "%s", text);
        return true;
    }
    bool fails = false;
    size_t used = strlen(text);
    for (int index = 0; index < count && used < sizeof text; index++) {
        struct sim_process *process = parties[index].process;
        fails |= parties[index].culprit && sim_process_under_test(process);
        used += (size_t)snprintf(text + used, sizeof text - used, "%s%s %s: %s%s", index == 0 ? " [" : "; ",
                                 parties[index].role, process->label, sim_process_impl(process)->name,
                                 parties[index].culprit ? " (caused it)" : "");
    }
    if (used < sizeof text) snprintf(text + used, sizeof text - used, "]");
    if (fails) {
        sim_violation(world, invariant, "%s", text);
        return true;
    }
    world->counters[SIM_COUNTER_MODEL_RACE]++;
    sim_story(world, SIM_STORY_RESULT, sim_current() != NULL ? sim_current()->index : -1,
              "model race (counted; no process under test caused it) %s: %.150s", sim_invariant_name(invariant), text);
    return false;
}

/* A violation of one process's own result (its deferral, fence or expiry). */
#define SELF(process) (&(struct party){"by", (process), true}), 1

/* Where the value of "key" starts in possibly torn JSON text (past the
 * colon and blanks), or size when the key is absent. */
static size_t find_value(const char *data, size_t size, const char *key) {
    size_t key_length = strlen(key);
    for (size_t index = 0; index + key_length + 2 < size; index++) {
        if (data[index] != '"' || memcmp(data + index + 1, key, key_length) != 0 || data[index + 1 + key_length] != '"')
            continue;
        size_t cursor = index + key_length + 2;
        while (cursor < size && (data[cursor] == ' ' || data[cursor] == ':' || data[cursor] == '\n')) cursor++;
        return cursor;
    }
    return size;
}

/* Finds "key": "value" in possibly torn JSON text; false when absent. */
static bool scan_string(const char *data, size_t size, const char *key, char *value, size_t value_size) {
    size_t cursor = find_value(data, size, key);
    if (cursor >= size || data[cursor] != '"') return false;
    size_t start = ++cursor;
    while (cursor < size && data[cursor] != '"') cursor++;
    if (cursor >= size || cursor - start >= value_size) return false;
    memcpy(value, data + start, cursor - start);
    value[cursor - start] = '\0';
    return true;
}

/* The number after "key": in possibly torn JSON text; false when absent. */
static bool scan_integer(const char *data, size_t size, const char *key, int64_t *value) {
    size_t cursor = find_value(data, size, key), start = cursor;
    int64_t number = 0;
    while (cursor < size && cursor - start < 12 && data[cursor] >= '0' && data[cursor] <= '9')
        number = number * 10 + (data[cursor++] - '0');
    if (cursor == start) return false;
    *value = number;
    return true;
}

/* Whom a lease file names: its writer, or the worker a launcher wrote it for
 * (acquire --pid: the file carries the worker's pid). */
static int holder_of(const struct sim_world *world, int writer, int64_t pid) {
    if (writer < 0 || world->processes[writer].pid == pid) return writer;
    for (int index = writer + 1; index < world->process_count; index++) {
        const struct sim_process *worker = &world->processes[index];
        if (worker->role == SIM_ROLE_WORKER && worker->parent == writer && worker->pid == pid) return index;
    }
    return writer;
}

/* A removal by the writer, or by the worker it acquired for, is no foreign
 * release. */
static bool removes_own(const struct sim_process *actor, int writer) {
    return writer == actor->index || (actor->role == SIM_ROLE_WORKER && actor->parent == writer && writer >= 0);
}

/* A body whose lease file was replaced after its lease expired by TTL has
 * lost the lease there and then, even if the taker never reaches its body
 * (it may crash first): a later backward clock jump cannot revive it. A
 * replacement while still valid is left for the exclusion check. */
static void mark_replaced_holders(struct sim_world *world, const struct sim_process *actor,
                                  const struct sim_history *entry) {
    for (int index = 0; index < world->process_count; index++) {
        struct sim_process *holder = &world->processes[index];
        if (!holder->in_body || holder->ttl_counted || strcmp(holder->body_token, entry->token) == 0) continue;
        bool expired = entry->wall_ms >= holder->body_expires_ms ||
                       (actor != NULL && actor->call_start_wall_ms >= holder->body_expires_ms);
        if (!expired) continue;
        world->counters[SIM_COUNTER_TTL_TAKEOVER]++;
        holder->ttl_counted = true;
    }
}

void sim_oracle_lease_changed(struct sim_world *world, struct sim_process *actor, int removed_inode) {
    if (removed_inode >= 0 && actor != NULL &&
        (actor->phase == SIM_PHASE_RELEASING || actor->phase == SIM_PHASE_RENEWING)) {
        int writer = world->inodes[removed_inode].writer;
        struct party parties[2] = {{"remover", actor, true},
                                   {"writer", writer >= 0 ? &world->processes[writer] : actor, false}};
        if (!removes_own(actor, writer))
            attribute(world, SIM_INVARIANT_FOREIGN_RELEASE, parties, writer >= 0 ? 2 : 1,
                      "%s (pid %lld) removed, while %s, the lease written by %s", actor->label, (long long)actor->pid,
                      actor->phase == SIM_PHASE_RELEASING ? "releasing" : "renewing",
                      writer >= 0 ? world->processes[writer].label : "nobody");
    }
    struct sim_history entry = {.step = world->step,
                                .at_ms = world->now_ms,
                                .wall_ms = sim_world_wall_ms(world),
                                .writer = -1,
                                .actor = actor != NULL ? actor->index : -1,
                                .holder = -1,
                                .inode = world->lease_inode,
                                .displaced = removed_inode >= 0 && world->inodes[removed_inode].link_count > 0,
                                .expires_ms = INT64_MAX};
    if (world->lease_inode >= 0) {
        const struct sim_inode *inode = &world->inodes[world->lease_inode];
        char expires[64];
        entry.writer = entry.holder = inode->writer;
        if (inode->data != NULL) {
            int64_t pid = 0;
            scan_string(inode->data, inode->size, "token", entry.token, sizeof entry.token);
            if (scan_string(inode->data, inode->size, "expiresAt", expires, sizeof expires))
                lease_time_parse(expires, &entry.expires_ms);
            if (scan_integer(inode->data, inode->size, "pid", &pid))
                entry.holder = holder_of(world, inode->writer, pid);
        }
    }
    if (world->history_count > 0) {
        struct sim_history *last = &world->history[world->history_count - 1];
        if (last->inode == entry.inode && strcmp(last->token, entry.token) == 0 && last->expires_ms == entry.expires_ms)
            return;
        if (strcmp(last->token, entry.token) != 0 || last->inode != entry.inode)
            sim_story(world, SIM_STORY_RESULT, actor != NULL ? actor->index : -1, "lease file %s by %s: %s",
                      entry.inode < 0 ? "removed" : "written", actor != NULL ? actor->label : "the setup",
                      entry.inode < 0  ? "no lease"
                      : entry.token[0] ? entry.token
                                       : "(no token yet: torn)");
    }
    mark_replaced_holders(world, actor, &entry);
    if (world->history_count == SIM_HISTORY_MAX) {
        memmove(world->history, world->history + 1, sizeof world->history[0] * (SIM_HISTORY_MAX - 1));
        world->history_count--;
    }
    world->history[world->history_count++] = entry;
}

static int64_t expires_of(const struct lease_result *lease) {
    int64_t expires_ms = INT64_MAX;
    if (!lease_time_parse(lease->lease.expires_at, &expires_ms)) expires_ms = INT64_MAX;
    return expires_ms;
}

/* Another body with a different, still valid lease is a violation; one
 * whose lease expired by TTL is a counted takeover. */
static void check_others(struct sim_process *process, const char *what) {
    struct sim_world *world = process->world;
    int64_t wall_ms = sim_world_wall_ms(world);
    for (int index = 0; index < world->process_count; index++) {
        struct sim_process *other = &world->processes[index];
        if (other == process || !other->in_body || strcmp(other->body_token, process->body_token) == 0) continue;
        /* Once taken over by TTL, that lease is gone for good: a later
         * backward clock jump cannot make it valid again. */
        if (other->ttl_counted) continue;
        /* expired now, or at the start of the call that took it over (a
         * backward clock jump in between must not make it valid again) */
        if (wall_ms >= other->body_expires_ms || process->call_start_wall_ms >= other->body_expires_ms) {
            if (!other->ttl_counted) world->counters[SIM_COUNTER_TTL_TAKEOVER]++;
            other->ttl_counted = true;
            continue;
        }
        struct party parties[4];
        int count = race_parties(world, process, process->body_token, other, other->body_token, parties);
        if (attribute(world, SIM_INVARIANT_EXCLUSION, parties, count,
                      "%s (pid %lld) %s while %s (pid %lld) runs its body under a valid lease (expires in %lld ms)",
                      process->label, (long long)process->pid, what, other->label, (long long)other->pid,
                      (long long)(other->body_expires_ms - wall_ms)))
            return;
    }
}

void sim_oracle_body_enter(struct sim_process *process, const struct lease_result *lease) {
    process->in_body = true;
    process->ttl_counted = false;
    process->body_start_ms = process->world->now_ms;
    lease_copy_text(process->body_token, sizeof process->body_token, lease->lease.token);
    process->body_expires_ms = expires_of(lease);
    sim_trace_op(process, SIM_OP_BODY_ENTER, lease->lease.token, 0, process->body_expires_ms);
    sim_story(process->world, SIM_STORY_BODY_ENTER, process->index, "%s enters its body (%s)", process->label,
              lease_status_name(lease->status));
    check_others(process, "entered its body");
}

void sim_oracle_body_exit(struct sim_process *process) {
    sim_yield(process, SIM_OP_BODY_EXIT, NULL, NULL, -1, 0);
    process->in_body = false;
    process->body_end_ms = process->world->now_ms;
    sim_trace_op(process, SIM_OP_BODY_EXIT, NULL, 0, 0);
    sim_story(process->world, SIM_STORY_BODY_EXIT, process->index, "%s leaves its body", process->label);
}

/* Expiry sanity: a lease written now (acquired or renewed) expires one TTL
 * after the writer's wall clock, which ran from the call's start to now;
 * a coarse clock (wall-resolution R) may have ticked inside the call, so the
 * bound is [start + ttl - R, now + ttl + R]. (A 1 s TTL under a 1 s clock
 * can so expire "0 ms ahead" of the wall clock read after the write: the
 * tick came between the implementation's read and the oracle's.) Not judged
 * when the clock jumped during the call. */
static void check_expiry(struct sim_process *process, const struct lease_result *result, const char *what,
                         int64_t start_ms) {
    struct sim_world *world = process->world;
    int64_t expires_ms = expires_of(result);
    if (expires_ms == INT64_MAX) return; /* judged by honest deferral and exclusion */
    /* a clock jump inside the call: the clock's extremes are not its ends */
    if (world->counters[SIM_COUNTER_CLOCK_JUMP] != process->jumps_at_call_start) return;
    int64_t now_ms = sim_world_wall_ms(world);
    int64_t earliest = start_ms < now_ms ? start_ms : now_ms, latest = start_ms < now_ms ? now_ms : start_ms;
    int64_t ttl_ms = world->plan.knobs.ttl_ms, slack_ms = world->plan.knobs.wall_resolution_ms;
    if (slack_ms < 1) slack_ms = 1;
    if (expires_ms < earliest + ttl_ms - slack_ms || expires_ms > latest + ttl_ms + slack_ms)
        attribute(world, SIM_INVARIANT_EXPIRY, SELF(process),
                  "%s %s a lease expiring %lld ms after its wall clock (ttl %lld ms, clock resolution %lld ms)",
                  process->label, what, (long long)(expires_ms - now_ms), (long long)ttl_ms,
                  (long long)world->plan.knobs.wall_resolution_ms);
}

/* A renewal extends every body that runs under the renewed token: the
 * renewer's own, and those that inherited it (an orchestrator's children, a
 * tree program's body child) (docs/spec.md 9.23). */
static void extend_inheritors(struct sim_process *renewer, const struct lease_result *result) {
    struct sim_world *world = renewer->world;
    for (int index = 0; index < world->process_count; index++) {
        struct sim_process *other = &world->processes[index];
        if (other == renewer || !other->in_body || strcmp(other->body_token, result->lease.token) != 0) continue;
        other->body_expires_ms = expires_of(result);
        world->counters[SIM_COUNTER_INHERITED_RENEWAL]++;
    }
}

void sim_oracle_renewed(struct sim_process *process, const struct lease_result *result) {
    check_expiry(process, result, "renewed to", process->renew_start_wall_ms);
    process->holding_expires_ms = expires_of(result);
    process->body_expires_ms = expires_of(result);
    extend_inheritors(process, result);
    sim_story(process->world, SIM_STORY_RENEW, process->index, "renewed until %.40s", result->lease.expires_at);
    check_others(process, "renewed its lease");
}

/* acquire --pid: the lease a launcher took belongs to the worker it names
 * from the hand-over on (it holds it, as if told "acquired" at the
 * launcher's call); the launcher, which exits, no longer does. */
void sim_oracle_lease_handed(struct sim_process *launcher, struct sim_process *worker) {
    worker->holding = launcher->holding;
    lease_copy_text(worker->holding_token, sizeof worker->holding_token, launcher->holding_token);
    worker->holding_expires_ms = launcher->holding_expires_ms;
    worker->call_start_step = launcher->call_start_step;
    worker->call_start_wall_ms = launcher->call_start_wall_ms;
    launcher->holding = false;
    launcher->world->counters[SIM_COUNTER_ACQUIRED_FOR_PID]++;
    sim_story(launcher->world, SIM_STORY_RESULT, launcher->index, "%s hands the lease to %s (pid %lld)",
              launcher->label, worker->label, (long long)worker->pid);
}

void sim_oracle_call_start(struct sim_process *process) {
    process->call_start_step = process->world->step;
    process->call_start_wall_ms = sim_world_wall_ms(process->world);
    process->jumps_at_call_start = process->world->counters[SIM_COUNTER_CLOCK_JUMP];
}

/* The history entries of token that overlap [first_step, now]. */
static const struct sim_history *find_overlap(const struct sim_world *world, const char *token, uint64_t first_step,
                                              int64_t call_wall_ms, bool *valid) {
    const struct sim_history *found = NULL;
    *valid = false;
    for (int index = 0; index < world->history_count; index++) {
        const struct sim_history *entry = &world->history[index];
        uint64_t end = index + 1 < world->history_count ? world->history[index + 1].step : UINT64_MAX;
        if (end < first_step || strcmp(entry->token, token) != 0) continue;
        found = entry;
        int64_t earliest_wall_ms = entry->step >= first_step ? entry->wall_ms : call_wall_ms;
        if (earliest_wall_ms < entry->expires_ms || call_wall_ms < entry->expires_ms) *valid = true;
    }
    return found;
}

static void check_dead_holder(struct sim_process *process, const struct lease_result *result, int named) {
    struct sim_world *world = process->world;
    struct sim_process *holder = &world->processes[named];
    if (holder->state != SIM_PROCESS_DEAD && holder->state != SIM_PROCESS_FINISHED) return;
    if (holder->death_step > (int64_t)process->call_start_step) return;
    if (!result->lease.pid_is_integer || result->lease.pid != holder->pid) return;
    /* A body is its whole process group (docs/spec.md 9.8): while a member
     * lives, the holder has not died. */
    if (result->lease.has_process_group && sim_world_group_probe(world, result->lease.process_group) == 0) return;
    struct sim_process *owner = sim_world_pid_owner(world, holder->pid);
    int64_t slot = holder->pid - 300;
    /* the pid changed hands during the call: what the probe saw is unknown */
    if (slot >= 0 && slot < 1024 && world->pid_changed_step[slot] > process->call_start_step) return;
    bool reused_detectably = owner != NULL && result->lease.has_pid_start_time &&
                             result->lease.pid_start_time == holder->start_time &&
                             owner->start_time != holder->start_time;
    /* what the blocked process's own implementation could have detected */
    struct sim_traits traits = sim_process_traits(process);
    bool detectable = (owner == NULL && traits.detects_death) || (reused_detectably && traits.detects_reuse);
    if (detectable) {
        attribute(world, SIM_INVARIANT_BOUNDED_WEDGE, SELF(process),
                  "%s got held from %s's lease although %s (pid %lld) had died and the death was detectable (%s)",
                  process->label, holder->label, holder->label, (long long)holder->pid,
                  owner == NULL ? "pid not alive" : "pid reused, start time differs");
        return;
    }
    world->counters[SIM_COUNTER_WEDGE_UNTIL_TTL]++;
}

static void check_held(struct sim_process *process, const struct lease_result *result) {
    struct sim_world *world = process->world;
    world->counters[SIM_COUNTER_DEFERRAL]++;
    if (!result->has_lease) {
        attribute(world, SIM_INVARIANT_HONEST_DEFERRAL, SELF(process),
                  "%s got held without a holder (lease: null): %.200s", process->label, result->detail);
        return;
    }
    bool valid = false;
    const struct sim_history *entry =
        find_overlap(world, result->lease.token, process->call_start_step, process->call_start_wall_ms, &valid);
    if (entry == NULL) {
        struct party parties[3];
        int count = orphan_parties(world, process, &result->lease, parties);
        attribute(world, SIM_INVARIANT_HONEST_DEFERRAL, parties, count,
                  "%s got held naming token %.40s, which was not at the lease path during the call", process->label,
                  result->lease.token);
        return;
    }
    if (entry->holder >= 0) check_dead_holder(process, result, entry->holder);
    if (!valid && world->violation == SIM_INVARIANT_NONE && world->counters[SIM_COUNTER_CLOCK_JUMP] == 0)
        attribute(world, SIM_INVARIANT_HONEST_DEFERRAL, SELF(process),
                  "%s got held naming %s's lease, which had expired by its TTL during the whole call", process->label,
                  result->lease.owner);
}

/* Fences: every acquisition's fence is greater than every earlier one's
 * (across takeovers, crashes, restarts). Double acquisition: told
 * "acquired" while another process that was told so, has not begun to
 * release and is alive still holds a valid lease (a holder in its body is
 * left to exclusion, judged when this one enters its body). */
static void check_acquisition(struct sim_process *process, const struct lease_result *result) {
    struct sim_world *world = process->world;
    if (result->has_lease && result->lease.has_fence) {
        if (world->fence_seen && result->lease.fence <= world->max_fence) {
            if (attribute(world, SIM_INVARIANT_FENCE, SELF(process),
                          "%s acquired with fence %lld, not above fence %lld of %s", process->label,
                          (long long)result->lease.fence, (long long)world->max_fence, world->max_fence_by))
                return;
        } else {
            world->fence_seen = true;
            world->max_fence = result->lease.fence;
            lease_copy_text(world->max_fence_by, sizeof world->max_fence_by, process->label);
        }
    }
    check_expiry(process, result, "acquired", process->call_start_wall_ms);
    if (world->violation != SIM_INVARIANT_NONE) return;
    int64_t wall_ms = sim_world_wall_ms(world);
    for (int index = 0; index < world->process_count; index++) {
        struct sim_process *other = &world->processes[index];
        if (other == process || !other->holding || other->in_body) continue;
        if (other->state == SIM_PROCESS_DEAD || other->state == SIM_PROCESS_FINISHED) continue;
        if (other->phase == SIM_PHASE_RELEASING || other->phase == SIM_PHASE_DONE) continue;
        if (strcmp(other->holding_token, result->lease.token) == 0) continue;
        if (wall_ms >= other->holding_expires_ms || process->call_start_wall_ms >= other->holding_expires_ms) continue;
        struct party parties[4];
        int count = race_parties(world, process, result->lease.token, other, other->holding_token, parties);
        if (attribute(world, SIM_INVARIANT_DOUBLE_ACQUISITION, parties, count,
                      "%s (pid %lld) was told acquired while %s (pid %lld), told so before, held a valid lease "
                      "(expires in %lld ms)",
                      process->label, (long long)process->pid, other->label, (long long)other->pid,
                      (long long)(other->holding_expires_ms - wall_ms)))
            return;
    }
}

void sim_oracle_acquire_result(struct sim_process *process, const struct lease_result *result) {
    struct sim_world *world = process->world;
    if (lease_status_is_acquired(result->status) && result->status != LEASE_STATUS_INHERITED) {
        check_acquisition(process, result);
        process->holding = true;
        lease_copy_text(process->holding_token, sizeof process->holding_token, result->lease.token);
        process->holding_expires_ms = expires_of(result);
    }
    switch (result->status) {
    case LEASE_STATUS_ACQUIRED_AFTER_STALE: world->counters[SIM_COUNTER_TAKEOVER_AFTER_STALE]++; break;
    case LEASE_STATUS_ACQUIRED_AFTER_MALFORMED: world->counters[SIM_COUNTER_MALFORMED_RECOVERY]++; break;
    case LEASE_STATUS_INHERITED: world->counters[SIM_COUNTER_INHERITED_RUN]++; break;
    case LEASE_STATUS_HELD: check_held(process, result); break;
    default: break;
    }
    if (result->status == LEASE_STATUS_HELD && result->has_lease) {
        char deferral[LEASE_DETAIL_MAX * 2];
        lease_format_deferral(result, deferral, sizeof deferral);
        char *newline = strchr(deferral, '\n');
        if (newline != NULL) *newline = '\0';
        sim_story(world, SIM_STORY_RESULT, process->index, "%s: held: %.150s", process->label, deferral);
    } else {
        sim_story(world, SIM_STORY_RESULT, process->index, "%s: %s%s", process->label,
                  lease_status_name(result->status), result->status == LEASE_STATUS_ERROR ? " (error)" : "");
    }
}

void sim_oracle_pid_allocated(struct sim_world *world, int64_t pid) {
    if (world->history_count == 0) return;
    const struct sim_history *last = &world->history[world->history_count - 1];
    if (last->holder < 0 || last->inode < 0) return;
    const struct sim_process *holder = &world->processes[last->holder];
    if (holder->pid == pid && (holder->state == SIM_PROCESS_DEAD || holder->state == SIM_PROCESS_FINISHED))
        world->counters[SIM_COUNTER_PID_REUSE]++;
}
