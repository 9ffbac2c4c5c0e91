/*
 * trace.c: the trace (JSON Lines, one event per environment call, and a
 * running hash of the same events for the determinism check) and the story
 * (the few events a person needs: starts, results, bodies, crashes).
 */
#include <jansson.h>
#include <stdarg.h>
#include <string.h>

#include "sim.h"
#include "mix.h"
#include "plan.h"
#include "trace.h"
#include "world.h"

static const char *const op_names[] = {
#define SIM_OP_NAME(name, string, visible) string,
    SIM_OP_TABLE(SIM_OP_NAME)
#undef SIM_OP_NAME
};
static const bool op_visible[] = {
#define SIM_OP_VISIBLE(name, string, visible) visible,
    SIM_OP_TABLE(SIM_OP_VISIBLE)
#undef SIM_OP_VISIBLE
};
static const char *const invariant_names[] = {
#define SIM_INVARIANT_NAME(name, string) string,
    SIM_INVARIANT_TABLE(SIM_INVARIANT_NAME)
#undef SIM_INVARIANT_NAME
};
static const char *const counter_names[] = {
#define SIM_COUNTER_NAME(name, string) string,
    SIM_COUNTER_TABLE(SIM_COUNTER_NAME)
#undef SIM_COUNTER_NAME
};

const char *sim_op_name(enum sim_op op) {
    return op < SIM_OP_COUNT ? op_names[op] : "unknown";
}
bool sim_op_visible(enum sim_op op) {
    return op < SIM_OP_COUNT && op_visible[op];
}
const char *sim_invariant_name(enum sim_invariant invariant) {
    return invariant < SIM_INVARIANT_COUNT ? invariant_names[invariant] : "unknown";
}
bool sim_invariant_from_name(const char *name, enum sim_invariant *invariant) {
    for (int index = 0; index < SIM_INVARIANT_COUNT; index++)
        if (strcmp(invariant_names[index], name) == 0) {
            *invariant = (enum sim_invariant)index;
            return true;
        }
    return false;
}
const char *sim_counter_name(enum sim_counter counter) {
    return counter < SIM_COUNTER_COUNT ? counter_names[counter] : "unknown";
}
bool sim_counter_from_name(const char *name, enum sim_counter *counter) {
    for (int index = 0; index < SIM_COUNTER_COUNT; index++)
        if (strcmp(counter_names[index], name) == 0) {
            *counter = (enum sim_counter)index;
            return true;
        }
    return false;
}

static uint64_t mix(uint64_t hash, uint64_t value) {
    hash ^= value + 0x9e3779b97f4a7c15ULL + (hash << 6) + (hash >> 2);
    return hash * 0x100000001b3ULL;
}

/* A JSON string for text that should be UTF-8; anything else is written
 * escaped byte by byte, never dropped. */
static json_t *text_value(const char *text) {
    json_t *value = json_string(text);
    if (value != NULL) return value;
    char escaped[1024];
    lease_escape_text(text, escaped, sizeof escaped);
    return json_string(escaped);
}

