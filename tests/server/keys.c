/* keys.c - the key registry and the role matrix of docs/ROLES.md.
 *
 *  1. Genesis: nothing is accepted before it; it installs one operator and one
 *     supervisor key, only when no key exists, sent by the operator key it installs.
 *  2. Staff keys: operators add operators and supervisors, supervisors appoint
 *     organisers; who may revoke which key; the last operator cannot go; a revoked key
 *     can do nothing more; the reads of the registry.
 *  3. The matrix: every command sent by every role (operator, supervisor, the vote's
 *     organiser, another community's organiser, an owner, an unregistered key) against
 *     the same prepared state (restored from a snapshot for each cell). Exactly the cells
 *     of ROLES.md are accepted; the others are refused with ST_EPERM (ST_EAUTH for an
 *     unregistered key) and leave the data digest as it was.
 */
#include <string.h>

#include "tests/server/harness.h"

/* ---- 1: genesis ---- */

static void genesis_once(void) {
    t_env e;
    t_open_bare(&e, true, 0);
    st_apply_result r;
    uint64_t n = 99;
    CHECK(st_state_key_count(e.s, &n) == ST_OK && n == 0);

    /* Before genesis nothing is accepted: no key is registered. */
    T_REFUSED(&e, t_create_community(&e, "幸福家园", 0, R_), ST_EAUTH, "Genesis");

    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__Genesis g = STRATA__INTERNAL__GENESIS__INIT;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_GENESIS;
    cmd.genesis = &g;
    g.operator_public_key = (ProtobufCBinaryData){32, e.op.pk};
    g.supervisor_public_key = (ProtobufCBinaryData){32, e.op.pk};
    T_REFUSED(&e, t_apply_as(&e, &cmd, &e.op, R_), ST_EINVAL, "two different keys");
    g.supervisor_public_key = (ProtobufCBinaryData){31, e.sup.pk};
    T_REFUSED(&e, t_apply_as(&e, &cmd, &e.op, R_), ST_EINVAL, "supervisor_public_key");
    uint8_t small[32] = {1}; /* the identity point: small order, refused */
    g.supervisor_public_key = (ProtobufCBinaryData){32, small};
    T_REFUSED(&e, t_apply_as(&e, &cmd, &e.op, R_), ST_EINVAL, "supervisor_public_key");
    g.supervisor_public_key = (ProtobufCBinaryData){32, e.sup.pk};
    /* Sent by another key than the operator key it installs. */
    T_REFUSED(&e, t_apply_as(&e, &cmd, &e.sup, R_), ST_EAUTH, "operator key it installs");
    CHECK_APPLY(t_apply_as(&e, &cmd, &e.op, &r), r, ST_OK);
    CHECK(r.id == 1);
    CHECK(st_state_key_count(e.s, &n) == ST_OK && n == 2);

    /* Once only: by anyone, registered or not. */
    T_REFUSED(&e, t_apply_as(&e, &cmd, &e.op, R_), ST_ESTATE, "genesis has been done");
    t_key other, other2;
    t_key_from_label(&other, "another operator");
    t_key_from_label(&other2, "another supervisor");
    g.operator_public_key = (ProtobufCBinaryData){32, other.pk};
    g.supervisor_public_key = (ProtobufCBinaryData){32, other2.pk};
    T_REFUSED(&e, t_apply_as(&e, &cmd, &other, R_), ST_ESTATE, "genesis has been done");

    st_key_info ki;
    CHECK(st_state_get_key(e.s, e.op.id, &ki) == ST_OK);
    CHECK(ki.role == ST_ROLE_OPERATOR && ki.active && ki.seq == 1);
    CHECK(strcmp(ki.key_id_hex, e.op.hex) == 0 && memcmp(ki.public_key, e.op.pk, 32) == 0);
    CHECK(ki.registered_ms == T0_MS && strcmp(ki.label, "") == 0);
    CHECK(st_state_get_key_hex(e.s, e.sup.hex, &ki) == ST_OK);
    CHECK(ki.role == ST_ROLE_SUPERVISOR && ki.seq == 2);
    CHECK(st_state_get_key(e.s, other.id, &ki) == ST_ENOENT);
    t_close(&e);
    printf("genesis: refused before, malformed, from another key and a second time\n");
}

