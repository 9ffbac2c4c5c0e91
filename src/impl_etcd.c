/*
 * impl_etcd.c: the lease on an etcd cluster (docs/spec.md section 10).
 *
 *  key      $LEASE_ETCD_KEY, else "/heavy-maintenance-lease/" + the lease path
 *  value    the JSON payload of the lease file (docs/spec.md section 2)
 *  TTL      an etcd lease attached to the key (seconds, rounded up): a dead
 *           holder on any host is detected by its expiry, never by a pid probe
 *  host     metadata.host of the value: the holder's host name (gethostname)
 *  acquire  txn: if create_revision(key) == 0 then put(key, lease) else range;
 *           a value that is not a lease, or one with no etcd lease attached
 *           (written by hand) whose expiresAt has passed, is deleted by a txn
 *           guarded by its mod revision and the create is tried again
 *           (acquired-after-malformed / -stale; a fresh create revision)
 *  release  range, compare the token, then txn: if mod_revision unchanged
 *           then delete; the etcd lease is revoked
 *  renew    keepalive of the etcd lease (TTL 0: lost -> not-owner) and a
 *           rewrite of expiresAt guarded by the mod revision
 *  fence    the key's create_revision: it only grows
 *
 * Endpoints: $LEASE_ETCD_ENDPOINTS (comma-separated URLs). A cluster that
 * does not answer is an error (fail closed).
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etcd_client.h"
#include "lease_impl.h"

#define ETCD_ENDPOINTS_ENV "LEASE_ETCD_ENDPOINTS"
#define ETCD_KEY_ENV "LEASE_ETCD_KEY"
#define ETCD_TIMEOUT_ENV "LEASE_ETCD_TIMEOUT_MS"
#define ETCD_KEY_PREFIX "/heavy-maintenance-lease/"

/* What one call of the algorithm works with. */
struct etcd_call {
    const struct lease_env *env;
    struct etcd_client client;
    struct etcd_transport transport;
    char key[LEASE_PATH_MAX + 64];
};

/* A test may put another transport here (NULL: libcurl). */
const struct etcd_transport *lease_etcd_transport_override;

static enum lease_status etcd_setup(const struct lease_env *env, const struct lease_options *options,
                                    struct etcd_call *call, struct lease_result *result) {
    const char *endpoints = env->getenv(env->context, ETCD_ENDPOINTS_ENV);
    const char *timeout = env->getenv(env->context, ETCD_TIMEOUT_ENV);
    const char *key = env->getenv(env->context, ETCD_KEY_ENV);
    int64_t timeout_ms = timeout != NULL ? strtoll(timeout, NULL, 10) : 0;
    call->env = env;
    if (key != NULL && key[0] != '\0')
        snprintf(call->key, sizeof call->key, "%s", key);
    else
        snprintf(call->key, sizeof call->key, "%s%s", ETCD_KEY_PREFIX, options->path);
    if (lease_etcd_transport_override != NULL) {
        call->transport = *lease_etcd_transport_override;
        return LEASE_STATUS_NONE;
    }
    if (etcd_client_init(&call->client, endpoints, timeout_ms) != 0) {
        lease_result_error(result, EINVAL, "etcd", call->key);
        snprintf(result->detail, sizeof result->detail,
                 ETCD_ENDPOINTS_ENV " must list etcd URLs (http://host:port,...); it is %s",
                 endpoints == NULL || endpoints[0] == '\0' ? "not set" : "not valid");
        return LEASE_STATUS_ERROR;
    }
    call->transport = etcd_client_transport(&call->client);
    return LEASE_STATUS_NONE;
}

/* One gateway call; on failure result is an error naming the cluster. */
static int etcd_request(struct etcd_call *call, const char *method, json_t *request, json_t **reply,
                        struct lease_result *result) {
    char detail[LEASE_DETAIL_MAX] = "";
    int status = call->transport.call(call->transport.context, method, request, reply, detail, sizeof detail);
    json_decref(request);
    if (status != 0) {
        lease_result_error(result, -status, "etcd", call->key);
        snprintf(result->detail, sizeof result->detail, "%s", detail[0] != '\0' ? detail : "etcd did not answer");
    }
    return status;
}

static json_t *key_json(const struct etcd_call *call) {
    char *encoded = etcd_base64_encode(call->key, strlen(call->key));
    json_t *value = json_string(encoded != NULL ? encoded : "");
    free(encoded);
    return value;
}

/* The key's current entry. */
struct etcd_entry {
    bool present;
    int64_t create_revision;
    int64_t mod_revision;
    int64_t lease_id;
};

