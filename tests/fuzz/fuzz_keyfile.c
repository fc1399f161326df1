/* fuzz_keyfile.c - the key file parser on arbitrary text. Properties: st_keyfile_inspect and
 * st_keyfile_decode agree on what is malformed; a plain file that decodes re-encodes to
 * exactly the same text. Sealed files are only inspected: running Argon2id (64 MiB) per
 * input would make fuzzing pointless, and the sealed path after parsing is libsodium's. */
#include "fuzz.h"

#include "crypto/keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    uint8_t pk[32], pk2[32], seed[32];
    char out[ST_KEYFILE_MAX_LEN];
    size_t len;
    int sealed = -1, rc;

    rc = st_keyfile_inspect(text, size, &sealed, pk, NULL, 0);
    if (rc != ST_OK) {
        FUZZ_CHECK(rc == ST_EINVAL);
        FUZZ_CHECK(st_keyfile_decode(text, size, NULL, 0, seed, pk2, NULL, 0) == ST_EINVAL);
        return 0;
    }
    FUZZ_CHECK(size < ST_KEYFILE_MAX_LEN);
    if (sealed) {
        FUZZ_CHECK(st_keyfile_decode(text, size, NULL, 0, seed, pk2, NULL, 0) == ST_EAUTH);
        return 0;
    }
    rc = st_keyfile_decode(text, size, NULL, 0, seed, pk2, NULL, 0);
    if (rc != ST_OK) {
        FUZZ_CHECK(rc == ST_EINVAL); /* public line does not match the seed */
        return 0;
    }
    FUZZ_CHECK(memcmp(pk, pk2, 32) == 0);
    FUZZ_CHECK(st_keyfile_encode(seed, NULL, 0, out, sizeof out, &len, NULL, 0) == ST_OK);
    FUZZ_CHECK(len == size && memcmp(out, data, size) == 0);
    return 0;
}
