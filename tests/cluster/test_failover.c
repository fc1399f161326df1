/* test_failover.c - kill -9 of the leader while four client threads cast ballots: a new
 * leader is ready within 3 s (election timeout 1000 ms); every acknowledged ballot is in
 * the final history exactly once, at the sequence number its client was told, and no cast
 * was applied twice (clients retry with the same request_id); the vote's running tally
 * equals a recount of that history; the killed node, restarted, converges to the same vote.
 * Every write is signed: the organiser's key signs each paper ballot and each request.
 *
 * Usage: cluster_failover STRATAD DATA_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cluster/writers.h"
#include "tests/core/check.h"

#define N 3
#define OWNERS 120
#define WRITERS 4
#define FAILOVER_MAX_MS 3000

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
    tc_options o = {.stratad = argv[1], .election_ms = 1000, .heartbeat_ms = 100};
    tc_cluster *c = tc_new(&o, "failover");
    for (int i = 1; i <= N; i++) {
        tc_start(c, i, false);
    }
    tc_client *cl = tc_client_new(c);
    CHECK(tc_wait_leader(cl, c, N, 15000) != 0);

    tc_world world;
    tc_world_init(&world);
    uint64_t community = tc_world_setup(cl, c, &world, N, "failover");
    tc_roll roll;
    tc_roll_generated(OWNERS, &roll);
    tc_import_roll(cl, &world, community, &roll);
    uint64_t vote = tc_create_vote(cl, &world, community, 4, "选聘物业服务企业");
    tc_vote_step(cl, &world, community, "NoticeVote", vote);
    tc_vote_step(cl, &world, community, "OpenVote", vote);

    tc_writers *w =
        tc_writers_start(cl, &world, community, vote, OWNERS, 0, WRITERS, 20000, 0, 0, 0);
    uint64_t t_start = tc_now_ms();
    tc_sleep_ms(2000);
    size_t before = tc_writers_acked(w);
    double rate = (double)before * 1000.0 / (double)(tc_now_ms() - t_start);

    int old = tc_wait_leader(cl, c, N, 5000);
    CHECK(old != 0);
    uint64_t t_kill = tc_now_ms();
    tc_kill(c, old);
    int fresh = 0;
    while (fresh == 0 && tc_now_ms() - t_kill < 10000) {
        fresh = tc_wait_leader(cl, c, N, 50);
    }
    uint64_t failover = tc_now_ms() - t_kill;
    printf(
        "leader %d killed -9 after %zu acknowledged signed ballots (%.0f writes/s); node %d leads "
        "and is ready %llu ms later\n",
        old, before, rate, fresh, (unsigned long long)failover);
    CHECK(fresh != 0 && fresh != old);
    CHECK(failover <= FAILOVER_MAX_MS);

    size_t at_failover = tc_writers_acked(w);
    tc_sleep_ms(2000);
    tc_writers_stop(w);
    size_t n_casts;
    const tc_cast_rec *casts = tc_writers_casts(w, &n_casts);
    uint64_t worst = 0;
    for (size_t i = 0; i < n_casts; i++) {
        if (casts[i].end_ms - casts[i].start_ms > worst) {
            worst = casts[i].end_ms - casts[i].start_ms;
        }
    }
    printf("%zu casts, %zu acknowledged (%zu after the kill); slowest cast %llu ms\n", n_casts,
           tc_writers_acked(w), tc_writers_acked(w) - at_failover, (unsigned long long)worst);
    CHECK(tc_writers_acked(w) > at_failover); /* writing resumed on the new leader */

    /* The history against what the clients were told, and the tally against a recount. */
    Strata__V1__Ballot **hist;
    size_t nh;
    tc_export(cl, vote, &hist, &nh);
    size_t extra = tc_writers_verify(&w, 1, hist, nh);
    printf("history: %zu ballots, each acknowledged one exactly once; %zu unacknowledged "
           "casts were committed\n",
           nh, extra);
    Strata__V1__Vote *v = tc_get_vote(cl, 0, vote);
    tc_check_recount(v, hist, nh, &roll);
    printf("tally equals the recount: agree %lld/%lld, disagree %lld/%lld, abstain %lld/%lld\n",
           (long long)v->tally->agree_area, (long long)v->tally->agree_owners,
           (long long)v->tally->disagree_area, (long long)v->tally->disagree_owners,
           (long long)v->tally->abstain_area, (long long)v->tally->abstain_owners);

    /* The killed node comes back and converges. */
    tc_start(c, old, false);
    CHECK(tc_wait_applied(cl, old, tc_leader_commit(cl), 20000));
    Strata__V1__Vote *ov = tc_get_vote(cl, old, vote);
    CHECK(same_vote(v, ov));
    printf("node %d restarted and holds the same vote\n", old);

    protobuf_c_message_free_unpacked(&ov->base, NULL);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    tc_free_msgs((ProtobufCMessage **)hist, nh);
    tc_writers_free(w);
    tc_roll_free(&roll);
    tc_world_free(&world);
    tc_client_free(cl);
    tc_finish(c);
    printf("ok\n");
    return 0;
}
