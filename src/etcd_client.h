/*
 * etcd_client.h: the few calls of etcd's v3 JSON gateway (etcd 3.4: POST
 * /v3/kv/range, /v3/kv/txn, /v3/lease/grant, ...) that the etcd lease
 * implementation needs, behind a tiny interface so the algorithm can be
 * driven by another transport in tests.
 *
 * Every call has a timeout; a connection failure moves on to the next
 * endpoint. Keys and values are plain bytes here; the client does the
 * base64 of the gateway.
 */
#ifndef ETCD_CLIENT_H
#define ETCD_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETCD_ENDPOINTS_MAX 8
#define ETCD_ENDPOINT_SIZE 256
#define ETCD_DEFAULT_TIMEOUT_MS 2000

/* One request: POST /v3/<method> with a JSON body, a JSON reply. Returns 0,
 * or a negative errno (-ECONNREFUSED, -ETIMEDOUT: no endpoint answered;
 * -EPROTO: an answer that is not JSON or an error reply) with a line in
 * detail. */
struct etcd_transport {
    void *context;
    int (*call)(void *context, const char *method, json_t *request, json_t **reply, char *detail, size_t detail_size);
};

struct etcd_client {
    char endpoints[ETCD_ENDPOINTS_MAX][ETCD_ENDPOINT_SIZE];
    size_t endpoint_count;
    size_t preferred; /* the endpoint that answered last */
    int64_t timeout_ms;
};

/* Parses "http://a:2379,http://b:2379". Returns 0 or -EINVAL (empty, too
 * many, too long, not http:// or https://). */
int etcd_client_init(struct etcd_client *client, const char *endpoints, int64_t timeout_ms);

/* The libcurl transport over client. */
struct etcd_transport etcd_client_transport(struct etcd_client *client);

/* base64 (RFC 4648, padded). encode returns a malloc'd string; decode
 * returns a malloc'd NUL-terminated buffer and its length, NULL on bad input. */
char *etcd_base64_encode(const void *bytes, size_t size);
char *etcd_base64_decode(const char *text, size_t *size);

/* impl_etcd.c: when not NULL, the algorithm talks through this transport
 * instead of libcurl (tests without a cluster). */
extern const struct etcd_transport *lease_etcd_transport_override;

/* The gateway writes int64 fields as strings; absent means 0. */
int64_t etcd_json_int(const json_t *object, const char *key);

#endif /* ETCD_CLIENT_H */
