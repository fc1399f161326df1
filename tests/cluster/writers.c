/* writers.c - ballot-casting threads for the fault tests and the check of their outcomes
 * against the exported history (writers.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

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
        } else if (st.code != GRPC_STATUS_UNAVAILABLE && st.code != GRPC_STATUS_DEADLINE_EXCEEDED) {
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
