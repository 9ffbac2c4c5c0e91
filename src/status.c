/*
 * status.c: the status table (src/lease.h LEASE_STATUS_TABLE): names, exit
 * codes, and which statuses mean the caller holds the lease.
 */
#include <stdio.h>
#include <string.h>

#include "lease_impl.h"

static const char *const status_names[] = {
#define STATUS_NAME(name, string, exit_code) string,
    LEASE_STATUS_TABLE(STATUS_NAME)
#undef STATUS_NAME
};

static const int status_exit_codes[] = {
#define STATUS_EXIT(name, string, exit_code) exit_code,
    LEASE_STATUS_TABLE(STATUS_EXIT)
#undef STATUS_EXIT
};

const char *lease_status_name(enum lease_status status) {
    if ((unsigned)status >= LEASE_STATUS_COUNT) return "unknown";
    return status_names[status];
}

int lease_status_exit_code(enum lease_status status) {
    if ((unsigned)status >= LEASE_STATUS_COUNT) return 125;
    return status_exit_codes[status];
}

bool lease_status_from_name(const char *name, enum lease_status *status) {
    for (int index = 0; index < LEASE_STATUS_COUNT; index++) {
        if (strcmp(status_names[index], name) == 0) {
            *status = (enum lease_status)index;
            return true;
        }
    }
    return false;
}

bool lease_status_is_acquired(enum lease_status status) {
    return status == LEASE_STATUS_ACQUIRED || status == LEASE_STATUS_ACQUIRED_AFTER_STALE ||
           status == LEASE_STATUS_ACQUIRED_AFTER_MALFORMED;
}

enum lease_status lease_status_acquired_from(enum lease_status found) {
    switch (found) {
    case LEASE_STATUS_STALE: return LEASE_STATUS_ACQUIRED_AFTER_STALE;
    case LEASE_STATUS_MALFORMED: return LEASE_STATUS_ACQUIRED_AFTER_MALFORMED;
    default: return LEASE_STATUS_ACQUIRED;
    }
}
