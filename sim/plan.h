/*
 * plan.h: the plan drawn from a seed and its description (plan.c); the knob
 * table is knobs.h.
 */
#ifndef SIM_PLAN_H
#define SIM_PLAN_H

#include "sim.h"

void sim_plan_random(struct sim_plan *plan, uint64_t seed, enum sim_strategy strategy);
void sim_plan_exhaustive(struct sim_plan *plan);
/* --mix: each program and orchestrator spec draws its implementation from
 * under_test and the comma-separated models of mix, from a stream of its own. */
void sim_plan_mix(struct sim_plan *plan, uint64_t seed, const char *under_test, const char *mix);
void sim_plan_describe(const struct sim_plan *plan, char *buffer, size_t size);

#endif
