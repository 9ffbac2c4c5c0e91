/*
 * maintenance.c: what the four maintenance programs share.
 *
 * The lease goes only through liblease (lease_run applies the inherited-token
 * rule, acquires and releases; lease_format_deferral prints the deferral).
 * The fake body talks to the OS directly (sleep, kill, log files): it stands
 * in for a real job, it is not part of the lease algorithm.
 *
 * Environment protocol (conformance/README.md has the full contract):
 *   MAINTENANCE_BODY        succeed (default) | sleep | fail | crash | hang
 *   MAINTENANCE_SLEEP_MS    body duration before its ending (default 0)
 *   MAINTENANCE_READY_FILE  append "ready <name> <pid>\n" once the body holds the lease
 *   MAINTENANCE_LOG         append "enter|exit|crash <name> <pid> <monotonic_ns>\n"
 *   MAINTENANCE_GATE_FILE   after sleeping, wait until this path exists
 *   MAINTENANCE_TTL_MS      lease TTL (default: the library's, 6 h)
 *   LEASE_IMPLEMENTATION    C implementation by name (lease, neo-v1, neo-v2)
 */
#include "programs/maintenance.h"

#include "lease.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BODY_SLEEP_MS_MAX (24LL * 3600 * 1000)
#define BODY_HANG_MS (24LL * 3600 * 1000)
#define BODY_GATE_TIMEOUT_MS (120LL * 1000)
#define BODY_CHUNK_MS 20
#define RECORD_SIZE_MAX 512
#define MESSAGE_SIZE_MAX 2048

enum body_mode {
    BODY_SUCCEED,
    BODY_SLEEP,
    BODY_FAIL,
    BODY_CRASH,
    BODY_HANG,
};

static const struct {
    const char *word;
    enum body_mode mode;
} body_modes[] = {
    {"succeed", BODY_SUCCEED}, {"sleep", BODY_SLEEP}, {"fail", BODY_FAIL}, {"crash", BODY_CRASH}, {"hang", BODY_HANG},
};

/* Everything the body needs, parsed before the lease is touched so that a bad
 * variable runs nothing. */
struct body_plan {
    const char *name;
    enum body_mode mode;
    int64_t sleep_ms;
    int64_t ttl_ms;
    const char *ready_path;
    const char *log_path;
    const char *gate_path;
    const struct lease_ops *ops;
    struct lease_options options;
    char failure[MESSAGE_SIZE_MAX]; /* why the body failed, for the ❌ line */
};

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int signal_number) {
    stop_signal = signal_number;
}

/* SIGTERM/SIGINT/SIGHUP end the body as a failure, so the lease is released
 * on the way out instead of being left for staleness recovery. */
static void install_stop_handlers(void) {
    static const int signals[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = on_stop_signal;
        sigemptyset(&action.sa_mask);
        sigaction(signals[i], &action, NULL);
    }
}

static int64_t monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static void usage_error(const char *name, const char *message, const char *value) {
    char escaped[LEASE_TEXT_MAX];
    lease_escape_text(value ? value : "", escaped, sizeof escaped);
    fprintf(stderr, "%s: %s '%s' (see conformance/README.md)\n", name, message, escaped);
}

static const char *nonempty_env(const char *variable) {
    const char *value = getenv(variable);
    return value != NULL && *value != '\0' ? value : NULL;
}

static bool parse_mode(struct body_plan *plan) {
    const char *word = nonempty_env("MAINTENANCE_BODY");
    if (word == NULL) return true;
    for (size_t i = 0; i < sizeof body_modes / sizeof body_modes[0]; i++) {
        if (strcmp(word, body_modes[i].word) == 0) {
            plan->mode = body_modes[i].mode;
            return true;
        }
    }
    usage_error(plan->name, "MAINTENANCE_BODY must be succeed, sleep, fail, crash or hang, not", word);
    return false;
}

