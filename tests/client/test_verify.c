/* test_verify.c - libstrata's receipts and proofs, made the way a node will make them with
 * crypto/ (an in-memory log, crypto/merkle_mem.h, and a node key):
 *   - offline: receipts and tree heads verify against the trusted node keys and fail for
 *     an untrusted key, another node id, a changed byte or another record; inclusion and
 *     consistency proofs check at every size and fail when wrong;
 *   - receipt files: path next to the key, save (0600, never overwritten) and load back;
 *   - online, against a fake node (fake_server.h) that keeps the log: st_cast_ballot signs a
 *     canonical ballot the node can verify, gets a receipt for exactly the record it sent,
 *     refuses a receipt for another record, and st_check_receipt fetches and checks the
 *     inclusion proof, the latest head and the consistency proof;
 *   - a paper ballot (signed by the organiser over the ballot and the scan's hash, with the
 *     proxy who filled it in) and an online proxy ballot get receipts for the records the
 *     node logs; a ballot without a key is refused before anything is sent.
 */
#include <grpc/status.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/strata.h"
#include "crypto/ballot.h"
#include "crypto/merkle.h"
#include "crypto/merkle_mem.h"
#include "crypto/record.h"
#include "crypto/text.h"
#include "tests/cli/check.h"
#include "tests/client/fake_server.h"

#define VOTE 42
#define NODE 3

typedef struct {
    pthread_mutex_t mu;
    st_merkle_mem *log;
    uint8_t node_sk[ST_SIGN_SK_LEN];
    uint8_t node_pk[ST_SIGN_PK_LEN];
    bool tamper;              /* answer with a receipt for another record */
    const char *proxy_of_key; /* online: the key's owner when it signs a proxy ballot */
    uint64_t seq;
    uint8_t last_signed[ST_BALLOT_MAX_LEN];
    size_t last_signed_len;
} node;

static void node_init(node *n) {
    memset(n, 0, sizeof(*n));
    pthread_mutex_init(&n->mu, NULL);
    if (st_merkle_mem_init(&n->log) != ST_OK) {
        abort();
    }
    uint8_t seed[ST_SIGN_SEED_LEN];
    memset(seed, 0x5a, sizeof(seed));
    st_sign_keypair_from_seed(n->node_pk, n->node_sk, seed);
}

static void node_free(node *n) {
    st_merkle_mem_free(n->log);
    pthread_mutex_destroy(&n->mu);
}

/* A signed head of the log at its current size. */
static st_sth node_head(node *n) {
    st_sth s;
    memset(&s, 0, sizeof(s));
    s.vote_id = VOTE;
    s.tree_size = st_merkle_mem_size(n->log);
    st_merkle_mem_root(n->log, s.root);
    s.timestamp_ms = 1700000000000ULL + s.tree_size;
    s.node_id = NODE;
    char msg[128];
    if (st_sth_sign(&s, n->node_sk, msg, sizeof(msg)) != ST_OK) {
        abort();
    }
    return s;
}

/* A record of a ballot of owner by a fresh key, appended; its receipt into out. */
static void append_record(node *n, const char *owner, uint8_t *rec_out, size_t *rec_len,
                          uint8_t receipt[ST_RECEIPT_LEN]) {
    uint8_t pk[ST_SIGN_PK_LEN], sk[ST_SIGN_SK_LEN];
    st_sign_keypair(pk, sk);
    st_record r;
    memset(&r, 0, sizeof(r));
    r.ballot.community_id = 1;
    r.ballot.vote_id = VOTE;
    snprintf(r.ballot.owner_id, sizeof(r.ballot.owner_id), "%s", owner);
    r.ballot.kind = ST_BALLOT_KIND_CHOICE;
    r.ballot.choice = ST_CHOICE_AGREE;
    r.ballot.cast_ms = 1700000000000ULL;
    st_key_id(r.ballot.key_id, pk);
    r.source = ST_SOURCE_ONLINE;
    char msg[128];
    if (st_record_sign(&r, sk, msg, sizeof(msg)) != ST_OK ||
        st_record_encode_buf(&r, rec_out, rec_len, msg, sizeof(msg)) != ST_OK) {
        abort();
    }
    uint8_t leaf[32];
    st_merkle_leaf_hash(leaf, rec_out, *rec_len);
    st_receipt rc;
    memset(&rc, 0, sizeof(rc));
    memcpy(rc.leaf_hash, leaf, 32);
    rc.leaf_index = st_merkle_mem_size(n->log);
    if (st_merkle_mem_append(n->log, leaf) != ST_OK) {
        abort();
    }
    rc.sth = node_head(n);
    if (st_receipt_sign(&rc, n->node_sk, msg, sizeof(msg)) != ST_OK) {
        abort();
    }
    st_receipt_encode(&rc, receipt);
}

