/* tamper.c - an attacker's changes to an audit bundle, for tests (tamper.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/audit/bundle.h"
#include "core/error.h"
#include "crypto/hash.h"
#include "crypto/record.h"
#include "crypto/text.h"
#include "tests/client/tamper.h"

const char *const tamper_kinds[] = {
    "choice",           "drop",      "drop-renumber",      "reorder",
    "reorder-renumber", "duplicate", "duplicate-renumber", "swap-key",
    "swap-owner",       "result",    "unsigned-manifest",  NULL};

#define LINES_MAX 200000

typedef struct {
    char **line;
    size_t n;
} text;

static void text_free(text *t) {
    for (size_t i = 0; i < t->n; i++) {
        free(t->line[i]);
    }
    free(t->line);
    t->line = NULL;
    t->n = 0;
}

static int text_read(const char *dir, const char *name, text *t) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    memset(t, 0, sizeof(*t));
    if (f == NULL) {
        fprintf(stderr, "tamper: cannot open %s\n", path);
        return -1;
    }
    t->line = calloc(LINES_MAX, sizeof(char *));
    char *buf = NULL;
    size_t cap = 0;
    ssize_t got;
    while (t->line != NULL && t->n < LINES_MAX && (got = getline(&buf, &cap, f)) >= 0) {
        if (got > 0 && buf[got - 1] == '\n') {
            buf[got - 1] = '\0';
        }
        t->line[t->n++] = strdup(buf);
    }
    free(buf);
    fclose(f);
    return t->line != NULL ? 0 : -1;
}

static int text_write(const char *dir, const char *name, const text *t) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }
    for (size_t i = 0; i < t->n; i++) {
        fprintf(f, "%s\n", t->line[i]);
    }
    return fclose(f) == 0 ? 0 : -1;
}

static void text_remove(text *t, size_t i) {
    free(t->line[i]);
    memmove(&t->line[i], &t->line[i + 1], (t->n - i - 1) * sizeof(char *));
    t->n--;
}

static void text_insert(text *t, size_t i, const char *s) {
    memmove(&t->line[i + 1], &t->line[i], (t->n - i) * sizeof(char *));
    t->line[i] = strdup(s);
    t->n++;
}

static void text_set(text *t, size_t i, const char *s) {
    char *c = strdup(s);
    free(t->line[i]);
    t->line[i] = c;
}

/* Rewrites MANIFEST's "file NAME ..." line (and optionally "KEY N" lines) to the files now. */
static int fix_manifest(const char *dir, const char *name, const char *key, long delta) {
    text m, f;
    if (text_read(dir, ST_BUNDLE_MANIFEST, &m) != 0 || text_read(dir, name, &f) != 0) {
        return -1;
    }
    /* The file's bytes as written: every line with its newline. */
    size_t size = 0;
    for (size_t i = 0; i < f.n; i++) {
        size += strlen(f.line[i]) + 1;
    }
    char *all = malloc(size + 1), *p = all;
    for (size_t i = 0; all != NULL && i < f.n; i++) {
        size_t l = strlen(f.line[i]);
        memcpy(p, f.line[i], l);
        p[l] = '\n';
        p += l + 1;
    }
    uint8_t h[32];
    char hex[65], line[400], prefix[64];
    st_hash_sha256(h, all, size);
    st_hex_encode(hex, h, 32);
    free(all);
    snprintf(prefix, sizeof(prefix), "file %s ", name);
    for (size_t i = 0; i < m.n; i++) {
        if (strncmp(m.line[i], prefix, strlen(prefix)) == 0) {
            snprintf(line, sizeof(line), "%s%s %zu", prefix, hex, size);
            text_set(&m, i, line);
        }
        if (key != NULL && strncmp(m.line[i], key, strlen(key)) == 0 &&
            m.line[i][strlen(key)] == ' ') {
            long v = strtol(m.line[i] + strlen(key) + 1, NULL, 10) + delta;
            snprintf(line, sizeof(line), "%s %ld", key, v);
            text_set(&m, i, line);
        }
    }
    int rc = text_write(dir, ST_BUNDLE_MANIFEST, &m);
    text_free(&m);
    text_free(&f);
    return rc;
}

/* The fields of a ballots.log line: seq, leaf, owner, record (base64), copied out. */
typedef struct {
    unsigned long long seq, leaf;
    char owner[80];
    char b64[600];
} bline;

