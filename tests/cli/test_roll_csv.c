/* test_roll_csv.c - unit tests of the roll and ballots CSV readers (core/roll_csv.h):
 * the worked example of DOMAIN.md, spreadsheet variants of it, and every refusal with
 * its line, its message and nothing handed out.
 *
 * usage: test_roll_csv DATA_DIR   (tests/data, for the worked example files)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/roll_csv.h"
#include "tests/cli/check.h"

static const char *data_dir = "tests/data";

static char *slurp(const char *name, size_t *len) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", data_dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf == NULL) {
        exit(1);
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The roll must be refused, with exactly this message, and *out must stay as it was. */
static void check_roll_refused(const char *csv, const char *want, int line) {
    static int sentinel;
    st_roll *r = (st_roll *)&sentinel;
    char err[1024] = "";
    int rc = st_roll_csv_parse("r.csv", csv, strlen(csv), &r, err, sizeof(err));
    if (rc != ST_EINVAL || r != (st_roll *)&sentinel || strcmp(err, want) != 0) {
        fprintf(stderr,
                "%s:%d: roll refusal: rc %d (want %d), out %s, message\n  \"%s\"\nexpected\n"
                "  \"%s\"\n",
                __FILE__, line, rc, ST_EINVAL, r == (st_roll *)&sentinel ? "unchanged" : "CHANGED",
                err, want);
        check_failures++;
    }
}
#define ROLL_REFUSED(csv, want) check_roll_refused(csv, want, __LINE__)

#define HEADER "unit,building,area_centi_m2,owner_id,owner_name,status\n"
#define ROW2 "A-101,A,8950,O1,王建国,owned\n"
#define ROW3 "A-102,A,12000,O2,李秀英,owned\n"
#define AREA_HINT "give the area in hundredths of a square metre (89.50 m\xc2\xb2 = 8950)"

static st_roll *parse_roll(const char *csv, size_t len) {
    st_roll *r = NULL;
    char err[1024] = "";
    CHECK_INT(st_roll_csv_parse("r.csv", csv, len, &r, err, sizeof(err)), ST_OK);
    CHECK_STR(err, "");
    return r;
}

static void check_example_roll(const st_roll *r) {
    CHECK(r != NULL);
    if (r == NULL) {
        return;
    }
    CHECK(st_roll_sealed(r));
    CHECK_INT(st_roll_total_area(r), 134450);
    CHECK_INT(st_roll_total_owners(r), 10);
    CHECK_INT(st_roll_unit_count(r), 12);
    /* O1 holds two units and counts once with both areas. */
    long o1 = st_roll_find_voter(r, "O1");
    CHECK(o1 >= 0);
    if (o1 >= 0) {
        CHECK_INT(st_roll_voter(r, (size_t)o1)->area, 8950 + 12000);
        CHECK_INT(st_roll_voter(r, (size_t)o1)->unit_count, 2);
        CHECK_STR(st_roll_voter(r, (size_t)o1)->owner_name, "王建国");
    }
    /* The developer's two unsold units count as one owner. */
    long dev = st_roll_find_voter(r, "DEV");
    CHECK(dev >= 0);
    if (dev >= 0) {
        CHECK_INT(st_roll_voter(r, (size_t)dev)->area, 14380 * 2);
        CHECK(st_roll_voter(r, (size_t)dev)->developer);
        CHECK_STR(st_roll_voter(r, (size_t)dev)->owner_name, "华北置业有限公司");
    }
    /* Co-owners: one voter, both names. */
    long o9 = st_roll_find_voter(r, "O9");
    CHECK(o9 >= 0);
    if (o9 >= 0) {
        CHECK_STR(st_roll_voter(r, (size_t)o9)->owner_name, "周强;吴芳");
    }
    long s01 = st_roll_find_unit(r, "S-01");
    CHECK(s01 >= 0);
    if (s01 >= 0) {
        CHECK_INT(st_roll_unit(r, (size_t)s01)->area, 21000);
        CHECK_STR(st_roll_unit(r, (size_t)s01)->building, "S");
    }
}

