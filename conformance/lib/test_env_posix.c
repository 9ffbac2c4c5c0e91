/*
 * test_env_posix.c: the real environment against the real kernel: the
 * sidecar lock is exclusive across processes and released when its holder
 * dies, pids and start times come from /proc, file calls carry errno back.
 * Child processes synchronise through pipes, never through sleeps.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lease_impl.h"

struct scratch {
    char directory[64];
    char path[128];
};

static int setup(void **state) {
    struct scratch *scratch = calloc(1, sizeof *scratch);
    if (scratch == NULL) return -1;
    snprintf(scratch->directory, sizeof scratch->directory, "/tmp/lease-posix-XXXXXX");
    if (mkdtemp(scratch->directory) == NULL) return -1;
    snprintf(scratch->path, sizeof scratch->path, "%s/file", scratch->directory);
    *state = scratch;
    return 0;
}

static int teardown(void **state) {
    struct scratch *scratch = *state;
    char entry[192];
    static const char *const names[] = {"file", "file2", "link", "fifo", "lock", "dir"};
    for (size_t index = 0; index < sizeof names / sizeof names[0]; index++) {
        snprintf(entry, sizeof entry, "%s/%s", scratch->directory, names[index]);
        if (unlink(entry) != 0) rmdir(entry);
    }
    rmdir(scratch->directory);
    free(scratch);
    return 0;
}

static void test_lock_is_exclusive_and_dropped_when_the_holder_dies(void **state) {
    struct scratch *scratch = *state;
    const struct lease_env *env = lease_env_posix();
    char lock_path[192];
    snprintf(lock_path, sizeof lock_path, "%s/lock", scratch->directory);
    int ready[2];
    int release[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(release), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int fd;
        if (env->lock(env->context, lock_path, 0, &fd) != 0) _exit(2);
        if (write(ready[1], "r", 1) != 1) _exit(3);
        char byte;
        if (read(release[0], &byte, 1) < 0) _exit(4);
        _exit(0); /* dies holding the lock: the kernel must drop it */
    }
    char byte;
    assert_int_equal(read(ready[0], &byte, 1), 1);
    int fd = -1;
    assert_int_equal(env->lock(env->context, lock_path, 0, &fd), -EWOULDBLOCK);
    assert_int_equal(env->lock(env->context, lock_path, 30, &fd), -EWOULDBLOCK);
    assert_int_equal(write(release[1], "x", 1), 1);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(env->lock(env->context, lock_path, 1000, &fd), 0);
    size_t done = 0;
    assert_int_equal(env->pwrite(env->context, fd, "0042\n", 5, 0, &done), 0);
    char text[8] = "";
    assert_int_equal(env->pread(env->context, fd, text, 5, 0, &done), 0);
    assert_memory_equal(text, "0042\n", 5);
    assert_int_equal(env->unlock(env->context, fd), 0);
    for (int index = 0; index < 2; index++) {
        close(ready[index]);
        close(release[index]);
    }
    char missing[192];
    snprintf(missing, sizeof missing, "%s/no/such/lock", scratch->directory);
    assert_int_equal(env->lock(env->context, missing, 0, &fd), -ENOENT);
}

static void test_pid_probe_and_start_time(void **state) {
    (void)state;
    const struct lease_env *env = lease_env_posix();
    int64_t self = env->self_pid(env->context);
    assert_int_equal(self, getpid());
    assert_int_equal(env->pid_probe(env->context, self), 0);
    assert_int_equal(env->pid_probe(env->context, 0), -ESRCH);
    assert_int_equal(env->pid_probe(env->context, -1), -ESRCH);
    assert_int_equal(env->pid_probe(env->context, (int64_t)INT_MAX + 1), -ESRCH);
    uint64_t start_time = 0;
    uint64_t again = 1;
    assert_int_equal(env->pid_start_time(env->context, self, &start_time), 0);
    assert_int_equal(env->pid_start_time(env->context, self, &again), 0);
    assert_true(start_time == again);
    assert_int_equal(env->pid_start_time(env->context, 0, &start_time), -ESRCH);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) _exit(0);
    /* Exited but not reaped: a zombie holds nothing. */
    siginfo_t info;
    assert_int_equal(waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT), 0);
    assert_int_equal(env->pid_probe(env->context, child), -ESRCH);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    /* Reaped: gone (unless the kernel already reused the pid, vanishingly rare). */
    assert_int_equal(env->pid_probe(env->context, child), -ESRCH);
    assert_int_equal(env->pid_start_time(env->context, child, &start_time), -ESRCH);
}

