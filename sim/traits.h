/*
 * traits.h: what the oracle may expect of each implementation, from the
 * traits in its registry row (struct lease_traits).
 */
#ifndef SIM_TRAITS_H
#define SIM_TRAITS_H

#include "sim.h"

/* The traits of the implementation named name; an unknown name gets those
 * of an implementation with a pid check only. */
struct sim_traits sim_traits_for(const char *name);
struct sim_traits sim_traits_of(const struct lease_ops *ops);
/* The library's registry, then the zoo's table; NULL: unknown. */
const struct lease_ops *sim_impl_find(const char *name);

#endif
