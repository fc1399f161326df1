/* test_batch.c - the Raft entry framing: round trips, limits, and strict decoding of
 * every truncation and corruption. */
#include "consensus/batch.h"
#include "core/error.h"
#include "tests/core/check.h"

static st_slice cmds_buf[ST_BATCH_MAX_COMMANDS];

static void test_round_trip(void) {
    const char *words[] = {"a", "", "投票", "a much longer command with spaces"};
    st_slice in[4];
    for (int i = 0; i < 4; i++) {
        in[i] = (st_slice){(const uint8_t *)words[i], strlen(words[i])};
    }
    size_t size = st_batch_size(in, 4);
    size_t raw = 5 + 4 * 4 + 1 + 0 + strlen("投票") + strlen(words[3]);
    CHECK_EQ(size, (raw + 7) / 8 * 8); /* padded to 8 bytes for raft's segment loader */
    CHECK(size > raw);                 /* this batch needs padding: the case tested */
    uint8_t *buf = malloc(size);
    CHECK(buf != NULL);
    st_batch_encode(in, 4, buf);
    size_t n = 0;
    CHECK(st_batch_decode(buf, size, cmds_buf, &n) == 0);
    CHECK_EQ(n, 4);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(cmds_buf[i].len, in[i].len);
        CHECK(memcmp(cmds_buf[i].data, in[i].data, in[i].len) == 0);
    }
    /* Every truncation, extra bytes, and a non-zero padding byte are refused. */
    for (size_t cut = 0; cut < size; cut++) {
        CHECK_EQ(st_batch_decode(buf, cut, cmds_buf, &n), ST_EINVAL);
    }
    uint8_t *longer = calloc(1, size + 8);
    CHECK(longer != NULL);
    memcpy(longer, buf, size);
    CHECK_EQ(st_batch_decode(longer, size + 8, cmds_buf, &n), ST_EINVAL);
    buf[size - 1] = 1;
    CHECK_EQ(st_batch_decode(buf, size, cmds_buf, &n), ST_EINVAL);
    buf[size - 1] = 0;
    /* Every size is a multiple of 8, whatever the commands' lengths. */
    for (size_t len = 0; len < 20; len++) {
        st_slice one = {(const uint8_t *)"0123456789abcdefghij", len};
        CHECK_EQ(st_batch_size(&one, 1) % 8, 0);
    }
    /* Wrong version, zero count, a length pointing past the end. */
    buf[0] = 2;
    CHECK_EQ(st_batch_decode(buf, size, cmds_buf, &n), ST_EINVAL);
    buf[0] = ST_BATCH_VERSION;
    uint8_t zero[5] = {ST_BATCH_VERSION, 0, 0, 0, 0};
    CHECK_EQ(st_batch_decode(zero, 5, cmds_buf, &n), ST_EINVAL);
    buf[8] = 0xff; /* first command's length, low byte */
    CHECK_EQ(st_batch_decode(buf, size, cmds_buf, &n), ST_EINVAL);
    CHECK_EQ(st_batch_decode(NULL, 0, cmds_buf, &n), ST_EINVAL);
    free(buf);
    free(longer);
}

static void test_limits(void) {
    st_slice one = {(const uint8_t *)"x", 1};
    CHECK_EQ(st_batch_size(&one, 0), 0);
    static st_slice many[ST_BATCH_MAX_COMMANDS + 1];
    for (size_t i = 0; i <= ST_BATCH_MAX_COMMANDS; i++) {
        many[i] = one;
    }
    CHECK(st_batch_size(many, ST_BATCH_MAX_COMMANDS) > 0);
    CHECK_EQ(st_batch_size(many, ST_BATCH_MAX_COMMANDS + 1), 0);
    st_slice huge = {(const uint8_t *)"", ST_BATCH_MAX_BYTES};
    CHECK_EQ(st_batch_size(&huge, 1), 0);
    /* A count past the limit is refused before any length is read. */
    uint8_t hdr[5] = {ST_BATCH_VERSION, 0xff, 0xff, 0xff, 0xff};
    size_t n;
    CHECK_EQ(st_batch_decode(hdr, 5, cmds_buf, &n), ST_EINVAL);
}

int main(void) {
    test_round_trip();
    test_limits();
    printf("batch: all checks passed\n");
    return 0;
}
