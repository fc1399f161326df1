/* test_sth_receipt.c - signed tree heads and receipts: round trips, strict decoding, offline
 * verification against trusted node keys, each tampered field failing, and a receipt's
 * inclusion proof checked against its tree head. */
#include "check.h"

#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/merkle.h"
#include "crypto/merkle_mem.h"
#include "crypto/receipt.h"
#include "crypto/record.h"
#include "crypto/sth.h"

static uint8_t node_pk[3][32], node_sk[3][64], owner_pk[32], owner_sk[64];
static st_trusted_key trusted[3];

static void keys(void) {
    uint8_t seed[32];
    for (int i = 0; i < 3; i++) {
        memset(seed, 0x10 + i, 32);
        CHECK(st_sign_keypair_from_seed(node_pk[i], node_sk[i], seed) == ST_OK);
        trusted[i].node_id = 100 + (uint64_t)i;
        memcpy(trusted[i].pubkey, node_pk[i], 32);
    }
    memset(seed, 0x42, 32);
    CHECK(st_sign_keypair_from_seed(owner_pk, owner_sk, seed) == ST_OK);
}

static int decode_sth(const uint8_t *buf, size_t len) {
    st_sth s;
    return st_sth_decode(&s, buf, len, NULL, 0);
}

static int decode_receipt(const uint8_t *buf, size_t len) {
    st_receipt r;
    return st_receipt_decode(&r, buf, len, NULL, 0);
}

static void check_strict(int (*decode)(const uint8_t *, size_t), const uint8_t *buf, size_t len) {
    uint8_t tmp[512];
    memcpy(tmp, buf, len);
    for (size_t cut = 0; cut < len; cut++)
        CHECK(decode(tmp, cut) == ST_EINVAL);
    tmp[len] = 0;
    CHECK(decode(tmp, len + 1) == ST_EINVAL);
    CHECK(decode(tmp, len) == ST_OK);
    tmp[0] = 2;
    CHECK(decode(tmp, len) == ST_EINVAL);
}

static void test_sth(void) {
    st_sth s, d;
    uint8_t buf[ST_STH_LEN], buf2[ST_STH_LEN];
    char err[128];

    memset(&s, 0, sizeof s);
    s.vote_id = 9;
    s.tree_size = 1234;
    memset(s.root, 0xab, 32);
    s.timestamp_ms = 1700000000000ULL;
    s.node_id = 101;
    CHECK(st_sth_sign(&s, node_sk[1], err, sizeof err) == ST_OK);
    CHECK(st_sth_verify(&s, trusted, 3, err, sizeof err) == ST_OK);
    st_sth_encode(&s, buf);
    CHECK(buf[0] == 1 && buf[8] == 9 && buf[15] == 0x04 && buf[16] == 0xd2);
    CHECK(st_sth_decode(&d, buf, sizeof buf, err, sizeof err) == ST_OK);
    CHECK(memcmp(&d, &s, sizeof d) == 0);
    st_sth_encode(&d, buf2);
    CHECK(memcmp(buf, buf2, sizeof buf) == 0);
    check_strict(decode_sth, buf, sizeof buf);

    /* Each field is covered by the signature. */
    for (int field = 0; field < 6; field++) {
        d = s;
        switch (field) {
        case 0:
            d.vote_id++;
            break;
        case 1:
            d.tree_size--;
            break;
        case 2:
            d.root[5] ^= 1;
            break;
        case 3:
            d.timestamp_ms++;
            break;
        case 4:
            d.node_id = 102;
            break; /* another trusted node's key: no */
        case 5:
            d.sig[0] ^= 1;
            break;
        }
        CHECK(st_sth_verify(&d, trusted, 3, err, sizeof err) == ST_EAUTH);
    }
    /* Untrusted node, empty trust list, and a trust list with the wrong key for the id. */
    d = s;
    d.node_id = 7;
    CHECK(st_sth_verify(&d, trusted, 3, err, sizeof err) == ST_EAUTH);
    CHECK(strstr(err, "not trusted") != NULL);
    CHECK(st_sth_verify(&s, trusted, 0, err, sizeof err) == ST_EAUTH);
    {
        st_trusted_key wrong[2] = {trusted[0], trusted[2]};
        wrong[1].node_id = 101; /* node 101 claimed with node 102's key */
        CHECK(st_sth_verify(&s, wrong, 2, err, sizeof err) == ST_EAUTH);
        wrong[0] = trusted[1]; /* a second entry for 101 with the right key is accepted */
        CHECK(st_sth_verify(&s, wrong, 2, err, sizeof err) == ST_OK);
    }
    /* An STH signature is not a signature of anything else. */
    st_sth_tbs(&s, buf);
    CHECK(st_sign_verify(s.sig, ST_DOMAIN_STH, buf, ST_STH_TBS_LEN, node_pk[1], NULL, 0) == ST_OK);
    CHECK(st_sign_verify(s.sig, ST_DOMAIN_RECEIPT, buf, ST_STH_TBS_LEN, node_pk[1], NULL, 0) ==
          ST_EAUTH);
}