/* ---- 2: staff keys ---- */

static int count_keys(void *ctx, const st_key_info *k) {
    (void)k;
    (*(size_t *)ctx)++;
    return 0;
}

static void staff_keys(void) {
    t_env e;
    t_open(&e, true, 0);
    st_apply_result r;
    t_key op2, sup2, org1, org1b;
    t_key_from_label(&op2, "operator 2");
    t_key_from_label(&sup2, "supervisor 2");
    CHECK_APPLY(t_create_community(&e, "幸福家园", 0, &r), r, ST_OK);
    t_organiser_key(1, &org1);
    t_key_from_label(&org1b, "organiser 1b");

    /* Operators add operator and supervisor keys, nothing else, each once. */
    T_REFUSED(&e, t_add_key(&e, sup2.pk, ST_ROLE_ORGANISER, &e.op, R_), ST_EINVAL,
              "AppointOrganiser");
    T_REFUSED(&e, t_add_key(&e, sup2.pk, ST_ROLE_OWNER, &e.op, R_), ST_EINVAL, "enroll");
    CHECK_APPLY(t_add_key(&e, sup2.pk, ST_ROLE_SUPERVISOR, &e.op, &r), r, ST_OK);
    T_REFUSED(&e, t_add_key(&e, sup2.pk, ST_ROLE_SUPERVISOR, &e.op, R_), ST_EEXIST,
              "registered already");
    T_REFUSED(&e, t_add_key(&e, op2.pk, ST_ROLE_OPERATOR, &e.sup, R_), ST_EPERM, "operator");
    /* Supervisors appoint organisers; an organiser key serves one community. */
    T_REFUSED(&e, t_appoint(&e, 9, org1b.pk, &sup2, R_), ST_ENOENT, "community 9");
    CHECK_APPLY(t_appoint(&e, 1, org1b.pk, &sup2, &r), r, ST_OK);
    T_REFUSED(&e, t_appoint(&e, 1, org1b.pk, &e.sup, R_), ST_EEXIST, "registered already");

    /* Who revokes what. */
    T_REFUSED(&e, t_revoke_key(&e, org1b.id, "", &e.op, R_), ST_EPERM, "by a supervisor");
    T_REFUSED(&e, t_revoke_key(&e, sup2.id, "", &e.sup, R_), ST_EPERM, "by an operator");
    T_REFUSED(&e, t_revoke_key(&e, e.op.id, "", &e.op, R_), ST_ESTATE, "last active operator");
    uint8_t nobody[16] = {7};
    T_REFUSED(&e, t_revoke_key(&e, nobody, "", &e.op, R_), ST_ENOENT, "not registered");
    t_key owner;
    t_owner_key(&e, 1, "O1", &owner);
    CHECK_APPLY(t_import_roll(&e, 1, t_example_roll, 12, &r), r, ST_OK);
    T_REFUSED(&e, t_revoke_key(&e, owner.id, "", &e.op, R_), ST_EPERM, "RevokeOwnerKey");
    CHECK_APPLY(t_revoke_key(&e, org1b.id, "调离", &e.sup, &r), r, ST_OK);
    T_REFUSED(&e, t_revoke_key(&e, org1b.id, "", &e.sup, R_), ST_ESTATE, "revoked already");
    /* A revoked key can do nothing more, and is never registered again. */
    st_apply_result rr;
    Strata__Internal__Command cv = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CreateVote b = STRATA__INTERNAL__CREATE_VOTE__INIT;
    b.community_id = 1;
    b.matter = 4;
    b.title = "议题";
    cv.body_case = STRATA__INTERNAL__COMMAND__BODY_CREATE_VOTE;
    cv.create_vote = &b;
    uint8_t before[32];
    t_digest(&e, ST_STATE_DIGEST_DATA, before);
    t_apply_as(&e, &cv, &org1b, &rr);
    t_check_refused(&e, &rr, ST_EAUTH, "revoked", before, __FILE__, __LINE__);
    T_REFUSED(&e, t_appoint(&e, 1, org1b.pk, &e.sup, R_), ST_EEXIST, "revoked");

    /* With a second operator, the first may go; then it cannot act. */
    CHECK_APPLY(t_add_key(&e, op2.pk, ST_ROLE_OPERATOR, &e.op, &r), r, ST_OK);
    CHECK_APPLY(t_revoke_key(&e, e.op.id, "换岗", &op2, &r), r, ST_OK);
    T_REFUSED(&e, t_revoke_key(&e, op2.id, "", &op2, R_), ST_ESTATE, "last active operator");
    t_key sup3;
    t_key_from_label(&sup3, "supervisor 3");
    T_REFUSED(&e, t_add_key(&e, sup3.pk, ST_ROLE_SUPERVISOR, &e.op, R_), ST_EAUTH, "revoked");

    st_key_info ki;
    CHECK(st_state_get_key(e.s, org1b.id, &ki) == ST_OK);
    CHECK(!ki.active && ki.role == ST_ROLE_ORGANISER && ki.community_id == 1);
    CHECK(strcmp(ki.revoked_by, e.sup.hex) == 0 && strcmp(ki.revoke_reason, "调离") == 0);
    CHECK(ki.revoked_ms == e.time_ms);
    CHECK(st_state_get_key(e.s, e.op.id, &ki) == ST_OK && !ki.active);
    CHECK(strcmp(ki.revoked_by, op2.hex) == 0);
    size_t n = 0;
    CHECK(st_state_list_keys(e.s, count_keys, &n) == ST_OK);
    uint64_t count;
    CHECK(st_state_key_count(e.s, &count) == ST_OK && count == n);
    CHECK(n == 2 + 1 + 1 + 1 + 10 + 1); /* genesis, org1, sup2, org1b, owners, op2 */
    n = 0;
    CHECK(st_state_owner_keys(e.s, 1, "O1", count_keys, &n) == ST_OK && n == 1);
    CHECK(st_state_owner_keys(e.s, 1, "O10", count_keys, &n) == ST_ENOENT);
    t_close(&e);
    printf("staff keys: add, appoint, revoke by the right role only, last operator kept\n");
}

