/* roll_csv.c - the roll and ballots CSV readers (formats in roll_csv.h).
 *
 * Each field is checked here before it reaches st_roll_add_unit(), so that a message
 * names the line and the column and says what to write instead; the roll's own checks
 * (duplicate unit, one name per owner id, one developer id) still run and their
 * messages get the same "SOURCE:LINE: " prefix. Nothing is handed out until the whole
 * input has been read without error.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/error.h"
#include "core/roll_csv.h"

/* ---- values in messages ---- */

/* Writes s for a message: at most ~48 bytes (cut at a UTF-8 boundary, "..." appended),
 * control characters, quotes and backslashes escaped, so the message stays one line. */
static const char *show(const char *s, char *buf, size_t len) {
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (; *p != '\0'; p++) {
        if (o >= 48 && (*p & 0xc0) != 0x80) {
            if (o + 4 <= len) {
                memcpy(buf + o, "...", 3);
                o += 3;
            }
            break;
        }
        if (o + 5 >= len) {
            break;
        }
        if (*p < 0x20 || *p == 0x7f) {
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", *p);
        } else if (*p == '"' || *p == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)*p;
        } else {
            buf[o++] = (char)*p;
        }
    }
    buf[o] = '\0';
    return buf;
}

/* Why the roll would refuse s as an id or a name (mirrors st_roll_valid_id/_name),
 * or NULL if it would not. The CSV reader has already checked that s is UTF-8. */
static const char *text_problem(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n == 0) {
        return "is empty";
    }
    if (n > max) {
        return "is too long";
    }
    if (s[0] == ' ' || s[n - 1] == ' ') {
        return "starts or ends with a space";
    }
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        /* C0 controls and DEL; C1 controls U+0080..U+009F are C2 80..C2 9F in UTF-8. */
        if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) {
            return "contains a control character (a tab, line break or similar)";
        }
    }
    return NULL;
}

/* Checks one text field; `what_to_do` ends the message. */
static int check_text(const st_csv *c, const char *column, const char *s, size_t max,
                      const char *what_to_do, char *err, size_t errlen) {
    const char *problem = text_problem(s, max);
    if (problem == NULL) {
        return ST_OK;
    }
    char v[64];
    if (s[0] == '\0') {
        return st_fail(err, errlen, ST_EINVAL, "%s:%zu: %s is empty; %s", st_csv_source(c),
                       st_csv_line(c), column, what_to_do);
    }
    if (strlen(s) > max) {
        return st_fail(err, errlen, ST_EINVAL,
                       "%s:%zu: %s \"%s\" is %zu bytes long, more than the %zu allowed; "
                       "shorten it",
                       st_csv_source(c), st_csv_line(c), column, show(s, v, sizeof(v)), strlen(s),
                       max);
    }
    return st_fail(err, errlen, ST_EINVAL, "%s:%zu: %s \"%s\" %s; remove it", st_csv_source(c),
                   st_csv_line(c), column, show(s, v, sizeof(v)), problem);
}

/* ---- header ---- */

/* Reads the first record and checks it is exactly `header` (comma-separated names). */
static int read_header(st_csv *c, const char *header, const char *what, char *err, size_t errlen) {
    int rc = st_csv_next(c, err, errlen);
    if (rc < 0) {
        return rc;
    }
    if (rc == ST_CSV_END) {
        return st_fail(err, errlen, ST_EINVAL,
                       "%s:1: the file is empty; a %s file starts with the header line %s",
                       st_csv_source(c), what, header);
    }
    size_t want = 1;
    for (const char *h = header; *h != '\0'; h++) {
        want += *h == ',';
    }
    size_t n = st_csv_field_count(c);
    const char *h = header;
    for (size_t i = 0; i < want; i++) {
        size_t hl = strcspn(h, ",");
        const char *f = st_csv_field(c, i);
        if (f == NULL || strlen(f) != hl || memcmp(f, h, hl) != 0) {
            char v[64], exp[64];
            snprintf(exp, sizeof(exp), "%.*s", (int)hl, h);
            if (f == NULL) {
                return st_fail(err, errlen, ST_EINVAL,
                               "%s:%zu: the header has %zu column%s, column %zu (%s) is "
                               "missing; the first line must be exactly %s",
                               st_csv_source(c), st_csv_line(c), n, n == 1 ? "" : "s", i + 1, exp,
                               header);
            }
            return st_fail(err, errlen, ST_EINVAL,
                           "%s:%zu: header column %zu is \"%s\" but must be \"%s\"; the first "
                           "line must be exactly %s",
                           st_csv_source(c), st_csv_line(c), i + 1, show(f, v, sizeof(v)), exp,
                           header);
        }
        h += hl + (h[hl] == ',');
    }
    if (n != want) {
        return st_fail(err, errlen, ST_EINVAL,
                       "%s:%zu: the header has %zu columns, more than the %zu expected; the "
                       "first line must be exactly %s",
                       st_csv_source(c), st_csv_line(c), n, want, header);
    }
    return ST_OK;
}

