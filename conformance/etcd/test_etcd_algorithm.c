/*
 * test_etcd_algorithm.c: the etcd algorithm (impl_etcd.c) against a scripted
 * transport, for the answers a real cluster rarely gives on demand: a txn
 * that lost the race, a transport failure in the middle of an acquire, a key
 * changed between release's read and its delete, a lost etcd lease at renew,
 * a failure at every request of every operation. Then the transport itself
 * (etcd_client.c) against a one-connection-per-answer HTTP server on
 * loopback that gives the replies a cluster rarely gives: an error object, a
 * 503 (the next endpoint is tried), a reply that is not JSON, one too big, a
 * connection closed without a reply, no reply before the timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "etcd_client.h"
#include "lease_impl.h"

#define SCRIPT_MAX 8

/* One scripted answer per call, in order; the methods called are recorded. */
struct script {
    const char *replies[SCRIPT_MAX]; /* JSON text, or NULL: transport failure ("": without a detail) */
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
    if (text[0] == '\0') return -ECONNREFUSED; /* a failure that says nothing */
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

/* base64 of {"owner":"me","token":"t-1","acquiredAt":"2026-01-01T00:00:00Z","metadata":{"host":"h1"}} */
static char *own_kv(const char *lease_id) {
    static char text[1024];
    char *value = etcd_base64_encode(
        "{\"owner\":\"me\",\"token\":\"t-1\",\"acquiredAt\":\"2026-01-01T00:00:00Z\",\"staleAfterMs\":60000,"
        "\"metadata\":{\"host\":\"h1\"}}",
        strlen("{\"owner\":\"me\",\"token\":\"t-1\",\"acquiredAt\":\"2026-01-01T00:00:00Z\",\"staleAfterMs\":60000,"
               "\"metadata\":{\"host\":\"h1\"}}"));
    snprintf(text, sizeof text,
             "{\"kvs\":[{\"create_revision\":\"7\",\"mod_revision\":\"9\",\"lease\":\"%s\",\"value\":\"%s\"}]}",
             lease_id, value);
    free(value);
    return text;
}

static enum lease_status call_op(const char *op, const char *token, struct lease_result *result) {
    const struct lease_env *env = lease_env_posix();
    if (strcmp(op, "acquire") == 0) return lease_ops_etcd.acquire(env, &options, result);
    if (strcmp(op, "inspect") == 0) return lease_ops_etcd.inspect(env, &options, result);
    if (strcmp(op, "release") == 0) return lease_ops_etcd.release(env, &options, token, result);
    return lease_ops_etcd.renew(env, &options, token, result);
}

/* Every request of every operation failing in turn: an error, never a
 * success, never a write after the failure. */
static void test_a_failure_at_any_request_is_an_error(void **state) {
    (void)state;
    static const struct {
        const char *op;
        size_t requests;
    } ops[] = {{"inspect", 1}, {"acquire", 2}, {"release", 2}, {"renew", 3}};
    for (size_t index = 0; index < sizeof ops / sizeof ops[0]; index++) {
        for (size_t failing = 0; failing < ops[index].requests; failing++) {
            memset(&script, 0, sizeof script);
            const char *ok[] = {own_kv("42"), "{\"result\":{\"ID\":\"42\",\"TTL\":\"60\"}}"};
            if (strcmp(ops[index].op, "acquire") == 0) ok[0] = "{\"ID\":\"42\",\"TTL\":\"2\"}";
            for (size_t at = 0; at < failing; at++) script.replies[at] = ok[at];
            script.replies[failing] = NULL;
            script.replies[failing + 1] = "{}"; /* a revoke after a failed txn */
            struct lease_result result = {0};
            assert_int_equal(call_op(ops[index].op, "t-1", &result), LEASE_STATUS_ERROR);
            assert_int_equal(result.error_number, ETIMEDOUT);
            assert_string_equal(result.detail, "scripted failure");
            lease_result_clear(&result);
        }
    }
}

static void test_inspect_reads_missing_malformed_and_the_holders_host(void **state) {
    (void)state;
    struct lease_result result = {0};
    script.replies[0] = "{\"header\":{}}";
    assert_int_equal(call_op("inspect", NULL, &result), LEASE_STATUS_MISSING);
    script.replies[1] = "{\"kvs\":[{\"create_revision\":\"3\",\"value\":\"e25vdCBqc29u\"}]}"; /* {not json */
    assert_int_equal(call_op("inspect", NULL, &result), LEASE_STATUS_MALFORMED);
    assert_non_null(strstr(result.detail, "the etcd value is not a lease"));
    script.replies[2] = "{\"kvs\":[{\"value\":\"not base64!\"}]}";
    assert_int_equal(call_op("inspect", NULL, &result), LEASE_STATUS_MALFORMED);
    script.replies[3] = "{\"kvs\":[{}]}"; /* no value at all */
    assert_int_equal(call_op("inspect", NULL, &result), LEASE_STATUS_MALFORMED);
    script.replies[4] = own_kv("42");
    assert_int_equal(call_op("inspect", NULL, &result), LEASE_STATUS_ACTIVE);
    assert_string_equal(result.detail, "held on host h1");
    assert_non_null(strstr(result.payload_json, "\"host\": \"h1\""));
    assert_int_equal(result.lease.fence, 7);
    lease_result_clear(&result);
}

static void test_acquire_lost_to_a_malformed_value_is_held_and_a_reply_without_the_key_an_error(void **state) {
    (void)state;
    struct lease_result result = {0};
    script.replies[0] = "{\"ID\":\"45\",\"TTL\":\"2\"}";
    script.replies[1] =
        "{\"succeeded\":false,\"responses\":[{\"response_range\":{\"kvs\":[{\"value\":\"e25vdCBqc29u\"}]}}]}";
    script.replies[2] = "{}";
    script.replies[3] = "{\"ID\":\"46\",\"TTL\":\"2\"}";
    script.replies[4] = "{\"succeeded\":false}";
    script.replies[5] = NULL; /* the revoke fails too: ignored */
    assert_int_equal(call_op("acquire", NULL, &result), LEASE_STATUS_HELD);
    assert_int_equal(result.previous_status, LEASE_STATUS_MALFORMED);
    assert_int_equal(call_op("acquire", NULL, &result), LEASE_STATUS_ERROR);
    assert_int_equal(result.error_number, EPROTO);
    assert_string_equal(result.detail, "etcd txn failed without returning the key");
    lease_result_clear(&result);
}

static void test_release_and_renew_of_our_lease(void **state) {
    (void)state;
    struct lease_result result = {0};
    script.replies[0] = "{}";
    assert_int_equal(call_op("release", "t-1", &result), LEASE_STATUS_MISSING);
    script.replies[1] = own_kv("42");
    script.replies[2] = "{\"succeeded\":true}";
    script.replies[3] = "{}";
    assert_int_equal(call_op("release", "t-1", &result), LEASE_STATUS_RELEASED);
    assert_string_equal(script.methods[3], "lease/revoke");
    script.replies[4] = own_kv("0"); /* a key without an etcd lease: nothing to revoke */
    script.replies[5] = "{\"succeeded\":true}";
    assert_int_equal(call_op("release", "t-1", &result), LEASE_STATUS_RELEASED);
    assert_int_equal(script.used, 6);
    assert_int_equal(call_op("release", NULL, &(struct lease_result){0}), LEASE_STATUS_ERROR); /* script ends */
    lease_result_clear(&result);
}

static void test_renew_keeps_the_host_and_the_fence(void **state) {
    (void)state;
    struct lease_result result = {0};
    script.replies[0] = own_kv("42");
    script.replies[1] = "{\"result\":{\"ID\":\"42\",\"TTL\":\"60\"}}";
    script.replies[2] = "{\"succeeded\":true}";
    assert_int_equal(call_op("renew", "t-1", &result), LEASE_STATUS_RENEWED);
    assert_int_equal(result.lease.fence, 7);
    assert_non_null(strstr(result.payload_json, "\"host\": \"h1\""));
    assert_string_equal(result.detail, "");
    script.replies[3] = own_kv("42");
    script.replies[4] = "{\"ID\":\"42\",\"TTL\":\"60\"}"; /* not wrapped in "result" */
    script.replies[5] = "{\"succeeded\":false}";          /* changed meanwhile */
    assert_int_equal(call_op("renew", "t-1", &result), LEASE_STATUS_NOT_OWNER);
    assert_string_equal(result.detail, "the lease changed while it was being renewed");
    lease_result_clear(&result);
}

static void test_setup_needs_endpoints_and_honours_the_key(void **state) {
    (void)state;
    lease_etcd_transport_override = NULL;
    struct lease_result result = {0};
    unsetenv("LEASE_ETCD_ENDPOINTS");
    assert_int_equal(call_op("inspect", NULL, &result), LEASE_STATUS_ERROR);
    assert_non_null(strstr(result.detail, "it is not set"));
    setenv("LEASE_ETCD_ENDPOINTS", "ftp://nowhere", 1);
    assert_int_equal(call_op("acquire", NULL, &result), LEASE_STATUS_ERROR);
    assert_non_null(strstr(result.detail, "it is not valid"));
    assert_int_equal(call_op("release", "t", &result), LEASE_STATUS_ERROR);
    assert_int_equal(call_op("renew", "t", &result), LEASE_STATUS_ERROR);
    unsetenv("LEASE_ETCD_ENDPOINTS");
    lease_etcd_transport_override = &transport;
    setenv("LEASE_ETCD_KEY", "/a/key", 1);
    script.replies[0] = "{}";
    assert_int_equal(call_op("inspect", NULL, &result), LEASE_STATUS_MISSING);
    unsetenv("LEASE_ETCD_KEY");
    lease_result_clear(&result);
}

/* Tokens that can never match, a value that is not a lease, a value without
 * host or staleAfterMs, a failure without a word, an empty LEASE_ETCD_KEY. */
static void test_edges_of_ownership_and_of_old_values(void **state) {
    (void)state;
    struct lease_result result = {0};
    script.replies[0] = own_kv("42");
    script.replies[1] = own_kv("42");
    script.replies[2] = "{\"kvs\":[{\"value\":\"e25vdCBqc29u\"}]}";
    assert_int_equal(call_op("release", NULL, &result), LEASE_STATUS_NOT_OWNER);
    assert_int_equal(call_op("release", "", &result), LEASE_STATUS_NOT_OWNER);
    assert_int_equal(call_op("renew", "t-1", &result), LEASE_STATUS_NOT_OWNER);
    assert_int_equal(result.previous_status, LEASE_STATUS_MALFORMED);
    assert_int_equal(script.used, 3); /* reads only */
    memset(&script, 0, sizeof script);
    script.replies[0] =
        "{\"kvs\":[{\"create_revision\":\"4\",\"mod_revision\":\"4\",\"lease\":\"9\",\"value\":\"" OTHER_VALUE "\"}]}";
    script.replies[1] = "{\"result\":{\"TTL\":\"3\"}}";
    script.replies[2] = "{\"succeeded\":true}";
    assert_int_equal(call_op("renew", "t-1", &result), LEASE_STATUS_RENEWED);
    assert_null(strstr(result.payload_json, "host"));
    int64_t expires_ms = 0;
    assert_true(lease_time_parse(result.lease.expires_at, &expires_ms));
    int64_t renewed_ms = 0;
    assert_true(lease_time_parse(result.lease.renewed_at, &renewed_ms));
    assert_int_equal(expires_ms - renewed_ms, 3000); /* no staleAfterMs: the etcd lease's TTL */
    script.replies[3] = "";
    assert_int_equal(call_op("inspect", NULL, &result), LEASE_STATUS_ERROR);
    assert_string_equal(result.detail, "etcd did not answer");
    setenv("LEASE_ETCD_KEY", "", 1);
    script.replies[4] = "{}";
    assert_int_equal(call_op("inspect", NULL, &result), LEASE_STATUS_MISSING);
    unsetenv("LEASE_ETCD_KEY");
    lease_result_clear(&result);
}

/* ---- etcd_client.c --------------------------------------------------------- */

static void test_endpoint_lists(void **state) {
    (void)state;
    struct etcd_client client;
    assert_int_equal(etcd_client_init(&client, NULL, 0), -EINVAL);
    assert_int_equal(etcd_client_init(&client, "", 0), -EINVAL);
    assert_int_equal(etcd_client_init(&client, "ftp://a", 0), -EINVAL);
    assert_int_equal(etcd_client_init(&client, "http://a,,http://b", 0), -EINVAL);
    assert_int_equal(etcd_client_init(&client, "http://a,", 0), 0);
    char many[1024] = "";
    for (int index = 0; index <= ETCD_ENDPOINTS_MAX; index++) strcat(many, "http://a,");
    assert_int_equal(etcd_client_init(&client, many, 0), -EINVAL);
    char longest[ETCD_ENDPOINT_SIZE + 16] = "http://";
    memset(longest + 7, 'a', ETCD_ENDPOINT_SIZE);
    longest[ETCD_ENDPOINT_SIZE + 7] = '\0';
    assert_int_equal(etcd_client_init(&client, longest, 0), -EINVAL);
    assert_int_equal(etcd_client_init(&client, "http://a:1//,https://b:2", 500), 0);
    assert_int_equal(client.endpoint_count, 2);
    assert_string_equal(client.endpoints[0], "http://a:1");
    assert_string_equal(client.endpoints[1], "https://b:2");
    assert_int_equal(client.timeout_ms, 500);
    assert_int_equal(etcd_client_init(&client, "http://a", 0), 0);
    assert_int_equal(client.timeout_ms, ETCD_DEFAULT_TIMEOUT_MS);
}

static void test_base64_and_integers(void **state) {
    (void)state;
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t index = 0; index < sizeof plain / sizeof plain[0]; index++) {
        char *text = etcd_base64_encode(plain[index], strlen(plain[index]));
        assert_string_equal(text, coded[index]);
        size_t size = 0;
        char *back = etcd_base64_decode(text, &size);
        assert_int_equal(size, strlen(plain[index]));
        assert_memory_equal(back, plain[index], size);
        free(text);
        free(back);
    }
    static const char *const bad[] = {"Zg=", "Z*==", "Zg=a", "Z===", "=g==", "Zm9v\x01g=="};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        size_t size = 0;
        assert_null(etcd_base64_decode(bad[index], &size));
    }
    json_t *object = json_pack("{s:I,s:s,s:[]}", "number", (json_int_t)5, "text", "-7", "list");
    assert_int_equal(etcd_json_int(object, "number"), 5);
    assert_int_equal(etcd_json_int(object, "text"), -7);
    assert_int_equal(etcd_json_int(object, "list"), 0);
    assert_int_equal(etcd_json_int(object, "absent"), 0);
    json_decref(object);
}

