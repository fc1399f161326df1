/* fuzz_receipt.c - st_receipt_decode on arbitrary bytes. Property: decode -> encode gives the
 * same bytes; offline verification returns a code (never crashes), with and without the
 * rest of the input offered as the ballot record. */
#include "fuzz.h"

#include "crypto/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static st_trusted_key key;
    static int ready;
    st_receipt rc;
    uint8_t out[ST_RECEIPT_LEN];

    if (!ready) {
        uint8_t seed[32], sk[64];
        memset(seed, 0x10, sizeof seed);
        st_sign_keypair_from_seed(key.pubkey, sk, seed);
        key.node_id = 1;
        ready = 1;
    }
    /* The first ST_RECEIPT_LEN bytes (if there are that many) are the receipt, the rest a
     * candidate record; the whole input is also tried as a receipt. */
    if (size >= ST_RECEIPT_LEN && st_receipt_decode(&rc, data, ST_RECEIPT_LEN, NULL, 0) == ST_OK) {
        st_receipt_encode(&rc, out);
        FUZZ_CHECK(memcmp(out, data, ST_RECEIPT_LEN) == 0);
        int code =
            st_receipt_verify(&rc, &key, 1, data + ST_RECEIPT_LEN, size - ST_RECEIPT_LEN, NULL, 0);
        FUZZ_CHECK(code == ST_OK || code == ST_EAUTH || code == ST_EINVAL || code == ST_ECORRUPT);
        code = st_receipt_verify_inclusion(&rc, data + ST_RECEIPT_LEN, (size - ST_RECEIPT_LEN) / 32,
                                           NULL, 0);
        FUZZ_CHECK(code == ST_OK || code == ST_EINVAL || code == ST_ECORRUPT);
    }
    if (st_receipt_decode(&rc, data, size, NULL, 0) == ST_OK) {
        FUZZ_CHECK(size == ST_RECEIPT_LEN);
        st_receipt_encode(&rc, out);
        FUZZ_CHECK(memcmp(out, data, size) == 0);
    }
    return 0;
}
