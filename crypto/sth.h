/* sth.h - the signed tree head "strata-sth-v1": a node's signed statement of the size and
 * root of one vote's Merkle log at a time.
 *
 * Layout (docs/FORMATS.md §STH), all integers big-endian, 129 bytes:
 *   u8 version (1) | u64 vote_id | u64 tree_size | 32 bytes root | u64 timestamp (Unix ms)
 *   | u64 node_id of the signer                                  (these 65 bytes are signed)
 *   | 64 bytes Ed25519 signature over ST_DOMAIN_STH || 0x00 || the 65 bytes
 */
#ifndef STRATA_CRYPTO_STH_H
#define STRATA_CRYPTO_STH_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/canon.h"
#include "crypto/sign.h"

#define ST_STH_VERSION 1
#define ST_STH_TBS_LEN 65
#define ST_STH_LEN (ST_STH_TBS_LEN + ST_SIGN_SIG_LEN)

/* A plain value; nothing to free. */
typedef struct st_sth {
    uint64_t vote_id;
    uint64_t tree_size;
    uint8_t root[32];
    uint64_t timestamp_ms;
    uint64_t node_id;
    uint8_t sig[ST_SIGN_SIG_LEN];
} st_sth;

/* A node key a verifier trusts. */
typedef struct st_trusted_key {
    uint64_t node_id;
    uint8_t pubkey[ST_SIGN_PK_LEN];
} st_trusted_key;

/* The 65 signed bytes into out (the caller's buffer). Cannot fail. */
void st_sth_tbs(const st_sth *s, uint8_t out[ST_STH_TBS_LEN]);
/* Signs: sets s->sig with the node's secret key. ST_OK or an st_sign_detached() error. */
int st_sth_sign(st_sth *s, const uint8_t sk[ST_SIGN_SK_LEN], char *err, size_t errlen);
/* Verifies s->sig with the key(s) of s->node_id in keys[0..n). ST_OK; ST_EAUTH when no key
 * of that node is trusted or none verifies. */
int st_sth_verify(const st_sth *s, const st_trusted_key *keys, size_t n, char *err, size_t errlen);

/* Appends the 129 bytes to w (returns the writer's status). */
int st_sth_write(st_canon_writer *w, const st_sth *s);
/* Reads 129 bytes from r (unknown version is an error). Returns the reader's status. */
int st_sth_read(st_canon_reader *r, st_sth *s);
/* Encodes into out (the caller's buffer). */
void st_sth_encode(const st_sth *s, uint8_t out[ST_STH_LEN]);
/* Strict decode of exactly buf[0..len); *s zeroed on failure. */
int st_sth_decode(st_sth *s, const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