/* A gateway on loopback: each connection gets the next canned answer (NULL:
 * closed without one; "" : never answered, the client times out). */
#define ANSWERS_MAX 8
struct fake_gateway {
    int listener;
    int port;
    const char *answers[ANSWERS_MAX];
    size_t count;
    pthread_t thread;
};

static void *serve(void *argument) {
    struct fake_gateway *gateway = argument;
    for (size_t index = 0; index < gateway->count; index++) {
        int connection = accept(gateway->listener, NULL, NULL);
        if (connection < 0) break;
        char request[8192];
        size_t used = 0;
        ssize_t got;
        /* The request: headers, then Content-Length bytes of body. */
        while (used < sizeof request - 1 && (got = read(connection, request + used, sizeof request - 1 - used)) > 0) {
            used += (size_t)got;
            request[used] = '\0';
            char *end = strstr(request, "\r\n\r\n");
            const char *length = strstr(request, "Content-Length: ");
            if (end != NULL && length != NULL && used >= (size_t)(end + 4 - request) + strtoul(length + 16, NULL, 10))
                break;
        }
        const char *answer = gateway->answers[index];
        if (answer != NULL && answer[0] == '\0') {
            char byte;
            while (read(connection, &byte, 1) > 0) { /* until the client gives up and closes */
            }
        } else if (answer != NULL) {
            ssize_t written = write(connection, answer, strlen(answer));
            (void)written;
        }
        close(connection);
    }
    return NULL;
}

