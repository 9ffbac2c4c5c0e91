/*
 * world.c: the simulated machine: an in-memory file system with the POSIX
 * semantics the implementations rely on (exclusive create, link that fails
 * on an existing name, rename that replaces atomically, unlink of open
 * files, directories), the kernel lock table (dropped when the holder dies),
 * the process table and its pid allocator (which hands out a dead process's
 * pid again), pid start times and the clocks. Operations here are atomic:
 * the scheduling point is in env.c, before each of them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "world.h"

#define PID_BASE 300

int64_t sim_world_wall_ms(const struct sim_world *world) {
    int64_t wall = SIM_EPOCH_MS + world->now_ms + world->wall_offset_ms;
    int64_t resolution = world->plan.knobs.wall_resolution_ms;
    if (resolution > 1) wall -= ((wall % resolution) + resolution) % resolution;
    return wall;
}

/* The world reports what changed; whoever watches (the oracle) registered
 * in the hooks. The world itself never judges. */
static void report_lease_changed(struct sim_world *world, struct sim_process *actor, int removed_inode) {
    if (world->config.hooks.lease_changed != NULL) world->config.hooks.lease_changed(world, actor, removed_inode);
}
static size_t path_length(const char *path) {
    size_t length = strlen(path);
    while (length > 1 && path[length - 1] == '/') length--;
    return length;
}

static int find_entry(const struct sim_world *world, const char *path) {
    size_t length = path_length(path);
    for (int index = 0; index < SIM_ENTRY_MAX; index++) {
        const struct sim_entry *entry = &world->entries[sim_checked_index(index, SIM_ENTRY_MAX)];
        if (entry->used && entry->length == length && memcmp(entry->path, path, length) == 0) return index;
    }
    return -1;
}

int sim_fs_lookup(const struct sim_world *world, const char *path) {
    int entry = find_entry(world, path);
    return entry < 0 ? -1 : world->entries[sim_checked_index(entry, SIM_ENTRY_MAX)].inode;
}

/* 0 when the parent directory exists, else -ENOENT (or -ENOTDIR). */
static int check_parent(const struct sim_world *world, const char *path) {
    size_t length = path_length(path);
    size_t slash = length;
    while (slash > 0 && path[slash - 1] != '/') slash--;
    if (slash <= 1) return 0; /* relative name in the working directory, or under / */
    char parent[SIM_PATH_MAX];
    if (slash - 1 >= sizeof parent) return -ENAMETOOLONG;
    memcpy(parent, path, slash - 1);
    parent[slash - 1] = '\0';
    int inode = sim_fs_lookup(world, parent);
    if (inode < 0) return -ENOENT;
    return world->inodes[sim_checked_index(inode, SIM_INODE_MAX)].is_directory ? 0 : -ENOTDIR;
}

static int inode_new(struct sim_world *world, int writer, bool is_directory) {
    for (int index = 0; index < SIM_INODE_MAX; index++) {
        struct sim_inode *inode = &world->inodes[sim_checked_index(index, SIM_INODE_MAX)];
        if (inode->used) continue;
        free(inode->data);
        memset(inode, 0, sizeof *inode);
        inode->used = true;
        inode->is_directory = is_directory;
        inode->writer = writer;
        inode->lock_holder = -1;
        /* inode-reuse: like ext4 and xfs, a freed number goes to the next file */
        if (world->plan.knobs.inode_reuse && world->freed_inode_count > 0)
            inode->number = world->freed_inode_numbers[--world->freed_inode_count];
        else
            inode->number = world->next_inode_number++;
        inode->mtime_ms = sim_world_wall_ms(world);
        inode->ctime_ms = inode->mtime_ms;
        return index;
    }
    return -ENOSPC;
}

static void inode_forget_if_unused(struct sim_world *world, int index) {
    struct sim_inode *inode = &world->inodes[sim_checked_index(index, SIM_INODE_MAX)];
    if (inode->link_count > 0 || inode->open_count > 0) return;
    free(inode->data);
    inode->data = NULL;
    inode->used = false;
    if (world->freed_inode_count < SIM_INODE_MAX)
        world->freed_inode_numbers[world->freed_inode_count++] = inode->number;
}

/* Points path at inode (or removes it when inode < 0); tells the oracle when
 * the lease path changes. */
