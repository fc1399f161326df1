/* sth.c - signed tree heads: encoding, strict decoding, signing and verification against a
 * list of trusted node keys. */
#include <string.h>

#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/endian.h"
#include "crypto/sth.h"

void st_sth_tbs(const st_sth *s, uint8_t out[ST_STH_TBS_LEN]) {
    out[0] = ST_STH_VERSION;
    st_store_be64(out + 1, s->vote_id);
    st_store_be64(out + 9, s->tree_size);
    memcpy(out + 17, s->root, 32);
    st_store_be64(out + 49, s->timestamp_ms);
    st_store_be64(out + 57, s->node_id);
}

int st_sth_sign(st_sth *s, const uint8_t sk[ST_SIGN_SK_LEN], char *err, size_t errlen) {
    uint8_t tbs[ST_STH_TBS_LEN];
    st_sth_tbs(s, tbs);
    return st_sign_detached(s->sig, ST_DOMAIN_STH, tbs, sizeof tbs, sk, err, errlen);
}

int st_sth_verify(const st_sth *s, const st_trusted_key *keys, size_t n, char *err, size_t errlen) {
    uint8_t tbs[ST_STH_TBS_LEN];
    int known = 0;

    st_sth_tbs(s, tbs);
    for (size_t i = 0; i < n; i++) {
        if (keys[i].node_id != s->node_id)
            continue;
        known = 1;
        if (st_sign_verify(s->sig, ST_DOMAIN_STH, tbs, sizeof tbs, keys[i].pubkey, NULL, 0) ==
            ST_OK)
            return ST_OK;
    }
    if (!known)
        return st_fail(err, errlen, ST_EAUTH, "sth: node %llu is not trusted",
                       (unsigned long long)s->node_id);
    return st_fail(err, errlen, ST_EAUTH, "sth: signature of node %llu does not verify",
                   (unsigned long long)s->node_id);
}

int st_sth_write(st_canon_writer *w, const st_sth *s) {
    uint8_t buf[ST_STH_LEN];
    st_sth_encode(s, buf);
    return st_canon_put_bytes(w, buf, sizeof buf);
}

int st_sth_read(st_canon_reader *r, st_sth *s) {
    size_t at = st_canon_reader_offset(r);
    uint8_t version = 0;

    memset(s, 0, sizeof *s);
    if (st_canon_get_u8(r, &version) == ST_OK && version != ST_STH_VERSION)
        return st_canon_reader_fail_at(r, at, ST_EINVAL, "unknown tree head version");
    st_canon_get_u64(r, &s->vote_id);
    st_canon_get_u64(r, &s->tree_size);
    st_canon_get_h32(r, s->root);
    st_canon_get_u64(r, &s->timestamp_ms);
    st_canon_get_u64(r, &s->node_id);
    st_canon_get_bytes(r, s->sig, ST_SIGN_SIG_LEN);
    return r->err;
}

void st_sth_encode(const st_sth *s, uint8_t out[ST_STH_LEN]) {
    st_sth_tbs(s, out);
    memcpy(out + ST_STH_TBS_LEN, s->sig, ST_SIGN_SIG_LEN);
}

int st_sth_decode(st_sth *s, const uint8_t *buf, size_t len, char *err, size_t errlen) {
    st_canon_reader r;
    int rc;

    st_canon_reader_init(&r, buf, len);
    st_sth_read(&r, s);
    st_canon_reader_end(&r);
    rc = st_canon_reader_status(&r, "sth", err, errlen);
    if (rc != ST_OK)
        memset(s, 0, sizeof *s);
    return rc;
}
