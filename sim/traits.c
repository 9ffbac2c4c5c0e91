/*
 * traits.c: which deaths each implementation can detect, so that the
 * oracle calls a wedge on a detectable death a violation and only counts the
 * others (sim/README.md "Bounded wedge"). One row per implementation; the
 * zoo's members are the lease algorithm with one rule broken, so one
 * prefix row serves them all.
 */
#include <string.h>

#include "traits.h"

struct traits_row {
    const char *name;
    bool prefix; /* name is a prefix of the implementations' names */
    struct sim_traits traits;
};

static const struct traits_row traits_table[] = {
    {"lease", false, {.detects_death = true, .detects_reuse = true}},
    {"neo-v1", false, {.detects_death = false, .detects_reuse = false}},
    {"neo-v2", false, {.detects_death = true, .detects_reuse = false}},
    {"zoo-", true, {.detects_death = true, .detects_reuse = true}},
    /* The etcd backend talks to a cluster over HTTP: the simulated world
     * cannot schedule it (its suites are make test-etcd and test-multihost). */
    {"etcd", false, {.outside_the_world = true}},
};

struct sim_traits sim_traits_for(const char *name) {
    for (size_t index = 0; index < sizeof traits_table / sizeof traits_table[0]; index++) {
        const struct traits_row *row = &traits_table[index];
        if (row->prefix ? strncmp(name, row->name, strlen(row->name)) == 0 : strcmp(name, row->name) == 0)
            return row->traits;
    }
    return (struct sim_traits){.detects_death = true, .detects_reuse = false};
}
