/* ballot.c - canonical encoding, strict decoding and signing of "strata-ballot-v1". */
#include <string.h>

#include "core/error.h"
#include "crypto/ballot.h"
#include "crypto/crypto.h"

int st_owner_id_ok(const char *s) {
    size_t n = strnlen(s, ST_OWNER_ID_MAX + 1);
    return n >= 1 && n <= ST_OWNER_ID_MAX && st_canon_utf8_ok((const uint8_t *)s, n);
}

int st_ballot_check(const st_ballot *b, char *err, size_t errlen) {
    if (!st_owner_id_ok(b->owner_id))
        return st_fail(err, errlen, ST_EINVAL,
                       "ballot: owner_id must be 1..%d bytes of UTF-8 without control "
                       "characters",
                       ST_OWNER_ID_MAX);
    if (b->kind == ST_BALLOT_KIND_CHOICE) {
        if (b->choice < ST_CHOICE_AGREE || b->choice > ST_CHOICE_ABSTAIN)
            return st_fail(err, errlen, ST_EINVAL, "ballot: unknown choice %u",
                           (unsigned)b->choice);
        if (b->n_approvals != 0)
            return st_fail(err, errlen, ST_EINVAL, "ballot: a choice ballot has no approvals");
    } else if (b->kind == ST_BALLOT_KIND_APPROVAL) {
        if (b->choice != 0)
            return st_fail(err, errlen, ST_EINVAL, "ballot: an approval ballot has no choice");
        if (b->n_approvals > ST_BALLOT_MAX_APPROVALS)
            return st_fail(err, errlen, ST_EINVAL, "ballot: %u approvals, at most %d",
                           (unsigned)b->n_approvals, ST_BALLOT_MAX_APPROVALS);
        for (unsigned i = 1; i < b->n_approvals; i++)
            if (b->approvals[i] <= b->approvals[i - 1])
                return st_fail(err, errlen, ST_EINVAL,
                               "ballot: approvals must be strictly ascending (entry %u)", i);
    } else {
        return st_fail(err, errlen, ST_EINVAL, "ballot: unknown kind %u", (unsigned)b->kind);
    }
    return ST_OK;
}

int st_ballot_encode(const st_ballot *b, st_canon_writer *w, char *err, size_t errlen) {
    int rc = st_ballot_check(b, err, errlen);
    if (rc != ST_OK)
        return rc;
    st_canon_put_u8(w, ST_BALLOT_VERSION);
    st_canon_put_u64(w, b->community_id);
    st_canon_put_u64(w, b->vote_id);
    st_canon_put_str16(w, b->owner_id, strlen(b->owner_id));
    st_canon_put_u8(w, b->kind);
    if (b->kind == ST_BALLOT_KIND_CHOICE) {
        st_canon_put_u8(w, b->choice);
    } else {
        st_canon_put_u8(w, b->n_approvals);
        for (unsigned i = 0; i < b->n_approvals; i++)
            st_canon_put_u32(w, b->approvals[i]);
    }
    st_canon_put_bytes(w, b->nonce, ST_NONCE_LEN);
    st_canon_put_u64(w, b->cast_ms);
    st_canon_put_bytes(w, b->key_id, ST_KEY_ID_LEN);
    if ((rc = st_canon_writer_status(w)) != ST_OK)
        return st_fail(err, errlen, rc, "ballot: cannot encode: %s", st_strerror(rc));
    return ST_OK;
}

int st_ballot_encode_buf(const st_ballot *b, uint8_t out[ST_BALLOT_MAX_LEN], size_t *len, char *err,
                         size_t errlen) {
    st_canon_writer w;
    int rc;

    *len = 0;
    st_canon_writer_init(&w);
    rc = st_ballot_encode(b, &w, err, errlen);
    if (rc == ST_OK) {
        const uint8_t *data = st_canon_writer_data(&w, len);
        memcpy(out, data, *len);
    }
    st_canon_writer_free(&w);
    return rc;
}