static int bline_parse(const char *s, bline *b) {
    const char *t1 = strchr(s, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    const char *t3 = t2 ? strchr(t2 + 1, '\t') : NULL;
    if (t3 == NULL || (size_t)(t3 - t2) > sizeof(b->owner) || strlen(t3 + 1) >= sizeof(b->b64)) {
        return -1;
    }
    b->seq = strtoull(s, NULL, 10);
    b->leaf = strtoull(t1 + 1, NULL, 10);
    snprintf(b->owner, sizeof(b->owner), "%.*s", (int)(t3 - t2 - 1), t2 + 1);
    snprintf(b->b64, sizeof(b->b64), "%s", t3 + 1);
    return 0;
}

static void bline_format(const bline *b, char *out, size_t cap) {
    snprintf(out, cap, "%llu\t%llu\t%s\t%s", b->seq, b->leaf, b->owner, b->b64);
}

static int record_of(const bline *b, st_record *r) {
    uint8_t raw[ST_RECORD_MAX_LEN];
    size_t n64 = strlen(b->b64), n = n64 / 4 * 3;
    n -= n64 >= 1 && b->b64[n64 - 1] == '=' ? (n64 >= 2 && b->b64[n64 - 2] == '=' ? 2 : 1) : 0;
    if (n > sizeof(raw) || st_b64_decode(raw, n, b->b64, n64, NULL, 0) != ST_OK) {
        return -1;
    }
    return st_record_decode(r, raw, n, NULL, 0) == ST_OK ? 0 : -1;
}

static void expect_set(tamper_expect *e, const char *file, size_t line, const char *what) {
    snprintf(e->file, sizeof(e->file), "%s", file);
    e->line = line;
    snprintf(e->text, sizeof(e->text), "%s", what);
}

/* Flips the choice of the first choice ballot; returns its 1-based line or 0. */
static size_t flip_choice(text *t) {
    for (size_t i = 0; i < t->n; i++) {
        bline b;
        st_record r;
        if (bline_parse(t->line[i], &b) != 0 || record_of(&b, &r) != 0 ||
            r.ballot.kind != ST_BALLOT_KIND_CHOICE) {
            continue;
        }
        r.ballot.choice = r.ballot.choice == ST_CHOICE_AGREE ? ST_CHOICE_DISAGREE : ST_CHOICE_AGREE;
        uint8_t raw[ST_RECORD_MAX_LEN];
        size_t n = 0;
        char line[800];
        if (st_record_encode_buf(&r, raw, &n, NULL, 0) != ST_OK ||
            st_b64_encode(b.b64, sizeof(b.b64), raw, n) != ST_OK) {
            return 0;
        }
        bline_format(&b, line, sizeof(line));
        text_set(t, i, line);
        return i + 1;
    }
    return 0;
}

/* Renumbers seq and leaf of every line from 0. */
static void renumber(text *t) {
    for (size_t i = 0; i < t->n; i++) {
        bline b;
        char line[800];
        if (bline_parse(t->line[i], &b) == 0) {
            b.seq = i + 1;
            b.leaf = i;
            bline_format(&b, line, sizeof(line));
            text_set(t, i, line);
        }
    }
}

static size_t manifest_line_of(const char *dir, const char *name) {
    text m;
    size_t at = 0;
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "file %s ", name);
    if (text_read(dir, ST_BUNDLE_MANIFEST, &m) == 0) {
        for (size_t i = 0; i < m.n && at == 0; i++) {
            at = strncmp(m.line[i], prefix, strlen(prefix)) == 0 ? i + 1 : 0;
        }
    }
    text_free(&m);
    return at;
}

