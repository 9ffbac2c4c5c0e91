/*
 * impl_lease.c: the project's own lease algorithm ("lease", the default).
 *
 * Remedies for the hazards of docs/spec.md section 5:
 *  - Every check-and-change step (acquire's check-and-replace, release's
 *    check-and-remove, renew's check-and-rewrite) runs under a kernel lock on
 *    a sidecar file "<path>.lock" (flock: dropped by the kernel on crash,
 *    held for microseconds, never across the body). Two reclaimers (1) and
 *    the release race (2) cannot interleave.
 *  - A lease is published only fully written: written to "<path>.tmp", then
 *    link(2)ed into place when the path is free (EEXIST if someone that does
 *    not take the lock got there first) or rename(2)d over a stale or
 *    malformed file. Readers never see a torn file (3). The temporary name
 *    is fixed: only the lock holder uses it, and a crashed holder's leftover
 *    is removed by the next one.
 *  - The payload records the holder's pid start time and boot id; a pid that
 *    is alive but started at another time (reused) is dead (4).
 *  - renew() extends expiresAt for a live holder (6).
 *  - held always comes with the holder that was read under the lock (7).
 *  - A fence number, increasing per acquisition, is kept in the sidecar file
 *    (which is never removed) and copied into metadata.fence.
 * No fsync: a lease cannot outlive a reboot (the boot id changes), so
 * durability across power loss buys nothing, and it would cost milliseconds.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lease_impl.h"

#define FENCE_TEXT_SIZE 21 /* 20 digits and a newline, fixed width */
#define PUBLISH_ATTEMPTS_MAX 4
#define GRACE_WAIT_BUDGET_MS (3 * LEASE_WRITE_GRACE_MS) /* for a file that may still be being written */

static const struct lease_staleness_rules default_rules = {.check_pid = true, .check_start_time = true};
/* Release and renew only ask whose token it is: no liveness probes. */
static const struct lease_staleness_rules owner_rules = {.check_pid = false, .check_start_time = false};

struct locked_paths {
    char lease[LEASE_PATH_MAX];
    char lock[LEASE_PATH_MAX];
    char temporary[LEASE_PATH_MAX];
};

/* path and suffix into buffer; false when they do not fit. */
static bool with_suffix(char *buffer, size_t size, const char *path, size_t length, const char *suffix) {
    size_t extra = strlen(suffix);
    if (length + extra >= size) return false;
    memcpy(buffer, path, length);
    memcpy(buffer + length, suffix, extra + 1);
    return true;
}

static int make_paths(const char *path, struct locked_paths *paths) {
    size_t length = strlen(path);
    if (!with_suffix(paths->lock, sizeof paths->lock, path, length, ".lock") ||
        !with_suffix(paths->temporary, sizeof paths->temporary, path, length, ".tmp"))
        return -ENAMETOOLONG;
    lease_copy_text(paths->lease, sizeof paths->lease, path);
    return 0;
}

/* Takes the sidecar lock, creating parent directories as needed. */
static enum lease_status take_lock(const struct lease_env *env, const struct lease_options *options,
                                   const struct locked_paths *paths, int *lock_fd, struct lease_result *result) {
    int64_t timeout_ms = options->lock_timeout_ms > 0 ? options->lock_timeout_ms : LEASE_DEFAULT_LOCK_TIMEOUT_MS;
    int status = env->lock(env->context, paths->lock, timeout_ms, lock_fd);
    if (status == -ENOENT) {
        /* Parents are created only when missing: the common path stays short. */
        status = lease_make_parents(env, paths->lease);
        if (status != 0) return lease_result_error(result, -status, "mkdir", paths->lease);
        status = env->lock(env->context, paths->lock, timeout_ms, lock_fd);
    }
    if (status == -EWOULDBLOCK) {
        lease_result_error(result, EWOULDBLOCK, "lock", paths->lock);
        snprintf(result->detail, sizeof result->detail, "timed out after %lld ms waiting for the lock %.400s",
                 (long long)timeout_ms, paths->lock);
        return LEASE_STATUS_ERROR;
    }
    if (status != 0) {
        lease_result_error(result, -status, "lock", paths->lock);
        const char *why = status == -EMLINK   ? "has more than one hard link"
                          : status == -EPERM  ? "belongs to another user"
                          : status == -EINVAL ? "is not a regular file"
                                              : NULL;
        if (why != NULL)
            snprintf(result->detail, sizeof result->detail, "the lock file %.400s %s: refusing to lock or write it",
                     paths->lock, why);
        return LEASE_STATUS_ERROR;
    }
    return LEASE_STATUS_NONE;
}

