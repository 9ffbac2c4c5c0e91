/*
 * scenario.h: scenario files (scenario.c; format: fixtures/scenarios/README.md).
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include "sim.h"

#define SIM_EXPECT_MAX 16
struct sim_expectation {
    char impl[32];              /* "*" for every implementation */
    enum sim_invariant verdict; /* NONE: pass (or wedged) */
    bool wedged;                /* "wedged": no violation, but a dead holder's lease blocked runs */
    bool wedge_allowed;         /* derived from traits (--check): pass or wedged */
    int reached_count;
    enum sim_counter reached[SIM_COUNTER_COUNT];
};
struct sim_scenario {
    struct sim_plan plan;
    uint64_t seed_first, seed_last;
    int expectation_count;
    struct sim_expectation expectations[SIM_EXPECT_MAX];
};
int sim_scenario_load(const char *path, struct sim_scenario *scenario, char *error, size_t error_size);

#endif