/* The worked example tallied from the parsed files: the figures of DOMAIN.md. */
static void check_example_tally(const st_roll *r, const st_choice *choices) {
    size_t n = st_roll_voter_count(r);
    int64_t areas[16];
    CHECK(n <= 16);
    for (size_t i = 0; i < n && i < 16; i++) {
        areas[i] = st_roll_voter(r, i)->area;
    }
    st_tally t;
    st_weight total = {st_roll_total_area(r), st_roll_total_owners(r)};
    CHECK_INT(st_tally_recount(&t, total, areas, choices, n), ST_OK);
    st_decision d = st_tally_decide(&t, ST_CLASS_ORDINARY);
    CHECK_INT(d.part.area, 128950);
    CHECK_INT(d.part.owners, 9);
    CHECK_INT(t.agree.area, 84715);
    CHECK_INT(t.agree.owners, 6);
    CHECK_INT(t.disagree.area, 37710);
    CHECK_INT(t.disagree.owners, 2);
    CHECK_INT(t.abstain.area, 6525);
    CHECK_INT(t.abstain.owners, 1);
    CHECK(d.quorum);
    CHECK(d.passed);
    CHECK(!st_tally_decide(&t, ST_CLASS_SPECIAL).passed);
    /* O8 did not vote. */
    CHECK_INT(choices[st_roll_find_voter(r, "O8")], ST_CHOICE_NONE);
}

static void test_example(void) {
    size_t rl, bl;
    char *roll_csv = slurp("example-roll.csv", &rl);
    char *ballots_csv = slurp("example-ballots.csv", &bl);
    st_roll *r = parse_roll(roll_csv, rl);
    check_example_roll(r);

    st_choice *choices = NULL;
    st_ballots_csv_stats st = {0, 0, 0};
    char err[512] = "";
    CHECK_INT(st_ballots_csv_parse("b.csv", ballots_csv, bl, r, &choices, &st, err, sizeof(err)),
              ST_OK);
    CHECK_STR(err, "");
    CHECK_INT(st.rows, 9);
    CHECK_INT(st.replaced, 0);
    CHECK_INT(st.voters, 9);
    if (choices != NULL && r != NULL) {
        check_example_tally(r, choices);
        CHECK_INT(choices[st_roll_find_voter(r, "DEV")], ST_CHOICE_DISAGREE);
        CHECK_INT(choices[st_roll_find_voter(r, "O5")], ST_CHOICE_ABSTAIN);
    }
    free(choices);

    /* The same ballots in Chinese, and with replaced lines: the same count. */
    static const char *const same[] = {"example-ballots-zh.csv", "example-ballots-replaced.csv"};
    for (size_t k = 0; k < 2; k++) {
        size_t len;
        char *csv = slurp(same[k], &len);
        choices = NULL;
        CHECK_INT(st_ballots_csv_parse("b.csv", csv, len, r, &choices, &st, err, sizeof(err)),
                  ST_OK);
        if (choices != NULL && r != NULL) {
            check_example_tally(r, choices);
        }
        CHECK_INT(st.voters, 9);
        CHECK_INT(st.replaced, k == 0 ? 0 : 3);
        CHECK_INT(st.rows, k == 0 ? 9 : 12);
        free(choices);
        free(csv);
    }
    st_roll_free(r);
    free(roll_csv);
    free(ballots_csv);
}

/* The example as a spreadsheet in China exports it: BOM, CRLF, every field quoted. */
static void test_spreadsheet_export(void) {
    size_t rl;
    char *plain = slurp("example-roll.csv", &rl);
    char *x = malloc(3 + rl * 4 + 64);
    size_t n = 0;
    memcpy(x, "\xef\xbb\xbf", 3);
    n = 3;
    bool at_start = true;
    for (size_t i = 0; i < rl; i++) {
        if (at_start) {
            x[n++] = '"';
            at_start = false;
        }
        if (plain[i] == ',') {
            memcpy(x + n, "\",\"", 3);
            n += 3;
        } else if (plain[i] == '\n') {
            memcpy(x + n, "\"\r\n", 3);
            n += 3;
            at_start = true;
        } else {
            x[n++] = plain[i];
        }
    }
    /* Blank lines at the end. */
    memcpy(x + n, "\r\n  \r\n", 6);
    n += 6;
    x[n] = '\0';
    CHECK_HAS(x, "\"A-101\",\"A\",\"8950\"");
    st_roll *r = parse_roll(x, n);
    check_example_roll(r);
    st_roll_free(r);
    free(x);
    free(plain);
}

