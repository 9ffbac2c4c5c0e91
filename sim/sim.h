/*
 * sim.h: the deterministic simulator's data model, shared by its layers:
 * the PRNG, the plan (workload and fault knobs), the world (file system,
 * lock table, process table, clocks), the trace records and the hooks
 * through which the layers above reach down. Each layer's functions are
 * declared in its own header (world.h, env.h, sched.h, oracle.h, ...).
 */
#ifndef SIM_H
#define SIM_H

/* The simulator's assertions are its own checks on the world it models
 * (index bounds, the fence, coroutines): a build without them would run
 * seeds it can no longer vouch for. */
#ifdef NDEBUG
#error "the simulator is built with assertions: do not define NDEBUG"
#endif

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "coroutine.h"
#include "knobs.h"
#include "lease_impl.h"

#define SIM_PROCESS_MAX 512 /* random and PCT; the exhaustive search takes SIM_EXHAUSTIVE_PROCESS_MAX */
#define SIM_EXHAUSTIVE_PROCESS_MAX 64
#define SIM_SPEC_MAX 512
#define SIM_CHILD_MAX 4
#define SIM_PATH_MAX 256
#define SIM_FD_MAX 16
#define SIM_ENTRY_MAX 64
#define SIM_INODE_MAX 128
#define SIM_LABEL_MAX 32
#define SIM_TOKEN_MAX 48
#define SIM_HISTORY_MAX 512
#define SIM_STORY_MAX 400
#define SIM_FRAME_MAX 2048
#define SIM_STACK_BYTES (256 * 1024)
#define SIM_FOREVER_MS INT64_MAX
#define SIM_PID_SLOTS 1024
#define SIM_EPOCH_MS 1778959620000LL /* 2026-05-16T19:27:00.000Z */

/* ---- PRNG: xoshiro256**, seeded through splitmix64 ---- */
struct sim_prng {
    uint64_t state[4];
};
void sim_prng_seed(struct sim_prng *prng, uint64_t seed);
uint64_t sim_prng_next(struct sim_prng *prng);
uint64_t sim_prng_below(struct sim_prng *prng, uint64_t bound);
int64_t sim_prng_range(struct sim_prng *prng, int64_t low, int64_t high);
bool sim_prng_permille(struct sim_prng *prng, int permille);
/* Folds at most limit bytes of text into hash with step, eight bytes at a
 * time (the last word zero-padded), then its length, so that "ab" and
 * "ab\0" never fold alike. The determinism hash (trace.c) and the
 * footprint keys (sched.c) fold paths with it: a byte at a time, their
 * loops were a tenth of a step. */
static inline uint64_t sim_fold_text(uint64_t hash, const char *text, size_t limit,
                                     uint64_t (*step)(uint64_t hash, uint64_t word)) {
    size_t length = strnlen(text, limit), offset = 0;
    uint64_t word;
    for (; offset + 8 <= length; offset += 8) {
        memcpy(&word, text + offset, 8);
        hash = step(hash, word);
    }
    if (offset < length) {
        word = 0;
        memcpy(&word, text + offset, length - offset);
        hash = step(hash, word);
    }
    return step(hash, (uint64_t)length);
}
/* A seed "N" or a range "A..B" (A <= B), as the command line and scenario
 * files write them; false on anything else. */
bool sim_seed_range_parse(const char *text, uint64_t *first, uint64_t *last);

/* ---- the plan: every knob and every actor, drawn from the seed or read from a scenario ---- */
enum sim_spec_kind {
    SIM_SPEC_PROGRAM,
    SIM_SPEC_ORCHESTRATOR,
    SIM_SPEC_KILL,
    SIM_SPEC_CLOCK_JUMP,
    SIM_SPEC_REUSE_PID,
    SIM_SPEC_LAUNCHER /* acquires naming the worker it spawns (acquire --pid), hands it the token, exits */
};
enum sim_initial { SIM_INITIAL_NONE, SIM_INITIAL_LIVE, SIM_INITIAL_DEAD, SIM_INITIAL_TORN, SIM_INITIAL_REUSED };

struct sim_child {
    char owner[SIM_LABEL_MAX];
    int64_t body_ms;
    bool hang;
};