static bool parse_numbers(struct body_plan *plan) {
    const char *sleep_text = nonempty_env("MAINTENANCE_SLEEP_MS");
    if (sleep_text != NULL && !lease_parse_integer(sleep_text, 0, BODY_SLEEP_MS_MAX, &plan->sleep_ms)) {
        usage_error(plan->name, "MAINTENANCE_SLEEP_MS must be an integer from 0 to 86400000, not", sleep_text);
        return false;
    }
    const char *ttl_text = nonempty_env("MAINTENANCE_TTL_MS");
    if (ttl_text != NULL && !lease_parse_integer(ttl_text, 1, INT64_MAX / 4, &plan->ttl_ms)) {
        usage_error(plan->name, "MAINTENANCE_TTL_MS must be a positive integer, not", ttl_text);
        return false;
    }
    return true;
}

static bool parse_implementation(struct body_plan *plan) {
    const char *impl_name = nonempty_env("LEASE_IMPLEMENTATION");
    if (impl_name == NULL) {
        plan->ops = NULL;
        return true;
    }
    plan->ops = lease_impl_find(impl_name);
    if (plan->ops == NULL) {
        usage_error(plan->name, "LEASE_IMPLEMENTATION names no linked implementation:", impl_name);
        return false;
    }
    return true;
}

static bool parse_plan(struct body_plan *plan) {
    plan->ready_path = nonempty_env("MAINTENANCE_READY_FILE");
    plan->log_path = nonempty_env("MAINTENANCE_LOG");
    plan->gate_path = nonempty_env("MAINTENANCE_GATE_FILE");
    return parse_mode(plan) && parse_numbers(plan) && parse_implementation(plan);
}

/* Appends one record with a single O_APPEND write, so records from many
 * processes never interleave and their file order is their real order. */
static int append_record(const char *path, const char *record, size_t length) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    ssize_t written = write(fd, record, length);
    int error_number = written < 0 ? errno : 0;
    close(fd);
    if (error_number != 0) return -error_number;
    return (size_t)written == length ? 0 : -EIO;
}

static bool log_event(struct body_plan *plan, const char *event) {
    if (plan->log_path == NULL) return true;
    char record[RECORD_SIZE_MAX];
    int length =
        snprintf(record, sizeof record, "%s %s %ld %" PRId64 "\n", event, plan->name, (long)getpid(), monotonic_ns());
    int status = append_record(plan->log_path, record, (size_t)length);
    if (status != 0) {
        snprintf(plan->failure, sizeof plan->failure, "cannot append to MAINTENANCE_LOG: %s", strerror(-status));
        return false;
    }
    return true;
}

static bool announce_ready(struct body_plan *plan) {
    if (plan->ready_path == NULL) return true;
    char record[RECORD_SIZE_MAX];
    int length = snprintf(record, sizeof record, "ready %s %ld\n", plan->name, (long)getpid());
    int status = append_record(plan->ready_path, record, (size_t)length);
    if (status != 0) {
        snprintf(plan->failure, sizeof plan->failure, "cannot write MAINTENANCE_READY_FILE: %s", strerror(-status));
        return false;
    }
    return true;
}

static void sleep_chunk_ms(int64_t duration_ms) {
    struct timespec pause_time = {.tv_sec = (time_t)(duration_ms / 1000),
                                  .tv_nsec = (long)(duration_ms % 1000) * 1000000L};
    nanosleep(&pause_time, NULL); /* EINTR is fine: the caller checks stop_signal */
}

/* Keeps a live holder from being taken over past its TTL (hazard 6): the
 * library's keeper renews every ttl/3. An implementation that cannot renew
 * is told once and tolerated; a lease that is no longer ours ends the body
 * at once (it must not keep working without its lease). */
static bool renew_if_due(struct body_plan *plan, struct lease_keeper *keeper, int64_t now_ms) {
    enum lease_status status = lease_keeper_tick(keeper, plan->ops, NULL, &plan->options, now_ms);
    if (status == LEASE_STATUS_LOST) {
        snprintf(plan->failure, sizeof plan->failure, "lost the heavy-maintenance lease while working (%s)",
                 keeper->detail);
        return false;
    }
    if (status == LEASE_STATUS_ERROR && keeper->cannot_renew)
        fprintf(stderr, "⚠️  %s: this lease implementation cannot renew; the body relies on the TTL\n", plan->name);
    else if (status == LEASE_STATUS_ERROR)
        fprintf(stderr, "⚠️  %s: renewing the heavy-maintenance lease: %s\n", plan->name, keeper->detail);
    return true;
}

