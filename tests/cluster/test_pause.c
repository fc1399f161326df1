/* test_pause.c - SIGSTOP of the leader for 10 s while clients write, then SIGCONT.
 *
 * Two following writers go wherever the leader is; two pinned writers send only to the
 * paused leader, once per cast, without retrying. Checks: the others elect a leader and
 * go on writing during the pause; once continued, the old leader steps down; every cast
 * the paused node received got an answer soon after it continued (none hangs); no client
 * was told OK for a cast that is not in the final history (and each acknowledged cast is
 * there once, at its sequence number); a cast that failed is in it at most once; the
 * tally equals a recount. Every write is signed (the organiser's paper ballots).
 *
 * Usage: cluster_pause STRATAD DATA_DIR
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cluster/writers.h"
#include "tests/core/check.h"

#define N 3
#define OWNERS 60
#define PAUSE_MS 10000

int main(int argc, char **argv) {
    CHECK(argc == 3);
    tc_options o = {.stratad = argv[1], .election_ms = 1000, .heartbeat_ms = 100};
    tc_cluster *c = tc_new(&o, "pause");
    for (int i = 1; i <= N; i++) {
        tc_start(c, i, false);
    }
    tc_client *cl = tc_client_new(c);
    int old = tc_wait_leader(cl, c, N, 15000);
    CHECK(old != 0);

    tc_world world;
    tc_world_init(&world);
    uint64_t community = tc_world_setup(cl, c, &world, N, "pause");
    tc_roll roll;
    tc_roll_generated(OWNERS, &roll);
    tc_import_roll(cl, &world, community, &roll);
    uint64_t vote = tc_create_vote(cl, &world, community, 4, "选聘物业服务企业");
    tc_vote_step(cl, &world, community, "NoticeVote", vote);
    tc_vote_step(cl, &world, community, "OpenVote", vote);
    old = tc_wait_leader(cl, c, N, 5000);
    CHECK(old != 0);
    Strata__V1__StatusResponse *s = tc_status_of(cl, old, 2000);
    CHECK(s != NULL);
    uint64_t old_term = s->term;
    protobuf_c_message_free_unpacked(&s->base, NULL);

    /* Group 0: two following writers and two writers pinned to the leader, running before
     * the pause. Group 1: two more pinned writers started once it is paused, whose casts
     * reach the paused node. Pinned casts wait up to 40 s, longer than the pause. */
    tc_writers *w[2];
    w[0] = tc_writers_start(cl, &world, community, vote, OWNERS, 0, 2, 30000, 2, old, 40000);
    tc_sleep_ms(1500);
    size_t before = tc_writers_acked(w[0]);
    uint64_t t_stop = tc_now_ms();
    tc_signal(c, old, SIGSTOP);
    tc_sleep_ms(200);
    w[1] = tc_writers_start(cl, &world, community, vote, OWNERS, 1, 0, 0, 2, old, 40000);
    tc_sleep_ms(PAUSE_MS - 200);
    size_t during = tc_writers_acked(w[0]) - before;
    uint64_t t_cont = tc_now_ms();
    tc_signal(c, old, SIGCONT);
    printf("leader %d paused %llu ms; %zu casts acknowledged before, %zu during the pause\n", old,
           (unsigned long long)(t_cont - t_stop), before, during);
    CHECK(during > 0); /* the others elected a leader and kept going */

    /* The old leader steps down. */
    bool stepped_down = false;
    while (!stepped_down && tc_now_ms() - t_cont < 10000) {
        s = tc_status_of(cl, old, 500);
        if (s != NULL) {
            stepped_down = strcmp(s->state, "leader") != 0 && s->term > old_term;
            protobuf_c_message_free_unpacked(&s->base, NULL);
        }
        if (!stepped_down) {
            tc_sleep_ms(20);
        }
    }
    printf("node %d stepped down %llu ms after SIGCONT\n", old,
           (unsigned long long)(tc_now_ms() - t_cont));
    CHECK(stepped_down);
    tc_sleep_ms(1500);
    tc_writers_stop(w[0]);
    tc_writers_stop(w[1]);

    for (int g = 0; g < 2; g++) {
        size_t n_casts;
        const tc_cast_rec *casts = tc_writers_casts(w[g], &n_casts);
        size_t pinned = 0, pinned_ok = 0, held = 0, held_ok = 0;
        uint64_t answer_max = 0;
        for (size_t i = 0; i < n_casts; i++) {
            const tc_cast_rec *cs = &casts[i];
            CHECK(cs->code != GRPC_STATUS_DEADLINE_EXCEEDED || !cs->pinned);
            if (!cs->pinned) {
                continue;
            }
            pinned++;
            pinned_ok += cs->code == GRPC_STATUS_OK;
            if (cs->start_ms < t_cont && cs->end_ms > t_stop) {
                /* The paused node held this call: it is answered once the node runs. */
                held++;
                held_ok += cs->code == GRPC_STATUS_OK;
                if (cs->end_ms > t_cont && cs->end_ms - t_cont > answer_max) {
                    answer_max = cs->end_ms - t_cont;
                }
            }
        }
        printf("%s: %zu casts pinned to node %d (%zu OK); %zu held by the pause (%zu OK), "
               "all answered within %llu ms of SIGCONT\n",
               g == 0 ? "in flight at SIGSTOP" : "sent during the pause", pinned, old, pinned_ok,
               held, held_ok, (unsigned long long)answer_max);
        CHECK(held > 0);
        CHECK(answer_max < 5000);
        if (g == 1) {
            /* Sent to a node that had lost its office: none can have been acknowledged. */
            CHECK_EQ(held_ok, 0);
        }
    }

    Strata__V1__Ballot **hist;
    size_t nh;
    tc_export(cl, vote, &hist, &nh);
    size_t extra = tc_writers_verify(w, 2, hist, nh);
    printf("history: %zu ballots; every OK is in it once; %zu failed casts were committed "
           "anyway (outcome unknown to their client)\n",
           nh, extra);
    Strata__V1__Vote *v = tc_get_vote(cl, 0, vote);
    tc_check_recount(v, hist, nh, &roll);
    printf("tally equals the recount\n");

    protobuf_c_message_free_unpacked(&v->base, NULL);
    tc_free_msgs((ProtobufCMessage **)hist, nh);
    tc_writers_free(w[0]);
    tc_writers_free(w[1]);
    tc_roll_free(&roll);
    tc_world_free(&world);
    tc_client_free(cl);
    tc_finish(c);
    printf("ok\n");
    return 0;
}
