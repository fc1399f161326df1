/* sign.c - Ed25519 key pairs, key ids and domain-separated detached signatures. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/error.h"
#include "crypto/hash.h"
#include "crypto/sign.h"
#include "crypto/text.h"

/* Signed messages up to this size are assembled on the stack; larger ones on the heap. */
#define SIGN_STACK_BUF 1024

int st_sign_keypair(uint8_t pk[ST_SIGN_PK_LEN], uint8_t sk[ST_SIGN_SK_LEN]) {
    return crypto_sign_keypair(pk, sk) == 0 ? ST_OK : ST_EIO;
}

int st_sign_keypair_from_seed(uint8_t pk[ST_SIGN_PK_LEN], uint8_t sk[ST_SIGN_SK_LEN],
                              const uint8_t seed[ST_SIGN_SEED_LEN]) {
    return crypto_sign_seed_keypair(pk, sk, seed) == 0 ? ST_OK : ST_EIO;
}

void st_sign_sk_to_seed(uint8_t seed[ST_SIGN_SEED_LEN], const uint8_t sk[ST_SIGN_SK_LEN]) {
    crypto_sign_ed25519_sk_to_seed(seed, sk);
}

void st_sign_sk_to_pk(uint8_t pk[ST_SIGN_PK_LEN], const uint8_t sk[ST_SIGN_SK_LEN]) {
    crypto_sign_ed25519_sk_to_pk(pk, sk);
}

int st_sign_domain_ok(const char *domain) {
    size_t n = 0;
    if (!domain)
        return 0;
    for (; domain[n]; n++) {
        unsigned char c = (unsigned char)domain[n];
        if (c < 0x21 || c > 0x7e || n >= ST_SIGN_DOMAIN_MAX)
            return 0;
    }
    return n > 0;
}

/* Assembles domain || 0x00 || msg into *out: either stack (the caller's SIGN_STACK_BUF
 * buffer) or a malloc'd block that the caller frees when *out != stack. */
static int assemble(const char *domain, const void *msg, size_t len, uint8_t *stack, uint8_t **out,
                    size_t *outlen, char *err, size_t errlen) {
    size_t dlen;
    uint8_t *buf;

    if (!st_sign_domain_ok(domain))
        return st_fail(err, errlen, ST_EINVAL, "signature domain is not a valid tag");
    dlen = strlen(domain);
    if (len > SIZE_MAX - dlen - 1)
        return st_fail(err, errlen, ST_ERANGE, "message too long to sign");
    *outlen = dlen + 1 + len;
    if (*outlen <= SIGN_STACK_BUF) {
        buf = stack;
    } else {
        buf = malloc(*outlen);
        if (!buf)
            return st_fail(err, errlen, ST_ENOMEM, "out of memory assembling signed message");
    }
    memcpy(buf, domain, dlen);
    buf[dlen] = 0;
    if (len)
        memcpy(buf + dlen + 1, msg, len);
    *out = buf;
    return ST_OK;
}

int st_sign_detached(uint8_t sig[ST_SIGN_SIG_LEN], const char *domain, const void *msg, size_t len,
                     const uint8_t sk[ST_SIGN_SK_LEN], char *err, size_t errlen) {
    uint8_t stack[SIGN_STACK_BUF], *buf = NULL;
    size_t buflen = 0;
    int rc = assemble(domain, msg, len, stack, &buf, &buflen, err, errlen);

    if (rc != ST_OK) {
        memset(sig, 0, ST_SIGN_SIG_LEN);
        return rc;
    }
    crypto_sign_detached(sig, NULL, buf, buflen, sk);
    if (buf != stack)
        free(buf);
    return ST_OK;
}

int st_sign_verify(const uint8_t sig[ST_SIGN_SIG_LEN], const char *domain, const void *msg,
                   size_t len, const uint8_t pk[ST_SIGN_PK_LEN], char *err, size_t errlen) {
    uint8_t stack[SIGN_STACK_BUF], *buf = NULL;
    size_t buflen = 0;
    int rc = assemble(domain, msg, len, stack, &buf, &buflen, err, errlen), ok;

    if (rc != ST_OK)
        return rc;
    ok = crypto_sign_verify_detached(sig, buf, buflen, pk) == 0;
    if (buf != stack)
        free(buf);
    if (!ok)
        return st_fail(err, errlen, ST_EAUTH, "%s signature does not verify", domain);
    return ST_OK;
}

void st_key_id(uint8_t id[ST_KEY_ID_LEN], const uint8_t pk[ST_SIGN_PK_LEN]) {
    uint8_t digest[ST_HASH_LEN];
    st_hash_part parts[2] = {{ST_KEY_ID_TAG, sizeof ST_KEY_ID_TAG - 1}, {pk, ST_SIGN_PK_LEN}};

    st_hash_sha256v(digest, parts, 2);
    memcpy(id, digest, ST_KEY_ID_LEN);
}

void st_key_id_hex(char out[ST_KEY_ID_HEX_LEN + 1], const uint8_t pk[ST_SIGN_PK_LEN]) {
    uint8_t id[ST_KEY_ID_LEN];
    st_key_id(id, pk);
    st_hex_encode(out, id, ST_KEY_ID_LEN);
}

/* Hex when the length is 2*n, base64 when it is ST_B64_LEN(n), otherwise an error. */
static int parse_bytes(uint8_t *out, size_t n, const char *what, const char *text, size_t len,
                       char *err, size_t errlen) {
    if (len == 2 * n)
        return st_hex_decode(out, n, text, len, err, errlen);
    if (len == ST_B64_LEN(n))
        return st_b64_decode(out, n, text, len, err, errlen);
    memset(out, 0, n);
    return st_fail(err, errlen, ST_EINVAL, "%s must be %zu hex or %zu base64 characters, got %zu",
                   what, 2 * n, (size_t)ST_B64_LEN(n), len);
}

int st_sign_pk_parse(uint8_t pk[ST_SIGN_PK_LEN], const char *text, size_t len, char *err,
                     size_t errlen) {
    return parse_bytes(pk, ST_SIGN_PK_LEN, "public key", text, len, err, errlen);
}

int st_sign_sig_parse(uint8_t sig[ST_SIGN_SIG_LEN], const char *text, size_t len, char *err,
                      size_t errlen) {
    return parse_bytes(sig, ST_SIGN_SIG_LEN, "signature", text, len, err, errlen);
}