int st_ballot_read(st_canon_reader *r, st_ballot *b) {
    size_t at;
    uint8_t version = 0;
    const uint8_t *owner;
    size_t owner_len;

    memset(b, 0, sizeof *b);
    at = st_canon_reader_offset(r);
    if (st_canon_get_u8(r, &version) == ST_OK && version != ST_BALLOT_VERSION)
        return st_canon_reader_fail_at(r, at, ST_EINVAL, "unknown ballot version");
    st_canon_get_u64(r, &b->community_id);
    st_canon_get_u64(r, &b->vote_id);
    at = st_canon_reader_offset(r);
    if (st_canon_get_str16(r, &owner, &owner_len, ST_OWNER_ID_MAX) == ST_OK) {
        if (owner_len == 0 || !st_canon_utf8_ok(owner, owner_len))
            return st_canon_reader_fail_at(r, at, ST_EINVAL,
                                           "owner_id empty, not UTF-8, or has controls");
        memcpy(b->owner_id, owner, owner_len);
        b->owner_id[owner_len] = '\0';
    }
    at = st_canon_reader_offset(r);
    if (st_canon_get_u8(r, &b->kind) != ST_OK)
        return r->err;
    if (b->kind == ST_BALLOT_KIND_CHOICE) {
        at = st_canon_reader_offset(r);
        if (st_canon_get_u8(r, &b->choice) == ST_OK &&
            (b->choice < ST_CHOICE_AGREE || b->choice > ST_CHOICE_ABSTAIN))
            return st_canon_reader_fail_at(r, at, ST_EINVAL, "unknown choice");
    } else if (b->kind == ST_BALLOT_KIND_APPROVAL) {
        at = st_canon_reader_offset(r);
        if (st_canon_get_u8(r, &b->n_approvals) == ST_OK &&
            b->n_approvals > ST_BALLOT_MAX_APPROVALS)
            return st_canon_reader_fail_at(r, at, ST_EINVAL, "more than 11 approvals");
        for (unsigned i = 0; i < b->n_approvals; i++) {
            at = st_canon_reader_offset(r);
            if (st_canon_get_u32(r, &b->approvals[i]) == ST_OK && i > 0 &&
                b->approvals[i] <= b->approvals[i - 1])
                return st_canon_reader_fail_at(r, at, ST_EINVAL,
                                               "approvals unsorted or duplicated");
        }
    } else {
        return st_canon_reader_fail_at(r, at, ST_EINVAL, "unknown ballot kind");
    }
    st_canon_get_bytes(r, b->nonce, ST_NONCE_LEN);
    st_canon_get_u64(r, &b->cast_ms);
    st_canon_get_bytes(r, b->key_id, ST_KEY_ID_LEN);
    return r->err;
}

int st_ballot_decode(st_ballot *b, const uint8_t *buf, size_t len, char *err, size_t errlen) {
    st_canon_reader r;
    int rc;

    st_canon_reader_init(&r, buf, len);
    st_ballot_read(&r, b);
    st_canon_reader_end(&r);
    rc = st_canon_reader_status(&r, "ballot", err, errlen);
    if (rc != ST_OK)
        memset(b, 0, sizeof *b);
    return rc;
}

int st_ballot_sign(const st_ballot *b, const uint8_t sk[ST_SIGN_SK_LEN],
                   uint8_t sig[ST_SIGN_SIG_LEN], char *err, size_t errlen) {
    uint8_t buf[ST_BALLOT_MAX_LEN], pk[ST_SIGN_PK_LEN], id[ST_KEY_ID_LEN];
    size_t len;
    int rc;

    memset(sig, 0, ST_SIGN_SIG_LEN);
    st_sign_sk_to_pk(pk, sk);
    st_key_id(id, pk);
    if (memcmp(id, b->key_id, ST_KEY_ID_LEN) != 0)
        return st_fail(err, errlen, ST_EINVAL, "ballot: key_id is not the signing key's id");
    if ((rc = st_ballot_encode_buf(b, buf, &len, err, errlen)) != ST_OK)
        return rc;
    return st_sign_detached(sig, ST_DOMAIN_BALLOT, buf, len, sk, err, errlen);
}

int st_ballot_verify(const st_ballot *b, const uint8_t pk[ST_SIGN_PK_LEN],
                     const uint8_t sig[ST_SIGN_SIG_LEN], char *err, size_t errlen) {
    uint8_t buf[ST_BALLOT_MAX_LEN], id[ST_KEY_ID_LEN];
    size_t len;
    int rc;

    st_key_id(id, pk);
    if (memcmp(id, b->key_id, ST_KEY_ID_LEN) != 0)
        return st_fail(err, errlen, ST_EAUTH, "ballot: key_id does not match the public key");
    if ((rc = st_ballot_encode_buf(b, buf, &len, err, errlen)) != ST_OK)
        return rc;
    return st_sign_verify(sig, ST_DOMAIN_BALLOT, buf, len, pk, err, errlen);
}
