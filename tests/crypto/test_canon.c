/* test_canon.c - the canonical writer and the bounds-checked reader: byte layout, sticky
 * errors, offsets of the first problem, truncation at every length, UTF-8 rules. */
#include "check.h"

#include "core/error.h"
#include "crypto/canon.h"

static const uint8_t expect[] = {0x7f,                                           /* u8 */
                                 0x12, 0x34,                                     /* u16 */
                                 0xde, 0xad, 0xbe, 0xef,                         /* u32 */
                                 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* u64 */
                                 0x00, 0x03, 'a',  'b',  'c',                    /* str16 */
                                 0xaa, 0xbb};                                    /* raw */

static void test_writer(void) {
    st_canon_writer w;
    const uint8_t *d;
    uint8_t *taken, h[32];
    size_t n;

    st_canon_writer_init(&w);
    CHECK(st_canon_writer_data(&w, &n) == NULL && n == 0);
    CHECK(st_canon_put_u8(&w, 0x7f) == ST_OK);
    CHECK(st_canon_put_u16(&w, 0x1234) == ST_OK);
    CHECK(st_canon_put_u32(&w, 0xdeadbeef) == ST_OK);
    CHECK(st_canon_put_u64(&w, 0x0102030405060708ULL) == ST_OK);
    CHECK(st_canon_put_str16(&w, "abc", 3) == ST_OK);
    CHECK(st_canon_put_bytes(&w, "\xaa\xbb", 2) == ST_OK);
    d = st_canon_writer_data(&w, &n);
    CHECK(n == sizeof expect && memcmp(d, expect, n) == 0);
    /* Growth past the first allocation keeps the content. */
    memset(h, 0x5a, 32);
    for (int i = 0; i < 100; i++)
        CHECK(st_canon_put_h32(&w, h) == ST_OK);
    d = st_canon_writer_data(&w, &n);
    CHECK(n == sizeof expect + 3200 && memcmp(d, expect, sizeof expect) == 0 && d[n - 1] == 0x5a);
    /* An over-long str16 is a sticky ST_ERANGE. */
    {
        static uint8_t big[70000];
        CHECK(st_canon_put_str16(&w, big, sizeof big) == ST_ERANGE);
        CHECK(st_canon_put_u8(&w, 1) == ST_ERANGE);
        CHECK(st_canon_writer_status(&w) == ST_ERANGE);
        CHECK(st_canon_writer_take(&w, &n) == NULL && n == 0);
    }
    st_canon_writer_free(&w);
    /* take() hands the buffer over. */
    st_canon_writer_init(&w);
    CHECK(st_canon_put_u16(&w, 65535) == ST_OK);
    taken = st_canon_writer_take(&w, &n);
    CHECK(taken && n == 2 && taken[0] == 0xff && taken[1] == 0xff);
    free(taken);
    CHECK(st_canon_writer_data(&w, &n) == NULL && n == 0);
    st_canon_writer_free(&w);
    st_canon_writer_free(&w); /* free twice is harmless */
}

/* Reads the layout of `expect`; returns the reader's status. */
static int read_all(const uint8_t *buf, size_t len, size_t *err_off) {
    st_canon_reader r;
    uint8_t a, raw[2];
    uint16_t b;
    uint32_t c;
    uint64_t d;
    const uint8_t *s;
    size_t sn;

    st_canon_reader_init(&r, buf, len);
    st_canon_get_u8(&r, &a);
    st_canon_get_u16(&r, &b);
    st_canon_get_u32(&r, &c);
    st_canon_get_u64(&r, &d);
    st_canon_get_str16(&r, &s, &sn, 8);
    st_canon_get_bytes(&r, raw, 2);
    st_canon_reader_end(&r);
    *err_off = r.err_off;
    if (r.err == ST_OK) {
        CHECK(a == 0x7f && b == 0x1234 && c == 0xdeadbeef && d == 0x0102030405060708ULL);
        CHECK(sn == 3 && memcmp(s, "abc", 3) == 0 && s >= buf && s < buf + len);
        CHECK(raw[0] == 0xaa && raw[1] == 0xbb);
    } else {
        CHECK(a == 0 || r.err_off > 0); /* outputs after a failure are zero */
    }
    return r.err;
}

