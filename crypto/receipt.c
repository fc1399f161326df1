/* receipt.c - receipts: encoding, strict decoding, signing and offline verification. */
#include <string.h>

#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/endian.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "crypto/receipt.h"
#include "crypto/record.h"

void st_receipt_tbs(const st_receipt *rc, uint8_t out[ST_RECEIPT_TBS_LEN]) {
    out[0] = ST_RECEIPT_VERSION;
    memcpy(out + 1, rc->leaf_hash, 32);
    st_store_be64(out + 33, rc->leaf_index);
    st_sth_encode(&rc->sth, out + 41);
}

int st_receipt_sign(st_receipt *rc, const uint8_t sk[ST_SIGN_SK_LEN], char *err, size_t errlen) {
    uint8_t tbs[ST_RECEIPT_TBS_LEN];
    if (rc->leaf_index >= rc->sth.tree_size)
        return st_fail(err, errlen, ST_EINVAL, "receipt: leaf index %llu outside tree of %llu",
                       (unsigned long long)rc->leaf_index, (unsigned long long)rc->sth.tree_size);
    st_receipt_tbs(rc, tbs);
    return st_sign_detached(rc->sig, ST_DOMAIN_RECEIPT, tbs, sizeof tbs, sk, err, errlen);
}

void st_receipt_encode(const st_receipt *rc, uint8_t out[ST_RECEIPT_LEN]) {
    st_receipt_tbs(rc, out);
    memcpy(out + ST_RECEIPT_TBS_LEN, rc->sig, ST_SIGN_SIG_LEN);
}

int st_receipt_decode(st_receipt *rc, const uint8_t *buf, size_t len, char *err, size_t errlen) {
    st_canon_reader r;
    uint8_t version = 0;
    int code;

    memset(rc, 0, sizeof *rc);
    st_canon_reader_init(&r, buf, len);
    if (st_canon_get_u8(&r, &version) == ST_OK && version != ST_RECEIPT_VERSION)
        st_canon_reader_fail_at(&r, 0, ST_EINVAL, "unknown receipt version");
    st_canon_get_h32(&r, rc->leaf_hash);
    st_canon_get_u64(&r, &rc->leaf_index);
    st_sth_read(&r, &rc->sth);
    st_canon_get_bytes(&r, rc->sig, ST_SIGN_SIG_LEN);
    st_canon_reader_end(&r);
    code = st_canon_reader_status(&r, "receipt", err, errlen);
    if (code != ST_OK)
        memset(rc, 0, sizeof *rc);
    return code;
}

int st_receipt_verify(const st_receipt *rc, const st_trusted_key *keys, size_t n,
                      const uint8_t *record, size_t record_len, char *err, size_t errlen) {
    uint8_t tbs[ST_RECEIPT_TBS_LEN];
    int code;

    if (rc->leaf_index >= rc->sth.tree_size)
        return st_fail(err, errlen, ST_EINVAL, "receipt: leaf index %llu outside tree of %llu",
                       (unsigned long long)rc->leaf_index, (unsigned long long)rc->sth.tree_size);
    if ((code = st_sth_verify(&rc->sth, keys, n, err, errlen)) != ST_OK)
        return code;
    st_receipt_tbs(rc, tbs);
    code = ST_EAUTH;
    for (size_t i = 0; i < n && code != ST_OK; i++)
        if (keys[i].node_id == rc->sth.node_id)
            code = st_sign_verify(rc->sig, ST_DOMAIN_RECEIPT, tbs, sizeof tbs, keys[i].pubkey, NULL,
                                  0);
    if (code != ST_OK)
        return st_fail(err, errlen, ST_EAUTH, "receipt: signature of node %llu does not verify",
                       (unsigned long long)rc->sth.node_id);
    if (record) {
        st_record rec;
        uint8_t leaf[32];
        if ((code = st_record_decode(&rec, record, record_len, err, errlen)) != ST_OK)
            return code;
        st_merkle_leaf_hash(leaf, record, record_len);
        if (!st_hash_equal(leaf, rc->leaf_hash))
            return st_fail(err, errlen, ST_ECORRUPT, "receipt: leaf hash is not the record's");
        if (rec.ballot.vote_id != rc->sth.vote_id)
            return st_fail(err, errlen, ST_ECORRUPT, "receipt: record is for vote %llu, not %llu",
                           (unsigned long long)rec.ballot.vote_id,
                           (unsigned long long)rc->sth.vote_id);
    }
    return ST_OK;
}

int st_receipt_verify_inclusion(const st_receipt *rc, const uint8_t *proof, size_t n, char *err,
                                size_t errlen) {
    return st_merkle_verify_inclusion(rc->leaf_hash, rc->leaf_index, rc->sth.tree_size, proof, n,
                                      rc->sth.root, err, errlen);
}