static void test_offline(void) {
    node n;
    node_init(&n);
    st_trusted_key trusted = {.node_id = NODE};
    memcpy(trusted.pubkey, n.node_pk, ST_SIGN_PK_LEN);
    enum { N = 13 };
    uint8_t recs[N][ST_RECORD_MAX_LEN], receipts[N][ST_RECEIPT_LEN];
    size_t lens[N];
    st_sth heads[N + 1];
    heads[0] = node_head(&n);
    for (int i = 0; i < N; i++) {
        char owner[8];
        snprintf(owner, sizeof(owner), "O%d", i + 1);
        append_record(&n, owner, recs[i], &lens[i], receipts[i]);
        heads[i + 1] = node_head(&n);
    }
    st_error e;
    st_receipt rc;
    uint8_t proof[ST_MERKLE_MAX_PROOF * 32];
    size_t np = 0;
    for (int i = 0; i < N; i++) {
        CHECK_INT(
            st_verify_receipt(receipts[i], ST_RECEIPT_LEN, &trusted, 1, recs[i], lens[i], &rc, &e),
            ST_OK);
        CHECK_INT(rc.leaf_index, i);
        CHECK_INT(rc.sth.tree_size, i + 1);
        /* The inclusion proof at the receipt's size, from the stored nodes. */
        CHECK_INT(st_merkle_inclusion_proof(rc.leaf_index, rc.sth.tree_size, st_merkle_mem_get_node,
                                            n.log, proof, ST_MERKLE_MAX_PROOF, &np),
                  ST_OK);
        CHECK_INT(st_verify_inclusion(&rc, proof, np, &e), ST_OK);
        if (np > 0) {
            proof[0] ^= 1;
            CHECK_INT(st_verify_inclusion(&rc, proof, np, &e), ST_ECORRUPT);
            CHECK_HAS(e.message, "inclusion proof");
        }
        /* Consistency from this receipt's head to every later one. */
        for (int j = i + 1; j <= N; j++) {
            CHECK_INT(st_merkle_consistency_proof(rc.sth.tree_size, heads[j].tree_size,
                                                  st_merkle_mem_get_node, n.log, proof,
                                                  ST_MERKLE_MAX_PROOF, &np),
                      ST_OK);
            CHECK_INT(st_verify_consistency(&rc.sth, &heads[j], proof, np, &e), ST_OK);
            if (np > 0) {
                proof[32 * (np - 1)] ^= 0x80;
                CHECK_INT(st_verify_consistency(&rc.sth, &heads[j], proof, np, &e), ST_ECORRUPT);
            }
        }
    }
    /* Another record than the receipt's. */
    CHECK_INT(
        st_verify_receipt(receipts[2], ST_RECEIPT_LEN, &trusted, 1, recs[3], lens[3], &rc, &e),
        ST_ECORRUPT);
    /* An untrusted key; the right key under another node id. */
    st_trusted_key other = trusted;
    other.pubkey[5] ^= 1;
    CHECK_INT(st_verify_receipt(receipts[2], ST_RECEIPT_LEN, &other, 1, NULL, 0, &rc, &e),
              ST_EAUTH);
    other = trusted;
    other.node_id = NODE + 1;
    CHECK_INT(st_verify_receipt(receipts[2], ST_RECEIPT_LEN, &other, 1, NULL, 0, &rc, &e),
              ST_EAUTH);
    /* Any changed byte fails. */
    for (size_t b = 0; b < ST_RECEIPT_LEN; b += 7) {
        uint8_t bad[ST_RECEIPT_LEN];
        memcpy(bad, receipts[4], sizeof(bad));
        bad[b] ^= 0x01;
        CHECK(st_verify_receipt(bad, sizeof(bad), &trusted, 1, NULL, 0, &rc, &e) != ST_OK);
    }
    CHECK_INT(st_verify_receipt(receipts[4], ST_RECEIPT_LEN - 1, &trusted, 1, NULL, 0, &rc, &e),
              ST_EINVAL);
    /* Tree heads. */
    uint8_t enc[ST_STH_LEN];
    st_sth_encode(&heads[N], enc);
    st_sth got;
    CHECK_INT(st_verify_tree_head(enc, sizeof(enc), &trusted, 1, &got, &e), ST_OK);
    CHECK_INT(got.tree_size, N);
    enc[20] ^= 1;
    CHECK_INT(st_verify_tree_head(enc, sizeof(enc), &trusted, 1, &got, &e), ST_EAUTH);
    st_sth wrong_vote = heads[N];
    wrong_vote.vote_id = VOTE + 1;
    CHECK_INT(st_verify_consistency(&heads[1], &wrong_vote, proof, 0, &e), ST_EINVAL);
    /* Proof messages: every hash must be 32 bytes. */
    uint8_t h[2][32];
    memset(h, 7, sizeof(h));
    ProtobufCBinaryData hashes[2] = {{32, h[0]}, {31, h[1]}};
    Strata__V1__Proof p = STRATA__V1__PROOF__INIT;
    p.n_hashes = 2;
    p.hashes = hashes;
    CHECK_INT(st_proof_flatten(&p, proof, sizeof(proof), &np, &e), ST_EINVAL);
    hashes[1].len = 32;
    CHECK_INT(st_proof_flatten(&p, proof, sizeof(proof), &np, &e), ST_OK);
    CHECK_INT(np, 2);
    CHECK_INT(st_proof_flatten(&p, proof, 32, &np, &e), ST_ERANGE);
    node_free(&n);
}

