/* fuzz_request.c - st_request_decode on arbitrary bytes. Property: decode -> encode gives the
 * same bytes; verification with a fixed key fails cleanly. */
#include "fuzz.h"

#include "crypto/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t pk[32];
    static int ready;
    st_request q;
    st_canon_writer w;
    const uint8_t *out;
    size_t len;
    int rc;

    if (!ready) {
        uint8_t seed[32], sk[64];
        memset(seed, 3, sizeof seed);
        st_sign_keypair_from_seed(pk, sk, seed);
        ready = 1;
    }
    if (st_request_decode(&q, data, size, NULL, 0) != ST_OK)
        return 0;
    st_canon_writer_init(&w);
    FUZZ_CHECK(st_request_encode(&q, &w, NULL, 0) == ST_OK);
    out = st_canon_writer_data(&w, &len);
    FUZZ_CHECK(len == size && memcmp(out, data, size) == 0);
    st_canon_writer_free(&w);
    rc = st_request_verify(&q, pk, data, size, NULL, 0);
    FUZZ_CHECK(rc == ST_EAUTH);
    return 0;
}
