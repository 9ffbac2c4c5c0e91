/*
 * test_lease_lib.c: the behavioural suite of docs/spec.md section 2, run against
 * every implementation in the library's operations table (cmocka prestate
 * carries the implementation). Where the original algorithm's models differ
 * on purpose (no pid check, no reuse detection, no renewal), the case
 * asserts what that model is known to do, so the hazard stays documented.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_env.h"

#define HOUR_MS 3600000LL
#define OTHER_PID 4242
#define OTHER_START_TIME 777
#define THIRD_PID 5151
#define THIRD_START_TIME 888

/* One registered implementation and what its registry row says it can do
 * (struct lease_traits): the expected outcomes follow from these. */
struct impl_case {
    const struct lease_ops *ops;
    bool checks_pid;
    bool detects_reuse;
    bool can_renew;
    bool writes_fence;
    bool publishes_whole;
    bool write_grace;
};

/* An implementation that keeps its lease outside files (the etcd backend:
 * no pid probe, a dead holder frees the key when its etcd lease expires;
 * renewal by keepalive; the fence is the create revision) runs only when
 * $LEASE_TEST_ETCD_ENDPOINTS names a cluster (make test-etcd), without the
 * cases below, each with its reason. */

#define PID_PROBE "pid-based dead-holder detection: on etcd the etcd lease's expiry frees the key (spec section 10)"
#define FILE_LEVEL "file-level hazard: the etcd backend has no file at the lease path (spec section 10)"
static const struct {
    const char *name;
    const char *reason;
} etcd_skips[] = {
    {"test_inspect_directory_is_unreadable", FILE_LEVEL},
    {"test_inspect_permission_denied_is_unreadable", FILE_LEVEL},
    {"test_inspect_symlink_is_not_followed", FILE_LEVEL},
    {"test_acquire_fails_closed_on_directory", FILE_LEVEL},
    {"test_acquire_fails_closed_on_unreadable", FILE_LEVEL},
    {"test_acquire_never_follows_symlink", FILE_LEVEL},
    {"test_acquire_huge_garbage_is_malformed", FILE_LEVEL " (a 100 MiB file; etcd caps a value at 1.5 MiB)"},
    {"test_fence_at_its_limit_fails_closed", "the fence is etcd's create revision, not a number kept in the value"},
    {"test_living_process_group_keeps_the_lease", PID_PROBE},
    {"test_acquire_records_the_process_group", PID_PROBE},
    {"test_acquire_system_errors_fail_closed", FILE_LEVEL " (faults injected into file calls)"},
    {"test_replace_error_keeps_the_stale_file", FILE_LEVEL " (faults injected into file calls)"},
    {"test_release_error_is_reported", FILE_LEVEL " (faults injected into file calls)"},
    {"test_run_reports_a_failed_release", FILE_LEVEL " (faults injected into file calls)"},
    {"test_read_errors_are_unreadable", FILE_LEVEL " (faults injected into file calls)"},
    {"test_a_fifo_at_the_path_is_unreadable_not_a_hang", FILE_LEVEL},
    {"test_a_lease_written_meanwhile_by_a_lockless_writer_is_never_replaced",
     FILE_LEVEL " (a writer between two calls)"},
    {"test_a_file_system_without_exchange_still_takes_over", FILE_LEVEL " (faults injected into file calls)"},
    {"test_renew_edge_statuses", FILE_LEVEL " (faults injected into file calls)"},
    {"test_lock_timeout_fails_closed", FILE_LEVEL " (the file lock)"},
    {"test_endless_eintr_never_reads_a_live_lease_as_empty", FILE_LEVEL " (faults injected into file calls)"},
    {"test_publish_race_is_retried_then_fails_closed", FILE_LEVEL " (the link/rename publication)"},
    {"test_leftover_temporary_file_is_replaced", FILE_LEVEL " (temporary files)"},
    {"test_path_from_environment_variable", FILE_LEVEL " (checks the file at the path)"},
};

static const char *etcd_skip_reason(const char *name) {
    for (size_t index = 0; index < sizeof etcd_skips / sizeof etcd_skips[0]; index++)
        if (strcmp(etcd_skips[index].name, name) == 0) return etcd_skips[index].reason;
    return NULL;
}

struct fixture {
    const struct impl_case *impl;
    struct fake_env *fake;
    struct lease_options options;
    struct lease_result result;
};

static int setup(void **state) {
    struct fixture *fixture = calloc(1, sizeof *fixture);
    if (fixture == NULL) return -1;
    fixture->impl = *state;
    fixture->fake = fake_env_new();
    fixture->options = (struct lease_options){.path = fixture->fake->path, .owner = "kbSync", .reason = "manual-cli"};
    *state = fixture;
    return 0;
}

static int teardown(void **state) {
    struct fixture *fixture = *state;
    lease_result_clear(&fixture->result);
    fake_env_free(fixture->fake);
    free(fixture);
    return 0;
}

static enum lease_status inspect(struct fixture *fixture) {
    lease_result_clear(&fixture->result);
    return lease_inspect(fixture->impl->ops, &fixture->fake->env, &fixture->options, &fixture->result);
}

static enum lease_status acquire(struct fixture *fixture) {
    lease_result_clear(&fixture->result);
    return lease_acquire(fixture->impl->ops, &fixture->fake->env, &fixture->options, &fixture->result);
}

static enum lease_status release(struct fixture *fixture, const char *token) {
    lease_result_clear(&fixture->result);
    return lease_release(fixture->impl->ops, &fixture->fake->env, &fixture->options, token, &fixture->result);
}

/* A payload as another holder would have written it. expires_offset_ms is
 * relative to acquired; INT64_MIN leaves expiresAt out. */
static void write_holder(struct fixture *fixture, int64_t pid, int64_t acquired_ms, int64_t ttl_ms,
                         int64_t expires_offset_ms, const char *metadata) {
    char acquired[LEASE_TIMESTAMP_SIZE];
    char expires[LEASE_TIMESTAMP_SIZE];
    char text[2048];
    lease_time_format(acquired_ms, acquired);
    lease_time_format(acquired_ms + expires_offset_ms, expires);
    char expires_member[80] = "";
    if (expires_offset_ms != INT64_MIN)
        snprintf(expires_member, sizeof expires_member, "  \"expiresAt\": \"%s\",\n", expires);
    snprintf(text, sizeof text,
             "{\n  \"owner\": \"backup\",\n  \"reason\": \"nightly\",\n  \"pid\": %lld,\n"
             "  \"token\": \"11111111-2222-4333-8444-555555555555\",\n  \"acquiredAt\": \"%s\",\n"
             "  \"staleAfterMs\": %lld,\n%s  \"metadata\": %s\n}\n",
             (long long)pid, acquired, (long long)ttl_ms, expires_member, metadata != NULL ? metadata : "{}");
    fake_env_write_lease(fixture->fake, text);
}

static void write_live_holder(struct fixture *fixture) {
    fake_env_set_pid(fixture->fake, OTHER_PID, FAKE_PID_ALIVE, OTHER_START_TIME);
    write_holder(fixture, OTHER_PID, fixture->fake->now_ms - HOUR_MS, 6 * HOUR_MS, 6 * HOUR_MS, NULL);
}

static void assert_file_equals(struct fixture *fixture, const char *expected) {
    char *now = fake_env_read_lease(fixture->fake);
    assert_non_null(now);
    assert_string_equal(now, expected);
    free(now);
}

/* ---- inspect ------------------------------------------------------------ */

static void test_inspect_missing(void **state) {
    struct fixture *fixture = *state;
    assert_int_equal(inspect(fixture), LEASE_STATUS_MISSING);
    assert_false(fixture->result.has_lease);
}

static void test_inspect_active_live_holder(void **state) {
    struct fixture *fixture = *state;
    write_live_holder(fixture);
    assert_int_equal(inspect(fixture), LEASE_STATUS_ACTIVE);
    assert_string_equal(fixture->result.lease.owner, "backup");
    assert_int_equal(fixture->result.lease.pid, OTHER_PID);
}

