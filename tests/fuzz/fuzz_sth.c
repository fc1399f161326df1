/* fuzz_sth.c - st_sth_decode on arbitrary bytes. Property: decode -> encode gives the same
 * bytes, and verification against a fixed trusted key fails cleanly (a random signature
 * never verifies). */
#include "fuzz.h"

#include "crypto/sth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static st_trusted_key keys[2];
    static int ready;
    st_sth s;
    uint8_t out[ST_STH_LEN];
    int rc;

    if (!ready) {
        uint8_t seed[32], sk[64];
        for (int i = 0; i < 2; i++) {
            memset(seed, 0x10 + i, sizeof seed);
            st_sign_keypair_from_seed(keys[i].pubkey, sk, seed);
            keys[i].node_id = (uint64_t)i + 1;
        }
        ready = 1;
    }
    if (st_sth_decode(&s, data, size, NULL, 0) != ST_OK)
        return 0;
    FUZZ_CHECK(size == ST_STH_LEN);
    st_sth_encode(&s, out);
    FUZZ_CHECK(memcmp(out, data, size) == 0);
    rc = st_sth_verify(&s, keys, 2, NULL, 0);
    FUZZ_CHECK(rc == ST_OK || rc == ST_EAUTH);
    return 0;
}
