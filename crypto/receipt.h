/* receipt.h - the receipt "strata-receipt-v1" a node hands back for an accepted ballot: the
 * node's signed promise that the ballot record with this leaf hash is leaf leaf_index of the
 * vote's log whose signed tree head is attached.
 *
 * Layout (docs/FORMATS.md §Receipt), all integers big-endian, 234 bytes:
 *   u8 version (1) | 32 bytes leaf hash | u64 leaf index | 129 bytes signed tree head
 *                                                                  (these 170 bytes are signed)
 *   | 64 bytes Ed25519 signature by the STH's node over ST_DOMAIN_RECEIPT || 0x00 || 170 bytes
 *
 * A receipt verifies offline with the trusted node keys alone (st_receipt_verify). With an
 * inclusion proof fetched later it also shows the ballot really is in the log
 * (st_receipt_verify_inclusion).
 */
#ifndef STRATA_CRYPTO_RECEIPT_H
#define STRATA_CRYPTO_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sign.h"
#include "crypto/sth.h"

#define ST_RECEIPT_VERSION 1
#define ST_RECEIPT_TBS_LEN (1 + 32 + 8 + ST_STH_LEN)
#define ST_RECEIPT_LEN (ST_RECEIPT_TBS_LEN + ST_SIGN_SIG_LEN)

/* A plain value; nothing to free. */
typedef struct st_receipt {
    uint8_t leaf_hash[32];
    uint64_t leaf_index;
    st_sth sth; /* signed separately (st_sth_sign) */
    uint8_t sig[ST_SIGN_SIG_LEN];
} st_receipt;

/* The 170 signed bytes into out. */
void st_receipt_tbs(const st_receipt *rc, uint8_t out[ST_RECEIPT_TBS_LEN]);
/* Signs with the node's key: rc->sth must already be signed by the same node. Refuses
 * (ST_EINVAL) a leaf index outside the tree. */
int st_receipt_sign(st_receipt *rc, const uint8_t sk[ST_SIGN_SK_LEN], char *err, size_t errlen);

/* Encodes into out; strict decode of exactly buf[0..len) (*rc zeroed on failure). */
void st_receipt_encode(const st_receipt *rc, uint8_t out[ST_RECEIPT_LEN]);
int st_receipt_decode(st_receipt *rc, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* Verifies offline: leaf_index < tree_size, the STH's signature and the receipt's signature,
 * both by a trusted key of sth.node_id. When record is not NULL it must be the canonical
 * record bytes whose leaf hash is leaf_hash, for the STH's vote. ST_OK, ST_EAUTH (signature,
 * key), ST_ECORRUPT (record mismatch), ST_EINVAL. */
int st_receipt_verify(const st_receipt *rc, const st_trusted_key *keys, size_t n,
                      const uint8_t *record, size_t record_len, char *err, size_t errlen);

/* Checks an inclusion proof of the receipt's leaf against the receipt's STH root (the
 * receipt itself should have passed st_receipt_verify). */
int st_receipt_verify_inclusion(const st_receipt *rc, const uint8_t *proof, size_t n, char *err,
                                size_t errlen);

#endif