static int entry_set(struct sim_world *world, struct sim_process *actor, const char *path, int inode) {
    int entry = find_entry(world, path);
    int removed = -1;
    if (entry >= 0) {
        removed = world->entries[sim_checked_index(entry, SIM_ENTRY_MAX)].inode;
        world->inodes[sim_checked_index(removed, SIM_INODE_MAX)].link_count--;
        world->inodes[sim_checked_index(removed, SIM_INODE_MAX)].ctime_ms = sim_world_wall_ms(world);
        if (inode < 0) world->entries[sim_checked_index(entry, SIM_ENTRY_MAX)].used = false;
    } else if (inode >= 0) {
        for (entry = 0; entry < SIM_ENTRY_MAX && world->entries[sim_checked_index(entry, SIM_ENTRY_MAX)].used; entry++)
            continue;
        if (entry == SIM_ENTRY_MAX) return -ENOSPC;
        size_t length = path_length(path);
        if (length >= SIM_PATH_MAX) return -ENAMETOOLONG;
        world->entries[sim_checked_index(entry, SIM_ENTRY_MAX)].used = true;
        world->entries[sim_checked_index(entry, SIM_ENTRY_MAX)].length = (uint16_t)length;
        memcpy(world->entries[sim_checked_index(entry, SIM_ENTRY_MAX)].path, path, length);
        world->entries[sim_checked_index(entry, SIM_ENTRY_MAX)].path[length] = '\0';
    }
    if (inode >= 0) {
        world->entries[sim_checked_index(entry, SIM_ENTRY_MAX)].inode = inode;
        world->inodes[sim_checked_index(inode, SIM_INODE_MAX)].link_count++;
        world->inodes[sim_checked_index(inode, SIM_INODE_MAX)].ctime_ms = sim_world_wall_ms(world);
    }
    if (strcmp(world->lease_path, path) == 0) {
        world->lease_inode = inode;
        if (removed != inode) report_lease_changed(world, actor, removed);
    }
    if (removed >= 0 && removed != inode) inode_forget_if_unused(world, removed);
    return 0;
}

static int fd_new(struct sim_process *process, int inode, bool writable, bool is_lock) {
    for (int index = 0; index < SIM_FD_MAX; index++) {
        struct sim_fd *fd = &process->fds[sim_checked_index(index, SIM_FD_MAX)];
        if (fd->used) continue;
        *fd = (struct sim_fd){.used = true, .writable = writable, .is_lock = is_lock, .inode = inode, .offset = 0};
        process->world->inodes[sim_checked_index(inode, SIM_INODE_MAX)].open_count++;
        return index + 3;
    }
    return -EMFILE;
}

static struct sim_fd *fd_get(struct sim_process *process, int fd) {
    if (fd < 3 || fd >= SIM_FD_MAX + 3 || !process->fds[sim_checked_index(fd - 3, SIM_FD_MAX)].used) return NULL;
    return &process->fds[sim_checked_index(fd - 3, SIM_FD_MAX)];
}

int sim_fs_fd_inode(const struct sim_process *process, int fd) {
    if (fd < 3 || fd >= SIM_FD_MAX + 3 || !process->fds[sim_checked_index(fd - 3, SIM_FD_MAX)].used) return -1;
    return process->fds[sim_checked_index(fd - 3, SIM_FD_MAX)].inode;
}

int sim_fs_open_read(struct sim_world *world, struct sim_process *process, const char *path, int *fd) {
    int parent = check_parent(world, path);
    if (parent != 0) return parent;
    int inode = sim_fs_lookup(world, path);
    if (inode < 0) return -ENOENT;
    int opened = fd_new(process, inode, false, false);
    if (opened < 0) return opened;
    *fd = opened;
    return 0;
}

int sim_fs_create_exclusive(struct sim_world *world, struct sim_process *process, const char *path, int *fd) {
    int parent = check_parent(world, path);
    if (parent != 0) return parent;
    if (sim_fs_lookup(world, path) >= 0) return -EEXIST;
    int inode = inode_new(world, process->index, false);
    if (inode < 0) return inode;
    int opened = fd_new(process, inode, true, false);
    if (opened < 0) {
        inode_forget_if_unused(world, inode);
        return opened;
    }
    int status = entry_set(world, process, path, inode);
    if (status != 0) return status;
    *fd = opened;
    return 0;
}

