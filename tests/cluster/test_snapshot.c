/* test_snapshot.c - a follower is stopped, the others write far past the snapshot
 * threshold (64, trailing 32), and the follower, restarted, catches up through an installed
 * snapshot (its log says so; the leader no longer holds the entries it missed): its applied
 * index reaches the leader's and its stale read of the vote equals the leader's.
 *
 * Usage: cluster_snapshot STRATAD DATA_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cluster/steps.h"
#include "tests/core/check.h"

#define N 3
#define OWNERS 40
#define WRITES 400

static bool same_vote(const Strata__V1__Vote *a, const Strata__V1__Vote *b) {
    size_t na = protobuf_c_message_get_packed_size(&a->base);
    size_t nb = protobuf_c_message_get_packed_size(&b->base);
    uint8_t *pa = malloc(na + 1), *pb = malloc(nb + 1);
    CHECK(pa != NULL && pb != NULL);
    protobuf_c_message_pack(&a->base, pa);
    protobuf_c_message_pack(&b->base, pb);
    bool same = na == nb && memcmp(pa, pb, na) == 0;
    free(pa);
    free(pb);
    return same;
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    tc_options o = {.stratad = argv[1], .snapshot_threshold = 64, .snapshot_trailing = 32};
    tc_cluster *c = tc_new(&o, "snapshot");
    for (int i = 1; i <= N; i++) {
        tc_start(c, i, false);
    }
    tc_client *cl = tc_client_new(c);
    int leader = tc_wait_leader(cl, c, N, 15000);
    CHECK(leader != 0);

    uint64_t community = tc_create_community(cl, "snapshot");
    tc_roll roll;
    tc_roll_generated(OWNERS, &roll);
    tc_import_roll(cl, community, &roll);
    uint64_t vote = tc_create_vote(cl, community, 4, "选聘物业服务企业");
    tc_vote_step(cl, "NoticeVote", vote);
    tc_vote_step(cl, "OpenVote", vote);

    leader = tc_wait_leader(cl, c, N, 5000);
    int follower = leader % N + 1;
    Strata__V1__StatusResponse *s = tc_status_of(cl, follower, 2000);
    CHECK(s != NULL);
    uint64_t stopped_at = s->applied_index;
    protobuf_c_message_free_unpacked(&s->base, NULL);
    CHECK_EQ(tc_stop(c, follower, 10000), 0);
    printf("follower %d stopped cleanly at applied index %llu\n", follower,
           (unsigned long long)stopped_at);

    /* One entry per write (sequential calls are not batched together). */
    uint64_t t0 = tc_now_ms();
    for (int i = 0; i < WRITES; i++) {
        char owner[16];
        snprintf(owner, sizeof(owner), "O%d", 1 + i % OWNERS);
        CHECK_EQ(tc_cast(cl, vote, owner, 1 + i % 3), (uint64_t)i + 1);
    }
    uint64_t ms = tc_now_ms() - t0;
    printf("%d sequential writes with one node down: %llu ms (%.0f writes/s)\n", WRITES,
           (unsigned long long)ms, WRITES * 1000.0 / (double)(ms ? ms : 1));
    leader = tc_client_leader(cl);
    s = tc_status_of(cl, leader, 2000);
    CHECK(s != NULL);
    uint64_t commit = s->commit_index;
    protobuf_c_message_free_unpacked(&s->base, NULL);
    CHECK(commit > stopped_at + 64 + 32);
    CHECK(tc_log_contains(c, leader, "snapshot taken"));

    uint64_t t1 = tc_now_ms();
    tc_start(c, follower, false);
    CHECK(tc_wait_applied(cl, follower, commit, 30000));
    printf("follower %d caught up to index %llu in %llu ms\n", follower, (unsigned long long)commit,
           (unsigned long long)(tc_now_ms() - t1));
    CHECK(tc_log_contains(c, follower, "snapshot installed"));

    Strata__V1__Vote *lv = tc_get_vote(cl, 0, vote);
    Strata__V1__Vote *fv = tc_get_vote(cl, follower, vote);
    CHECK_EQ(fv->ballot_count, WRITES);
    CHECK(same_vote(lv, fv));
    printf("follower's stale read equals the leader's: %llu ballots, agree %lld/%lld\n",
           (unsigned long long)fv->ballot_count, (long long)fv->tally->agree_area,
           (long long)fv->tally->agree_owners);
    protobuf_c_message_free_unpacked(&lv->base, NULL);
    protobuf_c_message_free_unpacked(&fv->base, NULL);

    /* It serves as a full member again: writes still commit with the other node down. */
    int other = 6 - leader - follower;
    CHECK_EQ(tc_stop(c, other, 10000), 0);
    CHECK_EQ(tc_cast(cl, vote, "O1", 1), WRITES + 1);
    printf("with node %d stopped, node %d and the restored node %d still commit\n", other, leader,
           follower);
    tc_start(c, other, false);

    tc_roll_free(&roll);
    tc_client_free(cl);
    tc_finish(c);
    printf("ok\n");
    return 0;
}