/* The stored value with metadata.fence set (the fence is not stored: it is
 * the create revision), as result->payload_json (the library's allocator). */
static char *payload_with_fence(const char *stored, int64_t fence) {
    json_t *root = json_loads(stored, JSON_DECODE_ANY, NULL);
    json_t *metadata = json_object_get(root, "metadata");
    if (!json_is_object(metadata)) {
        metadata = json_object();
        json_object_set_new(root, "metadata", metadata);
    }
    json_object_set_new(metadata, "fence", json_integer(fence));
    char *text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    return text;
}

/* Fills result from a kv of a range reply: ACTIVE or MALFORMED with the
 * holder, the fence set to create_revision; STALE when no etcd lease is
 * attached (a value written by hand: nothing would ever remove it) and its
 * expiresAt / staleAfterMs has passed (no pid probe). No kv: MISSING. */
static enum lease_status classify_kv(const struct lease_env *env, const json_t *kvs, struct etcd_entry *entry,
                                     struct lease_result *result) {
    lease_result_clear(result);
    memset(entry, 0, sizeof *entry);
    const json_t *kv = json_array_get(kvs, 0);
    if (kv == NULL) {
        result->status = LEASE_STATUS_MISSING;
        return LEASE_STATUS_MISSING;
    }
    entry->present = true;
    entry->create_revision = etcd_json_int(kv, "create_revision");
    entry->mod_revision = etcd_json_int(kv, "mod_revision");
    entry->lease_id = etcd_json_int(kv, "lease");
    const char *encoded = json_string_value(json_object_get(kv, "value"));
    size_t size = 0;
    char *bytes = etcd_base64_decode(encoded != NULL ? encoded : "", &size);
    struct lease_holder holder;
    memset(&holder, 0, sizeof holder);
    char detail[LEASE_DETAIL_MAX] = "";
    char *stored = NULL;
    enum lease_parse_outcome outcome = bytes != NULL
                                           ? lease_payload_parse(bytes, size, &holder, &stored, detail, sizeof detail)
                                           : LEASE_PARSE_MALFORMED;
    free(bytes);
    if (outcome == LEASE_PARSE_NO_MEMORY) {
        lease_result_error(result, ENOMEM, "read", "the etcd value");
        return LEASE_STATUS_ERROR;
    }
    if (outcome != LEASE_PARSE_OK) {
        lease_free(stored);
        result->status = LEASE_STATUS_MALFORMED;
        snprintf(result->detail, sizeof result->detail, "%s", detail); /* as the file lease says it */
        return LEASE_STATUS_MALFORMED;
    }
    holder.has_fence = true;
    holder.fence = entry->create_revision;
    result->payload_json = stored != NULL ? payload_with_fence(stored, holder.fence) : NULL;
    lease_free(stored);
    if (result->payload_json == NULL) {
        lease_result_set_holder(result, &holder, true);
    } else {
        result->lease = holder;
        result->has_lease = true;
    }
    result->status = LEASE_STATUS_ACTIVE;
    if (entry->lease_id == 0) {
        static const struct lease_staleness_rules no_pid = {.check_pid = false, .check_start_time = false};
        bool ttl_expired = false;
        if (lease_is_stale(env, &no_pid, &holder, env->wall_clock_ms(env->context), result->detail,
                           sizeof result->detail, &ttl_expired)) {
            result->status = LEASE_STATUS_STALE;
            result->ttl_takeover = ttl_expired; /* no pid probe: the holder may be alive */
        }
    }
    return result->status;
}

static enum lease_status read_entry(struct etcd_call *call, struct etcd_entry *entry, struct lease_result *result) {
    json_t *reply = NULL;
    if (etcd_request(call, "kv/range", json_pack("{s:o}", "key", key_json(call)), &reply, result) != 0)
        return LEASE_STATUS_ERROR;
    enum lease_status status = classify_kv(call->env, json_object_get(reply, "kvs"), entry, result);
    json_decref(reply);
    return status;
}

static enum lease_status etcd_inspect(const struct lease_env *env, const struct lease_options *options,
                                      struct lease_result *result) {
    struct etcd_call call;
    if (etcd_setup(env, options, &call, result) == LEASE_STATUS_ERROR) return LEASE_STATUS_ERROR;
    struct etcd_entry entry;
    return read_entry(&call, &entry, result);
}

/* The value of a holder as the key stores it: the file's payload with
 * metadata.host, this host's name (who holds it, across hosts). *stored (when
 * not NULL) receives the text (the library's allocator). */
