/* fuzz_batch.c - the framing of a Raft entry (consensus/batch.h). Property: whatever
 * decodes is canonical: encoding the decoded commands gives back the same bytes. */
#include "fuzz.h"

#include "consensus/batch.h"

static st_slice cmds[ST_BATCH_MAX_COMMANDS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t n = 0;
    if (st_batch_decode(data, size, cmds, &n) != ST_OK) {
        return 0;
    }
    FUZZ_CHECK(n >= 1 && n <= ST_BATCH_MAX_COMMANDS);
    size_t len = st_batch_size(cmds, n);
    FUZZ_CHECK(len == size);
    uint8_t *out = malloc(len);
    FUZZ_CHECK(out != NULL);
    st_batch_encode(cmds, n, out);
    FUZZ_CHECK(memcmp(out, data, size) == 0);
    free(out);
    return 0;
}
