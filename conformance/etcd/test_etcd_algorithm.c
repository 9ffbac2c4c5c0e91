/*
 * test_etcd_algorithm.c: the etcd algorithm (impl_etcd.c) against a scripted
 * transport, for the answers a real cluster rarely gives on demand: a txn
 * that lost the race, a transport failure in the middle of an acquire, a key
 * changed between release's read and its delete, a lost etcd lease at renew.
 * The transport also meets a gateway on loopback that gives, one connection
 * per answer, what a cluster rarely gives on demand: a 503 (the next endpoint
 * is tried), a connection closed without a reply, a reply over 4 MB.
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

/* The etcd implementation's ops (src/impl_etcd.c; listed in src/lease_implementations.h). */
extern const struct lease_ops lease_ops_etcd;

#define SCRIPT_MAX 16

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

/* base64 of "not json" */
#define GARBAGE_KV \
    "{\"kvs\":[{\"create_revision\":\"7\",\"mod_revision\":\"9\",\"lease\":\"42\",\"value\":\"bm90IGpzb24=\"}]}"
#define LOST_TO(kv) "{\"succeeded\":false,\"responses\":[{\"response_range\":" kv "}]}"
#define GRANT "{\"ID\":\"45\",\"TTL\":\"2\"}"
#define WON "{\"header\":{\"revision\":\"12\"},\"succeeded\":true}"

static enum lease_status acquire(struct lease_result *result) {
    memset(result, 0, sizeof *result);
    return lease_ops_etcd.acquire(lease_env_posix(), &options, result);
}

static void test_malformed_value_is_deleted_then_created_afresh(void **state) {
    (void)state;
    const char *replies[] = {GRANT, LOST_TO(GARBAGE_KV), "{\"succeeded\":true}", "{}", WON};
    memcpy(script.replies, replies, sizeof replies);
    struct lease_result result;
    assert_int_equal(acquire(&result), LEASE_STATUS_ACQUIRED_AFTER_MALFORMED);
    assert_int_equal(result.previous_status, LEASE_STATUS_MALFORMED);
    assert_int_equal(result.lease.fence, 12);               /* the new create revision, not the old one */
    assert_string_equal(script.methods[3], "lease/revoke"); /* the old value's etcd lease */
    assert_string_equal(script.methods[4], "kv/txn");
    assert_non_null(strstr(result.payload_json, "\"host\""));
    lease_result_clear(&result);
}

static void test_a_key_that_keeps_changing_fails_closed(void **state) {
    (void)state;
    for (int round = 0; round < 4; round++) {
        script.replies[1 + 2 * round] = LOST_TO(GARBAGE_KV);
        script.replies[2 + 2 * round] = "{\"succeeded\":false}"; /* changed again before the delete */
    }
    script.replies[0] = GRANT;
    script.replies[9] = "{}";
    struct lease_result result;
    assert_int_equal(acquire(&result), LEASE_STATUS_ERROR);
    assert_int_equal(result.error_number, EAGAIN);
    assert_string_equal(script.methods[9], "lease/revoke");
    lease_result_clear(&result);
}

static void test_acquire_transport_failures_fail_closed(void **state) {
    (void)state;
    struct lease_result result;
    script.replies[0] = NULL; /* the grant */
    assert_int_equal(acquire(&result), LEASE_STATUS_ERROR);
    lease_result_clear(&result);
    memset(&script, 0, sizeof script);
    const char *delete_fails[] = {GRANT, LOST_TO(GARBAGE_KV), NULL, "{}"};
    memcpy(script.replies, delete_fails, sizeof delete_fails);
    assert_int_equal(acquire(&result), LEASE_STATUS_ERROR);
    assert_string_equal(script.methods[3], "lease/revoke");
    lease_result_clear(&result);
    memset(&script, 0, sizeof script);
    const char *no_key[] = {GRANT, "{\"succeeded\":false,\"responses\":[]}", "{}"};
    memcpy(script.replies, no_key, sizeof no_key);
    assert_int_equal(acquire(&result), LEASE_STATUS_ERROR);
    assert_int_equal(result.error_number, EPROTO);
    lease_result_clear(&result);
}

