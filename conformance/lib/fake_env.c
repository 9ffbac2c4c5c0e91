/*
 * fake_env.c: see fake_env.h. File operations are the POSIX environment's
 * own functions; only what a test must steer is replaced.
 */
#include "fake_env.h"

#include "etcd_client.h"

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAKE_SELF_PID 1000
#define FAKE_SELF_START_TIME 5000
#define FAKE_EPOCH_MS 1779000000000LL /* 2026-05-17T06:40:00.000Z */
#define FAKE_FILE_AGE_MS 3600000LL

static struct fake_env *fake_of(void *context) {
    return context;
}

/* The injected failure for operation, or 0. */
static int injected(struct fake_env *fake, const char *operation) {
    if (fake->before_operation != NULL) fake->before_operation(fake, operation);
    if (fake->fault_operation == NULL || strcmp(fake->fault_operation, operation) != 0) return 0;
    if (fake->fault_skip > 0) {
        fake->fault_skip--;
        return 0;
    }
    if (fake->fault_times > 0 && fake->fault_hits >= fake->fault_times) return 0;
    fake->fault_hits++;
    return -fake->fault_errno;
}

#define FAKE_FILE_OPERATION(name, parameters, arguments)               \
    static int fake_##name parameters {                                \
        int fault = injected(fake_of(context), #name);                 \
        return fault != 0 ? fault : lease_env_posix()->name arguments; \
    }

FAKE_FILE_OPERATION(create_exclusive, (void *context, const char *path, int *fd), (NULL, path, fd))
FAKE_FILE_OPERATION(read, (void *context, int fd, void *buffer, size_t size, size_t *done),
                    (NULL, fd, buffer, size, done))
FAKE_FILE_OPERATION(write, (void *context, int fd, const void *buffer, size_t size, size_t *done),
                    (NULL, fd, buffer, size, done))
/* Files are real but time is not: every file's change time is fixed
 * (file_changed_ms) or follows the fake clock (now_ms - file_age_ms). */
static int64_t fake_change_time_ms(const struct fake_env *fake) {
    return fake->file_changed_ms != 0 ? fake->file_changed_ms : fake->now_ms - fake->file_age_ms;
}

static int fake_fstat(void *context, int fd, struct lease_stat *stat) {
    int status = injected(fake_of(context), "fstat");
    if (status == 0) status = lease_env_posix()->fstat(NULL, fd, stat);
    if (status == 0) stat->ctime_ms = fake_change_time_ms(fake_of(context));
    return status;
}

static int fake_lstat(void *context, const char *path, struct lease_stat *stat) {
    int status = injected(fake_of(context), "lstat");
    if (status == 0) status = lease_env_posix()->lstat(NULL, path, stat);
    if (status == 0) stat->ctime_ms = fake_change_time_ms(fake_of(context));
    return status;
}
FAKE_FILE_OPERATION(link, (void *context, const char *from, const char *to), (NULL, from, to))
FAKE_FILE_OPERATION(rename, (void *context, const char *from, const char *to), (NULL, from, to))
FAKE_FILE_OPERATION(exchange, (void *context, const char *first, const char *second), (NULL, first, second))
FAKE_FILE_OPERATION(unlink, (void *context, const char *path), (NULL, path))
FAKE_FILE_OPERATION(mkdir, (void *context, const char *path), (NULL, path))
FAKE_FILE_OPERATION(lock, (void *context, const char *path, int64_t timeout_ms, int *fd), (NULL, path, timeout_ms, fd))
FAKE_FILE_OPERATION(pread, (void *context, int fd, void *buffer, size_t size, int64_t offset, size_t *done),
                    (NULL, fd, buffer, size, offset, done))
FAKE_FILE_OPERATION(pwrite, (void *context, int fd, const void *buffer, size_t size, int64_t offset, size_t *done),
                    (NULL, fd, buffer, size, offset, done))

static int fake_open_read(void *context, const char *path, int *fd) {
    struct fake_env *fake = fake_of(context);
    if (fake->open_read_error != 0) return -fake->open_read_error;
    int fault = injected(fake, "open_read");
    if (fault != 0) return fault;
    return lease_env_posix()->open_read(NULL, path, fd);
}

static int64_t fake_wall_clock_ms(void *context) {
    return fake_of(context)->now_ms;
}

static int64_t fake_monotonic_ms(void *context) {
    return fake_of(context)->now_ms;
}

