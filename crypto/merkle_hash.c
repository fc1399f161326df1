/* merkle_hash.c - RFC 9162 leaf, node and empty-tree hashes. */
#include "crypto/hash.h"
#include "crypto/merkle.h"

void st_merkle_leaf_hash(uint8_t out[32], const void *data, size_t len) {
    static const uint8_t prefix = 0x00;
    st_hash_part parts[2] = {{&prefix, 1}, {data, len}};
    st_hash_sha256v(out, parts, 2);
}

void st_merkle_node_hash(uint8_t out[32], const uint8_t left[32], const uint8_t right[32]) {
    static const uint8_t prefix = 0x01;
    st_hash_part parts[3] = {{&prefix, 1}, {left, 32}, {right, 32}};
    /* st_hash_sha256v reads all input before writing out, so out may alias an input. */
    st_hash_sha256v(out, parts, 3);
}

void st_merkle_empty_root(uint8_t out[32]) {
    st_hash_sha256(out, NULL, 0);
}