static json_t *value_json(const struct lease_holder *holder, char **stored) {
    size_t length = 0;
    char *text = lease_payload_format(holder, true, &length);
    if (text == NULL) return NULL;
    char host[256] = "";
    json_t *root = json_loads(text, 0, NULL);
    lease_free(text);
    if (root == NULL || gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    if (host[0] != '\0') json_object_set_new(json_object_get(root, "metadata"), "host", json_string(host));
    char *dumped = root != NULL ? json_dumps(root, JSON_INDENT(2)) : NULL;
    json_decref(root);
    if (dumped == NULL) return NULL;
    /* As the file: the JSON text and a newline. */
    length = strlen(dumped);
    json_malloc_t allocate;
    json_free_t release;
    json_get_alloc_funcs(&allocate, &release);
    text = allocate(length + 2);
    if (text != NULL) {
        memcpy(text, dumped, length);
        text[length++] = '\n';
        text[length] = '\0';
    }
    release(dumped);
    if (text == NULL) return NULL;
    char *encoded = etcd_base64_encode(text, length);
    if (stored != NULL)
        *stored = text;
    else
        lease_free(text);
    json_t *value = encoded != NULL ? json_string(encoded) : NULL;
    free(encoded);
    return value;
}

static void revoke_lease(struct etcd_call *call, int64_t lease_id) {
    json_t *reply = NULL;
    struct lease_result ignored = {0};
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)lease_id);
    if (etcd_request(call, "lease/revoke", json_pack("{s:s}", "ID", id), &reply, &ignored) == 0) json_decref(reply);
}

/* A txn guarded by the mod revision: true when it applied. */
static int guarded_txn(struct etcd_call *call, int64_t mod_revision, json_t *operation, bool *applied,
                       struct lease_result *result) {
    char revision[32];
    snprintf(revision, sizeof revision, "%lld", (long long)mod_revision);
    json_t *request = json_pack("{s:[{s:o,s:s,s:s,s:s}],s:[o]}", "compare", "key", key_json(call), "target", "MOD",
                                "result", "EQUAL", "mod_revision", revision, "success", operation);
    json_t *reply = NULL;
    int status = etcd_request(call, "kv/txn", request, &reply, result);
    if (status != 0) return status;
    *applied = json_is_true(json_object_get(reply, "succeeded"));
    json_decref(reply);
    return 0;
}

/* Sets result to ours after a create that applied at revision. */
static void set_ours(struct lease_result *result, struct lease_holder *holder, char *stored, int64_t revision) {
    holder->has_fence = true;
    holder->fence = revision;
    lease_result_clear(result);
    result->payload_json = payload_with_fence(stored, revision);
    if (result->payload_json == NULL) {
        lease_result_set_holder(result, holder, true);
    } else {
        result->lease = *holder;
        result->has_lease = true;
    }
}

#define ACQUIRE_ATTEMPTS 4

