/* campaign.c - the seeded fault campaign: three real stratad processes take online ballots
 * from the owners' own keys while a seeded random schedule kills (-9) and restarts nodes,
 * stops (SIGSTOP) and continues them, and hands leadership over (Cluster.TransferLeadership),
 * leader and followers alike, never more than one node out at a time. Then, with every node
 * running and the writes stopped, it checks what the clients were told against what the
 * cluster holds:
 *   - every acknowledged ballot is in the exported history exactly once, at the seq it was
 *     told, with its owner, choice and signature; the tree head of every receipt is a prefix
 *     of the final history; acknowledgements respect real-time order;
 *   - no cast that had to be refused (another owner's key, a bad signature, an owner not on
 *     the roll, a key never enrolled, a replayed ballot) is in it, and each got its code;
 *   - every ballot in the history is a cast that was made (acknowledged, or not and
 *     committed anyway: counted);
 *   - every node reports the same data digest at the same applied index, the same vote
 *     (tally, log size and root) and a signed tree head of the same root, which is the root
 *     recomputed from the exported records; each node's inclusion and consistency proofs
 *     for a sample of receipts check; the tally equals a recount of the history.
 * Long campaigns run in rounds (one vote each, checked at its end) so memory stays bounded.
 *
 * Usage: fault_campaign STRATAD [--seconds N] [--seed S] [--round-seconds R]
 *                        [--snapshot-threshold N] [--snapshot-trailing N]
 *   --seconds        how long the faults run in all (default 120)
 *   --seed           the schedule's seed (default: from the clock); printed first, to replay
 *   --round-seconds  the length of one round (default 300)
 *   --snapshot-*     passed to every stratad (default: stratad's own, 1024 and 2048); small
 *                    values make restarted nodes catch up by snapshot more often
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "crypto/merkle.h"
#include "crypto/sth.h"
#include "tests/cluster/writers.h"
#include "tests/core/check.h"

#define N 3
#define ROLL_OWNERS 80
#define ENROLLED 48
#define VOTER_THREADS 5
#define REFUSE_PER_MILLE 60
#define RETRY_MS 45000    /* a cast keeps retrying this long (the longest fault is ~6 s) */
#define HASTY_MS 400      /* one voter thread gives its casts up after this */
#define LIVENESS_MS 60000 /* a leader, progress and catch-up must come within this */
#define EXPORT_MS 300000  /* a round's whole history streams within this */
#define PROOF_SAMPLE 20   /* acknowledged ballots whose proofs each node gives */
#define GAP_MIN_MS 200    /* between two faults */
#define GAP_SPAN_MS 3000
#define HOLD_MIN_MS 300 /* a node stays down or stopped */
#define HOLD_SPAN_MS 5700

typedef struct {
    const char *stratad;
    unsigned seconds, round_seconds;
    unsigned snapshot_threshold, snapshot_trailing; /* 0: stratad's defaults */
    uint64_t seed;
} args;

typedef struct {
    uint64_t rng, t0;
    unsigned kill, stop, transfer, transfer_done, at_leader;
} nemesis;

static double since(const nemesis *nm) {
    return (double)(tc_now_ms() - nm->t0) / 1000.0;
}

static void usage(void) {
    fprintf(stderr, "usage: fault_campaign STRATAD [--seconds N] [--seed S] [--round-seconds R] "
                    "[--snapshot-threshold N] [--snapshot-trailing N]\n");
    exit(2);
}

static void parse_args(int argc, char **argv, args *a) {
    if (argc < 2) {
        usage();
    }
    a->stratad = argv[1];
    a->seconds = 120;
    a->round_seconds = 300;
    bool seeded = false;
    for (int i = 2; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--seconds") == 0 && v != NULL) {
            a->seconds = (unsigned)strtoul(v, NULL, 10);
        } else if (strcmp(argv[i], "--seed") == 0 && v != NULL) {
            a->seed = strtoull(v, NULL, 10);
            seeded = true;
        } else if (strcmp(argv[i], "--round-seconds") == 0 && v != NULL) {
            a->round_seconds = (unsigned)strtoul(v, NULL, 10);
        } else if (strcmp(argv[i], "--snapshot-threshold") == 0 && v != NULL) {
            a->snapshot_threshold = (unsigned)strtoul(v, NULL, 10);
        } else if (strcmp(argv[i], "--snapshot-trailing") == 0 && v != NULL) {
            a->snapshot_trailing = (unsigned)strtoul(v, NULL, 10);
        } else {
            usage();
        }
        i++;
    }
    if (a->seconds == 0 || a->round_seconds == 0) {
        usage();
    }
    if (!seeded) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        a->seed = ((uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid()) %
                  1000000000u;
    }
}

