/* merkle.h - the RFC 9162 (Certificate Transparency v2) Merkle tree, storage-agnostic.
 *
 *   leaf hash  = SHA-256(0x00 || leaf data)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH({})    = SHA-256("")
 *   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n.
 *
 * Storage: the tree is described by its *perfect subtrees*. The node (level, index) is the
 * root of the perfect subtree over leaves [index * 2^level, (index + 1) * 2^level); level 0
 * nodes are the leaf hashes. Once complete, a node never changes. A log keeps
 *   - a frontier: the hashes of the <= 64 perfect subtrees along the right edge (one per set
 *     bit of the tree size). Appending a leaf is O(log n); the frontier yields the current
 *     root and reports each newly completed node so the caller can store it; it serialises
 *     to a small record (st_merkle_frontier_encode/_decode);
 *   - the completed nodes, in any key-value store. Proofs are generated through a callback
 *     that reads them (st_merkle_get_node_fn): O(log^2 n) reads, never a pass over leaves.
 *
 * Proofs are flat arrays of 32-byte hashes (hash i at bytes [32*i, 32*i+32)), in the order
 * of RFC 9162 §2.1.3.1 / §2.1.4.1; verifiers follow §2.1.3.2 / §2.1.4.2 exactly.
 * crypto/merkle_mem.h is an in-memory node store for clients and tests.
 */
#ifndef STRATA_CRYPTO_MERKLE_H
#define STRATA_CRYPTO_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define ST_MERKLE_HASH_LEN 32
#define ST_MERKLE_MAX_LEVELS 64 /* a tree holds at most 2^64 - 1 leaves */
/* Longest inclusion proof is 64 hashes, longest consistency proof 65. */
#define ST_MERKLE_MAX_PROOF 65
/* Frontier record: u8 version, u64 size, then one hash per set bit of size. */
#define ST_MERKLE_FRONTIER_VERSION 1
#define ST_MERKLE_FRONTIER_MAX_ENCODED (1 + 8 + ST_MERKLE_MAX_LEVELS * ST_MERKLE_HASH_LEN)

/* ---- hashing ---- */

/* out = SHA-256(0x00 || data[0..len)). */
void st_merkle_leaf_hash(uint8_t out[32], const void *data, size_t len);
/* out = SHA-256(0x01 || left || right). out may alias left or right. */
void st_merkle_node_hash(uint8_t out[32], const uint8_t left[32], const uint8_t right[32]);
/* out = SHA-256(""), the root of the empty tree. */
void st_merkle_empty_root(uint8_t out[32]);

/* ---- callbacks ---- */

/* Called by st_merkle_frontier_append() for each newly completed node, lowest level first
 * (level 0 is the appended leaf itself). hash is borrowed for the call. A non-zero return
 * aborts the append (the frontier is left unchanged) and is passed back to the caller. */
typedef int (*st_merkle_node_cb)(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32]);

/* Reads the completed node (level, index) into out. Returns 0, or a non-zero code that the
 * proof functions pass back (ST_ENOENT for a node that is not stored, for instance). */
typedef int (*st_merkle_get_node_fn)(void *ctx, unsigned level, uint64_t index, uint8_t out[32]);

/* ---- frontier ---- */

typedef struct st_merkle_frontier st_merkle_frontier;

/* Allocates an empty frontier (size 0) into *out. Returns ST_OK or ST_ENOMEM.
 * The caller owns it and frees it with st_merkle_frontier_free(). */
int st_merkle_frontier_init(st_merkle_frontier **out);
/* Frees a frontier; NULL is allowed. */
void st_merkle_frontier_free(st_merkle_frontier *f);
/* Copies src into dst (both allocated). */
void st_merkle_frontier_copy(st_merkle_frontier *dst, const st_merkle_frontier *src);

/* Number of leaves. */
uint64_t st_merkle_frontier_size(const st_merkle_frontier *f);

/* Appends one leaf hash. cb (may be NULL) is told about the leaf (level 0) and each node it
 * completes. Returns ST_OK, ST_ERANGE when the tree is full (2^64 - 1 leaves), or the
 * callback's non-zero return; on any failure the frontier is unchanged. */
int st_merkle_frontier_append(st_merkle_frontier *f, const uint8_t leaf_hash[32],
                              st_merkle_node_cb cb, void *ctx);

/* The root of the tree of the current size (SHA-256("") when empty). */
void st_merkle_frontier_root(const st_merkle_frontier *f, uint8_t out[32]);

/* Bytes st_merkle_frontier_encode() writes: 9 + 32 * popcount(size). */
size_t st_merkle_frontier_encoded_len(const st_merkle_frontier *f);
/* Writes the record into out[0..cap). Returns ST_OK (and *len) or ST_ERANGE if cap is too
 * small (ST_MERKLE_FRONTIER_MAX_ENCODED always suffices). */
int st_merkle_frontier_encode(const st_merkle_frontier *f, uint8_t *out, size_t cap, size_t *len);
/* Replaces f's contents with a decoded record. Rejects an unknown version and a length
 * other than 9 + 32 * popcount(size) with ST_EINVAL; f is unchanged on failure. */
int st_merkle_frontier_decode(st_merkle_frontier *f, const uint8_t *in, size_t len, char *err,
                              size_t errlen);

/* ---- reading the tree through get_node ---- */

/* out = MTH(D[0:size]) read from stored nodes (popcount(size) calls). */
int st_merkle_root_at(uint64_t size, st_merkle_get_node_fn get, void *ctx, uint8_t out[32]);

/* PATH(index, D[0:size]) into proof (the caller's buffer of cap hashes, ST_MERKLE_MAX_PROOF
 * always suffices); *n is the number of hashes. Returns ST_OK, ST_EINVAL when
 * index >= size, ST_ERANGE when cap is too small, or get's non-zero return. */
int st_merkle_inclusion_proof(uint64_t index, uint64_t size, st_merkle_get_node_fn get, void *ctx,
                              uint8_t *proof, size_t cap, size_t *n);

/* PROOF(old_size, D[0:new_size]) into proof, as above. Empty when old_size is 0 or equals
 * new_size. Returns ST_OK, ST_EINVAL when old_size > new_size, ST_ERANGE, or get's code. */
int st_merkle_consistency_proof(uint64_t old_size, uint64_t new_size, st_merkle_get_node_fn get,
                                void *ctx, uint8_t *proof, size_t cap, size_t *n);

/* ---- verifiers (RFC 9162 §2.1.3.2 and §2.1.4.2) ---- */

/* Verifies that leaf_hash is leaf index of the tree of tree_size leaves whose root is root.
 * Returns ST_OK; ST_EINVAL for index >= tree_size or more than 64 hashes; ST_ECORRUPT when
 * the proof does not lead to root (wrong hashes or wrong length). */
int st_merkle_verify_inclusion(const uint8_t leaf_hash[32], uint64_t index, uint64_t tree_size,
                               const uint8_t *proof, size_t n, const uint8_t root[32], char *err,
                               size_t errlen);

/* Verifies that the tree (old_size, old_root) is a prefix of (new_size, new_root).
 * old_size == new_size needs an empty proof and equal roots; old_size == 0 needs an empty
 * proof and old_root == SHA-256(""). Returns ST_OK; ST_EINVAL for old_size > new_size or
 * more than ST_MERKLE_MAX_PROOF hashes; ST_ECORRUPT when the proof does not check. */
int st_merkle_verify_consistency(uint64_t old_size, uint64_t new_size, const uint8_t old_root[32],
                                 const uint8_t new_root[32], const uint8_t *proof, size_t n,
                                 char *err, size_t errlen);

#endif
