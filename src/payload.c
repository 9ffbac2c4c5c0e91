/*
 * payload.c: the lease file's JSON, read and written through jansson.
 *
 * Memory comes from jansson's allocator (json_set_alloc_funcs), including the
 * strings handed to callers, so an environment that swaps the allocator (the
 * simulator tracks allocations per simulated process) sees every byte.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease_impl.h"

/* An integer as JSON says it: an integer, or a real with no fraction that
 * fits (JavaScript writes every number as a double). */
static bool json_as_integer(const json_t *value, int64_t *out) {
    if (json_is_integer(value)) {
        *out = (int64_t)json_integer_value(value);
        return true;
    }
    if (json_is_real(value)) {
        double real = json_real_value(value);
        if (real >= -9.0e15 && real <= 9.0e15 && real == (double)(int64_t)real) {
            *out = (int64_t)real;
            return true;
        }
    }
    return false;
}

/* U+2400 SYMBOL FOR NULL: what a NUL inside a stored string becomes in a
 * holder field, so "ad\u0000min" is shown whole instead of cut to "ad". */
#define NUL_SYMBOL "\xE2\x90\x80"

/* Copies a JSON string into a fixed buffer (cut at a UTF-8 boundary; true
 * when cut), NUL characters shown as U+2400. */
static bool copy_json_string(const json_t *value, char *buffer, size_t size) {
    const char *text = json_string_value(value);
    size_t length = json_string_length(value);
    if (memchr(text, '\0', length) == NULL) return lease_copy_text(buffer, size, text);
    char shown[LEASE_TEXT_MAX * 3 + 4];
    size_t out = 0;
    size_t index = 0;
    for (; index < length && out + sizeof NUL_SYMBOL < sizeof shown; index++) {
        if (text[index] == '\0') {
            memcpy(shown + out, NUL_SYMBOL, sizeof NUL_SYMBOL - 1);
            out += sizeof NUL_SYMBOL - 1;
        } else {
            shown[out++] = text[index];
        }
    }
    shown[out] = '\0';
    return lease_copy_text(buffer, size, shown) || index < length;
}

/* Copies a string member; absent or not a string gives "". */
static bool copy_string_member(const json_t *object, const char *key, char *buffer, size_t size) {
    const json_t *value = json_object_get(object, key);
    buffer[0] = '\0';
    if (!json_is_string(value)) return false;
    return copy_json_string(value, buffer, size);
}

static bool describe_pid(const json_t *value, struct lease_holder *holder) {
    int64_t pid;
    holder->has_pid = value != NULL;
    if (value == NULL) return false;
    if (json_as_integer(value, &pid)) {
        holder->pid_is_integer = true;
        holder->pid = pid;
        snprintf(holder->pid_text, sizeof holder->pid_text, "%lld", (long long)pid);
        return false;
    }
    if (json_is_string(value)) return copy_json_string(value, holder->pid_text, sizeof holder->pid_text);
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    bool cut = lease_copy_text(holder->pid_text, sizeof holder->pid_text, text != NULL ? text : "?");
    lease_free(text);
    return cut;
}

static bool read_metadata(const json_t *metadata, struct lease_holder *holder) {
    int64_t number;
    bool cut = false;
    if (!json_is_object(metadata)) return false;
    if (json_as_integer(json_object_get(metadata, "fence"), &number)) {
        holder->has_fence = true;
        holder->fence = number;
    }
    if (json_as_integer(json_object_get(metadata, "pidStartTime"), &number) && number >= 0) {
        holder->has_pid_start_time = true;
        holder->pid_start_time = (uint64_t)number;
    }
    if (json_as_integer(json_object_get(metadata, "processGroup"), &number) && number > 1 && number <= INT32_MAX) {
        holder->has_process_group = true;
        holder->process_group = number;
    }
    cut |= copy_string_member(metadata, "bootId", holder->boot_id, sizeof holder->boot_id);
    cut |= copy_string_member(metadata, "renewedAt", holder->renewed_at, sizeof holder->renewed_at);
    return cut;
}

