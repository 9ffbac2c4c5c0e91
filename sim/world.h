/*
 * world.h: the world layer: the in-memory file system, locks, pids, clocks
 * (world.c). It reports what changed through struct sim_hooks.
 */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include "sim.h"

void sim_world_reset(struct sim_world *world);
int64_t sim_world_wall_ms(const struct sim_world *world);
int sim_fs_open_read(struct sim_world *world, struct sim_process *process, const char *path, int *fd);
int sim_fs_create_exclusive(struct sim_world *world, struct sim_process *process, const char *path, int *fd);
int sim_fs_read(struct sim_world *world, struct sim_process *process, int fd, void *buffer, size_t size, size_t *done);
int sim_fs_write(struct sim_world *world, struct sim_process *process, int fd, const void *buffer, size_t size,
                 size_t *done);
int sim_fs_pread(struct sim_world *world, struct sim_process *process, int fd, void *buffer, size_t size,
                 int64_t offset, size_t *done);
int sim_fs_pwrite(struct sim_world *world, struct sim_process *process, int fd, const void *buffer, size_t size,
                  int64_t offset, size_t *done);
int sim_fs_fstat(struct sim_world *world, struct sim_process *process, int fd, struct lease_stat *stat);
int sim_fs_lstat(struct sim_world *world, const char *path, struct lease_stat *stat);
int sim_fs_close(struct sim_world *world, struct sim_process *process, int fd);
int sim_fs_link(struct sim_world *world, struct sim_process *process, const char *from, const char *to);
int sim_fs_rename(struct sim_world *world, struct sim_process *process, const char *from, const char *to);
int sim_fs_exchange(struct sim_world *world, struct sim_process *process, const char *first, const char *second);
int sim_fs_unlink(struct sim_world *world, struct sim_process *process, const char *path);
int sim_fs_mkdir(struct sim_world *world, const char *path);
int sim_fs_lock_try(struct sim_world *world, struct sim_process *process, const char *path, int *fd, int *inode);
/* A waiter's retry on the inode its descriptor fd opened: 0 or -EWOULDBLOCK. */
int sim_fs_lock_retry(struct sim_world *world, struct sim_process *process, int fd);
int sim_fs_unlock(struct sim_world *world, struct sim_process *process, int fd);
bool sim_fs_lock_busy(const struct sim_world *world, int inode);
void sim_fs_drop_process(struct sim_world *world, struct sim_process *process);
int sim_fs_lookup(const struct sim_world *world, const char *path); /* inode or -1 */
int sim_fs_put_file(struct sim_world *world, const char *path, const char *bytes, size_t size, int writer);
int sim_fs_fd_inode(const struct sim_process *process, int fd);
int sim_world_pid_probe(const struct sim_world *world, int64_t pid);
/* The probe as the process with pid caller sees it (EPERM: foreign-pids). */
int sim_world_pid_probe_by(const struct sim_world *world, int64_t caller, int64_t pid);
int sim_world_group_probe(const struct sim_world *world, int64_t group); /* 0: a member lives, -ESRCH */
int sim_world_pid_start_time(const struct sim_world *world, int64_t pid, uint64_t *start_time);
struct sim_process *sim_world_pid_owner(struct sim_world *world, int64_t pid);
int64_t sim_world_allocate_pid(struct sim_world *world, int64_t wanted);

#endif
