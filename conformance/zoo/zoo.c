/*
 * zoo.c: deliberately broken lease implementations, to prove that the
 * simulator's oracle catches each kind of mistake. All share one correct
 * base algorithm (a sidecar lock for every check-and-change, link(2) to
 * publish a fully written file, pid and start-time checks, token checks on
 * release and renew); each member switches off exactly one rule.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lease_impl.h"
#include "zoo.h"

struct zoo_rules {
    bool no_exclusive_create;   /* publish with rename (overwrites) and no lock */
    bool release_no_token;      /* release removes whatever is there */
    bool no_pid_check;          /* a dead holder's lease looks active until its TTL */
    bool torn_publish;          /* O_EXCL create, then write, on the unlocked path */
    bool stale_greater;         /* stale iff now > expiresAt (should be >=) */
    bool takeover_no_recheck;   /* replaces what it saw before taking the lock */
    bool renew_no_check;        /* renew rewrites the lease whoever owns it */
    bool fence_from_file;       /* the fence is the replaced file's + 1 (1 when none): not kept across removals */
    bool expiry_monotonic;      /* expiresAt from the monotonic clock, not the wall clock */
    bool eperm_dead;            /* a pid probe answering EPERM (another user's live process) taken as dead */
    bool lock_timeout_proceeds; /* a lock that timed out is taken as had: the check-and-replace runs unlocked */
    /* Caught only by the launcher workload (acquire --pid, docs/spec.md 9.24): the lease names the
     * caller whatever options.pid says, so once the launcher exits its worker's lease looks dead and
     * is taken over while the worker's body runs (exclusion). No other workload passes options.pid:
     * `leasesim --impl zoo-acquire-ignores-pid --seeds 1..50000 --drop launchers` finds nothing. */
    bool ignores_pid;
    /* Caught only by the renewing orchestrator (docs/spec.md 9.23): renew rebuilds the payload from
     * owner, pid, token and times and forgets metadata.processGroup, so once the orchestrator dies
     * its children's group no longer keeps the lease alive and it is taken over while a child's
     * body runs (exclusion). Random plans record a group only for a renewing orchestrator (tree
     * programs come from scenarios): `--drop orchestrator-renew` finds nothing in 1..50000. */
    bool renew_drops_group;
};

/* eperm_dead: the probe of the environment in use, answering ESRCH for
 * EPERM (the simulator runs one process at a time: one slot suffices). */
static int (*real_pid_probe)(void *context, int64_t pid);
static int eperm_as_dead(void *context, int64_t pid) {
    int status = real_pid_probe(context, pid);
    return status == -EPERM ? -ESRCH : status;
}

struct zoo_paths {
    char lock[LEASE_PATH_MAX];
    char temporary[LEASE_PATH_MAX];
};

/* The temporary name carries the pid: unlocked publishers must not share it. */
static void make_paths(const struct lease_env *env, const char *path, struct zoo_paths *paths) {
    snprintf(paths->lock, sizeof paths->lock, "%.1000s.lock", path);
    snprintf(paths->temporary, sizeof paths->temporary, "%.1000s.zoo-tmp.%lld", path,
             (long long)env->self_pid(env->context));
}

static enum lease_status classify(const struct lease_env *env, const struct zoo_rules *rules, const char *path,
                                  struct lease_result *result) {
    struct lease_staleness_rules staleness = {.check_pid = !rules->no_pid_check,
                                              .check_start_time = !rules->no_pid_check};
    struct lease_env misreading;
    if (rules->eperm_dead) {
        misreading = *env;
        real_pid_probe = env->pid_probe;
        misreading.pid_probe = eperm_as_dead;
        env = &misreading;
    }
    enum lease_status found = lease_read_and_classify(env, &staleness, path, result, NULL);
    int64_t expires_ms;
    if (rules->stale_greater && found == LEASE_STATUS_STALE && result->ttl_takeover &&
        lease_time_parse(result->lease.expires_at, &expires_ms) && env->wall_clock_ms(env->context) == expires_ms) {
        found = LEASE_STATUS_ACTIVE; /* the bug: now == expiresAt is not stale */
        result->status = found;
    }
    return found;
}

static int write_file(const struct lease_env *env, const char *path, const struct lease_holder *holder) {
    size_t length = 0;
    char *text = lease_payload_format(holder, true, &length);
    if (text == NULL) return -ENOMEM;
    int fd = -1;
    int status = env->create_exclusive(env->context, path, &fd);
    if (status == -EEXIST) {
        env->unlink(env->context, path);
        status = env->create_exclusive(env->context, path, &fd);
    }
    if (status == 0) {
        status = lease_write_all(env, fd, text, length);
        env->close(env->context, fd);
    }
    lease_free(text);
    return status;
}

