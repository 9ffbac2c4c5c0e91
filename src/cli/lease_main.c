/*
 * lease_main.c: main of the `lease` wrapper: selects the implementation and
 * the path, calls the library, prints the outcome for people or as one JSON
 * object (--json), and turns it into an exit code. The output formats and
 * the exit-code table are documented in docs/lease-cli.md; keep them stable.
 */
#include "cli/cli.h"

#include <fcntl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lease_impl.h"

#define IMPLEMENTATION_ENV "LEASE_IMPLEMENTATION"
#define ESCAPED_MAX (LEASE_PATH_MAX * 4 + 1)

/* What every command needs once the arguments are valid. */
struct invocation {
    const struct lease_cli_args *args;
    const struct lease_ops *ops;
    struct lease_env env; /* the POSIX one, with our warn (and self_pid for acquire) */
    struct lease_options options;
    char path[LEASE_PATH_MAX];
};

/* ---- JSON output ---------------------------------------------------------- */

/* A JSON string for text that may not be valid UTF-8 (jansson refuses that):
 * falls back to the escaped form. */
static json_t *json_text(const char *text) {
    json_t *string = json_string(text);
    if (string != NULL) return string;
    char escaped[ESCAPED_MAX];
    lease_escape_text(text, escaped, sizeof escaped);
    return json_string(escaped);
}

static void json_put(json_t *object, const char *key, json_t *value) {
    if (value != NULL) json_object_set_new(object, key, value);
}

/* The lease as stored: the payload the library read back, else the holder's
 * fields (an implementation that does not keep the payload). */
static json_t *json_lease(const struct lease_result *result) {
    if (result->payload_json != NULL) {
        json_t *payload = json_loads(result->payload_json, JSON_DECODE_ANY, NULL);
        if (payload != NULL) return payload;
    }
    if (!result->has_lease) return NULL;
    const struct lease_holder *holder = &result->lease;
    json_t *object = json_object();
    json_put(object, "owner", json_text(holder->owner));
    json_put(object, "reason", json_text(holder->reason));
    if (holder->has_pid)
        json_put(object, "pid", holder->pid_is_integer ? json_integer(holder->pid) : json_text(holder->pid_text));
    json_put(object, "token", json_text(holder->token));
    json_put(object, "acquiredAt", json_text(holder->acquired_at));
    if (holder->has_stale_after_ms) json_put(object, "staleAfterMs", json_integer(holder->stale_after_ms));
    json_put(object, "expiresAt", json_text(holder->expires_at));
    return object;
}

static json_t *json_result(const struct invocation *invocation, const struct lease_result *result,
                           enum lease_status status) {
    json_t *object = json_object();
    json_put(object, "status", json_string(lease_status_name(status)));
    if (result->previous_status != LEASE_STATUS_NONE)
        json_put(object, "previousStatus", json_string(lease_status_name(result->previous_status)));
    json_t *lease = json_lease(result);
    if (lease != NULL)
        json_put(object, "lease", lease);
    else if (status == LEASE_STATUS_HELD)
        json_put(object, "lease", json_null());
    json_put(object, "path", json_text(invocation->path));
    json_put(object, "implementation", json_string(lease_impl_name(invocation->ops)));
    if (result->detail[0] != '\0') json_put(object, "detail", json_text(result->detail));
    return object;
}

/* Where the JSON result goes: stdout, or what --result / --json-fd name. */
static FILE *json_stream;

static void json_print(json_t *object) {
    FILE *out = json_stream != NULL ? json_stream : stdout;
    char *text = json_dumps(object, JSON_COMPACT);
    if (text != NULL) {
        fputs(text, out);
        fputc('\n', out);
        fflush(out);
        free(text);
    }
    json_decref(object);
}

/* Opens the JSON destination before anything runs: one that cannot be
 * written is an error, never a result silently lost. */
