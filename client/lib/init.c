/* init.c - the one process-wide step of libstrata (starting libsodium, once) and the small
 * services every file uses: clocks, sleeping, randomness.
 */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <time.h>

#include "client/lib/internal.h"
#include "crypto/crypto.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc = ST_OK; /* written once inside pthread_once, read after it */

static void init_run(void) {
    init_rc = st_crypto_init();
}

int st__lib_init(st_error *err) {
    pthread_once(&init_once, init_run);
    if (init_rc != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EIO,
                        "libsodium cannot start (no usable random source on this system)");
    }
    return ST_OK;
}

int64_t st__mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t st__wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void st__sleep_ms(int64_t ms) {
    if (ms <= 0) {
        return;
    }
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void st__random(void *buf, size_t len) {
    randombytes_buf(buf, len);
}

uint32_t st__random_below(uint32_t n) {
    return n <= 1 ? 0 : randombytes_uniform(n);
}

void st_request_id_new(uint8_t id[ST_CLIENT_REQUEST_ID_LEN]) {
    if (st__lib_init(NULL) == ST_OK) {
        randombytes_buf(id, ST_CLIENT_REQUEST_ID_LEN);
    }
}
