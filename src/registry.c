/*
 * registry.c: the list of implementations (src/lease_implementations.h), looked up
 * by name and iterated by index.
 */
#include <string.h>

#include "lease_impl.h"
#include "lease_implementations.h"

/* Each row's ops, defined in its own file (only this file reads the list). */
#define LEASE_DECLARE_OPS(ops) extern const struct lease_ops ops;
LEASE_IMPLEMENTATIONS(LEASE_DECLARE_OPS)
#undef LEASE_DECLARE_OPS

static const struct lease_ops *const implementations[] = {
#define LEASE_OPS_POINTER(ops) &ops,
    LEASE_IMPLEMENTATIONS(LEASE_OPS_POINTER)
#undef LEASE_OPS_POINTER
};

#define IMPLEMENTATION_COUNT (sizeof implementations / sizeof implementations[0])

const struct lease_ops *lease_impl_default(void) {
    return &lease_ops_default;
}

const struct lease_ops *lease_impl_find(const char *name) {
    if (name == NULL || name[0] == '\0') return &lease_ops_default;
    for (size_t index = 0; index < IMPLEMENTATION_COUNT; index++)
        if (strcmp(implementations[index]->name, name) == 0) return implementations[index];
    return NULL;
}

size_t lease_impl_count(void) {
    return IMPLEMENTATION_COUNT;
}

const struct lease_ops *lease_impl_at(size_t index) {
    return index < IMPLEMENTATION_COUNT ? implementations[index] : NULL;
}

const char *lease_impl_name(const struct lease_ops *ops) {
    return ops != NULL ? ops->name : lease_ops_default.name;
}

const char *lease_impl_description(const struct lease_ops *ops) {
    return ops != NULL ? ops->description : lease_ops_default.description;
}
