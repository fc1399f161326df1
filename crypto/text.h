/* text.h - hex and base64 text for keys, key ids, signatures and hashes.
 *
 * Encoders write lowercase hex and standard padded base64 (RFC 4648 §4, the alphabet with
 * '+' and '/'). Decoders are strict: they take exactly the expected number of characters,
 * reject any character outside the alphabet (no whitespace, no line breaks), reject base64
 * with wrong padding or non-zero unused bits, and report the first problem in err.
 */
#ifndef STRATA_CRYPTO_TEXT_H
#define STRATA_CRYPTO_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed for the base64 text of len bytes, not counting the NUL. */
#define ST_B64_LEN(len) ((((len) + 2) / 3) * 4)

/* Writes 2*len lowercase hex digits and a NUL into out (the caller's buffer, at least
 * 2*len+1 bytes). Cannot fail. */
void st_hex_encode(char *out, const uint8_t *in, size_t len);

/* Decodes exactly 2*outlen hex digits (either case) from hex[0..hexlen) into out.
 * Returns ST_OK, or ST_EINVAL when hexlen != 2*outlen or a character is not a hex digit;
 * on failure out is zeroed. */
int st_hex_decode(uint8_t *out, size_t outlen, const char *hex, size_t hexlen, char *err,
                  size_t errlen);

/* Writes the padded base64 of in[0..len) and a NUL into out (the caller's buffer of
 * outcap bytes, at least ST_B64_LEN(len)+1). Returns ST_OK or ST_ERANGE if out is too
 * small. */
int st_b64_encode(char *out, size_t outcap, const uint8_t *in, size_t len);

/* Decodes padded base64 b64[0..b64len) that must encode exactly outlen bytes.
 * Returns ST_OK or ST_EINVAL (bad length, character, padding or trailing bits); on failure
 * out is zeroed. */
int st_b64_decode(uint8_t *out, size_t outlen, const char *b64, size_t b64len, char *err,
                  size_t errlen);

#endif