static int open_json_stream(const struct lease_cli_args *args) {
    if (args->result_path != NULL) {
        json_stream = fopen(args->result_path, "we");
        if (json_stream == NULL) {
            char message[LEASE_PATH_MAX + 128];
            snprintf(message, sizeof message, "cannot write --result %.900s: %s", args->result_path, strerror(errno));
            fprintf(stderr, "lease: %s\n", message);
            return LEASE_CLI_EXIT_WRAPPER;
        }
    } else if (args->has_json_fd) {
        int fd = fcntl(args->json_fd, F_DUPFD_CLOEXEC, 3);
        json_stream = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (json_stream == NULL) {
            fprintf(stderr, "lease: cannot write --json-fd %d: %s\n", args->json_fd, strerror(errno));
            return LEASE_CLI_EXIT_WRAPPER;
        }
    }
    return 0;
}

/* ---- errors ---------------------------------------------------------------- */

/* One stderr line (and, with --json, one JSON object) for a failure that is
 * not a lease status: usage errors and the wrapper's own failures. */
static int fail(const struct lease_cli_args *args, int exit_code, const char *kind, const char *message) {
    fprintf(stderr, "lease: %s\n", message);
    if (args->json) {
        json_t *object = json_object();
        json_put(object, "status", json_string("error"));
        json_put(object, "error", json_string(kind));
        json_put(object, "message", json_text(message));
        json_put(object, "exitCode", json_integer(exit_code));
        json_print(object);
    }
    return exit_code;
}

/* A lease error (status error): names the path and the system error. */
static int fail_lease(const struct invocation *invocation, const struct lease_result *result) {
    const char *path = result->error_path[0] != '\0' ? result->error_path : invocation->path;
    char escaped[ESCAPED_MAX], error[LEASE_DETAIL_MAX * 4 + 256];
    char message[sizeof escaped + sizeof error + 64];
    lease_escape_text(path, escaped, sizeof escaped);
    lease_format_error(result, error, sizeof error);
    snprintf(message, sizeof message, "%s: lease '%s': %s", lease_cli_command_name(invocation->args->command), escaped,
             error);
    fprintf(stderr, "lease: %s\n", message);
    if (invocation->args->json) {
        json_t *object = json_result(invocation, result, LEASE_STATUS_ERROR);
        json_put(object, "message", json_text(message));
        json_put(object, "errno", json_integer(result->error_number));
        if (result->error_operation != NULL) json_put(object, "operation", json_string(result->error_operation));
        json_put(object, "exitCode", json_integer(LEASE_CLI_EXIT_WRAPPER));
        json_print(object);
    }
    return LEASE_CLI_EXIT_WRAPPER;
}

/* ---- human output ---------------------------------------------------------- */

/* metadata.host of the stored payload (the etcd backend: the holder's host
 * name, docs/spec.md section 10), escaped; "" when absent. */
static void holder_host(const struct lease_result *result, char *host, size_t size) {
    host[0] = '\0';
    json_t *payload = result->payload_json != NULL ? json_loads(result->payload_json, JSON_DECODE_ANY, NULL) : NULL;
    const char *text = json_string_value(json_object_get(json_object_get(payload, "metadata"), "host"));
    if (text != NULL) lease_escape_text(text, host, size);
    json_decref(payload);
}

static void print_holder_summary(const struct lease_result *result, const char *path) {
    char owner[ESCAPED_MAX], reason[ESCAPED_MAX], pid[ESCAPED_MAX], acquired_at[ESCAPED_MAX], expires_at[ESCAPED_MAX],
        escaped_path[ESCAPED_MAX];
    lease_escape_text(path, escaped_path, sizeof escaped_path);
    if (!result->has_lease) {
        char detail[ESCAPED_MAX];
        lease_escape_text(result->detail, detail, sizeof detail);
        printf("held by an unreadable holder (%s) path=%s\n", detail, escaped_path);
        return;
    }
    const struct lease_holder *holder = &result->lease;
    lease_escape_text(holder->owner, owner, sizeof owner);
    lease_escape_text(holder->reason, reason, sizeof reason);
    lease_escape_text(holder->has_pid ? holder->pid_text : "", pid, sizeof pid);
    lease_escape_text(holder->acquired_at, acquired_at, sizeof acquired_at);
    lease_escape_text(holder->expires_at, expires_at, sizeof expires_at);
    char host[ESCAPED_MAX];
    holder_host(result, host, sizeof host);
    printf("held by '%s' (reason='%s', pid=%s, %s%s%sacquiredAt=%s, expiresAt=%s) path=%s\n", owner, reason, pid,
           host[0] != '\0' ? "host=" : "", host, host[0] != '\0' ? ", " : "", acquired_at, expires_at, escaped_path);
}

