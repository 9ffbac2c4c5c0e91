/*
 * fuzz_lease_file.c: libFuzzer target for the lease-file reader.
 *
 * The input is a lease file. Its first four bytes drive the environment (read
 * chunk size, pid probe answer, start time and boot id answers, the clock);
 * the rest is the file. Two paths read it: lease_payload_parse directly, and
 * lease_read_and_classify through a fake environment that serves the bytes
 * in short reads, so the read loop, size limit and staleness rules all run.
 *
 * Invariants checked (abort() on violation, which libFuzzer reports):
 *  - never a crash, leak or undefined behaviour (ASan, UBSan);
 *  - OK implies a NUL-terminated owner, a payload_json that parses back to
 *    OK with the same owner, and a serialisation that parses back to OK;
 *  - MALFORMED implies a non-empty detail and no payload_json;
 *  - classification gives exactly one of active, stale, malformed, and
 *    active/stale agree with lease_is_stale; detail always NUL-terminated;
 *  - the deferral text never carries a raw control byte except its newlines.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_KNOB_BYTES 4
#define FUZZ_NOW_MS 1779000000000LL /* 2026-05-17 */

struct fuzz_file {
    const uint8_t *bytes;
    size_t size;
    size_t offset;
    size_t chunk_bytes;
    int probe_answer;
    int start_time_answer;
    int boot_id_answer;
    int64_t now_ms;
};

/* A broken invariant names itself on stderr, then aborts for libFuzzer. */
#define check(condition) ((condition) ? (void)0 : invariant_failed(#condition, __LINE__))
static void invariant_failed(const char *condition, int line) {
    fprintf(stderr, "invariant failed: %s (%s:%d)\n", condition, __FILE__, line);
    abort();
}

static bool terminated(const char *text, size_t size) {
    return memchr(text, '\0', size) != NULL;
}

static int fake_open_read(void *context, const char *path, int *fd) {
    (void)context;
    (void)path;
    *fd = 3;
    return 0;
}

static int fake_read(void *context, int fd, void *buffer, size_t size, size_t *done) {
    struct fuzz_file *file = context;
    check(fd == 3);
    size_t left = file->size - file->offset;
    size_t count = size < left ? size : left;
    if (count > file->chunk_bytes) count = file->chunk_bytes;
    memcpy(buffer, file->bytes + file->offset, count);
    file->offset += count;
    *done = count;
    return 0;
}

static int fake_fstat(void *context, int fd, struct lease_stat *stat) {
    struct fuzz_file *file = context;
    check(fd == 3);
    memset(stat, 0, sizeof *stat);
    stat->is_regular = true;
    stat->size_bytes = (int64_t)file->size;
    return 0;
}

static int fake_close(void *context, int fd) {
    (void)context;
    check(fd == 3);
    return 0;
}

static int64_t fake_wall_clock_ms(void *context) {
    return ((struct fuzz_file *)context)->now_ms;
}

static int fake_pid_probe(void *context, int64_t pid) {
    check(pid > 0);
    return ((struct fuzz_file *)context)->probe_answer;
}

static int fake_pid_start_time(void *context, int64_t pid, uint64_t *start_time) {
    (void)pid;
    *start_time = 4242;
    return ((struct fuzz_file *)context)->start_time_answer;
}

static int fake_boot_id(void *context, char *buffer, size_t size) {
    check(size > 8);
    strcpy(buffer, "boot-one");
    return ((struct fuzz_file *)context)->boot_id_answer;
}

static const char *fake_getenv(void *context, const char *name) {
    (void)context;
    (void)name;
    return NULL;
}

static void fake_warn(void *context, const char *line) {
    (void)context;
    (void)line;
}

/* The knob bytes pick answers among those the real environment can give. */
static void set_knobs(struct fuzz_file *file, const uint8_t knobs[FUZZ_KNOB_BYTES]) {
    static const int probe_answers[] = {0, -ESRCH, -EPERM, -EINVAL};
    static const int lookup_answers[] = {0, -ESRCH, -ENOSYS, -EIO};
    file->chunk_bytes = 1 + knobs[0] % 64;
    if (knobs[0] >= 192) file->chunk_bytes = SIZE_MAX;
    file->probe_answer = probe_answers[knobs[1] % 4];
    file->start_time_answer = lookup_answers[knobs[2] % 4];
    file->boot_id_answer = lookup_answers[(knobs[2] / 4) % 4];
    /* The clock: now, or far before/after, to reach both sides of every TTL rule. */
    file->now_ms = FUZZ_NOW_MS + ((int64_t)(int8_t)knobs[3]) * 86400000LL * 365;
}

