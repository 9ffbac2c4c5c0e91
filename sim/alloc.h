/*
 * alloc.h: jansson's allocator, charged per simulated process (alloc.c).
 */
#ifndef SIM_ALLOC_H
#define SIM_ALLOC_H

#include "sim.h"

void sim_alloc_install(void);
void sim_alloc_free_all(void **list);
/* Later allocations go to list (a process's; NULL: the scheduler's own). */
void sim_alloc_charge(void **list);

#endif
