/* signed.c - what apply checks of a signed ballot (docs/ROLES.md §Ballots), each check
 * shown to refuse with nothing changed: unsigned, bad signature, signed for another vote
 * or community or owner, a different choice or approval set than signed, a replayed
 * nonce, an unregistered key or another owner's, the wrong sender, a cast time from the
 * future. Paper ballots are signed by the entering organiser over the scan hash. Proxies
 * (委托): a recorded authorisation lets the proxy's key sign for the principal, whose
 * parts it counts for, and the record says so.
 */
#include <string.h>

#include "tests/server/harness.h"
#include "tests/server/harness_sign.h"

static t_env e;
static t_key org, org2, k1, k2, k3;
static uint64_t v, v2, el, other_v;

typedef struct {
    Strata__Internal__Command cmd;
    Strata__Internal__CastBallot b;
    Strata__Internal__Approvals a;
    t_sigbuf sb;
    uint8_t scan[32];
    uint8_t nonce[16];
} ballot;

/* A ballot of owner in vote: the command and a signature by k over the same content
 * (community of the vote, or `community` if non-zero), nonce from seed. */
static void make(ballot *x, uint64_t vote, const char *owner, int choice, const t_key *k,
                 uint64_t community, uint64_t seed) {
    memset(x, 0, sizeof(*x));
    x->cmd = (Strata__Internal__Command)STRATA__INTERNAL__COMMAND__INIT;
    x->b = (Strata__Internal__CastBallot)STRATA__INTERNAL__CAST_BALLOT__INIT;
    x->b.vote_id = vote;
    x->b.owner_id = (char *)owner;
    x->b.ballot_case = STRATA__INTERNAL__CAST_BALLOT__BALLOT_CHOICE;
    x->b.choice = (Strata__Internal__Choice)choice;
    x->b.source = STRATA__INTERNAL__SOURCE__SOURCE_ONLINE;
    CHECK(t_sign_cast(&x->b, community ? community : t_vote_community(&e, vote), e.time_ms, k, seed,
                      &x->sb));
    x->cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CAST_BALLOT;
    x->cmd.cast_ballot = &x->b;
}

static int send(ballot *x, const t_key *as, st_apply_result *r) {
    return t_apply_as(&e, &x->cmd, as, r);
}

