/*
 * clock_page.h: the page through which leasesim --exec hands each process its
 * virtual clock (docs/exec.md, "Time"): the controller writes it, the clock
 * shim (clock_shim.c) reads it for libfaketime.
 */
#ifndef LEASESIM_CLOCK_PAGE_H
#define LEASESIM_CLOCK_PAGE_H

#define CLOCK_PAGE_TEXT 64

/* A sequence lock: odd while the controller writes text, even once the text
 * (a NUL-terminated line in libfaketime's timestamp-file format) is whole. */
struct clock_page {
    unsigned sequence;
    char text[CLOCK_PAGE_TEXT];
};

#endif