/* ---- 3: the role matrix ---- */

enum { C_OP, C_SUP, C_ORG, C_ORG2, C_OWNER, C_NONE, NCOLS };
static const char *const col_names[NCOLS] = {"operator",     "supervisor", "organiser",
                                             "organiser(2)", "owner",      "unregistered"};

typedef struct {
    t_env e;
    uint8_t *snap;
    size_t snap_len;
    uint64_t index;
    t_key col[NCOLS];
    t_key org1b, sup2, newkey, o3;
    uint64_t v_draft, v_noticed, v_open, v_closed, v_pub;
} matrix;

static matrix m;

static void prepare(void) {
    t_env *e = &m.e;
    t_open(e, true, 0);
    st_apply_result r;
    CHECK_APPLY(t_create_community(e, "幸福家园", 0, &r), r, ST_OK);
    CHECK_APPLY(t_create_community(e, "和平小区", 0, &r), r, ST_OK);
    CHECK_APPLY(t_import_roll(e, 1, t_example_roll, 12, &r), r, ST_OK);
    m.col[C_OP] = e->op;
    m.col[C_SUP] = e->sup;
    t_organiser_key(1, &m.col[C_ORG]);
    t_organiser_key(2, &m.col[C_ORG2]);
    t_owner_key(e, 1, "O1", &m.col[C_OWNER]);
    t_key_from_label(&m.col[C_NONE], "stranger");
    t_owner_key(e, 1, "O3", &m.o3);
    t_key_from_label(&m.org1b, "organiser 1b");
    t_key_from_label(&m.sup2, "supervisor 2");
    t_key_from_label(&m.newkey, "O2's second phone");
    CHECK_APPLY(t_appoint(e, 1, m.org1b.pk, &e->sup, &r), r, ST_OK);
    CHECK_APPLY(t_add_key(e, m.sup2.pk, ST_ROLE_SUPERVISOR, &e->op, &r), r, ST_OK);
    CHECK_APPLY(t_issue(e, 1, "O2", "matrix-code", -1, NULL, &r), r, ST_OK);
    t_key node;
    t_key_from_label(&node, "node 1");
    CHECK_APPLY(t_set_member(e, 1, "127.0.0.1:7001", "127.0.0.1:8001", node.pk, NULL, &r), r,
                ST_OK);
    CHECK_APPLY(t_create_vote(e, 1, 4, "草稿", 0, 0, NULL, 0, &r), r, ST_OK);
    m.v_draft = r.id;
    CHECK_APPLY(t_create_vote(e, 1, 4, "已公告", 0, 0, NULL, 0, &r), r, ST_OK);
    m.v_noticed = r.id;
    CHECK_APPLY(t_notice(e, m.v_noticed, &r), r, ST_OK);
    m.v_open = t_open_new_vote(e, 1, 4, 0, NULL, 0);
    m.v_closed = t_open_new_vote(e, 1, 4, 0, NULL, 0);
    CHECK_APPLY(t_close_vote(e, m.v_closed, &r), r, ST_OK);
    m.v_pub = t_open_new_vote(e, 1, 4, 0, NULL, 0);
    CHECK_APPLY(t_cast(e, m.v_pub, "O1", 1, &r), r, ST_OK);
    CHECK_APPLY(t_close_vote(e, m.v_pub, &r), r, ST_OK);
    CHECK_APPLY(t_publish(e, m.v_pub, &r), r, ST_OK);
    char err[256];
    CHECK(st_state_snapshot(e->s, &m.snap, &m.snap_len, err, sizeof(err)) == ST_OK);
    m.index = e->index;
}

