/* merkle_mem.h - an in-memory Merkle log: a frontier plus every completed perfect subtree
 * kept in one growable array per level. For clients (re-verifying an exported log) and
 * tests; the server keeps the same nodes in LMDB instead.
 *
 * st_merkle_mem_get_node is an st_merkle_get_node_fn: pass it with the st_merkle_mem as ctx
 * to st_merkle_inclusion_proof() and friends.
 */
#ifndef STRATA_CRYPTO_MERKLE_MEM_H
#define STRATA_CRYPTO_MERKLE_MEM_H

#include <stddef.h>
#include <stdint.h>

typedef struct st_merkle_mem st_merkle_mem;

/* Allocates an empty log into *out (the caller owns it; free with st_merkle_mem_free()).
 * Returns ST_OK or ST_ENOMEM. */
int st_merkle_mem_init(st_merkle_mem **out);
void st_merkle_mem_free(st_merkle_mem *t);

/* Appends a leaf hash (not leaf data: hash it with st_merkle_leaf_hash() first).
 * Returns ST_OK or ST_ENOMEM (the log is unchanged then). */
int st_merkle_mem_append(st_merkle_mem *t, const uint8_t leaf_hash[32]);

uint64_t st_merkle_mem_size(const st_merkle_mem *t);

/* The root at the current size. */
void st_merkle_mem_root(const st_merkle_mem *t, uint8_t out[32]);

/* The get_node callback: ctx is an st_merkle_mem. Returns ST_OK or ST_ENOENT when the node
 * is not complete yet. */
int st_merkle_mem_get_node(void *ctx, unsigned level, uint64_t index, uint8_t out[32]);

#endif
