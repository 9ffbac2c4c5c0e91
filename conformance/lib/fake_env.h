/*
 * fake_env.h: a test environment for the library suites. Files are real
 * (under a private temporary directory, through the POSIX environment);
 * time, pids, start times, boot id, randomness, the process environment and
 * chosen file errors are injected so every status can be reached on purpose.
 */
#ifndef FAKE_ENV_H
#define FAKE_ENV_H

#include "lease_impl.h"

#define FAKE_PIDS_MAX 16
#define FAKE_WARNINGS_MAX 8

enum fake_pid_state { FAKE_PID_DEAD, FAKE_PID_ALIVE, FAKE_PID_FOREIGN /* EPERM */ };

struct fake_pid {
    int64_t pid;
    enum fake_pid_state state;
    uint64_t start_time;
};

struct fake_env {
    struct lease_env env; /* first: &fake->env is what implementations get */
    char directory[256];
    char path[512]; /* the lease path inside directory */
    int64_t now_ms;
    /* Every file's change time: file_changed_ms when not 0, else now_ms -
     * file_age_ms (default 1 hour; a file that keeps being changed). */
    int64_t file_age_ms;
    int64_t file_changed_ms;
    int64_t self_pid;
    struct fake_pid pids[FAKE_PIDS_MAX];
    size_t pid_count;
    char boot_id[64];
    const char *inherited_token;
    const char *path_variable; /* $HEAVY_MAINTENANCE_LEASE_PATH */
    int64_t live_group;        /* the one process group with a living member (0: none) */
    int open_read_error;       /* injected: returned by open_read when non-zero */
    /* Injected failure: the fault_skip+1-th call of the operation named
     * fault_operation ("link", "rename", "lock", ...) returns -fault_errno. */
    const char *fault_operation;
    int fault_errno;
    int fault_skip;
    int fault_times; /* 0: every call after the skipped ones fails */
    int fault_hits;
    /* Called before each file operation the fake forwards, with its name: a
     * test plays another writer (one that takes no lock) at that moment. */
    void (*before_operation)(struct fake_env *fake, const char *operation);
    uint64_t random_state;
    char warnings[FAKE_WARNINGS_MAX][512];
    size_t warning_count;
};

/* Creates the temporary directory and fills the table; self is alive. */
struct fake_env *fake_env_new(void);
void fake_env_free(struct fake_env *fake);

void fake_env_set_pid(struct fake_env *fake, int64_t pid, enum fake_pid_state state, uint64_t start_time);

/* When set (the etcd group of test_lease_lib), the fake environment names
 * this cluster in LEASE_ETCD_ENDPOINTS and the lease "file" below is the
 * etcd key of the lease path (written with no etcd lease attached). */
extern const char *fake_env_etcd_endpoints;

/* Writes bytes at the lease path (replacing it). */
void fake_env_write_lease(struct fake_env *fake, const char *bytes);
/* Reads the lease file; returns a malloc'd string or NULL when missing. */
char *fake_env_read_lease(const struct fake_env *fake);

#endif