static void test_boot_id_random_clocks(void **state) {
    (void)state;
    const struct lease_env *env = lease_env_posix();
    char boot_id[64];
    assert_int_equal(env->boot_id(env->context, boot_id, sizeof boot_id), 0);
    assert_int_equal(strlen(boot_id), 36);
    unsigned char first[16];
    unsigned char second[16];
    assert_int_equal(env->random_bytes(env->context, first, sizeof first), 0);
    assert_int_equal(env->random_bytes(env->context, second, sizeof second), 0);
    assert_memory_not_equal(first, second, sizeof first);
    int64_t before = env->monotonic_ms(env->context);
    assert_int_equal(env->sleep_ms(env->context, 2), 0);
    assert_true(env->monotonic_ms(env->context) >= before + 2);
    assert_true(env->wall_clock_ms(env->context) > 1700000000000LL);
    setenv("LEASE_TEST_VARIABLE", "yes", 1);
    assert_string_equal(env->getenv(env->context, "LEASE_TEST_VARIABLE"), "yes");
    env->warn(env->context, "test_env_posix: a warning line on stderr (expected)");
}

static void test_file_calls_carry_errno(void **state) {
    struct scratch *scratch = *state;
    const struct lease_env *env = lease_env_posix();
    char other[192];
    char link_path[192];
    char directory[192];
    snprintf(other, sizeof other, "%s/file2", scratch->directory);
    snprintf(link_path, sizeof link_path, "%s/link", scratch->directory);
    snprintf(directory, sizeof directory, "%s/dir", scratch->directory);
    int fd;
    assert_int_equal(env->create_exclusive(env->context, scratch->path, &fd), 0);
    size_t done = 0;
    assert_int_equal(env->write(env->context, fd, "hello", 5, &done), 0);
    assert_int_equal(done, 5);
    assert_int_equal(env->fsync(env->context, fd), 0);
    struct lease_stat stat;
    assert_int_equal(env->fstat(env->context, fd, &stat), 0);
    assert_true(stat.is_regular);
    assert_int_equal(stat.size_bytes, 5);
    assert_int_equal(env->close(env->context, fd), 0);
    assert_int_equal(env->create_exclusive(env->context, scratch->path, &fd), -EEXIST);
    assert_int_equal(env->open_read(env->context, scratch->path, &fd), 0);
    char buffer[8];
    assert_int_equal(env->read(env->context, fd, buffer, sizeof buffer, &done), 0);
    assert_int_equal(done, 5);
    assert_int_equal(env->read(env->context, -1, buffer, sizeof buffer, &done), -EBADF);
    assert_int_equal(env->write(env->context, -1, buffer, 1, &done), -EBADF);
    assert_int_equal(env->fsync(env->context, -1), -EBADF);
    assert_int_equal(env->fstat(env->context, -1, &stat), -EBADF);
    assert_int_equal(env->pread(env->context, -1, buffer, 1, 0, &done), -EBADF);
    assert_int_equal(env->pwrite(env->context, -1, buffer, 1, 0, &done), -EBADF);
    assert_int_equal(env->close(env->context, fd), 0);
    assert_int_equal(env->close(env->context, -1), -EBADF);
    assert_int_equal(env->unlock(env->context, -1), -EBADF);
    assert_int_equal(env->link(env->context, scratch->path, other), 0);
    assert_int_equal(env->link(env->context, scratch->path, other), -EEXIST);
    assert_int_equal(env->rename(env->context, other, scratch->path), 0); /* same inode: no-op */
    assert_int_equal(env->unlink(env->context, other), 0);
    assert_int_equal(env->rename(env->context, other, scratch->path), -ENOENT);
    assert_int_equal(symlink(scratch->path, link_path), 0);
    assert_int_equal(env->lstat(env->context, link_path, &stat), 0);
    assert_true(stat.is_symlink);
    assert_int_equal(env->open_read(env->context, link_path, &fd), -ELOOP);
    assert_int_equal(env->create_exclusive(env->context, link_path, &fd), -EEXIST);
    assert_int_equal(env->lstat(env->context, other, &stat), -ENOENT);
    assert_int_equal(env->unlink(env->context, other), -ENOENT);
    assert_int_equal(env->mkdir(env->context, directory), 0);
    assert_int_equal(env->mkdir(env->context, directory), -EEXIST);
    assert_int_equal(env->lstat(env->context, directory, &stat), 0);
    assert_true(stat.is_directory);
}

