/* merkle_verify.c - inclusion and consistency proof verification, step by step as
 * RFC 9162 §2.1.3.2 and §2.1.4.2 write them (fn/sn are the RFC's variable names). */
#include "core/error.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"

int st_merkle_verify_inclusion(const uint8_t leaf_hash[32], uint64_t index, uint64_t tree_size,
                               const uint8_t *proof, size_t n, const uint8_t root[32], char *err,
                               size_t errlen) {
    uint64_t fn, sn;
    uint8_t r[32];

    /* 1. leaf_index >= tree_size fails. */
    if (index >= tree_size)
        return st_fail(err, errlen, ST_EINVAL, "inclusion: leaf index %llu >= tree size %llu",
                       (unsigned long long)index, (unsigned long long)tree_size);
    if (n > ST_MERKLE_MAX_LEVELS)
        return st_fail(err, errlen, ST_EINVAL, "inclusion: %zu hashes, at most 64", n);
    /* 2-3. */
    fn = index;
    sn = tree_size - 1;
    for (size_t i = 0; i < 32; i++)
        r[i] = leaf_hash[i];
    /* 4. */
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = proof + 32 * i;
        if (sn == 0)
            return st_fail(err, errlen, ST_ECORRUPT, "inclusion: proof too long");
        if ((fn & 1) || fn == sn) {
            st_merkle_node_hash(r, p, r);
            if (!(fn & 1)) {
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            st_merkle_node_hash(r, r, p);
        }
        fn >>= 1;
        sn >>= 1;
    }
    /* 5. */
    if (sn != 0)
        return st_fail(err, errlen, ST_ECORRUPT, "inclusion: proof too short");
    if (!st_hash_equal(r, root))
        return st_fail(err, errlen, ST_ECORRUPT, "inclusion: proof does not lead to the root");
    return ST_OK;
}

int st_merkle_verify_consistency(uint64_t old_size, uint64_t new_size, const uint8_t old_root[32],
                                 const uint8_t new_root[32], const uint8_t *proof, size_t n,
                                 char *err, size_t errlen) {
    uint64_t fn, sn;
    uint8_t fr[32], sr[32];
    const uint8_t *first;
    size_t i;

    if (old_size > new_size)
        return st_fail(err, errlen, ST_EINVAL, "consistency: old size %llu > new size %llu",
                       (unsigned long long)old_size, (unsigned long long)new_size);
    if (n > ST_MERKLE_MAX_PROOF)
        return st_fail(err, errlen, ST_EINVAL, "consistency: %zu hashes, at most %d", n,
                       ST_MERKLE_MAX_PROOF);
    if (old_size == new_size) {
        if (n != 0)
            return st_fail(err, errlen, ST_ECORRUPT, "consistency: equal sizes need no proof");
        if (!st_hash_equal(old_root, new_root))
            return st_fail(err, errlen, ST_ECORRUPT, "consistency: equal sizes, different roots");
        return ST_OK;
    }
    if (old_size == 0) {
        uint8_t empty[32];
        st_merkle_empty_root(empty);
        if (n != 0)
            return st_fail(err, errlen, ST_ECORRUPT, "consistency: from size 0 needs no proof");
        if (!st_hash_equal(old_root, empty))
            return st_fail(err, errlen, ST_ECORRUPT,
                           "consistency: root of size 0 is not SHA-256(\"\")");
        return ST_OK;
    }
    /* 1. An empty path fails. */
    if (n == 0)
        return st_fail(err, errlen, ST_ECORRUPT, "consistency: empty proof");
    /* 2. If first is an exact power of 2, first_hash is prepended to the path: the element
     * list is then (old_root, proof[0], ...). `first` is element 0, i walks the rest. */
    if ((old_size & (old_size - 1)) == 0) {
        first = old_root;
        i = 0;
    } else {
        first = proof;
        i = 1;
    }
    /* 3-4. */
    fn = old_size - 1;
    sn = new_size - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    /* 5. */
    for (size_t k = 0; k < 32; k++)
        fr[k] = sr[k] = first[k];
    /* 6. */
    for (; i < n; i++) {
        const uint8_t *c = proof + 32 * i;
        if (sn == 0)
            return st_fail(err, errlen, ST_ECORRUPT, "consistency: proof too long");
        if ((fn & 1) || fn == sn) {
            st_merkle_node_hash(fr, c, fr);
            st_merkle_node_hash(sr, c, sr);
            if (!(fn & 1)) {
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            st_merkle_node_hash(sr, sr, c);
        }
        fn >>= 1;
        sn >>= 1;
    }
    /* 7. */
    if (sn != 0)
        return st_fail(err, errlen, ST_ECORRUPT, "consistency: proof too short");
    if (!st_hash_equal(fr, old_root))
        return st_fail(err, errlen, ST_ECORRUPT, "consistency: proof does not lead to old root");
    if (!st_hash_equal(sr, new_root))
        return st_fail(err, errlen, ST_ECORRUPT, "consistency: proof does not lead to new root");
    return ST_OK;
}