static void test_receipt_file(const char *dir) {
    char path[600], key[600];
    snprintf(key, sizeof(key), "%s/owner.key", dir);
    CHECK_INT(st_receipt_file_path(key, 5, 12, path, sizeof(path)), ST_OK);
    char want[600];
    snprintf(want, sizeof(want), "%s/owner-vote5-seq12.receipt", dir);
    CHECK_STR(path, want);
    CHECK_INT(st_receipt_file_path("k", 1, 2, path, sizeof(path)), ST_OK);
    CHECK_STR(path, "k-vote1-seq2.receipt");
    CHECK_INT(st_receipt_file_path(key, 5, 12, path, 10), ST_ERANGE);
    CHECK_INT(st_receipt_file_path(key, 5, 12, path, sizeof(path)), ST_OK);

    node n;
    node_init(&n);
    st_receipt_file f, back;
    memset(&f, 0, sizeof(f));
    f.vote_id = 5;
    f.seq = 12;
    snprintf(f.owner_id, sizeof(f.owner_id), "%s", "张三 A-101");
    append_record(&n, "张三 A-101", f.record, &f.record_len, f.receipt);
    st_error e;
    CHECK_INT(st_receipt_file_save(path, &f, &e), ST_OK);
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK_INT(st_receipt_file_save(path, &f, &e), ST_EEXIST);
    CHECK_INT(st_receipt_file_load(path, &back, &e), ST_OK);
    CHECK_INT(back.vote_id, 5);
    CHECK_INT(back.seq, 12);
    CHECK_STR(back.owner_id, "张三 A-101");
    CHECK_INT(back.record_len, f.record_len);
    CHECK(memcmp(back.record, f.record, f.record_len) == 0);
    CHECK(memcmp(back.receipt, f.receipt, ST_RECEIPT_LEN) == 0);
    /* Without a record (an unsigned ballot). */
    snprintf(path, sizeof(path), "%s/unsigned.receipt", dir);
    f.record_len = 0;
    CHECK_INT(st_receipt_file_save(path, &f, &e), ST_OK);
    CHECK_INT(st_receipt_file_load(path, &back, &e), ST_OK);
    CHECK_INT(back.record_len, 0);
    /* A damaged file names its line. */
    FILE *fp = fopen(path, "w");
    if (fp != NULL) {
        fputs("strata-receipt-file-v1\nvote 5\nseq x\n", fp);
        fclose(fp);
    }
    CHECK_INT(st_receipt_file_load(path, &back, &e), ST_EINVAL);
    CHECK_HAS(e.message, ":3:");
    /* A NUL byte where the record line would start must not read as "no record line"
     * (found by fuzz_receipt_file). */
    fp = fopen(path, "wb");
    if (fp != NULL) {
        char rc64[ST_B64_LEN(ST_RECEIPT_LEN) + 1];
        st_b64_encode(rc64, sizeof(rc64), f.receipt, ST_RECEIPT_LEN);
        fprintf(fp, "strata-receipt-file-v1\nvote 5\nseq 12\nowner O3\nreceipt %s\n", rc64);
        fputc('\0', fp);
        fputs("record AAAA\n", fp);
        fclose(fp);
    }
    CHECK_INT(st_receipt_file_load(path, &back, &e), ST_EINVAL);
    CHECK_HAS(e.message, "NUL byte");
    node_free(&n);
}

