/* approval.c - enrollment and revocation bytes, and enrollment code key pairs (see
 * approval.h). */
#include <string.h>

#include <sodium.h>

#include "core/error.h"
#include "crypto/hash.h"
#include "crypto/approval.h"

#define CODE_MAX 256

/* A bounded big-endian writer over the caller's buffer: no allocation, so building the
 * bytes in apply can never fail for lack of memory. */
typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *data, size_t n) {
    if (b->n + n <= b->cap) {
        memcpy(b->p + b->n, data, n);
    }
    b->n += n; /* past cap: caught by done() */
}

static void put_u64(buf *b, uint64_t v) {
    uint8_t x[8];
    for (int i = 0; i < 8; i++) {
        x[i] = (uint8_t)(v >> (56 - 8 * i));
    }
    put(b, x, 8);
}

static void put_str16(buf *b, const char *s, size_t n) {
    uint8_t x[2] = {(uint8_t)(n >> 8), (uint8_t)n};
    put(b, x, 2);
    put(b, s, n);
}

static int done(const buf *b, size_t *len) {
    if (b->n > b->cap) {
        return ST_ERANGE;
    }
    *len = b->n;
    return ST_OK;
}

static int owner_ok(const char *owner_id) {
    size_t n = owner_id != NULL ? strnlen(owner_id, ST_APPROVAL_OWNER_MAX + 1) : 0;
    return n >= 1 && n <= ST_APPROVAL_OWNER_MAX;
}

int st_enroll_bytes(uint64_t community_id, const char *owner_id,
                    const uint8_t public_key[ST_SIGN_PK_LEN],
                    const uint8_t code_public_key[ST_SIGN_PK_LEN], uint64_t signed_ms,
                    uint8_t out[ST_ENROLL_MAX_LEN], size_t *len) {
    *len = 0;
    if (!owner_ok(owner_id)) {
        return ST_EINVAL;
    }
    buf b = {out, 0, ST_ENROLL_MAX_LEN};
    const uint8_t version = ST_APPROVAL_VERSION;
    put(&b, &version, 1);
    put_u64(&b, community_id);
    put_str16(&b, owner_id, strlen(owner_id));
    put(&b, public_key, ST_SIGN_PK_LEN);
    put(&b, code_public_key, ST_SIGN_PK_LEN);
    put_u64(&b, signed_ms);
    return done(&b, len);
}

int st_enroll_code_keypair(uint64_t community_id, const char *owner_id, const char *code,
                           size_t code_len, uint8_t pk[ST_SIGN_PK_LEN],
                           uint8_t sk[ST_SIGN_SK_LEN]) {
    if (!owner_ok(owner_id) || code == NULL || code_len == 0 || code_len > CODE_MAX) {
        return ST_EINVAL;
    }
    uint8_t head[8 + 2], seed[ST_HASH_LEN];
    size_t olen = strlen(owner_id);
    for (int i = 0; i < 8; i++) {
        head[i] = (uint8_t)(community_id >> (56 - 8 * i));
    }
    head[8] = (uint8_t)(olen >> 8);
    head[9] = (uint8_t)olen;
    const st_hash_part parts[] = {
        {ST_ENROLL_SEED_TAG, sizeof(ST_ENROLL_SEED_TAG)}, /* the tag and its NUL */
        {head, sizeof(head)},
        {owner_id, olen},
        {code, code_len},
    };
    st_hash_sha256v(seed, parts, sizeof(parts) / sizeof(parts[0]));
    int rc = st_sign_keypair_from_seed(pk, sk, seed);
    sodium_memzero(seed, sizeof(seed));
    return rc;
}

int st_revoke_owner_bytes(uint64_t community_id, const char *owner_id,
                          const uint8_t key_id[ST_KEY_ID_LEN], const char *reason,
                          uint64_t signed_ms, uint8_t out[ST_REVOKE_MAX_LEN], size_t *len) {
    *len = 0;
    size_t rlen = reason != NULL ? strnlen(reason, ST_APPROVAL_REASON_MAX + 1) : 0;
    if (!owner_ok(owner_id) || rlen == 0 || rlen > ST_APPROVAL_REASON_MAX) {
        return ST_EINVAL;
    }
    buf b = {out, 0, ST_REVOKE_MAX_LEN};
    const uint8_t version = ST_APPROVAL_VERSION;
    put(&b, &version, 1);
    put_u64(&b, community_id);
    put_str16(&b, owner_id, strlen(owner_id));
    put(&b, key_id, ST_KEY_ID_LEN);
    put_str16(&b, reason, rlen);
    put_u64(&b, signed_ms);
    return done(&b, len);
}
