/*
 * etcd_lib_cases.h: which cases of the library suite (conformance/lib/
 * test_lease_lib.c) do not apply to the etcd implementation, one reason each
 * (docs/etcd.md, "The same suites"). Every case not named here runs against a
 * real etcd (make test-etcd starts one: conformance/etcd/etcd_member.py).
 *
 * The reasons: the case seeds the lease as a file on disk, reads the file
 * back, drives a pid/group/boot probe that this backend never makes (dead
 * holders are found by the etcd lease's expiry, docs/spec.md section 10),
 * injects file-system faults, or judges expiry by the fake clock (etcd's
 * clock is the judge).
 */
#ifndef ETCD_LIB_CASES_H
#define ETCD_LIB_CASES_H

#include <stddef.h>
#include <string.h>

#define ETCD_SEEDS_FILE "seeds the lease as a file on disk (etcd values are seeded in conformance/etcd, pytest)"
#define ETCD_READS_FILE "reads the lease file on disk back (the etcd value is checked in conformance/etcd)"
#define ETCD_NO_PROBE "pid, process-group and boot probes: etcd finds dead holders by lease expiry only"
#define ETCD_FILE_FAULTS "injects file-system faults (etcd's faults: test_etcd_algorithm, multihost)"

static const struct {
    const char *name;
    const char *reason;
} etcd_skipped_cases[] = {
    {"test_inspect_active_live_holder", ETCD_SEEDS_FILE},
    {"test_inspect_dead_pid_is_stale_when_pid_checked", ETCD_NO_PROBE},
    {"test_inspect_eperm_pid_counts_as_alive", ETCD_NO_PROBE},
    {"test_inspect_expires_at_boundary_is_stale", ETCD_SEEDS_FILE},
    {"test_inspect_expires_at_wins_over_stale_after_ms", ETCD_SEEDS_FILE},
    {"test_inspect_acquired_plus_stale_after_ms_boundary", ETCD_SEEDS_FILE},
    {"test_inspect_unusable_fields_are_stale", ETCD_SEEDS_FILE},
    {"test_inspect_bad_pids_are_dead_when_pid_checked", ETCD_NO_PROBE},
    {"test_inspect_malformed_payloads", ETCD_SEEDS_FILE},
    {"test_inspect_directory_is_unreadable", ETCD_SEEDS_FILE},
    {"test_inspect_permission_denied_is_unreadable", ETCD_FILE_FAULTS},
    {"test_inspect_symlink_is_not_followed", ETCD_SEEDS_FILE},
    {"test_acquire_missing_writes_the_file_format", ETCD_READS_FILE},
    {"test_held_leaves_file_unchanged", ETCD_SEEDS_FILE},
    {"test_acquire_after_dead_pid", ETCD_NO_PROBE},
    {"test_acquire_after_expiry", ETCD_SEEDS_FILE},
    {"test_acquire_after_malformed", ETCD_SEEDS_FILE},
    {"test_acquire_fails_closed_on_directory", ETCD_SEEDS_FILE},
    {"test_acquire_fails_closed_on_unreadable", ETCD_FILE_FAULTS},
    {"test_acquire_never_follows_symlink", ETCD_SEEDS_FILE},
    {"test_acquire_huge_garbage_is_malformed", ETCD_SEEDS_FILE},
    {"test_release_by_stranger_leaves_file_untouched", ETCD_SEEDS_FILE},
    {"test_release_never_matches_a_missing_token", ETCD_SEEDS_FILE},
    {"test_run_held_does_not_run_the_body", ETCD_SEEDS_FILE},
    {"test_run_inherited_token_runs_without_acquiring", ETCD_SEEDS_FILE},
    {"test_run_stale_inherited_token_acquires_with_one_warning", ETCD_SEEDS_FILE},
    {"test_run_wrong_inherited_token_is_held", ETCD_SEEDS_FILE},
    {"test_original_payload_read_field_for_field", ETCD_SEEDS_FILE},
    {"test_pid_reuse_detected_by_start_time", ETCD_NO_PROBE},
    {"test_reboot_detected_by_boot_id", ETCD_NO_PROBE},
    {"test_fence_at_its_limit_fails_closed", ETCD_SEEDS_FILE},
    {"test_living_process_group_keeps_the_lease", ETCD_NO_PROBE},
    {"test_acquire_records_the_process_group", ETCD_READS_FILE},
    {"test_renew_bounds_a_huge_stale_after_ms", ETCD_SEEDS_FILE},
    {"test_nul_and_lone_surrogates_read_as_written", ETCD_SEEDS_FILE},
    {"test_acquire_system_errors_fail_closed", ETCD_FILE_FAULTS},
    {"test_replace_error_keeps_the_stale_file", ETCD_FILE_FAULTS},
    {"test_release_error_is_reported", ETCD_FILE_FAULTS},
    {"test_run_reports_a_failed_release", ETCD_FILE_FAULTS},
    {"test_read_errors_are_unreadable", ETCD_FILE_FAULTS},
    {"test_a_fifo_at_the_path_is_unreadable_not_a_hang", ETCD_SEEDS_FILE},
    {"test_renew_edge_statuses", ETCD_FILE_FAULTS},
    {"test_lock_timeout_fails_closed", ETCD_FILE_FAULTS},
    {"test_endless_eintr_never_reads_a_live_lease_as_empty", ETCD_FILE_FAULTS},
    {"test_publish_race_is_retried_then_fails_closed", ETCD_FILE_FAULTS},
    {"test_leftover_temporary_file_is_replaced", ETCD_SEEDS_FILE},
    {"test_path_from_environment_variable", ETCD_READS_FILE},
    {"test_unparsable_acquired_at_defers_to_expires_at", ETCD_SEEDS_FILE},
    {"test_file_being_written_is_not_reclaimed", ETCD_SEEDS_FILE},
};

/* The reason a case does not apply to etcd, NULL when it runs. */
static inline const char *etcd_skip_reason(const char *name) {
    for (size_t index = 0; index < sizeof etcd_skipped_cases / sizeof etcd_skipped_cases[0]; index++)
        if (strcmp(etcd_skipped_cases[index].name, name) == 0) return etcd_skipped_cases[index].reason;
    return NULL;
}

#endif
