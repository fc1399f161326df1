/* matrix.c - every RPC of every service in proto/strata/v1/ (every .proto), called by every caller
 * of docs/ROLES.md §Who may call which RPC: the operator, the supervisor, the organiser of
 * the community the request is about (A), the organiser of another community (B), an
 * owner of A, a key that was never registered, and nobody (no key). The expected outcome
 * of each cell is the table below, written from that matrix (and, for the commands, from
 * its §The role matrix):
 *
 *   Y  OK                          P  PERMISSION_DENIED (role or community does not allow it)
 *   U  OK, owner names in full     A  UNAUTHENTICATED (no signature, or an unknown key)
 *   M  OK, owner names masked      S  FAILED_PRECONDITION (Genesis after Genesis)
 *
 * Each row's request is one the allowed caller gets accepted (its preconditions are made
 * first with the right keys), so that a refusal can only come from the caller. The refused
 * cells (and every cell of a read) go first, bracketed by the leader's data digest, which
 * must not change; then the allowed caller's write, which must succeed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/error.h"
#include "crypto/approval.h"
#include "crypto/crypto.h"
#include "tests/core/check.h"
#include "tests/hostile/hostile.h"

/*                                   operator supervisor organiser other-org owner stranger none */
#define PUBLIC "YYYYYYY"
#define BY_OPERATOR "YPPPPAA"
#define BY_SUPERVISOR "PYPPPAA"
#define BY_ORGANISER "PPYPPAA"
#define BY_OWNER "PPPPYAA"
#define ROLL_READ "MUUMMAM"
#define GENESIS_AGAIN "SSSSSSA"
#define BY_NEW_KEY "PPPPPYA"

typedef ProtobufCMessage *(*build_fn)(h_ctx *h, void *arg, const tc_key *key);

typedef struct {
    const char *label;  /* the row: method, and what it is about when a method has two rows */
    const char *method; /* the gRPC path */
    const char *expect; /* one letter per h_role */
    const ProtobufCMessageDescriptor *out;
    bool write;                  /* the allowed cell changes the state: sent after the bracket */
    bool stream;                 /* a server stream */
    const ProtobufCMessage *req; /* the same request for every caller, or */
    build_fn build;              /* one built for the caller's key */
    void *arg;
    const tc_key *stranger; /* the unregistered key of this row (default h->stranger) */
    void (*check)(h_ctx *h, h_role r, char letter, const ProtobufCMessage *resp);
} row;

static int code_of(char letter) {
    switch (letter) {
    case 'P':
        return GRPC_STATUS_PERMISSION_DENIED;
    case 'A':
        return GRPC_STATUS_UNAUTHENTICATED;
    case 'S':
        return GRPC_STATUS_FAILED_PRECONDITION;
    default:
        return GRPC_STATUS_OK;
    }
}

/* What a refusal's details must mention. */
static const char *text_of(const h_ctx *h, h_role r, char letter, const tc_key *key) {
    (void)h;
    if (letter == 'A' && r == R_NONE) {
        return "must be signed";
    }
    if (letter == 'A' && key != NULL) {
        return key->hex; /* "key <id> is not registered" */
    }
    return NULL;
}

/* A PERMISSION_DENIED must say what the caller's key is (its role), or that only the
 * signer may send what it signed. */
static bool says_who(const char *details, h_role r) {
    static const char *const word[R_COUNT] = {"operator", "supervisor", "organiser", "organiser",
                                              "owner",    NULL,         NULL};
    return strstr(details, "signed") != NULL ||
           (word[r] != NULL && strstr(details, word[r]) != NULL);
}

