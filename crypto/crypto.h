/* crypto.h - one-time initialisation of the crypto module and its shared constants.
 *
 * Everything in crypto/ is a pure function over libsodium: no file or network I/O.
 * Call st_crypto_init() once before using key generation, signing or key files; it is
 * idempotent and thread-safe (it calls sodium_init(), which is both).
 */
#ifndef STRATA_CRYPTO_CRYPTO_H
#define STRATA_CRYPTO_CRYPTO_H

/* Signature domains: every signature covers domain || 0x00 || message, so a signature made
 * for one kind of message never verifies as another (see docs/FORMATS.md). */
#define ST_DOMAIN_BALLOT "strata-ballot-v1"
#define ST_DOMAIN_PAPER "strata-paper-ballot-v1"
#define ST_DOMAIN_STH "strata-sth-v1"
#define ST_DOMAIN_RECEIPT "strata-receipt-v1"
#define ST_DOMAIN_REQUEST "strata-request-v1"

/* Initialises libsodium. Returns ST_OK (also when already initialised) or ST_EIO when the
 * library cannot start (no usable random source). Safe to call from several threads. */
int st_crypto_init(void);

#endif
