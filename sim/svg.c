/*
 * svg.c: a timeline a person reads without the trace.
 *
 *  - The top lane is the lease file: one bar per version, coloured by the
 *    process that wrote it, labelled with its holder, token and expiry; a
 *    torn or empty file is hatched; the TTL shows as a thin line to the
 *    version's expiry. A dead holder's lease that still blocks runs (a wedge)
 *    says so on its bar, with how long and how many runs it blocked.
 *  - One lane per process, named as the messages name it (program and pid):
 *    its life as a line, its body as a bar, deferrals, crashes, kills, pid
 *    reuse as marks, each with a <title> tooltip.
 *  - A violation is drawn: the violating instant as a red band and arrows from
 *    the processes that removed or wrote the lease file just before it.
 *  - Time is linear; idle stretches longer than a tenth of the run (and over
 *    2 s) are cut and marked with their length, so a six-hour wedge and a
 *    millisecond race fit on one page. viewBox: the picture scales.
 * Output is a function of the world alone (no clock): same seed, same bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "mix.h"
#include "trace.h"

#define LANE_HEIGHT 44
#define FILE_LANE_HEIGHT 58
#define LEFT_MARGIN 250
#define TOP_MARGIN 96
#define PLOT_WIDTH 1000.0
#define BREAK_WIDTH 46.0
#define MIN_STEP_PX 5.0
#define BREAK_MIN_MS 2000
#define TIMES_MAX (SIM_STORY_MAX + SIM_HISTORY_MAX + 4)

/* The axis: sorted distinct event times and their x. */
struct axis {
    int count;
    int64_t times[TIMES_MAX];
    double xs[TIMES_MAX];
    bool broken_before[TIMES_MAX]; /* the gap before times[i] was cut */
};

static int compare_times(const void *left, const void *right) {
    int64_t a = *(const int64_t *)left, b = *(const int64_t *)right;
    return (a > b) - (a < b);
}

static void axis_build(const struct sim_world *world, struct axis *axis) {
    int count = 0;
    for (int index = 0; index < world->story_count && count < TIMES_MAX; index++)
        axis->times[count++] = world->story[index].at_ms;
    for (int index = 0; index < world->history_count && count < TIMES_MAX; index++)
        axis->times[count++] = world->history[index].at_ms;
    if (count == 0) axis->times[count++] = 0;
    qsort(axis->times, (size_t)count, sizeof axis->times[0], compare_times);
    int distinct = 0;
    for (int index = 0; index < count; index++)
        if (distinct == 0 || axis->times[distinct - 1] != axis->times[index])
            axis->times[distinct++] = axis->times[index];
    axis->count = distinct;
    int64_t total_ms = axis->times[distinct - 1] - axis->times[0];
    int64_t break_ms = total_ms / 10 > BREAK_MIN_MS ? total_ms / 10 : BREAK_MIN_MS;
    int64_t linear_ms = 0;
    for (int index = 1; index < distinct; index++) {
        int64_t gap = axis->times[index] - axis->times[index - 1];
        axis->broken_before[index] = gap > break_ms;
        if (!axis->broken_before[index]) linear_ms += gap;
    }
    double scale = linear_ms > 0 ? PLOT_WIDTH / (double)linear_ms : 0;
    double x = LEFT_MARGIN + 20;
    axis->broken_before[0] = false;
    for (int index = 0; index < distinct; index++) {
        if (index > 0) {
            double step = axis->broken_before[index] ? BREAK_WIDTH
                                                     : (double)(axis->times[index] - axis->times[index - 1]) * scale;
            x += step < MIN_STEP_PX ? MIN_STEP_PX : step;
        }
        axis->xs[index] = x;
    }
}

/* x of a time: exact at event times, linear between them (a cut gap is
 * spread over its break). */
