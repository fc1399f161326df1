/* record.c - the signed ballot record (Merkle leaf data): encode, strict decode, sign,
 * verify, leaf hash. */
#include <sodium.h>
#include <string.h>

#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/merkle.h"
#include "crypto/record.h"

static int all_zero(const void *p, size_t n) {
    return sodium_is_zero(p, n);
}

int st_record_check(const st_record *rec, char *err, size_t errlen) {
    int rc = st_ballot_check(&rec->ballot, err, errlen);
    if (rc != ST_OK)
        return rc;
    if (rec->source == ST_SOURCE_ONLINE) {
        if (!all_zero(rec->scan_sha256, 32))
            return st_fail(err, errlen, ST_EINVAL, "record: online ballot with a scan hash");
    } else if (rec->source != ST_SOURCE_PAPER) {
        return st_fail(err, errlen, ST_EINVAL, "record: unknown source %u", (unsigned)rec->source);
    }
    if (rec->proxy == 1) {
        if (!st_owner_id_ok(rec->proxy_owner_id))
            return st_fail(err, errlen, ST_EINVAL, "record: bad proxy_owner_id");
        if (strcmp(rec->proxy_owner_id, rec->ballot.owner_id) == 0)
            return st_fail(err, errlen, ST_EINVAL, "record: an owner cannot be their own proxy");
    } else if (rec->proxy == 0) {
        if (!all_zero(rec->proxy_owner_id, sizeof rec->proxy_owner_id))
            return st_fail(err, errlen, ST_EINVAL, "record: proxy_owner_id without proxy flag");
    } else {
        return st_fail(err, errlen, ST_EINVAL, "record: proxy flag must be 0 or 1");
    }
    return ST_OK;
}

int st_record_encode(const st_record *rec, st_canon_writer *w, char *err, size_t errlen) {
    uint8_t ballot[ST_BALLOT_MAX_LEN];
    size_t blen;
    int rc;

    if ((rc = st_record_check(rec, err, errlen)) != ST_OK)
        return rc;
    if ((rc = st_ballot_encode_buf(&rec->ballot, ballot, &blen, err, errlen)) != ST_OK)
        return rc;
    st_canon_put_u8(w, ST_RECORD_VERSION);
    st_canon_put_str16(w, ballot, blen);
    st_canon_put_bytes(w, rec->pubkey, ST_SIGN_PK_LEN);
    st_canon_put_bytes(w, rec->sig, ST_SIGN_SIG_LEN);
    st_canon_put_u8(w, rec->source);
    if (rec->source == ST_SOURCE_PAPER)
        st_canon_put_h32(w, rec->scan_sha256);
    st_canon_put_u8(w, rec->proxy);
    if (rec->proxy)
        st_canon_put_str16(w, rec->proxy_owner_id, strlen(rec->proxy_owner_id));
    if ((rc = st_canon_writer_status(w)) != ST_OK)
        return st_fail(err, errlen, rc, "record: cannot encode: %s", st_strerror(rc));
    return ST_OK;
}

int st_record_encode_buf(const st_record *rec, uint8_t out[ST_RECORD_MAX_LEN], size_t *len,
                         char *err, size_t errlen) {
    st_canon_writer w;
    int rc;

    *len = 0;
    st_canon_writer_init(&w);
    rc = st_record_encode(rec, &w, err, errlen);
    if (rc == ST_OK) {
        const uint8_t *data = st_canon_writer_data(&w, len);
        memcpy(out, data, *len);
    }
    st_canon_writer_free(&w);
    return rc;
}