static void online_checks(void) {
    st_apply_result r;
    ballot x;

    /* Unsigned online ballots are refused, also from the owner's own key. */
    make(&x, v, "O1", 1, &k1, 0, 1);
    x.b.signed_bytes.len = 0;
    T_REFUSED(&e, send(&x, &k1, R_), ST_EAUTH, "must be signed");
    make(&x, v, "O1", 1, &k1, 0, 1);
    x.b.signature.len = 63;
    T_REFUSED(&e, send(&x, &k1, R_), ST_EAUTH, "signature (64 bytes)");
    /* A bad signature: one bit flipped. */
    make(&x, v, "O1", 1, &k1, 0, 1);
    x.sb.sig[10] ^= 1;
    T_REFUSED(&e, send(&x, &k1, R_), ST_EAUTH, "does not verify");
    /* Signed bytes that are not a ballot. */
    make(&x, v, "O1", 1, &k1, 0, 1);
    x.b.signed_bytes.len -= 1;
    T_REFUSED(&e, send(&x, &k1, R_), ST_EINVAL, "not a canonical ballot");
    /* Signed for another vote, or another community. */
    make(&x, v2, "O1", 1, &k1, 0, 1);
    x.b.vote_id = v;
    T_REFUSED(&e, send(&x, &k1, R_), ST_EINVAL, "for vote");
    make(&x, v, "O1", 1, &k1, 2, 1);
    T_REFUSED(&e, send(&x, &k1, R_), ST_EINVAL, "community 2");
    /* Signed for another owner than the command names. */
    make(&x, v, "O2", 1, &k1, 0, 1);
    x.b.owner_id = "O1";
    T_REFUSED(&e, send(&x, &k1, R_), ST_EINVAL, "for owner");
    /* A different choice in the command than in the signed bytes. */
    make(&x, v, "O1", 1, &k1, 0, 1);
    x.b.choice = STRATA__INTERNAL__CHOICE__CHOICE_DISAGREE;
    T_REFUSED(&e, send(&x, &k1, R_), ST_EINVAL, "choice differs");
    /* A command nonce that is not the signed one. */
    make(&x, v, "O1", 1, &k1, 0, 1);
    memset(x.nonce, 9, 16);
    x.b.nonce = (ProtobufCBinaryData){16, x.nonce};
    T_REFUSED(&e, send(&x, &k1, R_), ST_EINVAL, "nonce");
    /* The key of another owner (O2's key signs O1's ballot; no proxy recorded). */
    make(&x, v, "O1", 1, &k2, 0, 1);
    T_REFUSED(&e, send(&x, &k2, R_), ST_EPERM, "not authorised as owner O1's proxy");
    /* A key that is not registered, or an owner key of another community. */
    t_key stranger, other_owner;
    t_key_from_label(&stranger, "stranger");
    t_owner_key(&e, 2, "O1", &other_owner);
    make(&x, v, "O1", 1, &stranger, 0, 1);
    T_REFUSED(&e, send(&x, &k1, R_), ST_EAUTH, "not registered");
    make(&x, v, "O1", 1, &other_owner, 0, 1);
    T_REFUSED(&e, send(&x, &other_owner, R_), ST_EPERM, "not an owner key of community 1");
    /* Sent by another key than the signer (an organiser relaying an owner's ballot). */
    make(&x, v, "O1", 1, &k1, 0, 1);
    T_REFUSED(&e, send(&x, &org, R_), ST_EPERM, "sent by the key that signed it");
    T_REFUSED(&e, send(&x, &k2, R_), ST_EPERM, "sent by the key that signed it");
    /* A cast time more than five minutes in the future. */
    e.time_ms += 10 * 60000;
    make(&x, v, "O1", 1, &k1, 0, 1);
    e.time_ms -= 10 * 60000;
    T_REFUSED(&e, send(&x, &k1, R_), ST_EINVAL, "cast time");

    /* The right ballot is accepted, once: the same signed ballot again is a replay. */
    make(&x, v, "O1", 1, &k1, 0, 1);
    CHECK_APPLY(send(&x, &k1, &r), r, ST_OK);
    CHECK(r.logged && r.leaf_index == 0 && r.tree_size == 1 && r.log_vote_id == v);
    T_REFUSED(&e, send(&x, &k1, R_), ST_EEXIST, "cast already");
    /* The same request again (same request id) is the idempotent duplicate instead. */
    uint8_t rid[16] = "signed-ballot-01";
    make(&x, v, "O3", 3, &k3, 0, 2);
    x.cmd.request_id = (ProtobufCBinaryData){16, rid};
    CHECK_APPLY(send(&x, &k3, &r), r, ST_OK);
    st_apply_result dup;
    CHECK_APPLY(send(&x, &k3, &dup), dup, ST_OK);
    CHECK(dup.duplicate && dup.logged && dup.leaf_index == r.leaf_index);
    CHECK(dup.tree_size == r.tree_size && memcmp(dup.root, r.root, 32) == 0);
    CHECK(memcmp(dup.leaf_hash, r.leaf_hash, 32) == 0);

    /* Elections: the signed approval set must be the command's, in any order. */
    uint32_t set[] = {3, 0, 5}, other[] = {0, 3, 4};
    ballot y;
    memset(&y, 0, sizeof(y));
    y.cmd = (Strata__Internal__Command)STRATA__INTERNAL__COMMAND__INIT;
    y.b = (Strata__Internal__CastBallot)STRATA__INTERNAL__CAST_BALLOT__INIT;
    y.a = (Strata__Internal__Approvals)STRATA__INTERNAL__APPROVALS__INIT;
    y.a.candidates = set;
    y.a.n_candidates = 3;
    y.b.vote_id = el;
    y.b.owner_id = "O2";
    y.b.ballot_case = STRATA__INTERNAL__CAST_BALLOT__BALLOT_APPROVALS;
    y.b.approvals = &y.a;
    y.b.source = STRATA__INTERNAL__SOURCE__SOURCE_ONLINE;
    CHECK(t_sign_cast(&y.b, 1, e.time_ms, &k2, 77, &y.sb));
    y.cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CAST_BALLOT;
    y.cmd.cast_ballot = &y.b;
    y.a.candidates = other;
    T_REFUSED(&e, t_apply_as(&e, &y.cmd, &k2, R_), ST_EINVAL, "approvals differs");
    y.a.candidates = set;
    CHECK_APPLY(t_apply_as(&e, &y.cmd, &k2, &r), r, ST_OK);
    printf("online: every check of a signed ballot refuses, the right one counts once\n");
}