static void test_inspect_dead_pid_is_stale_when_pid_checked(void **state) {
    struct fixture *fixture = *state;
    fake_env_set_pid(fixture->fake, OTHER_PID, FAKE_PID_DEAD, 0);
    write_holder(fixture, OTHER_PID, fixture->fake->now_ms - 1000, 6 * HOUR_MS, 6 * HOUR_MS, NULL);
    /* neo-v1 has no pid check: a crashed holder wedges until the TTL (hazard). */
    assert_int_equal(inspect(fixture), fixture->impl->checks_pid ? LEASE_STATUS_STALE : LEASE_STATUS_ACTIVE);
}

static void test_inspect_eperm_pid_counts_as_alive(void **state) {
    struct fixture *fixture = *state;
    fake_env_set_pid(fixture->fake, OTHER_PID, FAKE_PID_FOREIGN, OTHER_START_TIME);
    write_holder(fixture, OTHER_PID, fixture->fake->now_ms - 1000, 6 * HOUR_MS, 6 * HOUR_MS, NULL);
    assert_int_equal(inspect(fixture), LEASE_STATUS_ACTIVE);
}

static void test_inspect_expires_at_boundary_is_stale(void **state) {
    struct fixture *fixture = *state;
    fake_env_set_pid(fixture->fake, OTHER_PID, FAKE_PID_ALIVE, OTHER_START_TIME);
    int64_t acquired_ms = fixture->fake->now_ms;
    write_holder(fixture, OTHER_PID, acquired_ms, 60000, 60000, NULL);
    fixture->fake->now_ms = acquired_ms + 60000 - 1;
    assert_int_equal(inspect(fixture), LEASE_STATUS_ACTIVE);
    fixture->fake->now_ms = acquired_ms + 60000;
    assert_int_equal(inspect(fixture), LEASE_STATUS_STALE);
    assert_true(fixture->result.ttl_takeover);
}

static void test_inspect_expires_at_wins_over_stale_after_ms(void **state) {
    struct fixture *fixture = *state;
    fake_env_set_pid(fixture->fake, OTHER_PID, FAKE_PID_ALIVE, OTHER_START_TIME);
    /* staleAfterMs says long expired, expiresAt (rule 3, first) says valid. */
    write_holder(fixture, OTHER_PID, fixture->fake->now_ms - 10 * HOUR_MS, 1000, 11 * HOUR_MS, NULL);
    assert_int_equal(inspect(fixture), LEASE_STATUS_ACTIVE);
}

static void test_inspect_acquired_plus_stale_after_ms_boundary(void **state) {
    struct fixture *fixture = *state;
    fake_env_set_pid(fixture->fake, OTHER_PID, FAKE_PID_ALIVE, OTHER_START_TIME);
    int64_t acquired_ms = fixture->fake->now_ms;
    write_holder(fixture, OTHER_PID, acquired_ms, 5000, INT64_MIN, NULL);
    fixture->fake->now_ms = acquired_ms + 4999;
    assert_int_equal(inspect(fixture), LEASE_STATUS_ACTIVE);
    fixture->fake->now_ms = acquired_ms + 5000;
    assert_int_equal(inspect(fixture), LEASE_STATUS_STALE);
}

static void test_inspect_unusable_fields_are_stale(void **state) {
    struct fixture *fixture = *state;
    static const char *const payloads[] = {
        "{\"owner\":\"x\",\"pid\":1000,\"staleAfterMs\":5000}",                              /* no acquiredAt */
        "{\"owner\":\"x\",\"pid\":1000,\"acquiredAt\":\"yesterday\",\"staleAfterMs\":5000}", /* unparseable */
        "{\"owner\":\"x\",\"pid\":1000,\"acquiredAt\":\"2026-05-17T06:40:00Z\",\"staleAfterMs\":-1}",
        "{\"owner\":\"x\",\"pid\":1000,\"acquiredAt\":\"2026-05-17T06:40:00Z\",\"staleAfterMs\":0}",
        "{\"owner\":\"x\",\"pid\":1000,\"acquiredAt\":\"2026-05-17T06:40:00Z\",\"staleAfterMs\":\"6h\"}",
        "{\"owner\":\"x\",\"pid\":1000,\"acquiredAt\":42,\"staleAfterMs\":5000}",
    };
    for (size_t index = 0; index < sizeof payloads / sizeof payloads[0]; index++) {
        fake_env_write_lease(fixture->fake, payloads[index]);
        assert_int_equal(inspect(fixture), LEASE_STATUS_STALE);
    }
}

static void test_inspect_bad_pids_are_dead_when_pid_checked(void **state) {
    struct fixture *fixture = *state;
    static const char *const pids[] = {"-5", "0", "99999999999", "\"1000\"", "1.5", "null"};
    for (size_t index = 0; index < sizeof pids / sizeof pids[0]; index++) {
        char text[512];
        snprintf(text, sizeof text,
                 "{\"owner\":\"x\",\"pid\":%s,\"acquiredAt\":\"2026-05-17T06:40:00.000Z\",\"staleAfterMs\":21600000,"
                 "\"expiresAt\":\"2026-05-17T12:40:00.000Z\"}",
                 pids[index]);
        fake_env_write_lease(fixture->fake, text);
        assert_int_equal(inspect(fixture), fixture->impl->checks_pid ? LEASE_STATUS_STALE : LEASE_STATUS_ACTIVE);
    }
}

static void test_inspect_malformed_payloads(void **state) {
    struct fixture *fixture = *state;
    static const char *const payloads[] = {
        "",
        "{\"owner\": \"kbSync\", \"pid\": 12",
        "null",
        "[]",
        "42",
        "\"text\"",
        "{\"owner\": 42}",
        "{}",
        "{,}",
        "\xff\xfe garbage",
    };
    for (size_t index = 0; index < sizeof payloads / sizeof payloads[0]; index++) {
        fake_env_write_lease(fixture->fake, payloads[index]);
        assert_int_equal(inspect(fixture), LEASE_STATUS_MALFORMED);
        assert_true(fixture->result.detail[0] != '\0');
    }
}

static void test_inspect_directory_is_unreadable(void **state) {
    struct fixture *fixture = *state;
    lease_make_parents(&fixture->fake->env, fixture->fake->path);
    assert_int_equal(mkdir(fixture->fake->path, 0755), 0);
    assert_int_equal(inspect(fixture), LEASE_STATUS_UNREADABLE);
    assert_int_equal(fixture->result.error_number, EISDIR);
}

static void test_inspect_permission_denied_is_unreadable(void **state) {
    struct fixture *fixture = *state;
    write_live_holder(fixture);
    fixture->fake->open_read_error = EACCES;
    assert_int_equal(inspect(fixture), LEASE_STATUS_UNREADABLE);
    assert_int_equal(fixture->result.error_number, EACCES);
    assert_string_equal(fixture->result.error_path, fixture->fake->path);
}

static void test_inspect_symlink_is_not_followed(void **state) {
    struct fixture *fixture = *state;
    char target[600];
    snprintf(target, sizeof target, "%s/elsewhere.json", fixture->fake->directory);
    write_live_holder(fixture);
    assert_int_equal(rename(fixture->fake->path, target), 0);
    assert_int_equal(symlink(target, fixture->fake->path), 0);
    assert_int_equal(inspect(fixture), LEASE_STATUS_UNREADABLE);
    assert_int_equal(fixture->result.error_number, ELOOP);
}

/* ---- acquire ------------------------------------------------------------ */

static void test_acquire_missing_writes_the_file_format(void **state) {
    struct fixture *fixture = *state;
    fixture->options.ttl_ms = 60000;
    assert_int_equal(acquire(fixture), LEASE_STATUS_ACQUIRED);
    assert_int_equal(fixture->result.previous_status, LEASE_STATUS_MISSING);
    char *text = fake_env_read_lease(fixture->fake);
    assert_non_null(text);
    char expected_head[512];
    snprintf(expected_head, sizeof expected_head,
             "{\n  \"owner\": \"kbSync\",\n  \"reason\": \"manual-cli\",\n  \"pid\": 1000,\n  \"token\": \"%s\",\n"
             "  \"acquiredAt\": \"2026-05-17T06:40:00.000Z\",\n  \"staleAfterMs\": 60000,\n"
             "  \"expiresAt\": \"2026-05-17T06:41:00.000Z\",\n  \"metadata\": {",
             fixture->result.lease.token);
    assert_memory_equal(text, expected_head, strlen(expected_head));
    assert_int_equal(strlen(fixture->result.lease.token), 36);
    assert_int_equal(fixture->result.lease.token[14], '4'); /* UUID v4 */
    assert_int_equal(text[strlen(text) - 1], '\n');
    assert_non_null(fixture->result.payload_json);
    free(text);
    assert_int_equal(inspect(fixture), LEASE_STATUS_ACTIVE);
}

