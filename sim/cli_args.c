/*
 * cli_args.c: leasesim's arguments: usage, strict parsing of seeds, shards
 * and strategies, outputs checked before any work.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

static const char *const usage_text =
    "usage: leasesim [--impl NAME] [--scenario FILE] (--seed N | --seeds A..B) [--trace FILE] [--svg FILE]\n"
    "                [--strategy random|pct|exhaustive] [--pct-depth D] [--shard K/N] [--summary FILE]\n"
    "                [--drop LIST] [--no-shrink] [--quiet]\n"
    "       leasesim --list-impls | --merge FILE... | --zoo [--seeds A..B] | --bench | --version\n"
    "       leasesim --scenario FILE --check        (verdicts the scenario expects, per implementation)\n"
    "       leasesim --seeds A..B --determinism     (each seed twice; trace hashes must match)\n"
    "--trace and --svg are written for a single --seed, or for the first violating seed of a campaign\n"
    "(a clean campaign writes none: replay one seed to draw it); exhaustive mode writes neither.\n"
    "When stderr is not a terminal, a progress line every $LEASESIM_HEARTBEAT_SECONDS (5) seconds.\n"
    "Exit: 0 every seed satisfied every invariant; 1 a violation (printed with a replay command); 64 usage;\n"
    "65 --merge of summaries that do not make one whole campaign; 66 --bench away from the source tree (it reads\n"
    "fixtures/scenarios/two-reclaimers.scn); 73 an output file cannot be written.\n";

/* An output file that cannot be written is an error, found before any
 * work: the directory must exist and be writable, and so must the file if
 * it exists. */
int check_output(const char *flag, const char *path) {
    if (path == NULL) return 0;
    char directory[4096];
    snprintf(directory, sizeof directory, "%s", path);
    char *slash = strrchr(directory, '/');
    if (slash == NULL) snprintf(directory, sizeof directory, ".");
    else if (slash == directory) slash[1] = '\0';
    else *slash = '\0';
    int error_number = 0;
    if (access(directory, W_OK | X_OK) != 0) error_number = errno;
    else if (access(path, F_OK) == 0 && access(path, W_OK) != 0) error_number = errno;
    if (error_number == 0) return 0;
    fprintf(stderr, "leasesim: cannot write %s %s: %s\n", flag, path, strerror(error_number));
    return EX_CANTCREAT;
}

int usage_error(const char *message, const char *argument) {
    fprintf(stderr, "leasesim: %s%s%s (try --help)\n", message, argument ? ": " : "", argument ? argument : "");
    return EX_USAGE;
}

/* A decimal number with no sign and no overflow; *end is where it stopped. */
static bool parse_unsigned(const char *text, uint64_t *value, char **end) {
    if (*text < '0' || *text > '9') return false;
    errno = 0;
    *value = strtoull(text, end, 10);
    return errno == 0;
}

static bool parse_seed_range(const char *text, uint64_t *first, uint64_t *last) {
    char *end = NULL;
    if (!parse_unsigned(text, first, &end)) return false;
    if (*end == '\0') {
        *last = *first;
        return true;
    }
    if (strncmp(end, "..", 2) != 0) return false;
    const char *rest = end + 2;
    if (!parse_unsigned(rest, last, &end)) return false;
    return *end == '\0' && *first <= *last;
}

static bool takes_value(const char *flag) {
    static const char *const flags[] = {"--impl",  "--scenario", "--trace", "--svg",      "--summary", "--drop",
                                        "--seed",  "--seeds",    "--pct-depth", "--strategy", "--shard"};
    for (size_t index = 0; index < sizeof flags / sizeof flags[0]; index++)
        if (strcmp(flag, flags[index]) == 0) return true;
    return false;
}

int parse_strategy(const char *text, enum sim_strategy *strategy) {
    if (strcmp(text, "random") == 0) *strategy = SIM_STRATEGY_RANDOM;
    else if (strcmp(text, "pct") == 0) *strategy = SIM_STRATEGY_PCT;
    else if (strcmp(text, "exhaustive") == 0) *strategy = SIM_STRATEGY_EXHAUSTIVE;
    else return -1;
    return 0;
}

int parse_arguments(struct cli *cli, int argc, char **argv) {
    for (int index = 1; index < argc; index++) {
        const char *flag = argv[index];
        const char *value = index + 1 < argc ? argv[index + 1] : NULL;
        bool takes = true;
        if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
            fputs(usage_text, stdout);
            exit(0);
        } else if (strcmp(flag, "--version") == 0 || strcmp(flag, "-V") == 0) {
            printf("leasesim %s\n", LEASE_VERSION_STRING);
            exit(0);
        } else if (strcmp(flag, "--list-impls") == 0) cli->list_impls = true, takes = false;
        else if (strcmp(flag, "--no-shrink") == 0) cli->no_shrink = true, takes = false;
        else if (strcmp(flag, "--check") == 0) cli->check = true, takes = false;
        else if (strcmp(flag, "--zoo") == 0) cli->zoo = true, takes = false;
        else if (strcmp(flag, "--bench") == 0) cli->bench = true, takes = false;
        else if (strcmp(flag, "--quiet") == 0) cli->quiet = true, takes = false;
        else if (strcmp(flag, "--determinism") == 0) cli->determinism = true, takes = false;
        else if (strcmp(flag, "--merge") == 0) {
            for (; index + 1 < argc && argv[index + 1][0] != '-' && cli->merge_count < MERGE_FILES_MAX; index++)
                cli->merge_files[cli->merge_count++] = argv[index + 1];
            if (cli->merge_count == 0) return usage_error("--merge needs summary files", NULL);
            continue;
        } else if (!takes_value(flag)) return usage_error("unknown option", flag);
        else if (value == NULL) return usage_error("missing value for", flag);
        else if (strcmp(flag, "--impl") == 0) cli->impl_name = value;
        else if (strcmp(flag, "--scenario") == 0) cli->scenario_path = value;
        else if (strcmp(flag, "--trace") == 0) cli->trace_path = value;
        else if (strcmp(flag, "--svg") == 0) cli->svg_path = value;
        else if (strcmp(flag, "--summary") == 0) cli->summary_path = value;
        else if (strcmp(flag, "--drop") == 0) cli->request.drops = value;
        else if (strcmp(flag, "--pct-depth") == 0) {
            uint64_t depth = 0;
            char *end = NULL;
            if (!parse_unsigned(value, &depth, &end) || *end != '\0' || depth < 1 || depth > 64)
                return usage_error("--pct-depth must be a number from 1 to 64", value);
            cli->request.pct_depth = (int)depth;
        }
        else if (strcmp(flag, "--seed") == 0 || strcmp(flag, "--seeds") == 0) {
            if (!parse_seed_range(value, &cli->first, &cli->last)) return usage_error("bad seed or range", value);
            cli->has_seeds = true;
        } else if (strcmp(flag, "--strategy") == 0) {
            if (parse_strategy(value, &cli->request.strategy) != 0) return usage_error("unknown strategy", value);
            cli->strategy_name = value;
        } else if (strcmp(flag, "--shard") == 0) {
            if (sscanf(value, "%d/%d", &cli->shard_index, &cli->shard_count) != 2 || cli->shard_count < 1 ||
                cli->shard_index < 1 || cli->shard_index > cli->shard_count)
                return usage_error("bad shard (K/N with 1 <= K <= N)", value);
        } else return usage_error("unknown option", flag);
        if (takes) index++;
    }
    return 0;
}