/* "key: value" lines for inspect; absent fields are left out. */
static void print_field(const char *key, const char *value, bool present) {
    if (!present) return;
    char escaped[ESCAPED_MAX];
    lease_escape_text(value, escaped, sizeof escaped);
    printf("%s: %s\n", key, escaped);
}

static void print_inspect(const struct invocation *invocation, const struct lease_result *result) {
    printf("status: %s\n", lease_status_name(result->status));
    print_field("path", invocation->path, true);
    if (result->has_lease) {
        const struct lease_holder *holder = &result->lease;
        char stale_after_ms[32];
        snprintf(stale_after_ms, sizeof stale_after_ms, "%lld", (long long)holder->stale_after_ms);
        print_field("owner", holder->owner, true);
        print_field("reason", holder->reason, holder->reason[0] != '\0');
        print_field("pid", holder->pid_text, holder->has_pid);
        print_field("token", holder->token, holder->token[0] != '\0');
        print_field("acquiredAt", holder->acquired_at, holder->acquired_at[0] != '\0');
        print_field("staleAfterMs", stale_after_ms, holder->has_stale_after_ms);
        print_field("expiresAt", holder->expires_at, holder->expires_at[0] != '\0');
        char host[ESCAPED_MAX];
        holder_host(result, host, sizeof host);
        if (host[0] != '\0') printf("host: %s\n", host); /* already escaped */
    }
    print_field("detail", result->detail, result->detail[0] != '\0');
}

/* ---- commands -------------------------------------------------------------- */

static int command_inspect(const struct invocation *invocation) {
    struct lease_result result;
    memset(&result, 0, sizeof result);
    enum lease_status status = lease_inspect(invocation->ops, &invocation->env, &invocation->options, &result);
    int exit_code = lease_cli_inspect_exit_code(status);
    if (status == LEASE_STATUS_ERROR) {
        exit_code = fail_lease(invocation, &result);
    } else if (invocation->args->json) {
        json_t *object = json_result(invocation, &result, status);
        json_put(object, "exitCode", json_integer(exit_code));
        json_print(object);
    } else {
        print_inspect(invocation, &result);
    }
    lease_result_clear(&result);
    return exit_code;
}

/* `lease acquire` exits at once, so its own pid would make the lease stale
 * immediately. The lease names the process that ran it instead (the shell
 * of `token=$(lease acquire ...)`): active while that process lives. */
static int64_t parent_pid(void *context) {
    (void)context;
    return (int64_t)getppid();
}

