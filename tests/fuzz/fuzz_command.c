/* fuzz_command.c - the state machine's command decoder and every handler behind it
 * (server/state.h). Each input is applied as the next Raft entry of one state kept in a
 * temporary directory. Properties: apply never fails for bad input (storage errors only),
 * a refused command changes no data (the data digest is unchanged), and a repeated entry
 * index is skipped. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <unistd.h>

#include "fuzz.h"

#include "server/state.h"

static st_state *state;
static uint64_t next_index = 1;
static char dir[] = "/tmp/strata-fuzz-state-XXXXXX";

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* libFuzzer leaves through exit(): close the state and delete its directory. */
static void cleanup(void) {
    st_state_close(state);
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void open_state(void) {
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    atexit(cleanup);
    st_state_options opt = {.dir = dir, .nosync = true, .map_size = 64u << 20};
    char err[256];
    FUZZ_CHECK(st_state_open(&state, &opt, err, sizeof(err)) == ST_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (state == NULL) {
        open_state();
    }
    if (size > 1 << 16) {
        return 0;
    }
    uint8_t before[32], after[32];
    FUZZ_CHECK(st_state_digest(state, ST_STATE_DIGEST_DATA, before) == ST_OK);
    st_apply_result r;
    uint64_t index = next_index++;
    FUZZ_CHECK(st_state_apply(state, index, data, size, &r) == ST_OK);
    FUZZ_CHECK(!r.skipped);
    if (r.code != ST_OK) {
        FUZZ_CHECK(r.message[0] != '\0'); /* a refusal always says why */
        FUZZ_CHECK(st_state_digest(state, ST_STATE_DIGEST_DATA, after) == ST_OK);
        FUZZ_CHECK(memcmp(before, after, 32) == 0);
    }
    FUZZ_CHECK(st_state_apply(state, index, data, size, &r) == ST_OK);
    FUZZ_CHECK(r.skipped);
    return 0;
}
