/* fuzz_json.c - st_json_parse, the strict JSON reader of the audit bundle's result.json, on
 * arbitrary bytes. Property: it answers ST_OK or ST_EINVAL (with a message); whatever it
 * accepts, written back out as JSON here and parsed again, gives the same tree. */
#include <stdbool.h>

#include "fuzz.h"

#include "client/audit/json.h"

typedef struct {
    char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        FUZZ_CHECK(b->p != NULL);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void put_string(buf *b, const char *s) {
    put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(b, e, 2);
        } else if (c < 0x20) {
            char e[8];
            snprintf(e, sizeof(e), "\\u%04x", c);
            put(b, e, 6);
        } else {
            put(b, (const char *)&c, 1);
        }
    }
    put(b, "\"", 1);
}

static void write_json(buf *b, const st_json *j) {
    char num[32];
    switch (j->type) {
    case ST_JSON_NULL:
        put(b, "null", 4);
        break;
    case ST_JSON_BOOL:
        put(b, j->b ? "true" : "false", j->b ? 4 : 5);
        break;
    case ST_JSON_INT:
        put(b, num, (size_t)snprintf(num, sizeof(num), "%lld", (long long)j->i));
        break;
    case ST_JSON_STRING:
        put_string(b, j->s);
        break;
    case ST_JSON_ARRAY:
    case ST_JSON_OBJECT:
        put(b, j->type == ST_JSON_ARRAY ? "[" : "{", 1);
        for (size_t i = 0; i < j->n; i++) {
            if (i > 0) {
                put(b, ",", 1);
            }
            if (j->type == ST_JSON_OBJECT) {
                put_string(b, j->key[i]);
                put(b, ":", 1);
            }
            write_json(b, &j->item[i]);
        }
        put(b, j->type == ST_JSON_ARRAY ? "]" : "}", 1);
        break;
    }
}

static bool same(const st_json *a, const st_json *b) {
    if (a->type != b->type) {
        return false;
    }
    switch (a->type) {
    case ST_JSON_NULL:
        return true;
    case ST_JSON_BOOL:
        return a->b == b->b;
    case ST_JSON_INT:
        return a->i == b->i;
    case ST_JSON_STRING:
        return strcmp(a->s, b->s) == 0;
    case ST_JSON_ARRAY:
    case ST_JSON_OBJECT:
        if (a->n != b->n) {
            return false;
        }
        for (size_t i = 0; i < a->n; i++) {
            if ((a->type == ST_JSON_OBJECT && strcmp(a->key[i], b->key[i]) != 0) ||
                !same(&a->item[i], &b->item[i])) {
                return false;
            }
        }
        return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    st_json *j = NULL;
    char err[256] = "";
    int rc = st_json_parse((const char *)data, size, &j, err, sizeof(err));
    FUZZ_CHECK(rc == ST_OK || rc == ST_EINVAL);
    if (rc != ST_OK) {
        FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    buf b = {0};
    write_json(&b, j);
    st_json *again = NULL;
    FUZZ_CHECK(st_json_parse(b.p, b.n, &again, err, sizeof(err)) == ST_OK);
    FUZZ_CHECK(same(j, again));
    st_json_free(again);
    st_json_free(j);
    free(b.p);
    return 0;
}
