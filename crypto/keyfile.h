/* keyfile.h - the text body of a key file holding one Ed25519 secret key, in the clear
 * ("plain") or sealed with a passphrase (Argon2id + XSalsa20-Poly1305).
 *
 * Exact format (docs/FORMATS.md §Key file): lines end in "\n" (no CR), single spaces,
 * base64 is padded RFC 4648 standard base64, nothing before the first or after the last line.
 *   plain:                              sealed:
 *   strata-key-v1 plain                 strata-key-v1 sealed
 *   public <base64 32-byte pubkey>      public <base64 32-byte pubkey>
 *   seed <base64 32-byte seed>          kdf argon2id13 <opslimit> <memlimit>
 *                                       salt <base64 16 bytes>
 *                                       nonce <base64 24 bytes>
 *                                       box <base64 48 bytes: secretbox of the seed>
 * The box key is crypto_pwhash(passphrase, salt, opslimit, memlimit, Argon2id v1.3), 32
 * bytes. The public key line lets a tool show the key without the passphrase; decoding
 * checks it against the key derived from the seed. Writing the file (mode 0600) is the
 * caller's job: nothing here touches the file system.
 */
#ifndef STRATA_CRYPTO_KEYFILE_H
#define STRATA_CRYPTO_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sign.h"

#define ST_KEYFILE_MAX_LEN 512 /* no valid key file text is longer */

/* Writes the key file text of seed into out (the caller's buffer of cap bytes,
 * ST_KEYFILE_MAX_LEN suffices), NUL-terminated, *len without the NUL. pass == NULL writes a
 * plain file; otherwise the file is sealed with pass[0..passlen) (passlen >= 1) using
 * OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE and a random salt and nonce.
 * Returns ST_OK, ST_EINVAL (empty passphrase), ST_ERANGE (cap), ST_ENOMEM (Argon2 memory).
 * A plain text contains the secret: wipe out (sodium_memzero) when done. */
int st_keyfile_encode(const uint8_t seed[ST_SIGN_SEED_LEN], const char *pass, size_t passlen,
                      char *out, size_t cap, size_t *len, char *err, size_t errlen);

/* Checks the structure of text[0..len) without any key derivation, and tells whether it is
 * sealed and its public key. ST_OK or ST_EINVAL with the line at fault. */
int st_keyfile_inspect(const char *text, size_t len, int *sealed, uint8_t pk[ST_SIGN_PK_LEN],
                       char *err, size_t errlen);

/* Decodes the seed (and its public key). For a sealed file pass is required; for a plain
 * file it is ignored. Returns ST_OK; ST_EINVAL for a malformed file (including a public key
 * line that does not match the seed); ST_EAUTH for a wrong or missing passphrase;
 * ST_ENOMEM. On failure seed and pk are zeroed. */
int st_keyfile_decode(const char *text, size_t len, const char *pass, size_t passlen,
                      uint8_t seed[ST_SIGN_SEED_LEN], uint8_t pk[ST_SIGN_PK_LEN], char *err,
                      size_t errlen);

#endif