/* The start of every check-and-change step: the paths, then the lock. */
static enum lease_status enter_locked(const struct lease_env *env, const struct lease_options *options,
                                      struct locked_paths *paths, int *lock_fd, struct lease_result *result) {
    lease_result_clear(result);
    if (make_paths(options->path, paths) != 0) return lease_result_error(result, ENAMETOOLONG, "open", options->path);
    return take_lock(env, options, paths, lock_fd, result);
}

static int64_t read_fence(const struct lease_env *env, int lock_fd) {
    char text[FENCE_TEXT_SIZE + 1];
    size_t done = 0;
    int64_t fence = 0;
    if (env->pread(env->context, lock_fd, text, FENCE_TEXT_SIZE, 0, &done) != 0) return 0;
    for (size_t index = 0; index < done && text[index] >= '0' && text[index] <= '9'; index++) {
        if (fence > (LEASE_FENCE_MAX - 9) / 10) return LEASE_FENCE_MAX; /* saturates: acquire then refuses */
        fence = fence * 10 + (text[index] - '0');
    }
    return fence;
}

/* Fixed width, so a torn write leaves a prefix of the new number over the
 * old one: never smaller than the old value. */
static int write_fence(const struct lease_env *env, int lock_fd, int64_t fence) {
    char text[FENCE_TEXT_SIZE + 1];
    if (fence >= 0) {
        /* "%020lld\n" without the printf machinery */
        int64_t rest = fence;
        for (int index = FENCE_TEXT_SIZE - 2; index >= 0; index--, rest /= 10) text[index] = (char)('0' + rest % 10);
        text[FENCE_TEXT_SIZE - 1] = '\n';
        text[FENCE_TEXT_SIZE] = '\0';
    } else {
        snprintf(text, sizeof text, "%020lld\n", (long long)fence);
    }
    size_t done = 0;
    int status = env->pwrite(env->context, lock_fd, text, FENCE_TEXT_SIZE, 0, &done);
    if (status == 0 && done != FENCE_TEXT_SIZE) status = -EIO;
    return status;
}

/* Writes holder to the temporary file, replacing a crashed holder's leftover.
 * The text written is handed back in *written (the caller frees it with
 * lease_free): it is the payload as stored, which the result reports. */
static int write_temporary(const struct lease_env *env, const struct locked_paths *paths,
                           const struct lease_holder *holder, char **written, struct lease_stat *ours) {
    size_t length = 0;
    *written = NULL;
    char *text = lease_payload_format(holder, true, &length);
    if (text == NULL) return -ENOMEM;
    int fd = -1;
    int status = env->create_exclusive(env->context, paths->temporary, &fd);
    if (status == -EEXIST) {
        env->unlink(env->context, paths->temporary);
        status = env->create_exclusive(env->context, paths->temporary, &fd);
    }
    if (status == 0) {
        status = lease_write_all(env, fd, text, length);
        if (status == 0) status = env->fstat(env->context, fd, ours);
        int closed = env->close(env->context, fd);
        if (status == 0) status = closed;
    }
    *written = text;
    return status;
}

static void fill_identity(const struct lease_env *env, struct lease_holder *holder) {
    uint64_t start_time;
    if (env->pid_start_time(env->context, holder->pid, &start_time) == 0) {
        holder->has_pid_start_time = true;
        holder->pid_start_time = start_time;
    }
    if (env->boot_id(env->context, holder->boot_id, sizeof holder->boot_id) != 0) holder->boot_id[0] = '\0';
}

static bool same_file(const struct lease_stat *left, const struct lease_stat *right) {
    return left->device == right->device && left->inode == right->inode;
}