static double axis_x(const struct axis *axis, int64_t at) {
    if (at <= axis->times[0]) return axis->xs[0];
    for (int index = 1; index < axis->count; index++) {
        if (at <= axis->times[index]) {
            double span = (double)(axis->times[index] - axis->times[index - 1]);
            double fraction = span > 0 ? (double)(at - axis->times[index - 1]) / span : 1;
            return axis->xs[index - 1] + fraction * (axis->xs[index] - axis->xs[index - 1]);
        }
    }
    return axis->xs[axis->count - 1] + 30;
}

double sim_svg_x(const struct sim_world *world, int64_t at_ms) {
    static struct axis axis;
    axis_build(world, &axis);
    return axis_x(&axis, at_ms);
}

static void escape(FILE *out, const char *text) {
    for (; *text != '\0'; text++) {
        if (*text == '<')
            fputs("&lt;", out);
        else if (*text == '>')
            fputs("&gt;", out);
        else if (*text == '&')
            fputs("&amp;", out);
        else if (*text == '\'')
            fputs("&#39;", out);
        else if ((unsigned char)*text >= 0x20)
            fputc(*text, out);
    }
}

static void format_duration(int64_t ms, char *buffer, size_t size) {
    if (ms >= 3600000)
        snprintf(buffer, size, "%.1f h", (double)ms / 3600000.0);
    else if (ms >= 60000)
        snprintf(buffer, size, "%.1f min", (double)ms / 60000.0);
    else if (ms >= 1000)
        snprintf(buffer, size, "%.1f s", (double)ms / 1000.0);
    else
        snprintf(buffer, size, "%" PRId64 " ms", ms);
}

static double lane_y(int process) {
    return TOP_MARGIN + FILE_LANE_HEIGHT + 10 + process * LANE_HEIGHT;
}

static const char *const palette[] = {"#3a7bd5", "#2e9d5b", "#b5651d", "#8e44ad",
                                      "#16a085", "#c0392b", "#7f8c8d", "#d35400"};

static const char *process_colour(int process) {
    return process < 0 ? "#999" : palette[process % (int)(sizeof palette / sizeof palette[0])];
}

/* "kbSync (orch.1, pid 305)": the program name as messages say it. */
/* In a mixed run, its implementation too: "kbSync (orch.1, pid 305, neo-v1)". */
static void process_name(const struct sim_process *process, char *buffer, size_t size) {
    char impl[48] = "";
    if (process->world->config.mixed) snprintf(impl, sizeof impl, ", %s", sim_process_impl_name(process));
    if (process->owner[0] != '\0' && strncmp(process->label, process->owner, strlen(process->owner)) != 0)
        snprintf(buffer, size, "%s (%s, pid %" PRId64 "%s)", process->owner, process->label, process->pid, impl);
    else
        snprintf(buffer, size, "%s (pid %" PRId64 "%s)", process->label, process->pid, impl);
}

/* A wedge on this version of the lease file (until_ms: when the next
 * version replaced it, exclusive; INT64_MAX for the last one): its holder
 * (the writer, or the worker a launcher wrote it for) died while it stood, and runs got held after the death. It lasts from the
 * death (or the write, when later) to the first of the replacement and the
 * lease's expiresAt (then "until its TTL": the dead holder's lease blocked
 * every run until it expired). */
static struct sim_wedge wedge_of(const struct sim_world *world, int version, int64_t until_ms) {
    const struct sim_history *entry = &world->history[version];
    struct sim_wedge wedge = {0};
    if (entry->holder < 0 || entry->inode < 0) return wedge;
    const struct sim_process *holder = &world->processes[entry->holder];
    if (holder->death_step < 0) return wedge;
    int64_t dead_from = holder->died_ms > entry->at_ms ? holder->died_ms : entry->at_ms;
    if (dead_from >= until_ms) return wedge;
    for (int index = 0; index < world->story_count; index++) {
        const struct sim_story *story = &world->story[index];
        /* in a mixed run, the runs of the implementation under test (a model's wedge is the model's) */
        bool judged =
            !world->config.mixed || (story->process >= 0 && sim_process_under_test(&world->processes[story->process]));
        if (story->kind == SIM_STORY_RESULT && story->at_ms >= dead_from && story->at_ms < until_ms &&
            strstr(story->text, ": held") != NULL && judged)
            wedge.runs++;
    }
    if (wedge.runs == 0) return wedge;
    int64_t end_ms = until_ms;
    if (entry->expires_ms != INT64_MAX) {
        int64_t expiry_at_ms = entry->expires_ms - entry->wall_ms + entry->at_ms;
        if (expiry_at_ms <= end_ms) end_ms = expiry_at_ms, wedge.until_ttl = true;
    }
    if (end_ms == INT64_MAX) end_ms = world->now_ms; /* never expires: as long as the run */
    wedge.ms = end_ms > dead_from ? end_ms - dead_from : 0;
    return wedge;
}