static int stream_call(h_ctx *h, const tc_key *key, const row *w, const ProtobufCMessage *req,
                       size_t *n_ok, char *details, size_t cap) {
    size_t len;
    uint8_t *body = h_pack(req, &len);
    uint8_t env[ST_REQUEST_MAX_LEN];
    hw_md md = {"strata-auth-bin", env, 0};
    if (key != NULL) {
        md.len = tc_sign(key, w->method, req, 0, env);
    }
    hw_result res;
    int code = hw_call(h->hw, h_leader(h), w->method, body, len, true, &md, key != NULL ? 1 : 0,
                       &res, H_CALL_MS);
    *n_ok = 0;
    for (size_t i = 0; i < res.n_msgs; i++) {
        ProtobufCMessage *m = protobuf_c_message_unpack(w->out, NULL, res.lens[i], res.msgs[i]);
        if (m != NULL) {
            (*n_ok)++;
            protobuf_c_message_free_unpacked(m, NULL);
        }
    }
    if (*n_ok != res.n_msgs) {
        code = GRPC_STATUS_INTERNAL;
        snprintf(res.details, sizeof(res.details), "a streamed message does not decode");
    }
    snprintf(details, cap, "%.500s", res.details);
    hw_result_free(&res);
    free(body);
    return code;
}

/* One cell: the caller r sends the row's request. */
static void cell(h_ctx *h, const row *w, h_role r) {
    const tc_key *key = h_key(h, r);
    if (r == R_STRANGER && w->stranger != NULL) {
        key = w->stranger;
    }
    char letter = w->expect[r];
    const ProtobufCMessage *req = w->build != NULL ? w->build(h, w->arg, key) : w->req;
    char what[160];
    snprintf(what, sizeof(what), "%s by %s", w->label, h_role_name[r]);
    h->cells++;
    if (w->stream) {
        size_t n = 0;
        char details[512];
        int code = stream_call(h, key, w, req, &n, details, sizeof(details));
        if (h_check(h, what, code, details, code_of(letter), text_of(h, r, letter, key)) &&
            code == GRPC_STATUS_OK && w->check != NULL) {
            w->check(h, r, letter, NULL);
        }
        return;
    }
    ProtobufCMessage *resp = NULL;
    tc_status st;
    int code = h_call(h, key, w->method, req, w->out, &resp, &st);
    if (h_check(h, what, code, st.details, code_of(letter), text_of(h, r, letter, key)) &&
        code == GRPC_STATUS_OK && w->check != NULL) {
        w->check(h, r, letter, resp);
    }
    if (code == GRPC_STATUS_PERMISSION_DENIED && letter == 'P' && !says_who(st.details, r)) {
        h->mismatches++;
        fprintf(stderr, "MISMATCH %s: the refusal does not say why for this caller: %s\n", what,
                st.details);
    }
    if (resp != NULL) {
        protobuf_c_message_free_unpacked(resp, NULL);
    }
}

static void run(h_ctx *h, const row *w) {
    CHECK(strlen(w->expect) == R_COUNT);
    h_state_mark(h);
    for (int r = 0; r < R_COUNT; r++) {
        if (!(w->write && code_of(w->expect[r]) == GRPC_STATUS_OK)) {
            cell(h, w, (h_role)r);
        }
    }
    char what[160];
    snprintf(what, sizeof(what), "%s (%s)", w->label, w->write ? "refused callers" : "reads");
    h_state_same(h, what);
    for (int r = 0; w->write && r < R_COUNT; r++) {
        if (code_of(w->expect[r]) == GRPC_STATUS_OK) {
            cell(h, w, (h_role)r);
        }
    }
}

static ProtobufCBinaryData rid_new(uint8_t rid[16]) {
    tc_request_id(rid);
    return (ProtobufCBinaryData){16, rid};
}

/* ---- names in full or masked (docs/ROLES.md §Privacy) ---- */

/* The masked form of a roll name: the first code point of each ';'-separated co-owner's
 * name, then one '*' per further code point. */
static void mask(const char *name, char *out, size_t cap) {
    size_t o = 0;
    bool first = true;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0';) {
        size_t n = *p < 0x80 ? 1 : *p < 0xE0 ? 2 : *p < 0xF0 ? 3 : 4;
        if (*p == ';') {
            first = true;
            out[o++] = ';';
        } else if (first) {
            memcpy(out + o, p, n);
            o += n;
            first = false;
        } else {
            out[o++] = '*';
        }
        CHECK(o + 4 < cap);
        p += n;
    }
    out[o] = '\0';
}

