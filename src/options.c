/*
 * options.c: a caller's options: the checks every entry point makes once
 * for every implementation, the defaults, and where the lease file is.
 */
#include <errno.h>
#include <string.h>

#include "lease_impl.h"

int64_t lease_options_ttl_ms(const struct lease_options *options) {
    return options->ttl_ms > 0 ? options->ttl_ms : LEASE_DEFAULT_TTL_MS;
}

const char *lease_options_reason(const struct lease_options *options) {
    return options->reason != NULL ? options->reason : LEASE_DEFAULT_REASON;
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