static int command_acquire(const struct invocation *invocation) {
    struct lease_result result;
    memset(&result, 0, sizeof result);
    struct lease_env env = invocation->env;
    env.self_pid = parent_pid;
    int64_t deadline_ms = lease_cli_wait_deadline_ms(invocation->args->wait_ms);
    enum lease_status status = lease_acquire(invocation->ops, &env, &invocation->options, &result);
    /* --wait: bounded by its deadline; each round sleeps until something
     * that can free the lease happens (cli_wait.c). */
    while (status == LEASE_STATUS_HELD && invocation->args->wait_ms != 0 &&
           lease_cli_wait_for_change(invocation->path, &result, !invocation->ops->traits.outside_the_world,
                                     deadline_ms) == 0) {
        lease_result_clear(&result);
        status = lease_acquire(invocation->ops, &env, &invocation->options, &result);
    }
    int exit_code = lease_status_exit_code(status);
    if (status == LEASE_STATUS_ERROR) {
        exit_code = fail_lease(invocation, &result);
    } else if (invocation->args->json) {
        json_t *object = json_result(invocation, &result, status);
        if (lease_status_is_acquired(status)) json_put(object, "token", json_text(result.lease.token));
        json_print(object);
    } else if (lease_status_is_acquired(status)) {
        char owner[ESCAPED_MAX], path[ESCAPED_MAX];
        lease_escape_text(result.lease.owner, owner, sizeof owner);
        lease_escape_text(invocation->path, path, sizeof path);
        printf("%s token=%s owner=%s path=%s\n", lease_status_name(status), result.lease.token, owner, path);
    } else {
        print_holder_summary(&result, invocation->path);
    }
    if (lease_status_is_acquired(status)) lease_cli_report_recovery(invocation->path, &result);
    lease_result_clear(&result);
    return exit_code;
}

/* release and renew: both take a token and answer released/renewed,
 * not-owner or missing. */
static int command_with_token(const struct invocation *invocation) {
    struct lease_result result;
    memset(&result, 0, sizeof result);
    bool renew = invocation->args->command == LEASE_CLI_COMMAND_RENEW;
    enum lease_status status =
        renew
            ? lease_renew(invocation->ops, &invocation->env, &invocation->options, invocation->args->token, &result)
            : lease_release(invocation->ops, &invocation->env, &invocation->options, invocation->args->token, &result);
    int exit_code = lease_status_exit_code(status);
    if (status == LEASE_STATUS_ERROR) {
        exit_code = fail_lease(invocation, &result);
    } else if (invocation->args->json) {
        json_print(json_result(invocation, &result, status));
    } else {
        char path[ESCAPED_MAX];
        lease_escape_text(invocation->path, path, sizeof path);
        printf("%s path=%s", lease_status_name(status), path);
        if (status == LEASE_STATUS_RENEWED) printf(" expiresAt=%s", result.lease.expires_at);
        if (status == LEASE_STATUS_NOT_OWNER && result.has_lease) {
            char owner[ESCAPED_MAX];
            lease_escape_text(result.lease.owner, owner, sizeof owner);
            printf(" holder='%s'", owner);
        }
        putchar('\n');
    }
    lease_result_clear(&result);
    return exit_code;
}

static int run_held(const struct invocation *invocation, const struct lease_result *result) {
    int exit_code = invocation->args->has_held_exit ? invocation->args->held_exit : LEASE_CLI_EXIT_OK;
    if (invocation->args->json) {
        json_t *object = json_result(invocation, result, LEASE_STATUS_HELD);
        json_put(object, "exitCode", json_integer(exit_code));
        json_print(object);
        return exit_code;
    }
    if (invocation->args->quiet) return exit_code; /* cron mails every line: the status alone says it */
    char deferral[4 * LEASE_TEXT_MAX * 4 + 512];
    lease_format_deferral(result, deferral, sizeof deferral);
    fputs(deferral, stdout);
    size_t length = strlen(deferral);
    if (length == 0 || deferral[length - 1] != '\n') putchar('\n');
    return exit_code;
}

