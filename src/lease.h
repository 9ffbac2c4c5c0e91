/*
 * lease.h: the public API of liblease, a cross-process heavy-maintenance lease.
 *
 * A lease is one JSON file created exclusively (see docs/spec.md section 2). A job
 * acquires it, runs its body, and releases it; a job that finds it held defers.
 * Every call takes an implementation (NULL: the project's own, "lease") and an
 * environment (NULL: the real POSIX one); tests and the simulator pass others.
 *
 * Results come back in a struct lease_result; the status is also the return
 * value. Nothing here reads the global errno after a call returns: a system
 * error is carried in the result (error_number, error_operation, error_path).
 */
#ifndef LEASE_H
#define LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LEASE_VERSION_STRING "1.0.0"

#define LEASE_DEFAULT_PATH ".neo-ai-data/orchestrator-daemon/heavy-maintenance-lease.json"
#define LEASE_PATH_ENV "HEAVY_MAINTENANCE_LEASE_PATH"
#define LEASE_INHERITED_TOKEN_ENV "NEO_HEAVY_MAINTENANCE_LEASE_INHERITED_TOKEN"
#define LEASE_DEFAULT_REASON "manual"
#define LEASE_DEFAULT_TTL_MS 21600000LL
#define LEASE_DEFAULT_LOCK_TIMEOUT_MS 10000LL

/* Limits on values (docs/spec.md section 9.7). A TTL of at most about 100
 * years keeps acquiredAt + ttl a four-digit year; a fence of at most 2^53 - 1
 * stays exact for JavaScript readers. Values read from a file beyond them are
 * never used in arithmetic. */
#define LEASE_TTL_MS_MAX 3155760000000LL
#define LEASE_FENCE_MAX 9007199254740991LL

/* Sizes of the fixed buffers in a result. Longer stored values are cut at a
 * UTF-8 boundary and flagged in lease_holder.truncated. */
#define LEASE_TEXT_MAX 256
#define LEASE_PATH_MAX 1024
#define LEASE_DETAIL_MAX 512

/*
 * The status vocabulary (docs/spec.md section 2), one table for the enum, the
 * strings and the exit code the `lease` CLI uses for acquire/release.
 * X(NAME, "string", exit_code)
 */
/* The table below keeps one row per line. */
// clang-format off
#define LEASE_STATUS_TABLE(X)                                  \
    X(NONE, "none", 0)                                         \
    X(MISSING, "missing", 1)                                   \
    X(ACTIVE, "active", 0)                                     \
    X(STALE, "stale", 0)                                       \
    X(MALFORMED, "malformed", 0)                               \
    X(UNREADABLE, "unreadable", 0)                             \
    X(ACQUIRED, "acquired", 0)                                 \
    X(ACQUIRED_AFTER_STALE, "acquired-after-stale", 0)         \
    X(ACQUIRED_AFTER_MALFORMED, "acquired-after-malformed", 0) \
    X(HELD, "held", 75)                                        \
    X(RELEASED, "released", 0)                                 \
    X(NOT_OWNER, "not-owner", 1)                               \
    X(RENEWED, "renewed", 0)                                   \
    X(COMPLETED, "completed", 0)                               \
    X(INHERITED, "inherited", 0)                               \
    X(LOST, "lost", 124)                                       \
    X(ERROR, "error", 125)
// clang-format on

enum lease_status {
#define LEASE_STATUS_ENUM(name, string, exit_code) LEASE_STATUS_##name,
    LEASE_STATUS_TABLE(LEASE_STATUS_ENUM)
#undef LEASE_STATUS_ENUM
        LEASE_STATUS_COUNT
};

/* Each status's exit code as a constant (LEASE_EXIT_HELD is 75): the CLI's
 * and the programs' exit codes come from the table, not from a copy. */
enum lease_status_exit {
#define LEASE_STATUS_EXIT_ENUM(name, string, exit_code) LEASE_EXIT_##name = exit_code,
    LEASE_STATUS_TABLE(LEASE_STATUS_EXIT_ENUM)
#undef LEASE_STATUS_EXIT_ENUM
};

/* "acquired-after-stale" etc.; "unknown" for a value outside the table. */
const char *lease_status_name(enum lease_status status);
/* The CLI's exit code for a status (acquire/release semantics). */
int lease_status_exit_code(enum lease_status status);
/* Parses a status string; returns false when it is not in the table. */
bool lease_status_from_name(const char *name, enum lease_status *status);
/* true for acquired, acquired-after-stale, acquired-after-malformed. */
bool lease_status_is_acquired(enum lease_status status);
/* The acquired status that follows finding the lease file as found
 * (stale, malformed, or anything else: plainly acquired). */