static void check_units(h_ctx *h, h_role r, char letter, const ProtobufCMessage *resp) {
    const Strata__V1__ListUnitsResponse *u = (const void *)resp;
    char what[96];
    snprintf(what, sizeof(what), "Registry.ListUnits by %s: names %s", h_role_name[r],
             letter == 'U' ? "in full" : "masked");
    bool ok = u->n_units == h->roll_a.n;
    for (size_t i = 0; ok && i < u->n_units; i++) {
        const char *name = h->roll_a.units[i].owner_name;
        char want[256];
        if (letter == 'U') {
            snprintf(want, sizeof(want), "%s", name);
        } else {
            mask(name, want, sizeof(want));
        }
        ok = strcmp(u->units[i]->owner_name, want) == 0 &&
             strcmp(u->units[i]->owner_id, h->roll_a.units[i].owner_id) == 0;
        if (!ok) {
            fprintf(stderr, "  unit %zu: name \"%s\", expected \"%s\"\n", i,
                    u->units[i]->owner_name, want);
        }
    }
    h_check(h, what, ok ? 0 : GRPC_STATUS_INTERNAL, ok ? "" : "names not as expected", 0, NULL);
}

/* ---- Registry ---- */

static void registry_rows(h_ctx *h) {
    uint8_t rid[16];
    char name[64];
    snprintf(name, sizeof(name), "和平小区-%llu", (unsigned long long)h_wall_ms());
    Strata__V1__CreateCommunityRequest cc = STRATA__V1__CREATE_COMMUNITY_REQUEST__INIT;
    cc.request_id = rid_new(rid);
    cc.name = name;
    cc.street = (char *)"测试街道";
    run(h,
        &(row){"Registry.CreateCommunity", "/strata.v1.Registry/CreateCommunity", BY_SUPERVISOR,
               &strata__v1__create_community_response__descriptor, .write = true, .req = &cc.base});

    Strata__V1__GetCommunityRequest gc = STRATA__V1__GET_COMMUNITY_REQUEST__INIT;
    gc.community_id = h->a;
    run(h, &(row){"Registry.GetCommunity", "/strata.v1.Registry/GetCommunity", PUBLIC,
                  &strata__v1__community__descriptor, .req = &gc.base});

    Strata__V1__ImportRollRequest ir = STRATA__V1__IMPORT_ROLL_REQUEST__INIT;
    ir.request_id = rid_new(rid);
    ir.community_id = h->a;
    ir.n_units = h->roll_a.n;
    ir.units = h->roll_a.ptrs;
    run(h, &(row){"Registry.ImportRoll", "/strata.v1.Registry/ImportRoll", BY_ORGANISER,
                  &strata__v1__import_roll_response__descriptor, .write = true, .req = &ir.base});

    Strata__V1__ListUnitsRequest lu = STRATA__V1__LIST_UNITS_REQUEST__INIT;
    lu.community_id = h->a;
    run(h, &(row){"Registry.ListUnits", "/strata.v1.Registry/ListUnits", ROLL_READ,
                  &strata__v1__list_units_response__descriptor, .req = &lu.base,
                  .check = check_units});
}

/* ---- Voting ---- */

/* A vote of A brought to `state` (1 draft .. 5 published) by its organiser. */
static uint64_t vote_in_state(h_ctx *h, int state) {
    static const char *const steps[] = {"NoticeVote", "OpenVote", "CloseVote", "PublishVote"};
    uint64_t v = tc_create_vote(h->cl, &h->w, h->a, 9, "公共部分经营");
    for (int s = 1; s < state; s++) {
        tc_vote_step(h->cl, &h->w, h->a, steps[s - 1], v);
    }
    return v;
}

static void step_row(h_ctx *h, const char *step, int state) {
    uint8_t rid[16];
    Strata__V1__VoteStepRequest q = STRATA__V1__VOTE_STEP_REQUEST__INIT;
    q.request_id = rid_new(rid);
    q.vote_id = vote_in_state(h, state);
    char label[48], method[64];
    snprintf(label, sizeof(label), "Voting.%s", step);
    snprintf(method, sizeof(method), "/strata.v1.Voting/%s", step);
    run(h, &(row){label, method, BY_ORGANISER, &strata__v1__vote__descriptor, .write = true,
                  .req = &q.base});
}