static void gateway_start(struct fake_gateway *gateway) {
    gateway->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t size = sizeof address;
    assert_int_equal(bind(gateway->listener, (struct sockaddr *)&address, size), 0);
    assert_int_equal(listen(gateway->listener, 8), 0);
    assert_int_equal(getsockname(gateway->listener, (struct sockaddr *)&address, &size), 0);
    gateway->port = ntohs(address.sin_port);
    assert_int_equal(pthread_create(&gateway->thread, NULL, serve, gateway), 0);
}

static void gateway_stop(struct fake_gateway *gateway) {
    assert_int_equal(pthread_join(gateway->thread, NULL), 0);
    close(gateway->listener);
}

static int gateway_call(struct fake_gateway *gateway, int endpoints, int64_t timeout_ms, json_t **reply, char *detail,
                        size_t detail_size) {
    char list[256];
    snprintf(list, sizeof list, "http://127.0.0.1:%d/", gateway->port);
    if (endpoints == 2)
        snprintf(list, sizeof list, "http://127.0.0.1:%d,http://127.0.0.1:%d", gateway->port, gateway->port);
    struct etcd_client client;
    assert_int_equal(etcd_client_init(&client, list, timeout_ms), 0);
    struct etcd_transport real = etcd_client_transport(&client);
    json_t *request = json_pack("{s:s}", "key", "a2V5");
    int status = real.call(real.context, "kv/range", request, reply, detail, detail_size);
    json_decref(request);
    return status;
}