static enum lease_status etcd_acquire(const struct lease_env *env, const struct lease_options *options,
                                      struct lease_result *result) {
    struct etcd_call call;
    if (etcd_setup(env, options, &call, result) == LEASE_STATUS_ERROR) return LEASE_STATUS_ERROR;
    struct lease_holder holder;
    int status = lease_holder_new(env, options, env->wall_clock_ms(env->context), &holder);
    if (status != 0) return lease_result_error(result, -status, "random", options->path);
    int64_t ttl_s = (lease_options_ttl_ms(options) + 999) / 1000;

    json_t *reply = NULL;
    if (etcd_request(&call, "lease/grant", json_pack("{s:I}", "TTL", (json_int_t)ttl_s), &reply, result) != 0)
        return LEASE_STATUS_ERROR;
    int64_t lease_id = etcd_json_int(reply, "ID");
    json_decref(reply);
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)lease_id);

    /* What the key held before ours: MISSING, or the STALE / MALFORMED value
     * this call deleted. */
    enum lease_status before = LEASE_STATUS_MISSING;
    bool ttl_takeover = false;
    char why[LEASE_DETAIL_MAX] = ""; /* why the value deleted was stale or malformed */
    for (int attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt++) {
        char *stored = NULL;
        json_t *value = value_json(&holder, &stored);
        if (value == NULL) {
            lease_free(stored);
            revoke_lease(&call, lease_id);
            return lease_result_error(result, ENOMEM, "etcd", call.key);
        }
        json_t *request =
            json_pack("{s:[{s:o,s:s,s:s,s:s}],s:[{s:{s:o,s:o,s:s}}],s:[{s:{s:o}}]}", "compare", "key", key_json(&call),
                      "target", "CREATE", "result", "EQUAL", "create_revision", "0", "success", "request_put", "key",
                      key_json(&call), "value", value, "lease", id, "failure", "request_range", "key", key_json(&call));
        if (etcd_request(&call, "kv/txn", request, &reply, result) != 0) {
            lease_free(stored);
            revoke_lease(&call, lease_id);
            return LEASE_STATUS_ERROR;
        }
        if (json_is_true(json_object_get(reply, "succeeded"))) {
            set_ours(result, &holder, stored, etcd_json_int(json_object_get(reply, "header"), "revision"));
            lease_free(stored);
            json_decref(reply);
            result->previous_status = before;
            result->ttl_takeover = ttl_takeover;
            snprintf(result->detail, sizeof result->detail, "%s", why);
            result->status = before == LEASE_STATUS_STALE       ? LEASE_STATUS_ACQUIRED_AFTER_STALE
                             : before == LEASE_STATUS_MALFORMED ? LEASE_STATUS_ACQUIRED_AFTER_MALFORMED
                                                                : LEASE_STATUS_ACQUIRED;
            return result->status;
        }
        lease_free(stored);
        const json_t *range = json_object_get(
            json_object_get(json_array_get(json_object_get(reply, "responses"), 0), "response_range"), "kvs");
        struct etcd_entry entry;
        enum lease_status found = classify_kv(env, range, &entry, result);
        json_decref(reply);
        /* The key vanishing between the compare and the range cannot happen
         * (a txn is atomic): MISSING means a reply we do not understand. */
        if (found == LEASE_STATUS_MISSING) {
            revoke_lease(&call, lease_id);
            lease_result_error(result, EPROTO, "etcd", call.key);
            snprintf(result->detail, sizeof result->detail, "etcd txn failed without returning the key");
            return LEASE_STATUS_ERROR;
        }
        if (found == LEASE_STATUS_ACTIVE) {
            revoke_lease(&call, lease_id);
            result->previous_status = found;
            result->status = LEASE_STATUS_HELD;
            return LEASE_STATUS_HELD;
        }
        /* STALE or MALFORMED: delete it if it is still what was read (a
         * fresh create then gives a larger create revision: the fence grows). */
        bool applied = false;
        json_t *operation = json_pack("{s:{s:o}}", "request_delete_range", "key", key_json(&call));
        if (guarded_txn(&call, entry.mod_revision, operation, &applied, result) != 0) {
            revoke_lease(&call, lease_id);
            return LEASE_STATUS_ERROR;
        }
        if (applied) {
            before = found;
            ttl_takeover = result->ttl_takeover;
            snprintf(why, sizeof why, "%s", result->detail);
            if (entry.lease_id != 0) revoke_lease(&call, entry.lease_id);
        }
    }
    revoke_lease(&call, lease_id);
    lease_result_error(result, EAGAIN, "etcd", call.key);
    snprintf(result->detail, sizeof result->detail, "the etcd key kept changing during %d attempts", ACQUIRE_ATTEMPTS);
    return LEASE_STATUS_ERROR;
}

/* Reads the key and checks that token holds it. Returns NONE when ours
 * (entry filled), else the final status (missing, not-owner, error). */
static enum lease_status check_ours(struct etcd_call *call, const char *token, struct etcd_entry *entry,
                                    struct lease_result *result) {
    enum lease_status found = read_entry(call, entry, result);
    result->previous_status = found;
    if (found == LEASE_STATUS_ERROR || found == LEASE_STATUS_MISSING) return found;
    if (!result->has_lease || token == NULL || token[0] == '\0' || strcmp(result->lease.token, token) != 0) {
        result->status = LEASE_STATUS_NOT_OWNER;
        return LEASE_STATUS_NOT_OWNER;
    }
    return LEASE_STATUS_NONE;
}

