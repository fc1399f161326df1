/* json.c - the strict JSON reader of json.h: recursive descent over a buffer, one node
 * array per container, every allocation checked. */
#include <stdlib.h>
#include <string.h>

#include "client/audit/json.h"
#include "core/error.h"

#define DEPTH_MAX 32

typedef struct {
    const unsigned char *p, *start, *end;
    char *err;
    size_t errlen;
} reader;

static int fail(reader *r, const char *what) {
    return st_fail(r->err, r->errlen, ST_EINVAL, "byte %zu: %s", (size_t)(r->p - r->start), what);
}

static void skip_ws(reader *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) {
        r->p++;
    }
}

static void node_clear(st_json *j) {
    free(j->s);
    for (size_t i = 0; i < j->n; i++) {
        node_clear(&j->item[i]);
        if (j->key != NULL) {
            free(j->key[i]);
        }
    }
    free(j->item);
    free(j->key);
    memset(j, 0, sizeof(*j));
}

void st_json_free(st_json *j) {
    if (j != NULL) {
        node_clear(j);
        free(j);
    }
}

static int hex4(reader *r, unsigned *out) {
    if (r->end - r->p < 4) {
        return fail(r, "a \\u escape needs four hex digits");
    }
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned c = r->p[k], d;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else {
            return fail(r, "a \\u escape needs four hex digits");
        }
        v = v * 16 + d;
    }
    r->p += 4;
    *out = v;
    return ST_OK;
}