static void check_holder(const struct lease_holder *holder) {
    check(terminated(holder->owner, sizeof holder->owner));
    check(terminated(holder->reason, sizeof holder->reason));
    check(terminated(holder->pid_text, sizeof holder->pid_text));
    check(terminated(holder->token, sizeof holder->token));
    check(terminated(holder->acquired_at, sizeof holder->acquired_at));
    check(terminated(holder->expires_at, sizeof holder->expires_at));
    check(terminated(holder->boot_id, sizeof holder->boot_id));
    check(terminated(holder->renewed_at, sizeof holder->renewed_at));
    check(!holder->pid_is_integer || holder->has_pid);
}

/* A parsed holder survives the round trip through the file format. */
static void check_round_trip(const struct lease_holder *holder) {
    size_t length = 0;
    char *text = lease_payload_format(holder, true, &length);
    check(text != NULL && length > 0 && strlen(text) == length);
    struct lease_holder again;
    char detail[LEASE_DETAIL_MAX];
    check(lease_payload_parse(text, length, &again, NULL, detail, sizeof detail) == LEASE_PARSE_OK);
    check(strcmp(again.owner, holder->owner) == 0);
    check(strcmp(again.reason, holder->reason) == 0);
    check(strcmp(again.token, holder->token) == 0);
    lease_free(text);
}

static void check_parse(const uint8_t *data, size_t size) {
    struct lease_holder holder;
    char *payload_json = NULL;
    char detail[LEASE_DETAIL_MAX];
    detail[0] = '\0';
    enum lease_parse_outcome outcome =
        lease_payload_parse((const char *)data, size, &holder, &payload_json, detail, sizeof detail);
    check(outcome == LEASE_PARSE_OK || outcome == LEASE_PARSE_MALFORMED);
    if (outcome == LEASE_PARSE_MALFORMED) {
        check(payload_json == NULL);
        check(detail[0] != '\0');
        return;
    }
    check_holder(&holder);
    check(payload_json != NULL);
    struct lease_holder again;
    check(lease_payload_parse(payload_json, strlen(payload_json), &again, NULL, detail, sizeof detail) ==
          LEASE_PARSE_OK);
    check(strcmp(again.owner, holder.owner) == 0);
    check_round_trip(&holder);
    lease_free(payload_json);
}

/* The deferral lines: exactly two newlines, no other control byte. */
static void check_deferral(const struct lease_result *result) {
    char text[4 * LEASE_DETAIL_MAX];
    size_t length = lease_format_deferral(result, text, sizeof text);
    check(length < sizeof text && strlen(text) == length);
    size_t newlines = 0;
    for (size_t index = 0; index < length; index++) {
        unsigned char byte = (unsigned char)text[index];
        if (byte == '\n')
            newlines++;
        else
            check(byte >= 0x20 && byte != 0x7f);
    }
    check(newlines == 2);
}

static void check_classify(struct fuzz_file *file, bool check_start_time) {
    struct lease_env env = {
        .version = LEASE_ENV_VERSION,
        .name = "fuzz",
        .context = file,
        .open_read = fake_open_read,
        .read = fake_read,
        .fstat = fake_fstat,
        .close = fake_close,
        .wall_clock_ms = fake_wall_clock_ms,
        .pid_probe = fake_pid_probe,
        .pid_start_time = fake_pid_start_time,
        .boot_id = fake_boot_id,
        .getenv = fake_getenv,
        .warn = fake_warn,
    };
    struct lease_staleness_rules rules = {.check_pid = true, .check_start_time = check_start_time};
    struct lease_result result;
    memset(&result, 0, sizeof result);
    file->offset = 0;
    enum lease_status status = lease_read_and_classify(&env, &rules, "fuzz.json", &result, NULL);
    check(status == result.status);
    check(terminated(result.detail, sizeof result.detail));
    check(status == LEASE_STATUS_ACTIVE || status == LEASE_STATUS_STALE || status == LEASE_STATUS_MALFORMED);
    if (status == LEASE_STATUS_MALFORMED) {
        check(!result.has_lease);
    } else {
        check(result.has_lease && result.payload_json != NULL);
        check_holder(&result.lease);
        char detail[LEASE_DETAIL_MAX];
        bool ttl_expired;
        bool stale = lease_is_stale(&env, &rules, &result.lease, file->now_ms, detail, sizeof detail, &ttl_expired);
        check(stale == (status == LEASE_STATUS_STALE));
        check(!ttl_expired || stale);
        result.status = LEASE_STATUS_HELD;
        check_deferral(&result);
    }
    lease_result_clear(&result);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < FUZZ_KNOB_BYTES) return 0;
    struct fuzz_file file = {.bytes = data + FUZZ_KNOB_BYTES, .size = size - FUZZ_KNOB_BYTES};
    set_knobs(&file, data);
    check_parse(file.bytes, file.size);
    check_classify(&file, false);
    check_classify(&file, true);
    return 0;
}
