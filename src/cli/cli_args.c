/*
 * cli_args.c: the command-line parser of `lease`, pure (see cli.h).
 *
 * Hand-written rather than getopt_long because getopt keeps global state
 * (optind, its permutation) that a fuzzer calling us in a loop would have to
 * reset, and because each subcommand accepts its own set of options.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum option_id {
    OPTION_OWNER,
    OPTION_REASON,
    OPTION_TTL_MS,
    OPTION_LEASE,
    OPTION_TOKEN,
    OPTION_IMPL,
    OPTION_HELD_EXIT,
    OPTION_PID,
    OPTION_JSON,
    OPTION_QUIET,
    OPTION_WAIT,
    OPTION_NONBLOCK,
    OPTION_RESULT,
    OPTION_JSON_FD,
    OPTION_HELP,
    OPTION_BACKEND, /* etcd backend (docs/etcd.md) */
    OPTION_ENDPOINTS,
    OPTION_KEY,
    OPTION_COUNT
};

#define COMMAND_BIT(command) (1u << (command))
#define ALL_COMMANDS                                                                 \
    (COMMAND_BIT(LEASE_CLI_COMMAND_RUN) | COMMAND_BIT(LEASE_CLI_COMMAND_ACQUIRE) |   \
     COMMAND_BIT(LEASE_CLI_COMMAND_RELEASE) | COMMAND_BIT(LEASE_CLI_COMMAND_RENEW) | \
     COMMAND_BIT(LEASE_CLI_COMMAND_INSPECT))
#define ACQUIRING_COMMANDS (COMMAND_BIT(LEASE_CLI_COMMAND_RUN) | COMMAND_BIT(LEASE_CLI_COMMAND_ACQUIRE))
#define TOKEN_COMMANDS (COMMAND_BIT(LEASE_CLI_COMMAND_RELEASE) | COMMAND_BIT(LEASE_CLI_COMMAND_RENEW))

struct option_spec {
    const char *name; /* without the leading "--" */
    enum option_id id;
    bool takes_value;
    unsigned commands; /* COMMAND_BIT mask of the commands that accept it */
};

static const struct option_spec option_specs[OPTION_COUNT] = {
    {"owner", OPTION_OWNER, true, ACQUIRING_COMMANDS},
    {"reason", OPTION_REASON, true, ACQUIRING_COMMANDS},
    {"ttl-ms", OPTION_TTL_MS, true, ACQUIRING_COMMANDS | COMMAND_BIT(LEASE_CLI_COMMAND_RENEW)},
    {"lease", OPTION_LEASE, true, ALL_COMMANDS},
    {"token", OPTION_TOKEN, true, TOKEN_COMMANDS},
    {"impl", OPTION_IMPL, true, ALL_COMMANDS},
    {"held-exit", OPTION_HELD_EXIT, true, COMMAND_BIT(LEASE_CLI_COMMAND_RUN)},
    {"pid", OPTION_PID, true, COMMAND_BIT(LEASE_CLI_COMMAND_ACQUIRE)},
    {"json", OPTION_JSON, false, ALL_COMMANDS},
    {"quiet", OPTION_QUIET, false, COMMAND_BIT(LEASE_CLI_COMMAND_RUN)},
    {"wait", OPTION_WAIT, true, ACQUIRING_COMMANDS},
    {"nonblock", OPTION_NONBLOCK, false, ACQUIRING_COMMANDS},
    {"result", OPTION_RESULT, true, COMMAND_BIT(LEASE_CLI_COMMAND_RUN)},
    {"json-fd", OPTION_JSON_FD, true, COMMAND_BIT(LEASE_CLI_COMMAND_RUN)},
    {"help", OPTION_HELP, false, ALL_COMMANDS},
    {"backend", OPTION_BACKEND, true, ALL_COMMANDS},
    {"endpoints", OPTION_ENDPOINTS, true, ALL_COMMANDS},
    {"key", OPTION_KEY, true, ALL_COMMANDS},
};

