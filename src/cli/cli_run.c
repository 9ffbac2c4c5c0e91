/*
 * cli_run.c: `lease run`: CMD as a child process under the lease.
 *
 * The lease goes through lease_run (acquire or inherit, then release), whose
 * body is the child: vfork + execvp, then one loop on sigtimedwait that reaps
 * the child, forwards SIGINT/SIGTERM/SIGHUP to it and renews the lease every
 * ttl/3. Only the child process is managed with direct OS calls here; the
 * lease itself is only touched through the library.
 *
 * Signals stay blocked in the wrapper until it exits: a SIGTERM that arrives
 * after the child ended must not kill the wrapper before it releases.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define FORWARDED_SIGNAL_COUNT (sizeof forwarded_signals / sizeof forwarded_signals[0])

/* Everything the body needs, and what it learns. */
struct run_context {
    const struct lease_cli_run_request *request;
    struct lease_cli_run_outcome *outcome;
    sigset_t wait_set;      /* SIGCHLD + the forwarded signals not ignored at start */
    sigset_t original_mask; /* restored in the child */
    struct sigaction original_sigchld;
    bool sigchld_changed;
    pid_t child;
};

static int64_t monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void set_message(struct lease_cli_run_outcome *outcome, const char *what, int error_number)
{
    snprintf(outcome->message, sizeof outcome->message, "%s: %s", what, strerror(error_number));
}

/* Blocks SIGCHLD and the forwarded signals so that sigtimedwait collects them.
 * A forwarded signal ignored at start (nohup) stays ignored and unforwarded.
 * SIGCHLD must not be SIG_IGN, or the kernel would reap the child for us. */
static int prepare_signals(struct run_context *context)
{
    sigemptyset(&context->wait_set);
    sigaddset(&context->wait_set, SIGCHLD);
    for (size_t i = 0; i < FORWARDED_SIGNAL_COUNT; i++) {
        struct sigaction current;
        if (sigaction(forwarded_signals[i], NULL, &current) == 0 && current.sa_handler == SIG_IGN)
            continue;
        sigaddset(&context->wait_set, forwarded_signals[i]);
    }
    if (sigaction(SIGCHLD, NULL, &context->original_sigchld) != 0)
        return -errno;
    if (context->original_sigchld.sa_handler == SIG_IGN || (context->original_sigchld.sa_flags & SA_NOCLDWAIT)) {
        struct sigaction default_action;
        memset(&default_action, 0, sizeof default_action);
        default_action.sa_handler = SIG_DFL;
        sigemptyset(&default_action.sa_mask);
        if (sigaction(SIGCHLD, &default_action, NULL) != 0)
            return -errno;
        context->sigchld_changed = true;
    }
    if (sigprocmask(SIG_BLOCK, &context->wait_set, &context->original_mask) != 0)
        return -errno;
    return 0;
}

/* In the child, between vfork and exec: give CMD the signal state the wrapper
 * was started with, and make it die with the wrapper. Without the death
 * signal a SIGKILLed wrapper would leave CMD running while its lease, whose
 * pid is the wrapper's, is reclaimed by the next acquire.
 * The child shares the parent's memory (vfork): it only reads, makes system
 * calls whose effects are its own (dispositions are copied without
 * CLONE_SIGHAND; the mask and the death signal are per task) and never
 * returns; the parent is suspended until exec or _exit. */
static void exec_child(const struct run_context *context, pid_t parent, int report_fd)
{
    if (context->sigchld_changed)
        sigaction(SIGCHLD, &context->original_sigchld, NULL);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(LEASE_CLI_EXIT_WRAPPER);
    sigprocmask(SIG_SETMASK, &context->original_mask, NULL);
    char *const *argv = context->request->command_argv;
    execvp(argv[0], argv);
    int error_number = errno;
    ssize_t written = write(report_fd, &error_number, sizeof error_number);
    (void)written; /* nothing more to do if the parent cannot hear us */
    _exit(error_number == ENOENT ? LEASE_CLI_EXIT_NOTFOUND : LEASE_CLI_EXIT_NOEXEC);
}

/* Reads the exec report: 0 when CMD was executed (the pipe closed on exec),
 * else the errno of the failed execvp. */