static void voting_rows(h_ctx *h) {
    uint8_t rid[16];
    Strata__V1__CreateVoteRequest cv = STRATA__V1__CREATE_VOTE_REQUEST__INIT;
    cv.request_id = rid_new(rid);
    cv.community_id = h->a;
    cv.matter = 4;
    cv.title = (char *)"解聘物业服务企业";
    cv.notice_case = STRATA__V1__CREATE_VOTE_REQUEST__NOTICE_NOTICE_DAYS;
    run(h, &(row){"Voting.CreateVote", "/strata.v1.Voting/CreateVote", BY_ORGANISER,
                  &strata__v1__create_vote_response__descriptor, .write = true, .req = &cv.base});

    step_row(h, "NoticeVote", 1);
    step_row(h, "OpenVote", 2);
    step_row(h, "CloseVote", 3);
    step_row(h, "PublishVote", 4);

    Strata__V1__GetVoteRequest gv = STRATA__V1__GET_VOTE_REQUEST__INIT;
    gv.vote_id = h->vote_open;
    run(h, &(row){"Voting.GetVote", "/strata.v1.Voting/GetVote", PUBLIC,
                  &strata__v1__vote__descriptor, .req = &gv.base});

    Strata__V1__ListVotesRequest lv = STRATA__V1__LIST_VOTES_REQUEST__INIT;
    lv.community_id = h->a;
    run(h, &(row){"Voting.ListVotes", "/strata.v1.Voting/ListVotes", PUBLIC,
                  &strata__v1__list_votes_response__descriptor, .req = &lv.base});

    tc_ballot_buf online;
    Strata__V1__CastBallotRequest cb;
    tc_ballot_request(h_key(h, R_OWNER), h->a, h->vote_open, "O1", 3, NULL, &online, &cb);
    run(h, &(row){"Voting.CastBallot {online, signed by owner O1}", "/strata.v1.Voting/CastBallot",
                  BY_OWNER, &strata__v1__cast_ballot_response__descriptor, .write = true,
                  .req = &cb.base});

    tc_ballot_buf paper;
    Strata__V1__CastBallotRequest pb;
    uint8_t scan[32];
    CHECK(getrandom(scan, sizeof(scan), 0) == sizeof(scan));
    tc_ballot_request(h_key(h, R_ORG), h->a, h->vote_open, "O3", 2, scan, &paper, &pb);
    run(h, &(row){"Voting.CastBallot {paper, entered by A's organiser}",
                  "/strata.v1.Voting/CastBallot", BY_ORGANISER,
                  &strata__v1__cast_ballot_response__descriptor, .write = true, .req = &pb.base});

    Strata__V1__MyBallotsRequest mb = STRATA__V1__MY_BALLOTS_REQUEST__INIT;
    mb.vote_id = h->vote_open;
    mb.owner_id = (char *)"O1";
    run(h, &(row){"Voting.MyBallots", "/strata.v1.Voting/MyBallots", PUBLIC,
                  &strata__v1__my_ballots_response__descriptor, .req = &mb.base});
}

/* ---- Audit ---- */

