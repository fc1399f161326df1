/* approval.h - the canonical bytes signed to enroll an owner's key and to revoke one, and
 * the key pair an enrollment code stands for.
 *
 * Pure functions (no state, no I/O, no allocation): the client builds and signs exactly
 * these bytes, the state machine rebuilds and verifies them in apply. docs/ROLES.md gives
 * the byte layouts for other implementations.
 *
 * All integers are big-endian; str16 is a u16 length and that many bytes (crypto/canon.h).
 * Every signature covers domain || 0x00 || bytes (crypto/sign.h).
 */
#ifndef STRATA_CRYPTO_APPROVAL_H
#define STRATA_CRYPTO_APPROVAL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sign.h"

#define ST_DOMAIN_ENROLL "strata-enroll-v1"                 /* signed by the new owner key */
#define ST_DOMAIN_ENROLL_CODE "strata-enroll-code-v1"       /* signed by the code key */
#define ST_DOMAIN_REVOKE_OWNER "strata-revoke-owner-key-v1" /* organiser and supervisor */
#define ST_ENROLL_SEED_TAG "strata-enroll-code-seed-v1"
#define ST_APPROVAL_VERSION 1
#define ST_APPROVAL_OWNER_MAX 64
#define ST_APPROVAL_REASON_MAX 512

/* Enrollment bytes:
 *   u8 version (1) | u64 community_id | str16 owner_id (1..64 bytes)
 *   | 32 bytes new public key | 32 bytes code public key | u64 signed_ms */
#define ST_ENROLL_MAX_LEN (1 + 8 + 2 + ST_APPROVAL_OWNER_MAX + 32 + 32 + 8)

/* Writes the enrollment bytes into out (the caller's buffer of ST_ENROLL_MAX_LEN bytes).
 * Returns ST_OK, or ST_EINVAL for an owner id outside 1..64 bytes. */
int st_enroll_bytes(uint64_t community_id, const char *owner_id,
                    const uint8_t public_key[ST_SIGN_PK_LEN],
                    const uint8_t code_public_key[ST_SIGN_PK_LEN], uint64_t signed_ms,
                    uint8_t out[ST_ENROLL_MAX_LEN], size_t *len);

/* The code key pair of an enrollment code:
 *   seed = SHA-256( "strata-enroll-code-seed-v1" || 0x00 || u64 community_id
 *                   || str16 owner_id || code bytes )
 * then the Ed25519 key pair of that seed. The organiser's device computes it to issue the
 * code (sending only pk), the owner's device to redeem it (signing with sk). code is the
 * code as typed (1..256 bytes). Returns ST_OK, ST_EINVAL or ST_EIO. */
int st_enroll_code_keypair(uint64_t community_id, const char *owner_id, const char *code,
                           size_t code_len, uint8_t pk[ST_SIGN_PK_LEN], uint8_t sk[ST_SIGN_SK_LEN]);

/* Revocation bytes (an owner key, organiser + supervisor):
 *   u8 version (1) | u64 community_id | str16 owner_id (1..64 bytes)
 *   | 16 bytes key id of the revoked key | str16 reason (1..512 bytes) | u64 signed_ms */
#define ST_REVOKE_MAX_LEN                                                                          \
    (1 + 8 + 2 + ST_APPROVAL_OWNER_MAX + ST_KEY_ID_LEN + 2 + ST_APPROVAL_REASON_MAX + 8)

/* Writes the revocation bytes into out (ST_REVOKE_MAX_LEN bytes). ST_OK or ST_EINVAL. */
int st_revoke_owner_bytes(uint64_t community_id, const char *owner_id,
                          const uint8_t key_id[ST_KEY_ID_LEN], const char *reason,
                          uint64_t signed_ms, uint8_t out[ST_REVOKE_MAX_LEN], size_t *len);

#endif