static void test_acquire_default_reason_is_manual(void **state) {
    struct fixture *fixture = *state;
    fixture->options.reason = NULL;
    assert_true(lease_status_is_acquired(acquire(fixture)));
    assert_string_equal(fixture->result.lease.reason, "manual");
    assert_int_equal(fixture->result.lease.stale_after_ms, LEASE_DEFAULT_TTL_MS);
}

static void test_held_leaves_file_unchanged(void **state) {
    struct fixture *fixture = *state;
    write_live_holder(fixture);
    char *before = fake_env_read_lease(fixture->fake);
    assert_int_equal(acquire(fixture), LEASE_STATUS_HELD);
    assert_true(fixture->result.has_lease);
    assert_string_equal(fixture->result.lease.owner, "backup");
    assert_string_equal(fixture->result.lease.reason, "nightly");
    assert_int_equal(fixture->result.lease.pid, OTHER_PID);
    assert_file_equals(fixture, before);
    free(before);
}

static void test_acquire_after_dead_pid(void **state) {
    struct fixture *fixture = *state;
    fake_env_set_pid(fixture->fake, OTHER_PID, FAKE_PID_DEAD, 0);
    write_holder(fixture, OTHER_PID, fixture->fake->now_ms - 1000, 6 * HOUR_MS, 6 * HOUR_MS, NULL);
    enum lease_status status = acquire(fixture);
    if (fixture->impl->checks_pid) {
        assert_int_equal(status, LEASE_STATUS_ACQUIRED_AFTER_STALE);
        assert_int_equal(fixture->result.previous_status, LEASE_STATUS_STALE);
        assert_false(fixture->result.ttl_takeover);
        assert_string_equal(fixture->result.lease.owner, "kbSync");
    } else {
        assert_int_equal(status, LEASE_STATUS_HELD);
    }
}

static void test_acquire_after_expiry(void **state) {
    struct fixture *fixture = *state;
    write_live_holder(fixture);
    fixture->fake->now_ms += 6 * HOUR_MS;
    assert_int_equal(acquire(fixture), LEASE_STATUS_ACQUIRED_AFTER_STALE);
    assert_true(fixture->result.ttl_takeover);
}

static void test_acquire_after_malformed(void **state) {
    struct fixture *fixture = *state;
    fake_env_write_lease(fixture->fake, "{\"owner\": \"kbSync\", \"pid\"");
    assert_int_equal(acquire(fixture), LEASE_STATUS_ACQUIRED_AFTER_MALFORMED);
    assert_int_equal(inspect(fixture), LEASE_STATUS_ACTIVE);
    assert_string_equal(fixture->result.lease.owner, "kbSync");
}

static void test_acquire_fails_closed_on_directory(void **state) {
    struct fixture *fixture = *state;
    lease_make_parents(&fixture->fake->env, fixture->fake->path);
    assert_int_equal(mkdir(fixture->fake->path, 0755), 0);
    assert_int_equal(acquire(fixture), LEASE_STATUS_ERROR);
    assert_int_not_equal(fixture->result.error_number, 0);
    struct stat info;
    assert_int_equal(stat(fixture->fake->path, &info), 0);
    assert_true(S_ISDIR(info.st_mode));
}

static void test_acquire_fails_closed_on_unreadable(void **state) {
    struct fixture *fixture = *state;
    write_live_holder(fixture);
    char *before = fake_env_read_lease(fixture->fake);
    fixture->fake->open_read_error = EACCES;
    assert_int_equal(acquire(fixture), LEASE_STATUS_ERROR);
    fixture->fake->open_read_error = 0;
    assert_file_equals(fixture, before);
    free(before);
}

static void test_acquire_never_follows_symlink(void **state) {
    struct fixture *fixture = *state;
    char target[600];
    snprintf(target, sizeof target, "%s/victim.json", fixture->fake->directory);
    FILE *victim = fopen(target, "w");
    assert_non_null(victim);
    fputs("precious", victim);
    fclose(victim);
    lease_make_parents(&fixture->fake->env, fixture->fake->path);
    assert_int_equal(symlink(target, fixture->fake->path), 0);
    assert_int_equal(acquire(fixture), LEASE_STATUS_ERROR);
    char buffer[32] = "";
    victim = fopen(target, "r");
    assert_non_null(fgets(buffer, sizeof buffer, victim));
    fclose(victim);
    assert_string_equal(buffer, "precious");
    struct stat info;
    assert_int_equal(lstat(fixture->fake->path, &info), 0);
    assert_true(S_ISLNK(info.st_mode));
}

static void test_acquire_rejects_control_characters(void **state) {
    struct fixture *fixture = *state;
    fixture->options.owner = "evil\x1b[2Jowner";
    assert_int_equal(acquire(fixture), LEASE_STATUS_ERROR);
    assert_int_equal(fixture->result.error_number, EINVAL);
    assert_string_equal(fixture->result.detail, "owner must be UTF-8 text without control characters");
    assert_null(fake_env_read_lease(fixture->fake));
    fixture->options.owner = "kbSync";
    fixture->options.reason = "line\nbreak";
    assert_int_equal(acquire(fixture), LEASE_STATUS_ERROR);
    fixture->options.reason = "bad\xffutf8";
    assert_int_equal(acquire(fixture), LEASE_STATUS_ERROR);
    assert_string_equal(fixture->result.detail, "reason must be UTF-8 text without control characters");
    fixture->options.reason = "caf\xc3\xa9 \xe2\x8f\xb8"; /* valid UTF-8 is fine */
    assert_true(lease_status_is_acquired(acquire(fixture)));
    assert_string_equal(fixture->result.lease.reason, "caf\xc3\xa9 \xe2\x8f\xb8");
    assert_int_equal(inspect(fixture), LEASE_STATUS_ACTIVE);
    assert_string_equal(fixture->result.lease.reason, "caf\xc3\xa9 \xe2\x8f\xb8");
    fixture->options.reason = NULL;
    fixture->options.owner = "";
    assert_int_equal(acquire(fixture), LEASE_STATUS_ERROR);
    assert_string_equal(fixture->result.detail, "owner is required");
}

static void test_acquire_huge_garbage_is_malformed(void **state) {
    struct fixture *fixture = *state;
    fake_env_write_lease(fixture->fake, "garbage");
    assert_int_equal(truncate(fixture->fake->path, 100LL * 1024 * 1024), 0);
    assert_int_equal(inspect(fixture), LEASE_STATUS_MALFORMED);
    assert_int_equal(acquire(fixture), LEASE_STATUS_ACQUIRED_AFTER_MALFORMED);
}

/* ---- release ------------------------------------------------------------ */

static void test_release_by_owner_removes_the_file(void **state) {
    struct fixture *fixture = *state;
    assert_true(lease_status_is_acquired(acquire(fixture)));
    char token[LEASE_TEXT_MAX];
    snprintf(token, sizeof token, "%s", fixture->result.lease.token);
    assert_int_equal(release(fixture, token), LEASE_STATUS_RELEASED);
    assert_null(fake_env_read_lease(fixture->fake));
}

static void test_release_by_stranger_leaves_file_untouched(void **state) {
    struct fixture *fixture = *state;
    write_live_holder(fixture);
    char *before = fake_env_read_lease(fixture->fake);
    assert_int_equal(release(fixture, "00000000-0000-4000-8000-000000000000"), LEASE_STATUS_NOT_OWNER);
    assert_int_equal(release(fixture, ""), LEASE_STATUS_NOT_OWNER);
    assert_file_equals(fixture, before);
    free(before);
}

static void test_release_never_matches_a_missing_token(void **state) {
    struct fixture *fixture = *state;
    fake_env_write_lease(fixture->fake, "{\"owner\":\"x\",\"acquiredAt\":\"2026-05-17T06:40:00Z\"}");
    char *before = fake_env_read_lease(fixture->fake);
    assert_int_equal(release(fixture, ""), LEASE_STATUS_NOT_OWNER);
    assert_int_equal(release(fixture, NULL), LEASE_STATUS_NOT_OWNER);
    assert_file_equals(fixture, before);
    free(before);
}

