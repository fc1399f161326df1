/* fuzz_merkle.c - the RFC 9162 proof verifiers.
 *
 * Byte 0 selects the mode:
 *   even: raw verifiers on arbitrary input: u64 index/old size, u64 size/new size, 32-byte
 *         leaf (or old root), 32-byte root (or new root), then proof hashes. They must return
 *         a code without crashing or reading past the proof; an accepted inclusion proof
 *         must have the length the tree shape dictates.
 *   odd:  properties on a fixed 300-leaf log: the input picks (index, size) and (old, new),
 *         the generated proofs must verify, and every mutation the input describes (flip
 *         proof bytes, change index or sizes against the honest roots, drop or add a hash)
 *         must make them fail (the first 32 byte pairs after the header drive them).
 */
#include "fuzz.h"

#include "crypto/merkle.h"
#include "crypto/merkle_mem.h"

#define N 300

static st_merkle_mem *log_;
static uint8_t leaves[N][32], roots[N + 1][32];

static void setup(void) {
    uint8_t i8[2];
    FUZZ_CHECK(st_merkle_mem_init(&log_) == ST_OK);
    st_merkle_empty_root(roots[0]);
    for (int i = 0; i < N; i++) {
        i8[0] = (uint8_t)(i >> 8);
        i8[1] = (uint8_t)i;
        st_merkle_leaf_hash(leaves[i], i8, 2);
        FUZZ_CHECK(st_merkle_mem_append(log_, leaves[i]) == ST_OK);
        st_merkle_mem_root(log_, roots[i + 1]);
    }
}

static uint64_t be64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Length of PATH(index, D[size]): the number of levels the path climbs. */
static size_t path_len(uint64_t index, uint64_t size) {
    size_t n = 0;
    while (size > 1) {
        uint64_t k = 1;
        while (k < (size + 1) / 2)
            k *= 2;
        if (index < k) {
            size = k;
        } else {
            index -= k;
            size -= k;
        }
        n++;
    }
    return n;
}

static void raw(const uint8_t *data, size_t size) {
    uint64_t a, b;
    size_t n;
    int rc;
    if (size < 1 + 16 + 64)
        return;
    a = be64(data + 1);
    b = be64(data + 9);
    n = (size - 81) / 32;
    rc = st_merkle_verify_inclusion(data + 17, a, b, data + 81, n, data + 49, NULL, 0);
    FUZZ_CHECK(rc == ST_OK || rc == ST_EINVAL || rc == ST_ECORRUPT);
    if (rc == ST_OK)
        FUZZ_CHECK(a < b && n == path_len(a, b));
    rc = st_merkle_verify_consistency(a, b, data + 17, data + 49, data + 81, n, NULL, 0);
    FUZZ_CHECK(rc == ST_OK || rc == ST_EINVAL || rc == ST_ECORRUPT);
}

static void props(const uint8_t *data, size_t size) {
    uint8_t proof[(ST_MERKLE_MAX_PROOF + 1) * 32], bad[(ST_MERKLE_MAX_PROOF + 1) * 32];
    uint64_t n, i, m;
    size_t len, off;

    if (size < 5)
        return;
    n = 1 + ((uint64_t)data[1] << 8 | data[2]) % N;
    i = data[3] % n;
    m = data[4] % (n + 1);
    FUZZ_CHECK(st_merkle_inclusion_proof(i, n, st_merkle_mem_get_node, log_, proof,
                                         ST_MERKLE_MAX_PROOF, &len) == ST_OK);
    FUZZ_CHECK(st_merkle_verify_inclusion(leaves[i], i, n, proof, len, roots[n], NULL, 0) == ST_OK);
    /* Mutations: pairs (position, xor). */
    for (off = 5; off + 1 < size && off < 5 + 64 && len > 0; off += 2) {
        if (data[off + 1] == 0)
            continue;
        memcpy(bad, proof, 32 * len);
        bad[data[off] % (32 * len)] ^= data[off + 1];
        FUZZ_CHECK(st_merkle_verify_inclusion(leaves[i], i, n, bad, len, roots[n], NULL, 0) !=
                   ST_OK);
    }
    /* Other indexes and sizes, chosen by the input (up to 16 each): all leaves differ, so
     * another index never passes, and another size fails against its own honest root. */
    for (off = 5; off + 1 < size && off < 5 + 32; off += 2) {
        uint64_t j = ((uint64_t)data[off] << 8 | data[off + 1]) % n;
        uint64_t other = i + 1 + ((uint64_t)data[off + 1] << 8 | data[off]) % (N - i);
        if (j != i)
            FUZZ_CHECK(st_merkle_verify_inclusion(leaves[i], j, n, proof, len, roots[n], NULL, 0) !=
                       ST_OK);
        if (other != n)
            FUZZ_CHECK(st_merkle_verify_inclusion(leaves[i], i, other, proof, len, roots[other],
                                                  NULL, 0) != ST_OK);
    }

    FUZZ_CHECK(st_merkle_consistency_proof(m, n, st_merkle_mem_get_node, log_, proof,
                                           ST_MERKLE_MAX_PROOF, &len) == ST_OK);
    FUZZ_CHECK(st_merkle_verify_consistency(m, n, roots[m], roots[n], proof, len, NULL, 0) ==
               ST_OK);
    for (off = 5; off + 1 < size && off < 5 + 64 && len > 0; off += 2) {
        if (data[off + 1] == 0)
            continue;
        memcpy(bad, proof, 32 * len);
        bad[data[off] % (32 * len)] ^= data[off + 1];
        FUZZ_CHECK(st_merkle_verify_consistency(m, n, roots[m], roots[n], bad, len, NULL, 0) !=
                   ST_OK);
    }
    for (off = 5; m > 0 && off + 1 < size && off < 5 + 32; off += 2) {
        uint64_t other = 1 + ((uint64_t)data[off] << 8 | data[off + 1]) % N;
        {
            if (other != m && other <= n)
                FUZZ_CHECK(st_merkle_verify_consistency(other, n, roots[other], roots[n], proof,
                                                        len, NULL, 0) != ST_OK);
            if (other != n && other >= m)
                FUZZ_CHECK(st_merkle_verify_consistency(m, other, roots[m], roots[other], proof,
                                                        len, NULL, 0) != ST_OK);
        }
    }
    if (len > 0)
        FUZZ_CHECK(st_merkle_verify_consistency(m, n, roots[m], roots[n], proof, len - 1, NULL,
                                                0) != ST_OK);
    memcpy(bad, proof, 32 * len);
    memcpy(bad + 32 * len, leaves[data[4] % N], 32);
    FUZZ_CHECK(st_merkle_verify_consistency(m, n, roots[m], roots[n], bad, len + 1, NULL, 0) !=
               ST_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!log_)
        setup();
    if (size == 0)
        return 0;
    if (data[0] & 1)
        props(data, size);
    else
        raw(data, size);
    return 0;
}
