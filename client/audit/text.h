/* text.h - what the audit bundle's writer and verifier share and nobody else needs: reading
 * a whole file, splitting lines and TAB-separated fields, strict decimal numbers, CSV field
 * quoting, and SHA-256 as hex. Internal to client/audit/ (prefix st_audit__).
 */
#ifndef STRATA_CLIENT_AUDIT_TEXT_H
#define STRATA_CLIENT_AUDIT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ST_AUDIT_FILE_MAX ((size_t)1 << 31) /* the largest bundle file read */

/* Reads the file dir/name into a new NUL-terminated buffer (*out, free()). ST_OK, ST_EIO
 * (missing, unreadable, not a regular file), ST_ERANGE, ST_ENOMEM, with err set. */
int st_audit__read(const char *dir, const char *name, char **out, size_t *len, char *err,
                   size_t errlen);

/* "dir/name" into out (cap bytes). ST_OK or ST_ERANGE. */
int st_audit__path(const char *dir, const char *name, char *out, size_t cap);

/* Lines of a buffer: every line ends with "\n" (no CR). */
typedef struct {
    char *p, *end; /* what is left */
    size_t line;   /* 1-based number of the line last returned */
} st_audit_lines;

void st_audit__lines_init(st_audit_lines *l, char *buf, size_t len);
/* The next line, NUL-terminated in place (its "\n" replaced), or NULL at the end. *bad is set
 * when the last line lacks its "\n" or a line holds a CR or NUL. */
char *st_audit__next_line(st_audit_lines *l, bool *bad);

/* Splits a line in place at TABs into at most max fields; returns how many there are
 * (max + 1 when there are more). */
size_t st_audit__fields(char *line, char **fields, size_t max);

/* Strict decimal u64: digits only, no sign or leading zeros ("0" itself is fine). */
bool st_audit__u64(const char *s, uint64_t *out);

/* 64 lowercase hex characters of SHA-256(data) and a NUL. */
void st_audit__sha256_hex(const void *data, size_t len, char out[65]);

/* Writes one CSV field: as is, or quoted ("" doubling quotes) when it holds a comma, quote,
 * CR, LF, or starts or ends with a space. */
void st_audit__csv_field(FILE *out, const char *s);

#endif