/* An HTTP/1.1 answer with a JSON body (malloc'd). */
static char *answer(const char *status, const char *body) {
    size_t size = strlen(status) + strlen(body) + 160;
    char *text = malloc(size);
    assert_non_null(text);
    snprintf(text, size,
             "HTTP/1.1 %s\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
             status, strlen(body), body);
    return text;
}

static void test_transport_answers(void **state) {
    (void)state;
    char detail[512];
    json_t *reply = NULL;
    /* An error object: -EPROTO naming the endpoint, the status and etcd's message. */
    char *error_reply = answer("400 Bad Request", "{\"error\":\"bad key\",\"code\":3}");
    char *ok_reply = answer("200 OK", "{\"header\":{\"revision\":\"5\"}}");
    char *unavailable = answer("503 Service Unavailable", "{\"error\":\"no leader\"}");
    char *not_json = answer("200 OK", "<html>");
    struct fake_gateway gateway = {.answers = {error_reply}, .count = 1};
    gateway_start(&gateway);
    assert_int_equal(gateway_call(&gateway, 1, 2000, &reply, detail, sizeof detail), -EPROTO);
    assert_non_null(strstr(detail, "/v3/kv/range: HTTP 400: bad key"));
    assert_null(reply);
    gateway_stop(&gateway);
    /* 503 from the first endpoint: the second answers. */
    gateway = (struct fake_gateway){.answers = {unavailable, ok_reply}, .count = 2};
    gateway_start(&gateway);
    assert_int_equal(gateway_call(&gateway, 2, 2000, &reply, detail, sizeof detail), 0);
    assert_int_equal(etcd_json_int(json_object_get(reply, "header"), "revision"), 5);
    json_decref(reply);
    gateway_stop(&gateway);
    /* Not JSON; then closed without a reply by both: refused. */
    gateway = (struct fake_gateway){.answers = {not_json, NULL, NULL}, .count = 3};
    gateway_start(&gateway);
    assert_int_equal(gateway_call(&gateway, 1, 2000, &reply, detail, sizeof detail), -EPROTO);
    assert_non_null(strstr(detail, "not a JSON object"));
    assert_int_equal(gateway_call(&gateway, 2, 2000, &reply, detail, sizeof detail), -ECONNREFUSED);
    gateway_stop(&gateway);
    /* No answer within the timeout: -ETIMEDOUT, never a hang. */
    gateway = (struct fake_gateway){.answers = {""}, .count = 1};
    gateway_start(&gateway);
    assert_int_equal(gateway_call(&gateway, 1, 200, &reply, detail, sizeof detail), -ETIMEDOUT);
    gateway_stop(&gateway);
    /* A reply over the limit (4 MB) is refused, not buffered. */
    size_t big = 5 * 1024 * 1024;
    char *huge_body = malloc(big + 1);
    memset(huge_body, ' ', big);
    huge_body[big] = '\0';
    char *huge = answer("200 OK", huge_body);
    gateway = (struct fake_gateway){.answers = {huge}, .count = 1};
    gateway_start(&gateway);
    assert_int_equal(gateway_call(&gateway, 1, 5000, &reply, detail, sizeof detail), -EPROTO);
    gateway_stop(&gateway);
    free(huge_body);
    free(huge);
    free(error_reply);
    free(ok_reply);
    free(unavailable);
    free(not_json);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN); /* the fake gateway writes to clients that gave up */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_acquire_won_takes_the_revision_as_fence, setup),
        cmocka_unit_test_setup(test_acquire_lost_race_is_held_and_revokes_its_grant, setup),
        cmocka_unit_test_setup(test_unreachable_cluster_fails_closed, setup),
        cmocka_unit_test_setup(test_release_of_a_key_changed_meanwhile_is_not_owner, setup),
        cmocka_unit_test_setup(test_wrong_token_never_writes, setup),
        cmocka_unit_test_setup(test_renew_of_an_expired_etcd_lease_is_not_owner, setup),
        cmocka_unit_test_setup(test_a_failure_at_any_request_is_an_error, setup),
        cmocka_unit_test_setup(test_inspect_reads_missing_malformed_and_the_holders_host, setup),
        cmocka_unit_test_setup(test_acquire_lost_to_a_malformed_value_is_held_and_a_reply_without_the_key_an_error,
                               setup),
        cmocka_unit_test_setup(test_release_and_renew_of_our_lease, setup),
        cmocka_unit_test_setup(test_renew_keeps_the_host_and_the_fence, setup),
        cmocka_unit_test_setup(test_setup_needs_endpoints_and_honours_the_key, setup),
        cmocka_unit_test_setup(test_edges_of_ownership_and_of_old_values, setup),
        cmocka_unit_test(test_endpoint_lists),
        cmocka_unit_test(test_base64_and_integers),
        cmocka_unit_test(test_transport_answers),
    };
    return cmocka_run_group_tests_name("etcd_algorithm", tests, NULL, NULL);
}
