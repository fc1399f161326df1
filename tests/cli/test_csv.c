/* test_csv.c - unit tests of the RFC 4180 reader (core/csv.h): quoting, line ends, BOM,
 * blank lines, spaces, line numbers after multi-line fields, and every refusal with the
 * line and column it reports. */
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/error.h"
#include "tests/cli/check.h"

/* Everything the reader returned for one input, as text that is easy to compare:
 * records as "LINE:[field|field]" separated by spaces, \n and \r written visibly. */
typedef struct {
    int rc; /* ST_CSV_END after all records, or the error */
    char dump[2048];
    char err[512];
} parsed;

static void append(char *dst, size_t cap, const char *s) {
    size_t n = strlen(dst);
    for (; *s != '\0' && n + 3 < cap; s++) {
        if (*s == '\n' || *s == '\r') {
            dst[n++] = '\\';
            dst[n++] = *s == '\n' ? 'n' : 'r';
        } else {
            dst[n++] = *s;
        }
    }
    dst[n] = '\0';
}

static parsed parse_n(const char *buf, size_t len, size_t expect) {
    parsed p;
    memset(&p, 0, sizeof(p));
    st_csv *c = NULL;
    CHECK_INT(st_csv_open(&c, "t.csv", buf, len), ST_OK);
    if (expect > 0) {
        st_csv_expect(c, expect);
    }
    while ((p.rc = st_csv_next(c, p.err, sizeof(p.err))) == ST_CSV_RECORD) {
        char head[32];
        snprintf(head, sizeof(head), "%s%zu:[", p.dump[0] ? " " : "", st_csv_line(c));
        append(p.dump, sizeof(p.dump), head);
        for (size_t i = 0; i < st_csv_field_count(c); i++) {
            append(p.dump, sizeof(p.dump), i ? "|" : "");
            append(p.dump, sizeof(p.dump), st_csv_field(c, i));
            CHECK_INT(st_csv_field_len(c, i), strlen(st_csv_field(c, i)));
        }
        append(p.dump, sizeof(p.dump), "]");
    }
    if (p.rc == ST_CSV_END) {
        /* The end stays the end. */
        CHECK_INT(st_csv_next(c, NULL, 0), ST_CSV_END);
    } else {
        /* After an error the reader refuses to go on. */
        CHECK_INT(st_csv_next(c, NULL, 0), ST_ESTATE);
    }
    st_csv_close(c);
    return p;
}

static parsed parse(const char *s) {
    return parse_n(s, strlen(s), 0);
}

#define CHECK_RECORDS(input, want)                                                                 \
    do {                                                                                           \
        parsed p_ = parse(input);                                                                  \
        CHECK_INT(p_.rc, ST_CSV_END);                                                              \
        CHECK_STR(p_.err, "");                                                                     \
        CHECK_STR(p_.dump, want);                                                                  \
    } while (0)

#define CHECK_REFUSED_N(input, len, want_dump, want_err)                                           \
    do {                                                                                           \
        parsed p_ = parse_n(input, len, 0);                                                        \
        CHECK_INT(p_.rc, ST_EINVAL);                                                               \
        CHECK_STR(p_.dump, want_dump);                                                             \
        CHECK_STR(p_.err, want_err);                                                               \
    } while (0)

#define CHECK_REFUSED(input, want_dump, want_err)                                                  \
    CHECK_REFUSED_N(input, strlen(input), want_dump, want_err)

static void test_plain(void) {
    CHECK_RECORDS("a,b,c\n1,2,3\n", "1:[a|b|c] 2:[1|2|3]");
    /* A last line without a line end; an empty last field; a single column. */
    CHECK_RECORDS("a,b\n1,2", "1:[a|b] 2:[1|2]");
    CHECK_RECORDS("a,b\n1,", "1:[a|b] 2:[1|]");
    CHECK_RECORDS("a\nx\ny\n", "1:[a] 2:[x] 3:[y]");
    CHECK_RECORDS(",\n,\n", "1:[|] 2:[|]");
    /* No records at all. */
    CHECK_RECORDS("", "");
    CHECK_RECORDS("\n\n  \n", "");
}

