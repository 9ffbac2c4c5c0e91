/*
 * main.c: the leasesim command line (docs/spec.md section 8): campaigns over
 * seeds, shards and their merge, scenario verdicts, the bug zoo, the
 * determinism check and the benchmark figures.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "zoo.h"

#define MERGE_FILES_MAX 64

struct cli {
    const char *impl_name;
    const char *scenario_path;
    struct sim_scenario scenario;
    uint64_t first, last;
    bool has_seeds;
    const char *trace_path, *svg_path, *summary_path;
    int shard_index, shard_count;
    bool no_shrink, check, zoo, bench, determinism, list_impls, quiet;
    int merge_count;
    const char *merge_files[MERGE_FILES_MAX];
    struct sim_request request;
    const char *argv0;
    const char *strategy_name;
};

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now); /* rates only, never a simulation input */
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static const struct lease_ops *find_impl(const char *name) {
    const struct lease_ops *ops = lease_impl_find(name);
    return ops != NULL ? ops : zoo_find(name);
}

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
    "65 --merge of summaries that do not make one whole campaign; 73 an output file cannot be written.\n";

/* An output file that cannot be written is an error, found before any
 * work: the directory must exist and be writable, and so must the file if
 * it exists. */
static int check_output(const char *flag, const char *path) {
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

static int usage_error(const char *message, const char *argument) {
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

static int parse_strategy(const char *text, enum sim_strategy *strategy) {
    if (strcmp(text, "random") == 0) *strategy = SIM_STRATEGY_RANDOM;
    else if (strcmp(text, "pct") == 0) *strategy = SIM_STRATEGY_PCT;
    else if (strcmp(text, "exhaustive") == 0) *strategy = SIM_STRATEGY_EXHAUSTIVE;
    else return -1;
    return 0;
}

static int parse_arguments(struct cli *cli, int argc, char **argv) {
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

static void print_replay(const struct cli *cli, FILE *out, uint64_t seed, const char *drops) {
    fprintf(out, "%s --impl %s", cli->argv0, cli->impl_name);
    if (cli->scenario_path != NULL) fprintf(out, " --scenario %s", cli->scenario_path);
    if (cli->request.strategy != SIM_STRATEGY_RANDOM) fprintf(out, " --strategy %s", cli->strategy_name);
    fprintf(out, " --seed %llu", (unsigned long long)seed);
    if (drops != NULL && drops[0] != '\0') fprintf(out, " --drop %s", drops);
    fputc('\n', out);
}

static int write_artifacts(const struct cli *cli, const struct sim_plan *plan, uint64_t seed) {
    FILE *trace = NULL;
    if (cli->trace_path != NULL && (trace = fopen(cli->trace_path, "w")) == NULL) {
        fprintf(stderr, "leasesim: cannot write --trace %s: %s\n", cli->trace_path, strerror(errno));
        return EX_CANTCREAT;
    }
    sim_run_seed(&cli->request, plan, seed, trace, true);
    if (trace != NULL && (ferror(trace) | fclose(trace)) != 0) {
        fprintf(stderr, "leasesim: writing --trace %s failed\n", cli->trace_path);
        return EX_IOERR;
    }
    if (cli->svg_path != NULL && sim_svg_write(sim_world_get(), cli->svg_path) != 0) {
        fprintf(stderr, "leasesim: cannot write --svg %s: %s\n", cli->svg_path, strerror(errno));
        return EX_CANTCREAT;
    }
    return 0;
}

/* The verdict for a violating seed: invariant, shrunk story, replay. */
static void report_violation(const struct cli *cli, uint64_t seed) {
    struct sim_world *world = sim_world_get();
    enum sim_invariant invariant = world->violation;
    char description[512];
    sim_plan_describe(&world->plan, description, sizeof description);
    printf("VIOLATION seed=%llu impl=%s invariant=%s\n  %s\n", (unsigned long long)seed, cli->impl_name,
           sim_invariant_name(invariant), world->violation_text);
    printf("knobs (seed %llu): %s\n", (unsigned long long)seed, description);
    char drops[256] = "";
    if (!cli->no_shrink && cli->request.strategy != SIM_STRATEGY_EXHAUSTIVE)
        sim_shrink(&cli->request, seed, invariant, drops, sizeof drops);
    struct sim_request shrunk = cli->request;
    shrunk.drops = drops;
    struct sim_plan plan;
    sim_make_plan(&shrunk, seed, &plan);
    sim_run_seed(&shrunk, &plan, seed, NULL, true);
    printf("shrunk event sequence (dropped: %s):\n", drops[0] ? drops : "nothing");
    sim_story_print(world, stdout, 120);
    printf("replay: ");
    print_replay(cli, stdout, seed, cli->request.drops);
    if (drops[0] != '\0' && (cli->request.drops == NULL || strcmp(drops, cli->request.drops) != 0)) {
        printf("replay shrunk: ");
        print_replay(cli, stdout, seed, drops);
    }
}

static void print_counters(const uint64_t *counters, FILE *out) {
    fputs("reached:", out);
    for (int index = 0; index < SIM_COUNTER_COUNT; index++)
        if (counters[index] > 0) fprintf(out, " %s=%llu", sim_counter_name(index), (unsigned long long)counters[index]);
    fputs("\nnever reached:", out);
    int never = 0;
    for (int index = 0; index < SIM_COUNTER_COUNT; index++)
        if (counters[index] == 0) fprintf(out, " %s", sim_counter_name(index)), never++;
    fputs(never ? "\n" : " (none)\n", out);
}

struct campaign {
    uint64_t seeds_run, steps, violations, first_violation_seed;
    enum sim_invariant first_invariant;
    uint64_t counters[SIM_COUNTER_COUNT];
    double seconds;
};

static void progress(const struct cli *cli, const struct campaign *campaign, uint64_t total, double started) {
    double elapsed = seconds_now() - started;
    double rate = elapsed > 0 ? (double)campaign->seeds_run / elapsed : 0;
    double eta = rate > 0 ? (double)(total - campaign->seeds_run) / rate : 0;
    fprintf(stderr, "\r%s: seeds %llu/%llu  %.0f/s  violations %llu  ETA %.0fs   ", cli->impl_name,
            (unsigned long long)campaign->seeds_run, (unsigned long long)total, rate,
            (unsigned long long)campaign->violations, eta);
}

static int write_summary(const struct cli *cli, const struct campaign *campaign) {
    FILE *out = fopen(cli->summary_path, "w");
    if (out == NULL) {
        fprintf(stderr, "leasesim: cannot write --summary %s: %s\n", cli->summary_path, strerror(errno));
        return EX_CANTCREAT;
    }
    fprintf(out, "{\"impl\":\"%s\",\"strategy\":\"%s\",\"scenario\":\"%s\",\"seeds\":\"%llu..%llu\",\"shard\":\"%d/%d\",",
            cli->impl_name, cli->strategy_name, cli->scenario_path ? cli->scenario_path : "",
            (unsigned long long)cli->first, (unsigned long long)cli->last, cli->shard_index, cli->shard_count);
    fprintf(out, "\"drops\":\"%s\",\"pct_depth\":%d,", cli->request.drops ? cli->request.drops : "",
            cli->request.pct_depth);
    fprintf(out, "\"seeds_run\":%llu,\"steps\":%llu,\"violations\":%llu,\"first_violation_seed\":%llu,"
                 "\"first_invariant\":\"%s\",\"seconds\":%.3f,\"counters\":{",
            (unsigned long long)campaign->seeds_run, (unsigned long long)campaign->steps,
            (unsigned long long)campaign->violations, (unsigned long long)campaign->first_violation_seed,
            sim_invariant_name(campaign->first_invariant), campaign->seconds);
    for (int index = 0; index < SIM_COUNTER_COUNT; index++)
        fprintf(out, "%s\"%s\":%llu", index ? "," : "", sim_counter_name(index), (unsigned long long)campaign->counters[index]);
    fputs("}}\n", out);
    if ((ferror(out) | fclose(out)) != 0) {
        fprintf(stderr, "leasesim: writing --summary %s failed\n", cli->summary_path);
        return EX_IOERR;
    }
    return 0;
}

static int run_campaign(const struct cli *cli) {
    struct campaign campaign = {0};
    bool single = cli->first == cli->last;
    bool show_progress = !single && isatty(STDERR_FILENO) && !cli->quiet;
    /* Not a terminal (a CI log): a heartbeat line every few seconds instead
     * of nothing until the end. Wall time only paces the printing. */
    bool heartbeat = !single && !isatty(STDERR_FILENO) && !cli->quiet;
    const char *heartbeat_text = getenv("LEASESIM_HEARTBEAT_SECONDS");
    double heartbeat_s = heartbeat_text != NULL ? strtod(heartbeat_text, NULL) : 5.0;
    int artifacts = 0;
    double started = seconds_now(), last_print = started;
    uint64_t total = (cli->last - cli->first + 1) / (uint64_t)cli->shard_count;
    for (uint64_t seed = cli->first; seed <= cli->last && seed >= cli->first; seed++) {
        if ((seed - cli->first) % (uint64_t)cli->shard_count != (uint64_t)(cli->shard_index - 1)) continue;
        struct sim_plan plan;
        sim_make_plan(&cli->request, seed, &plan);
        if (single) {
            char description[512];
            sim_plan_describe(&plan, description, sizeof description);
            printf("leasesim: seed %llu impl=%s strategy=%s scenario=%s %s\n", (unsigned long long)seed, cli->impl_name,
                   cli->strategy_name, cli->scenario_path ? cli->scenario_path : "-", description);
            artifacts = write_artifacts(cli, &plan, seed);
        } else {
            sim_run_seed(&cli->request, &plan, seed, NULL, false);
        }
        struct sim_world *world = sim_world_get();
        campaign.seeds_run++;
        campaign.steps += world->step;
        for (int index = 0; index < SIM_COUNTER_COUNT; index++) campaign.counters[index] += world->counters[index];
        if (world->violation != SIM_INVARIANT_NONE) {
            campaign.violations++;
            campaign.first_violation_seed = seed;
            campaign.first_invariant = world->violation;
            if (show_progress) fputc('\n', stderr);
            if (!single) artifacts = write_artifacts(cli, &plan, seed);
            sim_run_seed(&cli->request, &plan, seed, NULL, false);
            report_violation(cli, seed);
            break;
        }
        if (show_progress && (campaign.seeds_run & 255) == 0 && seconds_now() - last_print > 0.5) {
            last_print = seconds_now();
            progress(cli, &campaign, total, started);
        }
        if (heartbeat && (campaign.seeds_run & 255) == 0 && seconds_now() - last_print >= heartbeat_s) {
            last_print = seconds_now();
            double elapsed = last_print - started;
            fprintf(stderr, "leasesim: %s: seeds %llu/%llu, %.0f seeds/s, violations %llu\n", cli->impl_name,
                    (unsigned long long)campaign.seeds_run, (unsigned long long)total,
                    elapsed > 0 ? (double)campaign.seeds_run / elapsed : 0.0, (unsigned long long)campaign.violations);
        }
    }
    campaign.seconds = seconds_now() - started;
    if (show_progress) fputc('\n', stderr);
    printf("leasesim: %llu seed(s), %llu steps, %llu violation(s), %.2fs (%.0f steps/s)\n",
           (unsigned long long)campaign.seeds_run, (unsigned long long)campaign.steps,
           (unsigned long long)campaign.violations, campaign.seconds,
           campaign.seconds > 0 ? (double)campaign.steps / campaign.seconds : 0.0);
    print_counters(campaign.counters, stdout);
    int summary = cli->summary_path != NULL ? write_summary(cli, &campaign) : 0;
    if (artifacts != 0) return artifacts;
    if (summary != 0) return summary;
    return campaign.violations > 0 ? 1 : 0;
}

/* A shard summary belongs to the campaign of the first one: the same
 * implementation, strategy, scenario, seed range, drops, PCT depth and shard
 * count; its shard number K of N not seen before. Returns its K, or 0 with a
 * message. */
static int shard_of(const json_t *root, const json_t *first, const char *path, const bool *seen, int *count) {
    static const char *const same[] = {"impl", "strategy", "scenario", "seeds", "drops"};
    for (size_t index = 0; index < sizeof same / sizeof same[0]; index++) {
        const char *mine = json_string_value(json_object_get(root, same[index]));
        const char *theirs = json_string_value(json_object_get(first, same[index]));
        if (mine == NULL || theirs == NULL || strcmp(mine, theirs) != 0) {
            fprintf(stderr, "leasesim: --merge: %s has %s '%s', the first summary '%s': not one campaign\n", path,
                    same[index], mine ? mine : "(none)", theirs ? theirs : "(none)");
            return 0;
        }
    }
    if (json_integer_value(json_object_get(root, "pct_depth")) != json_integer_value(json_object_get(first, "pct_depth"))) {
        fprintf(stderr, "leasesim: --merge: %s has another --pct-depth than the first summary\n", path);
        return 0;
    }
    int shard = 0, shards = 0, first_shards = 0, unused = 0;
    const char *text = json_string_value(json_object_get(root, "shard"));
    const char *first_text = json_string_value(json_object_get(first, "shard"));
    if (text == NULL || first_text == NULL || sscanf(text, "%d/%d", &shard, &shards) != 2 ||
        sscanf(first_text, "%d/%d", &unused, &first_shards) != 2 || shards != first_shards || shard < 1 ||
        shard > shards || shards > 4096) {
        fprintf(stderr, "leasesim: --merge: %s has shard '%s', not one of the first summary's %s\n", path,
                text ? text : "(none)", first_text ? first_text : "(none)");
        return 0;
    }
    if (seen[shard]) {
        fprintf(stderr, "leasesim: --merge: shard %d/%d given twice (%s)\n", shard, shards, path);
        return 0;
    }
    *count = shards;
    return shard;
}

static int run_merge(const struct cli *cli) {
    struct campaign total = {0};
    static bool seen[4097];
    json_t *first = NULL;
    int shards = 0;
    for (int file = 0; file < cli->merge_count; file++) {
        json_error_t error;
        json_t *root = json_load_file(cli->merge_files[file], 0, &error);
        if (root == NULL) {
            fprintf(stderr, "leasesim: %s: %s\n", cli->merge_files[file], error.text);
            json_decref(first);
            return EX_DATAERR;
        }
        int shard = shard_of(root, first != NULL ? first : root, cli->merge_files[file], seen, &shards);
        if (shard == 0) {
            json_decref(root);
            json_decref(first);
            return EX_DATAERR;
        }
        seen[shard] = true;
        total.seeds_run += (uint64_t)json_integer_value(json_object_get(root, "seeds_run"));
        total.steps += (uint64_t)json_integer_value(json_object_get(root, "steps"));
        uint64_t violations = (uint64_t)json_integer_value(json_object_get(root, "violations"));
        if (violations > 0 && total.violations == 0)
            total.first_violation_seed = (uint64_t)json_integer_value(json_object_get(root, "first_violation_seed"));
        total.violations += violations;
        double seconds = json_real_value(json_object_get(root, "seconds"));
        if (seconds > total.seconds) total.seconds = seconds;
        json_t *counters = json_object_get(root, "counters");
        for (int index = 0; index < SIM_COUNTER_COUNT; index++)
            total.counters[index] += (uint64_t)json_integer_value(json_object_get(counters, sim_counter_name(index)));
        if (first == NULL) first = root;
        else json_decref(root);
    }
    json_decref(first);
    for (int shard = 1; shard <= shards; shard++) {
        if (!seen[shard]) {
            fprintf(stderr, "leasesim: --merge: shard %d/%d is missing: the summaries do not cover the campaign\n",
                    shard, shards);
            return EX_DATAERR;
        }
    }
    printf("merged %d summaries: %llu seeds, %llu steps, %llu violation(s)", cli->merge_count,
           (unsigned long long)total.seeds_run, (unsigned long long)total.steps, (unsigned long long)total.violations);
    if (total.violations > 0) printf(" (first at seed %llu)", (unsigned long long)total.first_violation_seed);
    printf(", slowest shard %.1fs\n", total.seconds);
    print_counters(total.counters, stdout);
    return total.violations > 0 ? 1 : 0;
}

static int run_determinism(const struct cli *cli) {
    int mismatches = 0;
    for (uint64_t seed = cli->first; seed <= cli->last && seed >= cli->first; seed++) {
        struct sim_plan plan;
        sim_make_plan(&cli->request, seed, &plan);
        sim_run_seed(&cli->request, &plan, seed, NULL, false);
        uint64_t first_hash = sim_world_get()->hash;
        sim_run_seed(&cli->request, &plan, seed, NULL, false);
        if (sim_world_get()->hash != first_hash) {
            printf("determinism: seed %llu gave two different traces\n", (unsigned long long)seed);
            mismatches++;
        }
    }
    printf("determinism: %llu seeds run twice, %d mismatch(es)\n", (unsigned long long)(cli->last - cli->first + 1),
           mismatches);
    return mismatches > 0 ? 1 : 0;
}

/* ---- modes: scenario verdicts, the zoo, exhaustive search, benchmarks ---- */

static int sim_cli_exhaustive(struct cli *cli) {
    struct sim_plan plan;
    sim_make_plan(&cli->request, cli->first, &plan);
    char description[512];
    sim_plan_describe(&plan, description, sizeof description);
    printf("leasesim: seed %llu impl=%s strategy=exhaustive scenario=%s %s (every interleaving, crash points of the "
           "crash-anywhere actors)\n",
           (unsigned long long)cli->first, cli->impl_name, cli->scenario_path ? cli->scenario_path : plan.name,
           description);
    double started = seconds_now();
    struct sim_exploration result = sim_explore(&cli->request, &plan, 50000000);
    double elapsed = seconds_now() - started;
    printf("exhaustive: %llu schedules, %llu steps, %.2fs, %s\n", (unsigned long long)result.schedules,
           (unsigned long long)result.steps, elapsed,
           result.violation != SIM_INVARIANT_NONE ? "VIOLATION" : result.complete ? "complete: no violation" : "incomplete");
    if (result.violation != SIM_INVARIANT_NONE) {
        struct sim_world *world = sim_world_get();
        printf("VIOLATION impl=%s invariant=%s (schedule %llu)\n  %s\nreplay: ", cli->impl_name,
               sim_invariant_name(result.violation), (unsigned long long)result.schedules, world->violation_text);
        print_replay(cli, stdout, cli->first, NULL);
        return 1;
    }
    return result.complete ? 0 : 1;
}

struct first_hit {
    uint64_t seeds;
    double seconds;
    enum sim_invariant invariant;
};

static struct first_hit first_violation(const struct sim_request *request, uint64_t first, uint64_t last) {
    struct first_hit hit = {0};
    double started = seconds_now();
    for (uint64_t seed = first; seed <= last; seed++) {
        struct sim_plan plan;
        sim_make_plan(request, seed, &plan);
        sim_run_seed(request, &plan, seed, NULL, false);
        hit.seeds++;
        if (sim_world_get()->violation != SIM_INVARIANT_NONE) {
            hit.invariant = sim_world_get()->violation;
            break;
        }
    }
    hit.seconds = seconds_now() - started;
    return hit;
}

static bool expectation_met(const struct sim_expectation *expect, enum sim_invariant got, const uint64_t *counters) {
    if (got != expect->verdict) return false;
    for (int index = 0; index < expect->reached_count; index++)
        if (counters[expect->reached[index]] == 0) return false;
    return true;
}

static int check_one(struct cli *cli, const struct sim_expectation *expect, const char *impl) {
    struct sim_request request = cli->request;
    request.ops = find_impl(impl);
    request.traits = sim_traits_for(impl);
    if (request.ops == NULL) {
        printf("FAIL %-28s %-8s unknown implementation\n", cli->scenario.plan.name, impl);
        return 1;
    }
    uint64_t counters[SIM_COUNTER_COUNT] = {0};
    enum sim_invariant got = SIM_INVARIANT_NONE;
    uint64_t seed = cli->scenario.seed_first, hit_seed = 0;
    /* An expected violation is searched for past other violations (a model
     * may break another rule first on some seeds); a pass stops at any. */
    for (; seed <= cli->scenario.seed_last; seed++) {
        sim_run_seed(&request, &cli->scenario.plan, seed, NULL, false);
        struct sim_world *world = sim_world_get();
        for (int index = 0; index < SIM_COUNTER_COUNT; index++) counters[index] += world->counters[index];
        if (world->violation == SIM_INVARIANT_NONE) continue;
        if (got == SIM_INVARIANT_NONE || world->violation == expect->verdict) {
            got = world->violation;
            hit_seed = seed;
        }
        if (got == expect->verdict || expect->verdict == SIM_INVARIANT_NONE) break;
    }
    seed = hit_seed;
    bool ok = expectation_met(expect, got, counters);
    printf("%s %-28s %-8s expected %-18s got %-18s", ok ? "ok  " : "FAIL", cli->scenario.plan.name, impl,
           expect->verdict ? sim_invariant_name(expect->verdict) : "pass", got ? sim_invariant_name(got) : "pass");
    if (got != SIM_INVARIANT_NONE) printf(" (seed %llu)", (unsigned long long)seed);
    for (int index = 0; index < expect->reached_count; index++)
        printf(" %s=%llu", sim_counter_name(expect->reached[index]), (unsigned long long)counters[expect->reached[index]]);
    putchar('\n');
    if (!ok && got != SIM_INVARIANT_NONE) printf("     %s\n", sim_world_get()->violation_text);
    return ok ? 0 : 1;
}

static int sim_cli_check(struct cli *cli) {
    int failures = 0;
    for (int index = 0; index < cli->scenario.expectation_count; index++) {
        const struct sim_expectation *expect = &cli->scenario.expectations[index];
        if (strcmp(expect->impl, "*") == 0)
            /* "*" means every implementation of the library's registry. */
            for (size_t impl = 0; impl < lease_impl_count(); impl++)
                failures += check_one(cli, expect, lease_impl_at(impl)->name);
        else failures += check_one(cli, expect, expect->impl);
    }
    if (cli->scenario.expectation_count == 0) {
        printf("FAIL %s: no expect line\n", cli->scenario_path);
        failures++;
    }
    return failures > 0 ? 1 : 0;
}

static int sim_cli_zoo(struct cli *cli) {
    uint64_t first = cli->has_seeds ? cli->first : 1, last = cli->has_seeds ? cli->last : 20000;
    int missed = 0;
    printf("%-26s %-58s %-18s %8s %8s\n", "implementation", "rule broken", "caught by", "seeds", "seconds");
    for (size_t index = 0; index < zoo_count(); index++) {
        struct sim_request request = cli->request;
        request.ops = zoo_at(index);
        request.traits = sim_traits_for(request.ops->name);
        struct first_hit hit = first_violation(&request, first, last);
        printf("%-26s %-58s %-18s %8llu %8.2f\n", request.ops->name, request.ops->description,
               hit.invariant ? sim_invariant_name(hit.invariant) : "NOT CAUGHT", (unsigned long long)hit.seeds,
               hit.seconds);
        if (hit.invariant == SIM_INVARIANT_NONE) missed++;
    }
    printf("zoo: %zu members, %d not caught\n", zoo_count(), missed);
    return missed > 0 ? 1 : 0;
}

/* An implementation that only makes cheap environment calls: measures the
 * scheduler, the world and the trace hash without JSON work. */
static enum lease_status null_acquire(const struct lease_env *env, const struct lease_options *options,
                                      struct lease_result *result) {
    (void)options;
    for (int index = 0; index < 64; index++) env->monotonic_ms(env->context);
    result->status = LEASE_STATUS_ERROR;
    return LEASE_STATUS_ERROR;
}

static void plan_two_reclaimers(struct sim_plan *plan) {
    memset(plan, 0, sizeof *plan);
    snprintf(plan->name, sizeof plan->name, "two-reclaimers");
    plan->knobs = (struct sim_knobs){.ttl_ms = 10000, .initial = SIM_INITIAL_DEAD, .wall_resolution_ms = 1,
                                     .dir_exists = true, .pid_space = 1000, .lock_timeout_ms = 10000,
                                     .horizon_ms = 100000};
    const char *owners[] = {"kbSync", "backup"};
    for (int index = 0; index < 2; index++) {
        struct sim_spec *spec = &plan->specs[plan->spec_count++];
        spec->kind = SIM_SPEC_PROGRAM;
        spec->crash_after_ms = -1;
        snprintf(spec->label, sizeof spec->label, "%s", owners[index]);
        snprintf(spec->owner, sizeof spec->owner, "%s", owners[index]);
        spec->body_ms = 500;
        spec->at_ms = plan->knobs.ttl_ms; /* the dead holder's lease has also expired: neo-v1 reclaims too */
    }
}

static void bench_rates(struct cli *cli, const char *title, const struct lease_ops *ops, uint64_t seeds) {
    struct sim_request request = cli->request;
    request.ops = ops;
    request.traits = sim_traits_for(ops->name);
    request.scenario = NULL;
    request.strategy = SIM_STRATEGY_RANDOM;
    uint64_t steps = 0;
    double started = seconds_now();
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        struct sim_plan plan;
        sim_make_plan(&request, seed, &plan);
        sim_run_seed(&request, &plan, seed, NULL, false);
        steps += sim_world_get()->step;
    }
    double elapsed = seconds_now() - started;
    printf("%-44s %10.0f steps/s  %8.0f seeds/s  (%llu seeds, %llu steps, %.2fs)\n", title, (double)steps / elapsed,
           (double)seeds / elapsed, (unsigned long long)seeds, (unsigned long long)steps, elapsed);
}

static int sim_cli_bench(struct cli *cli) {
    static const struct lease_ops null_ops = {.version = LEASE_OPS_VERSION, .name = "null", .impl_version = "0",
                                              .description = "environment calls only", .acquire = null_acquire};
    printf("leasesim bench (one core)\n");
    bench_rates(cli, "scheduler+world only (null impl, 64 calls)", &null_ops, 20000);
    bench_rates(cli, "default campaign, impl lease", find_impl("lease"), 5000);
    struct sim_plan plan;
    plan_two_reclaimers(&plan);
    struct sim_scenario scenario = {.plan = plan, .seed_first = 1, .seed_last = 1};
    const char *impls[] = {"neo-v1", "neo-v2"};
    const char *strategies[] = {"random", "pct", "exhaustive"};
    printf("time to the first exclusion violation, two-reclaimers race:\n");
    for (int impl = 0; impl < 2; impl++)
        for (int strategy = 0; strategy < 3; strategy++) {
            struct sim_request request = cli->request;
            request.ops = find_impl(impls[impl]);
            request.traits = sim_traits_for(impls[impl]);
            request.scenario = &scenario;
            parse_strategy(strategies[strategy], &request.strategy);
            request.first_seed = 1;
            if (request.strategy == SIM_STRATEGY_EXHAUSTIVE) {
                double started = seconds_now();
                struct sim_exploration result = sim_explore(&request, &plan, 1000000);
                printf("  %-7s %-10s %8llu schedules %8.3fs  %s\n", impls[impl], strategies[strategy],
                       (unsigned long long)result.schedules, seconds_now() - started,
                       result.violation ? sim_invariant_name(result.violation) : "none found");
            } else {
                struct first_hit hit = first_violation(&request, 1, 1000000);
                printf("  %-7s %-10s %8llu seeds     %8.3fs  %s\n", impls[impl], strategies[strategy],
                       (unsigned long long)hit.seeds, hit.seconds,
                       hit.invariant ? sim_invariant_name(hit.invariant) : "none found");
            }
        }
    struct sim_request request = cli->request;
    request.ops = find_impl("lease");
    request.traits = sim_traits_for("lease");
    request.scenario = NULL;
    request.strategy = SIM_STRATEGY_EXHAUSTIVE;
    sim_plan_exhaustive(&plan);
    double started = seconds_now();
    struct sim_exploration result = sim_explore(&request, &plan, 50000000);
    printf("exhaustive, impl lease, 2 contenders + 1 holder crashed at every point: %llu schedules, %llu steps, "
           "%.2fs, %s\n",
           (unsigned long long)result.schedules, (unsigned long long)result.steps, seconds_now() - started,
           result.violation ? sim_invariant_name(result.violation) : result.complete ? "proven (complete)" : "incomplete");
    return 0;
}

int main(int argc, char **argv) {
    static struct cli cli = {.impl_name = "lease", .shard_index = 1, .shard_count = 1, .strategy_name = "random"};
    cli.argv0 = argv[0];
    cli.request.pct_depth = 3;
    sim_alloc_install();
    int status = parse_arguments(&cli, argc, argv);
    if (status != 0) return status;
    if (cli.list_impls) {
        for (size_t index = 0; index < lease_impl_count(); index++)
            printf("%-26s %s\n", lease_impl_name(lease_impl_at(index)), lease_impl_description(lease_impl_at(index)));
        for (size_t index = 0; index < zoo_count(); index++)
            printf("%-26s %s\n", zoo_at(index)->name, zoo_at(index)->description);
        return 0;
    }
    if (cli.merge_count > 0) return run_merge(&cli);
    cli.request.ops = find_impl(cli.impl_name);
    if (cli.request.ops == NULL) return usage_error("unknown implementation (see --list-impls)", cli.impl_name);
    cli.request.traits = sim_traits_for(cli.impl_name);
    if (cli.scenario_path != NULL) {
        char error[512];
        if (sim_scenario_load(cli.scenario_path, &cli.scenario, error, sizeof error) != 0)
            return usage_error("cannot read the scenario", error);
        cli.request.scenario = &cli.scenario;
    }
    if (cli.bench) return sim_cli_bench(&cli);
    if (cli.zoo) return sim_cli_zoo(&cli);
    if (cli.check) return cli.scenario_path ? sim_cli_check(&cli) : usage_error("--check needs --scenario", NULL);
    if (!cli.has_seeds) return usage_error("give --seed N or --seeds A..B", NULL);
    cli.request.first_seed = cli.first;
    if (cli.determinism) return run_determinism(&cli);
    if (cli.request.strategy == SIM_STRATEGY_EXHAUSTIVE && (cli.trace_path != NULL || cli.svg_path != NULL))
        return usage_error("--trace and --svg are not written in exhaustive mode (replay a seed of another strategy)",
                           NULL);
    int unwritable = check_output("--trace", cli.trace_path);
    if (unwritable == 0) unwritable = check_output("--svg", cli.svg_path);
    if (unwritable == 0) unwritable = check_output("--summary", cli.summary_path);
    if (unwritable != 0) return unwritable;
    if (cli.request.strategy == SIM_STRATEGY_EXHAUSTIVE) return sim_cli_exhaustive(&cli);
    if (cli.first != cli.last) {
        printf("leasesim: seeds %llu..%llu shard %d/%d impl=%s strategy=%s scenario=%s knobs: ",
               (unsigned long long)cli.first, (unsigned long long)cli.last, cli.shard_index, cli.shard_count,
               cli.impl_name, cli.strategy_name, cli.scenario_path ? cli.scenario_path : "-");
        if (cli.scenario_path != NULL) {
            char description[512];
            struct sim_plan plan;
            sim_make_plan(&cli.request, cli.first, &plan);
            sim_plan_describe(&plan, description, sizeof description);
            printf("%s\n", description);
        } else {
            printf("drawn per seed: ttl {1000,3000,10000,60000}ms, renew 60%%, initial {none,dead,live,torn,reused}, "
                   "crash {0,1,3,10}/1000 per step, wall-resolution {1,1000}ms, partial-writes 50%%, pid-space "
                   "{8,1000}, lock-timeout {50,10000}ms, programs 2..6 (hang 6%%, crash-in-body 15%%, pid-reuse "
                   "40%% of those), orchestrator 30%%, clock-jump 15%%%s%s\n",
                   cli.request.drops ? ", drop " : "", cli.request.drops ? cli.request.drops : "");
        }
    }
    return run_campaign(&cli);
}
