/* bench_verify.c - how fast `strata audit verify` checks an audit bundle offline.
 *
 * Writes a synthetic, correctly signed bundle of 100,000 ballots (tests/client/
 * bundle_fixture.h: 100,000 owners of one unit each, one owner key each, every ballot signed
 * and logged, the tree head signed by a node key, the result counted with core/) to a
 * temporary directory, then times st_bundle_verify() - the code path of `strata audit
 * verify`: read and hash every file, verify every signature and leaf hash on every core,
 * check each line, recompute the Merkle root, recount - over several runs, with every
 * core and with one thread, and prints ballots per second. The run fails if the bundle
 * does not verify.
 *
 * usage: bench_verify [BALLOTS [RUNS [KEEP_DIR]]]   (default 100000 and 3; not run by ctest)
 * With KEEP_DIR the bundle is written there and kept, for `strata audit verify KEEP_DIR`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/audit/bundle.h"
#include "core/error.h"
#include "tests/client/bundle_fixture.h"

static int run(const char *dir, unsigned threads, int runs, size_t n) {
    uint64_t best = UINT64_MAX;
    st_bundle_report rep;
    memset(&rep, 0, sizeof(rep));
    for (int i = 0; i < runs; i++) {
        st_bundle_verify_options o = {threads, NULL, NULL};
        int rc = st_bundle_verify(dir, &o, &rep);
        if (rc != ST_OK) {
            fprintf(stderr, "bench_verify: the bundle does not verify: %s:%zu: %s\n", rep.file,
                    rep.line, rep.message);
            return 1;
        }
        if (rep.ballots != n) {
            fprintf(stderr, "bench_verify: %zu ballots verified, %zu written\n", rep.ballots, n);
            return 1;
        }
        best = rep.verify_us < best ? rep.verify_us : best;
    }
    printf("%-10s %2u thread%s  %8.3f s  %9llu ballots/s  (best of %d)\n",
           threads == 0 ? "all cores" : "one core", rep.threads, rep.threads == 1 ? " " : "s",
           (double)best / 1e6, (unsigned long long)((uint64_t)n * 1000000u / best), runs);
    return 0;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    if (n < 3 || n > 10000000 || runs < 1) {
        fprintf(stderr, "usage: bench_verify [BALLOTS (3..10000000) [RUNS [KEEP_DIR]]]\n");
        return 2;
    }
    st_unit *units = calloc(n, sizeof(*units));
    fixture_ballot *ballots = calloc(n, sizeof(*ballots));
    char(*ids)[16] = calloc(n, 16);
    char(*names)[16] = calloc(n, 16);
    if (units == NULL || ballots == NULL || ids == NULL || names == NULL) {
        fprintf(stderr, "bench_verify: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], 16, "U%zu", i + 1);
        snprintf(names[i], 16, "王*%zu", i % 1000);
        units[i] =
            (st_unit){ids[i], "B", 5000 + (int64_t)(i % 9000), ids[i], names[i], ST_UNIT_OWNED};
        ballots[i] = (fixture_ballot){ids[i], 1 + (int)(i % 3), false};
    }
    char dir[] = "/tmp/strata-bench-verify-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char bundle[4200];
    snprintf(bundle, sizeof(bundle), "%s/bundle", dir);
    if (argc > 3) {
        snprintf(bundle, sizeof(bundle), "%s", argv[3]);
    }
    fprintf(stderr, "bench_verify: signing %zu ballots into %s ", n, bundle);
    int rc = fixture_write(bundle, units, n, ballots, n, true);
    fputc('\n', stderr);
    if (rc == ST_OK) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        printf("bench_verify: %zu ballots, %ld online cores\n", n, cores);
        rc = run(bundle, 0, runs, n);
        rc = rc ? rc : run(bundle, 1, runs, n);
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_verify: could not remove %s\n", dir);
    }
    free(units);
    free(ballots);
    free(ids);
    free(names);
    return rc == ST_OK ? 0 : 1;
}
