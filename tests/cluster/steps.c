/* steps.c - the domain steps of the cluster tests (steps.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/error.h"
#include "core/roll_csv.h"
#include "core/tally.h"
#include "crypto/approval.h"
#include "crypto/ballot.h"
#include "crypto/crypto.h"
#include "tests/cluster/steps.h"
#include "tests/core/check.h"

#define CALL_CHECK(code, st)                                                                       \
    do {                                                                                           \
        if ((code) != GRPC_STATUS_OK) {                                                            \
            fprintf(stderr, "%s:%d: call failed: status %d from node %d: %s\n", __FILE__,          \
                    __LINE__, (int)(st).code, (st).node, (st).details);                            \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static char *dup_str(const char *s) {
    char *p = strdup(s);
    CHECK(p != NULL);
    return p;
}

static void roll_alloc(tc_roll *r, size_t n) {
    r->n = n;
    r->units = calloc(n, sizeof(*r->units));
    r->ptrs = calloc(n, sizeof(*r->ptrs));
    CHECK(r->units != NULL && r->ptrs != NULL);
    for (size_t i = 0; i < n; i++) {
        strata__v1__unit__init(&r->units[i]);
        r->ptrs[i] = &r->units[i];
    }
}

void tc_roll_from_csv(const char *path, tc_roll *r) {
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    char buf[65536];
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    st_roll *roll;
    char err[512];
    int rc = st_roll_csv_parse(path, buf, len, &roll, err, sizeof(err));
    if (rc != ST_OK) {
        fprintf(stderr, "%s\n", err);
    }
    CHECK(rc == ST_OK);
    roll_alloc(r, st_roll_unit_count(roll));
    for (size_t i = 0; i < r->n; i++) {
        const st_unit *u = st_roll_unit(roll, i);
        r->units[i].unit = dup_str(u->unit);
        r->units[i].building = dup_str(u->building);
        r->units[i].area_centi_m2 = u->area;
        r->units[i].owner_id = dup_str(u->owner_id);
        r->units[i].owner_name = dup_str(u->owner_name);
        r->units[i].status = (Strata__V1__UnitStatus)u->status;
    }
    st_roll_free(roll);
}

void tc_roll_generated(size_t n, tc_roll *r) {
    roll_alloc(r, n);
    for (size_t i = 0; i < n; i++) {
        char s[64];
        snprintf(s, sizeof(s), "U-%zu", i + 1);
        r->units[i].unit = dup_str(s);
        r->units[i].building = dup_str("G");
        r->units[i].area_centi_m2 = 5000 + 37 * (int64_t)(i + 1);
        snprintf(s, sizeof(s), "O%zu", i + 1);
        r->units[i].owner_id = dup_str(s);
        snprintf(s, sizeof(s), "Owner %zu", i + 1);
        r->units[i].owner_name = dup_str(s);
        r->units[i].status = STRATA__V1__UNIT_STATUS__UNIT_OWNED;
    }
}

void tc_roll_free(tc_roll *r) {
    for (size_t i = 0; i < r->n; i++) {
        free(r->units[i].unit);
        free(r->units[i].building);
        free(r->units[i].owner_id);
        free(r->units[i].owner_name);
    }
    free(r->units);
    free(r->ptrs);
    memset(r, 0, sizeof(*r));
}

int64_t tc_roll_owner_area(const tc_roll *r, const char *owner_id) {
    int64_t area = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->units[i].owner_id, owner_id) == 0) {
            area += r->units[i].area_centi_m2;
        }
    }
    return area;
}

void tc_request_id(uint8_t out[16]) {
    CHECK(getrandom(out, 16, 0) == 16);
}

/* ---- the world's keys ---- */

void tc_world_init(tc_world *w) {
    memset(w, 0, sizeof(*w));
    tc_key_new(&w->op);
    tc_key_new(&w->sup);
}

void tc_world_free(tc_world *w) {
    free(w->owners);
    memset(w, 0, sizeof(*w));
}