static void test_roll_header(void) {
    ROLL_REFUSED("unit,building,area,owner_id,owner_name,status\n" ROW2,
                 "r.csv:1: header column 3 is \"area\" but must be \"area_centi_m2\"; the first "
                 "line must be exactly unit,building,area_centi_m2,owner_id,owner_name,status");
    ROLL_REFUSED("unit,building,area_centi_m2,owner_id,owner_name\n",
                 "r.csv:1: the header has 5 columns, column 6 (status) is missing; the first line "
                 "must be exactly unit,building,area_centi_m2,owner_id,owner_name,status");
    ROLL_REFUSED("unit,building,area_centi_m2,owner_id,owner_name,status,note\n",
                 "r.csv:1: the header has 7 columns, more than the 6 expected; the first line "
                 "must be exactly unit,building,area_centi_m2,owner_id,owner_name,status");
    /* The header is case-sensitive; the first line that is not blank is the header. */
    ROLL_REFUSED("\n\nUnit,building,area_centi_m2,owner_id,owner_name,status\n",
                 "r.csv:3: header column 1 is \"Unit\" but must be \"unit\"; the first line must "
                 "be exactly unit,building,area_centi_m2,owner_id,owner_name,status");
    /* A roll without its header: the first unit is not taken for one. */
    ROLL_REFUSED(ROW2 ROW3, "r.csv:1: header column 1 is \"A-101\" but must be \"unit\"; the "
                            "first line must be exactly unit,building,area_centi_m2,owner_id,"
                            "owner_name,status");
    ROLL_REFUSED("", "r.csv:1: the file is empty; a roll file starts with the header line "
                     "unit,building,area_centi_m2,owner_id,owner_name,status");
    ROLL_REFUSED("\xef\xbb\xbf\r\n \n", "r.csv:1: the file is empty; a roll file starts with the "
                                        "header line unit,building,area_centi_m2,owner_id,"
                                        "owner_name,status");
    ROLL_REFUSED(HEADER, "r.csv:1: the roll has no units; add one line per unit below the header");
    ROLL_REFUSED(HEADER "\n\n", "r.csv:1: the roll has no units; add one line per unit below "
                                "the header");
}

static void test_roll_area(void) {
    static const struct {
        const char *area, *msg;
    } bad[] = {
        {"89.5", "r.csv:3: area_centi_m2 \"89.5\" is not a whole number; " AREA_HINT},
        {"8950.00", "r.csv:3: area_centi_m2 \"8950.00\" is not a whole number; " AREA_HINT},
        {"1e4", "r.csv:3: area_centi_m2 \"1e4\" is not a whole number; " AREA_HINT},
        {"0x20", "r.csv:3: area_centi_m2 \"0x20\" is not a whole number; " AREA_HINT},
        {"八十", "r.csv:3: area_centi_m2 \"八十\" is not a whole number; " AREA_HINT},
        {"89 50", "r.csv:3: area_centi_m2 \"89 50\" is not a whole number; " AREA_HINT},
        {"\"8,950\"", "r.csv:3: area_centi_m2 \"8,950\" is not a whole number; " AREA_HINT},
        {"", "r.csv:3: area_centi_m2 is empty; " AREA_HINT},
        {"-8950", "r.csv:3: area_centi_m2 \"-8950\" is negative; " AREA_HINT
                  ", a whole number from 1 to 1000000000"},
        {"+8950", "r.csv:3: area_centi_m2 \"+8950\" has a plus sign; write the number without it"},
        {"08950", "r.csv:3: area_centi_m2 \"08950\" has a leading zero; write the number without "
                  "leading zeros"},
        {"00", "r.csv:3: area_centi_m2 \"00\" has a leading zero; write the number without "
               "leading zeros"},
        {"0", "r.csv:3: area_centi_m2 is 0; every unit has a floor area of at least 1 "
              "(0.01 m\xc2\xb2); " AREA_HINT},
        {"1000000001",
         "r.csv:3: area_centi_m2 \"1000000001\" is more than 1000000000 "
         "(10000000.00 m\xc2\xb2), the largest unit area; check the figure, " AREA_HINT},
        {"99999999999999999999999999", "r.csv:3: area_centi_m2 \"99999999999999999999999999\" is "
                                       "more than 1000000000 (10000000.00 m\xc2\xb2), the "
                                       "largest unit area; check the figure, " AREA_HINT},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char csv[512];
        snprintf(csv, sizeof(csv), HEADER ROW2 "A-102,A,%s,O2,李秀英,owned\n" ROW3, bad[i].area);
        check_roll_refused(csv, bad[i].msg, __LINE__ * 1000 + (int)i);
    }
    /* The bounds themselves are accepted; spaces around the number are trimmed. */
    const char *ok = HEADER "X,,1,O1,a,owned\nY,,1000000000,O2,b,owned\nZ,, 42 ,O3,c,owned\n";
    st_roll *r = parse_roll(ok, strlen(ok));
    if (r != NULL) {
        CHECK_INT(st_roll_total_area(r), 1 + 1000000000 + 42);
        CHECK_STR(st_roll_unit(r, 0)->building, "");
    }
    st_roll_free(r);
}