static void test_quotes(void) {
    CHECK_RECORDS("\"a,b\",\"say \"\"hi\"\"\",\"\"\n", "1:[a,b|say \"hi\"|]");
    CHECK_RECORDS("\"\"\"\"\n", "1:[\"]");
    /* A line holding only "" is a record with one empty field, not a blank line. */
    CHECK_RECORDS("h\n\"\"\nx\n", "1:[h] 2:[] 3:[x]");
    /* Spaces outside the quotes go, spaces inside stay. */
    CHECK_RECORDS("  \" x y \"  ,z\n", "1:[ x y |z]");
    /* UTF-8 inside and outside quotes. */
    CHECK_RECORDS("\"周强;吴芳\",华北置业有限公司,\"😀\"\n", "1:[周强;吴芳|华北置业有限公司|😀]");
}

static void test_line_ends(void) {
    CHECK_RECORDS("a,b\r\n1,2\r\n", "1:[a|b] 2:[1|2]");
    CHECK_RECORDS("a,b\r\n1,2", "1:[a|b] 2:[1|2]");
    /* LF and CRLF mixed in one file. */
    CHECK_RECORDS("a,b\n1,2\r\n3,4\n", "1:[a|b] 2:[1|2] 3:[3|4]");
    /* Inside quotes, CR and LF are data and are kept as they are. */
    CHECK_RECORDS("\"x\r\ny\",z\r\n", "1:[x\\r\\ny|z]");
}

static void test_bom(void) {
    CHECK_RECORDS("\xef\xbb\xbfunit,x\n1,2", "1:[unit|x] 2:[1|2]");
    CHECK_RECORDS("\xef\xbb\xbf\"unit\",x\r\n", "1:[unit|x]");
    CHECK_RECORDS("\xef\xbb\xbf", "");
    /* Only at the very start; elsewhere U+FEFF is text like any other. */
    CHECK_RECORDS("a,\xef\xbb\xbf"
                  "b\n",
                  "1:[a|\xef\xbb\xbf"
                  "b]");
    /* Columns after a BOM count from the first byte after it. */
    CHECK_REFUSED("\xef\xbb\xbf"
                  "ab\"c\n",
                  "",
                  "t.csv:1: a quote inside unquoted field 1 at column 3; put the whole field in "
                  "quotes and write the quote as \"\"");
}

static void test_blank_lines_and_spaces(void) {
    CHECK_RECORDS("a,b\n\n   \n1,2\r\n\r\n  \r\n3,4\n\n", "1:[a|b] 4:[1|2] 7:[3|4]");
    CHECK_RECORDS("\n\na,b\n", "3:[a|b]");
    CHECK_RECORDS("  a  , b ,c  \n", "1:[a|b|c]");
    CHECK_RECORDS("a b, c  d \n", "1:[a b|c  d]");
    /* Only ASCII spaces are trimmed; a tab is data (the roll refuses it later). */
    CHECK_RECORDS("\ta\t,b\n", "1:[\ta\t|b]");
}

static void test_multiline_line_numbers(void) {
    CHECK_RECORDS("h1,h2\n"
                  "\"line1\nline2\",x\n"
                  "\"a\r\nb\r\nc\",y\n"
                  "last,z\n",
                  "1:[h1|h2] 2:[line1\\nline2|x] 4:[a\\r\\nb\\r\\nc|y] 7:[last|z]");
    /* An error after a multi-line field names the line an editor shows. */
    CHECK_REFUSED("h1,h2\n\"a\nb\nc\",x\n1,2,3\n", "1:[h1|h2] 2:[a\\nb\\nc|x]",
                  "t.csv:5: 3 fields where 2 are expected (as on line 1); check for a missing "
                  "or extra comma, and put a field that contains a comma in quotes");
    CHECK_REFUSED("h\n\"a\nb\" x\n", "1:[h]",
                  "t.csv:3: text after the closing quote of field 1 at column 4; put the whole "
                  "field in quotes and write each quote inside it as \"\"");
}