static int fake_sleep_ms(void *context, int64_t duration_ms) {
    fake_of(context)->now_ms += duration_ms;
    return 0;
}

static int64_t fake_self_pid(void *context) {
    return fake_of(context)->self_pid;
}

static const struct fake_pid *find_pid(const struct fake_env *fake, int64_t pid) {
    for (size_t index = 0; index < fake->pid_count; index++)
        if (fake->pids[index].pid == pid) return &fake->pids[index];
    return NULL;
}

static int fake_pid_probe(void *context, int64_t pid) {
    const struct fake_pid *entry = find_pid(fake_of(context), pid);
    if (entry == NULL || entry->state == FAKE_PID_DEAD) return -ESRCH;
    return entry->state == FAKE_PID_FOREIGN ? -EPERM : 0;
}

/* One process group may be alive: fake->live_group (0: none). */
static int fake_group_probe(void *context, int64_t process_group) {
    const struct fake_env *fake = fake_of(context);
    return fake->live_group != 0 && process_group == fake->live_group ? 0 : -ESRCH;
}

static int fake_pid_start_time(void *context, int64_t pid, uint64_t *start_time) {
    const struct fake_pid *entry = find_pid(fake_of(context), pid);
    if (entry == NULL || entry->state == FAKE_PID_DEAD) return -ESRCH;
    *start_time = entry->start_time;
    return 0;
}

static int fake_boot_id(void *context, char *buffer, size_t size) {
    snprintf(buffer, size, "%s", fake_of(context)->boot_id);
    return 0;
}

/* splitmix64: deterministic tokens make failures reproducible. */
static int fake_random_bytes(void *context, void *buffer, size_t size) {
    struct fake_env *fake = fake_of(context);
    int fault = injected(fake, "random_bytes");
    if (fault != 0) return fault;
    unsigned char *out = buffer;
    for (size_t index = 0; index < size; index++) {
        uint64_t value = (fake->random_state += 0x9E3779B97F4A7C15ULL);
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
        value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
        out[index] = (unsigned char)(value ^ (value >> 31));
    }
    return 0;
}

const char *fake_env_etcd_endpoints;

static const char *fake_getenv(void *context, const char *name) {
    struct fake_env *fake = fake_of(context);
    if (fake_env_etcd_endpoints != NULL && strcmp(name, "LEASE_ETCD_ENDPOINTS") == 0) return fake_env_etcd_endpoints;
    if (strcmp(name, LEASE_INHERITED_TOKEN_ENV) == 0) return fake->inherited_token;
    if (strcmp(name, LEASE_PATH_ENV) == 0) return fake->path_variable;
    return NULL;
}

static void fake_warn(void *context, const char *line) {
    struct fake_env *fake = fake_of(context);
    if (fake->warning_count < FAKE_WARNINGS_MAX)
        snprintf(fake->warnings[fake->warning_count++], sizeof fake->warnings[0], "%s", line);
}

struct fake_env *fake_env_new(void) {
    struct fake_env *fake = calloc(1, sizeof *fake);
    if (fake == NULL) abort();
    fake->env = *lease_env_posix();
    fake->env.name = "fake";
    fake->env.context = fake;
    fake->env.open_read = fake_open_read;
    fake->env.create_exclusive = fake_create_exclusive;
    fake->env.read = fake_read;
    fake->env.write = fake_write;
    fake->env.fstat = fake_fstat;
    fake->env.lstat = fake_lstat;
    fake->env.link = fake_link;
    fake->env.rename = fake_rename;
    fake->env.exchange = fake_exchange;
    fake->env.unlink = fake_unlink;
    fake->env.mkdir = fake_mkdir;
    fake->env.lock = fake_lock;
    fake->env.pread = fake_pread;
    fake->env.pwrite = fake_pwrite;
    fake->env.wall_clock_ms = fake_wall_clock_ms;
    fake->env.monotonic_ms = fake_monotonic_ms;
    fake->env.sleep_ms = fake_sleep_ms;
    fake->env.self_pid = fake_self_pid;
    fake->env.pid_probe = fake_pid_probe;
    fake->env.pid_start_time = fake_pid_start_time;
    fake->env.boot_id = fake_boot_id;
    fake->env.random_bytes = fake_random_bytes;
    fake->env.getenv = fake_getenv;
    fake->env.warn = fake_warn;
    fake->env.group_probe = fake_group_probe;
    snprintf(fake->directory, sizeof fake->directory, "/tmp/lease-test-XXXXXX");
    if (mkdtemp(fake->directory) == NULL) abort();
    snprintf(fake->path, sizeof fake->path, "%s/state/heavy-maintenance-lease.json", fake->directory);
    fake->now_ms = FAKE_EPOCH_MS;
    fake->file_age_ms = FAKE_FILE_AGE_MS;
    fake->self_pid = FAKE_SELF_PID;
    snprintf(fake->boot_id, sizeof fake->boot_id, "boot-1");
    fake_env_set_pid(fake, FAKE_SELF_PID, FAKE_PID_ALIVE, FAKE_SELF_START_TIME);
    return fake;
}