/* One record, one line, keys in the order they were set. */
static void write_record(FILE *out, json_t *record) {
    json_dumpf(record, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputc('\n', out);
    json_decref(record);
}

void sim_trace_header(struct sim_world *world, uint64_t seed) {
    char knobs[512];
    sim_plan_describe(&world->plan, knobs, sizeof knobs);
    json_t *record = json_object();
    json_object_set_new(record, "type", json_string("header"));
    json_object_set_new(record, "schema", json_integer(1));
    json_object_set_new(record, "version", json_string(LEASE_VERSION_STRING));
    json_object_set_new(record, "seed", json_integer((json_int_t)seed));
    char mix[256];
    sim_mix_name(world, mix, sizeof mix);
    json_object_set_new(record, "impl", text_value(mix));
    json_object_set_new(record, "plan", text_value(world->plan.name));
    json_object_set_new(record, "knobs", text_value(knobs));
    write_record(world->config.trace, record);
}

void (*sim_trace_observer)(struct sim_process *process, enum sim_op op, const char *path, int status, int64_t value);

void sim_trace_op(struct sim_process *process, enum sim_op op, const char *path, int status, int64_t value) {
    if (sim_trace_observer != NULL) sim_trace_observer(process, op, path, status, value);
    struct sim_world *world = process->world;
    uint64_t hash = mix(world->hash, world->step);
    hash = mix(hash, (uint64_t)world->now_ms);
    hash = mix(hash, ((uint64_t)process->index << 8) | (uint64_t)op);
    hash = mix(hash, (uint64_t)(int64_t)status);
    hash = mix(hash, (uint64_t)value);
    if (path != NULL) hash = sim_fold_text(hash, path, SIZE_MAX, mix);
    world->hash = hash;
    if (world->config.trace == NULL) return;
    json_t *record = json_object();
    json_object_set_new(record, "step", json_integer((json_int_t)world->step));
    json_object_set_new(record, "t", json_integer(world->now_ms));
    json_object_set_new(record, "wall", json_integer(sim_world_wall_ms(world)));
    json_object_set_new(record, "proc", text_value(process->label));
    json_object_set_new(record, "pid", json_integer(process->pid));
    if (world->config.mixed) json_object_set_new(record, "impl", json_string(sim_process_impl_name(process)));
    json_object_set_new(record, "op", json_string(sim_op_name(op)));
    if (path != NULL) json_object_set_new(record, "arg", text_value(path));
    json_object_set_new(record, "rc", json_integer(status));
    /* rc < 0 is -errno: named, so a reader need not know the numbers. */
    if (status < 0 && strerrorname_np(-status) != NULL)
        json_object_set_new(record, "errno", json_string(strerrorname_np(-status)));
    json_object_set_new(record, "value", json_integer(value));
    write_record(world->config.trace, record);
}

static const char *const story_names[] = {"spawn", "result",    "body-enter", "body-exit", "crash", "kill",
                                          "exit",  "pid-reuse", "clock-jump", "violation", "renew"};

const char *sim_story_kind_name(enum sim_story_kind kind) {
    return story_names[kind];
}

void sim_story(struct sim_world *world, enum sim_story_kind kind, int process, const char *format, ...) {
    if (world->config.trace != NULL) {
        va_list arguments;
        char text[256];
        va_start(arguments, format);
        vsnprintf(text, sizeof text, format, arguments);
        va_end(arguments);
        json_t *record = json_object();
        json_object_set_new(record, "step", json_integer((json_int_t)world->step));
        json_object_set_new(record, "t", json_integer(world->now_ms));
        json_object_set_new(record, "story", json_string(story_names[kind]));
        if (process >= 0 && process < world->process_count) {
            json_object_set_new(record, "proc", text_value(world->processes[process].label));
            json_object_set_new(record, "pid", json_integer(world->processes[process].pid));
            if (world->config.mixed)
                json_object_set_new(record, "impl", json_string(sim_process_impl_name(&world->processes[process])));
        }
        json_object_set_new(record, "text", text_value(text));
        write_record(world->config.trace, record);
    }
    if (!world->config.keep_story || world->story_count >= SIM_STORY_MAX) return;
    struct sim_story *story = &world->story[world->story_count++];
    story->kind = kind;
    story->process = process;
    story->at_ms = world->now_ms;
    story->step = world->step;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(story->text, sizeof story->text, format, arguments);
    va_end(arguments);
}

void sim_story_print(const struct sim_world *world, FILE *out, int limit) {
    for (int index = 0; index < world->story_count && index < limit; index++) {
        const struct sim_story *story = &world->story[index];
        fprintf(out, "  t=%-8lld step=%-6llu %-11s %s\n", (long long)story->at_ms, (unsigned long long)story->step,
                story_names[story->kind], story->text);
    }
    if (world->story_count > limit) fprintf(out, "  ... %d more\n", world->story_count - limit);
}
