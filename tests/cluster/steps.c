/* steps.c - the domain steps of the cluster tests (steps.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/error.h"
#include "core/roll_csv.h"
#include "core/tally.h"
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

uint64_t tc_create_community(tc_client *cl, const char *name) {
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__CreateCommunityRequest q = STRATA__V1__CREATE_COMMUNITY_REQUEST__INIT;
    q.request_id = (ProtobufCBinaryData){16, rid};
    q.name = (char *)name;
    q.street = (char *)"测试街道";
    q.min_notice_case = STRATA__V1__CREATE_COMMUNITY_REQUEST__MIN_NOTICE_MIN_NOTICE_DAYS;
    q.min_notice_days = 0;
    ProtobufCMessage *resp;
    tc_status st;
    int code =
        tc_leader_call(cl, "/strata.v1.Registry/CreateCommunity", &q.base,
                       &strata__v1__create_community_response__descriptor, &resp, &st, TC_WRITE_MS);
    CALL_CHECK(code, st);
    uint64_t id = ((Strata__V1__CreateCommunityResponse *)resp)->community_id;
    protobuf_c_message_free_unpacked(resp, NULL);
    CHECK(id != 0);
    return id;
}

uint64_t tc_import_roll(tc_client *cl, uint64_t community, const tc_roll *r) {
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__ImportRollRequest q = STRATA__V1__IMPORT_ROLL_REQUEST__INIT;
    q.request_id = (ProtobufCBinaryData){16, rid};
    q.community_id = community;
    q.n_units = r->n;
    q.units = r->ptrs;
    ProtobufCMessage *resp;
    tc_status st;
    int code =
        tc_leader_call(cl, "/strata.v1.Registry/ImportRoll", &q.base,
                       &strata__v1__import_roll_response__descriptor, &resp, &st, TC_WRITE_MS);
    CALL_CHECK(code, st);
    Strata__V1__ImportRollResponse *ir = (void *)resp;
    CHECK_EQ(ir->unit_count, r->n);
    uint64_t v = ir->roll_version;
    protobuf_c_message_free_unpacked(resp, NULL);
    return v;
}

uint64_t tc_create_vote(tc_client *cl, uint64_t community, uint32_t matter, const char *title) {
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__CreateVoteRequest q = STRATA__V1__CREATE_VOTE_REQUEST__INIT;
    q.request_id = (ProtobufCBinaryData){16, rid};
    q.community_id = community;
    q.matter = matter;
    q.title = (char *)title;
    q.notice_case = STRATA__V1__CREATE_VOTE_REQUEST__NOTICE_NOTICE_DAYS;
    q.notice_days = 0;
    ProtobufCMessage *resp;
    tc_status st;
    int code =
        tc_leader_call(cl, "/strata.v1.Voting/CreateVote", &q.base,
                       &strata__v1__create_vote_response__descriptor, &resp, &st, TC_WRITE_MS);
    CALL_CHECK(code, st);
    uint64_t id = ((Strata__V1__CreateVoteResponse *)resp)->vote_id;
    protobuf_c_message_free_unpacked(resp, NULL);
    return id;
}

int tc_vote_step(tc_client *cl, const char *step, uint64_t vote) {
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__VoteStepRequest q = STRATA__V1__VOTE_STEP_REQUEST__INIT;
    q.request_id = (ProtobufCBinaryData){16, rid};
    q.vote_id = vote;
    char method[64];
    snprintf(method, sizeof(method), "/strata.v1.Voting/%s", step);
    ProtobufCMessage *resp;
    tc_status st;
    int code =
        tc_leader_call(cl, method, &q.base, &strata__v1__vote__descriptor, &resp, &st, TC_WRITE_MS);
    CALL_CHECK(code, st);
    int state = ((Strata__V1__Vote *)resp)->state;
    protobuf_c_message_free_unpacked(resp, NULL);
    return state;
}

uint64_t tc_cast(tc_client *cl, uint64_t vote, const char *owner, int choice) {
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__CastBallotRequest q = STRATA__V1__CAST_BALLOT_REQUEST__INIT;
    q.request_id = (ProtobufCBinaryData){16, rid};
    q.vote_id = vote;
    q.owner_id = (char *)owner;
    q.ballot_case = STRATA__V1__CAST_BALLOT_REQUEST__BALLOT_CHOICE;
    q.choice = (Strata__V1__Choice)choice;
    q.source = STRATA__V1__BALLOT_SOURCE__BALLOT_ONLINE;
    ProtobufCMessage *resp;
    tc_status st;
    int code =
        tc_leader_call(cl, "/strata.v1.Voting/CastBallot", &q.base,
                       &strata__v1__cast_ballot_response__descriptor, &resp, &st, TC_WRITE_MS);
    CALL_CHECK(code, st);
    uint64_t seq = ((Strata__V1__CastBallotResponse *)resp)->seq;
    protobuf_c_message_free_unpacked(resp, NULL);
    return seq;
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
    Strata__V1__ExportBallotsRequest q = STRATA__V1__EXPORT_BALLOTS_REQUEST__INIT;
    q.vote_id = vote;
    uint64_t until = tc_now_ms() + TC_WRITE_MS;
    for (;;) {
        int leader = tc_client_leader(cl);
        tc_status st;
        ProtobufCMessage **msgs;
        int code = tc_stream(cl, leader != 0 ? leader : 1, "/strata.v1.Audit/ExportBallots",
                             &q.base, &strata__v1__ballot__descriptor, &msgs, n, &st, 10000);
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
