/* bundle_fixture.c - a synthetic signed bundle (bundle_fixture.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/audit/bundle.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "crypto/merkle_mem.h"
#include "crypto/record.h"
#include "tests/client/bundle_fixture.h"

const st_unit fixture_example_units[12] = {
    {"A-101", "A", 8950, "O1", "王**", ST_UNIT_OWNED},
    {"A-102", "A", 12000, "O2", "李**", ST_UNIT_OWNED},
    {"A-201", "A", 8950, "O3", "张*", ST_UNIT_OWNED},
    {"A-202", "A", 12000, "O1", "王**", ST_UNIT_OWNED},
    {"B-101", "B", 6525, "O4", "刘*", ST_UNIT_OWNED},
    {"B-102", "B", 6525, "O5", "陈*", ST_UNIT_OWNED},
    {"B-201", "B", 14380, "O6", "杨*", ST_UNIT_OWNED},
    {"B-202", "B", 14380, "DEV", "华*******", ST_UNIT_DEVELOPER_UNSOLD},
    {"B-301", "B", 14380, "DEV", "华*******", ST_UNIT_DEVELOPER_UNSOLD},
    {"S-01", "S", 21000, "O7", "赵*", ST_UNIT_OWNED},
    {"S-02", "S", 5500, "O8", "黄*", ST_UNIT_OWNED},
    {"C-101", "C", 9860, "O9", "周*;吴*", ST_UNIT_OWNED},
};

const fixture_ballot fixture_example_ballots[FIXTURE_EXAMPLE_BALLOTS] = {
    {"O1", ST_CHOICE_AGREE, false},     {"O2", ST_CHOICE_AGREE, false},
    {"O3", ST_CHOICE_AGREE, false},     {"O4", ST_CHOICE_AGREE, false},
    {"O5", ST_CHOICE_ABSTAIN, true},    {"O6", ST_CHOICE_AGREE, false},
    {"O7", ST_CHOICE_AGREE, false},     {"O9", ST_CHOICE_AGREE, false},
    {"DEV", ST_CHOICE_DISAGREE, false}, {"O3", ST_CHOICE_DISAGREE, false},
};

/* A key derived from a label: the same owner always gets the same key. */
static void key_of(const char *label, uint8_t pk[ST_SIGN_PK_LEN], uint8_t sk[ST_SIGN_SK_LEN]) {
    uint8_t seed[32];
    st_hash_part parts[2] = {{"fixture-key", 11}, {label, strlen(label)}};
    st_hash_sha256v(seed, parts, 2);
    st_sign_keypair_from_seed(pk, sk, seed);
}

typedef struct {
    st_bundle_writer *w;
    st_merkle_mem *log;
    st_roll *roll;
    char err[512];
} fixture;

static int sign_ballot(fixture *f, size_t i, const fixture_ballot *fb, uint64_t cast_ms) {
    uint8_t pk[ST_SIGN_PK_LEN], sk[ST_SIGN_SK_LEN];
    key_of(fb->paper ? "organiser" : fb->owner, pk, sk);
    st_record r;
    memset(&r, 0, sizeof(r));
    r.ballot.community_id = FIXTURE_COMMUNITY;
    r.ballot.vote_id = FIXTURE_VOTE;
    snprintf(r.ballot.owner_id, sizeof(r.ballot.owner_id), "%s", fb->owner);
    r.ballot.kind = ST_BALLOT_KIND_CHOICE;
    r.ballot.choice = (uint8_t)fb->choice;
    uint64_t n = i + 1;
    memcpy(r.ballot.nonce, &n, sizeof(n));
    r.ballot.nonce[15] = 0xa5;
    r.ballot.cast_ms = cast_ms;
    st_key_id(r.ballot.key_id, pk);
    r.source = fb->paper ? ST_SOURCE_PAPER : ST_SOURCE_ONLINE;
    if (fb->paper) {
        st_hash_sha256(r.scan_sha256, fb->owner, strlen(fb->owner));
    }
    uint8_t bytes[ST_RECORD_MAX_LEN], leaf[32];
    size_t len = 0;
    int rc = st_record_sign(&r, sk, f->err, sizeof(f->err));
    rc = rc ? rc : st_record_encode_buf(&r, bytes, &len, f->err, sizeof(f->err));
    if (rc == ST_OK) {
        st_merkle_leaf_hash(leaf, bytes, len);
        rc = st_merkle_mem_append(f->log, leaf);
    }
    return rc ? rc
              : st_bundle_add_ballot(f->w, n, i, fb->owner, bytes, len, f->err, sizeof(f->err));
}

static const fixture_ballot *sort_base;

static int by_owner(const void *a, const void *b) {
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int d = strcmp(sort_base[i].owner, sort_base[j].owner);
    return d != 0 ? d : (i > j) - (i < j);
}

static int add_key(fixture *f, const char *label, int role, const char *owner, uint64_t ms) {
    st_bundle_key k;
    uint8_t sk[ST_SIGN_SK_LEN];
    memset(&k, 0, sizeof(k));
    key_of(label, k.public_key, sk);
    st_key_id(k.key_id, k.public_key);
    k.role = role;
    k.community_id = FIXTURE_COMMUNITY;
    k.owner_id = owner;
    k.registered_ms = ms;
    return st_bundle_add_key(f->w, &k, f->err, sizeof(f->err));
}

