/* gen_bundle_corpus.c - writes the seed corpus of fuzz_bundle: the worked example's bundle
 * (tests/client/bundle_fixture.c), one input per file, each the file's number (bundle_files.h)
 * followed by its bytes. Usage: fuzz_gen_bundle_corpus SCRATCH_DIR OUT_DIR (SCRATCH_DIR must
 * not exist). tests/fuzz/corpus/bundle holds its output; rerun after a format change. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "client/audit/text.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "tests/client/bundle_fixture.h"
#include "tests/fuzz/bundle_files.h"

int main(int argc, char **argv) {
    if (argc != 3 || st_crypto_init() != ST_OK) {
        fprintf(stderr, "usage: %s SCRATCH_DIR OUT_DIR\n", argv[0]);
        return 2;
    }
    if (fixture_write(argv[1], fixture_example_units, 12, fixture_example_ballots,
                      FIXTURE_EXAMPLE_BALLOTS, false) != ST_OK) {
        return 1;
    }
    if (mkdir(argv[2], 0755) != 0 && errno != EEXIST) {
        perror(argv[2]);
        return 1;
    }
    for (size_t i = 0; i < FUZZ_BUNDLE_FILES; i++) {
        char *buf, err[256], path[1024];
        size_t len;
        if (st_audit__read(argv[1], fuzz_bundle_files[i], &buf, &len, err, sizeof(err)) != ST_OK) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        snprintf(path, sizeof(path), "%s/%s", argv[2], fuzz_bundle_files[i]);
        FILE *f = fopen(path, "wb");
        unsigned char which = (unsigned char)i;
        if (f == NULL || fwrite(&which, 1, 1, f) != 1 || fwrite(buf, 1, len, f) != len ||
            fclose(f) != 0) {
            perror(path);
            return 1;
        }
        free(buf);
    }
    return 0;
}