static void test_value_not_base64_is_malformed(void **state) {
    (void)state;
    script.replies[0] = "{\"kvs\":[{\"create_revision\":\"3\",\"mod_revision\":\"3\",\"value\":\"%%%\"}]}";
    struct lease_result result = {0};
    assert_int_equal(lease_ops_etcd.inspect(lease_env_posix(), &options, &result), LEASE_STATUS_MALFORMED);
    lease_result_clear(&result);
}

static void test_release_and_renew_edges(void **state) {
    (void)state;
    struct lease_result result = {0};
    script.replies[0] = "{}"; /* no kvs: missing */
    assert_int_equal(lease_ops_etcd.release(lease_env_posix(), &options, "t-1", &result), LEASE_STATUS_MISSING);
    lease_result_clear(&result);
    memset(&script, 0, sizeof script);
    script.replies[0] = NULL;
    assert_int_equal(lease_ops_etcd.release(lease_env_posix(), &options, "t-1", &result), LEASE_STATUS_ERROR);
    lease_result_clear(&result);
    memset(&script, 0, sizeof script);
    script.replies[0] = OTHER_KV;
    script.replies[1] = NULL; /* the guarded delete */
    assert_int_equal(lease_ops_etcd.release(lease_env_posix(), &options, "t-1", &result), LEASE_STATUS_ERROR);
    lease_result_clear(&result);
    memset(&script, 0, sizeof script);
    script.replies[0] = OTHER_KV;
    script.replies[1] = NULL; /* the keepalive */
    assert_int_equal(lease_ops_etcd.renew(lease_env_posix(), &options, "t-1", &result), LEASE_STATUS_ERROR);
    lease_result_clear(&result);
    memset(&script, 0, sizeof script);
    script.replies[0] = OTHER_KV;
    script.replies[1] = "{\"result\":{\"ID\":\"42\",\"TTL\":\"2\"}}";
    script.replies[2] = "{\"succeeded\":false}"; /* changed meanwhile */
    assert_int_equal(lease_ops_etcd.renew(lease_env_posix(), &options, "t-1", &result), LEASE_STATUS_NOT_OWNER);
    lease_result_clear(&result);
    memset(&script, 0, sizeof script);
    script.replies[0] = OTHER_KV;
    script.replies[1] = "{\"result\":{\"ID\":\"42\",\"TTL\":\"2\"}}";
    script.replies[2] = NULL;
    assert_int_equal(lease_ops_etcd.renew(lease_env_posix(), &options, "t-1", &result), LEASE_STATUS_ERROR);
    lease_result_clear(&result);
    memset(&script, 0, sizeof script);
    script.replies[0] = OTHER_KV;
    script.replies[1] = "{\"result\":{\"ID\":\"42\",\"TTL\":\"2\"}}";
    script.replies[2] = "{\"succeeded\":true}";
    assert_int_equal(lease_ops_etcd.renew(lease_env_posix(), &options, "t-1", &result), LEASE_STATUS_RENEWED);
    assert_int_equal(result.lease.fence, 7);
    lease_result_clear(&result);
}

/* A kv of the key holding text, its etcd lease lease_id (static buffer). */
static const char *kv_of(const char *text, const char *lease_id) {
    static char kv[1024];
    char *value = etcd_base64_encode(text, strlen(text));
    snprintf(kv, sizeof kv,
             "{\"kvs\":[{\"create_revision\":\"4\",\"mod_revision\":\"4\",\"lease\":\"%s\",\"value\":\"%s\"}]}",
             lease_id, value);
    free(value);
    return kv;
}

/* Tokens that never match, a value that is not a lease, a key without an etcd
 * lease, a keepalive answer not wrapped in "result", a value with its own
 * staleAfterMs, a failure without a word, an empty LEASE_ETCD_KEY, no
 * endpoints at all. */