/* A ready leader among the nodes, waiting for one: with every node running (or all but
 * one) the cluster must elect one. */
static int leader_now(tc_client *cl, tc_cluster *c, const nemesis *nm) {
    int leader = tc_wait_leader(cl, c, N, LIVENESS_MS);
    if (leader == 0) {
        fprintf(stderr, "[%8.3f s] no ready leader within %d ms\n", since(nm), LIVENESS_MS);
    }
    CHECK(leader != 0);
    return leader;
}

/* One of the two nodes that are not `not`, drawn. */
static int other_node(nemesis *nm, int not ) {
    int k = 1 + (int)test_below(&nm->rng, N - 1);
    return 1 + (not -1 + k) % N;
}

static void transfer(nemesis *nm, tc_client *cl, const tc_world *w, int leader) {
    int to = test_below(&nm->rng, 3) == 0 ? 0 : other_node(nm, leader);
    nm->transfer++;
    printf("[%8.3f s] transfer leadership from node %d to %s", since(nm), leader,
           to == 0 ? "the most up-to-date follower" : "node ");
    if (to != 0) {
        printf("%d", to);
    }
    printf("\n");
    Strata__V1__TransferLeadershipRequest q = STRATA__V1__TRANSFER_LEADERSHIP_REQUEST__INIT;
    q.id = (uint64_t)to;
    ProtobufCMessage *resp = NULL;
    tc_status st;
    uint64_t t = tc_now_ms();
    int code =
        tc_unary_as(cl, &w->op, leader, "/strata.v1.Cluster/TransferLeadership", &q.base,
                    &strata__v1__transfer_leadership_response__descriptor, &resp, &st, 10000);
    if (code == GRPC_STATUS_OK) {
        uint64_t now_leads = ((Strata__V1__TransferLeadershipResponse *)resp)->leader_id;
        CHECK(now_leads != (uint64_t)leader && (to == 0 || now_leads == (uint64_t)to));
        nm->transfer_done++;
        printf("[%8.3f s]   node %llu leads after %llu ms\n", since(nm),
               (unsigned long long)now_leads, (unsigned long long)(tc_now_ms() - t));
        protobuf_c_message_free_unpacked(resp, NULL);
    } else if (code == GRPC_STATUS_UNAVAILABLE || code == GRPC_STATUS_DEADLINE_EXCEEDED) {
        /* Not the leader any more, or the transfer did not complete: the cluster goes on. */
        printf("[%8.3f s]   not done (%d): %s\n", since(nm), code, st.details);
    } else {
        fprintf(stderr, "TransferLeadership answered %d: %s\n", code, st.details);
        CHECK(false);
    }
}

/* Faults until the round ends, one at a time, each healed before the next. */
static void run_faults(nemesis *nm, tc_client *cl, tc_cluster *c, const tc_world *w, tc_voters *v,
                       uint64_t until) {
    for (;;) {
        unsigned gap = GAP_MIN_MS + (unsigned)test_below(&nm->rng, GAP_SPAN_MS);
        uint64_t now = tc_now_ms();
        if (now + gap >= until) {
            tc_sleep_ms(now < until ? (unsigned)(until - now) : 0);
            return;
        }
        tc_sleep_ms(gap);
        unsigned kind = (unsigned)test_below(&nm->rng, 100);
        bool at_leader = test_below(&nm->rng, 2) == 0;
        unsigned hold = HOLD_MIN_MS + (unsigned)test_below(&nm->rng, HOLD_SPAN_MS);
        int leader = leader_now(cl, c, nm);
        if (kind >= 75) {
            transfer(nm, cl, w, leader);
            continue;
        }
        int id = at_leader ? leader : other_node(nm, leader);
        nm->at_leader += at_leader;
        if (kind < 40) {
            nm->kill++;
            printf("[%8.3f s] kill -9 node %d (%s) for %u ms; %zu ballots acknowledged so far\n",
                   since(nm), id, at_leader ? "leader" : "follower", hold, tc_voters_acked(v));
            tc_kill(c, id);
            tc_sleep_ms(hold);
            tc_start(c, id, false);
            printf("[%8.3f s]   node %d restarted\n", since(nm), id);
        } else {
            nm->stop++;
            printf("[%8.3f s] SIGSTOP node %d (%s) for %u ms; %zu ballots acknowledged so far\n",
                   since(nm), id, at_leader ? "leader" : "follower", hold, tc_voters_acked(v));
            tc_signal(c, id, SIGSTOP);
            tc_sleep_ms(hold);
            tc_signal(c, id, SIGCONT);
            printf("[%8.3f s]   node %d continued\n", since(nm), id);
        }
    }
}

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

