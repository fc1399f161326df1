/* bench_strata.c - the Strata side of strata-bench (bench_strata.h): setup, signed
 * ballots, reads, roll import, audit and catch-up, all through libstrata. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/ballot.h"
#include "crypto/record.h"
#include "crypto/request.h"
#include "tests/bench/bench_load.h"
#include "tests/bench/bench_strata.h"

#define CAST_METHOD "/strata.v1.Voting/CastBallot"
#define OWNER_ID_LEN 24
#define STATUS_MS 2000 /* one Cluster.Status call */

typedef struct {
    char id[OWNER_ID_LEN];
    st_keypair *kp;
    uint8_t sk[ST_SIGN_SK_LEN];
    uint8_t key_id[ST_KEY_ID_LEN];
} owner;

struct bs_world {
    bs_options o;
    bc_cluster *c;
    st_client *ctl;    /* main thread: writes, its key switched to the actor's */
    st_client *reader; /* unsigned: status and reads */
    st_keypair *op, *sup, *org;
    uint64_t community;
    size_t n_owners;
    owner *owners;
    st_trusted_key trusted[BC_MAX_NODES];
    size_t n_trusted;
    char addrs[BC_MAX_NODES * 70]; /* the cluster list, leader first */
};

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "strata-bench: " __VA_ARGS__);                                             \
        fputc('\n', stderr);                                                                       \
        return -1;                                                                                 \
    } while (0)

static uint64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void random_bytes(void *buf, size_t n) {
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got > 0) {
            p += got;
            n -= (size_t)got;
        }
    }
}

/* ---- status and leader ---- */

/* Cluster.Status of node i only, within timeout_ms; NULL when it does not answer. */
static Strata__V1__StatusResponse *status_of(bs_world *w, int i, uint32_t timeout_ms) {
    Strata__V1__StatusRequest q = STRATA__V1__STATUS_REQUEST__INIT;
    st_call_options o;
    memset(&o, 0, sizeof(o));
    o.address = w->c->nodes[i].grpc;
    o.deadline_ms = timeout_ms;
    ProtobufCMessage *resp = NULL;
    st_error err;
    if (st_client_unary(w->reader, "/strata.v1.Cluster/Status", &q.base,
                        &strata__v1__status_response__descriptor, &o, &resp, &err) != ST_OK) {
        return NULL;
    }
    return (Strata__V1__StatusResponse *)resp;
}

static bool node_up(const bs_world *w, int i) {
    return w->c->stratad == NULL || w->c->nodes[i].pid > 0;
}

int bs_leader(bs_world *w, int timeout_ms) {
    uint64_t until = bp_now_ms() + (uint64_t)timeout_ms;
    do {
        for (int i = 0; i < w->c->n; i++) {
            if (!node_up(w, i)) {
                continue;
            }
            Strata__V1__StatusResponse *s = status_of(w, i, 500);
            bool leader = s != NULL && strcmp(s->state, "leader") == 0 && s->ready;
            if (s != NULL) {
                protobuf_c_message_free_unpacked(&s->base, NULL);
            }
            if (leader) {
                bc_addresses(w->c, i, w->addrs, sizeof(w->addrs));
                return i;
            }
        }
        bp_sleep_ms(50);
    } while (bp_now_ms() < until);
    return -1;
}

/* The leader's commit index after every write acknowledged so far: a linearizable read
 * (its barrier follows those writes), then the leader's status. 0 on failure. */
static uint64_t leader_commit(bs_world *w) {
    Strata__V1__ListVotesResponse *lv = NULL;
    st_error err;
    if (st_list_votes(w->reader, w->community, &lv, &err) != ST_OK) {
        return 0;
    }
    protobuf_c_message_free_unpacked(&lv->base, NULL);
    int l = bs_leader(w, 10000);
    Strata__V1__StatusResponse *s = l >= 0 ? status_of(w, l, STATUS_MS) : NULL;
    uint64_t commit = s != NULL ? s->commit_index : 0;
    if (s != NULL) {
        protobuf_c_message_free_unpacked(&s->base, NULL);
    }
    return commit;
}

static uint64_t applied_of(bs_world *w, int i) {
    Strata__V1__StatusResponse *s = status_of(w, i, STATUS_MS);
    uint64_t a = s != NULL ? s->applied_index : 0;
    if (s != NULL) {
        protobuf_c_message_free_unpacked(&s->base, NULL);
    }
    return a;
}

/* ---- setup ---- */

static int set_key(bs_world *w, const st_keypair *k) {
    st_error err;
    if (st_client_set_key(w->ctl, k, &err) != ST_OK) {
        FAIL("cannot set a key: %s", err.message);
    }
    return 0;
}

