/*
 * common.c: the pieces every implementation shares: staleness (docs/spec.md
 * section 2), reading and classifying a lease file through the environment,
 * and small file helpers. Everything reaches the OS only through env.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "lease_impl.h"

#define PROBE_DETAIL_MAX 160

enum lease_status lease_result_error(struct lease_result *result, int error_number, const char *operation,
                                     const char *path) {
    result->status = LEASE_STATUS_ERROR;
    result->error_number = error_number;
    result->error_operation = operation;
    lease_copy_text(result->error_path, sizeof result->error_path, path != NULL ? path : "");
    snprintf(result->detail, sizeof result->detail, "%s %s: %s", operation, path != NULL ? path : "",
             strerror(error_number));
    return LEASE_STATUS_ERROR;
}

int64_t lease_options_ttl_ms(const struct lease_options *options) {
    return options->ttl_ms > 0 ? options->ttl_ms : LEASE_DEFAULT_TTL_MS;
}

const char *lease_options_reason(const struct lease_options *options) {
    return options->reason != NULL ? options->reason : LEASE_DEFAULT_REASON;
}

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

/* Reads up to LEASE_FILE_SIZE_MAX + 1 bytes; the caller frees *bytes. */
static int read_whole(const struct lease_env *env, int fd, int64_t size_hint, char **bytes, size_t *size) {
    json_malloc_t allocate;
    json_free_t release;
    json_get_alloc_funcs(&allocate, &release);
    size_t capacity = size_hint > 0 && size_hint < LEASE_FILE_SIZE_MAX ? (size_t)size_hint + 1 : 4096;
    char *buffer = allocate(capacity);
    size_t used = 0;
    if (buffer == NULL) return -ENOMEM;
    bool finished = false; /* end of file, or more than the size limit: a whole answer */
    for (int round = 0; round < 4096 && !finished; round++) {
        if (used == capacity) {
            if (capacity > LEASE_FILE_SIZE_MAX) {
                finished = true;
                break;
            }
            size_t bigger = capacity * 2;
            char *grown = allocate(bigger);
            if (grown == NULL) {
                release(buffer);
                return -ENOMEM;
            }
            memcpy(grown, buffer, used);
            release(buffer);
            buffer = grown;
            capacity = bigger;
        }
        size_t done = 0;
        int status = env->read(env->context, fd, buffer + used, capacity - used, &done);
        if (status == -EINTR) continue;
        if (status != 0) {
            release(buffer);
            return status;
        }
        if (done == 0) {
            finished = true;
            break;
        }
        used += done;
    }
    /* Out of rounds (a read interrupted again and again): what was read is
     * not the file. Never judge a part as the whole: a live lease read as
     * empty would be taken over as malformed. */
    if (!finished) {
        release(buffer);
        return -EIO;
    }
    *bytes = buffer;
    *size = used;
    return 0;
}

static enum lease_status unreadable(struct lease_result *result, int error_number, const char *operation,
                                    const char *path) {
    lease_result_error(result, error_number, operation, path);
    if (error_number == ELOOP)
        snprintf(result->detail, sizeof result->detail, "%s is a symbolic link; not following it", path);
    result->status = LEASE_STATUS_UNREADABLE;
    return LEASE_STATUS_UNREADABLE;
}

/* Parses bytes and applies the staleness rules; fills result. */
static enum lease_status classify_bytes(const struct lease_env *env, const struct lease_staleness_rules *rules,
                                        const char *bytes, size_t size, struct lease_result *result) {
    if (lease_payload_parse(bytes, size, &result->lease, &result->payload_json, result->detail,
                            sizeof result->detail) != LEASE_PARSE_OK) {
        result->status = LEASE_STATUS_MALFORMED;
        return result->status;
    }
    bool ttl_expired;
    result->has_lease = true;
    bool stale = lease_is_stale(env, rules, &result->lease, env->wall_clock_ms(env->context), result->detail,
                                sizeof result->detail, &ttl_expired);
    result->ttl_takeover = stale && ttl_expired;
    result->status = stale ? LEASE_STATUS_STALE : LEASE_STATUS_ACTIVE;
    return result->status;
}

