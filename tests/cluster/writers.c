/* writers.c - ballot-casting threads for the fault tests and the check of their outcomes
 * against the exported history (writers.h): the organiser's paper-ballot writers and the
 * owners' online voters. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/error.h"
#include "crypto/merkle.h"
#include "tests/cluster/writers.h"
#include "tests/core/check.h"

#define MAX_THREADS 16

typedef struct {
    struct tc_writers *w;
    int index;
    bool pinned;
    tc_cast_rec *casts;
    size_t n, cap;
    pthread_t thread;
} worker;

struct tc_writers {
    tc_client *cl;
    const tc_key *org;
    uint64_t community, vote;
    int owners, group, retry_ms, pin_node, attempt_ms, n_threads;
    uint8_t salt[23];
    atomic_bool stop;
    atomic_size_t acked;
    worker workers[MAX_THREADS];
    tc_cast_rec *all;
    size_t n_all;
};

static void *run(void *arg) {
    worker *wk = arg;
    tc_writers *w = wk->w;
    for (uint64_t k = 0; !atomic_load(&w->stop); k++) {
        if (wk->n == wk->cap) {
            wk->cap = wk->cap ? wk->cap * 2 : 1024;
            wk->casts = realloc(wk->casts, wk->cap * sizeof(*wk->casts));
            CHECK(wk->casts != NULL);
        }
        tc_cast_rec *cs = &wk->casts[wk->n++];
        memset(cs, 0, sizeof(*cs));
        cs->scan[0] = (uint8_t)(w->group << 4 | wk->index);
        for (int i = 0; i < 8; i++) {
            cs->scan[1 + i] = (uint8_t)(k >> (56 - 8 * i));
        }
        memcpy(cs->scan + 9, w->salt, sizeof(w->salt));
        cs->owner = 1 + (int)((uint64_t)wk->index + (uint64_t)w->n_threads * k) % w->owners;
        cs->choice = 1 + (int)(k % 3);
        cs->pinned = wk->pinned;
        char owner[24];
        snprintf(owner, sizeof(owner), "O%d", cs->owner);
        /* A paper ballot the organiser enters and signs; the request is signed by the same
         * key, afresh for every attempt (its request id stays the same). */
        tc_ballot_buf buf;
        Strata__V1__CastBallotRequest q;
        tc_ballot_request(w->org, w->community, w->vote, owner, cs->choice, cs->scan, &buf, &q);
        ProtobufCMessage *resp = NULL;
        tc_status st;
        cs->start_ms = tc_now_ms();
        if (wk->pinned) {
            tc_unary_as(w->cl, w->org, w->pin_node, "/strata.v1.Voting/CastBallot", &q.base,
                        &strata__v1__cast_ballot_response__descriptor, &resp, &st, w->attempt_ms);
        } else {
            tc_leader_call_as(w->cl, w->org, "/strata.v1.Voting/CastBallot", &q.base,
                              &strata__v1__cast_ballot_response__descriptor, &resp, &st,
                              w->retry_ms);
        }
        cs->end_ms = tc_now_ms();
        cs->code = st.code;
        cs->node = st.node;
        if (st.code == GRPC_STATUS_OK) {
            cs->seq = ((Strata__V1__CastBallotResponse *)resp)->seq;
            protobuf_c_message_free_unpacked(resp, NULL);
            atomic_fetch_add(&w->acked, 1);
        } else if (st.code != GRPC_STATUS_UNAVAILABLE && st.code != GRPC_STATUS_DEADLINE_EXCEEDED &&
                   st.code != GRPC_STATUS_CANCELLED) {
            /* CANCELLED: a node stopping (SIGTERM) cancels the calls gRPC had received but not
             * yet handed over; the cast's outcome is unknown like any other unanswered one. */
            fprintf(stderr, "cast refused: %d %s\n", (int)st.code, st.details);
            CHECK(false); /* only availability may fail a well-formed cast */
        } else if (wk->pinned) {
            tc_sleep_ms(100);
        }
    }
    return NULL;
}