void fake_env_set_pid(struct fake_env *fake, int64_t pid, enum fake_pid_state state, uint64_t start_time) {
    for (size_t index = 0; index < fake->pid_count; index++) {
        if (fake->pids[index].pid == pid) {
            fake->pids[index].state = state;
            fake->pids[index].start_time = start_time;
            return;
        }
    }
    if (fake->pid_count == FAKE_PIDS_MAX) abort();
    fake->pids[fake->pid_count++] = (struct fake_pid){.pid = pid, .state = state, .start_time = start_time};
}

/* One gateway call on the etcd key of fake's lease path; value NULL: range. */
static json_t *etcd_key_call(const struct fake_env *fake, const char *method, const char *value) {
    struct etcd_client client;
    if (etcd_client_init(&client, fake_env_etcd_endpoints, 0) != 0) abort();
    struct etcd_transport transport = etcd_client_transport(&client);
    char key[sizeof fake->path + 32];
    snprintf(key, sizeof key, "/heavy-maintenance-lease/%s", fake->path);
    char *encoded_key = etcd_base64_encode(key, strlen(key));
    char *encoded_value = value != NULL ? etcd_base64_encode(value, strlen(value)) : NULL;
    json_t *request = value != NULL ? json_pack("{s:s,s:s}", "key", encoded_key, "value", encoded_value)
                                    : json_pack("{s:s}", "key", encoded_key);
    free(encoded_key);
    free(encoded_value);
    json_t *reply = NULL;
    char detail[256];
    if (transport.call(transport.context, method, request, &reply, detail, sizeof detail) != 0) {
        fprintf(stderr, "fake_env: etcd %s: %s\n", method, detail);
        abort();
    }
    json_decref(request);
    return reply;
}

void fake_env_write_lease(struct fake_env *fake, const char *bytes) {
    if (fake_env_etcd_endpoints != NULL) {
        json_decref(etcd_key_call(fake, "kv/put", bytes));
        return;
    }
    lease_make_parents(&fake->env, fake->path);
    FILE *file = fopen(fake->path, "wb");
    if (file == NULL) abort();
    fwrite(bytes, 1, strlen(bytes), file);
    fclose(file);
}

char *fake_env_read_lease(const struct fake_env *fake) {
    if (fake_env_etcd_endpoints != NULL) {
        json_t *reply = etcd_key_call(fake, "kv/range", NULL);
        const char *value =
            json_string_value(json_object_get(json_array_get(json_object_get(reply, "kvs"), 0), "value"));
        bool present = json_array_size(json_object_get(reply, "kvs")) > 0;
        size_t size = 0;
        char *bytes = present ? etcd_base64_decode(value != NULL ? value : "", &size) : NULL;
        json_decref(reply);
        return bytes;
    }
    FILE *file = fopen(fake->path, "rb");
    if (file == NULL) return NULL;
    char *buffer = calloc(1, LEASE_FILE_SIZE_MAX + 1);
    if (buffer == NULL) abort();
    size_t length = fread(buffer, 1, LEASE_FILE_SIZE_MAX, file);
    buffer[length] = '\0';
    fclose(file);
    return buffer;
}

static int remove_entry(const char *path, const struct stat *stat, int type, struct FTW *walk) {
    (void)stat, (void)type, (void)walk;
    if (remove(path) != 0) fprintf(stderr, "fake_env: could not remove %s\n", path);
    return 0;
}

static void remove_tree(const char *path) {
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void fake_env_free(struct fake_env *fake) {
    if (fake == NULL) return;
    remove_tree(fake->directory);
    free(fake);
}