const tc_key *tc_organiser(const tc_world *w, uint64_t community) {
    for (size_t i = 0; i < w->n_communities; i++) {
        if (w->communities[i].id == community) {
            return &w->communities[i].org;
        }
    }
    fprintf(stderr, "community %llu has no organiser in this test\n",
            (unsigned long long)community);
    CHECK(false);
    return NULL;
}

const tc_key *tc_owner_key(const tc_world *w, uint64_t community, const char *owner) {
    for (size_t i = 0; i < w->n_owners; i++) {
        if (w->owners[i].community == community && strcmp(w->owners[i].owner, owner) == 0) {
            return &w->owners[i].key;
        }
    }
    return NULL;
}

/* A signed write through the leader, CHECKed OK; returns the answer (caller frees). */
static ProtobufCMessage *write_as(tc_client *cl, const tc_key *key, const char *method,
                                  const ProtobufCMessage *req,
                                  const ProtobufCMessageDescriptor *out, const char *file,
                                  int line) {
    ProtobufCMessage *resp = NULL;
    tc_status st;
    int code = tc_leader_call_as(cl, key, method, req, out, &resp, &st, TC_WRITE_MS);
    if (code != GRPC_STATUS_OK) {
        fprintf(stderr, "%s:%d: %s failed: status %d from node %d: %s\n", file, line, method,
                (int)st.code, st.node, st.details);
        exit(1);
    }
    return resp;
}
#define WRITE_AS(cl, key, method, req, out) write_as(cl, key, method, req, out, __FILE__, __LINE__)

void tc_genesis(tc_client *cl, const tc_world *w) {
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__GenesisRequest q = STRATA__V1__GENESIS_REQUEST__INIT;
    q.request_id = (ProtobufCBinaryData){16, rid};
    q.operator_public_key = (ProtobufCBinaryData){32, (uint8_t *)w->op.pk};
    q.supervisor_public_key = (ProtobufCBinaryData){32, (uint8_t *)w->sup.pk};
    q.operator_label = (char *)"test operator";
    q.supervisor_label = (char *)"测试街道办事处";
    ProtobufCMessage *resp = WRITE_AS(cl, &w->op, "/strata.v1.Keys/Genesis", &q.base,
                                      &strata__v1__key_response__descriptor);
    Strata__V1__KeyResponse *kr = (void *)resp;
    CHECK_EQ(kr->key_id.len, 16);
    CHECK(memcmp(kr->key_id.data, w->op.id, 16) == 0);
    protobuf_c_message_free_unpacked(resp, NULL);
}

void tc_register_nodes(tc_client *cl, tc_cluster *c, const tc_world *w, int n) {
    for (int id = 1; id <= n; id++) {
        if (tc_running(c, id)) {
            tc_register_node(cl, c, w, id);
        }
    }
    /* Every running node knows the whole roster before the test reads it anywhere. */
    uint64_t commit = tc_leader_commit(cl);
    for (int id = 1; id <= n; id++) {
        CHECK(!tc_running(c, id) || tc_wait_applied(cl, id, commit, 10000));
    }
}

void tc_register_node(tc_client *cl, tc_cluster *c, const tc_world *w, int id) {
    Strata__V1__StatusResponse *s = tc_status_of(cl, id, 5000);
    CHECK(s != NULL);
    CHECK_EQ(s->node_public_key.len, 32);
    char raft[32];
    snprintf(raft, sizeof(raft), "127.0.0.1:%d", tc_raft_port(c, id));
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__RegisterNodeRequest q = STRATA__V1__REGISTER_NODE_REQUEST__INIT;
    q.request_id = (ProtobufCBinaryData){16, rid};
    q.id = (uint64_t)id;
    q.raft = raft;
    q.grpc = (char *)tc_grpc_addr(c, id);
    q.public_key = s->node_public_key;
    ProtobufCMessage *resp = WRITE_AS(cl, &w->op, "/strata.v1.Cluster/RegisterNode", &q.base,
                                      &strata__v1__register_node_response__descriptor);
    protobuf_c_message_free_unpacked(resp, NULL);
    protobuf_c_message_free_unpacked(&s->base, NULL);
}