static int copy_out(const struct sim_inode *inode, void *buffer, size_t size, int64_t offset, size_t *done) {
    *done = 0;
    if (inode->is_directory) return -EISDIR;
    if (offset >= (int64_t)inode->size) return 0;
    size_t available = inode->size - (size_t)offset;
    *done = size < available ? size : available;
    memcpy(buffer, inode->data + offset, *done);
    return 0;
}

static int copy_in(struct sim_world *world, struct sim_inode *inode, const void *buffer, size_t size, int64_t offset,
                   size_t *done) {
    size_t end = (size_t)offset + size;
    *done = 0;
    if (end > LEASE_FILE_SIZE_MAX * 2) return -EFBIG;
    if (end > inode->capacity) {
        size_t capacity = inode->capacity ? inode->capacity : 256;
        while (capacity < end) capacity *= 2;
        char *grown = realloc(inode->data, capacity);
        if (grown == NULL) return -ENOMEM;
        inode->data = grown;
        inode->capacity = capacity;
    }
    if ((size_t)offset > inode->size) memset(inode->data + inode->size, 0, (size_t)offset - inode->size);
    if (size > 0) memcpy(inode->data + offset, buffer, size);
    if (end > inode->size) inode->size = end;
    inode->mtime_ms = sim_world_wall_ms(world);
    inode->ctime_ms = inode->mtime_ms;
    *done = size;
    return 0;
}

int sim_fs_read(struct sim_world *world, struct sim_process *process, int fd, void *buffer, size_t size, size_t *done) {
    struct sim_fd *file = fd_get(process, fd);
    if (file == NULL) return -EBADF;
    int status =
        copy_out(&world->inodes[sim_checked_index(file->inode, SIM_INODE_MAX)], buffer, size, file->offset, done);
    file->offset += (int64_t)*done;
    return status;
}

int sim_fs_write(struct sim_world *world, struct sim_process *process, int fd, const void *buffer, size_t size,
                 size_t *done) {
    struct sim_fd *file = fd_get(process, fd);
    if (file == NULL || !file->writable) return -EBADF;
    int status =
        copy_in(world, &world->inodes[sim_checked_index(file->inode, SIM_INODE_MAX)], buffer, size, file->offset, done);
    file->offset += (int64_t)*done;
    if (file->inode == world->lease_inode && *done > 0) report_lease_changed(world, process, -1);
    return status;
}

int sim_fs_pread(struct sim_world *world, struct sim_process *process, int fd, void *buffer, size_t size,
                 int64_t offset, size_t *done) {
    struct sim_fd *file = fd_get(process, fd);
    if (file == NULL || offset < 0) return file == NULL ? -EBADF : -EINVAL;
    return copy_out(&world->inodes[sim_checked_index(file->inode, SIM_INODE_MAX)], buffer, size, offset, done);
}

int sim_fs_pwrite(struct sim_world *world, struct sim_process *process, int fd, const void *buffer, size_t size,
                  int64_t offset, size_t *done) {
    struct sim_fd *file = fd_get(process, fd);
    if (file == NULL || offset < 0) return file == NULL ? -EBADF : -EINVAL;
    int status =
        copy_in(world, &world->inodes[sim_checked_index(file->inode, SIM_INODE_MAX)], buffer, size, offset, done);
    if (file->inode == world->lease_inode && *done > 0) report_lease_changed(world, process, -1);
    return status;
}

static void fill_stat(const struct sim_inode *inode, struct lease_stat *stat) {
    *stat = (struct lease_stat){.device = 42,
                                .inode = inode->number,
                                .size_bytes = (int64_t)inode->size,
                                .mtime_ms = inode->mtime_ms,
                                .ctime_ms = inode->ctime_ms,
                                .is_regular = !inode->is_directory,
                                .is_directory = inode->is_directory,
                                .is_symlink = false};
}

int sim_fs_fstat(struct sim_world *world, struct sim_process *process, int fd, struct lease_stat *stat) {
    struct sim_fd *file = fd_get(process, fd);
    if (file == NULL) return -EBADF;
    fill_stat(&world->inodes[sim_checked_index(file->inode, SIM_INODE_MAX)], stat);
    return 0;
}