static void audit_rows(h_ctx *h) {
    Strata__V1__ExportBallotsRequest eb = STRATA__V1__EXPORT_BALLOTS_REQUEST__INIT;
    eb.vote_id = h->vote_open;
    run(h, &(row){"Audit.ExportBallots", "/strata.v1.Audit/ExportBallots", PUBLIC,
                  &strata__v1__ballot__descriptor, .stream = true, .req = &eb.base});

    Strata__V1__GetTreeHeadRequest th = STRATA__V1__GET_TREE_HEAD_REQUEST__INIT;
    th.vote_id = h->vote_open;
    run(h, &(row){"Audit.GetTreeHead", "/strata.v1.Audit/GetTreeHead", PUBLIC,
                  &strata__v1__tree_head__descriptor, .req = &th.base});

    Strata__V1__InclusionProofRequest ip = STRATA__V1__INCLUSION_PROOF_REQUEST__INIT;
    ip.vote_id = h->vote_open;
    run(h, &(row){"Audit.GetInclusionProof", "/strata.v1.Audit/GetInclusionProof", PUBLIC,
                  &strata__v1__proof__descriptor, .req = &ip.base});

    Strata__V1__ConsistencyProofRequest cp = STRATA__V1__CONSISTENCY_PROOF_REQUEST__INIT;
    cp.vote_id = h->vote_open;
    cp.old_size = 1;
    run(h, &(row){"Audit.GetConsistencyProof", "/strata.v1.Audit/GetConsistencyProof", PUBLIC,
                  &strata__v1__proof__descriptor, .req = &cp.base});

    Strata__V1__TrailRequest tr = STRATA__V1__TRAIL_REQUEST__INIT;
    tr.community_id = h->a;
    tr.limit = 20;
    run(h, &(row){"Audit.Trail", "/strata.v1.Audit/Trail", PUBLIC,
                  &strata__v1__trail_response__descriptor, .req = &tr.base});

    uint8_t rid[16];
    Strata__V1__CertifyRequest ce = STRATA__V1__CERTIFY_REQUEST__INIT;
    ce.request_id = rid_new(rid);
    ce.vote_id = vote_in_state(h, 5);
    ce.reason = (char *)"核对无误";
    run(h, &(row){"Audit.Certify", "/strata.v1.Audit/Certify", BY_SUPERVISOR,
                  &strata__v1__vote__descriptor, .write = true, .req = &ce.base});

    Strata__V1__DisputeRequest di = STRATA__V1__DISPUTE_REQUEST__INIT;
    di.request_id = rid_new(rid);
    di.vote_id = h->vote_pub;
    di.reason = (char *)"纸质票扫描件缺失";
    run(h, &(row){"Audit.Dispute", "/strata.v1.Audit/Dispute", BY_SUPERVISOR,
                  &strata__v1__vote__descriptor, .write = true, .req = &di.base});
}

/* ---- Keys ---- */

typedef struct {
    Strata__V1__GenesisRequest q;
    uint8_t rid[16];
    tc_key sup;
} genesis_arg;

/* Genesis is signed by the operator key it installs: each caller names its own key. */
static ProtobufCMessage *build_genesis(h_ctx *h, void *arg, const tc_key *key) {
    genesis_arg *g = arg;
    strata__v1__genesis_request__init(&g->q);
    g->q.request_id = (ProtobufCBinaryData){16, g->rid};
    const tc_key *op = key != NULL ? key : &h->stranger;
    g->q.operator_public_key = (ProtobufCBinaryData){32, (uint8_t *)op->pk};
    g->q.supervisor_public_key = (ProtobufCBinaryData){32, g->sup.pk};
    return &g->q.base;
}

typedef struct {
    Strata__V1__RedeemEnrollmentRequest q;
    uint8_t rid[16], code_pk[32], code_sk[64], sig[64], code_sig[64];
    uint64_t community;
    const char *owner;
} redeem_arg;

/* A redemption is signed by the key it registers: each caller redeems with its own key. */
static ProtobufCMessage *build_redeem(h_ctx *h, void *arg, const tc_key *key) {
    redeem_arg *g = arg;
    const tc_key *k = key != NULL ? key : &h->stranger;
    uint8_t bytes[ST_ENROLL_MAX_LEN];
    size_t blen;
    uint64_t signed_ms = h_wall_ms();
    CHECK(st_enroll_bytes(g->community, g->owner, k->pk, g->code_pk, signed_ms, bytes, &blen) ==
          ST_OK);
    CHECK(st_sign_detached(g->sig, ST_DOMAIN_ENROLL, bytes, blen, k->sk, NULL, 0) == ST_OK);
    CHECK(st_sign_detached(g->code_sig, ST_DOMAIN_ENROLL_CODE, bytes, blen, g->code_sk, NULL, 0) ==
          ST_OK);
    strata__v1__redeem_enrollment_request__init(&g->q);
    g->q.request_id = (ProtobufCBinaryData){16, g->rid};
    g->q.community_id = g->community;
    g->q.owner_id = (char *)g->owner;
    g->q.public_key = (ProtobufCBinaryData){32, (uint8_t *)k->pk};
    g->q.code_public_key = (ProtobufCBinaryData){32, g->code_pk};
    g->q.signed_ms = signed_ms;
    g->q.signature = (ProtobufCBinaryData){64, g->sig};
    g->q.code_signature = (ProtobufCBinaryData){64, g->code_sig};
    return &g->q.base;
}