/* Rule 1 is "no acquiredAt" as the original reads it: a present but
 * unparsable acquiredAt leaves the decision to a valid expiresAt (rule 3),
 * and makes the lease stale only without one (rule 4; docs/spec.md 9.1). */
static void test_unparsable_acquired_at_defers_to_expires_at(void **state) {
    struct fixture *fixture = *state;
    char future[LEASE_TIMESTAMP_SIZE];
    char bytes[512];
    lease_time_format(fixture->fake->now_ms + HOUR_MS, future);
    snprintf(bytes, sizeof bytes, "{\"owner\":\"x\",\"pid\":%lld,\"acquiredAt\":\"yesterday\",\"expiresAt\":\"%s\"}",
             (long long)fixture->fake->self_pid, future);
    fake_env_write_lease(fixture->fake, bytes);
    assert_int_equal(inspect(fixture), LEASE_STATUS_ACTIVE);
    fake_env_write_lease(fixture->fake, "{\"owner\":\"x\",\"pid\":1000,\"acquiredAt\":\"yesterday\"}");
    assert_int_equal(inspect(fixture), LEASE_STATUS_STALE);
}

static void test_release_when_missing(void **state) {
    struct fixture *fixture = *state;
    assert_int_equal(release(fixture, "11111111-2222-4333-8444-555555555555"), LEASE_STATUS_MISSING);
}

/* ---- run, inherited token ----------------------------------------------- */

struct body_record {
    int calls;
    enum lease_status seen;
};

static int record_body(void *argument, const struct lease_result *lease) {
    struct body_record *record = argument;
    record->calls++;
    record->seen = lease->status;
    return 7;
}

static void test_run_acquires_runs_and_releases(void **state) {
    struct fixture *fixture = *state;
    struct body_record record = {0};
    assert_int_equal(
        lease_run(fixture->impl->ops, &fixture->fake->env, &fixture->options, record_body, &record, &fixture->result),
        LEASE_STATUS_COMPLETED);
    assert_int_equal(record.calls, 1);
    assert_int_equal(record.seen, LEASE_STATUS_ACQUIRED);
    assert_int_equal(fixture->result.body_status, 7);
    assert_null(fake_env_read_lease(fixture->fake));
}

static void test_run_held_does_not_run_the_body(void **state) {
    struct fixture *fixture = *state;
    struct body_record record = {0};
    write_live_holder(fixture);
    assert_int_equal(
        lease_run(fixture->impl->ops, &fixture->fake->env, &fixture->options, record_body, &record, &fixture->result),
        LEASE_STATUS_HELD);
    assert_int_equal(record.calls, 0);
}

static void test_run_inherited_token_runs_without_acquiring(void **state) {
    struct fixture *fixture = *state;
    struct body_record record = {0};
    write_live_holder(fixture);
    char *before = fake_env_read_lease(fixture->fake);
    fixture->fake->inherited_token = "11111111-2222-4333-8444-555555555555";
    assert_int_equal(
        lease_run(fixture->impl->ops, &fixture->fake->env, &fixture->options, record_body, &record, &fixture->result),
        LEASE_STATUS_INHERITED);
    assert_int_equal(record.calls, 1);
    assert_int_equal(record.seen, LEASE_STATUS_INHERITED);
    assert_int_equal(fixture->fake->warning_count, 0);
    assert_file_equals(fixture, before); /* neither acquired nor released */
    free(before);
}

static void test_run_stale_inherited_token_acquires_with_one_warning(void **state) {
    struct fixture *fixture = *state;
    struct body_record record = {0};
    write_live_holder(fixture);
    fixture->fake->now_ms += 7 * HOUR_MS; /* the parent's lease expired */
    fixture->fake->inherited_token = "11111111-2222-4333-8444-555555555555";
    assert_int_equal(
        lease_run(fixture->impl->ops, &fixture->fake->env, &fixture->options, record_body, &record, &fixture->result),
        LEASE_STATUS_COMPLETED);
    assert_int_equal(fixture->result.previous_status, LEASE_STATUS_STALE);
    assert_int_equal(record.seen, LEASE_STATUS_ACQUIRED_AFTER_STALE);
    assert_int_equal(fixture->fake->warning_count, 1);
    assert_non_null(strstr(fixture->fake->warnings[0], LEASE_INHERITED_TOKEN_ENV));
}

static void test_run_wrong_inherited_token_is_held(void **state) {
    struct fixture *fixture = *state;
    struct body_record record = {0};
    write_live_holder(fixture);
    fixture->fake->inherited_token = "not-the-token";
    assert_int_equal(
        lease_run(fixture->impl->ops, &fixture->fake->env, &fixture->options, record_body, &record, &fixture->result),
        LEASE_STATUS_HELD);
    assert_int_equal(record.calls, 0);
    assert_int_equal(fixture->fake->warning_count, 1);
}

/* ---- compatibility, pid reuse, renewal, fence -------------------------- */

static void test_original_payload_read_field_for_field(void **state) {
    struct fixture *fixture = *state;
    fake_env_set_pid(fixture->fake, 31337, FAKE_PID_ALIVE, 1);
    fake_env_write_lease(
        fixture->fake,
        "{\"owner\":\"syncGithubWorkflow\",\"reason\":\"manual-cli\",\"pid\":31337,"
        "\"token\":\"9b2f7c1e-0d4a-4e8b-9c3f-2a1b0c9d8e7f\",\"acquiredAt\":\"2026-05-17T08:40:00+02:00\","
        "\"staleAfterMs\":21600000,\"expiresAt\":\"2026-05-17T12:40:00Z\","
        "\"metadata\":{\"host\":\"neo\"},\"extra\":[1,2,3]}");
    assert_int_equal(inspect(fixture), LEASE_STATUS_ACTIVE);
    const struct lease_holder *holder = &fixture->result.lease;
    assert_string_equal(holder->owner, "syncGithubWorkflow");
    assert_string_equal(holder->reason, "manual-cli");
    assert_int_equal(holder->pid, 31337);
    assert_string_equal(holder->token, "9b2f7c1e-0d4a-4e8b-9c3f-2a1b0c9d8e7f");
    assert_string_equal(holder->acquired_at, "2026-05-17T08:40:00+02:00");
    assert_int_equal(holder->stale_after_ms, 21600000);
    assert_string_equal(holder->expires_at, "2026-05-17T12:40:00Z");
    assert_non_null(strstr(fixture->result.payload_json, "\"extra\""));
    fixture->fake->now_ms = 1779021600000LL; /* 2026-05-17T12:40:00.000Z */
    assert_int_equal(inspect(fixture), LEASE_STATUS_STALE);
}

static void test_pid_reuse_detected_by_start_time(void **state) {
    struct fixture *fixture = *state;
    /* The holder recorded start time 777; the pid now belongs to a process
     * that started at 999. */
    fake_env_set_pid(fixture->fake, OTHER_PID, FAKE_PID_ALIVE, 999);
    write_holder(fixture, OTHER_PID, fixture->fake->now_ms - 1000, 6 * HOUR_MS, 6 * HOUR_MS,
                 "{\"pidStartTime\": 777, \"bootId\": \"boot-1\"}");
    enum lease_status expected = fixture->impl->detects_reuse ? LEASE_STATUS_STALE : LEASE_STATUS_ACTIVE;
    assert_int_equal(inspect(fixture), expected);
    assert_int_equal(acquire(fixture),
                     fixture->impl->detects_reuse ? LEASE_STATUS_ACQUIRED_AFTER_STALE : LEASE_STATUS_HELD);
}

static void test_reboot_detected_by_boot_id(void **state) {
    struct fixture *fixture = *state;
    fake_env_set_pid(fixture->fake, OTHER_PID, FAKE_PID_ALIVE, OTHER_START_TIME);
    write_holder(fixture, OTHER_PID, fixture->fake->now_ms - 1000, 6 * HOUR_MS, 6 * HOUR_MS,
                 "{\"pidStartTime\": 777, \"bootId\": \"boot-0\"}");
    assert_int_equal(inspect(fixture), fixture->impl->detects_reuse ? LEASE_STATUS_STALE : LEASE_STATUS_ACTIVE);
}

