/*
 * cli_run.c: `lease run`: CMD as a child process under the lease.
 *
 * A body is the whole process tree CMD starts (docs/spec.md section 9.8):
 *  - CMD is forked before the lease is taken, into a process group of its
 *    own, and waits at a gate (a pipe) before exec; the lease is acquired
 *    naming that group (metadata.processGroup), so it stays alive while any
 *    process of the body lives, even after the wrapper is SIGKILLed. Held or
 *    error: the gated child is killed, no command ever runs. Inherited: CMD
 *    stays in the group of the lease's holder instead.
 *  - The wrapper is a child subreaper: descendants orphaned inside the body
 *    come back to it. When CMD ends (or the lease is found lost) whatever is
 *    left of the body gets SIGTERM, then SIGKILL after a grace, and is reaped
 *    before the lease is released: nothing of the body outlives its lease.
 *  - One loop on sigtimedwait reaps, forwards SIGINT/SIGTERM/SIGHUP to the
 *    body's group, and keeps the lease (lease_keeper: renew every ttl/3,
 *    lost when a renewal finds it taken over).
 * The lease itself is only touched through the library.
 *
 * Signals stay blocked in the wrapper until it exits: a SIGTERM that arrives
 * after the child ended must not kill the wrapper before it releases.
 */
#include "cli/cli.h"
#include "lease_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define FORWARDED_SIGNAL_COUNT (sizeof forwarded_signals / sizeof forwarded_signals[0])

/* Everything the body needs, and what it learns. */
struct run_context {
    const struct lease_cli_run_request *request;
    struct lease_cli_run_outcome *outcome;
    struct lease_options options; /* the request's, with process_group set */
    sigset_t wait_set;            /* SIGCHLD + the forwarded signals not ignored at start */
    sigset_t original_mask;       /* restored in the child */
    struct sigaction original_sigchld;
    bool sigchld_changed;
    pid_t child;        /* CMD (gated until the body opens the gate) */
    pid_t group;        /* CMD's own process group; 0 when inherited */
    int gate_fd;        /* write end of the gate; -1 once opened or closed */
    int report_fd;      /* read end of the exec report */
    bool gave_terminal; /* CMD's group was made the terminal's foreground */
};

static int64_t monotonic_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void set_message(struct lease_cli_run_outcome *outcome, const char *what, int error_number) {
    snprintf(outcome->message, sizeof outcome->message, "%s: %s", what, strerror(error_number));
}

/* Blocks SIGCHLD and the forwarded signals so that sigtimedwait collects them.
 * A forwarded signal ignored at start (nohup) stays ignored and unforwarded.
 * SIGCHLD must not be SIG_IGN, or the kernel would reap the child for us. */
static int prepare_signals(struct run_context *context) {
    sigemptyset(&context->wait_set);
    sigaddset(&context->wait_set, SIGCHLD);
    for (size_t i = 0; i < FORWARDED_SIGNAL_COUNT; i++) {
        struct sigaction current;
        if (sigaction(forwarded_signals[i], NULL, &current) == 0 && current.sa_handler == SIG_IGN) continue;
        sigaddset(&context->wait_set, forwarded_signals[i]);
    }
    if (sigaction(SIGCHLD, NULL, &context->original_sigchld) != 0) return -errno;
    if (context->original_sigchld.sa_handler == SIG_IGN || (context->original_sigchld.sa_flags & SA_NOCLDWAIT)) {
        struct sigaction default_action;
        memset(&default_action, 0, sizeof default_action);
        default_action.sa_handler = SIG_DFL;
        sigemptyset(&default_action.sa_mask);
        if (sigaction(SIGCHLD, &default_action, NULL) != 0) return -errno;
        context->sigchld_changed = true;
    }
    if (sigprocmask(SIG_BLOCK, &context->wait_set, &context->original_mask) != 0) return -errno;
    return 0;
}

/* In the child: its own process group, death with the wrapper (without it a
 * SIGKILLed wrapper would leave CMD running), the signal state the wrapper
 * was started with, then the gate: exec only once the parent holds the
 * lease, exit at once when it does not (EOF). Through the gate comes the
 * token for NEO_HEAVY_MAINTENANCE_LEASE_INHERITED_TOKEN, NUL-terminated
 * (empty when inherited: the variable already holds it): the child was
 * forked before the lease existed. The wrapper is single-threaded, so the
 * child may allocate (setenv) after fork. */
