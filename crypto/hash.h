/* hash.h - SHA-256 (libsodium's crypto_hash_sha256), the one hash Strata uses.
 *
 * st_hash_sha256() digests one buffer; st_hash_sha256v() digests the concatenation of
 * several (domain prefixes, Merkle nodes) without copying them into one buffer first.
 */
#ifndef STRATA_CRYPTO_HASH_H
#define STRATA_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>

#define ST_HASH_LEN 32

/* One piece of a concatenated hash input. */
typedef struct st_hash_part {
    const void *data; /* may be NULL when len is 0 */
    size_t len;
} st_hash_part;

/* out = SHA-256(data[0..len)). data may be NULL when len is 0. Cannot fail. */
void st_hash_sha256(uint8_t out[ST_HASH_LEN], const void *data, size_t len);

/* out = SHA-256(parts[0] || parts[1] || ... || parts[n-1]). Cannot fail. */
void st_hash_sha256v(uint8_t out[ST_HASH_LEN], const st_hash_part *parts, size_t n);

/* 1 when the two digests are equal, else 0 (constant time). */
int st_hash_equal(const uint8_t a[ST_HASH_LEN], const uint8_t b[ST_HASH_LEN]);

#endif
