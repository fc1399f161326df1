/* partition.c - real network partitions between stratad nodes, each running in its own
 * network namespace (netns.h) with Raft over veth pairs joined by a bridge, while client
 * threads cast signed ballots. The test's gRPC client reaches every node through a relay
 * into the node's namespace (relay.h), a path the cuts do not touch, so it can still talk to
 * an isolated node.
 *
 * 1. The leader is cut off, a minority of one. Ballots sent to it after the cut are never
 *    acknowledged, and it answers them (UNAVAILABLE, no hanging call); its commit and applied
 *    indexes do not move although it appended them to its log; it steps down (check-quorum)
 *    and does not raise its term while alone (pre-vote). The other two elect a leader and
 *    keep acknowledging ballots.
 * 2. The link is healed: the old leader follows the new one without disturbing it (same
 *    leader, same term) and catches up; all three report the same data digest at the same
 *    applied index; none of the ballots sent to the minority is in the vote's history; every
 *    acknowledged ballot is in it exactly once, at the sequence number its client was told;
 *    the tally equals a recount.
 * 3. A follower is cut off and healed: the leader keeps its office and its term throughout
 *    (the returning follower's pre-vote cannot disturb it), and everything converges again.
 *
 * Needs root and `ip netns`; otherwise it says why and exits 77 (skipped).
 * Usage: fault_partition STRATAD DATA_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cluster/writers.h"
#include "tests/core/check.h"
#include "tests/fault/netns.h"
#include "tests/fault/relay.h"

#define N 3
#define OWNERS 60
#define ELECTION_MS 1000
#define CUT_MS 6000          /* the leader's isolation */
#define FOLLOWER_CUT_MS 4000 /* the follower's: four election timeouts */
#define STEPDOWN_MAX_MS 5000 /* check-quorum: within two election timeouts, and slack */
#define FAILOVER_MAX_MS 8000
#define HEAL_MAX_MS 30000 /* a healed TCP connection waits for its next retransmission */
#define PINNED_ATTEMPT_MS 8000

/* What one Cluster.Status said. */
typedef struct {
    bool ok, leader, ready;
    char state[16];
    uint64_t term, commit, applied, last, leader_id;
} view;

static view status(tc_client *cl, int id) {
    view v;
    memset(&v, 0, sizeof(v));
    Strata__V1__StatusResponse *s = tc_status_of(cl, id, 1000);
    if (s == NULL) {
        return v;
    }
    v.ok = true;
    snprintf(v.state, sizeof(v.state), "%s", s->state);
    v.leader = strcmp(s->state, "leader") == 0;
    v.ready = s->ready;
    v.term = s->term;
    v.commit = s->commit_index;
    v.applied = s->applied_index;
    v.last = s->last_index;
    v.leader_id = s->leader_id;
    protobuf_c_message_free_unpacked(&s->base, NULL);
    return v;
}

/* Casts of w acknowledged by a node other than `not_node` that ended within (from, to). */
static size_t acked_between(tc_writers *w, int not_node, uint64_t from, uint64_t to) {
    size_t n, k = 0;
    const tc_cast_rec *cs = tc_writers_casts(w, &n);
    for (size_t i = 0; i < n; i++) {
        k += cs[i].code == GRPC_STATUS_OK && cs[i].node != not_node && cs[i].end_ms > from &&
             cs[i].end_ms < to;
    }
    return k;
}

/* How many casts of w are in the history. */
static size_t in_history(tc_writers *w, Strata__V1__Ballot **hist, size_t nh) {
    size_t n, k = 0;
    const tc_cast_rec *cs = tc_writers_casts(w, &n);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < nh; j++) {
            if (hist[j]->paper_scan_sha256.len == 32 &&
                memcmp(hist[j]->paper_scan_sha256.data, cs[i].scan, 32) == 0) {
                k++;
            }
        }
    }
    return k;
}

/* Waits until node id follows `leader` and has applied index; returns the ms it took from
 * `since`, or fails the test after HEAL_MAX_MS. */