/* swap-owner: two owner keys swap owner ids; the first ballot signed by either is caught. */
static int swap_owner(const char *dir, tamper_expect *e) {
    text k, b;
    if (text_read(dir, ST_BUNDLE_KEYS, &k) != 0 || text_read(dir, ST_BUNDLE_BALLOTS, &b) != 0) {
        return -1;
    }
    char *f[2][8];
    size_t idx[2], found = 0;
    char *copy[2] = {NULL, NULL};
    for (size_t i = 0; i < k.n && found < 2; i++) {
        if (strstr(k.line[i], "\towner\t") != NULL) {
            idx[found] = i;
            copy[found] = strdup(k.line[i]);
            char *p = copy[found];
            for (int j = 0; j < 7; j++) {
                f[found][j] = p;
                p = strchr(p, '\t');
                if (p != NULL) {
                    *p++ = '\0';
                } else {
                    break;
                }
            }
            found++;
        }
    }
    int rc = -1;
    if (found == 2) {
        uint8_t ids[2][16];
        st_hex_decode(ids[0], 16, f[0][0], 32, NULL, 0);
        st_hex_decode(ids[1], 16, f[1][0], 32, NULL, 0);
        for (int s = 0; s < 2; s++) {
            char line[600];
            snprintf(line, sizeof(line), "%s\t%s\t%s\t%s\t%s\t%s\t%s", f[s][0], f[s][1], f[s][2],
                     f[1 - s][3], f[s][4], f[s][5], f[s][6]);
            text_set(&k, idx[s], line);
        }
        for (size_t i = 0; i < b.n; i++) {
            bline bl;
            st_record r;
            if (bline_parse(b.line[i], &bl) == 0 && record_of(&bl, &r) == 0 &&
                (memcmp(r.ballot.key_id, ids[0], 16) == 0 ||
                 memcmp(r.ballot.key_id, ids[1], 16) == 0)) {
                expect_set(e, ST_BUNDLE_BALLOTS, i + 1, "which keys.txt (line");
                break;
            }
        }
        rc = text_write(dir, ST_BUNDLE_KEYS, &k) == 0 ? fix_manifest(dir, ST_BUNDLE_KEYS, NULL, 0)
                                                      : -1;
    }
    free(copy[0]);
    free(copy[1]);
    text_free(&k);
    text_free(&b);
    return rc;
}

static int swap_key(const char *dir, tamper_expect *e) {
    text k;
    if (text_read(dir, ST_BUNDLE_KEYS, &k) != 0 || k.n < 2) {
        text_free(&k);
        return -1;
    }
    /* Field 5 (the public key) of lines 1 and 2 change places. */
    char *pk[2];
    for (int s = 0; s < 2; s++) {
        char *p = k.line[s];
        for (int j = 0; j < 4 && p != NULL; j++) {
            p = strchr(p, '\t');
            p = p ? p + 1 : NULL;
        }
        pk[s] = p;
    }
    int rc = -1;
    if (pk[0] != NULL && pk[1] != NULL && strncmp(pk[0], pk[1], 44) != 0) {
        char tmp[44];
        memcpy(tmp, pk[0], 44);
        memcpy(pk[0], pk[1], 44);
        memcpy(pk[1], tmp, 44);
        expect_set(e, ST_BUNDLE_KEYS, 1, "is not the id of its public key");
        rc = text_write(dir, ST_BUNDLE_KEYS, &k) == 0 ? fix_manifest(dir, ST_BUNDLE_KEYS, NULL, 0)
                                                      : -1;
    }
    text_free(&k);
    return rc;
}

static int alter_result(const char *dir, tamper_expect *e) {
    text r;
    if (text_read(dir, ST_BUNDLE_RESULT, &r) != 0 || r.n != 1) {
        text_free(&r);
        return -1;
    }
    char *p = strstr(r.line[0], "\"agree_area\":");
    int rc = -1;
    if (p != NULL) {
        long long v = strtoll(p + 13, NULL, 10);
        char *end = p + 13;
        while (*end == '-' || (*end >= '0' && *end <= '9')) {
            end++;
        }
        char line[8192];
        snprintf(line, sizeof(line), "%.*s\"agree_area\":%lld%s", (int)(p - r.line[0]), r.line[0],
                 v + 100, end);
        text_set(&r, 0, line);
        expect_set(e, ST_BUNDLE_RESULT, 1, "\"agree_area\" is");
        rc = text_write(dir, ST_BUNDLE_RESULT, &r) == 0
                 ? fix_manifest(dir, ST_BUNDLE_RESULT, NULL, 0)
                 : -1;
    }
    text_free(&r);
    return rc;
}

