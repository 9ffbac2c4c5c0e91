/*
 * coroutine.h: one stack per simulated process. Started once with
 * makecontext/swapcontext, then switched with _setjmp/_longjmp (no signal
 * mask syscall per switch), which keeps a step well under a microsecond.
 */
#ifndef SIM_COROUTINE_H
#define SIM_COROUTINE_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <ucontext.h>

typedef void (*sim_coroutine_fn)(void *argument);

struct sim_coroutine {
    ucontext_t context;
    jmp_buf self;
    jmp_buf caller;
    void *stack;
    size_t stack_size;
    sim_coroutine_fn function;
    void *argument;
    /* AddressSanitizer's view of the stacks (see coroutine.c); unused otherwise. */
    void *fake_stack;
    void *caller_fake_stack;
    const void *caller_bottom;
    size_t caller_size;
    bool fresh;    /* not entered yet: the first resume uses swapcontext */
    bool finished; /* function returned */
    bool parked;   /* its trampoline waits for the next function (the last one returned) */
};

/* Allocates the stack (once; reused by every later start). 0 or -ENOMEM. */
int sim_coroutine_init(struct sim_coroutine *coroutine, size_t stack_size);
void sim_coroutine_destroy(struct sim_coroutine *coroutine);
/* Prepares a run of function on the coroutine's stack: after a run that
 * returned, on the parked trampoline; an abandoned earlier run is simply
 * forgotten (a fresh context on the same stack). */
void sim_coroutine_start(struct sim_coroutine *coroutine, sim_coroutine_fn function, void *argument);
/* From the scheduler: runs the coroutine until it yields or returns. */
void sim_coroutine_resume(struct sim_coroutine *coroutine);
/* From inside the coroutine: back to whoever resumed it. */
void sim_coroutine_yield(struct sim_coroutine *coroutine);

#endif