/* Whether the file at path is the one we judged: same inode, same bytes
 * (a file system may hand a new file the inode number of a removed one),
 * and still named by path once read. */
static bool still_the_judged_file(const struct lease_env *env, const char *path, const struct lease_stat *identity) {
    struct lease_stat now = {0};
    return lease_file_identify(env, path, &now) == 0 && lease_file_same(&now, identity);
}

/* After the exchange the file that stood at the lease path stands at the
 * temporary name. If it is the one we judged, the takeover is done; if a
 * writer that ignores the lock put another there meanwhile (the original
 * unlinks a stale file and creates its own), that file goes back at once
 * and the caller looks again (docs/spec.md section 9.26). ours: our new
 * file's identity; only it is ever removed. */
static int settle_exchange(const struct lease_env *env, const struct locked_paths *paths,
                           const struct lease_stat *identity, const struct lease_stat *ours) {
    if (still_the_judged_file(env, paths->temporary, identity)) {
        env->unlink(env->context, paths->temporary);
        return 0;
    }
    /* Put it back over our own file only: if the path emptied meanwhile
     * (that writer unlinks blindly), by name unless yet another has been
     * created there; if a third file stands there, leave everything as it
     * is (swapping would displace that one). */
    struct lease_stat now = {0};
    int back = env->lstat(env->context, paths->lease, &now);
    if (back == -ENOENT) {
        /* linked back: the temporary name is only its second name now */
        back = env->link(env->context, paths->temporary, paths->lease);
        if (back == 0) env->unlink(env->context, paths->temporary);
        return back == 0 ? -EAGAIN : back;
    }
    if (back != 0) return back;
    if (!same_file(&now, ours)) return -EAGAIN;
    back = env->exchange(env->context, paths->temporary, paths->lease);
    if (back != 0) return back;
    if (env->lstat(env->context, paths->temporary, &now) == 0 && same_file(&now, ours))
        env->unlink(env->context, paths->temporary);
    return -EAGAIN;
}

/* Publishes the temporary file at the lease path. found says what is there
 * (missing, stale or malformed; active for a renewal); identity is that
 * file's, when there is one. Returns 0, -EAGAIN when the path changed under
 * us (retry), or an error. */
static int publish(const struct lease_env *env, const struct locked_paths *paths, enum lease_status found,
                   const struct lease_stat *identity, const struct lease_stat *ours) {
    if (found == LEASE_STATUS_MISSING) {
        int status = env->link(env->context, paths->temporary, paths->lease);
        env->unlink(env->context, paths->temporary);
        return status == -EEXIST ? -EAGAIN : status;
    }
    /* Replace only the file we judged; a writer that ignores the lock may
     * have put another one there meanwhile. Look once more right before
     * (writing the temporary file took several calls): the fewer calls
     * between the last look and the replacement, the rarer a file to put
     * back. The exchange then leaves no moment between the replacement and
     * the check of what it replaced; a file system that cannot exchange gets
     * the rename after the look. */
    if (!still_the_judged_file(env, paths->lease, identity)) {
        env->unlink(env->context, paths->temporary);
        return -EAGAIN;
    }
    if (env->exchange != NULL) {
        int status = env->exchange(env->context, paths->temporary, paths->lease);
        if (status == 0) return settle_exchange(env, paths, identity, ours);
        if (status != -EINVAL && status != -ENOSYS && status != -EOPNOTSUPP) {
            env->unlink(env->context, paths->temporary);
            return status == -ENOENT ? -EAGAIN : status;
        }
    }
    int status = env->rename(env->context, paths->temporary, paths->lease);
    if (status != 0) env->unlink(env->context, paths->temporary);
    return status;
}

/* Fills result with our own payload as stored (text: the bytes written,
 * which the result takes over; no second formatting), keeping what was
 * found. */
