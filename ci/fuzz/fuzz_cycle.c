/*
 * fuzz_cycle.c: libFuzzer target for whole lease cycles, where the dangerous
 * arithmetic and the file changes live (acquire, renew, release), for every
 * implementation the library registers (lease_impl_count / lease_impl_at).
 *
 * Input: 6 knob bytes, then the lease file's bytes (none: no file).
 *   0: the environment operation that fails (or none), 1: its errno,
 *   2: how many of its calls succeed first, 3: the holder's pid state and
 *   whether its process group lives, 4-5: the clock's offset.
 * Each implementation runs on the fake environment (real files in a private
 * directory; time, pids and injected errors steered): inspect, acquire with
 * the fault, release with a wrong token, renew and release with its own.
 *
 * Invariants (abort() on violation; libFuzzer keeps the input):
 *  - no crash, leak or undefined behaviour (ASan, UBSan);
 *  - every status is in the table, and every detail NUL-terminated;
 *  - a lease judged active (or unreadable) is never replaced or removed by
 *    an acquire: its bytes are unchanged;
 *  - a release with a token that is not the lease's never changes the file;
 *  - an acquisition leaves a file whose token is the one handed out, and the
 *    project's fence grows past any fence the file held;
 *  - the holder's own release (faults off) releases.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KNOB_BYTES 6
/* Two, so that one is never the lease's own: the fuzzer learns the strings the
 * code compares with and writes them into lease files (a file holding the
 * first was once "released with a wrong token": rightly, it was its token). */
static const char *const wrong_tokens[] = {"00000000-0000-4000-8000-000000000000",
                                           "11111111-1111-4111-8111-111111111111"};
#define HOLDER_PID 4242

static const char *const operations[] = {"open_read", "create_exclusive", "read",  "write", "fstat", "lstat", "link",
                                         "rename",    "unlink",           "mkdir", "lock",  "pread", "pwrite"};
static const int errors[] = {EIO, ENOSPC, EACCES, EROFS, ENOENT, EEXIST, EINTR, EWOULDBLOCK, EAGAIN, ENOMEM};
#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static void check(bool condition, const char *what, const char *impl) {
    if (condition) return;
    fprintf(stderr, "invariant failed: %s (implementation %s)\n", what, impl);
    abort();
}

/* The whole file, or NULL when missing; *length its size. */
static char *read_file(const char *path, size_t *length) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) return NULL;
    char *bytes = malloc(LEASE_FILE_SIZE_MAX + 2);
    if (bytes == NULL) abort();
    *length = fread(bytes, 1, LEASE_FILE_SIZE_MAX + 1, file);
    fclose(file);
    return bytes;
}

static bool same_file(const char *before, size_t before_length, const char *path) {
    size_t length = 0;
    char *now = read_file(path, &length);
    bool same =
        before == NULL ? now == NULL : now != NULL && length == before_length && memcmp(now, before, length) == 0;
    free(now);
    return same;
}

static void check_result(const struct lease_result *result, const char *impl) {
    check((unsigned)result->status < LEASE_STATUS_COUNT, "status in the table", impl);
    check(memchr(result->detail, '\0', sizeof result->detail) != NULL, "detail NUL-terminated", impl);
}

static struct fake_env *environment(void) {
    static struct fake_env *fake;
    if (fake == NULL) fake = fake_env_new();
    return fake;
}

/* A fresh directory state: the lease file (or none), no sidecar, no temporary. */
static void reset(struct fake_env *fake, const uint8_t *bytes, size_t size, bool present) {
    char path[600];
    snprintf(path, sizeof path, "%s.lock", fake->path);
    unlink(path);
    snprintf(path, sizeof path, "%s.tmp", fake->path);
    unlink(path);
    unlink(fake->path);
    if (!present) return;
    lease_make_parents(&fake->env, fake->path);
    FILE *file = fopen(fake->path, "wb");
    if (file == NULL) abort();
    fwrite(bytes, 1, size, file);
    fclose(file);
}

