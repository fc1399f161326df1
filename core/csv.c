/* csv.c - the RFC 4180 CSV reader (see csv.h for what it accepts and refuses).
 *
 * One pass, byte by byte, over the borrowed buffer. The unescaped text of the current
 * record's fields goes into one growing buffer, each field followed by a NUL; an array
 * of offsets says where each field starts. UTF-8 is checked where it is read, so an
 * error names the line and column of the bad byte. Line numbers count every LF,
 * including those inside quoted fields.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/error.h"

struct st_csv {
    const unsigned char *buf;
    size_t len, pos;
    size_t line;        /* line number at pos */
    size_t line_start;  /* offset of that line's first byte, for columns */
    size_t rec_line;    /* line the current record starts on */
    size_t expect;      /* fields per record; 0 until set */
    size_t expect_line; /* line of the record that set `expect`, or 0 if st_csv_expect did */
    char *text;         /* field contents, each NUL-terminated */
    size_t text_len, text_cap;
    size_t *offs; /* start of each field in text */
    size_t nfields, offs_cap;
    bool failed;
    char *source;
};

int st_csv_open(st_csv **out, const char *source, const char *buf, size_t len) {
    st_csv *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return ST_ENOMEM;
    }
    c->source = strdup(source != NULL ? source : "input");
    if (c->source == NULL) {
        free(c);
        return ST_ENOMEM;
    }
    c->buf = (const unsigned char *)buf;
    c->len = buf != NULL ? len : 0;
    c->line = 1;
    /* A UTF-8 byte order mark at the very start is not part of the first field. */
    if (c->len >= 3 && c->buf[0] == 0xef && c->buf[1] == 0xbb && c->buf[2] == 0xbf) {
        c->pos = 3;
        c->line_start = 3;
    }
    *out = c;
    return ST_OK;
}

void st_csv_close(st_csv *c) {
    if (c == NULL) {
        return;
    }
    free(c->text);
    free(c->offs);
    free(c->source);
    free(c);
}

void st_csv_expect(st_csv *c, size_t n) {
    if (n > 0) {
        c->expect = n;
        c->expect_line = 0;
    }
}

size_t st_csv_line(const st_csv *c) {
    return c->rec_line;
}

size_t st_csv_field_count(const st_csv *c) {
    return c->nfields;
}

const char *st_csv_field(const st_csv *c, size_t i) {
    return i < c->nfields ? c->text + c->offs[i] : NULL;
}

size_t st_csv_field_len(const st_csv *c, size_t i) {
    if (i >= c->nfields) {
        return 0;
    }
    size_t end = i + 1 < c->nfields ? c->offs[i + 1] : c->text_len;
    return end - c->offs[i] - 1; /* less the NUL */
}

const char *st_csv_source(const st_csv *c) {
    return c->source;
}

/* ---- helpers ---- */

static size_t column(const st_csv *c, size_t at) {
    return at - c->line_start + 1;
}

/* Records a failure: every later call returns ST_ESTATE. */
static int fail(st_csv *c, int code) {
    c->failed = true;
    return code;
}

static int no_memory(st_csv *c, char *err, size_t errlen) {
    st_fail(err, errlen, ST_ENOMEM, "%s:%zu: out of memory reading the record", c->source, c->line);
    return fail(c, ST_ENOMEM);
}

static bool text_reserve(st_csv *c, size_t more) {
    if (c->text_cap - c->text_len >= more) {
        return true;
    }
    if (more > SIZE_MAX / 2 - c->text_len) {
        return false;
    }
    size_t cap = c->text_cap ? c->text_cap : 256;
    while (cap - c->text_len < more) {
        cap *= 2;
    }
    char *t = realloc(c->text, cap);
    if (t == NULL) {
        return false;
    }
    c->text = t;
    c->text_cap = cap;
    return true;
}

static bool push_field(st_csv *c, size_t start) {
    if (c->nfields == c->offs_cap) {
        size_t cap = c->offs_cap ? c->offs_cap * 2 : 16;
        if (cap > SIZE_MAX / sizeof(*c->offs)) {
            return false;
        }
        size_t *o = realloc(c->offs, cap * sizeof(*o));
        if (o == NULL) {
            return false;
        }
        c->offs = o;
        c->offs_cap = cap;
    }
    c->offs[c->nfields++] = start;
    return true;
}

