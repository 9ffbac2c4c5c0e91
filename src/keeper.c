/*
 * keeper.c: keeping a lease while its body runs (lease.h, struct
 * lease_keeper). The one place that says "renew every ttl/3" and that turns a
 * renewal's not-owner or missing into a lost lease, for the CLI and the
 * programs alike.
 */
#include <errno.h>
#include <string.h>

#include "lease_impl.h"

int64_t lease_renew_interval_ms(int64_t ttl_ms) {
    int64_t interval_ms = (ttl_ms > 0 ? ttl_ms : LEASE_DEFAULT_TTL_MS) / 3;
    return interval_ms > 0 ? interval_ms : 1;
}

void lease_keeper_start(struct lease_keeper *keeper, const struct lease_options *options,
                        const struct lease_result *held, int64_t now_ms) {
    memset(keeper, 0, sizeof *keeper);
    keeper->interval_ms = lease_renew_interval_ms(options->ttl_ms);
    keeper->next_ms = now_ms + keeper->interval_ms;
    if (lease_status_is_acquired(held->status) && held->has_lease)
        lease_copy_text(keeper->token, sizeof keeper->token, held->lease.token);
}

enum lease_status lease_keeper_tick(struct lease_keeper *keeper, const struct lease_ops *ops,
                                    const struct lease_env *env, const struct lease_options *options, int64_t now_ms) {
    if (keeper->token[0] == '\0' || keeper->lost || keeper->cannot_renew || now_ms < keeper->next_ms)
        return LEASE_STATUS_NONE;
    keeper->next_ms = now_ms + keeper->interval_ms;
    struct lease_result result = {0};
    enum lease_status status = lease_renew(ops, env, options, keeper->token, &result);
    keeper->error_number = result.error_number;
    lease_copy_text(keeper->detail, sizeof keeper->detail, result.detail);
    lease_result_clear(&result);
    if (status == LEASE_STATUS_NOT_OWNER || status == LEASE_STATUS_MISSING) {
        keeper->lost = true;
        return LEASE_STATUS_LOST;
    }
    if (status == LEASE_STATUS_ERROR && keeper->error_number == ENOSYS) keeper->cannot_renew = true;
    return status;
}
