/* fake_node.c - a fake Strata node for the command-line tests (cli_test.sh): the in-process
 * fake server of fake_server.h in a process of its own, answering with canned replies:
 *
 *   fake_node ADDR_FILE --community ID     CreateCommunityResponse{community_id: ID}
 *   fake_node ADDR_FILE --vote-example     the worked example of DOMAIN.md as a published
 *                                          vote on matter 4 (GetVote, marked stale when a
 *                                          stale read was asked, and the vote steps)
 *   fake_node ADDR_FILE --election         an election (matter 3, vote 8, 5 seats): 张三
 *                                          elected, 李四 not qualified
 *   fake_node ADDR_FILE --keys             the Keys service and the rest of a supervisor's
 *                                          and organiser's calls: KeyResponse{key_id 0x11..,
 *                                          seq 7}, an issued code (seq 8), GetKey: an owner
 *                                          key of O3 in community 1 with the id asked for,
 *                                          Status with a node key, the example community and
 *                                          roll, Certify/Dispute: vote 7 with a review
 *   fake_node ADDR_FILE --status CODE MSG  that gRPC status and message
 *   fake_node ADDR_FILE --follower ADDR    UNAVAILABLE with strata-leader: ADDR
 *
 * In --vote-example and --election, GetKey answers an owner key of O1 in community 1 (so
 * that a signed ballot gets as far as the vote's checks) and every other method the vote.
 * It writes its "127.0.0.1:PORT" to ADDR_FILE (renamed into place when complete) and runs
 * until SIGTERM or SIGINT. A test mock only: it knows nothing of votes beyond the replies.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/strata.h"
#include "tests/client/fake_server.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

/* The packed vote of --vote-example / --election, kept for the handler. */
static uint8_t *vote_bytes;
static size_t vote_len;
static char own_address[64]; /* "127.0.0.1:PORT" of this fake */

static int pack(const ProtobufCMessage *m, uint8_t **out, size_t *len) {
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL) {
        return 13; /* INTERNAL */
    }
    protobuf_c_message_pack(m, buf);
    *out = buf;
    *len = n;
    return 0;
}

/* GetKey: an owner key with the id asked for. */
static int owner_key(const fake_call *call, const char *owner, uint8_t **out, size_t *len) {
    Strata__V1__GetKeyRequest *q = strata__v1__get_key_request__unpack(NULL, call->len, call->body);
    if (q == NULL) {
        return 3; /* INVALID_ARGUMENT */
    }
    Strata__V1__Key k = STRATA__V1__KEY__INIT;
    k.key_id = q->key_id;
    k.role = STRATA__V1__ROLE__ROLE_OWNER;
    k.community_id = 1;
    k.owner_id = (char *)owner;
    k.registered_ms = 1700000000000ULL;
    int rc = pack(&k.base, out, len);
    strata__v1__get_key_request__free_unpacked(q, NULL);
    return rc;
}

static bool is(const fake_call *call, const char *method) {
    return strcmp(call->method, method) == 0;
}

/* --vote-example and --election: GetVote marks a stale read, GetKey an owner of O1. */
static int vote_handler(void *ctx, const fake_call *call, uint8_t **reply, size_t *len, char *msg,
                        size_t cap) {
    (void)ctx;
    (void)msg;
    (void)cap;
    if (is(call, "/strata.v1.Keys/GetKey")) {
        return owner_key(call, "O1", reply, len);
    }
    Strata__V1__Vote *v = strata__v1__vote__unpack(NULL, vote_len, vote_bytes);
    if (v == NULL) {
        return 13;
    }
    if (is(call, "/strata.v1.Voting/GetVote")) {
        Strata__V1__GetVoteRequest *q =
            strata__v1__get_vote_request__unpack(NULL, call->len, call->body);
        v->stale = q != NULL && q->allow_stale;
        if (q != NULL) {
            strata__v1__get_vote_request__free_unpacked(q, NULL);
        }
    }
    int rc = pack(&v->base, reply, len);
    strata__v1__vote__free_unpacked(v, NULL);
    return rc;
}

static void reply_with(fake_server *f, const ProtobufCMessage *m) {
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL) {
        exit(1);
    }
    protobuf_c_message_pack(m, buf);
    fake_set_reply(f, buf, n, 1);
    free(buf);
}