struct sim_wedge sim_wedge_longest(const struct sim_world *world) {
    struct sim_wedge longest = {0};
    for (int index = 0; index < world->history_count; index++) {
        int64_t until_ms = index + 1 < world->history_count ? world->history[index + 1].at_ms : INT64_MAX;
        struct sim_wedge wedge = wedge_of(world, index, until_ms);
        if (wedge.runs > 0 && (longest.runs == 0 || wedge.ms > longest.ms)) longest = wedge;
    }
    return longest;
}

void sim_wedge_describe(const struct sim_wedge *wedge, char *buffer, size_t size) {
    char length[32];
    format_duration(wedge->ms, length, sizeof length);
    snprintf(buffer, size, "wedged %s: the dead holder's lease blocked %d run%s %s", length, wedge->runs,
             wedge->runs == 1 ? "" : "s", wedge->until_ttl ? "until its TTL" : "until it was reclaimed");
}

static void draw_file_lane(FILE *out, const struct sim_world *world, const struct axis *axis, double end_x) {
    double top = TOP_MARGIN, middle = top + FILE_LANE_HEIGHT / 2.0;
    fprintf(out, "<rect x='0' y='%.0f' width='%.0f' height='%d' fill='#eef3fb'/>\n", top, end_x + 400,
            FILE_LANE_HEIGHT);
    fprintf(out, "<text x='10' y='%.0f' font-size='14' font-weight='bold'>the lease file</text>\n", top + 22);
    fprintf(out, "<text x='10' y='%.0f' font-size='11' fill='#555'>who holds it, token, expiry</text>\n", top + 38);
    double label_end = 0;
    for (int index = 0; index < world->history_count; index++) {
        const struct sim_history *entry = &world->history[index];
        if (entry->inode < 0) continue;
        bool last = index + 1 >= world->history_count;
        int64_t until_ms = last ? INT64_MAX : world->history[index + 1].at_ms;
        double x1 = axis_x(axis, entry->at_ms), x2 = last ? end_x : axis_x(axis, until_ms);
        if (x2 - x1 < 3) x2 = x1 + 3;
        const char *writer = entry->writer >= 0 ? world->processes[entry->writer].label : "initial";
        const char *holder = entry->holder >= 0 ? world->processes[entry->holder].label : "initial";
        bool torn = entry->token[0] == '\0';
        fprintf(out, "<g><title>%s lease written by %s%s%s at t=%" PRId64 " ms (step %" PRIu64 ")%s",
                torn ? "torn or empty" : "the", writer, entry->holder != entry->writer ? " for " : "",
                entry->holder != entry->writer ? holder : "", entry->at_ms, entry->step, torn ? "" : ", token ");
        if (!torn) escape(out, entry->token);
        fputs("</title>\n", out);
        fprintf(out, "<rect x='%.1f' y='%.1f' width='%.1f' height='22' rx='3' fill='%s' opacity='%s' %s/>\n", x1,
                middle - 11, x2 - x1, torn ? "url(#torn)" : process_colour(entry->writer), torn ? "1" : "0.75",
                torn ? "stroke='#777'" : "");
        fputs("</g>\n", out);
        char label[160];
        if (torn)
            snprintf(label, sizeof label, "torn/empty (%s)", holder);
        else
            snprintf(label, sizeof label, "%s %.8s", holder, entry->token);
        /* A label only where it does not run into the previous one (a torn
         * create and its write are a millisecond apart); the tooltip keeps it. */
        bool crowded = torn && !last && axis_x(axis, world->history[index + 1].at_ms) - x1 < 80;
        if (x1 >= label_end && !crowded) {
            fprintf(out, "<text x='%.1f' y='%.1f' font-size='10' fill='#123'>", x1 + 3, middle - 14);
            escape(out, label);
            fputs("</text>\n", out);
            label_end = x1 + 6.0 * (double)strlen(label) + 8;
        }
        if (!torn && entry->expires_ms != INT64_MAX) {
            int64_t expiry_at_ms = entry->expires_ms - entry->wall_ms + entry->at_ms;
            double ex = axis_x(axis, expiry_at_ms);
            if (ex > x1 && expiry_at_ms <= axis->times[axis->count - 1]) {
                fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='1.5'/>\n", x1,
                        middle + 16, ex, middle + 16, process_colour(entry->writer));
                fprintf(out, "<text x='%.1f' y='%.1f' font-size='9' fill='#555'>TTL ends</text>\n", ex + 2,
                        middle + 19);
            }
        }
        struct sim_wedge wedge = wedge_of(world, index, until_ms);
        if (wedge.runs > 0) {
            char text[160];
            sim_wedge_describe(&wedge, text, sizeof text);
            fprintf(out, "<text x='%.1f' y='%.1f' font-size='12' font-weight='bold' fill='#922'>", x1 + 3, middle + 7);
            escape(out, text);
            fputs("</text>\n", out);
        }
    }
}

