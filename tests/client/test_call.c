/* test_call.c - libstrata's call engine against in-process fake servers (fake_server.h):
 * following `strata-leader` from a follower, skipping a dead address, giving up after the
 * overall deadline with every address named, backing off, one request_id for every retry
 * of an operation, a fresh verifiable `strata-auth-bin` on every attempt, refusals passed
 * through without retry, streams, pinned addresses, several threads on one handle.
 */
#include <arpa/inet.h>
#include <grpc/status.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/lib/internal.h"
#include "crypto/request.h"
#include "tests/cli/check.h"
#include "tests/client/fake_server.h"

/* "127.0.0.1:PORT" of a port nothing listens on (bound, then closed). */
static void dead_address(char out[32]) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("dead_address");
        exit(1);
    }
    snprintf(out, 32, "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    close(fd);
}

static st_client *client_for(const char *cluster, uint32_t deadline_ms, const st_keypair *key) {
    st_client_options o;
    st_client_options_init(&o);
    o.cluster = cluster;
    o.plaintext = true; /* the fake servers serve plaintext on loopback */
    o.key = key;
    if (deadline_ms) {
        o.deadline_ms = deadline_ms;
    }
    st_client *c = NULL;
    st_error e;
    if (st_client_new(&o, &c, &e) != ST_OK) {
        fprintf(stderr, "st_client_new: %s\n", e.message);
        exit(1);
    }
    return c;
}

/* A CreateCommunityResponse with id as the canned reply of f. */
static void reply_community(fake_server *f, uint64_t id) {
    Strata__V1__CreateCommunityResponse r = STRATA__V1__CREATE_COMMUNITY_RESPONSE__INIT;
    r.community_id = id;
    uint8_t buf[32];
    size_t n = strata__v1__create_community_response__pack(&r, buf);
    fake_set_reply(f, buf, n, 1);
}

/* The request_id of a recorded CreateCommunity call (16 bytes into out); 0 if unreadable. */
static int request_id_of(const fake_call *call, uint8_t out[16]) {
    Strata__V1__CreateCommunityRequest *q =
        strata__v1__create_community_request__unpack(NULL, call->len, call->body);
    int ok = q != NULL && q->request_id.len == 16;
    if (ok) {
        memcpy(out, q->request_id.data, 16);
    }
    strata__v1__create_community_request__free_unpacked(q, NULL);
    return ok;
}

static void test_follower_redirect(void) {
    fake_server *leader = fake_start();
    fake_server *follower = fake_start();
    reply_community(leader, 42);
    fake_set_leader(follower, fake_address(leader));
    /* Only the follower is listed: the leader is learned from strata-leader. */
    st_client *c = client_for(fake_address(follower), 5000, NULL);
    uint64_t id = 0;
    st_error e;
    CHECK_INT(st_create_community(c, "Garden", "Street", -1, &id, &e), ST_OK);
    CHECK_INT(id, 42);
    CHECK_INT(fake_calls(follower), 1);
    CHECK_INT(fake_calls(leader), 1);
    uint8_t a[16], b[16];
    CHECK(request_id_of(fake_call_at(follower, 0), a));
    CHECK(request_id_of(fake_call_at(leader, 0), b));
    CHECK(memcmp(a, b, 16) == 0);
    CHECK_STR(fake_call_at(leader, 0)->method, "/strata.v1.Registry/CreateCommunity");
    /* The next operation goes straight to the leader, with a new request_id. */
    CHECK_INT(st_create_community(c, "Garden 2", "Street", 0, &id, &e), ST_OK);
    CHECK_INT(fake_calls(follower), 1);
    CHECK_INT(fake_calls(leader), 2);
    uint8_t b2[16];
    CHECK(request_id_of(fake_call_at(leader, 1), b2));
    CHECK(memcmp(b, b2, 16) != 0);
    Strata__V1__CreateCommunityRequest *q = strata__v1__create_community_request__unpack(
        NULL, fake_call_at(leader, 1)->len, fake_call_at(leader, 1)->body);
    CHECK(q != NULL);
    if (q != NULL) {
        CHECK_STR(q->name, "Garden 2");
        CHECK_INT(q->min_notice_case,
                  STRATA__V1__CREATE_COMMUNITY_REQUEST__MIN_NOTICE_MIN_NOTICE_DAYS);
        CHECK_INT(q->min_notice_days, 0);
        strata__v1__create_community_request__free_unpacked(q, NULL);
    }
    st_client_close(c);
    fake_stop(follower);
    fake_stop(leader);
}