static void test_reader(void) {
    uint8_t buf[sizeof expect + 1];
    size_t off;
    char err[100];
    st_canon_reader r;
    uint64_t v;
    const uint8_t *s;
    size_t sn;

    CHECK(read_all(expect, sizeof expect, &off) == ST_OK);
    /* Every truncation fails, at the offset of the field that does not fit. */
    static const size_t field_start[] = {0, 1, 3, 7, 15, 17, 20};
    for (size_t cut = 0; cut < sizeof expect; cut++) {
        size_t want = 0;
        memcpy(buf, expect, cut);
        CHECK(read_all(buf, cut, &off) == ST_EINVAL);
        for (size_t k = 0; k < sizeof field_start / sizeof field_start[0]; k++)
            if (field_start[k] <= cut)
                want = field_start[k];
        /* The str16's body is checked from after its length. */
        if (cut >= 17 && cut < 20)
            want = 17;
        CHECK(off == want);
    }
    /* Trailing byte. */
    memcpy(buf, expect, sizeof expect);
    buf[sizeof expect] = 0;
    CHECK(read_all(buf, sizeof expect + 1, &off) == ST_EINVAL && off == sizeof expect);
    /* A str16 longer than its maximum fails at the length field. */
    st_canon_reader_init(&r,
                         "\x00\x09"
                         "123456789",
                         11);
    CHECK(st_canon_get_str16(&r, &s, &sn, 8) == ST_EINVAL && s == NULL && sn == 0);
    CHECK(st_canon_reader_status(&r, "thing", err, sizeof err) == ST_EINVAL);
    CHECK(strcmp(err, "thing: byte 0: string longer than allowed") == 0);
    /* Sticky: later reads fail and zero their output, the first error is kept. */
    v = 99;
    CHECK(st_canon_get_u64(&r, &v) == ST_EINVAL && v == 0);
    CHECK(st_canon_reader_fail_at(&r, 5, ST_ERANGE, "other") == ST_EINVAL && r.err_off == 0);
    /* Empty and NULL inputs. */
    st_canon_reader_init(&r, NULL, 10);
    CHECK(st_canon_reader_end(&r) == ST_OK);
    CHECK(st_canon_get_bytes(&r, buf, 0) == ST_OK);
    CHECK(st_canon_get_u8(&r, buf) == ST_EINVAL);
    CHECK(st_canon_reader_status(&r, "x", err, sizeof err) == ST_EINVAL &&
          strcmp(err, "x: byte 0: truncated") == 0);
}

static void test_utf8(void) {
    CHECK(st_canon_utf8_ok((const uint8_t *)"O1", 2));
    CHECK(st_canon_utf8_ok((const uint8_t *)"\xe5\xbc\xa0\xe4\xb8\x89", 6)); /* 张三 */
    CHECK(st_canon_utf8_ok((const uint8_t *)"\xf0\x9f\x8f\xa0", 4));         /* U+1F3E0 */
    CHECK(st_canon_utf8_ok((const uint8_t *)"\xc2\xa0", 2));                 /* U+00A0 */
    CHECK(st_canon_utf8_ok((const uint8_t *)"", 0));
    CHECK(!st_canon_utf8_ok((const uint8_t *)"a\0b", 3));             /* NUL */
    CHECK(!st_canon_utf8_ok((const uint8_t *)"a\nb", 3));             /* control */
    CHECK(!st_canon_utf8_ok((const uint8_t *)"\x7f", 1));             /* DEL */
    CHECK(!st_canon_utf8_ok((const uint8_t *)"\xc2\x85", 2));         /* C1 control */
    CHECK(!st_canon_utf8_ok((const uint8_t *)"\xc0\xaf", 2));         /* overlong */
    CHECK(!st_canon_utf8_ok((const uint8_t *)"\xe0\x80\xaf", 3));     /* overlong */
    CHECK(!st_canon_utf8_ok((const uint8_t *)"\xf0\x80\x80\xaf", 4)); /* overlong */
    CHECK(!st_canon_utf8_ok((const uint8_t *)"\xed\xa0\x80", 3));     /* surrogate */
    CHECK(!st_canon_utf8_ok((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    CHECK(!st_canon_utf8_ok((const uint8_t *)"\xe5\xbc", 2));         /* truncated */
    CHECK(!st_canon_utf8_ok((const uint8_t *)"\xa0", 1));             /* lone continuation */
    CHECK(!st_canon_utf8_ok((const uint8_t *)"\xe5\x41\xa0", 3));     /* bad continuation */
    CHECK(!st_canon_utf8_ok((const uint8_t *)"\xff", 1));
}

int main(void) {
    test_writer();
    test_reader();
    test_utf8();
    printf("canon: ok\n");
    return 0;
}
