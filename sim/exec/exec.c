/*
 * exec.c: leasesim --exec 'TEMPLATE': the controller. Each child installs a
 * seccomp filter (SCMP_ACT_NOTIFY for file syscalls and kill) before exec and
 * hands the listener to the controller. Calls that touch the lease directory
 * are scheduling points: the controller holds them until every thread of
 * every child is blocked in a notification or asleep, then releases one,
 * chosen by the seed. Everything else continues at once. See docs/exec.md.
 */

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <linux/sched.h> /* CLONE_NEWPID (sim/sched.h shadows <sched.h>) */
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "clock_page.h"
#include "exec.h"
#include "sim.h"
#include "trace.h"

#define EXEC_PROCS_MAX 3
#define EXEC_ARGS_MAX 32
#define EXEC_TREE_MAX 64
#define EXEC_FDS_MAX 1024
#define EXEC_PENDING_MAX 16
#define EXEC_STEPS_MAX 20000
#define EXEC_LOG_LINE_MAX 512
#define EXEC_RUN_SECONDS_MAX 60
/* PCT change points fall in the first steps of a run: two processes of the
 * project make about 25 lease calls each. */
#define EXEC_PCT_STEPS_ESTIMATE 50
/* The virtual wall clock (libfaketime): it starts at 2030-01-01T00:00:00Z,
 * advances 1 ms per scheduled call and by the length of every timed sleep
 * (answered at once, never slept), and jumps when a knob or the scenario says. */
#define EXEC_VIRTUAL_EPOCH_MS 1893456000000LL
#define EXEC_STEP_MS 1
/* A sleep to an absolute deadline is measured against the real clock when it
 * arrives: rounded up to this quantum so that the latency does not show. */
#define EXEC_SLEEP_QUANTUM_MS 20
#define EXEC_EVENTS_MAX 16
#define EXEC_DEFAULT_TTL_MS 21600000LL

/* A recorded schedule (an order file): per scheduled call, whose call ran
 * and its fault; and the clock jumps in between. --order FILE replays one;
 * past its end the first held call in canonical order runs, without faults. */
enum exec_fault { FAULT_NONE, FAULT_TORN, FAULT_CRASH, FAULT_CRASH_REUSE, FAULT_ENOSPC, FAULT_EIO, FAULT_EACCES };
static const char *const fault_names[] = {"-", "torn", "crash", "crash+pid-reuse", "ENOSPC", "EIO", "EACCES"};
struct exec_entry {
    bool jump;
    int proc;
    enum exec_fault fault;
    int64_t by;
    unsigned held; /* processes with a held call at that step (exhaustive search) */
};

enum exec_event_kind { EXEC_EVENT_KILL, EXEC_EVENT_REUSE_PID, EXEC_EVENT_CLOCK_JUMP };
struct exec_event {
    enum exec_event_kind kind;
    int proc;
    int64_t at_ms, by_ms;
};

struct exec_options {
    const char *template_text;
    char *template_words[EXEC_ARGS_MAX];
    int template_count;
    const char *programs[EXEC_PROCS_MAX];
    int program_count;
    const char *strategy_name; /* random | pct */
    int pct_depth, pct_steps;
    bool initial_dead;
    int crash_permille, errno_permille, torn_permille;
    uint64_t first, last;
    bool has_seeds, quiet, determinism;
    const char *trace_path, *log_path, *svg_path;
    char repo_root[PATH_MAX];
    const char *argv0;
    /* Time: the virtual wall clock through libfaketime, or the real one. */
    bool clock_virtual, clock_real_requested;
    const char *faketime_library;
    bool clock_shim; /* LEASESIM_CLOCK_SHIM: libfaketime's clock reads answered from a shared page */
    int clock_jump_permille;
    int64_t ttl_ms; /* MAINTENANCE_TTL_MS for every process; 0: the program's default */
    /* Per process (from --scenario): start time, body length, crash in the body. */
    int64_t start_ms[EXEC_PROCS_MAX], body_ms[EXEC_PROCS_MAX];
    bool body_crash[EXEC_PROCS_MAX], body_set[EXEC_PROCS_MAX];
    char labels[EXEC_PROCS_MAX][32];
    struct exec_event events[EXEC_EVENTS_MAX];
    int event_count;
    const char *scenario_path;
    char scenario_name[64];
    char scenario_notes[512]; /* directives --exec does not apply */
    bool initial_torn;
    enum sim_invariant hunt; /* --invariant: only this one is a verdict; NONE: any */
    const char *order_path;  /* --order FILE: replay a recorded schedule */
    struct exec_entry *guide;
    int guide_count, guide_limit; /* limit: entries used (shrinking) */
    bool shrink;
    bool wedge_probe_off;           /* shrinking for another invariant: its verdict cannot be bounded-wedge */
    int preemptions, max_schedules; /* --strategy exhaustive */
    bool pid_reuse;                 /* root in a private pid namespace: ns_last_pid works */
    bool no_pid_namespace;          /* --pid-reuse off */
    int pid_reuse_permille;         /* --pid-reuse P: chance that a killed process's pid is given away */
    char pid_reuse_note[160];
};

/* A lease-directory call held by the controller until the schedule picks it. */
struct exec_call {
    struct seccomp_notif request;
    int proc_index;
    char name[24];
    char path[PATH_MAX];
    int64_t sleep_ms; /* a timed sleep's length (virtual clock) */
};

/* Per thread-group fd table: which descriptors point into the lease directory. */
struct exec_task {
    pid_t pid, inner; /* inner: as the processes see it (a private pid namespace) */
    int proc_index;
    int ordinal; /* normalised pid: order of first appearance in its tree */
    bool fds_dirty;
    bool lease_fd[EXEC_FDS_MAX];
};

struct exec_proc {
    pid_t pid, inner;
    int pidfd, notify_fd;
    const char *program;
    bool exited, killed;
    int status;
};

struct exec_run {
    const struct exec_options *options;
    uint64_t seed;
    struct sim_prng prng;
    char dir[PATH_MAX], lease_dir[PATH_MAX], lease_path[PATH_MAX], log_path[PATH_MAX];
    struct exec_proc procs[EXEC_PROCS_MAX];
    int proc_count, live_count;
    struct exec_task tasks[EXEC_TREE_MAX];
    int task_count;
    struct exec_call pending[EXEC_PENDING_MAX];
    int pending_count;
    struct seccomp_notif_resp *response;
    long seen_holders[64]; /* pids the lease file named at some step: honest deferral */
    int seen_holder_count;
    pid_t awaited_tid; /* released from a sleep: settle waits for its next held call */
    /* Reshaping calls (rename*, unlink*, rmdir, the mount family) let run whose
     * thread has made no call since: the canonical set is off meanwhile. */
    pid_t reshaping_tid[EXEC_TREE_MAX], reshaping_group[EXEC_TREE_MAX];
    int reshaping_count;
    bool reshaping_overflow; /* more than the table holds: off for the rest of the run */
    /* Oracle state. */
    int lease_fd;      /* O_PATH on the inode at the lease path, -1 none */
    int lease_creator; /* proc index, -1 none, -2 the initial dead holder */
    long log_offset;
    pid_t log_holder;
    enum sim_invariant violation;
    char violation_text[512];
    /* Story: one line per scheduled call. */
    char **story;
    int story_count, story_capacity;
    bool story_open; /* the last line waits for the lease state after its step */
    int steps;
    int pct_priority[EXEC_PROCS_MAX];
    int pct_change_steps[8];
    FILE *trace;
    FILE *svg; /* --svg FILE, opened before the first seed */
    /* Time. */
    int64_t vclock_ms;                 /* the virtual wall clock (ms since the epoch) */
    int64_t offset_ms[EXEC_PROCS_MAX]; /* per-process jumps */
    int next_event;
    bool started[EXEC_PROCS_MAX];
    /* Bodies, from the MAINTENANCE_LOG records: who entered, who is inside,
     * until when its lease is valid (from the lease file while it names it). */
    bool entered[EXEC_PROCS_MAX + 1], in_body[EXEC_PROCS_MAX + 1], ttl_counted[EXEC_PROCS_MAX + 1];
    int64_t body_expires_ms[EXEC_PROCS_MAX + 1];
    int64_t lease_expires_ms; /* of the file at the lease path after the last step; INT64_MAX unknown */
    int ttl_takeovers, clock_jumps, pid_reuses;
    bool also_seen[SIM_INVARIANT_COUNT]; /* violations of other invariants (--invariant) */
    bool clock_ignored[EXEC_PROCS_MAX];
    int clock_length[EXEC_PROCS_MAX];               /* of each clock file's line, as last written */
    struct clock_page *clock_pages[EXEC_PROCS_MAX]; /* the shim's copy of each clock (clock_shim.c) */
    bool shim_ready;                                /* the shim is in this run's folder and loads */
    long clock_file_opens;                          /* clock files opened by a notified call */
    bool reuse_wanted[EXEC_PROCS_MAX];
    struct exec_entry *record; /* this run's schedule, for an order file */
    int record_count, record_capacity, guide_pos;
    int violation_story, violation_step; /* story lines and scheduled calls up to the violation */
    /* --svg: the run as the simulator's timeline draws it (sim/svg.c), filled
     * as the run goes; NULL without --svg. */
    struct sim_world *world;
    bool lease_seen; /* world->history's last version: the file as it stood */
    struct stat lease_stat;
    bool deferral_drawn[EXEC_PROCS_MAX];
    struct { /* the last scheduled call, for the trace record written once it settled */
        int proc, ordinal;
        char name[24], path[PATH_MAX * 2 + 16], result[64];
        enum sim_op op;
        int rc;
        int64_t value;
    } last;
    /* --trace: sim/trace.c writes each record here first; exec adds its own
     * fields (syscall, result, lease) and copies the line to run->trace. */
    FILE *trace_buffer;
    char *trace_text;
    size_t trace_size;
    /* Exits reaped while a step's record waits for its lease state: written
     * after it, so the trace keeps the order things happened in. */
    bool exit_pending[EXEC_PROCS_MAX];
    int exit_status[EXEC_PROCS_MAX];
};

static volatile sig_atomic_t interrupted;

static void trace_flush(struct exec_run *run, json_t *extra);
static void trace_exits(struct exec_run *run);
static void print_knobs(const struct exec_options *options, FILE *out);
static void trace_op(struct exec_run *run, int proc, enum sim_op op, const char *arg, int rc, int64_t value,
                     json_t *extra);

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now); /* rates and time-outs only, never a schedule input */
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static int usage_error(const char *message, const char *argument) {
    fprintf(stderr, "leasesim: %s%s%s (try --help)\n", message, argument ? ": " : "", argument ? argument : "");
    return EX_USAGE;
}

static const char *const exec_usage_text =
    "usage: leasesim --exec 'TEMPLATE' [--programs A,B[,C]] (--seed N | --seeds A..B)\n"
    "                [--strategy random|pct|exhaustive] [--pct-depth D] [--pct-steps N]\n"
    "                [--preemptions B] [--max-schedules N] [--initial none|dead]\n"
    "                [--crash P] [--errno P] [--torn P] [--clock virtual|real] [--clock-jump P] [--ttl MS]\n"
    "                [--pid-reuse P|off] [--scenario FILE] [--invariant NAME]\n"
    "                [--order FILE] [--shrink on|off] [--trace FILE] [--log FILE] "
    "[--svg FILE] [--determinism] [--quiet]\n"
    "TEMPLATE as the pytest suite's: {script} = program name; a relative first word from the repository root.\n"
    "Exit: 0 every seed satisfied every invariant; 1 a violation (printed with a replay command); 64 usage;\n"
    "      69 the kernel or the sandbox refused the seccomp user-notification filter.\n";

/* ---- argument parsing ---------------------------------------------------- */

/* Numbers and seed ranges go through the project's one parser
 * (lease_parse_unsigned, sim_seed_range_parse). */
static bool parse_unsigned(const char *text, uint64_t maximum, uint64_t *value) {
    return lease_parse_unsigned(text, maximum, value, NULL);
}

static bool parse_permille(const char *text, int *permille) {
    uint64_t value;
    if (!parse_unsigned(text, 1000, &value)) return false;
    *permille = (int)value;
    return true;
}

/* Split like a shell without running one: whitespace, single and double quotes. */
static bool split_template(struct exec_options *options) {
    static char storage[4096];
    size_t used = 0;
    const char *cursor = options->template_text;
    options->template_count = 0;
    while (*cursor != '\0') {
        while (*cursor == ' ' || *cursor == '\t') cursor++;
        if (*cursor == '\0') break;
        if (options->template_count == EXEC_ARGS_MAX - 1) return false;
        options->template_words[options->template_count++] = storage + used;
        char quote = 0;
        while (*cursor != '\0' && (quote != 0 || (*cursor != ' ' && *cursor != '\t'))) {
            if (quote == 0 && (*cursor == '\'' || *cursor == '"')) {
                quote = *cursor++;
                continue;
            }
            if (quote != 0 && *cursor == quote) {
                quote = 0;
                cursor++;
                continue;
            }
            if (used + 2 >= sizeof storage) return false;
            storage[used++] = *cursor++;
        }
        if (quote != 0) return false;
        storage[used++] = '\0';
    }
    options->template_words[options->template_count] = NULL;
    return options->template_count > 0;
}

static bool parse_programs(struct exec_options *options, const char *text) {
    static char storage[256];
    if (strlen(text) >= sizeof storage) return false;
    strcpy(storage, text);
    options->program_count = 0;
    for (char *save = NULL, *word = strtok_r(storage, ",", &save); word != NULL; word = strtok_r(NULL, ",", &save)) {
        if (options->program_count == EXEC_PROCS_MAX) return false;
        options->programs[options->program_count++] = word;
    }
    return options->program_count >= 1;
}

static bool parse_ms(const char *text, int64_t *value) {
    uint64_t number;
    bool negative = *text == '-';
    if (*text == '+' || *text == '-') text++;
    if (!parse_unsigned(text, (uint64_t)INT64_MAX / 2, &number)) return false;
    *value = negative ? -(int64_t)number : (int64_t)number;
    return true;
}

static int scenario_label(const struct exec_options *options, const char *label) {
    for (int index = 0; index < options->program_count; index++)
        if (strcmp(options->labels[index], label) == 0) return index;
    return -1;
}

static void scenario_note(struct exec_options *options, const char *text) {
    size_t used = strlen(options->scenario_notes);
    snprintf(options->scenario_notes + used, sizeof options->scenario_notes - used, "%s%s", used ? "; " : "", text);
}

/* Reads the simulator's scenario files (fixtures/scenarios/README.md): the
 * programs, their start times and bodies, the TTL, the initial lease, the
 * crash chance and the kill, reuse-pid and clock-jump events. Directives that
 * only the simulator's model can apply are named on the first line. */
static int load_scenario(struct exec_options *options, const char *path) {
    FILE *file = fopen(path, "re");
    if (file == NULL) return usage_error("cannot read the scenario", path);
    static char storage[EXEC_PROCS_MAX][32];
    char line[512];
    int number = 0, programs = 0;
    options->initial_dead = false; /* the scenario's default: no lease file */
    while (fgets(line, sizeof line, file) != NULL) {
        number++;
        char *hash = strchr(line, '#');
        if (hash != NULL) *hash = '\0';
        char *words[24];
        int count = 0;
        for (char *save = NULL, *word = strtok_r(line, " \t\r\n", &save); word != NULL && count < 24;
             word = strtok_r(NULL, " \t\r\n", &save))
            words[count++] = word;
        if (count == 0) continue;
        char where[64];
        snprintf(where, sizeof where, "%s:%d", path, number);
        int64_t value = 0;
        if (!strcmp(words[0], "name") && count == 2) {
            snprintf(options->scenario_name, sizeof options->scenario_name, "%s", words[1]);
        } else if (!strcmp(words[0], "seeds") && count == 2) {
            if (!options->has_seeds && !sim_seed_range_parse(words[1], &options->first, &options->last))
                return usage_error("bad seeds in the scenario", where);
        } else if (!strcmp(words[0], "ttl") && count == 2 && parse_ms(words[1], &value) && value > 0) {
            options->ttl_ms = value;
        } else if (!strcmp(words[0], "initial") && count == 2 &&
                   (!strcmp(words[1], "none") || !strcmp(words[1], "dead") || !strcmp(words[1], "torn"))) {
            options->initial_dead = !strcmp(words[1], "dead");
            options->initial_torn = !strcmp(words[1], "torn");
        } else if (!strcmp(words[0], "crash-permille") && count == 2) {
            if (!parse_permille(words[1], &options->crash_permille)) return usage_error("bad crash-permille", where);
        } else if (!strcmp(words[0], "program") && count >= 7 && !strcmp(words[3], "at") && !strcmp(words[5], "body")) {
            if (programs == EXEC_PROCS_MAX) return usage_error("--exec runs at most 3 programs", where);
            int index = programs++;
            snprintf(options->labels[index], sizeof options->labels[index], "%s", words[1]);
            snprintf(storage[index], sizeof storage[index], "%s", words[2]);
            options->programs[index] = storage[index];
            if (!parse_ms(words[4], &options->start_ms[index]) || options->start_ms[index] < 0 ||
                !parse_ms(words[6], &options->body_ms[index]) || options->body_ms[index] < 0)
                return usage_error("bad program line", where);
            options->body_set[index] = true;
            for (int extra = 7; extra < count; extra++) {
                if (!strcmp(words[extra], "crash-after") && extra + 1 < count && parse_ms(words[extra + 1], &value) &&
                    value >= 0) {
                    options->body_crash[index] = true;
                    options->body_ms[index] = value;
                    extra++;
                } else {
                    char note[96];
                    snprintf(note, sizeof note, "%s: '%s' not applied", options->labels[index], words[extra]);
                    scenario_note(options, note);
                }
            }
            options->program_count = programs;
        } else if ((!strcmp(words[0], "kill") || !strcmp(words[0], "reuse-pid")) && count == 4 &&
                   !strcmp(words[2], "at")) {
            int proc = scenario_label(options, words[1]);
            if (proc < 0 || !parse_ms(words[3], &value) || options->event_count == EXEC_EVENTS_MAX)
                return usage_error("bad event (a label of an earlier program line, at MS)", where);
            options->events[options->event_count++] =
                (struct exec_event){.kind = !strcmp(words[0], "kill") ? EXEC_EVENT_KILL : EXEC_EVENT_REUSE_PID,
                                    .proc = proc,
                                    .at_ms = value};
        } else if (!strcmp(words[0], "clock-jump") && count == 5 && !strcmp(words[1], "at") &&
                   !strcmp(words[3], "by")) {
            int64_t by = 0;
            if (!parse_ms(words[2], &value) || !parse_ms(words[4], &by) || options->event_count == EXEC_EVENTS_MAX)
                return usage_error("bad clock-jump", where);
            options->events[options->event_count++] =
                (struct exec_event){.kind = EXEC_EVENT_CLOCK_JUMP, .proc = -1, .at_ms = value, .by_ms = by};
        } else if (!strcmp(words[0], "expect") || !strcmp(words[0], "renew") || !strcmp(words[0], "horizon")) {
            /* the simulator's verdicts for its own implementations; renewal is the program's own */
        } else {
            char note[96];
            snprintf(note, sizeof note, "'%s' not applied", words[0]);
            scenario_note(options, note);
        }
    }
    fclose(file);
    if (programs == 0) return usage_error("the scenario names no program", path);
    /* events in time order (stable) */
    for (int outer = 1; outer < options->event_count; outer++)
        for (int inner = outer; inner > 0 && options->events[inner - 1].at_ms > options->events[inner].at_ms; inner--) {
            struct exec_event held = options->events[inner];
            options->events[inner] = options->events[inner - 1];
            options->events[inner - 1] = held;
        }
    return 0;
}