/* The tampers of ballots.log (and ballots.csv, kept consistent when it exists). */
static int tamper_ballots(const char *dir, const char *kind, tamper_expect *e) {
    text b, csv;
    if (text_read(dir, ST_BUNDLE_BALLOTS, &b) != 0 || b.n < 3) {
        text_free(&b);
        fprintf(stderr, "tamper: %s needs a ballots.log of 3 or more ballots\n", kind);
        return -1;
    }
    bool have_csv = text_read(dir, ST_BUNDLE_BALLOTS_CSV, &csv) == 0;
    const char *count_key = NULL;
    long delta = 0;
    bool fix = true;
    if (strcmp(kind, "choice") == 0 || strcmp(kind, "unsigned-manifest") == 0) {
        size_t at = flip_choice(&b);
        fix = strcmp(kind, "choice") == 0;
        if (fix) {
            expect_set(e, ST_BUNDLE_BALLOTS, at, "does not verify");
        } else {
            expect_set(e, ST_BUNDLE_MANIFEST, manifest_line_of(dir, ST_BUNDLE_BALLOTS),
                       "was changed after export");
        }
    } else if (strcmp(kind, "drop") == 0) {
        text_remove(&b, 1);
        expect_set(e, ST_BUNDLE_BALLOTS, 2, "seq 3 where 2 was expected");
    } else if (strcmp(kind, "drop-renumber") == 0) {
        text_remove(&b, 1);
        renumber(&b);
        if (have_csv) {
            text_remove(&csv, 2);
        }
        count_key = "ballots", delta = -1;
        expect_set(e, ST_BUNDLE_BALLOTS, 0, "ballots were dropped");
    } else if (strcmp(kind, "reorder") == 0) {
        char *t = b.line[0];
        b.line[0] = b.line[1];
        b.line[1] = t;
        expect_set(e, ST_BUNDLE_BALLOTS, 1, "seq 2 where 1 was expected");
    } else if (strcmp(kind, "reorder-renumber") == 0) {
        char *t = b.line[0];
        b.line[0] = b.line[1];
        b.line[1] = t;
        renumber(&b);
        if (have_csv) {
            t = csv.line[1];
            csv.line[1] = csv.line[2];
            csv.line[2] = t;
        }
        expect_set(e, ST_BUNDLE_BALLOTS, 0, "Merkle root");
    } else if (strcmp(kind, "duplicate") == 0) {
        text_insert(&b, 1, b.line[0]);
        expect_set(e, ST_BUNDLE_BALLOTS, 2, "seq 1 again");
    } else {
        text_insert(&b, 1, b.line[0]);
        renumber(&b);
        if (have_csv) {
            text_insert(&csv, 2, csv.line[1]);
        }
        count_key = "ballots", delta = 1;
        expect_set(e, ST_BUNDLE_BALLOTS, 2, "the same ballot as line 1");
    }
    int rc = text_write(dir, ST_BUNDLE_BALLOTS, &b);
    if (rc == 0 && fix) {
        rc = fix_manifest(dir, ST_BUNDLE_BALLOTS, count_key, delta);
    }
    if (rc == 0 && fix && have_csv) {
        rc = text_write(dir, ST_BUNDLE_BALLOTS_CSV, &csv);
        rc = rc ? rc : fix_manifest(dir, ST_BUNDLE_BALLOTS_CSV, NULL, 0);
    }
    text_free(&b);
    if (have_csv) {
        text_free(&csv);
    }
    return rc;
}

int tamper_apply(const char *dir, const char *kind, tamper_expect *e) {
    memset(e, 0, sizeof(*e));
    if (strcmp(kind, "swap-key") == 0) {
        return swap_key(dir, e);
    }
    if (strcmp(kind, "swap-owner") == 0) {
        return swap_owner(dir, e);
    }
    if (strcmp(kind, "result") == 0) {
        return alter_result(dir, e);
    }
    for (size_t i = 0; tamper_kinds[i] != NULL; i++) {
        if (strcmp(kind, tamper_kinds[i]) == 0) {
            return tamper_ballots(dir, kind, e);
        }
    }
    fprintf(stderr, "tamper: unknown kind %s\n", kind);
    return -1;
}

int tamper_copy(const char *src, const char *dst) {
    static const char *const names[] = {
        ST_BUNDLE_MANIFEST, ST_BUNDLE_ROLL,  ST_BUNDLE_BALLOTS, ST_BUNDLE_BALLOTS_CSV,
        ST_BUNDLE_KEYS,     ST_BUNDLE_NODES, ST_BUNDLE_STH,     ST_BUNDLE_RESULT,
    };
    char cmd[8400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dst, dst);
    if (system(cmd) != 0) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char a[4096], b[4096];
        snprintf(a, sizeof(a), "%s/%s", src, names[i]);
        snprintf(b, sizeof(b), "%s/%s", dst, names[i]);
        FILE *in = fopen(a, "rb");
        if (in == NULL) {
            continue; /* ballots.csv of an election */
        }
        FILE *out = fopen(b, "wb");
        char buf[65536];
        size_t n;
        while (out != NULL && (n = fread(buf, 1, sizeof(buf), in)) > 0) {
            fwrite(buf, 1, n, out);
        }
        fclose(in);
        if (out == NULL || fclose(out) != 0) {
            return -1;
        }
    }
    return 0;
}