tc_writers *tc_writers_start(tc_client *cl, const tc_world *tw, uint64_t community, uint64_t vote,
                             int owners, int group, int n_follow, int retry_ms, int n_pinned,
                             int pin_node, int attempt_ms) {
    CHECK(n_follow + n_pinned <= MAX_THREADS && n_follow + n_pinned > 0);
    tc_writers *w = calloc(1, sizeof(*w));
    CHECK(w != NULL);
    w->cl = cl;
    w->org = tc_organiser(tw, community);
    w->community = community;
    w->vote = vote;
    w->owners = owners;
    w->group = group;
    w->retry_ms = retry_ms;
    w->pin_node = pin_node;
    w->attempt_ms = attempt_ms;
    w->n_threads = n_follow + n_pinned;
    CHECK(getrandom(w->salt, sizeof(w->salt), 0) == sizeof(w->salt));
    for (int i = 0; i < w->n_threads; i++) {
        worker *wk = &w->workers[i];
        wk->w = w;
        wk->index = i;
        wk->pinned = i >= n_follow;
        CHECK(pthread_create(&wk->thread, NULL, run, wk) == 0);
    }
    return w;
}

size_t tc_writers_acked(tc_writers *w) {
    return atomic_load(&w->acked);
}

void tc_writers_stop(tc_writers *w) {
    atomic_store(&w->stop, true);
    size_t total = 0;
    for (int i = 0; i < w->n_threads; i++) {
        pthread_join(w->workers[i].thread, NULL);
        total += w->workers[i].n;
    }
    w->all = calloc(total ? total : 1, sizeof(*w->all));
    CHECK(w->all != NULL);
    for (int i = 0; i < w->n_threads; i++) {
        memcpy(w->all + w->n_all, w->workers[i].casts, w->workers[i].n * sizeof(tc_cast_rec));
        w->n_all += w->workers[i].n;
        free(w->workers[i].casts);
        w->workers[i].casts = NULL;
    }
}

const tc_cast_rec *tc_writers_casts(tc_writers *w, size_t *n) {
    *n = w->n_all;
    return w->all;
}

static int by_scan(const void *a, const void *b) {
    const Strata__V1__Ballot *x = *(Strata__V1__Ballot *const *)a;
    const Strata__V1__Ballot *y = *(Strata__V1__Ballot *const *)b;
    return memcmp(x->paper_scan_sha256.data, y->paper_scan_sha256.data, 32);
}

size_t tc_writers_verify(tc_writers **ws, size_t nw, Strata__V1__Ballot **hist, size_t n) {
    Strata__V1__Ballot **sorted = malloc((n ? n : 1) * sizeof(*sorted));
    CHECK(sorted != NULL);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ(hist[i]->paper_scan_sha256.len, 32); /* every ballot comes from a writer */
        sorted[i] = hist[i];
    }
    qsort(sorted, n, sizeof(*sorted), by_scan);
    for (size_t i = 1; i < n; i++) {
        /* no cast was applied twice */
        CHECK(memcmp(sorted[i - 1]->paper_scan_sha256.data, sorted[i]->paper_scan_sha256.data,
                     32) != 0);
    }
    size_t found = 0, unacked_committed = 0;
    for (size_t g = 0; g < nw; g++) {
        for (size_t i = 0; i < ws[g]->n_all; i++) {
            const tc_cast_rec *cs = &ws[g]->all[i];
            Strata__V1__Ballot key = STRATA__V1__BALLOT__INIT, *kp = &key;
            key.paper_scan_sha256 = (ProtobufCBinaryData){32, (uint8_t *)cs->scan};
            Strata__V1__Ballot **hit = bsearch(&kp, sorted, n, sizeof(*sorted), by_scan);
            if (cs->code == GRPC_STATUS_OK) {
                if (hit == NULL) {
                    fprintf(stderr, "acknowledged cast (owner O%d, seq %llu, node %d) is missing\n",
                            cs->owner, (unsigned long long)cs->seq, cs->node);
                }
                CHECK(hit != NULL);
                CHECK_EQ((*hit)->seq, cs->seq);
            } else if (hit != NULL) {
                unacked_committed++;
            }
            if (hit != NULL) {
                char owner[24];
                snprintf(owner, sizeof(owner), "O%d", cs->owner);
                CHECK_STR((*hit)->owner_id, owner);
                CHECK_EQ((*hit)->choice, cs->choice);
                found++;
            }
        }
    }
    CHECK_EQ(found, n); /* and nothing in the history that no writer cast */
    free(sorted);
    return unacked_committed;
}