/* Node id's signed tree head of the vote: signed by node id's registered key, of the
 * history's size and root. */
static void check_tree_head(tc_client *cl, int id, uint64_t vote, uint64_t size,
                            const uint8_t root[32], const st_trusted_key *keys, size_t n_keys) {
    Strata__V1__GetTreeHeadRequest q = STRATA__V1__GET_TREE_HEAD_REQUEST__INIT;
    q.vote_id = vote;
    ProtobufCMessage *resp;
    tc_status st;
    int code = tc_unary(cl, id, "/strata.v1.Audit/GetTreeHead", &q.base,
                        &strata__v1__tree_head__descriptor, &resp, &st, 5000);
    if (code != GRPC_STATUS_OK) {
        fprintf(stderr, "GetTreeHead from node %d: %d %s\n", id, code, st.details);
    }
    CHECK_EQ(code, GRPC_STATUS_OK);
    const Strata__V1__TreeHead *th = (const void *)resp;
    st_sth sth;
    char err[200] = "";
    CHECK(st_sth_decode(&sth, th->sth.data, th->sth.len, err, sizeof(err)) == ST_OK);
    CHECK(st_sth_verify(&sth, keys, n_keys, err, sizeof(err)) == ST_OK);
    CHECK_EQ(sth.node_id, id);
    CHECK_EQ(sth.vote_id, vote);
    CHECK_EQ(sth.tree_size, size);
    CHECK_EQ(th->tree_size, size);
    CHECK(memcmp(sth.root, root, 32) == 0);
    CHECK(th->root.len == 32 && memcmp(th->root.data, root, 32) == 0);
    protobuf_c_message_free_unpacked(resp, NULL);
}

/* One proof from node id, flattened into out (ST_MERKLE_MAX_PROOF hashes); its length in
 * hashes, and its tree size in *size. */
static size_t get_proof(tc_client *cl, int id, const char *method, const ProtobufCMessage *q,
                        uint8_t *out, uint64_t *size) {
    ProtobufCMessage *resp;
    tc_status st;
    int code = tc_unary(cl, id, method, q, &strata__v1__proof__descriptor, &resp, &st, 5000);
    if (code != GRPC_STATUS_OK) {
        fprintf(stderr, "%s from node %d: %d %s\n", method, id, code, st.details);
    }
    CHECK_EQ(code, GRPC_STATUS_OK);
    const Strata__V1__Proof *p = (const void *)resp;
    CHECK(p->n_hashes <= ST_MERKLE_MAX_PROOF);
    for (size_t i = 0; i < p->n_hashes; i++) {
        CHECK_EQ(p->hashes[i].len, 32);
        memcpy(out + 32 * i, p->hashes[i].data, 32);
    }
    *size = p->tree_size;
    size_t n = p->n_hashes;
    protobuf_c_message_free_unpacked(resp, NULL);
    return n;
}

/* For a sample of acknowledged ballots, every node proves from its own state that the
 * ballot is in the tree its receipt signed and in the final tree, and that the receipt's
 * tree is a prefix of the final one. */