/* Publishes holder at path when path is free: 0, -EEXIST, or an error. */
static int publish(const struct lease_env *env, const struct zoo_rules *rules, const char *path,
                   const struct zoo_paths *paths, const struct lease_holder *holder) {
    if (rules->torn_publish) {
        size_t length = 0;
        int fd = -1;
        int status = env->create_exclusive(env->context, path, &fd);
        if (status != 0) return status;
        char *text = lease_payload_format(holder, true, &length);
        status = text == NULL ? -ENOMEM : lease_write_all(env, fd, text, length);
        env->close(env->context, fd);
        lease_free(text);
        return status;
    }
    int status = write_file(env, paths->temporary, holder);
    if (status != 0) return status;
    status = rules->no_exclusive_create ? env->rename(env->context, paths->temporary, path)
                                        : env->link(env->context, paths->temporary, path);
    env->unlink(env->context, paths->temporary);
    return status;
}

static enum lease_status acquired(struct lease_result *result, const struct lease_holder *holder,
                                  enum lease_status found) {
    lease_result_clear(result);
    lease_result_set_holder(result, holder, true);
    result->previous_status = found;
    result->status = lease_status_acquired_from(found);
    return result->status;
}

static enum lease_status held(struct lease_result *result) {
    result->previous_status = LEASE_STATUS_ACTIVE;
    result->status = LEASE_STATUS_HELD;
    return LEASE_STATUS_HELD;
}

/* seen: what the acquisition read at the lease path (its fence, for
 * fence_from_file). */
static int new_holder(const struct lease_env *env, const struct zoo_rules *rules, const struct lease_options *options,
                      const struct lease_result *seen, struct lease_holder *holder) {
    struct lease_options named = *options;
    if (rules->ignores_pid) named.pid = 0; /* the bug: the caller's pid, not the one asked for */
    int status = lease_holder_new(env, &named, env->wall_clock_ms(env->context), holder);
    if (status == 0 && rules->fence_from_file) {
        holder->has_fence = true;
        holder->fence = seen->has_lease && seen->lease.has_fence ? seen->lease.fence + 1 : 1;
    }
    if (status == 0 && rules->expiry_monotonic)
        lease_time_format(env->monotonic_ms(env->context) + lease_options_ttl_ms(options), holder->expires_at);
    uint64_t start_time;
    if (status == 0 && env->pid_start_time(env->context, holder->pid, &start_time) == 0) {
        holder->has_pid_start_time = true;
        holder->pid_start_time = start_time;
    }
    if (status == 0 && env->boot_id(env->context, holder->boot_id, sizeof holder->boot_id) != 0)
        holder->boot_id[0] = '\0';
    return status;
}

/* The check-and-replace under the lock; found is what the unlocked read saw. */
static enum lease_status acquire_locked(const struct lease_env *env, const struct zoo_rules *rules,
                                        const struct lease_options *options, const struct zoo_paths *paths,
                                        enum lease_status found, struct lease_result *result) {
    if (!rules->takeover_no_recheck) found = classify(env, rules, options->path, result);
    if (found == LEASE_STATUS_ACTIVE) return held(result);
    if (found == LEASE_STATUS_UNREADABLE) return lease_result_error(result, EIO, "open", options->path);
    if (found != LEASE_STATUS_MISSING) env->unlink(env->context, options->path);
    struct lease_holder holder;
    int status = new_holder(env, rules, options, result, &holder);
    if (status == 0) status = publish(env, rules, options->path, paths, &holder);
    if (status == 0) return acquired(result, &holder, found);
    if (status != -EEXIST) return lease_result_error(result, -status, "link", options->path);
    found = classify(env, rules, options->path, result);
    return found == LEASE_STATUS_ACTIVE ? held(result) : lease_result_error(result, EAGAIN, "link", options->path);
}

