/*
 * env_posix.c: the real environment. The only file of the library that
 * calls the operating system; everything else goes through struct lease_env.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lease_impl.h"

#define LOCK_POLL_FIRST_MS 1
#define LOCK_POLL_MAX_MS 20

static int posix_error(void) {
    return errno != 0 ? -errno : -EIO;
}

static int posix_open_read(void *context, const char *path, int *fd) {
    (void)context;
    /* O_NONBLOCK: a FIFO planted at the path must not hang the reader. */
    int result = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (result < 0) return posix_error();
    *fd = result;
    return 0;
}

static int posix_create_exclusive(void *context, const char *path, int *fd) {
    (void)context;
    int result = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (result < 0) return posix_error();
    *fd = result;
    return 0;
}

static int posix_read(void *context, int fd, void *buffer, size_t size, size_t *done) {
    (void)context;
    ssize_t result = read(fd, buffer, size);
    if (result < 0) return posix_error();
    *done = (size_t)result;
    return 0;
}

static int posix_write(void *context, int fd, const void *buffer, size_t size, size_t *done) {
    (void)context;
    ssize_t result = write(fd, buffer, size);
    if (result < 0) return posix_error();
    *done = (size_t)result;
    return 0;
}

static int posix_fsync(void *context, int fd) {
    (void)context;
    return fsync(fd) == 0 ? 0 : posix_error();
}

/* A timespec in milliseconds, saturated at +-LEASE_STAT_TIME_MS_MAX. */
static int64_t time_ms(const struct timespec *time) {
    int64_t limit_s = LEASE_STAT_TIME_MS_MAX / 1000 - 1;
    if (time->tv_sec > limit_s) return LEASE_STAT_TIME_MS_MAX;
    if (time->tv_sec < -limit_s) return -LEASE_STAT_TIME_MS_MAX;
    return (int64_t)time->tv_sec * 1000 + time->tv_nsec / 1000000;
}

static void fill_stat(const struct stat *source, struct lease_stat *stat) {
    stat->device = (uint64_t)source->st_dev;
    stat->inode = (uint64_t)source->st_ino;
    stat->size_bytes = (int64_t)source->st_size;
    stat->mtime_ms = time_ms(&source->st_mtim);
    stat->ctime_ms = time_ms(&source->st_ctim);
    stat->is_regular = S_ISREG(source->st_mode);
    stat->is_directory = S_ISDIR(source->st_mode);
    stat->is_symlink = S_ISLNK(source->st_mode);
}

static int posix_fstat(void *context, int fd, struct lease_stat *stat) {
    struct stat source;
    (void)context;
    if (fstat(fd, &source) != 0) return posix_error();
    fill_stat(&source, stat);
    return 0;
}

static int posix_lstat(void *context, const char *path, struct lease_stat *stat) {
    struct stat source;
    (void)context;
    if (lstat(path, &source) != 0) return posix_error();
    fill_stat(&source, stat);
    return 0;
}

static int posix_close(void *context, int fd) {
    (void)context;
    return close(fd) == 0 || errno == EINTR ? 0 : posix_error();
}

static int posix_link(void *context, const char *from, const char *to) {
    (void)context;
    return link(from, to) == 0 ? 0 : posix_error();
}

static int posix_rename(void *context, const char *from, const char *to) {
    (void)context;
    return rename(from, to) == 0 ? 0 : posix_error();
}

/* renameat2(2) with RENAME_EXCHANGE through its system call number, which
 * every libc can reach; a kernel or file system without it says ENOSYS or
 * EINVAL and the caller falls back. */
static int posix_exchange(void *context, const char *first, const char *second) {
    (void)context;
#if defined(SYS_renameat2)
    return syscall(SYS_renameat2, AT_FDCWD, first, AT_FDCWD, second, 2 /* RENAME_EXCHANGE */) == 0 ? 0 : posix_error();
#else
    (void)first, (void)second;
    return -ENOSYS;
#endif
}

static int posix_unlink(void *context, const char *path) {
    (void)context;
    return unlink(path) == 0 ? 0 : posix_error();
}

static int posix_mkdir(void *context, const char *path) {
    (void)context;
    return mkdir(path, 0755) == 0 ? 0 : posix_error();
}