void tc_writers_free(tc_writers *w) {
    free(w->all);
    free(w);
}

/* ---- online voters ---- */

typedef struct {
    struct tc_voters *v;
    int index;
    uint64_t rng;
    const tc_owner **mine; /* the enrolled owners this thread casts for */
    size_t n_mine;
    tc_key stranger;    /* never enrolled */
    tc_ballot_buf last; /* the last acknowledged good ballot (for replays) */
    const tc_key *last_key;
    uint64_t last_seq;
    uint8_t last_choice;
    bool have_last;
    tc_vote_rec *casts;
    size_t n, cap;
    pthread_t thread;
} voter;

struct tc_voters {
    tc_client *cl;
    const tc_world *world;
    uint64_t community, vote;
    tc_voters_opts o;
    const tc_owner **owners; /* the community's enrolled owners */
    size_t n_owners;
    atomic_bool stop;
    atomic_size_t acked;
    voter threads[MAX_THREADS];
    tc_vote_rec *all;
    size_t n_all;
};

static const char *const kind_names[TC_VOTE_KINDS] = {"good",     "other-key",   "bad-signature",
                                                      "off-roll", "unknown-key", "replay"};

const char *tc_vote_kind_name(int kind) {
    return kind >= 0 && kind < TC_VOTE_KINDS ? kind_names[kind] : "?";
}

/* The code a cast of this kind must end with (besides the availability codes). */
static int expected_code(int kind) {
    switch (kind) {
    case TC_VOTE_GOOD:
        return GRPC_STATUS_OK;
    case TC_VOTE_OTHER_KEY:
        return GRPC_STATUS_PERMISSION_DENIED;
    case TC_VOTE_BAD_SIG:
    case TC_VOTE_UNKNOWN_KEY:
        return GRPC_STATUS_UNAUTHENTICATED;
    case TC_VOTE_OFF_ROLL:
        return GRPC_STATUS_NOT_FOUND;
    default:
        return GRPC_STATUS_ALREADY_EXISTS;
    }
}

static uint64_t mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The CastBallotRequest of an online ballot already built in buf (its request id may have
 * been changed since). */
static void online_request(tc_ballot_buf *buf, const tc_key *key, uint64_t vote, int choice,
                           Strata__V1__CastBallotRequest *q) {
    strata__v1__cast_ballot_request__init(q);
    q->request_id = (ProtobufCBinaryData){16, buf->rid};
    q->vote_id = vote;
    q->owner_id = buf->owner;
    q->ballot_case = STRATA__V1__CAST_BALLOT_REQUEST__BALLOT_CHOICE;
    q->choice = (Strata__V1__Choice)choice;
    q->source = STRATA__V1__BALLOT_SOURCE__BALLOT_ONLINE;
    q->nonce = (ProtobufCBinaryData){16, buf->nonce};
    q->signed_ballot = (ProtobufCBinaryData){buf->ballot_len, buf->ballot};
    q->public_key = (ProtobufCBinaryData){32, (uint8_t *)key->pk};
    q->signature = (ProtobufCBinaryData){64, buf->sig};
}

/* Checks an acknowledged cast's answer and receipt; fills the record's seq and tree head. */
static void check_answer(tc_voters *v, const Strata__V1__CastBallotResponse *r,
                         const tc_ballot_buf *buf, tc_vote_rec *cs) {
    CHECK(r->seq >= 1);
    CHECK_EQ(r->leaf_index, r->seq - 1);
    CHECK(r->tree_size >= r->seq);
    st_receipt rc;
    char err[256] = "";
    CHECK_EQ(r->receipt.len, ST_RECEIPT_LEN);
    CHECK(st_receipt_decode(&rc, r->receipt.data, r->receipt.len, err, sizeof(err)) == ST_OK);
    CHECK_EQ(rc.leaf_index, r->leaf_index);
    CHECK_EQ(rc.sth.tree_size, r->tree_size);
    CHECK_EQ(rc.sth.vote_id, v->vote);
    int code = st_receipt_verify(&rc, v->o.keys, v->o.n_keys, buf->record, buf->record_len, err,
                                 sizeof(err));
    if (code != ST_OK) {
        fprintf(stderr, "receipt of ballot %llu (owner %s, from node %d) does not verify: %s\n",
                (unsigned long long)r->seq, cs->owner, cs->node, err);
    }
    CHECK_EQ(code, ST_OK);
    cs->seq = r->seq;
    cs->tree_size = rc.sth.tree_size;
    memcpy(cs->root, rc.sth.root, 32);
}