static void restore(void) {
    char err[256];
    CHECK(st_state_restore(m.e.s, m.snap, m.snap_len, err, sizeof(err)) == ST_OK);
    m.e.index = m.index;
}

typedef int (*row_fn)(t_env *e, const t_key *actor, st_apply_result *r);

static int row_create_community(t_env *e, const t_key *a, st_apply_result *r) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CreateCommunity b = STRATA__INTERNAL__CREATE_COMMUNITY__INIT;
    b.name = "新小区";
    b.street = "东城街道";
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CREATE_COMMUNITY;
    cmd.create_community = &b;
    e->no_auto_appoint = true;
    int rc = t_apply_as(e, &cmd, a, r);
    e->no_auto_appoint = false;
    return rc;
}

static int row_import_roll(t_env *e, const t_key *a, st_apply_result *r) {
    const char *saved = e->actor;
    e->actor = a->hex;
    t_enroll_mode mode = e->enroll;
    e->enroll = T_ENROLL_LAZY; /* just the import */
    int rc = t_import_roll(e, 1, t_example_roll, 11, r);
    e->enroll = mode;
    e->actor = saved;
    return rc;
}

static int as_actor(t_env *e, const t_key *a, int (*fn)(t_env *, uint64_t, st_apply_result *),
                    uint64_t vote, st_apply_result *r) {
    const char *saved = e->actor;
    e->actor = a->hex;
    int rc = fn(e, vote, r);
    e->actor = saved;
    return rc;
}

static int row_create_vote(t_env *e, const t_key *a, st_apply_result *r) {
    const char *saved = e->actor;
    e->actor = a->hex;
    int rc = t_create_vote(e, 1, 4, "新议题", 0, 0, NULL, 0, r);
    e->actor = saved;
    return rc;
}

static int row_notice(t_env *e, const t_key *a, st_apply_result *r) {
    return as_actor(e, a, t_notice, m.v_draft, r);
}
static int row_open(t_env *e, const t_key *a, st_apply_result *r) {
    return as_actor(e, a, t_open_vote, m.v_noticed, r);
}
static int row_close(t_env *e, const t_key *a, st_apply_result *r) {
    return as_actor(e, a, t_close_vote, m.v_open, r);
}
static int row_publish(t_env *e, const t_key *a, st_apply_result *r) {
    return as_actor(e, a, t_publish, m.v_closed, r);
}

