/* arena.h - a bump allocator for building one response message: every piece of a
 * protobuf-c message tree (sub-messages, pointer arrays, strings) comes from the arena and
 * all of it is released at once with st_arena_free(), so conversion code has no per-field
 * frees and no leaks on its error paths.
 *
 * Not thread-safe: one arena belongs to one call on one thread at a time.
 */
#ifndef STRATA_SERVER_RPC_ARENA_H
#define STRATA_SERVER_RPC_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct st_arena_block st_arena_block;

/* Lives on the stack; zero it (ST_ARENA_INIT) before use. */
typedef struct {
    st_arena_block *head;
    size_t used, cap; /* of head */
} st_arena;

#define ST_ARENA_INIT                                                                              \
    { NULL, 0, 0 }

/* n zeroed bytes, aligned for any type; NULL when out of memory. Owned by the arena. */
void *st_arena_alloc(st_arena *a, size_t n);
/* A copy of s (NUL-terminated); NULL when out of memory. */
char *st_arena_strdup(st_arena *a, const char *s);
/* A copy of p[0..n); NULL when out of memory (n == 0 gives a valid pointer). */
void *st_arena_memdup(st_arena *a, const void *p, size_t n);
/* Releases everything and leaves the arena empty (reusable). */
void st_arena_free(st_arena *a);

#endif
