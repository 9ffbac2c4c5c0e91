/*
 * mix.c: which implementation each simulated process runs. A scenario's
 * `impl NAME` or a campaign's --mix gives a program or orchestrator its own
 * implementation; its children inherit it; everything else (and every process
 * of a run that mixes nothing) runs the --impl under test. The oracle asks here
 * whom a violation is to be blamed on (docs/spec.md 9.22).
 */
#include <string.h>

#include "mix.h"
#include "traits.h"

/* Its spec's implementation, else its parent's; NULL: neither (yet: a
 * child's parent is set just after its spawn). */
static const struct lease_ops *resolve(const struct sim_process *process) {
    if (process->ops != NULL) return process->ops;
    const struct sim_world *world = process->world;
    const char *named = process->spec >= 0 ? world->plan.specs[process->spec].impl : "";
    if (named[0] != '\0') return sim_impl_find(named);
    if (process->parent >= 0 && process->parent != process->index) {
        const struct lease_ops *inherited = resolve(&world->processes[process->parent]);
        return inherited != NULL ? inherited : world->config.ops;
    }
    return NULL;
}

const struct lease_ops *sim_process_impl(struct sim_process *process) {
    const struct lease_ops *ops = resolve(process);
    if (ops == NULL) return process->world->config.ops; /* not remembered: it may be a child still */
    if (process->ops == NULL) {
        process->ops = ops;
        process->traits = ops == process->world->config.ops ? process->world->config.traits : sim_traits_of(ops);
    }
    return ops;
}

const char *sim_process_impl_name(const struct sim_process *process) {
    const struct lease_ops *ops = resolve(process);
    return lease_impl_name(ops != NULL ? ops : process->world->config.ops);
}

struct sim_traits sim_process_traits(struct sim_process *process) {
    return sim_process_impl(process) == process->world->config.ops ? process->world->config.traits : process->traits;
}

const struct lease_ops *sim_process_ops(struct sim_process *process) {
    const struct lease_ops *ops = sim_process_impl(process);
    const struct sim_hooks *hooks = &process->world->config.hooks;
    return hooks->wrap_ops != NULL ? hooks->wrap_ops(ops) : ops;
}

bool sim_process_under_test(const struct sim_process *process) {
    const struct lease_ops *ops = resolve(process);
    return ops == NULL || ops == process->world->config.ops;
}

bool sim_plan_is_mixed(const struct sim_plan *plan, const struct lease_ops *under_test) {
    for (int index = 0; index < plan->spec_count; index++) {
        const struct sim_spec *spec = &plan->specs[index];
        if (spec->disabled || spec->impl[0] == '\0') continue;
        const struct lease_ops *ops = sim_impl_find(spec->impl);
        if (ops != NULL && ops != under_test) return true;
    }
    return false;
}

void sim_mix_name(const struct sim_world *world, char *buffer, size_t size) {
    const struct lease_ops *under_test = world->config.ops;
    size_t used = (size_t)snprintf(buffer, size, "%s", under_test != NULL ? under_test->name : "?");
    if (!world->config.mixed) return;
    const struct lease_ops *seen[SIM_SPEC_MAX];
    int seen_count = 0;
    for (int index = 0; index < world->plan.spec_count && used < size; index++) {
        const struct sim_spec *spec = &world->plan.specs[index];
        const struct lease_ops *ops = spec->disabled || spec->impl[0] == '\0' ? NULL : sim_impl_find(spec->impl);
        if (ops == NULL || ops == under_test) continue;
        bool known = false;
        for (int other = 0; other < seen_count && !known; other++) known = seen[other] == ops;
        if (known) continue;
        seen[seen_count++] = ops;
        used += (size_t)snprintf(buffer + used, size - used, "+%s", ops->name);
    }
}
