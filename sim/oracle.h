/*
 * oracle.h: the oracle: invariants and counters, watching from outside
 * (oracle.c); it never yields.
 */
#ifndef SIM_ORACLE_H
#define SIM_ORACLE_H

#include "sim.h"

void sim_oracle_lease_changed(struct sim_world *world, struct sim_process *actor, int removed_inode);
void sim_oracle_body_enter(struct sim_process *process, const struct lease_result *lease);
void sim_oracle_body_exit(struct sim_process *process);
void sim_oracle_renewed(struct sim_process *process, const struct lease_result *result);
void sim_oracle_lease_handed(struct sim_process *launcher, struct sim_process *worker);
void sim_oracle_call_start(struct sim_process *process);
void sim_oracle_acquire_result(struct sim_process *process, const struct lease_result *result);
void sim_oracle_pid_allocated(struct sim_world *world, int64_t pid);
void sim_violation(struct sim_world *world, enum sim_invariant invariant, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
const struct sim_history *sim_history_at(const struct sim_world *world, uint64_t step);

#endif
