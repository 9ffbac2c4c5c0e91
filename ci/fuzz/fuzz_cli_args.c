/*
 * fuzz_cli_args.c: libFuzzer target for the `lease` command-line parser.
 *
 * The input is an argument vector: NUL bytes separate the arguments (at most
 * FUZZ_ARGUMENT_MAX of them); argv[0] is always "lease". lease_cli_parse is
 * pure (no printing, no exit, no environment), so it is called directly.
 *
 * Invariants: the result is 0 or 64; 64 comes with a non-empty one-line
 * message; 0 comes with a command or --help; every string in the struct
 * points into argv; ttl and --held-exit are in range; run's command vector is
 * NULL-terminated and lies inside argv after a `--`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ARGUMENT_MAX 64
#define FUZZ_MESSAGE_SIZE 256

/* A broken invariant names itself on stderr, then aborts for libFuzzer. */
#define check(condition) ((condition) ? (void)0 : invariant_failed(#condition, __LINE__))
static void invariant_failed(const char *condition, int line) {
    fprintf(stderr, "invariant failed: %s (%s:%d)\n", condition, __FILE__, line);
    abort();
}

/* NULL or one of argv's strings (a pointer to its start). */
static bool points_into(const char *text, int argc, char *const argv[]) {
    if (text == NULL) return true;
    for (int index = 0; index < argc; index++) {
        size_t length = strlen(argv[index]);
        if (text >= argv[index] && text <= argv[index] + length) return true;
    }
    return false;
}

static void check_success(const struct lease_cli_args *args, int argc, char *const argv[]) {
    check(args->command != LEASE_CLI_COMMAND_NONE || args->help);
    check(points_into(args->owner, argc, argv));
    check(points_into(args->reason, argc, argv));
    check(points_into(args->lease_path, argc, argv));
    check(points_into(args->token, argc, argv));
    check(points_into(args->impl_name, argc, argv));
    check(!args->has_ttl_ms || (args->ttl_ms > 0 && args->ttl_ms <= LEASE_CLI_TTL_MS_MAX));
    check(!args->has_held_exit || (args->held_exit >= 0 && args->held_exit <= 255));
    check(lease_cli_command_name(args->command) != NULL);
    check(lease_cli_usage(args->command) != NULL);
    if (args->command == LEASE_CLI_COMMAND_RUN && !args->help) {
        check(args->owner != NULL);
        check(args->command_argc > 0 && args->command_argv != NULL);
        check(args->command_argv > argv && args->command_argv + args->command_argc <= argv + argc);
        check(args->command_argv[args->command_argc] == NULL);
        check(strcmp(args->command_argv[-1], "--") == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* A private, NUL-terminated copy: the parser may keep pointers into it. */
    char *copy = malloc(size + 1);
    if (copy == NULL) return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';

    static char program_name[] = "lease";
    char *argv[FUZZ_ARGUMENT_MAX + 2];
    int argc = 0;
    argv[argc++] = program_name;
    size_t start = 0;
    for (size_t index = 0; index <= size && argc < FUZZ_ARGUMENT_MAX + 1; index++) {
        if (index == size || copy[index] == '\0') {
            if (index > start || index < size) argv[argc++] = copy + start;
            start = index + 1;
        }
    }
    argv[argc] = NULL;

    struct lease_cli_args args;
    char message[FUZZ_MESSAGE_SIZE];
    memset(&args, 0xa5, sizeof args);
    memset(message, 'x', sizeof message);
    int status = lease_cli_parse(argc, argv, &args, message, sizeof message);
    check(status == 0 || status == LEASE_CLI_EXIT_USAGE);
    if (status == 0) {
        check_success(&args, argc, argv);
    } else {
        check(memchr(message, '\0', sizeof message) != NULL);
        check(message[0] != '\0');
        check(strchr(message, '\n') == NULL);
    }
    free(copy);
    return 0;
}
