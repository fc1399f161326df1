/* log.c - each vote's RFC 9162 ballot log in the state.
 *
 *  1. A random sequence of ballots (owners replacing their ballots often) in two votes at
 *     once. After every ballot the result's leaf index, size and root equal crypto's
 *     in-memory log (crypto/merkle_mem) fed the leaf records in order; at the end the
 *     stored root at every size equals the reference's, and inclusion proofs for random
 *     (leaf, size) and consistency proofs between random sizes equal the reference's and
 *     verify with crypto/merkle.h's verifiers. Errors for out-of-range requests.
 *  2. A snapshot restored elsewhere holds the same log.
 *  3. Signed tree heads and receipts checked against the replicated roster: a member's
 *     key, a removed node's key (trusted only before its removal), a re-keyed node.
 */
#include <string.h>

#include "crypto/merkle_mem.h"
#include "crypto/receipt.h"
#include "tests/server/harness.h"

#define OWNERS 40
#define BALLOTS 400

static uint64_t rng = 20240511;
static uint32_t below(uint32_t n) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng >> 33) % n;
}

typedef struct {
    uint64_t vote;
    st_merkle_mem *mem;
} ref_log;

/* Appends the leaf the last result describes to the reference and compares. */
static void follow(t_env *e, ref_log *ref, const st_apply_result *r) {
    CHECK(r->logged && r->log_vote_id == ref->vote);
    CHECK(r->leaf_index == st_merkle_mem_size(ref->mem));
    uint8_t *rec;
    size_t len;
    uint64_t seq;
    CHECK(st_state_log_leaf(e->s, ref->vote, r->leaf_index, &rec, &len, &seq) == ST_OK);
    CHECK(seq == r->id && seq == r->leaf_index + 1);
    uint8_t leaf[32], root[32];
    st_merkle_leaf_hash(leaf, rec, len);
    free(rec);
    CHECK(memcmp(leaf, r->leaf_hash, 32) == 0);
    CHECK(st_merkle_mem_append(ref->mem, leaf) == ST_OK);
    st_merkle_mem_root(ref->mem, root);
    CHECK(r->tree_size == st_merkle_mem_size(ref->mem) && memcmp(root, r->root, 32) == 0);
}

static void check_proofs(t_env *e, ref_log *ref) {
    uint64_t n = st_merkle_mem_size(ref->mem);
    st_tree_head head;
    CHECK(st_state_log_head(e->s, ref->vote, &head) == ST_OK && head.tree_size == n);
    uint8_t root[32];
    st_merkle_mem_root(ref->mem, root);
    CHECK(memcmp(root, head.root, 32) == 0);
    st_vote_info *vi;
    CHECK(st_state_get_vote(e->s, ref->vote, &vi) == ST_OK);
    CHECK(vi->log_size == n && memcmp(vi->log_root, root, 32) == 0);
    st_vote_info_free(vi);

    /* The root at every size. */
    for (uint64_t size = 0; size <= n; size++) {
        st_tree_head at;
        uint8_t want[32];
        CHECK(st_state_log_root_at(e->s, ref->vote, size, &at) == ST_OK && at.tree_size == size);
        CHECK(st_merkle_root_at(size, st_merkle_mem_get_node, ref->mem, want) == ST_OK);
        CHECK(memcmp(want, at.root, 32) == 0);
    }
    st_tree_proof *p = malloc(sizeof(*p));
    CHECK(p != NULL);
    uint8_t want[ST_MERKLE_MAX_PROOF * 32];
    size_t wn;
    char err[200];
    for (int i = 0; i < 300; i++) {
        uint64_t size = 1 + below((uint32_t)n), leaf = below((uint32_t)size);
        CHECK(st_state_log_inclusion(e->s, ref->vote, leaf, size, p) == ST_OK);
        CHECK(p->tree_size == size);
        CHECK(st_merkle_inclusion_proof(leaf, size, st_merkle_mem_get_node, ref->mem, want,
                                        ST_MERKLE_MAX_PROOF, &wn) == ST_OK);
        CHECK(wn == p->count && memcmp(want, p->hashes, 32 * wn) == 0);
        CHECK(st_merkle_verify_inclusion(p->leaf_hash, leaf, size, &p->hashes[0][0], p->count,
                                         p->root, err, sizeof(err)) == ST_OK);
        /* and a proof does not verify another leaf */
        uint8_t other[32];
        memcpy(other, p->leaf_hash, 32);
        other[0] ^= 1;
        CHECK(st_merkle_verify_inclusion(other, leaf, size, &p->hashes[0][0], p->count, p->root,
                                         err, sizeof(err)) != ST_OK);

        uint64_t a = below((uint32_t)n + 1), b = below((uint32_t)n + 1);
        uint64_t old = a < b ? a : b, new = a < b ? b : a;
        CHECK(st_state_log_consistency(e->s, ref->vote, old, new, p) == ST_OK);
        CHECK(p->old_size == old && p->tree_size == (new == 0 ? n : new));
        uint64_t nsize = new == 0 ? n : new; /* 0 means the current size */
        CHECK(st_merkle_consistency_proof(old, nsize, st_merkle_mem_get_node, ref->mem, want,
                                          ST_MERKLE_MAX_PROOF, &wn) == ST_OK);
        CHECK(wn == p->count && memcmp(want, p->hashes, 32 * wn) == 0);
        CHECK(st_merkle_verify_consistency(old, nsize, p->old_root, p->root, &p->hashes[0][0],
                                           p->count, err, sizeof(err)) == ST_OK);
    }
    /* Size 0 means the current size. */
    CHECK(st_state_log_inclusion(e->s, ref->vote, n - 1, 0, p) == ST_OK && p->tree_size == n);
    CHECK(st_state_log_consistency(e->s, ref->vote, 1, 0, p) == ST_OK && p->tree_size == n);
    /* Out of range. */
    CHECK(st_state_log_inclusion(e->s, ref->vote, n, n, p) == ST_EINVAL);
    CHECK(st_state_log_inclusion(e->s, ref->vote, 0, n + 1, p) == ST_ERANGE);
    CHECK(st_state_log_consistency(e->s, ref->vote, 3, 2, p) == ST_EINVAL);
    CHECK(st_state_log_consistency(e->s, ref->vote, 1, n + 1, p) == ST_ERANGE);
    CHECK(st_state_log_root_at(e->s, ref->vote, n + 1, &head) == ST_ERANGE);
    uint8_t *rec;
    size_t len;
    CHECK(st_state_log_leaf(e->s, ref->vote, n, &rec, &len, NULL) == ST_ENOENT);
    CHECK(st_state_log_head(e->s, 999, &head) == ST_ENOENT);
    CHECK(st_state_log_inclusion(e->s, 999, 0, 0, p) == ST_ENOENT);
    free(p);
}