static int read_exec_report(int report_fd)
{
    int error_number = 0;
    size_t got = 0;
    for (int attempt = 0; attempt < 1000 && got < sizeof error_number; attempt++) {
        ssize_t count = read(report_fd, (char *)&error_number + got, sizeof error_number - got);
        if (count > 0)
            got += (size_t)count;
        else if (count == 0 || errno != EINTR)
            break;
    }
    return got == sizeof error_number ? error_number : 0;
}

static int exit_code_of(int wait_status, struct lease_cli_run_outcome *outcome)
{
    if (WIFSIGNALED(wait_status)) {
        outcome->child_signal = WTERMSIG(wait_status);
        return LEASE_CLI_EXIT_SIGNAL_BASE + WTERMSIG(wait_status);
    }
    if (WIFEXITED(wait_status))
        return WEXITSTATUS(wait_status);
    return LEASE_CLI_EXIT_WRAPPER;
}

/* Starts CMD; returns 0 with context->child set, or the exit code of a failure
 * (125 fork/pipe, 126/127 exec), with outcome->message filled. */
static int start_child(struct run_context *context)
{
    struct lease_cli_run_outcome *outcome = context->outcome;
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        set_message(outcome, "cannot create a pipe", errno);
        return LEASE_CLI_EXIT_WRAPPER;
    }
    pid_t parent = getpid();
    /* vfork, not fork: copying the page tables and then taking copy-on-write
     * faults cost about 0.5 ms per run here, a third of `lease run -- true`
     * (see bench-cli); with vfork the wrapper is as fast as flock(1). */
    pid_t child = vfork();
    if (child < 0) {
        int error_number = errno;
        close(report[0]);
        close(report[1]);
        set_message(outcome, "cannot vfork", error_number);
        return LEASE_CLI_EXIT_WRAPPER;
    }
    if (child == 0) {
        close(report[0]);
        exec_child(context, parent, report[1]);
    }
    close(report[1]);
    int exec_error = read_exec_report(report[0]);
    close(report[0]);
    context->child = child;
    outcome->child_started = true;
    if (exec_error == 0)
        return 0;
    int wait_status = 0;
    while (waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
    }
    context->child = 0;
    outcome->child_started = false;
    outcome->exec_error_number = exec_error;
    snprintf(outcome->message, sizeof outcome->message, "cannot run '%.200s': %s",
             context->request->command_argv[0], strerror(exec_error));
    return exec_error == ENOENT ? LEASE_CLI_EXIT_NOTFOUND : LEASE_CLI_EXIT_NOEXEC;
}

/* One renewal. Returns false when renewing is pointless from now on (the
 * lease is no longer ours, or the implementation cannot renew); says so on
 * stderr once. CMD keeps running either way: killing it would be worse. */
static bool renew_once(const struct run_context *context, const char *token)
{
    const struct lease_cli_run_request *request = context->request;
    struct lease_result result;
    memset(&result, 0, sizeof result);
    enum lease_status status = lease_renew(request->ops, request->env, request->options, token, &result);
    bool keep_renewing = true;
    if (status == LEASE_STATUS_NOT_OWNER || status == LEASE_STATUS_MISSING) {
        fprintf(stderr, "lease: warning: renewal found the lease %s (%s); no longer renewing, command keeps running\n",
                lease_status_name(status), result.detail);
        keep_renewing = false;
    } else if (status == LEASE_STATUS_ERROR && result.error_number == ENOSYS) {
        fprintf(stderr, "lease: warning: implementation '%s' cannot renew; the lease will expire by its TTL\n",
                lease_impl_name(request->ops));
        keep_renewing = false;
    } else if (status != LEASE_STATUS_RENEWED) {
        fprintf(stderr, "lease: warning: renewal failed: %s %s: %s (%s); will retry\n",
                result.error_operation != NULL ? result.error_operation : "renew", result.error_path,
                strerror(result.error_number), result.detail);
    }
    lease_result_clear(&result);
    return keep_renewing;
}

static void forward_signal(const struct run_context *context, const siginfo_t *info)
{
    /* A terminal's ^C or hangup (si_code SI_KERNEL) already reached CMD,
     * which shares our process group; sending it again would double it. */
    if (info->si_code == SI_KERNEL)
        return;
    kill(context->child, info->si_signo);
}