size_t tc_trusted_keys(tc_client *cl, int id, st_trusted_key *keys, size_t cap) {
    Strata__V1__StatusResponse *s = tc_status_of(cl, id, 5000);
    CHECK(s != NULL);
    size_t n = 0;
    for (size_t i = 0; i < s->n_members && n < cap; i++) {
        const Strata__V1__Member *m = s->members[i];
        if (getenv("STRATA_TEST_VERBOSE") != NULL) {
            printf("  node %d lists member %llu: key %zu bytes, applied %llu\n", id,
                   (unsigned long long)m->id, m->public_key.len,
                   (unsigned long long)s->applied_index);
        }
        if (m->public_key.len == 32) {
            keys[n].node_id = m->id;
            memcpy(keys[n].pubkey, m->public_key.data, 32);
            n++;
        }
    }
    protobuf_c_message_free_unpacked(&s->base, NULL);
    return n;
}

uint64_t tc_create_community(tc_client *cl, tc_world *w, const char *name) {
    CHECK(w->n_communities < TC_MAX_COMMUNITIES);
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__CreateCommunityRequest q = STRATA__V1__CREATE_COMMUNITY_REQUEST__INIT;
    q.request_id = (ProtobufCBinaryData){16, rid};
    q.name = (char *)name;
    q.street = (char *)"测试街道";
    q.min_notice_case = STRATA__V1__CREATE_COMMUNITY_REQUEST__MIN_NOTICE_MIN_NOTICE_DAYS;
    q.min_notice_days = 0;
    ProtobufCMessage *resp = WRITE_AS(cl, &w->sup, "/strata.v1.Registry/CreateCommunity", &q.base,
                                      &strata__v1__create_community_response__descriptor);
    uint64_t id = ((Strata__V1__CreateCommunityResponse *)resp)->community_id;
    protobuf_c_message_free_unpacked(resp, NULL);
    CHECK(id != 0);

    tc_key *org = &w->communities[w->n_communities].org;
    tc_key_new(org);
    tc_request_id(rid);
    Strata__V1__AppointOrganiserRequest a = STRATA__V1__APPOINT_ORGANISER_REQUEST__INIT;
    a.request_id = (ProtobufCBinaryData){16, rid};
    a.community_id = id;
    a.public_key = (ProtobufCBinaryData){32, org->pk};
    a.label = (char *)"业主委员会";
    resp = WRITE_AS(cl, &w->sup, "/strata.v1.Keys/AppointOrganiser", &a.base,
                    &strata__v1__key_response__descriptor);
    CHECK(memcmp(((Strata__V1__KeyResponse *)resp)->key_id.data, org->id, 16) == 0);
    protobuf_c_message_free_unpacked(resp, NULL);
    w->communities[w->n_communities++].id = id;
    return id;
}

uint64_t tc_world_setup(tc_client *cl, tc_cluster *c, tc_world *w, int n, const char *name) {
    tc_genesis(cl, w);
    tc_register_nodes(cl, c, w, n);
    return tc_create_community(cl, w, name);
}

uint64_t tc_import_roll(tc_client *cl, const tc_world *w, uint64_t community, const tc_roll *r) {
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__ImportRollRequest q = STRATA__V1__IMPORT_ROLL_REQUEST__INIT;
    q.request_id = (ProtobufCBinaryData){16, rid};
    q.community_id = community;
    q.n_units = r->n;
    q.units = r->ptrs;
    ProtobufCMessage *resp =
        WRITE_AS(cl, tc_organiser(w, community), "/strata.v1.Registry/ImportRoll", &q.base,
                 &strata__v1__import_roll_response__descriptor);
    Strata__V1__ImportRollResponse *ir = (void *)resp;
    CHECK_EQ(ir->unit_count, r->n);
    uint64_t v = ir->roll_version;
    protobuf_c_message_free_unpacked(resp, NULL);
    return v;
}