/* DOMAIN.md: O1, O2, O4, O6, O7, O9 agree; O3 and the developer disagree; O5 abstains. */
static void vote_example(fake_server *f) {
    Strata__V1__Tally t = STRATA__V1__TALLY__INIT;
    t.total_area = 134450;
    t.total_owners = 10;
    t.part_area = 128950;
    t.part_owners = 9;
    t.agree_area = 84715;
    t.agree_owners = 6;
    t.disagree_area = 37710;
    t.disagree_owners = 2;
    t.abstain_area = 6525;
    t.abstain_owners = 1;
    t.quorum = 1;
    t.passed = 1;
    Strata__V1__Vote v = STRATA__V1__VOTE__INIT;
    v.id = 7;
    v.community_id = 1;
    v.matter = 4;
    v.title = "Hire the property service company";
    v.threshold = STRATA__V1__THRESHOLD_CLASS__THRESHOLD_ORDINARY;
    v.state = STRATA__V1__VOTE_STATE__VOTE_PUBLISHED;
    v.created_ms = 1700000000000ULL;
    v.noticed_ms = 1700000001000ULL;
    v.opens_after_ms = 1700000001000ULL;
    v.opened_ms = 1700000002000ULL;
    v.closed_ms = 1700000003000ULL;
    v.published_ms = 1700000004000ULL;
    v.roll_version = 1;
    v.ballot_count = 9;
    v.tally = &t;
    if (pack(&v.base, &vote_bytes, &vote_len) != 0) {
        exit(1);
    }
    fake_set_handler(f, vote_handler, NULL);
}

/* An election on the worked example's roll: 张三 approved by O1, O2, O4, O6, O7, O9. */
static void election(fake_server *f) {
    Strata__V1__Tally t = STRATA__V1__TALLY__INIT;
    t.total_area = 134450;
    t.total_owners = 10;
    t.part_area = 128950;
    t.part_owners = 9;
    t.quorum = 1;
    Strata__V1__CandidateResult a = STRATA__V1__CANDIDATE_RESULT__INIT;
    a.candidate = 0;
    a.name = "张三";
    a.approve_area = 84715;
    a.approve_owners = 6;
    a.qualified = 1;
    a.rank = 1;
    a.outcome = STRATA__V1__CANDIDATE_OUTCOME__CANDIDATE_ELECTED;
    Strata__V1__CandidateResult b = STRATA__V1__CANDIDATE_RESULT__INIT;
    b.candidate = 1;
    b.name = "李四";
    b.approve_area = 30000;
    b.approve_owners = 2;
    Strata__V1__CandidateResult *standing[2] = {&a, &b};
    char *names[2] = {"张三", "李四"};
    Strata__V1__Vote v = STRATA__V1__VOTE__INIT;
    v.id = 8;
    v.community_id = 1;
    v.matter = 3;
    v.title = "Elect the owners' committee";
    v.state = STRATA__V1__VOTE_STATE__VOTE_CLOSED;
    v.closed_ms = 1700000003000ULL;
    v.roll_version = 1;
    v.ballot_count = 9;
    v.tally = &t;
    v.seats = 5;
    v.n_candidates = 2;
    v.candidates = names;
    v.n_standing = 2;
    v.standing = standing;
    v.elected = 1;
    if (pack(&v.base, &vote_bytes, &vote_len) != 0) {
        exit(1);
    }
    fake_set_handler(f, vote_handler, NULL);
}