static void gated_child(const struct run_context *context, pid_t parent, int gate_fd, int report_fd) {
    if (setpgid(0, 0) != 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(LEASE_CLI_EXIT_WRAPPER);
    if (context->sigchld_changed) sigaction(SIGCHLD, &context->original_sigchld, NULL);
    sigprocmask(SIG_SETMASK, &context->original_mask, NULL);
    char token[LEASE_TEXT_MAX];
    size_t used = 0;
    bool terminated = false;
    while (!terminated && used < sizeof token) {
        ssize_t got = read(gate_fd, token + used, sizeof token - used);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        used += (size_t)got;
        terminated = memchr(token, '\0', used) != NULL;
    }
    if (!terminated) _exit(LEASE_CLI_EXIT_WRAPPER); /* no lease: never run CMD */
    close(gate_fd);
    if (token[0] != '\0' && setenv(LEASE_INHERITED_TOKEN_ENV, token, 1) != 0) _exit(LEASE_CLI_EXIT_WRAPPER);
    char *const *argv = context->request->command_argv;
    execvp(argv[0], argv);
    int error_number = errno;
    ssize_t written = write(report_fd, &error_number, sizeof error_number);
    (void)written; /* nothing more to do if the parent cannot hear us */
    _exit(error_number == ENOENT ? LEASE_CLI_EXIT_NOTFOUND : LEASE_CLI_EXIT_NOEXEC);
}

/* Forks CMD at its gate, in a process group of its own. Returns 0 or the
 * exit code of a failure with outcome->message filled. */
static int fork_gated_child(struct run_context *context) {
    int gate[2], report[2];
    if (pipe2(gate, O_CLOEXEC) != 0) {
        set_message(context->outcome, "cannot create a pipe", errno);
        return LEASE_CLI_EXIT_WRAPPER;
    }
    if (pipe2(report, O_CLOEXEC) != 0) {
        set_message(context->outcome, "cannot create a pipe", errno);
        close(gate[0]);
        close(gate[1]);
        return LEASE_CLI_EXIT_WRAPPER;
    }
    pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) {
        close(gate[1]);
        close(report[0]);
        gated_child(context, parent, gate[0], report[1]);
    }
    int error_number = errno;
    close(gate[0]);
    close(report[1]);
    if (child < 0) {
        close(gate[1]);
        close(report[0]);
        set_message(context->outcome, "cannot fork", error_number);
        return LEASE_CLI_EXIT_WRAPPER;
    }
    /* Also from here, so the group exists before the lease names it. */
    if (setpgid(child, child) != 0 && errno != EACCES)
        set_message(context->outcome, "cannot give the command its own process group", errno);
    context->child = child;
    context->group = child;
    context->gate_fd = gate[1];
    context->report_fd = report[0];
    return 0;
}

/* Reads the exec report: 0 when CMD was executed (the pipe closed on exec),
 * else the errno of the failed execvp. */
static int read_exec_report(int report_fd) {
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

static int exit_code_of(int wait_status, struct lease_cli_run_outcome *outcome) {
    if (WIFSIGNALED(wait_status)) {
        outcome->child_signal = WTERMSIG(wait_status);
        return LEASE_CLI_EXIT_SIGNAL_BASE + WTERMSIG(wait_status);
    }
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    return LEASE_CLI_EXIT_WRAPPER;
}

/* The terminal: when the wrapper runs in the foreground of a terminal, CMD's
 * group gets it (so ^C and reads from the terminal reach CMD) and the wrapper
 * takes it back when CMD ends. SIGTTOU is blocked meanwhile (it is in no
 * wait set, but tcsetpgrp from a background group would raise it). */
static void hand_terminal(struct run_context *context, pid_t group) {
    if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != (group == context->group ? getpgrp() : context->group))
        return;
    sigset_t ttou, previous;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    sigprocmask(SIG_BLOCK, &ttou, &previous);
    if (tcsetpgrp(STDIN_FILENO, group) == 0) context->gave_terminal = group == context->group;
    sigprocmask(SIG_SETMASK, &previous, NULL);
}

/* Opens the gate with the token CMD gets ("" keeps the inherited one): CMD
 * execs. Returns 0 or 126/127 when exec failed. */
static int open_gate(struct run_context *context, const char *token) {
    struct lease_cli_run_outcome *outcome = context->outcome;
    if (context->group != 0) hand_terminal(context, context->group);
    size_t length = strlen(token) + 1;
    ssize_t written = write(context->gate_fd, token, length); /* < PIPE_BUF: one atomic write */
    close(context->gate_fd);
    context->gate_fd = -1;
    if (written != (ssize_t)length) {
        set_message(outcome, "cannot start the command", errno);
        return LEASE_CLI_EXIT_WRAPPER;
    }
    int exec_error = read_exec_report(context->report_fd);
    close(context->report_fd);
    context->report_fd = -1;
    outcome->child_started = exec_error == 0;
    if (exec_error == 0) return 0;
    outcome->exec_error_number = exec_error;
    snprintf(outcome->message, sizeof outcome->message, "cannot run '%.200s': %s", context->request->command_argv[0],
             strerror(exec_error));
    return exec_error == ENOENT ? LEASE_CLI_EXIT_NOTFOUND : LEASE_CLI_EXIT_NOEXEC;
}