static uint64_t wait_rejoined(tc_client *cl, int id, int leader, uint64_t index, uint64_t since) {
    for (;;) {
        view v = status(cl, id);
        if (v.ok && !v.leader && v.leader_id == (uint64_t)leader && v.applied >= index) {
            return tc_now_ms() - since;
        }
        if (tc_now_ms() - since > HEAL_MAX_MS) {
            fprintf(stderr,
                    "node %d did not rejoin leader %d within %d ms (%s, applied %llu < %llu)\n", id,
                    leader, HEAL_MAX_MS, v.ok ? v.state : "no answer",
                    (unsigned long long)v.applied, (unsigned long long)index);
            CHECK(false);
        }
        tc_sleep_ms(50);
    }
}

/* All three at the same data digest at the same applied index; then the vote's history
 * against every writer group and the tally against a recount. */
static void check_converged(tc_client *cl, tc_cluster *c, tc_writers **w, size_t nw, uint64_t vote,
                            const tc_roll *roll, size_t *n_hist) {
    uint64_t index;
    CHECK(tc_same_state(cl, c, N, 30000, &index));
    Strata__V1__Ballot **hist;
    size_t nh;
    tc_export(cl, vote, &hist, &nh);
    size_t extra = tc_writers_verify(w, nw, hist, nh);
    Strata__V1__Vote *v = tc_get_vote(cl, 0, vote);
    tc_check_recount(v, hist, nh, roll);
    printf("  converged: all %d nodes at applied index %llu with the same data digest; %zu "
           "ballots, each acknowledged one once (%zu unacknowledged ones committed); tally = "
           "recount\n",
           N, (unsigned long long)index, nh, extra);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    tc_free_msgs((ProtobufCMessage **)hist, nh);
    *n_hist = nh;
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    setvbuf(stdout, NULL, _IOLBF, 0);
    char why[512];
    if (!tn_usable(why, sizeof(why))) {
        printf("skipped: %s\n", why);
        return 77;
    }
    tn_net *net = tn_create(N);
    tc_options o = {.stratad = argv[1], .election_ms = ELECTION_MS, .heartbeat_ms = 100};
    for (int i = 1; i <= N; i++) {
        o.netns[i] = net->node[i];
        o.raft_host[i] = net->host[i];
    }
    tc_cluster *c = tc_new(&o, "partition");
    tr_relay *relay[N + 1];
    for (int i = 1; i <= N; i++) {
        relay[i] = tr_relay_start(net->node[i], tc_grpc_port(c, i));
        printf("node %d: namespace %s, raft %s:%d, grpc 127.0.0.1:%d there (relayed here)\n", i,
               net->node[i], net->host[i], tc_raft_port(c, i), tc_grpc_port(c, i));
    }
    for (int i = 1; i <= N; i++) {
        tc_start(c, i, false);
    }
    tc_client *cl = tc_client_new(c);
    CHECK(tc_wait_leader(cl, c, N, 15000) != 0);

    tc_world world;
    tc_world_init(&world);
    uint64_t community = tc_world_setup(cl, c, &world, N, "partition");
    tc_roll roll;
    tc_roll_generated(OWNERS, &roll);
    tc_import_roll(cl, &world, community, &roll);
    uint64_t vote = tc_create_vote(cl, &world, community, 4, "选聘物业服务企业");
    tc_vote_step(cl, &world, community, "NoticeVote", vote);
    tc_vote_step(cl, &world, community, "OpenVote", vote);

    /* ---- 1. the leader cut off ---- */
    int old = tc_wait_leader(cl, c, N, 5000);
    CHECK(old != 0);
    view v0 = status(cl, old);
    CHECK(v0.ok && v0.leader);
    tc_writers *w[3];
    w[0] = tc_writers_start(cl, &world, community, vote, OWNERS, 0, 2, 30000, 0, 0, 0);
    tc_sleep_ms(1500);
    CHECK(tc_writers_acked(w[0]) > 0);
    uint64_t t_cut = tc_now_ms();
    tn_cut(net, old);
    /* Ballots sent only to the isolated leader, once each. */
    w[1] =
        tc_writers_start(cl, &world, community, vote, OWNERS, 1, 0, 0, 2, old, PINNED_ATTEMPT_MS);
    printf("1. leader %d (term %llu) cut off after %zu acknowledged ballots\n", old,
           (unsigned long long)v0.term, tc_writers_acked(w[0]));

    uint64_t t_stepdown = 0, t_elected = 0, base_commit = 0, base_applied = 0, max_commit = 0,
             max_applied = 0, max_last = 0, max_term = 0, new_term = 0;
    bool have_base = false;
    int fresh = 0;
    while (tc_now_ms() - t_cut < CUT_MS) {
        view m = status(cl, old);
        CHECK(m.ok); /* the relay path is not cut */
        if (t_stepdown == 0 && !m.leader) {
            t_stepdown = tc_now_ms();
        }
        /* Whatever was in flight at the cut has landed after 300 ms; from then on nothing
         * may commit on this side. */
        if (tc_now_ms() - t_cut >= 300) {
            if (!have_base) {
                have_base = true;
                base_commit = max_commit = m.commit;
                base_applied = max_applied = m.applied;
            }
            max_commit = m.commit > max_commit ? m.commit : max_commit;
            max_applied = m.applied > max_applied ? m.applied : max_applied;
        }
        max_last = m.last > max_last ? m.last : max_last;
        max_term = m.term > max_term ? m.term : max_term;
        for (int id = 1; id <= N && fresh == 0; id++) {
            if (id == old) {
                continue;
            }
            view f = status(cl, id);
            if (f.ok && f.leader && f.ready) {
                fresh = id;
                new_term = f.term;
                t_elected = tc_now_ms();
            }
        }
        tc_sleep_ms(100);
    }
    tc_writers_stop(w[1]);
    uint64_t stepdown_ms = t_stepdown - t_cut, failover_ms = t_elected - t_cut;
    uint64_t minority_commits = (max_commit - base_commit) + (max_applied - base_applied);
    uint64_t minority_appended = max_last > base_commit ? max_last - base_commit : 0;
    printf("   node %d stepped down after %llu ms; node %d leads (term %llu) %llu ms after the "
           "cut\n",
           old, (unsigned long long)stepdown_ms, fresh, (unsigned long long)new_term,
           (unsigned long long)failover_ms);
    printf("   minority: commit index %llu -> %llu, applied %llu -> %llu, last log index up to "
           "%llu (%llu entries appended, never committed), term %llu -> %llu\n",
           (unsigned long long)base_commit, (unsigned long long)max_commit,
           (unsigned long long)base_applied, (unsigned long long)max_applied,
           (unsigned long long)max_last, (unsigned long long)minority_appended,
           (unsigned long long)v0.term, (unsigned long long)max_term);
    CHECK(t_stepdown != 0 && stepdown_ms <= STEPDOWN_MAX_MS);
    CHECK(fresh != 0 && failover_ms <= FAILOVER_MAX_MS);
    CHECK(new_term > v0.term);
    CHECK_EQ(minority_commits, 0);
    CHECK(minority_appended > 0); /* the minority had writes it could have committed */
    CHECK_EQ(max_term, v0.term);  /* pre-vote: no election of its own while alone */

    size_t n_pinned;
    const tc_cast_rec *pinned = tc_writers_casts(w[1], &n_pinned);
    size_t minority_acks = 0;
    for (size_t i = 0; i < n_pinned; i++) {
        minority_acks += pinned[i].code == GRPC_STATUS_OK;
        /* Answered, not left hanging until the client's deadline. */
        CHECK_EQ(pinned[i].code, GRPC_STATUS_UNAVAILABLE);
    }
    printf("   %zu ballots sent to the minority: %zu acknowledged\n", n_pinned, minority_acks);
    CHECK(n_pinned > 0);
    CHECK_EQ(minority_acks, 0);

    /* ---- 2. healed ---- */
    uint64_t t_heal = tc_now_ms();
    tn_heal(net, old);
    view lead = status(cl, fresh);
    CHECK(lead.ok && lead.leader && lead.term == new_term);
    uint64_t heal_ms = wait_rejoined(cl, old, fresh, lead.commit, t_heal);
    tc_sleep_ms(1000); /* ballots go on after the heal */
    tc_writers_stop(w[0]);
    lead = status(cl, fresh);
    CHECK(lead.ok && lead.leader && lead.term == new_term); /* not disturbed by the return */
    size_t majority_acks = acked_between(w[0], old, t_cut, t_heal);
    printf("2. healed: node %d follows node %d and has caught up %llu ms later; node %d still "
           "leads in term %llu; %zu ballots acknowledged by the majority during the cut, %zu "
           "in all\n",
           old, fresh, (unsigned long long)heal_ms, fresh, (unsigned long long)new_term,
           majority_acks, tc_writers_acked(w[0]));
    CHECK(majority_acks > 0);
    size_t after_heal = acked_between(w[0], 0, t_heal, UINT64_MAX);
    CHECK(after_heal > 0); /* and writing goes on once the old leader is back */
    size_t nh;
    check_converged(cl, c, w, 2, vote, &roll, &nh);
    {
        Strata__V1__Ballot **hist;
        size_t n;
        tc_export(cl, vote, &hist, &n);
        size_t leaked = in_history(w[1], hist, n);
        tc_free_msgs((ProtobufCMessage **)hist, n);
        printf("   ballots sent to the minority in the history: %zu\n", leaked);
        CHECK_EQ(leaked, 0);
    }

    /* ---- 3. a follower cut off and back (pre-vote) ---- */
    int leader = tc_wait_leader(cl, c, N, 5000);
    CHECK(leader != 0);
    view l0 = status(cl, leader);
    int follower = leader % N + 1;
    /* One writer: the leader keeps its office with a single follower only if it hears from
     * it every election timeout, so this phase leaves the two cores some room. */
    w[2] = tc_writers_start(cl, &world, community, vote, OWNERS, 2, 1, 30000, 0, 0, 0);
    tc_sleep_ms(500);
    uint64_t t_cut2 = tc_now_ms();
    tn_cut(net, follower);
    uint64_t f_max_term = 0, any_max_term = 0;
    int candidate_seen = 0;
    while (tc_now_ms() - t_cut2 < FOLLOWER_CUT_MS) {
        view f = status(cl, follower), l = status(cl, leader);
        CHECK(f.ok && l.ok);
        candidate_seen += strcmp(f.state, "candidate") == 0;
        f_max_term = f.term > f_max_term ? f.term : f_max_term;
        CHECK(l.leader && l.term == l0.term); /* the majority side goes on as it was */
        tc_sleep_ms(100);
    }
    size_t acked_cut2 = tc_writers_acked(w[2]);
    uint64_t t_heal2 = tc_now_ms();
    tn_heal(net, follower);
    view l1 = status(cl, leader);
    uint64_t follower_heal_ms = wait_rejoined(cl, follower, leader, l1.commit, t_heal2);
    /* Two more election timeouts after its return: no node's term moves. */
    while (tc_now_ms() - t_heal2 < follower_heal_ms + 2 * ELECTION_MS) {
        for (int id = 1; id <= N; id++) {
            view x = status(cl, id);
            CHECK(x.ok);
            any_max_term = x.term > any_max_term ? x.term : any_max_term;
            if (id == leader) {
                CHECK(x.leader);
            }
        }
        tc_sleep_ms(100);
    }
    tc_writers_stop(w[2]);
    uint64_t term_jump = (any_max_term > l0.term ? any_max_term - l0.term : 0) +
                         (f_max_term > l0.term ? f_max_term - l0.term : 0);
    printf("3. follower %d cut off for %d ms (seen campaigning %d times, term stayed %llu); "
           "back and caught up %llu ms after the heal; node %d kept leading in term %llu; "
           "%zu ballots acknowledged while it was away\n",
           follower, FOLLOWER_CUT_MS, candidate_seen, (unsigned long long)f_max_term,
           (unsigned long long)follower_heal_ms, leader, (unsigned long long)l0.term, acked_cut2);
    CHECK_EQ(term_jump, 0);
    CHECK(acked_cut2 > 0);
    check_converged(cl, c, w, 3, vote, &roll, &nh);

    printf("figure: partition cuts=2 writes_acked_majority=%zu minority_commits=%llu "
           "minority_acks=%zu minority_appended=%llu converged_nodes=%d stepdown_ms=%llu "
           "failover_ms=%llu heal_ms=%llu follower_heal_ms=%llu term_jump=%llu ballots=%zu\n",
           majority_acks, (unsigned long long)minority_commits, minority_acks,
           (unsigned long long)minority_appended, N, (unsigned long long)stepdown_ms,
           (unsigned long long)failover_ms, (unsigned long long)heal_ms,
           (unsigned long long)follower_heal_ms, (unsigned long long)term_jump, nh);

    for (int g = 0; g < 3; g++) {
        tc_writers_free(w[g]);
    }
    tc_roll_free(&roll);
    tc_world_free(&world);
    tc_client_free(cl);
    tc_finish(c);
    for (int i = 1; i <= N; i++) {
        tr_relay_stop(relay[i]);
    }
    tn_destroy(net);
    printf("ok\n");
    return 0;
}