/* Length (2..4) of the well-formed UTF-8 sequence at p (p[0] >= 0x80), or 0 if it is not
 * one: a stray continuation byte, a truncated sequence, an overlong form, a surrogate,
 * or a code point past U+10FFFF (RFC 3629). */
static size_t utf8_len(const unsigned char *p, size_t avail) {
    uint32_t cp;
    size_t n;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        cp = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        cp = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        cp = p[0] & 0x07;
    } else {
        return 0; /* 0x80..0xc1 (continuation or overlong lead), 0xf5..0xff */
    }
    if (avail < n) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

/* Copies the byte (or UTF-8 sequence) at c->pos into the field text and advances.
 * Refuses NUL and bytes that are not UTF-8. */
static int copy_char(st_csv *c, char *err, size_t errlen) {
    const unsigned char *p = c->buf + c->pos;
    size_t n = 1;
    if (*p == 0) {
        st_fail(err, errlen, ST_EINVAL,
                "%s:%zu: a NUL byte at column %zu (field %zu); this is not a text file - "
                "export the sheet again as CSV UTF-8",
                c->source, c->line, column(c, c->pos), c->nfields + 1);
        return fail(c, ST_EINVAL);
    }
    if (*p >= 0x80) {
        n = utf8_len(p, c->len - c->pos);
        if (n == 0) {
            st_fail(err, errlen, ST_EINVAL,
                    "%s:%zu: byte 0x%02X at column %zu (field %zu) is not UTF-8; save the "
                    "file as CSV UTF-8 (GBK and other encodings are not accepted)",
                    c->source, c->line, (unsigned)*p, column(c, c->pos), c->nfields + 1);
            return fail(c, ST_EINVAL);
        }
    }
    if (!text_reserve(c, n)) {
        return no_memory(c, err, errlen);
    }
    memcpy(c->text + c->text_len, p, n);
    c->text_len += n;
    c->pos += n;
    return ST_OK;
}

static void skip_spaces(st_csv *c) {
    while (c->pos < c->len && c->buf[c->pos] == ' ') {
        c->pos++;
    }
}

/* At the end of a field: consumes the separator. Sets *end_of_record when the record is
 * complete (line end or end of input). Anything else is an error. */
static int field_end(st_csv *c, bool *end_of_record, char *err, size_t errlen) {
    if (c->pos >= c->len) {
        *end_of_record = true;
        return ST_OK;
    }
    unsigned char b = c->buf[c->pos];
    if (b == ',') {
        c->pos++;
        *end_of_record = false;
        return ST_OK;
    }
    if (b == '\n' || (b == '\r' && c->pos + 1 < c->len && c->buf[c->pos + 1] == '\n')) {
        c->pos += b == '\r' ? 2 : 1;
        c->line++;
        c->line_start = c->pos;
        *end_of_record = true;
        return ST_OK;
    }
    if (b == '\r') {
        st_fail(err, errlen, ST_EINVAL,
                "%s:%zu: a carriage return not followed by a line feed at column %zu; end "
                "lines with LF or CRLF",
                c->source, c->line, column(c, c->pos));
        return fail(c, ST_EINVAL);
    }
    st_fail(err, errlen, ST_EINVAL,
            "%s:%zu: text after the closing quote of field %zu at column %zu; put the whole "
            "field in quotes and write each quote inside it as \"\"",
            c->source, c->line, c->nfields, column(c, c->pos));
    return fail(c, ST_EINVAL);
}