static enum lease_status etcd_release(const struct lease_env *env, const struct lease_options *options,
                                      const char *token, struct lease_result *result) {
    struct etcd_call call;
    if (etcd_setup(env, options, &call, result) == LEASE_STATUS_ERROR) return LEASE_STATUS_ERROR;
    struct etcd_entry entry;
    enum lease_status status = check_ours(&call, token, &entry, result);
    if (status != LEASE_STATUS_NONE) return status;
    bool applied = false;
    json_t *operation = json_pack("{s:{s:o}}", "request_delete_range", "key", key_json(&call));
    if (guarded_txn(&call, entry.mod_revision, operation, &applied, result) != 0) return LEASE_STATUS_ERROR;
    if (!applied) { /* changed between our read and the delete: someone else's now */
        result->status = LEASE_STATUS_NOT_OWNER;
        snprintf(result->detail, sizeof result->detail, "the lease changed while it was being released");
        return LEASE_STATUS_NOT_OWNER;
    }
    if (entry.lease_id != 0) revoke_lease(&call, entry.lease_id);
    result->status = LEASE_STATUS_RELEASED;
    return LEASE_STATUS_RELEASED;
}

static enum lease_status etcd_renew(const struct lease_env *env, const struct lease_options *options, const char *token,
                                    struct lease_result *result) {
    struct etcd_call call;
    if (etcd_setup(env, options, &call, result) == LEASE_STATUS_ERROR) return LEASE_STATUS_ERROR;
    struct etcd_entry entry;
    enum lease_status status = check_ours(&call, token, &entry, result);
    if (status != LEASE_STATUS_NONE) return status;
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)entry.lease_id);
    /* A value with no etcd lease attached (written by hand) is judged by its
     * expiresAt alone: renewing it rewrites expiresAt, there is nothing to
     * keep alive. */
    if (entry.lease_id != 0) {
        json_t *reply = NULL;
        if (etcd_request(&call, "lease/keepalive", json_pack("{s:s}", "ID", id), &reply, result) != 0)
            return LEASE_STATUS_ERROR;
        /* The gateway streams: {"result":{"ID":..,"TTL":..}}; TTL 0 or absent: gone. */
        const json_t *answer = json_object_get(reply, "result");
        int64_t ttl_s = etcd_json_int(answer != NULL ? answer : reply, "TTL");
        json_decref(reply);
        if (ttl_s <= 0) {
            result->status = LEASE_STATUS_NOT_OWNER;
            snprintf(result->detail, sizeof result->detail, "the etcd lease of the key has expired");
            return LEASE_STATUS_NOT_OWNER;
        }
    }
    struct lease_holder holder = result->lease;
    int64_t now_ms = env->wall_clock_ms(env->context);
    /* The stored TTL is kept only within the limit (as the file lease does):
     * a value's staleAfterMs must never reach the arithmetic unbounded. */
    int64_t ttl_ms = holder.has_stale_after_ms && holder.stale_after_ms > 0 && holder.stale_after_ms <= LEASE_TTL_MS_MAX
                         ? holder.stale_after_ms
                         : lease_options_ttl_ms(options);
    holder.stale_after_ms = ttl_ms;
    holder.has_stale_after_ms = true;
    lease_time_format(now_ms + ttl_ms, holder.expires_at);
    lease_time_format(now_ms, holder.renewed_at);
    holder.has_fence = false; /* the fence is the create revision, not stored */
    char *stored = NULL;
    json_t *value = value_json(&holder, &stored);
    if (value == NULL) {
        lease_free(stored);
        return lease_result_error(result, ENOMEM, "etcd", call.key);
    }
    json_t *operation =
        entry.lease_id != 0
            ? json_pack("{s:{s:o,s:o,s:s}}", "request_put", "key", key_json(&call), "value", value, "lease", id)
            : json_pack("{s:{s:o,s:o}}", "request_put", "key", key_json(&call), "value", value);
    bool applied = false;
    int failed = guarded_txn(&call, entry.mod_revision, operation, &applied, result);
    if (failed != 0 || !applied) {
        lease_free(stored);
        if (failed != 0) return LEASE_STATUS_ERROR;
        result->status = LEASE_STATUS_NOT_OWNER;
        snprintf(result->detail, sizeof result->detail, "the lease changed while it was being renewed");
        return LEASE_STATUS_NOT_OWNER;
    }
    set_ours(result, &holder, stored, entry.create_revision);
    lease_free(stored);
    result->previous_status = LEASE_STATUS_ACTIVE;
    result->status = LEASE_STATUS_RENEWED;
    return LEASE_STATUS_RENEWED;
}

const struct lease_ops lease_ops_etcd = {
    .version = LEASE_OPS_VERSION,
    .name = "etcd",
    .impl_version = "1",
    .description = "the lease as an etcd key with an etcd lease (LEASE_ETCD_ENDPOINTS); fence = create revision",
    .inspect = etcd_inspect,
    .acquire = etcd_acquire,
    .release = etcd_release,
    .renew = etcd_renew,
    .traits = {.writes_fence = true, .outside_the_world = true},
};