static void test_renew_extends_expires_at(void **state) {
    struct fixture *fixture = *state;
    fixture->options.ttl_ms = 60000;
    assert_true(lease_status_is_acquired(acquire(fixture)));
    char token[LEASE_TEXT_MAX];
    snprintf(token, sizeof token, "%s", fixture->result.lease.token);
    fixture->fake->now_ms += 50000;
    lease_result_clear(&fixture->result);
    enum lease_status status =
        lease_renew(fixture->impl->ops, &fixture->fake->env, &fixture->options, token, &fixture->result);
    if (!fixture->impl->can_renew) {
        assert_int_equal(status, LEASE_STATUS_ERROR);
        assert_int_equal(fixture->result.error_number, ENOSYS);
        return;
    }
    assert_int_equal(status, LEASE_STATUS_RENEWED);
    assert_string_equal(fixture->result.lease.expires_at, "2026-05-17T06:41:50.000Z");
    assert_string_equal(fixture->result.lease.acquired_at, "2026-05-17T06:40:00.000Z");
    fixture->fake->now_ms += 50000; /* past the first expiry, before the renewed one */
    assert_int_equal(inspect(fixture), LEASE_STATUS_ACTIVE);
    lease_result_clear(&fixture->result);
    assert_int_equal(
        lease_renew(fixture->impl->ops, &fixture->fake->env, &fixture->options, "stranger", &fixture->result),
        LEASE_STATUS_NOT_OWNER);
}

static void test_fence_increases_per_acquisition(void **state) {
    struct fixture *fixture = *state;
    int64_t previous = 0;
    for (int round = 0; round < 3; round++) {
        assert_true(lease_status_is_acquired(acquire(fixture)));
        if (!fixture->impl->writes_fence) {
            assert_false(fixture->result.lease.has_fence);
        } else {
            assert_true(fixture->result.lease.has_fence);
            assert_true(fixture->result.lease.fence > previous);
            previous = fixture->result.lease.fence;
        }
        char token[LEASE_TEXT_MAX];
        snprintf(token, sizeof token, "%s", fixture->result.lease.token);
        assert_int_equal(release(fixture, token), LEASE_STATUS_RELEASED);
    }
}

/* ---- values read from a file are bounded (docs/spec.md section 9.7) ------ */

/* An expired lease whose fence is INT64_MAX: the next fence cannot grow.
 * Before the bound the fence wrapped to -2^63 (UBSan: signed overflow). */
static void test_fence_at_its_limit_fails_closed(void **state) {
    struct fixture *fixture = *state;
    write_holder(fixture, OTHER_PID, fixture->fake->now_ms - 7 * HOUR_MS, 6 * HOUR_MS, 6 * HOUR_MS,
                 "{\"fence\": 9223372036854775807}");
    char *before = fake_env_read_lease(fixture->fake);
    enum lease_status status = acquire(fixture);
    if (fixture->impl->writes_fence) {
        assert_int_equal(status, LEASE_STATUS_ERROR);
        assert_int_equal(fixture->result.error_number, EOVERFLOW);
        assert_non_null(strstr(fixture->result.detail, "cannot grow"));
        assert_file_equals(fixture, before);
    } else {
        assert_int_equal(status, LEASE_STATUS_ACQUIRED_AFTER_STALE);
    }
    free(before);
}

/* Our own lease with staleAfterMs = INT64_MAX: renew must not compute
 * now + INT64_MAX (it reported "renewed" with an expiresAt in year 0). */
static void test_renew_bounds_a_huge_stale_after_ms(void **state) {
    struct fixture *fixture = *state;
    if (!fixture->impl->can_renew) return;
    write_holder(fixture, fixture->fake->self_pid, fixture->fake->now_ms, INT64_MAX, HOUR_MS, NULL);
    lease_result_clear(&fixture->result);
    assert_int_equal(lease_renew(fixture->impl->ops, &fixture->fake->env, &fixture->options,
                                 "11111111-2222-4333-8444-555555555555", &fixture->result),
                     LEASE_STATUS_RENEWED);
    int64_t expires_ms = 0;
    assert_true(lease_time_parse(fixture->result.lease.expires_at, &expires_ms));
    assert_int_equal(expires_ms, fixture->fake->now_ms + LEASE_DEFAULT_TTL_MS);
    assert_int_equal(fixture->result.lease.stale_after_ms, LEASE_DEFAULT_TTL_MS);
    assert_int_equal(inspect(fixture), LEASE_STATUS_ACTIVE);
}

static void test_ttl_over_the_limit_is_refused(void **state) {
    struct fixture *fixture = *state;
    fixture->options.ttl_ms = LEASE_TTL_MS_MAX + 1;
    assert_int_equal(acquire(fixture), LEASE_STATUS_ERROR);
    assert_int_equal(fixture->result.error_number, EINVAL);
    assert_null(fake_env_read_lease(fixture->fake));
}

/* "\u0000" is valid JSON and a lone surrogate is what JSON.stringify writes:
 * a live lease holding them is active, never malformed-and-taken-over. */
static void test_nul_and_lone_surrogates_read_as_written(void **state) {
    struct fixture *fixture = *state;
    char acquired[LEASE_TIMESTAMP_SIZE];
    char text[1024];
    fake_env_set_pid(fixture->fake, OTHER_PID, FAKE_PID_ALIVE, OTHER_START_TIME);
    lease_time_format(fixture->fake->now_ms - HOUR_MS, acquired);
    snprintf(text, sizeof text,
             "{\"owner\": \"ad\\u0000min\", \"reason\": \"x\\ud800y\\\\ud800z\\udc00\", \"pid\": %d,"
             " \"token\": \"t\", \"acquiredAt\": \"%s\", \"staleAfterMs\": 21600000}",
             OTHER_PID, acquired);
    fake_env_write_lease(fixture->fake, text);
    assert_int_equal(inspect(fixture), LEASE_STATUS_ACTIVE);
    assert_string_equal(fixture->result.lease.owner, "ad\xE2\x90\x80min");
    assert_string_equal(fixture->result.lease.reason, "x\xEF\xBF\xBDy\\ud800z\xEF\xBF\xBD");
    assert_int_equal(acquire(fixture), LEASE_STATUS_HELD);
    assert_file_equals(fixture, text);
}

/* ---- a body is its whole process group (docs/spec.md section 9.8) -------- */

/* The wrapper (the lease's pid) was killed; its command's child still runs
 * in the group the lease recorded: the lease stays alive for the project's
 * implementation. The models of the original judge the pid alone. */
static void test_living_process_group_keeps_the_lease(void **state) {
    struct fixture *fixture = *state;
    write_holder(fixture, OTHER_PID, fixture->fake->now_ms - HOUR_MS, 6 * HOUR_MS, 6 * HOUR_MS,
                 "{\"processGroup\": 5151}");
    fixture->fake->live_group = 5151;
    enum lease_status status = acquire(fixture);
    if (fixture->impl->detects_reuse) {
        assert_int_equal(status, LEASE_STATUS_HELD);
        fixture->fake->live_group = 0; /* the last process of the body is gone */
        assert_int_equal(acquire(fixture), LEASE_STATUS_ACQUIRED_AFTER_STALE);
    } else {
        assert_int_equal(status, fixture->impl->checks_pid ? LEASE_STATUS_ACQUIRED_AFTER_STALE : LEASE_STATUS_HELD);
    }
}

/* The lease names the body's group when the caller gives one. */
static void test_acquire_records_the_process_group(void **state) {
    struct fixture *fixture = *state;
    fixture->options.process_group = 777;
    assert_true(lease_status_is_acquired(acquire(fixture)));
    char *text = fake_env_read_lease(fixture->fake);
    assert_non_null(text);
    bool recorded = strstr(text, "\"processGroup\": 777") != NULL;
    assert_int_equal(recorded, fixture->impl->writes_fence);
    free(text);
}

/* ---- system errors: fail closed, lose nothing ---------------------------- */

struct fault_case {
    const char *operation;
    int error_number;
};