static void test_unterminated_quote(void) {
    CHECK_REFUSED("a,b\n1,\"open\n2,3\n", "1:[a|b]",
                  "t.csv:2: the quote that opens field 2 at column 3 is never closed; close it "
                  "with \" (a quote inside a quoted field is written \"\")");
    CHECK_REFUSED("\"", "",
                  "t.csv:1: the quote that opens field 1 at column 1 is never closed; close it "
                  "with \" (a quote inside a quoted field is written \"\")");
    /* An escaped quote at the very end does not close the field. */
    CHECK_REFUSED("x\n\"ab\"\"", "1:[x]",
                  "t.csv:2: the quote that opens field 1 at column 1 is never closed; close it "
                  "with \" (a quote inside a quoted field is written \"\")");
}

static void test_stray_quotes_and_cr(void) {
    CHECK_REFUSED("a,b\nx,ab\"c\n", "1:[a|b]",
                  "t.csv:2: a quote inside unquoted field 2 at column 5; put the whole field in "
                  "quotes and write the quote as \"\"");
    CHECK_REFUSED("a,\"b\"c\n", "",
                  "t.csv:1: text after the closing quote of field 2 at column 6; put the whole "
                  "field in quotes and write each quote inside it as \"\"");
    CHECK_REFUSED("a\rb\n", "",
                  "t.csv:1: a carriage return not followed by a line feed at column 2; end lines "
                  "with LF or CRLF");
    CHECK_REFUSED("a\nb\r", "1:[a]",
                  "t.csv:2: a carriage return not followed by a line feed at column 2; end lines "
                  "with LF or CRLF");
}

static void test_field_count(void) {
    CHECK_REFUSED("a,b,c\n1,2,3\n1,2\n", "1:[a|b|c] 2:[1|2|3]",
                  "t.csv:3: 2 fields where 3 are expected (as on line 1); check for a missing "
                  "or extra comma, and put a field that contains a comma in quotes");
    CHECK_REFUSED("a\n1,2\n", "1:[a]",
                  "t.csv:2: 2 fields where 1 is expected (as on line 1); check for a missing or "
                  "extra comma, and put a field that contains a comma in quotes");
    /* A count set by the caller applies to the first record too. */
    parsed p = parse_n("1,2,3,4\n", 8, 3);
    CHECK_INT(p.rc, ST_EINVAL);
    CHECK_STR(p.err, "t.csv:1: 4 fields where 3 are expected; check for a missing or extra "
                     "comma, and put a field that contains a comma in quotes");
    p = parse_n("1,2,3\n4,5,6", 11, 3);
    CHECK_INT(p.rc, ST_CSV_END);
    CHECK_STR(p.dump, "1:[1|2|3] 2:[4|5|6]");
}

