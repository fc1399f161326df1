/* test_ballot.c - ballots and signed ballot records: round trips, strict decoding (every
 * truncation, trailing bytes, bad versions/kinds/choices, unsorted or duplicate approvals,
 * bad or over-long strings), signing, and that signatures do not cross domains or sources. */
#include "check.h"

#include "core/error.h"
#include "crypto/ballot.h"
#include "crypto/crypto.h"
#include "crypto/merkle.h"
#include "crypto/record.h"

static uint8_t owner_pk[32], owner_sk[64], org_pk[32], org_sk[64];

static void keys(void) {
    uint8_t seed[32];
    memset(seed, 1, 32);
    CHECK(st_sign_keypair_from_seed(owner_pk, owner_sk, seed) == ST_OK);
    memset(seed, 2, 32);
    CHECK(st_sign_keypair_from_seed(org_pk, org_sk, seed) == ST_OK);
}

static st_ballot choice_ballot(void) {
    st_ballot b;
    memset(&b, 0, sizeof b);
    b.community_id = 7;
    b.vote_id = 0x0102030405060708ULL;
    strcpy(b.owner_id, "\xe5\xbc\xa0\xe4\xb8\x89-A101"); /* 张三-A101 */
    b.kind = ST_BALLOT_KIND_CHOICE;
    b.choice = ST_CHOICE_AGREE;
    memset(b.nonce, 0xee, sizeof b.nonce);
    b.cast_ms = 1700000000123ULL;
    st_key_id(b.key_id, owner_pk);
    return b;
}

static st_ballot approval_ballot(unsigned n) {
    st_ballot b = choice_ballot();
    b.kind = ST_BALLOT_KIND_APPROVAL;
    b.choice = 0;
    b.n_approvals = (uint8_t)n;
    for (unsigned i = 0; i < n; i++)
        b.approvals[i] = i == 10 ? 0xfffffff0u : i * 3 + 1;
    return b;
}

/* Decoding every proper prefix fails; decoding with one byte more fails. */
static void check_strict(int (*decode)(const uint8_t *, size_t), const uint8_t *buf, size_t len) {
    uint8_t tmp[512];
    CHECK(len < sizeof tmp);
    memcpy(tmp, buf, len);
    for (size_t cut = 0; cut < len; cut++)
        CHECK(decode(tmp, cut) == ST_EINVAL);
    tmp[len] = 0;
    CHECK(decode(tmp, len + 1) == ST_EINVAL);
    CHECK(decode(tmp, len) == ST_OK);
}

/* Field-by-field equality (bytes after a string's NUL and padding do not count). */
static int ballot_eq(const st_ballot *a, const st_ballot *b) {
    return a->community_id == b->community_id && a->vote_id == b->vote_id &&
           strcmp(a->owner_id, b->owner_id) == 0 && a->kind == b->kind && a->choice == b->choice &&
           a->n_approvals == b->n_approvals &&
           memcmp(a->approvals, b->approvals, a->n_approvals * sizeof(uint32_t)) == 0 &&
           memcmp(a->nonce, b->nonce, 16) == 0 && a->cast_ms == b->cast_ms &&
           memcmp(a->key_id, b->key_id, 16) == 0;
}

static int record_eq(const st_record *a, const st_record *b) {
    return ballot_eq(&a->ballot, &b->ballot) && memcmp(a->pubkey, b->pubkey, 32) == 0 &&
           memcmp(a->sig, b->sig, 64) == 0 && a->source == b->source &&
           memcmp(a->scan_sha256, b->scan_sha256, 32) == 0 && a->proxy == b->proxy &&
           strcmp(a->proxy_owner_id, b->proxy_owner_id) == 0;
}

static int decode_ballot(const uint8_t *buf, size_t len) {
    st_ballot b;
    return st_ballot_decode(&b, buf, len, NULL, 0);
}

static int decode_record(const uint8_t *buf, size_t len) {
    st_record r;
    return st_record_decode(&r, buf, len, NULL, 0);
}

