/* merkle_mem.c - in-memory node store: level L holds nodes 0..count[L]-1 contiguously,
 * filled by the frontier's completed-node callback (nodes complete in index order). */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "crypto/merkle.h"
#include "crypto/merkle_mem.h"

struct st_merkle_mem {
    st_merkle_frontier *frontier;
    uint8_t (*level[ST_MERKLE_MAX_LEVELS])[32];
    uint64_t count[ST_MERKLE_MAX_LEVELS];
    uint64_t cap[ST_MERKLE_MAX_LEVELS];
};

int st_merkle_mem_init(st_merkle_mem **out) {
    st_merkle_mem *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        return ST_ENOMEM;
    if (st_merkle_frontier_init(&t->frontier) != ST_OK) {
        free(t);
        return ST_ENOMEM;
    }
    *out = t;
    return ST_OK;
}

void st_merkle_mem_free(st_merkle_mem *t) {
    if (!t)
        return;
    for (int i = 0; i < ST_MERKLE_MAX_LEVELS; i++)
        free(t->level[i]);
    st_merkle_frontier_free(t->frontier);
    free(t);
}

/* Grows every level that the next append may touch, so the append itself cannot fail
 * half-way. An append completes nodes at levels 0..ctz(size+1). */
static int reserve(st_merkle_mem *t) {
    uint64_t next = st_merkle_frontier_size(t->frontier) + 1;
    for (unsigned l = 0; l < ST_MERKLE_MAX_LEVELS; l++) {
        if (l > 0 && (next & (((uint64_t)1 << l) - 1)) != 0)
            break; /* no node at level l completes with this append */
        if (t->count[l] == t->cap[l]) {
            uint64_t cap = t->cap[l] ? t->cap[l] * 2 : 16;
            void *nb;
            if (cap > SIZE_MAX / 32)
                return ST_ENOMEM;
            nb = realloc(t->level[l], (size_t)cap * 32);
            if (!nb)
                return ST_ENOMEM;
            t->level[l] = nb;
            t->cap[l] = cap;
        }
    }
    return ST_OK;
}

static int store(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32]) {
    st_merkle_mem *t = ctx;
    if (index != t->count[level] || t->count[level] >= t->cap[level])
        return ST_ECORRUPT; /* cannot happen: nodes complete in order, space reserved */
    memcpy(t->level[level][index], hash, 32);
    t->count[level]++;
    return ST_OK;
}

int st_merkle_mem_append(st_merkle_mem *t, const uint8_t leaf_hash[32]) {
    int rc = reserve(t);
    if (rc != ST_OK)
        return rc;
    return st_merkle_frontier_append(t->frontier, leaf_hash, store, t);
}

uint64_t st_merkle_mem_size(const st_merkle_mem *t) {
    return st_merkle_frontier_size(t->frontier);
}

void st_merkle_mem_root(const st_merkle_mem *t, uint8_t out[32]) {
    st_merkle_frontier_root(t->frontier, out);
}

int st_merkle_mem_get_node(void *ctx, unsigned level, uint64_t index, uint8_t out[32]) {
    const st_merkle_mem *t = ctx;
    if (level >= ST_MERKLE_MAX_LEVELS || index >= t->count[level])
        return ST_ENOENT;
    memcpy(out, t->level[level][index], 32);
    return ST_OK;
}