static void paper(void) {
    st_apply_result r;
    ballot x;
    make(&x, v, "O4", 2, &org, 0, 3);
    memset(x.scan, 0x4d, 32);
    /* Paper ballots: signed by the organiser over the ballot and the scan hash. */
    x.b.source = STRATA__INTERNAL__SOURCE__SOURCE_PAPER;
    x.b.paper_scan_sha256 = (ProtobufCBinaryData){32, x.scan};
    x.b.entered_by = "业委会秘书";
    /* signed with the online domain (no scan): the paper check fails */
    T_REFUSED(&e, send(&x, &org, R_), ST_EAUTH, "strata-paper-ballot-v1");
    CHECK(t_sign_cast(&x.b, 1, e.time_ms, &org, 3, &x.sb));
    /* the signature binds the scan */
    x.scan[0] ^= 1;
    T_REFUSED(&e, send(&x, &org, R_), ST_EAUTH, "does not verify");
    x.scan[0] ^= 1;
    /* only the entering organiser of the vote's community sends it */
    T_REFUSED(&e, send(&x, &k1, R_), ST_EPERM, "organiser who enters it");
    CHECK_APPLY(send(&x, &org, &r), r, ST_OK);
    /* another community's organiser cannot enter paper ballots here */
    ballot z;
    make(&z, v, "O5", 3, &org2, 0, 4);
    memset(z.scan, 0x5d, 32);
    z.b.source = STRATA__INTERNAL__SOURCE__SOURCE_PAPER;
    z.b.paper_scan_sha256 = (ProtobufCBinaryData){32, z.scan};
    z.b.entered_by = "别的秘书";
    CHECK(t_sign_cast(&z.b, 1, e.time_ms, &org2, 4, &z.sb));
    T_REFUSED(&e, send(&z, &org2, R_), ST_EPERM, "does not organise");
    printf("paper: organiser's signature over ballot and scan, by that organiser only\n");
}

typedef struct {
    size_t n, proxies, papers;
} listing;

static int check_listing(void *ctx, const st_ballot_info *b) {
    listing *l = ctx;
    CHECK(b->leaf_index == b->seq - 1 && b->record != NULL && b->key_id != NULL);
    CHECK(b->record_len > 0 && b->record_len <= T_RECORD_MAX);
    if (b->proxy_owner_id[0] != '\0') {
        l->proxies++;
    }
    if (b->source == ST_SOURCE_PAPER) {
        l->papers++;
        CHECK(b->paper_scan_sha256 != NULL);
    }
    l->n++;
    return 0;
}

static int check_proxy_list(void *ctx, const st_proxy_info *p) {
    size_t *n = ctx;
    CHECK(strcmp(p->principal_owner_id, "O6") == 0 && strcmp(p->proxy_owner_id, "O2") == 0);
    CHECK(p->document_sha256 != NULL && strcmp(p->authorised_by, org.hex) == 0);
    (*n)++;
    return 0;
}