typedef struct {
    Strata__V1__RevokeOwnerKeyRequest q;
    uint8_t rid[16], org_sig[64], sup_sig[64];
    const tc_key *target;
    uint64_t signed_ms;
} revoke_owner_arg;

#define REVOKE_REASON "手机丢失 (lost phone)"

/* The organiser's signature is the caller's own; the supervisor co-signs. */
static ProtobufCMessage *build_revoke_owner(h_ctx *h, void *arg, const tc_key *key) {
    revoke_owner_arg *g = arg;
    const tc_key *k = key != NULL ? key : h_key(h, R_ORG);
    uint8_t bytes[ST_REVOKE_MAX_LEN];
    size_t blen;
    CHECK(st_revoke_owner_bytes(h->a, "O5", g->target->id, REVOKE_REASON, g->signed_ms, bytes,
                                &blen) == ST_OK);
    CHECK(st_sign_detached(g->org_sig, ST_DOMAIN_REVOKE_OWNER, bytes, blen, k->sk, NULL, 0) ==
          ST_OK);
    CHECK(st_sign_detached(g->sup_sig, ST_DOMAIN_REVOKE_OWNER, bytes, blen, h->w.sup.sk, NULL, 0) ==
          ST_OK);
    strata__v1__revoke_owner_key_request__init(&g->q);
    g->q.request_id = (ProtobufCBinaryData){16, g->rid};
    g->q.key_id = (ProtobufCBinaryData){16, (uint8_t *)g->target->id};
    g->q.reason = (char *)REVOKE_REASON;
    g->q.signed_ms = g->signed_ms;
    g->q.organiser_signature = (ProtobufCBinaryData){64, g->org_sig};
    g->q.supervisor_key_id = (ProtobufCBinaryData){16, h->w.sup.id};
    g->q.supervisor_signature = (ProtobufCBinaryData){64, g->sup_sig};
    return &g->q.base;
}

