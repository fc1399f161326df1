/* test_snapshot.c - a follower is stopped, the others write far past the snapshot
 * threshold (64, trailing 32), and the follower, restarted, catches up through an installed
 * snapshot (its log says so; the leader no longer holds the entries it missed): its applied
 * index reaches the leader's and its stale read of the vote equals the leader's. The writes
 * are the organiser's signed paper ballots; the restored node serves tree heads that verify.
 *
 * Usage: cluster_snapshot STRATAD DATA_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tests/cluster/steps.h"
#include "tests/core/check.h"

#define N 3
#define OWNERS 40
#define WRITES 400

/* The two answers hold the same vote (one may be a stale read: that flag aside). */
static bool same_vote(Strata__V1__Vote *a, Strata__V1__Vote *b) {
    a->stale = b->stale = false;
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

    tc_world w;
    tc_world_init(&w);
    uint64_t community = tc_world_setup(cl, c, &w, N, "snapshot");
    tc_roll roll;
    tc_roll_generated(OWNERS, &roll);
    tc_import_roll(cl, &w, community, &roll);
    uint64_t vote = tc_create_vote(cl, &w, community, 4, "选聘物业服务企业");
    tc_vote_step(cl, &w, community, "NoticeVote", vote);
    tc_vote_step(cl, &w, community, "OpenVote", vote);

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
        uint8_t scan[32] = {(uint8_t)(i >> 8), (uint8_t)i, 0x5c};
        snprintf(owner, sizeof(owner), "O%d", 1 + i % OWNERS);
        CHECK_EQ(tc_cast_paper(cl, &w, community, vote, owner, 1 + i % 3, scan, NULL),
                 (uint64_t)i + 1);
    }
    uint64_t ms = tc_now_ms() - t0;
    printf("%d sequential signed writes with one node down: %llu ms (%.0f writes/s)\n", WRITES,
           (unsigned long long)ms, WRITES * 1000.0 / (double)(ms ? ms : 1));
    leader = tc_client_leader(cl);
    uint64_t commit = tc_leader_commit(cl);
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

    /* Its signed tree head (from the snapshot's log nodes) verifies against its roster key,
     * and its proofs reach back before the snapshot. */
    st_trusted_key trusted[TC_MAX_NODES];
    size_t n_trusted = tc_trusted_keys(cl, follower, trusted, TC_MAX_NODES);
    Strata__V1__GetTreeHeadRequest thq = STRATA__V1__GET_TREE_HEAD_REQUEST__INIT;
    thq.vote_id = vote;
    ProtobufCMessage *resp;
    tc_status st;
    CHECK_EQ(tc_unary(cl, follower, "/strata.v1.Audit/GetTreeHead", &thq.base,
                      &strata__v1__tree_head__descriptor, &resp, &st, 5000),
             GRPC_STATUS_OK);
    st_sth sth;
    Strata__V1__TreeHead *th = (void *)resp;
    CHECK(st_sth_decode(&sth, th->sth.data, th->sth.len, NULL, 0) == ST_OK);
    CHECK_EQ(sth.tree_size, WRITES);
    CHECK(st_sth_verify(&sth, trusted, n_trusted, NULL, 0) == ST_OK);
    protobuf_c_message_free_unpacked(resp, NULL);
    Strata__V1__InclusionProofRequest iq = STRATA__V1__INCLUSION_PROOF_REQUEST__INIT;
    iq.vote_id = vote;
    iq.leaf_index = 3;
    CHECK_EQ(tc_unary(cl, follower, "/strata.v1.Audit/GetInclusionProof", &iq.base,
                      &strata__v1__proof__descriptor, &resp, &st, 5000),
             GRPC_STATUS_OK);
    CHECK_EQ(((Strata__V1__Proof *)resp)->tree_size, WRITES);
    protobuf_c_message_free_unpacked(resp, NULL);
    printf("the restored node's signed tree head (size %d) verifies against its roster key\n",
           WRITES);

    /* It serves as a full member again: writes still commit with the other node down. */
    int other = 6 - leader - follower;
    CHECK_EQ(tc_stop(c, other, 10000), 0);
    uint8_t last_scan[32] = {0xff};
    CHECK_EQ(tc_cast_paper(cl, &w, community, vote, "O1", 1, last_scan, NULL), WRITES + 1);
    printf("with node %d stopped, node %d and the restored node %d still commit\n", other, leader,
           follower);
    tc_start(c, other, false);

    tc_roll_free(&roll);
    tc_world_free(&w);
    tc_client_free(cl);
    tc_finish(c);
    printf("ok\n");
    return 0;
}