const tc_key *tc_enroll(tc_client *cl, tc_world *w, uint64_t community, const char *owner) {
    CHECK(strlen(owner) <= 64);
    /* The organiser's device draws the code and sends only the code key's public half. */
    char code[32];
    uint8_t raw[10];
    CHECK(getrandom(raw, sizeof(raw), 0) == sizeof(raw));
    for (size_t i = 0; i < sizeof(raw); i++) {
        snprintf(code + 2 * i, 3, "%02X", raw[i]);
    }
    uint8_t code_pk[32], code_sk[64];
    CHECK(st_enroll_code_keypair(community, owner, code, strlen(code), code_pk, code_sk) == ST_OK);
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__IssueEnrollmentRequest iq = STRATA__V1__ISSUE_ENROLLMENT_REQUEST__INIT;
    iq.request_id = (ProtobufCBinaryData){16, rid};
    iq.community_id = community;
    iq.owner_id = (char *)owner;
    iq.code_public_key = (ProtobufCBinaryData){32, code_pk};
    ProtobufCMessage *resp =
        WRITE_AS(cl, tc_organiser(w, community), "/strata.v1.Keys/IssueEnrollment", &iq.base,
                 &strata__v1__issue_enrollment_response__descriptor);
    CHECK(((Strata__V1__IssueEnrollmentResponse *)resp)->expires_ms > 0);
    protobuf_c_message_free_unpacked(resp, NULL);

    /* The owner's device: a new key, the enrollment bytes signed by it and by the code key
     * (derived again from the code as typed), the request signed by the new key. */
    if (w->n_owners == w->cap_owners) {
        w->cap_owners = w->cap_owners ? w->cap_owners * 2 : 16;
        w->owners = realloc(w->owners, w->cap_owners * sizeof(*w->owners));
        CHECK(w->owners != NULL);
    }
    tc_owner *o = &w->owners[w->n_owners];
    memset(o, 0, sizeof(*o));
    o->community = community;
    strcpy(o->owner, owner);
    tc_key_new(&o->key);
    uint8_t pk2[32], sk2[64];
    CHECK(st_enroll_code_keypair(community, owner, code, strlen(code), pk2, sk2) == ST_OK);
    CHECK(memcmp(pk2, code_pk, 32) == 0);
    uint8_t bytes[ST_ENROLL_MAX_LEN];
    size_t blen = 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t signed_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    CHECK(st_enroll_bytes(community, owner, o->key.pk, code_pk, signed_ms, bytes, &blen) == ST_OK);
    uint8_t sig[64], code_sig[64];
    CHECK(st_sign_detached(sig, ST_DOMAIN_ENROLL, bytes, blen, o->key.sk, NULL, 0) == ST_OK);
    CHECK(st_sign_detached(code_sig, ST_DOMAIN_ENROLL_CODE, bytes, blen, sk2, NULL, 0) == ST_OK);
    tc_request_id(rid);
    Strata__V1__RedeemEnrollmentRequest rq = STRATA__V1__REDEEM_ENROLLMENT_REQUEST__INIT;
    rq.request_id = (ProtobufCBinaryData){16, rid};
    rq.community_id = community;
    rq.owner_id = (char *)owner;
    rq.public_key = (ProtobufCBinaryData){32, o->key.pk};
    rq.code_public_key = (ProtobufCBinaryData){32, code_pk};
    rq.signed_ms = signed_ms;
    rq.signature = (ProtobufCBinaryData){64, sig};
    rq.code_signature = (ProtobufCBinaryData){64, code_sig};
    resp = WRITE_AS(cl, &o->key, "/strata.v1.Keys/RedeemEnrollment", &rq.base,
                    &strata__v1__key_response__descriptor);
    CHECK(memcmp(((Strata__V1__KeyResponse *)resp)->key_id.data, o->key.id, 16) == 0);
    protobuf_c_message_free_unpacked(resp, NULL);
    w->n_owners++;
    return &o->key;
}

