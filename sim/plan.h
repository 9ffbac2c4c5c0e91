/*
 * plan.h: the plan drawn from a seed and its description (plan.c); the knob
 * table is knobs.h.
 */
#ifndef SIM_PLAN_H
#define SIM_PLAN_H

#include "sim.h"

void sim_plan_random(struct sim_plan *plan, uint64_t seed, enum sim_strategy strategy);
void sim_plan_exhaustive(struct sim_plan *plan);
void sim_plan_describe(const struct sim_plan *plan, char *buffer, size_t size);

#endif
