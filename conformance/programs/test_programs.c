/*
 * test_programs.c: the four maintenance programs, run as child processes,
 * against golden outputs (fixtures/golden/) and fixed lease files
 * (fixtures/leases/). The same cases run over every C implementation the
 * programs can select (LEASE_IMPLEMENTATION): cmocka's prestate carries the
 * (program, implementation) pair into each test.
 *
 * Each test gets a private directory: the lease path, the body log and the
 * captured output live there, and teardown removes it. A child that does not
 * finish within CHILD_TIMEOUT_MS is killed and the test fails.
 *
 * Environment: CONFORMANCE_BIN (default build/bin), CONFORMANCE_FIXTURES
 * (default fixtures).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lease_impl.h"

#define CHILD_TIMEOUT_MS 20000
#define POLL_MS 2
#define TEXT_MAX 16384
#define PATH_SIZE 1024
#define ENV_EXTRA_MAX 4

static const char *const program_names[] = {"sandman", "kbSync", "backup", "syncGithubWorkflow"};
static const char *const failure_messages[] = {
    "❌ REM cycle failed:", "❌ Synchronization Failed:", "❌ Backup failed:", "❌ Sync failed:"};
#define PROGRAM_COUNT (sizeof program_names / sizeof program_names[0])
/* The implementations are the registry's (src/lease_implementations.h). */
#define IMPLEMENTATION_MAX 16

/* What each test receives (prestate) and what setup adds (the directory). */
struct program_case {
    size_t program_index;
    const char *implementation;
    const struct lease_ops *ops;
    char directory[256]; /* mkdtemp under /tmp: short, so the paths below always fit */
    char lease_path[PATH_SIZE];
    char log_path[PATH_SIZE];
};

struct child_run {
    int exit_status; /* -1 when killed by a signal */
    int signal_number;
    char out[TEXT_MAX];
    char err[TEXT_MAX];
};

static const char *bin_directory(void) {
    const char *value = getenv("CONFORMANCE_BIN");
    return value != NULL && *value != '\0' ? value : "build/bin";
}

static const char *fixtures_directory(void) {
    const char *value = getenv("CONFORMANCE_FIXTURES");
    return value != NULL && *value != '\0' ? value : "fixtures";
}

static const char *program_of(const struct program_case *test_case) {
    return program_names[test_case->program_index];
}

/* Reads a whole file into buffer (NUL-terminated); returns its length or -1. */
static long read_file(const char *path, char *buffer, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t used = 0;
    for (int attempt = 0; attempt < 1024 && used + 1 < size; attempt++) {
        ssize_t got = read(fd, buffer + used, size - 1 - used);
        if (got <= 0) break;
        used += (size_t)got;
    }
    close(fd);
    buffer[used] = '\0';
    return (long)used;
}

static void write_file(const char *path, const char *bytes, size_t length) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, length), (ssize_t)length);
    close(fd);
}

static void fixture_path(char *buffer, size_t size, const char *relative) {
    snprintf(buffer, size, "%s/%s", fixtures_directory(), relative);
}

/* Copies fixtures/leases/<name> to the case's lease path; returns its bytes in copy. */
static void install_lease(const struct program_case *test_case, const char *name, char *copy, size_t size) {
    char source[PATH_SIZE];
    snprintf(source, sizeof source, "%s/leases/%s", fixtures_directory(), name);
    long length = read_file(source, copy, size);
    if (length < 0) fail_msg("missing fixture %s", source);
    char parent[PATH_SIZE];
    snprintf(parent, sizeof parent, "%s/lease", test_case->directory);
    mkdir(parent, 0755);
    write_file(test_case->lease_path, copy, (size_t)length);
}