static void *vote_run(void *arg) {
    voter *vt = arg;
    tc_voters *v = vt->v;
    while (!atomic_load(&v->stop)) {
        if (vt->n == vt->cap) {
            vt->cap = vt->cap ? vt->cap * 2 : 1024;
            vt->casts = realloc(vt->casts, vt->cap * sizeof(*vt->casts));
            CHECK(vt->casts != NULL);
        }
        tc_vote_rec *cs = &vt->casts[vt->n++];
        memset(cs, 0, sizeof(*cs));
        const tc_owner *me = vt->mine[test_below(&vt->rng, vt->n_mine)];
        int kind = TC_VOTE_GOOD;
        if ((int)test_below(&vt->rng, 1000) < v->o.refuse_pm) {
            kind = 1 + (int)test_below(&vt->rng, TC_VOTE_KINDS - 1);
            if (kind == TC_VOTE_REPLAY && !vt->have_last) {
                kind = TC_VOTE_BAD_SIG;
            }
        }
        cs->kind = (uint8_t)kind;
        cs->hasty = kind == TC_VOTE_GOOD && vt->index < v->o.hasty_threads;
        cs->choice = (uint8_t)(1 + test_below(&vt->rng, 3));
        /* Who the ballot is for, and whose key signs it (ballot and request alike). */
        const tc_key *key = &me->key;
        const char *owner = me->owner;
        char off_roll[16];
        if (kind == TC_VOTE_OTHER_KEY) {
            const tc_owner *other = me;
            while (other == me && v->n_owners > 1) {
                other = v->owners[test_below(&vt->rng, v->n_owners)];
            }
            owner = other->owner;
        } else if (kind == TC_VOTE_OFF_ROLL) {
            snprintf(off_roll, sizeof(off_roll), "Z%u",
                     (unsigned)(1 + test_below(&vt->rng, 100000)));
            owner = off_roll;
        } else if (kind == TC_VOTE_UNKNOWN_KEY) {
            key = &vt->stranger;
        }
        tc_ballot_buf buf;
        Strata__V1__CastBallotRequest q;
        if (kind == TC_VOTE_REPLAY) {
            buf = vt->last;
            key = vt->last_key;
            tc_request_id(buf.rid);
            cs->choice = vt->last_choice;
            online_request(&buf, key, v->vote, cs->choice, &q);
            cs->seq = vt->last_seq;
        } else {
            tc_ballot_request(key, v->community, v->vote, owner, cs->choice, NULL, &buf, &q);
            if (kind == TC_VOTE_BAD_SIG) {
                buf.sig[test_below(&vt->rng, 64)] ^= (uint8_t)(1u << test_below(&vt->rng, 8));
            }
        }
        CHECK(strlen(buf.owner) < sizeof(cs->owner));
        memcpy(cs->owner, buf.owner, strlen(buf.owner) + 1);
        memcpy(cs->nonce, buf.nonce, 16);
        memcpy(cs->sig, buf.sig, 64);

        ProtobufCMessage *resp = NULL;
        tc_status st;
        cs->start_us = mono_us();
        tc_leader_call_as(v->cl, key, "/strata.v1.Voting/CastBallot", &q.base,
                          &strata__v1__cast_ballot_response__descriptor, &resp, &st,
                          cs->hasty ? v->o.hasty_ms : v->o.retry_ms);
        cs->end_us = mono_us();
        cs->code = st.code;
        cs->node = st.node;
        bool unresolved = st.code == GRPC_STATUS_UNAVAILABLE ||
                          st.code == GRPC_STATUS_DEADLINE_EXCEEDED ||
                          st.code == GRPC_STATUS_CANCELLED; /* cut off by a stopping node */
        if (!unresolved && (int)st.code != expected_code(kind)) {
            fprintf(stderr,
                    "%s cast for owner %s answered %d by node %d (expected %d) after %d "
                    "attempt(s): %s\n",
                    tc_vote_kind_name(kind), cs->owner, (int)st.code, st.node, expected_code(kind),
                    st.attempts, st.details);
            CHECK(false);
        }
        if (st.code == GRPC_STATUS_OK) {
            check_answer(v, (Strata__V1__CastBallotResponse *)resp, &buf, cs);
            vt->last = buf;
            vt->last_key = key;
            vt->last_seq = cs->seq;
            vt->last_choice = cs->choice;
            vt->have_last = true;
            atomic_fetch_add(&v->acked, 1);
        }
        if (resp != NULL) {
            protobuf_c_message_free_unpacked(resp, NULL);
        }
        if (v->o.think_ms > 0) {
            tc_sleep_ms((unsigned)test_below(&vt->rng, 2 * (uint64_t)v->o.think_ms + 1));
        }
    }
    return NULL;
}