static int parse_exec_arguments(struct exec_options *options, int argc, char **argv) {
    for (int index = 1; index < argc; index++) {
        const char *flag = argv[index];
        const char *value = index + 1 < argc ? argv[index + 1] : NULL;
        bool takes_value = true;
        if (strcmp(flag, "--help") == 0) {
            fputs(exec_usage_text, stdout);
            exit(0);
        } else if (strcmp(flag, "--quiet") == 0) {
            options->quiet = true;
            takes_value = false;
        } else if (strcmp(flag, "--determinism") == 0) {
            options->determinism = true;
            takes_value = false;
        } else if (value == NULL) {
            return usage_error("missing value or unknown option", flag);
        } else if (strcmp(flag, "--exec") == 0) {
            options->template_text = value;
            if (!split_template(options)) return usage_error("bad --exec template", value);
        } else if (strcmp(flag, "--programs") == 0) {
            if (!parse_programs(options, value)) return usage_error("--programs wants 1 to 3 names", value);
        } else if (strcmp(flag, "--seed") == 0 || strcmp(flag, "--seeds") == 0) {
            if (!sim_seed_range_parse(value, &options->first, &options->last)) return usage_error("bad seed", value);
            options->has_seeds = true;
        } else if (strcmp(flag, "--strategy") == 0) {
            if (strcmp(value, "random") != 0 && strcmp(value, "pct") != 0 && strcmp(value, "exhaustive") != 0)
                return usage_error("unknown strategy (random|pct|exhaustive)", value);
            options->strategy_name = value;
        } else if (strcmp(flag, "--pct-depth") == 0) {
            uint64_t depth;
            if (!parse_unsigned(value, 8, &depth) || depth < 1) return usage_error("--pct-depth wants 1..8", value);
            options->pct_depth = (int)depth;
        } else if (strcmp(flag, "--pct-steps") == 0) {
            uint64_t steps;
            if (!parse_unsigned(value, EXEC_STEPS_MAX, &steps) || steps < 1)
                return usage_error("--pct-steps wants 1..20000", value);
            options->pct_steps = (int)steps;
        } else if (strcmp(flag, "--initial") == 0) {
            if (strcmp(value, "none") != 0 && strcmp(value, "dead") != 0)
                return usage_error("--initial wants none or dead", value);
            options->initial_dead = strcmp(value, "dead") == 0;
        } else if (strcmp(flag, "--crash") == 0) {
            if (!parse_permille(value, &options->crash_permille)) return usage_error("--crash wants 0..1000", value);
        } else if (strcmp(flag, "--errno") == 0) {
            if (!parse_permille(value, &options->errno_permille)) return usage_error("--errno wants 0..1000", value);
        } else if (strcmp(flag, "--torn") == 0) {
            if (!parse_permille(value, &options->torn_permille)) return usage_error("--torn wants 0..1000", value);
        } else if (strcmp(flag, "--clock") == 0) {
            if (strcmp(value, "virtual") != 0 && strcmp(value, "real") != 0)
                return usage_error("--clock wants virtual or real", value);
            options->clock_real_requested = strcmp(value, "real") == 0;
        } else if (strcmp(flag, "--clock-jump") == 0) {
            if (!parse_permille(value, &options->clock_jump_permille))
                return usage_error("--clock-jump wants 0..1000", value);
        } else if (strcmp(flag, "--ttl") == 0) {
            if (!parse_ms(value, &options->ttl_ms) || options->ttl_ms <= 0)
                return usage_error("--ttl wants a positive number of ms", value);
        } else if (strcmp(flag, "--pid-reuse") == 0) {
            options->no_pid_namespace = strcmp(value, "off") == 0;
            if (!options->no_pid_namespace && !parse_permille(value, &options->pid_reuse_permille))
                return usage_error("--pid-reuse wants 0..1000 or off", value);
        } else if (strcmp(flag, "--preemptions") == 0 || strcmp(flag, "--max-schedules") == 0) {
            uint64_t number;
            if (!parse_unsigned(value, 1000000, &number)) return usage_error("bad number", value);
            if (flag[2] == 'p')
                options->preemptions = (int)number;
            else
                options->max_schedules = (int)number;
        } else if (strcmp(flag, "--order") == 0) {
            options->order_path = value;
        } else if (strcmp(flag, "--shrink") == 0) {
            if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
                return usage_error("--shrink wants on or off", value);
            options->shrink = strcmp(value, "on") == 0;
        } else if (strcmp(flag, "--scenario") == 0) {
            options->scenario_path = value;
        } else if (strcmp(flag, "--invariant") == 0) {
            if (!sim_invariant_from_name(value, &options->hunt) || options->hunt == SIM_INVARIANT_DETERMINISM)
                return usage_error("unknown invariant", value);
        } else if (strcmp(flag, "--trace") == 0) {
            options->trace_path = value;
        } else if (strcmp(flag, "--svg") == 0) {
            options->svg_path = value;
        } else if (strcmp(flag, "--log") == 0) {
            options->log_path = value;
        } else {
            return usage_error("unknown option", flag);
        }
        if (takes_value) index++;
    }
    if (options->template_text == NULL) return usage_error("--exec wants a template", NULL);
    if (options->scenario_path != NULL) {
        bool seeds_given = options->has_seeds;
        int status = load_scenario(options, options->scenario_path);
        if (status != 0) return status;
        if (!seeds_given && options->first <= options->last && options->last > 0) options->has_seeds = true;
    }
    if (options->clock_jump_permille > 0 && options->clock_real_requested)
        return usage_error("--clock-jump needs the virtual clock", NULL);
    if (!options->has_seeds) return usage_error("--seed N or --seeds A..B is required", NULL);
    return 0;
}

/* ---- the child: filter, hand-over, exec ------------------------------------ */

static const char *const notified_syscalls[] = {
    "open",       "openat",         "openat2",    "creat",           "read",      "write",    "pread64", "pwrite64",
    "close",      "fstat",          "newfstatat", "statx",           "stat",      "lstat",    "link",    "linkat",
    "rename",     "renameat",       "renameat2",  "unlink",          "unlinkat",  "mkdir",    "mkdirat", "rmdir",
    "flock",      "fcntl",          "fsync",      "fdatasync",       "ftruncate", "dup",      "dup2",    "dup3",
    "kill",       "io_uring_setup", "nanosleep",  "clock_nanosleep", "execve",    "execveat", "mount",   "umount2",
    "move_mount", "pivot_root",
};

/* What the controller does with a notified syscall, by number: a table built
 * once from the names above (classify runs for every notification, a few
 * thousand per Python start, so no name lookup or string comparison there). */
enum sys_kind {
    SYS_KIND_NONE,   /* an empty slot of the table */
    SYS_KIND_ENOSYS, /* io_uring_setup */
    SYS_KIND_SLEEP,  /* nanosleep, clock_nanosleep */
    SYS_KIND_KILL,
    SYS_KIND_EXEC, /* execve, execveat: the fd table changes */
    SYS_KIND_DUP,  /* dup, dup2, dup3 */
    SYS_KIND_FCNTL,
    SYS_KIND_FD,       /* read, write, pread64, pwrite64, close, fstat, flock, fsync, fdatasync, ftruncate */
    SYS_KIND_PATH,     /* open, creat, stat, lstat, unlink, mkdir, rmdir: path in argument 0 */
    SYS_KIND_AT_PATH,  /* openat, openat2, newfstatat, statx, unlinkat, mkdirat: dirfd 0, path 1 */
    SYS_KIND_PATH2,    /* link, rename: paths 0 and 1 */
    SYS_KIND_AT_PATH2, /* linkat, renameat, renameat2: dirfd 0, path 1, dirfd 2, path 3 */
    SYS_KIND_MOUNT,    /* mount, umount2, move_mount, pivot_root: continued, never a scheduling point */
};
struct sys_info {
    const char *name; /* as libseccomp names the number */
    unsigned char kind;
    bool opens;    /* open, openat, openat2, creat: a lease open changes the fd table */
    bool closes;   /* close */
    bool reshapes; /* rename*, unlink*, rmdir, the mount family: a directory may stop being
                    * what it was (the resolution cache, below, is dropped) */
};
#define EXEC_SYS_TABLE_MAX 1024
static struct sys_info sys_table[EXEC_SYS_TABLE_MAX];
/* A reshaping call this architecture's filter cannot name (libseccomp does
 * not know it): it would run unseen, so no directory is ever kept. */
static bool sys_reshaping_unseen;

static enum sys_kind sys_kind_of(const char *name) {
    static const struct {
        const char *name;
        enum sys_kind kind;
    } kinds[] = {
        {"io_uring_setup", SYS_KIND_ENOSYS},
        {"nanosleep", SYS_KIND_SLEEP},
        {"clock_nanosleep", SYS_KIND_SLEEP},
        {"kill", SYS_KIND_KILL},
        {"execve", SYS_KIND_EXEC},
        {"execveat", SYS_KIND_EXEC},
        {"dup", SYS_KIND_DUP},
        {"dup2", SYS_KIND_DUP},
        {"dup3", SYS_KIND_DUP},
        {"fcntl", SYS_KIND_FCNTL},
        {"open", SYS_KIND_PATH},
        {"creat", SYS_KIND_PATH},
        {"stat", SYS_KIND_PATH},
        {"lstat", SYS_KIND_PATH},
        {"unlink", SYS_KIND_PATH},
        {"mkdir", SYS_KIND_PATH},
        {"rmdir", SYS_KIND_PATH},
        {"openat", SYS_KIND_AT_PATH},
        {"openat2", SYS_KIND_AT_PATH},
        {"newfstatat", SYS_KIND_AT_PATH},
        {"statx", SYS_KIND_AT_PATH},
        {"unlinkat", SYS_KIND_AT_PATH},
        {"mkdirat", SYS_KIND_AT_PATH},
        {"link", SYS_KIND_PATH2},
        {"rename", SYS_KIND_PATH2},
        {"linkat", SYS_KIND_AT_PATH2},
        {"renameat", SYS_KIND_AT_PATH2},
        {"renameat2", SYS_KIND_AT_PATH2},
        {"mount", SYS_KIND_MOUNT},
        {"umount2", SYS_KIND_MOUNT},
        {"move_mount", SYS_KIND_MOUNT},
        {"pivot_root", SYS_KIND_MOUNT},
    };
    for (size_t index = 0; index < sizeof kinds / sizeof kinds[0]; index++)
        if (strcmp(kinds[index].name, name) == 0) return kinds[index].kind;
    return SYS_KIND_FD;
}

/* rename*, unlink*, rmdir and the mount family: a directory may stop being
 * what it was (the resolution cache, below, is dropped). */
static bool name_reshapes(const char *name) {
    return !strncmp(name, "rename", 6) || !strncmp(name, "unlink", 6) || !strcmp(name, "rmdir") ||
           sys_kind_of(name) == SYS_KIND_MOUNT;
}

/* Fills sys_table once, with the names libseccomp gives back for the numbers. */
static void sys_table_init(void) {
    static bool done;
    if (done) return;
    done = true;
    for (size_t index = 0; index < sizeof notified_syscalls / sizeof notified_syscalls[0]; index++) {
        const char *listed = notified_syscalls[index];
        int number = seccomp_syscall_resolve_name(listed);
        if (number == __NR_SCMP_ERROR && name_reshapes(listed)) sys_reshaping_unseen = true;
        if (number < 0 || number >= EXEC_SYS_TABLE_MAX) continue; /* not on this architecture: by name */
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, number);
        if (name == NULL) continue;
        struct sys_info *info = &sys_table[number];
        info->name = name; /* kept for the process's life */
        info->kind = (unsigned char)sys_kind_of(name);
        info->opens = !strncmp(name, "open", 4) || !strcmp(name, "creat");
        info->closes = !strcmp(name, "close");
        info->reshapes = name_reshapes(name);
    }
}

static const struct sys_info *sys_info_of(int number) {
    return number >= 0 && number < EXEC_SYS_TABLE_MAX && sys_table[number].name != NULL ? &sys_table[number] : NULL;
}

static const char *syscall_label(int number);

/* Whether a call may change what a directory path resolves to (above). */
static bool sys_reshapes(int number) {
    const struct sys_info *info = sys_info_of(number);
    if (info != NULL) return info->reshapes;
    const char *name = syscall_label(number);
    return name_reshapes(name);
}

/* Linux 6.6's (the build's headers may be older). */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* Returns the listener fd, or -errno. */
static int install_filter(void) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
    scmp_filter_ctx context = seccomp_init(SCMP_ACT_ALLOW);
    if (context == NULL) return -ENOMEM;
    for (size_t index = 0; index < sizeof notified_syscalls / sizeof notified_syscalls[0]; index++) {
        int number = seccomp_syscall_resolve_name(notified_syscalls[index]);
        if (number == __NR_SCMP_ERROR) continue; /* not on this architecture */
        int status = seccomp_rule_add(context, SCMP_ACT_NOTIFY, number, 0);
        if (status < 0) {
            seccomp_release(context);
            return status;
        }
    }
    int status = seccomp_load(context);
    if (status < 0) {
        seccomp_release(context);
        return status;
    }
    int listener = seccomp_notify_fd(context);
    seccomp_release(context);
    return listener;
}

/* Sends the listener (or a failure code when fd < 0) over the socket. */
static void send_listener(int socket_fd, int listener) {
    int code = listener < 0 ? listener : 0;
    struct iovec vector = {.iov_base = &code, .iov_len = sizeof code};
    union {
        char buffer[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1};
    if (listener >= 0) {
        message.msg_control = control.buffer;
        message.msg_controllen = sizeof control.buffer;
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(header), &listener, sizeof(int));
    }
    (void)sendmsg(socket_fd, &message, 0);
}