static int64_t clock_ms(clockid_t clock) {
    struct timespec now;
    clock_gettime(clock, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int64_t posix_wall_clock_ms(void *context) {
    (void)context;
    return clock_ms(CLOCK_REALTIME);
}

static int64_t posix_monotonic_ms(void *context) {
    (void)context;
    return clock_ms(CLOCK_MONOTONIC);
}

static int posix_sleep_ms(void *context, int64_t duration_ms) {
    (void)context;
    struct timespec duration = {.tv_sec = duration_ms / 1000, .tv_nsec = (duration_ms % 1000) * 1000000};
    return nanosleep(&duration, NULL) == 0 ? 0 : posix_error();
}

/* The sidecar is written (the fence) through the descriptor we lock: it must
 * be a regular file with one link, owned by us when we can write it, or a
 * hard link planted at its path would have us write into its victim. */
static int check_sidecar(int descriptor, bool writable) {
    struct stat info;
    if (fstat(descriptor, &info) != 0) return posix_error();
    if (!S_ISREG(info.st_mode)) return -EINVAL;
    if (info.st_nlink != 1) return -EMLINK;
    if (writable && info.st_uid != geteuid()) return -EPERM;
    return 0;
}

/* Opens the sidecar for the lock: read-write (created if missing) when we
 * may write; read-only when the file system or its permissions refuse
 * writing (a lock on a read-only descriptor is still a lock, so a held lease
 * still defers). Returns the descriptor or a negative errno: the creation's
 * error when there is no sidecar to fall back to. */
static int open_sidecar(const char *path) {
    int descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    bool writable = descriptor >= 0;
    if (descriptor < 0) {
        int create_error = errno;
        if (create_error != EROFS && create_error != EACCES) return -create_error;
        descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (descriptor < 0) return -create_error;
    }
    int status = check_sidecar(descriptor, writable);
    if (status != 0) {
        close(descriptor);
        return status;
    }
    return descriptor;
}

/* flock(2) on the sidecar file: the kernel drops it when the process dies.
 * No blocking flock: a holder stopped inside its (short) critical section
 * must not wedge everyone, so poll with a growing pause up to the timeout. */
static int posix_lock(void *context, const char *path, int64_t timeout_ms, int *fd) {
    (void)context;
    int descriptor = open_sidecar(path);
    if (descriptor < 0) return descriptor;
    int64_t deadline_ms = clock_ms(CLOCK_MONOTONIC) + timeout_ms;
    int64_t pause_ms = LOCK_POLL_FIRST_MS;
    for (;;) {
        if (flock(descriptor, LOCK_EX | LOCK_NB) == 0) {
            *fd = descriptor;
            return 0;
        }
        int error = errno;
        if (error != EWOULDBLOCK && error != EINTR) {
            close(descriptor);
            return -error;
        }
        int64_t left_ms = deadline_ms - clock_ms(CLOCK_MONOTONIC);
        if (left_ms <= 0) {
            close(descriptor);
            return -EWOULDBLOCK;
        }
        posix_sleep_ms(context, pause_ms < left_ms ? pause_ms : left_ms);
        if (pause_ms < LOCK_POLL_MAX_MS) pause_ms *= 2;
    }
}

static int posix_unlock(void *context, int fd) {
    (void)context;
    /* Closing the only descriptor of the open file description drops the lock. */
    return close(fd) == 0 ? 0 : posix_error();
}

static int posix_pread(void *context, int fd, void *buffer, size_t size, int64_t offset, size_t *done) {
    (void)context;
    ssize_t result = pread(fd, buffer, size, (off_t)offset);
    if (result < 0) return posix_error();
    *done = (size_t)result;
    return 0;
}

static int posix_pwrite(void *context, int fd, const void *buffer, size_t size, int64_t offset, size_t *done) {
    (void)context;
    ssize_t result = pwrite(fd, buffer, size, (off_t)offset);
    if (result < 0 && errno == EBADF && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY) {
        /* The sidecar was opened read-only (open_sidecar): say why. */
        struct statvfs volume;
        return fstatvfs(fd, &volume) == 0 && (volume.f_flag & ST_RDONLY) ? -EROFS : -EACCES;
    }
    if (result < 0) return posix_error();
    *done = (size_t)result;
    return 0;
}

static int64_t posix_self_pid(void *context) {
    (void)context;
    return (int64_t)getpid();
}

static int read_small_file(const char *path, char *buffer, size_t size);

/* A zombie (exited, not yet reaped) answers kill(pid, 0) but holds nothing:
 * its state letter in /proc/PID/stat says so. */
static bool is_zombie(int64_t pid) {
    char path[64];
    char stat[512];
    snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
    if (read_small_file(path, stat, sizeof stat) != 0) return false;
    const char *close_paren = strrchr(stat, ')');
    return close_paren != NULL && (close_paren[1] == ' ') && (close_paren[2] == 'Z' || close_paren[2] == 'X');
}

static int posix_pid_probe(void *context, int64_t pid) {
    (void)context;
    /* kill() with 0 or a negative pid would address process groups. */
    if (pid <= 0 || pid > INT_MAX) return -ESRCH;
    if (kill((pid_t)pid, 0) != 0) return posix_error();
    return is_zombie(pid) ? -ESRCH : 0;
}

/* Whether some member of the group is a living (not zombie) process, from
 * /proc/PID/stat (state is field 3, the process group field 5). 0 when
 * /proc cannot tell: a lease is kept rather than broken. */
static int group_has_living_member(int64_t process_group) {
    DIR *directory = opendir("/proc");
    if (directory == NULL) return 0;
    int answer = -ESRCH;
    struct dirent *entry;
    while (answer != 0 && (entry = readdir(directory)) != NULL) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
        char path[64];
        char stat[512];
        snprintf(path, sizeof path, "/proc/%.20s/stat", entry->d_name);
        if (read_small_file(path, stat, sizeof stat) != 0) continue;
        const char *close_paren = strrchr(stat, ')');
        char state = 0;
        long long parent = 0, group = 0;
        if (close_paren == NULL || sscanf(close_paren + 1, " %c %lld %lld", &state, &parent, &group) != 3) continue;
        if (group == process_group && state != 'Z' && state != 'X') answer = 0;
    }
    closedir(directory);
    return answer;
}

/* Whether any process of a group lives: kill(-group, 0), then, because a
 * group whose members are all unreaped zombies still answers it (an init
 * that reaps slowly), a look at the members' states. */
static int posix_group_probe(void *context, int64_t process_group) {
    (void)context;
    if (process_group <= 1 || process_group > INT_MAX) return -ESRCH;
    if (kill(-(pid_t)process_group, 0) != 0) return posix_error();
    return group_has_living_member(process_group);
}

/* Reads a small text file whole (for /proc). */
static int read_small_file(const char *path, char *buffer, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return posix_error();
    ssize_t length = read(fd, buffer, size - 1);
    int error = length < 0 ? posix_error() : 0;
    close(fd);
    if (error != 0) return error;
    buffer[length] = '\0';
    return 0;
}

static int posix_pid_start_time(void *context, int64_t pid, uint64_t *start_time) {
    char path[64];
    char stat[1024];
    /* Our own start time is asked at every acquisition: keep it, keyed by
     * pid so that a forked child does not inherit its parent's. */
    static int64_t cached_pid;
    static uint64_t cached_start_time;
    (void)context;
    if (pid <= 0 || pid > INT_MAX) return -ESRCH;
    if (pid == cached_pid && pid == (int64_t)getpid()) {
        *start_time = cached_start_time;
        return 0;
    }
    snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
    int status = read_small_file(path, stat, sizeof stat);
    if (status == -ENOENT) return -ESRCH;
    if (status != 0) return -ENOSYS;
    /* The command name (field 2) may hold spaces and parentheses: fields
     * after it start at the last ')'. Field 22 is the 20th after it. */
    const char *cursor = strrchr(stat, ')');
    if (cursor == NULL) return -ENOSYS;
    for (int field = 2; field < 22 && cursor != NULL; field++) cursor = strchr(cursor + 1, ' ');
    if (cursor == NULL) return -ENOSYS;
    char *end;
    errno = 0;
    unsigned long long value = strtoull(cursor + 1, &end, 10);
    if (errno != 0 || end == cursor + 1) return -ENOSYS;
    *start_time = value;
    if (pid == (int64_t)getpid()) {
        cached_pid = pid;
        cached_start_time = value;
    }
    return 0;
}

/* The boot id cannot change while this process lives: read it once. */
static int posix_boot_id(void *context, char *buffer, size_t size) {
    static char cached[64];
    (void)context;
    if (cached[0] == '\0') {
        char text[64];
        if (read_small_file("/proc/sys/kernel/random/boot_id", text, sizeof text) != 0) return -ENOSYS;
        text[strcspn(text, "\n")] = '\0';
        memcpy(cached, text, sizeof cached);
    }
    if (strlen(cached) >= size) return -ENAMETOOLONG;
    memcpy(buffer, cached, strlen(cached) + 1);
    return 0;
}

static int posix_random_bytes(void *context, void *buffer, size_t size) {
    (void)context;
    char *cursor = buffer;
    for (int round = 0; size > 0 && round < 64; round++) {
        ssize_t got = getrandom(cursor, size, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return posix_error();
        cursor += got;
        size -= (size_t)got;
    }
    return size == 0 ? 0 : -EIO;
}

static const char *posix_getenv(void *context, const char *name) {
    (void)context;
    return getenv(name);
}

static void posix_warn(void *context, const char *line) {
    (void)context;
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
}

static const struct lease_env posix_env = {
    .version = LEASE_ENV_VERSION,
    .name = "posix",
    .context = NULL,
    .open_read = posix_open_read,
    .create_exclusive = posix_create_exclusive,
    .read = posix_read,
    .write = posix_write,
    .fsync = posix_fsync,
    .fstat = posix_fstat,
    .lstat = posix_lstat,
    .close = posix_close,
    .link = posix_link,
    .rename = posix_rename,
    .unlink = posix_unlink,
    .mkdir = posix_mkdir,
    .lock = posix_lock,
    .unlock = posix_unlock,
    .pread = posix_pread,
    .pwrite = posix_pwrite,
    .wall_clock_ms = posix_wall_clock_ms,
    .monotonic_ms = posix_monotonic_ms,
    .sleep_ms = posix_sleep_ms,
    .self_pid = posix_self_pid,
    .pid_probe = posix_pid_probe,
    .pid_start_time = posix_pid_start_time,
    .boot_id = posix_boot_id,
    .random_bytes = posix_random_bytes,
    .getenv = posix_getenv,
    .warn = posix_warn,
    .group_probe = posix_group_probe,
    .exchange = posix_exchange,
};

const struct lease_env *lease_env_posix(void) {
    return &posix_env;
}
