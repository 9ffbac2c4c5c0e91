/*
 * sched.h: the scheduler layer: processes, steps, strategies, crashes (sched.c).
 */
#ifndef SIM_SCHED_H
#define SIM_SCHED_H

#include "sim.h"

void sim_yield(struct sim_process *process, enum sim_op op, const char *path, const char *path2, int fd, int64_t pid);
struct sim_process *sim_spawn(struct sim_world *world, enum sim_role role, const char *label, int spec, int64_t pid);
void sim_crash(struct sim_world *world, struct sim_process *process, const char *why);
void sim_wait_child(struct sim_process *process, int child);
bool sim_wait_child_until(struct sim_process *process, int child, int64_t deadline_ms);
void sim_run(struct sim_world *world);
struct sim_process *sim_current(void);

#endif
