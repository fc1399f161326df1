/* merkle_frontier.c - the append-only right edge of an RFC 9162 tree ("compact range").
 *
 * For a tree of n leaves the frontier holds, for every set bit L of n, the hash of the
 * perfect subtree of 2^L leaves that bit stands for; higher bits are further left. Appending
 * a leaf is binary increment: the new leaf merges with the subtrees of the trailing one-bits
 * of n, each merge completing one new node. The root is the right fold of the subtrees,
 * which is exactly MTH's split at the largest power of two.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "crypto/endian.h"
#include "crypto/merkle.h"

struct st_merkle_frontier {
    uint64_t size;
    uint8_t hash[ST_MERKLE_MAX_LEVELS][32]; /* hash[L] valid iff bit L of size is set */
};

int st_merkle_frontier_init(st_merkle_frontier **out) {
    st_merkle_frontier *f = calloc(1, sizeof *f);
    *out = f;
    return f ? ST_OK : ST_ENOMEM;
}

void st_merkle_frontier_free(st_merkle_frontier *f) {
    free(f);
}

void st_merkle_frontier_copy(st_merkle_frontier *dst, const st_merkle_frontier *src) {
    if (dst != src)
        memcpy(dst, src, sizeof *dst);
}

uint64_t st_merkle_frontier_size(const st_merkle_frontier *f) {
    return f->size;
}

int st_merkle_frontier_append(st_merkle_frontier *f, const uint8_t leaf_hash[32],
                              st_merkle_node_cb cb, void *ctx) {
    uint64_t n = f->size;
    uint8_t carry[32];
    unsigned level = 0;
    int rc;

    if (n == UINT64_MAX)
        return ST_ERANGE;
    /* Report every node before changing anything, so a failing callback (a storage error)
     * leaves the frontier as it was. */
    memcpy(carry, leaf_hash, 32);
    if (cb && (rc = cb(ctx, 0, n, carry)) != 0)
        return rc;
    while (n >> level & 1) {
        st_merkle_node_hash(carry, f->hash[level], carry);
        level++;
        /* The node just completed covers the last 2^level leaves of the new size n + 1. */
        if (cb && (rc = cb(ctx, level, ((n + 1) >> level) - 1, carry)) != 0)
            return rc;
    }
    memcpy(f->hash[level], carry, 32);
    f->size = n + 1;
    return ST_OK;
}

void st_merkle_frontier_root(const st_merkle_frontier *f, uint8_t out[32]) {
    int have = 0;
    if (f->size == 0) {
        st_merkle_empty_root(out);
        return;
    }
    for (unsigned level = 0; level < ST_MERKLE_MAX_LEVELS; level++) {
        if (!(f->size >> level & 1))
            continue;
        if (!have) {
            memcpy(out, f->hash[level], 32);
            have = 1;
        } else {
            st_merkle_node_hash(out, f->hash[level], out);
        }
    }
}

static size_t popcount64(uint64_t v) {
    size_t c = 0;
    for (; v; v &= v - 1)
        c++;
    return c;
}

size_t st_merkle_frontier_encoded_len(const st_merkle_frontier *f) {
    return 9 + 32 * popcount64(f->size);
}

int st_merkle_frontier_encode(const st_merkle_frontier *f, uint8_t *out, size_t cap, size_t *len) {
    size_t need = st_merkle_frontier_encoded_len(f), off = 9;

    *len = 0;
    if (cap < need)
        return ST_ERANGE;
    out[0] = ST_MERKLE_FRONTIER_VERSION;
    st_store_be64(out + 1, f->size);
    /* Left to right along the tree: highest level first. */
    for (int level = ST_MERKLE_MAX_LEVELS - 1; level >= 0; level--) {
        if (f->size >> level & 1) {
            memcpy(out + off, f->hash[level], 32);
            off += 32;
        }
    }
    *len = off;
    return ST_OK;
}

int st_merkle_frontier_decode(st_merkle_frontier *f, const uint8_t *in, size_t len, char *err,
                              size_t errlen) {
    uint64_t size;
    size_t off = 9;

    if (len < 9)
        return st_fail(err, errlen, ST_EINVAL, "frontier: %zu bytes, need at least 9", len);
    if (in[0] != ST_MERKLE_FRONTIER_VERSION)
        return st_fail(err, errlen, ST_EINVAL, "frontier: byte 0: unknown version %u",
                       (unsigned)in[0]);
    size = st_load_be64(in + 1);
    if (len != 9 + 32 * popcount64(size))
        return st_fail(err, errlen, ST_EINVAL, "frontier: size %llu needs %zu bytes, got %zu",
                       (unsigned long long)size, 9 + 32 * popcount64(size), len);
    memset(f, 0, sizeof *f);
    f->size = size;
    for (int level = ST_MERKLE_MAX_LEVELS - 1; level >= 0; level--) {
        if (size >> level & 1) {
            memcpy(f->hash[level], in + off, 32);
            off += 32;
        }
    }
    return ST_OK;
}
