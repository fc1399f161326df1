/* test_basic.c - three real stratad processes bootstrap a cluster and run DOMAIN.md's worked
 * example end to end over gRPC with real keys: Genesis by the operator, every node's key
 * registered, a supervisor creates the community and appoints an organiser, who imports the
 * roll, runs an ordinary and a special vote and issues enrollment codes; owners' devices
 * redeem them and cast signed ballots (one owner replaces a ballot, the organiser enters
 * one paper ballot); the supervisor certifies one result and disputes the other.
 *
 * Checked on the way: request authentication (an unsigned write, a replayed request, one
 * signed ten minutes ago, for another method or over other bytes: UNAUTHENTICATED; an owner
 * calling an organiser's method, an organiser of another community: PERMISSION_DENIED);
 * every CastBallot receipt verifies offline against the leader's registered node key, an
 * inclusion proof fetched from another node verifies against the receipt's tree head, and
 * a consistency proof links an early tree head to the final one; the published results read
 * from every node (stale) and from the leader; a follower refuses a write with UNAVAILABLE
 * naming the leader in `strata-leader`; the documented error codes; a retried request
 * applies once; names are unmasked for the organiser and the supervisor only; a
 * 20,000-unit roll in one call.
 *
 * Usage: cluster_basic STRATAD DATA_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "crypto/merkle.h"
#include "crypto/text.h"
#include "tests/cluster/steps.h"
#include "tests/core/check.h"

#define N 3
#define MAX_CASTS 16

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

/* A call expected to fail with `code` (key NULL: unsigned; node 0: the leader, following
 * strata-leader). The details go into details (if not NULL). */
static void expect_code(tc_client *cl, const tc_key *key, int node, const char *method,
                        const ProtobufCMessage *req, const ProtobufCMessageDescriptor *out,
                        grpc_status_code code, char *details, size_t cap) {
    tc_status st;
    ProtobufCMessage *resp = NULL;
    int got = node != 0 ? tc_unary_as(cl, key, node, method, req, out, &resp, &st, 5000)
                        : tc_leader_call_as(cl, key, method, req, out, &resp, &st, TC_WRITE_MS);
    if (got != (int)code) {
        fprintf(stderr, "%s: expected status %d, got %d: %s\n", method, (int)code, got, st.details);
    }
    CHECK_EQ(got, code);
    CHECK(resp == NULL);
    printf("  %s -> %d: %s\n", method, got, st.details);
    if (details != NULL) {
        snprintf(details, cap, "%s", st.details);
    }
}