static void check_proofs(tc_client *cl, uint64_t vote, tc_voters *v, Strata__V1__Ballot **hist,
                         size_t nh, const uint8_t root[32], uint64_t *rng) {
    size_t n_casts, checked = 0;
    const tc_vote_rec *casts = tc_voters_casts(v, &n_casts);
    uint8_t proof[ST_MERKLE_MAX_PROOF * 32];
    char err[200] = "";
    for (int k = 0; k < PROOF_SAMPLE * 20 && checked < PROOF_SAMPLE; k++) {
        const tc_vote_rec *cs = &casts[test_below(rng, n_casts)];
        if (cs->kind != TC_VOTE_GOOD || cs->code != GRPC_STATUS_OK) {
            continue;
        }
        checked++;
        uint8_t leaf[32];
        const Strata__V1__Ballot *b = hist[cs->seq - 1];
        st_merkle_leaf_hash(leaf, b->record.data, b->record.len);
        for (int id = 1; id <= N; id++) {
            uint64_t size;
            Strata__V1__InclusionProofRequest iq = STRATA__V1__INCLUSION_PROOF_REQUEST__INIT;
            iq.vote_id = vote;
            iq.leaf_index = cs->seq - 1;
            iq.tree_size = cs->tree_size;
            size_t n =
                get_proof(cl, id, "/strata.v1.Audit/GetInclusionProof", &iq.base, proof, &size);
            CHECK_EQ(size, cs->tree_size);
            CHECK(st_merkle_verify_inclusion(leaf, cs->seq - 1, size, proof, n, cs->root, err,
                                             sizeof(err)) == ST_OK);
            iq.tree_size = 0;
            n = get_proof(cl, id, "/strata.v1.Audit/GetInclusionProof", &iq.base, proof, &size);
            CHECK_EQ(size, nh);
            CHECK(st_merkle_verify_inclusion(leaf, cs->seq - 1, size, proof, n, root, err,
                                             sizeof(err)) == ST_OK);
            Strata__V1__ConsistencyProofRequest cq = STRATA__V1__CONSISTENCY_PROOF_REQUEST__INIT;
            cq.vote_id = vote;
            cq.old_size = cs->tree_size;
            n = get_proof(cl, id, "/strata.v1.Audit/GetConsistencyProof", &cq.base, proof, &size);
            CHECK_EQ(size, nh);
            CHECK(st_merkle_verify_consistency(cs->tree_size, size, cs->root, root, proof, n, err,
                                               sizeof(err)) == ST_OK);
        }
    }
    printf("each node proves %zu sampled acknowledged ballots are in their receipts' trees and "
           "in the final one, and each receipt's tree a prefix of it\n",
           checked);
    CHECK(checked > 0);
}

/* What one round adds to the figures. */
typedef struct {
    size_t acked, refused, refused_unresolved, unacked, unacked_committed, revotes, history;
    size_t by_kind[TC_VOTE_KINDS];
} totals;