static void child_exec(const struct program_case *test_case, const char *const *extra, const char *out_path,
                       const char *err_path) {
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0) _exit(121);
    unsetenv("NEO_HEAVY_MAINTENANCE_LEASE_INHERITED_TOKEN");
    unsetenv("MAINTENANCE_BODY");
    unsetenv("MAINTENANCE_SLEEP_MS");
    unsetenv("MAINTENANCE_GATE_FILE");
    unsetenv("MAINTENANCE_READY_FILE");
    unsetenv("MAINTENANCE_TTL_MS");
    setenv("HEAVY_MAINTENANCE_LEASE_PATH", test_case->lease_path, 1);
    setenv("MAINTENANCE_LOG", test_case->log_path, 1);
    setenv("LEASE_IMPLEMENTATION", test_case->implementation, 1);
    for (size_t i = 0; i < ENV_EXTRA_MAX && extra != NULL && extra[i] != NULL; i++) putenv((char *)(uintptr_t)extra[i]);
    char program[PATH_SIZE];
    snprintf(program, sizeof program, "%s/%s", bin_directory(), program_of(test_case));
    execl(program, program, (char *)NULL);
    _exit(127);
}

static void sleep_ms(long duration_ms) {
    struct timespec pause_time = {.tv_sec = duration_ms / 1000, .tv_nsec = (duration_ms % 1000) * 1000000L};
    nanosleep(&pause_time, NULL);
}

/* Runs the case's program with extra "NAME=value" settings (NULL-terminated)
 * and captures its exit status and output. */
static void run_program(const struct program_case *test_case, const char *const *extra, struct child_run *run) {
    char out_path[PATH_SIZE + 16];
    char err_path[PATH_SIZE + 16];
    snprintf(out_path, sizeof out_path, "%s/stdout", test_case->directory);
    snprintf(err_path, sizeof err_path, "%s/stderr", test_case->directory);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) child_exec(test_case, extra, out_path, err_path);
    int status = 0;
    pid_t done = 0;
    for (long waited_ms = 0; waited_ms < CHILD_TIMEOUT_MS && done == 0; waited_ms += POLL_MS) {
        done = waitpid(pid, &status, WNOHANG);
        if (done == 0) sleep_ms(POLL_MS);
    }
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("%s did not finish within %d ms", program_of(test_case), CHILD_TIMEOUT_MS);
    }
    run->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run->signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (read_file(out_path, run->out, sizeof run->out) < 0 || read_file(err_path, run->err, sizeof run->err) < 0)
        fail_msg("could not read the child's output");
}

static void expect_exit(const struct child_run *run, int expected) {
    if (run->exit_status != expected)
        fail_msg("expected exit %d, got %d (signal %d)\nstdout: %s\nstderr: %s", expected, run->exit_status,
                 run->signal_number, run->out, run->err);
}

/* Compares stdout with fixtures/golden/<relative>, where {program} in the
 * golden file stands for the program name. */
static void expect_golden(const struct program_case *test_case, const char *relative, const char *got) {
    char path[PATH_SIZE];
    char golden[TEXT_MAX];
    fixture_path(path, sizeof path, relative);
    char golden_path[PATH_SIZE + 16];
    snprintf(golden_path, sizeof golden_path, "%s", path);
    if (read_file(golden_path, golden, sizeof golden) < 0) fail_msg("missing golden file %s", golden_path);
    char expected[TEXT_MAX];
    size_t used = 0;
    const char *cursor = golden;
    for (int piece = 0; piece < 64 && *cursor != '\0'; piece++) {
        const char *mark = strstr(cursor, "{program}");
        size_t literal = mark != NULL ? (size_t)(mark - cursor) : strlen(cursor);
        used += (size_t)snprintf(expected + used, sizeof expected - used, "%.*s%s", (int)literal, cursor,
                                 mark != NULL ? program_of(test_case) : "");
        cursor = mark != NULL ? mark + strlen("{program}") : cursor + literal;
        assert_true(used < sizeof expected);
    }
    if (strcmp(expected, got) != 0)
        fail_msg("stdout differs from %s\n--- expected\n%s--- got\n%s---", golden_path, expected, got);
}

static bool lease_exists(const struct program_case *test_case) {
    struct stat info;
    return lstat(test_case->lease_path, &info) == 0;
}