static int genesis_and_nodes(bs_world *w) {
    st_error err;
    if (st_keypair_generate(&w->op, &err) != ST_OK || st_keypair_generate(&w->sup, &err) != ST_OK) {
        FAIL("cannot make keys: %s", err.message);
    }
    uint8_t op_pk[ST_SIGN_PK_LEN], sup_pk[ST_SIGN_PK_LEN];
    st_keypair_public(w->op, op_pk);
    st_keypair_public(w->sup, sup_pk);
    if (set_key(w, w->op) != 0) {
        return -1;
    }
    if (st_genesis(w->ctl, op_pk, sup_pk, "strata-bench operator", "strata-bench supervisor", NULL,
                   &err) != ST_OK) {
        FAIL("Genesis failed: %s (an existing cluster: give --operator-key and "
             "--supervisor-key)",
             err.message);
    }
    /* Every node's tree-head key into the roster, as its own status reports it. */
    for (int i = 0; i < w->c->n; i++) {
        Strata__V1__StatusResponse *s = status_of(w, i, 5000);
        if (s == NULL || s->node_public_key.len != ST_SIGN_PK_LEN) {
            FAIL("node %s gives no status or no node key", w->c->nodes[i].grpc);
        }
        const char *raft = NULL;
        for (size_t m = 0; m < s->n_members; m++) {
            if (s->members[m]->id == s->node_id) {
                raft = s->members[m]->raft;
            }
        }
        int rc = raft != NULL ? st_register_node(w->ctl, s->node_id, raft, w->c->nodes[i].grpc,
                                                 s->node_public_key.data, &err)
                              : ST_ENOENT;
        protobuf_c_message_free_unpacked(&s->base, NULL);
        if (rc != ST_OK) {
            FAIL("RegisterNode of %s failed: %s", w->c->nodes[i].grpc,
                 raft == NULL ? "it does not list itself" : err.message);
        }
    }
    return 0;
}

static int load_keys(bs_world *w) {
    st_error err;
    if (st_keypair_load(w->o.supervisor_key, NULL, 0, &w->sup, &err) != ST_OK) {
        FAIL("cannot load the supervisor key %s: %s", w->o.supervisor_key, err.message);
    }
    if (w->o.operator_key != NULL &&
        st_keypair_load(w->o.operator_key, NULL, 0, &w->op, &err) != ST_OK) {
        FAIL("cannot load the operator key %s: %s", w->o.operator_key, err.message);
    }
    return 0;
}

/* A community made by the supervisor, with a new organiser key appointed (into *org). */
static int new_community(bs_world *w, const char *name, st_keypair **org, uint64_t *id) {
    st_error err;
    if (set_key(w, w->sup) != 0) {
        return -1;
    }
    if (st_create_community(w->ctl, name, "strata-bench street", 0, id, &err) != ST_OK) {
        FAIL("CreateCommunity failed: %s", err.message);
    }
    uint8_t pk[ST_SIGN_PK_LEN];
    if (st_keypair_generate(org, &err) != ST_OK) {
        FAIL("cannot make a key: %s", err.message);
    }
    st_keypair_public(*org, pk);
    if (st_appoint_organiser(w->ctl, *id, pk, "strata-bench organiser", NULL, &err) != ST_OK) {
        FAIL("AppointOrganiser failed: %s", err.message);
    }
    return 0;
}