/* Reads a quoted field; c->pos is at the opening quote. */
static int read_quoted(st_csv *c, char *err, size_t errlen) {
    size_t open_line = c->line, open_col = column(c, c->pos);
    c->pos++;
    for (;;) {
        if (c->pos >= c->len) {
            st_fail(err, errlen, ST_EINVAL,
                    "%s:%zu: the quote that opens field %zu at column %zu is never closed; "
                    "close it with \" (a quote inside a quoted field is written \"\")",
                    c->source, open_line, c->nfields + 1, open_col);
            return fail(c, ST_EINVAL);
        }
        unsigned char b = c->buf[c->pos];
        if (b == '"') {
            if (c->pos + 1 < c->len && c->buf[c->pos + 1] == '"') {
                c->pos++; /* "" is one quote: copy the second */
            } else {
                c->pos++;
                return ST_OK;
            }
        }
        bool newline = b == '\n';
        int rc = copy_char(c, err, errlen);
        if (rc != ST_OK) {
            return rc;
        }
        if (newline) {
            c->line++;
            c->line_start = c->pos;
        }
    }
}

/* Reads an unquoted field up to ',', a line end or the end of input; trims trailing
 * spaces (leading ones were skipped by the caller). */
static int read_unquoted(st_csv *c, size_t start, char *err, size_t errlen) {
    while (c->pos < c->len) {
        unsigned char b = c->buf[c->pos];
        if (b == ',' || b == '\n' || b == '\r') {
            break;
        }
        if (b == '"') {
            st_fail(err, errlen, ST_EINVAL,
                    "%s:%zu: a quote inside unquoted field %zu at column %zu; put the whole "
                    "field in quotes and write the quote as \"\"",
                    c->source, c->line, c->nfields + 1, column(c, c->pos));
            return fail(c, ST_EINVAL);
        }
        int rc = copy_char(c, err, errlen);
        if (rc != ST_OK) {
            return rc;
        }
    }
    while (c->text_len > start && c->text[c->text_len - 1] == ' ') {
        c->text_len--;
    }
    return ST_OK;
}

/* Skips lines that are empty or hold only spaces. Returns false at the end of input. */
static bool skip_blank_lines(st_csv *c) {
    for (;;) {
        size_t p = c->pos;
        while (p < c->len && c->buf[p] == ' ') {
            p++;
        }
        if (p >= c->len) {
            c->pos = p;
            return false;
        }
        if (c->buf[p] == '\n') {
            p += 1;
        } else if (c->buf[p] == '\r' && p + 1 < c->len && c->buf[p + 1] == '\n') {
            p += 2;
        } else {
            return true;
        }
        c->pos = p;
        c->line++;
        c->line_start = p;
    }
}

int st_csv_next(st_csv *c, char *err, size_t errlen) {
    if (c->failed) {
        return st_fail(err, errlen, ST_ESTATE, "%s: the reader stopped at an earlier error",
                       c->source);
    }
    c->nfields = 0;
    c->text_len = 0;
    if (!skip_blank_lines(c)) {
        return ST_CSV_END;
    }
    c->rec_line = c->line;
    for (bool done = false; !done;) {
        size_t start = c->text_len;
        skip_spaces(c);
        int rc;
        if (c->pos < c->len && c->buf[c->pos] == '"') {
            rc = read_quoted(c, err, errlen);
            skip_spaces(c);
        } else {
            rc = read_unquoted(c, start, err, errlen);
        }
        if (rc != ST_OK) {
            return rc;
        }
        if (!text_reserve(c, 1) || !push_field(c, start)) {
            return no_memory(c, err, errlen);
        }
        c->text[c->text_len++] = '\0';
        rc = field_end(c, &done, err, errlen);
        if (rc != ST_OK) {
            return rc;
        }
    }
    if (c->expect == 0) {
        c->expect = c->nfields;
        c->expect_line = c->rec_line;
    } else if (c->nfields != c->expect) {
        char from[64] = "";
        if (c->expect_line > 0) {
            snprintf(from, sizeof(from), " (as on line %zu)", c->expect_line);
        }
        st_fail(err, errlen, ST_EINVAL,
                "%s:%zu: %zu field%s where %zu %s expected%s; check for a missing or extra "
                "comma, and put a field that contains a comma in quotes",
                c->source, c->rec_line, c->nfields, c->nfields == 1 ? "" : "s", c->expect,
                c->expect == 1 ? "is" : "are", from);
        return fail(c, ST_EINVAL);
    }
    return ST_CSV_RECORD;
}
