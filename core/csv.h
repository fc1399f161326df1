/* csv.h - an RFC 4180 CSV reader over a buffer in memory. Pure: no I/O, no locale.
 *
 * What it accepts (what spreadsheets in China export, read strictly):
 *   - fields separated by ',', records ended by LF or CRLF; a last record without a line
 *     end is accepted;
 *   - quoted fields ("...") with "" for a quote inside, and commas, LF and CRLF inside the
 *     quotes kept as they are;
 *   - a UTF-8 byte order mark (EF BB BF) at the very start, skipped;
 *   - ASCII spaces (0x20 only) around a field, trimmed; spaces inside quotes are kept;
 *   - blank lines (empty or only spaces), skipped.
 * What it refuses, with the line (and column) in the message:
 *   - a quote that is never closed, a quote inside an unquoted field, text after a
 *     closing quote, a carriage return not followed by a line feed;
 *   - a NUL byte, bytes that are not UTF-8 (overlong forms, surrogates, past U+10FFFF);
 *   - a record whose field count differs from the expected count (st_csv_expect), or by
 *     default from the first record's (normally the header).
 *
 * Line numbers are 1-based and count LF bytes, including those inside quoted fields,
 * so a record after a multi-line field reports the line a text editor shows. Columns
 * in messages are 1-based byte offsets in the line (a Chinese character is 3 bytes).
 *
 * Error messages start with "SOURCE:LINE: ", where SOURCE is the name given to
 * st_csv_open() (normally the file path), and end with what to do about it.
 *
 * Usage:
 *   st_csv *c;
 *   if (st_csv_open(&c, "roll.csv", buf, len) != ST_OK) ...;
 *   while ((rc = st_csv_next(c, err, sizeof(err))) == ST_CSV_RECORD) {
 *       for (size_t i = 0; i < st_csv_field_count(c); i++) use(st_csv_field(c, i));
 *   }
 *   if (rc < 0) report(err);
 *   st_csv_close(c);
 */
#ifndef STRATA_CORE_CSV_H
#define STRATA_CORE_CSV_H

#include <stddef.h>

/* st_csv_next() results besides the negative error codes of core/error.h. */
#define ST_CSV_END 0    /* no more records */
#define ST_CSV_RECORD 1 /* a record was read */

typedef struct st_csv st_csv;

/* Opens a reader over buf[0..len). The buffer is borrowed: it must stay unchanged until
 * st_csv_close(). `source` (copied; NULL means "input") names the input in messages.
 * Returns ST_OK or ST_ENOMEM (*out untouched). */
int st_csv_open(st_csv **out, const char *source, const char *buf, size_t len);
void st_csv_close(st_csv *c);

/* Sets how many fields every record must have (n >= 1). Without this call, the first
 * record sets the count for the rest. */
void st_csv_expect(st_csv *c, size_t n);

/* Reads the next record. Returns ST_CSV_RECORD, ST_CSV_END, or on failure ST_EINVAL
 * (malformed input) or ST_ENOMEM with one sentence in err. After a failure every later
 * call returns ST_ESTATE. */
int st_csv_next(st_csv *c, char *err, size_t errlen);

/* The record just read. Fields are NUL-terminated UTF-8 (a field cannot hold NUL); the
 * strings belong to the reader and stay valid until the next st_csv_next() or
 * st_csv_close(). st_csv_field() returns NULL for i >= st_csv_field_count(). */
size_t st_csv_line(const st_csv *c); /* 1-based line the record starts on */
size_t st_csv_field_count(const st_csv *c);
const char *st_csv_field(const st_csv *c, size_t i);
size_t st_csv_field_len(const st_csv *c, size_t i);
const char *st_csv_source(const st_csv *c);

#endif
