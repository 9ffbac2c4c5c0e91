/*
 * knobs.c: reading, describing and clearing the knobs of knobs.h's table.
 * Below the world: knobs are data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define KNOB_ROW(field, type, kind, keyword, label, minimum, drop) \
    {keyword, label, drop, kind, offsetof(struct sim_knobs, field), minimum},
static const struct sim_knob knob_table[] = {SIM_KNOBS(KNOB_ROW)};
#undef KNOB_ROW

#define KNOB_COUNT (sizeof knob_table / sizeof knob_table[0])

static const char *const initial_names[] = {"none", "live", "dead", "torn", "reused"};

size_t sim_knob_count(void) {
    return KNOB_COUNT;
}

const struct sim_knob *sim_knob_at(size_t index) {
    assert(index < KNOB_COUNT);
    return &knob_table[index];
}

/* The field of a knob, by the type its kind stores. */
static void *field_of(struct sim_knobs *knobs, const struct sim_knob *knob) {
    return (unsigned char *)knobs + knob->offset;
}

static const void *const_field_of(const struct sim_knobs *knobs, const struct sim_knob *knob) {
    return (const unsigned char *)knobs + knob->offset;
}

int sim_knob_parse(struct sim_knobs *knobs, const char *keyword, const char *value) {
    for (size_t index = 0; index < KNOB_COUNT; index++) {
        const struct sim_knob *knob = &knob_table[index];
        if (strcmp(keyword, knob->keyword) != 0) continue;
        void *field = field_of(knobs, knob);
        int64_t number = 0;
        switch (knob->kind) {
        case SIM_KNOB_ON_OFF:
        case SIM_KNOB_EXISTS:
            if (strcmp(value, "on") == 0 || strcmp(value, "exists") == 0)
                *(bool *)field = true;
            else if (strcmp(value, "off") == 0 || strcmp(value, "missing") == 0)
                *(bool *)field = false;
            else
                return 0;
            return 1;
        case SIM_KNOB_INITIAL:
            for (int initial = 0; initial < (int)(sizeof initial_names / sizeof initial_names[0]); initial++)
                if (strcmp(value, initial_names[initial]) == 0) {
                    *(enum sim_initial *)field = (enum sim_initial)initial;
                    return 1;
                }
            return 0;
        case SIM_KNOB_MS:
            if (!lease_parse_integer(value, INT64_MIN, INT64_MAX, &number) || number < knob->minimum) return 0;
            *(int64_t *)field = number;
            return 1;
        case SIM_KNOB_PERMILLE:
        case SIM_KNOB_COUNT:
            if (!lease_parse_integer(value, INT64_MIN, INT64_MAX, &number) || number < knob->minimum) return 0;
            *(int *)field = (int)number;
            return 1;
        }
        return 0;
    }
    return -1;
}

void sim_knobs_describe(const struct sim_knobs *knobs, char *buffer, size_t size) {
    size_t used = 0;
    buffer[0] = '\0';
    for (size_t index = 0; index < KNOB_COUNT && used < size; index++) {
        const struct sim_knob *knob = &knob_table[index];
        if (knob->label == NULL) continue;
        const void *field = const_field_of(knobs, knob);
        const char *separator = used > 0 ? " " : "";
        int written = 0;
        switch (knob->kind) {
        case SIM_KNOB_MS:
            written = snprintf(buffer + used, size - used, "%s%s=%lldms", separator, knob->label,
                               (long long)*(const int64_t *)field);
            break;
        case SIM_KNOB_ON_OFF:
            written = snprintf(buffer + used, size - used, "%s%s=%s", separator, knob->label,
                               *(const bool *)field ? "on" : "off");
            break;
        case SIM_KNOB_EXISTS:
            written = snprintf(buffer + used, size - used, "%s%s=%s", separator, knob->label,
                               *(const bool *)field ? "exists" : "missing");
            break;
        case SIM_KNOB_INITIAL:
            written = snprintf(buffer + used, size - used, "%s%s=%s", separator, knob->label,
                               initial_names[*(const enum sim_initial *)field]);
            break;
        case SIM_KNOB_PERMILLE:
            written = snprintf(buffer + used, size - used, "%s%s=%d/1000", separator, knob->label, *(const int *)field);
            break;
        case SIM_KNOB_COUNT:
            written = snprintf(buffer + used, size - used, "%s%s=%d", separator, knob->label, *(const int *)field);
            break;
        }
        if (written < 0) break;
        used += (size_t)written;
    }
}

bool sim_knob_is_set(const struct sim_knobs *knobs, const struct sim_knob *knob) {
    const void *field = const_field_of(knobs, knob);
    switch (knob->kind) {
    case SIM_KNOB_MS: return *(const int64_t *)field != 0;
    case SIM_KNOB_ON_OFF:
    case SIM_KNOB_EXISTS: return *(const bool *)field;
    case SIM_KNOB_INITIAL: return *(const enum sim_initial *)field != SIM_INITIAL_NONE;
    case SIM_KNOB_PERMILLE:
    case SIM_KNOB_COUNT: return *(const int *)field != 0;
    }
    return false;
}

void sim_knob_clear(struct sim_knobs *knobs, const struct sim_knob *knob) {
    void *field = field_of(knobs, knob);
    switch (knob->kind) {
    case SIM_KNOB_MS: *(int64_t *)field = 0; break;
    case SIM_KNOB_ON_OFF:
    case SIM_KNOB_EXISTS: *(bool *)field = false; break;
    case SIM_KNOB_INITIAL: *(enum sim_initial *)field = SIM_INITIAL_NONE; break;
    case SIM_KNOB_PERMILLE:
    case SIM_KNOB_COUNT: *(int *)field = 0; break;
    }
}