static void inject(struct fixture *fixture, const char *operation, int error_number, int skip, int times) {
    fixture->fake->fault_operation = operation;
    fixture->fake->fault_errno = error_number;
    fixture->fake->fault_skip = skip;
    fixture->fake->fault_times = times;
    fixture->fake->fault_hits = 0;
}

static void test_acquire_system_errors_fail_closed(void **state) {
    struct fixture *fixture = *state;
    static const struct fault_case faults[] = {
        {"mkdir", EACCES}, {"create_exclusive", ENOSPC}, {"write", ENOSPC}, {"link", EIO},
        {"lock", ENOLCK},  {"random_bytes", EIO},        {"pwrite", EIO},   {"fstat", EIO},
    };
    for (size_t index = 0; index < sizeof faults / sizeof faults[0]; index++) {
        char directory[600];
        snprintf(directory, sizeof directory, "%s/state", fixture->fake->directory);
        unlink(fixture->fake->path);
        if (strcmp(faults[index].operation, "mkdir") == 0) rmdir(directory);
        if (strcmp(faults[index].operation, "fstat") == 0) write_live_holder(fixture);
        inject(fixture, faults[index].operation, faults[index].error_number, 0, 0);
        enum lease_status status = acquire(fixture);
        bool hit = fixture->fake->fault_hits > 0;
        inject(fixture, NULL, 0, 0, 0);
        if (!hit) {
            /* This implementation does not use the operation. */
            assert_true(lease_status_is_acquired(status) || status == LEASE_STATUS_HELD);
            continue;
        }
        if (strcmp(faults[index].operation, "fstat") == 0) {
            assert_int_equal(status, LEASE_STATUS_ERROR); /* unreadable: never replaced */
            assert_int_equal(inspect(fixture), LEASE_STATUS_ACTIVE);
            continue;
        }
        assert_int_equal(status, LEASE_STATUS_ERROR);
        assert_int_equal(fixture->result.error_number, faults[index].error_number);
        assert_non_null(fixture->result.error_operation);
        assert_true(fixture->result.detail[0] != '\0');
    }
}

static void test_replace_error_keeps_the_stale_file(void **state) {
    struct fixture *fixture = *state;
    fake_env_set_pid(fixture->fake, OTHER_PID, FAKE_PID_ALIVE, OTHER_START_TIME);
    /* An implementation replaces with an exchange (the project's), a rename
     * or unlinks then creates (the models): whichever it calls fails, and the
     * file stays. */
    static const char *const operations[] = {"exchange", "rename", "unlink"};
    bool hit = false;
    for (size_t index = 0; index < 3 && !hit; index++) {
        unlink(fixture->fake->path);
        write_holder(fixture, OTHER_PID, fixture->fake->now_ms - 7 * HOUR_MS, 6 * HOUR_MS, 6 * HOUR_MS, NULL);
        char *before = fake_env_read_lease(fixture->fake);
        inject(fixture, operations[index], EIO, 0, 0);
        enum lease_status status = acquire(fixture);
        hit = fixture->fake->fault_hits > 0;
        inject(fixture, NULL, 0, 0, 0);
        if (hit) {
            assert_int_equal(status, LEASE_STATUS_ERROR);
            assert_int_equal(fixture->result.error_number, EIO);
            assert_file_equals(fixture, before);
        }
        free(before);
    }
    assert_true(hit);
}

static void test_release_error_is_reported(void **state) {
    struct fixture *fixture = *state;
    assert_true(lease_status_is_acquired(acquire(fixture)));
    char token[LEASE_TEXT_MAX];
    snprintf(token, sizeof token, "%s", fixture->result.lease.token);
    inject(fixture, "unlink", EROFS, 0, 0);
    assert_int_equal(release(fixture, token), LEASE_STATUS_ERROR);
    assert_int_equal(fixture->result.error_number, EROFS);
    inject(fixture, NULL, 0, 0, 0);
    assert_int_equal(release(fixture, token), LEASE_STATUS_RELEASED);
}

static void test_run_reports_a_failed_release(void **state) {
    struct fixture *fixture = *state;
    struct body_record record = {0};
    inject(fixture, "unlink", EROFS, 0, 0);
    assert_int_equal(
        lease_run(fixture->impl->ops, &fixture->fake->env, &fixture->options, record_body, &record, &fixture->result),
        LEASE_STATUS_COMPLETED);
    inject(fixture, NULL, 0, 0, 0);
    assert_int_equal(record.calls, 1);
    assert_int_equal(fixture->fake->warning_count, 1);
    assert_non_null(strstr(fixture->fake->warnings[0], "releasing the lease"));
}

static void test_read_errors_are_unreadable(void **state) {
    struct fixture *fixture = *state;
    write_live_holder(fixture);
    inject(fixture, "read", EIO, 0, 0);
    assert_int_equal(inspect(fixture), LEASE_STATUS_UNREADABLE);
    assert_int_equal(fixture->result.error_number, EIO);
    inject(fixture, NULL, 0, 0, 0);
}

/* A writer that takes no lock (the original) plays between the judgement of
 * a stale lease and its replacement: it unlinks the stale file and creates
 * its own lease, once, at the first exchange or rename. */
static const char *fresh_lease_bytes;
static void original_writer_takes_over(struct fake_env *fake, const char *operation) {
    if (fresh_lease_bytes == NULL || (strcmp(operation, "exchange") != 0 && strcmp(operation, "rename") != 0)) return;
    const char *bytes = fresh_lease_bytes;
    fresh_lease_bytes = NULL;
    unlink(fake->path);
    fake_env_write_lease(fake, bytes);
}

static void test_a_lease_written_meanwhile_by_a_lockless_writer_is_never_replaced(void **state) {
    struct fixture *fixture = *state;
    if (!fixture->impl->publishes_whole) return; /* the models replace without judging (hazard 1) */
    fake_env_set_pid(fixture->fake, OTHER_PID, FAKE_PID_DEAD, OTHER_START_TIME);
    fake_env_set_pid(fixture->fake, THIRD_PID, FAKE_PID_ALIVE, THIRD_START_TIME);
    write_holder(fixture, OTHER_PID, fixture->fake->now_ms - HOUR_MS, 6 * HOUR_MS, 6 * HOUR_MS, NULL);
    char fresh[512], now[LEASE_TIMESTAMP_SIZE];
    lease_time_format(fixture->fake->now_ms, now);
    snprintf(fresh, sizeof fresh,
             "{\"owner\":\"kbSync\",\"reason\":\"nightly\",\"pid\":%d,\"token\":\"fresh-lease-of-a-lockless-writer\","
             "\"acquiredAt\":\"%s\",\"staleAfterMs\":21600000}",
             (int)THIRD_PID, now);
    fresh_lease_bytes = fresh;
    fixture->fake->before_operation = original_writer_takes_over;
    enum lease_status status = acquire(fixture);
    fixture->fake->before_operation = NULL;
    assert_null(fresh_lease_bytes); /* the other writer did play */
    char *after = fake_env_read_lease(fixture->fake);
    assert_non_null(after);
    assert_string_equal(after, fresh);
    free(after);
    assert_int_equal(status, LEASE_STATUS_HELD);
    assert_int_equal(fixture->result.lease.pid, THIRD_PID);
}

/* A file system that cannot exchange (EINVAL) gets the check and the rename. */
static void test_a_file_system_without_exchange_still_takes_over(void **state) {
    struct fixture *fixture = *state;
    if (!fixture->impl->publishes_whole) return; /* the models never exchange */
    fake_env_set_pid(fixture->fake, OTHER_PID, FAKE_PID_DEAD, OTHER_START_TIME);
    write_holder(fixture, OTHER_PID, fixture->fake->now_ms - HOUR_MS, 6 * HOUR_MS, 6 * HOUR_MS, NULL);
    inject(fixture, "exchange", EINVAL, 0, 0);
    enum lease_status status = acquire(fixture);
    inject(fixture, NULL, 0, 0, 0);
    assert_int_equal(status, LEASE_STATUS_ACQUIRED_AFTER_STALE);
}

static void test_a_fifo_at_the_path_is_unreadable_not_a_hang(void **state) {
    struct fixture *fixture = *state;
    lease_make_parents(&fixture->fake->env, fixture->fake->path);
    assert_int_equal(mkfifo(fixture->fake->path, 0644), 0);
    assert_int_equal(inspect(fixture), LEASE_STATUS_UNREADABLE);
    assert_int_equal(acquire(fixture), LEASE_STATUS_ERROR);
}

