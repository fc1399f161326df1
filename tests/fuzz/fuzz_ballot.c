/* fuzz_ballot.c - st_ballot_decode on arbitrary bytes. Property: whatever decodes re-encodes
 * to exactly the same bytes (the encoding is canonical), and passes st_ballot_check. */
#include "fuzz.h"

#include "crypto/ballot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    st_ballot b;
    uint8_t out[ST_BALLOT_MAX_LEN];
    size_t len;
    char err[128];

    if (st_ballot_decode(&b, data, size, err, sizeof err) != ST_OK) {
        FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(st_ballot_check(&b, NULL, 0) == ST_OK);
    FUZZ_CHECK(st_ballot_encode_buf(&b, out, &len, NULL, 0) == ST_OK);
    FUZZ_CHECK(len == size && memcmp(out, data, size) == 0);
    return 0;
}
