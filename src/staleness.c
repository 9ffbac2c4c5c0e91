/*
 * staleness.c: the staleness rules (docs/spec.md section 2 and 9.8), the
 * heart of the algorithm: when a holder is provably gone, and when a lease's
 * time is up. Reaches the OS only through env.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lease_impl.h"

/* The recorded boot id or start time no longer matches: the holder is gone
 * even though a process with its pid may be alive (pid reuse, reboot). */
static bool holder_was_replaced(const struct lease_env *env, const struct lease_holder *holder, char *detail,
                                size_t detail_size) {
    char boot_id[64];
    if (holder->boot_id[0] != '\0' && env->boot_id(env->context, boot_id, sizeof boot_id) == 0 &&
        strcmp(boot_id, holder->boot_id) != 0) {
        snprintf(detail, detail_size, "the holder's boot id %.40s is not this boot's", holder->boot_id);
        return true;
    }
    uint64_t start_time;
    if (holder->has_pid_start_time && env->pid_start_time(env->context, holder->pid, &start_time) == 0 &&
        start_time != holder->pid_start_time) {
        snprintf(detail, detail_size, "pid %lld was reused (start time %llu, recorded %llu)", (long long)holder->pid,
                 (unsigned long long)start_time, (unsigned long long)holder->pid_start_time);
        return true;
    }
    return false;
}

/* The process-tree rule (docs/spec.md section 9.8): a body is its whole
 * process group; while any process of the recorded group lives, the lease
 * is alive even though its pid is gone (the wrapper was killed, the body's
 * children still run). Only implementations that check start times (the
 * project's own) apply it; the models keep the original's behaviour. */
static bool body_group_lives(const struct lease_env *env, const struct lease_staleness_rules *rules,
                             const struct lease_holder *holder, char *detail, size_t detail_size) {
    if (!rules->check_start_time || !holder->has_process_group || holder->process_group <= 1 ||
        env->group_probe == NULL)
        return false;
    int probe = env->group_probe(env->context, holder->process_group);
    if (probe == -ESRCH) return false;
    snprintf(detail, detail_size, "pid %lld is gone but its body's process group %lld still has members",
             (long long)holder->pid, (long long)holder->process_group);
    return true;
}

/* Rule 2: false when the holder is provably gone. */
static bool holder_is_alive(const struct lease_env *env, const struct lease_staleness_rules *rules,
                            const struct lease_holder *holder, char *detail, size_t detail_size) {
    if (!holder->pid_is_integer || holder->pid <= 0) {
        snprintf(detail, detail_size, "pid %.60s is not a positive integer", holder->pid_text);
        return body_group_lives(env, rules, holder, detail, detail_size);
    }
    int probe = env->pid_probe(env->context, holder->pid);
    if (probe == -ESRCH) {
        snprintf(detail, detail_size, "pid %lld is not alive", (long long)holder->pid);
        return body_group_lives(env, rules, holder, detail, detail_size);
    }
    /* 0 and -EPERM are alive; any other answer cannot prove death. */
    if (rules->check_start_time && holder_was_replaced(env, holder, detail, detail_size))
        return body_group_lives(env, rules, holder, detail, detail_size);
    return true;
}

bool lease_is_stale(const struct lease_env *env, const struct lease_staleness_rules *rules,
                    const struct lease_holder *holder, int64_t now_ms, char *detail, size_t detail_size,
                    bool *ttl_expired) {
    int64_t expires_ms;
    int64_t acquired_ms;
    *ttl_expired = false;
    if (holder->acquired_at[0] == '\0') {
        snprintf(detail, detail_size, "no acquiredAt");
        return true;
    }
    if (rules->check_pid && holder->has_pid && !holder_is_alive(env, rules, holder, detail, detail_size)) return true;
    if (lease_time_parse(holder->expires_at, &expires_ms)) {
        *ttl_expired = now_ms >= expires_ms;
        snprintf(detail, detail_size, "%s expiresAt %.40s", *ttl_expired ? "past" : "before", holder->expires_at);
        return *ttl_expired;
    }
    if (!lease_time_parse(holder->acquired_at, &acquired_ms)) {
        snprintf(detail, detail_size, "acquiredAt %.60s is not a timestamp", holder->acquired_at);
        return true;
    }
    if (!holder->has_stale_after_ms || holder->stale_after_ms < 0) {
        snprintf(detail, detail_size, "staleAfterMs is missing or negative");
        return true;
    }
    *ttl_expired = now_ms - acquired_ms >= holder->stale_after_ms;
    snprintf(detail, detail_size, "%s acquiredAt + staleAfterMs", *ttl_expired ? "past" : "before");
    return *ttl_expired;
}
