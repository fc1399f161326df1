/* batch.c - framing several commands into one Raft entry and back. */
#include <string.h>

#include "consensus/batch.h"
#include "core/error.h"

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t st_batch_size(const st_slice *cmds, size_t n) {
    if (n == 0 || n > ST_BATCH_MAX_COMMANDS) {
        return 0;
    }
    size_t total = 5;
    for (size_t i = 0; i < n; i++) {
        if (cmds[i].len > ST_BATCH_MAX_BYTES || total + 4 + cmds[i].len > ST_BATCH_MAX_BYTES) {
            return 0;
        }
        total += 4 + cmds[i].len;
    }
    return (total + 7) & ~(size_t)7; /* see batch.h: entries are padded to 8 bytes */
}

void st_batch_encode(const st_slice *cmds, size_t n, uint8_t *out) {
    size_t total = st_batch_size(cmds, n);
    out[0] = ST_BATCH_VERSION;
    put32(out + 1, (uint32_t)n);
    uint8_t *p = out + 5;
    for (size_t i = 0; i < n; i++) {
        put32(p, (uint32_t)cmds[i].len);
        if (cmds[i].len > 0) {
            memcpy(p + 4, cmds[i].data, cmds[i].len);
        }
        p += 4 + cmds[i].len;
    }
    memset(p, 0, total - (size_t)(p - out));
}

int st_batch_decode(const uint8_t *buf, size_t len, st_slice *cmds, size_t *n) {
    if (buf == NULL || len < 5 || len > ST_BATCH_MAX_BYTES || buf[0] != ST_BATCH_VERSION) {
        return ST_EINVAL;
    }
    uint32_t count = get32(buf + 1);
    if (count == 0 || count > ST_BATCH_MAX_COMMANDS) {
        return ST_EINVAL;
    }
    size_t off = 5;
    for (uint32_t i = 0; i < count; i++) {
        if (len - off < 4) {
            return ST_EINVAL;
        }
        uint32_t clen = get32(buf + off);
        off += 4;
        if (clen > len - off) {
            return ST_EINVAL;
        }
        cmds[i].data = buf + off;
        cmds[i].len = clen;
        off += clen;
    }
    /* Only the zero padding to the next multiple of 8 may follow. */
    if (len - off > 7 || len % 8 != 0) {
        return ST_EINVAL;
    }
    for (; off < len; off++) {
        if (buf[off] != 0) {
            return ST_EINVAL;
        }
    }
    *n = count;
    return ST_OK;
}
