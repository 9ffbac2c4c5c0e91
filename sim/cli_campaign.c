/*
 * cli_campaign.c: campaigns over seeds (progress, violations with their
 * shrunk story and replay line, artifacts), shard summaries and their merge,
 * the determinism check.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <jansson.h>
#include <unistd.h>

#include "cli.h"
#include "plan.h"
#include "trace.h"

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
    if (cli->html_path != NULL && sim_html_write(sim_world_get(), cli->html_path) != 0) {
        fprintf(stderr, "leasesim: cannot write --html %s: %s\n", cli->html_path, strerror(errno));
        return EX_CANTCREAT;
    }
    return 0;
}

/* The verdict for a violating seed: invariant, shrunk story, replay. */
/* Shrinks a violating seed (unless told not to, or exhaustive) and runs it
 * again with what the shrinker dropped, leaving that run in the world;
 * drops receives the dropped faults. */
static void rerun_shrunk(const struct cli *cli, uint64_t seed, enum sim_invariant invariant, char *drops, size_t size) {
    drops[0] = '\0';
    if (!cli->no_shrink && cli->request.strategy != SIM_STRATEGY_EXHAUSTIVE)
        sim_shrink(&cli->request, seed, invariant, drops, size);
    struct sim_request shrunk = cli->request;
    shrunk.drops = drops;
    struct sim_plan plan;
    sim_make_plan(&shrunk, seed, &plan);
    sim_run_seed(&shrunk, &plan, seed, NULL, true);
}

static void report_violation(const struct cli *cli, uint64_t seed) {
    struct sim_world *world = sim_world_get();
    enum sim_invariant invariant = world->violation;
    char description[512];
    sim_plan_describe(&world->plan, description, sizeof description);
    printf("VIOLATION seed=%llu impl=%s invariant=%s\n  %s\n", (unsigned long long)seed, cli->impl_name,
           sim_invariant_name(invariant), world->violation_text);
    printf("knobs (seed %llu): %s\n", (unsigned long long)seed, description);
    char drops[256];
    rerun_shrunk(cli, seed, invariant, drops, sizeof drops);
    printf("shrunk event sequence (dropped: %s):\n", drops[0] ? drops : "nothing");
    sim_story_print(world, stdout, 120);
    printf("replay: ");
    print_replay(cli, stdout, seed, cli->request.drops);
    if (drops[0] != '\0' && (cli->request.drops == NULL || strcmp(drops, cli->request.drops) != 0)) {
        printf("replay shrunk: ");
        print_replay(cli, stdout, seed, drops);
    }
}

struct campaign {
    uint64_t seeds_run, steps, violations, first_violation_seed;
    enum sim_invariant first_invariant;
    uint64_t counters[SIM_COUNTER_COUNT];
    uint64_t per_invariant[SIM_INVARIANT_COUNT]; /* seeds, by the invariant each broke first */
    uint64_t not_hunted;                         /* seeds that broke another invariant than --invariant */
    uint64_t wedged_seeds;                       /* seeds where a dead holder's lease blocked runs */
    struct sim_wedge longest_wedge;
    uint64_t longest_wedge_seed;
    double seconds;
};

/* --keep-going: violations grouped by a signature, the invariant and the
 * shape of the shrunk run's story (what happened, in order, with processes
 * named P1, P2, ... by first mention and every number written as #). A seed
 * whose unshrunk shape was seen before joins that shape's signature without
 * being shrunk again. */
#define SIGNATURES_MAX 512
#define RAW_SHAPES_MAX 65536 /* open addressing, a power of two */
#define SHAPE_MAX 4096

struct signature {
    uint64_t hash, seeds, first_seed;
    enum sim_invariant invariant;
    char drops[256];
    char shape[SHAPE_MAX];
};

struct signatures {
    int count;
    bool filed;        /* a violation was filed since the last reset: raw_hash holds entries */
    uint64_t overflow; /* seeds of signatures beyond SIGNATURES_MAX */
    struct signature table[SIGNATURES_MAX];
    uint64_t raw_hash[RAW_SHAPES_MAX]; /* 0: empty */
    int raw_signature[RAW_SHAPES_MAX]; /* -1: beyond the table */
};

static uint64_t fnv1a(uint64_t hash, const char *text) {
    for (; *text != '\0'; text++) hash = (hash ^ (unsigned char)*text) * 1099511628211ULL;
    return hash;
}

static bool is_word_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