static enum lease_status zoo_acquire(const struct lease_env *env, const struct zoo_rules *rules,
                                     const struct lease_options *options, struct lease_result *result) {
    struct zoo_paths paths;
    make_paths(env, options->path, &paths);
    lease_result_clear(result);
    int status = lease_make_parents(env, options->path);
    if (status != 0) return lease_result_error(result, -status, "mkdir", options->path);
    enum lease_status found = classify(env, rules, options->path, result);
    if (found == LEASE_STATUS_ACTIVE) return held(result);
    if (found == LEASE_STATUS_MISSING || rules->no_exclusive_create) {
        struct lease_holder holder;
        status = new_holder(env, rules, options, result, &holder);
        if (status == 0) status = publish(env, rules, options->path, &paths, &holder);
        if (status == 0) return acquired(result, &holder, found);
        if (status != -EEXIST) return lease_result_error(result, -status, "link", options->path);
    }
    int lock_fd = -1;
    status = env->lock(env->context, paths.lock, options->lock_timeout_ms, &lock_fd);
    if (status != 0 && !(rules->lock_timeout_proceeds && status == -EWOULDBLOCK))
        return lease_result_error(result, -status, "lock", paths.lock);
    enum lease_status outcome = acquire_locked(env, rules, options, &paths, found, result);
    if (status == 0) env->unlock(env->context, lock_fd);
    return outcome;
}

/* Release and renew: take the lock, then read what is there. ERROR when the
 * lock could not be had (result says why; nothing to unlock). */
static enum lease_status classify_locked(const struct lease_env *env, const struct zoo_rules *rules,
                                         const struct lease_options *options, int *lock_fd,
                                         struct lease_result *result) {
    struct zoo_paths paths;
    make_paths(env, options->path, &paths);
    lease_result_clear(result);
    int status = env->lock(env->context, paths.lock, options->lock_timeout_ms, lock_fd);
    if (status != 0) return lease_result_error(result, -status, "lock", paths.lock);
    return classify(env, rules, options->path, result);
}

static enum lease_status zoo_release(const struct lease_env *env, const struct zoo_rules *rules,
                                     const struct lease_options *options, const char *token,
                                     struct lease_result *result) {
    int lock_fd = -1;
    enum lease_status found = classify_locked(env, rules, options, &lock_fd, result);
    if (found == LEASE_STATUS_ERROR) return found;
    enum lease_status outcome = LEASE_STATUS_RELEASED;
    if (found == LEASE_STATUS_MISSING)
        outcome = LEASE_STATUS_MISSING;
    else if (!rules->release_no_token && (!result->has_lease || strcmp(result->lease.token, token) != 0))
        outcome = LEASE_STATUS_NOT_OWNER;
    else
        env->unlink(env->context, options->path);
    env->unlock(env->context, lock_fd);
    result->previous_status = found;
    result->status = outcome;
    return outcome;
}

static enum lease_status zoo_renew(const struct lease_env *env, const struct zoo_rules *rules,
                                   const struct lease_options *options, const char *token,
                                   struct lease_result *result) {
    int lock_fd = -1;
    enum lease_status found = classify_locked(env, rules, options, &lock_fd, result);
    if (found == LEASE_STATUS_ERROR) return found;
    bool mine = result->has_lease && strcmp(result->lease.token, token) == 0;
    enum lease_status outcome = found == LEASE_STATUS_MISSING ? LEASE_STATUS_MISSING : LEASE_STATUS_NOT_OWNER;
    if (mine || (rules->renew_no_check && found != LEASE_STATUS_MISSING && result->has_lease)) {
        struct zoo_paths paths;
        make_paths(env, options->path, &paths);
        struct lease_holder holder = result->lease;
        int64_t now_ms = env->wall_clock_ms(env->context);
        lease_copy_text(holder.token, sizeof holder.token, token);
        lease_copy_text(holder.owner, sizeof holder.owner, options->owner);
        holder.pid = env->self_pid(env->context);
        snprintf(holder.pid_text, sizeof holder.pid_text, "%lld", (long long)holder.pid);
        lease_time_format(now_ms + lease_options_ttl_ms(options), holder.expires_at);
        if (rules->renew_drops_group) holder.has_process_group = false, holder.process_group = 0;
        int status = write_file(env, paths.temporary, &holder);
        if (status == 0) status = env->rename(env->context, paths.temporary, options->path);
        if (status == 0) {
            lease_result_clear(result);
            lease_result_set_holder(result, &holder, true);
            outcome = LEASE_STATUS_RENEWED;
        } else {
            outcome = lease_result_error(result, -status, "rename", options->path);
        }
    }
    env->unlock(env->context, lock_fd);
    result->status = outcome;
    return outcome;
}

static enum lease_status zoo_inspect(const struct lease_env *env, const struct zoo_rules *rules,
                                     const struct lease_options *options, struct lease_result *result) {
    return classify(env, rules, options->path, result);
}

