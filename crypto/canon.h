/* canon.h - the primitives of Strata's canonical byte encodings: a growable writer and a
 * bounds-checked reader.
 *
 * All integers are unsigned big-endian. A "str16" is a u16 big-endian length followed by
 * that many bytes. Both writer and reader keep the first error ("sticky"): after a failure
 * every later call does nothing and returns the same code, so an encoder or decoder can make
 * all its calls and check once at the end. The reader never reads past its input and
 * remembers the offset of the first problem.
 *
 * The structs are declared here so they can live on the stack (an encode or decode per
 * request must not cost a malloc for the state); their fields are private: use the
 * functions.
 */
#ifndef STRATA_CRYPTO_CANON_H
#define STRATA_CRYPTO_CANON_H

#include <stddef.h>
#include <stdint.h>

typedef struct st_canon_writer {
    uint8_t *buf; /* owned by the writer until st_canon_writer_take() */
    size_t len;
    size_t cap;
    int err; /* first error, ST_OK if none */
} st_canon_writer;

typedef struct st_canon_reader {
    const uint8_t *buf; /* borrowed: must outlive the reader and anything read from it */
    size_t len;
    size_t off;
    int err;          /* first error, ST_OK if none */
    size_t err_off;   /* offset of the first problem */
    const char *what; /* static description of the first problem */
} st_canon_reader;

/* ---- writer ---- */

/* Starts an empty writer (no allocation yet). Pair with st_canon_writer_free(). */
void st_canon_writer_init(st_canon_writer *w);
/* Frees the buffer (if not taken) and resets the writer to empty. */
void st_canon_writer_free(st_canon_writer *w);

/* Append one field. Each returns ST_OK or the writer's sticky error: ST_ENOMEM when the
 * buffer cannot grow, ST_ERANGE when a str16 is longer than 65535 bytes. */
int st_canon_put_u8(st_canon_writer *w, uint8_t v);
int st_canon_put_u16(st_canon_writer *w, uint16_t v);
int st_canon_put_u32(st_canon_writer *w, uint32_t v);
int st_canon_put_u64(st_canon_writer *w, uint64_t v);
int st_canon_put_bytes(st_canon_writer *w, const void *p, size_t n); /* raw, no prefix */
int st_canon_put_h32(st_canon_writer *w, const uint8_t h[32]);       /* fixed 32 bytes */
int st_canon_put_str16(st_canon_writer *w, const void *p, size_t n);

/* The sticky error (ST_OK if every put succeeded). */
int st_canon_writer_status(const st_canon_writer *w);
/* The bytes written so far; borrowed, valid until the next put or free. NULL when empty. */
const uint8_t *st_canon_writer_data(const st_canon_writer *w, size_t *len);
/* Hands the buffer to the caller, who frees it with free(); the writer is left empty.
 * Returns NULL (and *len = 0) when nothing was written or the writer has failed. */
uint8_t *st_canon_writer_take(st_canon_writer *w, size_t *len);

/* ---- reader ---- */

/* Starts reading buf[0..len); buf is borrowed (see the struct). Nothing to free. */
void st_canon_reader_init(st_canon_reader *r, const void *buf, size_t len);

/* Read one field. Each returns ST_OK or the sticky error (ST_EINVAL "truncated" when the
 * input ends inside the field); on failure the output is zeroed. */
int st_canon_get_u8(st_canon_reader *r, uint8_t *v);
int st_canon_get_u16(st_canon_reader *r, uint16_t *v);
int st_canon_get_u32(st_canon_reader *r, uint32_t *v);
int st_canon_get_u64(st_canon_reader *r, uint64_t *v);
int st_canon_get_bytes(st_canon_reader *r, void *out, size_t n);
int st_canon_get_h32(st_canon_reader *r, uint8_t h[32]);
/* A str16: *p points into the reader's input (borrowed), *n is its length. A length above
 * max is an error (ST_EINVAL, at the offset of the length field). */
int st_canon_get_str16(st_canon_reader *r, const uint8_t **p, size_t *n, size_t max);

/* Records an error at offset off (if none is recorded yet); what must be a static string.
 * Returns the reader's sticky error. For decoders' semantic checks. */
int st_canon_reader_fail_at(st_canon_reader *r, size_t off, int code, const char *what);
/* Fails with "trailing bytes" unless the whole input has been read. Returns the sticky
 * error. */
int st_canon_reader_end(st_canon_reader *r);
/* Current offset (bytes consumed). */
size_t st_canon_reader_offset(const st_canon_reader *r);
/* The sticky error, and if there is one, writes "<ctx>: byte <off>: <what>" into err. */
int st_canon_reader_status(const st_canon_reader *r, const char *ctx, char *err, size_t errlen);

/* 1 when p[0..n) is well-formed UTF-8 (no overlong forms, no surrogates, nothing above
 * U+10FFFF) containing no control character (U+0000..U+001F, U+007F..U+009F). */
int st_canon_utf8_ok(const uint8_t *p, size_t n);

#endif