/* The story of the world's last run as a shape (see struct signatures). */
static void story_shape(const struct sim_world *world, char *shape, size_t size) {
    int name_of[SIM_PROCESS_MAX];
    int names = 0;
    for (int index = 0; index < SIM_PROCESS_MAX; index++) name_of[index] = 0;
    size_t used = 0;
    shape[0] = '\0';
    for (int line = 0; line < world->story_count && used + 1 < size; line++) {
        const struct sim_story *story = &world->story[line];
        used +=
            (size_t)snprintf(shape + used, size - used, "%s%s:", line ? "; " : "", sim_story_kind_name(story->kind));
        for (const char *text = story->text; *text != '\0' && used + 1 < size;) {
            int match = -1;
            size_t match_length = 0;
            for (int index = 0; index < world->process_count; index++) {
                size_t length = strlen(world->processes[index].label);
                if (length > match_length && strncmp(text, world->processes[index].label, length) == 0 &&
                    !is_word_char(text[length]) && text[length] != '.')
                    match = index, match_length = length;
            }
            if (match >= 0) {
                if (name_of[match] == 0) name_of[match] = ++names;
                used += (size_t)snprintf(shape + used, size - used, "P%d", name_of[match]);
                text += match_length;
                continue;
            }
            if (!is_word_char(*text)) {
                shape[used++] = *text++;
                shape[used] = '\0';
                continue;
            }
            const char *start = text;
            bool digit = false;
            while (is_word_char(*text)) digit |= (*text >= '0' && *text <= '9'), text++;
            if (digit)
                used += (size_t)snprintf(shape + used, size - used, "#");
            else
                used += (size_t)snprintf(shape + used, size - used, "%.*s", (int)(text - start), start);
        }
    }
    if (used >= size) shape[size - 1] = '\0';
}

/* The cause of the world's last run's violation, coarse enough to group
 * seeds: the violation's text (processes named P, numbers #), the faults of
 * the run (crash, kill, pid reuse, clock jump, renewal) and the last result
 * each process the violation names got (taker first). */
static void cause_shape(const struct sim_world *world, char *shape, size_t size) {
    bool kinds[SIM_STORY_RENEW + 1] = {false};
    const char *violation = "";
    for (int line = 0; line < world->story_count; line++) {
        kinds[world->story[line].kind] = true;
        if (world->story[line].kind == SIM_STORY_VIOLATION) violation = world->story[line].text;
    }
    char text[SHAPE_MAX];
    int named[2] = {-1, -1};
    size_t used = 0;
    text[0] = '\0';
    for (const char *cursor = violation; *cursor != '\0' && used + 2 < sizeof text;) {
        size_t match_length = 0;
        int match = -1;
        for (int index = 0; index < world->process_count; index++) {
            size_t length = strlen(world->processes[index].label);
            if (length > match_length && strncmp(cursor, world->processes[index].label, length) == 0)
                match_length = length, match = index;
        }
        if (match >= 0) {
            if (named[0] < 0)
                named[0] = match;
            else if (named[1] < 0 && match != named[0])
                named[1] = match;
            text[used++] = 'P';
            cursor += match_length;
        } else if (!is_word_char(*cursor)) {
            text[used++] = *cursor++;
        } else {
            const char *start = cursor;
            bool digit = false;
            while (is_word_char(*cursor)) digit |= (*cursor >= '0' && *cursor <= '9'), cursor++;
            used += (size_t)snprintf(text + used, sizeof text - used, "%.*s", digit ? 1 : (int)(cursor - start),
                                     digit ? "#" : start);
        }
        text[used] = '\0';
    }
    used = (size_t)snprintf(shape, size, "%s | faults:", text);
    static const enum sim_story_kind faults[] = {SIM_STORY_CRASH, SIM_STORY_KILL, SIM_STORY_PID_REUSE,
                                                 SIM_STORY_CLOCK_JUMP, SIM_STORY_RENEW};
    bool any = false;
    for (size_t index = 0; index < sizeof faults / sizeof faults[0] && used < size; index++) {
        if (!kinds[faults[index]]) continue;
        used +=
            (size_t)snprintf(shape + used, size - used, "%s%s", any ? "," : " ", sim_story_kind_name(faults[index]));
        any = true;
    }
    if (!any && used < size) used += (size_t)snprintf(shape + used, size - used, " none");
    for (int which = 0; which < 2 && used < size; which++) {
        if (named[which] < 0) continue;
        const char *label = world->processes[named[which]].label;
        size_t length = strlen(label);
        const char *status = "none";
        for (int line = 0; line < world->story_count; line++) {
            const struct sim_story *story = &world->story[line];
            if (story->kind == SIM_STORY_RESULT && strncmp(story->text, label, length) == 0 &&
                strncmp(story->text + length, ": ", 2) == 0)
                status = story->text + length + 2;
        }
        size_t status_length = strcspn(status, ": (");
        used += (size_t)snprintf(shape + used, size - used, " | %s: %.*s", which == 0 ? "taker" : "other",
                                 (int)status_length, status);
    }
}