static bool gate_open(const struct body_plan *plan) {
    struct stat info;
    return plan->gate_path == NULL || stat(plan->gate_path, &info) == 0;
}

/* Works for duration_ms (or until the gate opens when wait_gate), in chunks,
 * renewing the lease and watching for a stop signal. */
static bool work(struct body_plan *plan, struct lease_keeper *keeper, int64_t duration_ms, bool wait_gate) {
    int64_t start_ms = monotonic_ns() / 1000000;
    int64_t chunks_max = duration_ms / BODY_CHUNK_MS + 2;
    for (int64_t chunk = 0; chunk < chunks_max; chunk++) {
        int64_t now_ms = monotonic_ns() / 1000000;
        if (stop_signal != 0) {
            snprintf(plan->failure, sizeof plan->failure, "interrupted by signal %d", (int)stop_signal);
            return false;
        }
        if (wait_gate ? gate_open(plan) : now_ms - start_ms >= duration_ms) return true;
        if (!renew_if_due(plan, keeper, now_ms)) return false;
        int64_t left_ms = duration_ms - (now_ms - start_ms);
        sleep_chunk_ms(left_ms < BODY_CHUNK_MS ? (left_ms > 0 ? left_ms : 1) : BODY_CHUNK_MS);
    }
    if (wait_gate) snprintf(plan->failure, sizeof plan->failure, "MAINTENANCE_GATE_FILE never appeared");
    return !wait_gate;
}

static void print_start(const struct body_plan *plan, const struct lease_result *lease) {
    printf("🔒 %s: heavy-maintenance lease %s; running.\n", plan->name, lease_status_name(lease->status));
    fflush(stdout);
    if (lease->status == LEASE_STATUS_ACQUIRED_AFTER_STALE || lease->status == LEASE_STATUS_ACQUIRED_AFTER_MALFORMED) {
        char detail[LEASE_DETAIL_MAX * 4];
        lease_escape_text(lease->detail, detail, sizeof detail);
        fprintf(stderr, "⚠️  %s: %s: recovered the heavy-maintenance lease: %s\n", plan->name,
                lease_status_name(lease->status), detail);
    }
}

static int run_body(void *argument, const struct lease_result *lease) {
    struct body_plan *plan = argument;
    print_start(plan, lease);
    struct lease_keeper keeper;
    lease_keeper_start(&keeper, &plan->options, lease, monotonic_ns() / 1000000);
    if (!log_event(plan, "enter") || !announce_ready(plan)) return 1;
    if (!work(plan, &keeper, plan->sleep_ms, false)) return log_event(plan, "exit"), 1;
    if (plan->gate_path != NULL && !work(plan, &keeper, BODY_GATE_TIMEOUT_MS, true)) return log_event(plan, "exit"), 1;
    switch (plan->mode) {
    case BODY_CRASH:
        log_event(plan, "crash");
        fflush(NULL);
        kill(getpid(), SIGKILL);
        snprintf(plan->failure, sizeof plan->failure, "SIGKILL did not kill the process");
        return 1;
    case BODY_HANG:
        if (!work(plan, &keeper, BODY_HANG_MS, false)) return log_event(plan, "exit"), 1;
        break;
    case BODY_FAIL:
        snprintf(plan->failure, sizeof plan->failure, "fake body failed (MAINTENANCE_BODY=fail)");
        return log_event(plan, "exit"), 1;
    case BODY_SUCCEED:
    case BODY_SLEEP: break;
    }
    return log_event(plan, "exit") ? 0 : 1;
}

/* Hazard 7 (held without a readable holder) is handled by the library: the
 * fields read 'unknown' and the two lines keep their shape. */
static int report_held(const struct lease_result *result) {
    char lines[LEASE_TEXT_MAX * 24];
    lease_format_deferral(result, lines, sizeof lines);
    fputs(lines, stdout);
    size_t length = strlen(lines);
    if (length == 0 || lines[length - 1] != '\n') fputc('\n', stdout);
    fflush(stdout);
    return MAINTENANCE_EXIT_OK;
}

