/*
 * mix.h: mixed-implementation runs (mix.c): the implementation each
 * process runs, and the name of a run's mix (docs/spec.md 9.22).
 */
#ifndef SIM_MIX_H
#define SIM_MIX_H

#include "sim.h"

/* The implementation the process runs: its spec's `impl`, else its
 * parent's (children of an orchestrator, body children), else the run's
 * --impl. Resolved once, at the first question. */
const struct lease_ops *sim_process_impl(struct sim_process *process);
struct sim_traits sim_process_traits(struct sim_process *process);
/* Its implementation's name (nothing remembered: for the record layer). */
const char *sim_process_impl_name(const struct sim_process *process);
/* What the process calls through: its implementation, or the recording
 * copy --history puts in between (struct sim_hooks.wrap_ops). */
const struct lease_ops *sim_process_ops(struct sim_process *process);
/* Whether it runs the implementation under test (--impl), not a model. */
bool sim_process_under_test(const struct sim_process *process);
/* Whether some enabled spec of plan runs another implementation than under_test. */
bool sim_plan_is_mixed(const struct sim_plan *plan, const struct lease_ops *under_test);
/* "lease+neo-v1+neo-v2": the implementation under test, then each other one
 * the world's plan names, in plan order; just the one when not mixed. */
void sim_mix_name(const struct sim_world *world, char *buffer, size_t size);

#endif