/* A file's times are set by whoever can write it (touch -d, utimensat) and
 * tmpfs keeps any second count: the environment saturates them instead of
 * overflowing (UBSan aborts in the sanitizer build without the bound). */
static void test_extreme_file_times_saturate(void **state) {
    (void)state;
    char path[] = "/dev/shm/lease-times-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        printf("skipped: no /dev/shm (tmpfs) to hold a file with an extreme time\n");
        return;
    }
    const struct lease_env *env = lease_env_posix();
    static const time_t extremes[] = {INT64_MAX / 10, INT64_MIN / 10};
    for (size_t index = 0; index < sizeof extremes / sizeof extremes[0]; index++) {
        struct timespec times[2] = {{.tv_sec = 0}, {.tv_sec = extremes[index], .tv_nsec = 999999999}};
        struct stat kernel;
        if (futimens(fd, times) != 0 || fstat(fd, &kernel) != 0 || kernel.st_mtim.tv_sec != extremes[index]) {
            printf("skipped: the kernel refused or clamped an extreme modification time\n");
            continue;
        }
        struct lease_stat stat;
        assert_int_equal(env->fstat(env->context, fd, &stat), 0);
        assert_int_equal(stat.mtime_ms, extremes[index] > 0 ? LEASE_STAT_TIME_MS_MAX : -LEASE_STAT_TIME_MS_MAX);
        assert_int_equal(env->lstat(env->context, path, &stat), 0);
        assert_int_equal(stat.mtime_ms, extremes[index] > 0 ? LEASE_STAT_TIME_MS_MAX : -LEASE_STAT_TIME_MS_MAX);
    }
    close(fd);
    unlink(path);
}

static void test_make_parents_handles_existing_and_blocked_paths(void **state) {
    struct scratch *scratch = *state;
    const struct lease_env *env = lease_env_posix();
    char nested[192];
    snprintf(nested, sizeof nested, "%s/dir//a/b/lease.json", scratch->directory);
    assert_int_equal(lease_make_parents(env, nested), 0);
    assert_int_equal(lease_make_parents(env, nested), 0);
    char blocked[192];
    int fd;
    assert_int_equal(env->create_exclusive(env->context, scratch->path, &fd), 0);
    env->close(env->context, fd);
    snprintf(blocked, sizeof blocked, "%s/file/lease.json", scratch->directory);
    /* A file where a directory should be: the later open says ENOTDIR. */
    assert_int_equal(lease_make_parents(env, blocked), 0);
    assert_int_equal(env->create_exclusive(env->context, blocked, &fd), -ENOTDIR);
    char too_long[LEASE_PATH_MAX + 4];
    memset(too_long, 'x', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    assert_int_equal(lease_make_parents(env, too_long), -ENAMETOOLONG);
    char remove_command[256];
    snprintf(remove_command, sizeof remove_command, "%s/dir/a/b", scratch->directory);
    rmdir(remove_command);
    snprintf(remove_command, sizeof remove_command, "%s/dir/a", scratch->directory);
    rmdir(remove_command);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lock_is_exclusive_and_dropped_when_the_holder_dies, setup, teardown),
        cmocka_unit_test(test_pid_probe_and_start_time),
        cmocka_unit_test(test_boot_id_random_clocks),
        cmocka_unit_test_setup_teardown(test_file_calls_carry_errno, setup, teardown),
        cmocka_unit_test_setup_teardown(test_make_parents_handles_existing_and_blocked_paths, setup, teardown),
        cmocka_unit_test(test_extreme_file_times_saturate),
    };
    return cmocka_run_group_tests_name("env_posix", tests, NULL, NULL);
}
