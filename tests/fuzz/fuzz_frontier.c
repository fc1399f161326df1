/* fuzz_frontier.c - st_merkle_frontier_decode on arbitrary bytes. Properties: decode ->
 * encode gives the same bytes; after one append, encode -> decode -> root is unchanged, the
 * size grew by one and the append reported level 0 first and then consecutive levels. */
#include "fuzz.h"

#include "crypto/merkle.h"

typedef struct seen {
    int n;
    unsigned last_level;
    uint64_t size;
} seen;

static int on_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32]) {
    seen *s = ctx;
    (void)hash;
    FUZZ_CHECK(s->n == 0 ? level == 0 && index == s->size : level == s->last_level + 1);
    FUZZ_CHECK(((index + 1) << level) == s->size + 1 || level == 0);
    s->last_level = level;
    s->n++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static st_merkle_frontier *f, *g;
    uint8_t out[ST_MERKLE_FRONTIER_MAX_ENCODED], r1[32], r2[32], leaf[32];
    size_t len;
    seen s = {0, 0, 0};

    if (!f) {
        FUZZ_CHECK(st_merkle_frontier_init(&f) == ST_OK);
        FUZZ_CHECK(st_merkle_frontier_init(&g) == ST_OK);
    }
    if (st_merkle_frontier_decode(f, data, size, NULL, 0) != ST_OK)
        return 0;
    FUZZ_CHECK(st_merkle_frontier_encode(f, out, sizeof out, &len) == ST_OK);
    FUZZ_CHECK(len == size && memcmp(out, data, size) == 0);
    st_merkle_frontier_root(f, r1);
    st_merkle_leaf_hash(leaf, data, size);
    s.size = st_merkle_frontier_size(f);
    if (s.size == UINT64_MAX) {
        FUZZ_CHECK(st_merkle_frontier_append(f, leaf, on_node, &s) == ST_ERANGE && s.n == 0);
        return 0;
    }
    FUZZ_CHECK(st_merkle_frontier_append(f, leaf, on_node, &s) == ST_OK);
    FUZZ_CHECK(st_merkle_frontier_size(f) == s.size + 1);
    FUZZ_CHECK(s.n >= 1);
    st_merkle_frontier_root(f, r1);
    FUZZ_CHECK(st_merkle_frontier_encode(f, out, sizeof out, &len) == ST_OK);
    FUZZ_CHECK(st_merkle_frontier_decode(g, out, len, NULL, 0) == ST_OK);
    st_merkle_frontier_root(g, r2);
    FUZZ_CHECK(memcmp(r1, r2, 32) == 0);
    return 0;
}
