/* test_restart.c - all three nodes killed with -9 and restarted: the published result of
 * the worked example, every acknowledged ballot of a vote still open, and the trail are all
 * still there, equal on every node; the cluster elects a leader and accepts writes again
 * (the keys registered before the kill still sign: the registry is replicated state).
 * Owners cast online ballots signed with their enrolled keys.
 *
 * Usage: cluster_restart STRATAD DATA_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cluster/steps.h"
#include "tests/core/check.h"

#define N 3
#define OPEN_WRITES 150

static const struct {
    const char *owner;
    int choice;
} example[] = {{"O1", 1}, {"O2", 1}, {"O3", 2}, {"O4", 1}, {"O5", 3},
               {"O6", 1}, {"O7", 1}, {"O9", 1}, {"DEV", 2}};

static void check_published(const Strata__V1__Vote *v) {
    CHECK_EQ(v->state, STRATA__V1__VOTE_STATE__VOTE_PUBLISHED);
    CHECK_EQ(v->tally->part_area, 128950);
    CHECK_EQ(v->tally->part_owners, 9);
    CHECK_EQ(v->tally->agree_area, 84715);
    CHECK_EQ(v->tally->agree_owners, 6);
    CHECK(v->tally->quorum && v->tally->passed);
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    char path[1024];
    tc_options o = {.stratad = argv[1]};
    tc_cluster *c = tc_new(&o, "restart");
    for (int i = 1; i <= N; i++) {
        tc_start(c, i, false);
    }
    tc_client *cl = tc_client_new(c);
    CHECK(tc_wait_leader(cl, c, N, 15000) != 0);

    tc_world w;
    tc_world_init(&w);
    uint64_t community = tc_world_setup(cl, c, &w, N, "阳光花园");
    tc_roll roll;
    snprintf(path, sizeof(path), "%s/example-roll.csv", argv[2]);
    tc_roll_from_csv(path, &roll);
    tc_import_roll(cl, &w, community, &roll);
    uint64_t done = tc_create_vote(cl, &w, community, 4, "选聘物业服务企业");
    uint64_t open = tc_create_vote(cl, &w, community, 9, "其他重大事项");
    uint64_t votes[2] = {done, open};
    for (int k = 0; k < 2; k++) {
        tc_vote_step(cl, &w, community, "NoticeVote", votes[k]);
        tc_vote_step(cl, &w, community, "OpenVote", votes[k]);
    }
    for (size_t i = 0; i < sizeof(example) / sizeof(example[0]); i++) {
        tc_enroll(cl, &w, community, example[i].owner);
    }
    tc_enroll(cl, &w, community, "O8");
    for (size_t i = 0; i < sizeof(example) / sizeof(example[0]); i++) {
        tc_cast(cl, &w, community, done, example[i].owner, example[i].choice, NULL);
    }
    tc_vote_step(cl, &w, community, "CloseVote", done);
    tc_vote_step(cl, &w, community, "PublishVote", done);
    /* The open vote: acknowledged ballots right up to the kill. */
    uint64_t last_seq = 0;
    for (int i = 0; i < OPEN_WRITES; i++) {
        last_seq = tc_cast(cl, &w, community, open, example[i % 9].owner, 1 + i % 3, NULL);
    }
    CHECK_EQ(last_seq, OPEN_WRITES);
    Strata__V1__Vote *before = tc_get_vote(cl, 0, open);

    for (int i = 1; i <= N; i++) {
        tc_kill(c, i);
    }
    printf("all %d nodes killed -9 right after %d acknowledged ballots\n", N, OPEN_WRITES);
    uint64_t t0 = tc_now_ms();
    for (int i = 1; i <= N; i++) {
        tc_start(c, i, false);
    }
    int leader = tc_wait_leader(cl, c, N, 20000);
    CHECK(leader != 0);
    printf("restarted: node %d leads, ready %llu ms after the restart\n", leader,
           (unsigned long long)(tc_now_ms() - t0));

    Strata__V1__Vote *v = tc_get_vote(cl, 0, done);
    check_published(v);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    Strata__V1__Vote *after = tc_get_vote(cl, 0, open);
    CHECK_EQ(after->ballot_count, OPEN_WRITES);
    CHECK_EQ(after->tally->agree_area, before->tally->agree_area);
    CHECK_EQ(after->tally->part_owners, before->tally->part_owners);
    Strata__V1__Ballot **hist;
    size_t nh;
    tc_export(cl, open, &hist, &nh);
    CHECK_EQ(nh, OPEN_WRITES);
    tc_check_recount(after, hist, nh, &roll);
    tc_free_msgs((ProtobufCMessage **)hist, nh);

    uint64_t commit = tc_leader_commit(cl);
    for (int i = 1; i <= N; i++) {
        CHECK(tc_wait_applied(cl, i, commit, 20000));
        v = tc_get_vote(cl, i, done);
        check_published(v);
        protobuf_c_message_free_unpacked(&v->base, NULL);
        v = tc_get_vote(cl, i, open);
        CHECK_EQ(v->ballot_count, OPEN_WRITES);
        protobuf_c_message_free_unpacked(&v->base, NULL);
    }
    printf("every node: the published result and all %d ballots of the open vote\n", OPEN_WRITES);

    /* Writing goes on where it stopped, signed by a key enrolled before the kill. */
    CHECK_EQ(tc_cast(cl, &w, community, open, "O8", 1, NULL), OPEN_WRITES + 1);

    protobuf_c_message_free_unpacked(&before->base, NULL);
    protobuf_c_message_free_unpacked(&after->base, NULL);
    tc_roll_free(&roll);
    tc_world_free(&w);
    tc_client_free(cl);
    tc_finish(c);
    printf("ok\n");
    return 0;
}
