/*
 * api.c: the public entry points. Checks the options once for every
 * implementation, resolves the path, and builds "run a body under the lease"
 * (with the inherited-token rule) on top of an implementation's
 * inspect/acquire/release.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lease_impl.h"

/* Everything a call needs, with the defaults filled in. */
struct call {
    const struct lease_ops *ops;
    const struct lease_env *env;
    struct lease_options options;
    char path[LEASE_PATH_MAX];
};

static enum lease_status prepare(struct call *call, const struct lease_ops *ops, const struct lease_env *env,
                                 const struct lease_options *options, bool need_owner, struct lease_result *result) {
    assert(result != NULL); /* every entry point reports through a result */
    memset(result, 0, sizeof *result);
    call->ops = ops != NULL ? ops : &lease_ops_default;
    call->env = env != NULL ? env : lease_env_posix();
    const char *problem = lease_options_problem(options, need_owner);
    if (problem != NULL || call->ops->version != LEASE_OPS_VERSION || call->env->version != LEASE_ENV_VERSION) {
        lease_result_error(result, EINVAL, "options", options != NULL && options->path ? options->path : "");
        snprintf(result->detail, sizeof result->detail, "%s",
                 problem != NULL ? problem : "implementation or environment of another version");
        return LEASE_STATUS_ERROR;
    }
    call->options = *options;
    if (lease_resolve_path(call->env, options->path, call->path, sizeof call->path) != 0)
        return lease_result_error(result, ENAMETOOLONG, "open", options->path != NULL ? options->path : "");
    call->options.path = call->path;
    return LEASE_STATUS_NONE;
}

enum lease_status lease_inspect(const struct lease_ops *ops, const struct lease_env *env,
                                const struct lease_options *options, struct lease_result *result) {
    struct call call;
    if (prepare(&call, ops, env, options, false, result) == LEASE_STATUS_ERROR) return LEASE_STATUS_ERROR;
    return call.ops->inspect(call.env, &call.options, result);
}

enum lease_status lease_acquire(const struct lease_ops *ops, const struct lease_env *env,
                                const struct lease_options *options, struct lease_result *result) {
    struct call call;
    if (prepare(&call, ops, env, options, true, result) == LEASE_STATUS_ERROR) return LEASE_STATUS_ERROR;
    return call.ops->acquire(call.env, &call.options, result);
}

enum lease_status lease_release(const struct lease_ops *ops, const struct lease_env *env,
                                const struct lease_options *options, const char *token, struct lease_result *result) {
    struct call call;
    if (prepare(&call, ops, env, options, false, result) == LEASE_STATUS_ERROR) return LEASE_STATUS_ERROR;
    return call.ops->release(call.env, &call.options, token, result);
}

enum lease_status lease_renew(const struct lease_ops *ops, const struct lease_env *env,
                              const struct lease_options *options, const char *token, struct lease_result *result) {
    struct call call;
    if (prepare(&call, ops, env, options, false, result) == LEASE_STATUS_ERROR) return LEASE_STATUS_ERROR;
    if (call.ops->renew == NULL) {
        lease_result_error(result, ENOSYS, "renew", call.path);
        snprintf(result->detail, sizeof result->detail, "implementation %s cannot renew", call.ops->name);
        return LEASE_STATUS_ERROR;
    }
    return call.ops->renew(call.env, &call.options, token, result);
}

/* The inherited-token rule: true when the body may run on the parent's lease. */
static bool try_inherit(const struct call *call, struct lease_result *result) {
    const char *token = call->env->getenv(call->env->context, LEASE_INHERITED_TOKEN_ENV);
    if (token == NULL || token[0] == '\0') return false;
    enum lease_status found = call->ops->inspect(call->env, &call->options, result);
    if (found == LEASE_STATUS_ACTIVE && strcmp(result->lease.token, token) == 0) {
        result->previous_status = LEASE_STATUS_ACTIVE;
        result->status = LEASE_STATUS_INHERITED;
        return true;
    }
    char line[LEASE_DETAIL_MAX];
    snprintf(line, sizeof line,
             "warning: " LEASE_INHERITED_TOKEN_ENV " does not match the active lease (lease is %s); acquiring",
             lease_status_name(found));
    call->env->warn(call->env->context, line);
    lease_result_clear(result);
    return false;
}

enum lease_status lease_run(const struct lease_ops *ops, const struct lease_env *env,
                            const struct lease_options *options, lease_body_fn body, void *argument,
                            struct lease_result *result) {
    struct call call;
    if (prepare(&call, ops, env, options, true, result) == LEASE_STATUS_ERROR) return LEASE_STATUS_ERROR;
    if (try_inherit(&call, result)) {
        result->body_status = body(argument, result);
        return LEASE_STATUS_INHERITED;
    }
    enum lease_status status = call.ops->acquire(call.env, &call.options, result);
    if (!lease_status_is_acquired(status)) return status;
    result->body_status = body(argument, result);

    struct lease_result released = {0};
    char token[LEASE_TEXT_MAX];
    memcpy(token, result->lease.token, sizeof token);
    enum lease_status release_status = call.ops->release(call.env, &call.options, token, &released);
    if (release_status == LEASE_STATUS_NOT_OWNER || release_status == LEASE_STATUS_MISSING) {
        /* The body ran without its lease for a while: never report success. */
        snprintf(result->detail, sizeof result->detail,
                 "the lease was %s when the body ended: taken over or removed while it ran",
                 lease_status_name(release_status));
        lease_result_clear(&released);
        result->status = LEASE_STATUS_LOST;
        return LEASE_STATUS_LOST;
    }
    if (release_status != LEASE_STATUS_RELEASED) {
        char line[LEASE_DETAIL_MAX + 64];
        snprintf(line, sizeof line, "warning: releasing the lease: %s (%s)", lease_status_name(release_status),
                 released.detail);
        call.env->warn(call.env->context, line);
    }
    lease_result_clear(&released);
    result->previous_status =
        result->previous_status == LEASE_STATUS_NONE ? LEASE_STATUS_MISSING : result->previous_status;
    result->status = LEASE_STATUS_COMPLETED;
    return LEASE_STATUS_COMPLETED;
}
