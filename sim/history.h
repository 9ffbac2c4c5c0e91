/*
 * history.h: the run's history as JSON Lines for a second, independent
 * oracle (conformance/oracle/check_history.py): per process, the invoke and
 * the result of every acquire, inspect, release and renew (holder, token,
 * fence, expiry), body entry and exit, the end of each process, every change
 * of the lease file (its bytes as stored) and, last, the first oracle's
 * verdict. Format: sim/README.md "History schema".
 */
#ifndef SIM_HISTORY_H
#define SIM_HISTORY_H

#include "sim.h"

/* --history FILE: 0, or EX_CANTCREAT with one message when it cannot be opened. */
int sim_history_open(const char *path);
/* Sets up the seed's initial state and runs it (sim_setup_initial, sim_run),
 * recording the history when --history is on; without it, exactly those two
 * calls. */
void sim_history_run(struct sim_world *world, uint64_t seed);

#endif
