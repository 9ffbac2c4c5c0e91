/*
 * registry.c: the public entry points. Picks the implementation and the
 * environment, checks the options once for every implementation, and builds
 * "run a body under the lease" (with the inherited-token rule) on top of the
 * implementation's inspect/acquire/release.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lease_impl.h"

static const struct lease_ops *const implementations[] = {
    &lease_ops_default,
    &lease_ops_neo_v1,
    &lease_ops_neo_v2,
    &lease_ops_etcd,
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

int lease_resolve_path(const struct lease_env *env, const char *flag_path, char *buffer, size_t size) {
    if (env == NULL) env = lease_env_posix();
    const char *path = flag_path;
    if (path == NULL) {
        const char *from_environment = env->getenv(env->context, LEASE_PATH_ENV);
        path = from_environment != NULL && from_environment[0] != '\0' ? from_environment : LEASE_DEFAULT_PATH;
    }
    if (strlen(path) >= size || strlen(path) >= LEASE_PATH_MAX - 8) return -ENAMETOOLONG;
    memcpy(buffer, path, strlen(path) + 1);
    return 0;
}

const char *lease_options_problem(const struct lease_options *options, bool need_owner) {
    if (options == NULL) return "no options given";
    if (need_owner && (options->owner == NULL || options->owner[0] == '\0')) return "owner is required";
    if (options->owner != NULL && !lease_text_is_clean(options->owner))
        return "owner must be UTF-8 text without control characters";
    if (options->owner != NULL && strlen(options->owner) >= LEASE_TEXT_MAX) return "owner is too long";
    if (options->reason != NULL && !lease_text_is_clean(options->reason))
        return "reason must be UTF-8 text without control characters";
    if (options->reason != NULL && strlen(options->reason) >= LEASE_TEXT_MAX) return "reason is too long";
    if (options->ttl_ms < 0) return "ttl must be a positive number of milliseconds";
    if (options->ttl_ms > LEASE_TTL_MS_MAX) return "ttl must be at most 3155760000000 ms (about 100 years)";
    if (options->lock_timeout_ms < 0) return "lock timeout must not be negative";
    if (options->pid < 0 || options->pid > INT32_MAX) return "pid must be a positive process id";
    if (options->path != NULL && options->path[0] == '\0') return "lease path is empty";
    return NULL;
}

/* Everything a call needs, with the defaults filled in. */
struct call {
    const struct lease_ops *ops;
    const struct lease_env *env;
    struct lease_options options;
    char path[LEASE_PATH_MAX];
};

static enum lease_status prepare(struct call *call, const struct lease_ops *ops, const struct lease_env *env,
                                 const struct lease_options *options, bool need_owner, struct lease_result *result) {
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