tc_voters *tc_voters_start(tc_client *cl, const tc_world *w, uint64_t community, uint64_t vote,
                           const tc_voters_opts *o) {
    CHECK(o->threads >= 1 && o->threads <= MAX_THREADS);
    tc_voters *v = calloc(1, sizeof(*v));
    CHECK(v != NULL);
    v->cl = cl;
    v->world = w;
    v->community = community;
    v->vote = vote;
    v->o = *o;
    v->owners = calloc(w->n_owners ? w->n_owners : 1, sizeof(*v->owners));
    CHECK(v->owners != NULL);
    for (size_t i = 0; i < w->n_owners; i++) {
        if (w->owners[i].community == community) {
            v->owners[v->n_owners++] = &w->owners[i];
        }
    }
    /* Every thread has an owner of its own, and another owner to sign for wrongly. */
    CHECK(v->n_owners >= (size_t)o->threads && v->n_owners >= 2);
    for (int t = 0; t < o->threads; t++) {
        voter *vt = &v->threads[t];
        vt->v = v;
        vt->index = t;
        vt->rng = o->seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(t + 1));
        vt->mine = calloc(v->n_owners, sizeof(*vt->mine));
        CHECK(vt->mine != NULL);
        for (size_t i = (size_t)t; i < v->n_owners; i += (size_t)o->threads) {
            vt->mine[vt->n_mine++] = v->owners[i];
        }
        tc_key_new(&vt->stranger);
    }
    for (int t = 0; t < o->threads; t++) {
        CHECK(pthread_create(&v->threads[t].thread, NULL, vote_run, &v->threads[t]) == 0);
    }
    return v;
}

size_t tc_voters_acked(tc_voters *v) {
    return atomic_load(&v->acked);
}

void tc_voters_stop(tc_voters *v) {
    atomic_store(&v->stop, true);
    size_t total = 0;
    for (int t = 0; t < v->o.threads; t++) {
        pthread_join(v->threads[t].thread, NULL);
        total += v->threads[t].n;
    }
    v->all = calloc(total ? total : 1, sizeof(*v->all));
    CHECK(v->all != NULL);
    for (int t = 0; t < v->o.threads; t++) {
        voter *vt = &v->threads[t];
        if (vt->n > 0) {
            memcpy(v->all + v->n_all, vt->casts, vt->n * sizeof(*vt->casts));
        }
        v->n_all += vt->n;
        free(vt->casts);
        vt->casts = NULL;
        free(vt->mine);
        vt->mine = NULL;
    }
}

const tc_vote_rec *tc_voters_casts(tc_voters *v, size_t *n) {
    *n = v->n_all;
    return v->all;
}

/* A history entry by its ballot nonce. */
typedef struct {
    uint8_t nonce[16];
    size_t index;
} nonce_ix;

static int by_nonce(const void *a, const void *b) {
    return memcmp(((const nonce_ix *)a)->nonce, ((const nonce_ix *)b)->nonce, 16);
}

static int by_tree_size(const void *a, const void *b) {
    const tc_vote_rec *x = *(const tc_vote_rec *const *)a, *y = *(const tc_vote_rec *const *)b;
    return x->tree_size < y->tree_size ? -1 : x->tree_size > y->tree_size;
}

static int by_start(const void *a, const void *b) {
    const tc_vote_rec *x = *(const tc_vote_rec *const *)a, *y = *(const tc_vote_rec *const *)b;
    return x->start_us < y->start_us ? -1 : x->start_us > y->start_us;
}

