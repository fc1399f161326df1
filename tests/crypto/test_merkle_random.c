/* test_merkle_random.c - for every tree size up to MAX_N: the frontier root equals a naive
 * recursive MTH; every inclusion proof and every consistency proof verifies; tampered proofs
 * (a flipped bit, wrong index, wrong size, truncated, extended, wrong roots) fail. */
#include "check.h"

#include "core/error.h"
#include "crypto/merkle.h"
#include "crypto/merkle_mem.h"

#define MAX_N 300

static uint8_t leaves[MAX_N][32];
static uint8_t roots[MAX_N + 1][32];
static uint64_t rng = 0x5eed5eed5eedULL;

/* MTH(D[lo:hi]) straight from RFC 9162 §2.1.1. */
static void naive_mth(size_t lo, size_t hi, uint8_t out[32]) {
    size_t n = hi - lo, k = 1;
    uint8_t l[32], r[32];
    if (n == 0) {
        st_merkle_empty_root(out);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[lo], 32);
        return;
    }
    while (k * 2 < n)
        k *= 2;
    naive_mth(lo, lo + k, l);
    naive_mth(lo + k, hi, r);
    st_merkle_node_hash(out, l, r);
}

static void flip_random_bit(uint8_t *p, size_t nbytes) {
    uint64_t b = test_rand(&rng) % (nbytes * 8);
    p[b / 8] ^= (uint8_t)(1u << (b % 8));
}

static void check_inclusion(st_merkle_mem *t, uint64_t i, uint64_t n) {
    uint8_t proof[(ST_MERKLE_MAX_PROOF + 1) * 32], bad[(ST_MERKLE_MAX_PROOF + 1) * 32];
    size_t len;

    CHECK(st_merkle_inclusion_proof(i, n, st_merkle_mem_get_node, t, proof, ST_MERKLE_MAX_PROOF,
                                    &len) == ST_OK);
    CHECK(st_merkle_verify_inclusion(leaves[i], i, n, proof, len, roots[n], NULL, 0) == ST_OK);
    /* Flipped bit in a proof hash, the leaf or the root. */
    if (len > 0) {
        memcpy(bad, proof, 32 * len);
        flip_random_bit(bad, 32 * len);
        CHECK(st_merkle_verify_inclusion(leaves[i], i, n, bad, len, roots[n], NULL, 0) != ST_OK);
    }
    memcpy(bad, leaves[i], 32);
    flip_random_bit(bad, 32);
    CHECK(st_merkle_verify_inclusion(bad, i, n, proof, len, roots[n], NULL, 0) != ST_OK);
    memcpy(bad, roots[n], 32);
    flip_random_bit(bad, 32);
    CHECK(st_merkle_verify_inclusion(leaves[i], i, n, proof, len, bad, NULL, 0) != ST_OK);
    /* Wrong index (same leaf claimed elsewhere). */
    if (n > 1) {
        uint64_t j = (i + 1 + test_rand(&rng) % (n - 1)) % n;
        /* n, m <= MAX_N here; cppcheck 2.10 misreads the bound through CHECK. */
        // cppcheck-suppress arrayIndexOutOfBoundsCond
        CHECK(st_merkle_verify_inclusion(leaves[i], j, n, proof, len, roots[n], NULL, 0) != ST_OK);
    }
    CHECK(st_merkle_verify_inclusion(leaves[i], n, n, proof, len, roots[n], NULL, 0) == ST_EINVAL);
    /* Wrong size, against that size's real root. */
    if (n + 1 <= MAX_N)
        CHECK(st_merkle_verify_inclusion(leaves[i], i, n + 1, proof, len, roots[n + 1], NULL, 0) !=
              ST_OK);
    if (n - 1 > i)
        CHECK(st_merkle_verify_inclusion(leaves[i], i, n - 1, proof, len, roots[n - 1], NULL, 0) !=
              ST_OK);
    /* Truncated, extended. */
    if (len > 0)
        CHECK(st_merkle_verify_inclusion(leaves[i], i, n, proof, len - 1, roots[n], NULL, 0) !=
              ST_OK);
    memcpy(bad, proof, 32 * len);
    memcpy(bad + 32 * len, leaves[test_rand(&rng) % MAX_N], 32);
    CHECK(st_merkle_verify_inclusion(leaves[i], i, n, bad, len + 1, roots[n], NULL, 0) != ST_OK);
}

