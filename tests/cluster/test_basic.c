/* test_basic.c - three real stratad processes bootstrap a cluster and run DOMAIN.md's worked
 * example end to end over gRPC: community, roll, an ordinary and a special vote through
 * their whole lifecycle, the example ballots, the published results read from every node
 * (stale) and from the leader (linearizable); a follower refuses a write with UNAVAILABLE
 * and names the leader's gRPC address in `strata-leader`; the documented error codes;
 * a retried request applies once.
 *
 * Usage: cluster_basic STRATAD DATA_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cluster/steps.h"
#include "tests/core/check.h"

#define N 3

typedef struct {
    char owner[16];
    int choice;
} example_ballot;

/* tests/data/example-ballots.csv: owner_id,choice */
static size_t read_ballots(const char *path, example_ballot *out, size_t cap) {
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    char line[128];
    size_t n = 0;
    CHECK(fgets(line, sizeof(line), f) != NULL); /* header */
    while (fgets(line, sizeof(line), f) != NULL && n < cap) {
        char *comma = strchr(line, ',');
        if (comma == NULL) {
            continue;
        }
        *comma = '\0';
        CHECK(strlen(line) < sizeof(out[n].owner));
        memcpy(out[n].owner, line, strlen(line) + 1);
        out[n].choice = strncmp(comma + 1, "agree", 5) == 0      ? 1
                        : strncmp(comma + 1, "disagree", 8) == 0 ? 2
                                                                 : 3;
        n++;
    }
    fclose(f);
    return n;
}

static void check_result(const Strata__V1__Vote *v, bool passes) {
    const Strata__V1__Tally *t = v->tally;
    CHECK_EQ(v->state, STRATA__V1__VOTE_STATE__VOTE_PUBLISHED);
    CHECK_EQ(t->total_area, 134450);
    CHECK_EQ(t->total_owners, 10);
    CHECK_EQ(t->part_area, 128950);
    CHECK_EQ(t->part_owners, 9);
    CHECK_EQ(t->agree_area, 84715);
    CHECK_EQ(t->agree_owners, 6);
    CHECK(t->quorum);
    CHECK_EQ(t->passed, passes);
}

