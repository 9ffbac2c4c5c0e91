/*
 * test_units.c: the pure helpers: status table, timestamps, escaping, the
 * deferral lines, payload round trip.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "lease_impl.h"

static void test_status_table_round_trips(void **state) {
    (void)state;
    for (int index = 0; index < LEASE_STATUS_COUNT; index++) {
        enum lease_status parsed;
        assert_true(lease_status_from_name(lease_status_name((enum lease_status)index), &parsed));
        assert_int_equal(parsed, index);
    }
    assert_string_equal(lease_status_name(LEASE_STATUS_ACQUIRED_AFTER_STALE), "acquired-after-stale");
    assert_string_equal(lease_status_name(LEASE_STATUS_NOT_OWNER), "not-owner");
    assert_string_equal(lease_status_name((enum lease_status)999), "unknown");
    enum lease_status ignored;
    assert_false(lease_status_from_name("acquired-after-lunch", &ignored));
}

static void test_status_exit_codes_follow_the_cli_table(void **state) {
    (void)state;
    assert_int_equal(lease_status_exit_code(LEASE_STATUS_ACQUIRED), 0);
    assert_int_equal(lease_status_exit_code(LEASE_STATUS_ACQUIRED_AFTER_MALFORMED), 0);
    assert_int_equal(lease_status_exit_code(LEASE_STATUS_HELD), 75);
    assert_int_equal(lease_status_exit_code(LEASE_STATUS_RELEASED), 0);
    assert_int_equal(lease_status_exit_code(LEASE_STATUS_NOT_OWNER), 1);
    assert_int_equal(lease_status_exit_code(LEASE_STATUS_MISSING), 1);
    assert_int_equal(lease_status_exit_code(LEASE_STATUS_ERROR), 125);
}

static void test_time_format_is_iso_utc_with_milliseconds(void **state) {
    (void)state;
    char text[LEASE_TIMESTAMP_SIZE];
    lease_time_format(0, text);
    assert_string_equal(text, "1970-01-01T00:00:00.000Z");
    lease_time_format(1778959620000LL, text);
    assert_string_equal(text, "2026-05-16T19:27:00.000Z");
    lease_time_format(951782400123LL, text); /* leap day 2000 */
    assert_string_equal(text, "2000-02-29T00:00:00.123Z");
    lease_time_format(-1, text);
    assert_string_equal(text, "1969-12-31T23:59:59.999Z");
}

static void test_time_parse_accepts_the_original_forms(void **state) {
    (void)state;
    int64_t ms;
    assert_true(lease_time_parse("2026-05-16T19:27:00.000Z", &ms));
    assert_int_equal(ms, 1778959620000LL);
    assert_true(lease_time_parse("2026-05-16T19:27:00Z", &ms));
    assert_int_equal(ms, 1778959620000LL);
    assert_true(lease_time_parse("2026-05-16T21:27:00+02:00", &ms));
    assert_int_equal(ms, 1778959620000LL);
    assert_true(lease_time_parse("2026-05-16T14:27:00.5-0500", &ms));
    assert_int_equal(ms, 1778959620500LL);
    assert_true(lease_time_parse("2026-05-16T19:27:00.123456789Z", &ms));
    assert_int_equal(ms, 1778959620123LL);
}

static void test_time_parse_rejects_garbage(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        "yesterday",
        "2026-05-16",
        "2026-05-16T19:27:00",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-05-16T24:00:00Z",
        "2026-05-16T19:27:00.Z",
        "2026-05-16T19:27:00Zjunk",
        "2026-05-16T19:27:00+2",
        "20260516T192700Z",
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        int64_t ms;
        assert_false(lease_time_parse(bad[index], &ms));
    }
}

