/* json.h - a small strict JSON reader for the audit bundle's result.json (RFC 8259, with
 * only what a result holds: objects, arrays, strings, integers, true, false, null).
 *
 * Strict: a number with a fraction or exponent, an integer outside int64, a duplicate
 * object key, a \u0000 escape, an unpaired surrogate, bytes that are not UTF-8, nesting
 * deeper than 32 and anything after the value but whitespace are refused, with the byte
 * offset in the message. The tree is one allocation per node, freed by st_json_free.
 */
#ifndef STRATA_CLIENT_AUDIT_JSON_H
#define STRATA_CLIENT_AUDIT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    ST_JSON_NULL,
    ST_JSON_BOOL,
    ST_JSON_INT,
    ST_JSON_STRING,
    ST_JSON_ARRAY,
    ST_JSON_OBJECT
} st_json_type;

typedef struct st_json st_json;
struct st_json {
    st_json_type type;
    bool b;        /* BOOL */
    int64_t i;     /* INT */
    char *s;       /* STRING: NUL-terminated UTF-8, owned */
    size_t n;      /* ARRAY, OBJECT: number of children */
    st_json *item; /* ARRAY, OBJECT: the children, owned */
    char **key;    /* OBJECT: the keys, owned */
};

/* Parses text[0..len) into a new tree (*out, free with st_json_free). ST_OK, ST_EINVAL with
 * "byte N: ..." in err, or ST_ENOMEM. */
int st_json_parse(const char *text, size_t len, st_json **out, char *err, size_t errlen);
void st_json_free(st_json *j);

/* The member of an object by key, or NULL (also when j is not an object). */
const st_json *st_json_get(const st_json *j, const char *key);

/* "null", "boolean", "integer", "string", "array", "object". */
const char *st_json_type_name(st_json_type t);

#endif