/* Empties the table for a campaign. The table is 3 MB of static storage:
 * clearing all of it touched every page, 750 page faults at every start of
 * leasesim (most of a one-seed run's CPU); a table entry is written whole when
 * it is filed, so only the hash slots of a table that was used are cleared. */
static void signatures_reset(struct signatures *signatures) {
    if (signatures->filed) memset(signatures->raw_hash, 0, sizeof signatures->raw_hash);
    signatures->count = 0;
    signatures->overflow = 0;
    signatures->filed = false;
}

/* Files the violating seed (the world holds its run) under its signature. */
static void file_violation(const struct cli *cli, struct signatures *signatures, uint64_t seed,
                           const struct sim_plan *plan) {
    enum sim_invariant invariant = sim_world_get()->violation;
    signatures->filed = true;
    static char shape[SHAPE_MAX];
    sim_run_seed(&cli->request, plan, seed, NULL, true);
    story_shape(sim_world_get(), shape, sizeof shape);
    uint64_t raw = fnv1a(fnv1a(14695981039346656037ULL, sim_invariant_name(invariant)), shape) | 1;
    size_t slot = (size_t)raw & (RAW_SHAPES_MAX - 1);
    for (size_t probe = 0; probe < RAW_SHAPES_MAX && signatures->raw_hash[slot] != 0; probe++) {
        if (signatures->raw_hash[slot] == raw) {
            int known = signatures->raw_signature[slot];
            if (known >= 0)
                signatures->table[known].seeds++;
            else
                signatures->overflow++;
            return;
        }
        slot = (slot + 1) & (RAW_SHAPES_MAX - 1);
    }
    char drops[256];
    rerun_shrunk(cli, seed, invariant, drops, sizeof drops);
    cause_shape(sim_world_get(), shape, sizeof shape);
    uint64_t hash = fnv1a(fnv1a(14695981039346656037ULL, sim_invariant_name(invariant)), shape);
    int found = -1;
    for (int index = 0; index < signatures->count && found < 0; index++)
        if (signatures->table[index].hash == hash && signatures->table[index].invariant == invariant) found = index;
    if (found < 0 && signatures->count < SIGNATURES_MAX) {
        found = signatures->count++;
        struct signature *entry = &signatures->table[found];
        entry->hash = hash;
        entry->invariant = invariant;
        entry->first_seed = seed;
        entry->seeds = 0;
        snprintf(entry->drops, sizeof entry->drops, "%s", drops);
        snprintf(entry->shape, sizeof entry->shape, "%s", shape);
    }
    if (found >= 0)
        signatures->table[found].seeds++;
    else
        signatures->overflow++;
    if (signatures->raw_hash[slot] == 0) {
        signatures->raw_hash[slot] = raw;
        signatures->raw_signature[slot] = found;
    }
}

static void report_signatures(const struct cli *cli, const struct campaign *campaign,
                              const struct signatures *signatures) {
    printf("violations by invariant:");
    for (int index = 1; index < SIM_INVARIANT_COUNT; index++)
        if (campaign->per_invariant[index] > 0)
            printf(" %s=%llu", sim_invariant_name(index), (unsigned long long)campaign->per_invariant[index]);
    if (campaign->violations == 0 && campaign->not_hunted == 0) printf(" none");
    printf("\n");
    if (cli->hunted != SIM_INVARIANT_NONE)
        printf("hunting %s: %llu seed(s) broke another invariant first (not reported)\n",
               sim_invariant_name(cli->hunted), (unsigned long long)campaign->not_hunted);
    printf("%d distinct signature(s)", signatures->count);
    if (signatures->overflow > 0)
        printf(" (and %llu seed(s) of signatures beyond the first %d)", (unsigned long long)signatures->overflow,
               SIGNATURES_MAX);
    printf("\n");
    for (int index = 0; index < signatures->count; index++) {
        const struct signature *entry = &signatures->table[index];
        printf("signature %d: %s, %llu seed(s), first seed %llu\n  shape: %.400s%s\n  replay: ", index + 1,
               sim_invariant_name(entry->invariant), (unsigned long long)entry->seeds,
               (unsigned long long)entry->first_seed, entry->shape, strlen(entry->shape) > 400 ? " ..." : "");
        print_replay(cli, stdout, entry->first_seed, entry->drops[0] ? entry->drops : cli->request.drops);
    }
}

