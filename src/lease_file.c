/*
 * lease_file.c: reading a lease file whole and classifying it (missing,
 * active, stale, malformed, unreadable), and the small file helpers every
 * implementation shares (parents, writing all of a buffer). Reaches the OS
 * only through env.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "lease_impl.h"

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
        assert(done <= capacity - used); /* an environment never reports more than it was asked for */
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
                                        const char *path, const char *bytes, size_t size, struct lease_result *result) {
    enum lease_parse_outcome outcome =
        lease_payload_parse(bytes, size, &result->lease, &result->payload_json, result->detail, sizeof result->detail);
    if (outcome == LEASE_PARSE_NO_MEMORY) return unreadable(result, ENOMEM, "read", path); /* fail closed */
    if (outcome != LEASE_PARSE_OK) {
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

/* FNV-1a over the bytes: tells apart two lease files (each carries its own
 * random token), not an adversary's forgery. */
static uint64_t digest_of(const char *bytes, size_t size) {
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (size_t index = 0; index < size; index++) hash = (hash ^ (unsigned char)bytes[index]) * 0x100000001b3ULL;
    return hash | 1; /* never 0, which means "not read" */
}

struct opened_file {
    struct lease_stat stat;
    char *bytes; /* NULL when the file is larger than the limit */
    size_t size;
};

/* Opens path without following a symlink and reads it whole. 0, or -errno
 * with the step that failed in *step ("open" or "read"). With still_named,
 * -ESTALE when the path no longer names the file read by the time it was
 * read (asked while it is still open, so that its inode number cannot have
 * gone to another file). */
static int open_and_read(const struct lease_env *env, const char *path, struct opened_file *file, const char **step,
                         bool still_named) {
    int fd;
    *file = (struct opened_file){0};
    *step = "open";
    int status = env->open_read(env->context, path, &fd);
    if (status != 0) return status;
    *step = "read";
    status = env->fstat(env->context, fd, &file->stat);
    if (status == 0 && file->stat.is_directory) status = -EISDIR;
    if (status == 0 && !file->stat.is_regular) status = -EINVAL;
    if (status == 0 && file->stat.size_bytes <= LEASE_FILE_SIZE_MAX) {
        status = read_whole(env, fd, file->stat.size_bytes, &file->bytes, &file->size);
        if (status == 0) file->stat.content_digest = digest_of(file->bytes, file->size);
    }
    struct lease_stat named;
    if (status == 0 && still_named &&
        (env->lstat(env->context, path, &named) != 0 || named.device != file->stat.device ||
         named.inode != file->stat.inode))
        status = -ESTALE;
    env->close(env->context, fd);
    return status;
}

enum lease_status lease_read_and_classify(const struct lease_env *env, const struct lease_staleness_rules *rules,
                                          const char *path, struct lease_result *result, struct lease_stat *identity) {
    struct opened_file file;
    const char *step;
    lease_result_clear(result);
    int status = open_and_read(env, path, &file, &step, false);
    if (status == -ENOENT && strcmp(step, "open") == 0) {
        result->status = LEASE_STATUS_MISSING;
        snprintf(result->detail, sizeof result->detail, "no lease file");
        return result->status;
    }
    if (status != 0) {
        lease_free(file.bytes);
        return unreadable(result, -status, step, path);
    }
    if (identity != NULL) *identity = file.stat;
    if (file.bytes == NULL) {
        result->status = LEASE_STATUS_MALFORMED;
        snprintf(result->detail, sizeof result->detail, "the lease file is larger than %d bytes", LEASE_FILE_SIZE_MAX);
        return result->status;
    }
    classify_bytes(env, rules, path, file.bytes, file.size, result);
    lease_free(file.bytes);
    return result->status;
}

int lease_file_identify(const struct lease_env *env, const char *path, struct lease_stat *identity) {
    struct opened_file file;
    const char *step;
    int status = open_and_read(env, path, &file, &step, true);
    lease_free(file.bytes);
    if (status == 0) *identity = file.stat;
    return status;
}

bool lease_file_same(const struct lease_stat *left, const struct lease_stat *right) {
    return left->device == right->device && left->inode == right->inode && left->size_bytes == right->size_bytes &&
           left->content_digest == right->content_digest;
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