/* n units "<prefix>-<i>", owned by "<owner_prefix><i>" (every tenth owner holds two). */
static st_unit *make_units(size_t n, const char *prefix, const char *owner_prefix, bool pairs,
                           char **storage) {
    st_unit *u = calloc(n, sizeof(*u));
    char *s = calloc(n, 3 * 32);
    if (u == NULL || s == NULL) {
        free(u);
        free(s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char *unit = s + i * 96, *ownr = unit + 32, *name = unit + 64;
        size_t o = pairs && i % 10 == 9 ? i : i + 1; /* unit 10k+9 goes to the owner of 10k+8 */
        snprintf(unit, 32, "%s-%zu", prefix, i + 1);
        snprintf(ownr, 32, "%s%zu", owner_prefix, o);
        snprintf(name, 32, "Owner %s%zu", owner_prefix, o);
        u[i].unit = unit;
        u[i].building = "B";
        u[i].area = 5000 + 37 * (int64_t)(i % 4000);
        u[i].owner_id = ownr;
        u[i].owner_name = name;
        u[i].status = ST_UNIT_OWNED;
    }
    *storage = s;
    return u;
}

typedef struct {
    bs_world *w;
    size_t first, step;
    int failed;
    char why[300];
} enroll_job;

static void *enroll_main(void *arg) {
    enroll_job *j = arg;
    bs_world *w = j->w;
    st_client_options o;
    st_client_options_init(&o);
    o.cluster = w->addrs;
    bl_transport(&o);
    o.deadline_ms = 30000;
    st_client *c = NULL;
    st_error err;
    if (st_client_new(&o, &c, &err) != ST_OK) {
        j->failed = 1;
        snprintf(j->why, sizeof(j->why), "%.250s", err.message);
        return NULL;
    }
    for (size_t i = j->first; i < w->n_owners && !j->failed; i += j->step) {
        owner *ow = &w->owners[i];
        st_enrollment en;
        st_key_result kr;
        int rc = st_client_set_key(c, w->org, &err);
        rc = rc ? rc : st_issue_enrollment(c, w->community, ow->id, -1, &en, &err);
        rc = rc ? rc : st_client_set_key(c, ow->kp, &err);
        rc = rc ? rc : st_redeem_enrollment(c, w->community, ow->id, en.code, &kr, &err);
        if (rc != ST_OK) {
            j->failed = 1;
            snprintf(j->why, sizeof(j->why), "owner %s: %.250s", ow->id, err.message);
        }
    }
    st_client_close(c);
    return NULL;
}

static int enroll_owners(bs_world *w) {
    w->owners = calloc(w->n_owners, sizeof(owner));
    if (w->owners == NULL) {
        FAIL("out of memory");
    }
    for (size_t i = 0; i < w->n_owners; i++) {
        owner *ow = &w->owners[i];
        uint8_t seed[ST_SIGN_SEED_LEN], pk[ST_SIGN_PK_LEN];
        random_bytes(seed, sizeof(seed));
        snprintf(ow->id, sizeof(ow->id), "O%u", (unsigned)(i + 1));
        st_error err;
        if (st_keypair_from_seed(seed, &ow->kp, &err) != ST_OK ||
            st_sign_keypair_from_seed(pk, ow->sk, seed) != ST_OK) {
            FAIL("cannot make owner keys");
        }
        st_key_id(ow->key_id, pk);
    }
    unsigned threads = w->o.concurrency < 16 ? w->o.concurrency : 16;
    if (threads > w->n_owners) {
        threads = (unsigned)w->n_owners;
    }
    if (threads == 0) {
        threads = 1;
    }
    enroll_job jobs[16];
    pthread_t th[16];
    for (unsigned t = 0; t < threads; t++) {
        jobs[t] = (enroll_job){.w = w, .first = t, .step = threads};
        if (pthread_create(&th[t], NULL, enroll_main, &jobs[t]) != 0) {
            FAIL("cannot start a thread");
        }
    }
    int bad = 0;
    for (unsigned t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        if (jobs[t].failed && !bad) {
            fprintf(stderr, "strata-bench: enrollment failed: %s\n", jobs[t].why);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

static int setup(bs_world *w) {
    st_error err;
    st_client_options o;
    st_client_options_init(&o);
    bc_addresses(w->c, -1, w->addrs, sizeof(w->addrs));
    o.cluster = w->addrs;
    bl_transport(&o);
    o.deadline_ms = 30000;
    if (st_client_new(&o, &w->reader, &err) != ST_OK || st_client_new(&o, &w->ctl, &err) != ST_OK) {
        FAIL("cannot start a client: %s", err.message);
    }
    /* A connected cluster's node ids come from the nodes themselves. */
    for (int i = 0; i < w->c->n; i++) {
        if (w->c->nodes[i].id == 0) {
            Strata__V1__StatusResponse *s = status_of(w, i, 5000);
            if (s == NULL) {
                FAIL("%s does not answer Cluster.Status", w->c->nodes[i].grpc);
            }
            w->c->nodes[i].id = (int)s->node_id;
            protobuf_c_message_free_unpacked(&s->base, NULL);
        }
    }
    if (bs_leader(w, 30000) < 0) {
        FAIL("no ready leader within 30 s");
    }
    uint64_t t0 = bp_now_ms();
    if (w->o.supervisor_key != NULL ? load_keys(w) : genesis_and_nodes(w)) {
        return -1;
    }
    if (new_community(w, "strata-bench community", &w->org, &w->community) != 0) {
        return -1;
    }
    char *strings = NULL;
    st_unit *units = make_units(w->n_owners, "U", "O", false, &strings);
    if (units == NULL) {
        FAIL("out of memory");
    }
    st_import_result ir;
    int rc = set_key(w, w->org);
    rc = rc ? rc : st_import_units(w->ctl, w->community, units, w->n_owners, &ir, &err);
    free(units);
    free(strings);
    if (rc != ST_OK) {
        FAIL("ImportRoll failed: %s", err.message);
    }
    if (enroll_owners(w) != 0) {
        return -1;
    }
    if (st_trusted_nodes(w->reader, w->trusted, BC_MAX_NODES, &w->n_trusted, &err) != ST_OK) {
        w->n_trusted = 0; /* receipts are then checked against the record only */
    }
    if (w->o.verbose) {
        fprintf(stderr, "strata-bench: %zu owners enrolled in %.1f s\n", w->n_owners,
                (double)(bp_now_ms() - t0) / 1000.0);
    }
    return 0;
}

bs_world *bs_setup(const bs_options *o) {
    bs_world *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return NULL;
    }
    w->o = *o;
    w->c = o->cluster;
    w->n_owners = o->owners > 0 ? o->owners : 1;
    if (setup(w) != 0) {
        bs_free(w);
        return NULL;
    }
    return w;
}

void bs_free(bs_world *w) {
    if (w == NULL) {
        return;
    }
    for (size_t i = 0; w->owners != NULL && i < w->n_owners; i++) {
        st_keypair_free(w->owners[i].kp);
    }
    free(w->owners);
    st_keypair_free(w->op);
    st_keypair_free(w->sup);
    st_keypair_free(w->org);
    st_client_close(w->ctl);
    st_client_close(w->reader);
    free(w);
}

uint64_t bs_open_vote(bs_world *w, const char *title) {
    st_error err;
    st_vote_spec spec = {.community_id = w->community, .matter = 4, .title = title};
    uint64_t id = 0;
    if (set_key(w, w->org) != 0) {
        return 0;
    }
    if (st_create_vote(w->ctl, &spec, &id, &err) != ST_OK ||
        st_step_vote(w->ctl, id, ST_STEP_NOTICE, NULL, &err) != ST_OK ||
        st_step_vote(w->ctl, id, ST_STEP_OPEN, NULL, &err) != ST_OK) {
        fprintf(stderr, "strata-bench: opening a vote failed: %s\n", err.message);
        return 0;
    }
    return id;
}

/* ---- ballots ---- */

typedef struct {
    uint32_t owner;
    uint8_t choice, blen;
    uint8_t rid[16], nonce[ST_NONCE_LEN], sig[ST_SIGN_SIG_LEN], leaf[32];
    uint8_t ballot[ST_BALLOT_MAX_LEN];
} prebuilt;

/* Ballot i of a cast: owners in turn, 60% agree, 30% disagree, 10% abstain. */
static int build_ballot(bs_world *w, uint64_t vote, size_t i, prebuilt *b) {
    b->owner = (uint32_t)(i % w->n_owners);
    unsigned r = (unsigned)(i % 10);
    b->choice = (uint8_t)(r < 6 ? 1 : r < 9 ? 2 : 3);
    const owner *ow = &w->owners[b->owner];
    random_bytes(b->rid, sizeof(b->rid));
    st_record rec;
    memset(&rec, 0, sizeof(rec));
    st_ballot *bal = &rec.ballot;
    bal->community_id = w->community;
    bal->vote_id = vote;
    snprintf(bal->owner_id, sizeof(bal->owner_id), "%s", ow->id);
    bal->kind = ST_BALLOT_KIND_CHOICE;
    bal->choice = b->choice;
    random_bytes(bal->nonce, sizeof(bal->nonce));
    memcpy(b->nonce, bal->nonce, sizeof(b->nonce));
    bal->cast_ms = wall_ms();
    memcpy(bal->key_id, ow->key_id, ST_KEY_ID_LEN);
    rec.source = ST_SOURCE_ONLINE;
    size_t blen = 0;
    char msg[256];
    if (st_ballot_encode_buf(bal, b->ballot, &blen, msg, sizeof(msg)) != ST_OK ||
        st_record_sign(&rec, ow->sk, msg, sizeof(msg)) != ST_OK ||
        st_record_leaf_hash(&rec, b->leaf, msg, sizeof(msg)) != ST_OK) {
        FAIL("cannot build a ballot: %s", msg);
    }
    b->blen = (uint8_t)blen;
    memcpy(b->sig, rec.sig, sizeof(b->sig));
    return 0;
}

typedef struct {
    bs_world *w;
    uint64_t vote;
    prebuilt *b;
} cast_ctx;

typedef struct {
    Strata__V1__CastBallotRequest q;
    uint8_t pk[ST_SIGN_PK_LEN];
} cast_slot;

static void fill_request(const bs_world *w, uint64_t vote, const prebuilt *b, cast_slot *s) {
    const owner *ow = &w->owners[b->owner];
    Strata__V1__CastBallotRequest *q = &s->q;
    strata__v1__cast_ballot_request__init(q);
    st_keypair_public(ow->kp, s->pk);
    q->request_id = (ProtobufCBinaryData){sizeof(b->rid), (uint8_t *)b->rid};
    q->vote_id = vote;
    q->owner_id = (char *)ow->id;
    q->source = STRATA__V1__BALLOT_SOURCE__BALLOT_ONLINE;
    q->ballot_case = STRATA__V1__CAST_BALLOT_REQUEST__BALLOT_CHOICE;
    q->choice = (Strata__V1__Choice)b->choice;
    q->nonce = (ProtobufCBinaryData){sizeof(b->nonce), (uint8_t *)b->nonce};
    q->signed_ballot = (ProtobufCBinaryData){b->blen, (uint8_t *)b->ballot};
    q->public_key = (ProtobufCBinaryData){sizeof(s->pk), s->pk};
    q->signature = (ProtobufCBinaryData){sizeof(b->sig), (uint8_t *)b->sig};
}

static int cast_prepare(void *ctx, size_t i, st_client *c, void *slot, ProtobufCMessage **req,
                        char *why, size_t cap) {
    cast_ctx *x = ctx;
    cast_slot *s = slot;
    const prebuilt *b = &x->b[i];
    st_error err;
    if (st_client_set_key(c, x->w->owners[b->owner].kp, &err) != ST_OK) {
        snprintf(why, cap, "%s", err.message);
        return 1;
    }
    fill_request(x->w, x->vote, b, s);
    *req = &s->q.base;
    return 0;
}

static int cast_check(void *ctx, size_t i, void *slot, const ProtobufCMessage *resp, char *why,
                      size_t cap) {
    (void)slot;
    cast_ctx *x = ctx;
    const Strata__V1__CastBallotResponse *r = (const void *)resp;
    st_receipt rc;
    char msg[256];
    if (r->seq == 0 || r->receipt.len != ST_RECEIPT_LEN) {
        snprintf(why, cap, "answer without a sequence number or a receipt");
        return 1;
    }
    if (st_receipt_decode(&rc, r->receipt.data, r->receipt.len, msg, sizeof(msg)) != ST_OK) {
        snprintf(why, cap, "the receipt cannot be read: %s", msg);
        return 1;
    }
    if (memcmp(rc.leaf_hash, x->b[i].leaf, 32) != 0 || rc.leaf_index != r->leaf_index ||
        rc.sth.vote_id != x->vote) {
        snprintf(why, cap, "the receipt is not for the ballot that was signed");
        return 1;
    }
    /* The signatures of a sample of receipts: checking every one would make the bench, not
     * the servers, the bottleneck. */
    if (i % 500 == 0 && x->w->n_trusted > 0) {
        st_error err;
        if (st_verify_receipt(r->receipt.data, r->receipt.len, x->w->trusted, x->w->n_trusted, NULL,
                              0, &rc, &err) != ST_OK) {
            snprintf(why, cap, "the receipt does not verify: %s", err.message);
            return 1;
        }
    }
    return 0;
}

void bs_ballot_bytes(bs_world *w, size_t *message, size_t *envelope) {
    prebuilt b;
    cast_slot s;
    memset(&b, 0, sizeof(b));
    build_ballot(w, 1, w->n_owners / 2, &b);
    fill_request(w, 1, &b, &s);
    *message = strata__v1__cast_ballot_request__get_packed_size(&s.q);
    /* version, str16 method, key id, timestamp, nonce, body hash, signature */
    *envelope = 1 + 2 + strlen(CAST_METHOD) + ST_KEY_ID_LEN + 8 + ST_REQUEST_NONCE_LEN + 32 +
                ST_SIGN_SIG_LEN;
}

static const char *find_in_path(const char *name, char *out, size_t cap) {
    const char *path = getenv("PATH");
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path != NULL ? path : "/usr/bin:/bin");
    char *save = NULL;
    for (char *d = strtok_r(buf, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, cap, "%s/%s", d, name);
        if (access(out, X_OK) == 0) {
            return out;
        }
    }
    return NULL;
}

/* `perf record -g -p PID -o FILE`, started now; its pid or -1. */
static pid_t perf_start(pid_t target, const char *file) {
    char perf[1024], pid[32], log[1100];
    if (find_in_path("perf", perf, sizeof(perf)) == NULL) {
        fprintf(stderr, "strata-bench: perf is not installed; no profile taken\n");
        return -1;
    }
    snprintf(pid, sizeof(pid), "%d", (int)target);
    snprintf(log, sizeof(log), "%s.log", file);
    char *argv[] = {perf, "record", "-g", "-p", pid, "-o", (char *)file, NULL};
    pid_t p = bp_spawn(argv, log);
    bp_sleep_ms(500); /* perf attaches */
    if (p > 0 && !bp_alive(p, NULL)) {
        fprintf(stderr, "strata-bench: perf record exited at once: see %s\n", log);
        return -1;
    }
    return p;
}

static void perf_stop(pid_t p) {
    if (p <= 0) {
        return;
    }
    kill(p, SIGINT); /* perf writes its data and exits */
    uint64_t until = bp_now_ms() + 30000;
    while (bp_alive(p, NULL) && bp_now_ms() < until) {
        bp_sleep_ms(20);
    }
    if (bp_alive(p, NULL)) {
        bp_stop(p, 1000);
    }
}

static int vote_count(bs_world *w, uint64_t vote, uint64_t *count) {
    Strata__V1__Vote *v = NULL;
    st_error err;
    if (st_get_vote(w->reader, vote, false, &v, NULL, &err) != ST_OK) {
        FAIL("GetVote %llu failed: %s", (unsigned long long)vote, err.message);
    }
    *count = v->ballot_count;
    protobuf_c_message_free_unpacked(&v->base, NULL);
    return 0;
}

double bs_peak_rss_mb(bs_world *w) {
    double peak = -1;
    for (int i = 0; i < w->c->n; i++) {
        if (w->c->nodes[i].pid > 0) {
            double m = bp_hwm_mb(w->c->nodes[i].pid);
            peak = m > peak ? m : peak;
        }
    }
    return peak;
}

double bs_anon_rss_mb(bs_world *w) {
    double peak = -1;
    for (int i = 0; i < w->c->n; i++) {
        if (w->c->nodes[i].pid > 0) {
            double m = bp_rss_anon_mb(w->c->nodes[i].pid);
            peak = m > peak ? m : peak;
        }
    }
    return peak;
}

int bs_cast(bs_world *w, uint64_t vote, size_t n, unsigned concurrency, uint64_t ballots_before,
            const char *perf_data, br_side *out) {
    memset(out, 0, sizeof(*out));
    prebuilt *b = calloc(n ? n : 1, sizeof(*b));
    if (b == NULL) {
        FAIL("out of memory for %zu ballots", n);
    }
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (build_ballot(w, vote, i, &b[i]) != 0) {
            free(b);
            return -1;
        }
    }
    size_t msg = 0, env = 0;
    bs_ballot_bytes(w, &msg, &env);
    bytes = msg + env;
    int leader = bs_leader(w, 10000);
    if (leader < 0) {
        free(b);
        FAIL("no leader before the cast");
    }
    cast_ctx x = {.w = w, .vote = vote, .b = b};
    Strata__V1__StatusRequest warm = STRATA__V1__STATUS_REQUEST__INIT;
    bl_spec s = {
        .cluster = w->addrs,
        .method = CAST_METHOD,
        .resp_desc = &strata__v1__cast_ballot_response__descriptor,
        .n = n,
        .concurrency = concurrency,
        .prepare = cast_prepare,
        .slot_size = sizeof(cast_slot),
        .check = cast_check,
        .ctx = &x,
        .warm_method = "/strata.v1.Cluster/Status",
        .warm_req = &warm.base,
        .warm_desc = &strata__v1__status_response__descriptor,
    };
    for (int i = 0; i < w->c->n; i++) {
        if (w->c->nodes[i].pid > 0 && s.npids < BL_MAX_PIDS) {
            s.pids[s.npids++] = w->c->nodes[i].pid;
        }
    }
    pid_t perf = -1;
    if (perf_data != NULL && w->c->nodes[leader].pid > 0) {
        perf = perf_start(w->c->nodes[leader].pid, perf_data);
    }
    bl_result r;
    int rc = bl_run(&s, &r);
    perf_stop(perf);
    free(b);
    if (rc < 0) {
        return -1;
    }
    out->ran = true;
    out->ops = r.ok;
    out->failed = r.failed;
    out->secs = r.secs;
    out->ops_per_s = r.ops_per_s;
    out->p50_ms = r.p50_ms;
    out->p99_ms = r.p99_ms;
    out->max_ms = r.max_ms;
    out->cpu_s = r.server_cpu_s;
    out->client_cpu_s = r.client_cpu_s;
    out->rss_mb = bs_peak_rss_mb(w);
    out->op_bytes = bytes;
    if (rc != 0) {
        FAIL("%llu of %zu ballots failed; the first: %s", (unsigned long long)r.failed, n,
             r.first_error);
    }
    uint64_t count = 0;
    if (vote_count(w, vote, &count) != 0) {
        return -1;
    }
    if (count != ballots_before + n) {
        FAIL("vote %llu counts %llu ballots after %zu were accepted (%llu before)",
             (unsigned long long)vote, (unsigned long long)count, n,
             (unsigned long long)ballots_before);
    }
    return 0;
}

/* ---- roll import ---- */

int bs_roll_import(bs_world *w, size_t units, double *secs) {
    st_keypair *org = NULL;
    uint64_t community = 0;
    if (new_community(w, "strata-bench roll", &org, &community) != 0) {
        st_keypair_free(org);
        return -1;
    }
    char *strings = NULL;
    st_unit *u = make_units(units, "R", "P", true, &strings);
    if (u == NULL) {
        st_keypair_free(org);
        FAIL("out of memory");
    }
    st_import_result ir;
    st_error err;
    int rc = set_key(w, org);
    uint64_t t0 = bp_now_us();
    rc = rc ? rc : st_import_units(w->ctl, community, u, units, &ir, &err);
    *secs = (double)(bp_now_us() - t0) / 1e6;
    free(u);
    free(strings);
    st_keypair_free(org);
    if (rc != ST_OK) {
        FAIL("ImportRoll of %zu units failed: %s", units, err.message);
    }
    if (ir.unit_count != units) {
        FAIL("ImportRoll answered %llu units, %zu sent", (unsigned long long)ir.unit_count, units);
    }
    return 0;
}

/* ---- reads ---- */

int bs_read_latency(bs_world *w, uint64_t vote, bool stale, unsigned reads, br_read *out) {
    memset(out, 0, sizeof(*out));
    int leader = bs_leader(w, 10000);
    int node = -1;
    for (int i = 0; stale && i < w->c->n; i++) {
        if (i != leader && node_up(w, i)) {
            node = i;
            break;
        }
    }
    if (leader < 0 || (stale && node < 0)) {
        FAIL("no %s to read from", stale ? "follower" : "leader");
    }
    uint32_t *lat = calloc(reads ? reads : 1, sizeof(uint32_t));
    if (lat == NULL) {
        FAIL("out of memory");
    }
    Strata__V1__GetVoteRequest q = STRATA__V1__GET_VOTE_REQUEST__INIT;
    q.vote_id = vote;
    q.allow_stale = stale;
    st_call_options o;
    memset(&o, 0, sizeof(o));
    o.address = stale ? w->c->nodes[node].grpc : NULL;
    int rc = ST_OK;
    st_error err;
    for (unsigned k = 0; k <= reads && rc == ST_OK; k++) { /* call 0 warms up */
        ProtobufCMessage *resp = NULL;
        uint64_t t0 = bp_now_us();
        rc = st_client_unary(w->reader, "/strata.v1.Voting/GetVote", &q.base,
                             &strata__v1__vote__descriptor, &o, &resp, &err);
        uint64_t us = bp_now_us() - t0;
        if (rc == ST_OK) {
            out->ballots = ((Strata__V1__Vote *)resp)->ballot_count;
            protobuf_c_message_free_unpacked(resp, NULL);
            if (k > 0) {
                lat[k - 1] = (uint32_t)us;
            }
        }
    }
    if (rc != ST_OK) {
        free(lat);
        FAIL("GetVote failed: %s", err.message);
    }
    out->ran = true;
    out->reads = reads;
    out->p50_ms = bl_percentile_ms(lat, reads, 50);
    out->p99_ms = bl_percentile_ms(lat, reads, 99);
    out->max_ms = reads ? (double)lat[reads - 1] / 1000.0 : 0;
    free(lat);
    return 0;
}

/* ---- audit ---- */

int bs_audit(bs_world *w, uint64_t vote, const char *dir, br_figures *g) {
    st_error err;
    if (set_key(w, w->org) != 0) {
        return -1;
    }
    if (st_step_vote(w->ctl, vote, ST_STEP_CLOSE, NULL, &err) != ST_OK ||
        st_step_vote(w->ctl, vote, ST_STEP_PUBLISH, NULL, &err) != ST_OK) {
        FAIL("closing and publishing vote %llu failed: %s", (unsigned long long)vote, err.message);
    }
    st_export_result ex;
    uint64_t t0 = bp_now_us();
    if (st_export_bundle(w->reader, vote, dir, NULL, NULL, &ex, &err) != ST_OK) {
        FAIL("audit export failed: %s", err.message);
    }
    g->export_s = (double)(bp_now_us() - t0) / 1e6;
    g->audit_keys = ex.keys;
    g->bundle_bytes = bp_tree_bytes(dir);
    st_bundle_verify_options vo = {0, NULL, NULL};
    st_bundle_report rep;
    memset(&rep, 0, sizeof(rep));
    t0 = bp_now_us();
    int rc = st_bundle_verify(dir, &vo, &rep);
    g->audit_verify_s = (double)(bp_now_us() - t0) / 1e6;
    if (rc != ST_OK) {
        FAIL("the exported bundle does not verify: %s:%zu: %s", rep.file, rep.line, rep.message);
    }
    if (rep.ballots != ex.ballots) {
        FAIL("%zu ballots verified, %llu exported", rep.ballots, (unsigned long long)ex.ballots);
    }
    g->audit_ran = true;
    g->audit_ballots = rep.ballots;
    g->audit_threads = rep.threads;
    g->audit_verify_per_s = (double)rep.ballots / (g->audit_verify_s > 0 ? g->audit_verify_s : 1);
    return 0;
}

/* ---- catch-up ---- */

static bool log_has(const bc_node *d, const char *text) {
    char path[BP_PATH_MAX + 32], line[4096];
    snprintf(path, sizeof(path), "%s/stratad.log", d->dir);
    FILE *f = fopen(path, "r");
    bool found = false;
    while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL) {
        found = strstr(line, text) != NULL;
    }
    if (f != NULL) {
        fclose(f);
    }
    return found;
}