static const char *const command_names[] = {
    [LEASE_CLI_COMMAND_NONE] = "lease",      [LEASE_CLI_COMMAND_RUN] = "run",
    [LEASE_CLI_COMMAND_ACQUIRE] = "acquire", [LEASE_CLI_COMMAND_RELEASE] = "release",
    [LEASE_CLI_COMMAND_RENEW] = "renew",     [LEASE_CLI_COMMAND_INSPECT] = "inspect",
    [LEASE_CLI_COMMAND_VERSION] = "version",
};

#define COMMON_OPTIONS_HELP                                                                      \
    "  --lease PATH    lease file (default: $" LEASE_PATH_ENV ", else " LEASE_DEFAULT_PATH ")\n" \
    "  --impl NAME     implementation (default: $LEASE_IMPLEMENTATION, else lease)\n"            \
    "  --backend NAME  the same as --impl (etcd: the lease on an etcd cluster)\n"                \
    "  --endpoints URLS etcd URLs, comma-separated (default: $LEASE_ETCD_ENDPOINTS)\n"           \
    "  --key KEY       etcd key (default: $LEASE_ETCD_KEY, else derived from the lease path)\n"  \
    "  --json          print exactly one JSON object on stdout\n"                                \
    "  --help          print this help\n"

static const char *const usage_texts[] = {
    [LEASE_CLI_COMMAND_NONE] =
        "usage: lease COMMAND [OPTIONS]\n"
        "       lease --help | --version   (-h, -V)\n"
        "\n"
        "A cross-process heavy-maintenance lease (a JSON file), in the manner of flock(1).\n"
        "\n"
        "commands:\n"
        "  run       acquire, run a command, release; defer when held\n"
        "  acquire   take the lease and print its token\n"
        "  release   give the lease back (needs its token)\n"
        "  renew     extend the lease's expiry (needs its token)\n"
        "  inspect   show the lease's status and holder\n"
        "\n"
        "exit: 0 ok, 1 not-owner/missing, 64 usage, 75 held, 124 lease lost while CMD ran, 125 lease error,\n"
        "      126/127 command not executable/not found, 128+N command killed by signal N\n"
        "'lease COMMAND --help' describes each command.\n",
    [LEASE_CLI_COMMAND_RUN] =
        "usage: lease run --owner NAME [--reason R] [--ttl-ms N] [--held-exit N] [OPTIONS] -- CMD [ARG...]\n"
        "\n"
        "Acquires the lease, runs CMD with " LEASE_INHERITED_TOKEN_ENV " set to the token,\n"
        "forwards SIGINT/SIGTERM/SIGHUP to it, renews the lease every ttl/3 while it runs,\n"
        "releases the lease when it ends and exits with its status (128+N when killed by\n"
        "signal N). When the lease is held: prints the deferral lines, exits 0 (or --held-exit N).\n"
        "When the inherited token names the active lease, CMD runs under it (no acquire).\n"
        "\n"
        "  --owner NAME    owner label (required)\n"
        "  --reason R      reason (default: " LEASE_DEFAULT_REASON ")\n"
        "  --ttl-ms N      time to live in milliseconds (default: 21600000)\n"
        "  --held-exit N   exit status when the lease is held (default: 0); also -E N\n"
        "  --quiet, -q     print no deferral lines when held (the exit status still says it)\n"
        "  --wait S, -w S  when held, wait up to S seconds (or 'forever') for the lease, woken by its\n"
        "                  release, its holder's exit or its expiry\n"
        "  --nonblock, -n  do not wait when held (the default, as flock -n)\n"
        "  --result FILE   write the JSON result to FILE, not stdout (CMD keeps stdout)\n"
        "  --json-fd N     write the JSON result to descriptor N, not stdout\n" COMMON_OPTIONS_HELP,
    [LEASE_CLI_COMMAND_ACQUIRE] =
        "usage: lease acquire --owner NAME [--reason R] [--ttl-ms N] [--pid PID] [OPTIONS]\n"
        "\n"
        "Takes the lease and prints the token. Exit 0 when acquired, 75 when held.\n"
        "\n"
        "  --owner NAME    owner label (required)\n"
        "  --reason R      reason (default: " LEASE_DEFAULT_REASON ")\n"
        "  --ttl-ms N      time to live in milliseconds (default: 21600000)\n"
        "  --pid PID       the process the lease names (default: the caller, i.e. lease's parent)\n"
        "  --wait S, -w S  when held, wait up to S seconds (or 'forever') for the lease\n" COMMON_OPTIONS_HELP,
    [LEASE_CLI_COMMAND_RELEASE] =
        "usage: lease release --token T [OPTIONS]\n"
        "\n"
        "Removes the lease when T is its token. Exit 0 released, 1 not-owner or missing.\n"
        "\n"
        "  --token T       the token printed by 'lease acquire' (required)\n" COMMON_OPTIONS_HELP,
    [LEASE_CLI_COMMAND_RENEW] =
        "usage: lease renew --token T [--ttl-ms N] [OPTIONS]\n"
        "\n"
        "Moves the lease's expiry to now + ttl when T is its token.\n"
        "Exit 0 renewed, 1 not-owner or missing.\n"
        "\n"
        "  --token T       the token printed by 'lease acquire' (required)\n"
        "  --ttl-ms N      time to live in milliseconds (default: 21600000)\n" COMMON_OPTIONS_HELP,
    [LEASE_CLI_COMMAND_INSPECT] =
        "usage: lease inspect [OPTIONS]\n"
        "\n"
        "Prints the lease's status (missing, active, stale, malformed, unreadable) and holder.\n"
        "Exit: 0 active (a live holder), 1 missing, 2 stale, 3 malformed, 125 unreadable or error.\n"
        "\n" COMMON_OPTIONS_HELP,
    [LEASE_CLI_COMMAND_VERSION] = "usage: lease --version\n",
};