static void draw_lanes(FILE *out, const struct sim_world *world, double width) {
    for (int index = 0; index < world->process_count; index++) {
        const struct sim_process *process = &world->processes[index];
        double y = lane_y(index);
        char name[160];
        process_name(process, name, sizeof name);
        fprintf(out, "<rect x='0' y='%.0f' width='%.0f' height='%d' fill='%s'/>\n", y, width, LANE_HEIGHT,
                index % 2 ? "#f7f7f7" : "#ffffff");
        fprintf(out, "<rect x='0' y='%.0f' width='6' height='%d' fill='%s'/>\n", y, LANE_HEIGHT, process_colour(index));
        fprintf(out, "<text x='12' y='%.0f' font-size='13' font-weight='bold'><title>", y + 19);
        escape(out, name);
        fputs("</title>", out);
        escape(out, name);
        fprintf(out, "</text><text x='12' y='%.0f' font-size='10' fill='#555'>%s</text>\n", y + 34,
                process->role == SIM_ROLE_GHOST             ? "dead before the run started"
                : process->role == SIM_ROLE_BYSTANDER       ? "bystander"
                : process->role == SIM_ROLE_BODY_CHILD      ? "a child of the body, in its process group"
                : process->role == SIM_ROLE_LAUNCHER        ? "launcher: acquires for its worker's pid, then exits"
                : strcmp(process->result_text, "none") == 0 ? ""
                                                            : process->result_text);
    }
}

