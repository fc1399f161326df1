/* writers.h - client threads that cast ballots while the fault tests break the cluster, and
 * the check of what they were told against the ballot history the cluster ends with.
 *
 * Every cast is a paper ballot, signed (ballot and request) by the community's organiser,
 * whose 32-byte scan hash is unique to that cast, so each one can be found in
 * ExportBallots. Following writers go to the leader (client.h) and retry
 * UNAVAILABLE / DEADLINE_EXCEEDED with the same request_id for up to retry_ms; pinned
 * writers send each cast once, to one node only, and never retry (the way to see what a
 * particular node answers while it is paused).
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

#endif