uint64_t tc_create_vote(tc_client *cl, const tc_world *w, uint64_t community, uint32_t matter,
                        const char *title) {
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__CreateVoteRequest q = STRATA__V1__CREATE_VOTE_REQUEST__INIT;
    q.request_id = (ProtobufCBinaryData){16, rid};
    q.community_id = community;
    q.matter = matter;
    q.title = (char *)title;
    q.notice_case = STRATA__V1__CREATE_VOTE_REQUEST__NOTICE_NOTICE_DAYS;
    q.notice_days = 0;
    ProtobufCMessage *resp =
        WRITE_AS(cl, tc_organiser(w, community), "/strata.v1.Voting/CreateVote", &q.base,
                 &strata__v1__create_vote_response__descriptor);
    uint64_t id = ((Strata__V1__CreateVoteResponse *)resp)->vote_id;
    protobuf_c_message_free_unpacked(resp, NULL);
    return id;
}

int tc_vote_step(tc_client *cl, const tc_world *w, uint64_t community, const char *step,
                 uint64_t vote) {
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__VoteStepRequest q = STRATA__V1__VOTE_STEP_REQUEST__INIT;
    q.request_id = (ProtobufCBinaryData){16, rid};
    q.vote_id = vote;
    char method[64];
    snprintf(method, sizeof(method), "/strata.v1.Voting/%s", step);
    ProtobufCMessage *resp =
        WRITE_AS(cl, tc_organiser(w, community), method, &q.base, &strata__v1__vote__descriptor);
    int state = ((Strata__V1__Vote *)resp)->state;
    protobuf_c_message_free_unpacked(resp, NULL);
    return state;
}

/* ---- ballots ---- */

static uint64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void tc_ballot_request(const tc_key *key, uint64_t community, uint64_t vote, const char *owner,
                       int choice, const uint8_t *scan, tc_ballot_buf *buf,
                       Strata__V1__CastBallotRequest *q) {
    memset(buf, 0, sizeof(*buf));
    CHECK(strlen(owner) <= 64);
    strcpy(buf->owner, owner);
    tc_request_id(buf->rid);
    st_record rec;
    memset(&rec, 0, sizeof(rec));
    st_ballot *b = &rec.ballot;
    b->community_id = community;
    b->vote_id = vote;
    strcpy(b->owner_id, owner);
    b->kind = ST_BALLOT_KIND_CHOICE;
    b->choice = (uint8_t)choice;
    CHECK(getrandom(b->nonce, sizeof(b->nonce), 0) == sizeof(b->nonce));
    memcpy(buf->nonce, b->nonce, sizeof(buf->nonce));
    b->cast_ms = wall_ms();
    memcpy(b->key_id, key->id, 16);
    CHECK(st_ballot_encode_buf(b, buf->ballot, &buf->ballot_len, NULL, 0) == ST_OK);
    rec.source = scan != NULL ? ST_SOURCE_PAPER : ST_SOURCE_ONLINE;
    if (scan != NULL) {
        memcpy(rec.scan_sha256, scan, 32);
        memcpy(buf->scan, scan, 32);
    }
    CHECK(st_record_sign(&rec, key->sk, NULL, 0) == ST_OK);
    memcpy(buf->sig, rec.sig, 64);
    CHECK(st_record_encode_buf(&rec, buf->record, &buf->record_len, NULL, 0) == ST_OK);

    strata__v1__cast_ballot_request__init(q);
    q->request_id = (ProtobufCBinaryData){16, buf->rid};
    q->vote_id = vote;
    q->owner_id = buf->owner;
    q->ballot_case = STRATA__V1__CAST_BALLOT_REQUEST__BALLOT_CHOICE;
    q->choice = (Strata__V1__Choice)choice;
    q->source = scan != NULL ? STRATA__V1__BALLOT_SOURCE__BALLOT_PAPER
                             : STRATA__V1__BALLOT_SOURCE__BALLOT_ONLINE;
    if (scan != NULL) {
        q->paper_scan_sha256 = (ProtobufCBinaryData){32, buf->scan};
    }
    q->nonce = (ProtobufCBinaryData){16, buf->nonce};
    q->signed_ballot = (ProtobufCBinaryData){buf->ballot_len, buf->ballot};
    q->public_key = (ProtobufCBinaryData){32, (uint8_t *)key->pk};
    q->signature = (ProtobufCBinaryData){64, buf->sig};
}