static void test_ownership_edges_and_old_values(void **state) {
    (void)state;
    const struct lease_env *env = lease_env_posix();
    struct lease_result result = {0};
    script.replies[0] = OTHER_KV;
    script.replies[1] = OTHER_KV;
    script.replies[2] = "{\"kvs\":[{\"create_revision\":\"3\",\"mod_revision\":\"3\",\"value\":\"%%%\"}]}";
    assert_int_equal(lease_ops_etcd.release(env, &options, NULL, &result), LEASE_STATUS_NOT_OWNER);
    assert_int_equal(lease_ops_etcd.release(env, &options, "", &result), LEASE_STATUS_NOT_OWNER);
    assert_int_equal(lease_ops_etcd.release(env, &options, "t-1", &result), LEASE_STATUS_NOT_OWNER);
    assert_int_equal(script.used, 3); /* reads only, never a write */
    memset(&script, 0, sizeof script);
    const char *own =
        "{\"owner\":\"me\",\"token\":\"t-2\",\"acquiredAt\":\"2026-01-01T00:00:00Z\",\"staleAfterMs\":60000}";
    script.replies[0] = kv_of(own, "0");
    script.replies[1] = "{\"succeeded\":true}";
    assert_int_equal(lease_ops_etcd.release(env, &options, "t-2", &result), LEASE_STATUS_RELEASED);
    assert_int_equal(script.used, 2); /* no etcd lease to revoke */
    script.replies[2] = kv_of(own, "9");
    script.replies[3] = "{\"ID\":\"9\",\"TTL\":\"3\"}"; /* not wrapped in "result" */
    script.replies[4] = "{\"succeeded\":true}";
    assert_int_equal(lease_ops_etcd.renew(env, &options, "t-2", &result), LEASE_STATUS_RENEWED);
    int64_t expires_ms = 0;
    int64_t renewed_ms = 0;
    assert_true(lease_time_parse(result.lease.expires_at, &expires_ms));
    assert_true(lease_time_parse(result.lease.renewed_at, &renewed_ms));
    assert_int_equal(expires_ms - renewed_ms, 60000); /* the value's own staleAfterMs */
    script.replies[5] = "";
    assert_int_equal(lease_ops_etcd.inspect(env, &options, &result), LEASE_STATUS_ERROR);
    assert_string_equal(result.detail, "etcd did not answer");
    setenv("LEASE_ETCD_KEY", "", 1); /* empty: the key from the path */
    script.replies[6] = "{}";
    assert_int_equal(lease_ops_etcd.inspect(env, &options, &result), LEASE_STATUS_MISSING);
    unsetenv("LEASE_ETCD_KEY");
    lease_etcd_transport_override = NULL;
    unsetenv("LEASE_ETCD_ENDPOINTS");
    assert_int_equal(lease_ops_etcd.inspect(env, &options, &result), LEASE_STATUS_ERROR);
    assert_non_null(strstr(result.detail, "not set"));
    setenv("LEASE_ETCD_ENDPOINTS", "ftp://nowhere", 1);
    assert_int_equal(lease_ops_etcd.release(env, &options, "t-2", &result), LEASE_STATUS_ERROR);
    assert_int_equal(lease_ops_etcd.renew(env, &options, "t-2", &result), LEASE_STATUS_ERROR);
    unsetenv("LEASE_ETCD_ENDPOINTS");
    lease_result_clear(&result);
}

/* ---- the libcurl transport (etcd_client.c) ---------------------------------- */

static void test_endpoints_are_parsed_strictly(void **state) {
    (void)state;
    struct etcd_client client;
    assert_int_equal(etcd_client_init(&client, NULL, 0), -EINVAL);
    assert_int_equal(etcd_client_init(&client, "", 0), -EINVAL);
    assert_int_equal(etcd_client_init(&client, "ftp://a", 0), -EINVAL);
    assert_int_equal(etcd_client_init(&client, "http://a,,http://b", 0), -EINVAL);
    assert_int_equal(etcd_client_init(&client,
                                      "http://a,http://b,http://c,http://d,http://e,http://f,http://g,"
                                      "http://h,http://i",
                                      0),
                     -EINVAL);
    char long_url[ETCD_ENDPOINT_SIZE + 16];
    memset(long_url, 'a', sizeof long_url - 1);
    memcpy(long_url, "http://", 7);
    long_url[sizeof long_url - 1] = '\0';
    assert_int_equal(etcd_client_init(&client, long_url, 0), -EINVAL);
    assert_int_equal(etcd_client_init(&client, "https://a:2379/,http://b:2379,", 500), 0);
    assert_int_equal(client.endpoint_count, 2);
    assert_string_equal(client.endpoints[0], "https://a:2379");
    assert_int_equal(client.timeout_ms, 500);
    assert_int_equal(etcd_client_init(&client, "http://a", 0), 0);
    assert_int_equal(client.timeout_ms, ETCD_DEFAULT_TIMEOUT_MS);
}