static void test_time_parse_checks_every_field(void **state) {
    (void)state;
    static const char *const bad[] = {
        "2026x05-16T19:27:00Z",
        "2026-0x-16T19:27:00Z",
        "2026-05x16T19:27:00Z",
        "2026-05-1xT19:27:00Z",
        "2026-05-16x19:27:00Z",
        "2026-05-16T1x:27:00Z",
        "2026-05-16T19x27:00Z",
        "2026-05-16T19:2x:00Z",
        "2026-05-16T19:27x00Z",
        "2026-05-16T19:27:0xZ",
        "2026-00-16T19:27:00Z",
        "2026-05-00T19:27:00Z",
        "2026-05-32T19:27:00Z",
        "2026-05-16T19:60:00Z",
        "2026-05-16T19:27:60Z",
        "2100-02-29T00:00:00Z",
        "2026-05-16T19:27:00+25:00",
        "2026-05-16T19:27:00+05:60",
        "2026-05-16T19:27:00+05:0x",
        "2026-05-16T19:27:00+0x:00",
        "2026-05-16T19:27:00+05:00x",
        "2026-05-16T19:27:00.1234567890123456789012345"
        "678901234567890123456789012345678901234567890123Z",
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        int64_t ms;
        if (lease_time_parse(bad[index], &ms)) fail_msg("parsed: %s", bad[index]);
    }
    int64_t ms;
    assert_true(lease_time_parse("2024-02-29t00:00:00z", &ms));
    assert_true(lease_time_parse("2000-02-29 00:00:00Z", &ms));
    assert_true(lease_time_parse("0001-01-01T00:00:00Z", &ms));
    assert_int_equal(ms, -62135596800000LL);
    assert_true(lease_time_parse("1969-12-31T23:59:59.999Z", &ms));
    assert_int_equal(ms, -1);
    char text[LEASE_TIMESTAMP_SIZE];
    lease_time_format(-62135596800000LL, text);
    assert_string_equal(text, "0001-01-01T00:00:00.000Z");
    lease_time_format(-70000000000000LL, text); /* before year 0: clamped to keep the width */
    assert_int_equal(strlen(text), 24);
    lease_time_format(300000000000000LL, text); /* after 9999 */
    assert_int_equal(strlen(text), 24);
    for (int64_t day = -800000; day < 800000; day += 997) { /* round trip across eras */
        lease_time_format(day * 86400000LL + 12345, text);
        assert_true(lease_time_parse(text, &ms));
        if (day > -719000 && day < 2932000) assert_int_equal(ms, day * 86400000LL + 12345);
    }
}