/* O1's ballot signed by O1's key, sent by the actor. */
static int row_cast_online(t_env *e, const t_key *a, st_apply_result *r) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CastBallot b = STRATA__INTERNAL__CAST_BALLOT__INIT;
    b.vote_id = m.v_open;
    b.owner_id = "O1";
    b.ballot_case = STRATA__INTERNAL__CAST_BALLOT__BALLOT_CHOICE;
    b.choice = STRATA__INTERNAL__CHOICE__CHOICE_AGREE;
    b.source = STRATA__INTERNAL__SOURCE__SOURCE_ONLINE;
    t_sigbuf sb;
    CHECK(t_sign_cast(&b, 1, e->time_ms, &m.col[C_OWNER], 1, &sb));
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CAST_BALLOT;
    cmd.cast_ballot = &b;
    return t_apply_as(e, &cmd, a, r);
}

/* O3's paper ballot signed by the organiser of community 1, sent by the actor. */
static int row_cast_paper(t_env *e, const t_key *a, st_apply_result *r) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CastBallot b = STRATA__INTERNAL__CAST_BALLOT__INIT;
    uint8_t scan[32];
    memset(scan, 0x5c, sizeof(scan));
    b.vote_id = m.v_open;
    b.owner_id = "O3";
    b.ballot_case = STRATA__INTERNAL__CAST_BALLOT__BALLOT_CHOICE;
    b.choice = STRATA__INTERNAL__CHOICE__CHOICE_DISAGREE;
    b.source = STRATA__INTERNAL__SOURCE__SOURCE_PAPER;
    b.paper_scan_sha256 = (ProtobufCBinaryData){32, scan};
    b.entered_by = "业委会秘书";
    t_sigbuf sb;
    CHECK(t_sign_cast(&b, 1, e->time_ms, &m.col[C_ORG], 2, &sb));
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CAST_BALLOT;
    cmd.cast_ballot = &b;
    return t_apply_as(e, &cmd, a, r);
}

static int row_add_key(t_env *e, const t_key *a, st_apply_result *r) {
    t_key k;
    t_key_from_label(&k, "supervisor 9");
    return t_add_key(e, k.pk, ST_ROLE_SUPERVISOR, a, r);
}
static int row_appoint(t_env *e, const t_key *a, st_apply_result *r) {
    t_key k;
    t_key_from_label(&k, "organiser 9");
    return t_appoint(e, 1, k.pk, a, r);
}
static int row_revoke_organiser(t_env *e, const t_key *a, st_apply_result *r) {
    return t_revoke_key(e, m.org1b.id, "", a, r);
}
static int row_revoke_supervisor(t_env *e, const t_key *a, st_apply_result *r) {
    return t_revoke_key(e, m.sup2.id, "", a, r);
}
static int row_issue(t_env *e, const t_key *a, st_apply_result *r) {
    return t_issue(e, 1, "O4", "fresh code", -1, a, r);
}
/* The code issued in prepare(), redeemed for O2's new key; the actor sends it. */
static int row_redeem(t_env *e, const t_key *a, st_apply_result *r) {
    t_key k = m.newkey;
    memcpy(k.hex, a->hex, sizeof(k.hex)); /* t_redeem sends as k: make that the actor */
    return t_redeem(e, 1, "O2", "matrix-code", &k, r);
}
/* O3's key, signed by community 1's organiser and co-signed by the supervisor; sent by the
 * actor (whose own signature is then the organiser signature: see t_revoke_owner). */