static int receive_listener(int socket_fd, int *code) {
    struct iovec vector = {.iov_base = code, .iov_len = sizeof *code};
    union {
        char buffer[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr message = {
        .msg_iov = &vector, .msg_iovlen = 1, .msg_control = control.buffer, .msg_controllen = sizeof control.buffer};
    if (recvmsg(socket_fd, &message, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof *code) return -1;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    if (*code != 0 || header == NULL || header->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(header), sizeof fd);
    return fd;
}

/* Runtimes whose event loop breaks when the monotonic clock stands still. */
static bool exec_wants_real_monotonic(const struct exec_options *options) {
    for (int word = 0; word < options->template_count; word++) {
        const char *slash = strrchr(options->template_words[word], '/');
        const char *base = slash != NULL ? slash + 1 : options->template_words[word];
        if (!strcmp(base, "node") || !strcmp(base, "nodejs") || !strcmp(base, "deno") || !strcmp(base, "bun"))
            return true;
    }
    return false;
}

/* socket_fd < 0: no filter (the wedge probe after the run). */
static void child_exec(const struct exec_run *run, int index, int socket_fd) {
    const struct exec_options *options = run->options;
    char out_path[PATH_MAX + 16], err_path[PATH_MAX + 16];
    snprintf(out_path, sizeof out_path, "%s/out.%d%s", run->dir, index, socket_fd < 0 ? ".probe" : "");
    snprintf(err_path, sizeof err_path, "%s/err.%d%s", run->dir, index, socket_fd < 0 ? ".probe" : "");
    int out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int null_fd = open("/dev/null", O_RDONLY);
    if (out_fd < 0 || err_fd < 0 || null_fd < 0) _exit(127);
    dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    setenv("HEAVY_MAINTENANCE_LEASE_PATH", run->lease_path, 1);
    setenv("MAINTENANCE_LOG", run->log_path, 1);
    unsetenv("MAINTENANCE_READY_FILE");
    unsetenv("MAINTENANCE_GATE_FILE");
    unsetenv("NEO_HEAVY_MAINTENANCE_LEASE_INHERITED_TOKEN");
    char number[32];
    if (options->ttl_ms > 0) {
        snprintf(number, sizeof number, "%lld", (long long)options->ttl_ms);
        setenv("MAINTENANCE_TTL_MS", number, 1);
    }
    if (options->body_set[index]) {
        snprintf(number, sizeof number, "%lld", (long long)options->body_ms[index]);
        setenv("MAINTENANCE_SLEEP_MS", number, 1);
        setenv("MAINTENANCE_BODY", options->body_crash[index] ? "crash" : "succeed", 1);
    }
    if (options->clock_virtual) {
        /* libfaketime re-reads the per-process timestamp file at every clock read. */
        char clock_path[PATH_MAX + 16], preload[PATH_MAX * 3];
        const char *earlier = getenv("LD_PRELOAD");
        char shim[PATH_MAX + 32] = "", page_path[PATH_MAX + 32];
        if (run->shim_ready) { /* first: libfaketime's fopen binds to the shim's */
            snprintf(shim, sizeof shim, "%s/clock_shim.so:", run->dir);
            snprintf(page_path, sizeof page_path, "%s/clock.%d.page", run->dir, index);
            setenv("LEASESIM_CLOCK_PAGE", page_path, 1);
        } else {
            unsetenv("LEASESIM_CLOCK_PAGE");
        }
        snprintf(clock_path, sizeof clock_path, "%s/clock.%d", run->dir, index);
        snprintf(preload, sizeof preload, "%s%s%s%s", shim, options->faketime_library, earlier && *earlier ? ":" : "",
                 earlier && *earlier ? earlier : "");
        setenv("LD_PRELOAD", preload, 1);
        setenv("FAKETIME_TIMESTAMP_FILE", clock_path, 1);
        setenv("FAKETIME_NO_CACHE", "1", 1);
        unsetenv("FAKETIME");
        /* node's event loop needs the monotonic clock real (docs/exec.md). */
        if (exec_wants_real_monotonic(options)) setenv("FAKETIME_DONT_FAKE_MONOTONIC", "1", 0);
    }
    static char words[EXEC_ARGS_MAX][PATH_MAX];
    char *argv[EXEC_ARGS_MAX + 1];
    for (int word = 0; word < options->template_count; word++) {
        const char *source = options->template_words[word];
        const char *mark = strstr(source, "{script}");
        if (mark != NULL)
            snprintf(words[word], sizeof words[word], "%.*s%s%s", (int)(mark - source), source,
                     options->programs[index], mark + strlen("{script}"));
        else
            snprintf(words[word], sizeof words[word], "%s", source);
        if (word == 0 && words[0][0] != '/' && strchr(words[0], '/') != NULL) {
            char relative[PATH_MAX];
            snprintf(relative, sizeof relative, "%s", words[0]);
            snprintf(words[0], sizeof words[0], "%.2048s/%.2000s", options->repo_root, relative);
        }
        argv[word] = words[word];
    }
    argv[options->template_count] = NULL;
    if (run->lease_fd >= 0) close(run->lease_fd); /* the controller's O_PATH on the lease inode */
    if (socket_fd >= 0) {
        int listener = install_filter();
        send_listener(socket_fd, listener);
        if (listener < 0) _exit(127);
        close(listener);
        close(socket_fd);
    }
    execvp(argv[0], argv);
    dprintf(2, "leasesim: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* ---- reading the target's memory and paths --------------------------------- */

static bool notification_valid(int notify_fd, uint64_t id) {
    return ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* Reads a NUL-terminated string page by page (process_vm_readv stops at unmapped pages). */
static bool read_string(pid_t pid, uint64_t address, char *buffer, size_t size) {
    size_t done = 0;
    while (done + 1 < size) {
        size_t page_left = 4096 - ((address + done) & 4095);
        size_t chunk = page_left < size - 1 - done ? page_left : size - 1 - done;
        struct iovec local = {.iov_base = buffer + done, .iov_len = chunk};
        struct iovec remote = {.iov_base = (void *)(uintptr_t)(address + done), .iov_len = chunk};
        ssize_t got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (got <= 0) return false;
        if (memchr(buffer + done, '\0', (size_t)got) != NULL) return true;
        done += (size_t)got;
    }
    buffer[size - 1] = '\0';
    return true;
}

/* Lexical normalisation of an absolute path: "//", "." and ".." removed. */
static void normalise_path(char *path) {
    char result[PATH_MAX];
    size_t length = 0;
    const char *cursor = path;
    result[0] = '\0';
    while (*cursor != '\0') {
        while (*cursor == '/') cursor++;
        const char *end = cursor;
        while (*end != '\0' && *end != '/') end++;
        size_t part = (size_t)(end - cursor);
        if (part == 0 || (part == 1 && cursor[0] == '.')) {
        } else if (part == 2 && cursor[0] == '.' && cursor[1] == '.') {
            while (length > 0 && result[length - 1] != '/') length--;
            if (length > 0) length--;
        } else if (length + part + 2 < sizeof result) {
            result[length++] = '/';
            memcpy(result + length, cursor, part);
            length += part;
        }
        cursor = end;
    }
    if (length == 0) result[length++] = '/';
    result[length] = '\0';
    strcpy(path, result);
}

/* Canonical directories: paths whose realpath() is the path itself, so that
 * the parent of a call's path need not be resolved again (Python stats a few
 * dozen directories thousands of times). Safe because such a path has no
 * symlink in it, and a component of it can only become one (or lead
 * elsewhere) once it is renamed or removed, or a mount goes over or off it:
 * rename*, unlink*, rmdir and mount, umount2, move_mount, pivot_root are all
 * notified, and while any of them has been let run and its thread has not
 * made its next call (or been reaped), the set is emptied and neither used
 * nor filled. symlink, mkdir, link and open(O_CREAT) only create names that
 * did not exist, and a path with a missing component is never kept. Paths
 * under /proc, /sys and /dev are never kept (procfs's magic links, the cwd
 * and fd links, change without any of those calls). The controller itself
 * renames and removes nothing while processes run (its clock files are
 * rewritten in place); the set starts empty at each run. Processes outside
 * the run are not watched: none of them knows the run's directory.
 * docs/exec.md, "How it works". */
#define EXEC_CANONICAL_MAX 256
static struct {
    uint64_t hash[EXEC_CANONICAL_MAX];
    char *path[EXEC_CANONICAL_MAX];
    int count, next;
    bool off; /* a reshaping call may still be running */
} canonical;

static uint64_t path_hash(const char *text) {
    uint64_t hash = 1469598103934665603ULL;
    for (; *text != '\0'; text++) hash = (hash ^ (uint8_t)*text) * 1099511628211ULL;
    return hash;
}

static void canonical_clear(void) {
    for (int index = 0; index < canonical.count; index++) free(canonical.path[index]);
    canonical.count = canonical.next = 0;
}

static bool canonical_known(const char *directory, uint64_t hash) {
    if (canonical.off || sys_reshaping_unseen) return false;
    for (int index = 0; index < canonical.count; index++)
        if (canonical.hash[index] == hash && strcmp(canonical.path[index], directory) == 0) return true;
    return false;
}

static void canonical_add(const char *directory, uint64_t hash) {
    if (canonical.off || sys_reshaping_unseen || !strncmp(directory, "/proc", 5) || !strncmp(directory, "/sys", 4) ||
        !strncmp(directory, "/dev", 4))
        return; /* "/procfoo" too: never kept, only resolved again */
    char *copy = strdup(directory);
    if (copy == NULL) return;
    int slot = canonical.count;
    if (canonical.count < EXEC_CANONICAL_MAX) {
        canonical.count++;
    } else { /* full: the oldest goes */
        slot = canonical.next;
        canonical.next = (canonical.next + 1) % EXEC_CANONICAL_MAX;
        free(canonical.path[slot]);
    }
    canonical.hash[slot] = hash;
    canonical.path[slot] = copy;
}

/* A reshaping call let run by thread tid of group: the set is emptied and off
 * until that thread's next call arrives or its process is reaped. */
static void reshaping_begins(struct exec_run *run, pid_t tid, pid_t group) {
    canonical_clear();
    canonical.off = true;
    for (int index = 0; index < run->reshaping_count; index++)
        if (run->reshaping_tid[index] == tid) return;
    if (run->reshaping_count == EXEC_TREE_MAX) {
        run->reshaping_overflow = true;
        return;
    }
    run->reshaping_tid[run->reshaping_count] = tid;
    run->reshaping_group[run->reshaping_count++] = group;
}

/* tid made its next call (its earlier one has returned), or, whole_group, the
 * thread group tid leads was reaped (all its threads ended). */
static void reshaping_ends(struct exec_run *run, pid_t tid, bool whole_group) {
    for (int index = 0; index < run->reshaping_count;)
        if (run->reshaping_tid[index] == tid || (whole_group && run->reshaping_group[index] == tid)) {
            run->reshaping_tid[index] = run->reshaping_tid[--run->reshaping_count];
            run->reshaping_group[index] = run->reshaping_group[run->reshaping_count];
        } else {
            index++;
        }
    canonical.off = run->reshaping_count > 0 || run->reshaping_overflow;
}

/* Absolute path of (dirfd, name) as the target sees it; symlinks in the
 * directory part are resolved in the controller (same mount namespace). */
static bool resolve_path(pid_t pid, int dirfd, const char *name, char *out, size_t size) {
    char base[PATH_MAX];
    if (name[0] == '/') {
        snprintf(out, size, "%s", name);
    } else {
        char link[64];
        if (dirfd == AT_FDCWD)
            snprintf(link, sizeof link, "/proc/%d/cwd", (int)pid);
        else
            snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, dirfd);
        ssize_t length = readlink(link, base, sizeof base - 1);
        if (length < 0) return false;
        base[length] = '\0';
        snprintf(out, size, "%.2048s/%.2000s", base, name);
    }
    normalise_path(out);
    /* Resolve symlinks in the parent directory when it exists. */
    char *slash = strrchr(out, '/');
    if (slash != NULL && slash != out) {
        *slash = '\0';
        char real[PATH_MAX];
        uint64_t hash = path_hash(out);
        bool resolved = true;
        if (canonical_known(out, hash))
            snprintf(real, sizeof real, "%s", out); /* what realpath() gave when it was kept */
        else if ((resolved = realpath(out, real) != NULL) && strcmp(real, out) == 0)
            canonical_add(out, hash);
        *slash = '/';
        if (resolved) {
            char joined[PATH_MAX];
            snprintf(joined, sizeof joined, "%.2048s/%.2000s", real, slash + 1);
            snprintf(out, size, "%s", joined);
        }
    }
    return true;
}

static bool in_lease_dir(const struct exec_run *run, const char *path) {
    size_t length = strlen(run->lease_dir);
    return strncmp(path, run->lease_dir, length) == 0 && (path[length] == '\0' || path[length] == '/');
}

/* ---- time ------------------------------------------------------------------ */

static int64_t real_wall_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* A process's wall clock now: the virtual one with its jumps, or the real one. */
static int64_t proc_now_ms(const struct exec_run *run, int proc) {
    if (!run->options->clock_virtual) return real_wall_ms();
    return run->vclock_ms + (proc >= 0 && proc < EXEC_PROCS_MAX ? run->offset_ms[proc] : 0);
}

static void format_clock(int64_t ms, char *text, size_t size) {
    time_t seconds = (time_t)(ms / 1000);
    struct tm parts;
    gmtime_r(&seconds, &parts);
    snprintf(text, size, "%04d-%02d-%02d %02d:%02d:%02d.%03d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
             parts.tm_hour, parts.tm_min, parts.tm_sec, (int)(ms % 1000));
}

/* "2030-01-01T00:00:01.250Z" -> ms since the epoch. */
static bool parse_iso_ms(const char *text, int64_t *ms) {
    struct tm parts;
    memset(&parts, 0, sizeof parts);
    int milliseconds = 0;
    if (text == NULL || sscanf(text, "%d-%d-%dT%d:%d:%d.%dZ", &parts.tm_year, &parts.tm_mon, &parts.tm_mday,
                               &parts.tm_hour, &parts.tm_min, &parts.tm_sec, &milliseconds) < 6)
        return false;
    parts.tm_year -= 1900;
    parts.tm_mon -= 1;
    *ms = (int64_t)timegm(&parts) * 1000 + milliseconds;
    return true;
}

/* The same line on the page the clock shim reads (clock_page.h): odd
 * sequence, text, even sequence. The processes are paused now; the lock
 * only protects a thread that a real-time event woke meanwhile. */
static void write_clock_page(struct exec_run *run, int index, const char *line) {
    struct clock_page *page = run->clock_pages[index];
    if (page == NULL) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/clock.%d.page", run->dir, index);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return;
        void *mapping = ftruncate(fd, (off_t)sizeof *page) == 0
                            ? mmap(NULL, sizeof *page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                            : MAP_FAILED;
        close(fd);
        if (mapping == MAP_FAILED) return;
        page = run->clock_pages[index] = mapping;
    }
    size_t length = strlen(line);
    if (length >= sizeof page->text) return; /* a clock line is about 25 bytes */
    unsigned sequence = __atomic_load_n(&page->sequence, __ATOMIC_RELAXED);
    __atomic_store_n(&page->sequence, sequence + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(page->text, line, length + 1);
    __atomic_store_n(&page->sequence, sequence + 2, __ATOMIC_RELEASE);
}

/* The clock shim, carried inside this binary (clock_shim_blob.S), written
 * into the run's folder; it is used only once this process could load it
 * (a folder on a noexec mount could not: every process would print the
 * loader's complaint and read the clock file instead). */
extern const unsigned char exec_clock_shim_start[], exec_clock_shim_end[];
static bool install_clock_shim(const struct exec_run *run) {
    if (strpbrk(run->dir, " :\t") != NULL) { /* where LD_PRELOAD splits: it cannot name the shim */
        static bool said;
        if (!said)
            printf("clock: the clock shim is off: the run folder's path (TMPDIR) holds a space, a colon or "
                   "a tab, where LD_PRELOAD splits\n");
        said = true;
        return false;
    }
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/clock_shim.so", run->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    if (fd < 0) return false;
    size_t size = (size_t)(exec_clock_shim_end - exec_clock_shim_start);
    bool written = write(fd, exec_clock_shim_start, size) == (ssize_t)size;
    close(fd);
    if (!written) return false;
    static int loads = -1; /* checked once: the same folder for every seed */
    if (loads < 0) {
        void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        loads = library != NULL;
        if (library != NULL) dlclose(library);
    }
    return loads == 1;
}

/* Each process's timestamp file for libfaketime, rewritten in place (one
 * write of its one line from offset 0; cut when the line got shorter). No
 * process reads one meanwhile: every open and read of a clock file is a
 * notified call, answered only by this controller, which does not answer
 * any while it writes, and the calls it answered earlier have returned (the
 * trees were settled: no thread running). The clock shim's page is written
 * with each file, and a step's call is answered only after (take_step).
 * ticking: "@" (the clock starts there and runs), for the unscheduled wedge
 * probe. */
static void write_clocks(struct exec_run *run, bool ticking) {
    if (!run->options->clock_virtual) return;
    for (int index = 0; index < run->proc_count; index++) {
        char path[PATH_MAX + 16], text[64], line[72];
        if (snprintf(path, sizeof path, "%s/clock.%d", run->dir, index) >= (int)sizeof path)
            continue; /* run->dir is a short mkdtemp name: never */
        format_clock(run->vclock_ms + run->offset_ms[index], text, sizeof text);
        int length = snprintf(line, sizeof line, "%s%s\n", ticking ? "@" : "", text);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0) continue;
        if (write(fd, line, (size_t)length) == length && length < run->clock_length[index]) (void)ftruncate(fd, length);
        run->clock_length[index] = length;
        close(fd);
        if (run->shim_ready) write_clock_page(run, index, line);
    }
}

/* Pid reuse: give a crashed holder's pid to an unrelated process. */
static bool reuse_pid(struct exec_run *run, int proc, char *line, size_t size);

/* ---- pid reuse: a private pid namespace (root) ------------------------------ */

/* The controller unshares a pid namespace before its first fork; its first
 * child is the namespace's init (this helper). Asked for a pid, the helper
 * writes pid-1 to /proc/sys/kernel/ns_last_pid (its own namespace's) and
 * forks a process that only waits: the next pid handed out is that one. */
static struct {
    bool active;
    pid_t helper;
    int command_fd, reply_fd;
} pid_space = {.helper = -1, .command_fd = -1, .reply_fd = -1};

static pid_t inner_pid_of(pid_t pid) {
    if (!pid_space.active) return pid;
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *file = fopen(path, "re");
    if (file == NULL) return pid;
    pid_t inner = pid;
    while (fgets(line, sizeof line, file) != NULL) {
        if (strncmp(line, "NSpid:", 6) != 0) continue;
        char *last = strrchr(line, '\t');
        if (last == NULL) last = strrchr(line, ' ');
        if (last != NULL) inner = (pid_t)atoi(last + 1);
    }
    fclose(file);
    return inner;
}

static void pid_helper(int commands, int replies) {
    signal(SIGCHLD, SIG_IGN); /* init of the namespace: orphans and waiters reap themselves */
    pid_t waiters[256];
    int waiter_count = 0;
    int wanted;
    while (read(commands, &wanted, sizeof wanted) == (ssize_t)sizeof wanted) {
        int got = 0;
        if (wanted == 0) { /* end of a seed: the waiters go */
            for (int index = 0; index < waiter_count; index++) kill(waiters[index], SIGKILL);
            waiter_count = 0;
        } else {
            int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
            char text[32];
            int length = snprintf(text, sizeof text, "%d", wanted - 1);
            got = fd >= 0 && write(fd, text, (size_t)length) == length ? 0 : -errno;
            if (fd >= 0) close(fd);
            if (got == 0) {
                pid_t child = fork();
                if (child == 0) {
                    for (;;) pause();
                }
                got = child;
                if (child > 0 && waiter_count < 256) waiters[waiter_count++] = child;
            }
        }
        if (write(replies, &got, sizeof got) != (ssize_t)sizeof got) break;
    }
    _exit(0);
}

/* Root: a private pid namespace for the run; else one line saying why not. */
static void setup_pid_space(struct exec_options *options) {
    if (geteuid() != 0) {
        snprintf(options->pid_reuse_note, sizeof options->pid_reuse_note,
                 "pid reuse: skipped (unprivileged: no private pid namespace whose ns_last_pid we may write)");
        return;
    }
    int commands[2], replies[2];
    if (syscall(SYS_unshare, CLONE_NEWPID) != 0 || pipe2(commands, O_CLOEXEC) != 0 || pipe2(replies, O_CLOEXEC) != 0) {
        snprintf(options->pid_reuse_note, sizeof options->pid_reuse_note,
                 "pid reuse: skipped (no private pid namespace: %s)", strerror(errno));
        return;
    }
    pid_t helper = fork();
    if (helper < 0) return;
    if (helper == 0) {
        close(commands[1]);
        close(replies[0]);
        pid_helper(commands[0], replies[1]);
    }
    close(commands[0]);
    close(replies[1]);
    pid_space.active = true;
    pid_space.helper = helper;
    pid_space.command_fd = commands[1];
    pid_space.reply_fd = replies[0];
    options->pid_reuse = true;
}

/* Asks the helper for pid `wanted` (0: end the seed's waiters); returns the
 * pid given, or -errno. */
static int pid_space_ask(int wanted) {
    int got = -EIO;
    if (write(pid_space.command_fd, &wanted, sizeof wanted) != (ssize_t)sizeof wanted ||
        read(pid_space.reply_fd, &got, sizeof got) != (ssize_t)sizeof got)
        return -EIO;
    return got;
}

/* ---- process bookkeeping --------------------------------------------------- */

static struct exec_task *find_task(struct exec_run *run, pid_t pid, int proc_index) {
    for (int index = 0; index < run->task_count; index++)
        if (run->tasks[index].pid == pid) return &run->tasks[index];
    if (run->task_count == EXEC_TREE_MAX) return NULL;
    struct exec_task *task = &run->tasks[run->task_count++];
    memset(task, 0, sizeof *task);
    task->pid = pid;
    task->inner = inner_pid_of(pid);
    task->proc_index = proc_index;
    task->fds_dirty = true;
    for (int index = 0; index < run->task_count - 1; index++)
        if (run->tasks[index].proc_index == proc_index) task->ordinal++;
    return task;
}

/* Thread groups already read from /proc/TID/status, checked again at every
 * use with tgkill(group, tid, 0): 0 or EPERM only when tid is a thread of
 * that group now, so a tid reused by another group is read again. One
 * syscall per notification instead of five (none for the forked processes'
 * main threads: thread_group_of). */
#define EXEC_GROUPS_MAX 128
static struct {
    pid_t tid[EXEC_GROUPS_MAX], group[EXEC_GROUPS_MAX];
    int count, next;
} groups;

static pid_t thread_group_of(const struct exec_run *run, pid_t tid) {
    /* A process this controller forked keeps its pid until it is reaped here:
     * a call from that tid is its thread group leader's, no look needed (one
     * tgkill less per notification, a fifth of the controller's syscalls). */
    for (int index = 0; index < run->proc_count; index++)
        if (run->procs[index].pid == tid && !run->procs[index].exited) return tid;
    int slot = -1;
    for (int index = 0; index < groups.count; index++)
        if (groups.tid[index] == tid) {
            if (syscall(SYS_tgkill, groups.group[index], tid, 0) == 0 || errno == EPERM) return groups.group[index];
            slot = index;
            break;
        }
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
    FILE *file = fopen(path, "re");
    if (file == NULL) return tid;
    pid_t group = tid;
    while (fgets(line, sizeof line, file) != NULL)
        if (strncmp(line, "Tgid:", 5) == 0) group = (pid_t)atoi(line + 5);
    fclose(file);
    if (slot < 0 && groups.count < EXEC_GROUPS_MAX) {
        slot = groups.count++;
    } else if (slot < 0) { /* full: the oldest goes */
        slot = groups.next;
        groups.next = (groups.next + 1) % EXEC_GROUPS_MAX;
    }
    groups.tid[slot] = tid;
    groups.group[slot] = group;
    return group;
}

/* Rebuilds the fd table of a paused thread group from /proc/PID/fd: done only
 * after a lease open, close or dup ran, not once per call. */
static void rescan_fds(struct exec_run *run, struct exec_task *task) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)task->pid);
    memset(task->lease_fd, 0, sizeof task->lease_fd);
    task->fds_dirty = false;
    DIR *directory = opendir(path);
    if (directory == NULL) return;
    for (struct dirent *entry; (entry = readdir(directory)) != NULL;) {
        int fd = atoi(entry->d_name);
        if (entry->d_name[0] == '.' || fd < 0 || fd >= EXEC_FDS_MAX) continue;
        char link[400], target[PATH_MAX];
        snprintf(link, sizeof link, "%s/%s", path, entry->d_name);
        ssize_t length = readlink(link, target, sizeof target - 1);
        if (length < 0) continue;
        target[length] = '\0';
        task->lease_fd[fd] = in_lease_dir(run, target);
    }
    closedir(directory);
}

static const char *syscall_label(int number) {
    const struct sys_info *info = sys_info_of(number);
    if (info != NULL) return info->name;
    char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, number);
    static char label[24];
    snprintf(label, sizeof label, "%s", name != NULL ? name : "?");
    free(name);
    return label;
}

enum call_kind { CALL_OTHER, CALL_LEASE, CALL_ENOSYS };

/* Decides whether a call is a scheduling point; fills the path for the story. */
static enum call_kind classify(struct exec_run *run, int notify_fd, const struct seccomp_notif *request,
                               struct exec_task *task, char *path, size_t path_size) {
    const __u64 *args = request->data.args;
    const struct sys_info *info = sys_info_of(request->data.nr);
    struct sys_info unlisted;
    if (info == NULL) { /* a number outside the table (another architecture): by its name */
        const char *label = syscall_label(request->data.nr);
        unlisted = (struct sys_info){.name = label,
                                     .kind = (unsigned char)sys_kind_of(label),
                                     .opens = !strncmp(label, "open", 4) || !strcmp(label, "creat"),
                                     .closes = !strcmp(label, "close")};
        info = &unlisted;
    }
    pid_t pid = (pid_t)request->pid;
    path[0] = '\0';
    /* Path arguments: (argument index of the dirfd or -1, argument index of the path). */
    int dir_arg = -1, path_arg = -1, dir_arg2 = -1, path_arg2 = -1;
    switch ((enum sys_kind)info->kind) {
    case SYS_KIND_ENOSYS: return CALL_ENOSYS;
    case SYS_KIND_SLEEP:
        /* A timed sleep ends at a moment of real time: a scheduling point, and
         * once released the controller waits for the sleeper's next call. */
        snprintf(path, path_size, "(timed sleep)");
        return CALL_LEASE;
    case SYS_KIND_KILL: {
        if ((int)args[1] != 0) return CALL_OTHER;
        const struct exec_task *target = NULL;
        for (int index = 0; index < run->task_count; index++)
            if (run->tasks[index].inner == (pid_t)args[0]) target = &run->tasks[index];
        /* Pids normalised: p<process>.<ordinal in its tree>, or outside the run. */
        if (target != NULL)
            snprintf(path, path_size, "probe p%d.%d", target->proc_index, target->ordinal);
        else
            snprintf(path, path_size, "probe a pid outside the run");
        return CALL_LEASE;
    }
    case SYS_KIND_EXEC:
    case SYS_KIND_DUP: task->fds_dirty = true; return CALL_OTHER;
    case SYS_KIND_MOUNT: return CALL_OTHER;
    case SYS_KIND_PATH: path_arg = 0; break;
    case SYS_KIND_AT_PATH: dir_arg = 0, path_arg = 1; break;
    case SYS_KIND_PATH2: path_arg = 0, path_arg2 = 1; break;
    case SYS_KIND_AT_PATH2: dir_arg = 0, path_arg = 1, dir_arg2 = 2, path_arg2 = 3; break;
    case SYS_KIND_FCNTL:
        if (args[1] == F_DUPFD || args[1] == F_DUPFD_CLOEXEC) {
            task->fds_dirty = true;
            return CALL_OTHER;
        }
        break;
    default: break;
    }
    if (path_arg < 0) {
        /* fd-based: read, write, pread64, pwrite64, close, fstat, flock, fcntl, fsync, fdatasync, ftruncate. */
        int fd = (int)args[0];
        if (task->fds_dirty) rescan_fds(run, task);
        if (fd < 0 || fd >= EXEC_FDS_MAX || !task->lease_fd[fd]) return CALL_OTHER;
        if (info->kind == SYS_KIND_FCNTL && args[1] != F_SETLK && args[1] != F_SETLKW && args[1] != F_GETLK &&
            args[1] != F_OFD_SETLK && args[1] != F_OFD_SETLKW && args[1] != F_OFD_GETLK)
            return CALL_OTHER;
        char link[64];
        snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, fd);
        ssize_t length = readlink(link, path, path_size - 1);
        path[length > 0 ? length : 0] = '\0';
        if (info->closes) task->fds_dirty = true;
        return CALL_LEASE;
    }
    char raw[PATH_MAX], first[PATH_MAX], second[PATH_MAX];
    second[0] = '\0';
    if (!read_string(pid, args[path_arg], raw, sizeof raw)) return CALL_OTHER;
    size_t dir_length = strlen(run->dir);
    if (strncmp(raw, run->dir, dir_length) == 0 && strncmp(raw + dir_length, "/clock.", 7) == 0 &&
        strstr(raw + dir_length, ".page") == NULL)
        run->clock_file_opens++; /* libfaketime read its clock without the shim (the counters line) */
    int dirfd = dir_arg >= 0 ? (int)args[dir_arg] : AT_FDCWD;
    if (raw[0] == '\0' && dirfd >= 0 && dirfd < EXEC_FDS_MAX) { /* AT_EMPTY_PATH on a descriptor */
        if (task->fds_dirty) rescan_fds(run, task);
        if (!task->lease_fd[dirfd]) return CALL_OTHER;
        snprintf(raw, sizeof raw, "fd %d", dirfd);
        snprintf(first, sizeof first, "%s", run->lease_path);
    } else if (!resolve_path(pid, dirfd, raw, first, sizeof first)) {
        return CALL_OTHER;
    }
    if (path_arg2 >= 0) {
        char raw2[PATH_MAX];
        if (!read_string(pid, args[path_arg2], raw2, sizeof raw2)) return CALL_OTHER;
        if (!resolve_path(pid, dir_arg2 >= 0 ? (int)args[dir_arg2] : AT_FDCWD, raw2, second, sizeof second))
            return CALL_OTHER;
    }
    bool lease = in_lease_dir(run, first) || (second[0] != '\0' && in_lease_dir(run, second));
    if (!lease) return CALL_OTHER; /* continued whether or not the call is still pending */
    /* The memory was read from a live target: the call must still be pending. */
    if (!notification_valid(notify_fd, request->id)) return CALL_OTHER;
    if (second[0] != '\0')
        snprintf(path, path_size, "%.2000s -> %.2000s", first, second);
    else
        snprintf(path, path_size, "%s", first);
    if (info->opens) task->fds_dirty = true;
    return CALL_LEASE;
}