static void test_base64_round_trips_and_refuses_bad_input(void **state) {
    (void)state;
    const char *texts[] = {"", "a", "ab", "abc", "abcd", "\\xff\\x00\\x10 bytes"};
    for (size_t index = 0; index < sizeof texts / sizeof texts[0]; index++) {
        char *encoded = etcd_base64_encode(texts[index], strlen(texts[index]));
        size_t size = 99;
        char *decoded = etcd_base64_decode(encoded, &size);
        assert_non_null(decoded);
        assert_int_equal(size, strlen(texts[index]));
        assert_memory_equal(decoded, texts[index], size);
        free(encoded);
        free(decoded);
    }
    size_t size = 0;
    assert_null(etcd_base64_decode("abc", &size));      /* not a multiple of 4 */
    assert_null(etcd_base64_decode("ab*d", &size));     /* not in the alphabet */
    assert_null(etcd_base64_decode("ab=d", &size));     /* padding then data */
    assert_null(etcd_base64_decode("a=cd", &size));     /* padding too early */
    assert_null(etcd_base64_decode("ab==abcd", &size)); /* padding before the end */
}

static void test_json_ints_come_as_strings_or_numbers(void **state) {
    (void)state;
    json_t *object = json_pack("{s:s,s:i,s:b}", "text", "123", "number", 45, "other", 1);
    assert_int_equal(etcd_json_int(object, "text"), 123);
    assert_int_equal(etcd_json_int(object, "number"), 45);
    assert_int_equal(etcd_json_int(object, "other"), 0);
    assert_int_equal(etcd_json_int(object, "absent"), 0);
    json_decref(object);
}

/* A loopback socket that listens and never answers: a request to it times out. */
static int silent_listener(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    assert_int_equal(bind(fd, (struct sockaddr *)&address, sizeof address), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&address, &length), 0);
    *port = ntohs(address.sin_port);
    return fd;
}

static int client_request(const char *endpoints, int64_t timeout_ms, const char *method, json_t *request,
                          json_t **reply, char *detail) {
    struct etcd_client client;
    assert_int_equal(etcd_client_init(&client, endpoints, timeout_ms), 0);
    struct etcd_transport real = etcd_client_transport(&client);
    int status = real.call(real.context, method, request, reply, detail, 256);
    json_decref(request);
    return status;
}

static void test_transport_against_silent_and_closed_endpoints(void **state) {
    (void)state;
    int port = 0;
    int fd = silent_listener(&port);
    char endpoints[128], detail[256] = "";
    json_t *reply = NULL;
    snprintf(endpoints, sizeof endpoints, "http://127.0.0.1:%d", port);
    assert_int_equal(client_request(endpoints, 100, "kv/range", json_object(), &reply, detail), -ETIMEDOUT);
    assert_null(reply);
    assert_int_equal(client_request("http://127.0.0.1:1", 100, "kv/range", json_object(), &reply, detail),
                     -ECONNREFUSED);
    assert_non_null(strstr(detail, "127.0.0.1:1"));
    close(fd);
}

