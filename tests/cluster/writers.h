/* writers.h - client threads that cast ballots while the fault tests break the cluster, and
 * the check of what they were told against the ballot history the cluster ends with.
 *
 * Every cast is a paper ballot, signed (ballot and request) by the community's organiser,
 * whose 32-byte scan hash is unique to that cast, so each one can be found in
 * ExportBallots. Following writers go to the leader (client.h) and retry
 * UNAVAILABLE / DEADLINE_EXCEEDED with the same request_id for up to retry_ms; pinned
 * writers send each cast once, to one node only, and never retry (the way to see what a
 * particular node answers while it is paused).
 *
 * The online voters (tc_voters_*, below) cast as the owners themselves, with their enrolled
 * keys, and mix in casts that must be refused; their check also follows each receipt's
 * tree head into the final history.
 */
#ifndef STRATA_TESTS_CLUSTER_WRITERS_H
#define STRATA_TESTS_CLUSTER_WRITERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/cluster/steps.h"

typedef struct {
    uint8_t scan[32];
    int owner; /* 1-based: owner "O<owner>" */
    int choice;
    bool pinned;
    int code; /* the final gRPC status */
    int node; /* the node that gave it */
    uint64_t seq;
    uint64_t start_ms, end_ms;
} tc_cast_rec;

typedef struct tc_writers tc_writers;

/* group: a number (0..7) that keeps the casts of groups writing at once apart. The world
 * (borrowed until tc_writers_stop) holds the community's organiser key. */
tc_writers *tc_writers_start(tc_client *cl, const tc_world *w, uint64_t community, uint64_t vote,
                             int owners, int group, int n_follow, int retry_ms, int n_pinned,
                             int pin_node, int attempt_ms);
/* Casts acknowledged so far (any thread). */
size_t tc_writers_acked(tc_writers *w);
/* Stops and joins the threads. */
void tc_writers_stop(tc_writers *w);
/* Every cast made, after stop (owned by w). */
const tc_cast_rec *tc_writers_casts(tc_writers *w, size_t *n);
/* Checks the casts of every group ws[0..nw) (all writing to the vote) against the vote's
 * complete history: each acknowledged cast is in it exactly once, at the sequence number it
 * was told, with its owner and choice; every other cast at most once; no ballot of the
 * history is unaccounted for. Returns how many casts that were not acknowledged were
 * committed anyway. */
size_t tc_writers_verify(tc_writers **ws, size_t nw, Strata__V1__Ballot **hist, size_t n);
void tc_writers_free(tc_writers *w);

/* ---- online voters ----
 * Threads casting ONLINE ballots for a community's enrolled owners, each ballot and its
 * request signed by the owner's own device key (the tc_world's), owners voting again at
 * random (the last ballot counts). Thread t casts for the enrolled owners i with
 * i % threads == t, so one owner's ballots go one after the other. Casts follow the leader
 * and retry UNAVAILABLE / DEADLINE_EXCEEDED with the same request_id for up to retry_ms.
 * Every receipt is checked offline against the trusted node keys as it arrives. The first
 * hasty_threads threads give their good casts up after hasty_ms instead: theirs are the
 * unacknowledged casts that may or may not be committed.
 *
 * Mixed in (refuse_pm per mille of the casts) are casts the cluster must refuse and never
 * commit, each with the code it must get: */
typedef enum {
    TC_VOTE_GOOD = 0,
    TC_VOTE_OTHER_KEY, /* another enrolled owner's key signs ballot and request: PERMISSION_DENIED
                        */
    TC_VOTE_BAD_SIG, /* the owner's key, one bit of the ballot signature flipped: UNAUTHENTICATED */
    TC_VOTE_OFF_ROLL,    /* for an owner id that is not on the roll: NOT_FOUND */
    TC_VOTE_UNKNOWN_KEY, /* a key that was never enrolled signs: UNAUTHENTICATED */
    TC_VOTE_REPLAY, /* an acknowledged ballot's signed bytes again, new request id: ALREADY_EXISTS
                     */
    TC_VOTE_KINDS
} tc_vote_kind;

/* The name of a kind ("good", "other-key", ...). */
const char *tc_vote_kind_name(int kind);

typedef struct {
    uint8_t nonce[16]; /* the ballot's nonce: how it is found in the history */
    uint8_t sig[64];   /* the ballot signature sent (flipped for TC_VOTE_BAD_SIG) */
    uint8_t root[32];  /* acknowledged: the root of the tree head in its receipt */
    uint64_t tree_size;
    uint64_t seq;              /* acknowledged: the seq told; a replay: the original's seq */
    uint64_t start_us, end_us; /* monotonic, around the whole call with its retries */
    char owner[16];            /* the owner id the ballot is for */
    uint8_t kind, choice;
    bool hasty; /* a good cast retried for hasty_ms only */
    int code;   /* the final gRPC status */
    int node;   /* the node that gave it */
} tc_vote_rec;

typedef struct {
    int threads; /* 1..16 */
    int retry_ms;
    int refuse_pm;     /* casts that must be refused, per mille */
    int hasty_threads; /* threads whose good casts give up after hasty_ms */
    int hasty_ms;
    unsigned think_ms;          /* each thread pauses 0..2*think_ms between casts */
    uint64_t seed;              /* the choices, owners and kinds drawn */
    const st_trusted_key *keys; /* receipts are verified with these (borrowed) */
    size_t n_keys;
} tc_voters_opts;

typedef struct tc_voters tc_voters;

typedef struct {
    size_t casts;
    size_t acked;              /* good casts told OK */
    size_t refused;            /* casts that must be refused and were, with the right code */
    size_t refused_unresolved; /* such casts whose retries ran out (and that are absent) */
    size_t hasty;              /* good casts that were to give up after hasty_ms */
    size_t unacked;            /* good casts never told OK */
    size_t unacked_committed;  /* of those, in the history anyway */
    size_t revotes;            /* ballots of the history that replaced the owner's earlier one */
    size_t by_kind[TC_VOTE_KINDS];
} tc_voters_counts;

/* Starts the threads; the world (borrowed until tc_voters_stop) holds the owners' keys. */
tc_voters *tc_voters_start(tc_client *cl, const tc_world *w, uint64_t community, uint64_t vote,
                           const tc_voters_opts *o);
/* Good casts acknowledged so far (any thread). */
size_t tc_voters_acked(tc_voters *v);
/* Stops and joins the threads. */
void tc_voters_stop(tc_voters *v);
/* Every cast made, after stop (owned by v). */
const tc_vote_rec *tc_voters_casts(tc_voters *v, size_t *n);
/* Checks every cast against the vote's complete history hist[0..n) (ExportBallots, after
 * stop): the history is numbered 1..n and no ballot nonce is in it twice; each
 * acknowledged cast is in it exactly once, at the seq it was told, with its owner, choice
 * and signature, and the tree head of its receipt is the root of the history's first
 * tree_size records; no cast that had to be refused is in it (a replay only as its
 * original); every ballot in it is one of the good casts, acknowledged or not; and a cast
 * acknowledged before another one started has the lower seq. Fills *out. */
void tc_voters_verify(tc_voters *v, Strata__V1__Ballot **hist, size_t n, tc_voters_counts *out);
void tc_voters_free(tc_voters *v);

#endif