struct sim_spec {
    enum sim_spec_kind kind;
    char label[SIM_LABEL_MAX];
    int64_t at_ms;
    bool disabled; /* removed by the shrinker */
    /* program */
    char owner[SIM_LABEL_MAX];
    int64_t body_ms;
    bool hang;
    bool fail;
    int64_t crash_after_ms;   /* -1: none; else crash this long into the body */
    int64_t tree_ms;          /* 0: none; else the body starts a child in its process group that works
                                * this long and outlives a crash of the program (docs/spec.md 9.8) */
    char crash_after_op[24];  /* "": none; else crash at the call after the first such op */
    bool crash_anywhere;      /* exhaustive mode may crash it at any step */
    char impl[SIM_LABEL_MAX]; /* program, orchestrator: the implementation it runs ("": the run's --impl) */
    /* orchestrator */
    bool hold;
    bool renew; /* with hold: renews every ttl/3 while its children inherit (docs/spec.md 9.23) */
    int child_count;
    struct sim_child children[SIM_CHILD_MAX];
    /* kill, reuse-pid: target label; clock-jump: jump_ms */
    char target[SIM_LABEL_MAX];
    int64_t jump_ms;
};

/* The knobs, one field per row of knobs.h's table. */
#define SIM_KNOB_FIELD(field, type, kind, keyword, label, minimum, drop) type field;
struct sim_knobs {
    SIM_KNOBS(SIM_KNOB_FIELD)
};
#undef SIM_KNOB_FIELD

struct sim_plan {
    char name[64];
    struct sim_knobs knobs;
    int spec_count;
    struct sim_spec specs[SIM_SPEC_MAX];
};

/* ---- strategies ---- */
/* POS: partial-order sampling (random priorities per pending operation;
 * the operations that conflict with the one just run draw new ones). */
enum sim_strategy { SIM_STRATEGY_RANDOM, SIM_STRATEGY_PCT, SIM_STRATEGY_EXHAUSTIVE, SIM_STRATEGY_POS };
/* The exhaustive search's reduction: source-set DPOR with sleep sets (the
 * default), sleep sets alone (the search before DPOR), or none (every
 * interleaving: the reference the reduced searches are checked against). */
enum sim_reduction { SIM_REDUCTION_DPOR, SIM_REDUCTION_SLEEP, SIM_REDUCTION_NONE };

/* ---- the world ---- */
struct sim_inode {
    bool used;
    bool is_directory;
    char *data;
    size_t size;
    size_t capacity;
    int link_count;
    int open_count;
    int writer;      /* process index that created it; -1 none */
    int lock_holder; /* process index; -1 free */
    uint64_t number; /* st_ino */
    int64_t mtime_ms;
    int64_t ctime_ms; /* st_ctime: creation, writes, and each change of its names (link, rename, unlink) */
};

struct sim_entry {
    bool used;
    uint16_t length; /* of path: lookups compare it before the bytes (every path shares a long prefix) */
    char path[SIM_PATH_MAX];
    int inode;
};

struct sim_fd {
    bool used;
    bool writable;
    bool is_lock;
    int inode;
    int64_t offset;
};

enum sim_state {
    SIM_PROCESS_FREE,
    SIM_PROCESS_RUNNABLE,
    SIM_PROCESS_BLOCKED,
    SIM_PROCESS_WAITING,
    SIM_PROCESS_FINISHED,
    SIM_PROCESS_DEAD
};
enum sim_role {
    SIM_ROLE_PROGRAM,
    SIM_ROLE_ORCHESTRATOR,
    SIM_ROLE_BYSTANDER,
    SIM_ROLE_GHOST,
    SIM_ROLE_BODY_CHILD,
    SIM_ROLE_LAUNCHER, /* acquires for its worker's pid, hands over the token, exits */
    SIM_ROLE_WORKER    /* runs the body under the lease its launcher took for it, releases */
};
enum sim_phase {
    SIM_PHASE_IDLE,
    SIM_PHASE_ACQUIRING,
    SIM_PHASE_BODY,
    SIM_PHASE_RENEWING,
    SIM_PHASE_RELEASING,
    SIM_PHASE_DONE
};