static void test_roll_fields(void) {
    ROLL_REFUSED(HEADER ROW2 ROW3 "A-201,A,8950,O3,张伟,owned\n" ROW2,
                 "r.csv:5: unit A-101 appears twice (first on line 2); give each unit one line");
    ROLL_REFUSED(HEADER ROW2 "A-102,A,12000,O2,李秀英,sold\n",
                 "r.csv:3: status \"sold\" is not known; use owned (sold and delivered) or "
                 "developer_unsold (not yet sold or delivered)");
    ROLL_REFUSED(HEADER ROW2 "A-102,A,12000,O2,李秀英,Owned\n",
                 "r.csv:3: status \"Owned\" is not known; use owned (sold and delivered) or "
                 "developer_unsold (not yet sold or delivered)");
    ROLL_REFUSED(HEADER ROW2 "A-102,A,12000,O2,李秀英,\n",
                 "r.csv:3: status is empty; use owned or developer_unsold");
    ROLL_REFUSED(HEADER ROW2 ",A,12000,O2,李秀英,owned\n",
                 "r.csv:3: unit is empty; give the unit number, such as A-101");
    ROLL_REFUSED(HEADER ROW2 "A-102,A,12000,,李秀英,owned\n",
                 "r.csv:3: owner_id is empty; give the owner's id (co-owners of a unit share one "
                 "id)");
    ROLL_REFUSED(HEADER ROW2 "A-102,A,12000,O2,,owned\n",
                 "r.csv:3: owner_name is empty; give the owner's name (co-owners joined by ;)");
    ROLL_REFUSED(HEADER ROW2 "A-102,A,12000,O2,\"李\t秀英\",owned\n",
                 "r.csv:3: owner_name \"李\\x09秀英\" contains a control character (a tab, line "
                 "break or similar); remove it");
    ROLL_REFUSED(HEADER ROW2 "A-102,\" A\",12000,O2,李秀英,owned\n",
                 "r.csv:3: building \" A\" starts or ends with a space; remove it");
    /* A field over two lines is refused at the line it starts on. */
    ROLL_REFUSED(HEADER ROW2 "A-102,A,12000,O2,\"李秀英\n\",owned\n",
                 "r.csv:3: owner_name \"李秀英\\x0a\" contains a control character (a tab, line "
                 "break or similar); remove it");
    ROLL_REFUSED(HEADER ROW2 "A-102,A,12000,O2,李秀英\n",
                 "r.csv:3: 5 fields where 6 are expected (as on line 1); check for a missing or "
                 "extra comma, and put a field that contains a comma in quotes");
    ROLL_REFUSED(HEADER ROW2 "A-102,A,12000,O2,李秀英,owned,x\n",
                 "r.csv:3: 7 fields where 6 are expected (as on line 1); check for a missing or "
                 "extra comma, and put a field that contains a comma in quotes");
    ROLL_REFUSED(HEADER ROW2 "A-102,A,12000,O2,\"李秀英,owned\n" ROW3,
                 "r.csv:3: the quote that opens field 5 at column 18 is never closed; close it "
                 "with \" (a quote inside a quoted field is written \"\")");
    ROLL_REFUSED(HEADER ROW2 "A-102,A,12000,O2,\xc0\xaf,owned\n",
                 "r.csv:3: byte 0xC0 at column 18 (field 5) is not UTF-8; save the file as CSV "
                 "UTF-8 (GBK and other encodings are not accepted)");
    /* Too long: 65-byte unit id, 513-byte name. */
    char csv[2048];
    char longid[66], longname[514];
    memset(longid, 'u', 65);
    longid[65] = '\0';
    memset(longname, 'n', 513);
    longname[513] = '\0';
    snprintf(csv, sizeof(csv), HEADER ROW2 "%s,A,1,O2,x,owned\n", longid);
    ROLL_REFUSED(csv, "r.csv:3: unit \"uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu...\" is 65 "
                      "bytes long, more than the 64 allowed; shorten it");
    snprintf(csv, sizeof(csv), HEADER ROW2 "A-102,A,1,O2,%s,owned\n", longname);
    ROLL_REFUSED(csv, "r.csv:3: owner_name \"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...\" "
                      "is 513 bytes long, more than the 512 allowed; shorten it");
    /* The roll's own rules, with the line in front. */
    ROLL_REFUSED(HEADER ROW2 ROW3 "A-202,A,12000,O1,王小明,owned\n",
                 "r.csv:4: unit A-202: owner O1 is named \"王小明\" here but \"王建国\" on an "
                 "earlier unit; one owner id must carry one name");
    ROLL_REFUSED(HEADER "B-202,B,14380,DEV,华北置业有限公司,developer_unsold\n"
                        "B-301,B,14380,DEV2,华北置业有限公司,developer_unsold\n",
                 "r.csv:3: unit B-301: developer-unsold units count together as one owner and "
                 "must share one owner id, but this one has DEV2 and earlier ones have DEV");
}

