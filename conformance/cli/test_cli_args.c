/*
 * test_cli_args.c: unit tests of the pure `lease` command-line parser
 * (src/cli/cli_args.c): the boundaries the integration suite cannot reach
 * cheaply (limits, pointer identity, what a failed parse still reports).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"

#define WORDS_MAX 32

/* argv as main gets it, from literals (which -Wwrite-strings makes const;
 * the parser never writes through argv). words ends with NULL. */
static int build_argv(const char *const *words, char **argv) {
    int argc = 0;
    for (; words[argc] != NULL && argc < WORDS_MAX - 1; argc++) argv[argc] = (char *)(uintptr_t)words[argc];
    argv[argc] = NULL;
    return argc;
}

static int parse_words(const char *const *words, struct lease_cli_args *args, char *message, size_t message_size) {
    char *argv[WORDS_MAX];
    int argc = build_argv(words, argv);
    return lease_cli_parse(argc, argv, args, message, message_size);
}

#define PARSE(args, message, ...) \
    parse_words((const char *const[]){"lease", __VA_ARGS__, NULL}, (args), (message), sizeof(message))

static void test_run_points_command_argv_past_the_separator(void **state) {
    (void)state;
    struct lease_cli_args args;
    char message[256];
    char *argv[WORDS_MAX];
    int argc =
        build_argv((const char *const[]){"lease", "run", "--owner", "o", "--", "cmd", "--json", "x", NULL}, argv);
    assert_int_equal(lease_cli_parse(argc, argv, &args, message, sizeof message), 0);
    assert_int_equal(args.command, LEASE_CLI_COMMAND_RUN);
    assert_ptr_equal(args.command_argv, argv + 5);
    assert_int_equal(args.command_argc, 3);
    assert_null(args.command_argv[args.command_argc]);
    /* --json after "--" belongs to CMD, not to the wrapper */
    assert_false(args.json);
    assert_string_equal(args.owner, "o");
}

static void test_equals_form_and_separate_value_are_equivalent(void **state) {
    (void)state;
    struct lease_cli_args args;
    char message[256];
    assert_int_equal(PARSE(&args, message, "acquire", "--owner=a=b", "--reason", "r", "--ttl-ms=5"), 0);
    assert_string_equal(args.owner, "a=b");
    assert_string_equal(args.reason, "r");
    assert_true(args.has_ttl_ms);
    assert_int_equal(args.ttl_ms, 5);
}

static void test_ttl_limits(void **state) {
    (void)state;
    struct lease_cli_args args;
    char message[256];
    assert_int_equal(PARSE(&args, message, "acquire", "--owner", "o", "--ttl-ms", "1"), 0);
    assert_int_equal(PARSE(&args, message, "acquire", "--owner", "o", "--ttl-ms", "3155760000000"), 0);
    assert_int_equal(args.ttl_ms, LEASE_CLI_TTL_MS_MAX);
    const char *refused[] = {"0",
                             "3155760000001",
                             "9223372036854775807",
                             "9223372036854775808",
                             "99999999999999999999",
                             "-1",
                             "+5",
                             " 5",
                             "5 ",
                             "0x10",
                             "1e3",
                             ""};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const char *const words[] = {"lease", "acquire", "--owner", "o", "--ttl-ms", refused[i], NULL};
        assert_int_equal(parse_words(words, &args, message, sizeof message), LEASE_CLI_EXIT_USAGE);
        assert_non_null(strstr(message, "--ttl-ms"));
    }
}

static void test_held_exit_limits(void **state) {
    (void)state;
    struct lease_cli_args args;
    char message[256];
    assert_int_equal(PARSE(&args, message, "run", "--owner", "o", "--held-exit", "255", "--", "true"), 0);
    assert_int_equal(args.held_exit, 255);
    assert_int_equal(PARSE(&args, message, "run", "--owner", "o", "--held-exit", "0", "--", "true"), 0);
    assert_true(args.has_held_exit);
    assert_int_equal(PARSE(&args, message, "run", "--owner", "o", "--held-exit", "256", "--", "true"),
                     LEASE_CLI_EXIT_USAGE);
}