/* Node i's data digest and the applied index it was read at (Cluster.Status with_digest). */
static bool digest_of(bs_world *w, int i, uint8_t digest[32], uint64_t *index) {
    Strata__V1__StatusRequest q = STRATA__V1__STATUS_REQUEST__INIT;
    q.with_digest = true;
    st_call_options o;
    memset(&o, 0, sizeof(o));
    o.address = w->c->nodes[i].grpc;
    o.deadline_ms = 30000;
    ProtobufCMessage *resp = NULL;
    st_error err;
    if (st_client_unary(w->reader, "/strata.v1.Cluster/Status", &q.base,
                        &strata__v1__status_response__descriptor, &o, &resp, &err) != ST_OK) {
        return false;
    }
    const Strata__V1__StatusResponse *s = (const void *)resp;
    bool ok = s->state_digest.len == 32;
    if (ok) {
        memcpy(digest, s->state_digest.data, 32);
        *index = s->digest_index;
    }
    protobuf_c_message_free_unpacked(resp, NULL);
    return ok;
}

/* The caught-up node holds the leader's data: their digests at the same applied index are
 * equal (retried while the two read at different indexes). */
static int same_state(bs_world *w, int leader, int f) {
    for (int attempt = 0; attempt < 50; attempt++) {
        uint8_t a[32], b[32];
        uint64_t ia = 0, ib = 0;
        if (!digest_of(w, leader, a, &ia) || !digest_of(w, f, b, &ib)) {
            FAIL("no data digest from node %d or %d", w->c->nodes[leader].id, w->c->nodes[f].id);
        }
        if (ia == ib) {
            if (memcmp(a, b, 32) != 0) {
                FAIL("node %d's data after catch-up differs from the leader's at index %llu",
                     w->c->nodes[f].id, (unsigned long long)ia);
            }
            return 0;
        }
        bp_sleep_ms(100);
    }
    FAIL("nodes %d and %d never reported digests at the same index", w->c->nodes[leader].id,
         w->c->nodes[f].id);
}

