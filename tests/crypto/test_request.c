/* test_request.c - signed request envelopes: sign/verify, each tampered field failing,
 * strict decoding, and the +-5 minute time window. */
#include "check.h"

#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/request.h"

static int decode(const uint8_t *buf, size_t len) {
    st_request q;
    return st_request_decode(&q, buf, len, NULL, 0);
}

int main(void) {
    uint8_t pk[32], sk[64], pk2[32], sk2[64], seed[32], tmp[ST_REQUEST_MAX_LEN + 1];
    const char *body = "{\"vote\":9}";
    st_request q, d;
    st_canon_writer w;
    const uint8_t *data;
    size_t len;
    char err[128];

    CHECK(st_crypto_init() == ST_OK);
    memset(seed, 3, 32);
    CHECK(st_sign_keypair_from_seed(pk, sk, seed) == ST_OK);
    memset(seed, 4, 32);
    CHECK(st_sign_keypair_from_seed(pk2, sk2, seed) == ST_OK);

    memset(&q, 0, sizeof q);
    strcpy(q.method, "/strata.v1.Voting/CastBallot");
    q.timestamp_ms = 1700000000000ULL;
    memset(q.nonce, 0x77, sizeof q.nonce);
    CHECK(st_request_sign(&q, body, strlen(body), sk, err, sizeof err) == ST_OK);
    CHECK(st_request_verify(&q, pk, body, strlen(body), err, sizeof err) == ST_OK);

    /* Round trip and strictness. */
    st_canon_writer_init(&w);
    CHECK(st_request_encode(&q, &w, err, sizeof err) == ST_OK);
    data = st_canon_writer_data(&w, &len);
    CHECK(len == 1 + 2 + 28 + 16 + 8 + 16 + 32 + 64);
    CHECK(st_request_decode(&d, data, len, err, sizeof err) == ST_OK);
    CHECK(memcmp(&d, &q, sizeof d) == 0);
    CHECK(st_request_verify(&d, pk, body, strlen(body), err, sizeof err) == ST_OK);
    memcpy(tmp, data, len);
    for (size_t cut = 0; cut < len; cut++)
        CHECK(decode(tmp, cut) == ST_EINVAL);
    tmp[len] = 0;
    CHECK(decode(tmp, len + 1) == ST_EINVAL);
    tmp[0] = 2;
    CHECK(decode(tmp, len) == ST_EINVAL);
    tmp[0] = 1;
    tmp[3] = ' '; /* a space in the method */
    CHECK(decode(tmp, len) == ST_EINVAL);
    tmp[3] = '/';
    CHECK(decode(tmp, len) == ST_OK);
    tmp[1] = 0;
    tmp[2] = 0; /* empty method: the rest no longer lines up either */
    CHECK(decode(tmp, len) == ST_EINVAL);
    st_canon_writer_free(&w);
    {
        /* A method longer than 128 bytes is rejected on both sides. */
        uint8_t big[3 + 129];
        big[0] = 1;
        big[1] = 0;
        big[2] = 129;
        memset(big + 3, 'm', 129);
        CHECK(decode(big, sizeof big) == ST_EINVAL);
        d = q;
        memset(d.method, 'm', sizeof d.method); /* 129 bytes, no NUL */
        st_canon_writer_init(&w);
        CHECK(st_request_encode(&d, &w, err, sizeof err) == ST_EINVAL);
        st_canon_writer_free(&w);
        CHECK(st_request_sign(&d, body, 1, sk, NULL, 0) == ST_EINVAL);
    }

    /* Each field is bound. */
    for (int field = 0; field < 8; field++) {
        const char *b = body;
        const uint8_t *key = pk;
        d = q;
        switch (field) {
        case 0:
            strcpy(d.method, "/strata.v1.Voting/CloseVote");
            break;
        case 1:
            d.key_id[0] ^= 1;
            break;
        case 2:
            d.timestamp_ms++;
            break;
        case 3:
            d.nonce[15] ^= 1;
            break;
        case 4:
            d.body_sha256[0] ^= 1;
            break;
        case 5:
            d.sig[0] ^= 1;
            break;
        case 6:
            b = "{\"vote\":8}";
            break;
        case 7:
            key = pk2;
            break;
        }
        CHECK(st_request_verify(&d, key, b, strlen(b), err, sizeof err) == ST_EAUTH);
    }
    /* Signed by another key that claims this key id: no. */
    d = q;
    CHECK(st_request_sign(&d, body, strlen(body), sk2, NULL, 0) == ST_OK);
    memcpy(d.key_id, q.key_id, 16);
    CHECK(st_request_verify(&d, pk, body, strlen(body), err, sizeof err) == ST_EAUTH);
    /* Empty body. */
    d = q;
    CHECK(st_request_sign(&d, NULL, 0, sk, NULL, 0) == ST_OK);
    CHECK(st_request_verify(&d, pk, "", 0, err, sizeof err) == ST_OK);

    /* Time window: inclusive bounds, both directions, no overflow at the extremes. */
    CHECK(st_request_check_time(1000000, 1000000, ST_REQUEST_WINDOW_MS) == ST_OK);
    CHECK(st_request_check_time(1000000 + 300000, 1000000, ST_REQUEST_WINDOW_MS) == ST_OK);
    CHECK(st_request_check_time(1000000 - 300000, 1000000, ST_REQUEST_WINDOW_MS) == ST_OK);
    CHECK(st_request_check_time(1000000 + 300001, 1000000, ST_REQUEST_WINDOW_MS) == ST_EAUTH);
    CHECK(st_request_check_time(1000000 - 300001, 1000000, ST_REQUEST_WINDOW_MS) == ST_EAUTH);
    CHECK(st_request_check_time(0, UINT64_MAX, ST_REQUEST_WINDOW_MS) == ST_EAUTH);
    CHECK(st_request_check_time(UINT64_MAX, 0, ST_REQUEST_WINDOW_MS) == ST_EAUTH);
    CHECK(st_request_check_time(UINT64_MAX, UINT64_MAX - 5, 5) == ST_OK);
    CHECK(st_request_check_time(5, 0, UINT64_MAX) == ST_OK);
    printf("request: ok\n");
    return 0;
}
