/* merkle_proof.c - root, inclusion proof and consistency proof of an RFC 9162 tree, read
 * from stored perfect-subtree nodes through a get_node callback.
 *
 * The recursions of RFC 9162 §2.1.3.1 (PATH) and §2.1.4.1 (SUBPROOF) are walked top-down
 * iteratively; each step names one sibling range [start, start+len) whose MTH goes into the
 * proof. Such a range always begins at a multiple of the largest power of two <= len, so its
 * MTH is the right fold of popcount(len) stored nodes (range_hash). A proof thus needs at
 * most 64 ranges of at most 64 nodes: O(log^2 n) callback calls, and in practice far fewer.
 * The recursion emits the innermost element first, so the ranges are output in reverse.
 */
#include <string.h>

#include "core/error.h"
#include "crypto/merkle.h"

typedef struct range {
    uint64_t start, len;
} range;

/* The largest power of two strictly less than n (n >= 2). */
static uint64_t split_point(uint64_t n) {
    /* The highest set bit of n - 1; n - 1 >= 1, so clzll is defined. */
    return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

/* out = MTH(D[start : start+len]), len >= 1, from stored nodes. */
static int range_hash(uint64_t start, uint64_t len, st_merkle_get_node_fn get, void *ctx,
                      uint8_t out[32]) {
    /* Chunks are taken largest first (left to right), then folded from the right. */
    uint8_t chunk[ST_MERKLE_MAX_LEVELS][32];
    int nchunks = 0, rc;
    uint64_t pos = start;

    for (int level = ST_MERKLE_MAX_LEVELS - 1; level >= 0; level--) {
        uint64_t size = (uint64_t)1 << level;
        if (!(len & size))
            continue;
        if (pos % size != 0)
            return ST_EINVAL; /* unreachable for the ranges PATH/SUBPROOF produce */
        if ((rc = get(ctx, (unsigned)level, pos / size, chunk[nchunks])) != 0)
            return rc;
        nchunks++;
        pos += size;
    }
    memcpy(out, chunk[nchunks - 1], 32);
    for (int i = nchunks - 2; i >= 0; i--)
        st_merkle_node_hash(out, chunk[i], out);
    return ST_OK;
}

/* Writes the MTH of ranges r[n-1], ..., r[0] (reverse order) into proof. */
static int emit(const range *r, size_t n, st_merkle_get_node_fn get, void *ctx, uint8_t *proof,
                size_t cap, size_t *out_n) {
    if (n > cap)
        return ST_ERANGE;
    for (size_t i = 0; i < n; i++) {
        int rc;
        if ((rc = range_hash(r[n - 1 - i].start, r[n - 1 - i].len, get, ctx, proof + 32 * i)) != 0)
            return rc;
    }
    *out_n = n;
    return ST_OK;
}

int st_merkle_root_at(uint64_t size, st_merkle_get_node_fn get, void *ctx, uint8_t out[32]) {
    if (size == 0) {
        st_merkle_empty_root(out);
        return ST_OK;
    }
    return range_hash(0, size, get, ctx, out);
}

int st_merkle_inclusion_proof(uint64_t index, uint64_t size, st_merkle_get_node_fn get, void *ctx,
                              uint8_t *proof, size_t cap, size_t *n) {
    range r[ST_MERKLE_MAX_PROOF];
    size_t nr = 0;
    uint64_t start = 0, m = index;

    *n = 0;
    if (index >= size)
        return ST_EINVAL;
    /* PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])       if m < k
     *               = PATH(m - k, D[k:n]) : MTH(D[0:k])   if m >= k */
    while (size > 1) {
        uint64_t k = split_point(size);
        if (m < k) {
            r[nr++] = (range){start + k, size - k};
            size = k;
        } else {
            r[nr++] = (range){start, k};
            start += k;
            m -= k;
            size -= k;
        }
    }
    return emit(r, nr, get, ctx, proof, cap, n);
}

int st_merkle_consistency_proof(uint64_t old_size, uint64_t new_size, st_merkle_get_node_fn get,
                                void *ctx, uint8_t *proof, size_t cap, size_t *n) {
    range r[ST_MERKLE_MAX_PROOF];
    size_t nr = 0;
    uint64_t start = 0, m = old_size, size = new_size;
    int whole = 1; /* SUBPROOF's b: still inside the subtree that is the old tree's root */

    *n = 0;
    if (old_size > new_size)
        return ST_EINVAL;
    if (old_size == 0 || old_size == new_size)
        return ST_OK;
    /* SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])          if m <= k
     *                      = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])  if m > k
     * SUBPROOF(m, D[m], true) = {},  SUBPROOF(m, D[m], false) = {MTH(D[m])} */
    while (m != size) {
        uint64_t k = split_point(size);
        if (m <= k) {
            r[nr++] = (range){start + k, size - k};
            size = k;
        } else {
            r[nr++] = (range){start, k};
            start += k;
            m -= k;
            size -= k;
            whole = 0;
        }
    }
    if (!whole)
        r[nr++] = (range){start, size};
    return emit(r, nr, get, ctx, proof, cap, n);
}