/* Alive spans (thin line) and bodies (bars), from the story. */
static void draw_spans(FILE *out, const struct sim_world *world, const struct axis *axis, double end_x) {
    double start[SIM_PROCESS_MAX], body[SIM_PROCESS_MAX];
    int64_t body_at[SIM_PROCESS_MAX];
    for (int index = 0; index < SIM_PROCESS_MAX; index++) start[index] = body[index] = -1, body_at[index] = 0;
    for (int index = 0; index < world->story_count; index++) {
        const struct sim_story *story = &world->story[index];
        if (story->process < 0 || story->process >= SIM_PROCESS_MAX) continue;
        double x = axis_x(axis, story->at_ms), y = lane_y(story->process) + LANE_HEIGHT / 2.0;
        int p = story->process;
        if (story->kind == SIM_STORY_SPAWN) start[p] = x;
        if (story->kind == SIM_STORY_BODY_ENTER) body[p] = x, body_at[p] = story->at_ms;
        bool ends = story->kind == SIM_STORY_EXIT || story->kind == SIM_STORY_CRASH || story->kind == SIM_STORY_KILL;
        if ((story->kind == SIM_STORY_BODY_EXIT || ends) && body[p] >= 0) {
            fprintf(out,
                    "<rect x='%.1f' y='%.1f' width='%.1f' height='16' rx='3' fill='%s' opacity='0.9'><title>body "
                    "from t=%" PRId64 " ms to t=%" PRId64 " ms%s</title></rect>\n",
                    body[p], y - 8, x - body[p] + 2, ends ? "#e8912d" : "#3a9a4b", body_at[p], story->at_ms,
                    ends ? " (cut short)" : "");
            body[p] = -1;
        }
        if (ends && start[p] >= 0) {
            fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#888' stroke-width='2'/>\n", start[p],
                    y, x, y);
            start[p] = -1;
        }
    }
    for (int p = 0; p < world->process_count && p < SIM_PROCESS_MAX; p++) {
        double y = lane_y(p) + LANE_HEIGHT / 2.0;
        if (start[p] >= 0)
            fprintf(out,
                    "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#888' stroke-width='2' "
                    "stroke-dasharray='4 3'/>\n",
                    start[p], y, end_x, y);
        if (body[p] >= 0)
            fprintf(out,
                    "<rect x='%.1f' y='%.1f' width='%.1f' height='16' rx='3' fill='#e8912d'><title>body still "
                    "running at the end</title></rect>\n",
                    body[p], y - 8, end_x - body[p]);
    }
}

static void draw_mark(FILE *out, const struct sim_story *story, double x, double y) {
    fputs("<g><title>", out);
    escape(out, story->text);
    fputs("</title>", out);
    switch (story->kind) {
    case SIM_STORY_CRASH:
    case SIM_STORY_KILL:
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='20' fill='#c0392b' text-anchor='middle'>&#x2715;</text>", x,
                y + 7);
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='10' fill='#c0392b'>%s</text>", x + 8, y - 9,
                story->kind == SIM_STORY_KILL ? "killed" : "crashed");
        break;
    case SIM_STORY_PID_REUSE:
        fprintf(out, "<path d='M %.1f %.1f l 7 7 l -7 7 l -7 -7 z' fill='#8e44ad'/>", x, y - 7);
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='10' fill='#8e44ad'>pid reused</text>", x + 9, y - 9);
        break;
    case SIM_STORY_CLOCK_JUMP:
        fprintf(out, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%.1f' stroke='#2471a3' stroke-dasharray='6 4'/>", x,
                TOP_MARGIN, x, y);
        fprintf(out, "<text x='%.1f' y='%d' font-size='10' fill='#2471a3'>clock jump</text>", x + 4, TOP_MARGIN - 4);
        break;
    case SIM_STORY_RESULT:
        if (strstr(story->text, ": held") != NULL) {
            fprintf(out, "<circle cx='%.1f' cy='%.1f' r='6' fill='#f1c40f' stroke='#7d6608'/>", x, y);
            fprintf(out, "<text x='%.1f' y='%.1f' font-size='10' fill='#7d6608'>deferred</text>", x + 8, y + 15);
        } else if (strstr(story->text, ": acquired") != NULL || strstr(story->text, ": inherited") != NULL) {
            fprintf(out, "<text x='%.1f' y='%.1f' font-size='10' fill='#1e6b2e'>", x + 2, y - 10);
            escape(out, strchr(story->text, ':') + 2);
            fputs("</text>", out);
        }
        break;
    default: break;
    }
    fputs("</g>\n", out);
}

/* The violation: the instant, and arrows from the processes that changed the
 * lease file in the last steps before it. */