static void test_renew_edge_statuses(void **state) {
    struct fixture *fixture = *state;
    if (!fixture->impl->can_renew) return;
    lease_result_clear(&fixture->result);
    assert_int_equal(lease_renew(fixture->impl->ops, &fixture->fake->env, &fixture->options, "t", &fixture->result),
                     LEASE_STATUS_MISSING);
    assert_true(lease_status_is_acquired(acquire(fixture)));
    char token[LEASE_TEXT_MAX];
    snprintf(token, sizeof token, "%s", fixture->result.lease.token);
    /* the replacement step is an exchange (a rename of both names) */
    inject(fixture, "exchange", EIO, 0, 0);
    lease_result_clear(&fixture->result);
    assert_int_equal(lease_renew(fixture->impl->ops, &fixture->fake->env, &fixture->options, token, &fixture->result),
                     LEASE_STATUS_ERROR);
    assert_string_equal(fixture->result.error_operation, "rename");
    /* A renewal that failed writing its temporary file says "write", not "rename". */
    inject(fixture, "write", ENOSPC, 0, 0);
    lease_result_clear(&fixture->result);
    assert_int_equal(lease_renew(fixture->impl->ops, &fixture->fake->env, &fixture->options, token, &fixture->result),
                     LEASE_STATUS_ERROR);
    assert_string_equal(fixture->result.error_operation, "write");
    assert_int_equal(fixture->result.error_number, ENOSPC);
    /* The file that the replacement moved aside cannot be examined (the
     * project's: its second fstat; the others: their identity check): the
     * renewal fails and the lease stays the holder's. */
    inject(fixture, strcmp(fixture->impl->ops->name, "lease") == 0 ? "fstat" : "lstat", EIO,
           strcmp(fixture->impl->ops->name, "lease") == 0 ? 1 : 0, 0);
    lease_result_clear(&fixture->result);
    assert_int_equal(lease_renew(fixture->impl->ops, &fixture->fake->env, &fixture->options, token, &fixture->result),
                     LEASE_STATUS_ERROR);
    inject(fixture, NULL, 0, 0, 0);
    lease_result_clear(&fixture->result);
    assert_int_equal(lease_renew(fixture->impl->ops, &fixture->fake->env, &fixture->options, token, &fixture->result),
                     LEASE_STATUS_RENEWED);
    fake_env_write_lease(fixture->fake, "{not json");
    lease_result_clear(&fixture->result);
    assert_int_equal(lease_renew(fixture->impl->ops, &fixture->fake->env, &fixture->options, token, &fixture->result),
                     LEASE_STATUS_NOT_OWNER);
    assert_int_equal(fixture->result.previous_status, LEASE_STATUS_MALFORMED);
}

/* A read interrupted on every call (EINTR forever) must not end as an empty
 * file: the live lease would be taken over as malformed. Found by fuzz_cycle. */
static void test_endless_eintr_never_reads_a_live_lease_as_empty(void **state) {
    struct fixture *fixture = *state;
    write_live_holder(fixture);
    char *before = fake_env_read_lease(fixture->fake);
    inject(fixture, "read", EINTR, 0, 0);
    enum lease_status status = acquire(fixture);
    inject(fixture, NULL, 0, 0, 0);
    assert_false(lease_status_is_acquired(status));
    assert_file_equals(fixture, before);
    free(before);
}

static void test_lock_timeout_fails_closed(void **state) {
    struct fixture *fixture = *state;
    write_live_holder(fixture);
    inject(fixture, "lock", EWOULDBLOCK, 0, 0);
    enum lease_status status = acquire(fixture);
    bool hit = fixture->fake->fault_hits > 0;
    inject(fixture, NULL, 0, 0, 0);
    if (!hit) return; /* the models take no lock */
    assert_int_equal(status, LEASE_STATUS_ERROR);
    assert_non_null(strstr(fixture->result.detail, "timed out"));
    /* The line users see says what timed out and after how long. */
    char line[2048];
    lease_format_error(&fixture->result, line, sizeof line);
    assert_non_null(strstr(line, "lock: "));
    assert_non_null(strstr(line, "timed out after 10000 ms waiting for the lock"));
    assert_int_equal(release(fixture, "11111111-2222-4333-8444-555555555555"), LEASE_STATUS_RELEASED);
}

static void test_publish_race_is_retried_then_fails_closed(void **state) {
    struct fixture *fixture = *state;
    if (!fixture->impl->publishes_whole) return; /* it does not publish with link */
    /* Someone that ignores the lock wins the link once: the next attempt succeeds. */
    inject(fixture, "link", EEXIST, 0, 1);
    assert_int_equal(acquire(fixture), LEASE_STATUS_ACQUIRED);
    assert_int_equal(fixture->fake->fault_hits, 1);
    char token[LEASE_TEXT_MAX];
    snprintf(token, sizeof token, "%s", fixture->result.lease.token);
    assert_int_equal(release(fixture, token), LEASE_STATUS_RELEASED);
    /* ... and keeps winning: give up with an error that says why. */
    inject(fixture, "link", EEXIST, 0, 0);
    assert_int_equal(acquire(fixture), LEASE_STATUS_ERROR);
    assert_non_null(strstr(fixture->result.detail, "kept changing"));
    inject(fixture, NULL, 0, 0, 0);
    /* A stale file replaced by someone else between check and rename. */
    fake_env_set_pid(fixture->fake, OTHER_PID, FAKE_PID_DEAD, 0);
    write_holder(fixture, OTHER_PID, fixture->fake->now_ms, 6 * HOUR_MS, 6 * HOUR_MS, NULL);
    inject(fixture, "lstat", ENOENT, 0, 1);
    assert_int_equal(acquire(fixture), LEASE_STATUS_ACQUIRED_AFTER_STALE);
    inject(fixture, NULL, 0, 0, 0);
}

static void test_leftover_temporary_file_is_replaced(void **state) {
    struct fixture *fixture = *state;
    char temporary[600];
    snprintf(temporary, sizeof temporary, "%s.tmp", fixture->fake->path);
    lease_make_parents(&fixture->fake->env, fixture->fake->path);
    FILE *leftover = fopen(temporary, "w");
    assert_non_null(leftover);
    fputs("{\"owner\": \"crashed", leftover);
    fclose(leftover);
    assert_true(lease_status_is_acquired(acquire(fixture)));
    assert_int_equal(inspect(fixture), LEASE_STATUS_ACTIVE);
    if (fixture->impl->publishes_whole) assert_int_not_equal(access(temporary, F_OK), 0);
}

static void test_path_from_environment_variable(void **state) {
    struct fixture *fixture = *state;
    char path[600];
    snprintf(path, sizeof path, "%s/from-env.json", fixture->fake->directory);
    fixture->fake->path_variable = path;
    fixture->options.path = NULL;
    assert_true(lease_status_is_acquired(acquire(fixture)));
    assert_int_equal(access(path, F_OK), 0);
}

/* ---- beside the original's writers (docs/spec.md section 9.12) ----------- */

/* The original creates the file with O_EXCL and writes it milliseconds later:
 * an empty or unparsable file younger than the grace may still be being
 * written, so an implementation with the write grace reports it held by an
 * unknown holder, waits it out, and reclaims it only once it is old. */
