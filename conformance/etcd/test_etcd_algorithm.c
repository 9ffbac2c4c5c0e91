/*
 * test_etcd_algorithm.c: the etcd algorithm (impl_etcd.c) against a scripted
 * transport, for the answers a real cluster rarely gives on demand: a txn
 * that lost the race, a transport failure in the middle of an acquire, a key
 * changed between release's read and its delete, a lost etcd lease at renew.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "etcd_client.h"
#include "lease_impl.h"

#define SCRIPT_MAX 8

/* One scripted answer per call, in order; the methods called are recorded. */
struct script {
    const char *replies[SCRIPT_MAX]; /* JSON text, or NULL: transport failure */
    size_t used;
    char methods[SCRIPT_MAX][32];
};

static int scripted_call(void *context, const char *method, json_t *request, json_t **reply, char *detail,
                         size_t detail_size) {
    (void)request;
    struct script *script = context;
    assert_true(script->used < SCRIPT_MAX);
    snprintf(script->methods[script->used], sizeof script->methods[0], "%s", method);
    const char *text = script->replies[script->used++];
    if (text == NULL) {
        snprintf(detail, detail_size, "scripted failure");
        return -ETIMEDOUT;
    }
    *reply = json_loads(text, 0, NULL);
    assert_non_null(*reply);
    return 0;
}

static struct script script;
static struct etcd_transport transport = {.context = &script, .call = scripted_call};

static int setup(void **state) {
    (void)state;
    memset(&script, 0, sizeof script);
    lease_etcd_transport_override = &transport;
    return 0;
}

static const struct lease_options options = {.path = "/lease.json", .owner = "me", .ttl_ms = 1500};

/* base64 of {"owner":"other","token":"t-1","acquiredAt":"2026-01-01T00:00:00Z"} */
#define OTHER_VALUE "eyJvd25lciI6Im90aGVyIiwidG9rZW4iOiJ0LTEiLCJhY3F1aXJlZEF0IjoiMjAyNi0wMS0wMVQwMDowMDowMFoifQ=="
#define OTHER_KV \
    "{\"kvs\":[{\"create_revision\":\"7\",\"mod_revision\":\"9\",\"lease\":\"42\",\"value\":\"" OTHER_VALUE "\"}]}"

static void test_acquire_won_takes_the_revision_as_fence(void **state) {
    (void)state;
    script.replies[0] = "{\"ID\":\"42\",\"TTL\":\"2\"}";
    script.replies[1] = "{\"header\":{\"revision\":\"11\"},\"succeeded\":true}";
    struct lease_result result = {0};
    assert_int_equal(lease_ops_etcd.acquire(lease_env_posix(), &options, &result), LEASE_STATUS_ACQUIRED);
    assert_true(result.lease.has_fence);
    assert_int_equal(result.lease.fence, 11);
    assert_string_equal(script.methods[0], "lease/grant");
    assert_string_equal(script.methods[1], "kv/txn");
    lease_result_clear(&result);
}

static void test_acquire_lost_race_is_held_and_revokes_its_grant(void **state) {
    (void)state;
    script.replies[0] = "{\"ID\":\"43\",\"TTL\":\"2\"}";
    script.replies[1] = "{\"succeeded\":false,\"responses\":[{\"response_range\":" OTHER_KV "}]}";
    script.replies[2] = "{}";
    struct lease_result result = {0};
    assert_int_equal(lease_ops_etcd.acquire(lease_env_posix(), &options, &result), LEASE_STATUS_HELD);
    assert_string_equal(result.lease.owner, "other");
    assert_int_equal(result.lease.fence, 7);
    assert_string_equal(script.methods[2], "lease/revoke");
    lease_result_clear(&result);
}

static void test_unreachable_cluster_fails_closed(void **state) {
    (void)state;
    script.replies[0] = "{\"ID\":\"44\",\"TTL\":\"2\"}";
    script.replies[1] = NULL;
    script.replies[2] = "{}";
    struct lease_result result = {0};
    assert_int_equal(lease_ops_etcd.acquire(lease_env_posix(), &options, &result), LEASE_STATUS_ERROR);
    assert_int_equal(result.error_number, ETIMEDOUT);
    assert_int_equal(lease_status_exit_code(LEASE_STATUS_ERROR), 125);
    lease_result_clear(&result);
}

static void test_release_of_a_key_changed_meanwhile_is_not_owner(void **state) {
    (void)state;
    script.replies[0] = OTHER_KV;
    script.replies[1] = "{\"succeeded\":false}";
    struct lease_result result = {0};
    assert_int_equal(lease_ops_etcd.release(lease_env_posix(), &options, "t-1", &result), LEASE_STATUS_NOT_OWNER);
    assert_int_equal(script.used, 2); /* no revoke of someone else's lease */
    lease_result_clear(&result);
}

static void test_wrong_token_never_writes(void **state) {
    (void)state;
    script.replies[0] = OTHER_KV;
    struct lease_result result = {0};
    assert_int_equal(lease_ops_etcd.release(lease_env_posix(), &options, "t-2", &result), LEASE_STATUS_NOT_OWNER);
    assert_int_equal(script.used, 1);
    lease_result_clear(&result);
}

static void test_renew_of_an_expired_etcd_lease_is_not_owner(void **state) {
    (void)state;
    script.replies[0] = OTHER_KV;
    script.replies[1] = "{\"result\":{\"ID\":\"42\"}}"; /* TTL absent: the etcd lease is gone */
    struct lease_result result = {0};
    assert_int_equal(lease_ops_etcd.renew(lease_env_posix(), &options, "t-1", &result), LEASE_STATUS_NOT_OWNER);
    assert_int_equal(script.used, 2); /* no rewrite */
    lease_result_clear(&result);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_acquire_won_takes_the_revision_as_fence, setup),
        cmocka_unit_test_setup(test_acquire_lost_race_is_held_and_revokes_its_grant, setup),
        cmocka_unit_test_setup(test_unreachable_cluster_fails_closed, setup),
        cmocka_unit_test_setup(test_release_of_a_key_changed_meanwhile_is_not_owner, setup),
        cmocka_unit_test_setup(test_wrong_token_never_writes, setup),
        cmocka_unit_test_setup(test_renew_of_an_expired_etcd_lease_is_not_owner, setup),
    };
    return cmocka_run_group_tests_name("etcd_algorithm", tests, NULL, NULL);
}
