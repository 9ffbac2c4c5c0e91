/*
 * scenario.c: reads a scenario file (format: fixtures/scenarios/README.md).
 * One directive per line, words separated by blanks, '#' starts a comment.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "scenario.h"
#include "trace.h"
#include "traits.h"

#define WORDS_MAX 24
#define LINES_MAX 1000

static struct sim_spec *new_spec(struct sim_plan *plan, enum sim_spec_kind kind, const char *label) {
    if (plan->spec_count >= SIM_SPEC_MAX) return NULL;
    struct sim_spec *spec = &plan->specs[plan->spec_count++];
    memset(spec, 0, sizeof *spec);
    spec->kind = kind;
    spec->crash_after_ms = -1;
    lease_copy_text(spec->label, sizeof spec->label, label);
    return spec;
}

/* "at MS" and the other keyword/value pairs of a program line. */
static bool parse_program_words(struct sim_spec *spec, char **words, int count) {
    for (int index = 0; index < count; index++) {
        const char *word = words[index];
        const char *next = index + 1 < count ? words[index + 1] : "";
        if (strcmp(word, "hang") == 0)
            spec->hang = true;
        else if (strcmp(word, "crash-anywhere") == 0)
            spec->crash_anywhere = true;
        else if (strcmp(word, "fail") == 0)
            spec->fail = true;
        else if (strcmp(word, "hold") == 0)
            spec->hold = true;
        else if (strcmp(word, "renew") == 0)
            spec->renew = true;
        else if (strcmp(word, "at") == 0 && lease_parse_integer(next, INT64_MIN, INT64_MAX, &spec->at_ms))
            index++;
        else if (strcmp(word, "body") == 0 && lease_parse_integer(next, INT64_MIN, INT64_MAX, &spec->body_ms))
            index++;
        else if (strcmp(word, "crash-after") == 0 &&
                 lease_parse_integer(next, INT64_MIN, INT64_MAX, &spec->crash_after_ms))
            index++;
        else if (strcmp(word, "tree") == 0 && lease_parse_integer(next, INT64_MIN, INT64_MAX, &spec->tree_ms))
            index++;
        else if (strcmp(word, "by") == 0 && lease_parse_integer(next, INT64_MIN, INT64_MAX, &spec->jump_ms))
            index++;
        else if (strcmp(word, "impl") == 0 && (spec->kind == SIM_SPEC_PROGRAM || spec->kind == SIM_SPEC_ORCHESTRATOR) &&
                 sim_impl_find(next) != NULL) {
            lease_copy_text(spec->impl, sizeof spec->impl, next);
            index++;
        } else if (strcmp(word, "crash-after-op") == 0 && next[0] != '\0') {
            lease_copy_text(spec->crash_after_op, sizeof spec->crash_after_op, next);
            index++;
        } else if (strcmp(word, "child") == 0 && next[0] != '\0' && spec->child_count < SIM_CHILD_MAX) {
            struct sim_child *child = &spec->children[spec->child_count++];
            char copy[64];
            lease_copy_text(copy, sizeof copy, next);
            char *body = strchr(copy, ':');
            if (body == NULL) return false;
            *body++ = '\0';
            char *hang = strchr(body, ':');
            if (hang != NULL) *hang++ = '\0';
            lease_copy_text(child->owner, sizeof child->owner, copy);
            if (!lease_parse_integer(body, INT64_MIN, INT64_MAX, &child->body_ms)) return false;
            child->hang = hang != NULL && strcmp(hang, "hang") == 0;
            index++;
        } else
            return false;
    }
    return true;
}

static bool parse_expect(struct sim_scenario *scenario, char **words, int count) {
    if (count < 3 || scenario->expectation_count >= SIM_EXPECT_MAX) return false;
    struct sim_expectation *expect = &scenario->expectations[scenario->expectation_count++];
    memset(expect, 0, sizeof *expect);
    lease_copy_text(expect->impl, sizeof expect->impl, words[1]);
    int index = 2;
    if (strcmp(words[2], "pass") == 0)
        expect->verdict = SIM_INVARIANT_NONE;
    else if (strcmp(words[2], "wedged") == 0)
        expect->verdict = SIM_INVARIANT_NONE, expect->wedged = true;
    else if (strcmp(words[2], "violation") == 0 && count > 3 && sim_invariant_from_name(words[3], &expect->verdict))
        index++;
    else
        return false;
    index++;
    if (index < count && strcmp(words[index], "reached") == 0) index++;
    for (; index < count && expect->reached_count < SIM_COUNTER_COUNT; index++)
        if (!sim_counter_from_name(words[index], &expect->reached[expect->reached_count++])) return false;
    return true;
}

