/* bundle_fixture.h - a synthetic, correctly signed audit bundle for tests and benchmarks
 * (tests/client/test_bundle.c, tests/bench/bench_verify.c): a roll, one owner key per owner
 * (derived from the owner id, so runs are repeatable), the ballots signed as a node would log
 * them, the vote's Merkle log with a tree head signed by a node key, and the result counted
 * with core/, written with the same writer `strata audit export` uses (client/audit/bundle.h).
 * A test fixture only: it is not how a cluster makes a bundle.
 */
#ifndef STRATA_TESTS_CLIENT_BUNDLE_FIXTURE_H
#define STRATA_TESTS_CLIENT_BUNDLE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/roll.h"
#include "core/tally.h"

#define FIXTURE_VOTE 7
#define FIXTURE_COMMUNITY 1
#define FIXTURE_NODE 2

/* One ballot: owner and choice (core/tally.h), entered on paper by the organiser or cast
 * online by the owner's key. */
typedef struct {
    const char *owner;
    int choice;
    bool paper;
} fixture_ballot;

/* Writes a published matter-4 vote to dir (which must not exist). ST_OK or an error code
 * with a message on stderr. progress: print a dot every 10,000 ballots. */
int fixture_write(const char *dir, const st_unit *units, size_t n_units, const fixture_ballot *b,
                  size_t n_ballots, bool progress);

/* The roll of DOMAIN.md's worked example (tests/data/example-roll.csv), 12 units, names
 * masked as the public sees them. */
extern const st_unit fixture_example_units[12];

/* DOMAIN.md's ballots: O1 O2 O4 O6 O7 O9 agree, O3 and DEV disagree, O5 abstains (entered
 * on paper by the organiser here), O8 does not vote; O3 first agrees, then replaces it. */
#define FIXTURE_EXAMPLE_BALLOTS 10
extern const fixture_ballot fixture_example_ballots[FIXTURE_EXAMPLE_BALLOTS];

#endif
