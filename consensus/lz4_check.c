/* lz4_check.c - an LZ4 frame verifier (lz4_check.h): xxHash32, the block decoder with
 * bounds checks on every read and write, and the frame walk. Formats: the LZ4 Frame Format
 * Description 1.6.x and the LZ4 Block Format Description. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/lz4_check.h"
#include "core/error.h"

#define LZ4_MAGIC 0x184D2204u
#define MAX_RATIO 256           /* an LZ4 block expands at most ~255 times */
#define XXH32_EMPTY 0x02CC5D05u /* xxHash32 of no bytes */

/* ---- xxHash32 ---- */

#define P1 0x9E3779B1u
#define P2 0x85EBCA77u
#define P3 0xC2B2AE3Du
#define P4 0x27D4EB2Fu
#define P5 0x165667B1u

static uint32_t rotl(uint32_t x, int r) {
    return (x << r) | (x >> (32 - r));
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t xxh_round(uint32_t acc, uint32_t in) {
    return rotl(acc + in * P2, 13) * P1;
}

uint32_t st_xxh32(const uint8_t *p, size_t n) {
    size_t i = 0;
    uint32_t h;
    if (n >= 16) {
        uint32_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = 0u - P1;
        for (; n - i >= 16; i += 16) {
            v1 = xxh_round(v1, le32(p + i));
            v2 = xxh_round(v2, le32(p + i + 4));
            v3 = xxh_round(v3, le32(p + i + 8));
            v4 = xxh_round(v4, le32(p + i + 12));
        }
        h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    } else {
        h = P5;
    }
    h += (uint32_t)n;
    for (; n - i >= 4; i += 4) {
        h = rotl(h + le32(p + i) * P3, 17) * P4;
    }
    for (; i < n; i++) {
        h = rotl(h + p[i] * P5, 11) * P1;
    }
    h ^= h >> 15;
    h *= P2;
    h ^= h >> 13;
    h *= P3;
    h ^= h >> 16;
    return h;
}

/* ---- blocks ---- */

/* Decodes one compressed block in[0..n) to out[*pos..cap); matches may reach back into
 * earlier blocks (out[0..*pos)). false on any malformed sequence. */
static bool decode_block(const uint8_t *in, size_t n, uint8_t *out, size_t *pos, size_t cap) {
    size_t ip = 0, op = *pos;
    while (ip < n) {
        unsigned token = in[ip++];
        size_t lit = token >> 4;
        if (lit == 15) {
            unsigned b;
            do {
                if (ip >= n) {
                    return false;
                }
                b = in[ip++];
                lit += b;
            } while (b == 255);
        }
        if (lit > n - ip || lit > cap - op) {
            return false;
        }
        memcpy(out + op, in + ip, lit);
        op += lit;
        ip += lit;
        if (ip == n) {
            break; /* the last sequence holds literals only */
        }
        if (n - ip < 2) {
            return false;
        }
        size_t off = (size_t)in[ip] | (size_t)in[ip + 1] << 8;
        ip += 2;
        if (off == 0 || off > op) {
            return false;
        }
        size_t ml = token & 15u;
        if (ml == 15) {
            unsigned b;
            do {
                if (ip >= n) {
                    return false;
                }
                b = in[ip++];
                ml += b;
            } while (b == 255);
        }
        ml += 4;
        if (ml > cap - op) {
            return false;
        }
        for (size_t i = 0; i < ml; i++) { /* byte by byte: source and target may overlap */
            out[op + i] = out[op - off + i];
        }
        op += ml;
    }
    *pos = op;
    return true;
}

/* ---- the frame ---- */

int st_lz4_frame_check(const uint8_t *buf, size_t len, char *why, size_t whylen) {
    if (len < 4 || le32(buf) != LZ4_MAGIC) {
        return st_fail(why, whylen, ST_EINVAL, "not an LZ4 frame");
    }
    if (len < 7) {
        return st_fail(why, whylen, ST_ECORRUPT, "its LZ4 frame header is cut short");
    }
    unsigned flg = buf[4], bd = buf[5];
    bool block_sums = flg & 0x10, has_size = flg & 0x08, content_sum = flg & 0x04,
         dict = flg & 0x01;
    unsigned block_id = (bd >> 4) & 7u;
    if ((flg >> 6) != 1 || (flg & 0x02) || (bd & 0x8F) || block_id < 4) {
        return st_fail(why, whylen, ST_ECORRUPT, "its LZ4 frame descriptor is invalid");
    }
    size_t block_max = (size_t)1 << (8 + 2 * block_id);
    size_t desc = 2 + (has_size ? 8 : 0) + (dict ? 4 : 0);
    if (len < 4 + desc + 1) {
        return st_fail(why, whylen, ST_ECORRUPT, "its LZ4 frame header is cut short");
    }
    if (((st_xxh32(buf + 4, desc) >> 8) & 0xFF) != buf[4 + desc]) {
        return st_fail(why, whylen, ST_ECORRUPT, "its LZ4 frame header fails its checksum");
    }
    uint64_t content_size = 0;
    if (has_size) {
        for (int i = 7; i >= 0; i--) {
            content_size = content_size << 8 | buf[6 + i];
        }
    }
    size_t ip = 4 + desc + 1;
    /* The output: the stated size, or grown block by block; never more than the input can
     * decode to. */
    size_t limit = len > SIZE_MAX / MAX_RATIO ? SIZE_MAX : len * MAX_RATIO;
    if (has_size && content_size > limit) {
        return st_fail(why, whylen, ST_ECORRUPT,
                       "its LZ4 frame states a content size its data cannot hold");
    }
    size_t cap = has_size ? (size_t)content_size : 0, pos = 0;
    uint8_t *out = cap > 0 ? malloc(cap) : NULL;
    if (cap > 0 && out == NULL) {
        return st_fail(why, whylen, ST_ENOMEM, "out of memory checking a %zu-byte snapshot", cap);
    }
    int rc = ST_OK;
    for (;;) {
        if (len - ip < 4) {
            rc = st_fail(why, whylen, ST_ECORRUPT, "its LZ4 data is cut short at byte %zu", ip);
            break;
        }
        uint32_t word = le32(buf + ip);
        ip += 4;
        if (word == 0) {
            break; /* the end mark */
        }
        bool raw = word & 0x80000000u;
        size_t n = word & 0x7FFFFFFFu;
        if (n > block_max || n > len - ip || (block_sums && len - ip - n < 4)) {
            rc = st_fail(why, whylen, ST_ECORRUPT, "the LZ4 block at byte %zu has a bad size",
                         ip - 4);
            break;
        }
        if (block_sums && st_xxh32(buf + ip, n) != le32(buf + ip + n)) {
            rc = st_fail(why, whylen, ST_ECORRUPT, "the LZ4 block at byte %zu fails its checksum",
                         ip - 4);
            break;
        }
        if (!has_size && cap - pos < block_max) { /* room for one more block */
            size_t want = cap + block_max * 2;
            uint8_t *grown = want <= limit ? realloc(out, want) : NULL;
            if (grown == NULL) {
                rc = st_fail(why, whylen, want <= limit ? ST_ENOMEM : ST_ECORRUPT,
                             "its LZ4 data decodes to more than it can hold");
                break;
            }
            out = grown;
            cap = want;
        }
        if (raw) {
            if (n > cap - pos) {
                rc = st_fail(why, whylen, ST_ECORRUPT,
                             "its LZ4 data is longer than its stated content size");
                break;
            }
            if (n > 0) {
                memcpy(out + pos, buf + ip, n);
            }
            pos += n;
        } else if (!decode_block(buf + ip, n, out, &pos, cap)) {
            rc = st_fail(why, whylen, ST_ECORRUPT, "the LZ4 block at byte %zu does not decode",
                         ip - 4);
            break;
        }
        ip += n + (block_sums ? 4 : 0);
    }
    if (rc == ST_OK && has_size && pos != content_size) {
        rc = st_fail(why, whylen, ST_ECORRUPT,
                     "its LZ4 data decodes to %zu bytes where its header says %llu", pos,
                     (unsigned long long)content_size);
    }
    if (rc == ST_OK && content_sum) {
        if (len - ip < 4) {
            rc = st_fail(why, whylen, ST_ECORRUPT, "its LZ4 content checksum is missing");
        } else if ((pos > 0 ? st_xxh32(out, pos) : XXH32_EMPTY) != le32(buf + ip)) {
            rc = st_fail(why, whylen, ST_ECORRUPT, "its LZ4 content checksum does not match");
        } else {
            ip += 4;
        }
    }
    if (rc == ST_OK && ip != len) {
        rc = st_fail(why, whylen, ST_ECORRUPT, "%zu bytes follow its LZ4 frame", len - ip);
    }
    free(out);
    return rc;
}
