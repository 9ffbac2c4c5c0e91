/*
 * workload.h: the programs the simulated processes run (workload.c).
 */
#ifndef SIM_WORKLOAD_H
#define SIM_WORKLOAD_H

#include "sim.h"

void sim_program_main(void *argument);
void sim_setup_initial(struct sim_world *world);

#endif