static void run_cycle(const struct lease_ops *ops, struct fake_env *fake, const uint8_t *knobs, const uint8_t *bytes,
                      size_t size) {
    const char *impl = lease_impl_name(ops);
    bool present = size > 0 && bytes[0] != 0xFF;
    reset(fake, bytes, size, present);
    fake->now_ms = 1779000000000LL + (int64_t)((knobs[4] << 8) | knobs[5]) * 60000;
    fake_env_set_pid(fake, HOLDER_PID, (enum fake_pid_state)(knobs[3] % 3), 777);
    fake->live_group = (knobs[3] & 0x10) ? 5151 : 0;
    struct lease_options options = {.path = fake->path, .owner = "fuzz", .ttl_ms = 60000};
    struct lease_result result = {0};

    lease_inspect(ops, &fake->env, &options, &result);
    check_result(&result, impl);
    enum lease_status found = result.status;
    int64_t old_fence = result.has_lease && result.lease.has_fence ? result.lease.fence : 0;
    lease_result_clear(&result);
    size_t before_length = 0;
    char *before = read_file(fake->path, &before_length);

    bool faulty = knobs[0] % (COUNT(operations) + 1) < COUNT(operations);
    fake->fault_operation = faulty ? operations[knobs[0] % (COUNT(operations) + 1)] : NULL;
    fake->fault_errno = errors[knobs[1] % COUNT(errors)];
    fake->fault_skip = knobs[2] % 8;
    fake->fault_times = 0;
    fake->fault_hits = 0;
    enum lease_status acquired = lease_acquire(ops, &fake->env, &options, &result);
    fake->fault_operation = NULL;
    check_result(&result, impl);
    if (found == LEASE_STATUS_ACTIVE || found == LEASE_STATUS_UNREADABLE)
        check(!lease_status_is_acquired(acquired) && same_file(before, before_length, fake->path),
              "an active or unreadable lease is never replaced", impl);
    char token[LEASE_TEXT_MAX] = "";
    if (lease_status_is_acquired(acquired)) {
        snprintf(token, sizeof token, "%s", result.lease.token);
        if (strcmp(impl, "lease") == 0 && old_fence < LEASE_FENCE_MAX)
            check(result.lease.has_fence && result.lease.fence > old_fence, "the fence grows", impl);
        struct lease_result now = {0};
        lease_inspect(ops, &fake->env, &options, &now);
        check(now.has_lease && strcmp(now.lease.token, token) == 0, "the file holds the token handed out", impl);
        lease_result_clear(&now);
    }
    lease_result_clear(&result);

    free(before);
    before = read_file(fake->path, &before_length);
    struct lease_result seen = {0};
    lease_inspect(ops, &fake->env, &options, &seen);
    const char *wrong =
        seen.has_lease && strcmp(seen.lease.token, wrong_tokens[0]) == 0 ? wrong_tokens[1] : wrong_tokens[0];
    lease_result_clear(&seen);
    lease_release(ops, &fake->env, &options, wrong, &result);
    check_result(&result, impl);
    check(result.status != LEASE_STATUS_RELEASED && same_file(before, before_length, fake->path),
          "a wrong token never releases or changes the file", impl);
    lease_result_clear(&result);
    free(before);

    if (token[0] != '\0') {
        fake->now_ms += 20000;
        lease_renew(ops, &fake->env, &options, token, &result);
        check_result(&result, impl);
        lease_result_clear(&result);
        lease_release(ops, &fake->env, &options, token, &result);
        check(result.status == LEASE_STATUS_RELEASED, "the holder's own release releases", impl);
        lease_result_clear(&result);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < KNOB_BYTES) return 0;
    struct fake_env *fake = environment();
    for (size_t index = 0; index < lease_impl_count(); index++)
        run_cycle(lease_impl_at(index), fake, data, data + KNOB_BYTES, size - KNOB_BYTES);
    return 0;
}