static void proxies(void) {
    st_apply_result r;
    /* The authorisation: by the vote's organiser, for voters, once per principal. */
    T_REFUSED(&e, t_authorise_proxy(&e, v, "O6", "O2", &org2, R_), ST_EPERM, "does not organise");
    T_REFUSED(&e, t_authorise_proxy(&e, v, "O6", "O6", &org, R_), ST_EINVAL, "own proxy");
    T_REFUSED(&e, t_authorise_proxy(&e, v, "O60", "O2", &org, R_), ST_ENOENT, "not a voter");
    T_REFUSED(&e, t_authorise_proxy(&e, v, "O6", "O20", &org, R_), ST_ENOENT, "not an owner");
    T_REFUSED(&e, t_authorise_proxy(&e, 999, "O6", "O2", &org, R_), ST_ENOENT, "vote 999");
    CHECK_APPLY(t_authorise_proxy(&e, v, "O6", "O2", &org, &r), r, ST_OK);
    T_REFUSED(&e, t_authorise_proxy(&e, v, "O6", "O3", &org, R_), ST_EEXIST, "already");
    size_t n = 0;
    CHECK(st_state_list_proxies(e.s, v, check_proxy_list, &n) == ST_OK && n == 1);
    CHECK(st_state_list_proxies(e.s, 999, check_proxy_list, &n) == ST_ENOENT);

    /* The proxy's own key signs the principal's ballot: it counts for O6's parts. */
    st_vote_info *vi;
    CHECK(st_state_get_vote(e.s, v, &vi) == ST_OK);
    int64_t before = vi->tally.disagree.area;
    st_vote_info_free(vi);
    ballot x;
    make(&x, v, "O6", 2, &k3, 0, 20); /* O3 is not O6's proxy */
    T_REFUSED(&e, send(&x, &k3, R_), ST_EPERM, "not authorised");
    make(&x, v, "O6", 2, &k2, 0, 20);
    CHECK_APPLY(send(&x, &k2, &r), r, ST_OK);
    CHECK(strstr(r.message, "by proxy O2") != NULL);
    CHECK(st_state_get_vote(e.s, v, &vi) == ST_OK);
    CHECK(vi->tally.disagree.area == before + 14380); /* B-201, O6's unit */
    st_vote_info_free(vi);
    /* The leaf says it was a proxy: it equals the record built with proxy_owner_id O2. */
    uint8_t *leaf;
    size_t len;
    uint64_t seq;
    CHECK(st_state_log_leaf(e.s, v, r.leaf_index, &leaf, &len, &seq) == ST_OK && seq == r.id);
    uint8_t want[T_RECORD_MAX];
    size_t wlen;
    CHECK(t_ballot_record(x.b.signed_bytes.data, x.b.signed_bytes.len, k2.pk, x.sb.sig, NULL, "O2",
                          want, &wlen) == 0);
    CHECK(wlen == len && memcmp(want, leaf, len) == 0);
    free(leaf);
    /* O2 still votes for themself with the same key. */
    make(&x, v, "O2", 1, &k2, 0, 21);
    CHECK_APPLY(send(&x, &k2, &r), r, ST_OK);
    CHECK(strstr(r.message, "proxy") == NULL);

    /* A paper ballot filled in by the proxy: the organiser enters it naming the proxy. */
    CHECK_APPLY(t_authorise_proxy(&e, v, "O7", "O2", &org, &r), r, ST_OK);
    make(&x, v, "O7", 1, &org, 0, 22);
    memset(x.scan, 0x77, 32);
    x.b.source = STRATA__INTERNAL__SOURCE__SOURCE_PAPER;
    x.b.paper_scan_sha256 = (ProtobufCBinaryData){32, x.scan};
    x.b.entered_by = "业委会秘书";
    x.b.proxy_owner_id = "O3";
    CHECK(t_sign_cast(&x.b, 1, e.time_ms, &org, 22, &x.sb));
    T_REFUSED(&e, send(&x, &org, R_), ST_EPERM, "not authorised");
    x.b.proxy_owner_id = "O2";
    CHECK_APPLY(send(&x, &org, &r), r, ST_OK);
    /* online ballots name no proxy_owner_id: the signing key says who cast it */
    make(&x, v, "O6", 1, &k2, 0, 23);
    x.b.proxy_owner_id = "O2";
    T_REFUSED(&e, send(&x, &k2, R_), ST_EINVAL, "paper ballots");

    listing l = {0};
    CHECK(st_state_list_ballots(e.s, v, check_listing, &l) == ST_OK);
    CHECK(l.proxies == 2 && l.papers == 2);
    st_recount_info rc;
    CHECK(st_state_recount(e.s, v, &rc) == ST_OK && rc.equal);

    /* After close nothing, proxies included. */
    CHECK_APPLY(t_close_vote(&e, other_v, &r), r, ST_OK);
    T_REFUSED(&e, t_authorise_proxy(&e, other_v, "O6", "O2", &org, R_), ST_ESTATE, "closed");
    printf("proxies: authorised once, the proxy's key counts for the principal, recorded so\n");
}

int main(void) {
    t_open(&e, true, 0);
    st_apply_result r;
    CHECK_APPLY(t_create_community(&e, "幸福家园", 0, &r), r, ST_OK);
    CHECK_APPLY(t_create_community(&e, "和平小区", 0, &r), r, ST_OK);
    CHECK_APPLY(t_import_roll(&e, 1, t_example_roll, 12, &r), r, ST_OK);
    CHECK_APPLY(t_import_roll(&e, 2, t_example_roll, 12, &r), r, ST_OK);
    t_organiser_key(1, &org);
    t_organiser_key(2, &org2);
    t_owner_key(&e, 1, "O1", &k1);
    t_owner_key(&e, 1, "O2", &k2);
    t_owner_key(&e, 1, "O3", &k3);
    v = t_open_new_vote(&e, 1, 4, 0, NULL, 0);
    v2 = t_open_new_vote(&e, 1, 4, 0, NULL, 0);
    other_v = t_open_new_vote(&e, 1, 4, 0, NULL, 0);
    static const char *const cands[] = {"甲", "乙", "丙", "丁", "戊", "己"};
    el = t_open_new_vote(&e, 1, 3, 5, cands, 6);
    t_open_new_vote(&e, 2, 4, 0, NULL, 0);
    online_checks();
    paper();
    proxies();
    t_close(&e);
    printf("ok: signed ballots, paper and proxies\n");
    return 0;
}