static void keys_rows(h_ctx *h) {
    uint8_t rid[16];
    genesis_arg ga;
    tc_request_id(ga.rid);
    tc_key_new(&ga.sup);
    run(h, &(row){"Keys.Genesis {again}", "/strata.v1.Keys/Genesis", GENESIS_AGAIN,
                  &strata__v1__key_response__descriptor, .write = true, .build = build_genesis,
                  .arg = &ga});

    tc_key sup2, org2;
    tc_key_new(&sup2);
    tc_key_new(&org2);
    Strata__V1__AddKeyRequest ak = STRATA__V1__ADD_KEY_REQUEST__INIT;
    ak.request_id = rid_new(rid);
    ak.public_key = (ProtobufCBinaryData){32, sup2.pk};
    ak.role = STRATA__V1__ROLE__ROLE_SUPERVISOR;
    ak.label = (char *)"第二街道办";
    run(h, &(row){"Keys.AddKey {supervisor}", "/strata.v1.Keys/AddKey", BY_OPERATOR,
                  &strata__v1__key_response__descriptor, .write = true, .req = &ak.base});

    Strata__V1__AppointOrganiserRequest ao = STRATA__V1__APPOINT_ORGANISER_REQUEST__INIT;
    ao.request_id = rid_new(rid);
    ao.community_id = h->a;
    ao.public_key = (ProtobufCBinaryData){32, org2.pk};
    ao.label = (char *)"业委会副主任";
    run(h, &(row){"Keys.AppointOrganiser", "/strata.v1.Keys/AppointOrganiser", BY_SUPERVISOR,
                  &strata__v1__key_response__descriptor, .write = true, .req = &ao.base});

    Strata__V1__RevokeKeyRequest rk = STRATA__V1__REVOKE_KEY_REQUEST__INIT;
    rk.request_id = rid_new(rid);
    rk.key_id = (ProtobufCBinaryData){16, org2.id};
    rk.reason = (char *)"换届";
    run(h, &(row){"Keys.RevokeKey {organiser key}", "/strata.v1.Keys/RevokeKey", BY_SUPERVISOR,
                  &strata__v1__key_response__descriptor, .write = true, .req = &rk.base});

    uint8_t rid2[16];
    Strata__V1__RevokeKeyRequest rs = STRATA__V1__REVOKE_KEY_REQUEST__INIT;
    rs.request_id = rid_new(rid2);
    rs.key_id = (ProtobufCBinaryData){16, sup2.id};
    rs.reason = (char *)"调离";
    run(h, &(row){"Keys.RevokeKey {supervisor key}", "/strata.v1.Keys/RevokeKey", BY_OPERATOR,
                  &strata__v1__key_response__descriptor, .write = true, .req = &rs.base});

    /* An enrollment code for O6 of A, drawn by the organiser's device; redeemed below. */
    redeem_arg ra;
    memset(&ra, 0, sizeof(ra));
    ra.community = h->a;
    ra.owner = "O6";
    const char *code = "7KQ2-M9XD-4PNB-HT3C";
    CHECK(st_enroll_code_keypair(h->a, "O6", code, strlen(code), ra.code_pk, ra.code_sk) == ST_OK);
    Strata__V1__IssueEnrollmentRequest ie = STRATA__V1__ISSUE_ENROLLMENT_REQUEST__INIT;
    ie.request_id = rid_new(rid);
    ie.community_id = h->a;
    ie.owner_id = (char *)"O6";
    ie.code_public_key = (ProtobufCBinaryData){32, ra.code_pk};
    run(h,
        &(row){"Keys.IssueEnrollment", "/strata.v1.Keys/IssueEnrollment", BY_ORGANISER,
               &strata__v1__issue_enrollment_response__descriptor, .write = true, .req = &ie.base});

    tc_key device;
    tc_key_new(&device);
    tc_request_id(ra.rid);
    run(h, &(row){"Keys.RedeemEnrollment", "/strata.v1.Keys/RedeemEnrollment", BY_NEW_KEY,
                  &strata__v1__key_response__descriptor, .write = true, .build = build_redeem,
                  .arg = &ra, .stranger = &device});

    revoke_owner_arg ro;
    memset(&ro, 0, sizeof(ro));
    tc_request_id(ro.rid);
    ro.target = tc_owner_key(&h->w, h->a, "O5");
    ro.signed_ms = h_wall_ms();
    run(h, &(row){"Keys.RevokeOwnerKey", "/strata.v1.Keys/RevokeOwnerKey", BY_ORGANISER,
                  &strata__v1__key_response__descriptor, .write = true, .build = build_revoke_owner,
                  .arg = &ro});

    uint8_t doc[32];
    CHECK(getrandom(doc, sizeof(doc), 0) == sizeof(doc));
    Strata__V1__AuthoriseProxyRequest ap = STRATA__V1__AUTHORISE_PROXY_REQUEST__INIT;
    ap.request_id = rid_new(rid);
    ap.vote_id = h->vote_open;
    ap.principal_owner_id = (char *)"O3";
    ap.proxy_owner_id = (char *)"O4";
    ap.document_sha256 = (ProtobufCBinaryData){32, doc};
    run(h,
        &(row){"Keys.AuthoriseProxy", "/strata.v1.Keys/AuthoriseProxy", BY_ORGANISER,
               &strata__v1__authorise_proxy_response__descriptor, .write = true, .req = &ap.base});

    Strata__V1__GetKeyRequest gk = STRATA__V1__GET_KEY_REQUEST__INIT;
    gk.key_id = (ProtobufCBinaryData){16, (uint8_t *)h_key(h, R_OWNER)->id};
    run(h, &(row){"Keys.GetKey", "/strata.v1.Keys/GetKey", PUBLIC, &strata__v1__key__descriptor,
                  .req = &gk.base});
}