static uint64_t cast_with(tc_client *cl, const tc_key *key, uint64_t community, uint64_t vote,
                          const char *owner, int choice, const uint8_t *scan, tc_cast_result *out) {
    tc_ballot_buf buf;
    Strata__V1__CastBallotRequest q;
    tc_ballot_request(key, community, vote, owner, choice, scan, &buf, &q);
    ProtobufCMessage *resp = WRITE_AS(cl, key, "/strata.v1.Voting/CastBallot", &q.base,
                                      &strata__v1__cast_ballot_response__descriptor);
    Strata__V1__CastBallotResponse *r = (void *)resp;
    uint64_t seq = r->seq;
    CHECK_EQ(r->receipt.len, ST_RECEIPT_LEN);
    CHECK_EQ(r->leaf_index, seq - 1);
    if (out != NULL) {
        memset(out, 0, sizeof(*out));
        out->seq = seq;
        CHECK(st_receipt_decode(&out->receipt, r->receipt.data, r->receipt.len, NULL, 0) == ST_OK);
        CHECK_EQ(out->receipt.leaf_index, r->leaf_index);
        CHECK_EQ(out->receipt.sth.tree_size, r->tree_size);
        CHECK_EQ(out->receipt.sth.vote_id, vote);
        memcpy(out->record, buf.record, buf.record_len);
        out->record_len = buf.record_len;
    }
    protobuf_c_message_free_unpacked(resp, NULL);
    return seq;
}

uint64_t tc_cast(tc_client *cl, const tc_world *w, uint64_t community, uint64_t vote,
                 const char *owner, int choice, tc_cast_result *out) {
    const tc_key *key = tc_owner_key(w, community, owner);
    if (key == NULL) {
        fprintf(stderr, "owner %s of community %llu is not enrolled in this test\n", owner,
                (unsigned long long)community);
        CHECK(false);
    }
    return cast_with(cl, key, community, vote, owner, choice, NULL, out);
}

uint64_t tc_cast_paper(tc_client *cl, const tc_world *w, uint64_t community, uint64_t vote,
                       const char *owner, int choice, const uint8_t scan[32], tc_cast_result *out) {
    return cast_with(cl, tc_organiser(w, community), community, vote, owner, choice, scan, out);
}

void tc_check_receipt(const tc_cast_result *r, const st_trusted_key *keys, size_t n) {
    char err[256] = "";
    int rc = st_receipt_verify(&r->receipt, keys, n, r->record, r->record_len, err, sizeof(err));
    if (rc != ST_OK) {
        fprintf(stderr, "receipt of ballot %llu does not verify: %s\n", (unsigned long long)r->seq,
                err);
    }
    CHECK_EQ(rc, ST_OK);
}

Strata__V1__Vote *tc_get_vote(tc_client *cl, int id, uint64_t vote) {
    Strata__V1__GetVoteRequest q = STRATA__V1__GET_VOTE_REQUEST__INIT;
    q.vote_id = vote;
    q.allow_stale = id != 0;
    ProtobufCMessage *resp;
    tc_status st;
    int code = id != 0 ? tc_unary(cl, id, "/strata.v1.Voting/GetVote", &q.base,
                                  &strata__v1__vote__descriptor, &resp, &st, 5000)
                       : tc_leader_call(cl, "/strata.v1.Voting/GetVote", &q.base,
                                        &strata__v1__vote__descriptor, &resp, &st, TC_WRITE_MS);
    CALL_CHECK(code, st);
    return (Strata__V1__Vote *)resp;
}

void tc_export(tc_client *cl, uint64_t vote, Strata__V1__Ballot ***ballots, size_t *n) {
    tc_export_within(cl, vote, 10000, ballots, n);
}