static void test_escape_handles_every_utf8_shape(void **state) {
    (void)state;
    char out[64];
    lease_escape_text("\xf0\x9f\x98\x80", out, sizeof out); /* 4-byte emoji passes */
    assert_string_equal(out, "\xf0\x9f\x98\x80");
    static const struct {
        const char *input;
        const char *expected;
    } cases[] = {
        {"\xc0\x80", "\\xc0\\x80"},                   /* overlong */
        {"\xed\xa0\x80", "\\xed\\xa0\\x80"},          /* surrogate */
        {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"}, /* beyond U+10FFFF */
        {"\xf5", "\\xf5"},                            /* impossible lead */
        {"\xe2\x28\xa1", "\\xe2(\\xa1"},              /* bad continuation */
        {"\x7f", "\\x7f"},                            /* DEL */
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        lease_escape_text(cases[index].input, out, sizeof out);
        assert_string_equal(out, cases[index].expected);
    }
    lease_escape_text("\x1b", out, 4); /* no room for the 4-byte escape */
    assert_string_equal(out, "");
    lease_escape_text("\\", out, 2);
    assert_string_equal(out, "");
    lease_escape_text("\xc3\xa9", out, 2);
    assert_string_equal(out, "");
    lease_escape_text("x", out, 0); /* nothing written, no crash */
    assert_false(lease_copy_text(out, sizeof out, "short"));
    assert_true(lease_copy_text(out, 3, "\xc3\xa9\xc3\xa9")); /* cut before a split character */
    assert_string_equal(out, "\xc3\xa9");
    assert_true(lease_text_is_clean("caf\xc3\xa9 \xf0\x9f\x98\x80"));
    assert_false(lease_text_is_clean("a\xff"
                                     "b"));
    assert_false(lease_text_is_clean("tab\there"));
    assert_false(lease_text_is_clean("c1\xc2\x9b"));
    assert_true(lease_copy_text(out, 0, "x"));
    assert_false(lease_copy_text(out, 0, ""));
}

static void test_status_helpers_outside_the_table(void **state) {
    (void)state;
    assert_int_equal(lease_status_exit_code((enum lease_status) - 1), 125);
    assert_int_equal(lease_status_exit_code(LEASE_STATUS_COUNT), 125);
    int acquired = 0;
    for (int index = 0; index < LEASE_STATUS_COUNT; index++)
        acquired += lease_status_is_acquired((enum lease_status)index);
    assert_int_equal(acquired, 3);
    struct lease_result result = {0};
    char small[8];
    assert_int_equal(lease_format_deferral(&result, small, 0), 0);
    assert_int_equal(lease_format_deferral(&result, small, sizeof small), sizeof small - 1);
}

/* "admin\u202Eexe.txt" would display as "admintxt.exe": bidirectional
 * controls are escaped like other controls, and refused in caller text. */
static void test_bidi_controls_are_escaped_and_refused(void **state) {
    (void)state;
    char out[128];
    lease_escape_text("admin\xe2\x80\xae"
                      "exe.txt",
                      out, sizeof out);
    assert_string_equal(out, "admin\\xe2\\x80\\xae"
                             "exe.txt");
    static const char *const controls[] = {"\xd8\x9c",     "\xe2\x80\x8e", "\xe2\x80\x8f", "\xe2\x80\xaa",
                                           "\xe2\x80\xad", "\xe2\x81\xa6", "\xe2\x81\xa9"};
    for (size_t index = 0; index < sizeof controls / sizeof controls[0]; index++) {
        lease_escape_text(controls[index], out, sizeof out);
        assert_int_equal(out[0], '\\');
        assert_false(lease_text_is_clean(controls[index]));
    }
    assert_true(lease_text_is_clean("caf\xc3\xa9 \xe2\x80\x90")); /* U+2010 hyphen is not a control */
}

static void test_escape_neutralises_terminal_sequences(void **state) {
    (void)state;
    char out[128];
    lease_escape_text("evil\x1b]0;pwned\x07\x1b[2J", out, sizeof out);
    assert_string_equal(out, "evil\\x1b]0;pwned\\x07\\x1b[2J");
    lease_escape_text("caf\xc3\xa9 \xe2\x8f\xb8 ok", out, sizeof out);
    assert_string_equal(out, "caf\xc3\xa9 \xe2\x8f\xb8 ok");
    lease_escape_text("bad\xff\xc2\x9b utf8 \\", out, sizeof out); /* invalid byte, C1 CSI, backslash */
    assert_string_equal(out, "bad\\xff\\xc2\\x9b utf8 \\\\");
    lease_escape_text("cut here", out, 4);
    assert_string_equal(out, "cut");
}

static void test_deferral_lines_exact(void **state) {
    (void)state;
    struct lease_result result = {0};
    result.status = LEASE_STATUS_HELD;
    result.has_lease = true;
    strcpy(result.lease.owner, "kbSync");
    strcpy(result.lease.reason, "manual-cli");
    strcpy(result.lease.pid_text, "4242");
    strcpy(result.lease.acquired_at, "2026-05-16T19:27:00.000Z");
    char text[1024];
    lease_format_deferral(&result, text, sizeof text);
    assert_string_equal(text, "\xe2\x8f\xb8\xef\xb8\x8f  Deferred: heavy-maintenance lease held by 'kbSync' "
                              "(reason='manual-cli', pid=4242, acquiredAt=2026-05-16T19:27:00.000Z).\n"
                              "   This script will not run while another heavy-maintenance task is active.\n");
    strcpy(result.lease.owner, "x\x1b[31m");
    lease_format_deferral(&result, text, sizeof text);
    assert_non_null(strstr(text, "held by 'x\\x1b[31m'"));
    result.has_lease = false; /* hazard 7: held without a readable holder */
    lease_format_deferral(&result, text, sizeof text);
    assert_non_null(strstr(text, "held by 'unknown' (reason='unknown', pid=unknown, acquiredAt=unknown)."));
}

static void test_payload_round_trip_keeps_key_order(void **state) {
    (void)state;
    struct lease_holder holder = {0};
    strcpy(holder.owner, "sandman");
    strcpy(holder.reason, "manual-cli");
    holder.pid = 12;
    strcpy(holder.token, "t");
    strcpy(holder.acquired_at, "2026-05-16T19:27:00.000Z");
    holder.stale_after_ms = 1000;
    strcpy(holder.expires_at, "2026-05-16T19:27:01.000Z");
    holder.has_fence = true;
    holder.fence = 9;
    size_t length = 0;
    char *text = lease_payload_format(&holder, true, &length);
    assert_non_null(text);
    assert_string_equal(text, "{\n  \"owner\": \"sandman\",\n  \"reason\": \"manual-cli\",\n  \"pid\": 12,\n"
                              "  \"token\": \"t\",\n  \"acquiredAt\": \"2026-05-16T19:27:00.000Z\",\n"
                              "  \"staleAfterMs\": 1000,\n  \"expiresAt\": \"2026-05-16T19:27:01.000Z\",\n"
                              "  \"metadata\": {\n    \"fence\": 9\n  }\n}\n");
    struct lease_holder parsed;
    char detail[128];
    assert_int_equal(lease_payload_parse(text, length, &parsed, NULL, detail, sizeof detail), LEASE_PARSE_OK);
    assert_string_equal(parsed.owner, "sandman");
    assert_int_equal(parsed.fence, 9);
    assert_int_equal(parsed.pid, 12);
    lease_free(text);
}

static void test_long_owner_is_cut_and_flagged(void **state) {
    (void)state;
    char text[2048];
    char owner[1000];
    memset(owner, 'a', sizeof owner - 1);
    owner[sizeof owner - 1] = '\0';
    snprintf(text, sizeof text, "{\"owner\":\"%s\"}", owner);
    struct lease_holder parsed;
    char detail[128];
    assert_int_equal(lease_payload_parse(text, strlen(text), &parsed, NULL, detail, sizeof detail), LEASE_PARSE_OK);
    assert_true(parsed.truncated);
    assert_int_equal(strlen(parsed.owner), LEASE_TEXT_MAX - 1);
}

/* The parse cache (payload.c) answers a repeat of the same bytes: the
 * answer must be the one a fresh parse gives, for the same bytes only. */
static void test_parse_repeats_give_the_first_answer(void **state) {
    (void)state;
    const char *first = "{\"owner\":\"sandman\",\"pid\":12,\"token\":\"aaaa\",\"staleAfterMs\":5}";
    const char *other = "{\"owner\":\"sandman\",\"pid\":12,\"token\":\"bbbb\",\"staleAfterMs\":5}";
    const char *broken = "{\"owner\":\"sandman\",\"pid\":";
    struct lease_holder once, again, different;
    char *json_once = NULL, *json_again = NULL, *json_other = NULL;
    char detail_once[LEASE_DETAIL_MAX] = "", detail_again[LEASE_DETAIL_MAX] = "";
    assert_int_equal(lease_payload_parse(first, strlen(first), &once, &json_once, detail_once, sizeof detail_once),
                     LEASE_PARSE_OK);
    assert_int_equal(lease_payload_parse(first, strlen(first), &again, &json_again, detail_again, sizeof detail_again),
                     LEASE_PARSE_OK);
    assert_memory_equal(&once, &again, sizeof once);
    assert_string_equal(json_once, first);
    assert_string_equal(json_again, first);
    /* Same length, other bytes: never the cached answer. */
    assert_int_equal(
        lease_payload_parse(other, strlen(other), &different, &json_other, detail_again, sizeof detail_again),
        LEASE_PARSE_OK);
    assert_string_equal(different.token, "bbbb");
    assert_string_equal(json_other, other);
    assert_int_equal(lease_payload_parse(broken, strlen(broken), &once, NULL, detail_once, sizeof detail_once),
                     LEASE_PARSE_MALFORMED);
    assert_int_equal(lease_payload_parse(broken, strlen(broken), &again, NULL, detail_again, sizeof detail_again),
                     LEASE_PARSE_MALFORMED);
    assert_string_equal(detail_once, detail_again);
    assert_non_null(strstr(detail_again, "not JSON"));
    lease_free(json_once);
    lease_free(json_again);
    lease_free(json_other);
}

static void test_registry_finds_every_implementation(void **state) {
    (void)state;
    assert_int_equal(lease_impl_count(), 4);
    assert_ptr_equal(lease_impl_find(NULL), lease_impl_default());
    assert_ptr_equal(lease_impl_find(""), lease_impl_default());
    assert_null(lease_impl_find("neo-v3"));
    assert_null(lease_impl_at(lease_impl_count()));
    for (size_t index = 0; index < lease_impl_count(); index++) {
        const struct lease_ops *ops = lease_impl_at(index);
        assert_ptr_equal(lease_impl_find(lease_impl_name(ops)), ops);
        assert_true(strlen(lease_impl_description(ops)) > 10);
    }
    assert_string_equal(lease_impl_name(NULL), "lease");
    assert_string_equal(lease_impl_name(lease_impl_find("neo-v2")), "neo-v2");
    assert_ptr_equal(lease_impl_description(NULL), lease_impl_description(lease_impl_default()));
}

static void test_options_problems_are_named(void **state) {
    (void)state;
    struct lease_options options = {.owner = "x"};
    assert_null(lease_options_problem(&options, true));
    assert_string_equal(lease_options_problem(NULL, false), "no options given");
    options.ttl_ms = -1;
    assert_string_equal(lease_options_problem(&options, true), "ttl must be a positive number of milliseconds");
    options.ttl_ms = 0;
    options.lock_timeout_ms = -5;
    assert_string_equal(lease_options_problem(&options, true), "lock timeout must not be negative");
    options.lock_timeout_ms = 0;
    options.path = "";
    assert_string_equal(lease_options_problem(&options, true), "lease path is empty");
    options.path = NULL;
    char long_text[LEASE_TEXT_MAX + 10];
    memset(long_text, 'r', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    options.reason = long_text;
    assert_string_equal(lease_options_problem(&options, true), "reason is too long");
    options.reason = NULL;
    options.owner = long_text;
    assert_string_equal(lease_options_problem(&options, true), "owner is too long");
    options.owner = NULL;
    assert_null(lease_options_problem(&options, false));
}

static void test_resolve_path_prefers_flag_then_default(void **state) {
    (void)state;
    char buffer[LEASE_PATH_MAX];
    assert_int_equal(lease_resolve_path(NULL, "/tmp/flag.json", buffer, sizeof buffer), 0);
    assert_string_equal(buffer, "/tmp/flag.json");
    unsetenv(LEASE_PATH_ENV);
    assert_int_equal(lease_resolve_path(NULL, NULL, buffer, sizeof buffer), 0);
    assert_string_equal(buffer, LEASE_DEFAULT_PATH);
    setenv(LEASE_PATH_ENV, "/tmp/env.json", 1);
    assert_int_equal(lease_resolve_path(NULL, NULL, buffer, sizeof buffer), 0);
    assert_string_equal(buffer, "/tmp/env.json");
    setenv(LEASE_PATH_ENV, "", 1); /* empty counts as unset */
    assert_int_equal(lease_resolve_path(NULL, NULL, buffer, sizeof buffer), 0);
    assert_string_equal(buffer, LEASE_DEFAULT_PATH);
    unsetenv(LEASE_PATH_ENV);
    assert_int_equal(lease_resolve_path(NULL, "/tmp/x", buffer, 4), -ENAMETOOLONG);
}

static void test_entry_points_reject_bad_options_and_versions(void **state) {
    (void)state;
    struct lease_result result;
    struct lease_options options = {.path = "/nonexistent/lease.json", .owner = "x", .ttl_ms = -1};
    assert_int_equal(lease_acquire(NULL, NULL, &options, &result), LEASE_STATUS_ERROR);
    assert_int_equal(result.error_number, EINVAL);
    assert_int_equal(lease_inspect(NULL, NULL, NULL, &result), LEASE_STATUS_ERROR);
    struct lease_ops future = lease_ops_default;
    future.version = LEASE_OPS_VERSION + 1;
    options.ttl_ms = 0;
    assert_int_equal(lease_release(&future, NULL, &options, "t", &result), LEASE_STATUS_ERROR);
    assert_string_equal(result.detail, "implementation or environment of another version");
    char long_path[LEASE_PATH_MAX + 10];
    memset(long_path, 'p', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    options.path = long_path;
    assert_int_equal(lease_renew(NULL, NULL, &options, "t", &result), LEASE_STATUS_ERROR);
    assert_int_equal(result.error_number, ENAMETOOLONG);
    assert_int_equal(lease_run(NULL, NULL, &options, NULL, NULL, &result), LEASE_STATUS_ERROR);
}

static void test_result_clear_accepts_null(void **state) {
    (void)state;
    lease_result_clear(NULL);
    struct lease_result result = {0};
    lease_result_clear(&result);
    assert_null(result.payload_json);
    lease_free(NULL);
}

/* The one parser of numbers people write (options, environment, scenarios). */
static void test_parse_integer_takes_digits_only_within_bounds(void **state) {
    (void)state;
    int64_t value = 7;
    assert_true(lease_parse_integer("0", 0, 10, &value) && value == 0);
    assert_true(lease_parse_integer("10", 0, 10, &value) && value == 10);
    assert_true(lease_parse_integer("9223372036854775807", 0, INT64_MAX, &value) && value == INT64_MAX);
    assert_true(lease_parse_integer("-9223372036854775808", INT64_MIN, 0, &value) && value == INT64_MIN);
    assert_true(lease_parse_integer("-5", -10, 10, &value) && value == -5);
    const char *refused[] = {"",
                             "11",
                             "-1",
                             "+5",
                             " 5",
                             "5 ",
                             "0x10",
                             "1e3",
                             "5ms",
                             "-",
                             "--5",
                             "9223372036854775808",
                             "99999999999999999999"};
    for (size_t index = 0; index < sizeof refused / sizeof refused[0]; index++) {
        value = 42;
        assert_false(lease_parse_integer(refused[index], 0, index < 11 ? 10 : INT64_MAX, &value));
        assert_int_equal(value, 42); /* untouched */
    }
    assert_false(lease_parse_integer("-9223372036854775809", INT64_MIN, 0, &value));
    assert_false(lease_parse_integer("-11", -10, 10, &value));
    assert_false(lease_parse_integer(NULL, 0, 10, &value));
    uint64_t seed = 0;
    const char *end = NULL;
    assert_true(lease_parse_unsigned("18446744073709551615", UINT64_MAX, &seed, NULL) && seed == UINT64_MAX);
    assert_false(lease_parse_unsigned("18446744073709551616", UINT64_MAX, &seed, NULL));
    assert_true(lease_parse_unsigned("12..20", UINT64_MAX, &seed, &end) && seed == 12 && strcmp(end, "..20") == 0);
    assert_false(lease_parse_unsigned("12..20", UINT64_MAX, &seed, NULL));
    assert_false(lease_parse_unsigned("65", 64, &seed, NULL));
}

/* An allocator that fails after a number of allocations (jansson's hooks). */
static int allocations_left;
static void *failing_malloc(size_t size) {
    if (allocations_left-- <= 0) return NULL;
    return malloc(size);
}

/* Running out of memory while reading a valid lease never reads it as
 * malformed (which would reclaim a live lease): every failure point answers
 * OK or NO_MEMORY. */
static void test_out_of_memory_never_reads_as_malformed(void **state) {
    (void)state;
    static const char *const payloads[] = {
        "{\"owner\":\"backup\",\"pid\":42,\"acquiredAt\":\"2026-05-17T06:40:00.000Z\",\"staleAfterMs\":5000,"
        "\"metadata\":{\"fence\":3}}",
        "{\"owner\":\"lone \\ud800 surrogate\",\"acquiredAt\":\"2026-05-17T06:40:00.000Z\"}",
    };
    json_malloc_t saved_malloc;
    json_free_t saved_free;
    json_get_alloc_funcs(&saved_malloc, &saved_free);
    for (size_t index = 0; index < sizeof payloads / sizeof payloads[0]; index++) {
        bool saw_no_memory = false, saw_ok = false;
        for (int budget = 0; budget < 64 && !saw_ok; budget++) {
            struct lease_holder holder;
            char detail[LEASE_DETAIL_MAX];
            char *payload_json = NULL;
            allocations_left = budget;
            json_set_alloc_funcs(failing_malloc, free);
            enum lease_parse_outcome outcome = lease_payload_parse(payloads[index], strlen(payloads[index]), &holder,
                                                                   &payload_json, detail, sizeof detail);
            json_set_alloc_funcs(saved_malloc, saved_free);
            assert_int_not_equal(outcome, LEASE_PARSE_MALFORMED);
            saw_no_memory |= outcome == LEASE_PARSE_NO_MEMORY;
            saw_ok |= outcome == LEASE_PARSE_OK;
            free(payload_json);
        }
        assert_true(saw_no_memory && saw_ok);
    }
}

/* The contract's one-line texts at their edges: no buffer, a cut buffer,
 * no operation, no errno, a detail that only repeats the system error. */
static void test_message_texts_at_their_edges(void **state) {
    (void)state;
    struct lease_result result = {0};
    char line[512];
    assert_int_equal(lease_format_error(&result, line, 0), 0);
    assert_int_equal(lease_format_error(&result, line, sizeof line), strlen("lease: failed"));
    assert_string_equal(line, "lease: failed");
    result.error_number = ENOENT;
    result.error_operation = "open";
    snprintf(result.detail, sizeof result.detail, "open x: %s", strerror(ENOENT));
    lease_format_error(&result, line, sizeof line);
    assert_null(strchr(line, '(')); /* said once */
    snprintf(result.detail, sizeof result.detail, "timed out after 10 ms");
    assert_int_equal(lease_format_error(&result, line, 8), 7); /* cut, still terminated */
    assert_int_equal(strlen(line), 7);
    assert_int_equal(lease_format_deferral(&result, line, 0), 0);
    lease_format_deferral(&result, line, sizeof line);
    assert_non_null(strstr(line, "held by 'unknown' (reason='unknown', pid=unknown, acquiredAt=unknown)"));
    assert_int_equal(lease_format_deferral(&result, line, 10), 9);
}

/* "Renew every ttl/3", at its edges: no TTL means the default's third; a TTL
 * too short to divide still renews every millisecond; a keeper without a
 * token, or before its time, does nothing. */
static void test_renew_interval_and_an_idle_keeper(void **state) {
    (void)state;
    assert_int_equal(lease_renew_interval_ms(0), LEASE_DEFAULT_TTL_MS / 3);
    assert_int_equal(lease_renew_interval_ms(-5), LEASE_DEFAULT_TTL_MS / 3);
    assert_int_equal(lease_renew_interval_ms(2), 1);
    assert_int_equal(lease_renew_interval_ms(3000), 1000);
    struct lease_options options = {.ttl_ms = 3000};
    struct lease_result held = {.status = LEASE_STATUS_HELD};
    struct lease_keeper keeper;
    lease_keeper_start(&keeper, &options, &held, 100);
    assert_int_equal(keeper.next_ms, 1100);
    assert_int_equal(lease_keeper_tick(&keeper, lease_impl_default(), NULL, &options, 5000), LEASE_STATUS_NONE);
    held = (struct lease_result){.status = LEASE_STATUS_ACQUIRED, .has_lease = true};
    snprintf(held.lease.token, sizeof held.lease.token, "t");
    lease_keeper_start(&keeper, &options, &held, 100);
    assert_string_equal(keeper.token, "t");
    assert_int_equal(lease_keeper_tick(&keeper, lease_impl_default(), NULL, &options, 1099), LEASE_STATUS_NONE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_table_round_trips),
        cmocka_unit_test(test_parse_repeats_give_the_first_answer),
        cmocka_unit_test(test_bidi_controls_are_escaped_and_refused),
        cmocka_unit_test(test_status_exit_codes_follow_the_cli_table),
        cmocka_unit_test(test_time_format_is_iso_utc_with_milliseconds),
        cmocka_unit_test(test_time_parse_accepts_the_original_forms),
        cmocka_unit_test(test_time_parse_rejects_garbage),
        cmocka_unit_test(test_escape_neutralises_terminal_sequences),
        cmocka_unit_test(test_time_parse_checks_every_field),
        cmocka_unit_test(test_escape_handles_every_utf8_shape),
        cmocka_unit_test(test_status_helpers_outside_the_table),
        cmocka_unit_test(test_deferral_lines_exact),
        cmocka_unit_test(test_payload_round_trip_keeps_key_order),
        cmocka_unit_test(test_long_owner_is_cut_and_flagged),
        cmocka_unit_test(test_registry_finds_every_implementation),
        cmocka_unit_test(test_options_problems_are_named),
        cmocka_unit_test(test_resolve_path_prefers_flag_then_default),
        cmocka_unit_test(test_entry_points_reject_bad_options_and_versions),
        cmocka_unit_test(test_result_clear_accepts_null),
        cmocka_unit_test(test_parse_integer_takes_digits_only_within_bounds),
        cmocka_unit_test(test_out_of_memory_never_reads_as_malformed),
        cmocka_unit_test(test_message_texts_at_their_edges),
        cmocka_unit_test(test_renew_interval_and_an_idle_keeper),
    };
    return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
