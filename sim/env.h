/*
 * env.h: the environment layer: the struct lease_env over the world (env.c).
 */
#ifndef SIM_ENV_H
#define SIM_ENV_H

#include "sim.h"

void sim_env_bind(struct sim_process *process);

#endif
