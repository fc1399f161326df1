/* hash.c - SHA-256 over one buffer or a list of buffers, via libsodium. */
#include <sodium.h>

#include "crypto/hash.h"

void st_hash_sha256(uint8_t out[ST_HASH_LEN], const void *data, size_t len) {
    st_hash_part part = {data, len};
    st_hash_sha256v(out, &part, 1);
}

void st_hash_sha256v(uint8_t out[ST_HASH_LEN], const st_hash_part *parts, size_t n) {
    crypto_hash_sha256_state st;
    static const unsigned char nothing[1] = {0};

    crypto_hash_sha256_init(&st);
    for (size_t i = 0; i < n; i++) {
        /* libsodium never reads from a zero-length input, but give it a valid pointer so a
         * NULL never reaches memcpy-like code under UBSan. */
        const unsigned char *p = parts[i].len ? parts[i].data : nothing;
        crypto_hash_sha256_update(&st, p, (unsigned long long)parts[i].len);
    }
    crypto_hash_sha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

int st_hash_equal(const uint8_t a[ST_HASH_LEN], const uint8_t b[ST_HASH_LEN]) {
    return sodium_memcmp(a, b, ST_HASH_LEN) == 0;
}
