/* fuzz_bundle.c - st_bundle_verify on audit bundles with one file replaced by the input.
 *
 * At start the worked example's bundle (tests/client/bundle_fixture.c: DOMAIN.md's vote,
 * signed as a cluster signs it) is written to a scratch directory. An input is one byte
 * naming a file of the bundle, then that file's new contents. The other files are the
 * originals, and MANIFEST is rewritten with the new file's size and SHA-256, so every input
 * reaches the parser and the checks of its file (an input naming MANIFEST replaces it as is).
 *
 * Properties: the verifier returns ST_OK or ST_ECORRUPT (never another code, never a crash
 * or a sanitizer report); the original bytes verify; and whatever the change, a bundle that
 * verifies recounts to the worked example's result (no edit makes the verifier accept a
 * different outcome). The seed corpus (corpus/bundle) holds the original files, one per
 * input; fuzz_gen_bundle_corpus writes them.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#include "client/audit/bundle.h"
#include "client/audit/text.h"
#include "tests/client/bundle_fixture.h"
#include "tests/fuzz/bundle_files.h"

static char base[256], work[300];
static char *orig[FUZZ_BUNDLE_FILES];
static size_t orig_len[FUZZ_BUNDLE_FILES];
static st_bundle_report want;

static void write_file(const char *name, const void *p, size_t n) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", work, name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(n == 0 || fwrite(p, 1, n, f) == n);
    FUZZ_CHECK(fclose(f) == 0);
}

static void rmtree(const char *dir) {
    char path[512];
    for (size_t i = 0; i < FUZZ_BUNDLE_FILES; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, fuzz_bundle_files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void cleanup(void) {
    rmtree(work);
    rmtree(base);
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s", base);
    char *slash = strrchr(tmp, '/');
    if (slash != NULL) {
        *slash = '\0';
        rmdir(tmp);
    }
}

static void setup(void) {
    char tmpl[] = "/tmp/strata-fuzz-bundle-XXXXXX";
    FUZZ_CHECK(mkdtemp(tmpl) != NULL);
    snprintf(base, sizeof(base), "%s/base", tmpl);
    snprintf(work, sizeof(work), "%s/work", tmpl);
    FUZZ_CHECK(fixture_write(base, fixture_example_units, 12, fixture_example_ballots,
                             FIXTURE_EXAMPLE_BALLOTS, false) == ST_OK);
    FUZZ_CHECK(mkdir(work, 0755) == 0);
    atexit(cleanup);
    for (size_t i = 0; i < FUZZ_BUNDLE_FILES; i++) {
        char err[256];
        FUZZ_CHECK(st_audit__read(base, fuzz_bundle_files[i], &orig[i], &orig_len[i], err,
                                  sizeof(err)) == ST_OK);
    }
    st_bundle_verify_options one = {1, NULL, NULL};
    FUZZ_CHECK(st_bundle_verify(base, &one, &want) == ST_OK);
}

/* MANIFEST with the line "file NAME HASH SIZE" of file i made for data[0..n). */
static void write_manifest(size_t i, const uint8_t *data, size_t n) {
    const char *name = fuzz_bundle_files[i];
    char hex[65], line[512];
    st_audit__sha256_hex(data, n, hex);
    int ll = snprintf(line, sizeof(line), "file %s %s %zu\n", name, hex, n);
    char prefix[128];
    int pl = snprintf(prefix, sizeof(prefix), "file %s ", name);
    const char *m = orig[0];
    size_t mlen = orig_len[0];
    const char *at = NULL;
    for (const char *p = m; p < m + mlen; p = strchr(p, '\n') + 1) {
        if (strncmp(p, prefix, (size_t)pl) == 0) {
            at = p;
            break;
        }
        if (strchr(p, '\n') == NULL) {
            break;
        }
    }
    FUZZ_CHECK(at != NULL);
    const char *end = strchr(at, '\n') + 1;
    char path[512];
    snprintf(path, sizeof(path), "%s/MANIFEST", work);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    fwrite(m, 1, (size_t)(at - m), f);
    fwrite(line, 1, (size_t)ll, f);
    fwrite(end, 1, (size_t)(m + mlen - end), f);
    FUZZ_CHECK(fclose(f) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool ready;
    if (!ready) {
        setup();
        ready = true;
    }
    if (size < 1) {
        return 0;
    }
    size_t which = data[0] % FUZZ_BUNDLE_FILES;
    const uint8_t *body = data + 1;
    size_t n = size - 1;
    for (size_t i = 0; i < FUZZ_BUNDLE_FILES; i++) {
        if (i == which) {
            write_file(fuzz_bundle_files[i], body, n);
        } else if (i != 0) {
            write_file(fuzz_bundle_files[i], orig[i], orig_len[i]);
        }
    }
    if (which != 0) {
        write_manifest(which, body, n);
    }
    bool same = n == orig_len[which] && memcmp(body, orig[which], n) == 0;

    st_bundle_verify_options one = {1, NULL, NULL};
    st_bundle_report rep;
    int rc = st_bundle_verify(work, &one, &rep);
    FUZZ_CHECK(rc == ST_OK || rc == ST_ECORRUPT);
    if (same) {
        FUZZ_CHECK(rc == ST_OK);
    }
    if (rc == ST_OK) {
        /* Accepted: the outcome must be the worked example's. */
        FUZZ_CHECK(rep.vote_id == want.vote_id && rep.community_id == want.community_id);
        FUZZ_CHECK(rep.ballots == want.ballots && rep.voters == want.voters);
        FUZZ_CHECK(memcmp(&rep.tally, &want.tally, sizeof(rep.tally)) == 0);
        FUZZ_CHECK(rep.decision.quorum == want.decision.quorum);
        FUZZ_CHECK(rep.decision.passed == want.decision.passed);
        FUZZ_CHECK(rep.sth.tree_size == want.sth.tree_size);
        FUZZ_CHECK(memcmp(rep.sth.root, want.sth.root, sizeof(rep.sth.root)) == 0);
    } else {
        FUZZ_CHECK(rep.file[0] != '\0' && rep.message[0] != '\0');
    }
    return 0;
}