static int by_end(const void *a, const void *b) {
    const tc_vote_rec *x = *(const tc_vote_rec *const *)a, *y = *(const tc_vote_rec *const *)b;
    return x->end_us < y->end_us ? -1 : x->end_us > y->end_us;
}

/* Acknowledged casts in real-time order: one told OK before another started got the lower
 * seq (acked[0..n) are pointers; reordered here). */
static void check_real_time(const tc_vote_rec **acked, size_t n) {
    const tc_vote_rec **ends = malloc((n ? n : 1) * sizeof(*ends));
    CHECK(ends != NULL);
    memcpy(ends, acked, n * sizeof(*ends));
    qsort(acked, n, sizeof(*acked), by_start);
    qsort(ends, n, sizeof(*ends), by_end);
    size_t e = 0;
    uint64_t max_seq = 0;
    const tc_vote_rec *max_rec = NULL;
    for (size_t i = 0; i < n; i++) {
        while (e < n && ends[e]->end_us < acked[i]->start_us) {
            if (ends[e]->seq > max_seq) {
                max_seq = ends[e]->seq;
                max_rec = ends[e];
            }
            e++;
        }
        if (max_seq >= acked[i]->seq) {
            fprintf(stderr,
                    "ballot seq %llu (owner %s) was acknowledged before ballot seq %llu (owner "
                    "%s) was cast\n",
                    (unsigned long long)max_seq, max_rec->owner, (unsigned long long)acked[i]->seq,
                    acked[i]->owner);
        }
        CHECK(max_seq < acked[i]->seq);
    }
    free(ends);
}

/* Each acknowledged receipt's tree head is a prefix of the final history: the root of the
 * first tree_size records (acked sorted by tree size here). */
static void check_tree_heads(const tc_vote_rec **acked, size_t n, Strata__V1__Ballot **hist,
                             size_t nh) {
    qsort(acked, n, sizeof(*acked), by_tree_size);
    st_merkle_frontier *f;
    CHECK(st_merkle_frontier_init(&f) == ST_OK);
    size_t h = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(acked[i]->tree_size <= nh);
        while (h < acked[i]->tree_size) {
            uint8_t leaf[32];
            st_merkle_leaf_hash(leaf, hist[h]->record.data, hist[h]->record.len);
            CHECK(st_merkle_frontier_append(f, leaf, NULL, NULL) == ST_OK);
            h++;
        }
        uint8_t root[32];
        st_merkle_frontier_root(f, root);
        if (memcmp(root, acked[i]->root, 32) != 0) {
            fprintf(stderr,
                    "the receipt of ballot %llu signs a tree of %llu ballots whose root is not "
                    "the final history's first %llu\n",
                    (unsigned long long)acked[i]->seq, (unsigned long long)acked[i]->tree_size,
                    (unsigned long long)acked[i]->tree_size);
        }
        CHECK(memcmp(root, acked[i]->root, 32) == 0);
    }
    st_merkle_frontier_free(f);
}