/* Keys: one for every owner who cast online (in order of their first ballot), and the
 * organiser's when a paper ballot exists. */
static int add_keys(fixture *f, const fixture_ballot *b, size_t n) {
    size_t *idx = malloc((n > 0 ? n : 1) * sizeof(*idx));
    bool *first = calloc(n > 0 ? n : 1, sizeof(*first));
    if (idx == NULL || first == NULL) {
        free(idx);
        free(first);
        return ST_ENOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!b[i].paper) {
            idx[m++] = i;
        }
    }
    sort_base = b;
    qsort(idx, m, sizeof(*idx), by_owner);
    for (size_t k = 0; k < m; k++) {
        first[idx[k]] = k == 0 || strcmp(b[idx[k]].owner, b[idx[k - 1]].owner) != 0;
    }
    int rc = ST_OK;
    bool paper = false;
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        paper |= b[i].paper;
        if (first[i]) {
            rc = add_key(f, b[i].owner, ST_BUNDLE_ROLE_OWNER, b[i].owner, 1700000000000ULL);
        }
    }
    free(idx);
    free(first);
    if (rc == ST_OK && paper) {
        rc = add_key(f, "organiser", ST_BUNDLE_ROLE_ORGANISER, "", 1699999999000ULL);
    }
    return rc;
}

/* The count as the service keeps it: the last ballot of each owner. */
static int add_result(fixture *f, const fixture_ballot *b, size_t n) {
    size_t nv = st_roll_voter_count(f->roll);
    st_tally t;
    st_tally_init(&t, (st_weight){st_roll_total_area(f->roll), st_roll_total_owners(f->roll)});
    st_choice *cur = calloc(nv, sizeof(*cur));
    if (cur == NULL) {
        return ST_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        long v = st_roll_find_voter(f->roll, b[i].owner);
        if (v < 0) {
            free(cur);
            return ST_ENOENT;
        }
        st_tally_change(&t, st_roll_voter(f->roll, (size_t)v)->area, cur[v],
                        (st_choice)b[i].choice);
        cur[v] = (st_choice)b[i].choice;
    }
    free(cur);
    st_result r;
    memset(&r, 0, sizeof(r));
    r.vote_id = FIXTURE_VOTE;
    r.matter = 4;
    r.state = "published";
    r.tally = t;
    r.decision = st_tally_decide(&t, ST_CLASS_ORDINARY);
    r.ballot_count = n;
    return st_bundle_set_result(f->w, &r, f->err, sizeof(f->err));
}

int fixture_write(const char *dir, const st_unit *units, size_t n_units, const fixture_ballot *b,
                  size_t n_ballots, bool progress) {
    fixture f;
    memset(&f, 0, sizeof(f));
    st_crypto_init();
    st_bundle_vote v = {
        .vote_id = FIXTURE_VOTE,
        .community_id = FIXTURE_COMMUNITY,
        .matter = 4,
        .title = "Hire the property service company",
        .state = "published",
        .roll_version = 1,
        .exported_ms = 1700000100000ULL,
    };
    int rc = st_bundle_create(dir, &v, &f.w, f.err, sizeof(f.err));
    rc = rc ? rc : st_merkle_mem_init(&f.log);
    rc = rc ? rc : st_roll_new(&f.roll);
    for (size_t i = 0; rc == ST_OK && i < n_units; i++) {
        rc = st_bundle_add_unit(f.w, &units[i], f.err, sizeof(f.err));
        rc = rc ? rc : st_roll_add_unit(f.roll, &units[i], f.err, sizeof(f.err));
    }
    rc = rc ? rc : st_roll_seal(f.roll, f.err, sizeof(f.err));
    for (size_t i = 0; rc == ST_OK && i < n_ballots; i++) {
        rc = sign_ballot(&f, i, &b[i], 1700000050000ULL + i);
        if (progress && i % 10000 == 9999) {
            fputc('.', stderr);
        }
    }
    rc = rc ? rc : add_keys(&f, b, n_ballots);
    uint8_t npk[ST_SIGN_PK_LEN], nsk[ST_SIGN_SK_LEN];
    key_of("node", npk, nsk);
    rc = rc ? rc : st_bundle_add_node(f.w, FIXTURE_NODE, npk, f.err, sizeof(f.err));
    if (rc == ST_OK) {
        st_sth s;
        memset(&s, 0, sizeof(s));
        s.vote_id = FIXTURE_VOTE;
        s.tree_size = st_merkle_mem_size(f.log);
        st_merkle_mem_root(f.log, s.root);
        s.timestamp_ms = 1700000090000ULL;
        s.node_id = FIXTURE_NODE;
        uint8_t raw[ST_STH_LEN];
        rc = st_sth_sign(&s, nsk, f.err, sizeof(f.err));
        st_sth_encode(&s, raw);
        rc = rc ? rc : st_bundle_set_sth(f.w, raw, f.err, sizeof(f.err));
    }
    rc = rc ? rc : add_result(&f, b, n_ballots);
    if (rc == ST_OK) {
        rc = st_bundle_finish(f.w, f.err, sizeof(f.err));
    } else {
        st_bundle_abort(f.w);
    }
    if (rc != ST_OK) {
        fprintf(stderr, "fixture_write: %s (%s)\n", f.err, st_strerror(rc));
    }
    st_merkle_mem_free(f.log);
    st_roll_free(f.roll);
    return rc;
}
