/*
 * cli.h: the pieces of the `lease` command-line wrapper.
 *
 * lease_cli_parse is pure: it reads argv, fills a struct and, on a usage
 * error, a one-line message. It never prints, exits, allocates or reads the
 * environment, so a fuzzer can call it in a loop. Pointers in the struct point
 * into argv.
 */
#ifndef LEASE_CLI_H
#define LEASE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lease.h"

/* <sysexits.h> values, spelled out so the parser needs no system header. */
/* The statuses' exit codes come from the status table (src/lease.h); the
 * rest are the wrapper's own, as env(1), timeout(1) and sysexits.h have them. */
#define LEASE_CLI_EXIT_OK LEASE_EXIT_COMPLETED
#define LEASE_CLI_EXIT_FAILED LEASE_EXIT_NOT_OWNER
#define LEASE_CLI_EXIT_USAGE 64                 /* EX_USAGE */
#define LEASE_CLI_EXIT_HELD LEASE_EXIT_HELD     /* EX_TEMPFAIL */
#define LEASE_CLI_EXIT_WRAPPER LEASE_EXIT_ERROR /* the wrapper itself failed (as env(1), timeout(1)) */
#define LEASE_CLI_EXIT_NOEXEC 126               /* CMD found but not executable */
#define LEASE_CLI_EXIT_NOTFOUND 127             /* CMD not found */
#define LEASE_CLI_EXIT_SIGNAL_BASE 128

/* When CMD has ended (or the lease is lost), what is left of the body gets
 * SIGTERM, and SIGKILL this long after (docs/lease-cli.md). */
#define LEASE_CLI_KILL_GRACE_MS 5000

/* Largest --ttl-ms: the library's limit (about 100 years). */
#define LEASE_CLI_TTL_MS_MAX LEASE_TTL_MS_MAX

enum lease_cli_command {
    LEASE_CLI_COMMAND_NONE,
    LEASE_CLI_COMMAND_RUN,
    LEASE_CLI_COMMAND_ACQUIRE,
    LEASE_CLI_COMMAND_RELEASE,
    LEASE_CLI_COMMAND_RENEW,
    LEASE_CLI_COMMAND_INSPECT,
    LEASE_CLI_COMMAND_VERSION, /* `lease --version` */
};

struct lease_cli_args {
    enum lease_cli_command command;
    bool help;               /* --help: for command, or the top level when command is NONE */
    bool json;               /* set even when parsing fails, if --json appeared before `--` */
    bool quiet;              /* run: no deferral lines when held */
    int64_t wait_ms;         /* run/acquire --wait: 0 none, -1 forever, else milliseconds */
    bool nonblock;           /* run/acquire --nonblock/-n: no wait (the default, said explicitly) */
    const char *result_path; /* run --result FILE: the JSON result goes there (implies json) */
    bool has_json_fd;
    int json_fd; /* run --json-fd N: the JSON result goes to descriptor N */
    const char *owner;
    const char *reason;
    const char *lease_path;
    const char *token;
    const char *impl_name;
    const char *etcd_endpoints; /* --endpoints: sets LEASE_ETCD_ENDPOINTS for the library */
    const char *etcd_key;       /* --key: sets LEASE_ETCD_KEY */
    bool has_ttl_ms;
    int64_t ttl_ms;
    int64_t pid; /* acquire --pid: the process the lease names; 0: the caller's parent */
    bool has_held_exit;
    int held_exit;
    /* run: CMD and its arguments (argv after `--`), NULL-terminated as argv is. */
    int command_argc;
    char *const *command_argv;
};

/* Returns 0 when argv is a valid command line, else LEASE_CLI_EXIT_USAGE with
 * a one-line message (no "lease: " prefix, no newline) in message. */
int lease_cli_parse(int argc, char *const argv[], struct lease_cli_args *args, char *message, size_t message_size);

/* --wait: at most this long between two re-checks when nothing is heard
 * (a holder's group member ending makes no sound). */
#define LEASE_CLI_WAIT_RECHECK_MS 30000
/* Longest --wait: about 10 years (longer is "forever"). */
#define LEASE_CLI_WAIT_MS_MAX 315576000000LL
/* The monotonic deadline of a wait of wait_ms (-1: forever, INT64_MAX). */
int64_t lease_cli_wait_deadline_ms(int64_t wait_ms);
/* Sleeps until the held lease may have become free (the directory changed,
 * the holder exited, its lease expired) or a re-check is due: 0; or
 * -ETIMEDOUT once deadline_ms has passed. */
int lease_cli_wait_for_change(const char *lease_path, const struct lease_result *held, bool file_backed,
                              int64_t deadline_ms);

/* `lease inspect` exits by class, so that `if lease inspect ...; then` gates:
 * 0 active (a live holder), 1 missing, 2 stale, 3 malformed, 125 unreadable
 * or error (docs/lease-cli.md). */
#define LEASE_CLI_INSPECT_MISSING 1
#define LEASE_CLI_INSPECT_STALE 2
#define LEASE_CLI_INSPECT_MALFORMED 3
int lease_cli_inspect_exit_code(enum lease_status status);

/* The name of a command ("run", ...; "lease" for NONE). */
const char *lease_cli_command_name(enum lease_cli_command command);

/* The --help text of a command (NONE: the top-level one). */
const char *lease_cli_usage(enum lease_cli_command command);

/* What `lease run` needs besides the parsed arguments. */
struct lease_cli_run_request {
    const struct lease_ops *ops;
    const struct lease_env *env;
    const struct lease_options *options;
    char *const *command_argv;
};

/* What happened in `lease run`. */
struct lease_cli_run_outcome {
    bool body_ran; /* lease_run called the body (acquired or inherited) */
    bool child_started;
    int exit_code;                  /* the child's (128+N when killed by N), or 125/126/127 */
    int child_signal;               /* N when the child was killed by signal N, else 0 */
    int exec_error_number;          /* errno of a failed exec, else 0 */
    bool lost;                      /* a renewal found the lease lost; the body was ended */
    int command_exit_code;          /* status lost: what CMD itself exited with */
    char message[LEASE_DETAIL_MAX]; /* the wrapper's own failure, for stderr and JSON */
};

/* One stderr line when an acquire recovered a stale or malformed lease
 * (docs/spec.md section 3); nothing for other statuses. */
void lease_cli_report_recovery(const char *path, const struct lease_result *result);

/* Runs CMD under the lease (acquire or inherit, fork/exec, forward signals,
 * renew, release). Fills *result like lease_run and *outcome; returns the
 * status (completed, inherited, held, error). */
enum lease_status lease_cli_run(const struct lease_cli_run_request *request, struct lease_result *result,
                                struct lease_cli_run_outcome *outcome);

#endif /* LEASE_CLI_H */
