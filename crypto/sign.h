/* sign.h - Ed25519 keys and domain-separated detached signatures (libsodium crypto_sign).
 *
 * Every signature covers  domain || 0x00 || message,  where domain is a short printable
 * ASCII tag such as ST_DOMAIN_BALLOT ("strata-ballot-v1", see crypto/crypto.h). The NUL
 * ends the tag, so no (domain, message) pair can be read as another, and a signature made
 * for one kind of message never verifies as another kind.
 *
 * A key id names a public key: the first 16 bytes of SHA-256("strata-key-id-v1" || pk),
 * shown as 32 lowercase hex characters.
 */
#ifndef STRATA_CRYPTO_SIGN_H
#define STRATA_CRYPTO_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define ST_SIGN_PK_LEN 32   /* public key */
#define ST_SIGN_SK_LEN 64   /* secret key as libsodium keeps it: seed || public key */
#define ST_SIGN_SEED_LEN 32 /* the 32 bytes a key pair is derived from */
#define ST_SIGN_SIG_LEN 64  /* detached signature */
#define ST_KEY_ID_LEN 16
#define ST_KEY_ID_HEX_LEN 32
#define ST_SIGN_DOMAIN_MAX 64 /* longest accepted domain tag */
#define ST_KEY_ID_TAG "strata-key-id-v1"

/* Generates a fresh key pair from the system's random source into the caller's buffers.
 * Needs st_crypto_init(). Returns ST_OK or ST_EIO. */
int st_sign_keypair(uint8_t pk[ST_SIGN_PK_LEN], uint8_t sk[ST_SIGN_SK_LEN]);

/* Derives the key pair of a 32-byte seed (deterministic: for tests and key files).
 * Returns ST_OK or ST_EIO. */
int st_sign_keypair_from_seed(uint8_t pk[ST_SIGN_PK_LEN], uint8_t sk[ST_SIGN_SK_LEN],
                              const uint8_t seed[ST_SIGN_SEED_LEN]);

/* Copies the seed / public key out of a secret key. */
void st_sign_sk_to_seed(uint8_t seed[ST_SIGN_SEED_LEN], const uint8_t sk[ST_SIGN_SK_LEN]);
void st_sign_sk_to_pk(uint8_t pk[ST_SIGN_PK_LEN], const uint8_t sk[ST_SIGN_SK_LEN]);

/* 1 when domain is an acceptable tag: 1..ST_SIGN_DOMAIN_MAX characters, each printable
 * ASCII without space (0x21..0x7e). */
int st_sign_domain_ok(const char *domain);

/* sig = Ed25519(sk, domain || 0x00 || msg[0..len)). msg may be NULL when len is 0.
 * Returns ST_OK, ST_EINVAL (bad domain) or ST_ENOMEM. */
int st_sign_detached(uint8_t sig[ST_SIGN_SIG_LEN], const char *domain, const void *msg, size_t len,
                     const uint8_t sk[ST_SIGN_SK_LEN], char *err, size_t errlen);

/* Verifies sig over domain || 0x00 || msg with pk. Returns ST_OK when valid, ST_EAUTH when
 * the signature does not verify (wrong key, message, domain, or a malformed key or
 * signature), ST_EINVAL for a bad domain, ST_ENOMEM. */
int st_sign_verify(const uint8_t sig[ST_SIGN_SIG_LEN], const char *domain, const void *msg,
                   size_t len, const uint8_t pk[ST_SIGN_PK_LEN], char *err, size_t errlen);

/* id = first 16 bytes of SHA-256("strata-key-id-v1" || pk). */
void st_key_id(uint8_t id[ST_KEY_ID_LEN], const uint8_t pk[ST_SIGN_PK_LEN]);

/* Writes the key id of pk as 32 lowercase hex characters and a NUL into out. */
void st_key_id_hex(char out[ST_KEY_ID_HEX_LEN + 1], const uint8_t pk[ST_SIGN_PK_LEN]);

/* Parses a public key written as 64 hex characters or as 44 base64 characters, or a
 * signature written as 128 hex or 88 base64 characters (told apart by length).
 * Returns ST_OK or ST_EINVAL with a message; out is zeroed on failure. */
int st_sign_pk_parse(uint8_t pk[ST_SIGN_PK_LEN], const char *text, size_t len, char *err,
                     size_t errlen);
int st_sign_sig_parse(uint8_t sig[ST_SIGN_SIG_LEN], const char *text, size_t len, char *err,
                      size_t errlen);

#endif
