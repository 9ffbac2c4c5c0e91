/*
 * knobs.h: the one table of the simulator's fault and workload knobs. It
 * generates the knob struct (sim.h), the scenario keywords (scenario.c), the
 * first-line description (plan.c) and the shrinker's drop list (run.c).
 *
 * X(field, C type, kind, scenario keyword, description label or NULL,
 *   smallest accepted number, drop word or NULL)
 * A knob with a drop word is a fault the shrinker tries to clear (to 0/off)
 * and that --drop WORD clears; the description lists them in this order.
 */
#ifndef SIM_KNOBS_H
#define SIM_KNOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The table below keeps one row per line. */
// clang-format off
#define SIM_KNOBS(X)                                                                                  \
    X(ttl_ms, int64_t, SIM_KNOB_MS, "ttl", "ttl", 1, NULL)                                            \
    X(renew, bool, SIM_KNOB_ON_OFF, "renew", "renew", 0, NULL)                                        \
    X(initial, enum sim_initial, SIM_KNOB_INITIAL, "initial", "initial", 0, NULL)                     \
    X(crash_permille, int, SIM_KNOB_PERMILLE, "crash-permille", "crash", INT64_MIN, "crashes")        \
    X(wall_resolution_ms, int64_t, SIM_KNOB_MS, "wall-resolution", "wall-resolution", 1, NULL)        \
    X(partial_writes, bool, SIM_KNOB_ON_OFF, "partial-writes", "partial-writes", 0, "partial-writes") \
    X(dir_exists, bool, SIM_KNOB_EXISTS, "dir", "dir", 0, NULL)                                       \
    X(pid_space, int, SIM_KNOB_COUNT, "pid-space", "pid-space", 1, NULL) /* pids [300, 300 + N) */    \
    X(lock_timeout_ms, int64_t, SIM_KNOB_MS, "lock-timeout", "lock-timeout", INT64_MIN, NULL)         \
    X(foreign_pids, bool, SIM_KNOB_ON_OFF, "foreign-pids", "foreign-pids", 0, "foreign-pids")         \
    X(inode_reuse, bool, SIM_KNOB_ON_OFF, "inode-reuse", "inode-reuse", 0, "inode-reuse")             \
    X(lock_stall_ms, int64_t, SIM_KNOB_MS, "lock-stall", "lock-stall", 0, "lock-stall")               \
    X(horizon_ms, int64_t, SIM_KNOB_MS, "horizon", NULL, INT64_MIN, NULL)
// clang-format on

/* How a knob is written in a scenario and in the description. */
enum sim_knob_kind {
    SIM_KNOB_MS,       /* int64_t; scenario "5000", description "5000ms" */
    SIM_KNOB_ON_OFF,   /* bool; on|off (a scenario may also say exists|missing) */
    SIM_KNOB_EXISTS,   /* bool; exists|missing (a scenario may also say on|off) */
    SIM_KNOB_INITIAL,  /* enum sim_initial; none|live|dead|torn|reused */
    SIM_KNOB_PERMILLE, /* int; scenario "3", description "3/1000" */
    SIM_KNOB_COUNT     /* int; "8" both */
};

struct sim_knobs;

#define SIM_KNOB_TABLE_MAX 32 /* rows of SIM_KNOBS, with room */

struct sim_knob {
    const char *keyword; /* in a scenario */
    const char *label;   /* in the description; NULL: not described */
    const char *drop;    /* shrinker's and --drop's word; NULL: not a droppable fault */
    enum sim_knob_kind kind;
    size_t offset;   /* in struct sim_knobs */
    int64_t minimum; /* smallest number a scenario may give */
};

size_t sim_knob_count(void);
const struct sim_knob *sim_knob_at(size_t index);
/* A scenario line "keyword value": 1 set, 0 a bad value, -1 not a knob. */
int sim_knob_parse(struct sim_knobs *knobs, const char *keyword, const char *value);
/* "ttl=10000ms renew=off ...": the described knobs, blank separated. */
void sim_knobs_describe(const struct sim_knobs *knobs, char *buffer, size_t size);
/* Whether the knob is set (a fault that is on), and clearing it. */
bool sim_knob_is_set(const struct sim_knobs *knobs, const struct sim_knob *knob);
void sim_knob_clear(struct sim_knobs *knobs, const struct sim_knob *knob);

#endif
