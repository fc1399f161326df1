/* bench_strata.h - what strata-bench does with a Strata cluster, all through libstrata:
 * the world a vote needs (Genesis and node registration unless the cluster has them, a
 * community, its organiser, a roll of one unit per owner, every owner's device key enrolled
 * with an organiser's code), votes opened for ballots, pre-built signed ballots cast by
 * concurrent clients (bench_load.h), and the other measurements: roll import, result
 * reads, the audit bundle and its offline verification, a wiped follower's catch-up.
 *
 * Every step checks what it is told (the receipt of each ballot promises the record that
 * was signed, the tally counts every ballot, the bundle verifies): a figure is only printed
 * for work that was done right.
 */
#ifndef STRATA_TESTS_BENCH_STRATA_H
#define STRATA_TESTS_BENCH_STRATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/strata.h"
#include "tests/bench/bench_cluster.h"
#include "tests/bench/bench_report.h"

typedef struct bs_world bs_world;

typedef struct {
    bc_cluster *cluster;
    size_t owners;            /* enrolled owners, ballots are spread over them */
    unsigned concurrency;     /* for enrollment too */
    const char *operator_key; /* key files of an existing cluster (NULL: Genesis here) */
    const char *supervisor_key;
    bool verbose;
} bs_options;

/* Waits for a ready leader, then sets the world up (see the top). NULL on failure (the
 * reason on stderr). */
bs_world *bs_setup(const bs_options *o);
void bs_free(bs_world *w);

/* The index (in the cluster) of the node that reports itself ready leader, waiting up to
 * timeout_ms; -1 when none. */
int bs_leader(bs_world *w, int timeout_ms);

/* A new vote (matter 4, ordinary) noticed and opened by the organiser; 0 on failure. */
uint64_t bs_open_vote(bs_world *w, const char *title);

/* The request bytes of a typical ballot: the CastBallotRequest message, and the signed
 * envelope sent with it as metadata. */
void bs_ballot_bytes(bs_world *w, size_t *message, size_t *envelope);

/* Casts n pre-built ballots (owner i % owners, choices spread) into vote with concurrency
 * requests in flight; fills *out (CPU and peak RSS of the nodes). perf_data: when not NULL,
 * `perf record -g` samples the leader into that file during the cast. Then checks that the
 * vote counts ballots_before + n ballots. 0 when every ballot was accepted with a right
 * receipt. */
int bs_cast(bs_world *w, uint64_t vote, size_t n, unsigned concurrency, uint64_t ballots_before,
            const char *perf_data, br_side *out);

/* Imports a generated roll of units units into a new community; the seconds it took. */
int bs_roll_import(bs_world *w, size_t units, double *secs);

/* reads sequential GetVote calls of vote: linearizable (the leader) or stale (a follower). */
int bs_read_latency(bs_world *w, uint64_t vote, bool stale, unsigned reads, br_read *out);

/* Closes and publishes vote, exports its audit bundle into dir (new), verifies it offline
 * on every core. Fills the audit figures of *g. */
int bs_audit(bs_world *w, uint64_t vote, const char *dir, br_figures *g);

/* Stops a follower, wipes its data (its key kept), starts it empty, and times how long it
 * takes to apply up to the leader's commit index. Fills the catch-up figures of *g. */
int bs_catchup(bs_world *w, br_figures *g);

/* The largest peak RSS (VmHWM) among the running nodes, MiB; -1 when unknown. */
double bs_peak_rss_mb(bs_world *w);
/* The largest anonymous resident memory (RssAnon, now) among the running nodes, MiB. */
double bs_anon_rss_mb(bs_world *w);

#endif