/* The length of a timed sleep, in ms of virtual time. A relative one is
 * exact; an absolute deadline (libfaketime turns a faked one into a real one)
 * is measured against the real clock now and rounded up to a quantum. */
static int64_t sleep_length_ms(const struct seccomp_notif *request, const char *name) {
    const __u64 *args = request->data.args;
    bool absolute = false;
    int clock_id = CLOCK_MONOTONIC;
    uint64_t address = args[0];
    if (strcmp(name, "clock_nanosleep") == 0) {
        clock_id = (int)args[0];
        absolute = (args[1] & TIMER_ABSTIME) != 0;
        address = args[2];
    }
    struct timespec wanted;
    struct iovec local = {.iov_base = &wanted, .iov_len = sizeof wanted};
    struct iovec remote = {.iov_base = (void *)(uintptr_t)address, .iov_len = sizeof wanted};
    if (process_vm_readv((pid_t)request->pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof wanted)
        return EXEC_SLEEP_QUANTUM_MS;
    int64_t nanoseconds = (int64_t)wanted.tv_sec * 1000000000LL + wanted.tv_nsec;
    if (!absolute) return (nanoseconds + 999999) / 1000000;
    struct timespec now;
    if (clock_gettime(clock_id, &now) != 0) return EXEC_SLEEP_QUANTUM_MS;
    nanoseconds -= (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
    int64_t quantum = (int64_t)EXEC_SLEEP_QUANTUM_MS * 1000000;
    int64_t quanta = nanoseconds <= 0 ? 1 : (nanoseconds + quantum - 1) / quantum;
    return quanta * EXEC_SLEEP_QUANTUM_MS;
}

static void respond(struct exec_run *run, int notify_fd, uint64_t id, int error, bool continue_call) {
    memset(run->response, 0, sizeof *run->response);
    run->response->id = id;
    if (continue_call)
        run->response->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    else
        run->response->error = -error;
    (void)ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, run->response); /* ENOENT: the caller died meanwhile */
}

/* Waits up to timeout_ms for a notification of any process and receives one
 * from each process that has one queued: non-lease calls continue at once,
 * lease calls are held. Returns whether anything arrived; false means every
 * queue was empty when looked at. One poll per arrival, not two: the
 * controller answers a few thousand calls per Python start. */
static bool drain(struct exec_run *run, struct seccomp_notif *request, int timeout_ms) {
    struct pollfd pollers[EXEC_PROCS_MAX];
    int owners[EXEC_PROCS_MAX], count = 0;
    for (int index = 0; index < run->proc_count; index++)
        if (run->procs[index].notify_fd >= 0) {
            owners[count] = index;
            pollers[count++] = (struct pollfd){.fd = run->procs[index].notify_fd, .events = POLLIN};
        }
    if (count == 0) {
        if (timeout_ms > 0) (void)poll(NULL, 0, timeout_ms);
        return false;
    }
    if (poll(pollers, (nfds_t)count, timeout_ms) <= 0) return false;
    bool any = false;
    for (int slot = 0; slot < count; slot++) {
        if (!(pollers[slot].revents & POLLIN)) continue;
        int index = owners[slot];
        struct exec_proc *proc = &run->procs[index];
        {
            memset(request, 0, sizeof *request);
            if (ioctl(proc->notify_fd, SECCOMP_IOCTL_NOTIF_RECV, request) != 0) continue;
            any = true;
            /* A thread makes one call at a time: its earlier one has returned. */
            if (run->reshaping_count > 0) reshaping_ends(run, (pid_t)request->pid, false);
            pid_t group = thread_group_of(run, (pid_t)request->pid);
            struct exec_task *task = find_task(run, group, index);
            char path[PATH_MAX];
            enum call_kind kind =
                task != NULL ? classify(run, proc->notify_fd, request, task, path, sizeof path) : CALL_OTHER;
            if (kind == CALL_ENOSYS) {
                respond(run, proc->notify_fd, request->id, ENOSYS, false);
            } else if (kind == CALL_OTHER || run->pending_count == EXEC_PENDING_MAX) {
                if (sys_reshapes(request->data.nr)) reshaping_begins(run, (pid_t)request->pid, group);
                respond(run, proc->notify_fd, request->id, 0, true);
            } else {
                if ((pid_t)request->pid == run->awaited_tid) run->awaited_tid = 0;
                struct exec_call *call = &run->pending[run->pending_count++];
                call->request = *request;
                call->proc_index = index;
                snprintf(call->name, sizeof call->name, "%s", syscall_label(request->data.nr));
                snprintf(call->path, sizeof call->path, "%s", path);
                call->sleep_ms = strstr(call->name, "sleep") != NULL ? sleep_length_ms(request, call->name) : 0;
            }
        }
    }
    return any;
}

/* After every process was killed: reaps them, then whatever else ended (an
 * adapter's orphans); never waits for the pid namespace's helper. */
static void thread_files_close(void);

static void wait_all(struct exec_run *run) {
    for (int index = 0; index < run->proc_count; index++)
        if (run->procs[index].pid > 0 && !run->procs[index].exited) waitpid(run->procs[index].pid, NULL, __WALL);
    while (waitpid(-1, NULL, WNOHANG | __WALL) > 0) {}
    thread_files_close();
}

static void mark_end(struct exec_run *run, int proc, int status);

static void reap(struct exec_run *run) {
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG | __WALL);
        if (pid <= 0) return;
        if (run->reshaping_count > 0) reshaping_ends(run, pid, true);
        for (int index = 0; index < run->proc_count; index++) {
            struct exec_proc *proc = &run->procs[index];
            if (proc->pid != pid || proc->exited) continue;
            proc->exited = true;
            proc->status = status;
            run->live_count--;
            mark_end(run, index, status);
        }
    }
}

/* The stat and children files of the trees' threads, read at every look
 * (a few looks per step, one per ms while a thread runs): kept open and read
 * again with pread, which makes procfs generate them anew. While a task
 * exists (a zombie too) its pid is not given to another, so the kept file is
 * the one a fresh open would find; once it has gone, reading its stat fails
 * (ESRCH) and both files are opened again by their paths. Closed at the end
 * of each run. */
#define EXEC_THREAD_FILES_MAX 128
struct thread_file {
    pid_t group, tid;
    int stat_fd, children_fd; /* children_fd: -1 until first read */
};
static struct thread_file thread_files[EXEC_THREAD_FILES_MAX];
static int thread_file_count;

static void thread_files_close(void) {
    for (int index = 0; index < thread_file_count; index++) {
        close(thread_files[index].stat_fd);
        if (thread_files[index].children_fd >= 0) close(thread_files[index].children_fd);
    }
    thread_file_count = 0;
}

static ssize_t read_path(const char *path, char *text, size_t size, int *keep) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t length = read(fd, text, size - 1);
    if (length > 0) text[length] = '\0';
    if (keep != NULL && length >= 0)
        *keep = fd;
    else
        close(fd);
    return length;
}

/* /proc/GROUP/task/TID/stat (children: .../children) into text, NUL-ended;
 * the length read, or <= 0 as the open and read of the path would give. */
static ssize_t thread_file(pid_t group, pid_t tid, bool children, char *text, size_t size) {
    int slot = -1;
    for (int index = 0; index < thread_file_count && slot < 0; index++)
        if (thread_files[index].tid == tid && thread_files[index].group == group) slot = index;
    if (slot >= 0) {
        ssize_t alive = children ? 1 : pread(thread_files[slot].stat_fd, text, size - 1, 0);
        if (alive > 0) {
            if (!children) {
                text[alive] = '\0';
                return alive;
            }
            if (thread_files[slot].children_fd >= 0) {
                ssize_t length = pread(thread_files[slot].children_fd, text, size - 1, 0);
                if (length > 0) text[length] = '\0';
                return length;
            }
        } else { /* gone: by the paths again */
            close(thread_files[slot].stat_fd);
            if (thread_files[slot].children_fd >= 0) close(thread_files[slot].children_fd);
            thread_files[slot] = thread_files[--thread_file_count];
            slot = -1;
        }
    }
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/%s", (int)group, (int)tid, children ? "children" : "stat");
    if (slot >= 0) return read_path(path, text, size, &thread_files[slot].children_fd);
    if (children || thread_file_count == EXEC_THREAD_FILES_MAX) return read_path(path, text, size, NULL);
    int fd = -1;
    ssize_t length = read_path(path, text, size, &fd);
    if (fd >= 0 && length > 0) {
        thread_files[thread_file_count++] =
            (struct thread_file){.group = group, .tid = tid, .stat_fd = fd, .children_fd = -1};
    } else if (fd >= 0) {
        close(fd);
    }
    return length;
}

/* The number of threads in a stat line (its 20th field), or -1. */
static long stat_threads(const char *text) {
    const char *cursor = strrchr(text, ')');
    if (cursor == NULL) return -1;
    for (int field = 2; field < 20; field++) {
        cursor = strchr(cursor + 1, ' ');
        if (cursor == NULL) return -1;
    }
    return strtol(cursor + 1, NULL, 10);
}

static bool tree_busy(pid_t pid, int depth);

/* One thread: running or in uninterruptible sleep, or a child's tree busy. */
static bool thread_busy(pid_t pid, pid_t tid, char *text, size_t size, int depth) {
    char *close_paren = strrchr(text, ')');
    if (close_paren != NULL && (close_paren[2] == 'R' || close_paren[2] == 'D')) return true;
    if (depth > 8) return false;
    ssize_t length = thread_file(pid, tid, true, text, size);
    if (length <= 0) return false;
    bool busy = false;
    for (char *save = NULL, *word = strtok_r(text, " \n", &save); !busy && word != NULL;
         word = strtok_r(NULL, " \n", &save))
        busy = tree_busy((pid_t)atoi(word), depth + 1);
    return busy;
}

/* Whether any thread of pid's tree is running or in uninterruptible sleep. */
static bool tree_busy(pid_t pid, int depth) {
    char text[1024];
    /* A single-threaded process (its stat says so): its one thread is what
     * listing /proc/PID/task would give. */
    if (thread_file(pid, pid, false, text, sizeof text) > 0 && stat_threads(text) == 1)
        return thread_busy(pid, pid, text, sizeof text, depth);
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *directory = opendir(path);
    if (directory == NULL) return false;
    bool busy = false;
    for (struct dirent *entry; !busy && (entry = readdir(directory)) != NULL;) {
        if (entry->d_name[0] == '.') continue;
        pid_t tid = (pid_t)atoi(entry->d_name);
        if (thread_file(pid, tid, false, text, sizeof text) <= 0) continue;
        busy = thread_busy(pid, tid, text, sizeof text, depth);
    }
    closedir(directory);
    return busy;
}

/* Whether a thread released from a timed sleep has yet to reach its next held call. */
static bool awaited_alive(struct exec_run *run) {
    if (run->awaited_tid == 0) return false;
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)run->awaited_tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t length = fd >= 0 ? read(fd, text, sizeof text - 1) : -1;
    if (fd >= 0) close(fd);
    char *close_paren = length > 0 ? (text[length] = '\0', strrchr(text, ')')) : NULL;
    if (close_paren == NULL || close_paren[2] == 'Z' || close_paren[2] == 'X') run->awaited_tid = 0;
    return run->awaited_tid != 0;
}

/* Waits until every thread of every child is blocked in a held notification
 * or asleep, with nothing left in the notification queues: only then is the
 * set of pending calls a function of the schedule so far. */
static bool settle(struct exec_run *run, struct seccomp_notif *request, double deadline, int first_wait_ms) {
    int busy_wait_ms = 1; /* doubles while threads run without a call, up to 8 ms */
    for (;; first_wait_ms = 0) {
        /* Calls that arrive are answered at once and their callers run on:
         * while they keep coming (within 1 ms of each other) there is no need
         * to look at every thread. The trees are scanned once they stop.
         * first_wait_ms: a call was just released, its caller's next call is
         * awaited before the first look. */
        if (drain(run, request, first_wait_ms))
            while (drain(run, request, 1))
                if (seconds_now() > deadline || interrupted) return false;
        reap(run);
        bool busy = false;
        for (int index = 0; index < run->proc_count && !busy; index++)
            if (!run->procs[index].exited) busy = tree_busy(run->procs[index].pid, 0);
        busy = busy || awaited_alive(run);
        bool arrived = drain(run, request, 0);
        if (!busy && !arrived) {
            /* Confirm: a second look after the queues were empty. */
            reap(run);
            bool again = false;
            for (int index = 0; index < run->proc_count && !again; index++)
                if (!run->procs[index].exited) again = tree_busy(run->procs[index].pid, 0);
            if (!again && !drain(run, request, 0)) return true;
        }
        if (seconds_now() > deadline || interrupted) return false;
        if (busy && !arrived) {
            /* A thread runs (or waits for a CPU): its next call ends the wait at once. Looking
             * again every millisecond while it computes, or while other work holds the CPUs,
             * only read /proc over and over: the wait doubles up to 8 ms, until a call comes. */
            if (!drain(run, request, busy_wait_ms) && busy_wait_ms < 8) busy_wait_ms *= 2;
        } else if (arrived) {
            busy_wait_ms = 1;
        }
    }
}

/* ---- oracle ---------------------------------------------------------------- */