int sim_fs_lstat(struct sim_world *world, const char *path, struct lease_stat *stat) {
    int parent = check_parent(world, path);
    if (parent != 0) return parent;
    int inode = sim_fs_lookup(world, path);
    if (inode < 0) return -ENOENT;
    fill_stat(&world->inodes[sim_checked_index(inode, SIM_INODE_MAX)], stat);
    return 0;
}

int sim_fs_close(struct sim_world *world, struct sim_process *process, int fd) {
    struct sim_fd *file = fd_get(process, fd);
    if (file == NULL) return -EBADF;
    struct sim_inode *inode = &world->inodes[sim_checked_index(file->inode, SIM_INODE_MAX)];
    if (file->is_lock && inode->lock_holder == process->index) inode->lock_holder = -1;
    inode->open_count--;
    file->used = false;
    inode_forget_if_unused(world, file->inode);
    return 0;
}

int sim_fs_link(struct sim_world *world, struct sim_process *process, const char *from, const char *to) {
    int status = check_parent(world, from);
    if (status == 0) status = check_parent(world, to);
    if (status != 0) return status;
    int inode = sim_fs_lookup(world, from);
    if (inode < 0) return -ENOENT;
    if (world->inodes[sim_checked_index(inode, SIM_INODE_MAX)].is_directory) return -EPERM;
    if (sim_fs_lookup(world, to) >= 0) return -EEXIST;
    return entry_set(world, process, to, inode);
}

int sim_fs_rename(struct sim_world *world, struct sim_process *process, const char *from, const char *to) {
    int status = check_parent(world, from);
    if (status == 0) status = check_parent(world, to);
    if (status != 0) return status;
    int inode = sim_fs_lookup(world, from);
    if (inode < 0) return -ENOENT;
    int target = sim_fs_lookup(world, to);
    if (target == inode) return 0;
    if (target >= 0 && world->inodes[sim_checked_index(target, SIM_INODE_MAX)].is_directory) return -EISDIR;
    world->inodes[sim_checked_index(inode, SIM_INODE_MAX)].open_count++; /* keep it alive between the two halves */
    status = entry_set(world, process, to, inode);
    if (status == 0) status = entry_set(world, process, from, -1);
    world->inodes[sim_checked_index(inode, SIM_INODE_MAX)].open_count--;
    return status;
}

/* renameat2(RENAME_EXCHANGE): both names must exist; each then names the
 * other's file, in one step. */
int sim_fs_exchange(struct sim_world *world, struct sim_process *process, const char *first, const char *second) {
    int status = check_parent(world, first);
    if (status == 0) status = check_parent(world, second);
    if (status != 0) return status;
    int one = sim_fs_lookup(world, first), other = sim_fs_lookup(world, second);
    if (one < 0 || other < 0) return -ENOENT;
    if (one == other) return 0;
    world->inodes[sim_checked_index(one, SIM_INODE_MAX)].open_count++; /* alive between the two halves */
    world->inodes[sim_checked_index(other, SIM_INODE_MAX)].open_count++;
    status = entry_set(world, process, first, other);
    if (status == 0) status = entry_set(world, process, second, one);
    world->inodes[sim_checked_index(one, SIM_INODE_MAX)].open_count--;
    world->inodes[sim_checked_index(other, SIM_INODE_MAX)].open_count--;
    return status;
}

int sim_fs_unlink(struct sim_world *world, struct sim_process *process, const char *path) {
    int parent = check_parent(world, path);
    if (parent != 0) return parent;
    int inode = sim_fs_lookup(world, path);
    if (inode < 0) return -ENOENT;
    if (world->inodes[sim_checked_index(inode, SIM_INODE_MAX)].is_directory) return -EISDIR;
    return entry_set(world, process, path, -1);
}

int sim_fs_mkdir(struct sim_world *world, const char *path) {
    int parent = check_parent(world, path);
    if (parent != 0) return parent;
    if (sim_fs_lookup(world, path) >= 0) return -EEXIST;
    int inode = inode_new(world, -1, true);
    if (inode < 0) return inode;
    return entry_set(world, NULL, path, inode);
}

