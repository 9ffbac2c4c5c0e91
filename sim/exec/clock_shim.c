/*
 * clock_shim.c: preloaded before libfaketime into every process that
 * leasesim --exec runs under a virtual clock (docs/exec.md, "Time").
 *
 * libfaketime, told to re-read its timestamp file at every clock read
 * (FAKETIME_NO_CACHE), does it with fopen, fgets and fclose: open, fstat,
 * read and close, four system calls, each a notification the controller must
 * answer. A Python start reads its monotonic clock hundreds of times (at
 * every lock it takes), so those round trips were three quarters of its
 * notifications. This shim answers libfaketime's fopen of that one file from
 * a page the controller shares with the process (LEASESIM_CLOCK_PAGE): the
 * same text, copied under a sequence lock, served through fmemopen; no system
 * call. Any other fopen, and this one when the page is missing, goes to the C
 * library's fopen.
 *
 * Hand-written because no package offers it: libfaketime keeps its time
 * source in a file or the environment only. It is built without the
 * sanitizers or coverage of the build it belongs to (it runs inside the
 * processes under test, which have neither) and leasesim carries it inside
 * itself (sim/exec/clock_shim_blob.S) and writes it into each run's folder.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "clock_page.h"

static FILE *(*libc_fopen)(const char *, const char *);
static const char *clock_path;
static const struct clock_page *page;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void) {
    void *symbol = dlsym(RTLD_NEXT, "fopen");
    memcpy(&libc_fopen, &symbol, sizeof libc_fopen); /* ISO C has no object-to-function cast */
    clock_path = getenv("FAKETIME_TIMESTAMP_FILE");
    const char *page_path = getenv("LEASESIM_CLOCK_PAGE");
    if (clock_path == NULL || page_path == NULL) return;
    int fd = open(page_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    void *mapping = mmap(NULL, sizeof(struct clock_page), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (mapping != MAP_FAILED) page = mapping;
}

/* The page's text as one consistent copy: the controller writes it only while
 * every process is paused, and the lock makes a reader that ran anyway (a
 * thread woken by a real-time event) read again instead of a torn value. */
static FILE *page_stream(void) {
    static __thread char copy[CLOCK_PAGE_TEXT];
    for (int tries = 0; tries < 100000; tries++) {
        unsigned before = __atomic_load_n(&page->sequence, __ATOMIC_ACQUIRE);
        if (before & 1U) continue;
        memcpy(copy, (const char *)page->text, sizeof copy);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&page->sequence, __ATOMIC_RELAXED) != before) continue;
        copy[sizeof copy - 1] = '\0';
        size_t length = strlen(copy);
        return length > 0 ? fmemopen(copy, length, "r") : NULL;
    }
    return NULL; /* never settled: the file itself */
}

FILE *fopen(const char *path, const char *mode) {
    pthread_once(&once, init);
    if (page != NULL && path != NULL && mode != NULL && mode[0] == 'r' && strcmp(path, clock_path) == 0) {
        FILE *stream = page_stream();
        if (stream != NULL) return stream;
    }
    return libc_fopen != NULL ? libc_fopen(path, mode) : NULL;
}
