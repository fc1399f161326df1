/* mask.c - owner names masked for the public: first code point of each co-owner name,
 * one '*' for every other code point (see mask.h). */
#include <stdbool.h>
#include <string.h>

#include "core/error.h"
#include "server/mask.h"

/* Length in bytes of the UTF-8 sequence starting at p (n bytes left), or 0 if invalid:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *p, size_t n) {
    unsigned char c = p[0];
    size_t len;
    unsigned long cp;
    if (c < 0x80) {
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return len;
}

int st_mask_name(const char *name, char *out, size_t cap) {
    if (cap == 0) {
        return ST_ERANGE;
    }
    out[0] = '\0';
    const unsigned char *p = (const unsigned char *)name;
    size_t n = strlen(name), o = 0;
    bool first = true; /* at the first code point of a co-owner's name */
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(p + i, n - i);
        if (len == 0) {
            out[0] = '\0';
            return ST_EINVAL;
        }
        const unsigned char *src;
        size_t copy;
        if (p[i] == ';') {
            src = p + i; /* the separator stays, and the next name starts */
            copy = 1;
            first = true;
        } else if (first) {
            src = p + i;
            copy = len;
            first = false;
        } else {
            src = (const unsigned char *)"*";
            copy = 1;
        }
        if (o + copy >= cap) {
            out[0] = '\0';
            return ST_ERANGE;
        }
        memcpy(out + o, src, copy);
        o += copy;
        i += len;
    }
    out[o] = '\0';
    return ST_OK;
}
