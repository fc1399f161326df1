/* canon.c - the canonical writer (growable buffer, sticky error) and the bounds-checked
 * reader (never reads past its input; remembers where the first problem was). */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "crypto/canon.h"
#include "crypto/endian.h"

/* ---- writer ---- */

void st_canon_writer_init(st_canon_writer *w) {
    w->buf = NULL;
    w->len = 0;
    w->cap = 0;
    w->err = ST_OK;
}

void st_canon_writer_free(st_canon_writer *w) {
    free(w->buf);
    st_canon_writer_init(w);
}

/* Makes room for n more bytes; returns a pointer to them or NULL on a (sticky) error. */
static uint8_t *reserve(st_canon_writer *w, size_t n) {
    if (w->err != ST_OK)
        return NULL;
    if (n > SIZE_MAX - w->len) {
        w->err = ST_ERANGE;
        return NULL;
    }
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 64;
        uint8_t *nb;
        while (cap < w->len + n)
            cap = cap > SIZE_MAX / 2 ? w->len + n : cap * 2;
        nb = realloc(w->buf, cap);
        if (!nb) {
            w->err = ST_ENOMEM;
            return NULL;
        }
        w->buf = nb;
        w->cap = cap;
    }
    w->len += n;
    return w->buf + w->len - n;
}

int st_canon_put_u8(st_canon_writer *w, uint8_t v) {
    uint8_t *p = reserve(w, 1);
    if (p)
        p[0] = v;
    return w->err;
}

int st_canon_put_u16(st_canon_writer *w, uint16_t v) {
    uint8_t *p = reserve(w, 2);
    if (p)
        st_store_be16(p, v);
    return w->err;
}

int st_canon_put_u32(st_canon_writer *w, uint32_t v) {
    uint8_t *p = reserve(w, 4);
    if (p)
        st_store_be32(p, v);
    return w->err;
}

int st_canon_put_u64(st_canon_writer *w, uint64_t v) {
    uint8_t *p = reserve(w, 8);
    if (p)
        st_store_be64(p, v);
    return w->err;
}

int st_canon_put_bytes(st_canon_writer *w, const void *src, size_t n) {
    uint8_t *p = reserve(w, n);
    if (p && n)
        memcpy(p, src, n);
    return w->err;
}

int st_canon_put_h32(st_canon_writer *w, const uint8_t h[32]) {
    return st_canon_put_bytes(w, h, 32);
}

int st_canon_put_str16(st_canon_writer *w, const void *src, size_t n) {
    if (w->err == ST_OK && n > UINT16_MAX)
        w->err = ST_ERANGE;
    st_canon_put_u16(w, (uint16_t)n);
    return st_canon_put_bytes(w, src, n);
}

int st_canon_writer_status(const st_canon_writer *w) {
    return w->err;
}

const uint8_t *st_canon_writer_data(const st_canon_writer *w, size_t *len) {
    *len = w->len;
    return w->buf;
}

uint8_t *st_canon_writer_take(st_canon_writer *w, size_t *len) {
    uint8_t *b = NULL;
    *len = 0;
    if (w->err == ST_OK && w->len > 0) {
        b = w->buf;
        *len = w->len;
        w->buf = NULL;
    }
    st_canon_writer_free(w);
    return b;
}

/* ---- reader ---- */

void st_canon_reader_init(st_canon_reader *r, const void *buf, size_t len) {
    r->buf = buf;
    r->len = buf ? len : 0;
    r->off = 0;
    r->err = ST_OK;
    r->err_off = 0;
    r->what = NULL;
}

int st_canon_reader_fail_at(st_canon_reader *r, size_t off, int code, const char *what) {
    if (r->err == ST_OK) {
        r->err = code;
        r->err_off = off;
        r->what = what;
    }
    return r->err;
}

/* Returns a pointer to the next n bytes and advances, or NULL on a (sticky) error. */
static const uint8_t *take(st_canon_reader *r, size_t n) {
    if (r->err != ST_OK)
        return NULL;
    if (n > r->len - r->off) {
        st_canon_reader_fail_at(r, r->off, ST_EINVAL, "truncated");
        return NULL;
    }
    r->off += n;
    return r->buf + r->off - n;
}

int st_canon_get_u8(st_canon_reader *r, uint8_t *v) {
    const uint8_t *p = take(r, 1);
    *v = p ? p[0] : 0;
    return r->err;
}

int st_canon_get_u16(st_canon_reader *r, uint16_t *v) {
    const uint8_t *p = take(r, 2);
    *v = p ? st_load_be16(p) : 0;
    return r->err;
}

int st_canon_get_u32(st_canon_reader *r, uint32_t *v) {
    const uint8_t *p = take(r, 4);
    *v = p ? st_load_be32(p) : 0;
    return r->err;
}

int st_canon_get_u64(st_canon_reader *r, uint64_t *v) {
    const uint8_t *p = take(r, 8);
    *v = p ? st_load_be64(p) : 0;
    return r->err;
}

int st_canon_get_bytes(st_canon_reader *r, void *out, size_t n) {
    const uint8_t *p = take(r, n);
    if (n) {
        if (p)
            memcpy(out, p, n);
        else
            memset(out, 0, n);
    }
    return r->err;
}

int st_canon_get_h32(st_canon_reader *r, uint8_t h[32]) {
    return st_canon_get_bytes(r, h, 32);
}

int st_canon_get_str16(st_canon_reader *r, const uint8_t **p, size_t *n, size_t max) {
    size_t at = r->off;
    uint16_t len = 0;

    *p = NULL;
    *n = 0;
    if (st_canon_get_u16(r, &len) != ST_OK)
        return r->err;
    if (len > max)
        return st_canon_reader_fail_at(r, at, ST_EINVAL, "string longer than allowed");
    *p = take(r, len);
    if (*p)
        *n = len;
    return r->err;
}

int st_canon_reader_end(st_canon_reader *r) {
    if (r->err == ST_OK && r->off != r->len)
        st_canon_reader_fail_at(r, r->off, ST_EINVAL, "trailing bytes");
    return r->err;
}

size_t st_canon_reader_offset(const st_canon_reader *r) {
    return r->off;
}

int st_canon_reader_status(const st_canon_reader *r, const char *ctx, char *err, size_t errlen) {
    if (r->err == ST_OK)
        return ST_OK;
    return st_fail(err, errlen, r->err, "%s: byte %zu: %s", ctx, r->err_off,
                   r->what ? r->what : "invalid");
}

int st_canon_utf8_ok(const uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        uint32_t cp;
        size_t need;

        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return 0;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return 0; /* continuation byte, overlong lead 0xc0/0xc1, or above 0xf4 */
        }
        if (n - i - 1 < need)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
            return 0;
        i += need + 1;
    }
    return 1;
}