static void mark(struct exec_run *run, enum sim_story_kind kind, int proc, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
static void violate(struct exec_run *run, enum sim_invariant invariant, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static void violate(struct exec_run *run, enum sim_invariant invariant, const char *format, ...) {
    /* --invariant NAME: another invariant's violation is counted, not a verdict. */
    if (run->options->hunt != SIM_INVARIANT_NONE && invariant != run->options->hunt) {
        run->also_seen[invariant] = true;
        return;
    }
    if (run->violation != SIM_INVARIANT_NONE) return;
    run->violation = invariant;
    run->violation_story = run->story_count;
    run->violation_step = run->steps;
    va_list list;
    va_start(list, format);
    vsnprintf(run->violation_text, sizeof run->violation_text, format, list);
    va_end(list);
    mark(run, SIM_STORY_VIOLATION, -1, "%s: %s", sim_invariant_name(invariant), run->violation_text);
}

/* The process of a pid as the processes see it (lease file, log, probes). */
static int proc_of_pid(const struct exec_run *run, pid_t pid) {
    for (int index = 0; index < run->task_count; index++)
        if (run->tasks[index].inner == pid) return run->tasks[index].proc_index;
    for (int index = 0; index < run->proc_count; index++)
        if (run->procs[index].pid > 0 && run->procs[index].inner == pid) return index;
    return -1;
}

static bool proc_alive(const struct exec_run *run, int proc) {
    return proc >= 0 && proc < run->proc_count && run->started[proc] && !run->procs[proc].exited;
}

/* The lease file as the controller reads it while every process is paused;
 * also keeps the expiry of the lease of each body, and reports a process
 * whose recorded time is not its virtual clock (it ignores libfaketime). */
static void describe_lease(struct exec_run *run, char *text, size_t size) {
    json_error_t error;
    struct stat status;
    run->lease_expires_ms = INT64_MAX;
    if (lstat(run->lease_path, &status) != 0) {
        snprintf(text, size, "absent");
        return;
    }
    json_t *root = json_load_file(run->lease_path, 0, &error);
    if (root == NULL || !json_is_object(root)) {
        snprintf(text, size, "malformed (%lld bytes)", (long long)status.st_size);
        json_decref(root);
        return;
    }
    const char *owner = json_string_value(json_object_get(root, "owner"));
    json_t *pid_value = json_object_get(root, "pid");
    if (json_is_integer(pid_value)) {
        bool known = false;
        for (int index = 0; index < run->seen_holder_count; index++)
            known = known || run->seen_holders[index] == (long)json_integer_value(pid_value);
        if (!known && run->seen_holder_count < 64)
            run->seen_holders[run->seen_holder_count++] = (long)json_integer_value(pid_value);
    }
    int proc = json_is_integer(pid_value) ? proc_of_pid(run, (pid_t)json_integer_value(pid_value)) : -1;
    const char *expires = json_string_value(json_object_get(root, "expiresAt"));
    int64_t expires_ms = INT64_MAX, acquired_ms = 0;
    if (parse_iso_ms(expires, &expires_ms)) run->lease_expires_ms = expires_ms;
    if (proc >= 0 && run->in_body[proc] && expires_ms != INT64_MAX) run->body_expires_ms[proc] = expires_ms;
    if (proc >= 0 && run->options->clock_virtual && !run->clock_ignored[proc] &&
        parse_iso_ms(json_string_value(json_object_get(root, "acquiredAt")), &acquired_ms)) {
        int64_t drift = acquired_ms - proc_now_ms(run, proc);
        if (drift > 86400000LL * 30 || drift < -86400000LL * 30) {
            run->clock_ignored[proc] = true;
            printf("clock: p%d %s wrote acquiredAt=%s, %lld days from its virtual clock: it does not read the "
                   "virtual clock (a static binary, or its own clock source); TTL expiry and clock jumps do not "
                   "apply to it\n",
                   proc, run->procs[proc].program, json_string_value(json_object_get(root, "acquiredAt")),
                   (long long)(drift / 86400000LL));
        }
    }
    char holder[32];
    if (proc >= 0)
        snprintf(holder, sizeof holder, "p%d", proc);
    else
        snprintf(holder, sizeof holder, "%s", json_is_integer(pid_value) ? "foreign" : "none");
    snprintf(text, size, "holder=%s owner=%.64s expires=%s", holder, owner ? owner : "?", expires ? "set" : "none");
    json_decref(root);
}

static void check_entrant(struct exec_run *run, int entrant);

/* Exclusion from MAINTENANCE_LOG (file order is the real order: O_APPEND):
 * at an enter, no other body may be running under a valid lease. A body
 * whose lease had expired by the entrant's wall clock was taken over by TTL:
 * counted (docs/spec.md section 2), not a violation, as in the simulator. */
static void check_log(struct exec_run *run) {
    FILE *file = fopen(run->log_path, "re");
    if (file == NULL) return;
    if (fseek(file, run->log_offset, SEEK_SET) != 0) {
        fclose(file);
        return;
    }
    char line[EXEC_LOG_LINE_MAX];
    while (fgets(line, sizeof line, file) != NULL) {
        if (strchr(line, '\n') == NULL) break; /* a record still being written */
        run->log_offset += (long)strlen(line);
        char kind[16], name[64];
        int pid;
        if (sscanf(line, "%15s %63s %d", kind, name, &pid) != 3) continue;
        int who = proc_of_pid(run, pid);
        int slot = who >= 0 ? who : EXEC_PROCS_MAX; /* a pid outside the run */
        if (strcmp(kind, "enter") == 0) {
            int64_t now = proc_now_ms(run, who);
            for (int other = 0; other <= EXEC_PROCS_MAX; other++) {
                if (other == slot || !run->in_body[other] || run->ttl_counted[other]) continue;
                if (run->body_expires_ms[other] <= now) {
                    run->ttl_counted[other] = true;
                    run->ttl_takeovers++;
                    continue;
                }
                violate(run, SIM_INVARIANT_EXCLUSION,
                        "p%d %s entered its body while p%d %s runs its body under a valid lease", who,
                        who >= 0 ? run->procs[who].program : name, other,
                        other < run->proc_count ? run->procs[other].program : "?");
            }
            if (who >= 0) {
                mark(run, SIM_STORY_RESULT, who, "p%d %s: acquired", who, run->procs[who].program);
                mark(run, SIM_STORY_BODY_ENTER, who, "p%d %s enters its body", who, run->procs[who].program);
                trace_op(run, who, SIM_OP_BODY_ENTER, NULL, 0, 0, NULL);
            }
            run->entered[slot] = run->in_body[slot] = true;
            run->ttl_counted[slot] = false;
            run->body_expires_ms[slot] = INT64_MAX;
            check_entrant(run, who);
        } else if (strcmp(kind, "exit") == 0 || strcmp(kind, "crash") == 0) {
            if (who >= 0)
                mark(run, kind[0] == 'e' ? SIM_STORY_BODY_EXIT : SIM_STORY_CRASH, who, "p%d %s %s", who,
                     run->procs[who].program, kind[0] == 'e' ? "leaves its body" : "crashes in its body");
            if (who >= 0 && kind[0] == 'e') trace_op(run, who, SIM_OP_BODY_EXIT, NULL, 0, 0, NULL);
            run->in_body[slot] = false;
        }
    }
    fclose(file);
}

/* No foreign release, as the simulator judges it: a process that has entered
 * its body (renewing or releasing) may remove or replace the inode at the
 * lease path only when it created it, or when its creator is gone. The
 * controller keeps an O_PATH descriptor on the current inode so that its
 * number cannot be reused by the next file while it is being compared.
 * Removals while acquiring (a takeover) are judged by exclusion. */
static void check_inode(struct exec_run *run, int actor) {
    struct stat now, held;
    bool present = lstat(run->lease_path, &now) == 0;
    bool had = run->lease_fd >= 0 && fstat(run->lease_fd, &held) == 0;
    if (present == had && (!present || (now.st_ino == held.st_ino && now.st_dev == held.st_dev))) return;
    if (had && run->entered[actor] && run->lease_creator >= 0 && run->lease_creator != actor &&
        proc_alive(run, run->lease_creator))
        violate(run, SIM_INVARIANT_FOREIGN_RELEASE, "p%d %s %s the lease of p%d %s, which is alive", actor,
                run->procs[actor].program, present ? "replaced" : "removed", run->lease_creator,
                run->procs[run->lease_creator].program);
    if (run->lease_fd >= 0) close(run->lease_fd);
    run->lease_fd = present ? open(run->lease_path, O_PATH | O_NOFOLLOW | O_CLOEXEC) : -1;
    run->lease_creator = present ? actor : -1;
}

/* Double acquisition: when a body is entered, the lease file (unchanged since
 * the last scheduled call) must not name another live process whose lease
 * is still valid by the entrant's clock. */
static void check_entrant(struct exec_run *run, int entrant) {
    json_error_t error;
    json_t *root = json_load_file(run->lease_path, 0, &error);
    json_t *pid_value = root != NULL ? json_object_get(root, "pid") : NULL;
    int holder = json_is_integer(pid_value) ? proc_of_pid(run, (pid_t)json_integer_value(pid_value)) : -1;
    int64_t expires_ms = INT64_MAX;
    if (root != NULL) (void)parse_iso_ms(json_string_value(json_object_get(root, "expiresAt")), &expires_ms);
    json_decref(root);
    if (entrant >= 0 && holder >= 0 && holder != entrant && proc_alive(run, holder) &&
        expires_ms > proc_now_ms(run, entrant))
        violate(run, SIM_INVARIANT_EXCLUSION,
                "p%d %s entered its body while the lease file names p%d %s (double acquisition)", entrant,
                run->procs[entrant].program, holder, run->procs[holder].program);
}

/* ---- story, trace ---------------------------------------------------------- */

static void story_add(struct exec_run *run, const char *line) {
    if (run->story_count == run->story_capacity) {
        run->story_capacity = run->story_capacity ? run->story_capacity * 2 : 256;
        run->story = realloc(run->story, (size_t)run->story_capacity * sizeof *run->story);
        if (run->story == NULL) abort();
    }
    run->story[run->story_count++] = strdup(line);
}

/* Path relative to the run directory, so logs of two runs compare equal. */
static const char *short_path(const struct exec_run *run, const char *path, char *buffer, size_t size) {
    size_t length = strlen(run->dir);
    buffer[0] = '\0';
    for (const char *cursor = path; *cursor != '\0';) {
        const char *hit = strstr(cursor, run->dir);
        if (hit == NULL) {
            strncat(buffer, cursor, size - strlen(buffer) - 1);
            break;
        }
        strncat(buffer, cursor, (size_t)(hit - cursor) < size - strlen(buffer) - 1 ? (size_t)(hit - cursor) : 0);
        strncat(buffer, "$RUN", size - strlen(buffer) - 1);
        cursor = hit + length;
    }
    return buffer;
}

/* ---- the timeline (--svg) --------------------------------------------------- */

/* Virtual time since the run began: the picture's axis. */
static int64_t elapsed_ms(const struct exec_run *run) {
    return run->vclock_ms - EXEC_VIRTUAL_EPOCH_MS;
}

/* A line of the picture's story (sim_story's kinds). Keeps the last slot
 * for the violation. */
static void mark(struct exec_run *run, enum sim_story_kind kind, int proc, const char *format, ...) {
    struct sim_world *world = run->world;
    if (world == NULL) return;
    if (world->story_count >= SIM_STORY_MAX - (kind == SIM_STORY_VIOLATION ? 0 : 1)) return;
    struct sim_story *story = &world->story[world->story_count++];
    story->kind = kind;
    story->process = proc >= 0 && proc < run->proc_count ? proc : -1;
    story->at_ms = elapsed_ms(run);
    story->step = (uint64_t)run->steps;
    va_list list;
    va_start(list, format);
    vsnprintf(story->text, sizeof story->text, format, list);
    va_end(list);
}

/* The lease file after a step (or at the start): a new version when it is
 * another inode or other bytes than the last one, written by actor (-1: the
 * run's initial file). A file whose JSON does not parse is drawn torn. */
static void note_lease(struct exec_run *run, int actor) {
    struct sim_world *world = run->world;
    if (world == NULL) return;
    struct stat status;
    bool present = lstat(run->lease_path, &status) == 0;
    if (present == run->lease_seen &&
        (!present ||
         (status.st_ino == run->lease_stat.st_ino && status.st_dev == run->lease_stat.st_dev &&
          status.st_size == run->lease_stat.st_size && status.st_mtim.tv_sec == run->lease_stat.st_mtim.tv_sec &&
          status.st_mtim.tv_nsec == run->lease_stat.st_mtim.tv_nsec)))
        return;
    run->lease_seen = present;
    if (present) run->lease_stat = status;
    if (world->history_count >= SIM_HISTORY_MAX) return;
    struct sim_history *entry = &world->history[world->history_count++];
    entry->step = (uint64_t)run->steps;
    entry->at_ms = elapsed_ms(run);
    entry->wall_ms = proc_now_ms(run, actor);
    entry->writer = actor >= 0 && actor < run->proc_count ? actor : -1;
    entry->inode = present ? 0 : -1;
    entry->expires_ms = INT64_MAX;
    if (!present) return;
    json_error_t error;
    json_t *root = json_load_file(run->lease_path, 0, &error);
    if (root != NULL && json_is_object(root)) {
        const char *token = json_string_value(json_object_get(root, "token"));
        json_t *pid = json_object_get(root, "pid");
        if (token != NULL)
            snprintf(entry->token, sizeof entry->token, "%s", token);
        else
            snprintf(entry->token, sizeof entry->token, "pid %lld",
                     json_is_integer(pid) ? (long long)json_integer_value(pid) : -1LL);
        (void)parse_iso_ms(json_string_value(json_object_get(root, "expiresAt")), &entry->expires_ms);
    }
    json_decref(root);
}

/* A deferral the process printed ("Deferred: heavy-maintenance lease held
 * by ..."), drawn when it ended (the line has no time of its own). */
static void mark_deferral(struct exec_run *run, int proc) {
    if (run->world == NULL || run->deferral_drawn[proc]) return;
    run->deferral_drawn[proc] = true;
    char path[PATH_MAX + 16], line[1024];
    snprintf(path, sizeof path, "%s/out.%d", run->dir, proc);
    FILE *file = fopen(path, "re");
    if (file == NULL) return;
    while (fgets(line, sizeof line, file) != NULL) {
        const char *text = strstr(line, "Deferred: heavy-maintenance lease held by");
        if (text == NULL) continue;
        line[strcspn(line, "\n")] = '\0';
        mark(run, SIM_STORY_RESULT, proc, "p%d %s: held: %.150s", proc, run->procs[proc].program, text);
        break;
    }
    fclose(file);
}

/* A process ended: its deferral, its end, and how it ended for its lane. */
static void mark_end(struct exec_run *run, int proc, int status) {
    struct sim_world *world = run->world;
    if (world == NULL) return;
    mark_deferral(run, proc);
    struct sim_process *process = &world->processes[proc];
    char how[48];
    if (WIFEXITED(status))
        snprintf(how, sizeof how, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(how, sizeof how, "%s (signal %d)", run->procs[proc].killed ? "killed" : "died", WTERMSIG(status));
    else
        snprintf(how, sizeof how, "ended");
    snprintf(process->result_text, sizeof process->result_text, "%s", how);
    process->death_step = run->steps;
    process->died_ms = elapsed_ms(run);
    if (WIFSIGNALED(status) && !run->procs[proc].killed)
        mark(run, SIM_STORY_CRASH, proc, "p%d %s died of signal %d", proc, run->procs[proc].program, WTERMSIG(status));
    mark(run, SIM_STORY_EXIT, proc, "p%d %s exits (%s)", proc, run->procs[proc].program, how);
    run->exit_pending[proc] = true;
    run->exit_status[proc] = status;
    if (!run->story_open) trace_exits(run);
}

/* The exit records of the processes reaped since the last record. */
static void trace_exits(struct exec_run *run) {
    for (int proc = 0; proc < run->proc_count; proc++) {
        if (!run->exit_pending[proc]) continue;
        run->exit_pending[proc] = false;
        int status = run->exit_status[proc];
        /* value: the exit status, or 128 + the signal, as a shell reports it. */
        trace_op(run, proc, SIM_OP_EXIT, NULL, 0,
                 WIFEXITED(status)     ? WEXITSTATUS(status)
                 : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                       : -1,
                 json_pack("{s:s}", "result", run->world->processes[proc].result_text));
    }
}

/* The world the timeline reads: one process per program, named as the run
 * names it; the title's run name and implementation (the template). */
static void world_begin(struct exec_run *run) {
    free(run->world);
    run->world = NULL;
    run->lease_seen = false;
    memset(run->deferral_drawn, 0, sizeof run->deferral_drawn);
    if (run->svg == NULL && run->trace == NULL) return;
    run->world = calloc(1, sizeof *run->world);
    if (run->world == NULL) return; /* no picture, the run itself goes on */
    static struct lease_ops ops;
    static char name[160];
    /* The title prints the implementation's name as it is: no markup in it. */
    snprintf(name, sizeof name, "%s", run->options->template_text);
    for (char *cursor = name; *cursor != '\0'; cursor++)
        if (strchr("<>&'\"", *cursor) != NULL) *cursor = '_';
    ops.name = name;
    struct sim_world *world = run->world;
    world->config.ops = &ops;
    world->seed = run->seed;
    snprintf(world->plan.name, sizeof world->plan.name, "exec %.58s",
             run->options->scenario_path != NULL ? run->options->scenario_name : "run");
    world->process_count = run->proc_count;
    for (int index = 0; index < run->proc_count; index++) {
        struct sim_process *process = &world->processes[index];
        process->index = index;
        process->world = world;
        process->spec = -1;
        process->parent = -1;
        process->death_step = -1;
        snprintf(process->label, sizeof process->label, "p%d", index);
        snprintf(process->owner, sizeof process->owner, "%s", run->options->programs[index]);
        snprintf(process->result_text, sizeof process->result_text, "not started");
    }
    if (run->trace_buffer != NULL) {
        /* The header's impl is the template as given (the picture's title is sanitised). */
        world->config.trace = run->trace_buffer;
        ops.name = run->options->template_text;
        sim_trace_header(world, run->seed);
        ops.name = name;
        /* knobs: this mode's, the words of its first output line, in place of the simulator's plan. */
        char *knobs = NULL;
        size_t knobs_size = 0;
        FILE *out = open_memstream(&knobs, &knobs_size);
        if (out != NULL) {
            print_knobs(run->options, out);
            fclose(out);
        }
        trace_flush(run, json_pack("{s:s,s:s}", "knobs", knobs != NULL ? knobs : "", "mode", "exec"));
        free(knobs);
    }
}

/* After the run: the violation, and the deferrals of those the end killed. */
static void world_end(struct exec_run *run) {
    struct sim_world *world = run->world;
    if (world == NULL) return;
    trace_exits(run);
    for (int index = 0; index < run->proc_count; index++) {
        mark_deferral(run, index);
        if (run->started[index] && world->processes[index].death_step < 0)
            snprintf(world->processes[index].result_text, sizeof world->processes[index].result_text,
                     "killed at the end of the run");
    }
    world->violation = run->violation;
    snprintf(world->violation_text, sizeof world->violation_text, "%s", run->violation_text);
    world->violation_step = (uint64_t)run->violation_step;
    world->step = (uint64_t)run->steps;
    world->now_ms = elapsed_ms(run);
}

/* --svg: the picture of the run left in *run, once, at the end. */
static int write_svg(const struct exec_run *run) {
    if (run->svg == NULL) return 0;
    if (run->world != NULL) sim_svg_emit(run->world, run->svg);
    return ferror(run->svg) == 0 && run->world != NULL ? 0 : -1;
}

/* ---- the trace (--trace): the simulator's records (sim/trace.c) ----------- */

/* sim/trace.c wrote one record into run->trace_buffer: copied to --trace with
 * exec's own fields added after the simulator's (extra: NULL for none; taken). */
static void trace_flush(struct exec_run *run, json_t *extra) {
    if (fflush(run->trace_buffer) == 0 && run->trace_size > 0) {
        json_t *record = json_loadb(run->trace_text, run->trace_size, 0, NULL);
        if (record != NULL) {
            if (extra != NULL) json_object_update(record, extra);
            json_dumpf(record, run->trace, JSON_COMPACT | JSON_PRESERVE_ORDER);
            fputc('\n', run->trace);
            json_decref(record);
        }
    }
    fseek(run->trace_buffer, 0, SEEK_SET);
    json_decref(extra);
}

/* One environment-call record as the simulator writes it: step, virtual time
 * since the run began, and the process's own wall clock (with its jumps). */
static void trace_op(struct exec_run *run, int proc, enum sim_op op, const char *arg, int rc, int64_t value,
                     json_t *extra) {
    struct sim_world *world = run->world;
    if (world == NULL || run->trace_buffer == NULL || proc < 0 || proc >= run->proc_count) {
        json_decref(extra);
        return;
    }
    world->step = (uint64_t)run->steps;
    world->now_ms = elapsed_ms(run);
    world->wall_offset_ms = run->vclock_ms + run->offset_ms[proc] - SIM_EPOCH_MS - world->now_ms;
    sim_trace_op(&world->processes[proc], op, arg, rc, value);
    if (extra == NULL) extra = json_object();
    json_object_set_new(extra, "program", json_string(run->procs[proc].program));
    trace_flush(run, extra);
}

/* The simulator's operation nearest to a scheduled syscall (docs/exec.md,
 * "Trace"). Reads the call's arguments: before the call is released. */
static enum sim_op exec_op(const struct exec_call *call) {
    const char *name = call->name;
    const __u64 *args = call->request.data.args;
    if (!strcmp(name, "open") || !strcmp(name, "openat") || !strcmp(name, "creat") || !strcmp(name, "openat2")) {
        uint64_t flags = !strcmp(name, "open")     ? args[1]
                         : !strcmp(name, "openat") ? args[2]
                         : !strcmp(name, "creat")  ? (uint64_t)(O_CREAT | O_WRONLY | O_TRUNC)
                                                   : 0;
        if (!strcmp(name, "openat2")) { /* struct open_how: flags first */
            struct iovec local = {.iov_base = &flags, .iov_len = sizeof flags};
            struct iovec remote = {.iov_base = (void *)(uintptr_t)args[2], .iov_len = sizeof flags};
            if (process_vm_readv((pid_t)call->request.pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof flags)
                flags = 0;
        }
        return (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL) ? SIM_OP_CREATE_EXCLUSIVE : SIM_OP_OPEN_READ;
    }
    if (!strcmp(name, "read")) return SIM_OP_READ;
    if (!strcmp(name, "write") || !strcmp(name, "ftruncate")) return SIM_OP_WRITE;
    if (!strcmp(name, "pread64")) return SIM_OP_PREAD;
    if (!strcmp(name, "pwrite64")) return SIM_OP_PWRITE;
    if (!strcmp(name, "close")) return SIM_OP_CLOSE;
    if (!strcmp(name, "fstat")) return SIM_OP_FSTAT;
    if (!strcmp(name, "newfstatat")) return (args[3] & AT_EMPTY_PATH) ? SIM_OP_FSTAT : SIM_OP_LSTAT;
    if (!strcmp(name, "statx")) return (args[2] & AT_EMPTY_PATH) ? SIM_OP_FSTAT : SIM_OP_LSTAT;
    if (!strcmp(name, "stat") || !strcmp(name, "lstat")) return SIM_OP_LSTAT;
    if (!strcmp(name, "link") || !strcmp(name, "linkat")) return SIM_OP_LINK;
    if (!strcmp(name, "renameat2") && (args[4] & 2 /* RENAME_EXCHANGE */)) return SIM_OP_EXCHANGE;
    if (!strncmp(name, "rename", 6)) return SIM_OP_RENAME;
    if (!strcmp(name, "unlink") || !strcmp(name, "unlinkat") || !strcmp(name, "rmdir")) return SIM_OP_UNLINK;
    if (!strcmp(name, "mkdir") || !strcmp(name, "mkdirat")) return SIM_OP_MKDIR;
    if (!strcmp(name, "flock")) return (args[1] & LOCK_UN) ? SIM_OP_UNLOCK : SIM_OP_LOCK;
    if (!strcmp(name, "fcntl")) { /* a lock command: F_UNLCK in its struct flock unlocks */
        struct flock lock;
        struct iovec local = {.iov_base = &lock, .iov_len = sizeof lock};
        struct iovec remote = {.iov_base = (void *)(uintptr_t)args[2], .iov_len = sizeof lock};
        bool unlocks = args[1] != F_GETLK && args[1] != F_OFD_GETLK &&
                       process_vm_readv((pid_t)call->request.pid, &local, 1, &remote, 1, 0) == (ssize_t)sizeof lock &&
                       lock.l_type == F_UNLCK;
        return unlocks ? SIM_OP_UNLOCK : SIM_OP_LOCK;
    }
    if (!strcmp(name, "fsync") || !strcmp(name, "fdatasync")) return SIM_OP_FSYNC;
    if (!strcmp(name, "kill")) return SIM_OP_PID_PROBE;
    return SIM_OP_SLEEP; /* nanosleep, clock_nanosleep */
}

/* ---- the schedule ---------------------------------------------------------- */

static int proc_sort_key(const struct exec_run *run, const struct exec_call *call) {
    const struct exec_task *task = NULL;
    for (int index = 0; index < run->task_count; index++)
        if (run->tasks[index].pid == thread_group_of(run, (pid_t)call->request.pid)) task = &run->tasks[index];
    return call->proc_index * 1000 + (task != NULL ? task->ordinal : 999);
}

/* Pending calls in an order independent of arrival: process, then ordinal in its tree, then call.
 * Each call's key is computed once, not at every comparison. */
static void sort_pending(struct exec_run *run) {
    int keys[EXEC_PENDING_MAX];
    for (int index = 0; index < run->pending_count; index++) keys[index] = proc_sort_key(run, &run->pending[index]);
    for (int outer = 1; outer < run->pending_count; outer++)
        for (int inner = outer; inner > 0; inner--) {
            struct exec_call *left = &run->pending[inner - 1], *right = &run->pending[inner];
            int left_key = keys[inner - 1], right_key = keys[inner];
            bool swap = left_key > right_key ||
                        (left_key == right_key &&
                         (strcmp(left->name, right->name) > 0 ||
                          (strcmp(left->name, right->name) == 0 && strcmp(left->path, right->path) > 0)));
            if (!swap) break;
            struct exec_call held = *left;
            *left = *right;
            *right = held;
            keys[inner - 1] = right_key;
            keys[inner] = left_key;
        }
}

static void record_entry(struct exec_run *run, struct exec_entry entry) {
    if (run->record_count == run->record_capacity) {
        run->record_capacity = run->record_capacity ? run->record_capacity * 2 : 256;
        run->record = realloc(run->record, (size_t)run->record_capacity * sizeof *run->record);
        if (run->record == NULL) abort();
    }
    run->record[run->record_count++] = entry;
}

/* The next entry of the replayed order, or NULL (not replaying, or past its end). */
static const struct exec_entry *guide_next(const struct exec_run *run) {
    const struct exec_options *options = run->options;
    int limit = options->guide_limit >= 0 && options->guide_limit < options->guide_count ? options->guide_limit
                                                                                         : options->guide_count;
    return options->guide != NULL && run->guide_pos < limit ? &options->guide[run->guide_pos] : NULL;
}

static int choose(struct exec_run *run) {
    if (run->options->guide != NULL) {
        const struct exec_entry *entry = guide_next(run);
        if (entry != NULL && !entry->jump)
            for (int index = 0; index < run->pending_count; index++)
                if (run->pending[index].proc_index == entry->proc) return index;
        return 0; /* past the order's end (or its process has no call held): canonical order */
    }
    if (strcmp(run->options->strategy_name, "pct") != 0)
        return (int)sim_prng_below(&run->prng, (uint64_t)run->pending_count);
    int best = 0;
    for (int index = 1; index < run->pending_count; index++)
        if (run->pct_priority[run->pending[index].proc_index] > run->pct_priority[run->pending[best].proc_index])
            best = index;
    for (int change = 0; change < run->options->pct_depth - 1; change++)
        if (run->pct_change_steps[change] == run->steps) run->pct_priority[run->pending[best].proc_index] = -change - 1;
    /* A timed sleep is a yield (a retry loop waiting for another process):
     * strict priorities would otherwise starve the process it waits for. */
    if (strstr(run->pending[best].name, "sleep") != NULL) {
        int lowest = run->pct_priority[0];
        for (int index = 1; index < run->proc_count; index++)
            if (run->pct_priority[index] < lowest) lowest = run->pct_priority[index];
        run->pct_priority[run->pending[best].proc_index] = lowest - 1;
    }
    return best;
}

static void pct_setup(struct exec_run *run) {
    int order[EXEC_PROCS_MAX];
    for (int index = 0; index < run->proc_count; index++) order[index] = index;
    for (int index = run->proc_count - 1; index > 0; index--) {
        int other = (int)sim_prng_below(&run->prng, (uint64_t)index + 1);
        int held = order[index];
        order[index] = order[other];
        order[other] = held;
    }
    for (int index = 0; index < run->proc_count; index++) run->pct_priority[order[index]] = 100 + index;
    for (int change = 0; change < run->options->pct_depth - 1 && change < 8; change++)
        run->pct_change_steps[change] = (int)sim_prng_below(&run->prng, (uint64_t)run->options->pct_steps);
}

/* A torn write: the controller performs only a prefix of the caller's write on
 * the caller's own open file description (pidfd_getfd), then kills the caller,
 * whose call never runs. Returns the bytes written, or -1 when it cannot. */
static ssize_t tear_write(const struct exec_call *call) {
    const __u64 *args = call->request.data.args;
    size_t length = (size_t)args[2];
    if (length == 0) return -1;
    size_t prefix = length / 2 > 0 ? length / 2 : 1;
    char buffer[4096];
    if (prefix > sizeof buffer) prefix = sizeof buffer;
    struct iovec local = {.iov_base = buffer, .iov_len = prefix};
    struct iovec remote = {.iov_base = (void *)(uintptr_t)args[1], .iov_len = prefix};
    pid_t pid = (pid_t)call->request.pid;
    if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)prefix) return -1;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) return -1;
    int fd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)args[0], 0);
    close(pidfd);
    if (fd < 0) return -1;
    ssize_t written =
        strcmp(call->name, "pwrite64") == 0 ? pwrite(fd, buffer, prefix, (off_t)args[3]) : write(fd, buffer, prefix);
    close(fd);
    return written;
}

