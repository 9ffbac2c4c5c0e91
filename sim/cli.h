/*
 * cli.h: what the modes of the leasesim command line share (docs/spec.md
 * section 8): the parsed arguments and a few helpers. One file per mode:
 * cli_args.c (arguments), cli_campaign.c (campaigns, shards, merge,
 * determinism), cli_exhaustive.c, cli_check.c (scenario verdicts),
 * cli_zoo.c, cli_bench.c; main.c dispatches.
 */
#ifndef SIM_CLI_H
#define SIM_CLI_H

#include <stdio.h>

#include "run.h"
#include "scenario.h"
#include "traits.h"
#include "zoo.h"

#define MERGE_FILES_MAX 64
#define SCENARIOS_MAX 64 /* --scenario given several times: a campaign over each in turn */

struct cli {
    const char *impl_name;
    const char *scenario_path; /* the one loaded into scenario (the first given, then each in turn) */
    struct sim_scenario scenario;
    int scenario_count;
    const char *scenario_paths[SCENARIOS_MAX];
    uint64_t first, last;
    bool has_seeds;
    const char *trace_path, *svg_path, *summary_path, *html_path;
    int shard_index, shard_count;
    bool no_shrink, check, zoo, bench, determinism, list_impls, quiet, merge;
    bool keep_going;           /* --keep-going: the whole range, violations grouped by signature */
    enum sim_invariant hunted; /* --invariant NAME: SIM_INVARIANT_NONE hunts every invariant */
    int merge_count;
    const char *merge_files[MERGE_FILES_MAX];
    struct sim_request request;
    const char *argv0;
    const char *strategy_name;
};

struct first_hit {
    uint64_t seeds;
    double seconds;
    enum sim_invariant invariant;
};

/* Wall seconds, for rates only (never a simulation input). */
double seconds_now(void);
/* 0, or EX_CANTCREAT (message printed) when path cannot be written. */
int check_output(const char *flag, const char *path);
/* Prints one usage message; returns EX_USAGE. */
int usage_error(const char *message, const char *argument);
/* 0, or -1 for an unknown strategy name. */
int parse_strategy(const char *text, enum sim_strategy *strategy);
/* 0, or the exit status of a usage error (message printed). */
int parse_arguments(struct cli *cli, int argc, char **argv);
/* The command line that replays seed (with --drop drops). */
void print_replay(const struct cli *cli, FILE *out, uint64_t seed, const char *drops);
/* "reached: ..." and "never reached: ..." lines. */
void print_counters(const uint64_t *counters, FILE *out);
/* Runs seeds first..last until one violates an invariant. */
struct first_hit first_violation(const struct sim_request *request, uint64_t first, uint64_t last);
/* The modes: each returns leasesim's exit status. */
int run_campaign(const struct cli *cli);
int sim_cli_campaign(const struct cli *cli); /* first line, then run_campaign */
int run_merge(const struct cli *cli);
int run_determinism(const struct cli *cli);
int sim_cli_exhaustive(struct cli *cli);
int sim_cli_check(struct cli *cli);
int sim_cli_zoo(struct cli *cli);
int sim_cli_bench(struct cli *cli);

#endif