/* ---- the fake node ---- */

static int pack_reply(const ProtobufCMessage *m, uint8_t **reply, size_t *len) {
    *len = protobuf_c_message_get_packed_size(m);
    *reply = malloc(*len ? *len : 1);
    if (*reply == NULL) {
        abort();
    }
    protobuf_c_message_pack(m, *reply);
    return 0;
}

static int cast(node *n, const fake_call *call, uint8_t **reply, size_t *len, char *msg,
                size_t cap) {
    Strata__V1__CastBallotRequest *q =
        strata__v1__cast_ballot_request__unpack(NULL, call->len, call->body);
    if (q == NULL) {
        snprintf(msg, cap, "bad request");
        return GRPC_STATUS_INVALID_ARGUMENT;
    }
    /* What a node checks: the canonical ballot, its signature, and that it matches. */
    st_record r;
    memset(&r, 0, sizeof(r));
    char m[256];
    int bad = st_ballot_decode(&r.ballot, q->signed_ballot.data, q->signed_ballot.len, m,
                               sizeof(m)) != ST_OK ||
              q->public_key.len != 32 || q->signature.len != 64;
    if (!bad) {
        /* The record as the node builds it: source, scan and proxy from the request (paper)
         * or from the key's owner (online). */
        memcpy(r.pubkey, q->public_key.data, 32);
        memcpy(r.sig, q->signature.data, 64);
        bool paper = q->source == STRATA__V1__BALLOT_SOURCE__BALLOT_PAPER;
        r.source = paper ? ST_SOURCE_PAPER : ST_SOURCE_ONLINE;
        if (paper && q->paper_scan_sha256.len == 32) {
            memcpy(r.scan_sha256, q->paper_scan_sha256.data, 32);
        }
        const char *proxy = paper ? q->proxy_owner_id : n->proxy_of_key;
        if (proxy != NULL && proxy[0] != '\0') {
            r.proxy = 1;
            snprintf(r.proxy_owner_id, sizeof(r.proxy_owner_id), "%s", proxy);
        }
        bad = (!paper && q->proxy_owner_id[0] != '\0') ||
              st_record_verify(&r, m, sizeof(m)) != ST_OK || r.ballot.vote_id != q->vote_id ||
              strcmp(r.ballot.owner_id, q->owner_id) != 0 || q->nonce.len != 16 ||
              memcmp(q->nonce.data, r.ballot.nonce, 16) != 0;
    }
    if (!bad && q->ballot_case == STRATA__V1__CAST_BALLOT_REQUEST__BALLOT_CHOICE) {
        bad = r.ballot.kind != ST_BALLOT_KIND_CHOICE || r.ballot.choice != (uint8_t)q->choice;
    } else if (!bad) {
        bad = r.ballot.kind != ST_BALLOT_KIND_APPROVAL || q->approvals == NULL ||
              q->approvals->n_candidates != r.ballot.n_approvals;
        for (size_t i = 0; !bad && i < r.ballot.n_approvals; i++) {
            bad = q->approvals->candidates[i] != r.ballot.approvals[i];
        }
    }
    if (bad) {
        strata__v1__cast_ballot_request__free_unpacked(q, NULL);
        snprintf(msg, cap, "the signed ballot does not verify or match");
        return GRPC_STATUS_UNAUTHENTICATED;
    }
    pthread_mutex_lock(&n->mu);
    memcpy(n->last_signed, q->signed_ballot.data, q->signed_ballot.len);
    n->last_signed_len = q->signed_ballot.len;
    if (n->tamper) {
        r.ballot.cast_ms++; /* another record than the one signed */
    }
    uint8_t rec[ST_RECORD_MAX_LEN], leaf[32];
    size_t rl = 0;
    st_record_encode_buf(&r, rec, &rl, m, sizeof(m));
    st_merkle_leaf_hash(leaf, rec, rl);
    st_receipt rc;
    memset(&rc, 0, sizeof(rc));
    memcpy(rc.leaf_hash, leaf, 32);
    rc.leaf_index = st_merkle_mem_size(n->log);
    st_merkle_mem_append(n->log, leaf);
    rc.sth = node_head(n);
    st_receipt_sign(&rc, n->node_sk, m, sizeof(m));
    uint8_t enc[ST_RECEIPT_LEN];
    st_receipt_encode(&rc, enc);
    Strata__V1__CastBallotResponse resp = STRATA__V1__CAST_BALLOT_RESPONSE__INIT;
    resp.seq = ++n->seq;
    resp.receipt.data = enc;
    resp.receipt.len = sizeof(enc);
    resp.leaf_index = rc.leaf_index;
    resp.tree_size = rc.sth.tree_size;
    pthread_mutex_unlock(&n->mu);
    strata__v1__cast_ballot_request__free_unpacked(q, NULL);
    return pack_reply(&resp.base, reply, len);
}