static void check_consistency(st_merkle_mem *t, uint64_t m, uint64_t n) {
    uint8_t proof[(ST_MERKLE_MAX_PROOF + 1) * 32], bad[(ST_MERKLE_MAX_PROOF + 1) * 32];
    uint8_t r[32];
    size_t len;

    CHECK(st_merkle_consistency_proof(m, n, st_merkle_mem_get_node, t, proof, ST_MERKLE_MAX_PROOF,
                                      &len) == ST_OK);
    CHECK((len == 0) == (m == 0 || m == n));
    CHECK(st_merkle_verify_consistency(m, n, roots[m], roots[n], proof, len, NULL, 0) == ST_OK);
    if (len > 0) {
        memcpy(bad, proof, 32 * len);
        flip_random_bit(bad, 32 * len);
        CHECK(st_merkle_verify_consistency(m, n, roots[m], roots[n], bad, len, NULL, 0) != ST_OK);
        CHECK(st_merkle_verify_consistency(m, n, roots[m], roots[n], proof, len - 1, NULL, 0) !=
              ST_OK);
    }
    memcpy(bad, proof, 32 * len);
    memcpy(bad + 32 * len, leaves[test_rand(&rng) % MAX_N], 32);
    CHECK(st_merkle_verify_consistency(m, n, roots[m], roots[n], bad, len + 1, NULL, 0) != ST_OK);
    memcpy(r, roots[m], 32);
    flip_random_bit(r, 32);
    CHECK(st_merkle_verify_consistency(m, n, r, roots[n], proof, len, NULL, 0) != ST_OK);
    /* (The empty tree is a prefix of every tree: from size 0 any new root is consistent.) */
    memcpy(r, roots[n], 32);
    flip_random_bit(r, 32);
    if (m > 0)
        /* n, m <= MAX_N here; cppcheck 2.10 misreads the bound through CHECK. */
        // cppcheck-suppress arrayIndexOutOfBoundsCond
        CHECK(st_merkle_verify_consistency(m, n, roots[m], r, proof, len, NULL, 0) != ST_OK);
    /* Wrong sizes, each against the real root of the size claimed. */
    if (m + 1 < n)
        CHECK(st_merkle_verify_consistency(m + 1, n, roots[m + 1], roots[n], proof, len, NULL, 0) !=
              ST_OK);
    if (m > 1)
        CHECK(st_merkle_verify_consistency(m - 1, n, roots[m - 1], roots[n], proof, len, NULL, 0) !=
              ST_OK);
    if (m > 0 && n + 1 <= MAX_N)
        /* n, m <= MAX_N here; cppcheck 2.10 misreads the bound through CHECK. */
        // cppcheck-suppress arrayIndexOutOfBoundsCond
        CHECK(st_merkle_verify_consistency(m, n + 1, roots[m], roots[n + 1], proof, len, NULL, 0) !=
              ST_OK);
    if (m > 0 && n - 1 > m)
        CHECK(st_merkle_verify_consistency(m, n - 1, roots[m], roots[n - 1], proof, len, NULL, 0) !=
              ST_OK);
    if (m < n)
        CHECK(st_merkle_verify_consistency(n, m, roots[n], roots[m], proof, len, NULL, 0) ==
              ST_EINVAL);
}

int main(void) {
    st_merkle_mem *t;
    st_merkle_frontier *f;
    uint8_t r[32];
    unsigned long proofs = 0;

    for (size_t i = 0; i < MAX_N; i++) {
        uint8_t data[8];
        uint64_t x = test_rand(&rng);
        memcpy(data, &x, 8);
        st_merkle_leaf_hash(leaves[i], data, sizeof data);
    }
    CHECK(st_merkle_mem_init(&t) == ST_OK);
    CHECK(st_merkle_frontier_init(&f) == ST_OK);
    for (size_t n = 0; n <= MAX_N; n++) {
        naive_mth(0, n, roots[n]);
        st_merkle_frontier_root(f, r);
        CHECK(memcmp(r, roots[n], 32) == 0);
        st_merkle_mem_root(t, r);
        CHECK(memcmp(r, roots[n], 32) == 0);
        if (n < MAX_N) {
            CHECK(st_merkle_frontier_append(f, leaves[n], NULL, NULL) == ST_OK);
            CHECK(st_merkle_mem_append(t, leaves[n]) == ST_OK);
        }
    }
    /* Every stored node is the MTH of the leaves it covers. */
    for (unsigned level = 0; (1u << level) <= MAX_N; level++) {
        for (uint64_t idx = 0; (idx + 1) << level <= MAX_N; idx++) {
            uint8_t want[32];
            CHECK(st_merkle_mem_get_node(t, level, idx, r) == ST_OK);
            naive_mth(idx << level, (idx + 1) << level, want);
            CHECK(memcmp(r, want, 32) == 0);
        }
    }
    for (uint64_t n = 0; n <= MAX_N; n++) {
        CHECK(st_merkle_root_at(n, st_merkle_mem_get_node, t, r) == ST_OK);
        CHECK(memcmp(r, roots[n], 32) == 0);
        for (uint64_t i = 0; i < n; i++, proofs++)
            check_inclusion(t, i, n);
        for (uint64_t m = 0; m <= n; m++, proofs++)
            check_consistency(t, m, n);
    }
    st_merkle_frontier_free(f);
    st_merkle_mem_free(t);
    printf("merkle random: %lu proofs and their tamperings checked, sizes 0..%d\n", proofs, MAX_N);
    return 0;
}
