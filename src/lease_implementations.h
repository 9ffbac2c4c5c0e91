/*
 * lease_implementations.h: the registry, one row per implementation, the default
 * first. Adding an implementation is one file (src/impl_NAME.c defining
 * `const struct lease_ops lease_ops_NAME` with its traits) plus one row here;
 * the library, the CLI, the programs, every suite and the simulator iterate
 * this list (docs/design.md "Add an implementation"). The test-only bug zoo
 * has its own table (conformance/zoo/zoo.c), which the simulator appends.
 */
#ifndef LEASE_IMPLEMENTATIONS_H
#define LEASE_IMPLEMENTATIONS_H

/* The table below keeps one row per line. */
// clang-format off
#define LEASE_IMPLEMENTATIONS(X)                                       \
    X(lease_ops_default) /* "lease": the project's own */              \
    X(lease_ops_neo_v1)  /* the original, no pid check */              \
    X(lease_ops_neo_v2)  /* the original, with pid check */            \
    X(lease_ops_etcd)    /* on an etcd cluster (impl_etcd.c) */        \
    /* a new row goes above this line */
// clang-format on

#endif