static void progress(const struct cli *cli, const struct campaign *campaign, uint64_t total, double started) {
    double elapsed = seconds_now() - started;
    double rate = elapsed > 0 ? (double)campaign->seeds_run / elapsed : 0;
    double eta = rate > 0 ? (double)(total - campaign->seeds_run) / rate : 0;
    fprintf(stderr, "\r%s: seeds %llu/%llu  %.0f/s  violations %llu  ETA %.0fs   ", cli->impl_name,
            (unsigned long long)campaign->seeds_run, (unsigned long long)total, rate,
            (unsigned long long)campaign->violations, eta);
}

/* The shard summary, through jansson (strings escaped, nothing hand-built). */
static int write_summary(const struct cli *cli, const struct campaign *campaign) {
    char seeds[64], shard[32];
    snprintf(seeds, sizeof seeds, "%llu..%llu", (unsigned long long)cli->first, (unsigned long long)cli->last);
    snprintf(shard, sizeof shard, "%d/%d", cli->shard_index, cli->shard_count);
    json_t *counters = json_object();
    for (int index = 0; index < SIM_COUNTER_COUNT; index++)
        json_object_set_new(counters, sim_counter_name(index), json_integer((json_int_t)campaign->counters[index]));
    json_t *root =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:s, s:f, s:o}", "impl", cli->impl_name,
                  "strategy", cli->strategy_name, "scenario", cli->scenario_path ? cli->scenario_path : "", "seeds",
                  seeds, "shard", shard, "drops", cli->request.drops ? cli->request.drops : "", "pct_depth",
                  cli->request.pct_depth, "seeds_run", (json_int_t)campaign->seeds_run, "steps",
                  (json_int_t)campaign->steps, "violations", (json_int_t)campaign->violations, "first_violation_seed",
                  (json_int_t)campaign->first_violation_seed, "first_invariant",
                  sim_invariant_name(campaign->first_invariant), "seconds", campaign->seconds, "counters", counters);
    if (root != NULL && cli->request.mix != NULL) json_object_set_new(root, "mix", json_string(cli->request.mix));
    int status = root != NULL ? json_dump_file(root, cli->summary_path, JSON_COMPACT | JSON_PRESERVE_ORDER) : -1;
    json_decref(root);
    if (status != 0) {
        fprintf(stderr, "leasesim: cannot write --summary %s: %s\n", cli->summary_path,
                root == NULL ? "could not build the summary" : strerror(errno));
        return EX_CANTCREAT;
    }
    return 0;
}