/* --keys: what a supervisor's and an organiser's commands are answered. */
static int keys_handler(void *ctx, const fake_call *call, uint8_t **reply, size_t *len, char *msg,
                        size_t cap) {
    (void)ctx;
    static uint8_t id[16] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                             0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11};
    uint8_t node_pk[32];
    memset(node_pk, 0x22, sizeof(node_pk));
    const char *m = call->method;
    if (strncmp(m, "/strata.v1.Keys/", 16) == 0 && !is(call, "/strata.v1.Keys/GetKey") &&
        !is(call, "/strata.v1.Keys/IssueEnrollment") &&
        !is(call, "/strata.v1.Keys/AuthoriseProxy")) {
        Strata__V1__KeyResponse r = STRATA__V1__KEY_RESPONSE__INIT;
        r.key_id.data = id;
        r.key_id.len = sizeof(id);
        r.seq = 7;
        return pack(&r.base, reply, len);
    }
    if (is(call, "/strata.v1.Keys/GetKey")) {
        return owner_key(call, "O3", reply, len);
    }
    if (is(call, "/strata.v1.Keys/IssueEnrollment")) {
        Strata__V1__IssueEnrollmentResponse r = STRATA__V1__ISSUE_ENROLLMENT_RESPONSE__INIT;
        r.seq = 8;
        r.expires_ms = 1701209600000ULL;
        return pack(&r.base, reply, len);
    }
    if (is(call, "/strata.v1.Keys/AuthoriseProxy")) {
        Strata__V1__AuthoriseProxyResponse r = STRATA__V1__AUTHORISE_PROXY_RESPONSE__INIT;
        return pack(&r.base, reply, len);
    }
    if (is(call, "/strata.v1.Cluster/Status")) {
        Strata__V1__Member mem = STRATA__V1__MEMBER__INIT;
        mem.id = 1;
        mem.grpc = own_address;
        mem.raft = "127.0.0.1:2";
        mem.role = STRATA__V1__MEMBER_ROLE__MEMBER_VOTER;
        Strata__V1__Member *mems[1] = {&mem};
        Strata__V1__StatusResponse r = STRATA__V1__STATUS_RESPONSE__INIT;
        r.node_id = 1;
        r.state = "leader";
        r.n_members = 1;
        r.members = mems;
        r.node_public_key.data = node_pk;
        r.node_public_key.len = sizeof(node_pk);
        return pack(&r.base, reply, len);
    }
    if (is(call, "/strata.v1.Cluster/RegisterNode")) {
        Strata__V1__RegisterNodeResponse r = STRATA__V1__REGISTER_NODE_RESPONSE__INIT;
        return pack(&r.base, reply, len);
    }
    if (is(call, "/strata.v1.Registry/GetCommunity")) {
        Strata__V1__Community c = STRATA__V1__COMMUNITY__INIT;
        c.id = 1;
        c.name = "阳光花园";
        c.street = "某街道";
        return pack(&c.base, reply, len);
    }
    if (is(call, "/strata.v1.Registry/ListUnits")) {
        Strata__V1__Unit a = STRATA__V1__UNIT__INIT, b = STRATA__V1__UNIT__INIT;
        a.unit = "A-201";
        a.building = "A";
        a.area_centi_m2 = 8950;
        a.owner_id = "O3";
        a.owner_name = "张伟";
        a.status = STRATA__V1__UNIT_STATUS__UNIT_OWNED;
        b = a;
        b.unit = "C-101";
        b.owner_id = "O9";
        b.owner_name = "周强;吴芳";
        Strata__V1__Unit *units[2] = {&a, &b};
        Strata__V1__ListUnitsResponse r = STRATA__V1__LIST_UNITS_RESPONSE__INIT;
        r.roll_version = 1;
        r.n_units = 2;
        r.units = units;
        return pack(&r.base, reply, len);
    }
    if (is(call, "/strata.v1.Audit/Certify") || is(call, "/strata.v1.Audit/Dispute")) {
        Strata__V1__Review rv = STRATA__V1__REVIEW__INIT;
        rv.certified = is(call, "/strata.v1.Audit/Certify");
        rv.key_id.data = id;
        rv.key_id.len = sizeof(id);
        rv.time_ms = 1700000005000ULL;
        rv.reason = rv.certified ? "" : "O8's paper ballot is missing";
        Strata__V1__Review *rvs[1] = {&rv};
        Strata__V1__Vote v = STRATA__V1__VOTE__INIT;
        v.id = 7;
        v.state = STRATA__V1__VOTE_STATE__VOTE_PUBLISHED;
        v.n_reviews = 1;
        v.reviews = rvs;
        return pack(&v.base, reply, len);
    }
    snprintf(msg, cap, "%s is not faked", m);
    return 12; /* UNIMPLEMENTED */
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: fake_node ADDR_FILE --community ID | --vote-example | --election "
                        "| --status CODE MSG | --follower ADDR\n");
        return 2;
    }
    fake_server *f = fake_start();
    if (f == NULL) {
        fprintf(stderr, "fake_node: cannot start\n");
        return 1;
    }
    snprintf(own_address, sizeof(own_address), "%s", fake_address(f));
    if (strcmp(argv[2], "--community") == 0 && argc == 4) {
        Strata__V1__CreateCommunityResponse r = STRATA__V1__CREATE_COMMUNITY_RESPONSE__INIT;
        r.community_id = strtoull(argv[3], NULL, 10);
        reply_with(f, &r.base);
    } else if (strcmp(argv[2], "--vote-example") == 0) {
        vote_example(f);
    } else if (strcmp(argv[2], "--election") == 0) {
        election(f);
    } else if (strcmp(argv[2], "--keys") == 0) {
        fake_set_handler(f, keys_handler, NULL);
    } else if (strcmp(argv[2], "--status") == 0 && argc == 5) {
        fake_set_status(f, atoi(argv[3]), argv[4]);
    } else if (strcmp(argv[2], "--follower") == 0 && argc == 4) {
        fake_set_leader(f, argv[3]);
    } else {
        fprintf(stderr, "fake_node: unknown mode %s\n", argv[2]);
        return 2;
    }
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
    FILE *fp = fopen(tmp, "w");
    if (fp == NULL || fprintf(fp, "%s\n", fake_address(f)) < 0 || fclose(fp) != 0 ||
        rename(tmp, argv[1]) != 0) {
        fprintf(stderr, "fake_node: cannot write %s\n", argv[1]);
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!stop) {
        usleep(50000); /* a signal between a check and pause() would be lost */
    }
    fake_stop(f);
    free(vote_bytes);
    return 0;
}