static void report_acquired(const struct lease_holder *holder, char *text, enum lease_status found,
                            struct lease_result *result) {
    char detail[LEASE_DETAIL_MAX];
    bool ttl_takeover = result->ttl_takeover;
    memcpy(detail, result->detail, sizeof detail);
    lease_result_clear(result);
    result->payload_json = text;
    result->lease = *holder;
    result->has_lease = true;
    result->previous_status = found;
    result->status = lease_status_acquired_from(found);
    result->ttl_takeover = found == LEASE_STATUS_STALE && ttl_takeover;
    if (found == LEASE_STATUS_MISSING)
        snprintf(result->detail, sizeof result->detail, "no lease file");
    else
        memcpy(result->detail, detail, sizeof detail);
}

/* A writer that creates the file first and writes it later (the original:
 * O_EXCL, then the content, 59 ms apart on a loaded machine) leaves an empty
 * or unparsable file for a moment. Changed within the grace (either way: a
 * clock slightly behind the writer's sees it in the future), it is held by
 * an unknown holder, never reclaimed; the caller waits or defers. An
 * environment that cannot tell a file's change time (0) grants no grace. */
static bool may_be_being_written(const struct lease_env *env, const struct lease_stat *identity,
                                 struct lease_result *result, int64_t *grace_left_ms) {
    if (identity->ctime_ms == 0) return false;
    int64_t age_ms = env->wall_clock_ms(env->context) - identity->ctime_ms;
    if (age_ms >= LEASE_WRITE_GRACE_MS || age_ms <= -LEASE_WRITE_GRACE_MS) return false;
    *grace_left_ms = LEASE_WRITE_GRACE_MS - age_ms; /* 1 .. 2 grace periods */
    char reason[LEASE_DETAIL_MAX];
    memcpy(reason, result->detail, sizeof reason);
    reason[sizeof reason - 1] = '\0';
    assert(!result->has_lease); /* a malformed file names no holder */
    result->previous_status = LEASE_STATUS_MALFORMED;
    result->status = LEASE_STATUS_HELD;
    snprintf(result->detail, sizeof result->detail,
             "the lease file changed %lld ms ago and may still be being written (%.200s); not reclaimed within %d ms",
             (long long)age_ms, reason, LEASE_WRITE_GRACE_MS);
    return true;
}

/* One check-and-replace under the lock. Returns NONE to retry. */
static enum lease_status acquire_locked(const struct lease_env *env, const struct lease_options *options,
                                        const struct locked_paths *paths, int lock_fd, struct lease_result *result,
                                        int64_t *grace_left_ms) {
    struct lease_stat identity = {0};
    enum lease_status found = lease_read_and_classify(env, &default_rules, paths->lease, result, &identity);
    if (found == LEASE_STATUS_ACTIVE) {
        result->previous_status = LEASE_STATUS_ACTIVE;
        result->status = LEASE_STATUS_HELD;
        return LEASE_STATUS_HELD;
    }
    if (found == LEASE_STATUS_UNREADABLE) {
        /* Fail closed: never replace what we cannot read. */
        result->status = LEASE_STATUS_ERROR;
        return LEASE_STATUS_ERROR;
    }
    if (found == LEASE_STATUS_MALFORMED && may_be_being_written(env, &identity, result, grace_left_ms))
        return LEASE_STATUS_HELD;
    struct lease_holder holder;
    int status = lease_holder_new(env, options, env->wall_clock_ms(env->context), &holder);
    if (status != 0) return lease_result_error(result, -status, "random", paths->lease);
    fill_identity(env, &holder);
    int64_t fence = read_fence(env, lock_fd);
    if (result->has_lease && result->lease.has_fence && result->lease.fence > fence) fence = result->lease.fence;
    if (fence >= LEASE_FENCE_MAX) {
        /* A fence that cannot grow is an error, never a wrap: fences must
         * only ever increase. */
        lease_result_error(result, EOVERFLOW, "fence", paths->lock);
        snprintf(result->detail, sizeof result->detail,
                 "the fence %lld cannot grow: it is at its limit %lld (docs/spec.md section 9.7)", (long long)fence,
                 (long long)LEASE_FENCE_MAX);
        return LEASE_STATUS_ERROR;
    }
    holder.has_fence = true;
    holder.fence = fence + 1;
    assert(holder.fence > fence && holder.fence <= LEASE_FENCE_MAX); /* a fence only grows, never wraps */
    status = write_fence(env, lock_fd, holder.fence);
    if (status != 0) return lease_result_error(result, -status, "write", paths->lock);
    char *text = NULL;
    struct lease_stat ours = {0};
    status = write_temporary(env, paths, &holder, &text, &ours);
    if (status != 0) {
        lease_free(text);
        return lease_result_error(result, -status, "write", paths->temporary);
    }
    status = publish(env, paths, found, &identity, &ours);
    if (status != 0) {
        lease_free(text);
        if (status == -EAGAIN) return LEASE_STATUS_NONE;
        return lease_result_error(result, -status, found == LEASE_STATUS_MISSING ? "link" : "rename", paths->lease);
    }
    report_acquired(&holder, text, found, result);
    return result->status;
}