/* A call with a given envelope to node id, expected to give `code`. */
static void expect_env(tc_client *cl, int node, const char *method, const ProtobufCMessage *req,
                       const uint8_t *env, size_t env_len, const ProtobufCMessageDescriptor *out,
                       grpc_status_code code, const char *text) {
    tc_status st;
    ProtobufCMessage *resp = NULL;
    int got = tc_unary_env(cl, node, method, req, env, env_len, out, &resp, &st, 5000);
    if (got != (int)code || (text != NULL && strstr(st.details, text) == NULL)) {
        fprintf(stderr, "%s: expected status %d (\"%s\"), got %d: %s\n", method, (int)code,
                text != NULL ? text : "", got, st.details);
    }
    CHECK_EQ(got, code);
    CHECK(text == NULL || strstr(st.details, text) != NULL);
    if (resp != NULL) {
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    printf("  %s -> %d: %s\n", method, got, st.details);
}

static Strata__V1__TreeHead *tree_head(tc_client *cl, int node, uint64_t vote) {
    Strata__V1__GetTreeHeadRequest q = STRATA__V1__GET_TREE_HEAD_REQUEST__INIT;
    q.vote_id = vote;
    ProtobufCMessage *resp;
    tc_status st;
    CHECK_EQ(tc_unary(cl, node, "/strata.v1.Audit/GetTreeHead", &q.base,
                      &strata__v1__tree_head__descriptor, &resp, &st, 5000),
             GRPC_STATUS_OK);
    return (Strata__V1__TreeHead *)resp;
}

/* The proof's hashes concatenated into out (32 * count bytes). */
static size_t proof_bytes(const Strata__V1__Proof *p, uint8_t *out, size_t cap) {
    CHECK(p->n_hashes * 32 <= cap);
    for (size_t i = 0; i < p->n_hashes; i++) {
        CHECK_EQ(p->hashes[i].len, 32);
        memcpy(out + 32 * i, p->hashes[i].data, 32);
    }
    return p->n_hashes;
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    char path[1024], details[512];
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
    tc_world w;
    tc_world_init(&w);

    /* Before Genesis: unsigned, and signed by a key nobody registered. */
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__CreateCommunityRequest cc = STRATA__V1__CREATE_COMMUNITY_REQUEST__INIT;
    cc.request_id = (ProtobufCBinaryData){16, rid};
    cc.name = (char *)"follower write";
    cc.street = (char *)"s";
    expect_code(cl, NULL, 0, "/strata.v1.Registry/CreateCommunity", &cc.base,
                &strata__v1__create_community_response__descriptor, GRPC_STATUS_UNAUTHENTICATED,
                details, sizeof(details));
    CHECK(strstr(details, "must be signed") != NULL);
    expect_code(cl, &w.sup, 0, "/strata.v1.Registry/CreateCommunity", &cc.base,
                &strata__v1__create_community_response__descriptor, GRPC_STATUS_UNAUTHENTICATED,
                details, sizeof(details));
    CHECK(strstr(details, "Genesis") != NULL);

    /* A follower refuses a write and names the leader. */
    leader = tc_wait_leader(cl, c, N, 5000);
    int follower = leader % N + 1;
    tc_status st;
    CHECK_EQ(tc_unary_as(cl, &w.sup, follower, "/strata.v1.Registry/CreateCommunity", &cc.base,
                         &strata__v1__create_community_response__descriptor, NULL, &st, 5000),
             GRPC_STATUS_UNAVAILABLE);
    printf("follower %d: UNAVAILABLE (%s), strata-leader = %s\n", follower, st.details, st.leader);
    CHECK_STR(st.leader, tc_grpc_addr(c, leader));

    /* Genesis (a second one is refused), and every node's key in the roster. */
    tc_genesis(cl, &w);
    {
        tc_key other;
        tc_key_new(&other);
        tc_request_id(rid);
        Strata__V1__GenesisRequest g = STRATA__V1__GENESIS_REQUEST__INIT;
        g.request_id = (ProtobufCBinaryData){16, rid};
        g.operator_public_key = (ProtobufCBinaryData){32, other.pk};
        g.supervisor_public_key = (ProtobufCBinaryData){32, w.sup.pk};
        expect_code(cl, &other, 0, "/strata.v1.Keys/Genesis", &g.base,
                    &strata__v1__key_response__descriptor, GRPC_STATUS_FAILED_PRECONDITION, NULL,
                    0);
        /* Signed by another key than the one it installs. */
        expect_code(cl, &w.op, 0, "/strata.v1.Keys/Genesis", &g.base,
                    &strata__v1__key_response__descriptor, GRPC_STATUS_UNAUTHENTICATED, NULL, 0);
    }
    tc_register_nodes(cl, c, &w, N);
    st_trusted_key trusted[TC_MAX_NODES];
    size_t n_trusted = tc_trusted_keys(cl, follower, trusted, TC_MAX_NODES);
    CHECK_EQ(n_trusted, N);
    for (int i = 1; i <= N; i++) {
        Strata__V1__StatusResponse *s = tc_status_of(cl, i, 2000);
        CHECK(s != NULL && s->node_public_key.len == 32);
        bool listed = false;
        for (size_t k = 0; k < n_trusted; k++) {
            listed |= trusted[k].node_id == (uint64_t)i &&
                      memcmp(trusted[k].pubkey, s->node_public_key.data, 32) == 0;
        }
        CHECK(listed);
        protobuf_c_message_free_unpacked(&s->base, NULL);
    }
    printf("genesis done; the roster lists the %d nodes' keys, as each node reports its own\n", N);

    /* The worked example: its community is the first, so no refused write created one. */
    uint64_t community = tc_create_community(cl, &w, "阳光花园");
    CHECK_EQ(community, 1);
    const tc_key *org = tc_organiser(&w, community);
    tc_roll roll;
    snprintf(path, sizeof(path), "%s/example-roll.csv", argv[2]);
    tc_roll_from_csv(path, &roll);
    CHECK_EQ(tc_import_roll(cl, &w, community, &roll), 1);

    /* Request authentication, on the leader. */
    leader = tc_wait_leader(cl, c, N, 5000);
    tc_request_id(rid);
    Strata__V1__CreateVoteRequest cv = STRATA__V1__CREATE_VOTE_REQUEST__INIT;
    cv.request_id = (ProtobufCBinaryData){16, rid};
    cv.community_id = community;
    cv.matter = 4;
    cv.title = (char *)"选聘物业服务企业";
    cv.notice_case = STRATA__V1__CREATE_VOTE_REQUEST__NOTICE_NOTICE_DAYS;
    cv.notice_days = 0;
    const char *create_vote = "/strata.v1.Voting/CreateVote";
    const ProtobufCMessageDescriptor *cv_out = &strata__v1__create_vote_response__descriptor;
    uint8_t env[ST_REQUEST_MAX_LEN];
    size_t env_len;
    expect_env(cl, leader, create_vote, &cv.base, NULL, 0, cv_out, GRPC_STATUS_UNAUTHENTICATED,
               "must be signed");
    env_len = tc_sign(org, create_vote, &cv.base, -10 * 60 * 1000, env);
    expect_env(cl, leader, create_vote, &cv.base, env, env_len, cv_out, GRPC_STATUS_UNAUTHENTICATED,
               "signed 10 minutes ago");
    env_len = tc_sign(org, create_vote, &cv.base, 7 * 60 * 1000, env);
    expect_env(cl, leader, create_vote, &cv.base, env, env_len, cv_out, GRPC_STATUS_UNAUTHENTICATED,
               "in the future");
    env_len = tc_sign(org, "/strata.v1.Voting/OpenVote", &cv.base, 0, env);
    expect_env(cl, leader, create_vote, &cv.base, env, env_len, cv_out, GRPC_STATUS_UNAUTHENTICATED,
               "signed for /strata.v1.Voting/OpenVote");
    Strata__V1__CreateVoteRequest other = cv;
    other.title = (char *)"another title";
    env_len = tc_sign(org, create_vote, &other.base, 0, env);
    expect_env(cl, leader, create_vote, &cv.base, env, env_len, cv_out, GRPC_STATUS_UNAUTHENTICATED,
               "does not match the SHA-256");
    uint8_t junk[40] = {1, 2, 3};
    expect_env(cl, leader, create_vote, &cv.base, junk, sizeof(junk), cv_out,
               GRPC_STATUS_UNAUTHENTICATED, "not a signed request envelope");
    env_len = tc_sign(org, create_vote, &cv.base, 0, env);
    env[env_len - 1] ^= 1;
    expect_env(cl, leader, create_vote, &cv.base, env, env_len, cv_out, GRPC_STATUS_UNAUTHENTICATED,
               "does not verify");
    /* Signed properly: accepted. The same envelope and bytes again: a replay. */
    env_len = tc_sign(org, create_vote, &cv.base, 0, env);
    expect_env(cl, leader, create_vote, &cv.base, env, env_len, cv_out, GRPC_STATUS_OK, NULL);
    expect_env(cl, leader, create_vote, &cv.base, env, env_len, cv_out, GRPC_STATUS_UNAUTHENTICATED,
               "replayed");
    uint64_t ordinary = 1;
    uint64_t special = tc_create_vote(cl, &w, community, 6, "筹集维修资金");
    CHECK_EQ(special, 2);
    uint64_t votes[2] = {ordinary, special};
    for (int k = 0; k < 2; k++) {
        CHECK_EQ(tc_vote_step(cl, &w, community, "NoticeVote", votes[k]),
                 STRATA__V1__VOTE_STATE__VOTE_NOTICED);
        CHECK_EQ(tc_vote_step(cl, &w, community, "OpenVote", votes[k]),
                 STRATA__V1__VOTE_STATE__VOTE_OPEN);
    }

    /* Owners enroll with codes; O5 votes on paper, entered by the organiser. */
    example_ballot ballots[32];
    snprintf(path, sizeof(path), "%s/example-ballots.csv", argv[2]);
    size_t nb = read_ballots(path, ballots, 32);
    CHECK_EQ(nb, 9);
    const char *paper_owner = "O5";
    for (size_t i = 0; i < nb; i++) {
        if (strcmp(ballots[i].owner, paper_owner) != 0) {
            tc_enroll(cl, &w, community, ballots[i].owner);
        }
    }
    printf("%zu owners enrolled with one-time codes\n", nb - 1);

    /* An owner may not call an organiser's method, nor sign another owner's ballot. */
    const tc_key *o1 = tc_owner_key(&w, community, "O1");
    const tc_key *o2 = tc_owner_key(&w, community, "O2");
    tc_request_id(rid);
    expect_code(cl, o1, 0, create_vote, &cv.base, cv_out, GRPC_STATUS_PERMISSION_DENIED, NULL, 0);
    {
        tc_ballot_buf buf;
        Strata__V1__CastBallotRequest q;
        tc_ballot_request(o2, community, ordinary, "O1", 1, NULL, &buf, &q);
        expect_code(cl, o2, 0, "/strata.v1.Voting/CastBallot", &q.base,
                    &strata__v1__cast_ballot_response__descriptor, GRPC_STATUS_PERMISSION_DENIED,
                    NULL, 0);
        /* An unsigned online ballot is never accepted. */
        q.signed_ballot.len = 0;
        q.signature.len = 0;
        expect_code(cl, o1, 0, "/strata.v1.Voting/CastBallot", &q.base,
                    &strata__v1__cast_ballot_response__descriptor, GRPC_STATUS_UNAUTHENTICATED,
                    NULL, 0);
    }

    /* The ballots: O3 first agrees, then replaces it with the example's disagree. */
    uint8_t scan[32];
    memset(scan, 0x55, sizeof(scan));
    tc_cast_result casts[2][MAX_CASTS];
    size_t n_casts[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        CHECK_EQ(tc_cast(cl, &w, community, votes[k], "O3", 1, &casts[k][n_casts[k]++]), 1);
        for (size_t i = 0; i < nb; i++) {
            tc_cast_result *r = &casts[k][n_casts[k]++];
            uint64_t seq =
                strcmp(ballots[i].owner, paper_owner) == 0
                    ? tc_cast_paper(cl, &w, community, votes[k], ballots[i].owner,
                                    ballots[i].choice, scan, r)
                    : tc_cast(cl, &w, community, votes[k], ballots[i].owner, ballots[i].choice, r);
            CHECK_EQ(seq, i + 2);
        }
    }

    /* A retry with the same request_id (signed afresh) returns the first answer. */
    tc_ballot_buf rbuf;
    Strata__V1__CastBallotRequest cb;
    tc_ballot_request(o1, community, ordinary, "O1", 1, NULL, &rbuf, &cb);
    uint64_t seqs[2];
    for (int k = 0; k < 2; k++) {
        ProtobufCMessage *resp;
        CHECK_EQ(tc_leader_call_as(cl, o1, "/strata.v1.Voting/CastBallot", &cb.base,
                                   &strata__v1__cast_ballot_response__descriptor, &resp, &st,
                                   TC_WRITE_MS),
                 GRPC_STATUS_OK);
        Strata__V1__CastBallotResponse *r = (void *)resp;
        seqs[k] = r->seq;
        tc_cast_result *cr = &casts[0][n_casts[0]];
        memset(cr, 0, sizeof(*cr));
        cr->seq = r->seq;
        CHECK(st_receipt_decode(&cr->receipt, r->receipt.data, r->receipt.len, NULL, 0) == ST_OK);
        memcpy(cr->record, rbuf.record, rbuf.record_len);
        cr->record_len = rbuf.record_len;
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    n_casts[0]++;
    CHECK_EQ(seqs[0], 11);
    CHECK_EQ(seqs[1], 11);

    /* Every receipt verifies offline against the registered node keys; each is signed by
     * the leader that answered (the same node throughout: nothing failed here). */
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < n_casts[k]; i++) {
            tc_check_receipt(&casts[k][i], trusted, n_trusted);
            CHECK_EQ(casts[k][i].receipt.sth.node_id, (uint64_t)tc_client_leader(cl));
        }
    }
    printf("%zu receipts verify offline against the registered node keys\n",
           n_casts[0] + n_casts[1]);

    /* Inclusion proofs of every ballot of the ordinary vote, fetched from another node than
     * the one that signed the receipt, verify against the receipt's tree head. */
    uint64_t commit = tc_leader_commit(cl);
    for (size_t i = 0; i < n_casts[0]; i++) {
        const st_receipt *rc = &casts[0][i].receipt;
        int other_node = (int)(rc->sth.node_id % N) + 1;
        CHECK(tc_wait_applied(cl, other_node, commit, 10000));
        Strata__V1__InclusionProofRequest iq = STRATA__V1__INCLUSION_PROOF_REQUEST__INIT;
        iq.vote_id = ordinary;
        iq.leaf_index = rc->leaf_index;
        iq.tree_size = rc->sth.tree_size;
        ProtobufCMessage *resp;
        CHECK_EQ(tc_unary(cl, other_node, "/strata.v1.Audit/GetInclusionProof", &iq.base,
                          &strata__v1__proof__descriptor, &resp, &st, 5000),
                 GRPC_STATUS_OK);
        uint8_t proof[64 * 32];
        size_t np = proof_bytes((Strata__V1__Proof *)resp, proof, sizeof(proof));
        CHECK_EQ(((Strata__V1__Proof *)resp)->tree_size, rc->sth.tree_size);
        protobuf_c_message_free_unpacked(resp, NULL);
        char err[256] = "";
        int vrc = st_receipt_verify_inclusion(rc, proof, np, err, sizeof(err));
        if (vrc != ST_OK) {
            fprintf(stderr, "inclusion of leaf %llu: %s\n", (unsigned long long)rc->leaf_index,
                    err);
        }
        CHECK_EQ(vrc, ST_OK);
    }
    printf("inclusion proofs from other nodes verify against all %zu receipts' tree heads\n",
           n_casts[0]);

    for (int k = 0; k < 2; k++) {
        CHECK_EQ(tc_vote_step(cl, &w, community, "CloseVote", votes[k]),
                 STRATA__V1__VOTE_STATE__VOTE_CLOSED);
        CHECK_EQ(tc_vote_step(cl, &w, community, "PublishVote", votes[k]),
                 STRATA__V1__VOTE_STATE__VOTE_PUBLISHED);
    }

    /* The final tree head from a follower (signed by its own key), and a consistency proof
     * from the first receipt's head to it. */
    follower = tc_client_leader(cl) % N + 1;
    commit = tc_leader_commit(cl);
    CHECK(tc_wait_applied(cl, follower, commit, 10000));
    Strata__V1__TreeHead *th = tree_head(cl, follower, ordinary);
    st_sth final;
    CHECK(st_sth_decode(&final, th->sth.data, th->sth.len, NULL, 0) == ST_OK);
    CHECK_EQ(final.node_id, (uint64_t)follower);
    CHECK_EQ(final.tree_size, 11);
    CHECK_EQ(th->tree_size, 11);
    CHECK(st_sth_verify(&final, trusted, n_trusted, NULL, 0) == ST_OK);
    protobuf_c_message_free_unpacked(&th->base, NULL);
    {
        const st_sth *early = &casts[0][0].receipt.sth;
        CHECK_EQ(early->tree_size, 1);
        Strata__V1__ConsistencyProofRequest pq = STRATA__V1__CONSISTENCY_PROOF_REQUEST__INIT;
        pq.vote_id = ordinary;
        pq.old_size = early->tree_size;
        pq.new_size = final.tree_size;
        ProtobufCMessage *resp;
        CHECK_EQ(tc_unary(cl, leader % N + 1, "/strata.v1.Audit/GetConsistencyProof", &pq.base,
                          &strata__v1__proof__descriptor, &resp, &st, 5000),
                 GRPC_STATUS_OK);
        uint8_t proof[65 * 32];
        size_t np = proof_bytes((Strata__V1__Proof *)resp, proof, sizeof(proof));
        protobuf_c_message_free_unpacked(resp, NULL);
        CHECK(st_merkle_verify_consistency(early->tree_size, final.tree_size, early->root,
                                           final.root, proof, np, NULL, 0) == ST_OK);
        /* And between two receipts' heads (sizes 5 and 10). */
        const st_sth *a = &casts[0][4].receipt.sth, *b = &casts[0][9].receipt.sth;
        pq.old_size = a->tree_size;
        pq.new_size = b->tree_size;
        CHECK_EQ(tc_unary(cl, follower, "/strata.v1.Audit/GetConsistencyProof", &pq.base,
                          &strata__v1__proof__descriptor, &resp, &st, 5000),
                 GRPC_STATUS_OK);
        np = proof_bytes((Strata__V1__Proof *)resp, proof, sizeof(proof));
        protobuf_c_message_free_unpacked(resp, NULL);
        CHECK(st_merkle_verify_consistency(a->tree_size, b->tree_size, a->root, b->root, proof, np,
                                           NULL, 0) == ST_OK);
    }
    printf("final tree head (size 11) from node %d verifies; consistency proofs link the "
           "receipts' heads to it\n",
           follower);

    /* The supervisor certifies the ordinary result and disputes the special one. */
    {
        tc_request_id(rid);
        Strata__V1__CertifyRequest cq = STRATA__V1__CERTIFY_REQUEST__INIT;
        cq.request_id = (ProtobufCBinaryData){16, rid};
        cq.vote_id = ordinary;
        expect_code(cl, org, 0, "/strata.v1.Audit/Certify", &cq.base, &strata__v1__vote__descriptor,
                    GRPC_STATUS_PERMISSION_DENIED, NULL, 0);
        ProtobufCMessage *resp;
        CHECK_EQ(tc_leader_call_as(cl, &w.sup, "/strata.v1.Audit/Certify", &cq.base,
                                   &strata__v1__vote__descriptor, &resp, &st, TC_WRITE_MS),
                 GRPC_STATUS_OK);
        protobuf_c_message_free_unpacked(resp, NULL);
        tc_request_id(rid);
        Strata__V1__DisputeRequest dq = STRATA__V1__DISPUTE_REQUEST__INIT;
        dq.request_id = (ProtobufCBinaryData){16, rid};
        dq.vote_id = special;
        dq.reason = (char *)"一张书面表决票的扫描件不清晰";
        CHECK_EQ(tc_leader_call_as(cl, &w.sup, "/strata.v1.Audit/Dispute", &dq.base,
                                   &strata__v1__vote__descriptor, &resp, &st, TC_WRITE_MS),
                 GRPC_STATUS_OK);
        protobuf_c_message_free_unpacked(resp, NULL);
    }

    /* The results, linearizable from the leader and stale from every node once applied. */
    Strata__V1__Vote *v = tc_get_vote(cl, 0, ordinary);
    check_result(v, true);
    CHECK_EQ(v->ballot_count, 11);
    CHECK_EQ(v->log_size, 11);
    CHECK(v->log_root.len == 32 && memcmp(v->log_root.data, final.root, 32) == 0);
    CHECK_EQ(v->n_reviews, 1);
    CHECK(v->reviews[0]->certified);
    CHECK(v->reviews[0]->key_id.len == 16 && memcmp(v->reviews[0]->key_id.data, w.sup.id, 16) == 0);
    CHECK(!v->stale);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    v = tc_get_vote(cl, 0, special);
    check_result(v, false);
    CHECK_EQ(v->n_reviews, 1);
    CHECK(!v->reviews[0]->certified);
    CHECK_STR(v->reviews[0]->reason, "一张书面表决票的扫描件不清晰");
    protobuf_c_message_free_unpacked(&v->base, NULL);
    commit = tc_leader_commit(cl);
    for (int i = 1; i <= N; i++) {
        CHECK(tc_wait_applied(cl, i, commit, 10000));
        v = tc_get_vote(cl, i, ordinary);
        check_result(v, true);
        CHECK(v->stale);
        CHECK_EQ(v->n_reviews, 1);
        protobuf_c_message_free_unpacked(&v->base, NULL);
        v = tc_get_vote(cl, i, special);
        check_result(v, false);
        protobuf_c_message_free_unpacked(&v->base, NULL);
        printf("node %d: part 128950/9, agree 84715/6; matter 4 passes (certified), matter 6 "
               "fails (disputed)\n",
               i);
    }

    /* Every replica holds the same data: equal digests at equal applied indexes. */
    uint64_t digest_index = 0;
    CHECK(tc_same_state(cl, c, N, 10000, &digest_index));
    printf("nodes 1..%d: the same state digest at applied index %llu\n", N,
           (unsigned long long)digest_index);
    /* All of it travelled over the authenticated transport: every node completed
     * handshakes with its peers and refused nothing. */
    for (int i = 1; i <= N; i++) {
        Strata__V1__StatusResponse *s = tc_status_of(cl, i, 5000);
        CHECK(s != NULL);
        CHECK(s->raft_connections_accepted >= 2);
        CHECK_EQ(s->raft_connections_refused, 0);
        CHECK_EQ(s->raft_frames_rejected, 0);
        printf("node %d: %llu authenticated Raft connections, none refused\n", i,
               (unsigned long long)s->raft_connections_accepted);
        protobuf_c_message_free_unpacked(&s->base, NULL);
    }

    /* The ballot history: records, keys, leaves; the owner's view; the trail. */
    Strata__V1__Ballot **hist;
    size_t nh;
    tc_export(cl, ordinary, &hist, &nh);
    CHECK_EQ(nh, 11);
    for (size_t i = 0; i < nh; i++) {
        const Strata__V1__Ballot *b = hist[i];
        CHECK_EQ(b->leaf_index, i);
        CHECK_EQ(b->key_id.len, 16);
        const tc_cast_result *cr = &casts[0][i];
        CHECK_EQ(b->record.len, cr->record_len);
        CHECK(memcmp(b->record.data, cr->record, cr->record_len) == 0);
        bool paper = strcmp(b->owner_id, paper_owner) == 0;
        CHECK_EQ(b->source, paper ? STRATA__V1__BALLOT_SOURCE__BALLOT_PAPER
                                  : STRATA__V1__BALLOT_SOURCE__BALLOT_ONLINE);
        const tc_key *signer = paper ? org : tc_owner_key(&w, community, b->owner_id);
        CHECK(memcmp(b->key_id.data, signer->id, 16) == 0);
        if (paper) {
            CHECK_STR(b->entered_by, org->hex);
        }
    }
    v = tc_get_vote(cl, 0, ordinary);
    tc_check_recount(v, hist, nh, &roll);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    tc_free_msgs((ProtobufCMessage **)hist, nh);

    Strata__V1__MyBallotsRequest mb = STRATA__V1__MY_BALLOTS_REQUEST__INIT;
    mb.vote_id = ordinary;
    mb.owner_id = (char *)"O3";
    ProtobufCMessage *resp;
    CHECK_EQ(tc_leader_call(cl, "/strata.v1.Voting/MyBallots", &mb.base,
                            &strata__v1__my_ballots_response__descriptor, &resp, &st, TC_WRITE_MS),
             GRPC_STATUS_OK);
    Strata__V1__MyBallotsResponse *mine = (void *)resp;
    CHECK_EQ(mine->n_ballots, 2);
    CHECK(!mine->ballots[0]->current && mine->ballots[1]->current);
    CHECK_EQ(mine->ballots[0]->choice, STRATA__V1__CHOICE__CHOICE_AGREE);
    CHECK_EQ(mine->ballots[1]->choice, STRATA__V1__CHOICE__CHOICE_DISAGREE);
    protobuf_c_message_free_unpacked(resp, NULL);

    Strata__V1__ListVotesRequest lv = STRATA__V1__LIST_VOTES_REQUEST__INIT;
    lv.community_id = community;
    CHECK_EQ(tc_leader_call(cl, "/strata.v1.Voting/ListVotes", &lv.base,
                            &strata__v1__list_votes_response__descriptor, &resp, &st, TC_WRITE_MS),
             GRPC_STATUS_OK);
    CHECK_EQ(((Strata__V1__ListVotesResponse *)resp)->n_votes, 2);
    protobuf_c_message_free_unpacked(resp, NULL);

    Strata__V1__TrailRequest tr = STRATA__V1__TRAIL_REQUEST__INIT;
    CHECK_EQ(tc_leader_call(cl, "/strata.v1.Audit/Trail", &tr.base,
                            &strata__v1__trail_response__descriptor, &resp, &st, TC_WRITE_MS),
             GRPC_STATUS_OK);
    {
        Strata__V1__TrailResponse *t = (void *)resp;
        size_t ballots_seen = 0, genesis = 0, members = 0, reviews = 0;
        for (size_t i = 0; i < t->n_events; i++) {
            const Strata__V1__Event *e = t->events[i];
            CHECK_EQ(strlen(e->actor), 32); /* every actor is a key id */
            if (strcmp(e->kind, "ballot.cast") == 0) {
                ballots_seen++;
                bool known = strcmp(e->actor, org->hex) == 0;
                for (size_t k = 0; k < w.n_owners; k++) {
                    known |= strcmp(e->actor, w.owners[k].key.hex) == 0;
                }
                CHECK(known); /* the organiser (paper) or the owner who signed */
            }
            genesis += strcmp(e->kind, "key.genesis") == 0 && strcmp(e->actor, w.op.hex) == 0;
            members += strcmp(e->kind, "member.set") == 0 && strcmp(e->actor, w.op.hex) == 0;
            reviews +=
                (strcmp(e->kind, "vote.certify") == 0 || strcmp(e->kind, "vote.dispute") == 0) &&
                strcmp(e->actor, w.sup.hex) == 0;
        }
        printf("trail: %zu events; genesis, %zu node registrations, %zu ballots, %zu reviews, "
               "each with its signer's key id\n",
               t->n_events, members, ballots_seen, reviews);
        CHECK_EQ(genesis, 1);
        CHECK_EQ(members, N);
        CHECK_EQ(ballots_seen, 11 + 10);
        CHECK_EQ(reviews, 2);
    }
    protobuf_c_message_free_unpacked(resp, NULL);

    /* Names: masked for the public and for an owner; in full for the organiser and the
     * supervisor. */
    Strata__V1__ListUnitsRequest lu = STRATA__V1__LIST_UNITS_REQUEST__INIT;
    lu.community_id = community;
    const tc_key *readers[4] = {NULL, o1, org, &w.sup};
    for (int k = 0; k < 4; k++) {
        CHECK_EQ(tc_leader_call_as(cl, readers[k], "/strata.v1.Registry/ListUnits", &lu.base,
                                   &strata__v1__list_units_response__descriptor, &resp, &st,
                                   TC_WRITE_MS),
                 GRPC_STATUS_OK);
        Strata__V1__ListUnitsResponse *units = (void *)resp;
        CHECK_EQ(units->n_units, 12);
        CHECK_STR(units->units[7]->owner_name, "华北置业有限公司"); /* a company: never masked */
        if (k < 2) {
            CHECK_STR(units->units[0]->owner_name, "王**");
            CHECK_STR(units->units[11]->owner_name, "周*;吴*");
        } else {
            CHECK_STR(units->units[0]->owner_name, "王建国");
            CHECK_STR(units->units[11]->owner_name, "周强;吴芳");
        }
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    printf("ListUnits: names masked unsigned and for an owner, in full for the organiser and "
           "the supervisor\n");

    /* Error codes the API documents. */
    Strata__V1__GetVoteRequest gv = STRATA__V1__GET_VOTE_REQUEST__INIT;
    gv.vote_id = 999;
    expect_code(cl, NULL, 0, "/strata.v1.Voting/GetVote", &gv.base, &strata__v1__vote__descriptor,
                GRPC_STATUS_NOT_FOUND, NULL, 0);
    tc_ballot_request(o1, community, ordinary, "O1", 2, NULL, &rbuf, &cb);
    expect_code(cl, o1, 0, "/strata.v1.Voting/CastBallot", &cb.base,
                &strata__v1__cast_ballot_response__descriptor, GRPC_STATUS_FAILED_PRECONDITION,
                NULL, 0);
    cc.request_id.len = 8;
    expect_code(cl, &w.sup, 0, "/strata.v1.Registry/CreateCommunity", &cc.base,
                &strata__v1__create_community_response__descriptor, GRPC_STATUS_INVALID_ARGUMENT,
                NULL, 0);
    tc_request_id(rid);
    cc.request_id.len = 16;
    cc.name = (char *)"阳光花园";
    cc.street = (char *)"测试街道";
    expect_code(cl, &w.sup, 0, "/strata.v1.Registry/CreateCommunity", &cc.base,
                &strata__v1__create_community_response__descriptor, GRPC_STATUS_ALREADY_EXISTS,
                NULL, 0);
    Strata__V1__GetTreeHeadRequest thq = STRATA__V1__GET_TREE_HEAD_REQUEST__INIT;
    thq.vote_id = 999;
    expect_code(cl, NULL, 1, "/strata.v1.Audit/GetTreeHead", &thq.base,
                &strata__v1__tree_head__descriptor, GRPC_STATUS_NOT_FOUND, NULL, 0);
    Strata__V1__InclusionProofRequest bad = STRATA__V1__INCLUSION_PROOF_REQUEST__INIT;
    bad.vote_id = ordinary;
    bad.leaf_index = 11;
    expect_code(cl, NULL, 1, "/strata.v1.Audit/GetInclusionProof", &bad.base,
                &strata__v1__proof__descriptor, GRPC_STATUS_INVALID_ARGUMENT, NULL, 0);
    bad.leaf_index = 0;
    bad.tree_size = 12;
    expect_code(cl, NULL, tc_client_leader(cl), "/strata.v1.Audit/GetInclusionProof", &bad.base,
                &strata__v1__proof__descriptor, GRPC_STATUS_OUT_OF_RANGE, NULL, 0);
    /* A follower does not know whether the size exists yet: it names the leader. */
    expect_code(cl, NULL, tc_client_leader(cl) % N + 1, "/strata.v1.Audit/GetInclusionProof",
                &bad.base, &strata__v1__proof__descriptor, GRPC_STATUS_UNAVAILABLE, details,
                sizeof(details));
    /* A linearizable read on a follower is refused with the leader named. */
    gv.vote_id = ordinary;
    follower = tc_client_leader(cl) % N + 1;
    expect_code(cl, NULL, follower, "/strata.v1.Voting/GetVote", &gv.base,
                &strata__v1__vote__descriptor, GRPC_STATUS_UNAVAILABLE, NULL, 0);
    /* Membership operations need an operator. */
    Strata__V1__TransferLeadershipRequest tl = STRATA__V1__TRANSFER_LEADERSHIP_REQUEST__INIT;
    expect_code(cl, NULL, 0, "/strata.v1.Cluster/TransferLeadership", &tl.base,
                &strata__v1__transfer_leadership_response__descriptor, GRPC_STATUS_UNAUTHENTICATED,
                NULL, 0);
    expect_code(cl, &w.sup, 0, "/strata.v1.Cluster/TransferLeadership", &tl.base,
                &strata__v1__transfer_leadership_response__descriptor,
                GRPC_STATUS_PERMISSION_DENIED, NULL, 0);

    /* A second community with its own organiser, who may not touch the first's roll; a
     * 20,000-unit roll in one call, and back in one answer. */
    uint64_t big = tc_create_community(cl, &w, "两万户社区");
    {
        tc_request_id(rid);
        Strata__V1__ImportRollRequest iq = STRATA__V1__IMPORT_ROLL_REQUEST__INIT;
        iq.request_id = (ProtobufCBinaryData){16, rid};
        iq.community_id = community;
        iq.n_units = roll.n;
        iq.units = roll.ptrs;
        expect_code(cl, tc_organiser(&w, big), 0, "/strata.v1.Registry/ImportRoll", &iq.base,
                    &strata__v1__import_roll_response__descriptor, GRPC_STATUS_PERMISSION_DENIED,
                    NULL, 0);
    }
    tc_roll bigroll;
    tc_roll_generated(20000, &bigroll);
    uint64_t t1 = tc_now_ms();
    CHECK_EQ(tc_import_roll(cl, &w, big, &bigroll), 1);
    uint64_t import_ms = tc_now_ms() - t1;
    lu.community_id = big;
    t1 = tc_now_ms();
    CHECK_EQ(tc_leader_call_as(cl, tc_organiser(&w, big), "/strata.v1.Registry/ListUnits", &lu.base,
                               &strata__v1__list_units_response__descriptor, &resp, &st,
                               TC_WRITE_MS),
             GRPC_STATUS_OK);
    Strata__V1__ListUnitsResponse *units = (void *)resp;
    CHECK_EQ(units->n_units, 20000);
    CHECK_STR(units->units[19999]->unit, "U-20000");
    CHECK_STR(units->units[19999]->owner_name, "Owner 20000");
    printf("20,000-unit roll imported in one call (%llu ms) and listed in one answer of %zu "
           "bytes (%llu ms)\n",
           (unsigned long long)import_ms, protobuf_c_message_get_packed_size(resp),
           (unsigned long long)(tc_now_ms() - t1));
    protobuf_c_message_free_unpacked(resp, NULL);
    tc_roll_free(&bigroll);

    /* The supervisor revokes that organiser's key: it signs nothing any more. */
    {
        const tc_key *org2 = tc_organiser(&w, big);
        tc_request_id(rid);
        Strata__V1__RevokeKeyRequest rk = STRATA__V1__REVOKE_KEY_REQUEST__INIT;
        rk.request_id = (ProtobufCBinaryData){16, rid};
        rk.key_id = (ProtobufCBinaryData){16, (uint8_t *)org2->id};
        rk.reason = (char *)"换届";
        CHECK_EQ(tc_leader_call_as(cl, &w.sup, "/strata.v1.Keys/RevokeKey", &rk.base,
                                   &strata__v1__key_response__descriptor, &resp, &st, TC_WRITE_MS),
                 GRPC_STATUS_OK);
        protobuf_c_message_free_unpacked(resp, NULL);
        expect_code(cl, org2, 0, "/strata.v1.Registry/ListUnits", &lu.base,
                    &strata__v1__list_units_response__descriptor, GRPC_STATUS_UNAUTHENTICATED,
                    details, sizeof(details));
        CHECK(strstr(details, "revoked") != NULL);
        Strata__V1__GetKeyRequest gk = STRATA__V1__GET_KEY_REQUEST__INIT;
        gk.key_id = (ProtobufCBinaryData){16, (uint8_t *)org2->id};
        CHECK_EQ(tc_leader_call(cl, "/strata.v1.Keys/GetKey", &gk.base,
                                &strata__v1__key__descriptor, &resp, &st, TC_WRITE_MS),
                 GRPC_STATUS_OK);
        Strata__V1__Key *k = (void *)resp;
        CHECK_EQ(k->role, STRATA__V1__ROLE__ROLE_ORGANISER);
        CHECK_EQ(k->community_id, big);
        CHECK(k->revoked_ms != 0);
        protobuf_c_message_free_unpacked(resp, NULL);
    }

    tc_roll_free(&roll);
    tc_world_free(&w);
    tc_client_free(cl);
    tc_finish(c);
    printf("ok\n");
    return 0;
}