static void test_dead_first(void) {
    char dead[32];
    dead_address(dead);
    fake_server *leader = fake_start();
    reply_community(leader, 7);
    char cluster[128];
    snprintf(cluster, sizeof(cluster), "%s,%s", dead, fake_address(leader));
    st_client *c = client_for(cluster, 5000, NULL);
    uint64_t id = 0;
    st_error e;
    CHECK_INT(st_create_community(c, "Garden", "", -1, &id, &e), ST_OK);
    CHECK_INT(id, 7);
    CHECK_INT(fake_calls(leader), 1);
    st_client_close(c);
    fake_stop(leader);
}

static void test_deadline(void) {
    char d1[32], d2[32], cluster[80];
    dead_address(d1);
    dead_address(d2);
    snprintf(cluster, sizeof(cluster), "%s,%s", d1, d2);
    st_client *c = client_for(cluster, 700, NULL);
    uint64_t id = 0;
    st_error e;
    int64_t t0 = st__mono_ms();
    int rc = st_create_community(c, "Garden", "", -1, &id, &e);
    int64_t spent = st__mono_ms() - t0;
    CHECK_INT(rc, ST_EUNKNOWN); /* a write: the outcome is unknown */
    CHECK_INT(e.kind, ST_FAIL_UNREACHABLE);
    CHECK(spent >= 650 && spent < 3000);
    CHECK_HAS(e.tried, d1);
    CHECK_HAS(e.tried, d2);
    CHECK_HAS(e.message, "cannot reach the cluster");
    CHECK_HAS(e.message, d1);
    CHECK_HAS(e.message, "check before repeating");
    /* A read that cannot reach anybody is ST_EIO, without the write's warning. */
    Strata__V1__Community *cm = NULL;
    CHECK_INT(st_get_community(c, 1, &cm, &e), ST_EIO);
    CHECK_INT(e.kind, ST_FAIL_UNREACHABLE);
    CHECK(strstr(e.message, "check before repeating") == NULL);
    st_client_close(c);
}

/* Two followers naming each other: redirects are bounded, rounds back off, and the call
 * gives up at the deadline. */
static void test_backoff(void) {
    fake_server *a = fake_start();
    fake_server *b = fake_start();
    fake_set_leader(a, fake_address(b));
    fake_set_leader(b, fake_address(a));
    char cluster[80];
    snprintf(cluster, sizeof(cluster), "%s,%s", fake_address(a), fake_address(b));
    st_client *c = client_for(cluster, 1000, NULL);
    Strata__V1__Community *cm = NULL;
    st_error e;
    CHECK_INT(st_get_community(c, 1, &cm, &e), ST_EIO);
    CHECK_INT(e.kind, ST_FAIL_UNREACHABLE);
    /* The last attempt may have been cut by the overall deadline. */
    CHECK(e.grpc_status == GRPC_STATUS_UNAVAILABLE ||
          e.grpc_status == GRPC_STATUS_DEADLINE_EXCEEDED);
    CHECK_HAS(e.tried, "not the leader");
    size_t calls = fake_calls(a) + fake_calls(b);
    /* 50 ms doubling to 1 s with jitter in 1 s: a handful of rounds of at most 3 calls. */
    CHECK(calls >= 4 && calls <= 40);
    st_client_close(c);
    fake_stop(a);
    fake_stop(b);
}

/* The leader fails three times (outcome unknown), then answers: every attempt of the one
 * operation carries the same request_id. */
static void test_same_request_id(void) {
    fake_server *leader = fake_start();
    fake_server *follower = fake_start();
    reply_community(leader, 9);
    fake_fail_first(leader, 3);
    fake_set_leader(follower, fake_address(leader));
    char cluster[80];
    snprintf(cluster, sizeof(cluster), "%s,%s", fake_address(follower), fake_address(leader));
    st_client *c = client_for(cluster, 8000, NULL);
    uint64_t id = 0;
    st_error e;
    CHECK_INT(st_create_community(c, "Garden", "", -1, &id, &e), ST_OK);
    CHECK_INT(id, 9);
    CHECK_INT(fake_calls(leader), 4);
    size_t total = 0;
    uint8_t first[16], other[16];
    CHECK(request_id_of(fake_call_at(leader, 0), first));
    fake_server *both[2] = {follower, leader};
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < fake_calls(both[s]); i++) {
            CHECK(request_id_of(fake_call_at(both[s], i), other));
            CHECK(memcmp(first, other, 16) == 0);
            total++;
        }
    }
    CHECK(total >= 5);
    st_client_close(c);
    fake_stop(follower);
    fake_stop(leader);
}