/* No lock could be had because the sidecar cannot be created (read-only file
 * system, no write permission): reading changes nothing, so a lease that is
 * active is reported held; anything that would need a write keeps the error. */
static enum lease_status defer_without_lock(const struct lease_env *env, const struct lease_options *options,
                                            struct lease_result *result) {
    if (result->error_number != EROFS && result->error_number != EACCES) return LEASE_STATUS_ERROR;
    struct lease_result found = {0};
    if (lease_read_and_classify(env, &default_rules, options->path, &found, NULL) != LEASE_STATUS_ACTIVE) {
        lease_result_clear(&found);
        return LEASE_STATUS_ERROR;
    }
    lease_result_clear(result);
    *result = found;
    result->previous_status = LEASE_STATUS_ACTIVE;
    result->status = LEASE_STATUS_HELD;
    return LEASE_STATUS_HELD;
}

static enum lease_status default_acquire(const struct lease_env *env, const struct lease_options *options,
                                         struct lease_result *result) {
    struct locked_paths paths;
    enum lease_status status = LEASE_STATUS_NONE;
    /* A file that may still be being written is waited out, without the
     * lock (its writer does not take it), within a budget; a file that keeps
     * changing past it is reported held by an unknown holder. */
    int64_t waited_ms = 0;
    for (;;) {
        int lock_fd = -1;
        int64_t grace_left_ms = 0;
        if (enter_locked(env, options, &paths, &lock_fd, result) == LEASE_STATUS_ERROR)
            return defer_without_lock(env, options, result);
        status = LEASE_STATUS_NONE;
        for (int attempt = 0; attempt < PUBLISH_ATTEMPTS_MAX && status == LEASE_STATUS_NONE; attempt++)
            status = acquire_locked(env, options, &paths, lock_fd, result, &grace_left_ms);
        env->unlock(env->context, lock_fd);
        if (grace_left_ms <= 0 || waited_ms + grace_left_ms > GRACE_WAIT_BUDGET_MS) break;
        env->sleep_ms(env->context, grace_left_ms);
        waited_ms += grace_left_ms;
        lease_result_clear(result);
    }
    if (status == LEASE_STATUS_NONE) {
        /* Someone outside the lock keeps changing the file: say so, do not guess. */
        lease_result_error(result, EAGAIN, "link", paths.lease);
        snprintf(result->detail, sizeof result->detail,
                 "the lease file kept changing under the lock (a writer that does not take %.400s?)", paths.lock);
    }
    return result->status;
}

static enum lease_status default_inspect(const struct lease_env *env, const struct lease_options *options,
                                         struct lease_result *result) {
    return lease_read_and_classify(env, &default_rules, options->path, result, NULL);
}

static bool token_matches(const struct lease_result *found, const char *token) {
    return found->has_lease && token != NULL && token[0] != '\0' && strcmp(found->lease.token, token) == 0;
}

/* Classifies under the lock for release and renew: missing, not-owner,
 * error, or NONE when token owns the lease (result then holds it). */
