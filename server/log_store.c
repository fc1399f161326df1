/* log_store.c - each vote's append-only RFC 9162 ballot log in LMDB.
 *
 * The log of a vote is its frontier (crypto/merkle.h, at most 64 hashes), kept in the
 * VoteRecord's log_frontier bytes, plus every completed perfect subtree (level, index) in
 * the log_nodes database under vote ‖ level ‖ index. Appending a leaf stores the nodes the
 * frontier reports and re-encodes the frontier: O(log n) writes. Roots at any past size and
 * inclusion and consistency proofs read stored nodes only, O(log^2 n) reads, through
 * st_vlog_get_node (an st_merkle_get_node_fn over a transaction).
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "crypto/merkle.h"
#include "server/apply.h"
#include "server/codes.h"

typedef struct {
    MDB_txn *txn;
    MDB_dbi dbi;
    uint64_t vote_id;
} node_writer;

static int put_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32]) {
    node_writer *w = ctx;
    st_key k = st_key_node(w->vote_id, level, index);
    MDB_val kv = st_key_val(&k), v = {32, (void *)hash};
    return mdb_put(w->txn, w->dbi, &kv, &v, 0);
}

/* Decodes v's frontier into f (an empty log when v has none). */
static int load_frontier(const pb_vote *v, st_merkle_frontier *f) {
    if (v->log_frontier.len == 0) {
        return 0;
    }
    return st_merkle_frontier_decode(f, v->log_frontier.data, v->log_frontier.len, NULL, 0) == ST_OK
               ? 0
               : ST_ECORRUPT;
}

int st_vlog_size(const pb_vote *v, uint64_t *size) {
    *size = 0;
    if (v->log_frontier.len == 0) {
        return 0;
    }
    if (v->log_frontier.len < 9 || v->log_frontier.data[0] != ST_MERKLE_FRONTIER_VERSION) {
        return ST_ECORRUPT;
    }
    uint64_t n = st_get_be64(v->log_frontier.data + 1);
    size_t bits = 0;
    for (uint64_t x = n; x != 0; x &= x - 1) {
        bits++;
    }
    if (v->log_frontier.len != 9 + 32 * bits) {
        return ST_ECORRUPT;
    }
    *size = n;
    return 0;
}

int st_vlog_append(MDB_txn *txn, const st_store *st, pb_vote *v, const uint8_t leaf_hash[32],
                   uint64_t *leaf_index, uint64_t *tree_size, uint8_t root[32]) {
    st_merkle_frontier *f;
    if (st_merkle_frontier_init(&f) != ST_OK) {
        return ST_ENOMEM;
    }
    int rc = load_frontier(v, f);
    uint8_t *enc = NULL;
    size_t len = 0;
    if (rc == 0) {
        node_writer w = {txn, st_store_dbi(st, ST_DB_LOG_NODES), v->id};
        *leaf_index = st_merkle_frontier_size(f);
        rc = st_merkle_frontier_append(f, leaf_hash, put_node, &w);
        if (rc == ST_ERANGE) {
            rc = ST_ECORRUPT; /* 2^64 - 1 ballots: cannot happen */
        }
    }
    if (rc == 0) {
        enc = malloc(st_merkle_frontier_encoded_len(f));
        rc = enc != NULL ? 0 : ST_ENOMEM;
    }
    if (rc == 0 &&
        st_merkle_frontier_encode(f, enc, st_merkle_frontier_encoded_len(f), &len) != ST_OK) {
        rc = ST_ECORRUPT;
    }
    if (rc == 0) {
        *tree_size = st_merkle_frontier_size(f);
        st_merkle_frontier_root(f, root);
        free(v->log_frontier.data); /* the unpacked record's buffer (system allocator) */
        v->log_frontier.data = enc;
        v->log_frontier.len = len;
        enc = NULL;
    }
    free(enc);
    st_merkle_frontier_free(f);
    return rc;
}

void st_vlog_reader_init(st_vlog_reader *r, MDB_txn *txn, const st_store *st, uint64_t vote_id) {
    r->txn = txn;
    r->dbi = st_store_dbi(st, ST_DB_LOG_NODES);
    r->vote_id = vote_id;
    r->rc = 0;
}

int st_vlog_get_node(void *ctx, unsigned level, uint64_t index, uint8_t out[32]) {
    st_vlog_reader *r = ctx;
    st_key k = st_key_node(r->vote_id, level, index);
    MDB_val kv = st_key_val(&k), v;
    int rc = mdb_get(r->txn, r->dbi, &kv, &v);
    if (rc == 0 && v.mv_size != 32) {
        rc = ST_ECORRUPT;
    }
    if (rc != 0) {
        if (r->rc == 0) {
            r->rc = rc;
        }
        return rc == MDB_NOTFOUND ? ST_ENOENT : rc;
    }
    memcpy(out, v.mv_data, 32);
    return 0;
}
