/* fuzz_receipt_file.c - st_receipt_file_load (libstrata: the receipt a device keeps after a
 * cast, docs/CLI.md) on arbitrary file contents. Properties: it answers ST_OK or ST_EINVAL
 * with a message naming the file; whatever it accepts, saved again with
 * st_receipt_file_save, gives back exactly the bytes read (one spelling per receipt). */
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "fuzz.h"

#include "client/strata.h"

static char dir[64], in_path[128], out_path[128];

static void cleanup(void) {
    unlink(in_path);
    unlink(out_path);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool ready;
    if (!ready) {
        snprintf(dir, sizeof(dir), "/tmp/strata-fuzz-receipt-XXXXXX");
        FUZZ_CHECK(mkdtemp(dir) != NULL);
        snprintf(in_path, sizeof(in_path), "%s/in.receipt", dir);
        snprintf(out_path, sizeof(out_path), "%s/out.receipt", dir);
        atexit(cleanup);
        ready = true;
    }
    FILE *f = fopen(in_path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size);
    FUZZ_CHECK(fclose(f) == 0);

    st_receipt_file r;
    st_error err;
    int rc = st_receipt_file_load(in_path, &r, &err);
    FUZZ_CHECK(rc == ST_OK || rc == ST_EINVAL);
    if (rc != ST_OK) {
        FUZZ_CHECK(strstr(err.message, in_path) != NULL);
        return 0;
    }
    unlink(out_path);
    FUZZ_CHECK(st_receipt_file_save(out_path, &r, &err) == ST_OK);
    uint8_t back[8192];
    int fd = open(out_path, O_RDONLY);
    FUZZ_CHECK(fd >= 0);
    ssize_t n = read(fd, back, sizeof(back));
    close(fd);
    FUZZ_CHECK(n >= 0 && (size_t)n == size && memcmp(back, data, size) == 0);
    return 0;
}