static void roundtrip_ballot(const st_ballot *b) {
    uint8_t buf[ST_BALLOT_MAX_LEN], buf2[ST_BALLOT_MAX_LEN];
    size_t len, len2;
    st_ballot d;
    char err[128];

    CHECK(st_ballot_encode_buf(b, buf, &len, err, sizeof err) == ST_OK);
    CHECK(st_ballot_decode(&d, buf, len, err, sizeof err) == ST_OK);
    CHECK(ballot_eq(&d, b));
    CHECK(st_ballot_encode_buf(&d, buf2, &len2, err, sizeof err) == ST_OK);
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    check_strict(decode_ballot, buf, len);
}

static void test_ballot_roundtrip(void) {
    st_ballot b = choice_ballot();
    roundtrip_ballot(&b);
    b.choice = ST_CHOICE_DISAGREE;
    roundtrip_ballot(&b);
    b.choice = ST_CHOICE_ABSTAIN;
    strcpy(b.owner_id, "O");
    roundtrip_ballot(&b);
    memset(b.owner_id, 'x', ST_OWNER_ID_MAX);
    b.owner_id[ST_OWNER_ID_MAX] = 0;
    roundtrip_ballot(&b);
    for (unsigned n = 0; n <= ST_BALLOT_MAX_APPROVALS; n++) {
        b = approval_ballot(n);
        roundtrip_ballot(&b);
    }
    /* The longest ballot is ST_BALLOT_MAX_LEN bytes. */
    {
        uint8_t buf[ST_BALLOT_MAX_LEN];
        size_t len;
        memset(b.owner_id, 'y', ST_OWNER_ID_MAX);
        b.owner_id[ST_OWNER_ID_MAX] = 0;
        CHECK(st_ballot_encode_buf(&b, buf, &len, NULL, 0) == ST_OK);
        CHECK(len == ST_BALLOT_MAX_LEN);
    }
}

/* Sets byte `at` of a copy of buf to value and expects decode to fail with a message
 * naming byte err_at, and the output zeroed. Returns 1 when all that holds. */
static int rejects(const uint8_t *buf, size_t len, size_t at, uint8_t value, size_t err_at) {
    uint8_t tmp[ST_BALLOT_MAX_LEN + 8];
    char err[128], want[32];
    st_ballot d;
    memcpy(tmp, buf, len);
    tmp[at] = value;
    snprintf(want, sizeof want, "byte %zu:", err_at);
    return st_ballot_decode(&d, tmp, len, err, sizeof err) == ST_EINVAL &&
           strstr(err, want) != NULL && d.kind == 0 && d.owner_id[0] == 0;
}
#define expect_reject(buf, len, at, value, err_at) CHECK(rejects(buf, len, at, value, err_at))