/* Against the real etcd of make test-etcd ($LEASE_TEST_ETCD_ENDPOINTS). */
static void test_transport_against_a_real_member(void **state) {
    (void)state;
    const char *url = getenv("LEASE_TEST_ETCD_ENDPOINTS");
    if (url == NULL || url[0] == '\0') skip();
    char endpoints[512], detail[256] = "";
    json_t *reply = NULL;
    /* A refusing endpoint first: the member answers, and is preferred after. */
    snprintf(endpoints, sizeof endpoints, "http://127.0.0.1:1,%s", url);
    struct etcd_client client;
    assert_int_equal(etcd_client_init(&client, endpoints, 1000), 0);
    struct etcd_transport real = etcd_client_transport(&client);
    json_t *request = json_pack("{s:s}", "key", "L2FsZ29yaXRobS10ZXN0");
    assert_int_equal(real.call(real.context, "kv/range", request, &reply, detail, sizeof detail), 0);
    assert_int_equal(client.preferred, 1);
    json_decref(reply);
    json_decref(request);
    /* An error reply (HTTP 4xx with a JSON error): EPROTO with its message. */
    assert_int_equal(client_request(url, 1000, "kv/range", json_pack("{s:i}", "key", 5), &reply, detail), -EPROTO);
    assert_non_null(strstr(detail, "HTTP 400"));
    /* Not the gateway (404, not JSON): EPROTO. */
    assert_int_equal(client_request(url, 1000, "no/such/method", json_object(), &reply, detail), -EPROTO);
    assert_non_null(strstr(detail, "not a JSON object"));
}

/* A gateway on loopback: connection i gets answers[i] (NULL: closed without
 * a reply), after the whole request was read. */
#define ANSWERS_MAX 4
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
        while (used < sizeof request - 1 && (got = read(connection, request + used, sizeof request - 1 - used)) > 0) {
            used += (size_t)got;
            request[used] = '\0';
            const char *end = strstr(request, "\r\n\r\n");
            const char *length = strstr(request, "Content-Length: ");
            if (end != NULL && length != NULL && used >= (size_t)(end + 4 - request) + strtoul(length + 16, NULL, 10))
                break;
        }
        const char *answer = gateway->answers[index];
        for (size_t sent = 0; answer != NULL && sent < strlen(answer);) {
            ssize_t wrote = write(connection, answer + sent, strlen(answer) - sent);
            if (wrote <= 0) break; /* the client gave up (a reply too big) */
            sent += (size_t)wrote;
        }
        close(connection);
    }
    return NULL;
}

static void gateway_start(struct fake_gateway *gateway) {
    gateway->listener = silent_listener(&gateway->port);
    assert_int_equal(pthread_create(&gateway->thread, NULL, serve, gateway), 0);
}

static void gateway_stop(struct fake_gateway *gateway) {
    assert_int_equal(pthread_join(gateway->thread, NULL), 0);
    close(gateway->listener);
}

/* An HTTP/1.1 answer with a JSON body (malloc'd). */
static char *http_answer(const char *status, const char *body) {
    size_t size = strlen(status) + strlen(body) + 160;
    char *text = malloc(size);
    assert_non_null(text);
    snprintf(text, size,
             "HTTP/1.1 %s\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
             status, strlen(body), body);
    return text;
}

/* endpoints: the gateway once, or twice (a second endpoint to move on to).
 * The timeout is long: what is asserted is the answer, never how fast it
 * came, and a 5 MB reply under ASan on a loaded machine once took over 5 s. */
static int gateway_request(const struct fake_gateway *gateway, bool twice, json_t **reply, char *detail) {
    char endpoints[128];
    if (twice)
        snprintf(endpoints, sizeof endpoints, "http://127.0.0.1:%d,http://127.0.0.1:%d", gateway->port, gateway->port);
    else
        snprintf(endpoints, sizeof endpoints, "http://127.0.0.1:%d", gateway->port);
    return client_request(endpoints, 60000, "kv/range", json_pack("{s:s}", "key", "a2V5"), reply, detail);
}