/* ---- ballots ---- */

static st_roll *example_roll(void) {
    size_t rl;
    char *csv = slurp("example-roll.csv", &rl);
    st_roll *r = parse_roll(csv, rl);
    free(csv);
    return r;
}

static void check_ballots_refused(const st_roll *r, const char *csv, const char *want, int line) {
    static st_choice sentinel[1];
    st_choice *out = sentinel;
    st_ballots_csv_stats st = {77, 77, 77};
    char err[1024] = "";
    int rc = st_ballots_csv_parse("b.csv", csv, strlen(csv), r, &out, &st, err, sizeof(err));
    if (rc != ST_EINVAL || out != sentinel || st.rows != 77 || st.replaced != 77 ||
        st.voters != 77 || strcmp(err, want) != 0) {
        fprintf(stderr,
                "%s:%d: ballots refusal: rc %d (want %d), out %s, message\n  \"%s\"\nexpected\n"
                "  \"%s\"\n",
                __FILE__, line, rc, ST_EINVAL, out == sentinel ? "unchanged" : "CHANGED", err,
                want);
        check_failures++;
    }
}
#define BALLOTS_REFUSED(r, csv, want) check_ballots_refused(r, csv, want, __LINE__)

#define CHOICES "use agree, disagree or abstain (同意, 反对, 弃权)"