void tc_voters_verify(tc_voters *v, Strata__V1__Ballot **hist, size_t n, tc_voters_counts *out) {
    memset(out, 0, sizeof(*out));
    nonce_ix *ix = malloc((n ? n : 1) * sizeof(*ix));
    size_t *matched = calloc(n ? n : 1, sizeof(*matched));
    CHECK(ix != NULL && matched != NULL);
    for (size_t i = 0; i < n; i++) {
        const Strata__V1__Ballot *b = hist[i];
        CHECK_EQ(b->seq, i + 1);
        CHECK_EQ(b->leaf_index, i);
        st_record rec;
        char err[200] = "";
        int rc = st_record_decode(&rec, b->record.data, b->record.len, err, sizeof(err));
        if (rc != ST_OK) {
            fprintf(stderr, "ballot %llu: its record does not decode: %s\n",
                    (unsigned long long)b->seq, err);
        }
        CHECK_EQ(rc, ST_OK);
        CHECK(st_record_verify(&rec, err, sizeof(err)) == ST_OK);
        CHECK_EQ(rec.source, ST_SOURCE_ONLINE);
        CHECK_STR(rec.ballot.owner_id, b->owner_id);
        memcpy(ix[i].nonce, rec.ballot.nonce, 16);
        ix[i].index = i;
    }
    qsort(ix, n, sizeof(*ix), by_nonce);
    for (size_t i = 1; i < n; i++) {
        if (memcmp(ix[i - 1].nonce, ix[i].nonce, 16) == 0) {
            fprintf(stderr, "ballots %zu and %zu carry the same signed ballot (nonce)\n",
                    ix[i - 1].index + 1, ix[i].index + 1);
        }
        CHECK(memcmp(ix[i - 1].nonce, ix[i].nonce, 16) != 0);
    }
    const tc_vote_rec **acked = malloc((v->n_all ? v->n_all : 1) * sizeof(*acked));
    CHECK(acked != NULL);
    size_t n_acked = 0;
    for (size_t i = 0; i < v->n_all; i++) {
        const tc_vote_rec *cs = &v->all[i];
        out->casts++;
        out->by_kind[cs->kind]++;
        out->hasty += cs->hasty;
        nonce_ix key = {.index = 0};
        memcpy(key.nonce, cs->nonce, 16);
        const nonce_ix *hit = bsearch(&key, ix, n, sizeof(*ix), by_nonce);
        const Strata__V1__Ballot *b = hit != NULL ? hist[hit->index] : NULL;
        if (cs->kind == TC_VOTE_REPLAY) {
            /* The original is there once, where it was acknowledged; the replay added none. */
            CHECK(b != NULL);
            CHECK_EQ(b->seq, cs->seq);
        } else if (cs->kind != TC_VOTE_GOOD) {
            if (b != NULL) {
                fprintf(stderr, "a %s cast for owner %s (answered %d) is ballot %llu\n",
                        tc_vote_kind_name(cs->kind), cs->owner, cs->code,
                        (unsigned long long)b->seq);
            }
            CHECK(b == NULL);
        }
        if (cs->kind != TC_VOTE_GOOD) {
            if (cs->code == expected_code(cs->kind)) {
                out->refused++;
            } else {
                out->refused_unresolved++;
            }
            continue;
        }
        if (cs->code == GRPC_STATUS_OK) {
            out->acked++;
            acked[n_acked++] = cs;
            if (b == NULL) {
                fprintf(stderr,
                        "acknowledged ballot seq %llu (owner %s, from node %d) is missing from "
                        "the history\n",
                        (unsigned long long)cs->seq, cs->owner, cs->node);
            }
            CHECK(b != NULL);
            CHECK_EQ(b->seq, cs->seq);
        } else {
            out->unacked++;
            if (b == NULL) {
                continue;
            }
            out->unacked_committed++;
        }
        matched[hit->index]++;
        CHECK_STR(b->owner_id, cs->owner);
        CHECK_EQ(b->ballot_case, STRATA__V1__BALLOT__BALLOT_CHOICE);
        CHECK_EQ(b->choice, cs->choice);
        CHECK_EQ(b->source, STRATA__V1__BALLOT_SOURCE__BALLOT_ONLINE);
        st_record rec;
        CHECK(st_record_decode(&rec, b->record.data, b->record.len, NULL, 0) == ST_OK);
        CHECK(memcmp(rec.sig, cs->sig, 64) == 0);
    }
    for (size_t i = 0; i < n; i++) {
        if (matched[i] != 1) {
            fprintf(stderr, "ballot %zu (owner %s) is not one of the casts made\n", i + 1,
                    hist[i]->owner_id);
        }
        CHECK_EQ(matched[i], 1);
    }
    /* Re-votes: ballots of the history that replaced the owner's earlier one. */
    bool *seen = calloc(v->n_owners, sizeof(*seen));
    CHECK(seen != NULL);
    for (size_t i = 0; i < n; i++) {
        size_t o = 0;
        while (o < v->n_owners && strcmp(v->owners[o]->owner, hist[i]->owner_id) != 0) {
            o++;
        }
        CHECK(o < v->n_owners);
        out->revotes += seen[o];
        seen[o] = true;
    }
    free(seen);
    check_tree_heads(acked, n_acked, hist, n);
    check_real_time(acked, n_acked);
    free(acked);
    free(matched);
    free(ix);
}

void tc_voters_free(tc_voters *v) {
    free(v->all);
    free(v->owners);
    free(v);
}