const char *lease_cli_command_name(enum lease_cli_command command) {
    if ((size_t)command >= sizeof command_names / sizeof command_names[0]) return "lease";
    return command_names[command];
}

const char *lease_cli_usage(enum lease_cli_command command) {
    if ((size_t)command >= sizeof usage_texts / sizeof usage_texts[0]) return usage_texts[LEASE_CLI_COMMAND_NONE];
    return usage_texts[command];
}

static int usage_error(char *message, size_t message_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* The message quotes arguments as given; escaping the whole line keeps it one
 * line and keeps terminal control bytes out of it (the format strings
 * themselves hold none). */
static int usage_error(char *message, size_t message_size, const char *format, ...) {
    char raw[512];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(raw, sizeof raw, format, arguments);
    va_end(arguments);
    if (message != NULL && message_size > 0) lease_escape_text(raw, message, message_size);
    return LEASE_CLI_EXIT_USAGE;
}

static bool has_control_character(const char *text) {
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) return true;
    }
    return false;
}

static const struct option_spec *find_option(const char *name, size_t name_length) {
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        if (strlen(option_specs[i].name) == name_length && memcmp(option_specs[i].name, name, name_length) == 0)
            return &option_specs[i];
    }
    return NULL;
}

static enum lease_cli_command find_command(const char *name) {
    for (int command = LEASE_CLI_COMMAND_RUN; command <= LEASE_CLI_COMMAND_INSPECT; command++) {
        if (strcmp(command_names[command], name) == 0) return (enum lease_cli_command)command;
    }
    return LEASE_CLI_COMMAND_NONE;
}

/* The lease file is JSON, which holds only UTF-8: refuse what it cannot
 * store rather than let the value be dropped or mangled. Overlong forms and
 * surrogates are refused too. */
static bool is_valid_utf8(const char *text) {
    const unsigned char *p = (const unsigned char *)text;
    while (*p != '\0') {
        unsigned char lead = *p;
        size_t length = lead < 0x80             ? 1
                        : (lead & 0xe0) == 0xc0 ? 2
                        : (lead & 0xf0) == 0xe0 ? 3
                        : (lead & 0xf8) == 0xf0 ? 4
                                                : 0;
        if (length == 0 || (length == 2 && lead < 0xc2) || (length == 4 && lead > 0xf4)) return false;
        uint32_t code_point = length == 1 ? lead : lead & (0x7f >> length);
        for (size_t i = 1; i < length; i++) {
            if ((p[i] & 0xc0) != 0x80) return false;
            code_point = (code_point << 6) | (p[i] & 0x3f);
        }
        if ((length == 3 && code_point < 0x800) || (length == 4 && (code_point < 0x10000 || code_point > 0x10ffff)) ||
            (code_point >= 0xd800 && code_point <= 0xdfff))
            return false;
        p += length;
    }
    return true;
}

