/* arena.c - the bump allocator of arena.h: a list of malloc'd blocks, bigger requests get
 * a block of their own. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "server/rpc/arena.h"

#define BLOCK_SIZE 16384
#define ALIGN 16

struct st_arena_block {
    st_arena_block *next;
    _Alignas(max_align_t) unsigned char data[];
};

void *st_arena_alloc(st_arena *a, size_t n) {
    size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need < n) {
        return NULL;
    }
    if (a->head == NULL || a->cap - a->used < need) {
        size_t cap = need > BLOCK_SIZE ? need : BLOCK_SIZE;
        st_arena_block *b = malloc(sizeof(*b) + cap);
        if (b == NULL) {
            return NULL;
        }
        if (a->head != NULL && need > BLOCK_SIZE) {
            /* A big piece: keep the current block for the small ones after it. */
            b->next = a->head->next;
            a->head->next = b;
            memset(b->data, 0, need);
            return b->data;
        }
        b->next = a->head;
        a->head = b;
        a->used = 0;
        a->cap = cap;
    }
    void *p = a->head->data + a->used;
    a->used += need;
    memset(p, 0, n);
    return p;
}

char *st_arena_strdup(st_arena *a, const char *s) {
    return st_arena_memdup(a, s, strlen(s) + 1);
}

void *st_arena_memdup(st_arena *a, const void *p, size_t n) {
    void *q = st_arena_alloc(a, n ? n : 1);
    if (q != NULL && n > 0) {
        memcpy(q, p, n);
    }
    return q;
}

void st_arena_free(st_arena *a) {
    st_arena_block *b = a->head;
    while (b != NULL) {
        st_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = a->cap = 0;
}