/* Every listed ballot is its leaf: seq - 1, with the record that hashes to the stored leaf. */
typedef struct {
    t_env *e;
    uint64_t n;
} listing;

static int check_listed(void *ctx, const st_ballot_info *b) {
    listing *l = ctx;
    CHECK(b->leaf_index == b->seq - 1 && b->leaf_index == l->n);
    st_tree_proof p;
    CHECK(st_state_log_inclusion(l->e->s, b->vote_id, b->leaf_index, 0, &p) == ST_OK);
    uint8_t leaf[32];
    st_merkle_leaf_hash(leaf, b->record, b->record_len);
    CHECK(memcmp(leaf, p.leaf_hash, 32) == 0);
    l->n++;
    return 0;
}

static void sign_head(st_sth *h, const st_tree_head *head, uint64_t node, uint64_t ts,
                      const t_key *k) {
    memset(h, 0, sizeof(*h));
    h->vote_id = head->vote_id;
    h->tree_size = head->tree_size;
    memcpy(h->root, head->root, 32);
    h->timestamp_ms = ts;
    h->node_id = node;
    CHECK(st_sth_sign(h, k->sk, NULL, 0) == ST_OK);
}

static void heads_and_receipts(t_env *e, ref_log *ref) {
    st_apply_result r;
    t_key n1, n2, n3, n3b;
    t_key_from_label(&n1, "node 1");
    t_key_from_label(&n2, "node 2");
    t_key_from_label(&n3, "node 3");
    t_key_from_label(&n3b, "node 3, new key");
    uint64_t t1 = e->time_ms;
    CHECK_APPLY(t_set_member(e, 1, "10.0.0.1:7001", "10.0.0.1:8001", n1.pk, NULL, &r), r, ST_OK);
    CHECK_APPLY(t_set_member(e, 3, "10.0.0.3:7001", "10.0.0.3:8001", n3.pk, NULL, &r), r, ST_OK);
    st_tree_head head;
    CHECK(st_state_log_head(e->s, ref->vote, &head) == ST_OK);
    char err[200];
    st_sth h;
    sign_head(&h, &head, 1, t1 + 10, &n1);
    CHECK(st_state_verify_sth(e->s, &h, err, sizeof(err)) == ST_OK);
    /* An older head still verifies: the root at its size. */
    st_tree_head older;
    CHECK(st_state_log_root_at(e->s, ref->vote, head.tree_size / 2, &older) == ST_OK);
    st_sth ho;
    sign_head(&ho, &older, 1, t1 + 10, &n1);
    CHECK(st_state_verify_sth(e->s, &ho, err, sizeof(err)) == ST_OK);
    /* A head whose root is not the log's, or beyond the log, or badly signed. */
    st_tree_head bad = head;
    bad.root[5] ^= 1;
    st_sth hb;
    sign_head(&hb, &bad, 1, t1 + 10, &n1);
    CHECK(st_state_verify_sth(e->s, &hb, err, sizeof(err)) == ST_ECORRUPT);
    bad = head;
    bad.tree_size++;
    sign_head(&hb, &bad, 1, t1 + 10, &n1);
    CHECK(st_state_verify_sth(e->s, &hb, err, sizeof(err)) == ST_ERANGE);
    hb = h;
    hb.sig[0] ^= 1;
    CHECK(st_state_verify_sth(e->s, &hb, err, sizeof(err)) == ST_EAUTH);
    /* A node not in the roster; a member's key used under another node id. */
    sign_head(&hb, &head, 2, t1 + 10, &n2);
    CHECK(st_state_verify_sth(e->s, &hb, err, sizeof(err)) == ST_EAUTH);
    sign_head(&hb, &head, 3, t1 + 10, &n1);
    CHECK(st_state_verify_sth(e->s, &hb, err, sizeof(err)) == ST_EAUTH);
    /* A head stamped before the node's key was set is not trusted. */
    sign_head(&hb, &head, 1, t1 - 1, &n1);
    CHECK(st_state_verify_sth(e->s, &hb, err, sizeof(err)) == ST_EAUTH);

    /* A receipt for the last ballot, verified offline with the roster's keys. */
    st_tree_proof p;
    CHECK(st_state_log_inclusion(e->s, ref->vote, head.tree_size - 1, head.tree_size, &p) == ST_OK);
    st_receipt rc;
    memset(&rc, 0, sizeof(rc));
    memcpy(rc.leaf_hash, p.leaf_hash, 32);
    rc.leaf_index = head.tree_size - 1;
    rc.sth = h;
    CHECK(st_receipt_sign(&rc, n1.sk, err, sizeof(err)) == ST_OK);
    st_member_info mi;
    CHECK(st_state_get_member(e->s, 1, &mi) == ST_OK && mi.member);
    st_trusted_key trusted = {.node_id = 1};
    memcpy(trusted.pubkey, mi.public_key, 32);
    uint8_t *rec;
    size_t len;
    CHECK(st_state_log_leaf(e->s, ref->vote, rc.leaf_index, &rec, &len, NULL) == ST_OK);
    CHECK(st_receipt_verify(&rc, &trusted, 1, rec, len, err, sizeof(err)) == ST_OK);
    CHECK(st_receipt_verify_inclusion(&rc, &p.hashes[0][0], p.count, err, sizeof(err)) == ST_OK);
    free(rec);

    /* Removal: node 1's key is trusted for heads stamped before, not after. */
    e->time_ms += 60000;
    uint64_t removed = e->time_ms;
    CHECK_APPLY(t_remove_member(e, 1, NULL, &r), r, ST_OK);
    sign_head(&hb, &head, 1, removed - 1, &n1);
    CHECK(st_state_verify_sth(e->s, &hb, err, sizeof(err)) == ST_OK);
    sign_head(&hb, &head, 1, removed, &n1);
    CHECK(st_state_verify_sth(e->s, &hb, err, sizeof(err)) == ST_EAUTH);
    /* Re-keying: the old key until the change, the new one from it. */
    e->time_ms += 60000;
    uint64_t rekeyed = e->time_ms;
    CHECK_APPLY(t_set_member(e, 3, "10.0.0.3:7001", "10.0.0.3:8001", n3b.pk, NULL, &r), r, ST_OK);
    CHECK(strstr(r.message, "re-keyed") != NULL);
    sign_head(&hb, &head, 3, rekeyed - 1, &n3);
    CHECK(st_state_verify_sth(e->s, &hb, err, sizeof(err)) == ST_OK);
    sign_head(&hb, &head, 3, rekeyed, &n3);
    CHECK(st_state_verify_sth(e->s, &hb, err, sizeof(err)) == ST_EAUTH);
    sign_head(&hb, &head, 3, rekeyed, &n3b);
    CHECK(st_state_verify_sth(e->s, &hb, err, sizeof(err)) == ST_OK);
    sign_head(&hb, &head, 3, rekeyed - 1, &n3b);
    CHECK(st_state_verify_sth(e->s, &hb, err, sizeof(err)) == ST_EAUTH);
    printf("tree heads: verified against the roster (member, removed, re-keyed) and the log; "
           "a receipt verifies offline\n");
}

