/* run.h: running seeds, the exhaustive search and the shrinker. */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include "scenario.h"
#include "sim.h"
#include "traits.h"

struct sim_request {
    const struct lease_ops *ops;
    struct sim_traits traits;
    enum sim_strategy strategy;
    int pct_depth;
    const struct sim_scenario *scenario; /* NULL: plans drawn from the seed */
    const char *drops;
    const char *mix; /* --mix: "neo-v1,neo-v2", the models random plans draw beside ops; NULL: none */
    uint64_t first_seed;
    uint64_t step_limit;
    enum sim_reduction reduction; /* exhaustive mode (0: DPOR) */
    bool keep_going;              /* exhaustive mode: past violations, collecting their invariants */
};

struct sim_exploration {
    uint64_t schedules;
    uint64_t classes; /* schedules that ran to their end (not cut as equivalent to one explored) */
    uint64_t steps;
    enum sim_invariant violation;
    uint32_t violations; /* keep_going: a bit per invariant violated in some schedule */
    bool complete;
    bool overflow;
};

struct sim_world *sim_world_get(void);
void sim_apply_drops(struct sim_plan *plan, const char *drops);
void sim_make_plan(const struct sim_request *request, uint64_t seed, struct sim_plan *plan);
void sim_run_seed(const struct sim_request *request, const struct sim_plan *plan, uint64_t seed, FILE *trace,
                  bool keep_story);
struct sim_exploration sim_explore(const struct sim_request *request, const struct sim_plan *plan, uint64_t limit);
void sim_shrink(const struct sim_request *request, uint64_t seed, enum sim_invariant invariant, char *drops,
                size_t size);

#endif