int run_campaign(const struct cli *cli) {
    struct campaign campaign = {0};
    bool single = cli->first == cli->last;
    bool show_progress = !single && isatty(STDERR_FILENO) && !cli->quiet;
    /* Not a terminal (a CI log): a heartbeat line every few seconds instead
     * of nothing until the end. Wall time only paces the printing. */
    bool heartbeat = !single && !isatty(STDERR_FILENO) && !cli->quiet;
    const char *heartbeat_text = getenv("LEASESIM_HEARTBEAT_SECONDS");
    double heartbeat_s = heartbeat_text != NULL ? strtod(heartbeat_text, NULL) : 5.0;
    int artifacts = 0;
    static struct signatures signatures_storage;
    struct signatures *signatures = &signatures_storage;
    signatures_reset(signatures);
    double started = seconds_now(), last_print = started;
    uint64_t total = (cli->last - cli->first + 1) / (uint64_t)cli->shard_count;
    for (uint64_t seed = cli->first; seed <= cli->last && seed >= cli->first; seed++) {
        if ((seed - cli->first) % (uint64_t)cli->shard_count != (uint64_t)(cli->shard_index - 1)) continue;
        struct sim_plan plan;
        sim_make_plan(&cli->request, seed, &plan);
        if (single) {
            char description[512];
            sim_plan_describe(&plan, description, sizeof description);
            printf("leasesim: seed %llu impl=%s%s%s strategy=%s scenario=%s %s\n", (unsigned long long)seed,
                   cli->impl_name, cli->request.mix ? " mix=" : "", cli->request.mix ? cli->request.mix : "",
                   cli->strategy_name, cli->scenario_path ? cli->scenario_path : "-", description);
            artifacts = write_artifacts(cli, &plan, seed);
        } else {
            sim_run_seed(&cli->request, &plan, seed, NULL, false);
        }
        struct sim_world *world = sim_world_get();
        campaign.seeds_run++;
        campaign.steps += world->step;
        for (int index = 0; index < SIM_COUNTER_COUNT; index++) campaign.counters[index] += world->counters[index];
        if (world->counters[SIM_COUNTER_WEDGE_UNTIL_TTL] > 0) {
            /* the wedge's length needs the story: run the seed again with it */
            if (!single) sim_run_seed(&cli->request, &plan, seed, NULL, true);
            struct sim_wedge wedge = sim_wedge_longest(sim_world_get());
            if (wedge.runs > 0) {
                campaign.wedged_seeds++;
                if (campaign.longest_wedge.runs == 0 || wedge.ms > campaign.longest_wedge.ms)
                    campaign.longest_wedge = wedge, campaign.longest_wedge_seed = seed;
            }
        }
        if (world->violation != SIM_INVARIANT_NONE) {
            campaign.per_invariant[world->violation]++;
            if (cli->hunted != SIM_INVARIANT_NONE && world->violation != cli->hunted) {
                campaign.not_hunted++;
                continue;
            }
            campaign.violations++;
            if (cli->keep_going && !single) {
                if (campaign.violations == 1) {
                    campaign.first_violation_seed = seed;
                    campaign.first_invariant = world->violation;
                    artifacts = write_artifacts(cli, &plan, seed);
                }
                file_violation(cli, signatures, seed, &plan);
                continue;
            }
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
    if (campaign.wedged_seeds > 0) {
        char text[160];
        sim_wedge_describe(&campaign.longest_wedge, text, sizeof text);
        if (single)
            printf("WEDGE: %s\n", text);
        else
            printf("WEDGE: %llu seed(s) wedged; longest (seed %llu): %s\n", (unsigned long long)campaign.wedged_seeds,
                   (unsigned long long)campaign.longest_wedge_seed, text);
    }
    if (cli->keep_going && !single) report_signatures(cli, &campaign, signatures);
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
    static const char *const same[] = {"impl", "strategy", "scenario", "seeds", "drops", "mix"};
    for (size_t index = 0; index < sizeof same / sizeof same[0]; index++) {
        const char *mine = json_string_value(json_object_get(root, same[index]));
        const char *theirs = json_string_value(json_object_get(first, same[index]));
        bool optional = strcmp(same[index], "mix") == 0; /* absent: no --mix */
        if (optional && mine == NULL && theirs == NULL) continue;
        if (mine == NULL || theirs == NULL || strcmp(mine, theirs) != 0) {
            fprintf(stderr, "leasesim: --merge: %s has %s '%s', the first summary '%s': not one campaign\n", path,
                    same[index], mine ? mine : "(none)", theirs ? theirs : "(none)");
            return 0;
        }
    }
    if (json_integer_value(json_object_get(root, "pct_depth")) !=
        json_integer_value(json_object_get(first, "pct_depth"))) {
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

int run_merge(const struct cli *cli) {
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
        if (first == NULL)
            first = root;
        else
            json_decref(root);
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

int run_determinism(const struct cli *cli) {
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

/* The campaign's first line (what is run, and the knobs: the scenario's, or
 * the distribution they are drawn from), then the campaign. */
int sim_cli_campaign(const struct cli *cli) {
    if (cli->first != cli->last) {
        printf("leasesim: seeds %llu..%llu shard %d/%d impl=%s%s%s strategy=%s scenario=%s knobs: ",
               (unsigned long long)cli->first, (unsigned long long)cli->last, cli->shard_index, cli->shard_count,
               cli->impl_name, cli->request.mix ? " mix=" : "", cli->request.mix ? cli->request.mix : "",
               cli->strategy_name, cli->scenario_path ? cli->scenario_path : "-");
        if (cli->scenario_path != NULL) {
            char description[512];
            struct sim_plan plan;
            sim_make_plan(&cli->request, cli->first, &plan);
            sim_plan_describe(&plan, description, sizeof description);
            printf("%s\n", description);
        } else {
            printf("drawn per seed: ttl {1000,3000,10000,60000}ms, renew 60%%, initial {none,dead,live,torn,reused}, "
                   "crash {0,1,3,10}/1000 per step, wall-resolution {1,1000}ms, partial-writes 50%%, pid-space "
                   "{8,1000}, lock-timeout {50,10000}ms, programs 2..6 (hang 6%%, crash-in-body 15%%, pid-reuse "
                   "40%% of those), orchestrator 30%% (renewing: half of the holding ones when renew, killed "
                   "half of those), launcher 20%% (worker crash-in-body 30%%), clock-jump 15%%, foreign-pids 25%%, "
                   "inode-reuse 50%%, lock-stall 15%%%s%s\n",
                   cli->request.drops ? ", drop " : "", cli->request.drops ? cli->request.drops : "");
        }
    }
    return run_campaign(cli);
}
