/*
 * svg.c: a timeline a person reads at a glance: one lane per process, body
 * (lease held) as a bar, deferrals, crashes, kills, pid reuse and clock
 * jumps as marks, the violation as a red band. Time is compressed: each gap
 * between two events is drawn by the logarithm of its length, so a six-hour
 * wedge and a one-millisecond race fit on one page; the axis names the real
 * times.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "trace.h"

#define LANE_HEIGHT 46
#define LEFT_MARGIN 230
#define TOP_MARGIN 70
#define TIMES_MAX (SIM_STORY_MAX + 2)

struct axis {
    int count;
    int64_t times[TIMES_MAX];
    double xs[TIMES_MAX];
};

static void axis_build(const struct sim_world *world, struct axis *axis) {
    axis->count = 0;
    for (int index = 0; index < world->story_count && axis->count < TIMES_MAX - 1; index++) {
        int64_t at = world->story[index].at_ms;
        if (axis->count == 0 || axis->times[axis->count - 1] != at) axis->times[axis->count++] = at;
    }
    double x = LEFT_MARGIN + 20;
    for (int index = 0; index < axis->count; index++) {
        if (index > 0) x += 14 + 16 * log10(1.0 + (double)(axis->times[index] - axis->times[index - 1]));
        axis->xs[index] = x;
    }
}

static double axis_x(const struct axis *axis, int64_t at) {
    for (int index = 0; index < axis->count; index++)
        if (axis->times[index] >= at) return axis->xs[index];
    return axis->count > 0 ? axis->xs[axis->count - 1] + 30 : LEFT_MARGIN;
}

static void escape(FILE *out, const char *text) {
    for (; *text != '\0'; text++) {
        if (*text == '<') fputs("&lt;", out);
        else if (*text == '>') fputs("&gt;", out);
        else if (*text == '&') fputs("&amp;", out);
        else if ((unsigned char)*text >= 0x20) fputc(*text, out);
    }
}

static void format_time(int64_t ms, char *buffer, size_t size) {
    if (ms >= 3600000) snprintf(buffer, size, "%.1fh", (double)ms / 3600000.0);
    else if (ms >= 60000) snprintf(buffer, size, "%.1fmin", (double)ms / 60000.0);
    else if (ms >= 1000) snprintf(buffer, size, "%.1fs", (double)ms / 1000.0);
    else snprintf(buffer, size, "%lldms", (long long)ms);
}

static double lane_y(int process) {
    return TOP_MARGIN + process * LANE_HEIGHT;
}

static void draw_lanes(FILE *out, const struct sim_world *world, double width) {
    for (int index = 0; index < world->process_count; index++) {
        const struct sim_process *process = &world->processes[index];
        double y = lane_y(index);
        fprintf(out, "<rect x='0' y='%.0f' width='%.0f' height='%d' fill='%s'/>\n", y, width, LANE_HEIGHT,
                index % 2 ? "#f7f7f7" : "#ffffff");
        fprintf(out, "<text x='10' y='%.0f' font-size='14' font-weight='bold'>", y + 20);
        escape(out, process->label);
        fprintf(out, "</text><text x='10' y='%.0f' font-size='11' fill='#555'>pid %lld%s</text>\n", y + 36,
                (long long)process->pid, process->role == SIM_ROLE_GHOST ? " (dead before start)" : "");
    }
}

/* Alive spans (thin line) and bodies (bars), from the story. */
static void draw_spans(FILE *out, const struct sim_world *world, const struct axis *axis, double end_x) {
    double start[SIM_PROCESS_MAX], body[SIM_PROCESS_MAX];
    for (int index = 0; index < SIM_PROCESS_MAX; index++) start[index] = body[index] = -1;
    for (int index = 0; index < world->story_count; index++) {
        const struct sim_story *story = &world->story[index];
        if (story->process < 0 || story->process >= SIM_PROCESS_MAX) continue;
        double x = axis_x(axis, story->at_ms), y = lane_y(story->process) + LANE_HEIGHT / 2.0;
        int p = story->process;
        if (story->kind == SIM_STORY_SPAWN) start[p] = x;
        if (story->kind == SIM_STORY_BODY_ENTER) body[p] = x;
        bool ends = story->kind == SIM_STORY_EXIT || story->kind == SIM_STORY_CRASH || story->kind == SIM_STORY_KILL;
        if ((story->kind == SIM_STORY_BODY_EXIT || ends) && body[p] >= 0) {
            fprintf(out, "<rect x='%.1f' y='%.1f' width='%.1f' height='18' rx='3' fill='%s' opacity='0.85'/>\n",
                    body[p], y - 9, x - body[p] + 2, ends ? "#e8912d" : "#3a9a4b");
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
            fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#888' stroke-width='2' "
                         "stroke-dasharray='4 3'/>\n", start[p], y, end_x, y);
        if (body[p] >= 0)
            fprintf(out, "<rect x='%.1f' y='%.1f' width='%.1f' height='18' rx='3' fill='#e8912d'/>\n", body[p], y - 9,
                    end_x - body[p]);
    }
}

