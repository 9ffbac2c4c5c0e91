/*
 * lease_impl.h: the header for those who write lease implementations or
 * environments (the simulator, test fakes). Callers only need lease.h.
 *
 * Two tables, in the manner of SQLite's VFS:
 *  - struct lease_env: everything an implementation may ask of the outside
 *    world. Every call that can interleave with another process goes through
 *    it, so the simulator can make each one a scheduling and crash point.
 *    env_posix.c is the only code in the project that calls the OS.
 *  - struct lease_ops: one lease algorithm (inspect, acquire, release, renew).
 *
 * Conventions: env functions return 0 or a negative errno value; results come
 * back through out-parameters. File descriptors are the environment's own
 * small integers (the simulator's are not kernel descriptors).
 */
#ifndef LEASE_IMPL_H
#define LEASE_IMPL_H

#include "lease.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LEASE_ENV_VERSION 3
#define LEASE_OPS_VERSION 2

/* Largest lease file an implementation reads; a larger one is malformed. */
#define LEASE_FILE_SIZE_MAX (1024 * 1024)

/* File times are set by whoever can write the file (touch -d, utimensat);
 * the environment saturates them to this many milliseconds either side of
 * the epoch instead of overflowing (docs/spec.md section 9.7). */
#define LEASE_STAT_TIME_MS_MAX (INT64_MAX / 4)

/* An empty or unparsable lease file changed less than this long ago (either
 * way) may still be being written by a writer that creates first and writes
 * later (the original: O_EXCL, then the content); an implementation with
 * the write_grace trait does not reclaim it (docs/spec.md section 9.12). */
#define LEASE_WRITE_GRACE_MS 2000

struct lease_stat {
    uint64_t device;
    uint64_t inode;
    int64_t size_bytes;
    int64_t mtime_ms;
    int64_t ctime_ms; /* last status change (creation, write, link): a file's age; 0 when unknown */
    bool is_regular;
    bool is_directory;
    bool is_symlink;
    /* Set by lease_read_and_classify (and lease_file_identify), never by an
     * environment: a digest (FNV-1a) of the bytes that were judged, so that a
     * file put in their place is told apart even when the file system hands
     * it the same inode number. 0: not read. */
    uint64_t content_digest;
};

struct lease_env {
    int version;      /* LEASE_ENV_VERSION */
    const char *name; /* "posix", "sim", "fake" */
    void *context;

    /* Files. open_read and create_exclusive never follow a symlink in the last
     * component (O_NOFOLLOW): ELOOP. create_exclusive: O_WRONLY|O_CREAT|O_EXCL,
     * mode 0644. read/write may transfer less than asked (*done says how much). */
    int (*open_read)(void *context, const char *path, int *fd);
    int (*create_exclusive)(void *context, const char *path, int *fd);
    int (*read)(void *context, int fd, void *buffer, size_t size, size_t *done);
    int (*write)(void *context, int fd, const void *buffer, size_t size, size_t *done);
    int (*fsync)(void *context, int fd);
    int (*fstat)(void *context, int fd, struct lease_stat *stat);
    int (*lstat)(void *context, const char *path, struct lease_stat *stat);
    int (*close)(void *context, int fd);
    int (*link)(void *context, const char *from, const char *to);   /* EEXIST when to exists */
    int (*rename)(void *context, const char *from, const char *to); /* replaces to atomically */
    int (*unlink)(void *context, const char *path);
    int (*mkdir)(void *context, const char *path); /* mode 0755; EEXIST */

    /* A kernel lock on a sidecar file: exclusive, created if missing, released
     * by the kernel when the process dies, never by another process. Waits up
     * to timeout_ms (0: try once): -EWOULDBLOCK when still busy. The returned
     * descriptor reads and writes the sidecar file with pread/pwrite; unlock
     * releases the lock and closes it. */
    int (*lock)(void *context, const char *path, int64_t timeout_ms, int *fd);
    int (*unlock)(void *context, int fd);
    int (*pread)(void *context, int fd, void *buffer, size_t size, int64_t offset, size_t *done);
    int (*pwrite)(void *context, int fd, const void *buffer, size_t size, int64_t offset, size_t *done);