static void draw_violation(FILE *out, const struct sim_world *world, const struct axis *axis,
                           const struct sim_story *story, double height) {
    double x = axis_x(axis, story->at_ms);
    fprintf(out, "<rect x='%.1f' y='%d' width='10' height='%.0f' fill='#e74c3c' opacity='0.35'><title>", x - 5,
            TOP_MARGIN, height);
    escape(out, story->text);
    fputs("</title></rect>\n", out);
    int drawn = 0;
    for (int index = world->history_count - 1; index >= 0 && drawn < 3; index--) {
        const struct sim_history *entry = &world->history[index];
        if (entry->step > story->step) continue;
        int actor = entry->writer;
        bool removed = entry->inode < 0;
        /* A removal names no writer: the remover is the previous version's
         * actor in the story; show the arrow from the file lane's top. */
        if (actor < 0 && !removed) continue;
        double ax = axis_x(axis, entry->at_ms);
        double from_y = actor >= 0 ? lane_y(actor) + 6 : TOP_MARGIN + FILE_LANE_HEIGHT + 30;
        fprintf(out,
                "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#c0392b' stroke-width='2' "
                "marker-end='url(#arrow)'/>\n",
                ax, from_y, ax, TOP_MARGIN + FILE_LANE_HEIGHT / 2.0 + 12);
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='10' font-weight='bold' fill='#c0392b'>%s</text>\n", ax + 4,
                from_y - 3 - 12.0 * drawn,
                removed                   ? "remove"
                : entry->token[0] == '\0' ? "torn create"
                                          : "write");
        drawn++;
    }
}