/* Waits for the child, forwarding signals and renewing every renew_every_ms
 * (0: never). The loop ends when the child does: there is no other bound,
 * by design, as for wait(1). */
static int supervise_child(struct run_context *context, const char *token, int64_t renew_every_ms)
{
    int64_t next_renewal_ms = monotonic_ms() + renew_every_ms;
    for (;;) {
        siginfo_t info;
        int signal_number;
        if (renew_every_ms > 0) {
            int64_t wait_ms = next_renewal_ms - monotonic_ms();
            if (wait_ms < 0)
                wait_ms = 0;
            struct timespec timeout = {.tv_sec = wait_ms / 1000, .tv_nsec = (wait_ms % 1000) * 1000000};
            signal_number = sigtimedwait(&context->wait_set, &info, &timeout);
        } else {
            signal_number = sigwaitinfo(&context->wait_set, &info);
        }
        if (signal_number < 0 && errno == EAGAIN) {
            if (!renew_once(context, token))
                renew_every_ms = 0;
            next_renewal_ms = monotonic_ms() + renew_every_ms;
        } else if (signal_number == SIGCHLD) {
            int wait_status = 0;
            pid_t done = waitpid(context->child, &wait_status, WNOHANG);
            if (done == context->child)
                return exit_code_of(wait_status, context->outcome);
            if (done < 0 && errno == ECHILD) {
                set_message(context->outcome, "lost the child", errno);
                return LEASE_CLI_EXIT_WRAPPER;
            }
        } else if (signal_number > 0) {
            forward_signal(context, &info);
        }
    }
}

void lease_cli_report_recovery(const char *path, const struct lease_result *result)
{
    if (result->status != LEASE_STATUS_ACQUIRED_AFTER_STALE && result->status != LEASE_STATUS_ACQUIRED_AFTER_MALFORMED)
        return;
    char escaped_path[LEASE_PATH_MAX * 4 + 1], detail[LEASE_DETAIL_MAX * 4 + 1];
    lease_escape_text(path, escaped_path, sizeof escaped_path);
    lease_escape_text(result->detail, detail, sizeof detail);
    fprintf(stderr, "lease: recovered a %s lease at %s%s%s\n",
            result->status == LEASE_STATUS_ACQUIRED_AFTER_STALE ? "stale" : "malformed", escaped_path,
            detail[0] != '\0' ? ": " : "", detail);
}

/* The lease body: runs CMD and returns the wrapper's exit code. */
static int run_body(void *argument, const struct lease_result *lease)
{
    struct run_context *context = argument;
    context->outcome->body_ran = true;
    const char *token = lease->lease.token;
    /* Inherited: the variable already holds this token, and the parent renews. */
    int64_t renew_every_ms = 0;
    lease_cli_report_recovery(context->request->options->path, lease);
    if (lease_status_is_acquired(lease->status)) {
        if (setenv(LEASE_INHERITED_TOKEN_ENV, token, 1) != 0) {
            set_message(context->outcome, "cannot set " LEASE_INHERITED_TOKEN_ENV, errno);
            return context->outcome->exit_code = LEASE_CLI_EXIT_WRAPPER;
        }
        int64_t ttl_ms = context->request->options->ttl_ms > 0 ? context->request->options->ttl_ms
                                                              : LEASE_DEFAULT_TTL_MS;
        renew_every_ms = ttl_ms / 3 > 0 ? ttl_ms / 3 : 1;
    }
    int status = prepare_signals(context);
    if (status != 0) {
        set_message(context->outcome, "cannot prepare signal handling", -status);
        return context->outcome->exit_code = LEASE_CLI_EXIT_WRAPPER;
    }
    int exit_code = start_child(context);
    if (exit_code == 0 && context->child > 0)
        exit_code = supervise_child(context, token, renew_every_ms);
    context->outcome->exit_code = exit_code;
    return exit_code;
}

enum lease_status lease_cli_run(const struct lease_cli_run_request *request, struct lease_result *result,
                                struct lease_cli_run_outcome *outcome)
{
    memset(outcome, 0, sizeof *outcome);
    struct run_context context;
    memset(&context, 0, sizeof context);
    context.request = request;
    context.outcome = outcome;
    outcome->exit_code = LEASE_CLI_EXIT_WRAPPER;
    return lease_run(request->ops, request->env, request->options, run_body, &context, result);
}
