/*
 * coroutine.c: see coroutine.h. _setjmp/_longjmp do not save the signal
 * mask, so a switch costs a few dozen nanoseconds; swapcontext is used only
 * for the first entry onto a new stack.
 */
#include "coroutine.h"

#include <errno.h>
#include <stdlib.h>

/* Under AddressSanitizer every stack switch is announced, so ASan knows which
 * stack it is on (no false positives, no "ignoring __asan_handle_no_return"). */
#if defined(__SANITIZE_ADDRESS__)
#define SIM_COROUTINE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_COROUTINE_ASAN 1
#endif
#endif

#ifdef SIM_COROUTINE_ASAN
#include <sanitizer/common_interface_defs.h>
#define START_SWITCH(save, bottom, size) __sanitizer_start_switch_fiber((save), (bottom), (size))
#define FINISH_SWITCH(save, bottom, size) __sanitizer_finish_switch_fiber((save), (bottom), (size))
#else
#define START_SWITCH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define FINISH_SWITCH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

static struct sim_coroutine *starting; /* makecontext passes ints only */

int sim_coroutine_init(struct sim_coroutine *coroutine, size_t stack_size) {
    coroutine->stack = malloc(stack_size);
    if (coroutine->stack == NULL) return -ENOMEM;
    coroutine->stack_size = stack_size;
    coroutine->finished = true;
    coroutine->fresh = false;
    coroutine->parked = false;
    return 0;
}

void sim_coroutine_destroy(struct sim_coroutine *coroutine) {
    free(coroutine->stack);
    coroutine->stack = NULL;
}

/* The stack's one frame: runs each function given to it, then parks (yields
 * with nothing left to run) until the next start gives it another. A start
 * after a run that returned reuses the stack by _longjmp; getcontext and
 * swapcontext, two signal-mask syscalls, only after a run was abandoned
 * (a crash) or for the first. */
static void trampoline(void) {
    struct sim_coroutine *coroutine = starting;
    FINISH_SWITCH(NULL, &coroutine->caller_bottom, &coroutine->caller_size);
    for (;;) {
        coroutine->function(coroutine->argument);
        coroutine->finished = true;
        coroutine->parked = true;
        sim_coroutine_yield(coroutine);
        coroutine->parked = false;
    }
}

void sim_coroutine_start(struct sim_coroutine *coroutine, sim_coroutine_fn function, void *argument) {
    coroutine->function = function;
    coroutine->argument = argument;
    coroutine->finished = false;
    if (coroutine->parked) {
        coroutine->fresh = false; /* the next resume continues the parked trampoline */
        return;
    }
    coroutine->fresh = true;
    getcontext(&coroutine->context);
    coroutine->context.uc_stack.ss_sp = coroutine->stack;
    coroutine->context.uc_stack.ss_size = coroutine->stack_size;
    coroutine->context.uc_link = NULL;
    makecontext(&coroutine->context, trampoline, 0);
}

void sim_coroutine_resume(struct sim_coroutine *coroutine) {
    if (coroutine->finished) return;
    if (_setjmp(coroutine->caller) != 0) {
        FINISH_SWITCH(coroutine->caller_fake_stack, NULL, NULL);
        return;
    }
    START_SWITCH(&coroutine->caller_fake_stack, coroutine->stack, coroutine->stack_size);
    if (coroutine->fresh) {
        ucontext_t here;
        coroutine->fresh = false;
        starting = coroutine;
        swapcontext(&here, &coroutine->context);
        return; /* not reached: the coroutine always comes back by _longjmp */
    }
    _longjmp(coroutine->self, 1);
}

void sim_coroutine_yield(struct sim_coroutine *coroutine) {
    if (_setjmp(coroutine->self) == 0) {
        START_SWITCH(&coroutine->fake_stack, coroutine->caller_bottom, coroutine->caller_size);
        _longjmp(coroutine->caller, 1);
    }
    FINISH_SWITCH(coroutine->fake_stack, &coroutine->caller_bottom, &coroutine->caller_size);
}