static enum lease_status check_owner(const struct lease_env *env, const struct locked_paths *paths, const char *token,
                                     struct lease_result *result, struct lease_stat *identity) {
    enum lease_status found = lease_read_and_classify(env, &owner_rules, paths->lease, result, identity);
    result->previous_status = found;
    if (found == LEASE_STATUS_MISSING) return LEASE_STATUS_MISSING;
    if (found == LEASE_STATUS_UNREADABLE) {
        result->status = LEASE_STATUS_ERROR;
        return LEASE_STATUS_ERROR;
    }
    if (!token_matches(result, token)) {
        result->status = LEASE_STATUS_NOT_OWNER;
        snprintf(result->detail, sizeof result->detail, "the lease belongs to another token");
        return LEASE_STATUS_NOT_OWNER;
    }
    return LEASE_STATUS_NONE;
}

static enum lease_status default_release(const struct lease_env *env, const struct lease_options *options,
                                         const char *token, struct lease_result *result) {
    struct locked_paths paths;
    int lock_fd = -1;
    if (enter_locked(env, options, &paths, &lock_fd, result) == LEASE_STATUS_ERROR) return LEASE_STATUS_ERROR;
    enum lease_status status = check_owner(env, &paths, token, result, NULL);
    if (status == LEASE_STATUS_NONE) {
        int removed = env->unlink(env->context, paths.lease);
        if (removed != 0 && removed != -ENOENT)
            status = lease_result_error(result, -removed, "unlink", paths.lease);
        else
            status = LEASE_STATUS_RELEASED;
    }
    env->unlock(env->context, lock_fd);
    result->status = status;
    return status;
}

static enum lease_status default_renew(const struct lease_env *env, const struct lease_options *options,
                                       const char *token, struct lease_result *result) {
    struct locked_paths paths;
    int lock_fd = -1;
    if (enter_locked(env, options, &paths, &lock_fd, result) == LEASE_STATUS_ERROR) return LEASE_STATUS_ERROR;
    struct lease_stat identity = {0};
    enum lease_status status = check_owner(env, &paths, token, result, &identity);
    if (status == LEASE_STATUS_NONE) {
        struct lease_holder holder = result->lease;
        int64_t now_ms = env->wall_clock_ms(env->context);
        /* The stored TTL is kept only within the limit: a file's
         * staleAfterMs must never reach the arithmetic unbounded. */
        int64_t ttl_ms =
            holder.has_stale_after_ms && holder.stale_after_ms > 0 && holder.stale_after_ms <= LEASE_TTL_MS_MAX
                ? holder.stale_after_ms
                : lease_options_ttl_ms(options);
        holder.stale_after_ms = ttl_ms;
        holder.has_stale_after_ms = true;
        lease_time_format(now_ms + ttl_ms, holder.expires_at);
        lease_time_format(now_ms, holder.renewed_at);
        /* Each failure is labelled by the step that failed. */
        char *text = NULL;
        struct lease_stat ours = {0};
        int written = write_temporary(env, &paths, &holder, &text, &ours);
        if (written != 0) {
            status = lease_result_error(result, -written, "write", paths.temporary);
        } else if ((written = publish(env, &paths, LEASE_STATUS_ACTIVE, &identity, &ours)) == -EAGAIN) {
            status = lease_result_error(result, EAGAIN, "rename", paths.lease);
            snprintf(result->detail, sizeof result->detail,
                     "the lease file changed under the lock (a writer that does not take %.400s?)", paths.lock);
        } else if (written != 0) {
            status = lease_result_error(result, -written, "rename", paths.lease);
        } else {
            report_acquired(&holder, text, LEASE_STATUS_ACTIVE, result);
            text = NULL;
            status = LEASE_STATUS_RENEWED;
        }
        lease_free(text);
    }
    env->unlock(env->context, lock_fd);
    result->status = status;
    return status;
}

const struct lease_ops lease_ops_default = {
    .version = LEASE_OPS_VERSION,
    .name = "lease",
    .impl_version = LEASE_VERSION_STRING,
    .description = "the project's own: sidecar flock, atomic publish, pid start time, renewal, fence",
    .inspect = default_inspect,
    .acquire = default_acquire,
    .release = default_release,
    .renew = default_renew,
    .traits =
        {.checks_pid = true, .detects_reuse = true, .writes_fence = true, .publishes_whole = true, .write_grace = true},
};
