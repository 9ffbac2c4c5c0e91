/*
 * test_world.c: the simulated world's semantics, which every verdict of the
 * simulator rests on: exclusive create, link and rename, unlink of an open
 * file, directories, locks dropped on death, pid reuse, the clocks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "sim.h"
#include "world.h"

static struct sim_world world;

static struct sim_process *new_process(void) {
    struct sim_process *process = &world.processes[world.process_count];
    memset(process, 0, sizeof *process);
    process->index = world.process_count++;
    process->world = &world;
    process->state = SIM_PROCESS_RUNNABLE;
    process->death_step = -1;
    process->pid = sim_world_allocate_pid(&world, 0);
    return process;
}

static int setup(void **state) {
    (void)state;
    sim_world_reset(&world);
    memset(&world, 0, sizeof world);
    sim_world_reset(&world);
    world.plan.knobs.pid_space = 4;
    world.plan.knobs.wall_resolution_ms = 1;
    strcpy(world.lease_path, "d/lease.json");
    assert_int_equal(sim_fs_mkdir(&world, "d"), 0);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    sim_world_reset(&world);
    return 0;
}

static void test_create_exclusive_fails_when_the_name_exists(void **state) {
    (void)state;
    struct sim_process *a = new_process();
    int fd;
    assert_int_equal(sim_fs_create_exclusive(&world, a, "d/x", &fd), 0);
    assert_int_equal(sim_fs_create_exclusive(&world, a, "d/x", &fd), -EEXIST);
    assert_int_equal(sim_fs_create_exclusive(&world, a, "missing/x", &fd), -ENOENT);
}

static void test_partial_content_is_visible_between_create_and_write(void **state) {
    (void)state;
    struct sim_process *writer = new_process(), *reader = new_process();
    int write_fd, read_fd;
    size_t done;
    char buffer[16];
    assert_int_equal(sim_fs_create_exclusive(&world, writer, "d/x", &write_fd), 0);
    assert_int_equal(sim_fs_write(&world, writer, write_fd, "{\"own", 5, &done), 0);
    assert_int_equal(sim_fs_open_read(&world, reader, "d/x", &read_fd), 0);
    assert_int_equal(sim_fs_read(&world, reader, read_fd, buffer, sizeof buffer, &done), 0);
    assert_int_equal(done, 5);
    assert_memory_equal(buffer, "{\"own", 5);
}

static void test_link_refuses_an_existing_name_and_rename_replaces_it(void **state) {
    (void)state;
    struct sim_process *a = new_process();
    int fd;
    assert_int_equal(sim_fs_create_exclusive(&world, a, "d/one", &fd), 0);
    assert_int_equal(sim_fs_create_exclusive(&world, a, "d/two", &fd), 0);
    assert_int_equal(sim_fs_link(&world, a, "d/one", "d/two"), -EEXIST);
    int one = sim_fs_lookup(&world, "d/one");
    assert_int_equal(sim_fs_rename(&world, a, "d/one", "d/two"), 0);
    assert_int_equal(sim_fs_lookup(&world, "d/two"), one);
    assert_int_equal(sim_fs_lookup(&world, "d/one"), -1);
}

static void test_unlinked_open_file_stays_readable(void **state) {
    (void)state;
    struct sim_process *a = new_process();
    int fd, read_fd;
    size_t done;
    char buffer[8];
    assert_int_equal(sim_fs_create_exclusive(&world, a, "d/x", &fd), 0);
    assert_int_equal(sim_fs_write(&world, a, fd, "abc", 3, &done), 0);
    assert_int_equal(sim_fs_open_read(&world, a, "d/x", &read_fd), 0);
    assert_int_equal(sim_fs_unlink(&world, a, "d/x"), 0);
    assert_int_equal(sim_fs_open_read(&world, a, "d/x", &fd), -ENOENT);
    assert_int_equal(sim_fs_read(&world, a, read_fd, buffer, sizeof buffer, &done), 0);
    assert_int_equal(done, 3);
}

static void test_mkdir_reports_an_existing_directory(void **state) {
    (void)state;
    assert_int_equal(sim_fs_mkdir(&world, "d"), -EEXIST);
    assert_int_equal(sim_fs_mkdir(&world, "d/e"), 0);
    struct lease_stat stat;
    assert_int_equal(sim_fs_lstat(&world, "d/e", &stat), 0);
    assert_true(stat.is_directory);
}

static void test_lock_is_exclusive_and_dropped_when_its_holder_dies(void **state) {
    (void)state;
    struct sim_process *holder = new_process(), *other = new_process();
    int fd, inode;
    assert_int_equal(sim_fs_lock_try(&world, holder, "d/lease.lock", &fd, &inode), 0);
    assert_int_equal(sim_fs_lock_try(&world, other, "d/lease.lock", &fd, &inode), -EWOULDBLOCK);
    assert_true(sim_fs_lock_busy(&world, inode));
    holder->state = SIM_PROCESS_DEAD;
    sim_fs_drop_process(&world, holder);
    assert_false(sim_fs_lock_busy(&world, inode));
    assert_int_equal(sim_fs_lock_try(&world, other, "d/lease.lock", &fd, &inode), 0);
}

static void test_dead_process_pid_is_handed_to_a_new_process(void **state) {
    (void)state;
    struct sim_process *first = new_process();
    int64_t pid = first->pid;
    first->start_time = 10;
    assert_int_equal(sim_world_pid_probe(&world, pid), 0);
    first->state = SIM_PROCESS_DEAD;
    assert_int_equal(sim_world_pid_probe(&world, pid), -ESRCH);
    struct sim_process *reuser = NULL;
    for (int round = 0; round < 4 && (reuser == NULL || reuser->pid != pid); round++) reuser = new_process();
    assert_int_equal(reuser->pid, pid);
    reuser->start_time = 99;
    uint64_t start_time;
    assert_int_equal(sim_world_pid_start_time(&world, pid, &start_time), 0);
    assert_int_equal(start_time, 99);
}

static void test_foreign_pids_answer_eperm_but_not_to_themselves(void **state) {
    (void)state;
    struct sim_process *holder = new_process(), *prober = new_process();
    assert_int_equal(sim_world_pid_probe_by(&world, prober->pid, holder->pid), 0);
    world.plan.knobs.foreign_pids = true;
    assert_int_equal(sim_world_pid_probe_by(&world, prober->pid, holder->pid), -EPERM);
    assert_int_equal(sim_world_pid_probe_by(&world, holder->pid, holder->pid), 0);
    holder->state = SIM_PROCESS_DEAD;
    assert_int_equal(sim_world_pid_probe_by(&world, prober->pid, holder->pid), -ESRCH);
}

static void test_inode_numbers_are_reused_when_the_knob_says_so(void **state) {
    (void)state;
    struct sim_process *process = new_process();
    world.plan.knobs.inode_reuse = true;
    int fd;
    assert_int_equal(sim_fs_create_exclusive(&world, process, "d/a", &fd), 0);
    sim_fs_close(&world, process, fd);
    uint64_t first = world.inodes[sim_fs_lookup(&world, "d/a")].number;
    assert_int_equal(sim_fs_unlink(&world, process, "d/a"), 0);
    assert_int_equal(sim_fs_create_exclusive(&world, process, "d/b", &fd), 0);
    assert_int_equal(world.inodes[sim_fs_lookup(&world, "d/b")].number, first);
    world.plan.knobs.inode_reuse = false;
    sim_fs_close(&world, process, fd);
    assert_int_equal(sim_fs_unlink(&world, process, "d/b"), 0);
    assert_int_equal(sim_fs_create_exclusive(&world, process, "d/c", &fd), 0);
    assert_true(world.inodes[sim_fs_lookup(&world, "d/c")].number != first);
}

/* flock(2): a waiter holds the inode it opened; when the sidecar is
 * unlinked and re-created, it locks the old inode, beside a holder of the
 * new one. */
