/*
 * impl_neo.c: faithful models of the original JavaScript lease, written from
 * the contract (docs/spec.md sections 2 and 5) so that its races can be
 * reproduced. They are wrong on purpose; do not fix them.
 *
 *  acquire: mkdir -p; open(O_CREAT|O_EXCL) then write (not atomic: hazard 3);
 *           on EEXIST inspect; stale or malformed: unlink then create again
 *           (two reclaimers: hazard 1); active: held; vanished meanwhile:
 *           held with no holder (lease: null, hazard 7).
 *  release: inspect, compare token, unlink (inspect-then-remove: hazard 2).
 *  neo-v1 has no pid check (a crashed holder wedges until the TTL); neo-v2
 *  checks that the pid is alive (pid reuse still wedges: hazard 4).
 *  Neither can renew (hazard 6).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lease_impl.h"

static const struct lease_staleness_rules neo_v1_rules = {.check_pid = false, .check_start_time = false};
static const struct lease_staleness_rules neo_v2_rules = {.check_pid = true, .check_start_time = false};

/* Exclusive create, then write: the window between the two is hazard 3. */
static int neo_create(const struct lease_env *env, const char *path, const struct lease_holder *holder) {
    size_t length = 0;
    int fd = -1;
    int status = env->create_exclusive(env->context, path, &fd);
    if (status != 0) return status;
    char *text = lease_payload_format(holder, false, &length);
    status = text == NULL ? -ENOMEM : lease_write_all(env, fd, text, length);
    env->close(env->context, fd);
    lease_free(text);
    return status;
}

static enum lease_status neo_acquired(const struct lease_holder *holder, enum lease_status found,
                                      struct lease_result *result) {
    lease_result_clear(result);
    lease_result_set_holder(result, holder, false);
    result->previous_status = found;
    result->status = lease_status_acquired_from(found);
    return result->status;
}

static enum lease_status neo_held_without_holder(struct lease_result *result) {
    lease_result_clear(result);
    result->status = LEASE_STATUS_HELD;
    result->previous_status = LEASE_STATUS_MISSING;
    snprintf(result->detail, sizeof result->detail, "the lease existed but could not be read");
    return LEASE_STATUS_HELD;
}

static enum lease_status neo_acquire(const struct lease_env *env, const struct lease_staleness_rules *rules,
                                     const struct lease_options *options, struct lease_result *result) {
    struct lease_holder holder;
    lease_result_clear(result);
    int status = lease_holder_new(env, options, env->wall_clock_ms(env->context), &holder);
    if (status != 0) return lease_result_error(result, -status, "random", options->path);
    status = neo_create(env, options->path, &holder);
    if (status == -ENOENT) {
        status = lease_make_parents(env, options->path);
        if (status != 0) return lease_result_error(result, -status, "mkdir", options->path);
        status = neo_create(env, options->path, &holder);
    }
    if (status == 0) return neo_acquired(&holder, LEASE_STATUS_MISSING, result);
    if (status != -EEXIST) return lease_result_error(result, -status, "open", options->path);

    enum lease_status found = lease_read_and_classify(env, rules, options->path, result, NULL);
    if (found == LEASE_STATUS_ACTIVE) {
        result->previous_status = LEASE_STATUS_ACTIVE;
        result->status = LEASE_STATUS_HELD;
        return LEASE_STATUS_HELD;
    }
    if (found == LEASE_STATUS_MISSING) return neo_held_without_holder(result);
    if (found == LEASE_STATUS_UNREADABLE) {
        result->status = LEASE_STATUS_ERROR;
        return LEASE_STATUS_ERROR;
    }
    /* Stale or malformed: remove it and try once more. */
    status = env->unlink(env->context, options->path);
    if (status != 0 && status != -ENOENT) return lease_result_error(result, -status, "unlink", options->path);
    status = neo_create(env, options->path, &holder);
    if (status == -EEXIST) return neo_held_without_holder(result);
    if (status != 0) return lease_result_error(result, -status, "open", options->path);
    bool ttl_takeover = result->ttl_takeover;
    neo_acquired(&holder, found, result);
    result->ttl_takeover = ttl_takeover;
    return result->status;
}

static enum lease_status neo_release(const struct lease_env *env, const struct lease_staleness_rules *rules,
                                     const struct lease_options *options, const char *token,
                                     struct lease_result *result) {
    enum lease_status found = lease_read_and_classify(env, rules, options->path, result, NULL);
    result->previous_status = found;
    if (found == LEASE_STATUS_MISSING) return LEASE_STATUS_MISSING;
    if (found == LEASE_STATUS_UNREADABLE) {
        result->status = LEASE_STATUS_ERROR;
        return LEASE_STATUS_ERROR;
    }
    if (!result->has_lease || token == NULL || token[0] == '\0' || strcmp(result->lease.token, token) != 0) {
        result->status = LEASE_STATUS_NOT_OWNER;
        return LEASE_STATUS_NOT_OWNER;
    }
    int status = env->unlink(env->context, options->path);
    if (status != 0 && status != -ENOENT) return lease_result_error(result, -status, "unlink", options->path);
    result->status = LEASE_STATUS_RELEASED;
    return LEASE_STATUS_RELEASED;
}

static enum lease_status neo_v1_inspect(const struct lease_env *env, const struct lease_options *options,
                                        struct lease_result *result) {
    return lease_read_and_classify(env, &neo_v1_rules, options->path, result, NULL);
}

static enum lease_status neo_v1_acquire(const struct lease_env *env, const struct lease_options *options,
                                        struct lease_result *result) {
    return neo_acquire(env, &neo_v1_rules, options, result);
}

static enum lease_status neo_v1_release(const struct lease_env *env, const struct lease_options *options,
                                        const char *token, struct lease_result *result) {
    return neo_release(env, &neo_v1_rules, options, token, result);
}

static enum lease_status neo_v2_inspect(const struct lease_env *env, const struct lease_options *options,
                                        struct lease_result *result) {
    return lease_read_and_classify(env, &neo_v2_rules, options->path, result, NULL);
}

static enum lease_status neo_v2_acquire(const struct lease_env *env, const struct lease_options *options,
                                        struct lease_result *result) {
    return neo_acquire(env, &neo_v2_rules, options, result);
}

static enum lease_status neo_v2_release(const struct lease_env *env, const struct lease_options *options,
                                        const char *token, struct lease_result *result) {
    return neo_release(env, &neo_v2_rules, options, token, result);
}

const struct lease_ops lease_ops_neo_v1 = {
    .version = LEASE_OPS_VERSION,
    .name = "neo-v1",
    .impl_version = "1",
    .description = "model of the original: O_EXCL create then write, no pid check, inspect-then-remove release",
    .inspect = neo_v1_inspect,
    .acquire = neo_v1_acquire,
    .release = neo_v1_release,
    .renew = NULL,
    .traits = {.checks_pid = false},
};

const struct lease_ops lease_ops_neo_v2 = {
    .version = LEASE_OPS_VERSION,
    .name = "neo-v2",
    .impl_version = "2",
    .description = "model of the original with the pid check (pid reuse still wedges until the TTL)",
    .inspect = neo_v2_inspect,
    .acquire = neo_v2_acquire,
    .release = neo_v2_release,
    .renew = NULL,
    .traits = {.checks_pid = true},
};