/* The end of a round: all nodes running, writes stopped, the vote closed. */
static void check_round(tc_client *cl, tc_cluster *c, const tc_world *w, uint64_t community,
                        uint64_t vote, const tc_roll *roll, tc_voters *v,
                        const st_trusted_key *keys, size_t n_keys, uint64_t *rng, totals *t) {
    /* Every node applies everything committed, then all hold the same data. */
    uint64_t commit = tc_leader_commit(cl);
    for (int id = 1; id <= N; id++) {
        if (!tc_wait_applied(cl, id, commit, LIVENESS_MS)) {
            fprintf(stderr, "node %d did not apply index %llu within %d ms\n", id,
                    (unsigned long long)commit, LIVENESS_MS);
            CHECK(false);
        }
    }
    uint64_t index = 0;
    CHECK(tc_same_state(cl, c, N, LIVENESS_MS, &index));
    printf("all %d nodes hold the same data digest at applied index %llu\n", N,
           (unsigned long long)index);

    /* The history against what the clients were told. */
    Strata__V1__Ballot **hist;
    size_t nh;
    uint64_t t_export = tc_now_ms();
    tc_export_within(cl, vote, EXPORT_MS, &hist, &nh);
    printf("exported %zu ballots from the leader in %llu ms\n", nh,
           (unsigned long long)(tc_now_ms() - t_export));
    tc_voters_counts k;
    tc_voters_verify(v, hist, nh, &k);
    printf("history of vote %llu: %zu ballots (%zu replacing an earlier one); %zu casts: %zu "
           "acknowledged, each there once at its seq; %zu refused with the right code, none "
           "there; %zu refusals unresolved (retries ran out), none there; %zu unacknowledged "
           "(of %zu casts that give up after %d ms), %zu of them committed anyway\n",
           (unsigned long long)vote, nh, k.revotes, k.casts, k.acked, k.refused,
           k.refused_unresolved, k.unacked, k.hasty, HASTY_MS, k.unacked_committed);
    printf("casts by kind:");
    for (int i = 0; i < TC_VOTE_KINDS; i++) {
        printf(" %s=%zu", tc_vote_kind_name(i), k.by_kind[i]);
        t->by_kind[i] += k.by_kind[i];
    }
    printf("\n");
    CHECK(k.acked > 0);

    /* The root of the exported records. */
    st_merkle_frontier *f;
    CHECK(st_merkle_frontier_init(&f) == ST_OK);
    for (size_t i = 0; i < nh; i++) {
        uint8_t leaf[32];
        st_merkle_leaf_hash(leaf, hist[i]->record.data, hist[i]->record.len);
        CHECK(st_merkle_frontier_append(f, leaf, NULL, NULL) == ST_OK);
    }
    uint8_t root[32];
    st_merkle_frontier_root(f, root);
    st_merkle_frontier_free(f);

    /* The leader's vote: closed, its tally the recount, its log the history. */
    Strata__V1__Vote *lv = tc_get_vote(cl, 0, vote);
    CHECK_EQ(lv->state, STRATA__V1__VOTE_STATE__VOTE_CLOSED);
    tc_check_recount(lv, hist, nh, roll);
    CHECK_EQ(lv->log_size, nh);
    CHECK(lv->log_root.len == 32 && memcmp(lv->log_root.data, root, 32) == 0);
    printf("tally equals the recount: agree %lld/%lld, disagree %lld/%lld, abstain %lld/%lld "
           "(area/owners)\n",
           (long long)lv->tally->agree_area, (long long)lv->tally->agree_owners,
           (long long)lv->tally->disagree_area, (long long)lv->tally->disagree_owners,
           (long long)lv->tally->abstain_area, (long long)lv->tally->abstain_owners);

    /* Each node, from its own state: the same vote and a tree head of the same root. */
    for (int id = 1; id <= N; id++) {
        Strata__V1__Vote *nv = tc_get_vote(cl, id, vote);
        if (!same_vote(lv, nv)) {
            fprintf(stderr, "node %d holds another vote %llu than the leader\n", id,
                    (unsigned long long)vote);
            CHECK(false);
        }
        protobuf_c_message_free_unpacked(&nv->base, NULL);
        check_tree_head(cl, id, vote, nh, root, keys, n_keys);
    }
    printf("each node's vote (tally, log size and root) and signed tree head agree\n");
    check_proofs(cl, vote, v, hist, nh, root, rng);

    /* Closed: nothing more can be added. */
    const tc_owner *o = NULL;
    for (size_t i = 0; i < w->n_owners && o == NULL; i++) {
        o = w->owners[i].community == community ? &w->owners[i] : NULL;
    }
    CHECK(o != NULL);
    tc_ballot_buf buf;
    Strata__V1__CastBallotRequest q;
    tc_ballot_request(&o->key, community, vote, o->owner, 1, NULL, &buf, &q);
    tc_status st;
    int code =
        tc_leader_call_as(cl, &o->key, "/strata.v1.Voting/CastBallot", &q.base,
                          &strata__v1__cast_ballot_response__descriptor, NULL, &st, TC_WRITE_MS);
    CHECK_EQ(code, GRPC_STATUS_FAILED_PRECONDITION);

    t->acked += k.acked;
    t->refused += k.refused;
    t->refused_unresolved += k.refused_unresolved;
    t->unacked += k.unacked;
    t->unacked_committed += k.unacked_committed;
    t->revotes += k.revotes;
    t->history += nh;
    protobuf_c_message_free_unpacked(&lv->base, NULL);
    tc_free_msgs((ProtobufCMessage **)hist, nh);
}