static void test_lock_waiter_keeps_the_inode_it_opened(void **state) {
    (void)state;
    struct sim_process *holder = new_process(), *waiter = new_process(), *newcomer = new_process();
    int holder_fd, waiter_fd, newcomer_fd, inode, old_inode, new_inode;
    assert_int_equal(sim_fs_lock_try(&world, holder, "d/s.lock", &holder_fd, &old_inode), 0);
    assert_int_equal(sim_fs_lock_try(&world, waiter, "d/s.lock", &waiter_fd, &inode), -EWOULDBLOCK);
    assert_int_equal(inode, old_inode);
    assert_int_equal(sim_fs_lock_retry(&world, waiter, waiter_fd), -EWOULDBLOCK);
    assert_int_equal(sim_fs_unlink(&world, holder, "d/s.lock"), 0);
    assert_int_equal(sim_fs_lock_try(&world, newcomer, "d/s.lock", &newcomer_fd, &new_inode), 0);
    assert_true(new_inode != old_inode);
    assert_int_equal(sim_fs_unlock(&world, holder, holder_fd), 0);
    assert_int_equal(sim_fs_lock_retry(&world, waiter, waiter_fd), 0); /* the old inode: both "hold the lock" */
    assert_true(sim_fs_lock_busy(&world, new_inode));
    assert_true(sim_fs_lock_busy(&world, old_inode));
}

static void test_wall_clock_jumps_and_monotonic_time_does_not(void **state) {
    (void)state;
    world.now_ms = 1000;
    int64_t before = sim_world_wall_ms(&world);
    world.wall_offset_ms = -5000;
    assert_int_equal(sim_world_wall_ms(&world), before - 5000);
    assert_int_equal(world.now_ms, 1000);
    world.plan.knobs.wall_resolution_ms = 1000;
    assert_int_equal(sim_world_wall_ms(&world) % 1000, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_exclusive_fails_when_the_name_exists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_content_is_visible_between_create_and_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_refuses_an_existing_name_and_rename_replaces_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlinked_open_file_stays_readable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdir_reports_an_existing_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_is_exclusive_and_dropped_when_its_holder_dies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_process_pid_is_handed_to_a_new_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_pids_answer_eperm_but_not_to_themselves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inode_numbers_are_reused_when_the_knob_says_so, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_waiter_keeps_the_inode_it_opened, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wall_clock_jumps_and_monotonic_time_does_not, setup, teardown),
    };
    return cmocka_run_group_tests_name("sim_world", tests, NULL, NULL);
}