void tc_export_within(tc_client *cl, uint64_t vote, int stream_ms, Strata__V1__Ballot ***ballots,
                      size_t *n) {
    Strata__V1__ExportBallotsRequest q = STRATA__V1__EXPORT_BALLOTS_REQUEST__INIT;
    q.vote_id = vote;
    uint64_t until = tc_now_ms() + TC_WRITE_MS;
    for (;;) {
        int leader = tc_client_leader(cl);
        tc_status st;
        ProtobufCMessage **msgs;
        int code = tc_stream(cl, leader != 0 ? leader : 1, "/strata.v1.Audit/ExportBallots",
                             &q.base, &strata__v1__ballot__descriptor, &msgs, n, &st, stream_ms);
        if (code == GRPC_STATUS_OK) {
            *ballots = (Strata__V1__Ballot **)msgs;
            return;
        }
        tc_free_msgs(msgs, *n);
        if (code != GRPC_STATUS_UNAVAILABLE || tc_now_ms() > until) {
            CALL_CHECK(code, st);
        }
        /* Find the leader again with a cheap linearizable read, then retry the stream. */
        Strata__V1__Vote *v = tc_get_vote(cl, 0, vote);
        protobuf_c_message_free_unpacked(&v->base, NULL);
    }
}

void tc_check_recount(const Strata__V1__Vote *v, Strata__V1__Ballot **ballots, size_t n,
                      const tc_roll *roll) {
    /* Each owner's last ballot, by sequence. */
    int *last_choice = calloc(roll->n, sizeof(int));
    uint64_t *last_seq = calloc(roll->n, sizeof(uint64_t));
    CHECK(last_choice != NULL && last_seq != NULL);
    for (size_t i = 0; i < n; i++) {
        const Strata__V1__Ballot *b = ballots[i];
        CHECK_EQ(b->seq, i + 1); /* the history is complete and in order */
        size_t u = 0;
        while (u < roll->n && strcmp(roll->units[u].owner_id, b->owner_id) != 0) {
            u++;
        }
        CHECK(u < roll->n);
        if (b->seq > last_seq[u]) {
            last_seq[u] = b->seq;
            last_choice[u] = b->choice;
        }
    }
    for (size_t i = 0; i < n; i++) {
        size_t u = 0;
        while (strcmp(roll->units[u].owner_id, ballots[i]->owner_id) != 0) {
            u++;
        }
        CHECK_EQ(ballots[i]->current, ballots[i]->seq == last_seq[u]);
    }
    st_weight w[4] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
    for (size_t u = 0; u < roll->n; u++) {
        /* generated and example rolls: recount per owner id once (first unit holds it) */
        bool first = true;
        for (size_t k = 0; k < u; k++) {
            if (strcmp(roll->units[k].owner_id, roll->units[u].owner_id) == 0) {
                first = false;
            }
        }
        if (!first || last_choice[u] == 0) {
            continue;
        }
        w[last_choice[u]].area += tc_roll_owner_area(roll, roll->units[u].owner_id);
        w[last_choice[u]].owners += 1;
    }
    const Strata__V1__Tally *t = v->tally;
    CHECK(t != NULL);
    CHECK_EQ(t->agree_area, w[1].area);
    CHECK_EQ(t->agree_owners, w[1].owners);
    CHECK_EQ(t->disagree_area, w[2].area);
    CHECK_EQ(t->disagree_owners, w[2].owners);
    CHECK_EQ(t->abstain_area, w[3].area);
    CHECK_EQ(t->abstain_owners, w[3].owners);
    CHECK_EQ(t->part_owners, w[1].owners + w[2].owners + w[3].owners);
    CHECK_EQ(v->ballot_count, n);
    free(last_choice);
    free(last_seq);
}

Strata__V1__StatusResponse *tc_status_of(tc_client *cl, int id, int timeout_ms) {
    Strata__V1__StatusRequest q = STRATA__V1__STATUS_REQUEST__INIT;
    ProtobufCMessage *resp;
    tc_status st;
    if (tc_unary(cl, id, "/strata.v1.Cluster/Status", &q.base,
                 &strata__v1__status_response__descriptor, &resp, &st,
                 timeout_ms) != GRPC_STATUS_OK) {
        if (getenv("STRATA_TEST_VERBOSE") != NULL) {
            fprintf(stderr, "  status of node %d: %d %s\n", id, (int)st.code, st.details);
        }
        return NULL;
    }
    return (Strata__V1__StatusResponse *)resp;
}