int main(int argc, char **argv) {
    args a = {0};
    parse_args(argc, argv, &a);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("campaign: seed=%" PRIu64 " seconds=%u round_seconds=%u (replay: --seed %" PRIu64
           " --seconds %u)\n",
           a.seed, a.seconds, a.round_seconds, a.seed, a.seconds);
    nemesis nm = {.rng = a.seed};

    tc_options o = {.stratad = a.stratad,
                    .election_ms = 1000,
                    .heartbeat_ms = 100,
                    .snapshot_threshold = a.snapshot_threshold,
                    .snapshot_trailing = a.snapshot_trailing};
    tc_cluster *c = tc_new(&o, "campaign");
    for (int i = 1; i <= N; i++) {
        tc_start(c, i, false);
    }
    tc_client *cl = tc_client_new(c);
    CHECK(tc_wait_leader(cl, c, N, 15000) != 0);

    /* Genesis, nodes, a community with its roll, owners enrolled with device keys. */
    tc_world world;
    tc_world_init(&world);
    uint64_t community = tc_world_setup(cl, c, &world, N, "campaign");
    st_trusted_key keys[TC_MAX_NODES];
    size_t n_keys = tc_trusted_keys(cl, tc_wait_leader(cl, c, N, 5000), keys, TC_MAX_NODES);
    CHECK_EQ(n_keys, N);
    tc_roll roll;
    tc_roll_generated(ROLL_OWNERS, &roll);
    tc_import_roll(cl, &world, community, &roll);
    for (int i = 1; i <= ENROLLED; i++) {
        char owner[16];
        snprintf(owner, sizeof(owner), "O%d", i);
        tc_enroll(cl, &world, community, owner);
    }
    printf("setup: %d nodes, community %llu, roll of %d owners, %d of them enrolled with device "
           "keys\n",
           N, (unsigned long long)community, ROLL_OWNERS, ENROLLED);

    totals t;
    memset(&t, 0, sizeof(t));
    nm.t0 = tc_now_ms();
    uint64_t end = nm.t0 + (uint64_t)a.seconds * 1000u;
    unsigned rounds = 0;
    while (tc_now_ms() < end) {
        rounds++;
        uint64_t round_end = tc_now_ms() + (uint64_t)a.round_seconds * 1000u;
        if (round_end > end || end - round_end < 30000) {
            round_end = end; /* no short round at the end */
        }
        char title[64];
        snprintf(title, sizeof(title), "选聘物业服务企业 (campaign round %u)", rounds);
        uint64_t vote = tc_create_vote(cl, &world, community, 4, title);
        tc_vote_step(cl, &world, community, "NoticeVote", vote);
        tc_vote_step(cl, &world, community, "OpenVote", vote);
        printf("[%8.3f s] round %u: vote %llu open, %d voters casting\n", since(&nm), rounds,
               (unsigned long long)vote, VOTER_THREADS);
        tc_voters_opts vo = {.threads = VOTER_THREADS,
                             .retry_ms = RETRY_MS,
                             .refuse_pm = REFUSE_PER_MILLE,
                             .hasty_threads = 1,
                             .hasty_ms = HASTY_MS,
                             .think_ms = 1,
                             .seed = a.seed ^ ((uint64_t)rounds << 40),
                             .keys = keys,
                             .n_keys = n_keys};
        tc_voters *v = tc_voters_start(cl, &world, community, vote, &vo);
        run_faults(&nm, cl, c, &world, v, round_end);

        /* Every node runs again (each fault healed itself); writing must go on. */
        for (int id = 1; id <= N; id++) {
            CHECK(tc_running(c, id));
        }
        size_t acked = tc_voters_acked(v);
        uint64_t t_heal = tc_now_ms();
        while (tc_voters_acked(v) < acked + 20 && tc_now_ms() - t_heal < LIVENESS_MS) {
            tc_sleep_ms(50);
        }
        printf("[%8.3f s] round %u: faults over; %zu ballots acknowledged, %zu more within "
               "%llu ms\n",
               since(&nm), rounds, acked, tc_voters_acked(v) - acked,
               (unsigned long long)(tc_now_ms() - t_heal));
        CHECK(tc_voters_acked(v) >= acked + 20);
        tc_voters_stop(v);
        tc_vote_step(cl, &world, community, "CloseVote", vote);
        check_round(cl, c, &world, community, vote, &roll, v, keys, n_keys, &nm.rng, &t);
        tc_voters_free(v);
    }
    double secs = (double)(tc_now_ms() - nm.t0) / 1000.0;
    unsigned faults = nm.kill + nm.stop + nm.transfer;
    printf("schedule of seed %" PRIu64 ": %u faults in %u round(s): kill -9 %u, SIGSTOP %u (%u of "
           "these at the leader), leadership transfers %u (%u completed)\n",
           a.seed, faults, rounds, nm.kill, nm.stop, nm.at_leader, nm.transfer, nm.transfer_done);
    printf("casts by kind:");
    for (int i = 0; i < TC_VOTE_KINDS; i++) {
        printf(" %s=%zu", tc_vote_kind_name(i), t.by_kind[i]);
    }
    printf("\n%zu ballots acknowledged (%.0f/s over %.0f s), %zu in the histories (%zu "
           "re-votes); %zu refused, %zu refusals unresolved; %zu unacknowledged, %zu of them "
           "committed\n",
           t.acked, (double)t.acked / secs, secs, t.history, t.revotes, t.refused,
           t.refused_unresolved, t.unacked, t.unacked_committed);

    tc_roll_free(&roll);
    tc_world_free(&world);
    tc_client_free(cl);
    tc_finish(c);
    printf("figure: campaign seed=%" PRIu64 " seconds=%u ballots_acked=%zu ballots_refused=%zu "
           "unacked_committed=%zu faults=%u (kill=%u stop=%u transfer=%u) nodes_compared=%d\n",
           a.seed, a.seconds, t.acked, t.refused, t.unacked_committed, faults, nm.kill, nm.stop,
           nm.transfer, N);
    return 0;
}