static bool parse_knob(struct sim_scenario *scenario, char **words, int count) {
    struct sim_knobs *knobs = &scenario->plan.knobs;
    if (count != 2) return false;
    const char *key = words[0], *value = words[1];
    int knob = sim_knob_parse(knobs, key, value);
    if (knob >= 0) return knob == 1;
    if (strcmp(key, "name") == 0)
        lease_copy_text(scenario->plan.name, sizeof scenario->plan.name, value);
    else if (strcmp(key, "seeds") == 0) {
        if (strstr(value, "..") == NULL) return false;
        return sim_seed_range_parse(value, &scenario->seed_first, &scenario->seed_last);
    } else
        return false;
    return true;
}

static bool parse_line(struct sim_scenario *scenario, char **words, int count) {
    struct sim_plan *plan = &scenario->plan;
    const char *verb = words[0];
    if (strcmp(verb, "expect") == 0) return parse_expect(scenario, words, count);
    if (strcmp(verb, "program") == 0 && count >= 3) {
        struct sim_spec *spec = new_spec(plan, SIM_SPEC_PROGRAM, words[1]);
        if (spec == NULL) return false;
        lease_copy_text(spec->owner, sizeof spec->owner, words[2]);
        return parse_program_words(spec, words + 3, count - 3);
    }
    if (strcmp(verb, "launcher") == 0 && count >= 3) {
        struct sim_spec *spec = new_spec(plan, SIM_SPEC_LAUNCHER, words[1]);
        if (spec == NULL) return false;
        lease_copy_text(spec->owner, sizeof spec->owner, words[2]);
        return parse_program_words(spec, words + 3, count - 3);
    }
    if (strcmp(verb, "orchestrator") == 0 && count >= 2) {
        struct sim_spec *spec = new_spec(plan, SIM_SPEC_ORCHESTRATOR, words[1]);
        if (spec == NULL) return false;
        lease_copy_text(spec->owner, sizeof spec->owner, "orchestrator");
        return parse_program_words(spec, words + 2, count - 2);
    }
    if ((strcmp(verb, "kill") == 0 || strcmp(verb, "reuse-pid") == 0) && count >= 2) {
        bool kill = verb[0] == 'k';
        struct sim_spec *spec = new_spec(plan, kill ? SIM_SPEC_KILL : SIM_SPEC_REUSE_PID, kill ? "kill" : "reuser");
        if (spec == NULL) return false;
        lease_copy_text(spec->target, sizeof spec->target, words[1]);
        return parse_program_words(spec, words + 2, count - 2);
    }
    if (strcmp(verb, "clock-jump") == 0) {
        struct sim_spec *spec = new_spec(plan, SIM_SPEC_CLOCK_JUMP, "clock");
        return spec != NULL && parse_program_words(spec, words + 1, count - 1);
    }
    return parse_knob(scenario, words, count);
}

int sim_scenario_load(const char *path, struct sim_scenario *scenario, char *error, size_t error_size) {
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        snprintf(error, error_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    memset(scenario, 0, sizeof *scenario);
    scenario->plan.knobs = (struct sim_knobs){.ttl_ms = 10000,
                                              .renew = false,
                                              .initial = SIM_INITIAL_NONE,
                                              .wall_resolution_ms = 1,
                                              .dir_exists = true,
                                              .pid_space = 1000,
                                              .lock_timeout_ms = 10000,
                                              .horizon_ms = 0};
    scenario->seed_first = scenario->seed_last = 1;
    char line[512];
    int status = 0;
    for (int number = 1; number <= LINES_MAX && fgets(line, sizeof line, file) != NULL; number++) {
        char *hash = strchr(line, '#');
        if (hash != NULL) *hash = '\0';
        char *words[WORDS_MAX];
        int count = 0;
        for (char *word = strtok(line, " \t\r\n"); word != NULL && count < WORDS_MAX; word = strtok(NULL, " \t\r\n"))
            words[count++] = word;
        if (count == 0) continue;
        if (!parse_line(scenario, words, count)) {
            snprintf(error, error_size, "%s:%d: cannot read '%s ...'", path, number, words[0]);
            status = -1;
            break;
        }
    }
    fclose(file);
    if (scenario->plan.knobs.horizon_ms == 0)
        scenario->plan.knobs.horizon_ms = scenario->plan.knobs.ttl_ms * 4 + 600000;
    return status;
}
