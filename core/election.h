/* election.h - committee elections (matter 3): approval voting for up to `seats`
 * candidates, the ordinary threshold per candidate, ranking and run-off ties.
 *
 * Rules (DOMAIN.md):
 *   - seats: 5 to 11, odd;
 *   - each participating owner approves 0..seats distinct candidates (0 = abstain);
 *   - quorum as for every matter; without it nobody is elected;
 *   - a candidate qualifies when 2*approve > part by area AND by owners;
 *   - qualified candidates rank by approving owners, then approving area (descending);
 *   - the top `seats` are elected; if the last seat is tied (same owners and area) with
 *     the next qualified candidate, every candidate sharing that tied weight goes to a
 *     run-off and is not elected; the tie is never broken silently.
 */
#ifndef STRATA_CORE_ELECTION_H
#define STRATA_CORE_ELECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tally.h"

#define ST_SEATS_MIN 5
#define ST_SEATS_MAX 11
#define ST_CANDIDATES_MAX 64

typedef enum {
    ST_CAND_NOT_ELECTED = 0,
    ST_CAND_ELECTED = 1,
    ST_CAND_RUNOFF = 2 /* tied at the last seat: needs a run-off */
} st_cand_outcome;

typedef struct {
    uint32_t candidate; /* index into the election's candidate list */
    st_weight approve;
    bool qualified; /* met the ordinary threshold */
    uint32_t rank;  /* 1-based among qualified (equal weights share a rank); 0 if not */
    st_cand_outcome outcome;
} st_cand_result;

/* The running state of one election. `approve` has `candidates` entries. */
typedef struct {
    uint32_t seats;
    uint32_t candidates;
    st_weight total;
    st_weight part;
    st_weight *approve; /* owned; freed by st_election_free */
} st_election;

bool st_seats_valid(uint32_t seats);

/* Checks one ballot's approval list: at most `seats` entries, each < candidates, no
 * repeats. Writes a sentence into err on failure (ST_EINVAL). */
int st_approvals_check(uint32_t seats, uint32_t candidates, const uint32_t *set, size_t n,
                       char *err, size_t errlen);

int st_election_init(st_election *e, uint32_t seats, uint32_t candidates, st_weight total);
void st_election_free(st_election *e);

/* One voter of `area` replaces ballot (had_old, old set) with (has_new, new set).
 * had_old/has_new say whether a ballot exists at all (an empty set is an abstention).
 * Sets must have passed st_approvals_check. O(seats). */
int st_election_change(st_election *e, int64_t area, bool had_old, const uint32_t *old_set,
                       size_t old_n, bool has_new, const uint32_t *new_set, size_t new_n);

/* Ranks the candidates. out must hold e->candidates entries; it is filled in rank order
 * (qualified first by owners, area; then the rest by the same order; index breaks
 * display ties). *quorum, *elected and *runoff receive the summary. */
void st_election_result(const st_election *e, st_cand_result *out, bool *quorum, uint32_t *elected,
                        uint32_t *runoff);

bool st_election_equal(const st_election *a, const st_election *b);

#endif