static void draw_axis(FILE *out, const struct axis *axis, double axis_y) {
    double last_label_x = -100, last_break_x = -100;
    char last_label[32] = "";
    for (int index = 0; index < axis->count; index++) {
        double x = axis->xs[index];
        if (axis->broken_before[index]) {
            double gap_x = axis->xs[index - 1] + (x - axis->xs[index - 1]) / 2;
            char length[32];
            format_duration(axis->times[index] - axis->times[index - 1], length, sizeof length);
            fprintf(out, "<path d='M %.1f %.0f l 6 -8 l 6 16 l 6 -8' fill='none' stroke='#333'/>\n", gap_x - 9,
                    axis_y - 22);
            if (gap_x - last_break_x >= 90)
                fprintf(out,
                        "<text x='%.1f' y='%.0f' font-size='10' text-anchor='middle' fill='#333'>&#8776; %s "
                        "cut</text>\n",
                        gap_x, axis_y + 14, length);
            last_break_x = gap_x;
        }
        if (x - last_label_x < 70) continue;
        char label[32];
        /* Exact below a minute: the picture's scale is often milliseconds. */
        if (axis->times[index] < 60000)
            snprintf(label, sizeof label, "%" PRId64 " ms", axis->times[index]);
        else
            format_duration(axis->times[index], label, sizeof label);
        if (strcmp(label, last_label) == 0) continue;
        snprintf(last_label, sizeof last_label, "%s", label);
        last_label_x = x;
        fprintf(out, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%.0f' stroke='#e2e2e2'/>\n", x, TOP_MARGIN, x, axis_y - 12);
        fprintf(out, "<text x='%.1f' y='%.0f' font-size='10' text-anchor='middle'>t=%s</text>\n", x, axis_y, label);
    }
}

/* The title: the verdict, and a wedge with its length when there was one
 * (beside a violation too: a wedge is a finding of its own). */
static void draw_title(FILE *out, const struct sim_world *world) {
    fputs("<text x='10' y='26' font-size='18' font-weight='bold'>", out);
    escape(out, world->plan.name);
    /* A world filled outside the simulator (leasesim --exec) may name no implementation. */
    char mix[256];
    sim_mix_name(world, mix, sizeof mix);
    fputs(" - impl ", out);
    escape(out, mix);
    fprintf(out, " - seed %" PRIu64 " - ", world->seed);
    struct sim_wedge wedge = sim_wedge_longest(world);
    if (world->violation != SIM_INVARIANT_NONE)
        fprintf(out, "VIOLATION: %s", sim_invariant_name(world->violation));
    else
        fputs(wedge.runs > 0 ? "invariants hold, but " : "all invariants hold", out);
    if (wedge.runs > 0) {
        char text[160];
        sim_wedge_describe(&wedge, text, sizeof text);
        if (world->violation != SIM_INVARIANT_NONE) fputs("; ", out);
        fputs("WEDGED", out);
        escape(out, text + strlen("wedged"));
    }
    fputs("</text>\n", out);
}

void sim_svg_emit(const struct sim_world *world, FILE *out) {
    static struct axis axis; /* large: kept off the stack */
    axis_build(world, &axis);
    double end_x = axis.xs[axis.count - 1] + 60;
    double width = end_x + 420, height = FILE_LANE_HEIGHT + 10 + world->process_count * LANE_HEIGHT;
    double axis_y = TOP_MARGIN + height + 18, total_height = axis_y + 90;
    fprintf(out,
            "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 %.0f %.0f' width='%.0f' height='%.0f' "
            "font-family='sans-serif' id='timeline'>\n",
            width, total_height, width, total_height);
    fputs("<defs><pattern id='torn' width='6' height='6' patternUnits='userSpaceOnUse' patternTransform='rotate(45)'>"
          "<rect width='6' height='6' fill='#ddd'/><line x1='0' y1='0' x2='0' y2='6' stroke='#999' stroke-width='3'/>"
          "</pattern><marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' markerHeight='7' "
          "orient='auto'><path d='M 0 0 L 10 5 L 0 10 z' fill='#c0392b'/></marker></defs>\n",
          out);
    fputs("<rect width='100%' height='100%' fill='white'/>\n", out);
    draw_title(out, world);
    if (world->violation != SIM_INVARIANT_NONE) {
        fputs("<text x='10' y='48' font-size='12' fill='#c0392b'>", out);
        escape(out, world->violation_text);
        fputs("</text>\n", out);
    }
    draw_file_lane(out, world, &axis, end_x);
    draw_lanes(out, world, width);
    draw_spans(out, world, &axis, end_x);
    for (int index = 0; index < world->story_count; index++) {
        const struct sim_story *story = &world->story[index];
        double x = axis_x(&axis, story->at_ms);
        double y = story->process >= 0 ? lane_y(story->process) + LANE_HEIGHT / 2.0 : TOP_MARGIN;
        if (story->kind == SIM_STORY_VIOLATION)
            draw_violation(out, world, &axis, story, height);
        else
            draw_mark(out, story, x, y);
    }
    draw_axis(out, &axis, axis_y);
    fprintf(out,
            "<text x='10' y='%.0f' font-size='11' fill='#333'>Top lane: the lease file (bar per version, coloured by "
            "its writer; hatched: torn or empty; thin line: until its TTL ends). Green bar: a body under the lease; "
            "orange: cut short or never finished.</text>\n"
            "<text x='10' y='%.0f' font-size='11' fill='#333'>Yellow dot: deferred (the two lines \"Deferred: "
            "heavy-maintenance lease held by ...\"); &#x2715;: crash or kill; purple: pid "
            "reuse; blue dashed: clock jump; red band and arrows: the violation and the changes of the file that "
            "made it.</text>\n"
            "<text x='10' y='%.0f' font-size='11' fill='#333'>Time is linear; &#8776; marks a cut idle stretch and "
            "its length. Hover any mark for its event.</text>\n",
            axis_y + 34, axis_y + 50, axis_y + 66);
    fputs("</svg>\n", out);
}

int sim_svg_write(const struct sim_world *world, const char *path) {
    FILE *out = fopen(path, "w");
    if (out == NULL) return -1;
    sim_svg_emit(world, out);
    return (ferror(out) | fclose(out)) == 0 ? 0 : -1;
}
