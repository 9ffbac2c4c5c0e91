/*
 * cli_wait.c: `--wait`: sleep until the lease may have become free, instead
 * of polling at a fixed pace. What frees a held lease, and how we hear of it:
 *  - a release or takeover changes the lease's directory entry: inotify on
 *    the directory (IN_DELETE, IN_MOVED_*, IN_CLOSE_WRITE, IN_CREATE);
 *  - the holder dies: its pid's pidfd becomes readable;
 *  - its lease expires: a timeout at expiresAt.
 * Anything else (a process-group member ending, a holder on another host)
 * is caught by a slow re-check, every LEASE_CLI_WAIT_RECHECK_MS. A wake is
 * only a reason to try again: the caller acquires, and waits again if held.
 */
#include "cli/cli.h"
#include "lease_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* A lease file this long holds its token near its start. */
#define LEASE_CLI_WAIT_READ_MAX 65536

static int64_t wall_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int64_t monotonic_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int64_t lease_cli_wait_deadline_ms(int64_t wait_ms) {
    return wait_ms < 0 ? INT64_MAX : monotonic_ms() + wait_ms;
}

/* The directory that holds path ("." for a bare name). */
static void directory_of(const char *path, char *directory, size_t size) {
    snprintf(directory, size, "%s", path);
    char *slash = strrchr(directory, '/');
    if (slash == NULL)
        snprintf(directory, size, ".");
    else if (slash == directory)
        slash[1] = '\0';
    else
        *slash = '\0';
}

/* Whether the lease file no longer carries the token of the lease that was
 * held (removed, or replaced by another holder's): checked once the watches
 * are set, so a release between the failed attempt and the watch is never
 * slept through. A held result without a token leaves it to the watches. */
static bool changed_since(const char *lease_path, const struct lease_result *held) {
    if (!held->has_lease || held->lease.token[0] == '\0') return false;
    int fd = open(lease_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return errno == ENOENT;
    char buffer[LEASE_CLI_WAIT_READ_MAX];
    size_t used = 0;
    for (;;) {
        ssize_t got = read(fd, buffer + used, sizeof buffer - used);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0 || (used += (size_t)got) == sizeof buffer) break;
    }
    close(fd);
    return memmem(buffer, used, held->lease.token, strlen(held->lease.token)) == NULL;
}

int lease_cli_wait_for_change(const char *lease_path, const struct lease_result *held, bool file_backed,
                              int64_t deadline_ms) {
    int64_t now_ms = monotonic_ms();
    if (now_ms >= deadline_ms) return -ETIMEDOUT;
    int64_t timeout_ms = deadline_ms - now_ms;
    if (timeout_ms > LEASE_CLI_WAIT_RECHECK_MS) timeout_ms = LEASE_CLI_WAIT_RECHECK_MS;
    int64_t expires_ms;
    if (held->has_lease && lease_time_parse(held->lease.expires_at, &expires_ms)) {
        int64_t until_expiry_ms = expires_ms - wall_ms() + 1;
        if (until_expiry_ms < timeout_ms) timeout_ms = until_expiry_ms > 0 ? until_expiry_ms : 0;
    }
    struct pollfd watched[2];
    int count = 0;
    char directory[LEASE_PATH_MAX];
    directory_of(lease_path, directory, sizeof directory);
    int notify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (notify >= 0 &&
        inotify_add_watch(notify, directory,
                          IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE_SELF) >= 0)
        watched[count++] = (struct pollfd){.fd = notify, .events = POLLIN};
    int holder = -1;
    bool holder_gone = false;
    if (held->has_lease && held->lease.pid_is_integer && held->lease.pid > 0 && held->lease.pid <= INT_MAX) {
        holder = (int)syscall(SYS_pidfd_open, (pid_t)held->lease.pid, 0);
        if (holder >= 0) watched[count++] = (struct pollfd){.fd = holder, .events = POLLIN};
        holder_gone = holder < 0 && errno == ESRCH && file_backed;
    }
    /* What happened before the watches were set would never wake them. */
    bool changed = holder_gone || (file_backed && notify >= 0 && changed_since(lease_path, held));
    int ready = changed ? 1 : poll(watched, (nfds_t)count, (int)timeout_ms);
    int saved_errno = errno;
    if (notify >= 0) close(notify);
    if (holder >= 0) close(holder);
    if (ready < 0 && saved_errno != EINTR) return -saved_errno;
    return 0;
}