enum lease_status lease_status_acquired_from(enum lease_status found);

/* A lease payload as read from (or written to) the file. Text fields hold the
 * stored value; a field that was absent is the empty string with its has_
 * flag false. pid_text is the pid as stored, for messages ("123", "abc",
 * "null"). */
struct lease_holder {
    char owner[LEASE_TEXT_MAX];
    char reason[LEASE_TEXT_MAX];
    bool has_pid;        /* the key is present */
    bool pid_is_integer; /* ... and holds an integer (it may still be <= 0) */
    int64_t pid;
    char pid_text[LEASE_TEXT_MAX];
    char token[LEASE_TEXT_MAX];
    char acquired_at[LEASE_TEXT_MAX];
    bool has_stale_after_ms;
    int64_t stale_after_ms;
    char expires_at[LEASE_TEXT_MAX];
    /* metadata keys this project writes (others are kept in payload_json) */
    bool has_fence;
    int64_t fence;
    bool has_pid_start_time;
    uint64_t pid_start_time; /* field 22 of /proc/PID/stat, clock ticks */
    char boot_id[LEASE_TEXT_MAX];
    char renewed_at[LEASE_TEXT_MAX];
    bool has_process_group; /* metadata.processGroup: the body's own process group */
    int64_t process_group;
    bool truncated; /* a text field was longer than LEASE_TEXT_MAX - 1 */
};

struct lease_result {
    enum lease_status status;
    /* acquire/run: what the path held before (missing, stale, malformed,
     * active); release/renew: what it held when checked. NONE when n/a. */
    enum lease_status previous_status;
    bool has_lease;              /* lease below is filled */
    struct lease_holder lease;   /* holder (held/active/stale) or ours (acquired) */
    char *payload_json;          /* the payload as stored (the file's JSON text, NUL-terminated), or NULL */
    int error_number;            /* errno for ERROR and UNREADABLE, else 0 */
    const char *error_operation; /* static: "open", "link", "lock", ... or NULL */
    char error_path[LEASE_PATH_MAX];
    char detail[LEASE_DETAIL_MAX]; /* one human-readable line: why this status */
    int body_status;               /* run: what the body returned */
    bool ttl_takeover;             /* acquire took over a lease whose holder was alive (expired by TTL) */
};

/* Frees what a result owns (payload_json) and zeroes it. Safe on a zeroed result. */
void lease_result_clear(struct lease_result *result);

struct lease_options {
    const char *path;        /* lease file path; NULL: lease_resolve_path(env, NULL) */
    const char *owner;       /* acquire/run: required, no control characters */
    const char *reason;      /* NULL: "manual" */
    int64_t ttl_ms;          /* 0: LEASE_DEFAULT_TTL_MS; must be > 0 */
    int64_t lock_timeout_ms; /* 0: LEASE_DEFAULT_LOCK_TIMEOUT_MS */
    int64_t pid;             /* acquire: the process the lease names; 0: the caller */
    int64_t process_group;   /* acquire/run: the body's own process group (lease run's CMD), recorded
                             * as metadata.processGroup; the lease stays alive while any process of
                             * the group lives (docs/spec.md section 2). 0: none */
};

struct lease_ops; /* an implementation: lease_impl.h */
struct lease_env; /* the outside world: lease_impl.h */

/* The implementations linked into the library, selectable by name. */
const struct lease_ops *lease_impl_default(void);
const struct lease_ops *lease_impl_find(const char *name); /* NULL: unknown */
size_t lease_impl_count(void);
const struct lease_ops *lease_impl_at(size_t index);
const char *lease_impl_name(const struct lease_ops *ops);
const char *lease_impl_description(const struct lease_ops *ops);

/* The real environment (POSIX, Linux /proc for pid start time and boot id). */
const struct lease_env *lease_env_posix(void);

/* Resolves the lease path: flag_path if non-NULL, else $HEAVY_MAINTENANCE_LEASE_PATH
 * if set and non-empty, else LEASE_DEFAULT_PATH. Returns 0, or -ENAMETOOLONG. */
int lease_resolve_path(const struct lease_env *env, const char *flag_path, char *buffer, size_t size);

/* Checks owner/reason/ttl before any file is touched; returns NULL when valid,
 * else a static message ("owner must not contain control characters"). */
const char *lease_options_problem(const struct lease_options *options, bool need_owner);

/* The operations. ops/env NULL select the defaults. Each fills *result and
 * returns result->status. */
enum lease_status lease_inspect(const struct lease_ops *ops, const struct lease_env *env,
                                const struct lease_options *options, struct lease_result *result);