/* Builds a log of 10 online ballot records and returns the record bytes of leaf 6. */
static void make_log(st_merkle_mem *log, uint8_t *rec6, size_t *rec6_len) {
    for (int i = 0; i < 10; i++) {
        st_record r;
        uint8_t buf[ST_RECORD_MAX_LEN], leaf[32];
        size_t len;
        memset(&r, 0, sizeof r);
        r.ballot.community_id = 1;
        r.ballot.vote_id = 9;
        snprintf(r.ballot.owner_id, sizeof r.ballot.owner_id, "O%d", i + 1);
        r.ballot.kind = ST_BALLOT_KIND_CHOICE;
        r.ballot.choice = (uint8_t)(1 + i % 3);
        r.ballot.nonce[0] = (uint8_t)i;
        r.ballot.cast_ms = 1700000000000ULL + (uint64_t)i;
        st_key_id(r.ballot.key_id, owner_pk);
        r.source = ST_SOURCE_ONLINE;
        CHECK(st_record_sign(&r, owner_sk, NULL, 0) == ST_OK);
        CHECK(st_record_encode_buf(&r, buf, &len, NULL, 0) == ST_OK);
        st_merkle_leaf_hash(leaf, buf, len);
        CHECK(st_merkle_mem_append(log, leaf) == ST_OK);
        if (i == 6) {
            memcpy(rec6, buf, len);
            *rec6_len = len;
        }
    }
}

