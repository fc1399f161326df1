/* request.h - the signed request envelope "strata-request-v1": how a client authenticates a
 * call (who, when, which method, which body) with its Ed25519 key.
 *
 * Layout (docs/FORMATS.md §Request), all integers big-endian:
 *   u8 version (1) | str16 method (1..128 bytes, printable ASCII 0x21..0x7e)
 *   | 16 bytes key id | u64 timestamp (Unix ms) | 16 bytes nonce | 32 bytes SHA-256 of body
 *                                                                (these bytes are signed)
 *   | 64 bytes Ed25519 signature over ST_DOMAIN_REQUEST || 0x00 || the bytes above
 *
 * The server checks the signature (st_request_verify), the time window
 * (st_request_check_time) and that the nonce was not seen within the window (its own job).
 */
#ifndef STRATA_CRYPTO_REQUEST_H
#define STRATA_CRYPTO_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/canon.h"
#include "crypto/sign.h"

#define ST_REQUEST_VERSION 1
#define ST_METHOD_MAX 128
#define ST_REQUEST_NONCE_LEN 16
#define ST_REQUEST_WINDOW_MS (5 * 60 * 1000) /* the accepted clock difference: 5 minutes */
/* 1 + (2 + 128) + 16 + 8 + 16 + 32 + 64 */
#define ST_REQUEST_MAX_LEN 267

/* A plain value; nothing to free. */
typedef struct st_request {
    char method[ST_METHOD_MAX + 1]; /* NUL-terminated, e.g. "/strata.v1.Voting/CastBallot" */
    uint8_t key_id[ST_KEY_ID_LEN];
    uint64_t timestamp_ms;
    uint8_t nonce[ST_REQUEST_NONCE_LEN];
    uint8_t body_sha256[32];
    uint8_t sig[ST_SIGN_SIG_LEN];
} st_request;

/* Sets body_sha256 = SHA-256(body), key_id from sk's public key, and sig. The caller has set
 * method, timestamp_ms and nonce. ST_OK or ST_EINVAL (bad method). */
int st_request_sign(st_request *q, const void *body, size_t body_len,
                    const uint8_t sk[ST_SIGN_SK_LEN], char *err, size_t errlen);

/* Checks key_id == key id of pk, body_sha256 == SHA-256(body) and the signature. ST_OK,
 * ST_EAUTH, ST_EINVAL. Does not look at the time: see st_request_check_time(). */
int st_request_verify(const st_request *q, const uint8_t pk[ST_SIGN_PK_LEN], const void *body,
                      size_t body_len, char *err, size_t errlen);

/* ST_OK when |now_ms - ts_ms| <= window_ms, else ST_EAUTH. No overflow for any inputs. */
int st_request_check_time(uint64_t now_ms, uint64_t ts_ms, uint64_t window_ms);

/* Appends the signed envelope (with its signature) to w. ST_EINVAL for a bad method. */
int st_request_encode(const st_request *q, st_canon_writer *w, char *err, size_t errlen);
/* Strict decode of exactly buf[0..len); *q zeroed on failure. */
int st_request_decode(st_request *q, const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