int sim_fs_put_file(struct sim_world *world, const char *path, const char *bytes, size_t size, int writer) {
    int inode = inode_new(world, writer, false);
    if (inode < 0) return inode;
    size_t done;
    int status = copy_in(world, &world->inodes[sim_checked_index(inode, SIM_INODE_MAX)], bytes, size, 0, &done);
    if (status == 0) status = entry_set(world, NULL, path, inode);
    return status;
}

/* Opens (creating if needed) path and takes its lock: 0, -EWOULDBLOCK with
 * *inode set (the caller blocks on it), or an error. */
int sim_fs_lock_try(struct sim_world *world, struct sim_process *process, const char *path, int *fd, int *inode) {
    int parent = check_parent(world, path);
    if (parent != 0) return parent;
    int found = sim_fs_lookup(world, path);
    if (found < 0) {
        found = inode_new(world, process->index, false);
        if (found < 0) return found;
        int status = entry_set(world, process, path, found);
        if (status != 0) return status;
    }
    if (world->inodes[sim_checked_index(found, SIM_INODE_MAX)].is_directory) return -EISDIR;
    *inode = found;
    /* flock(2): the file is opened first; a waiter holds that descriptor,
     * and so that inode, while it waits (sim_fs_lock_retry). */
    int opened = fd_new(process, found, true, true);
    if (opened < 0) return opened;
    *fd = opened;
    if (world->inodes[sim_checked_index(found, SIM_INODE_MAX)].lock_holder >= 0) return -EWOULDBLOCK;
    world->inodes[sim_checked_index(found, SIM_INODE_MAX)].lock_holder = process->index;
    return 0;
}

/* A waiter's next attempt: the inode its descriptor opened, even if the
 * path was unlinked and re-created meanwhile (it then locks the old one). */
int sim_fs_lock_retry(struct sim_world *world, struct sim_process *process, int fd) {
    struct sim_fd *file = fd_get(process, fd);
    if (file == NULL || !file->is_lock) return -EBADF;
    struct sim_inode *inode = &world->inodes[sim_checked_index(file->inode, SIM_INODE_MAX)];
    if (inode->lock_holder >= 0 && inode->lock_holder != process->index) return -EWOULDBLOCK;
    inode->lock_holder = process->index;
    return 0;
}

bool sim_fs_lock_busy(const struct sim_world *world, int inode) {
    return inode >= 0 && world->inodes[sim_checked_index(inode, SIM_INODE_MAX)].used &&
           world->inodes[sim_checked_index(inode, SIM_INODE_MAX)].lock_holder >= 0;
}

int sim_fs_unlock(struct sim_world *world, struct sim_process *process, int fd) {
    struct sim_fd *file = fd_get(process, fd);
    if (file == NULL || !file->is_lock) return -EBADF;
    return sim_fs_close(world, process, fd);
}

/* What the kernel does when a process dies: every descriptor closed, every
 * lock it held released. */
void sim_fs_drop_process(struct sim_world *world, struct sim_process *process) {
    for (int index = 0; index < SIM_FD_MAX; index++)
        if (process->fds[sim_checked_index(index, SIM_FD_MAX)].used) sim_fs_close(world, process, index + 3);
}

static bool process_alive(const struct sim_process *process) {
    return process->state == SIM_PROCESS_RUNNABLE || process->state == SIM_PROCESS_BLOCKED ||
           process->state == SIM_PROCESS_WAITING;
}

struct sim_process *sim_world_pid_owner(struct sim_world *world, int64_t pid) {
    for (int index = 0; index < world->process_count; index++) {
        struct sim_process *process = &world->processes[sim_checked_index(index, SIM_PROCESS_MAX)];
        if (process->pid == pid && process_alive(process)) return process;
    }
    return NULL;
}

int sim_world_pid_probe(const struct sim_world *world, int64_t pid) {
    return sim_world_pid_owner((struct sim_world *)(uintptr_t)world, pid) != NULL ? 0 : -ESRCH;
}

/* kill(pid, 0) as caller: with the foreign-pids knob every other live
 * process belongs to another user and answers EPERM (alive, by the
 * contract: docs/spec.md 9.18). */
int sim_world_pid_probe_by(const struct sim_world *world, int64_t caller, int64_t pid) {
    int status = sim_world_pid_probe(world, pid);
    if (status == 0 && world->plan.knobs.foreign_pids && pid != caller) return -EPERM;
    return status;
}