static void test_receipt(void) {
    st_merkle_mem *log;
    st_receipt rc, d;
    uint8_t rec[ST_RECORD_MAX_LEN], buf[ST_RECEIPT_LEN], buf2[ST_RECEIPT_LEN];
    uint8_t proof[ST_MERKLE_MAX_PROOF * 32];
    size_t rec_len = 0, n;
    char err[160];

    CHECK(st_merkle_mem_init(&log) == ST_OK);
    make_log(log, rec, &rec_len);

    memset(&rc, 0, sizeof rc);
    st_merkle_leaf_hash(rc.leaf_hash, rec, rec_len);
    rc.leaf_index = 6;
    rc.sth.vote_id = 9;
    rc.sth.tree_size = 7; /* the receipt is given when leaf 6 is the newest */
    CHECK(st_merkle_root_at(7, st_merkle_mem_get_node, log, rc.sth.root) == ST_OK);
    rc.sth.timestamp_ms = 1700000000500ULL;
    rc.sth.node_id = 100;
    CHECK(st_sth_sign(&rc.sth, node_sk[0], err, sizeof err) == ST_OK);
    CHECK(st_receipt_sign(&rc, node_sk[0], err, sizeof err) == ST_OK);

    /* It verifies offline, alone and with the record. */
    CHECK(st_receipt_verify(&rc, trusted, 3, NULL, 0, err, sizeof err) == ST_OK);
    CHECK(st_receipt_verify(&rc, trusted, 3, rec, rec_len, err, sizeof err) == ST_OK);
    /* Encoding round-trips and is strict. */
    st_receipt_encode(&rc, buf);
    CHECK(st_receipt_decode(&d, buf, sizeof buf, err, sizeof err) == ST_OK);
    CHECK(memcmp(&d, &rc, sizeof d) == 0);
    st_receipt_encode(&d, buf2);
    CHECK(memcmp(buf, buf2, sizeof buf) == 0);
    check_strict(decode_receipt, buf, sizeof buf);
    buf2[41] = 7; /* the embedded STH's version */
    CHECK(st_receipt_decode(&d, buf2, sizeof buf2, err, sizeof err) == ST_EINVAL);
    CHECK(strstr(err, "byte 41: unknown tree head version") != NULL);

    /* Inclusion: at the receipt's size, and (via consistency) in the later tree. */
    CHECK(st_merkle_inclusion_proof(6, 7, st_merkle_mem_get_node, log, proof, ST_MERKLE_MAX_PROOF,
                                    &n) == ST_OK);
    CHECK(st_receipt_verify_inclusion(&rc, proof, n, err, sizeof err) == ST_OK);
    proof[0] ^= 1;
    CHECK(st_receipt_verify_inclusion(&rc, proof, n, err, sizeof err) == ST_ECORRUPT);

    /* Each tampered field fails. */
    for (int field = 0; field < 10; field++) {
        int want = ST_EAUTH;
        d = rc;
        switch (field) {
        case 0:
            d.leaf_hash[0] ^= 1;
            break;
        case 1:
            d.leaf_index = 5;
            break;
        case 2:
            d.leaf_index = 7;
            want = ST_EINVAL;
            break; /* outside the tree */
        case 3:
            d.sth.vote_id = 8;
            break;
        case 4:
            d.sth.tree_size = 8;
            break;
        case 5:
            d.sth.root[31] ^= 1;
            break;
        case 6:
            d.sth.timestamp_ms--;
            break;
        case 7:
            d.sth.node_id = 101;
            break;
        case 8:
            d.sth.sig[5] ^= 1;
            break;
        case 9:
            d.sig[5] ^= 1;
            break;
        }
        CHECK(st_receipt_verify(&d, trusted, 3, NULL, 0, err, sizeof err) == want);
    }
    /* Signed by a key other than the tree head's node: no. */
    d = rc;
    CHECK(st_receipt_sign(&d, node_sk[1], NULL, 0) == ST_OK);
    CHECK(st_receipt_verify(&d, trusted, 3, NULL, 0, err, sizeof err) == ST_EAUTH);
    /* An untrusted node key: no. */
    CHECK(st_receipt_verify(&rc, trusted + 1, 2, NULL, 0, err, sizeof err) == ST_EAUTH);
    /* The wrong record, a malformed record, a record of another vote. */
    rec[rec_len - 3] ^= 1; /* inside the signature: still well-formed */
    CHECK(st_receipt_verify(&rc, trusted, 3, rec, rec_len, err, sizeof err) == ST_ECORRUPT);
    rec[rec_len - 3] ^= 1;
    CHECK(st_receipt_verify(&rc, trusted, 3, rec, rec_len - 1, err, sizeof err) == ST_EINVAL);
    d = rc;
    d.sth.vote_id = 8;
    CHECK(st_sth_sign(&d.sth, node_sk[0], NULL, 0) == ST_OK);
    CHECK(st_receipt_sign(&d, node_sk[0], NULL, 0) == ST_OK);
    CHECK(st_receipt_verify(&d, trusted, 3, NULL, 0, err, sizeof err) == ST_OK);
    CHECK(st_receipt_verify(&d, trusted, 3, rec, rec_len, err, sizeof err) == ST_ECORRUPT);
    CHECK(strstr(err, "vote") != NULL);
    /* A leaf index outside the tree cannot be signed. */
    d = rc;
    d.leaf_index = 7;
    CHECK(st_receipt_sign(&d, node_sk[0], NULL, 0) == ST_EINVAL);
    st_merkle_mem_free(log);
}

int main(void) {
    CHECK(st_crypto_init() == ST_OK);
    keys();
    test_sth();
    test_receipt();
    printf("sth and receipt: ok\n");
    return 0;
}
