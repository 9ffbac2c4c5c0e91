/*
 * etcd_client.c: libcurl + jansson transport for etcd's v3 JSON gateway.
 * See etcd_client.h.
 *
 * libcurl is loaded with dlopen on the first request, not linked: linked, it
 * brought about 30 shared libraries (TLS, Kerberos, LDAP, ...) into every
 * start of every program, lease or not, and loading them cost each start
 * about 8 ms of CPU, ten times a start without them (docs/design.md, Speed).
 * Only a program that talks to etcd pays for them now.
 */
#include "etcd_client.h"

#include <assert.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETCD_REPLY_MAX (4 * 1024 * 1024)

int etcd_client_init(struct etcd_client *client, const char *endpoints, int64_t timeout_ms) {
    memset(client, 0, sizeof *client);
    client->timeout_ms = timeout_ms > 0 ? timeout_ms : ETCD_DEFAULT_TIMEOUT_MS;
    if (endpoints == NULL || endpoints[0] == '\0') return -EINVAL;
    const char *cursor = endpoints;
    while (*cursor != '\0') {
        size_t length = strcspn(cursor, ",");
        if (length == 0 || length >= ETCD_ENDPOINT_SIZE || client->endpoint_count == ETCD_ENDPOINTS_MAX) return -EINVAL;
        if (strncmp(cursor, "http://", 7) != 0 && strncmp(cursor, "https://", 8) != 0) return -EINVAL;
        char *slot = client->endpoints[client->endpoint_count++];
        memcpy(slot, cursor, length);
        slot[length] = '\0';
        while (length > 0 && slot[length - 1] == '/') slot[--length] = '\0'; /* no "//v3" */
        cursor += strcspn(cursor, ",");
        if (*cursor == ',') cursor++;
    }
    return 0; /* endpoints is not empty: the loop kept at least one or returned */
}

/* The libcurl functions this transport calls, resolved once. */
static struct {
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    char error[160]; /* empty when every function was found */
} curl_api;

static pthread_once_t curl_api_once = PTHREAD_ONCE_INIT;

#define CURL_API_LIBRARY "libcurl.so.4"

static void curl_api_load(void) {
    void *library = dlopen(CURL_API_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(curl_api.error, sizeof curl_api.error, "cannot load %s (%s)", CURL_API_LIBRARY, dlerror());
        return;
    }
    struct {
        void **slot;
        const char *name;
    } functions[] = {
        {(void **)&curl_api.easy_init, "curl_easy_init"},
        {(void **)&curl_api.easy_setopt, "curl_easy_setopt"},
        {(void **)&curl_api.easy_perform, "curl_easy_perform"},
        {(void **)&curl_api.easy_getinfo, "curl_easy_getinfo"},
        {(void **)&curl_api.easy_cleanup, "curl_easy_cleanup"},
        {(void **)&curl_api.easy_strerror, "curl_easy_strerror"},
        {(void **)&curl_api.slist_append, "curl_slist_append"},
        {(void **)&curl_api.slist_free_all, "curl_slist_free_all"},
    };
    for (size_t index = 0; index < sizeof functions / sizeof functions[0]; index++) {
        *functions[index].slot = dlsym(library, functions[index].name);
        if (*functions[index].slot == NULL) {
            snprintf(curl_api.error, sizeof curl_api.error, "%s has no %s", CURL_API_LIBRARY, functions[index].name);
            return;
        }
    }
}

struct reply_buffer {
    char *bytes;
    size_t size;
    size_t capacity; /* doubled as it fills: growing by each chunk copied a 4 MB reply 256 times */
    bool too_big;
};

static size_t collect(char *data, size_t size, size_t count, void *user) {
    struct reply_buffer *buffer = user;
    size_t length = size * count;
    if (buffer->size + length > ETCD_REPLY_MAX) {
        buffer->too_big = true;
        return 0;
    }
    if (buffer->size + length + 1 > buffer->capacity) {
        size_t capacity = buffer->capacity == 0 ? 4096 : buffer->capacity;
        while (capacity < buffer->size + length + 1) capacity *= 2;
        char *grown = realloc(buffer->bytes, capacity);
        if (grown == NULL) return 0;
        buffer->bytes = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->bytes + buffer->size, data, length);
    buffer->size += length;
    buffer->bytes[buffer->size] = '\0';
    return length;
}

/* One POST to one endpoint. Returns 0 with the HTTP status, -EAGAIN when the
 * endpoint could not be reached (try the next), another -errno otherwise. */
static int post_once(const struct etcd_client *client, const char *endpoint, const char *method, const char *body,
                     struct reply_buffer *reply, long *http_status, char *detail, size_t detail_size) {
    char url[ETCD_ENDPOINT_SIZE + 64];
    snprintf(url, sizeof url, "%s/v3/%s", endpoint, method);
    pthread_once(&curl_api_once, curl_api_load);
    if (curl_api.error[0] != '\0') {
        snprintf(detail, detail_size, "etcd: %s", curl_api.error);
        return -ELIBACC;
    }
    CURL *curl = curl_api.easy_init();
    if (curl == NULL) return -ENOMEM;
    struct curl_slist *headers = curl_api.slist_append(NULL, "Content-Type: application/json");
    curl_api.easy_setopt(curl, CURLOPT_URL, url);
    curl_api.easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_api.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_api.easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_api.easy_setopt(curl, CURLOPT_WRITEDATA, reply);
    curl_api.easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)client->timeout_ms);
    curl_api.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)client->timeout_ms);
    curl_api.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_api.easy_setopt(curl, CURLOPT_NOPROXY, "*");
    CURLcode code = curl_api.easy_perform(curl);
    curl_api.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, http_status);
    curl_api.slist_free_all(headers);
    curl_api.easy_cleanup(curl);
    if (code == CURLE_OK) return 0;
    snprintf(detail, detail_size, "etcd %s: %s", endpoint, curl_api.easy_strerror(code));
    if (code == CURLE_OPERATION_TIMEDOUT) return -ETIMEDOUT;
    if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_SEND_ERROR ||
        code == CURLE_RECV_ERROR || code == CURLE_GOT_NOTHING)
        return -EAGAIN;
    return -EPROTO;
}