static int check_text_value(const char *option, const char *value, char *message, size_t message_size) {
    if (*value == '\0') return usage_error(message, message_size, "--%s must not be empty", option);
    if (has_control_character(value))
        return usage_error(message, message_size, "--%s must not contain control characters", option);
    if (!is_valid_utf8(value)) return usage_error(message, message_size, "--%s must be valid UTF-8", option);
    return 0;
}

/* --wait SECONDS (a fraction to the millisecond) or --wait forever. */
static int parse_wait(const char *value, struct lease_cli_args *args, char *message, size_t message_size) {
    if (strcmp(value, "forever") == 0) {
        args->wait_ms = -1;
        return 0;
    }
    const char *dot = strchr(value, '.');
    char whole[32];
    size_t whole_length = dot != NULL ? (size_t)(dot - value) : strlen(value);
    int64_t seconds = 0, fraction_ms = 0, scale = 100;
    bool valid = whole_length > 0 && whole_length < sizeof whole;
    if (valid) {
        memcpy(whole, value, whole_length);
        whole[whole_length] = '\0';
        valid = lease_parse_integer(whole, 0, LEASE_CLI_WAIT_MS_MAX / 1000, &seconds);
    }
    for (const char *digit = dot != NULL ? dot + 1 : ""; valid && *digit != '\0'; digit++, scale /= 10) {
        valid = *digit >= '0' && *digit <= '9' && scale > 0;
        fraction_ms += valid ? (*digit - '0') * scale : 0;
    }
    if (!valid || (dot != NULL && dot[1] == '\0'))
        return usage_error(message, message_size,
                           "--wait must be seconds (0 to %lld, to the millisecond) or 'forever', not '%.64s'",
                           LEASE_CLI_WAIT_MS_MAX / 1000, value);
    args->wait_ms = seconds * 1000 + fraction_ms;
    return 0;
}

/* Stores one option's value; every value is checked here so that main never
 * sees a half-valid request. */
static int store_option(const struct option_spec *spec, const char *value, struct lease_cli_args *args, char *message,
                        size_t message_size) {
    int64_t number = 0;
    switch (spec->id) {
    case OPTION_OWNER: args->owner = value; return check_text_value(spec->name, value, message, message_size);
    case OPTION_REASON: args->reason = value; return check_text_value(spec->name, value, message, message_size);
    case OPTION_TOKEN: args->token = value; return check_text_value(spec->name, value, message, message_size);
    case OPTION_IMPL:
    case OPTION_BACKEND: args->impl_name = value; return check_text_value(spec->name, value, message, message_size);
    case OPTION_ENDPOINTS:
    case OPTION_KEY:
        if (*value == '\0') return usage_error(message, message_size, "an etcd option must not be empty");
        if (spec->id == OPTION_ENDPOINTS)
            args->etcd_endpoints = value;
        else
            args->etcd_key = value;
        return check_text_value(spec->name, value, message, message_size);
    case OPTION_LEASE:
        args->lease_path = value;
        if (*value == '\0') return usage_error(message, message_size, "--lease must not be empty");
        return 0;
    case OPTION_TTL_MS:
        if (!lease_parse_integer(value, 1, LEASE_CLI_TTL_MS_MAX, &number))
            return usage_error(message, message_size,
                               "--ttl-ms must be a whole number of milliseconds from 1 to %lld, not '%.64s'",
                               (long long)LEASE_CLI_TTL_MS_MAX, value);
        args->has_ttl_ms = true;
        args->ttl_ms = number;
        return 0;
    case OPTION_HELD_EXIT:
        if (!lease_parse_integer(value, 0, 255, &number))
            return usage_error(message, message_size, "--held-exit must be a number from 0 to 255, not '%.64s'", value);
        args->has_held_exit = true;
        args->held_exit = (int)number;
        return 0;
    case OPTION_PID:
        if (!lease_parse_integer(value, 1, INT32_MAX, &number))
            return usage_error(message, message_size, "--pid must be a process id from 1 to %d, not '%.64s'", INT32_MAX,
                               value);
        args->pid = number;
        return 0;
    case OPTION_JSON: args->json = true; return 0;
    case OPTION_QUIET: args->quiet = true; return 0;
    case OPTION_WAIT:
        if (args->nonblock) return usage_error(message, message_size, "--wait and --nonblock (-n) exclude each other");
        return parse_wait(value, args, message, message_size);
    case OPTION_NONBLOCK:
        /* flock -n: do not wait; already the default, said explicitly. */
        if (args->wait_ms != 0)
            return usage_error(message, message_size, "--wait and --nonblock (-n) exclude each other");
        args->nonblock = true;
        return 0;
    case OPTION_RESULT:
        args->result_path = value;
        args->json = true;
        if (*value == '\0') return usage_error(message, message_size, "--result must not be empty");
        return 0;
    case OPTION_JSON_FD:
        if (!lease_parse_integer(value, 0, 1023, &number))
            return usage_error(message, message_size, "--json-fd must be a descriptor from 0 to 1023, not '%.64s'",
                               value);
        args->json = true;
        args->json_fd = (int)number;
        args->has_json_fd = true;
        return 0;
    case OPTION_HELP:
    case OPTION_COUNT: break;
    }
    return 0;
}