int bs_catchup(bs_world *w, br_figures *g) {
    if (w->c->stratad == NULL) {
        FAIL("catch-up needs nodes started by the bench (not --connect)");
    }
    int leader = bs_leader(w, 10000);
    int f = -1;
    for (int i = 0; i < w->c->n && f < 0; i++) {
        f = i != leader && w->c->nodes[i].pid > 0 ? i : -1;
    }
    if (leader < 0 || f < 0) {
        FAIL("no follower to stop");
    }
    int rc = bc_stop_node(w->c, f);
    if (rc != 0) {
        FAIL("node %d exited with status %d after SIGTERM", w->c->nodes[f].id, rc);
    }
    if (bc_wipe_node(w->c, f) != 0) {
        return -1;
    }
    uint64_t target = leader_commit(w);
    if (target == 0) {
        FAIL("cannot read the leader's commit index");
    }
    uint64_t t0 = bp_now_us();
    if (bc_start_node(w->c, f, true) != 0) {
        return -1;
    }
    uint64_t until = bp_now_ms() + 600000, applied = 0;
    while ((applied = applied_of(w, f)) < target && bp_now_ms() < until) {
        bp_sleep_ms(10);
    }
    g->catchup_s = (double)(bp_now_us() - t0) / 1e6;
    if (applied < target) {
        FAIL("node %d applied only up to %llu of %llu in 600 s", w->c->nodes[f].id,
             (unsigned long long)applied, (unsigned long long)target);
    }
    leader = bs_leader(w, 10000);
    if (leader < 0 || leader == f || same_state(w, leader, f) != 0) {
        FAIL("the caught-up node's data cannot be compared with a leader's");
    }
    g->catchup_ran = true;
    g->catchup_index = target;
    g->catchup_snapshot = log_has(&w->c->nodes[f], "snapshot installed");
    char data[BP_PATH_MAX + 16];
    snprintf(data, sizeof(data), "%s/data", w->c->nodes[f].dir);
    g->state_bytes = bp_tree_bytes(data);
    return 0;
}