int main(void) {
    t_env e;
    t_open(&e, true, 0);
    st_apply_result r;
    CHECK_APPLY(t_create_community(&e, "幸福家园", 0, &r), r, ST_OK);
    static t_unit roll[OWNERS];
    static char units[OWNERS][16], owners[OWNERS][16];
    for (size_t i = 0; i < OWNERS; i++) {
        snprintf(units[i], sizeof(units[i]), "U-%zu", i);
        snprintf(owners[i], sizeof(owners[i]), "P%zu", i);
        roll[i] = (t_unit){units[i], "U", 7000 + (int64_t)i * 10, owners[i], owners[i], false};
    }
    CHECK_APPLY(t_import_roll(&e, 1, roll, OWNERS, &r), r, ST_OK);
    static const char *const cands[] = {"甲", "乙", "丙", "丁", "戊", "己", "庚"};
    ref_log logs[2];
    logs[0].vote = t_open_new_vote(&e, 1, 4, 0, NULL, 0);
    logs[1].vote = t_open_new_vote(&e, 1, 3, 5, cands, 7);
    for (int i = 0; i < 2; i++) {
        CHECK(st_merkle_mem_init(&logs[i].mem) == ST_OK);
    }
    /* The empty log: size 0, root SHA-256(""). */
    st_tree_head head;
    uint8_t empty[32];
    st_merkle_empty_root(empty);
    CHECK(st_state_log_head(e.s, logs[0].vote, &head) == ST_OK && head.tree_size == 0);
    CHECK(memcmp(head.root, empty, 32) == 0);

    for (int i = 0; i < BALLOTS; i++) {
        e.time_ms += 1000;
        const char *owner = owners[below(OWNERS / 2 + 1) * (below(4) == 0 ? 1 : 2) % OWNERS];
        if (below(3) != 0) {
            CHECK_APPLY(t_cast(&e, logs[0].vote, owner, 1 + (int)below(3), &r), r, ST_OK);
            follow(&e, &logs[0], &r);
        } else {
            uint32_t set[5], n = below(6);
            for (uint32_t j = 0; j < n; j++) {
                set[j] = j + below(2);
            }
            for (uint32_t j = 1; j < n; j++) {
                if (set[j] <= set[j - 1]) {
                    set[j] = set[j - 1] + 1;
                }
            }
            CHECK_APPLY(t_cast_approvals(&e, logs[1].vote, owner, set, n, &r), r, ST_OK);
            follow(&e, &logs[1], &r);
        }
    }
    for (int i = 0; i < 2; i++) {
        check_proofs(&e, &logs[i]);
        listing l = {&e, 0};
        CHECK(st_state_list_ballots(e.s, logs[i].vote, check_listed, &l) == ST_OK);
        CHECK(l.n == st_merkle_mem_size(logs[i].mem));
        st_recount_info rc;
        CHECK(st_state_recount(e.s, logs[i].vote, &rc) == ST_OK && rc.equal);
        CHECK(rc.ballots == l.n && rc.voters == OWNERS); /* replacements all kept */
    }
    printf("log: %llu + %llu leaves; roots, inclusion and consistency proofs equal the reference "
           "and verify\n",
           (unsigned long long)st_merkle_mem_size(logs[0].mem),
           (unsigned long long)st_merkle_mem_size(logs[1].mem));

    /* The log travels in a snapshot. */
    uint8_t *snap;
    size_t len;
    char err[256];
    CHECK(st_state_snapshot(e.s, &snap, &len, err, sizeof(err)) == ST_OK);
    t_env f;
    t_open(&f, true, 0);
    CHECK(st_state_restore(f.s, snap, len, err, sizeof(err)) == ST_OK);
    free(snap);
    st_tree_head a, b;
    CHECK(st_state_log_head(e.s, logs[1].vote, &a) == ST_OK);
    CHECK(st_state_log_head(f.s, logs[1].vote, &b) == ST_OK);
    CHECK(a.tree_size == b.tree_size && memcmp(a.root, b.root, 32) == 0);
    t_close(&f);

    heads_and_receipts(&e, &logs[0]);
    /* After close the log is final: nothing is added. */
    CHECK_APPLY(t_close_vote(&e, logs[0].vote, &r), r, ST_OK);
    T_REFUSED(&e, t_cast(&e, logs[0].vote, "P1", 1, R_), ST_ESTATE, "closed");
    CHECK(st_state_log_head(e.s, logs[0].vote, &head) == ST_OK);
    CHECK(head.tree_size == st_merkle_mem_size(logs[0].mem));
    for (int i = 0; i < 2; i++) {
        st_merkle_mem_free(logs[i].mem);
    }
    t_close(&e);
    printf("ok: ballot logs\n");
    return 0;
}