/* Handles argv[*index], an argument starting with "--" (not "--" itself).
 * Advances *index past a separate value. Sets *stop on --help. */
/* The short options flock(1) users type, as their long names. */
static const struct {
    const char *short_form;
    const char *long_name;
} short_options[] = {{"-q", "quiet"}, {"-E", "held-exit"}, {"-w", "wait"}, {"-n", "nonblock"}};

static const char *long_name_of(const char *argument) {
    for (size_t i = 0; i < sizeof short_options / sizeof short_options[0]; i++)
        if (strcmp(argument, short_options[i].short_form) == 0) return short_options[i].long_name;
    return NULL;
}

static int parse_option(int argc, char *const argv[], int *index, unsigned *seen, struct lease_cli_args *args,
                        bool *stop, char *message, size_t message_size) {
    const char *short_name = long_name_of(argv[*index]);
    const char *argument = short_name != NULL ? short_name : argv[*index] + 2;
    const char *equals = strchr(argument, '=');
    size_t name_length = equals != NULL ? (size_t)(equals - argument) : strlen(argument);
    const struct option_spec *spec = find_option(argument, name_length);
    const char *command_name = lease_cli_command_name(args->command);
    if (spec == NULL)
        return usage_error(message, message_size, "unknown option '--%.*s' for '%s'",
                           (int)(name_length > 64 ? 64 : name_length), argument, command_name);
    if ((spec->commands & COMMAND_BIT(args->command)) == 0)
        return usage_error(message, message_size, "option --%s is not valid for 'lease %s'", spec->name, command_name);
    if (spec->id == OPTION_HELP) {
        args->help = true;
        *stop = true;
        return 0;
    }
    if (*seen & (1u << spec->id)) return usage_error(message, message_size, "option --%s given twice", spec->name);
    *seen |= 1u << spec->id;
    const char *value = NULL;
    if (!spec->takes_value) {
        if (equals != NULL) return usage_error(message, message_size, "option --%s takes no value", spec->name);
    } else if (equals != NULL) {
        value = equals + 1;
    } else {
        /* A following "--x" is the next option, not a value: "--owner --json"
         * is a mistake; "--owner=--json" is how to mean it. */
        if (*index + 1 >= argc || strncmp(argv[*index + 1], "--", 2) == 0)
            return usage_error(message, message_size, "option --%s needs a value", spec->name);
        *index += 1;
        value = argv[*index];
    }
    return store_option(spec, value, args, message, message_size);
}