/* ---- roll ---- */

enum { COL_UNIT, COL_BUILDING, COL_AREA, COL_OWNER_ID, COL_OWNER_NAME, COL_STATUS };

static int parse_area(const st_csv *c, const char *s, int64_t *out, char *err, size_t errlen) {
    static const char hint[] =
        "give the area in hundredths of a square metre (89.50 m\xc2\xb2 = 8950)";
    const char *src = st_csv_source(c);
    size_t line = st_csv_line(c);
    char v[64];
    if (s[0] == '\0') {
        return st_fail(err, errlen, ST_EINVAL, "%s:%zu: area_centi_m2 is empty; %s", src, line,
                       hint);
    }
    if (s[0] == '-') {
        return st_fail(err, errlen, ST_EINVAL,
                       "%s:%zu: area_centi_m2 \"%s\" is negative; %s, a whole number from 1 "
                       "to %lld",
                       src, line, show(s, v, sizeof(v)), hint, (long long)ST_AREA_MAX);
    }
    if (s[0] == '+') {
        return st_fail(err, errlen, ST_EINVAL,
                       "%s:%zu: area_centi_m2 \"%s\" has a plus sign; write the number "
                       "without it",
                       src, line, show(s, v, sizeof(v)));
    }
    size_t n = strspn(s, "0123456789");
    if (s[n] != '\0') {
        return st_fail(err, errlen, ST_EINVAL,
                       "%s:%zu: area_centi_m2 \"%s\" is not a whole number; %s", src, line,
                       show(s, v, sizeof(v)), hint);
    }
    if (s[0] == '0' && n > 1) {
        return st_fail(err, errlen, ST_EINVAL,
                       "%s:%zu: area_centi_m2 \"%s\" has a leading zero; write the number "
                       "without leading zeros",
                       src, line, show(s, v, sizeof(v)));
    }
    int64_t a = 0;
    for (size_t i = 0; i < n; i++) {
        if (a > ST_AREA_MAX) {
            break; /* already too large; stop before the multiplication could overflow */
        }
        a = a * 10 + (s[i] - '0');
    }
    if (a > ST_AREA_MAX) {
        return st_fail(err, errlen, ST_EINVAL,
                       "%s:%zu: area_centi_m2 \"%s\" is more than %lld (%lld.00 m\xc2\xb2), the "
                       "largest unit area; check the figure, %s",
                       src, line, show(s, v, sizeof(v)), (long long)ST_AREA_MAX,
                       (long long)(ST_AREA_MAX / 100), hint);
    }
    if (a == 0) {
        return st_fail(err, errlen, ST_EINVAL,
                       "%s:%zu: area_centi_m2 is 0; every unit has a floor area of at least 1 "
                       "(0.01 m\xc2\xb2); %s",
                       src, line, hint);
    }
    *out = a;
    return ST_OK;
}

static int parse_status(const st_csv *c, const char *s, st_unit_status *out, char *err,
                        size_t errlen) {
    if (strcmp(s, "owned") == 0) {
        *out = ST_UNIT_OWNED;
        return ST_OK;
    }
    if (strcmp(s, "developer_unsold") == 0) {
        *out = ST_UNIT_DEVELOPER_UNSOLD;
        return ST_OK;
    }
    char v[64];
    if (s[0] == '\0') {
        return st_fail(err, errlen, ST_EINVAL,
                       "%s:%zu: status is empty; use owned or developer_unsold", st_csv_source(c),
                       st_csv_line(c));
    }
    return st_fail(err, errlen, ST_EINVAL,
                   "%s:%zu: status \"%s\" is not known; use owned (sold and delivered) or "
                   "developer_unsold (not yet sold or delivered)",
                   st_csv_source(c), st_csv_line(c), show(s, v, sizeof(v)));
}

/* Builds the roll from the records after the header. `lines` remembers the line of each
 * unit so that a duplicate can say where the first one is. */