/* A call expected to fail with `code`; returns its details. */
static void expect_code(tc_client *cl, int node, const char *method, const ProtobufCMessage *req,
                        const ProtobufCMessageDescriptor *out, grpc_status_code code) {
    tc_status st;
    ProtobufCMessage *resp = NULL;
    int got = node != 0 ? tc_unary(cl, node, method, req, out, &resp, &st, 5000)
                        : tc_leader_call(cl, method, req, out, &resp, &st, TC_WRITE_MS);
    if (got != (int)code) {
        fprintf(stderr, "%s: expected status %d, got %d: %s\n", method, (int)code, got, st.details);
    }
    CHECK_EQ(got, code);
    CHECK(resp == NULL);
    printf("  %s -> %d: %s\n", method, got, st.details);
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    char path[1024];
    tc_options o = {.stratad = argv[1]};
    tc_cluster *c = tc_new(&o, "basic");
    for (int i = 1; i <= N; i++) {
        tc_start(c, i, false);
    }
    tc_client *cl = tc_client_new(c);
    uint64_t t0 = tc_now_ms();
    int leader = tc_wait_leader(cl, c, N, 15000);
    CHECK(leader != 0);
    printf("leader: node %d, ready after %llu ms\n", leader,
           (unsigned long long)(tc_now_ms() - t0));

    /* A follower refuses a write and names the leader. */
    int follower = leader % N + 1;
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__CreateCommunityRequest cc = STRATA__V1__CREATE_COMMUNITY_REQUEST__INIT;
    cc.request_id = (ProtobufCBinaryData){16, rid};
    cc.name = (char *)"follower write";
    cc.street = (char *)"s";
    tc_status st;
    CHECK_EQ(tc_unary(cl, follower, "/strata.v1.Registry/CreateCommunity", &cc.base,
                      &strata__v1__create_community_response__descriptor, NULL, &st, 5000),
             GRPC_STATUS_UNAVAILABLE);
    printf("follower %d: UNAVAILABLE (%s), strata-leader = %s\n", follower, st.details, st.leader);
    CHECK_STR(st.leader, tc_grpc_addr(c, leader));

    /* The worked example: its community is the first, so the follower created nothing. */
    uint64_t community = tc_create_community(cl, "阳光花园");
    CHECK_EQ(community, 1);
    tc_roll roll;
    snprintf(path, sizeof(path), "%s/example-roll.csv", argv[2]);
    tc_roll_from_csv(path, &roll);
    CHECK_EQ(tc_import_roll(cl, community, &roll), 1);

    uint64_t ordinary = tc_create_vote(cl, community, 4, "选聘物业服务企业");
    uint64_t special = tc_create_vote(cl, community, 6, "筹集维修资金");
    uint64_t votes[2] = {ordinary, special};
    for (int k = 0; k < 2; k++) {
        CHECK_EQ(tc_vote_step(cl, "NoticeVote", votes[k]), STRATA__V1__VOTE_STATE__VOTE_NOTICED);
        CHECK_EQ(tc_vote_step(cl, "OpenVote", votes[k]), STRATA__V1__VOTE_STATE__VOTE_OPEN);
    }
    example_ballot ballots[32];
    snprintf(path, sizeof(path), "%s/example-ballots.csv", argv[2]);
    size_t nb = read_ballots(path, ballots, 32);
    CHECK_EQ(nb, 9);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < nb; i++) {
            CHECK_EQ(tc_cast(cl, votes[k], ballots[i].owner, ballots[i].choice), i + 1);
        }
    }

    /* A retry with the same request_id returns the first answer and adds nothing. */
    tc_request_id(rid);
    Strata__V1__CastBallotRequest cb = STRATA__V1__CAST_BALLOT_REQUEST__INIT;
    cb.request_id = (ProtobufCBinaryData){16, rid};
    cb.vote_id = ordinary;
    cb.owner_id = (char *)"O1";
    cb.ballot_case = STRATA__V1__CAST_BALLOT_REQUEST__BALLOT_CHOICE;
    cb.choice = STRATA__V1__CHOICE__CHOICE_AGREE;
    cb.source = STRATA__V1__BALLOT_SOURCE__BALLOT_ONLINE;
    uint64_t seqs[2];
    for (int k = 0; k < 2; k++) {
        ProtobufCMessage *resp;
        CHECK_EQ(tc_leader_call(cl, "/strata.v1.Voting/CastBallot", &cb.base,
                                &strata__v1__cast_ballot_response__descriptor, &resp, &st,
                                TC_WRITE_MS),
                 GRPC_STATUS_OK);
        seqs[k] = ((Strata__V1__CastBallotResponse *)resp)->seq;
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    CHECK_EQ(seqs[0], 10);
    CHECK_EQ(seqs[1], 10);

    for (int k = 0; k < 2; k++) {
        CHECK_EQ(tc_vote_step(cl, "CloseVote", votes[k]), STRATA__V1__VOTE_STATE__VOTE_CLOSED);
        CHECK_EQ(tc_vote_step(cl, "PublishVote", votes[k]), STRATA__V1__VOTE_STATE__VOTE_PUBLISHED);
    }

    /* The results, linearizable from the leader and stale from every node once applied. */
    Strata__V1__Vote *v = tc_get_vote(cl, 0, ordinary);
    check_result(v, true);
    CHECK_EQ(v->ballot_count, 10);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    v = tc_get_vote(cl, 0, special);
    check_result(v, false);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    Strata__V1__StatusResponse *ls = tc_status_of(cl, tc_client_leader(cl), 2000);
    CHECK(ls != NULL);
    uint64_t commit = ls->commit_index;
    protobuf_c_message_free_unpacked(&ls->base, NULL);
    for (int i = 1; i <= N; i++) {
        CHECK(tc_wait_applied(cl, i, commit, 10000));
        v = tc_get_vote(cl, i, ordinary);
        check_result(v, true);
        protobuf_c_message_free_unpacked(&v->base, NULL);
        v = tc_get_vote(cl, i, special);
        check_result(v, false);
        protobuf_c_message_free_unpacked(&v->base, NULL);
        printf("node %d: part 128950/9, agree 84715/6; matter 4 passes, matter 6 fails\n", i);
    }

    /* The ballot history, the owner's view, the trail, the listing and the masked roll. */
    Strata__V1__Ballot **hist;
    size_t nh;
    tc_export(cl, ordinary, &hist, &nh);
    CHECK_EQ(nh, 10);
    v = tc_get_vote(cl, 0, ordinary);
    tc_check_recount(v, hist, nh, &roll);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    tc_free_msgs((ProtobufCMessage **)hist, nh);

    Strata__V1__MyBallotsRequest mb = STRATA__V1__MY_BALLOTS_REQUEST__INIT;
    mb.vote_id = ordinary;
    mb.owner_id = (char *)"O1";
    ProtobufCMessage *resp;
    CHECK_EQ(tc_leader_call(cl, "/strata.v1.Voting/MyBallots", &mb.base,
                            &strata__v1__my_ballots_response__descriptor, &resp, &st, TC_WRITE_MS),
             GRPC_STATUS_OK);
    Strata__V1__MyBallotsResponse *mine = (void *)resp;
    CHECK_EQ(mine->n_ballots, 2);
    CHECK(!mine->ballots[0]->current && mine->ballots[1]->current);
    protobuf_c_message_free_unpacked(resp, NULL);

    Strata__V1__ListVotesRequest lv = STRATA__V1__LIST_VOTES_REQUEST__INIT;
    lv.community_id = community;
    CHECK_EQ(tc_leader_call(cl, "/strata.v1.Voting/ListVotes", &lv.base,
                            &strata__v1__list_votes_response__descriptor, &resp, &st, TC_WRITE_MS),
             GRPC_STATUS_OK);
    CHECK_EQ(((Strata__V1__ListVotesResponse *)resp)->n_votes, 2);
    protobuf_c_message_free_unpacked(resp, NULL);

    Strata__V1__TrailRequest tr = STRATA__V1__TRAIL_REQUEST__INIT;
    tr.community_id = community;
    CHECK_EQ(tc_leader_call(cl, "/strata.v1.Audit/Trail", &tr.base,
                            &strata__v1__trail_response__descriptor, &resp, &st, TC_WRITE_MS),
             GRPC_STATUS_OK);
    /* community, roll, 2 x (create, notice, open, close, publish), 19 ballots */
    CHECK_EQ(((Strata__V1__TrailResponse *)resp)->n_events, 2 + 10 + 19);
    protobuf_c_message_free_unpacked(resp, NULL);

    Strata__V1__ListUnitsRequest lu = STRATA__V1__LIST_UNITS_REQUEST__INIT;
    lu.community_id = community;
    CHECK_EQ(tc_leader_call(cl, "/strata.v1.Registry/ListUnits", &lu.base,
                            &strata__v1__list_units_response__descriptor, &resp, &st, TC_WRITE_MS),
             GRPC_STATUS_OK);
    Strata__V1__ListUnitsResponse *units = (void *)resp;
    CHECK_EQ(units->n_units, 12);
    CHECK_STR(units->units[0]->owner_name, "王**");
    CHECK_STR(units->units[11]->owner_name, "周*;吴*");
    CHECK_STR(units->units[7]->owner_name, "华北置业有限公司"); /* the developer: not masked */
    protobuf_c_message_free_unpacked(resp, NULL);

    /* Error codes the API documents. */
    Strata__V1__GetVoteRequest gv = STRATA__V1__GET_VOTE_REQUEST__INIT;
    gv.vote_id = 999;
    expect_code(cl, 0, "/strata.v1.Voting/GetVote", &gv.base, &strata__v1__vote__descriptor,
                GRPC_STATUS_NOT_FOUND);
    tc_request_id(rid);
    expect_code(cl, 0, "/strata.v1.Voting/CastBallot", &cb.base,
                &strata__v1__cast_ballot_response__descriptor, GRPC_STATUS_FAILED_PRECONDITION);
    cc.request_id.len = 8;
    expect_code(cl, 0, "/strata.v1.Registry/CreateCommunity", &cc.base,
                &strata__v1__create_community_response__descriptor, GRPC_STATUS_INVALID_ARGUMENT);
    cc.request_id.len = 16;
    cc.name = (char *)"阳光花园";
    cc.street = (char *)"测试街道";
    expect_code(cl, 0, "/strata.v1.Registry/CreateCommunity", &cc.base,
                &strata__v1__create_community_response__descriptor, GRPC_STATUS_ALREADY_EXISTS);
    Strata__V1__GetTreeHeadRequest th = STRATA__V1__GET_TREE_HEAD_REQUEST__INIT;
    th.vote_id = ordinary;
    expect_code(cl, 0, "/strata.v1.Audit/GetTreeHead", &th.base, &strata__v1__tree_head__descriptor,
                GRPC_STATUS_UNIMPLEMENTED);
    /* A linearizable read on a follower is refused with the leader named. */
    gv.vote_id = ordinary;
    follower = tc_client_leader(cl) % N + 1;
    expect_code(cl, follower, "/strata.v1.Voting/GetVote", &gv.base, &strata__v1__vote__descriptor,
                GRPC_STATUS_UNAVAILABLE);

    /* A 20,000-unit roll in one call, and back in one answer. */
    uint64_t big = tc_create_community(cl, "两万户社区");
    tc_roll bigroll;
    tc_roll_generated(20000, &bigroll);
    uint64_t t1 = tc_now_ms();
    CHECK_EQ(tc_import_roll(cl, big, &bigroll), 1);
    uint64_t import_ms = tc_now_ms() - t1;
    lu.community_id = big;
    t1 = tc_now_ms();
    CHECK_EQ(tc_leader_call(cl, "/strata.v1.Registry/ListUnits", &lu.base,
                            &strata__v1__list_units_response__descriptor, &resp, &st, TC_WRITE_MS),
             GRPC_STATUS_OK);
    units = (void *)resp;
    CHECK_EQ(units->n_units, 20000);
    CHECK_STR(units->units[19999]->unit, "U-20000");
    printf("20,000-unit roll imported in one call (%llu ms) and listed in one answer of %zu "
           "bytes (%llu ms)\n",
           (unsigned long long)import_ms, protobuf_c_message_get_packed_size(resp),
           (unsigned long long)(tc_now_ms() - t1));
    protobuf_c_message_free_unpacked(resp, NULL);
    tc_roll_free(&bigroll);

    tc_roll_free(&roll);
    tc_client_free(cl);
    tc_finish(c);
    printf("ok\n");
    return 0;
}
