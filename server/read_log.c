/* read_log.c - reads of the vote logs: size and root now and at any past size, inclusion
 * and consistency proofs (RFC 9162, built from stored nodes by crypto/merkle.h in
 * O(log^2 n) reads), leaf records, and the check of a signed tree head against the roster
 * and the stored log. Every read runs in one LMDB read transaction, so a proof and the
 * root it leads to always belong together. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "crypto/merkle.h"
#include "server/apply.h"
#include "server/codes.h"
#include "server/state.h"

typedef struct {
    st_store *st;
    MDB_txn *txn;
    pb_vote *vote;
    uint64_t size; /* the log's current size */
    st_vlog_reader lr;
} log_read;

/* Begins a read of the vote's log. On failure nothing is left open. */
static int log_begin(st_state *s, uint64_t vote_id, log_read *r) {
    memset(r, 0, sizeof(*r));
    r->st = st_state_store(s);
    int rc = st_store_txn_begin(r->st, MDB_RDONLY, &r->txn);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    rc = st_load_vote(r->txn, r->st, vote_id, &r->vote);
    if (rc == 0) {
        rc = st_vlog_size(r->vote, &r->size);
        if (rc != 0) {
            st_pb_free(r->vote);
            r->vote = NULL;
        }
    }
    if (rc != 0) {
        st_store_txn_end(r->st, r->txn, false);
        return st_code_from_mdb(rc);
    }
    st_vlog_reader_init(&r->lr, r->txn, r->st, vote_id);
    return ST_OK;
}

/* Ends the read; turns a proof function's code into an st_ code (a missing node is
 * damage: every node of a size up to the log's is stored). */
static int log_end(log_read *r, int rc) {
    if (rc != 0 && r->lr.rc != 0) {
        rc = r->lr.rc == MDB_NOTFOUND ? ST_ECORRUPT : r->lr.rc;
    }
    st_pb_free(r->vote);
    st_store_txn_end(r->st, r->txn, false);
    return st_code_from_mdb(rc);
}

static int root_at(log_read *r, uint64_t size, uint8_t out[32]) {
    return st_merkle_root_at(size, st_vlog_get_node, &r->lr, out);
}

int st_state_log_head(st_state *s, uint64_t vote_id, st_tree_head *out) {
    return st_state_log_root_at(s, vote_id, UINT64_MAX, out);
}

int st_state_log_root_at(st_state *s, uint64_t vote_id, uint64_t tree_size, st_tree_head *out) {
    log_read r;
    int rc = log_begin(s, vote_id, &r);
    if (rc != ST_OK) {
        return rc;
    }
    if (tree_size == UINT64_MAX) {
        tree_size = r.size; /* st_state_log_head */
    }
    if (tree_size > r.size) {
        return log_end(&r, ST_ERANGE);
    }
    memset(out, 0, sizeof(*out));
    out->vote_id = vote_id;
    out->community_id = r.vote->community_id;
    out->tree_size = tree_size;
    return log_end(&r, root_at(&r, tree_size, out->root));
}

int st_state_log_inclusion(st_state *s, uint64_t vote_id, uint64_t leaf_index, uint64_t tree_size,
                           st_tree_proof *out) {
    log_read r;
    int rc = log_begin(s, vote_id, &r);
    if (rc != ST_OK) {
        return rc;
    }
    if (tree_size == 0) {
        tree_size = r.size;
    }
    if (tree_size > r.size) {
        return log_end(&r, ST_ERANGE);
    }
    if (leaf_index >= tree_size) {
        return log_end(&r, ST_EINVAL);
    }
    memset(out, 0, sizeof(*out));
    out->tree_size = tree_size;
    rc = root_at(&r, tree_size, out->root);
    if (rc == 0) {
        rc = st_vlog_get_node(&r.lr, 0, leaf_index, out->leaf_hash);
    }
    if (rc == 0) {
        rc = st_merkle_inclusion_proof(leaf_index, tree_size, st_vlog_get_node, &r.lr,
                                       &out->hashes[0][0], ST_MERKLE_MAX_PROOF, &out->count);
    }
    return log_end(&r, rc);
}