/* ---- Cluster ---- */

#define NEW_NODE 4

static void cluster_rows(h_ctx *h) {
    Strata__V1__StatusRequest sr = STRATA__V1__STATUS_REQUEST__INIT;
    run(h, &(row){"Cluster.Status", "/strata.v1.Cluster/Status", PUBLIC,
                  &strata__v1__status_response__descriptor, .req = &sr.base});

    /* A fourth node, started empty, is registered (the members' Raft transport accepts
     * registered keys only), added by the operator, and removed. */
    tc_start(h->c, NEW_NODE, true);
    h->n_nodes = NEW_NODE;
    char raft[32], grpc[32];
    snprintf(raft, sizeof(raft), "127.0.0.1:%d", tc_raft_port(h->c, NEW_NODE));
    snprintf(grpc, sizeof(grpc), "127.0.0.1:%d", tc_grpc_port(h->c, NEW_NODE));
    Strata__V1__StatusResponse *s = tc_status_of(h->cl, NEW_NODE, 5000);
    CHECK(s != NULL && s->node_public_key.len == 32);
    uint8_t node_pk[32];
    memcpy(node_pk, s->node_public_key.data, 32);
    protobuf_c_message_free_unpacked(&s->base, NULL);
    uint8_t rid[16];
    Strata__V1__RegisterNodeRequest rn = STRATA__V1__REGISTER_NODE_REQUEST__INIT;
    rn.request_id = rid_new(rid);
    rn.id = NEW_NODE;
    rn.raft = raft;
    rn.grpc = grpc;
    rn.public_key = (ProtobufCBinaryData){32, node_pk};
    run(h, &(row){"Cluster.RegisterNode", "/strata.v1.Cluster/RegisterNode", BY_OPERATOR,
                  &strata__v1__register_node_response__descriptor, .write = true, .req = &rn.base});

    Strata__V1__AddMemberRequest am = STRATA__V1__ADD_MEMBER_REQUEST__INIT;
    am.id = NEW_NODE;
    am.raft = raft;
    am.grpc = grpc;
    run(h, &(row){"Cluster.AddMember", "/strata.v1.Cluster/AddMember", BY_OPERATOR,
                  &strata__v1__add_member_response__descriptor, .write = true, .req = &am.base});
    CHECK(tc_wait_applied(h->cl, NEW_NODE, tc_leader_commit(h->cl), 20000));

    Strata__V1__RemoveMemberRequest rm = STRATA__V1__REMOVE_MEMBER_REQUEST__INIT;
    rm.id = NEW_NODE;
    run(h, &(row){"Cluster.RemoveMember", "/strata.v1.Cluster/RemoveMember", BY_OPERATOR,
                  &strata__v1__remove_member_response__descriptor, .write = true, .req = &rm.base});
    /* The roster entry goes with a command proposed before that answer: applied once a
     * later barrier is. */
    tc_leader_commit(h->cl);
    CHECK_EQ(tc_stop(h->c, NEW_NODE, 10000), 0);
    h->n_nodes = H_NODES;

    Strata__V1__TransferLeadershipRequest tl = STRATA__V1__TRANSFER_LEADERSHIP_REQUEST__INIT;
    run(h, &(row){"Cluster.TransferLeadership", "/strata.v1.Cluster/TransferLeadership",
                  BY_OPERATOR, &strata__v1__transfer_leadership_response__descriptor, .write = true,
                  .req = &tl.base});
    CHECK(tc_wait_leader(h->cl, h->c, H_NODES, 10000) != 0);
}

void h_role_matrix(h_ctx *h) {
    uint64_t t0 = tc_now_ms();
    unsigned long cells0 = h->cells;
    registry_rows(h);
    voting_rows(h);
    audit_rows(h);
    keys_rows(h);
    cluster_rows(h);
    printf("role matrix: %lu cells (%d callers) in %llu ms\n", h->cells - cells0, R_COUNT,
           (unsigned long long)(tc_now_ms() - t0));
}