static void expect_lease_unchanged(const struct program_case *test_case, const char *before) {
    char after[TEXT_MAX];
    if (read_file(test_case->lease_path, after, sizeof after) < 0)
        fail_msg("FOREIGN RELEASE: the holder's lease file was removed");
    if (strcmp(before, after) != 0)
        fail_msg("the holder's lease file changed\n--- before\n%s\n--- after\n%s", before, after);
}

static int count_log_events(const struct program_case *test_case, const char *event) {
    char log[TEXT_MAX];
    if (read_file(test_case->log_path, log, sizeof log) < 0) return 0;
    int count = 0;
    size_t event_length = strlen(event);
    for (const char *line = log; line != NULL && *line != '\0' && count < 1000;) {
        if (strncmp(line, event, event_length) == 0 && line[event_length] == ' ') count++;
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    return count;
}

static int count_lines(const char *text) {
    int lines = 0;
    for (const char *cursor = text; *cursor != '\0'; cursor++) lines += *cursor == '\n';
    return lines;
}

/* ---- setup / teardown ----------------------------------------------------- */

static int setup_case(void **state) {
    struct program_case *test_case = *state;
    snprintf(test_case->directory, sizeof test_case->directory, "/tmp/lease-programs-XXXXXX");
    if (mkdtemp(test_case->directory) == NULL) return -1;
    snprintf(test_case->lease_path, sizeof test_case->lease_path, "%s/lease/heavy-maintenance-lease.json",
             test_case->directory);
    snprintf(test_case->log_path, sizeof test_case->log_path, "%s/bodies.log", test_case->directory);
    return 0;
}

static int remove_entry(const char *path, const struct stat *info, int type, struct FTW *walk) {
    (void)info;
    (void)type;
    (void)walk;
    return remove(path);
}

static int teardown_case(void **state) {
    struct program_case *test_case = *state;
    return nftw(test_case->directory, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the cases ------------------------------------------------------------- */

static void acquired_prints_banner_runs_body_and_releases(void **state) {
    struct program_case *test_case = *state;
    struct child_run run;
    assert_false(lease_exists(test_case));
    run_program(test_case, NULL, &run);
    expect_exit(&run, 0);
    expect_golden(test_case, "golden/acquired.stdout", run.out);
    assert_string_equal(run.err, "");
    assert_false(lease_exists(test_case));
    assert_int_equal(count_log_events(test_case, "enter"), 1);
    assert_int_equal(count_log_events(test_case, "exit"), 1);
}

static void held_prints_deferral_and_leaves_lease_unchanged(void **state) {
    struct program_case *test_case = *state;
    char before[TEXT_MAX];
    struct child_run run;
    install_lease(test_case, "original-active.json", before, sizeof before);
    run_program(test_case, NULL, &run);
    expect_exit(&run, 0);
    expect_golden(test_case, "golden/held.stdout", run.out);
    expect_lease_unchanged(test_case, before);
    assert_int_equal(count_log_events(test_case, "enter"), 0);
}

static void held_escapes_terminal_sequences_in_holder(void **state) {
    struct program_case *test_case = *state;
    char before[TEXT_MAX];
    struct child_run run;
    install_lease(test_case, "escaped-owner.json", before, sizeof before);
    run_program(test_case, NULL, &run);
    expect_exit(&run, 0);
    expect_golden(test_case, "golden/held-escaped.stdout", run.out);
    expect_lease_unchanged(test_case, before);
    assert_null(strchr(run.out, '\x1b'));
}

static void stale_pid_lease_is_recovered_with_one_stderr_line(void **state) {
    struct program_case *test_case = *state;
    if (!test_case->ops->traits.checks_pid)
        skip(); /* no pid check by design (neo-v1): the dead holder wedges it until expiresAt */
    char before[TEXT_MAX];
    struct child_run run;
    install_lease(test_case, "stale-dead-pid.json", before, sizeof before);
    run_program(test_case, NULL, &run);
    expect_exit(&run, 0);
    expect_golden(test_case, "golden/acquired-after-stale.stdout", run.out);
    assert_int_equal(count_lines(run.err), 1);
    assert_non_null(strstr(run.err, "acquired-after-stale"));
    assert_false(lease_exists(test_case));
    assert_int_equal(count_log_events(test_case, "enter"), 1);
}

static void malformed_lease_is_recovered(void **state) {
    struct program_case *test_case = *state;
    char before[TEXT_MAX];
    struct child_run run;
    install_lease(test_case, "malformed.json", before, sizeof before);
    run_program(test_case, NULL, &run);
    expect_exit(&run, 0);
    expect_golden(test_case, "golden/acquired-after-malformed.stdout", run.out);
    assert_int_equal(count_lines(run.err), 1);
    assert_non_null(strstr(run.err, "acquired-after-malformed"));
    assert_false(lease_exists(test_case));
}

static void body_failure_exits_1_with_own_message_and_releases(void **state) {
    struct program_case *test_case = *state;
    static const char *const extra[] = {"MAINTENANCE_BODY=fail", NULL};
    struct child_run run;
    run_program(test_case, extra, &run);
    expect_exit(&run, 1);
    expect_golden(test_case, "golden/failed.stdout", run.out);
    const char *message = failure_messages[test_case->program_index];
    if (strncmp(run.err, message, strlen(message)) != 0 || count_lines(run.err) != 1)
        fail_msg("expected one stderr line starting '%s', got: %s", message, run.err);
    assert_false(lease_exists(test_case));
    assert_int_equal(count_log_events(test_case, "exit"), 1);
}

static void lease_error_fails_closed_naming_path(void **state) {
    struct program_case *test_case = *state;
    char parent[PATH_SIZE];
    snprintf(parent, sizeof parent, "%s/lease", test_case->directory);
    assert_int_equal(mkdir(parent, 0755), 0);
    assert_int_equal(mkdir(test_case->lease_path, 0755), 0); /* the lease path is a directory */
    struct child_run run;
    run_program(test_case, NULL, &run);
    expect_exit(&run, 1);
    assert_string_equal(run.out, "");
    if (strncmp(run.err, "❌", strlen("❌")) != 0 || strstr(run.err, test_case->lease_path) == NULL)
        fail_msg("expected a ❌ line naming %s, got: %s", test_case->lease_path, run.err);
    assert_int_equal(count_log_events(test_case, "enter"), 0);
}

static void inherited_token_runs_body_without_touching_lease(void **state) {
    struct program_case *test_case = *state;
    static const char *const extra[] = {
        "NEO_HEAVY_MAINTENANCE_LEASE_INHERITED_TOKEN=3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", NULL};
    char before[TEXT_MAX];
    struct child_run run;
    install_lease(test_case, "original-active.json", before, sizeof before);
    run_program(test_case, extra, &run);
    expect_exit(&run, 0);
    expect_golden(test_case, "golden/inherited.stdout", run.out);
    expect_lease_unchanged(test_case, before);
    assert_int_equal(count_log_events(test_case, "enter"), 1);
}

static void mismatched_inherited_token_warns_and_defers(void **state) {
    struct program_case *test_case = *state;
    static const char *const extra[] = {"NEO_HEAVY_MAINTENANCE_LEASE_INHERITED_TOKEN=not-the-token", NULL};
    char before[TEXT_MAX];
    struct child_run run;
    install_lease(test_case, "original-active.json", before, sizeof before);
    run_program(test_case, extra, &run);
    expect_exit(&run, 0);
    expect_golden(test_case, "golden/held.stdout", run.out);
    assert_int_equal(count_lines(run.err), 1);
    expect_lease_unchanged(test_case, before);
}

static void unknown_body_value_exits_64_and_runs_nothing(void **state) {
    struct program_case *test_case = *state;
    static const char *const extra[] = {"MAINTENANCE_BODY=explode", NULL};
    struct child_run run;
    run_program(test_case, extra, &run);
    expect_exit(&run, 64);
    assert_non_null(strstr(run.err, "MAINTENANCE_BODY"));
    assert_false(lease_exists(test_case));
    assert_int_equal(count_log_events(test_case, "enter"), 0);
}

static void unknown_implementation_exits_64(void **state) {
    struct program_case *test_case = *state;
    static const char *const extra[] = {"LEASE_IMPLEMENTATION=no-such-implementation", NULL};
    struct child_run run;
    run_program(test_case, extra, &run);
    expect_exit(&run, 64);
    assert_false(lease_exists(test_case));
}

/* ---- the table: every case x program x implementation ----------------------- */

static const struct {
    const char *name;
    CMUnitTestFunction function;
} cases[] = {
#define CASE(function) \
    { #function, function }
    CASE(acquired_prints_banner_runs_body_and_releases),
    CASE(held_prints_deferral_and_leaves_lease_unchanged),
    CASE(held_escapes_terminal_sequences_in_holder),
    CASE(stale_pid_lease_is_recovered_with_one_stderr_line),
    CASE(malformed_lease_is_recovered),
    CASE(body_failure_exits_1_with_own_message_and_releases),
    CASE(lease_error_fails_closed_naming_path),
    CASE(inherited_token_runs_body_without_touching_lease),
    CASE(mismatched_inherited_token_warns_and_defers),
    CASE(unknown_body_value_exits_64_and_runs_nothing),
    CASE(unknown_implementation_exits_64),
#undef CASE
};
#define CASE_COUNT (sizeof cases / sizeof cases[0])
#define TEST_COUNT (CASE_COUNT * PROGRAM_COUNT)
#define NAME_SIZE 160

static struct program_case states[IMPLEMENTATION_MAX][TEST_COUNT];
static char names[IMPLEMENTATION_MAX][TEST_COUNT][NAME_SIZE];
static struct CMUnitTest tests[IMPLEMENTATION_MAX][TEST_COUNT];

int main(void) {
    int failures = 0;
    if (lease_impl_count() > IMPLEMENTATION_MAX) {
        fprintf(stderr, "test_programs: %zu implementations registered, at most %d fit: raise IMPLEMENTATION_MAX\n",
                lease_impl_count(), IMPLEMENTATION_MAX);
        return 1;
    }
    for (size_t impl = 0; impl < lease_impl_count(); impl++) {
        const struct lease_ops *ops = lease_impl_at(impl);
        const char *implementation = ops->name;
        if (ops->traits.outside_the_world) {
            printf("test_programs: %s skipped: it keeps the lease outside files (its suite: make test-etcd)\n",
                   implementation);
            continue;
        }
        size_t index = 0;
        for (size_t program = 0; program < PROGRAM_COUNT; program++) {
            for (size_t c = 0; c < CASE_COUNT; c++, index++) {
                states[impl][index] =
                    (struct program_case){.program_index = program, .implementation = implementation, .ops = ops};
                snprintf(names[impl][index], NAME_SIZE, "%s/%s/%s", implementation, program_names[program],
                         cases[c].name);
                tests[impl][index] = (struct CMUnitTest){.name = names[impl][index],
                                                         .test_func = cases[c].function,
                                                         .setup_func = setup_case,
                                                         .teardown_func = teardown_case,
                                                         .initial_state = &states[impl][index]};
            }
        }
        char group[64];
        /* The group name becomes the JUnit file name (CMOCKA_XML_FILE=%g.xml): no spaces. */
        snprintf(group, sizeof group, "programs_%s", implementation);
        for (char *cursor = group; *cursor != '\0'; cursor++) *cursor = *cursor == '-' ? '_' : *cursor;
        printf("=== %s\n", group);
        fflush(stdout);
        failures += _cmocka_run_group_tests(group, tests[impl], TEST_COUNT, NULL, NULL);
    }
    return failures == 0 ? 0 : 1;
}
