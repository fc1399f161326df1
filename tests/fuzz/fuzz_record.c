/* fuzz_record.c - st_record_decode on arbitrary bytes. Property: decode -> encode gives the
 * same bytes; the leaf hash of the decoded record is the leaf hash of the input; verifying
 * the (almost always bad) signature returns an error code, never crashes. */
#include "fuzz.h"

#include "crypto/merkle.h"
#include "crypto/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    st_record r;
    uint8_t out[ST_RECORD_MAX_LEN], h1[32], h2[32];
    size_t len;
    int rc;

    if (st_record_decode(&r, data, size, NULL, 0) != ST_OK)
        return 0;
    FUZZ_CHECK(st_record_check(&r, NULL, 0) == ST_OK);
    FUZZ_CHECK(st_record_encode_buf(&r, out, &len, NULL, 0) == ST_OK);
    FUZZ_CHECK(len == size && memcmp(out, data, size) == 0);
    FUZZ_CHECK(st_record_leaf_hash(&r, h1, NULL, 0) == ST_OK);
    st_merkle_leaf_hash(h2, data, size);
    FUZZ_CHECK(memcmp(h1, h2, 32) == 0);
    rc = st_record_verify(&r, NULL, 0);
    FUZZ_CHECK(rc == ST_OK || rc == ST_EAUTH);
    return 0;
}