static void take_step(struct exec_run *run) {
    sort_pending(run);
    if (getenv("LEASESIM_EXEC_DEBUG") != NULL) {
        fprintf(stderr, "step %d pending:", run->steps + 1);
        for (int index = 0; index < run->pending_count; index++)
            fprintf(stderr, " p%d:%s", run->pending[index].proc_index, run->pending[index].name);
        fputc('\n', stderr);
    }
    unsigned held = 0;
    for (int index = 0; index < run->pending_count; index++) held |= 1u << run->pending[index].proc_index;
    int pick = choose(run);
    struct exec_call call = run->pending[pick];
    run->pending[pick] = run->pending[--run->pending_count];
    struct exec_proc *proc = &run->procs[call.proc_index];
    const char *result = "continued";
    enum sim_op op = exec_op(&call);
    run->vclock_ms += EXEC_STEP_MS;
    char fault[64];
    bool writes = strcmp(call.name, "write") == 0 || strcmp(call.name, "pwrite64") == 0;
    ssize_t torn = -1;
    bool guided = run->options->guide != NULL;
    const struct exec_entry *entry = guide_next(run);
    enum exec_fault wanted = entry != NULL && !entry->jump ? entry->fault : FAULT_NONE;
    if (entry != NULL && !entry->jump) run->guide_pos++;
    enum exec_fault done = FAULT_NONE;
    /* The stepped call is answered last, once the clocks are written: a
     * process released before that could read its clock (through the clock
     * shim, no notified call) before or after the write, by chance. */
    int answer_error = 0;
    bool answer_continue = false;
    if ((guided ? wanted == FAULT_TORN : writes && sim_prng_permille(&run->prng, run->options->torn_permille)) &&
        (torn = tear_write(&call)) >= 0) {
        done = FAULT_TORN;
        kill((pid_t)call.request.pid, SIGKILL);
        answer_error = EINTR;
        proc->killed = true;
        snprintf(fault, sizeof fault, "torn: %zd of %llu bytes written, then SIGKILL", torn,
                 (unsigned long long)call.request.data.args[2]);
        result = fault;
        mark(run, SIM_STORY_CRASH, call.proc_index, "p%d %s: %s %s", call.proc_index, proc->program, call.name, fault);
    } else if (guided ? wanted == FAULT_CRASH || wanted == FAULT_CRASH_REUSE
                      : sim_prng_permille(&run->prng, run->options->crash_permille)) {
        /* Crash point: the call never runs. */
        kill((pid_t)call.request.pid, SIGKILL);
        answer_error = EINTR;
        proc->killed = true;
        done = FAULT_CRASH;
        if (run->options->pid_reuse &&
            (guided ? wanted == FAULT_CRASH_REUSE : sim_prng_permille(&run->prng, run->options->pid_reuse_permille))) {
            run->reuse_wanted[call.proc_index] = true; /* once it is reaped */
            done = FAULT_CRASH_REUSE;
        }
        result = "SIGKILL (the call never ran)";
        mark(run, SIM_STORY_CRASH, call.proc_index, "p%d %s: SIGKILL at its %s (the call never ran)", call.proc_index,
             proc->program, call.name);
    } else if (guided ? wanted >= FAULT_ENOSPC : sim_prng_permille(&run->prng, run->options->errno_permille)) {
        static const int errors[] = {ENOSPC, EIO, EACCES};
        int error = guided ? errors[wanted - FAULT_ENOSPC] : errors[sim_prng_below(&run->prng, 3)];
        done = error == ENOSPC ? FAULT_ENOSPC : error == EIO ? FAULT_EIO : FAULT_EACCES;
        answer_error = error;
        snprintf(fault, sizeof fault, "failed %s", error == ENOSPC ? "ENOSPC" : error == EIO ? "EIO" : "EACCES");
        result = fault;
    } else if (run->options->clock_virtual && strstr(call.name, "sleep") != NULL) {
        /* Virtual time: the sleep returns at once and the clock moves on by its length. */
        run->vclock_ms += call.sleep_ms;
        snprintf(fault, sizeof fault, "returned at once, +%lld ms virtual", (long long)call.sleep_ms);
        result = fault;
    } else {
        if (sys_reshapes(call.request.data.nr))
            reshaping_begins(run, (pid_t)call.request.pid, thread_group_of(run, (pid_t)call.request.pid));
        answer_continue = true;
        if (strstr(call.name, "sleep") != NULL) run->awaited_tid = (pid_t)call.request.pid;
    }
    write_clocks(run, false);
    respond(run, proc->notify_fd, call.request.id, answer_error, answer_continue);
    record_entry(run, (struct exec_entry){.proc = call.proc_index, .fault = done, .held = held});
    run->steps++;
    (void)call;
    /* The rest of the step (lease state, oracle) happens once everything settled again. */
    char path[PATH_MAX * 2 + 16];
    short_path(run, call.path, path, sizeof path);
    const struct exec_task *task = NULL;
    for (int index = 0; index < run->task_count; index++)
        if (run->tasks[index].pid == thread_group_of(run, (pid_t)call.request.pid)) task = &run->tasks[index];
    run->last.proc = call.proc_index;
    run->last.ordinal = task != NULL ? task->ordinal : 0;
    snprintf(run->last.name, sizeof run->last.name, "%s", call.name);
    snprintf(run->last.path, sizeof run->last.path, "%s", path);
    snprintf(run->last.result, sizeof run->last.result, "%s", result);
    run->last.op = op;
    /* The controller sees what it injected, not what a released call returned: 0 then. */
    run->last.rc = done == FAULT_ENOSPC   ? -ENOSPC
                   : done == FAULT_EIO    ? -EIO
                   : done == FAULT_EACCES ? -EACCES
                   : done != FAULT_NONE   ? -EINTR
                                          : 0;
    run->last.value = torn >= 0            ? (int64_t)torn
                      : op == SIM_OP_SLEEP ? call.sleep_ms
                      : op == SIM_OP_READ || op == SIM_OP_WRITE || op == SIM_OP_PREAD || op == SIM_OP_PWRITE
                          ? (int64_t)call.request.data.args[2]
                          : 0;
    char line[PATH_MAX * 2 + 256];
    snprintf(line, sizeof line, "  step=%-5d p%d.%d %-18s %-10s %s: %s", run->steps, call.proc_index,
             task != NULL ? task->ordinal : 0, proc->program, call.name, path, result);
    story_add(run, line);
    run->story_count--; /* completed after settling, with the lease state */
    free(run->story[run->story_count]);
    run->story[run->story_count] = strdup(line);
    run->story_count++;
    run->story_open = true;
}

/* ---- one run --------------------------------------------------------------- */

static bool write_dead_lease(const struct exec_run *run) {
    FILE *file = fopen(run->lease_path, "we");
    if (file == NULL) return false;
    /* A holder whose pid cannot exist (above pid_max's ceiling): stale by the pid check. */
    fprintf(file, "{\"owner\":\"ghost\",\"reason\":\"manual-cli\",\"pid\":4194305,\"token\":\"dead\","
                  "\"acquiredAt\":\"2020-01-01T00:00:00.000Z\",\"staleAfterMs\":21600000,"
                  "\"expiresAt\":\"2020-01-01T06:00:00.000Z\"}\n");
    return fclose(file) == 0;
}

static void remove_tree(const char *path) {
    DIR *directory = opendir(path);
    if (directory != NULL) {
        for (struct dirent *entry; (entry = readdir(directory)) != NULL;) {
            if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, "..")) continue;
            char child[PATH_MAX + 256];
            snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
            if (entry->d_type == DT_DIR)
                remove_tree(child);
            else
                unlink(child);
        }
        closedir(directory);
    }
    rmdir(path);
}

/* Honest deferral: a deferral line may only name a holder (by pid) that the
 * lease file named at some step of the run. */
static void check_deferrals(struct exec_run *run) {
    for (int index = 0; index < run->proc_count && run->violation == SIM_INVARIANT_NONE; index++) {
        char path[PATH_MAX + 16], line[1024];
        snprintf(path, sizeof path, "%s/out.%d", run->dir, index);
        FILE *file = fopen(path, "re");
        if (file == NULL) continue;
        while (fgets(line, sizeof line, file) != NULL) {
            const char *mark = strstr(line, "Deferred: heavy-maintenance lease held by");
            const char *pid_text = mark != NULL ? strstr(mark, ", pid=") : NULL;
            if (pid_text == NULL) continue;
            long pid = strtol(pid_text + 6, NULL, 10);
            bool known = false;
            for (int seen = 0; seen < run->seen_holder_count; seen++) known = known || run->seen_holders[seen] == pid;
            if (!known) {
                int holder = proc_of_pid(run, (pid_t)pid);
                violate(run, SIM_INVARIANT_HONEST_DEFERRAL,
                        "p%d %s deferred to a holder (pid of %s) that the lease file never named", index,
                        run->procs[index].program, holder >= 0 ? run->procs[holder].program : "no process of the run");
            }
        }
        fclose(file);
    }
}

/* Runs the first program once more without the filter and reports whether it
 * entered its body (a record in MAINTENANCE_LOG with its pid). */
static bool wedge_probe(struct exec_run *run) {
    fflush(NULL);
    write_clocks(run, true);
    pid_t pid = fork();
    if (pid < 0) return true; /* cannot tell: not a verdict */
    if (pid == 0) child_exec(run, 0, -1);
    pid_t inner = inner_pid_of(pid);
    double deadline = seconds_now() + 20;
    int status;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (seconds_now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        struct timespec pause_time = {.tv_sec = 0, .tv_nsec = 2000000};
        nanosleep(&pause_time, NULL);
    }
    FILE *file = fopen(run->log_path, "re");
    if (file == NULL) return false;
    char line[EXEC_LOG_LINE_MAX], expected[64];
    snprintf(expected, sizeof expected, "%d", (int)inner);
    bool entered = false;
    while (fgets(line, sizeof line, file) != NULL) {
        char kind[16], name[64];
        int record_pid;
        if (sscanf(line, "%15s %63s %d", kind, name, &record_pid) == 3 && strcmp(kind, "enter") == 0 &&
            record_pid == (int)inner)
            entered = true;
    }
    fclose(file);
    return entered;
}