static const char *json_type_name(const json_t *value) {
    switch (json_typeof(value)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

static bool is_hex(char character) {
    return (character >= '0' && character <= '9') || (character >= 'a' && character <= 'f') ||
           (character >= 'A' && character <= 'F');
}

/* The \uXXXX escape at text (which has at least 6 bytes), or -1. */
static long escape_code(const char *text) {
    if (text[0] != '\\' || text[1] != 'u') return -1;
    for (int index = 2; index < 6; index++)
        if (!is_hex(text[index])) return -1;
    char digits[5] = {text[2], text[3], text[4], text[5], '\0'};
    return strtol(digits, NULL, 16);
}

/* JavaScript's JSON.stringify writes a lone UTF-16 surrogate as an escape
 * ("\ud800"); jansson refuses it, which would make a valid live lease read
 * as malformed and be taken over. Returns a copy (from jansson's allocator)
 * with each lone surrogate escape rewritten to \ufffd (same length), or NULL
 * when there is none. Escapes are walked pairwise, so an escaped backslash
 * ("\\ud800" is text, not an escape) is never mistaken for one. */
static char *without_lone_surrogates(const char *bytes, size_t size, bool *out_of_memory) {
    char *copy = NULL;
    *out_of_memory = false;
    for (size_t index = 0; index + 1 < size; index++) {
        /* Straight to the next backslash: most payloads have none. */
        const char *backslash = memchr(bytes + index, '\\', size - 1 - index);
        if (backslash == NULL) break;
        index = (size_t)(backslash - bytes);
        long code = index + 6 <= size ? escape_code(bytes + index) : -1;
        if (code < 0xD800 || code > 0xDFFF) {
            index++; /* skip the escaped character, whatever it is */
            continue;
        }
        long next = index + 12 <= size ? escape_code(bytes + index + 6) : -1;
        if (code <= 0xDBFF && next >= 0xDC00 && next <= 0xDFFF) {
            index += 11; /* a proper pair */
            continue;
        }
        if (copy == NULL) {
            json_malloc_t allocate;
            json_free_t release;
            json_get_alloc_funcs(&allocate, &release);
            copy = allocate(size);
            if (copy == NULL) {
                *out_of_memory = true;
                return NULL;
            }
            memcpy(copy, bytes, size);
        }
        memcpy(copy + index, "\\ufffd", 6);
        index += 5;
    }
    return copy;
}

/* A NUL-terminated copy from jansson's allocator (the caller frees it with
 * lease_free), or NULL when out of memory. */
static char *copy_bytes(const char *bytes, size_t size) {
    json_malloc_t allocate;
    json_free_t release;
    json_get_alloc_funcs(&allocate, &release);
    char *copy = allocate(size + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, bytes, size);
    copy[size] = '\0';
    return copy;
}

/* Whether a failed parse failed for want of memory rather than because the
 * bytes are wrong. jansson does not say so reliably (an allocation that
 * fails inside its lexer reads as a syntax error, or as an error with no
 * text), so: an error without a position is never the bytes', and a real
 * syntax error is deterministic, so the same bytes parsed again fail in the
 * same place; any other second answer means memory ran out. */
static bool failed_for_memory(const char *text, size_t size, const json_error_t *first) {
    if (json_error_code(first) == json_error_out_of_memory || first->line < 0 || first->text[0] == '\0') return true;
    json_error_t second = {0};
    json_t *again = json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &second);
    if (again != NULL) {
        json_decref(again);
        return true;
    }
    return second.position != first->position || strcmp(second.text, first->text) != 0;
}

/* The last few payloads parsed in this thread: the same bytes read again
 * (every contender reads the holder's file; the simulator runs thousands of
 * seeds) give the same holder and verdict without jansson parsing them
 * again. A pure function of the bytes, so a hit changes nothing but time. */
#define PARSE_CACHE_ENTRIES 2
#define PARSE_CACHE_BYTES 1024
struct parse_cache_entry {
    size_t size; /* 0: empty */
    char bytes[PARSE_CACHE_BYTES];
    enum lease_parse_outcome outcome;
    struct lease_holder holder;
    char detail[LEASE_DETAIL_MAX];
};
static _Thread_local struct parse_cache_entry parse_cache[PARSE_CACHE_ENTRIES];
static _Thread_local unsigned parse_cache_next;

static const struct parse_cache_entry *parse_cache_find(const char *bytes, size_t size) {
    for (int index = 0; index < PARSE_CACHE_ENTRIES; index++)
        if (parse_cache[index].size == size && memcmp(parse_cache[index].bytes, bytes, size) == 0)
            return &parse_cache[index];
    return NULL;
}

static void parse_cache_store(const char *bytes, size_t size, enum lease_parse_outcome outcome,
                              const struct lease_holder *holder, const char *detail) {
    struct parse_cache_entry *entry = &parse_cache[parse_cache_next++ % PARSE_CACHE_ENTRIES];
    entry->size = size;
    memcpy(entry->bytes, bytes, size);
    entry->outcome = outcome;
    entry->holder = *holder;
    lease_copy_text(entry->detail, sizeof entry->detail, outcome == LEASE_PARSE_OK ? "" : detail);
}

static enum lease_parse_outcome parse_uncached(const char *bytes, size_t size, struct lease_holder *holder,
                                               char **payload_json, char *detail, size_t detail_size);

enum lease_parse_outcome lease_payload_parse(const char *bytes, size_t size, struct lease_holder *holder,
                                             char **payload_json, char *detail, size_t detail_size) {
    /* Bytes with a NUL inside keep a serialised payload (below): never cached. */
    bool cacheable =
        size > 0 && size <= PARSE_CACHE_BYTES && detail_size >= LEASE_DETAIL_MAX && memchr(bytes, '\0', size) == NULL;
    const struct parse_cache_entry *hit = cacheable ? parse_cache_find(bytes, size) : NULL;
    if (hit == NULL) {
        enum lease_parse_outcome outcome = parse_uncached(bytes, size, holder, payload_json, detail, detail_size);
        /* A parse that ran out of memory says nothing of the bytes. */
        if (cacheable && outcome != LEASE_PARSE_NO_MEMORY) parse_cache_store(bytes, size, outcome, holder, detail);
        return outcome;
    }
    *holder = hit->holder;
    if (payload_json != NULL) *payload_json = NULL;
    if (hit->outcome != LEASE_PARSE_OK) {
        lease_copy_text(detail, detail_size, hit->detail);
        return hit->outcome;
    }
    if (payload_json != NULL) {
        /* The payload as stored: the bytes with lone surrogates repaired. */
        bool out_of_memory;
        char *repaired = without_lone_surrogates(bytes, size, &out_of_memory);
        if (out_of_memory) {
            snprintf(detail, detail_size, "out of memory while reading the lease file");
            return LEASE_PARSE_NO_MEMORY;
        }
        *payload_json = copy_bytes(repaired != NULL ? repaired : bytes, size);
        lease_free(repaired);
    }
    return LEASE_PARSE_OK;
}

static enum lease_parse_outcome parse_uncached(const char *bytes, size_t size, struct lease_holder *holder,
                                               char **payload_json, char *detail, size_t detail_size) {
    json_error_t error = {0}; /* jansson leaves it untouched when an allocation fails early */
    memset(holder, 0, sizeof *holder);
    if (payload_json != NULL) *payload_json = NULL;
    if (size == 0) {
        snprintf(detail, detail_size, "the lease file is empty");
        return LEASE_PARSE_MALFORMED;
    }
    if (size > LEASE_FILE_SIZE_MAX) {
        snprintf(detail, detail_size, "the lease file is larger than %d bytes", LEASE_FILE_SIZE_MAX);
        return LEASE_PARSE_MALFORMED;
    }
    bool out_of_memory;
    char *repaired = without_lone_surrogates(bytes, size, &out_of_memory);
    const char *text = repaired != NULL ? repaired : bytes;
    /* JSON_ALLOW_NUL: "\u0000" is valid JSON and the original may write it. */
    json_t *root = out_of_memory ? NULL : json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    if (root == NULL && !out_of_memory) out_of_memory = failed_for_memory(text, size, &error);
    if (root == NULL && out_of_memory) {
        /* Bytes that could not be judged are not bytes that are wrong: a
         * live lease read as malformed would be reclaimed. */
        lease_free(repaired);
        snprintf(detail, detail_size, "out of memory while reading the lease file");
        return LEASE_PARSE_NO_MEMORY;
    }
    if (root == NULL) {
        lease_free(repaired);
        snprintf(detail, detail_size, "not JSON: %s (line %d, column %d)", error.text, error.line, error.column);
        return LEASE_PARSE_MALFORMED;
    }
    enum lease_parse_outcome outcome = LEASE_PARSE_MALFORMED;
    if (!json_is_object(root)) {
        snprintf(detail, detail_size, "the lease is %s, not an object", json_type_name(root));
    } else if (!json_is_string(json_object_get(root, "owner"))) {
        const json_t *owner = json_object_get(root, "owner");
        snprintf(detail, detail_size, "owner is %s, not a string", owner == NULL ? "missing" : json_type_name(owner));
    } else {
        bool cut = copy_string_member(root, "owner", holder->owner, sizeof holder->owner);
        cut |= copy_string_member(root, "reason", holder->reason, sizeof holder->reason);
        cut |= copy_string_member(root, "token", holder->token, sizeof holder->token);
        cut |= copy_string_member(root, "acquiredAt", holder->acquired_at, sizeof holder->acquired_at);
        cut |= copy_string_member(root, "expiresAt", holder->expires_at, sizeof holder->expires_at);
        cut |= describe_pid(json_object_get(root, "pid"), holder);
        holder->has_stale_after_ms = json_as_integer(json_object_get(root, "staleAfterMs"), &holder->stale_after_ms);
        cut |= read_metadata(json_object_get(root, "metadata"), holder);
        holder->truncated = cut;
        /* The payload as stored: the bytes themselves (lone surrogates
         * repaired), not a second serialisation that only `lease --json`
         * would read. */
        if (payload_json != NULL)
            /* A NUL byte inside the bytes would cut the C string: serialise
             * those (rare) files instead of copying them. */
            *payload_json = memchr(text, '\0', size) == NULL ? copy_bytes(text, size) : json_dumps(root, JSON_COMPACT);
        outcome = LEASE_PARSE_OK;
    }
    json_decref(root);
    lease_free(repaired);
    return outcome;
}

static json_t *build_metadata(const struct lease_holder *holder) {
    json_t *metadata = json_object();
    if (metadata == NULL) return NULL;
    if (holder->has_fence) json_object_set_new(metadata, "fence", json_integer(holder->fence));
    if (holder->has_pid_start_time)
        json_object_set_new(metadata, "pidStartTime", json_integer((json_int_t)holder->pid_start_time));
    if (holder->has_process_group) json_object_set_new(metadata, "processGroup", json_integer(holder->process_group));
    if (holder->boot_id[0] != '\0') json_object_set_new(metadata, "bootId", json_string(holder->boot_id));
    if (holder->renewed_at[0] != '\0') json_object_set_new(metadata, "renewedAt", json_string(holder->renewed_at));
    return metadata;
}

char *lease_payload_format(const struct lease_holder *holder, bool with_metadata, size_t *length) {
    json_t *root = json_object();
    if (root == NULL) return NULL;
    /* json_string() refuses invalid UTF-8 with NULL, and set_new then fails:
     * never write a file with a key silently missing. */
    int failures = 0;
    failures += json_object_set_new(root, "owner", json_string(holder->owner));
    failures += json_object_set_new(root, "reason", json_string(holder->reason));
    failures += json_object_set_new(root, "pid", json_integer(holder->pid));
    failures += json_object_set_new(root, "token", json_string(holder->token));
    failures += json_object_set_new(root, "acquiredAt", json_string(holder->acquired_at));
    failures += json_object_set_new(root, "staleAfterMs", json_integer(holder->stale_after_ms));
    failures += json_object_set_new(root, "expiresAt", json_string(holder->expires_at));
    failures += json_object_set_new(root, "metadata", with_metadata ? build_metadata(holder) : json_object());
    char *text = failures == 0 ? json_dumps(root, JSON_INDENT(2)) : NULL;
    json_decref(root);
    if (text == NULL) return NULL;
    /* The file ends with a newline; json_dumps leaves room for nothing more,
     * so copy into a buffer from the same allocator. */
    json_malloc_t allocate;
    json_free_t release;
    json_get_alloc_funcs(&allocate, &release);
    size_t size = strlen(text);
    char *file = allocate(size + 2);
    if (file != NULL) {
        memcpy(file, text, size);
        file[size] = '\n';
        file[size + 1] = '\0';
        *length = size + 1;
    }
    release(text);
    return file;
}

void lease_result_set_holder(struct lease_result *result, const struct lease_holder *holder, bool with_metadata) {
    size_t length = 0;
    lease_free(result->payload_json);
    /* The file's text is the payload as stored: no parse and dump again. */
    result->payload_json = lease_payload_format(holder, with_metadata, &length);
    result->lease = *holder;
    result->has_lease = true;
}

int lease_uuid_v4(const struct lease_env *env, char buffer[LEASE_UUID_SIZE]) {
    unsigned char bytes[16];
    static const char hex[] = "0123456789abcdef";
    int status = env->random_bytes(env->context, bytes, sizeof bytes);
    if (status != 0) return status;
    bytes[6] = (unsigned char)((bytes[6] & 0x0F) | 0x40); /* version 4 */
    bytes[8] = (unsigned char)((bytes[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    size_t out = 0;
    for (size_t index = 0; index < sizeof bytes; index++) {
        if (index == 4 || index == 6 || index == 8 || index == 10) buffer[out++] = '-';
        buffer[out++] = hex[bytes[index] >> 4];
        buffer[out++] = hex[bytes[index] & 0x0F];
    }
    buffer[out] = '\0';
    return 0;
}

int lease_holder_new(const struct lease_env *env, const struct lease_options *options, int64_t now_ms,
                     struct lease_holder *holder) {
    char token[LEASE_UUID_SIZE];
    int64_t ttl_ms = lease_options_ttl_ms(options);
    memset(holder, 0, sizeof *holder);
    int status = lease_uuid_v4(env, token);
    if (status != 0) return status;
    lease_copy_text(holder->owner, sizeof holder->owner, options->owner);
    lease_copy_text(holder->reason, sizeof holder->reason, lease_options_reason(options));
    holder->has_pid = true;
    holder->pid_is_integer = true;
    holder->pid = options->pid > 0 ? options->pid : env->self_pid(env->context);
    holder->has_process_group = options->process_group > 0;
    holder->process_group = options->process_group;
    snprintf(holder->pid_text, sizeof holder->pid_text, "%lld", (long long)holder->pid);
    lease_copy_text(holder->token, sizeof holder->token, token);
    lease_time_format(now_ms, holder->acquired_at);
    holder->has_stale_after_ms = true;
    holder->stale_after_ms = ttl_ms;
    lease_time_format(now_ms + ttl_ms, holder->expires_at);
    return 0;
}