/* Tries each endpoint once, starting with the one that answered last. A
 * timeout also moves on: the request may or may not have been applied, which
 * the algorithm tolerates (every write is a compare-and-set). */
static int client_call(void *context, const char *method, json_t *request, json_t **reply, char *detail,
                       size_t detail_size) {
    struct etcd_client *client = context;
    assert(client->endpoint_count > 0);
    *reply = NULL;
    char *body = json_dumps(request, JSON_COMPACT);
    if (body == NULL) return -ENOMEM;
    int status = -ECONNREFUSED;
    for (size_t attempt = 0; attempt < client->endpoint_count; attempt++) {
        size_t index = (client->preferred + attempt) % client->endpoint_count;
        struct reply_buffer buffer = {0};
        long http_status = 0;
        status = post_once(client, client->endpoints[index], method, body, &buffer, &http_status, detail, detail_size);
        if (status == -EAGAIN || status == -ETIMEDOUT) {
            free(buffer.bytes);
            continue;
        }
        if (status == 0) {
            json_error_t error;
            *reply = buffer.bytes != NULL ? json_loads(buffer.bytes, 0, &error) : NULL;
            if (*reply == NULL || !json_is_object(*reply) || http_status != 200) {
                const char *message = *reply != NULL ? json_string_value(json_object_get(*reply, "error")) : NULL;
                snprintf(detail, detail_size, "etcd %s/v3/%s: HTTP %ld: %s", client->endpoints[index], method,
                         http_status, message != NULL ? message : "not a JSON object");
                json_decref(*reply);
                *reply = NULL;
                status = http_status >= 500 ? -EAGAIN : -EPROTO;
                free(buffer.bytes);
                if (status == -EAGAIN) continue; /* e.g. a member without a leader: try another */
                break;
            }
            client->preferred = index;
        }
        free(buffer.bytes);
        break;
    }
    free(body);
    return status == -EAGAIN ? -ECONNREFUSED : status;
}

struct etcd_transport etcd_client_transport(struct etcd_client *client) {
    struct etcd_transport transport = {.context = client, .call = client_call};
    return transport;
}

static const char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_base64_encode(const void *bytes, size_t size) {
    const unsigned char *in = bytes;
    char *out = malloc(4 * ((size + 2) / 3) + 1);
    if (out == NULL) return NULL;
    size_t used = 0;
    for (size_t index = 0; index < size; index += 3) {
        uint32_t group = (uint32_t)in[index] << 16;
        if (index + 1 < size) group |= (uint32_t)in[index + 1] << 8;
        if (index + 2 < size) group |= in[index + 2];
        out[used++] = base64_alphabet[(group >> 18) & 63];
        out[used++] = base64_alphabet[(group >> 12) & 63];
        out[used++] = index + 1 < size ? base64_alphabet[(group >> 6) & 63] : '=';
        out[used++] = index + 2 < size ? base64_alphabet[group & 63] : '=';
    }
    out[used] = '\0';
    return out;
}

/* symbol is never NUL: decode walks strlen(text) characters. */
static int base64_value(char symbol) {
    const char *found = strchr(base64_alphabet, symbol);
    return found != NULL ? (int)(found - base64_alphabet) : -1;
}

char *etcd_base64_decode(const char *text, size_t *size) {
    size_t length = strlen(text);
    if (length % 4 != 0) return NULL;
    char *out = malloc(length / 4 * 3 + 1);
    if (out == NULL) return NULL;
    size_t used = 0;
    for (size_t index = 0; index < length; index += 4) {
        int values[4];
        for (int part = 0; part < 4; part++) {
            bool padding = text[index + part] == '=' && index + 4 == length && part >= 2;
            values[part] = padding ? 0 : base64_value(text[index + part]);
            if (values[part] < 0 || (padding && part == 2 && text[index + 3] != '=')) {
                free(out);
                return NULL;
            }
        }
        uint32_t group =
            (uint32_t)values[0] << 18 | (uint32_t)values[1] << 12 | (uint32_t)values[2] << 6 | (uint32_t)values[3];
        out[used++] = (char)(group >> 16);
        if (text[index + 2] != '=') out[used++] = (char)(group >> 8 & 255);
        if (text[index + 3] != '=') out[used++] = (char)(group & 255);
    }
    out[used] = '\0';
    *size = used;
    return out;
}

int64_t etcd_json_int(const json_t *object, const char *key) {
    const json_t *value = json_object_get(object, key);
    if (json_is_integer(value)) return (int64_t)json_integer_value(value);
    if (json_is_string(value)) return strtoll(json_string_value(value), NULL, 10);
    return 0;
}