/* Operations: every env call, plus the body markers and process exit. */
/* The table below keeps one row per line. */
// clang-format off
#define SIM_OP_TABLE(X)                           \
    X(OPEN_READ, "open_read", true)               \
    X(CREATE_EXCLUSIVE, "create_exclusive", true) \
    X(READ, "read", true)                         \
    X(WRITE, "write", true)                       \
    X(FSYNC, "fsync", true)                       \
    X(FSTAT, "fstat", true)                       \
    X(LSTAT, "lstat", true)                       \
    X(CLOSE, "close", true)                       \
    X(LINK, "link", true)                         \
    X(RENAME, "rename", true)                     \
    X(UNLINK, "unlink", true)                     \
    X(MKDIR, "mkdir", true)                       \
    X(LOCK, "lock", true)                         \
    X(UNLOCK, "unlock", true)                     \
    X(PREAD, "pread", true)                       \
    X(PWRITE, "pwrite", true)                     \
    X(WALL_CLOCK, "wall_clock", false)            \
    X(MONOTONIC, "monotonic", false)              \
    X(SLEEP, "sleep", true)                       \
    X(SELF_PID, "self_pid", false)                \
    X(PID_PROBE, "pid_probe", true)               \
    X(PID_START_TIME, "pid_start_time", true)     \
    X(BOOT_ID, "boot_id", false)                  \
    X(RANDOM, "random_bytes", false)              \
    X(GETENV, "getenv", false)                    \
    X(WARN, "warn", false)                        \
    X(BODY_ENTER, "body_enter", true)             \
    X(BODY_EXIT, "body_exit", true)               \
    X(EXIT, "exit", true)                         \
    X(EXCHANGE, "exchange", true)
// clang-format on

enum sim_op {
#define SIM_OP_ENUM(name, string, visible) SIM_OP_##name,
    SIM_OP_TABLE(SIM_OP_ENUM)
#undef SIM_OP_ENUM
        SIM_OP_COUNT
};
const char *sim_op_name(enum sim_op op);
bool sim_op_visible(enum sim_op op);

/* The object keys an operation touches, for the exhaustive search's
 * independence test. */
struct sim_footprint {
    int count;
    uint64_t keys[4];
    bool writes[4];
    bool everything; /* a crash: dependent with all */
};

/* What an implementation claims to detect (the bounded-wedge bound). */
struct sim_traits {
    bool detects_death;
    bool detects_reuse;
    bool outside_the_world; /* keeps the lease elsewhere (etcd), not through the environment's files */
};

struct sim_world;

struct sim_process {
    int index;
    struct sim_world *world;
    enum sim_state state;
    enum sim_role role;
    enum sim_phase phase;
    char label[SIM_LABEL_MAX];
    char owner[SIM_LABEL_MAX];
    int64_t pid;
    int64_t group; /* process group: 0 none; a tree program's own pid, shared by its body child */
    uint64_t start_time;
    int64_t wake_ms;    /* runnable from; blocked: lock deadline */
    int blocked_inode;  /* blocked on this lock */
    int waiting_child;  /* waiting for this process to end */
    bool wait_deadline; /* waiting: also runnable from wake_ms (sim_wait_child_until) */
    int spec;           /* plan spec index; -1 for children and bystanders */
    int parent;
    struct sim_child child; /* what a child of an orchestrator does */
    char inherited_token[SIM_TOKEN_MAX];
    /* a worker: the lease its launcher acquired for it (empty: none handed) */
    char handed_token[SIM_TOKEN_MAX];
    char handed_expires_at[SIM_TOKEN_MAX];
    int stack_slot;
    struct sim_fd fds[SIM_FD_MAX];
    struct lease_env env;
    void *allocations; /* tracked jansson allocations, freed on crash */
    /* pending operation (known when yielded) */
    enum sim_op pending_op;
    struct sim_footprint pending;
    /* the pending operation's arguments (exhaustive mode): a lock's or an
     * lstat's footprint depends on which inode the path names when the
     * operation runs, not when it was asked for */
    const char *pending_path;
    const char *pending_path2;
    uint64_t pending_keys[2]; /* the two paths' keys, hashed once per operation */
    int pending_fd;
    int64_t pending_pid;
    struct sim_footprint crash_footprint; /* what its crash here would change (exhaustive mode) */
    bool crash_requested;
    bool crash_eligible;
    /* its last step changed nothing another process can see: a crash here
     * is the crash before that step (exhaustive DPOR offers none) */
    bool crash_redundant;
    int calls;         /* env calls made */
    int crash_at_call; /* -1 none */
    bool saw_crash_op;
    uint64_t pct_priority;
    /* oracle */
    bool in_body;
    char body_token[SIM_TOKEN_MAX];
    int64_t body_expires_ms;
    bool ttl_counted;
    uint64_t call_start_step;
    int64_t call_start_wall_ms;
    int64_t death_step; /* -1 alive */
    int64_t died_ms;
    int64_t body_start_ms, body_end_ms;
    char result_text[48];
    /* told "acquired" (not inherited) and not yet releasing: the lease it
     * believes it holds, for double acquisition */
    bool holding;
    char holding_token[SIM_TOKEN_MAX];
    int64_t holding_expires_ms;
    /* its implementation (sim/mix.c): its spec's, its parent's, else the
     * run's --impl; resolved at its first use */
    const struct lease_ops *ops;
    struct sim_traits traits;
    int64_t renew_start_wall_ms;  /* the wall clock when the current renewal began */
    uint64_t jumps_at_call_start; /* clock jumps of the world when the current acquire or renew began */
};