enum lease_status lease_read_and_classify(const struct lease_env *env, const struct lease_staleness_rules *rules,
                                          const char *path, struct lease_result *result, struct lease_stat *identity) {
    int fd;
    struct lease_stat stat;
    lease_result_clear(result);
    int status = env->open_read(env->context, path, &fd);
    if (status == -ENOENT) {
        result->status = LEASE_STATUS_MISSING;
        snprintf(result->detail, sizeof result->detail, "no lease file");
        return result->status;
    }
    if (status != 0) return unreadable(result, -status, "open", path);
    status = env->fstat(env->context, fd, &stat);
    if (status == 0 && stat.is_directory) status = -EISDIR;
    if (status == 0 && !stat.is_regular) status = -EINVAL;
    if (status != 0) {
        env->close(env->context, fd);
        return unreadable(result, -status, "read", path);
    }
    if (identity != NULL) *identity = stat;
    if (stat.size_bytes > LEASE_FILE_SIZE_MAX) {
        env->close(env->context, fd);
        result->status = LEASE_STATUS_MALFORMED;
        snprintf(result->detail, sizeof result->detail, "the lease file is larger than %d bytes", LEASE_FILE_SIZE_MAX);
        return result->status;
    }
    char *bytes = NULL;
    size_t size = 0;
    status = read_whole(env, fd, stat.size_bytes, &bytes, &size);
    env->close(env->context, fd);
    if (status != 0) return unreadable(result, -status, "read", path);
    classify_bytes(env, rules, bytes, size, result);
    lease_free(bytes);
    return result->status;
}

int lease_make_parents(const struct lease_env *env, const char *path) {
    char prefix[LEASE_PATH_MAX];
    size_t length = strlen(path);
    if (length >= sizeof prefix) return -ENAMETOOLONG;
    memcpy(prefix, path, length + 1);
    for (size_t index = 1; index < length; index++) {
        if (prefix[index] != '/' || prefix[index - 1] == '/') continue;
        prefix[index] = '\0';
        int status = env->mkdir(env->context, prefix);
        if (status != 0 && status != -EEXIST) {
            struct lease_stat stat;
            /* mkdir may refuse (EACCES) a directory that exists: fine. */
            if (env->lstat(env->context, prefix, &stat) != 0 || !stat.is_directory) return status;
        }
        prefix[index] = '/';
    }
    return 0;
}

int lease_write_all(const struct lease_env *env, int fd, const void *buffer, size_t size) {
    const char *cursor = buffer;
    /* Bounded: each round writes at least one byte or fails. */
    for (size_t round = 0; size > 0 && round <= LEASE_FILE_SIZE_MAX; round++) {
        size_t done = 0;
        int status = env->write(env->context, fd, cursor, size, &done);
        if (status == -EINTR) continue;
        if (status != 0) return status;
        if (done == 0) return -EIO;
        cursor += done;
        size -= done;
    }
    return size == 0 ? 0 : -EIO;
}

int lease_holder_new(const struct lease_env *env, const struct lease_options *options, int64_t now_ms,
                     struct lease_holder *holder) {
    char token[LEASE_UUID_SIZE];
    int64_t ttl_ms = lease_options_ttl_ms(options);
    memset(holder, 0, sizeof *holder);
    int status = lease_uuid_v4(env, token);
    if (status != 0) return status;
    lease_copy_text(holder->owner, sizeof holder->owner, options->owner);
    lease_copy_text(holder->reason, sizeof holder->reason, lease_options_reason(options));
    holder->has_pid = true;
    holder->pid_is_integer = true;
    holder->pid = options->pid > 0 ? options->pid : env->self_pid(env->context);
    holder->has_process_group = options->process_group > 0;
    holder->process_group = options->process_group;
    snprintf(holder->pid_text, sizeof holder->pid_text, "%lld", (long long)holder->pid);
    lease_copy_text(holder->token, sizeof holder->token, token);
    lease_time_format(now_ms, holder->acquired_at);
    holder->has_stale_after_ms = true;
    holder->stale_after_ms = ttl_ms;
    lease_time_format(now_ms + ttl_ms, holder->expires_at);
    return 0;
}
