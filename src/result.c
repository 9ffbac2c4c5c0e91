/*
 * result.c: a result's housekeeping: clearing it (and what it owns), filling
 * it as an error, and the library's one free.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lease_impl.h"

void lease_free(void *pointer) {
    json_malloc_t allocate;
    json_free_t release;
    if (pointer == NULL) return;
    json_get_alloc_funcs(&allocate, &release);
    release(pointer);
}

void lease_result_clear(struct lease_result *result) {
    if (result == NULL) return;
    lease_free(result->payload_json);
    memset(result, 0, sizeof *result);
}

enum lease_status lease_result_error(struct lease_result *result, int error_number, const char *operation,
                                     const char *path) {
    result->status = LEASE_STATUS_ERROR;
    result->error_number = error_number;
    result->error_operation = operation;
    lease_copy_text(result->error_path, sizeof result->error_path, path != NULL ? path : "");
    snprintf(result->detail, sizeof result->detail, "%s %s: %s", operation, path != NULL ? path : "",
             strerror(error_number));
    return LEASE_STATUS_ERROR;
}