static int handler(void *ctx, const fake_call *call, uint8_t **reply, size_t *len, char *msg,
                   size_t cap) {
    node *n = ctx;
    const char *m = strrchr(call->method, '/');
    m = m != NULL ? m + 1 : call->method;
    if (strcmp(m, "CastBallot") == 0) {
        return cast(n, call, reply, len, msg, cap);
    }
    if (strcmp(m, "GetVote") == 0) {
        Strata__V1__Vote v = STRATA__V1__VOTE__INIT;
        v.id = VOTE;
        v.community_id = 1;
        v.matter = 4;
        return pack_reply(&v.base, reply, len);
    }
    uint8_t proof[ST_MERKLE_MAX_PROOF * 32];
    size_t np = 0;
    int rc = ST_OK;
    pthread_mutex_lock(&n->mu);
    uint64_t size = st_merkle_mem_size(n->log);
    if (strcmp(m, "GetTreeHead") == 0) {
        st_sth s = node_head(n);
        uint8_t enc[ST_STH_LEN];
        st_sth_encode(&s, enc);
        pthread_mutex_unlock(&n->mu);
        Strata__V1__TreeHead h = STRATA__V1__TREE_HEAD__INIT;
        h.sth.data = enc;
        h.sth.len = sizeof(enc);
        h.tree_size = s.tree_size;
        h.node_id = NODE;
        return pack_reply(&h.base, reply, len);
    }
    Strata__V1__Proof p = STRATA__V1__PROOF__INIT;
    if (strcmp(m, "GetInclusionProof") == 0) {
        Strata__V1__InclusionProofRequest *q =
            strata__v1__inclusion_proof_request__unpack(NULL, call->len, call->body);
        p.tree_size = q->tree_size ? q->tree_size : size;
        rc = st_merkle_inclusion_proof(q->leaf_index, p.tree_size, st_merkle_mem_get_node, n->log,
                                       proof, ST_MERKLE_MAX_PROOF, &np);
        strata__v1__inclusion_proof_request__free_unpacked(q, NULL);
    } else {
        Strata__V1__ConsistencyProofRequest *q =
            strata__v1__consistency_proof_request__unpack(NULL, call->len, call->body);
        p.tree_size = q->new_size ? q->new_size : size;
        rc = st_merkle_consistency_proof(q->old_size, p.tree_size, st_merkle_mem_get_node, n->log,
                                         proof, ST_MERKLE_MAX_PROOF, &np);
        strata__v1__consistency_proof_request__free_unpacked(q, NULL);
    }
    pthread_mutex_unlock(&n->mu);
    if (rc != ST_OK) {
        snprintf(msg, cap, "no such proof");
        return GRPC_STATUS_INVALID_ARGUMENT;
    }
    ProtobufCBinaryData hashes[ST_MERKLE_MAX_PROOF];
    for (size_t i = 0; i < np; i++) {
        hashes[i].data = proof + 32 * i;
        hashes[i].len = 32;
    }
    p.n_hashes = np;
    p.hashes = hashes;
    return pack_reply(&p.base, reply, len);
}

