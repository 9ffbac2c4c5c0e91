/*
 * dpor.h: the exhaustive search's choices and its partial-order reduction
 * (dpor.c): source sets with sleep sets over the operations' footprints.
 */
#ifndef SIM_DPOR_H
#define SIM_DPOR_H

#include "sim.h"

/* Two operations commute unless they touch one object and one changes it. */
bool sim_footprints_independent(const struct sim_footprint *left, const struct sim_footprint *right);

struct sim_dpor_choice {
    int process;
    bool crash;
};

/* Before a run (after the world is prepared). */
void sim_dpor_run_start(struct sim_world *world);
/* A scheduling decision among the ready processes (in process order), for
 * SIM_REDUCTION_DPOR and SIM_REDUCTION_NONE; records the step it takes.
 * Sets world->stopped when every choice is asleep (a redundant schedule). */
struct sim_dpor_choice sim_dpor_pick(struct sim_world *world, const int *ready, int count);
/* After a run: the races it shows add alternatives to its frames; returns
 * how many frames the next run replays (the deepest frame with an
 * alternative left takes it), or -1 when the search is complete. */
int sim_dpor_next(struct sim_world *world);

#endif