/* Every attempt carries a strata-auth-bin envelope that verifies against the key for the
 * exact body and method, with a nonce of its own. */
static void test_auth(void) {
    st_keypair *k = NULL;
    st_error e;
    CHECK_INT(st_keypair_generate(&k, &e), ST_OK);
    uint8_t pk[ST_SIGN_PK_LEN];
    st_keypair_public(k, pk);
    fake_server *leader = fake_start();
    fake_server *follower = fake_start();
    reply_community(leader, 5);
    fake_set_leader(follower, fake_address(leader));
    st_client *c = client_for(fake_address(follower), 5000, k);
    uint64_t id = 0;
    uint64_t before = st__wall_ms();
    CHECK_INT(st_create_community(c, "Garden", "", -1, &id, &e), ST_OK);
    const fake_call *calls[2] = {fake_call_at(follower, 0), fake_call_at(leader, 0)};
    st_request q[2];
    char msg[256];
    for (int i = 0; i < 2; i++) {
        CHECK(calls[i] != NULL && calls[i]->auth_len > 0);
        if (calls[i] == NULL) {
            continue;
        }
        CHECK_INT(st_request_decode(&q[i], calls[i]->auth, calls[i]->auth_len, msg, sizeof(msg)),
                  ST_OK);
        CHECK_INT(st_request_verify(&q[i], pk, calls[i]->body, calls[i]->len, msg, sizeof(msg)),
                  ST_OK);
        CHECK_STR(q[i].method, "/strata.v1.Registry/CreateCommunity");
        CHECK_INT(st_request_check_time(st__wall_ms(), q[i].timestamp_ms, 10000), ST_OK);
        CHECK(q[i].timestamp_ms + 1000 >= before);
        /* The same envelope does not verify for another body. */
        CHECK_INT(st_request_verify(&q[i], pk, "x", 1, msg, sizeof(msg)), ST_EAUTH);
    }
    CHECK(memcmp(q[0].nonce, q[1].nonce, sizeof(q[0].nonce)) != 0);
    /* Another key's public key does not verify it. */
    st_keypair *k2 = NULL;
    CHECK_INT(st_keypair_generate(&k2, &e), ST_OK);
    uint8_t pk2[ST_SIGN_PK_LEN];
    st_keypair_public(k2, pk2);
    CHECK(st_request_verify(&q[1], pk2, calls[1]->body, calls[1]->len, msg, sizeof(msg)) != ST_OK);
    /* Without a key nothing is sent. */
    CHECK_INT(st_client_set_key(c, NULL, &e), ST_OK);
    CHECK_INT(st_create_community(c, "Garden", "", -1, &id, &e), ST_OK);
    CHECK_INT(fake_call_at(leader, 1)->auth_len, 0);
    st_client_close(c);
    st_keypair_free(k);
    st_keypair_free(k2);
    fake_stop(follower);
    fake_stop(leader);
}

/* A refusal is the service's answer: no retry, its status and message passed through. */
static void test_refused(void) {
    fake_server *leader = fake_start();
    fake_set_status(leader, GRPC_STATUS_FAILED_PRECONDITION, "vote 3 is closed");
    st_client *c = client_for(fake_address(leader), 5000, NULL);
    st_error e;
    CHECK_INT(st_step_vote(c, 3, ST_STEP_CLOSE, NULL, &e), ST_ESTATE);
    CHECK_INT(e.kind, ST_FAIL_REFUSED);
    CHECK_INT(e.grpc_status, GRPC_STATUS_FAILED_PRECONDITION);
    CHECK_STR(e.message, "vote 3 is closed");
    CHECK_INT(fake_calls(leader), 1);
    CHECK_STR(fake_call_at(leader, 0)->method, "/strata.v1.Voting/CloseVote");
    fake_set_status(leader, GRPC_STATUS_PERMISSION_DENIED, "organisers only");
    CHECK_INT(st_step_vote(c, 3, ST_STEP_OPEN, NULL, &e), ST_EPERM);
    /* A reply that is no message of the expected type. */
    fake_set_mode(leader, FAKE_GARBAGE);
    Strata__V1__Community *cm = NULL;
    CHECK_INT(st_get_community(c, 1, &cm, &e), ST_ECORRUPT);
    CHECK_INT(e.kind, ST_FAIL_REFUSED);
    CHECK(cm == NULL);
    st_client_close(c);
    fake_stop(leader);
}