static void test_ballots(void) {
    st_roll *r = example_roll();
    if (r == NULL) {
        return;
    }
    BALLOTS_REFUSED(r, "owner_id,choice\nO1,agree\nO2,agree\nO10,agree\n",
                    "b.csv:4: owner_id \"O10\" is not an owner on the roll; check it against the "
                    "owner_id column of the roll");
    BALLOTS_REFUSED(r, "owner_id,choice\nA-102,agree\n",
                    "b.csv:2: owner_id \"A-102\" is not an owner on the roll (A-102 is a unit "
                    "number; its owner_id is O2); check it against the owner_id column of the "
                    "roll");
    BALLOTS_REFUSED(r, "owner_id,choice\nO1,agree\nO2,yes\n",
                    "b.csv:3: choice \"yes\" is not known; " CHOICES);
    BALLOTS_REFUSED(r, "owner_id,choice\nO1,Agree\n",
                    "b.csv:2: choice \"Agree\" is not known; " CHOICES);
    BALLOTS_REFUSED(r, "owner_id,choice\nO1,赞成\n",
                    "b.csv:2: choice \"赞成\" is not known; " CHOICES);
    BALLOTS_REFUSED(r, "owner_id,choice\nO1,\n", "b.csv:2: choice is empty; " CHOICES);
    BALLOTS_REFUSED(r, "owner_id,choice\n,agree\n",
                    "b.csv:2: owner_id is empty; give the owner_id from the roll that the ballot "
                    "belongs to");
    BALLOTS_REFUSED(r, "owner_id,choice\nO1,agree,extra\n",
                    "b.csv:2: 3 fields where 2 are expected (as on line 1); check for a missing "
                    "or extra comma, and put a field that contains a comma in quotes");
    BALLOTS_REFUSED(r, "owner,choice\nO1,agree\n",
                    "b.csv:1: header column 1 is \"owner\" but must be \"owner_id\"; the first "
                    "line must be exactly owner_id,choice");
    BALLOTS_REFUSED(r, "",
                    "b.csv:1: the file is empty; a ballots file starts with the header "
                    "line owner_id,choice");
    /* A later bad line refuses the whole file, even after good ones. */
    BALLOTS_REFUSED(r, "owner_id,choice\nO1,agree\nO2,agree\nO3,agree\nO4,agree\n\nO5,agree\xff\n",
                    "b.csv:7: byte 0xFF at column 9 (field 2) is not UTF-8; save the file as CSV "
                    "UTF-8 (GBK and other encodings are not accepted)");

    /* A header alone: nobody took part. */
    st_choice *c = NULL;
    st_ballots_csv_stats st;
    char err[512] = "";
    CHECK_INT(
        st_ballots_csv_parse("b.csv", "owner_id,choice\r\n", 17, r, &c, &st, err, sizeof(err)),
        ST_OK);
    CHECK_INT(st.rows, 0);
    for (size_t i = 0; c != NULL && i < st_roll_voter_count(r); i++) {
        CHECK_INT(c[i], ST_CHOICE_NONE);
    }
    free(c);

    /* The last line for an owner counts: O1 agrees, disagrees, then abstains. */
    const char *b = "owner_id,choice\nO1,agree\nO2,同意\nO1,disagree\nO1,弃权\n";
    c = NULL;
    CHECK_INT(st_ballots_csv_parse("b.csv", b, strlen(b), r, &c, NULL, err, sizeof(err)), ST_OK);
    if (c != NULL) {
        CHECK_INT(c[st_roll_find_voter(r, "O1")], ST_CHOICE_ABSTAIN);
        CHECK_INT(c[st_roll_find_voter(r, "O2")], ST_CHOICE_AGREE);
        CHECK_INT(c[st_roll_find_voter(r, "O3")], ST_CHOICE_NONE);
    }
    free(c);
    st_roll_free(r);

    /* An unsealed roll is refused. */
    st_roll *open = NULL;
    CHECK_INT(st_roll_new(&open), ST_OK);
    BALLOTS_REFUSED(open, "owner_id,choice\n",
                    "b.csv: ballots need a sealed roll to count against");
    st_roll_free(open);
}

static void test_choice_words(void) {
    st_choice c = ST_CHOICE_NONE;
    CHECK(st_ballot_choice_parse("agree", &c) && c == ST_CHOICE_AGREE);
    CHECK(st_ballot_choice_parse("disagree", &c) && c == ST_CHOICE_DISAGREE);
    CHECK(st_ballot_choice_parse("abstain", &c) && c == ST_CHOICE_ABSTAIN);
    CHECK(st_ballot_choice_parse("同意", &c) && c == ST_CHOICE_AGREE);
    CHECK(st_ballot_choice_parse("反对", &c) && c == ST_CHOICE_DISAGREE);
    CHECK(st_ballot_choice_parse("弃权", &c) && c == ST_CHOICE_ABSTAIN);
    c = ST_CHOICE_AGREE;
    CHECK(!st_ballot_choice_parse("none", &c) && c == ST_CHOICE_AGREE);
    CHECK(!st_ballot_choice_parse("", &c));
    CHECK(!st_ballot_choice_parse("agree ", &c));
    CHECK(!st_ballot_choice_parse("同", &c));
    CHECK(!st_ballot_choice_parse(NULL, &c));
}

int main(int argc, char **argv) {
    if (argc > 1) {
        data_dir = argv[1];
    }
    test_example();
    test_spreadsheet_export();
    test_roll_header();
    test_roll_area();
    test_roll_fields();
    test_ballots();
    test_choice_words();
    return check_exit("test_roll_csv");
}