static void test_utf8(void) {
    /* Well-formed: 2-, 3- and 4-byte sequences, the largest code point. */
    CHECK_RECORDS("\xc2\xa9,\xe7\x8e\x8b,\xf0\x9f\x98\x80,\xf4\x8f\xbf\xbf\n",
                  "1:[\xc2\xa9|\xe7\x8e\x8b|\xf0\x9f\x98\x80|\xf4\x8f\xbf\xbf]");
    static const struct {
        const char *input, *err;
    } bad[] = {
        {"a,b\n1,x\xff\n", "t.csv:2: byte 0xFF at column 4 (field 2) is not UTF-8"},
        {"a,b\n1,\x80\n", "t.csv:2: byte 0x80 at column 3 (field 2) is not UTF-8"},
        /* overlong '/' */
        {"a,b\n\xc0\xaf,1\n", "t.csv:2: byte 0xC0 at column 1 (field 1) is not UTF-8"},
        /* overlong 3-byte form of U+007F */
        {"a,b\n\xe0\x81\xbf,1\n", "t.csv:2: byte 0xE0 at column 1 (field 1) is not UTF-8"},
        /* UTF-16 surrogate U+D800 */
        {"a,b\n1,\xed\xa0\x80\n", "t.csv:2: byte 0xED at column 3 (field 2) is not UTF-8"},
        /* past U+10FFFF */
        {"a,b\n1,\xf4\x90\x80\x80\n", "t.csv:2: byte 0xF4 at column 3 (field 2) is not UTF-8"},
        /* truncated at the end of input, and before a comma */
        {"a,b\n1,\xe7\x8e", "t.csv:2: byte 0xE7 at column 3 (field 2) is not UTF-8"},
        {"a,b\n\xe7\x8e,1\n", "t.csv:2: byte 0xE7 at column 1 (field 1) is not UTF-8"},
        /* GBK for 王 (what a spreadsheet saved as "CSV" in China may give) */
        {"a,b\n1,\xcd\xf5\n", "t.csv:2: byte 0xCD at column 3 (field 2) is not UTF-8"},
        /* inside quotes, on the second line of a field that starts on line 2 */
        {"a,b\n1,\"x\ny\xff\"\n", "t.csv:3: byte 0xFF at column 2 (field 2) is not UTF-8"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        parsed p = parse(bad[i].input);
        CHECK_INT(p.rc, ST_EINVAL);
        CHECK_HAS(p.err, bad[i].err);
        CHECK_HAS(p.err, "save the file as CSV UTF-8");
    }
}

static void test_nul(void) {
    static const char in1[] = "a,b\n1,x\0y\n";
    CHECK_REFUSED_N(in1, sizeof(in1) - 1, "1:[a|b]",
                    "t.csv:2: a NUL byte at column 4 (field 2); this is not a text file - export "
                    "the sheet again as CSV UTF-8");
    static const char in2[] = "a,b\n\"\0\",1\n";
    CHECK_REFUSED_N(in2, sizeof(in2) - 1, "1:[a|b]",
                    "t.csv:2: a NUL byte at column 2 (field 1); this is not a text file - export "
                    "the sheet again as CSV UTF-8");
    /* The length given is what is read: a NUL past it is not seen. */
    parsed p = parse_n(in1, 3, 0);
    CHECK_INT(p.rc, ST_CSV_END);
    CHECK_STR(p.dump, "1:[a|b]");
}

static void test_accessors(void) {
    st_csv *c = NULL;
    const char in[] = "unit,\"a\"\"b\"\n";
    CHECK_INT(st_csv_open(&c, NULL, in, strlen(in)), ST_OK);
    CHECK_STR(st_csv_source(c), "input");
    CHECK_INT(st_csv_next(c, NULL, 0), ST_CSV_RECORD);
    CHECK_INT(st_csv_field_count(c), 2);
    CHECK_STR(st_csv_field(c, 0), "unit");
    CHECK_STR(st_csv_field(c, 1), "a\"b");
    CHECK_INT(st_csv_field_len(c, 1), 3);
    CHECK(st_csv_field(c, 2) == NULL);
    CHECK_INT(st_csv_field_len(c, 2), 0);
    CHECK_INT(st_csv_line(c), 1);
    CHECK_INT(st_csv_next(c, NULL, 0), ST_CSV_END);
    CHECK_INT(st_csv_field_count(c), 0);
    st_csv_close(c);
    st_csv_close(NULL);
    /* A NULL buffer is an empty input. */
    CHECK_INT(st_csv_open(&c, "x", NULL, 5), ST_OK);
    CHECK_INT(st_csv_next(c, NULL, 0), ST_CSV_END);
    st_csv_close(c);
}

/* A long field and many fields make the buffers grow; nothing is lost on the way. */
static void test_growth(void) {
    size_t n = 100000;
    char *in = malloc(n + 4000);
    CHECK(in != NULL);
    if (in == NULL) {
        return;
    }
    memset(in, 'x', n);
    size_t len = n;
    for (int i = 0; i < 1000; i++) {
        in[len++] = ',';
        in[len++] = (char)('0' + i % 10);
    }
    in[len++] = '\n';
    st_csv *c = NULL;
    CHECK_INT(st_csv_open(&c, "big.csv", in, len), ST_OK);
    CHECK_INT(st_csv_next(c, NULL, 0), ST_CSV_RECORD);
    CHECK_INT(st_csv_field_count(c), 1001);
    CHECK_INT(st_csv_field_len(c, 0), n);
    CHECK_STR(st_csv_field(c, 999), "8");
    CHECK_STR(st_csv_field(c, 1000), "9");
    st_csv_close(c);
    free(in);
}

int main(void) {
    test_plain();
    test_quotes();
    test_line_ends();
    test_bom();
    test_blank_lines_and_spaces();
    test_multiline_line_numbers();
    test_unterminated_quote();
    test_stray_quotes_and_cr();
    test_field_count();
    test_utf8();
    test_nul();
    test_accessors();
    test_growth();
    return check_exit("test_csv");
}
