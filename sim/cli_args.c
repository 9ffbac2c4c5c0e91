/*
 * cli_args.c: leasesim's arguments: usage, strict parsing of seeds, shards
 * and strategies, outputs checked before any work.
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "history.h"

static const char *const usage_text =
    "usage: leasesim [--impl NAME] [--scenario FILE] (--seed N | --seeds A..B) [--trace FILE] [--svg FILE]\n"
    "                [--html FILE]\n"
    "                [--strategy pos|random|pct|exhaustive] [--pct-depth D] [--shard K/N] [--summary FILE]\n"
    "                [--drop LIST] [--no-shrink] [--quiet] [--history FILE] [--keep-going] [--invariant NAME]\n"
    "                [--mix NAME[,NAME...]]\n"
    "       leasesim --list-impls | --merge FILE... | --zoo [--seeds A..B] | --bench | --version\n"
    "       leasesim --scenario FILE --check        (verdicts the scenario expects, per implementation)\n"
    "--scenario given several times (at most 64): the campaign over each in turn, one summary each; exit 1 when\n"
    "any had a violation (not with --check, --determinism, --summary, --trace, --svg, --html or exhaustive)\n"
    "       leasesim --seeds A..B --determinism     (each seed twice; trace hashes must match)\n"
    "--trace, --svg and --html (an interactive timeline) are written for a single --seed, or for the\n"
    "first violating seed of a campaign\n"
    "--history FILE: every run's calls, results, bodies and lease-file changes as JSON Lines, each run ending\n"
    "with the oracle's verdict (checked again by conformance/oracle/check_history.py)\n"
    "(a clean campaign writes none: replay one seed to draw it); exhaustive mode writes neither.\n"
    "--keep-going runs the whole range, counts violations per invariant and prints one replay line per\n"
    "distinct signature (invariant + shrunk event shape); --invariant NAME hunts that invariant only\n"
    "(seeds that break another one first are counted, not reported).\n"
    "--mix NAME,...: random plans give each program the implementation under test (--impl) or one of these\n"
    "models, drawn per seed; a violation that only models caused is counted (model-race), not reported.\n"
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
    if (slash == NULL)
        snprintf(directory, sizeof directory, ".");
    else if (slash == directory)
        slash[1] = '\0';
    else
        *slash = '\0';
    int error_number = 0;
    if (access(directory, W_OK | X_OK) != 0)
        error_number = errno;
    else if (access(path, F_OK) == 0 && access(path, W_OK) != 0)
        error_number = errno;
    if (error_number == 0) return 0;
    fprintf(stderr, "leasesim: cannot write %s %s: %s\n", flag, path, strerror(error_number));
    return EX_CANTCREAT;
}

int usage_error(const char *message, const char *argument) {
    fprintf(stderr, "leasesim: %s%s%s (try --help)\n", message, argument ? ": " : "", argument ? argument : "");
    return EX_USAGE;
}

int parse_strategy(const char *text, enum sim_strategy *strategy) {
    if (strcmp(text, "random") == 0)
        *strategy = SIM_STRATEGY_RANDOM;
    else if (strcmp(text, "pct") == 0)
        *strategy = SIM_STRATEGY_PCT;
    else if (strcmp(text, "exhaustive") == 0)
        *strategy = SIM_STRATEGY_EXHAUSTIVE;
    else if (strcmp(text, "pos") == 0)
        *strategy = SIM_STRATEGY_POS;
    else
        return -1;
    return 0;
}

/* The options, for getopt_long: long only (but -h and -V), as the flags a
 * campaign line is written with. */
enum option_id {
    OPTION_IMPL = 256,
    OPTION_SCENARIO,
    OPTION_TRACE,
    OPTION_SVG,
    OPTION_HTML,
    OPTION_SUMMARY,
    OPTION_DROP,
    OPTION_SEED,
    OPTION_SEEDS,
    OPTION_PCT_DEPTH,
    OPTION_STRATEGY,
    OPTION_SHARD,
    OPTION_MERGE,
    OPTION_LIST_IMPLS,
    OPTION_NO_SHRINK,
    OPTION_CHECK,
    OPTION_ZOO,
    OPTION_BENCH,
    OPTION_QUIET,
    OPTION_DETERMINISM,
    OPTION_HISTORY,
    OPTION_KEEP_GOING,
    OPTION_INVARIANT,
    OPTION_MIX,
};