static void test_online(void) {
    node n;
    node_init(&n);
    fake_server *f = fake_start();
    fake_set_handler(f, handler, &n);
    st_keypair *k = NULL;
    st_error e;
    CHECK_INT(st_keypair_generate(&k, &e), ST_OK);
    st_client_options o;
    st_client_options_init(&o);
    o.cluster = fake_address(f);
    o.plaintext = true; /* the fake servers serve plaintext on loopback */
    o.key = k;
    st_client *c = NULL;
    CHECK_INT(st_client_new(&o, &c, &e), ST_OK);
    st_trusted_key trusted = {.node_id = NODE};
    memcpy(trusted.pubkey, n.node_pk, ST_SIGN_PK_LEN);

    /* Some ballots of others first, so that the proofs are not trivial. */
    for (int i = 0; i < 5; i++) {
        uint8_t rec[ST_RECORD_MAX_LEN], receipt[ST_RECEIPT_LEN];
        size_t rl;
        append_record(&n, "other", rec, &rl, receipt);
    }
    st_cast b = {.community_id = 1, .vote_id = VOTE, .owner_id = "O1", .choice = 1};
    st_cast_result r;
    CHECK_INT(st_cast_ballot(c, &b, &r, &e), ST_OK);
    CHECK_INT(r.seq, 1);
    CHECK_INT(r.receipt_len, ST_RECEIPT_LEN);
    CHECK(r.record_len > 0);
    CHECK_INT(r.leaf_index, 5);
    /* The record holds the very bytes the node received as signed_ballot. */
    st_record rec;
    char m[256];
    CHECK_INT(st_record_decode(&rec, r.record, r.record_len, m, sizeof(m)), ST_OK);
    uint8_t again[ST_BALLOT_MAX_LEN];
    size_t al = 0;
    CHECK_INT(st_ballot_encode_buf(&rec.ballot, again, &al, m, sizeof(m)), ST_OK);
    CHECK_INT(al, n.last_signed_len);
    CHECK(memcmp(again, n.last_signed, al) == 0);
    CHECK_STR(rec.ballot.owner_id, "O1");
    uint8_t pk[ST_SIGN_PK_LEN];
    st_keypair_public(k, pk);
    CHECK(memcmp(rec.pubkey, pk, 32) == 0);

    /* More ballots after ours; then the resident's whole check. */
    for (int i = 0; i < 6; i++) {
        uint8_t rec2[ST_RECORD_MAX_LEN], receipt[ST_RECEIPT_LEN];
        size_t rl;
        append_record(&n, "later", rec2, &rl, receipt);
    }
    st_receipt_check chk;
    CHECK_INT(st_check_receipt(c, r.receipt, r.receipt_len, r.record, r.record_len, &trusted, 1,
                               &chk, &e),
              ST_OK);
    CHECK(chk.included);
    CHECK(chk.consistent);
    CHECK_INT(chk.receipt.leaf_index, 5);
    CHECK_INT(chk.latest.tree_size, 12);
    /* With a key the node does not have, the check fails at once. */
    st_trusted_key wrong = trusted;
    wrong.pubkey[0] ^= 1;
    CHECK_INT(
        st_check_receipt(c, r.receipt, r.receipt_len, r.record, r.record_len, &wrong, 1, &chk, &e),
        ST_EAUTH);
    CHECK(!chk.included);

    /* An election ballot: approvals sorted into the canonical order. */
    uint32_t approvals[3] = {4, 0, 2};
    st_cast el = {.community_id = 1,
                  .vote_id = VOTE,
                  .owner_id = "O2",
                  .election = true,
                  .approvals = approvals,
                  .n_approvals = 3};
    CHECK_INT(st_cast_ballot(c, &el, &r, &e), ST_OK);
    CHECK_INT(st_record_decode(&rec, r.record, r.record_len, m, sizeof(m)), ST_OK);
    CHECK_INT(rec.ballot.n_approvals, 3);
    CHECK(rec.ballot.approvals[0] == 0 && rec.ballot.approvals[1] == 2 &&
          rec.ballot.approvals[2] == 4);
    uint32_t twice[2] = {1, 1};
    el.approvals = twice;
    el.n_approvals = 2;
    CHECK_INT(st_cast_ballot(c, &el, &r, &e), ST_EINVAL);
    CHECK_INT(e.kind, ST_FAIL_LOCAL);
    b.choice = 7;
    CHECK_INT(st_cast_ballot(c, &b, &r, &e), ST_EINVAL);
    b.choice = 1;

    /* Paper: the organiser's key signs the ballot and the scan; the proxy is recorded. */
    uint8_t scan[32];
    memset(scan, 0x3c, sizeof(scan));
    st_cast paper = {.community_id = 1,
                     .vote_id = VOTE,
                     .owner_id = "O5",
                     .choice = 3,
                     .paper = true,
                     .scan_sha256 = scan,
                     .proxy_owner_id = "O4"};
    CHECK_INT(st_cast_ballot(c, &paper, &r, &e), ST_OK);
    CHECK_INT(r.receipt_len, ST_RECEIPT_LEN);
    CHECK_INT(st_record_decode(&rec, r.record, r.record_len, m, sizeof(m)), ST_OK);
    CHECK_INT(rec.source, ST_SOURCE_PAPER);
    CHECK(memcmp(rec.scan_sha256, scan, 32) == 0);
    CHECK_INT(rec.proxy, 1);
    CHECK_STR(rec.proxy_owner_id, "O4");
    CHECK_INT(st_record_verify(&rec, m, sizeof(m)), ST_OK);
    paper.scan_sha256 = NULL;
    CHECK_INT(st_cast_ballot(c, &paper, &r, &e), ST_EINVAL);

    /* Online by proxy: the ballot counts for O6, signed by the proxy O7's key. */
    n.proxy_of_key = "O7";
    st_cast byproxy = {
        .community_id = 1, .vote_id = VOTE, .owner_id = "O6", .choice = 1, .proxy_owner_id = "O7"};
    CHECK_INT(st_cast_ballot(c, &byproxy, &r, &e), ST_OK);
    CHECK_INT(st_record_decode(&rec, r.record, r.record_len, m, sizeof(m)), ST_OK);
    CHECK_STR(rec.ballot.owner_id, "O6");
    CHECK_STR(rec.proxy_owner_id, "O7");
    n.proxy_of_key = NULL;
    byproxy.proxy_owner_id = "O6";
    CHECK_INT(st_cast_ballot(c, &byproxy, &r, &e), ST_EINVAL); /* a proxy of oneself */

    /* No key: nothing is sent, every ballot is signed. */
    size_t calls = fake_calls(f);
    st_client_options o2 = o;
    o2.key = NULL;
    st_client *anon = NULL;
    CHECK_INT(st_client_new(&o2, &anon, &e), ST_OK);
    CHECK_INT(st_cast_ballot(anon, &b, &r, &e), ST_EINVAL);
    CHECK_HAS(e.message, "every ballot is signed");
    CHECK_INT(fake_calls(f), calls);
    st_client_close(anon);

    /* A node that hands back a receipt for another record is caught. */
    n.tamper = true;
    CHECK_INT(st_cast_ballot(c, &b, &r, &e), ST_ECORRUPT);
    CHECK_HAS(e.message, "another record");
    CHECK(r.seq > 0);

    st_client_close(c);
    st_keypair_free(k);
    fake_stop(f);
    node_free(&n);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "scratch-verify";
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) {
        return 1;
    }
    test_offline();
    test_receipt_file(dir);
    test_online();
    return check_exit("client_verify");
}
