/* zoo.h: deliberately broken lease implementations (see zoo.c). */
#ifndef LEASE_ZOO_H
#define LEASE_ZOO_H

#include <stddef.h>

#include "lease_impl.h"

size_t zoo_count(void);
const struct lease_ops *zoo_at(size_t index);
const struct lease_ops *zoo_find(const char *name);

#endif
