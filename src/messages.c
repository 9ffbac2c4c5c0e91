/*
 * messages.c: the one-line texts of the contract (docs/spec.md section 4):
 * an error's line and the deferral line, built from a result.
 */
#include <stdio.h>
#include <string.h>

#include "lease_impl.h"

size_t lease_format_error(const struct lease_result *result, char *buffer, size_t size) {
    char detail[LEASE_DETAIL_MAX * 4 + 1];
    if (size == 0) return 0;
    const char *system_error = result->error_number != 0 ? strerror(result->error_number) : "failed";
    lease_escape_text(result->detail, detail, sizeof detail);
    /* The default detail repeats the system error: say it once. */
    bool says_more = detail[0] != '\0' && strstr(detail, system_error) == NULL;
    int length =
        snprintf(buffer, size, "%s: %s%s%s%s", result->error_operation != NULL ? result->error_operation : "lease",
                 system_error, says_more ? " (" : "", says_more ? detail : "", says_more ? ")" : "");
    if (length < 0) {
        buffer[0] = '\0';
        return 0;
    }
    return (size_t)length < size ? (size_t)length : size - 1;
}

size_t lease_format_deferral(const struct lease_result *result, char *buffer, size_t size) {
    char owner[LEASE_TEXT_MAX * 4];
    char reason[LEASE_TEXT_MAX * 4];
    char pid[LEASE_TEXT_MAX * 4];
    char acquired_at[LEASE_TEXT_MAX * 4];
    if (size == 0) return 0;
    if (result->has_lease) {
        lease_escape_text(result->lease.owner, owner, sizeof owner);
        lease_escape_text(result->lease.reason, reason, sizeof reason);
        lease_escape_text(result->lease.pid_text, pid, sizeof pid);
        lease_escape_text(result->lease.acquired_at, acquired_at, sizeof acquired_at);
    } else {
        /* Hazard 7: held, but the holder could not be read. Say so plainly. */
        strcpy(owner, "unknown");
        strcpy(reason, "unknown");
        strcpy(pid, "unknown");
        strcpy(acquired_at, "unknown");
    }
    int length = snprintf(buffer, size,
                          "\u23F8\uFE0F  Deferred: heavy-maintenance lease held by '%s' (reason='%s', pid=%s, "
                          "acquiredAt=%s).\n"
                          "   This script will not run while another heavy-maintenance task is active.\n",
                          owner, reason, pid, acquired_at);
    if (length < 0) {
        buffer[0] = '\0';
        return 0;
    }
    return (size_t)length < size ? (size_t)length : size - 1;
}
