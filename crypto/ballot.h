/* ballot.h - the canonical ballot "strata-ballot-v1": what an owner (or a proxy) signs.
 *
 * Layout (docs/FORMATS.md §Ballot), all integers big-endian:
 *   u8 version (1) | u64 community_id | u64 vote_id | str16 owner_id (1..64 bytes UTF-8)
 *   | u8 kind | kind 1: u8 choice (1 agree, 2 disagree, 3 abstain)
 *             kind 2: u8 count (0..11), count x u32 candidate index, strictly ascending
 *   | 16 bytes client nonce | u64 cast time (Unix ms) | 16 bytes key id of the signing key
 *
 * owner_id is always the owner whose parts the ballot counts for; for a proxy ballot that is
 * the principal, and the proxy is identified by the signing key (see crypto/record.h).
 * Encoding is canonical: st_ballot_decode() accepts exactly the bytes st_ballot_encode()
 * produces, so decode -> encode gives back the same bytes.
 */
#ifndef STRATA_CRYPTO_BALLOT_H
#define STRATA_CRYPTO_BALLOT_H

#include <stddef.h>
#include <stdint.h>

#include "core/tally.h" /* ST_CHOICE_AGREE/DISAGREE/ABSTAIN: one definition, shared */
#include "crypto/canon.h"
#include "crypto/sign.h"

#define ST_BALLOT_VERSION 1
#define ST_OWNER_ID_MAX 64
#define ST_BALLOT_MAX_APPROVALS 11
#define ST_NONCE_LEN 16
/* 1 + 8 + 8 + (2 + 64) + 1 + (1 + 11 * 4) + 16 + 8 + 16 */
#define ST_BALLOT_MAX_LEN 169

enum { ST_BALLOT_KIND_CHOICE = 1, ST_BALLOT_KIND_APPROVAL = 2 };

/* A plain value; no resources, nothing to free. */
typedef struct st_ballot {
    uint64_t community_id;
    uint64_t vote_id;
    char owner_id[ST_OWNER_ID_MAX + 1];          /* NUL-terminated */
    uint8_t kind;                                /* ST_BALLOT_KIND_* */
    uint8_t choice;                              /* kind CHOICE: ST_CHOICE_*; else 0 */
    uint8_t n_approvals;                         /* kind APPROVAL: 0..11; else 0 */
    uint32_t approvals[ST_BALLOT_MAX_APPROVALS]; /* strictly ascending candidate indexes */
    uint8_t nonce[ST_NONCE_LEN];
    uint64_t cast_ms;
    uint8_t key_id[ST_KEY_ID_LEN];
} st_ballot;

/* 1 when s is an acceptable owner id: 1..64 bytes of UTF-8 without control characters. */
int st_owner_id_ok(const char *s);

/* Checks every field (the rules of the layout above). ST_OK or ST_EINVAL with a message. */
int st_ballot_check(const st_ballot *b, char *err, size_t errlen);

/* Appends the canonical bytes to w. ST_EINVAL (the ballot fails st_ballot_check) or the
 * writer's error. */
int st_ballot_encode(const st_ballot *b, st_canon_writer *w, char *err, size_t errlen);

/* Encodes into out (the caller's buffer of ST_BALLOT_MAX_LEN bytes); *len set. */
int st_ballot_encode_buf(const st_ballot *b, uint8_t out[ST_BALLOT_MAX_LEN], size_t *len, char *err,
                         size_t errlen);

/* Decodes exactly buf[0..len) into *b. ST_EINVAL with "ballot: byte N: ..." for truncation,
 * trailing bytes, unknown version/kind/choice, bad owner id, too many, unsorted or duplicate
 * approvals. On failure *b is zeroed. */
int st_ballot_decode(st_ballot *b, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* Reads one ballot from r (for formats that embed it); same rules, no end check. */
int st_ballot_read(st_canon_reader *r, st_ballot *b);

/* Signs the ballot as its owner or proxy: sig over ST_DOMAIN_BALLOT || 0x00 || canonical
 * bytes. The ballot's key_id must be the key id of sk's public key (ST_EINVAL if not). */
int st_ballot_sign(const st_ballot *b, const uint8_t sk[ST_SIGN_SK_LEN],
                   uint8_t sig[ST_SIGN_SIG_LEN], char *err, size_t errlen);

/* Verifies an online ballot signature by pk: key_id must match pk, signature valid.
 * ST_OK, ST_EAUTH, ST_EINVAL (invalid ballot). */
int st_ballot_verify(const st_ballot *b, const uint8_t pk[ST_SIGN_PK_LEN],
                     const uint8_t sig[ST_SIGN_SIG_LEN], char *err, size_t errlen);

#endif