static int row_revoke_owner(t_env *e, const t_key *a, st_apply_result *r) {
    t_key org = m.col[C_ORG];
    memcpy(org.hex, a->hex, sizeof(org.hex)); /* signed by the organiser, sent by the actor */
    return t_revoke_owner(e, m.o3.id, "手机遗失", &org, &e->sup, r);
}
static int row_proxy(t_env *e, const t_key *a, st_apply_result *r) {
    return t_authorise_proxy(e, m.v_open, "O4", "O5", a, r);
}
static int row_certify(t_env *e, const t_key *a, st_apply_result *r) {
    return t_certify(e, m.v_pub, "", a, r);
}
static int row_dispute(t_env *e, const t_key *a, st_apply_result *r) {
    return t_dispute(e, m.v_pub, "计票有误", a, r);
}
static int row_set_member(t_env *e, const t_key *a, st_apply_result *r) {
    t_key node;
    t_key_from_label(&node, "node 2");
    return t_set_member(e, 2, "127.0.0.1:7002", "127.0.0.1:8002", node.pk, a, r);
}
static int row_remove_member(t_env *e, const t_key *a, st_apply_result *r) {
    return t_remove_member(e, 1, a, r);
}

#define B(c) (1u << (c))

static const struct {
    const char *name;
    row_fn fn;
    unsigned allowed;
} rows[] = {
    {"CreateCommunity", row_create_community, B(C_SUP)},
    {"ImportRoll", row_import_roll, B(C_ORG)},
    {"CreateVote", row_create_vote, B(C_ORG)},
    {"NoticeVote", row_notice, B(C_ORG)},
    {"OpenVote", row_open, B(C_ORG)},
    {"CloseVote", row_close, B(C_ORG)},
    {"PublishVote", row_publish, B(C_ORG)},
    {"CastBallot (online)", row_cast_online, B(C_OWNER)},
    {"CastBallot (paper)", row_cast_paper, B(C_ORG)},
    {"AddKey", row_add_key, B(C_OP)},
    {"AppointOrganiser", row_appoint, B(C_SUP)},
    {"RevokeKey (organiser)", row_revoke_organiser, B(C_SUP)},
    {"RevokeKey (supervisor)", row_revoke_supervisor, B(C_OP)},
    {"IssueEnrollmentCode", row_issue, B(C_ORG)},
    {"RedeemEnrollmentCode", row_redeem, B(C_NONE)},
    {"RevokeOwnerKey", row_revoke_owner, B(C_ORG)},
    {"AuthoriseProxy", row_proxy, B(C_ORG)},
    {"CertifyVote", row_certify, B(C_SUP)},
    {"DisputeVote", row_dispute, B(C_SUP)},
    {"SetMember", row_set_member, B(C_OP)},
    {"RemoveMember", row_remove_member, B(C_OP)},
};

static void role_matrix(void) {
    prepare();
    uint8_t base[32];
    t_digest(&m.e, ST_STATE_DIGEST_DATA, base);
    size_t cells = 0, accepted = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        printf("  %-24s", rows[i].name);
        for (int col = 0; col < NCOLS; col++) {
            restore();
            st_apply_result r;
            /* For RedeemEnrollmentCode the unregistered column is the new key itself. */
            const t_key *actor = &m.col[col];
            if (rows[i].fn == row_redeem && col == C_NONE) {
                actor = &m.newkey;
            }
            rows[i].fn(&m.e, actor, &r);
            bool allowed = (rows[i].allowed & B(col)) != 0;
            int want = allowed ? ST_OK : col == C_NONE ? ST_EAUTH : ST_EPERM;
            if (r.code != want) {
                fprintf(stderr, "\n%s by %s: code %d (%s), expected %s: %s\n", rows[i].name,
                        col_names[col], r.code, st_strerror(r.code), st_strerror(want), r.message);
                exit(1);
            }
            uint8_t now[32];
            t_digest(&m.e, ST_STATE_DIGEST_DATA, now);
            CHECK(allowed ? !t_digest_eq(now, base) : t_digest_eq(now, base));
            printf(" %s", allowed ? "ok" : want == ST_EAUTH ? "AUTH" : "PERM");
            cells++;
            accepted += allowed;
        }
        printf("\n");
    }
    free(m.snap);
    t_close(&m.e);
    printf("role matrix: %zu cells, %zu accepted, every other one refused with no change\n", cells,
           accepted);
}

int main(void) {
    genesis_once();
    staff_keys();
    role_matrix();
    printf("ok: keys and roles\n");
    return 0;
}