static void test_ballot_reject(void) {
    st_ballot b = choice_ballot();
    uint8_t buf[ST_BALLOT_MAX_LEN];
    size_t len, own; /* own: offset of the owner_id length */
    char err[128];

    CHECK(st_ballot_encode_buf(&b, buf, &len, NULL, 0) == ST_OK);
    own = 17;
    size_t kind_at = own + 2 + strlen(b.owner_id);
    expect_reject(buf, len, 0, 2, 0);                     /* version 2 */
    expect_reject(buf, len, 0, 0, 0);                     /* version 0 */
    expect_reject(buf, len, kind_at, 0, kind_at);         /* kind 0 */
    expect_reject(buf, len, kind_at, 3, kind_at);         /* kind 3 */
    expect_reject(buf, len, kind_at + 1, 0, kind_at + 1); /* choice 0 */
    expect_reject(buf, len, kind_at + 1, 4, kind_at + 1); /* choice 4 */
    expect_reject(buf, len, own + 1, 0, own);             /* empty owner_id (then trailing) */
    expect_reject(buf, len, own + 1, 65, own);            /* over-long owner_id */
    expect_reject(buf, len, own, 1, own);                 /* length 256+: over-long */
    expect_reject(buf, len, own + 2, 0x0a, own);          /* control character */
    expect_reject(buf, len, own + 2, 0xff, own);          /* not UTF-8 */

    /* Kind switched to approval: the choice byte becomes a count. */
    {
        st_ballot a = approval_ballot(3);
        size_t cnt = kind_at + 1;
        CHECK(st_ballot_encode_buf(&a, buf, &len, NULL, 0) == ST_OK);
        expect_reject(buf, len, cnt, 12, cnt);           /* 12 approvals */
        expect_reject(buf, len, cnt + 8, 0x00, cnt + 5); /* approvals[1] = 0 < approvals[0] */
        /* duplicate: approvals[1] := approvals[0] */
        {
            uint8_t tmp[ST_BALLOT_MAX_LEN];
            st_ballot d;
            memcpy(tmp, buf, len);
            memcpy(tmp + cnt + 5, tmp + cnt + 1, 4);
            CHECK(st_ballot_decode(&d, tmp, len, err, sizeof err) == ST_EINVAL);
            CHECK(strstr(err, "unsorted or duplicated") != NULL);
        }
        /* Encoding refuses the same non-canonical sets. */
        a.approvals[1] = a.approvals[0];
        CHECK(st_ballot_encode_buf(&a, buf, &len, err, sizeof err) == ST_EINVAL);
        a.approvals[1] = a.approvals[0] - 1;
        CHECK(st_ballot_encode_buf(&a, buf, &len, err, sizeof err) == ST_EINVAL);
        a = approval_ballot(3);
        a.n_approvals = 12;
        CHECK(st_ballot_encode_buf(&a, buf, &len, err, sizeof err) == ST_EINVAL);
        a = approval_ballot(3);
        a.choice = 1;
        CHECK(st_ballot_encode_buf(&a, buf, &len, err, sizeof err) == ST_EINVAL);
    }
    b = choice_ballot();
    b.n_approvals = 1;
    CHECK(st_ballot_encode_buf(&b, buf, &len, err, sizeof err) == ST_EINVAL);
    b = choice_ballot();
    b.choice = 0;
    CHECK(st_ballot_encode_buf(&b, buf, &len, err, sizeof err) == ST_EINVAL);
    b = choice_ballot();
    b.kind = 9;
    CHECK(st_ballot_encode_buf(&b, buf, &len, err, sizeof err) == ST_EINVAL);
    b = choice_ballot();
    b.owner_id[0] = 0;
    CHECK(st_ballot_encode_buf(&b, buf, &len, err, sizeof err) == ST_EINVAL);
    b = choice_ballot();
    memset(b.owner_id, 'z', sizeof b.owner_id); /* no NUL within 65 bytes */
    CHECK(st_ballot_encode_buf(&b, buf, &len, err, sizeof err) == ST_EINVAL);
    b = choice_ballot();
    strcpy(b.owner_id, "bad\x01id");
    CHECK(st_ballot_encode_buf(&b, buf, &len, err, sizeof err) == ST_EINVAL);
}

static void test_ballot_sign(void) {
    st_ballot b = choice_ballot();
    uint8_t sig[64];
    char err[128];

    CHECK(st_ballot_sign(&b, owner_sk, sig, err, sizeof err) == ST_OK);
    CHECK(st_ballot_verify(&b, owner_pk, sig, err, sizeof err) == ST_OK);
    CHECK(st_ballot_verify(&b, org_pk, sig, err, sizeof err) == ST_EAUTH); /* key id */
    b.choice = ST_CHOICE_DISAGREE;
    CHECK(st_ballot_verify(&b, owner_pk, sig, err, sizeof err) == ST_EAUTH);
    b = choice_ballot();
    CHECK(st_ballot_sign(&b, org_sk, sig, err, sizeof err) == ST_EINVAL); /* not its key id */
    /* A ballot signature is over the ballot domain only. */
    {
        uint8_t buf[ST_BALLOT_MAX_LEN];
        size_t len;
        CHECK(st_ballot_sign(&b, owner_sk, sig, NULL, 0) == ST_OK);
        CHECK(st_ballot_encode_buf(&b, buf, &len, NULL, 0) == ST_OK);
        CHECK(st_sign_verify(sig, ST_DOMAIN_BALLOT, buf, len, owner_pk, NULL, 0) == ST_OK);
        CHECK(st_sign_verify(sig, ST_DOMAIN_PAPER, buf, len, owner_pk, NULL, 0) == ST_EAUTH);
        CHECK(st_sign_verify(sig, ST_DOMAIN_REQUEST, buf, len, owner_pk, NULL, 0) == ST_EAUTH);
        CHECK(st_sign_verify(sig, ST_DOMAIN_STH, buf, len, owner_pk, NULL, 0) == ST_EAUTH);
    }
}

