/*
 * traits.c: which deaths each implementation can detect, so that the
 * oracle calls a wedge on a detectable death a violation and only counts the
 * others (sim/README.md "Bounded wedge"). Read from the implementation's own
 * row (struct lease_traits, src/lease_implementations.h; the zoo's in
 * conformance/zoo/zoo.c): there is no second table.
 */
#include "traits.h"
#include "zoo.h"

struct sim_traits sim_traits_of(const struct lease_ops *ops) {
    return (struct sim_traits){.detects_death = ops->traits.checks_pid,
                               .detects_reuse = ops->traits.detects_reuse,
                               .outside_the_world = ops->traits.outside_the_world};
}

struct sim_traits sim_traits_for(const char *name) {
    const struct lease_ops *ops = name != NULL && name[0] != '\0' ? sim_impl_find(name) : NULL;
    if (ops != NULL) return sim_traits_of(ops);
    return (struct sim_traits){.detects_death = true, .detects_reuse = false};
}

const struct lease_ops *sim_impl_find(const char *name) {
    const struct lease_ops *ops = lease_impl_find(name);
    return ops != NULL ? ops : zoo_find(name);
}
