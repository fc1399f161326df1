/* request.c - the signed request envelope: sign, verify, time window, encode, decode. */
#include <string.h>

#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "crypto/request.h"

static int method_ok(const uint8_t *p, size_t n) {
    if (n < 1 || n > ST_METHOD_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x21 || p[i] > 0x7e)
            return 0;
    return 1;
}

/* Writes the signed part (everything but the signature). */
static int write_tbs(const st_request *q, st_canon_writer *w, char *err, size_t errlen) {
    size_t mlen = strnlen(q->method, ST_METHOD_MAX + 1);
    int rc;

    if (!method_ok((const uint8_t *)q->method, mlen))
        return st_fail(err, errlen, ST_EINVAL,
                       "request: method must be 1..%d printable ASCII characters", ST_METHOD_MAX);
    st_canon_put_u8(w, ST_REQUEST_VERSION);
    st_canon_put_str16(w, q->method, mlen);
    st_canon_put_bytes(w, q->key_id, ST_KEY_ID_LEN);
    st_canon_put_u64(w, q->timestamp_ms);
    st_canon_put_bytes(w, q->nonce, ST_REQUEST_NONCE_LEN);
    st_canon_put_h32(w, q->body_sha256);
    if ((rc = st_canon_writer_status(w)) != ST_OK)
        return st_fail(err, errlen, rc, "request: cannot encode: %s", st_strerror(rc));
    return ST_OK;
}

int st_request_sign(st_request *q, const void *body, size_t body_len,
                    const uint8_t sk[ST_SIGN_SK_LEN], char *err, size_t errlen) {
    st_canon_writer w;
    uint8_t pk[ST_SIGN_PK_LEN];
    size_t len;
    int rc;

    st_sign_sk_to_pk(pk, sk);
    st_key_id(q->key_id, pk);
    st_hash_sha256(q->body_sha256, body, body_len);
    st_canon_writer_init(&w);
    rc = write_tbs(q, &w, err, errlen);
    if (rc == ST_OK) {
        const uint8_t *data = st_canon_writer_data(&w, &len);
        rc = st_sign_detached(q->sig, ST_DOMAIN_REQUEST, data, len, sk, err, errlen);
    }
    st_canon_writer_free(&w);
    return rc;
}

int st_request_verify(const st_request *q, const uint8_t pk[ST_SIGN_PK_LEN], const void *body,
                      size_t body_len, char *err, size_t errlen) {
    st_canon_writer w;
    uint8_t id[ST_KEY_ID_LEN], digest[32];
    size_t len;
    int rc;

    st_key_id(id, pk);
    if (memcmp(id, q->key_id, ST_KEY_ID_LEN) != 0)
        return st_fail(err, errlen, ST_EAUTH, "request: key id does not match the public key");
    st_hash_sha256(digest, body, body_len);
    if (!st_hash_equal(digest, q->body_sha256))
        return st_fail(err, errlen, ST_EAUTH, "request: body does not match its hash");
    st_canon_writer_init(&w);
    rc = write_tbs(q, &w, err, errlen);
    if (rc == ST_OK) {
        const uint8_t *data = st_canon_writer_data(&w, &len);
        rc = st_sign_verify(q->sig, ST_DOMAIN_REQUEST, data, len, pk, err, errlen);
    }
    st_canon_writer_free(&w);
    return rc;
}

int st_request_check_time(uint64_t now_ms, uint64_t ts_ms, uint64_t window_ms) {
    uint64_t diff = now_ms >= ts_ms ? now_ms - ts_ms : ts_ms - now_ms;
    return diff <= window_ms ? ST_OK : ST_EAUTH;
}

int st_request_encode(const st_request *q, st_canon_writer *w, char *err, size_t errlen) {
    int rc = write_tbs(q, w, err, errlen);
    if (rc != ST_OK)
        return rc;
    if ((rc = st_canon_put_bytes(w, q->sig, ST_SIGN_SIG_LEN)) != ST_OK)
        return st_fail(err, errlen, rc, "request: cannot encode: %s", st_strerror(rc));
    return ST_OK;
}

int st_request_decode(st_request *q, const uint8_t *buf, size_t len, char *err, size_t errlen) {
    st_canon_reader r;
    uint8_t version = 0;
    const uint8_t *m;
    size_t mlen, at;
    int rc;

    memset(q, 0, sizeof *q);
    st_canon_reader_init(&r, buf, len);
    if (st_canon_get_u8(&r, &version) == ST_OK && version != ST_REQUEST_VERSION)
        st_canon_reader_fail_at(&r, 0, ST_EINVAL, "unknown request version");
    at = st_canon_reader_offset(&r);
    if (st_canon_get_str16(&r, &m, &mlen, ST_METHOD_MAX) == ST_OK) {
        if (!method_ok(m, mlen)) {
            st_canon_reader_fail_at(&r, at, ST_EINVAL, "method empty or not printable ASCII");
        } else {
            memcpy(q->method, m, mlen);
            q->method[mlen] = '\0';
        }
    }
    st_canon_get_bytes(&r, q->key_id, ST_KEY_ID_LEN);
    st_canon_get_u64(&r, &q->timestamp_ms);
    st_canon_get_bytes(&r, q->nonce, ST_REQUEST_NONCE_LEN);
    st_canon_get_h32(&r, q->body_sha256);
    st_canon_get_bytes(&r, q->sig, ST_SIGN_SIG_LEN);
    st_canon_reader_end(&r);
    rc = st_canon_reader_status(&r, "request", err, errlen);
    if (rc != ST_OK)
        memset(q, 0, sizeof *q);
    return rc;
}