    /* Time. The wall clock can jump; the monotonic clock cannot. */
    int64_t (*wall_clock_ms)(void *context);
    int64_t (*monotonic_ms)(void *context);
    int (*sleep_ms)(void *context, int64_t duration_ms);

    /* Processes. pid_probe: 0 alive, -ESRCH dead, -EPERM alive but not ours.
     * pid_start_time: field 22 of /proc/PID/stat; -ESRCH when gone, -ENOSYS
     * when the system cannot tell. boot_id: NUL-terminated. */
    int64_t (*self_pid)(void *context);
    int (*pid_probe)(void *context, int64_t pid);
    int (*pid_start_time)(void *context, int64_t pid, uint64_t *start_time);
    int (*boot_id)(void *context, char *buffer, size_t size);

    /* Randomness (UUIDs, temporary names). */
    int (*random_bytes)(void *context, void *buffer, size_t size);

    /* The process environment (NULL when unset) and one diagnostic line for
     * standard error (no trailing newline in line). */
    const char *(*getenv)(void *context, const char *name);
    void (*warn)(void *context, const char *line);

    /* Version 2. Whether any process of a process group lives: 0 yes, -ESRCH
     * none, -EPERM alive but not ours. NULL: the environment cannot tell (a
     * recorded group is then ignored). */
    int (*group_probe)(void *context, int64_t process_group);

    /* Version 3. Swaps two existing names atomically (renameat2 with
     * RENAME_EXCHANGE): -ENOENT when either is missing, -EINVAL or -ENOSYS
     * when the file system or the kernel cannot. NULL: the environment
     * cannot (callers fall back to a check and a rename). */
    int (*exchange)(void *context, const char *first, const char *second);
};

/* What an implementation can do. Every suite and the simulator read these
 * from the registry (src/lease_implementations.h), so a new implementation's
 * expected verdicts follow from its own row, not from lists elsewhere. */
struct lease_traits {
    bool checks_pid;        /* a holder whose pid is dead is stale before its TTL */
    bool detects_reuse;     /* records start time and boot id: a reused pid or a reboot is detected */
    bool writes_fence;      /* stores a fence that grows with every acquisition */
    bool publishes_whole;   /* writes a new lease under a temporary name and links it into place, and
                             * replaces only the file it judged (docs/spec.md section 9.26) */
    bool write_grace;       /* does not reclaim a file that may still be being written (LEASE_WRITE_GRACE_MS) */
    bool outside_the_world; /* keeps the lease in a service (etcd), not in files through the environment */
};

/* An implementation. The public entry points hand each function a zeroed
 * result and options with the path resolved and validated. */
struct lease_ops {
    int version; /* LEASE_OPS_VERSION */
    const char *name;
    const char *impl_version;
    const char *description;
    enum lease_status (*inspect)(const struct lease_env *env, const struct lease_options *options,
                                 struct lease_result *result);
    enum lease_status (*acquire)(const struct lease_env *env, const struct lease_options *options,
                                 struct lease_result *result);
    enum lease_status (*release)(const struct lease_env *env, const struct lease_options *options, const char *token,
                                 struct lease_result *result);
    /* NULL when the implementation cannot renew. */
    enum lease_status (*renew)(const struct lease_env *env, const struct lease_options *options, const char *token,
                               struct lease_result *result);
    /* Version 2. */
    struct lease_traits traits;
};

/* The project's own implementation, which others may build on. The list of
 * all of them (src/lease_implementations.h) is read by src/registry.c alone:
 * a new row recompiles the registry, not every implementation. */
extern const struct lease_ops lease_ops_default;

/* ---- Helpers shared by implementations (all pure or through env) ---- */

/* Time: ISO-8601 UTC with milliseconds ("2026-05-16T19:27:00.000Z"). Parsing
 * accepts seconds with or without a fraction, and Z or +HH:MM / -HHMM. */
#define LEASE_TIMESTAMP_SIZE 32
void lease_time_format(int64_t epoch_ms, char buffer[LEASE_TIMESTAMP_SIZE]);
bool lease_time_parse(const char *text, int64_t *epoch_ms);