static int read_units(st_csv *c, st_roll *r, size_t **lines, char *err, size_t errlen) {
    size_t cap = 0, header_line = st_csv_line(c);
    const char *src = st_csv_source(c);
    int rc;
    while ((rc = st_csv_next(c, err, errlen)) == ST_CSV_RECORD) {
        size_t line = st_csv_line(c);
        st_unit u;
        u.unit = st_csv_field(c, COL_UNIT);
        u.building = st_csv_field(c, COL_BUILDING);
        u.owner_id = st_csv_field(c, COL_OWNER_ID);
        u.owner_name = st_csv_field(c, COL_OWNER_NAME);
        if ((rc = check_text(c, "unit", u.unit, ST_ID_MAX, "give the unit number, such as A-101",
                             err, errlen)) != ST_OK ||
            (u.building[0] != '\0' && (rc = check_text(c, "building", u.building, ST_ID_MAX,
                                                       "give the building label or leave it empty",
                                                       err, errlen)) != ST_OK) ||
            (rc = parse_area(c, st_csv_field(c, COL_AREA), &u.area, err, errlen)) != ST_OK ||
            (rc = check_text(c, "owner_id", u.owner_id, ST_ID_MAX,
                             "give the owner's id (co-owners of a unit share one id)", err,
                             errlen)) != ST_OK ||
            (rc = check_text(c, "owner_name", u.owner_name, ST_NAME_MAX,
                             "give the owner's name (co-owners joined by ;)", err, errlen)) !=
                ST_OK ||
            (rc = parse_status(c, st_csv_field(c, COL_STATUS), &u.status, err, errlen)) != ST_OK) {
            return rc;
        }
        long first = st_roll_find_unit(r, u.unit);
        if (first >= 0) {
            char v[64];
            return st_fail(err, errlen, ST_EINVAL,
                           "%s:%zu: unit %s appears twice (first on line %zu); give each unit "
                           "one line",
                           src, line, show(u.unit, v, sizeof(v)), (*lines)[first]);
        }
        size_t n = st_roll_unit_count(r);
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            size_t *l = realloc(*lines, cap * sizeof(*l));
            if (l == NULL) {
                return st_fail(err, errlen, ST_ENOMEM, "%s:%zu: out of memory", src, line);
            }
            *lines = l;
        }
        char msg[512];
        rc = st_roll_add_unit(r, &u, msg, sizeof(msg));
        if (rc != ST_OK) {
            return st_fail(err, errlen, rc == ST_ENOMEM ? ST_ENOMEM : ST_EINVAL, "%s:%zu: %s", src,
                           line, msg);
        }
        (*lines)[n] = line;
    }
    if (rc < 0) {
        return rc;
    }
    if (st_roll_unit_count(r) == 0) {
        return st_fail(err, errlen, ST_EINVAL,
                       "%s:%zu: the roll has no units; add one line per unit below the header", src,
                       header_line);
    }
    return ST_OK;
}

int st_roll_csv_parse(const char *source, const char *buf, size_t len, st_roll **out, char *err,
                      size_t errlen) {
    st_csv *c = NULL;
    st_roll *r = NULL;
    size_t *lines = NULL;
    if (st_csv_open(&c, source, buf, len) != ST_OK || st_roll_new(&r) != ST_OK) {
        st_csv_close(c);
        return st_fail(err, errlen, ST_ENOMEM, "%s: out of memory", source ? source : "input");
    }
    int rc = read_header(c, ST_ROLL_CSV_HEADER, "roll", err, errlen);
    if (rc == ST_OK) {
        rc = read_units(c, r, &lines, err, errlen);
    }
    if (rc == ST_OK) {
        char msg[256];
        rc = st_roll_seal(r, msg, sizeof(msg));
        if (rc != ST_OK) {
            st_fail(err, errlen, rc, "%s: %s", st_csv_source(c), msg);
        }
    }
    free(lines);
    st_csv_close(c);
    if (rc != ST_OK) {
        st_roll_free(r);
        return rc;
    }
    *out = r;
    return ST_OK;
}

/* ---- ballots ---- */