static void roundtrip_record(const st_record *r) {
    uint8_t buf[ST_RECORD_MAX_LEN], buf2[ST_RECORD_MAX_LEN], leaf[32], leaf2[32];
    size_t len, len2;
    st_record d;
    char err[128];

    CHECK(st_record_encode_buf(r, buf, &len, err, sizeof err) == ST_OK);
    CHECK(st_record_decode(&d, buf, len, err, sizeof err) == ST_OK);
    CHECK(record_eq(&d, r));
    CHECK(st_record_encode_buf(&d, buf2, &len2, err, sizeof err) == ST_OK);
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    CHECK(st_record_verify(&d, err, sizeof err) == ST_OK);
    CHECK(st_record_leaf_hash(&d, leaf, NULL, 0) == ST_OK);
    st_merkle_leaf_hash(leaf2, buf, len);
    CHECK(memcmp(leaf, leaf2, 32) == 0);
    check_strict(decode_record, buf, len);
}

static void test_record(void) {
    st_record r, t;
    uint8_t buf[ST_RECORD_MAX_LEN], tmp[ST_RECORD_MAX_LEN + 1];
    size_t len;
    char err[128];

    /* Online, own ballot. */
    memset(&r, 0, sizeof r);
    r.ballot = choice_ballot();
    r.source = ST_SOURCE_ONLINE;
    CHECK(st_record_sign(&r, owner_sk, err, sizeof err) == ST_OK);
    CHECK(memcmp(r.pubkey, owner_pk, 32) == 0);
    roundtrip_record(&r);
    /* Its signature is exactly the ballot signature. */
    {
        uint8_t sig[64];
        CHECK(st_ballot_sign(&r.ballot, owner_sk, sig, NULL, 0) == ST_OK);
        CHECK(memcmp(sig, r.sig, 64) == 0);
    }
    /* Online, proxy ballot: owner_id is the principal, the proxy signs and is named. */
    t = r;
    t.proxy = 1;
    strcpy(t.proxy_owner_id, "O2");
    CHECK(st_record_sign(&t, owner_sk, err, sizeof err) == ST_OK);
    roundtrip_record(&t);
    strcpy(t.proxy_owner_id, t.ballot.owner_id);
    CHECK(st_record_encode_buf(&t, buf, &len, err, sizeof err) == ST_EINVAL);

    /* Paper ballot, entered by an organiser, approval kind, with a proxy. */
    memset(&t, 0, sizeof t);
    t.ballot = approval_ballot(5);
    st_key_id(t.ballot.key_id, org_pk);
    t.source = ST_SOURCE_PAPER;
    memset(t.scan_sha256, 0x5c, 32);
    t.proxy = 1;
    strcpy(t.proxy_owner_id, "\xe6\x9d\x8e\xe5\x9b\x9b"); /* 李四 */
    CHECK(st_record_sign(&t, org_sk, err, sizeof err) == ST_OK);
    roundtrip_record(&t);
    /* The organiser's signature binds the scan hash ... */
    {
        st_record x = t;
        x.scan_sha256[31] ^= 1;
        CHECK(st_record_verify(&x, err, sizeof err) == ST_EAUTH);
    }
    /* ... and a paper entry cannot pass as an online ballot, nor the reverse. */
    {
        st_record x = t;
        x.source = ST_SOURCE_ONLINE;
        memset(x.scan_sha256, 0, 32);
        CHECK(st_record_verify(&x, err, sizeof err) == ST_EAUTH);
        x = r;
        x.source = ST_SOURCE_PAPER;
        CHECK(st_record_verify(&x, err, sizeof err) == ST_EAUTH);
    }
    /* Tampering with any signed field fails verification. */
    {
        st_record x = r;
        x.ballot.vote_id++;
        CHECK(st_record_verify(&x, err, sizeof err) == ST_EAUTH);
        x = r;
        x.ballot.nonce[0] ^= 1;
        CHECK(st_record_verify(&x, err, sizeof err) == ST_EAUTH);
        x = r;
        x.sig[63] ^= 0x10;
        CHECK(st_record_verify(&x, err, sizeof err) == ST_EAUTH);
        x = r;
        memcpy(x.pubkey, org_pk, 32); /* key id no longer matches */
        CHECK(st_record_verify(&x, err, sizeof err) == ST_EAUTH);
        x = r;
        st_key_id(x.ballot.key_id, org_pk);
        memcpy(x.pubkey, org_pk, 32); /* consistent key id, but not the signer */
        CHECK(st_record_verify(&x, err, sizeof err) == ST_EAUTH);
        x = r;
        CHECK(st_record_sign(&x, org_sk, err, sizeof err) == ST_EINVAL);
    }
    /* Structural rejections on decode. */
    CHECK(st_record_encode_buf(&r, buf, &len, NULL, 0) == ST_OK);
    memcpy(tmp, buf, len);
    tmp[0] = 2;
    CHECK(st_record_decode(&t, tmp, len, err, sizeof err) == ST_EINVAL);
    CHECK(strstr(err, "byte 0: unknown record version") != NULL);
    memcpy(tmp, buf, len);
    tmp[len - 2] = 3; /* source */
    CHECK(st_record_decode(&t, tmp, len, err, sizeof err) == ST_EINVAL);
    memcpy(tmp, buf, len);
    tmp[len - 1] = 2; /* proxy flag */
    CHECK(st_record_decode(&t, tmp, len, err, sizeof err) == ST_EINVAL);
    /* An error inside the embedded ballot is reported at its record offset. */
    memcpy(tmp, buf, len);
    tmp[3] = 9; /* ballot version */
    CHECK(st_record_decode(&t, tmp, len, err, sizeof err) == ST_EINVAL);
    CHECK(strstr(err, "byte 3: unknown ballot version") != NULL);
    /* The ballot must fill its length prefix exactly: lengthen it by one byte. */
    {
        size_t blen = (size_t)buf[1] << 8 | buf[2];
        memcpy(tmp, buf, 3 + blen);
        tmp[2] = (uint8_t)(blen + 1);
        tmp[3 + blen] = 0;
        memcpy(tmp + 4 + blen, buf + 3 + blen, len - 3 - blen);
        CHECK(st_record_decode(&t, tmp, len + 1, err, sizeof err) == ST_EINVAL);
        CHECK(strstr(err, "trailing bytes") != NULL);
    }
    /* Encode checks unused fields are zero. */
    t = r;
    t.scan_sha256[0] = 1;
    CHECK(st_record_encode_buf(&t, buf, &len, err, sizeof err) == ST_EINVAL);
    t = r;
    t.proxy_owner_id[0] = 'x';
    CHECK(st_record_encode_buf(&t, buf, &len, err, sizeof err) == ST_EINVAL);
    t = r;
    t.source = 0;
    CHECK(st_record_encode_buf(&t, buf, &len, err, sizeof err) == ST_EINVAL);
}

int main(void) {
    CHECK(st_crypto_init() == ST_OK);
    keys();
    test_ballot_roundtrip();
    test_ballot_reject();
    test_ballot_sign();
    test_record();
    printf("ballot and record: ok\n");
    return 0;
}