/* A node that never answers costs one attempt's deadline, then the next address answers. */
static void test_silent_node(void) {
    fake_server *silent = fake_start();
    fake_server *leader = fake_start();
    fake_set_mode(silent, FAKE_SILENT);
    reply_community(leader, 11);
    char cluster[80];
    snprintf(cluster, sizeof(cluster), "%s,%s", fake_address(silent), fake_address(leader));
    st_client_options o;
    st_client_options_init(&o);
    o.cluster = cluster;
    o.plaintext = true; /* the fake servers serve plaintext on loopback */
    o.attempt_ms = 300;
    st_client *c = NULL;
    st_error e;
    CHECK_INT(st_client_new(&o, &c, &e), ST_OK);
    uint64_t id = 0;
    int64_t t0 = st__mono_ms();
    CHECK_INT(st_create_community(c, "Garden", "", -1, &id, &e), ST_OK);
    int64_t spent = st__mono_ms() - t0;
    CHECK_INT(id, 11);
    CHECK(spent >= 250 && spent < 3000);
    CHECK_INT(fake_calls(silent), 1);
    st_client_close(c);
    fake_stop(silent);
    fake_stop(leader);
}

typedef struct {
    int n;
    uint64_t last_vote;
} stream_seen;

static int on_ballot(void *ctx, const Strata__V1__Ballot *b) {
    stream_seen *s = ctx;
    s->n++;
    s->last_vote = b->vote_id;
    return 0;
}

static int stop_at_two(void *ctx, const Strata__V1__Ballot *b) {
    stream_seen *s = ctx;
    (void)b;
    return ++s->n == 2 ? 99 : 0;
}

static void test_stream(void) {
    fake_server *leader = fake_start();
    fake_server *follower = fake_start();
    Strata__V1__Ballot b = STRATA__V1__BALLOT__INIT;
    b.vote_id = 77;
    b.owner_id = "O1";
    uint8_t buf[64];
    size_t n = strata__v1__ballot__pack(&b, buf);
    fake_set_reply(leader, buf, n, 3);
    fake_set_leader(follower, fake_address(leader));
    st_client *c = client_for(fake_address(follower), 5000, NULL);
    stream_seen seen = {0, 0};
    uint64_t count = 0;
    st_error e;
    CHECK_INT(st_export_ballots(c, 77, on_ballot, &seen, &count, &e), ST_OK);
    CHECK_INT(seen.n, 3);
    CHECK_INT(count, 3);
    CHECK_INT(seen.last_vote, 77);
    CHECK_INT(fake_calls(follower), 1);
    /* The caller stops the stream: its code comes back. */
    seen.n = 0;
    CHECK_INT(st_export_ballots(c, 77, stop_at_two, &seen, &count, &e), 99);
    CHECK_INT(count, 2);
    CHECK_INT(e.kind, ST_FAIL_LOCAL);
    st_client_close(c);
    fake_stop(follower);
    fake_stop(leader);
}