enum lease_status lease_acquire(const struct lease_ops *ops, const struct lease_env *env,
                                const struct lease_options *options, struct lease_result *result);
enum lease_status lease_release(const struct lease_ops *ops, const struct lease_env *env,
                                const struct lease_options *options, const char *token, struct lease_result *result);
/* Extends expiresAt to now + ttl when token still owns the lease: renewed,
 * not-owner, missing or error. Implementations that cannot renew return error
 * with error_number ENOSYS. */
enum lease_status lease_renew(const struct lease_ops *ops, const struct lease_env *env,
                              const struct lease_options *options, const char *token, struct lease_result *result);

/* Runs body under the lease: inherited (token from LEASE_INHERITED_TOKEN_ENV
 * matches the active lease: run without acquiring or releasing), completed
 * (acquired, ran, released), lost (acquired and ran, but when the body ended
 * the lease was no longer its own: taken over after its TTL, or removed; a
 * caller must not report success), held (body not run) or error (body not run).
 * body's return value is stored in result->body_status. The body gets the
 * result so far (status acquired* or inherited, lease filled). */
typedef int (*lease_body_fn)(void *argument, const struct lease_result *lease);
enum lease_status lease_run(const struct lease_ops *ops, const struct lease_env *env,
                            const struct lease_options *options, lease_body_fn body, void *argument,
                            struct lease_result *result);

/*
 * Keeping a lease while a body runs: renew every ttl/3 and learn at once
 * when the lease is lost. A body calls lease_keeper_tick from its loop (or
 * when lease_keeper_due_ms says); once `lost` is set the body should stop
 * before it does damage (in the manner of a lost-handle token): the lease it
 * works under now belongs to someone else or to no one.
 */
struct lease_keeper {
    char token[LEASE_TEXT_MAX];    /* empty: nothing to renew (inherited: the parent renews) */
    int64_t interval_ms;           /* lease_renew_interval_ms(ttl) */
    int64_t next_ms;               /* when the next renewal is due, on the caller's clock */
    bool lost;                     /* a renewal found the lease not-owner or missing */
    bool cannot_renew;             /* the implementation cannot renew: the lease lives by its TTL */
    int error_number;              /* the last renewal's system error, else 0 */
    char detail[LEASE_DETAIL_MAX]; /* the last renewal's detail */
};

/* ttl/3 (ttl 0: the default TTL), at least 1 ms: how often a holder renews. */
int64_t lease_renew_interval_ms(int64_t ttl_ms);
/* Starts keeping the lease of held (an acquired or inherited result); an
 * inherited lease is not renewed here (its holder renews it). now_ms: the
 * caller's monotonic clock. */
void lease_keeper_start(struct lease_keeper *keeper, const struct lease_options *options,
                        const struct lease_result *held, int64_t now_ms);
/* Renews when due: NONE when nothing was due, RENEWED, LOST (the flag is
 * set; never renews again), or ERROR (a system error, error_number set; the
 * next tick retries; ENOSYS sets cannot_renew and stops renewing). */
enum lease_status lease_keeper_tick(struct lease_keeper *keeper, const struct lease_ops *ops,
                                    const struct lease_env *env, const struct lease_options *options, int64_t now_ms);

/* Writes the two deferral lines of docs/spec.md section 3 (with terminal-unsafe
 * bytes escaped) into buffer; returns the length, truncating safely. */
size_t lease_format_deferral(const struct lease_result *result, char *buffer, size_t size);

/* One line for an error result: "<operation>: <system error>", followed by
 * " (<detail>)" when the detail says more (a lock timeout says what timed
 * out and after how long), escaped for a terminal. Returns the length. */
size_t lease_format_error(const struct lease_result *result, char *buffer, size_t size);

/* Copies text into buffer with control characters, DEL, ESC sequences and
 * invalid UTF-8 escaped as \xNN (and backslash as \\); always NUL-terminates. */
void lease_escape_text(const char *text, char *buffer, size_t size);

/* The one parser of decimal numbers given by people (options, environment
 * values, scenario files): digits only, with one leading '-' only when
 * minimum is negative; no '+', spaces, hex, exponent or suffix; the value
 * within [minimum, maximum]. False (and *value untouched) on anything else. */
bool lease_parse_integer(const char *text, int64_t minimum, int64_t maximum, int64_t *value);
/* The same for an unsigned value up to maximum (seeds): digits only. When
 * end is not NULL the digits may be followed by anything, and *end points
 * past the last digit (a range "A..B" is two such numbers). */
bool lease_parse_unsigned(const char *text, uint64_t maximum, uint64_t *value, const char **end);

#ifdef __cplusplus
}
#endif

#endif /* LEASE_H */
