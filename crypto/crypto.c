/* crypto.c - st_crypto_init(): the one place that starts libsodium. */
#include <sodium.h>

#include "core/error.h"
#include "crypto/crypto.h"

int st_crypto_init(void) {
    /* sodium_init() returns 0 on first success, 1 when already done, -1 on failure; it is
     * itself thread-safe, so no lock is needed here. */
    return sodium_init() < 0 ? ST_EIO : ST_OK;
}