int st_record_decode(st_record *rec, const uint8_t *buf, size_t len, char *err, size_t errlen) {
    st_canon_reader r, br;
    uint8_t version = 0;
    const uint8_t *bp, *pp;
    size_t blen, plen, at;
    int rc;

    memset(rec, 0, sizeof *rec);
    st_canon_reader_init(&r, buf, len);
    if (st_canon_get_u8(&r, &version) == ST_OK && version != ST_RECORD_VERSION)
        st_canon_reader_fail_at(&r, 0, ST_EINVAL, "unknown record version");
    at = st_canon_reader_offset(&r);
    if (st_canon_get_str16(&r, &bp, &blen, ST_BALLOT_MAX_LEN) == ST_OK) {
        /* The embedded ballot must fill its length exactly; report its errors at their
         * offset within the record. */
        st_canon_reader_init(&br, bp, blen);
        st_ballot_read(&br, &rec->ballot);
        st_canon_reader_end(&br);
        if (br.err != ST_OK)
            st_canon_reader_fail_at(&r, at + 2 + br.err_off, br.err, br.what);
    }
    st_canon_get_bytes(&r, rec->pubkey, ST_SIGN_PK_LEN);
    st_canon_get_bytes(&r, rec->sig, ST_SIGN_SIG_LEN);
    at = st_canon_reader_offset(&r);
    if (st_canon_get_u8(&r, &rec->source) == ST_OK) {
        if (rec->source == ST_SOURCE_PAPER)
            st_canon_get_h32(&r, rec->scan_sha256);
        else if (rec->source != ST_SOURCE_ONLINE)
            st_canon_reader_fail_at(&r, at, ST_EINVAL, "unknown source");
    }
    at = st_canon_reader_offset(&r);
    if (st_canon_get_u8(&r, &rec->proxy) == ST_OK) {
        if (rec->proxy == 1) {
            at = st_canon_reader_offset(&r);
            if (st_canon_get_str16(&r, &pp, &plen, ST_OWNER_ID_MAX) == ST_OK) {
                if (plen == 0 || !st_canon_utf8_ok(pp, plen)) {
                    st_canon_reader_fail_at(&r, at, ST_EINVAL, "bad proxy_owner_id");
                } else {
                    memcpy(rec->proxy_owner_id, pp, plen);
                    rec->proxy_owner_id[plen] = '\0';
                    if (strcmp(rec->proxy_owner_id, rec->ballot.owner_id) == 0)
                        st_canon_reader_fail_at(&r, at, ST_EINVAL,
                                                "proxy_owner_id equals the ballot's owner");
                }
            }
        } else if (rec->proxy != 0) {
            st_canon_reader_fail_at(&r, at, ST_EINVAL, "proxy flag must be 0 or 1");
        }
    }
    st_canon_reader_end(&r);
    rc = st_canon_reader_status(&r, "record", err, errlen);
    if (rc != ST_OK)
        memset(rec, 0, sizeof *rec);
    return rc;
}

/* Assembles the message the record's signature covers (see record.h) into msg (the caller's
 * buffer of ST_BALLOT_MAX_LEN + 32 bytes) and names its domain. */
static int signed_message(const st_record *rec, uint8_t *msg, size_t *len, const char **domain,
                          char *err, size_t errlen) {
    int rc = st_record_check(rec, err, errlen);
    if (rc != ST_OK)
        return rc;
    if ((rc = st_ballot_encode_buf(&rec->ballot, msg, len, err, errlen)) != ST_OK)
        return rc;
    if (rec->source == ST_SOURCE_PAPER) {
        memcpy(msg + *len, rec->scan_sha256, 32);
        *len += 32;
        *domain = ST_DOMAIN_PAPER;
    } else {
        *domain = ST_DOMAIN_BALLOT;
    }
    return ST_OK;
}

int st_record_sign(st_record *rec, const uint8_t sk[ST_SIGN_SK_LEN], char *err, size_t errlen) {
    uint8_t msg[ST_BALLOT_MAX_LEN + 32], pk[ST_SIGN_PK_LEN], id[ST_KEY_ID_LEN];
    const char *domain;
    size_t len;
    int rc;

    st_sign_sk_to_pk(pk, sk);
    st_key_id(id, pk);
    if (memcmp(id, rec->ballot.key_id, ST_KEY_ID_LEN) != 0)
        return st_fail(err, errlen, ST_EINVAL, "record: ballot key_id is not the signing key's");
    if ((rc = signed_message(rec, msg, &len, &domain, err, errlen)) != ST_OK)
        return rc;
    memcpy(rec->pubkey, pk, ST_SIGN_PK_LEN);
    return st_sign_detached(rec->sig, domain, msg, len, sk, err, errlen);
}

int st_record_verify(const st_record *rec, char *err, size_t errlen) {
    uint8_t msg[ST_BALLOT_MAX_LEN + 32], id[ST_KEY_ID_LEN];
    const char *domain;
    size_t len;
    int rc;

    if ((rc = signed_message(rec, msg, &len, &domain, err, errlen)) != ST_OK)
        return rc;
    st_key_id(id, rec->pubkey);
    if (memcmp(id, rec->ballot.key_id, ST_KEY_ID_LEN) != 0)
        return st_fail(err, errlen, ST_EAUTH, "record: ballot key_id does not match pubkey");
    return st_sign_verify(rec->sig, domain, msg, len, rec->pubkey, err, errlen);
}

int st_record_leaf_hash(const st_record *rec, uint8_t out[32], char *err, size_t errlen) {
    uint8_t buf[ST_RECORD_MAX_LEN];
    size_t len;
    int rc = st_record_encode_buf(rec, buf, &len, err, errlen);
    if (rc != ST_OK) {
        memset(out, 0, 32);
        return rc;
    }
    st_merkle_leaf_hash(out, buf, len);
    return ST_OK;
}