static void test_help_wins_over_missing_required_options(void **state) {
    (void)state;
    struct lease_cli_args args;
    char message[256];
    assert_int_equal(PARSE(&args, message, "run", "--help"), 0);
    assert_true(args.help);
    assert_int_equal(args.command, LEASE_CLI_COMMAND_RUN);
    assert_int_equal(PARSE(&args, message, "release", "-h"), 0);
    assert_true(args.help);
    assert_int_equal(PARSE(&args, message, "--help"), 0);
    assert_int_equal(args.command, LEASE_CLI_COMMAND_NONE);
    assert_non_null(strstr(lease_cli_usage(LEASE_CLI_COMMAND_RUN), "usage: lease run"));
}

static void test_failed_parse_still_reports_json_and_a_message(void **state) {
    (void)state;
    struct lease_cli_args args;
    char message[256];
    assert_int_equal(PARSE(&args, message, "acquire", "--json", "--ttl-ms", "0", "--owner", "o"), LEASE_CLI_EXIT_USAGE);
    assert_true(args.json);
    assert_true(strlen(message) > 0);
    assert_null(strchr(message, '\n'));
}

static void test_owner_values_that_the_file_cannot_hold_are_refused(void **state) {
    (void)state;
    struct lease_cli_args args;
    char message[256];
    const char *refused[] = {"", "a\nb", "a\x1b[2J", "a\x7f", "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const char *const words[] = {"lease", "acquire", "--owner", refused[i], NULL};
        assert_int_equal(parse_words(words, &args, message, sizeof message), LEASE_CLI_EXIT_USAGE);
    }
    assert_int_equal(PARSE(&args, message, "acquire", "--owner", "caf\xc3\xa9 \xf0\x9f\x98\x80"), 0);
}

static void test_duplicate_and_misplaced_options_are_refused(void **state) {
    (void)state;
    struct lease_cli_args args;
    char message[256];
    assert_int_equal(PARSE(&args, message, "acquire", "--owner", "a", "--owner=b"), LEASE_CLI_EXIT_USAGE);
    assert_int_equal(PARSE(&args, message, "inspect", "--token", "t"), LEASE_CLI_EXIT_USAGE);
    assert_int_equal(PARSE(&args, message, "acquire", "--owner", "--json"), LEASE_CLI_EXIT_USAGE);
    assert_int_equal(PARSE(&args, message, "acquire", "--owner=--json"), 0);
    assert_int_equal(PARSE(&args, message, "inspect", "--", "x"), LEASE_CLI_EXIT_USAGE);
    assert_int_equal(PARSE(&args, message, "--json", "inspect"), LEASE_CLI_EXIT_USAGE);
}

static void test_tiny_message_buffers_are_safe(void **state) {
    (void)state;
    struct lease_cli_args args;
    char message[4];
    assert_int_equal(PARSE(&args, message, "frobnicate"), LEASE_CLI_EXIT_USAGE);
    assert_int_equal(message[3], '\0');
    assert_int_equal(parse_words((const char *const[]){"lease", "frobnicate", NULL}, &args, NULL, 0),
                     LEASE_CLI_EXIT_USAGE);
    assert_int_equal(lease_cli_parse(0, NULL, &args, NULL, 0), LEASE_CLI_EXIT_USAGE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_points_command_argv_past_the_separator),
        cmocka_unit_test(test_equals_form_and_separate_value_are_equivalent),
        cmocka_unit_test(test_ttl_limits),
        cmocka_unit_test(test_held_exit_limits),
        cmocka_unit_test(test_help_wins_over_missing_required_options),
        cmocka_unit_test(test_failed_parse_still_reports_json_and_a_message),
        cmocka_unit_test(test_owner_values_that_the_file_cannot_hold_are_refused),
        cmocka_unit_test(test_duplicate_and_misplaced_options_are_refused),
        cmocka_unit_test(test_tiny_message_buffers_are_safe),
    };
    return cmocka_run_group_tests_name("lease_cli_parse", tests, NULL, NULL);
}
