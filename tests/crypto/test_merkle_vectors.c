/* test_merkle_vectors.c - the RFC 6962 / certificate-transparency reference vectors (8 leaves:
 * roots for sizes 0..8, every stored node, inclusion and consistency paths), the frontier's
 * callbacks and record, and the O(log^2 n) bound on node reads. */
#include "check.h"

#include "core/error.h"
#include "crypto/merkle.h"
#include "crypto/merkle_mem.h"

static const char *const leaves_hex[8] = {"",
                                          "00",
                                          "10",
                                          "2021",
                                          "3031",
                                          "40414243",
                                          "5051525354555657",
                                          "606162636465666768696a6b6c6d6e6f"};

static const char *const roots[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

/* Every perfect-subtree node of the 8-leaf tree, by level. */
static const char *const level0[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"};
static const char *const level1[4] = {
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"};
static const char *const level2[2] = {
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"};

typedef struct vec {
    uint64_t a, b; /* (index, size) or (old, new) */
    int n;
    const char *h[3];
} vec;

static const vec inclusion[] = {
    {0, 1, 0, {0}},
    {0,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     3,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static const vec consistency[] = {
    {1, 1, 0, {0}},
    {1,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     2,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static uint8_t leaf[8][32];
static uint8_t root[9][32];

/* Records what the frontier reports, to compare with the reference node table. */
typedef struct seen {
    int n;
    unsigned level[64];
    uint64_t index[64];
    uint8_t hash[64][32];
    int fail_at; /* return ST_EIO on this call (-1: never) */
} seen;

static int record_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32]) {
    seen *s = ctx;
    if (s->n == s->fail_at)
        return ST_EIO;
    s->level[s->n] = level;
    s->index[s->n] = index;
    memcpy(s->hash[s->n], hash, 32);
    s->n++;
    return ST_OK;
}

static const char *ref_node(unsigned level, uint64_t index) {
    if (level == 0)
        return level0[index];
    if (level == 1)
        return level1[index];
    if (level == 2)
        return level2[index];
    return roots[8];
}

static void test_hashes_and_frontier(void) {
    st_merkle_frontier *f, *g;
    uint8_t r[32], rec[ST_MERKLE_FRONTIER_MAX_ENCODED], rec2[ST_MERKLE_FRONTIER_MAX_ENCODED];
    size_t len, len2;
    seen s = {.fail_at = -1};

    for (int i = 0; i < 8; i++) {
        uint8_t data[16];
        size_t n = strlen(leaves_hex[i]) / 2;
        test_unhex(data, n, leaves_hex[i]);
        st_merkle_leaf_hash(leaf[i], data, n);
        CHECK(test_hex_eq(leaf[i], 32, level0[i]));
    }
    for (int i = 0; i <= 8; i++)
        test_unhex(root[i], 32, roots[i]);
    st_merkle_empty_root(r);
    CHECK(memcmp(r, root[0], 32) == 0);

    CHECK(st_merkle_frontier_init(&f) == ST_OK);
    CHECK(st_merkle_frontier_init(&g) == ST_OK);
    st_merkle_frontier_root(f, r);
    CHECK(memcmp(r, root[0], 32) == 0);
    for (int i = 0; i < 8; i++) {
        CHECK(st_merkle_frontier_append(f, leaf[i], record_node, &s) == ST_OK);
        CHECK(st_merkle_frontier_size(f) == (uint64_t)i + 1);
        st_merkle_frontier_root(f, r);
        CHECK(memcmp(r, root[i + 1], 32) == 0);
        /* The record round-trips and the decoded frontier has the same root. */
        CHECK(st_merkle_frontier_encode(f, rec, sizeof rec, &len) == ST_OK);
        CHECK(len == st_merkle_frontier_encoded_len(f));
        CHECK(st_merkle_frontier_decode(g, rec, len, NULL, 0) == ST_OK);
        st_merkle_frontier_root(g, r);
        CHECK(memcmp(r, root[i + 1], 32) == 0);
        CHECK(st_merkle_frontier_encode(g, rec2, sizeof rec2, &len2) == ST_OK);
        CHECK(len2 == len && memcmp(rec, rec2, len) == 0);
    }
    /* 8 leaves complete 8 + 4 + 2 + 1 nodes, each reported once, lowest level first. */
    CHECK(s.n == 15);
    for (int i = 0; i < s.n; i++) {
        CHECK(test_hex_eq(s.hash[i], 32, ref_node(s.level[i], s.index[i])));
        if (i > 0 && s.level[i] > 0)
            CHECK(s.level[i] == s.level[i - 1] + 1);
    }
    CHECK(s.level[14] == 3 && s.index[14] == 0);

    /* A failing callback leaves the frontier unchanged. At size 7 an append reports four
     * nodes (levels 0..3); fail at each of them. */
    st_merkle_frontier_free(g);
    CHECK(st_merkle_frontier_init(&g) == ST_OK);
    for (int i = 0; i < 7; i++)
        CHECK(st_merkle_frontier_append(g, leaf[i], NULL, NULL) == ST_OK);
    for (int k = 0; k < 4; k++) {
        seen t = {.fail_at = k};
        CHECK(st_merkle_frontier_append(g, leaf[7], record_node, &t) == ST_EIO);
        CHECK(st_merkle_frontier_size(g) == 7);
        st_merkle_frontier_root(g, r);
        CHECK(memcmp(r, root[7], 32) == 0);
    }
    CHECK(st_merkle_frontier_append(g, leaf[7], NULL, NULL) == ST_OK);
    st_merkle_frontier_root(g, r);
    CHECK(memcmp(r, root[8], 32) == 0);

    /* Encode needs room; decode rejects bad versions and lengths, leaving g unchanged. */
    CHECK(st_merkle_frontier_encode(f, rec, 40, &len) == ST_ERANGE);
    CHECK(st_merkle_frontier_encode(f, rec, sizeof rec, &len) == ST_OK && len == 41);
    for (size_t cut = 0; cut < len; cut++)
        CHECK(st_merkle_frontier_decode(g, rec, cut, NULL, 0) == ST_EINVAL);
    rec[len] = 0;
    CHECK(st_merkle_frontier_decode(g, rec, len + 1, NULL, 0) == ST_EINVAL);
    rec[0] = 2;
    CHECK(st_merkle_frontier_decode(g, rec, len, NULL, 0) == ST_EINVAL);
    CHECK(st_merkle_frontier_size(g) == 8);

    /* A full tree (2^64 - 1 leaves) cannot grow. */
    memset(rec, 0xab, sizeof rec);
    rec[0] = 1;
    memset(rec + 1, 0xff, 8);
    CHECK(st_merkle_frontier_decode(g, rec, ST_MERKLE_FRONTIER_MAX_ENCODED, NULL, 0) == ST_OK);
    CHECK(st_merkle_frontier_size(g) == UINT64_MAX);
    CHECK(st_merkle_frontier_append(g, leaf[0], NULL, NULL) == ST_ERANGE);
    CHECK(st_merkle_frontier_encode(g, rec2, sizeof rec2, &len2) == ST_OK);
    CHECK(len2 == ST_MERKLE_FRONTIER_MAX_ENCODED && memcmp(rec, rec2, len2) == 0);

    st_merkle_frontier_free(f);
    st_merkle_frontier_free(g);
}

static void test_proof_vectors(void) {
    st_merkle_mem *t;
    uint8_t proof[ST_MERKLE_MAX_PROOF * 32], want[3 * 32], r[32];
    size_t n;

    CHECK(st_merkle_mem_init(&t) == ST_OK);
    for (int i = 0; i < 8; i++)
        CHECK(st_merkle_mem_append(t, leaf[i]) == ST_OK);
    st_merkle_mem_root(t, r);
    CHECK(memcmp(r, root[8], 32) == 0);
    for (uint64_t size = 0; size <= 8; size++) {
        CHECK(st_merkle_root_at(size, st_merkle_mem_get_node, t, r) == ST_OK);
        CHECK(memcmp(r, root[size], 32) == 0);
    }
    CHECK(st_merkle_mem_get_node(t, 3, 0, r) == ST_OK && memcmp(r, root[8], 32) == 0);
    CHECK(st_merkle_mem_get_node(t, 3, 1, r) == ST_ENOENT);
    CHECK(st_merkle_mem_get_node(t, 0, 8, r) == ST_ENOENT);

    for (size_t v = 0; v < sizeof inclusion / sizeof inclusion[0]; v++) {
        const vec *x = &inclusion[v];
        for (int k = 0; k < x->n; k++)
            test_unhex(want + 32 * k, 32, x->h[k]);
        CHECK(st_merkle_inclusion_proof(x->a, x->b, st_merkle_mem_get_node, t, proof,
                                        ST_MERKLE_MAX_PROOF, &n) == ST_OK);
        CHECK(n == (size_t)x->n && memcmp(proof, want, 32 * n) == 0);
        CHECK(st_merkle_verify_inclusion(leaf[x->a], x->a, x->b, want, n, root[x->b], NULL, 0) ==
              ST_OK);
    }
    for (size_t v = 0; v < sizeof consistency / sizeof consistency[0]; v++) {
        const vec *x = &consistency[v];
        for (int k = 0; k < x->n; k++)
            test_unhex(want + 32 * k, 32, x->h[k]);
        CHECK(st_merkle_consistency_proof(x->a, x->b, st_merkle_mem_get_node, t, proof,
                                          ST_MERKLE_MAX_PROOF, &n) == ST_OK);
        CHECK(n == (size_t)x->n && memcmp(proof, want, 32 * n) == 0);
        CHECK(st_merkle_verify_consistency(x->a, x->b, root[x->a], root[x->b], want, n, NULL, 0) ==
              ST_OK);
    }
    /* Argument errors. */
    CHECK(st_merkle_inclusion_proof(8, 8, st_merkle_mem_get_node, t, proof, 65, &n) == ST_EINVAL);
    CHECK(st_merkle_inclusion_proof(0, 9, st_merkle_mem_get_node, t, proof, 65, &n) == ST_ENOENT);
    CHECK(st_merkle_inclusion_proof(0, 8, st_merkle_mem_get_node, t, proof, 2, &n) == ST_ERANGE);
    CHECK(st_merkle_consistency_proof(5, 4, st_merkle_mem_get_node, t, proof, 65, &n) == ST_EINVAL);
    CHECK(st_merkle_consistency_proof(0, 8, st_merkle_mem_get_node, t, proof, 65, &n) == ST_OK &&
          n == 0);
    CHECK(st_merkle_verify_inclusion(leaf[0], 8, 8, proof, 3, root[8], NULL, 0) == ST_EINVAL);
    CHECK(st_merkle_verify_inclusion(leaf[0], 0, 0, proof, 0, root[0], NULL, 0) == ST_EINVAL);
    CHECK(st_merkle_verify_consistency(5, 4, root[5], root[4], proof, 0, NULL, 0) == ST_EINVAL);
    CHECK(st_merkle_verify_consistency(0, 8, root[0], root[8], NULL, 0, NULL, 0) == ST_OK);
    CHECK(st_merkle_verify_consistency(0, 8, root[1], root[8], NULL, 0, NULL, 0) == ST_ECORRUPT);
    CHECK(st_merkle_verify_consistency(0, 8, root[0], root[8], leaf[0], 1, NULL, 0) == ST_ECORRUPT);
    CHECK(st_merkle_verify_consistency(8, 8, root[8], root[8], NULL, 0, NULL, 0) == ST_OK);
    CHECK(st_merkle_verify_consistency(8, 8, root[8], root[7], NULL, 0, NULL, 0) == ST_ECORRUPT);
    CHECK(st_merkle_verify_consistency(8, 8, root[8], root[8], leaf[0], 1, NULL, 0) == ST_ECORRUPT);
    CHECK(st_merkle_verify_consistency(3, 8, root[3], root[8], NULL, 0, NULL, 0) == ST_ECORRUPT);
    st_merkle_mem_free(t);
}

/* A node store that invents hashes and counts reads: proofs for huge trees must need only
 * O(log^2 n) of them. */
static int count_node(void *ctx, unsigned level, uint64_t index, uint8_t out[32]) {
    uint64_t *calls = ctx;
    (*calls)++;
    memset(out, 0, 32);
    memcpy(out, &index, 8);
    out[8] = (uint8_t)level;
    return ST_OK;
}

static void test_read_bound(void) {
    static const uint64_t sizes[] = {
        2, 3, 1000, 1ULL << 40, (1ULL << 40) + 12345, UINT64_MAX - 1, UINT64_MAX};
    uint8_t proof[ST_MERKLE_MAX_PROOF * 32];
    uint64_t seed = 42;
    size_t n;

    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint64_t size = sizes[s];
        uint64_t bound = 65 * 65;
        for (int k = 0; k < 50; k++) {
            uint64_t calls = 0, idx = test_rand(&seed) % size, old = test_rand(&seed) % size + 1;
            CHECK(st_merkle_inclusion_proof(idx, size, count_node, &calls, proof,
                                            ST_MERKLE_MAX_PROOF, &n) == ST_OK);
            CHECK(n <= 64 && calls <= bound);
            calls = 0;
            CHECK(st_merkle_consistency_proof(old, size, count_node, &calls, proof,
                                              ST_MERKLE_MAX_PROOF, &n) == ST_OK);
            CHECK(n <= ST_MERKLE_MAX_PROOF && calls <= bound);
        }
    }
    /* The worst sizes are far under the bound in practice: at most 64 + popcount reads per
     * sibling range, and only right-hand siblings are not perfect. */
    {
        uint64_t calls = 0;
        CHECK(st_merkle_inclusion_proof(0, UINT64_MAX, count_node, &calls, proof,
                                        ST_MERKLE_MAX_PROOF, &n) == ST_OK);
        CHECK(n == 64);
        CHECK(calls < 64 * 64);
    }
}

int main(void) {
    test_hashes_and_frontier();
    test_proof_vectors();
    test_read_bound();
    printf("merkle vectors: ok\n");
    return 0;
}
