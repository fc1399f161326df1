/* truncate.c - a deposed leader that must truncate its log while it is taking a snapshot,
 * then is killed and restarted: it must start, and hold the same data as the others.
 *
 * The schedule: writers keep the leader busy while snapshots are taken every few entries
 * (snapshot threshold 16), so a snapshot is nearly always being written; the leader is
 * stopped (SIGSTOP) with entries of its own that no other node has, the others elect a
 * leader and go on, the old leader is continued (its conflicting entries are truncated,
 * while a snapshot of its own is under way), then killed -9 (or stopped with SIGTERM) 0 to
 * 350 ms later and restarted. Repeated CYCLES times (default 30); then every node must
 * hold the same data at the same applied index, and every acknowledged ballot must be in
 * the history once.
 *
 * Without consensus/io_guard.c, raft_uv 0.15 drops some of those truncations: the node
 * restarted with the stale entries still on disk re-applies them, one place off, and its
 * data digest differs from the others' (and under LeakSanitizer the cleanly stopped node
 * reports the dropped request).
 *
 * Usage: fault_truncate STRATAD [CYCLES [kill]]
 * With `kill`, every cycle ends with kill -9: a SIGTERM at that moment can still crash
 * raft_uv 0.15 while it closes (tests/fault/README.md, "Open"), so the suite's run uses it.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cluster/writers.h"
#include "tests/core/check.h"

#define N 3
#define OWNERS 40

int main(int argc, char **argv) {
    CHECK(argc >= 2);
    int cycles = argc > 2 ? atoi(argv[2]) : 30;
    bool kill_only = argc > 3 && strcmp(argv[3], "kill") == 0;
    tc_options o = {.stratad = argv[1],
                    .election_ms = 1000,
                    .heartbeat_ms = 100,
                    .snapshot_threshold = 16,
                    .snapshot_trailing = 4096};
    tc_cluster *c = tc_new(&o, "truncate");
    for (int i = 1; i <= N; i++) {
        tc_start(c, i, false);
    }
    tc_client *cl = tc_client_new(c);
    CHECK(tc_wait_leader(cl, c, N, 15000) != 0);
    tc_world world;
    tc_world_init(&world);
    uint64_t community = tc_world_setup(cl, c, &world, N, "truncate");
    tc_roll roll;
    tc_roll_generated(OWNERS, &roll);
    tc_import_roll(cl, &world, community, &roll);
    uint64_t vote = tc_create_vote(cl, &world, community, 4, "选聘物业服务企业");
    tc_vote_step(cl, &world, community, "NoticeVote", vote);
    tc_vote_step(cl, &world, community, "OpenVote", vote);

    tc_writers *w = tc_writers_start(cl, &world, community, vote, OWNERS, 0, 4, 30000, 0, 0, 0);
    for (int k = 1; k <= cycles; k++) {
        tc_sleep_ms(700);
        int old = tc_wait_leader(cl, c, N, 30000);
        CHECK(old != 0);
        tc_signal(c, old, SIGSTOP);
        int fresh = 0;
        uint64_t t0 = tc_now_ms();
        while (fresh == 0 || fresh == old) {
            CHECK(tc_now_ms() - t0 < 30000);
            fresh = tc_wait_leader(cl, c, N, 200);
        }
        tc_sleep_ms(500); /* the new leader writes entries the old one lacks */
        tc_signal(c, old, SIGCONT);
        tc_sleep_ms(50 * (unsigned)(k % 8)); /* it truncates and catches up */
        /* Killed, or stopped with SIGTERM: a node that shuts down cleanly reports (under
         * LeakSanitizer) a truncation raft_uv dropped, whose request it never frees. */
        bool term = !kill_only && k % 2 == 0;
        if (term) {
            int rc = tc_stop(c, old, 20000);
            if (rc != 0) {
                fprintf(stderr,
                        "node %d exited with status %d after SIGTERM (see its stderr.log)\n", old,
                        rc);
            }
            CHECK_EQ(rc, 0);
        } else {
            tc_kill(c, old);
        }
        tc_start(c, old, false);
        printf("cycle %d: leader %d stopped, node %d elected, %d continued, %s and restarted; "
               "%zu ballots acknowledged\n",
               k, old, fresh, old, term ? "stopped (SIGTERM)" : "killed (-9)", tc_writers_acked(w));
    }
    tc_writers_stop(w);
    uint64_t commit = tc_leader_commit(cl);
    for (int id = 1; id <= N; id++) {
        CHECK(tc_wait_applied(cl, id, commit, 60000));
    }
    uint64_t index;
    CHECK(tc_same_state(cl, c, N, 60000, &index));
    Strata__V1__Ballot **hist;
    size_t nh;
    tc_export(cl, vote, &hist, &nh);
    size_t extra = tc_writers_verify(&w, 1, hist, nh);
    printf("all nodes hold the same data at index %llu; %zu ballots, every acknowledged one "
           "there once (%zu unacknowledged committed)\n",
           (unsigned long long)index, nh, extra);
    tc_free_msgs((ProtobufCMessage **)hist, nh);
    tc_writers_free(w);
    tc_roll_free(&roll);
    tc_world_free(&world);
    tc_client_free(cl);
    tc_finish(c);
    printf("ok\n");
    return 0;
}