static bool reuse_pid(struct exec_run *run, int proc, char *line, size_t size) {
    if (!run->options->pid_reuse || !run->started[proc]) return false; /* skipped: said on the first line */
    int64_t elapsed = run->vclock_ms - EXEC_VIRTUAL_EPOCH_MS;
    if (!run->procs[proc].exited) {
        snprintf(line, size, "  at %lld ms: p%d %s is alive: its pid is not given away", (long long)elapsed, proc,
                 run->procs[proc].program);
        return true;
    }
    int got = pid_space_ask(run->procs[proc].inner);
    if (got == run->procs[proc].inner) {
        run->pid_reuses++;
        mark(run, SIM_STORY_PID_REUSE, proc, "p%d %s's pid %d given to an unrelated process", proc,
             run->procs[proc].program, (int)got);
    }
    snprintf(line, size, "  at %lld ms: p%d %s's pid %s", (long long)elapsed, proc, run->procs[proc].program,
             got == run->procs[proc].inner ? "given to an unrelated process (ns_last_pid)"
             : got < 0                     ? "could not be given away (ns_last_pid refused)"
                                           : "could not be given away (taken meanwhile)");
    return true;
}

/* Forks process index under the filter; returns 0, 70 (cannot) or an errno
 * (the filter was refused). */