/* A random UUID v4 in its 36-character form. */
#define LEASE_UUID_SIZE 37
int lease_uuid_v4(const struct lease_env *env, char buffer[LEASE_UUID_SIZE]);

/* What a lease file holds, as a parse sees it. */
enum lease_parse_outcome {
    LEASE_PARSE_OK,        /* an object with a string owner */
    LEASE_PARSE_MALFORMED, /* empty, not JSON, not an object, owner missing or not a string, too big */
    LEASE_PARSE_NO_MEMORY, /* the bytes could not be judged: never read as malformed (that would reclaim) */
};

/* Parses bytes into holder (and a copy of the bytes into *payload_json when not
 * NULL; the caller frees it with lease_free). detail gets a reason when
 * malformed. */
enum lease_parse_outcome lease_payload_parse(const char *bytes, size_t size, struct lease_holder *holder,
                                             char **payload_json, char *detail, size_t detail_size);

/* Serialises a holder in the file format (2-space indent, key order of
 * docs/spec.md section 2, metadata last, trailing newline). Returns a buffer the
 * caller frees with lease_free, or NULL when out of memory. with_metadata
 * false writes "metadata": {} (the original implementation's form). */
char *lease_payload_format(const struct lease_holder *holder, bool with_metadata, size_t *length);
void lease_free(void *pointer);

/* Sets result->lease to holder and result->payload_json to it as stored. */
void lease_result_set_holder(struct lease_result *result, const struct lease_holder *holder, bool with_metadata);

/* true when text is valid UTF-8 without control characters (C0, DEL, C1):
 * what a lease may store in owner and reason. */
bool lease_text_is_clean(const char *text);

/* Copies src into a fixed buffer, cutting at a UTF-8 boundary; returns true
 * when it had to cut. */
bool lease_copy_text(char *buffer, size_t size, const char *source);

/* Staleness (docs/spec.md section 2). Knobs select what a given implementation checks. */
struct lease_staleness_rules {
    bool check_pid;        /* rule 2 */
    bool check_start_time; /* recorded pidStartTime / bootId that no longer match: dead */
};
/* Returns true when stale and says why in detail. ttl_expired tells whether
 * it was the TTL (rules 3/4) rather than a dead or reused pid. */
bool lease_is_stale(const struct lease_env *env, const struct lease_staleness_rules *rules,
                    const struct lease_holder *holder, int64_t now_ms, char *detail, size_t detail_size,
                    bool *ttl_expired);

/* Reads a whole lease file through env and classifies it: MISSING, ACTIVE or
 * STALE (holder filled), MALFORMED, UNREADABLE (error fields set). The
 * status also goes into result->status. identity (may be NULL) receives the
 * file's device/inode for a later same-file check. */
enum lease_status lease_read_and_classify(const struct lease_env *env, const struct lease_staleness_rules *rules,
                                          const char *path, struct lease_result *result, struct lease_stat *identity);
/* The identity of the file at path as lease_read_and_classify records it
 * (fstat plus the digest of its bytes), without judging it: 0, -ESTALE when
 * the path named another file by the time it was read, or -errno. */
int lease_file_identify(const struct lease_env *env, const char *path, struct lease_stat *identity);
/* Whether two identities name the same file with the same bytes. */
bool lease_file_same(const struct lease_stat *left, const struct lease_stat *right);

/* Creates the missing parent directories of path (mkdir -p of dirname). */
int lease_make_parents(const struct lease_env *env, const char *path);

/* Writes all of buffer to fd through env (looping over short writes). */
int lease_write_all(const struct lease_env *env, int fd, const void *buffer, size_t size);

/* Fills result->status = ERROR with errno, operation and path. */
enum lease_status lease_result_error(struct lease_result *result, int error_number, const char *operation,
                                     const char *path);

/* Validates and fills defaults: *ttl_ms, *reason. */
int64_t lease_options_ttl_ms(const struct lease_options *options);
const char *lease_options_reason(const struct lease_options *options);

/* Fills a fresh holder for this process (owner, reason, pid, token, times). */
int lease_holder_new(const struct lease_env *env, const struct lease_options *options, int64_t now_ms,
                     struct lease_holder *holder);

#ifdef __cplusplus
}
#endif

#endif /* LEASE_IMPL_H */