static void draw_mark(FILE *out, const struct sim_story *story, double x, double y, double height) {
    switch (story->kind) {
    case SIM_STORY_CRASH:
    case SIM_STORY_KILL:
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='22' fill='#c0392b' text-anchor='middle'>&#x2715;</text>\n", x,
                y + 8);
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='11' fill='#c0392b'>%s</text>\n", x + 8, y - 10,
                story->kind == SIM_STORY_KILL ? "killed" : "crashed");
        break;
    case SIM_STORY_PID_REUSE:
        fprintf(out, "<path d='M %.1f %.1f l 8 8 l -8 8 l -8 -8 z' fill='#8e44ad'/>\n", x, y - 8);
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='11' fill='#8e44ad'>", x + 10, y - 10);
        escape(out, story->text);
        fputs("</text>\n", out);
        break;
    case SIM_STORY_CLOCK_JUMP:
        fprintf(out, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%.1f' stroke='#2471a3' stroke-dasharray='6 4'/>\n", x,
                TOP_MARGIN, x, TOP_MARGIN + height);
        fprintf(out, "<text x='%.1f' y='%d' font-size='11' fill='#2471a3'>", x + 4, TOP_MARGIN - 4);
        escape(out, story->text);
        fputs("</text>\n", out);
        break;
    case SIM_STORY_RESULT:
        if (strstr(story->text, ": held") != NULL) {
            fprintf(out, "<circle cx='%.1f' cy='%.1f' r='7' fill='#f1c40f' stroke='#7d6608'/>\n", x, y);
            fprintf(out, "<text x='%.1f' y='%.1f' font-size='11' fill='#7d6608'>", x + 10, y + 18);
            const char *deferred = strstr(story->text, "Deferred:");
            escape(out, deferred != NULL ? deferred : "held");
            fputs("</text>\n", out);
        } else if (strstr(story->text, ": acquired") != NULL || strstr(story->text, ": inherited") != NULL) {
            fprintf(out, "<text x='%.1f' y='%.1f' font-size='11' fill='#1e6b2e'>", x + 2, y - 12);
            escape(out, strchr(story->text, ':') + 2);
            fputs("</text>\n", out);
        }
        break;
    default: break;
    }
}

int sim_svg_write(const struct sim_world *world, const char *path) {
    FILE *out = fopen(path, "w");
    if (out == NULL) return -1;
    struct axis axis;
    axis_build(world, &axis);
    double end_x = axis_x(&axis, INT64_MAX) + 40;
    double width = end_x + 760, height = world->process_count * LANE_HEIGHT;
    fprintf(out, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' font-family='sans-serif'>\n",
            width, height + TOP_MARGIN + 110);
    fprintf(out, "<rect width='100%%' height='100%%' fill='white'/>\n<text x='10' y='24' font-size='18' "
                 "font-weight='bold'>");
    escape(out, world->plan.name);
    fprintf(out, " - impl %s - seed %llu - %s</text>\n", world->config.ops->name, (unsigned long long)world->seed,
            world->violation ? "VIOLATION" : "all invariants hold");
    draw_lanes(out, world, width);
    draw_spans(out, world, &axis, end_x);
    for (int index = 0; index < world->story_count; index++) {
        const struct sim_story *story = &world->story[index];
        double x = axis_x(&axis, story->at_ms);
        double y = story->process >= 0 ? lane_y(story->process) + LANE_HEIGHT / 2.0 : TOP_MARGIN;
        if (story->kind == SIM_STORY_VIOLATION) {
            fprintf(out, "<rect x='%.1f' y='%d' width='8' height='%.0f' fill='#e74c3c' opacity='0.6'/>\n", x - 4,
                    TOP_MARGIN, height);
            fprintf(out, "<text x='10' y='46' font-size='13' fill='#c0392b'>");
            escape(out, story->text);
            fputs("</text>\n", out);
        } else {
            draw_mark(out, story, x, y, height);
        }
    }
    double axis_y = TOP_MARGIN + height + 18;
    double last_label_x = -100;
    char last_label[32] = "";
    for (int index = 0; index < axis.count; index++) {
        char label[32];
        /* A tick only where its label fits and says something new. */
        if (axis.xs[index] - last_label_x < 64) continue;
        format_time(axis.times[index], label, sizeof label);
        if (strcmp(label, last_label) == 0) continue;
        last_label_x = axis.xs[index];
        snprintf(last_label, sizeof last_label, "%s", label);
        fprintf(out, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%.0f' stroke='#ddd'/>\n", axis.xs[index], TOP_MARGIN,
                axis.xs[index], axis_y - 12);
        fprintf(out, "<text x='%.1f' y='%.0f' font-size='10' text-anchor='middle'>t=%s</text>\n", axis.xs[index],
                axis_y, label);
    }
    fprintf(out, "<text x='10' y='%.0f' font-size='11' fill='#333'>green bar: body under the lease; orange: body cut "
                 "short or hung (never finished); grey line: process alive (dashed: still alive at the end);</text>\n"
                 "<text x='10' y='%.0f' font-size='11' fill='#333'>&#x2715;: crash/kill; yellow dot: deferred (held); purple diamond: pid reuse; blue dashed: clock "
                 "jump; red band: violation. Time axis compressed (log of each gap).</text>\n",
            axis_y + 30, axis_y + 46);
    fputs("</svg>\n", out);
    return fclose(out) == 0 ? 0 : -1;
}