int st_state_log_consistency(st_state *s, uint64_t vote_id, uint64_t old_size, uint64_t new_size,
                             st_tree_proof *out) {
    log_read r;
    int rc = log_begin(s, vote_id, &r);
    if (rc != ST_OK) {
        return rc;
    }
    if (new_size == 0) {
        new_size = r.size;
    }
    if (new_size > r.size) {
        return log_end(&r, ST_ERANGE);
    }
    if (old_size > new_size) {
        return log_end(&r, ST_EINVAL);
    }
    memset(out, 0, sizeof(*out));
    out->tree_size = new_size;
    out->old_size = old_size;
    rc = root_at(&r, new_size, out->root);
    if (rc == 0) {
        rc = root_at(&r, old_size, out->old_root);
    }
    if (rc == 0) {
        rc = st_merkle_consistency_proof(old_size, new_size, st_vlog_get_node, &r.lr,
                                         &out->hashes[0][0], ST_MERKLE_MAX_PROOF, &out->count);
    }
    return log_end(&r, rc);
}

int st_state_log_leaf(st_state *s, uint64_t vote_id, uint64_t leaf_index, uint8_t **record,
                      size_t *len, uint64_t *seq) {
    log_read r;
    int rc = log_begin(s, vote_id, &r);
    if (rc != ST_OK) {
        return rc;
    }
    if (leaf_index >= r.size) {
        return log_end(&r, ST_ENOENT);
    }
    /* Every accepted ballot is a leaf, in sequence order: leaf i is ballot i + 1. */
    st_key k = st_key_id2(vote_id, leaf_index + 1);
    pb_ballot *b;
    rc = st_msg_get(r.txn, st_store_dbi(r.st, ST_DB_BALLOTS), &k,
                    &strata__internal__ballot_record__descriptor, (ProtobufCMessage **)&b);
    if (rc == MDB_NOTFOUND) {
        return log_end(&r, ST_ECORRUPT);
    }
    if (rc != 0) {
        return log_end(&r, rc);
    }
    if (b->leaf_index != leaf_index || b->record.len == 0) {
        st_pb_free(b);
        return log_end(&r, ST_ECORRUPT);
    }
    uint8_t *copy = malloc(b->record.len);
    if (copy == NULL) {
        st_pb_free(b);
        return log_end(&r, ST_ENOMEM);
    }
    memcpy(copy, b->record.data, b->record.len);
    *record = copy;
    *len = b->record.len;
    if (seq != NULL) {
        *seq = b->seq;
    }
    st_pb_free(b);
    return log_end(&r, 0);
}

int st_state_verify_sth(st_state *s, const st_sth *sth, char *err, size_t errlen) {
    log_read r;
    int rc = log_begin(s, sth->vote_id, &r);
    if (rc != ST_OK) {
        return st_fail(err, errlen, rc, "vote %llu: %s", (unsigned long long)sth->vote_id,
                       st_strerror(rc));
    }
    st_trusted_key keys[16];
    size_t n = 0;
    rc = st_members_trusted(r.txn, r.st, sth->node_id, sth->timestamp_ms, keys, 16, &n);
    if (rc == MDB_NOTFOUND || (rc == 0 && n == 0)) {
        log_end(&r, 0);
        return st_fail(err, errlen, ST_EAUTH,
                       "node %llu had no trusted key at the tree head's time (not in the roster, "
                       "removed, or re-keyed)",
                       (unsigned long long)sth->node_id);
    }
    if (rc != 0) {
        return log_end(&r, rc);
    }
    int vrc = st_sth_verify(sth, keys, n, err, errlen);
    if (vrc != ST_OK) {
        log_end(&r, 0);
        return vrc;
    }
    if (sth->tree_size > r.size) {
        log_end(&r, 0);
        return st_fail(err, errlen, ST_ERANGE, "the tree head's size %llu is beyond the log (%llu)",
                       (unsigned long long)sth->tree_size, (unsigned long long)r.size);
    }
    uint8_t root[32];
    rc = root_at(&r, sth->tree_size, root);
    if (rc != 0) {
        return log_end(&r, rc);
    }
    log_end(&r, 0);
    if (memcmp(root, sth->root, 32) != 0) {
        return st_fail(err, errlen, ST_ECORRUPT,
                       "the tree head's root is not the log's root at size %llu",
                       (unsigned long long)sth->tree_size);
    }
    return ST_OK;
}