/* A version of the lease path: which token sits there from step on. */
struct sim_history {
    uint64_t step;
    int64_t at_ms; /* true time of the change (the pictures' axis) */
    int64_t wall_ms;
    int writer;
    int actor;  /* the process whose call made this change (-1: the setup) */
    int holder; /* the process the lease names: its writer, or the worker a launcher acquired it for */
    int inode;
    bool displaced; /* the version before it was exchanged away, still linked under another name */
    char token[SIM_TOKEN_MAX];
    int64_t expires_ms; /* INT64_MAX when unparsable */
};

/* A line of the story: what a person needs to read the run (also the SVG). */
enum sim_story_kind {
    SIM_STORY_SPAWN,
    SIM_STORY_RESULT,
    SIM_STORY_BODY_ENTER,
    SIM_STORY_BODY_EXIT,
    SIM_STORY_CRASH,
    SIM_STORY_KILL,
    SIM_STORY_EXIT,
    SIM_STORY_PID_REUSE,
    SIM_STORY_CLOCK_JUMP,
    SIM_STORY_VIOLATION,
    SIM_STORY_RENEW
};
struct sim_story {
    enum sim_story_kind kind;
    int process;
    int64_t at_ms;
    uint64_t step;
    char text[200];
};

/* The table below keeps one row per line. */
// clang-format off
#define SIM_INVARIANT_TABLE(X)               \
    X(NONE, "none")                          \
    X(EXCLUSION, "exclusion")                \
    X(FOREIGN_RELEASE, "no-foreign-release") \
    X(HONEST_DEFERRAL, "honest-deferral")    \
    X(BOUNDED_WEDGE, "bounded-wedge")        \
    X(FENCE, "fence")                        \
    X(EXPIRY, "expiry")                      \
    X(DOUBLE_ACQUISITION, "double-acquisition") \
    X(DETERMINISM, "determinism")            \
    X(STEP_LIMIT, "progress")
// clang-format on
enum sim_invariant {
#define SIM_INVARIANT_ENUM(name, string) SIM_INVARIANT_##name,
    SIM_INVARIANT_TABLE(SIM_INVARIANT_ENUM)
#undef SIM_INVARIANT_ENUM
        SIM_INVARIANT_COUNT
};
const char *sim_invariant_name(enum sim_invariant invariant);
bool sim_invariant_from_name(const char *name, enum sim_invariant *invariant);

/* The table below keeps one row per line. */
// clang-format off
#define SIM_COUNTER_TABLE(X)                        \
    X(TAKEOVER_AFTER_STALE, "takeover-after-stale") \
    X(MALFORMED_RECOVERY, "malformed-recovery")     \
    X(PID_REUSE, "pid-reuse")                       \
    X(INHERITED_RUN, "inherited-run")               \
    X(TTL_TAKEOVER, "ttl-takeover")                 \
    X(NOT_OWNER_RELEASE, "not-owner-release")       \
    X(WEDGE_UNTIL_TTL, "wedge-until-ttl")           \
    X(DEFERRAL, "deferral")                         \
    X(CRASH_WHILE_HOLDING, "crash-while-holding")   \
    X(CLOCK_JUMP, "clock-jump")                     \
    X(MODEL_RACE, "model-race")                     \
    X(INHERITED_RENEWAL, "inherited-renewal")       \
    X(ACQUIRED_FOR_PID, "acquired-for-pid")
// clang-format on
enum sim_counter {
#define SIM_COUNTER_ENUM(name, string) SIM_COUNTER_##name,
    SIM_COUNTER_TABLE(SIM_COUNTER_ENUM)
#undef SIM_COUNTER_ENUM
        SIM_COUNTER_COUNT
};
const char *sim_counter_name(enum sim_counter counter);
bool sim_counter_from_name(const char *name, enum sim_counter *counter);