/* The lease was not ours to run under (held, error): the gated child never
 * runs CMD; it sees EOF at the gate and is reaped here. */
static void cancel_gated_child(struct run_context *context) {
    if (context->child <= 0) return;
    if (context->gate_fd >= 0) close(context->gate_fd);
    if (context->report_fd >= 0) close(context->report_fd);
    context->gate_fd = context->report_fd = -1;
    kill(context->child, SIGKILL);
    while (waitpid(context->child, NULL, 0) < 0 && errno == EINTR) {}
    context->child = 0;
}

/* Signals what is left of the body: its process group (unless inherited:
 * that group is the holder's) and every child of ours outside that group,
 * which as a subreaper includes the body's orphans that left the group. Each
 * process gets the signal once. */
static void signal_body(const struct run_context *context, int signal_number) {
    if (context->group > 0) kill(-context->group, signal_number);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)getpid());
    FILE *children = fopen(path, "r");
    if (children == NULL) return;
    long pid;
    for (int count = 0; count < 65536 && fscanf(children, "%ld", &pid) == 1; count++)
        if (context->group <= 0 || getpgid((pid_t)pid) != context->group) kill((pid_t)pid, signal_number);
    fclose(children);
}

/* What supervision has seen so far. */
struct supervision {
    bool command_done;
    int exit_code;
    bool ending;        /* SIGTERM sent to what is left of the body */
    bool sigterm_sent;  /* the body has had a SIGTERM (forwarded or ours): never a second */
    int64_t kill_at_ms; /* then SIGKILL */
    bool killed;
};

/* Reaps every child that has ended: CMD (its status) and orphans. Returns
 * true when no child is left at all (the whole body is gone). */
static bool reap(struct run_context *context, struct supervision *state) {
    for (int round = 0; round < 65536; round++) {
        int wait_status = 0;
        pid_t done = waitpid(-1, &wait_status, WNOHANG);
        if (done == 0) return false;
        if (done < 0) return errno == ECHILD;
        if (done == context->child) {
            state->command_done = true;
            state->exit_code = exit_code_of(wait_status, context->outcome);
            if (context->gave_terminal) hand_terminal(context, getpgrp());
        }
    }
    return false;
}

static void begin_ending(struct run_context *context, struct supervision *state) {
    if (state->ending) return;
    state->ending = true;
    state->kill_at_ms = monotonic_ms() + LEASE_CLI_KILL_GRACE_MS;
    if (!state->sigterm_sent) signal_body(context, SIGTERM);
    state->sigterm_sent = true;
    signal_body(context, SIGCONT); /* a stopped process must run to act on it */
}

/* Keeps the lease: renews when due; a lost lease ends the body. */
static void keep_lease(struct run_context *context, struct lease_keeper *keeper, struct supervision *state) {
    const struct lease_cli_run_request *request = context->request;
    enum lease_status status = lease_keeper_tick(keeper, request->ops, request->env, &context->options, monotonic_ms());
    if (status == LEASE_STATUS_LOST) {
        fprintf(stderr, "lease: the lease was lost while the command ran (%s); ending the command\n", keeper->detail);
        context->outcome->lost = true;
        begin_ending(context, state);
    } else if (status == LEASE_STATUS_ERROR && keeper->cannot_renew) {
        fprintf(stderr, "lease: warning: implementation '%s' cannot renew; the lease will expire by its TTL\n",
                lease_impl_name(request->ops));
    } else if (status == LEASE_STATUS_ERROR) {
        fprintf(stderr, "lease: warning: renewal failed: %s; will retry\n", keeper->detail);
    }
}

/* The next instant the loop must wake: a renewal or the SIGKILL deadline. */
static int64_t next_wake_ms(const struct lease_keeper *keeper, const struct supervision *state) {
    int64_t wake_ms = INT64_MAX;
    if (keeper->token[0] != '\0' && !keeper->lost && !keeper->cannot_renew && !state->command_done)
        wake_ms = keeper->next_ms;
    if (state->ending && !state->killed && state->kill_at_ms < wake_ms) wake_ms = state->kill_at_ms;
    return wake_ms;
}

/* Waits until the whole body is gone, forwarding signals to it, keeping the
 * lease, and ending what is left of the body once CMD has ended. The loop
 * ends when the body does: there is no other bound, by design, as for
 * wait(1); every wait inside it is bounded by the next deadline. */