static void test_file_being_written_is_not_reclaimed(void **state) {
    struct fixture *fixture = *state;
    static const char *const partial[] = {"", "{\"owner\": \"backup\", \"rea"};
    for (size_t index = 0; index < sizeof partial / sizeof partial[0]; index++) {
        fake_env_write_lease(fixture->fake, partial[index]);
        fixture->fake->file_age_ms = 100;
        enum lease_status status = acquire(fixture);
        if (!fixture->impl->write_grace) {
            /* The original's models reclaim at once: the race this closes. */
            assert_int_equal(status, LEASE_STATUS_ACQUIRED_AFTER_MALFORMED);
            fixture->fake->file_age_ms = 3600000;
            continue;
        }
        /* Changed all the time: waited out, then held by nobody known. */
        assert_int_equal(status, LEASE_STATUS_HELD);
        assert_false(fixture->result.has_lease);
        assert_int_equal(fixture->result.previous_status, LEASE_STATUS_MALFORMED);
        assert_non_null(strstr(fixture->result.detail, "may still be being written"));
        assert_file_equals(fixture, partial[index]);
        char line[512];
        lease_format_deferral(&fixture->result, line, sizeof line);
        assert_non_null(strstr(line, "unknown"));
        fixture->fake->file_age_ms = -100; /* a clock a little behind the writer's */
        assert_int_equal(acquire(fixture), LEASE_STATUS_HELD);
        fixture->fake->file_age_ms = LEASE_WRITE_GRACE_MS; /* the grace is over: malformed */
        assert_int_equal(acquire(fixture), LEASE_STATUS_ACQUIRED_AFTER_MALFORMED);
        char token_first[LEASE_TEXT_MAX];
        snprintf(token_first, sizeof token_first, "%s", fixture->result.lease.token);
        assert_int_equal(release(fixture, token_first), LEASE_STATUS_RELEASED);
        /* Changed 100 ms ago and never again: acquire waits out the rest of
         * the grace (the fake clock moves only by its sleeps), then reclaims. */
        fake_env_write_lease(fixture->fake, partial[index]);
        int64_t start_ms = fixture->fake->now_ms;
        fixture->fake->file_changed_ms = start_ms - 100;
        assert_int_equal(acquire(fixture), LEASE_STATUS_ACQUIRED_AFTER_MALFORMED);
        assert_int_equal(fixture->fake->now_ms - start_ms, LEASE_WRITE_GRACE_MS - 100);
        fixture->fake->file_changed_ms = 0;
        fixture->fake->file_age_ms = 3600000;
        char token[LEASE_TEXT_MAX];
        snprintf(token, sizeof token, "%s", fixture->result.lease.token);
        assert_int_equal(release(fixture, token), LEASE_STATUS_RELEASED);
    }
}

#define CASE(function) \
    { #function, function }
static const struct {
    const char *name;
    CMUnitTestFunction function;
} behaviour_cases[] = {
    CASE(test_inspect_missing),
    CASE(test_inspect_active_live_holder),
    CASE(test_inspect_dead_pid_is_stale_when_pid_checked),
    CASE(test_inspect_eperm_pid_counts_as_alive),
    CASE(test_inspect_expires_at_boundary_is_stale),
    CASE(test_inspect_expires_at_wins_over_stale_after_ms),
    CASE(test_inspect_acquired_plus_stale_after_ms_boundary),
    CASE(test_inspect_unusable_fields_are_stale),
    CASE(test_inspect_bad_pids_are_dead_when_pid_checked),
    CASE(test_inspect_malformed_payloads),
    CASE(test_inspect_directory_is_unreadable),
    CASE(test_inspect_permission_denied_is_unreadable),
    CASE(test_inspect_symlink_is_not_followed),
    CASE(test_acquire_missing_writes_the_file_format),
    CASE(test_acquire_default_reason_is_manual),
    CASE(test_held_leaves_file_unchanged),
    CASE(test_acquire_after_dead_pid),
    CASE(test_acquire_after_expiry),
    CASE(test_acquire_after_malformed),
    CASE(test_acquire_fails_closed_on_directory),
    CASE(test_acquire_fails_closed_on_unreadable),
    CASE(test_acquire_never_follows_symlink),
    CASE(test_acquire_rejects_control_characters),
    CASE(test_acquire_huge_garbage_is_malformed),
    CASE(test_release_by_owner_removes_the_file),
    CASE(test_release_by_stranger_leaves_file_untouched),
    CASE(test_release_never_matches_a_missing_token),
    CASE(test_release_when_missing),
    CASE(test_run_acquires_runs_and_releases),
    CASE(test_run_held_does_not_run_the_body),
    CASE(test_run_inherited_token_runs_without_acquiring),
    CASE(test_run_stale_inherited_token_acquires_with_one_warning),
    CASE(test_run_wrong_inherited_token_is_held),
    CASE(test_original_payload_read_field_for_field),
    CASE(test_pid_reuse_detected_by_start_time),
    CASE(test_reboot_detected_by_boot_id),
    CASE(test_renew_extends_expires_at),
    CASE(test_fence_increases_per_acquisition),
    CASE(test_fence_at_its_limit_fails_closed),
    CASE(test_living_process_group_keeps_the_lease),
    CASE(test_acquire_records_the_process_group),
    CASE(test_renew_bounds_a_huge_stale_after_ms),
    CASE(test_ttl_over_the_limit_is_refused),
    CASE(test_nul_and_lone_surrogates_read_as_written),
    CASE(test_acquire_system_errors_fail_closed),
    CASE(test_replace_error_keeps_the_stale_file),
    CASE(test_release_error_is_reported),
    CASE(test_run_reports_a_failed_release),
    CASE(test_read_errors_are_unreadable),
    CASE(test_a_fifo_at_the_path_is_unreadable_not_a_hang),
    CASE(test_a_lease_written_meanwhile_by_a_lockless_writer_is_never_replaced),
    CASE(test_a_file_system_without_exchange_still_takes_over),
    CASE(test_renew_edge_statuses),
    CASE(test_lock_timeout_fails_closed),
    CASE(test_endless_eintr_never_reads_a_live_lease_as_empty),
    CASE(test_publish_race_is_retried_then_fails_closed),
    CASE(test_leftover_temporary_file_is_replaced),
    CASE(test_path_from_environment_variable),
    CASE(test_unparsable_acquired_at_defers_to_expires_at),
    CASE(test_file_being_written_is_not_reclaimed),
};
#define CASE_COUNT (sizeof behaviour_cases / sizeof behaviour_cases[0])

/* The same cases for one implementation; the implementation rides in as
 * cmocka's initial state (prestate). */
static int run_for(struct impl_case *impl, const char *group) {
    struct CMUnitTest tests[CASE_COUNT];
    size_t count = 0;
    for (size_t index = 0; index < CASE_COUNT; index++) {
        const char *reason = impl->ops->traits.outside_the_world ? etcd_skip_reason(behaviour_cases[index].name) : NULL;
        if (reason != NULL) {
            printf("[  SKIP    ] %s: %s\n", behaviour_cases[index].name, reason);
            continue;
        }
        tests[count++] = (struct CMUnitTest){.name = behaviour_cases[index].name,
                                             .test_func = behaviour_cases[index].function,
                                             .setup_func = setup,
                                             .teardown_func = teardown,
                                             .initial_state = impl};
    }
    return _cmocka_run_group_tests(group, tests, count, NULL, NULL);
}

/* Every implementation of the registry (src/lease_implementations.h) that
 * keeps its lease in files; the group is named impl_<name> ('-' as '_'). */
int main(void) {
    int failures = 0;
    /* With a cluster named, the implementations that keep their lease there;
     * without, the ones that keep it in files. */
    fake_env_etcd_endpoints = getenv("LEASE_TEST_ETCD_ENDPOINTS");
    bool outside = fake_env_etcd_endpoints != NULL && fake_env_etcd_endpoints[0] != '\0';
    if (!outside) fake_env_etcd_endpoints = NULL;
    for (size_t index = 0; index < lease_impl_count(); index++) {
        const struct lease_ops *ops = lease_impl_at(index);
        if (ops->traits.outside_the_world != outside) {
            printf("test_lease_lib: %s skipped: %s\n", ops->name,
                   outside ? "it keeps the lease in files (its suite: make test-lib)"
                           : "it keeps the lease outside files (its suite: make test-etcd)");
            continue;
        }
        struct impl_case impl = {.ops = ops,
                                 .checks_pid = ops->traits.checks_pid,
                                 .detects_reuse = ops->traits.detects_reuse,
                                 .can_renew = ops->renew != NULL,
                                 .writes_fence = ops->traits.writes_fence,
                                 .publishes_whole = ops->traits.publishes_whole,
                                 .write_grace = ops->traits.write_grace};
        char group[64] = "impl_";
        for (size_t at = 0; ops->name[at] != '\0' && at + 6 < sizeof group; at++)
            group[5 + at] = ops->name[at] == '-' ? '_' : ops->name[at];
        printf("=== %s\n", group);
        fflush(stdout);
        failures += run_for(&impl, group);
    }
    return failures == 0 ? 0 : 1;
}
