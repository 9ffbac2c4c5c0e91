/*
 * trace.h: the record layer: JSON Lines trace and hash, the story, the SVG
 * timeline (trace.c, svg.c).
 */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include "sim.h"

void sim_trace_op(struct sim_process *process, enum sim_op op, const char *path, int status, int64_t value);
/* Sees every traced operation first when set (sim/history.c under --history); NULL: nobody. */
extern void (*sim_trace_observer)(struct sim_process *process, enum sim_op op, const char *path, int status,
                                  int64_t value);
/* The trace's first record: what produced it (sim/README.md, "Trace schema"). */
void sim_trace_header(struct sim_world *world, uint64_t seed);
void sim_story(struct sim_world *world, enum sim_story_kind kind, int process, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
const char *sim_story_kind_name(enum sim_story_kind kind);
void sim_story_print(const struct sim_world *world, FILE *out, int limit);
int sim_svg_write(const struct sim_world *world, const char *path);
/* The same picture into an open stream (the HTML timeline embeds it). */
void sim_svg_emit(const struct sim_world *world, FILE *out);
/* The time axis the picture uses: x of a true time (ms). */
double sim_svg_x(const struct sim_world *world, int64_t at_ms);
/* A wedge: a dead holder's lease that kept blocking runs (held results
 * after its writer died); ms from the death to the replacement or the
 * lease's expiry (until_ttl), runs: the held results in between. */
struct sim_wedge {
    int64_t ms;
    int runs;
    bool until_ttl;
};
/* The run's longest wedge (runs 0: none). */
struct sim_wedge sim_wedge_longest(const struct sim_world *world);
/* "wedged 6.0 h: the dead holder's lease blocked 1 run until its TTL". */
void sim_wedge_describe(const struct sim_wedge *wedge, char *buffer, size_t size);
/* An interactive, self-contained HTML timeline (sim/html.c). */
int sim_html_write(const struct sim_world *world, const char *path);

#endif
