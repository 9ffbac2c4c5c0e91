/*
 * alloc.c: jansson's allocator, tracked per simulated process. A crashed
 * process is never resumed, so whatever it had allocated would leak; each
 * block carries a list header so the scheduler can free a dead process's
 * blocks and ASan/valgrind stay clean. The scheduler says whose blocks
 * these are (sim_alloc_charge) before it resumes a process: the allocator
 * never asks who runs.
 */
#include <jansson.h>
#include <stdalign.h>
#include <stdlib.h>

#include "sim.h"
#include "alloc.h"

struct block {
    struct block *next;
    struct block *previous;
    void **list;
    alignas(16) unsigned char payload[];
};

static void *outside_list; /* allocations made by the scheduler itself */
static void **charged_list = &outside_list;

void sim_alloc_charge(void **list) {
    charged_list = list != NULL ? list : &outside_list;
}

static void **current_list(void) {
    return charged_list;
}

static void *tracked_malloc(size_t size) {
    struct block *block = malloc(sizeof *block + size);
    if (block == NULL) return NULL;
    void **list = current_list();
    block->list = list;
    block->previous = NULL;
    block->next = *list;
    if (block->next != NULL) block->next->previous = block;
    *list = block;
    return block->payload;
}

static void tracked_free(void *pointer) {
    if (pointer == NULL) return;
    struct block *block = (struct block *)((unsigned char *)pointer - offsetof(struct block, payload));
    if (block->previous != NULL)
        block->previous->next = block->next;
    else
        *block->list = block->next;
    if (block->next != NULL) block->next->previous = block->previous;
    free(block);
}

void sim_alloc_install(void) {
    json_set_alloc_funcs(tracked_malloc, tracked_free);
    json_object_seed(1);
}

void sim_alloc_free_all(void **list) {
    /* Bounded by the number of blocks: each round frees one. */
    while (*list != NULL) tracked_free(((struct block *)*list)->payload);
}