static int check_required(const struct lease_cli_args *args, bool saw_separator, char *message, size_t message_size) {
    const char *command_name = lease_cli_command_name(args->command);
    if ((COMMAND_BIT(args->command) & ACQUIRING_COMMANDS) && args->owner == NULL)
        return usage_error(message, message_size, "'lease %s' needs --owner NAME", command_name);
    if ((COMMAND_BIT(args->command) & TOKEN_COMMANDS) && args->token == NULL)
        return usage_error(message, message_size, "'lease %s' needs --token T", command_name);
    if (args->command == LEASE_CLI_COMMAND_RUN && !saw_separator)
        return usage_error(message, message_size, "'lease run' needs '--' followed by the command to run");
    if (args->command == LEASE_CLI_COMMAND_RUN && args->command_argc == 0)
        return usage_error(message, message_size, "'lease run' needs a command after '--'");
    return 0;
}

/* Parses the arguments after the command name. */
static int parse_command_arguments(int argc, char *const argv[], struct lease_cli_args *args, char *message,
                                   size_t message_size) {
    unsigned seen = 0;
    bool saw_separator = false;
    for (int index = 2; index < argc; index++) {
        const char *argument = argv[index];
        if (strcmp(argument, "--") == 0) {
            if (args->command != LEASE_CLI_COMMAND_RUN)
                return usage_error(message, message_size, "'lease %s' takes no command after '--'",
                                   lease_cli_command_name(args->command));
            saw_separator = true;
            args->command_argv = argv + index + 1;
            args->command_argc = argc - index - 1;
            break;
        }
        if (strcmp(argument, "-h") == 0) {
            args->help = true;
            return 0;
        }
        if (strncmp(argument, "--", 2) != 0 && long_name_of(argument) == NULL) {
            if (args->command == LEASE_CLI_COMMAND_RUN)
                return usage_error(message, message_size, "unexpected argument '%.64s' (put '--' before the command)",
                                   argument);
            return usage_error(message, message_size, "unexpected argument '%.64s'", argument);
        }
        bool stop = false;
        int status = parse_option(argc, argv, &index, &seen, args, &stop, message, message_size);
        if (status != 0 || stop) return status;
    }
    return check_required(args, saw_separator, message, message_size);
}

/* --json before "--" (after it, it belongs to CMD). Known even when parsing
 * fails, so that a usage error can still be reported as JSON. */
static bool wants_json(int argc, char *const argv[]) {
    for (int index = 1; index < argc; index++) {
        if (argv[index] == NULL || strcmp(argv[index], "--") == 0) return false;
        if (strcmp(argv[index], "--json") == 0) return true;
    }
    return false;
}

int lease_cli_inspect_exit_code(enum lease_status status) {
    switch (status) {
    case LEASE_STATUS_ACTIVE: return LEASE_CLI_EXIT_OK;
    case LEASE_STATUS_MISSING: return LEASE_CLI_INSPECT_MISSING;
    case LEASE_STATUS_STALE: return LEASE_CLI_INSPECT_STALE;
    case LEASE_STATUS_MALFORMED: return LEASE_CLI_INSPECT_MALFORMED;
    default: return LEASE_CLI_EXIT_WRAPPER;
    }
}

int lease_cli_parse(int argc, char *const argv[], struct lease_cli_args *args, char *message, size_t message_size) {
    memset(args, 0, sizeof *args);
    if (message != NULL && message_size > 0) message[0] = '\0';
    if (argv == NULL || argc < 1) return usage_error(message, message_size, "no arguments");
    for (int index = 0; index < argc; index++) {
        if (argv[index] == NULL) return usage_error(message, message_size, "argument %d is missing", index);
    }
    args->json = wants_json(argc, argv);
    if (argc < 2) return usage_error(message, message_size, "missing command (try 'lease --help')");
    const char *first = argv[1];
    if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0) {
        args->help = true;
        return 0;
    }
    if (strcmp(first, "--version") == 0 || strcmp(first, "-V") == 0) {
        args->command = LEASE_CLI_COMMAND_VERSION;
        return 0;
    }
    if (first[0] == '-')
        return usage_error(message, message_size, "unknown option '%.64s' (a command comes first; try 'lease --help')",
                           first);
    args->command = find_command(first);
    if (args->command == LEASE_CLI_COMMAND_NONE)
        return usage_error(message, message_size, "unknown command '%.64s' (try 'lease --help')", first);
    return parse_command_arguments(argc, argv, args, message, message_size);
}