static int command_run(const struct invocation *invocation) {
    struct lease_result result;
    memset(&result, 0, sizeof result);
    struct lease_cli_run_outcome outcome;
    struct lease_cli_run_request request = {.ops = invocation->ops,
                                            .env = &invocation->env,
                                            .options = &invocation->options,
                                            .command_argv = invocation->args->command_argv};
    int64_t deadline_ms = lease_cli_wait_deadline_ms(invocation->args->wait_ms);
    enum lease_status status = lease_cli_run(&request, &result, &outcome);
    while (status == LEASE_STATUS_HELD && invocation->args->wait_ms != 0 &&
           lease_cli_wait_for_change(invocation->path, &result, !invocation->ops->traits.outside_the_world,
                                     deadline_ms) == 0) {
        lease_result_clear(&result);
        status = lease_cli_run(&request, &result, &outcome);
    }
    int exit_code = outcome.exit_code;
    fflush(stdout);
    if (status == LEASE_STATUS_HELD) {
        exit_code = run_held(invocation, &result);
    } else if (!outcome.body_ran) {
        exit_code = fail_lease(invocation, &result);
    } else {
        if (status == LEASE_STATUS_LOST) {
            /* The command ran without its lease for a while: never success. */
            char detail[LEASE_DETAIL_MAX * 4 + 1];
            lease_escape_text(result.detail, detail, sizeof detail);
            fprintf(stderr, "lease: lost the lease while the command ran: %s (command exit status %d)\n", detail,
                    exit_code);
            outcome.command_exit_code = exit_code;
            exit_code = lease_status_exit_code(LEASE_STATUS_LOST);
        }
        /* A failed release was already reported by lease_run (one warning line). */
        if (outcome.message[0] != '\0') fprintf(stderr, "lease: %s\n", outcome.message);
        if (invocation->args->json) {
            json_t *object = json_result(invocation, &result, status);
            json_put(object, "exitCode", json_integer(exit_code));
            if (outcome.child_signal != 0) json_put(object, "signal", json_integer(outcome.child_signal));
            if (status == LEASE_STATUS_LOST)
                json_put(object, "commandExitCode", json_integer(outcome.command_exit_code));
            if (outcome.message[0] != '\0') json_put(object, "message", json_text(outcome.message));
            json_print(object);
        }
    }
    lease_result_clear(&result);
    return exit_code;
}

/* ---- main ------------------------------------------------------------------ */

static int print_version(const struct lease_cli_args *args) {
    if (args->json) {
        json_t *object = json_object();
        json_put(object, "status", json_string("version"));
        json_put(object, "version", json_string(LEASE_VERSION_STRING));
        json_print(object);
    } else {
        printf("lease %s\n", LEASE_VERSION_STRING);
    }
    return LEASE_CLI_EXIT_OK;
}

static int print_help(const struct lease_cli_args *args) {
    if (args->json) {
        json_t *object = json_object();
        json_put(object, "status", json_string("help"));
        json_put(object, "usage", json_string(lease_cli_usage(args->command)));
        json_print(object);
    } else {
        fputs(lease_cli_usage(args->command), stdout);
    }
    return LEASE_CLI_EXIT_OK;
}

/* The library's warnings, in the wrapper's "lease: ..." form. */
static void warn_with_prefix(void *context, const char *line) {
    (void)context;
    fprintf(stderr, "lease: %s\n", line);
}

/* --impl NAME > $LEASE_IMPLEMENTATION > the default. */
static const struct lease_ops *select_implementation(const struct lease_cli_args *args, char *message,
                                                     size_t message_size) {
    const char *name = args->impl_name;
    /* The etcd backend reads its cluster from the environment (impl_etcd.c). */
    if (args->etcd_endpoints != NULL) setenv("LEASE_ETCD_ENDPOINTS", args->etcd_endpoints, 1);
    if (args->etcd_key != NULL) setenv("LEASE_ETCD_KEY", args->etcd_key, 1);
    if (name == NULL) {
        name = getenv(IMPLEMENTATION_ENV);
        if (name == NULL || name[0] == '\0') return lease_impl_default();
    }
    const struct lease_ops *ops = lease_impl_find(name);
    if (ops != NULL) return ops;
    char shown[LEASE_TEXT_MAX];
    lease_escape_text(name, shown, sizeof shown); /* from the environment: may hold anything */
    size_t used = (size_t)snprintf(message, message_size, "unknown implementation '%.64s' (known:", shown);
    for (size_t i = 0; i < lease_impl_count() && used < message_size; i++)
        used += (size_t)snprintf(message + used, message_size - used, " %s", lease_impl_name(lease_impl_at(i)));
    if (used < message_size) snprintf(message + used, message_size - used, ")");
    return NULL;
}