int sim_world_group_probe(const struct sim_world *world, int64_t group) {
    for (int index = 0; index < world->process_count; index++)
        if (group > 0 && world->processes[sim_checked_index(index, SIM_PROCESS_MAX)].group == group &&
            process_alive(&world->processes[sim_checked_index(index, SIM_PROCESS_MAX)]))
            return 0;
    return -ESRCH;
}

int sim_world_pid_start_time(const struct sim_world *world, int64_t pid, uint64_t *start_time) {
    struct sim_process *owner = sim_world_pid_owner((struct sim_world *)(uintptr_t)world, pid);
    if (owner == NULL) return -ESRCH;
    *start_time = owner->start_time;
    return 0;
}

/* Linux-like: the next free pid after the last one, wrapping in a small
 * space so that a dead process's pid comes back. wanted > 0 asks for one
 * pid (a reuse the plan forces). */
int64_t sim_world_allocate_pid(struct sim_world *world, int64_t wanted) {
    int space = world->plan.knobs.pid_space > 0 ? world->plan.knobs.pid_space : 1000;
    if (space > 1000) space = 1000;
    int64_t pid = -1;
    if (wanted > 0 && sim_world_pid_owner(world, wanted) == NULL) pid = wanted;
    for (int round = 0; pid < 0 && round < space; round++) {
        int64_t candidate = PID_BASE + (world->next_pid - PID_BASE + round) % space;
        if (sim_world_pid_owner(world, candidate) == NULL) pid = candidate;
    }
    /* the small space is full: take any free pid beyond it rather than fail */
    for (int round = space; pid < 0 && round < 1000; round++)
        if (sim_world_pid_owner(world, PID_BASE + round) == NULL) pid = PID_BASE + round;
    if (pid < 0) return -EAGAIN;
    if (wanted <= 0) world->next_pid = PID_BASE + (pid - PID_BASE + 1) % space;
    if (pid - PID_BASE >= 0 && pid - PID_BASE < SIM_PID_SLOTS) {
        int slot = (int)(pid - PID_BASE);
        if (world->pid_slots_start == world->pid_slots_end) world->pid_slots_start = world->pid_slots_end = slot;
        if (slot < world->pid_slots_start) world->pid_slots_start = slot;
        if (slot >= world->pid_slots_end) world->pid_slots_end = slot + 1;
        world->pid_generation[sim_checked_index(pid - PID_BASE, SIM_PID_SLOTS)]++;
        world->pid_changed_step[sim_checked_index(pid - PID_BASE, SIM_PID_SLOTS)] = world->step;
    }
    if (world->config.hooks.pid_allocated != NULL) world->config.hooks.pid_allocated(world, pid);
    return pid;
}

/* Clears only what a seed used (a full memset of the tables would cost more
 * than the seed): inodes ever allocated carry a number, entries ever used a
 * path, and the pid slots touched lie in [pid_slots_start, pid_slots_end). */
void sim_world_reset(struct sim_world *world) {
    for (int index = 0; index < SIM_INODE_MAX; index++) {
        struct sim_inode *inode = &world->inodes[sim_checked_index(index, SIM_INODE_MAX)];
        if (!inode->used && inode->data == NULL && inode->number == 0) continue;
        free(inode->data);
        memset(inode, 0, sizeof *inode);
    }
    for (int index = 0; index < SIM_ENTRY_MAX; index++) {
        struct sim_entry *entry = &world->entries[sim_checked_index(index, SIM_ENTRY_MAX)];
        if (entry->used || entry->path[0] != '\0' || entry->inode != 0) memset(entry, 0, sizeof *entry);
    }
    int start = world->pid_slots_start, end = world->pid_slots_end;
    if (start >= 0 && end <= SIM_PID_SLOTS && start < end) {
        memset(world->pid_generation + start, 0, sizeof world->pid_generation[0] * (size_t)(end - start));
        memset(world->pid_changed_step + start, 0, sizeof world->pid_changed_step[0] * (size_t)(end - start));
    }
    world->pid_slots_start = world->pid_slots_end = 0;
    world->next_inode_number = 1000;
    world->freed_inode_count = 0;
    world->lease_inode = -1;
    world->next_pid = PID_BASE;
}
