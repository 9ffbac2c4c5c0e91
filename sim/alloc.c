/*
 * alloc.c: jansson's allocator, an arena per simulated process. A crashed
 * process is never resumed, so whatever it had allocated would leak; the
 * scheduler frees a process's whole arena when it ends (sim_alloc_free_all)
 * and ASan/valgrind stay clean. The scheduler says whose arena serves the
 * next allocations (sim_alloc_charge) before it resumes a process: the
 * allocator never asks who runs.
 *
 * An arena carves blocks of a few size classes out of 64 KB chunks and
 * keeps a free list per class (jansson frees most of what it allocates
 * within the same call, so the lists stay short); larger blocks come from
 * malloc on a list of their own. Ending a process gives its chunks back to
 * a pool the next processes reuse: no malloc/free per JSON value. Under
 * AddressSanitizer every block is a malloc of its own (tracked on a list),
 * so use-after-free and overflows inside jansson stay visible.
 */
#include <jansson.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "alloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define SIM_ALLOC_TRACKED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_ALLOC_TRACKED 1
#endif
#endif

/* A block's header: which arena and class it belongs to (class CLASS_LARGE:
 * a malloc of its own, on the arena's large list). */
struct block {
    struct arena *arena;
    struct block *next; /* free list, or the large list */
    struct block *previous;
    unsigned class_index;
    alignas(16) unsigned char payload[];
};

#define CLASS_COUNT 9 /* 32 .. 8192 bytes of payload */
#define CLASS_LARGE CLASS_COUNT
#define CHUNK_BYTES (64 * 1024)

struct chunk {
    struct chunk *next;
    size_t used;
    alignas(16) unsigned char bytes[CHUNK_BYTES];
};

struct arena {
    struct chunk *chunks;
    struct block *free[CLASS_COUNT];
    struct block *large;
    struct arena *next_spare;
};

static struct chunk *spare_chunks; /* chunks of ended arenas */
static struct arena *spare_arenas; /* arenas of ended processes */
static void *outside_arena;        /* allocations made by the scheduler itself */
static void **charged = &outside_arena;

void sim_alloc_charge(void **list) {
    charged = list != NULL ? list : &outside_arena;
}

#ifndef SIM_ALLOC_TRACKED /* the tracked build gives every block its own malloc */
static unsigned class_of(size_t size) {
    unsigned class_index = 0;
    size_t capacity = 32;
    while (capacity < size && class_index < CLASS_COUNT) capacity <<= 1, class_index++;
    return class_index;
}

static size_t class_bytes(unsigned class_index) {
    return (size_t)32 << class_index;
}
#endif

static struct arena *arena_of(void **slot) {
    if (*slot != NULL) return *slot;
    struct arena *arena = spare_arenas;
    if (arena != NULL)
        spare_arenas = arena->next_spare;
    else if ((arena = malloc(sizeof *arena)) == NULL)
        return NULL;
    memset(arena, 0, sizeof *arena);
    *slot = arena;
    return arena;
}

static void *large_block(struct arena *arena, size_t size) {
    struct block *block = malloc(sizeof *block + size);
    if (block == NULL) return NULL;
    block->arena = arena;
    block->class_index = CLASS_LARGE;
    block->previous = NULL;
    block->next = arena->large;
    if (block->next != NULL) block->next->previous = block;
    arena->large = block;
    return block->payload;
}

static void *arena_malloc(size_t size) {
    struct arena *arena = arena_of(charged);
    if (arena == NULL) return NULL;
#ifdef SIM_ALLOC_TRACKED
    return large_block(arena, size);
#else
    unsigned class_index = class_of(size);
    if (class_index >= CLASS_COUNT) return large_block(arena, size);
    struct block *block = arena->free[class_index];
    if (block != NULL) {
        arena->free[class_index] = block->next;
        return block->payload;
    }
    size_t need = sizeof *block + class_bytes(class_index);
    struct chunk *chunk = arena->chunks;
    if (chunk == NULL || chunk->used + need > CHUNK_BYTES) {
        chunk = spare_chunks;
        if (chunk != NULL)
            spare_chunks = chunk->next;
        else if ((chunk = malloc(sizeof *chunk)) == NULL)
            return NULL;
        chunk->used = 0;
        chunk->next = arena->chunks;
        arena->chunks = chunk;
    }
    block = (struct block *)(chunk->bytes + chunk->used);
    chunk->used += need;
    block->arena = arena;
    block->class_index = class_index;
    return block->payload;
#endif
}

static void arena_free(void *pointer) {
    if (pointer == NULL) return;
    struct block *block = (struct block *)((unsigned char *)pointer - offsetof(struct block, payload));
    struct arena *arena = block->arena;
    if (block->class_index == CLASS_LARGE) {
        if (block->previous != NULL)
            block->previous->next = block->next;
        else
            arena->large = block->next;
        if (block->next != NULL) block->next->previous = block->previous;
        free(block);
        return;
    }
    block->next = arena->free[block->class_index];
    arena->free[block->class_index] = block;
}

void sim_alloc_install(void) {
    json_set_alloc_funcs(arena_malloc, arena_free);
    json_object_seed(1);
}

void sim_alloc_free_all(void **list) {
    struct arena *arena = *list;
    if (arena == NULL) return;
    /* Bounded by the number of large blocks and chunks: each round frees one. */
    while (arena->large != NULL) arena_free(arena->large->payload);
    while (arena->chunks != NULL) {
        struct chunk *chunk = arena->chunks;
        arena->chunks = chunk->next;
        chunk->next = spare_chunks;
        spare_chunks = chunk;
    }
    arena->next_spare = spare_arenas;
    spare_arenas = arena;
    *list = NULL;
}