static int supervise(struct run_context *context, struct lease_keeper *keeper) {
    struct supervision state = {.exit_code = LEASE_CLI_EXIT_WRAPPER};
    for (;;) {
        if (reap(context, &state)) return state.exit_code;
        if (state.command_done) begin_ending(context, &state);
        int64_t now_ms = monotonic_ms();
        if (state.ending && !state.killed && now_ms >= state.kill_at_ms) {
            state.killed = true;
            signal_body(context, SIGKILL);
        }
        keep_lease(context, keeper, &state);
        int64_t wake_ms = next_wake_ms(keeper, &state);
        siginfo_t info;
        int signal_number;
        if (wake_ms == INT64_MAX) {
            signal_number = sigwaitinfo(&context->wait_set, &info);
        } else {
            int64_t wait_ms = wake_ms - monotonic_ms();
            if (wait_ms < 0) wait_ms = 0;
            struct timespec timeout = {.tv_sec = wait_ms / 1000, .tv_nsec = (wait_ms % 1000) * 1000000};
            signal_number = sigtimedwait(&context->wait_set, &info, &timeout);
        }
        if (signal_number == SIGTERM && state.sigterm_sent) continue; /* each process gets it once */
        if (signal_number == SIGTERM) state.sigterm_sent = true;
        if (signal_number > 0 && signal_number != SIGCHLD) signal_body(context, signal_number);
    }
}

void lease_cli_report_recovery(const char *path, const struct lease_result *result) {
    if (result->status != LEASE_STATUS_ACQUIRED_AFTER_STALE && result->status != LEASE_STATUS_ACQUIRED_AFTER_MALFORMED)
        return;
    char escaped_path[LEASE_PATH_MAX * 4 + 1], detail[LEASE_DETAIL_MAX * 4 + 1];
    lease_escape_text(path, escaped_path, sizeof escaped_path);
    lease_escape_text(result->detail, detail, sizeof detail);
    fprintf(stderr, "lease: recovered a %s lease at %s%s%s\n",
            result->status == LEASE_STATUS_ACQUIRED_AFTER_STALE ? "stale" : "malformed", escaped_path,
            detail[0] != '\0' ? ": " : "", detail);
}

/* The lease body: opens the gate and supervises CMD and its tree; returns
 * the wrapper's exit code. */
static int run_body(void *argument, const struct lease_result *lease) {
    struct run_context *context = argument;
    context->outcome->body_ran = true;
    lease_cli_report_recovery(context->options.path, lease);
    const char *token = "";
    if (lease_status_is_acquired(lease->status)) {
        token = lease->lease.token;
    } else if (context->group != 0) {
        /* Inherited: the body belongs to the holder's group (whose lease
         * names it), not to a group of its own. */
        if (setpgid(context->child, getpgrp()) != 0)
            set_message(context->outcome, "cannot move the command into the lease holder's group", errno);
        context->group = 0;
    }
    struct lease_keeper keeper;
    lease_keeper_start(&keeper, &context->options, lease, monotonic_ms());
    int exit_code = open_gate(context, token);
    if (exit_code == 0)
        exit_code = supervise(context, &keeper);
    else
        supervise(context, &keeper); /* reaps the child that failed to exec */
    context->outcome->exit_code = exit_code;
    return exit_code;
}

enum lease_status lease_cli_run(const struct lease_cli_run_request *request, struct lease_result *result,
                                struct lease_cli_run_outcome *outcome) {
    memset(outcome, 0, sizeof *outcome);
    struct run_context context;
    memset(&context, 0, sizeof context);
    context.request = request;
    context.outcome = outcome;
    context.options = *request->options;
    context.gate_fd = context.report_fd = -1;
    outcome->exit_code = LEASE_CLI_EXIT_WRAPPER;
    /* A subreaper: the body's orphans come back to us, so none escapes the
     * end of the body. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    int status = prepare_signals(&context);
    if (status != 0) {
        set_message(outcome, "cannot prepare signal handling", -status);
        return lease_result_error(result, -status, "signal", request->options->path);
    }
    if (fork_gated_child(&context) != 0) return lease_result_error(result, EAGAIN, "fork", request->options->path);
    context.options.process_group = context.group;
    enum lease_status run_status = lease_run(request->ops, request->env, &context.options, run_body, &context, result);
    if (!outcome->body_ran) {
        cancel_gated_child(&context);
        /* Back to the signal state we started with: a --wait loop calls us
         * again, and the next command must not inherit blocked signals. */
        if (context.sigchld_changed) sigaction(SIGCHLD, &context.original_sigchld, NULL);
        sigprocmask(SIG_SETMASK, &context.original_mask, NULL);
    }
    return run_status;
}
