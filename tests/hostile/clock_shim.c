/* clock_shim.c - moves a stratad's wall clock for the expiry test (test_expiry.c): a
 * library preloaded into that one process (LD_PRELOAD) that adds STRATA_TEST_CLOCK_OFFSET_MS
 * milliseconds to every reading of the realtime clock through clock_gettime (what stratad
 * and gRPC read the time with). The monotonic clocks are left alone, so Raft's timers run
 * as usual. Test-only: never linked into anything.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static int64_t offset_ms(void) {
    static int64_t off = -1;
    if (off == -1) {
        const char *s = getenv("STRATA_TEST_CLOCK_OFFSET_MS");
        off = s != NULL ? strtoll(s, NULL, 10) : 0;
    }
    return off;
}

static clock_gettime_fn real_clock_gettime(void) {
    static clock_gettime_fn fn;
    if (fn == NULL) {
        fn = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    }
    return fn;
}

static void shift(struct timespec *ts) {
    int64_t ns = (int64_t)ts->tv_nsec + (offset_ms() % 1000) * 1000000;
    ts->tv_sec += (time_t)(offset_ms() / 1000) + (time_t)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
    if (ts->tv_nsec < 0) {
        ts->tv_nsec += 1000000000;
        ts->tv_sec--;
    }
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    int rc = real_clock_gettime()(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
        shift(ts);
    }
    return rc;
}