bool st_ballot_choice_parse(const char *s, st_choice *out) {
    static const struct {
        const char *word;
        st_choice choice;
    } words[] = {
        {"agree", ST_CHOICE_AGREE},
        {"disagree", ST_CHOICE_DISAGREE},
        {"abstain", ST_CHOICE_ABSTAIN},
        {"\xe5\x90\x8c\xe6\x84\x8f", ST_CHOICE_AGREE},    /* 同意 */
        {"\xe5\x8f\x8d\xe5\xaf\xb9", ST_CHOICE_DISAGREE}, /* 反对 */
        {"\xe5\xbc\x83\xe6\x9d\x83", ST_CHOICE_ABSTAIN},  /* 弃权 */
    };
    for (size_t i = 0; s != NULL && i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcmp(s, words[i].word) == 0) {
            *out = words[i].choice;
            return true;
        }
    }
    return false;
}

static int read_ballots(st_csv *c, const st_roll *roll, st_choice *choices,
                        st_ballots_csv_stats *st, char *err, size_t errlen) {
    const char *src = st_csv_source(c);
    int rc;
    while ((rc = st_csv_next(c, err, errlen)) == ST_CSV_RECORD) {
        size_t line = st_csv_line(c);
        const char *owner = st_csv_field(c, 0), *word = st_csv_field(c, 1);
        char v[64];
        if (owner[0] == '\0') {
            return st_fail(err, errlen, ST_EINVAL,
                           "%s:%zu: owner_id is empty; give the owner_id from the roll that "
                           "the ballot belongs to",
                           src, line);
        }
        long voter = st_roll_find_voter(roll, owner);
        if (voter < 0) {
            char hint[160] = "";
            long unit = st_roll_find_unit(roll, owner);
            if (unit >= 0) {
                char o[64];
                snprintf(hint, sizeof(hint), " (%s is a unit number; its owner_id is %s)",
                         show(owner, v, sizeof(v)),
                         show(st_roll_unit(roll, (size_t)unit)->owner_id, o, sizeof(o)));
            }
            return st_fail(err, errlen, ST_EINVAL,
                           "%s:%zu: owner_id \"%s\" is not an owner on the roll%s; check it "
                           "against the owner_id column of the roll",
                           src, line, show(owner, v, sizeof(v)), hint);
        }
        st_choice choice;
        if (!st_ballot_choice_parse(word, &choice)) {
            if (word[0] == '\0') {
                return st_fail(err, errlen, ST_EINVAL,
                               "%s:%zu: choice is empty; use agree, disagree or abstain "
                               "(\xe5\x90\x8c\xe6\x84\x8f, \xe5\x8f\x8d\xe5\xaf\xb9, "
                               "\xe5\xbc\x83\xe6\x9d\x83)",
                               src, line);
            }
            return st_fail(err, errlen, ST_EINVAL,
                           "%s:%zu: choice \"%s\" is not known; use agree, disagree or abstain "
                           "(\xe5\x90\x8c\xe6\x84\x8f, \xe5\x8f\x8d\xe5\xaf\xb9, "
                           "\xe5\xbc\x83\xe6\x9d\x83)",
                           src, line, show(word, v, sizeof(v)));
        }
        st->rows++;
        if (choices[voter] != ST_CHOICE_NONE) {
            st->replaced++; /* the later line counts, as a replaced ballot does */
        }
        choices[voter] = choice;
    }
    return rc < 0 ? rc : ST_OK;
}

int st_ballots_csv_parse(const char *source, const char *buf, size_t len, const st_roll *roll,
                         st_choice **out, st_ballots_csv_stats *stats, char *err, size_t errlen) {
    const char *name = source ? source : "input";
    if (roll == NULL || !st_roll_sealed(roll)) {
        return st_fail(err, errlen, ST_EINVAL, "%s: ballots need a sealed roll to count against",
                       name);
    }
    size_t n = st_roll_voter_count(roll);
    st_choice *choices = calloc(n, sizeof(*choices)); /* all ST_CHOICE_NONE (0) */
    st_csv *c = NULL;
    if (choices == NULL || st_csv_open(&c, name, buf, len) != ST_OK) {
        free(choices);
        return st_fail(err, errlen, ST_ENOMEM, "%s: out of memory", name);
    }
    st_ballots_csv_stats st = {0, 0, 0};
    int rc = read_header(c, ST_BALLOTS_CSV_HEADER, "ballots", err, errlen);
    if (rc == ST_OK) {
        rc = read_ballots(c, roll, choices, &st, err, errlen);
    }
    st_csv_close(c);
    if (rc != ST_OK) {
        free(choices);
        return rc;
    }
    st.voters = st.rows - st.replaced;
    *out = choices;
    if (stats != NULL) {
        *stats = st;
    }
    return ST_OK;
}