static int start_proc(struct exec_run *run, int index) {
    struct exec_proc *proc = &run->procs[index];
    int sockets[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) return 70;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return 70;
    if (pid == 0) {
        close(sockets[0]);
        for (int other = 0; other < run->proc_count; other++)
            if (run->procs[other].notify_fd >= 0) close(run->procs[other].notify_fd);
        child_exec(run, index, sockets[1]);
    }
    close(sockets[1]);
    proc->pid = pid;
    proc->inner = inner_pid_of(pid);
    run->started[index] = true;
    run->live_count++;
    int code = 0;
    proc->notify_fd = receive_listener(sockets[0], &code);
    close(sockets[0]);
    if (proc->notify_fd < 0) return code != 0 ? -code : EPERM;
    /* Each notification is a round trip between the process and this
     * controller, which answers at once: woken on the CPU of the one that
     * wakes it, neither waits for another CPU (Linux 6.6; refused before,
     * which only costs time). */
    (void)ioctl(proc->notify_fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    if (run->world != NULL) run->world->processes[index].pid = proc->inner;
    mark(run, SIM_STORY_SPAWN, index, "p%d %s starts (pid %d)", index, proc->program, (int)proc->inner);
    return 0;
}

/* The next process due to start (its start time on the virtual clock), or -1. */
static int next_start(const struct exec_run *run) {
    int best = -1;
    for (int index = 0; index < run->proc_count; index++)
        if (!run->started[index] && (best < 0 || run->options->start_ms[index] < run->options->start_ms[best]))
            best = index;
    return best;
}

/* Scenario events and processes whose time has come; returns whether a process started. */
static bool apply_due(struct exec_run *run) {
    const struct exec_options *options = run->options;
    int64_t elapsed = run->vclock_ms - EXEC_VIRTUAL_EPOCH_MS;
    while (run->next_event < options->event_count && options->events[run->next_event].at_ms <= elapsed) {
        const struct exec_event *event = &options->events[run->next_event++];
        char line[256];
        if (event->kind == EXEC_EVENT_CLOCK_JUMP) {
            for (int index = 0; index < run->proc_count; index++) run->offset_ms[index] += event->by_ms;
            run->clock_jumps++;
            write_clocks(run, false);
            snprintf(line, sizeof line, "  at %lld ms: every clock jumps by %+lld ms", (long long)elapsed,
                     (long long)event->by_ms);
            mark(run, SIM_STORY_CLOCK_JUMP, -1, "every clock jumps by %+lld ms", (long long)event->by_ms);
        } else if (event->kind == EXEC_EVENT_KILL) {
            struct exec_proc *proc = &run->procs[event->proc];
            if (!run->started[event->proc] || proc->exited) continue;
            kill(proc->pid, SIGKILL);
            proc->killed = true;
            snprintf(line, sizeof line, "  at %lld ms: SIGKILL p%d %s (scenario)", (long long)elapsed, event->proc,
                     proc->program);
            mark(run, SIM_STORY_KILL, event->proc, "SIGKILL p%d %s (scenario)", event->proc, proc->program);
        } else {
            if (!reuse_pid(run, event->proc, line, sizeof line)) continue;
        }
        story_add(run, line);
    }
    int due = next_start(run);
    if (due < 0 || options->start_ms[due] > elapsed) return false;
    char line[160];
    snprintf(line, sizeof line, "  at %lld ms: p%d %s starts (%s)", (long long)elapsed, due, run->procs[due].program,
             options->labels[due]);
    story_add(run, line);
    if (start_proc(run, due) != 0) {
        run->started[due] = true;
        run->procs[due].exited = true;
        return false;
    }
    return true;
}

/* Runs one seed; returns 0 ok, 1 violation, 69 refused, 70 internal error. */
static int run_seed(struct exec_run *run) {
    const struct exec_options *options = run->options;
    sim_prng_seed(&run->prng, run->seed);
    run->proc_count = options->program_count;
    run->live_count = 0;
    run->lease_creator = -1;
    run->lease_fd = -1;
    run->violation = SIM_INVARIANT_NONE;
    canonical_clear(); /* a new run directory, and no process watched since the last run */
    canonical.off = false;
    if (strcmp(options->strategy_name, "pct") == 0) pct_setup(run);
    const char *temporary = getenv("TMPDIR");
    snprintf(run->dir, sizeof run->dir, "%s/leasesim-exec-XXXXXX", temporary && *temporary ? temporary : "/tmp");
    if (mkdtemp(run->dir) == NULL) return 70;
    char real[PATH_MAX];
    if (realpath(run->dir, real) != NULL) snprintf(run->dir, sizeof run->dir, "%s", real);
    snprintf(run->lease_dir, sizeof run->lease_dir, "%.2000s/lease", run->dir);
    snprintf(run->lease_path, sizeof run->lease_path, "%.2000s/heavy-maintenance.json", run->lease_dir);
    snprintf(run->log_path, sizeof run->log_path, "%.2000s/maintenance.log", run->dir);
    if (mkdir(run->lease_dir, 0700) != 0) return 70;
    run->shim_ready = options->clock_virtual && options->clock_shim && install_clock_shim(run);
    int log_fd = open(run->log_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (log_fd >= 0) close(log_fd);
    if (options->initial_torn) { /* an empty lease file, as a crash between create and write leaves it */
        int fd = open(run->lease_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) return 70;
        close(fd);
        run->lease_fd = open(run->lease_path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        run->lease_creator = -2;
    } else if (options->initial_dead) {
        if (!write_dead_lease(run)) return 70;
        run->lease_fd = open(run->lease_path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        run->lease_creator = -2;
    }
    run->vclock_ms = EXEC_VIRTUAL_EPOCH_MS;
    run->lease_expires_ms = INT64_MAX;
    write_clocks(run, false);
    world_begin(run);
    note_lease(run, -1);
    int refused = 0;
    for (int index = 0; index < run->proc_count; index++) {
        run->procs[index].program = options->programs[index];
        run->procs[index].notify_fd = -1;
    }
    for (int index = 0; index < run->proc_count && refused == 0; index++) {
        if (options->start_ms[index] > 0) continue; /* started when the virtual clock reaches it */
        refused = start_proc(run, index);
        if (refused == 70) return 70;
    }
    if (refused != 0) {
        for (int index = 0; index < run->proc_count; index++)
            if (run->procs[index].pid > 0) kill(run->procs[index].pid, SIGKILL);
        wait_all(run);
        fprintf(stderr,
                "leasesim: the kernel or the sandbox refused the seccomp user-notification filter (%s); "
                "nothing was tested\n",
                strerror(refused));
        remove_tree(run->dir);
        return SIM_EXEC_EX_REFUSED;
    }
    struct seccomp_notif *request = NULL;
    if (seccomp_notify_alloc(&request, &run->response) != 0) return 70;
    double deadline = seconds_now() + EXEC_RUN_SECONDS_MAX;
    char before[256];
    describe_lease(run, before, sizeof before);
    bool settled_after_step = false;
    for (;;) {
        /* Right after the settle that followed a step nothing was released:
         * that settle's look (every thread blocked, every queue empty, twice)
         * stands, and a second one would only repeat it. */
        bool settled = settled_after_step || settle(run, request, deadline, 0);
        settled_after_step = false;
        /* Complete the previous step's story line with the lease state now that all are paused. */
        if (run->story_open) {
            run->story_open = false;
            char state[256], line[PATH_MAX * 2 + 512];
            describe_lease(run, state, sizeof state);
            snprintf(line, sizeof line, "%s -> lease %s", run->story[run->story_count - 1], state);
            free(run->story[run->story_count - 1]);
            run->story[run->story_count - 1] = strdup(line);
            note_lease(run, run->last.proc);
            if (run->trace != NULL) {
                char process[32];
                snprintf(process, sizeof process, "p%d.%d", run->last.proc, run->last.ordinal);
                trace_op(run, run->last.proc, run->last.op, run->last.path, run->last.rc, run->last.value,
                         json_pack("{s:s,s:s,s:s,s:s}", "syscall", run->last.name, "process", process, "result",
                                   run->last.result, "lease", state));
            }
            trace_exits(run);
        }
        check_log(run);
        if (!settled) {
            violate(run, SIM_INVARIANT_STEP_LIMIT, "no progress within %d s (a process neither exits nor calls)",
                    EXEC_RUN_SECONDS_MAX);
            break;
        }
        for (int index = 0; index < run->proc_count; index++) {
            char line[256];
            if (!run->reuse_wanted[index] || !run->procs[index].exited) continue;
            run->reuse_wanted[index] = false;
            if (reuse_pid(run, index, line, sizeof line)) story_add(run, line);
        }
        if (apply_due(run)) continue; /* a new process: settle again before choosing */
        if (run->pending_count == 0) {
            int due = next_start(run);
            if (run->live_count == 0 && due >= 0) {
                /* everyone ended: the clock moves on to the next start */
                int64_t at = EXEC_VIRTUAL_EPOCH_MS + options->start_ms[due];
                if (at > run->vclock_ms) run->vclock_ms = at;
                write_clocks(run, false);
                continue;
            }
            if (run->live_count == 0) break;
            /* Everyone asleep (a timer, a pipe): wait for a notification or an exit. */
            struct pollfd pollers[EXEC_PROCS_MAX * 2];
            int count = 0;
            for (int index = 0; index < run->proc_count; index++) {
                if (run->procs[index].notify_fd >= 0)
                    pollers[count++] = (struct pollfd){.fd = run->procs[index].notify_fd, .events = POLLIN};
            }
            (void)poll(pollers, (nfds_t)count, 5);
            continue;
        }
        if (run->steps >= EXEC_STEPS_MAX) {
            violate(run, SIM_INVARIANT_STEP_LIMIT, "more than %d lease syscalls", EXEC_STEPS_MAX);
            break;
        }
        const struct exec_entry *jump = guide_next(run);
        if (options->guide != NULL ? jump != NULL && jump->jump
                                   : sim_prng_permille(&run->prng, options->clock_jump_permille)) {
            /* One process's wall clock jumps, forward or back, by up to twice the TTL. */
            int64_t ttl = options->ttl_ms > 0 ? options->ttl_ms : EXEC_DEFAULT_TTL_MS;
            int who = options->guide != NULL ? jump->proc : (int)sim_prng_below(&run->prng, (uint64_t)run->proc_count);
            int64_t by = options->guide != NULL ? jump->by : sim_prng_range(&run->prng, -2 * ttl, 2 * ttl);
            if (options->guide != NULL) run->guide_pos++;
            record_entry(run, (struct exec_entry){.jump = true, .proc = who, .by = by});
            run->offset_ms[who] += by;
            run->clock_jumps++;
            char line[160];
            snprintf(line, sizeof line, "  clock: p%d %s's wall clock jumps by %+lld ms", who, run->procs[who].program,
                     (long long)by);
            mark(run, SIM_STORY_CLOCK_JUMP, who, "p%d %s's wall clock jumps by %+lld ms", who, run->procs[who].program,
                 (long long)by);
            story_add(run, line);
        }
        take_step(run);
        /* The inode check needs the actor, known from the step just taken. */
        int actor = -1;
        sscanf(run->story[run->story_count - 1], "  step=%*d p%d", &actor);
        settled_after_step = settle(run, request, deadline, 1);
        if (actor >= 0) check_inode(run, actor);
        /* settled again at the top of the loop (no new arrivals meanwhile is fine) */
    }
    for (int index = 0; index < run->proc_count; index++)
        if (run->procs[index].pid > 0 && !run->procs[index].exited) kill(run->procs[index].pid, SIGKILL);
    for (int index = 0; index < run->pending_count; index++)
        respond(run, run->procs[run->pending[index].proc_index].notify_fd, run->pending[index].request.id, EINTR,
                false);
    run->pending_count = 0;
    wait_all(run);
    for (int index = 0; index < run->proc_count; index++) {
        if (run->procs[index].notify_fd >= 0) close(run->procs[index].notify_fd);
        run->procs[index].notify_fd = -1;
    }
    if (pid_space.active) (void)pid_space_ask(0); /* the seed's waiters go */
    check_log(run);
    check_deferrals(run);
    /* Bounded wedge: once every process has ended, whatever they left behind
     * must not stop the next job: a fresh, unscheduled run of the first
     * program must enter its body. */
    struct stat status;
    if (run->violation == SIM_INVARIANT_NONE && !options->wedge_probe_off && lstat(run->lease_path, &status) == 0) {
        char state[256];
        describe_lease(run, state, sizeof state);
        if (!wedge_probe(run))
            violate(run, SIM_INVARIANT_BOUNDED_WEDGE,
                    "after every process ended, a new run of %s could not acquire the lease (%s)",
                    run->procs[0].program, state);
    }
    if (run->lease_fd >= 0) close(run->lease_fd);
    run->lease_fd = -1;
    seccomp_notify_free(request, run->response);
    run->response = NULL;
    world_end(run);
    return run->violation == SIM_INVARIANT_NONE ? 0 : 1;
}

static void run_reset(struct exec_run *run) {
    for (int index = 0; index < EXEC_PROCS_MAX; index++)
        if (run->clock_pages[index] != NULL) munmap(run->clock_pages[index], sizeof(struct clock_page));
    for (int index = 0; index < run->story_count; index++) free(run->story[index]);
    free(run->story);
    free(run->record);
    free(run->world);
    FILE *trace = run->trace, *svg = run->svg, *trace_buffer = run->trace_buffer;
    char *trace_text = run->trace_text;
    size_t trace_size = run->trace_size;
    const struct exec_options *options = run->options;
    memset(run, 0, sizeof *run);
    run->trace = trace;
    run->svg = svg;
    run->trace_buffer = trace_buffer;
    run->trace_text = trace_text;
    run->trace_size = trace_size;
    run->options = options;
}

static void print_knobs(const struct exec_options *options, FILE *out) {
    fprintf(out, "strategy=%s", options->strategy_name);
    if (strcmp(options->strategy_name, "pct") == 0)
        fprintf(out, " pct-depth=%d pct-steps=%d", options->pct_depth, options->pct_steps);
    fprintf(out, " programs=");
    for (int index = 0; index < options->program_count; index++)
        fprintf(out, "%s%s", index ? "," : "", options->programs[index]);
    fprintf(out, " initial=%s crash=%d/1000 errno=%d/1000 (ENOSPC|EIO|EACCES) torn=%d/1000",
            options->initial_torn   ? "torn"
            : options->initial_dead ? "dead"
                                    : "none",
            options->crash_permille, options->errno_permille, options->torn_permille);
    if (options->clock_virtual)
        fprintf(out, " clock=virtual clock-jump=%d/1000", options->clock_jump_permille);
    else
        fprintf(out, " clock=real");
    if (options->ttl_ms > 0) fprintf(out, " ttl=%lldms", (long long)options->ttl_ms);
    if (options->pid_reuse)
        fprintf(out, " pid-reuse=%d/1000", options->pid_reuse_permille);
    else
        fprintf(out, " pid-reuse=off");
    if (options->hunt != SIM_INVARIANT_NONE) fprintf(out, " invariant=%s", sim_invariant_name(options->hunt));
    if (options->scenario_path != NULL) {
        fprintf(out, " scenario=%s", options->scenario_name[0] ? options->scenario_name : options->scenario_path);
        for (int index = 0; index < options->program_count; index++)
            fprintf(out, " %s:at=%lld,body=%lld%s", options->labels[index], (long long)options->start_ms[index],
                    (long long)options->body_ms[index], options->body_crash[index] ? ",crash" : "");
    }
}

static void print_replay(const struct exec_options *options, uint64_t seed, const char *order, FILE *out) {
    fprintf(out, "replay: %s --exec '%s'", options->argv0, options->template_text);
    if (options->scenario_path != NULL) {
        fprintf(out, " --scenario %s", options->scenario_path);
    } else {
        fprintf(out, " --programs ");
        for (int index = 0; index < options->program_count; index++)
            fprintf(out, "%s%s", index ? "," : "", options->programs[index]);
    }
    fprintf(out, " --strategy %s", options->strategy_name);
    if (strcmp(options->strategy_name, "pct") == 0)
        fprintf(out, " --pct-depth %d --pct-steps %d", options->pct_depth, options->pct_steps);
    if (options->scenario_path == NULL) fprintf(out, " --initial %s", options->initial_dead ? "dead" : "none");
    fprintf(out, " --crash %d --errno %d --torn %d", options->crash_permille, options->errno_permille,
            options->torn_permille);
    if (!options->clock_virtual) fprintf(out, " --clock real");
    if (options->clock_jump_permille > 0) fprintf(out, " --clock-jump %d", options->clock_jump_permille);
    if (options->ttl_ms > 0 && options->scenario_path == NULL) fprintf(out, " --ttl %lld", (long long)options->ttl_ms);
    if (options->pid_reuse_permille > 0) fprintf(out, " --pid-reuse %d", options->pid_reuse_permille);
    if (options->hunt != SIM_INVARIANT_NONE) fprintf(out, " --invariant %s", sim_invariant_name(options->hunt));
    fprintf(out, " --seed %llu", (unsigned long long)seed);
    if (order != NULL) fprintf(out, " --order %s", order);
    fprintf(out, "\n");
}

/* The ordered log of scheduled lease syscalls of one seed, pids and paths normalised. */
static int write_log(const struct exec_run *run, const char *path) {
    FILE *file = fopen(path, "we");
    if (file == NULL) return -1;
    for (int index = 0; index < run->story_count; index++) fprintf(file, "%s\n", run->story[index]);
    fprintf(file, "verdict %s\n", sim_invariant_name(run->violation));
    return fclose(file) == 0 ? 0 : -1;
}

static uint64_t hash_story(const struct exec_run *run) {
    uint64_t hash = 1469598103934665603ULL;
    for (int index = 0; index < run->story_count; index++)
        for (const char *cursor = run->story[index]; *cursor != '\0'; cursor++)
            hash = (hash ^ (uint8_t)*cursor) * 1099511628211ULL;
    return hash ^ (uint64_t)run->violation;
}

/* An order file: "step p<process> <fault>" and "jump p<process> <ms>" lines. */
static bool write_order(const struct exec_run *run, int count, const char *path) {
    FILE *file = fopen(path, "we");
    if (file == NULL) return false;
    fprintf(file, "# leasesim --exec order: seed %llu, %d entries (docs/exec.md)\n", (unsigned long long)run->seed,
            count);
    for (int index = 0; index < count && index < run->record_count; index++) {
        const struct exec_entry *entry = &run->record[index];
        if (entry->jump)
            fprintf(file, "jump p%d %lld\n", entry->proc, (long long)entry->by);
        else
            fprintf(file, "step p%d %s\n", entry->proc, fault_names[entry->fault]);
    }
    return fclose(file) == 0;
}

static int load_order(struct exec_options *options) {
    FILE *file = fopen(options->order_path, "re");
    if (file == NULL) return usage_error("cannot read the order file", options->order_path);
    char line[128], kind[16], value[32];
    int proc, capacity = 0;
    while (fgets(line, sizeof line, file) != NULL) {
        if (line[0] == '#' || line[0] == '\n') continue;
        if (sscanf(line, "%15s p%d %31s", kind, &proc, value) != 3 || proc < 0 || proc >= EXEC_PROCS_MAX) {
            fclose(file);
            return usage_error("bad order line", line);
        }
        struct exec_entry entry = {.jump = strcmp(kind, "jump") == 0, .proc = proc};
        if (entry.jump) {
            if (!parse_ms(value, &entry.by)) entry.by = 0;
        } else {
            for (int fault = 0; fault < (int)(sizeof fault_names / sizeof fault_names[0]); fault++)
                if (strcmp(value, fault_names[fault]) == 0) entry.fault = (enum exec_fault)fault;
        }
        if (options->guide_count == capacity) {
            capacity = capacity ? capacity * 2 : 256;
            options->guide = realloc(options->guide, (size_t)capacity * sizeof *options->guide);
            if (options->guide == NULL) abort();
        }
        options->guide[options->guide_count++] = entry;
    }
    fclose(file);
    if (options->guide == NULL) options->guide = calloc(1, sizeof *options->guide); /* an empty order: canonical */
    return 0;
}

/* Shrinking: the violating run's recorded schedule is replayed with only its
 * first K choices kept (then the canonical order, no faults); the smallest K
 * that still violates the same invariant, by bisection. Leaves the run of
 * that K in *run; returns false (run restored to a replay of the seed) when
 * the recorded schedule does not reproduce the violation. */
/* Frees what a finished run holds on the heap (story, record, world). */
static void run_free(struct exec_run *run) {
    for (int index = 0; index < run->story_count; index++) free(run->story[index]);
    free(run->story);
    free(run->record);
    free(run->world);
    run->story = NULL;
    run->record = NULL;
    run->world = NULL;
    run->story_count = run->story_capacity = run->record_count = run->record_capacity = 0;
}

static bool shrink_violation(struct exec_run *run, struct exec_options *options, uint64_t seed) {
    /* The last bisection run that reproduced, kept whole: when it is the
     * run of the K found it is the run printed, not run a third time (with
     * --trace every run is run, since each writes its records). */
    static struct exec_run kept;
    int kept_k = -1;
    enum sim_invariant target = run->violation;
    int total = run->record_count;
    struct exec_entry *full = malloc((size_t)(total > 0 ? total : 1) * sizeof *full);
    if (full == NULL) return false;
    memcpy(full, run->record, (size_t)total * sizeof *full);
    remove_tree(run->dir);
    options->guide = full;
    options->guide_count = total;
    int low = 0, high = total;
    int known = total; /* from here on the replay is the full one's up to its violation */
    bool reproduced = false;
    for (int attempt = 0;; attempt++) {
        int k = attempt == 0 ? total : low + (high - low) / 2;
        if (attempt > 0 && low >= high) break;
        if (attempt > 0 && k >= known) { /* the same choices up to the violation: the same violation */
            high = k;
            continue;
        }
        options->guide_limit = k;
        run_reset(run);
        run->seed = seed;
        /* Only same-or-not counts here: an unviolated run's wedge probe could
         * only add bounded-wedge, not the target (unless it is the target). */
        options->wedge_probe_off = target != SIM_INVARIANT_BOUNDED_WEDGE;
        int verdict = run_seed(run);
        options->wedge_probe_off = false;
        bool same = verdict == 1 && run->violation == target;
        remove_tree(run->dir);
        if (attempt == 0 && same) {
            /* The entries up to the step after which the violation was seen
             * (and the clock jumps before it); later choices cannot undo it. */
            int steps = 0;
            for (known = 0; known < run->record_count && steps < run->violation_step; known++)
                steps += !run->record[known].jump;
        }
        if (same && run->trace == NULL) {
            run_free(&kept);
            kept = *run;
            kept_k = k;
            run->story = NULL; /* now kept's */
            run->record = NULL;
            run->world = NULL;
            run->story_count = run->story_capacity = run->record_count = run->record_capacity = 0;
        }
        if (attempt == 0) {
            reproduced = same;
            if (!same) break;
            continue;
        }
        if (same)
            high = k;
        else
            low = k + 1;
    }
    options->guide_limit = reproduced ? high : -1;
    if (!reproduced) options->guide = NULL;
    run_reset(run);
    run->seed = seed;
    if (reproduced && kept_k == high) { /* the run of that K: its story, record and picture */
        FILE *svg = run->svg;
        *run = kept;
        run->svg = svg;
        run->options = options;
        memset(&kept, 0, sizeof kept);
    } else {
        run_free(&kept);
        (void)run_seed(run); /* the run to print: the shrunk one, or the seed's own */
        remove_tree(run->dir);
    }
    if (reproduced && run->violation != target) { /* bisection assumed monotony: keep the full order */
        options->guide_limit = total;
        run_reset(run);
        run->seed = seed;
        (void)run_seed(run);
        remove_tree(run->dir);
    }
    return reproduced;
}

/* --strategy exhaustive: every schedule with at most B preemptions (a
 * preemption: a call of another process runs where the canonical order, the
 * lowest-numbered process with a held call, would have run its own), by
 * depth-first search over recorded schedules replayed as orders; no faults. */
static int explore(struct exec_run *run, struct exec_options *options) {
    struct node {
        int length, used; /* forced prefix length, preemptions in it */
        struct exec_entry *prefix;
    };
    int capacity = 1024, count = 0;
    struct node *stack = calloc((size_t)capacity, sizeof *stack);
    if (stack == NULL) return EX_SOFTWARE;
    stack[count++] = (struct node){.length = 0, .used = 0, .prefix = calloc(1, sizeof(struct exec_entry))};
    long schedules = 0, steps = 0;
    double started = seconds_now();
    int status = 0;
    while (count > 0 && schedules < options->max_schedules) {
        struct node node = stack[--count];
        options->guide = node.prefix;
        options->guide_count = node.length;
        options->guide_limit = -1;
        run_reset(run);
        run->seed = options->first;
        int verdict = run_seed(run);
        schedules++;
        steps += run->steps;
        remove_tree(run->dir);
        if (verdict > 1) {
            status = verdict == SIM_EXEC_EX_REFUSED ? verdict : EX_SOFTWARE;
            free(node.prefix);
            break;
        }
        if (verdict == 1) {
            char order_file[PATH_MAX];
            const char *temporary = getenv("TMPDIR");
            snprintf(order_file, sizeof order_file, "%s/leasesim-exec-exhaustive.order",
                     temporary && *temporary ? temporary : "/tmp");
            printf("exhaustive: %ld schedules, %ld lease syscalls, %.2fs, VIOLATION\n", schedules, steps,
                   seconds_now() - started);
            printf("VIOLATION exec='%s' invariant=%s (schedule %ld, %d preemption(s))\n  %s\n", options->template_text,
                   sim_invariant_name(run->violation), schedules, node.used, run->violation_text);
            int shown = run->violation_story > 0 ? run->violation_story : run->story_count;
            for (int index = shown > 120 ? shown - 120 : 0; index < shown; index++) printf("%s\n", run->story[index]);
            printf("  VIOLATION %s: %s\n", sim_invariant_name(run->violation), run->violation_text);
            bool written = write_order(run, node.length, order_file);
            options->strategy_name = "random";
            print_replay(options, options->first, written ? order_file : NULL, stdout);
            free(node.prefix);
            status = 1;
            break;
        }
        /* Children: one more preemption at a step past the forced prefix. */
        if (node.used < options->preemptions) {
            for (int step = run->record_count - 1; step >= node.length; step--) {
                const struct exec_entry *entry = &run->record[step];
                if (entry->jump) continue;
                for (int other = EXEC_PROCS_MAX - 1; other >= 0; other--) {
                    if (other == entry->proc || !(entry->held & (1u << other))) continue;
                    struct exec_entry *prefix = malloc((size_t)(step + 1) * sizeof *prefix);
                    if (prefix == NULL) break;
                    memcpy(prefix, run->record, (size_t)step * sizeof *prefix);
                    prefix[step] = (struct exec_entry){.proc = other};
                    for (int index = 0; index <= step; index++) prefix[index].fault = FAULT_NONE;
                    if (count == capacity) {
                        capacity *= 2;
                        stack = realloc(stack, (size_t)capacity * sizeof *stack);
                        if (stack == NULL) abort();
                    }
                    stack[count++] = (struct node){.length = step + 1, .used = node.used + 1, .prefix = prefix};
                }
            }
        }
        free(node.prefix);
    }
    bool complete = count == 0 && status == 0;
    for (int index = 0; index < count; index++) free(stack[index].prefix);
    free(stack);
    options->guide = NULL;
    if (status == 0)
        printf("exhaustive: %ld schedules, %ld lease syscalls, %.2fs, %s\n", schedules, steps, seconds_now() - started,
               complete ? "complete: no violation" : "incomplete (--max-schedules reached): no violation so far");
    if (status <= 1 && write_svg(run) != 0) {
        fprintf(stderr, "leasesim: cannot write %s\n", options->svg_path);
        status = EX_CANTCREAT;
    }
    run_reset(run);
    if (run->svg != NULL && fclose(run->svg) != 0) {
        fprintf(stderr, "leasesim: cannot write %s\n", options->svg_path);
        status = EX_CANTCREAT;
    }
    return status != 0 ? status : complete ? 0 : 1;
}

int sim_exec_main(int argc, char **argv) {
    static struct exec_options options = {.strategy_name = "random",
                                          .shrink = true,
                                          .pct_depth = 3,
                                          .preemptions = 2,
                                          .max_schedules = 2000,
                                          .pct_steps = EXEC_PCT_STEPS_ESTIMATE,
                                          .initial_dead = true};
    options.programs[0] = "kbSync";
    options.programs[1] = "backup";
    options.program_count = 2;
    options.argv0 = argv[0];
    int status = parse_exec_arguments(&options, argc, argv);
    if (status != 0) return status;
    options.guide_limit = -1;
    sys_table_init();
    if (options.order_path != NULL && (status = load_order(&options)) != 0) return status;
    if (getcwd(options.repo_root, sizeof options.repo_root) == NULL) return EX_OSERR;
    static const char *const faketime_libraries[] = {
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/faketime/libfaketime.so.1", "/usr/local/lib/faketime/libfaketime.so.1"};
    for (size_t index = 0; index < sizeof faketime_libraries / sizeof faketime_libraries[0]; index++)
        if (options.faketime_library == NULL && access(faketime_libraries[index], R_OK) == 0)
            options.faketime_library = faketime_libraries[index];
    options.clock_virtual = !options.clock_real_requested && options.faketime_library != NULL;
    const char *shim = getenv("LEASESIM_CLOCK_SHIM");
    if (shim != NULL && strcmp(shim, "on") != 0 && strcmp(shim, "off") != 0) {
        fprintf(stderr, "leasesim: LEASESIM_CLOCK_SHIM must be on or off, not '%s'\n", shim);
        return EX_USAGE;
    }
    options.clock_shim = shim == NULL || strcmp(shim, "on") == 0;
    bool needs_clock = options.clock_jump_permille > 0;
    for (int index = 0; index < options.event_count; index++)
        needs_clock = needs_clock || options.events[index].kind == EXEC_EVENT_CLOCK_JUMP;
    if (needs_clock && !options.clock_virtual) {
        fprintf(stderr, "leasesim: clock jumps need the virtual clock (libfaketime%s)\n",
                options.faketime_library == NULL ? " is not installed" : "; not --clock real");
        return EX_USAGE;
    }
    if (!options.clock_real_requested && options.faketime_library == NULL)
        printf("clock: libfaketime is not installed: the processes read the real clock (TTLs take real time)\n");
    if (!options.no_pid_namespace) setup_pid_space(&options);
    bool wants_reuse = options.pid_reuse_permille > 0;
    for (int index = 0; index < options.event_count; index++)
        wants_reuse = wants_reuse || options.events[index].kind == EXEC_EVENT_REUSE_PID;
    if (wants_reuse && !options.pid_reuse) printf("%s\n", options.pid_reuse_note);
    if (options.scenario_notes[0] != '\0')
        printf("scenario: %s (only the simulator's model applies these)\n", options.scenario_notes);
    /* Grandchildren (an adapter's subprocesses) are reaped here, not by init. */
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    static struct exec_run run;
    run.options = &options;
    if (options.trace_path != NULL) {
        run.trace = fopen(options.trace_path, "we");
        if (run.trace == NULL) {
            fprintf(stderr, "leasesim: cannot write %s: %s\n", options.trace_path, strerror(errno));
            return EX_CANTCREAT;
        }
        run.trace_buffer = open_memstream(&run.trace_text, &run.trace_size);
        if (run.trace_buffer == NULL) return EX_OSERR;
    }
    if (options.svg_path != NULL) {
        run.svg = fopen(options.svg_path, "we");
        if (run.svg == NULL) {
            fprintf(stderr, "leasesim: cannot write %s: %s\n", options.svg_path, strerror(errno));
            return EX_CANTCREAT;
        }
    }
    printf("leasesim: seeds %llu..%llu exec='%s' ", (unsigned long long)options.first, (unsigned long long)options.last,
           options.template_text);
    print_knobs(&options, stdout);
    if (strcmp(options.strategy_name, "exhaustive") == 0) {
        printf(" (every schedule with at most %d preemption(s), up to %d schedules; no faults)\n", options.preemptions,
               options.max_schedules);
        fflush(stdout);
        return explore(&run, &options);
    }
    printf(" determinism=%s\n", options.determinism ? "5-runs" : "off");
    fflush(stdout);
    double started = seconds_now();
    long total_steps = 0, ttl_takeovers = 0, clock_jumps = 0, pid_reuses = 0, clock_file_opens = 0;
    int violations = 0, exit_status = 0, also_seen[SIM_INVARIANT_COUNT] = {0};
    for (uint64_t seed = options.first;; seed++) {
        run_reset(&run);
        run.seed = seed;
        int verdict = run_seed(&run);
        if (verdict == SIM_EXEC_EX_REFUSED || verdict == 70) {
            if (verdict == 70)
                fprintf(stderr, "leasesim: seed %llu: cannot set up the run: %s\n", (unsigned long long)seed,
                        strerror(errno));
            exit_status = verdict == 70 ? EX_SOFTWARE : verdict;
            break;
        }
        total_steps += run.steps;
        ttl_takeovers += run.ttl_takeovers;
        clock_jumps += run.clock_jumps;
        pid_reuses += run.pid_reuses;
        clock_file_opens += run.clock_file_opens;
        for (int invariant = 0; invariant < SIM_INVARIANT_COUNT; invariant++)
            also_seen[invariant] += run.also_seen[invariant];
        if (options.determinism) {
            uint64_t first_hash = hash_story(&run);
            int same = 1;
            struct exec_run *first_copy = NULL;
            (void)first_copy;
            char keep_dir[PATH_MAX];
            snprintf(keep_dir, sizeof keep_dir, "%s", run.dir);
            remove_tree(keep_dir);
            for (int repeat = 1; repeat < 5; repeat++) {
                run_reset(&run);
                run.seed = seed;
                if (run_seed(&run) > 1) return EX_SOFTWARE;
                total_steps += run.steps;
                if (hash_story(&run) == first_hash) same++;
                remove_tree(run.dir);
            }
            printf("determinism seed=%llu same-log %d/5 steps=%d verdict=%s\n", (unsigned long long)seed, same,
                   run.steps, sim_invariant_name(run.violation));
            if (same != 5) {
                violations++;
                exit_status = 1;
            }
            if (seed == options.last) break;
            continue;
        }
        if (options.log_path != NULL && write_log(&run, options.log_path) != 0) {
            fprintf(stderr, "leasesim: cannot write %s: %s\n", options.log_path, strerror(errno));
            return EX_CANTCREAT;
        }
        if (verdict == 1) {
            violations++;
            exit_status = 1;
            printf("VIOLATION seed=%llu exec='%s' invariant=%s\n  %s\n", (unsigned long long)seed,
                   options.template_text, sim_invariant_name(run.violation), run.violation_text);
            printf("knobs (seed %llu): ", (unsigned long long)seed);
            print_knobs(&options, stdout);
            printf("\n");
            char order_file[PATH_MAX];
            order_file[0] = '\0';
            int original_steps = run.violation_step;
            if (options.shrink && options.guide == NULL && shrink_violation(&run, &options, seed)) {
                const char *temporary = getenv("TMPDIR");
                snprintf(order_file, sizeof order_file, "%s/leasesim-exec-seed%llu.order",
                         temporary && *temporary ? temporary : "/tmp", (unsigned long long)seed);
                if (!write_order(&run, options.guide_limit, order_file)) order_file[0] = '\0';
                printf("syscall sequence (shrunk: the violation after %d lease syscalls, %d in the seed's own "
                       "schedule; %d of its choices kept, then the canonical order):\n",
                       run.violation_step, original_steps, options.guide_limit);
            } else {
                printf("syscall sequence (%d lease syscalls up to the violation):\n", run.violation_step);
            }
            int shown = run.violation_story > 0 ? run.violation_story : run.story_count;
            int first_line = shown > 120 ? shown - 120 : 0;
            for (int index = first_line; index < shown; index++) printf("%s\n", run.story[index]);
            printf("  VIOLATION %s: %s\n", sim_invariant_name(run.violation), run.violation_text);
            print_replay(&options, seed, order_file[0] ? order_file : NULL, stdout);
            fflush(stdout);
            remove_tree(run.dir);
            break;
        }
        remove_tree(run.dir);
        if (seed == options.last) break;
    }
    double elapsed = seconds_now() - started;
    if (exit_status != SIM_EXEC_EX_REFUSED && exit_status != EX_SOFTWARE)
        printf("leasesim: %llu seed(s) run, %ld lease syscalls scheduled, %d violation(s), %.2fs (%.0f syscalls/s)\n",
               (unsigned long long)(run.seed - options.first + 1), total_steps, violations, elapsed,
               elapsed > 0 ? (double)total_steps / elapsed : 0.0);
    if (exit_status != SIM_EXEC_EX_REFUSED && exit_status != EX_SOFTWARE) {
        printf("leasesim: counters: ttl-takeover=%ld clock-jump=%ld pid-reuse=%ld clock-file-opens=%ld", ttl_takeovers,
               clock_jumps, pid_reuses, clock_file_opens);
        for (int invariant = 1; invariant < SIM_INVARIANT_COUNT; invariant++)
            if (also_seen[invariant] > 0)
                printf(" other-violation:%s=%d seed(s)", sim_invariant_name((enum sim_invariant)invariant),
                       also_seen[invariant]);
        printf("\n");
    }
    if (exit_status != SIM_EXEC_EX_REFUSED && exit_status != EX_SOFTWARE && write_svg(&run) != 0) {
        fprintf(stderr, "leasesim: cannot write %s\n", options.svg_path);
        return EX_CANTCREAT;
    }
    run_reset(&run);
    if (run.svg != NULL && fclose(run.svg) != 0) {
        fprintf(stderr, "leasesim: cannot write %s\n", options.svg_path);
        return EX_CANTCREAT;
    }
    if (run.trace_buffer != NULL) fclose(run.trace_buffer);
    free(run.trace_text);
    if (run.trace != NULL && fclose(run.trace) != 0) {
        fprintf(stderr, "leasesim: cannot write %s\n", options.trace_path);
        return EX_CANTCREAT;
    }
    return exit_status;
}