bool tc_state_digest(tc_client *cl, int id, uint8_t digest[32], uint64_t *index, int timeout_ms) {
    Strata__V1__StatusRequest q = STRATA__V1__STATUS_REQUEST__INIT;
    q.with_digest = true;
    ProtobufCMessage *resp;
    tc_status st;
    if (tc_unary(cl, id, "/strata.v1.Cluster/Status", &q.base,
                 &strata__v1__status_response__descriptor, &resp, &st,
                 timeout_ms) != GRPC_STATUS_OK) {
        return false;
    }
    Strata__V1__StatusResponse *s = (Strata__V1__StatusResponse *)resp;
    CHECK_EQ(s->state_digest.len, 32);
    memcpy(digest, s->state_digest.data, 32);
    *index = s->digest_index;
    protobuf_c_message_free_unpacked(resp, NULL);
    return true;
}

bool tc_same_state(tc_client *cl, tc_cluster *c, int n, int timeout_ms, uint64_t *index) {
    uint64_t until = tc_now_ms() + (uint64_t)timeout_ms;
    do {
        uint8_t first[32], d[32];
        uint64_t first_index = 0, idx = 0;
        bool same = true, any = false;
        for (int id = 1; id <= n && same; id++) {
            if (!tc_running(c, id)) {
                continue;
            }
            if (!tc_state_digest(cl, id, d, &idx, 2000)) {
                same = false;
            } else if (!any) {
                memcpy(first, d, 32);
                first_index = idx;
                any = true;
            } else if (idx != first_index) {
                same = false; /* not caught up yet: ask again */
            } else {
                /* Same index, different contents: the replicas diverged. */
                CHECK(memcmp(d, first, 32) == 0);
            }
        }
        if (same && any) {
            *index = first_index;
            return true;
        }
        tc_sleep_ms(50);
    } while (tc_now_ms() < until);
    return false;
}

int tc_wait_leader(tc_client *cl, tc_cluster *c, int n, int timeout_ms) {
    uint64_t until = tc_now_ms() + (uint64_t)timeout_ms;
    do {
        for (int id = 1; id <= n; id++) {
            if (!tc_running(c, id)) {
                continue;
            }
            Strata__V1__StatusResponse *s = tc_status_of(cl, id, 300);
            bool leads = s != NULL && s->ready && strcmp(s->state, "leader") == 0;
            if (s != NULL) {
                protobuf_c_message_free_unpacked(&s->base, NULL);
            }
            if (leads) {
                return id;
            }
        }
        tc_sleep_ms(20);
    } while (tc_now_ms() < until);
    return 0;
}

uint64_t tc_leader_commit(tc_client *cl) {
    Strata__V1__GetCommunityRequest q = STRATA__V1__GET_COMMUNITY_REQUEST__INIT;
    q.community_id = UINT64_MAX; /* none: NOT_FOUND, answered after the barrier */
    tc_status st;
    int code = tc_leader_call(cl, "/strata.v1.Registry/GetCommunity", &q.base,
                              &strata__v1__community__descriptor, NULL, &st, TC_WRITE_MS);
    if (code != GRPC_STATUS_NOT_FOUND) {
        fprintf(stderr, "linearizable read: status %d: %s\n", code, st.details);
        CHECK(false);
    }
    Strata__V1__StatusResponse *s = tc_status_of(cl, st.node, 5000);
    CHECK(s != NULL);
    uint64_t commit = s->commit_index;
    protobuf_c_message_free_unpacked(&s->base, NULL);
    return commit;
}

bool tc_wait_applied(tc_client *cl, int id, uint64_t index, int timeout_ms) {
    uint64_t until = tc_now_ms() + (uint64_t)timeout_ms;
    do {
        Strata__V1__StatusResponse *s = tc_status_of(cl, id, 500);
        bool done = s != NULL && s->applied_index >= index;
        if (s != NULL) {
            protobuf_c_message_free_unpacked(&s->base, NULL);
        }
        if (done) {
            return true;
        }
        tc_sleep_ms(50);
    } while (tc_now_ms() < until);
    return false;
}