/* Appends code point cp as UTF-8 to buf at *n (room is ensured by the caller: 4 bytes). */
static void put_utf8(char *buf, size_t *n, unsigned cp) {
    if (cp < 0x80) {
        buf[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        buf[(*n)++] = (char)(0xc0 | (cp >> 6));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        buf[(*n)++] = (char)(0xe0 | (cp >> 12));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        buf[(*n)++] = (char)(0xf0 | (cp >> 18));
        buf[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c < 0x80) {
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n) {
        return 0;
    }
    unsigned cp = c & (0x7f >> n);
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (p[k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

/* A string at r->p (at the opening quote) into a new buffer. */
static int parse_string(reader *r, char **out) {
    r->p++;
    /* The decoded text is never longer than the source. */
    const unsigned char *q = r->p;
    while (q < r->end && *q != '"') {
        q += *q == '\\' && q + 1 < r->end ? 2 : 1;
    }
    char *buf = malloc((size_t)(q - r->p) + 1);
    if (buf == NULL) {
        return st_fail(r->err, r->errlen, ST_ENOMEM, "out of memory reading a string");
    }
    size_t n = 0;
    for (;;) {
        if (r->p >= r->end) {
            free(buf);
            return fail(r, "a string is not closed");
        }
        unsigned c = *r->p;
        if (c == '"') {
            r->p++;
            break;
        }
        if (c < 0x20) {
            free(buf);
            return fail(r, "a control character inside a string must be escaped");
        }
        if (c != '\\') {
            size_t l = utf8_len(r->p, r->end);
            if (l == 0) {
                free(buf);
                return fail(r, "bytes that are not UTF-8");
            }
            memcpy(buf + n, r->p, l);
            n += l;
            r->p += l;
            continue;
        }
        r->p++;
        if (r->p >= r->end) {
            free(buf);
            return fail(r, "a string ends inside an escape");
        }
        c = *r->p++;
        const char *simple = strchr("\"\\/bfnrt", (int)c);
        if (c != 'u' && (simple == NULL || c == '\0')) {
            free(buf);
            return fail(r, "an unknown escape");
        }
        if (c != 'u') {
            static const char map[] = "\"\\/\b\f\n\r\t";
            buf[n++] = map[simple - "\"\\/bfnrt"];
            continue;
        }
        unsigned cp = 0;
        int rc = hex4(r, &cp);
        if (rc == ST_OK && cp >= 0xd800 && cp <= 0xdbff) {
            unsigned lo = 0;
            if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u') {
                rc = fail(r, "an unpaired surrogate escape");
            } else {
                r->p += 2;
                rc = hex4(r, &lo);
                if (rc == ST_OK && (lo < 0xdc00 || lo > 0xdfff)) {
                    rc = fail(r, "an unpaired surrogate escape");
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
        } else if (rc == ST_OK && ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0)) {
            rc = fail(r, cp == 0 ? "\\u0000 is not accepted" : "an unpaired surrogate escape");
        }
        if (rc != ST_OK) {
            free(buf);
            return rc;
        }
        put_utf8(buf, &n, cp);
    }
    buf[n] = '\0';
    *out = buf;
    return ST_OK;
}

static int parse_value(reader *r, st_json *j, int depth);

static int parse_container(reader *r, st_json *j, int depth, bool object) {
    j->type = object ? ST_JSON_OBJECT : ST_JSON_ARRAY;
    r->p++;
    size_t cap = 0;
    skip_ws(r);
    if (r->p < r->end && *r->p == (object ? '}' : ']')) {
        r->p++;
        return ST_OK;
    }
    for (;;) {
        if (j->n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            st_json *ni = realloc(j->item, nc * sizeof(*ni));
            if (ni == NULL) {
                return st_fail(r->err, r->errlen, ST_ENOMEM, "out of memory");
            }
            j->item = ni;
            if (object) {
                char **nk = realloc(j->key, nc * sizeof(*nk));
                if (nk == NULL) {
                    return st_fail(r->err, r->errlen, ST_ENOMEM, "out of memory");
                }
                j->key = nk;
            }
            cap = nc;
        }
        skip_ws(r);
        char *key = NULL;
        if (object) {
            if (r->p >= r->end || *r->p != '"') {
                return fail(r, "an object member must start with a string key");
            }
            int rc = parse_string(r, &key);
            if (rc != ST_OK) {
                return rc;
            }
            for (size_t k = 0; k < j->n; k++) {
                if (strcmp(j->key[k], key) == 0) {
                    free(key);
                    return fail(r, "a key appears twice in one object");
                }
            }
            skip_ws(r);
            if (r->p >= r->end || *r->p != ':') {
                free(key);
                return fail(r, "':' expected after a key");
            }
            r->p++;
        }
        memset(&j->item[j->n], 0, sizeof(st_json));
        if (object) {
            j->key[j->n] = key;
        }
        j->n++; /* counted now, so that a failure below frees what was made */
        int rc = parse_value(r, &j->item[j->n - 1], depth + 1);
        if (rc != ST_OK) {
            return rc;
        }
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == (object ? '}' : ']')) {
            r->p++;
            return ST_OK;
        }
        return fail(r, object ? "',' or '}' expected" : "',' or ']' expected");
    }
}

static int parse_value(reader *r, st_json *j, int depth) {
    if (depth > DEPTH_MAX) {
        return fail(r, "nested too deeply");
    }
    skip_ws(r);
    if (r->p >= r->end) {
        return fail(r, "a value is missing");
    }
    unsigned c = *r->p;
    if (c == '{' || c == '[') {
        return parse_container(r, j, depth, c == '{');
    }
    if (c == '"') {
        j->type = ST_JSON_STRING;
        return parse_string(r, &j->s);
    }
    static const struct {
        const char *word;
        st_json_type type;
        bool b;
    } words[] = {{"true", ST_JSON_BOOL, true},
                 {"false", ST_JSON_BOOL, false},
                 {"null", ST_JSON_NULL, false}};
    for (size_t k = 0; k < 3; k++) {
        size_t l = strlen(words[k].word);
        if ((size_t)(r->end - r->p) >= l && memcmp(r->p, words[k].word, l) == 0) {
            r->p += l;
            j->type = words[k].type;
            j->b = words[k].b;
            return ST_OK;
        }
    }
    bool neg = c == '-';
    const unsigned char *q = r->p + (neg ? 1 : 0);
    if (q >= r->end || *q < '0' || *q > '9') {
        return fail(r, "not a JSON value");
    }
    if (*q == '0' && q + 1 < r->end && q[1] >= '0' && q[1] <= '9') {
        return fail(r, "a number with a leading zero");
    }
    uint64_t v = 0;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; q < r->end && *q >= '0' && *q <= '9'; q++) {
        uint64_t d = (uint64_t)(*q - '0');
        if (v > (limit - d) / 10) {
            return fail(r, "an integer out of range");
        }
        v = v * 10 + d;
    }
    if (q < r->end && (*q == '.' || *q == 'e' || *q == 'E')) {
        return fail(r, "only whole numbers are expected");
    }
    r->p = q;
    j->type = ST_JSON_INT;
    j->i = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return ST_OK;
}

int st_json_parse(const char *text, size_t len, st_json **out, char *err, size_t errlen) {
    st_json *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        return st_fail(err, errlen, ST_ENOMEM, "out of memory");
    }
    reader r = {(const unsigned char *)text, (const unsigned char *)text,
                (const unsigned char *)text + len, err, errlen};
    int rc = parse_value(&r, j, 0);
    if (rc == ST_OK) {
        skip_ws(&r);
        if (r.p != r.end) {
            rc = fail(&r, "text after the value");
        }
    }
    if (rc != ST_OK) {
        st_json_free(j);
        return rc;
    }
    *out = j;
    return ST_OK;
}

const st_json *st_json_get(const st_json *j, const char *key) {
    if (j == NULL || j->type != ST_JSON_OBJECT) {
        return NULL;
    }
    for (size_t i = 0; i < j->n; i++) {
        if (strcmp(j->key[i], key) == 0) {
            return &j->item[i];
        }
    }
    return NULL;
}

const char *st_json_type_name(st_json_type t) {
    static const char *const names[] = {"null", "boolean", "integer", "string", "array", "object"};
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}