/* A pinned address is asked alone, never redirected; metadata strata-stale is read. */
static void test_pinned_and_stale(void) {
    fake_server *leader = fake_start();
    fake_server *follower = fake_start();
    Strata__V1__StatusResponse s = STRATA__V1__STATUS_RESPONSE__INIT;
    s.node_id = 2;
    s.state = "follower";
    uint8_t buf[64];
    size_t n = strata__v1__status_response__pack(&s, buf);
    fake_set_reply(follower, buf, n, 1);
    fake_set_reply(leader, buf, n, 1);
    char cluster[80];
    snprintf(cluster, sizeof(cluster), "%s,%s", fake_address(leader), fake_address(follower));
    st_client *c = client_for(cluster, 600, NULL);
    Strata__V1__StatusResponse *r = NULL;
    st_error e;
    CHECK_INT(st_cluster_status(c, fake_address(follower), &r, &e), ST_OK);
    CHECK(r != NULL && r->node_id == 2);
    strata__v1__status_response__free_unpacked(r, NULL);
    CHECK_INT(fake_calls(follower), 1);
    CHECK_INT(fake_calls(leader), 0);
    fake_set_leader(follower, fake_address(leader));
    r = NULL;
    CHECK_INT(st_cluster_status(c, fake_address(follower), &r, &e), ST_EIO);
    CHECK_INT(e.kind, ST_FAIL_UNREACHABLE);
    CHECK_INT(fake_calls(leader), 0);

    /* The stale marker is the answer's own (Vote.stale), or an older node's metadata. */
    Strata__V1__Vote v = STRATA__V1__VOTE__INIT;
    v.id = 5;
    v.stale = 1;
    n = strata__v1__vote__pack(&v, buf);
    fake_set_reply(leader, buf, n, 1);
    Strata__V1__Vote *got = NULL;
    bool stale = false;
    CHECK_INT(st_get_vote(c, 5, true, &got, &stale, &e), ST_OK);
    CHECK(stale);
    strata__v1__vote__free_unpacked(got, NULL);
    v.stale = 0;
    n = strata__v1__vote__pack(&v, buf);
    fake_set_reply(leader, buf, n, 1);
    CHECK_INT(st_get_vote(c, 5, true, &got, &stale, &e), ST_OK);
    CHECK(!stale);
    strata__v1__vote__free_unpacked(got, NULL);
    fake_set_initial_metadata(leader, "strata-stale", "1");
    CHECK_INT(st_get_vote(c, 5, true, &got, &stale, &e), ST_OK);
    CHECK(stale);
    strata__v1__vote__free_unpacked(got, NULL);
    fake_set_initial_metadata(leader, "strata-stale", "0");
    CHECK_INT(st_get_vote(c, 5, true, &got, &stale, &e), ST_OK);
    CHECK(!stale);
    strata__v1__vote__free_unpacked(got, NULL);
    CHECK_INT(st_get_vote(c, 5, false, &got, &stale, &e), ST_OK);
    CHECK(!stale);
    strata__v1__vote__free_unpacked(got, NULL);
    st_client_close(c);
    fake_stop(follower);
    fake_stop(leader);
}

typedef struct {
    st_client *c;
    int ok;
} worker_arg;

static void *worker(void *p) {
    worker_arg *w = p;
    for (int i = 0; i < 40; i++) {
        uint64_t id = 0;
        st_error e;
        if (st_create_community(w->c, "Garden", "", -1, &id, &e) == ST_OK && id == 3) {
            w->ok++;
        }
    }
    return NULL;
}

/* One handle, four threads at once, through a follower to the leader. */
static void test_threads(void) {
    fake_server *leader = fake_start();
    fake_server *follower = fake_start();
    reply_community(leader, 3);
    fake_set_leader(follower, fake_address(leader));
    st_keypair *k = NULL;
    st_error e;
    CHECK_INT(st_keypair_generate(&k, &e), ST_OK);
    st_client *c = client_for(fake_address(follower), 10000, k);
    pthread_t t[4];
    worker_arg w[4];
    for (int i = 0; i < 4; i++) {
        w[i].c = c;
        w[i].ok = 0;
        pthread_create(&t[i], NULL, worker, &w[i]);
    }
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
    }
    CHECK_INT(ok, 160);
    CHECK_INT(fake_calls(leader), 160);
    st_client_close(c);
    st_keypair_free(k);
    fake_stop(follower);
    fake_stop(leader);
}

static void test_options(void) {
    st_client_options o;
    st_client_options_init(&o);
    st_client *c = NULL;
    st_error e;
    const char *bad[] = {
        NULL,       "",      "localhost", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:70000",
        "a:1,,b:2", "a b:1", ":7001"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o.cluster = bad[i];
        CHECK_INT(st_client_new(&o, &c, &e), ST_EINVAL);
        CHECK_INT(e.kind, ST_FAIL_LOCAL);
    }
    o.cluster = "127.0.0.1:7001, 127.0.0.1:7002,127.0.0.1:7001";
    CHECK_INT(st_client_new(&o, &c, &e), ST_OK);
    CHECK_INT(st_client_address_count(c), 2);
    CHECK_STR(st_client_address(c, 1), "127.0.0.1:7002");
    st_client_close(c);
}

int main(void) {
    test_options();
    test_follower_redirect();
    test_dead_first();
    test_deadline();
    test_backoff();
    test_same_request_id();
    test_auth();
    test_refused();
    test_silent_node();
    test_stream();
    test_pinned_and_stale();
    test_threads();
    return check_exit("client_call");
}