static const struct option long_options[] = {
    {"impl", required_argument, NULL, OPTION_IMPL},
    {"scenario", required_argument, NULL, OPTION_SCENARIO},
    {"trace", required_argument, NULL, OPTION_TRACE},
    {"svg", required_argument, NULL, OPTION_SVG},
    {"html", required_argument, NULL, OPTION_HTML},
    {"summary", required_argument, NULL, OPTION_SUMMARY},
    {"drop", required_argument, NULL, OPTION_DROP},
    {"seed", required_argument, NULL, OPTION_SEED},
    {"seeds", required_argument, NULL, OPTION_SEEDS},
    {"pct-depth", required_argument, NULL, OPTION_PCT_DEPTH},
    {"strategy", required_argument, NULL, OPTION_STRATEGY},
    {"shard", required_argument, NULL, OPTION_SHARD},
    {"merge", no_argument, NULL, OPTION_MERGE},
    {"list-impls", no_argument, NULL, OPTION_LIST_IMPLS},
    {"no-shrink", no_argument, NULL, OPTION_NO_SHRINK},
    {"check", no_argument, NULL, OPTION_CHECK},
    {"zoo", no_argument, NULL, OPTION_ZOO},
    {"bench", no_argument, NULL, OPTION_BENCH},
    {"quiet", no_argument, NULL, OPTION_QUIET},
    {"determinism", no_argument, NULL, OPTION_DETERMINISM},
    {"history", required_argument, NULL, OPTION_HISTORY},
    {"keep-going", no_argument, NULL, OPTION_KEEP_GOING},
    {"invariant", required_argument, NULL, OPTION_INVARIANT},
    {"mix", required_argument, NULL, OPTION_MIX},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* One option's value into cli; 0 or the exit status of a usage error. */
static int store_option(struct cli *cli, int option, const char *value) {
    uint64_t depth = 0;
    switch (option) {
    case 'h': fputs(usage_text, stdout); exit(0);
    case 'V': printf("leasesim %s\n", LEASE_VERSION_STRING); exit(0);
    case OPTION_IMPL: cli->impl_name = value; return 0;
    case OPTION_SCENARIO:
        if (cli->scenario_count == SCENARIOS_MAX) return usage_error("at most 64 --scenario files", value);
        cli->scenario_paths[cli->scenario_count++] = value;
        if (cli->scenario_path == NULL) cli->scenario_path = value;
        return 0;
    case OPTION_TRACE: cli->trace_path = value; return 0;
    case OPTION_SVG: cli->svg_path = value; return 0;
    case OPTION_HTML: cli->html_path = value; return 0;
    case OPTION_SUMMARY: cli->summary_path = value; return 0;
    case OPTION_DROP: cli->request.drops = value; return 0;
    case OPTION_LIST_IMPLS: cli->list_impls = true; return 0;
    case OPTION_NO_SHRINK: cli->no_shrink = true; return 0;
    case OPTION_CHECK: cli->check = true; return 0;
    case OPTION_ZOO: cli->zoo = true; return 0;
    case OPTION_BENCH: cli->bench = true; return 0;
    case OPTION_QUIET: cli->quiet = true; return 0;
    case OPTION_DETERMINISM: cli->determinism = true; return 0;
    case OPTION_MERGE: cli->merge = true; return 0;
    case OPTION_HISTORY: return sim_history_open(value);
    case OPTION_KEEP_GOING: cli->keep_going = true; return 0;
    case OPTION_MIX: cli->request.mix = value; return 0;
    case OPTION_INVARIANT:
        if (!sim_invariant_from_name(value, &cli->hunted) || cli->hunted == SIM_INVARIANT_NONE ||
            cli->hunted == SIM_INVARIANT_DETERMINISM)
            return usage_error("unknown invariant", value);
        return 0;
    case OPTION_PCT_DEPTH:
        if (!lease_parse_unsigned(value, 64, &depth, NULL) || depth < 1)
            return usage_error("--pct-depth must be a number from 1 to 64", value);
        cli->request.pct_depth = (int)depth;
        return 0;
    case OPTION_SEED:
    case OPTION_SEEDS:
        if (!sim_seed_range_parse(value, &cli->first, &cli->last)) return usage_error("bad seed or range", value);
        cli->has_seeds = true;
        return 0;
    case OPTION_STRATEGY:
        if (parse_strategy(value, &cli->request.strategy) != 0) return usage_error("unknown strategy", value);
        cli->strategy_name = value;
        return 0;
    case OPTION_SHARD:
        if (sscanf(value, "%d/%d", &cli->shard_index, &cli->shard_count) != 2 || cli->shard_count < 1 ||
            cli->shard_index < 1 || cli->shard_index > cli->shard_count)
            return usage_error("bad shard (K/N with 1 <= K <= N)", value);
        return 0;
    default: return usage_error("unknown option", NULL);
    }
}

int parse_arguments(struct cli *cli, int argc, char **argv) {
    opterr = 0; /* our own one-line messages */
    int option;
    while ((option = getopt_long(argc, argv, ":hV", long_options, NULL)) != -1) {
        if (option == '?') return usage_error("unknown option", argv[optind - 1]);
        if (option == ':') return usage_error("missing value for", argv[optind - 1]);
        int status = store_option(cli, option, optarg);
        if (status != 0) return status;
    }
    /* What is left are the summaries of --merge; nothing else takes operands. */
    for (int index = optind; index < argc && cli->merge_count < MERGE_FILES_MAX; index++)
        cli->merge_files[cli->merge_count++] = argv[index];
    if (cli->merge && cli->merge_count == 0) return usage_error("--merge needs summary files", NULL);
    if (!cli->merge && cli->merge_count > 0) return usage_error("unexpected argument", argv[optind]);
    return 0;
}