static void test_transport_against_a_gateway_in_trouble(void **state) {
    (void)state;
    char detail[256] = "";
    json_t *reply = NULL;
    char *unavailable = http_answer("503 Service Unavailable", "{\"error\":\"etcdserver: no leader\"}");
    char *answered = http_answer("200 OK", "{\"header\":{\"revision\":\"5\"}}");
    /* A member without a leader answers 503: the next endpoint answers. */
    struct fake_gateway gateway = {.answers = {unavailable, answered}, .count = 2};
    gateway_start(&gateway);
    assert_int_equal(gateway_request(&gateway, true, &reply, detail), 0);
    assert_int_equal(etcd_json_int(json_object_get(reply, "header"), "revision"), 5);
    json_decref(reply);
    gateway_stop(&gateway);
    /* 503 from every endpoint, or connections closed without a reply: no endpoint answered. */
    gateway = (struct fake_gateway){.answers = {unavailable, unavailable, NULL, NULL}, .count = 4};
    gateway_start(&gateway);
    assert_int_equal(gateway_request(&gateway, true, &reply, detail), -ECONNREFUSED);
    assert_non_null(strstr(detail, "no leader"));
    assert_int_equal(gateway_request(&gateway, true, &reply, detail), -ECONNREFUSED);
    assert_null(reply);
    gateway_stop(&gateway);
    /* A reply over the limit (4 MB) is refused, never buffered whole. */
    size_t big = 5 * 1024 * 1024;
    char *spaces = malloc(big + 1);
    assert_non_null(spaces);
    memset(spaces, ' ', big);
    spaces[big] = '\0';
    char *huge = http_answer("200 OK", spaces);
    gateway = (struct fake_gateway){.answers = {huge}, .count = 1};
    gateway_start(&gateway);
    assert_int_equal(gateway_request(&gateway, false, &reply, detail), -EPROTO);
    assert_null(reply);
    gateway_stop(&gateway);
    free(spaces);
    free(huge);
    free(unavailable);
    free(answered);
}

static void test_invalid_endpoints_are_an_error_naming_the_variable(void **state) {
    (void)state;
    lease_etcd_transport_override = NULL;
    struct lease_result result = {0};
    /* lease_env_posix reads the process environment. */
    setenv("LEASE_ETCD_ENDPOINTS", "ftp://nowhere", 1);
    setenv("LEASE_ETCD_KEY", "/algorithm/key", 1);
    assert_int_equal(lease_ops_etcd.inspect(lease_env_posix(), &options, &result), LEASE_STATUS_ERROR);
    assert_non_null(strstr(result.detail, "not valid"));
    assert_string_equal(result.error_path, "/algorithm/key");
    unsetenv("LEASE_ETCD_ENDPOINTS");
    unsetenv("LEASE_ETCD_KEY");
    lease_result_clear(&result);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN); /* the fake gateway writes to a client that gave up */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_acquire_won_takes_the_revision_as_fence, setup),
        cmocka_unit_test_setup(test_acquire_lost_race_is_held_and_revokes_its_grant, setup),
        cmocka_unit_test_setup(test_unreachable_cluster_fails_closed, setup),
        cmocka_unit_test_setup(test_release_of_a_key_changed_meanwhile_is_not_owner, setup),
        cmocka_unit_test_setup(test_wrong_token_never_writes, setup),
        cmocka_unit_test_setup(test_renew_of_an_expired_etcd_lease_is_not_owner, setup),
        cmocka_unit_test_setup(test_malformed_value_is_deleted_then_created_afresh, setup),
        cmocka_unit_test_setup(test_a_key_that_keeps_changing_fails_closed, setup),
        cmocka_unit_test_setup(test_acquire_transport_failures_fail_closed, setup),
        cmocka_unit_test_setup(test_value_not_base64_is_malformed, setup),
        cmocka_unit_test_setup(test_release_and_renew_edges, setup),
        cmocka_unit_test_setup(test_ownership_edges_and_old_values, setup),
        cmocka_unit_test(test_endpoints_are_parsed_strictly),
        cmocka_unit_test(test_base64_round_trips_and_refuses_bad_input),
        cmocka_unit_test(test_json_ints_come_as_strings_or_numbers),
        cmocka_unit_test(test_transport_against_silent_and_closed_endpoints),
        cmocka_unit_test(test_transport_against_a_real_member),
        cmocka_unit_test(test_transport_against_a_gateway_in_trouble),
        cmocka_unit_test(test_invalid_endpoints_are_an_error_naming_the_variable),
    };
    return cmocka_run_group_tests_name("etcd_algorithm", tests, NULL, NULL);
}
