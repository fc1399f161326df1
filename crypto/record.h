/* record.h - the signed ballot record: the data of one Merkle leaf in a vote's log.
 *
 * Layout (docs/FORMATS.md §Record), all integers big-endian:
 *   u8 version (1)
 *   str16 ballot      the canonical ballot bytes (crypto/ballot.h), exactly what was signed
 *   32 bytes pubkey   the signing key
 *   64 bytes sig      the signature (see below)
 *   u8 source         1 online, 2 paper
 *     source 2:       32 bytes SHA-256 of the scanned paper ballot
 *   u8 proxy          0 or 1
 *     proxy 1:        str16 proxy_owner_id (1..64 bytes UTF-8): the proxy who cast it
 *
 * Who is who: ballot.owner_id is always the owner whose parts the ballot counts for (for a
 * proxy ballot, the principal), and is covered by the signature. The signing key is:
 *   online, own ballot:   the owner's key;
 *   online, proxy ballot: the proxy's key, and proxy_owner_id names the proxy;
 *   paper:                the key of the organiser who entered it; proxy_owner_id (if any)
 *                         names the proxy who filled in the paper ballot.
 * ballot.key_id is always the key id of pubkey. The signature covers
 *   online: ST_DOMAIN_BALLOT || 0x00 || ballot bytes
 *   paper:  ST_DOMAIN_PAPER  || 0x00 || ballot bytes || scan SHA-256
 * so an organiser's signature binds the scan, and a paper entry can never pass as an online
 * vote nor the reverse. Whether the proxy's authorisation exists is the server's business.
 */
#ifndef STRATA_CRYPTO_RECORD_H
#define STRATA_CRYPTO_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/ballot.h"
#include "crypto/canon.h"
#include "crypto/sign.h"

#define ST_RECORD_VERSION 1
/* 1 + (2 + 169) + 32 + 64 + 1 + 32 + 1 + (2 + 64) */
#define ST_RECORD_MAX_LEN 368

enum { ST_SOURCE_ONLINE = 1, ST_SOURCE_PAPER = 2 };

/* A plain value; nothing to free. */
typedef struct st_record {
    st_ballot ballot;
    uint8_t pubkey[ST_SIGN_PK_LEN];
    uint8_t sig[ST_SIGN_SIG_LEN];
    uint8_t source;                           /* ST_SOURCE_* */
    uint8_t scan_sha256[32];                  /* source PAPER only; zero otherwise */
    uint8_t proxy;                            /* 0 or 1 */
    char proxy_owner_id[ST_OWNER_ID_MAX + 1]; /* proxy 1 only; "" otherwise */
} st_record;

/* Checks the structure (not the signature): ballot valid, source and proxy in range,
 * proxy_owner_id valid and different from ballot.owner_id when proxy is 1, unused fields
 * zero. ST_OK or ST_EINVAL. */
int st_record_check(const st_record *rec, char *err, size_t errlen);

/* Appends the canonical bytes to w. */
int st_record_encode(const st_record *rec, st_canon_writer *w, char *err, size_t errlen);
/* Encodes into the caller's buffer of ST_RECORD_MAX_LEN bytes. */
int st_record_encode_buf(const st_record *rec, uint8_t out[ST_RECORD_MAX_LEN], size_t *len,
                         char *err, size_t errlen);

/* Strict decode of exactly buf[0..len): rejects what st_record_check() rejects, plus
 * truncation, trailing bytes (also inside the embedded ballot), unknown version. *rec is
 * zeroed on failure. */
int st_record_decode(st_record *rec, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* Sets rec->pubkey from sk and rec->sig over the message for rec->source. The ballot's
 * key_id must be sk's key id (ST_EINVAL otherwise). */
int st_record_sign(st_record *rec, const uint8_t sk[ST_SIGN_SK_LEN], char *err, size_t errlen);

/* Checks key_id(pubkey) == ballot.key_id and the signature. ST_OK, ST_EAUTH, ST_EINVAL. */
int st_record_verify(const st_record *rec, char *err, size_t errlen);

/* The Merkle leaf hash of the record: SHA-256(0x00 || canonical record bytes). */
int st_record_leaf_hash(const st_record *rec, uint8_t out[32], char *err, size_t errlen);

#endif