/* Each member is the lease algorithm with one rule broken. Its row fills the
 * traits the simulator reads (which deaths it detects: the project's own);
 * the zoo runs in the simulator only, not in the library's suites. */
#define ZOO_TRAITS \
    { .checks_pid = true, .detects_reuse = true }

/* One ops table per member, generated from (name, rule broken, field). */
/* The table below keeps one row per line. */
// clang-format off
#define ZOO_TABLE(X)                                                                                                 \
    X(no_excl, "zoo-no-exclusive-create", "publishes with rename(2) and no lock: no exclusive create",               \
      no_exclusive_create)                                                                                           \
    X(release_any, "zoo-release-no-token", "release removes the lease without checking the token", release_no_token) \
    X(no_pid, "zoo-no-pid-check", "no pid check: a dead holder wedges until the TTL", no_pid_check)                  \
    X(torn, "zoo-torn-publish", "non-atomic publish: O_EXCL create, then write", torn_publish)                       \
    X(greater, "zoo-stale-greater", "stale check with > instead of >=", stale_greater)                               \
    X(no_recheck, "zoo-takeover-no-recheck", "takeover without re-checking under the lock", takeover_no_recheck)     \
    X(renew_any, "zoo-renew-no-check", "renew rewrites the lease without checking the token", renew_no_check)     \
    X(fence_file, "zoo-fence-from-file", "the fence counts from the replaced file, not across removals",            \
      fence_from_file)                                                                                               \
    X(expiry_mono, "zoo-expiry-monotonic", "expiresAt from the monotonic clock, not the wall clock", expiry_monotonic) \
    X(eperm_dead, "zoo-eperm-dead", "a pid probe's EPERM (another user's live process) taken as dead", eperm_dead) \
    X(lock_proceeds, "zoo-lock-timeout-proceeds", "a lock that timed out is taken as had (runs unlocked)",          \
      lock_timeout_proceeds)                                                                                         \
    X(ignores_pid, "zoo-acquire-ignores-pid", "acquire --pid names the caller, not the pid asked for", ignores_pid)  \
    X(drops_group, "zoo-renew-drops-group", "renew forgets the lease's process group (metadata.processGroup)",      \
      renew_drops_group)
// clang-format on

#define ZOO_MEMBER(id, name_text, rule_text, field)                                                         \
    static const struct zoo_rules rules_##id = {.field = true};                                             \
    static enum lease_status inspect_##id(const struct lease_env *env, const struct lease_options *options, \
                                          struct lease_result *result) {                                    \
        return zoo_inspect(env, &rules_##id, options, result);                                              \
    }                                                                                                       \
    static enum lease_status acquire_##id(const struct lease_env *env, const struct lease_options *options, \
                                          struct lease_result *result) {                                    \
        return zoo_acquire(env, &rules_##id, options, result);                                              \
    }                                                                                                       \
    static enum lease_status release_##id(const struct lease_env *env, const struct lease_options *options, \
                                          const char *token, struct lease_result *result) {                 \
        return zoo_release(env, &rules_##id, options, token, result);                                       \
    }                                                                                                       \
    static enum lease_status renew_##id(const struct lease_env *env, const struct lease_options *options,   \
                                        const char *token, struct lease_result *result) {                   \
        return zoo_renew(env, &rules_##id, options, token, result);                                         \
    }                                                                                                       \
    static const struct lease_ops ops_##id = {.version = LEASE_OPS_VERSION,                                 \
                                              .name = name_text,                                            \
                                              .impl_version = "zoo",                                        \
                                              .description = rule_text,                                     \
                                              .inspect = inspect_##id,                                      \
                                              .acquire = acquire_##id,                                      \
                                              .release = release_##id,                                      \
                                              .renew = renew_##id,                                          \
                                              .traits = ZOO_TRAITS};
ZOO_TABLE(ZOO_MEMBER)
#undef ZOO_MEMBER

static const struct lease_ops *const members[] = {
#define ZOO_POINTER(id, name_text, rule_text, field) &ops_##id,
    ZOO_TABLE(ZOO_POINTER)
#undef ZOO_POINTER
};

size_t zoo_count(void) {
    return sizeof members / sizeof members[0];
}

const struct lease_ops *zoo_at(size_t index) {
    return index < zoo_count() ? members[index] : NULL;
}

const struct lease_ops *zoo_find(const char *name) {
    for (size_t index = 0; index < zoo_count(); index++)
        if (strcmp(members[index]->name, name) == 0) return members[index];
    return NULL;
}