#define SIM_CHOICE_MAX 16
struct sim_frame {
    int choice_count;
    int chosen;
    uint64_t sleep_mask; /* process indices asleep at entry */
    uint64_t done_mask;  /* processes explored from here */
    /* DPOR: the choices (process, crash) by index, those to explore
     * (backtrack) and those explored (done) */
    uint32_t backtrack;
    uint32_t done;
    uint32_t crash_bits;
    unsigned char process[SIM_CHOICE_MAX];
};

struct sim_world;
struct sim_process;
/* How the layers above reach down without being named below: the world
 * reports each change of the lease and each pid it hands out to the
 * observer (the oracle; NULL: nobody watches), the environment hands each
 * operation to the scheduler (yield), the scheduler starts each process on
 * the workload's program. Set by the run layer for each seed. */
struct sim_hooks {
    void (*lease_changed)(struct sim_world *world, struct sim_process *actor, int removed_inode);
    void (*pid_allocated)(struct sim_world *world, int64_t pid);
    void (*yield)(struct sim_process *process, enum sim_op op, const char *path, const char *path2, int fd,
                  int64_t pid);
    void (*program_main)(void *argument);
    /* The ops a process calls through for its implementation real (NULL:
     * real itself; sim/history.c puts a recording copy in between). */
    const struct lease_ops *(*wrap_ops)(const struct lease_ops *real);
};

struct sim_config {
    const struct lease_ops *ops; /* the implementation under test (--impl) */
    struct sim_hooks hooks;
    struct sim_traits traits; /* ops's */
    bool mixed;               /* some process runs another implementation beside ops (sim/mix.c) */
    enum sim_strategy strategy;
    int pct_depth;
    enum sim_reduction reduction; /* exhaustive mode */
    FILE *trace;                  /* JSON Lines, or NULL */
    bool keep_story;
    uint64_t step_limit;
};

struct sim_world {
    uint64_t seed;
    struct sim_config config;
    struct sim_plan plan;
    struct sim_prng schedule_rng;
    struct sim_prng world_rng;
    int64_t now_ms;         /* true time */
    int64_t wall_offset_ms; /* wall = epoch + now + offset */
    uint64_t step;
    uint64_t hash;
    char lease_path[SIM_PATH_MAX];
    char boot_id[40];
    struct sim_inode inodes[SIM_INODE_MAX];
    struct sim_entry entries[SIM_ENTRY_MAX];
    uint64_t next_inode_number;
    uint64_t freed_inode_numbers[SIM_INODE_MAX]; /* inode-reuse: handed out again, last freed first */
    int freed_inode_count;
    int lease_inode;
    int process_count;
    struct sim_process processes[SIM_PROCESS_MAX];
    int spec_process[SIM_SPEC_MAX];
    bool spec_fired[SIM_SPEC_MAX];
    int64_t next_pid;
    uint64_t pid_generation[SIM_PID_SLOTS];
    uint64_t pid_changed_step[SIM_PID_SLOTS];
    int pid_slots_start, pid_slots_end; /* the pid slots a seed touched (cleared for the next) */
    /* oracle */
    bool lock_stalled; /* lock-stall: the run's first lock holder has stalled */
    bool fence_seen;
    int64_t max_fence; /* the greatest fence an acquisition got so far */
    char max_fence_by[SIM_LABEL_MAX];
    int history_count;
    struct sim_history history[SIM_HISTORY_MAX];
    uint64_t counters[SIM_COUNTER_COUNT];
    enum sim_invariant violation;
    char violation_text[512];
    uint64_t violation_step;
    bool stopped;
    /* story */
    int story_count;
    struct sim_story story[SIM_STORY_MAX];
    /* exhaustive search */
    int frame_count;
    int frame_replay; /* frames [0, frame_replay) are replayed */
    bool frame_overflow;
    struct sim_frame *frames;
    uint64_t child_sleep_mask;
    bool redundant; /* stopped: every choice asleep (an equivalent schedule was explored) */
    /* pct */
    uint64_t pct_change_steps[8];
    int pct_changes_done;
};

/* An index into one of the world's tables (inodes, entries, fds, processes,
 * pid slots): out of bounds is a simulator bug, never a simulated fault. */
static inline int sim_checked_index(int64_t index, int bound) {
    assert(index >= 0 && index < bound);
    return (int)index;
}

#endif
