/* verify.c - what a resident or an auditor checks without trusting the node that answered:
 * receipts and signed tree heads against the trusted node keys, inclusion and consistency
 * proofs against signed roots (crypto/receipt.h, crypto/sth.h, crypto/merkle.h), and the
 * whole online check of a receipt that fetches its proofs from any node.
 */
#include <string.h>

#include "client/lib/internal.h"
#include "crypto/merkle.h"

int st_verify_receipt(const uint8_t *receipt, size_t len, const st_trusted_key *keys, size_t nkeys,
                      const uint8_t *record, size_t record_len, st_receipt *out, st_error *err) {
    st_receipt rc;
    char msg[256];
    int r = st_receipt_decode(&rc, receipt, len, msg, sizeof(msg));
    if (r != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, r, "the receipt cannot be read: %s", msg);
    }
    r = st_receipt_verify(&rc, keys, nkeys, record, record_len, msg, sizeof(msg));
    if (r != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, r, "the receipt does not verify: %s", msg);
    }
    if (out != NULL) {
        *out = rc;
    }
    return ST_OK;
}

int st_verify_tree_head(const uint8_t *sth, size_t len, const st_trusted_key *keys, size_t nkeys,
                        st_sth *out, st_error *err) {
    st_sth s;
    char msg[256];
    int r = st_sth_decode(&s, sth, len, msg, sizeof(msg));
    if (r != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, r, "the tree head cannot be read: %s", msg);
    }
    r = st_sth_verify(&s, keys, nkeys, msg, sizeof(msg));
    if (r != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, r, "the tree head does not verify: %s", msg);
    }
    if (out != NULL) {
        *out = s;
    }
    return ST_OK;
}

int st_verify_inclusion(const st_receipt *rc, const uint8_t *proof, size_t n, st_error *err) {
    char msg[256];
    int r = st_receipt_verify_inclusion(rc, proof, n, msg, sizeof(msg));
    if (r != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, r,
                        "the inclusion proof of leaf %llu in the tree of %llu does not check: %s",
                        (unsigned long long)rc->leaf_index, (unsigned long long)rc->sth.tree_size,
                        msg);
    }
    return ST_OK;
}

int st_verify_consistency(const st_sth *older, const st_sth *newer, const uint8_t *proof, size_t n,
                          st_error *err) {
    if (older->vote_id != newer->vote_id) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "the tree heads are of different votes (%llu and %llu)",
                        (unsigned long long)older->vote_id, (unsigned long long)newer->vote_id);
    }
    char msg[256];
    int r = st_merkle_verify_consistency(older->tree_size, newer->tree_size, older->root,
                                         newer->root, proof, n, msg, sizeof(msg));
    if (r != ST_OK) {
        return st__fail(
            err, ST_FAIL_LOCAL, r, "the log of %llu ballots is not a prefix of the log of %llu: %s",
            (unsigned long long)older->tree_size, (unsigned long long)newer->tree_size, msg);
    }
    return ST_OK;
}

int st_proof_flatten(const Strata__V1__Proof *p, uint8_t *buf, size_t cap, size_t *n,
                     st_error *err) {
    if (p->n_hashes > cap / ST_MERKLE_HASH_LEN) {
        return st__fail(err, ST_FAIL_LOCAL, ST_ERANGE, "the proof has %zu hashes, more than %zu",
                        p->n_hashes, cap / ST_MERKLE_HASH_LEN);
    }
    for (size_t i = 0; i < p->n_hashes; i++) {
        if (p->hashes[i].len != ST_MERKLE_HASH_LEN) {
            return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "proof hash %zu has %zu bytes, not 32",
                            i, p->hashes[i].len);
        }
        memcpy(buf + i * ST_MERKLE_HASH_LEN, p->hashes[i].data, ST_MERKLE_HASH_LEN);
    }
    *n = p->n_hashes;
    return ST_OK;
}

/* Fetches a proof and flattens it into buf (ST_MERKLE_MAX_PROOF hashes). */
static int fetch_proof(st_client *c, bool inclusion, uint64_t vote, uint64_t a, uint64_t b,
                       uint8_t *buf, size_t *n, st_error *err) {
    Strata__V1__Proof *p = NULL;
    int r = inclusion ? st_get_inclusion_proof(c, vote, a, b, &p, err)
                      : st_get_consistency_proof(c, vote, a, b, &p, err);
    if (r != ST_OK) {
        return r;
    }
    if (p->tree_size != b) {
        r = st__fail(err, ST_FAIL_LOCAL, ST_ECORRUPT,
                     "asked for a proof in the tree of %llu, got one for %llu",
                     (unsigned long long)b, (unsigned long long)p->tree_size);
    } else {
        r = st_proof_flatten(p, buf, ST_MERKLE_MAX_PROOF * ST_MERKLE_HASH_LEN, n, err);
    }
    strata__v1__proof__free_unpacked(p, NULL);
    return r;
}

int st_check_receipt(st_client *c, const uint8_t *receipt, size_t len, const uint8_t *record,
                     size_t record_len, const st_trusted_key *keys, size_t nkeys,
                     st_receipt_check *out, st_error *err) {
    memset(out, 0, sizeof(*out));
    int r = st_verify_receipt(receipt, len, keys, nkeys, record, record_len, &out->receipt, err);
    if (r != ST_OK) {
        return r;
    }
    const st_sth *old = &out->receipt.sth;
    uint8_t proof[ST_MERKLE_MAX_PROOF * ST_MERKLE_HASH_LEN];
    size_t n = 0;
    r = fetch_proof(c, true, old->vote_id, out->receipt.leaf_index, old->tree_size, proof, &n, err);
    if (r == ST_OK) {
        r = st_verify_inclusion(&out->receipt, proof, n, err);
    }
    if (r != ST_OK) {
        return r;
    }
    out->included = true;

    Strata__V1__TreeHead *head = NULL;
    r = st_get_tree_head(c, old->vote_id, &head, err);
    if (r != ST_OK) {
        return r;
    }
    r = st_verify_tree_head(head->sth.data, head->sth.len, keys, nkeys, &out->latest, err);
    strata__v1__tree_head__free_unpacked(head, NULL);
    if (r == ST_OK && out->latest.vote_id != old->vote_id) {
        r = st__fail(err, ST_FAIL_LOCAL, ST_ECORRUPT, "asked for the head of vote %llu, got %llu",
                     (unsigned long long)old->vote_id, (unsigned long long)out->latest.vote_id);
    }
    if (r == ST_OK && out->latest.tree_size < old->tree_size) {
        r = st__fail(err, ST_FAIL_LOCAL, ST_ECORRUPT,
                     "the latest log (%llu ballots) is shorter than the receipt's (%llu)",
                     (unsigned long long)out->latest.tree_size, (unsigned long long)old->tree_size);
    }
    if (r != ST_OK) {
        return r;
    }
    n = 0;
    if (out->latest.tree_size != old->tree_size) {
        r = fetch_proof(c, false, old->vote_id, old->tree_size, out->latest.tree_size, proof, &n,
                        err);
    }
    if (r == ST_OK) {
        r = st_verify_consistency(old, &out->latest, proof, n, err);
    }
    if (r == ST_OK) {
        out->consistent = true;
    }
    return r;
}