static int report_error(const struct body_plan *plan, const struct lease_result *result) {
    char path[LEASE_PATH_MAX * 4];
    lease_escape_text(result->error_path[0] != '\0' ? result->error_path : plan->options.path, path, sizeof path);
    char error[LEASE_DETAIL_MAX * 4 + 256];
    lease_format_error(result, error, sizeof error);
    fprintf(stderr, "❌ %s: heavy-maintenance lease error on '%s': %s\n", plan->name, path, error);
    return MAINTENANCE_EXIT_FAILURE;
}

static int report_run(struct body_plan *plan, const char *failure_message, const struct lease_result *result) {
    switch (result->status) {
    case LEASE_STATUS_HELD: return report_held(result);
    case LEASE_STATUS_LOST: {
        /* The body ran without its lease for a while: never "✅ released". */
        char detail[LEASE_DETAIL_MAX * 4];
        lease_escape_text(result->detail, detail, sizeof detail);
        fprintf(stderr, "❌ %s: lost the heavy-maintenance lease while the body ran: %s\n", plan->name, detail);
        return MAINTENANCE_EXIT_LOST;
    }
    case LEASE_STATUS_COMPLETED:
    case LEASE_STATUS_INHERITED: break;
    default: return report_error(plan, result);
    }
    if (result->body_status != 0) {
        fprintf(stderr, "%s %s\n", failure_message, plan->failure[0] != '\0' ? plan->failure : "body failed");
        return MAINTENANCE_EXIT_FAILURE;
    }
    if (result->status == LEASE_STATUS_INHERITED)
        printf("✅ %s: done; the inherited heavy-maintenance lease stays with its holder.\n", plan->name);
    else
        printf("✅ %s: done; heavy-maintenance lease released.\n", plan->name);
    fflush(stdout);
    return MAINTENANCE_EXIT_OK;
}

static void print_help(const char *name) {
    printf("usage: %s [--lease PATH] | --help | --version\n"
           "Runs the %s maintenance body under the heavy-maintenance lease (owner '%s', reason 'manual-cli').\n"
           "The fake body is controlled by MAINTENANCE_BODY, MAINTENANCE_SLEEP_MS, MAINTENANCE_READY_FILE,\n"
           "MAINTENANCE_LOG, MAINTENANCE_GATE_FILE, MAINTENANCE_TTL_MS and LEASE_IMPLEMENTATION\n"
           "(see conformance/README.md). Exit: 0 done or deferred, 1 failed, 64 usage,\n"
           "124 the lease was lost while the body ran.\n",
           name, name, name);
}

/* Returns -1 to go on, else the exit status. */
static int parse_arguments(const char *name, int argc, char **argv, const char **flag_path) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help(name);
            return MAINTENANCE_EXIT_OK;
        }
        if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
            printf("%s (lease %s)\n", name, LEASE_VERSION_STRING);
            return MAINTENANCE_EXIT_OK;
        }
        if (strcmp(argv[i], "--lease") == 0 && i + 1 < argc) {
            *flag_path = argv[++i];
            continue;
        }
        usage_error(name, "unknown or incomplete argument", argv[i]);
        return MAINTENANCE_EXIT_USAGE;
    }
    return -1;
}

int maintenance_main(const char *name, const char *failure_message, int argc, char **argv) {
    static struct body_plan plan; /* static: large, and the body reaches it by pointer */
    plan.name = name;
    const char *flag_path = NULL;
    int early = parse_arguments(name, argc, argv, &flag_path);
    if (early >= 0) return early;
    if (!parse_plan(&plan)) return MAINTENANCE_EXIT_USAGE;
    static char path[LEASE_PATH_MAX];
    if (lease_resolve_path(lease_env_posix(), flag_path, path, sizeof path) != 0) {
        usage_error(name, "lease path too long:", flag_path ? flag_path : getenv(LEASE_PATH_ENV));
        return MAINTENANCE_EXIT_USAGE;
    }
    plan.options = (struct lease_options){.path = path, .owner = name, .reason = "manual-cli", .ttl_ms = plan.ttl_ms};
    install_stop_handlers();
    struct lease_result result;
    memset(&result, 0, sizeof result);
    lease_run(plan.ops, NULL, &plan.options, run_body, &plan, &result);
    int exit_status = report_run(&plan, failure_message, &result);
    lease_result_clear(&result);
    return exit_status;
}
