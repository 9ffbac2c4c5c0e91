/*
 * traits.h: what the oracle may expect of each implementation (the one
 * table of it: traits.c), keyed by name.
 */
#ifndef SIM_TRAITS_H
#define SIM_TRAITS_H

#include "sim.h"

/* The traits of the implementation named name; an unknown name gets those
 * of an implementation with a pid check only. */
struct sim_traits sim_traits_for(const char *name);

#endif