/* The original's default path is relative to the working directory, so two
 * jobs started in different directories do not see each other's lease. Kept
 * for compatibility, but a job that uses it where no lease directory exists
 * yet (most likely the wrong directory) is told, once, on stderr. */
static void warn_about_default_path(const struct lease_cli_args *args, const char *path) {
    if (args->lease_path != NULL || strcmp(path, LEASE_DEFAULT_PATH) != 0) return;
    char directory[sizeof LEASE_DEFAULT_PATH];
    snprintf(directory, sizeof directory, "%s", LEASE_DEFAULT_PATH);
    *strrchr(directory, '/') = '\0';
    if (access(directory, F_OK) == 0) return;
    char cwd[LEASE_PATH_MAX] = "?";
    if (getcwd(cwd, sizeof cwd) == NULL) snprintf(cwd, sizeof cwd, "?");
    char escaped[LEASE_PATH_MAX * 4];
    lease_escape_text(cwd, escaped, sizeof escaped);
    fprintf(stderr,
            "lease: warning: the default lease path is relative to the working directory (%s), which has no %s "
            "yet; jobs started elsewhere will not see this lease: pass --lease PATH or set " LEASE_PATH_ENV "\n",
            escaped, directory);
}

static int prepare(const struct lease_cli_args *args, struct invocation *invocation) {
    char message[512];
    memset(invocation, 0, sizeof *invocation);
    invocation->args = args;
    invocation->env = *lease_env_posix();
    invocation->env.warn = warn_with_prefix;
    invocation->ops = select_implementation(args, message, sizeof message);
    if (invocation->ops == NULL) return fail(args, LEASE_CLI_EXIT_USAGE, "usage", message);
    if (lease_resolve_path(lease_env_posix(), args->lease_path, invocation->path, sizeof invocation->path) != 0)
        return fail(args, LEASE_CLI_EXIT_USAGE, "usage", "lease path too long");
    warn_about_default_path(args, invocation->path);
    invocation->options.path = invocation->path;
    invocation->options.owner = args->owner;
    invocation->options.reason = args->reason;
    invocation->options.ttl_ms = args->has_ttl_ms ? args->ttl_ms : 0;
    invocation->options.pid = args->pid;
    bool need_owner = args->command == LEASE_CLI_COMMAND_RUN || args->command == LEASE_CLI_COMMAND_ACQUIRE;
    const char *problem = lease_options_problem(&invocation->options, need_owner);
    if (problem != NULL) return fail(args, LEASE_CLI_EXIT_USAGE, "usage", problem);
    return 0;
}

int main(int argc, char *argv[]) {
    struct lease_cli_args args;
    char message[512];
    if (lease_cli_parse(argc, argv, &args, message, sizeof message) != 0)
        return fail(&args, LEASE_CLI_EXIT_USAGE, "usage", message);
    if (args.help) return print_help(&args);
    if (args.command == LEASE_CLI_COMMAND_VERSION) return print_version(&args);
    struct invocation invocation;
    int status = prepare(&args, &invocation);
    if (status == 0) status = open_json_stream(&args);
    if (status != 0) return status;
    switch (args.command) {
    case LEASE_CLI_COMMAND_RUN: return command_run(&invocation);
    case LEASE_CLI_COMMAND_ACQUIRE: return command_acquire(&invocation);
    case LEASE_CLI_COMMAND_RELEASE:
    case LEASE_CLI_COMMAND_RENEW: return command_with_token(&invocation);
    case LEASE_CLI_COMMAND_INSPECT: return command_inspect(&invocation);
    case LEASE_CLI_COMMAND_NONE:
    case LEASE_CLI_COMMAND_VERSION: break;
    }
    return fail(&args, LEASE_CLI_EXIT_USAGE, "usage", "missing command (try 'lease --help')");
}
