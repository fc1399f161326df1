/* election.c - committee elections: running approval counts per candidate, the
 * per-candidate ordinary threshold, ranking, and run-off detection at the last seat. */
#include <stdlib.h>
#include <string.h>

#include "core/election.h"
#include "core/error.h"

bool st_seats_valid(uint32_t seats) {
    return seats >= ST_SEATS_MIN && seats <= ST_SEATS_MAX && seats % 2 == 1;
}

int st_approvals_check(uint32_t seats, uint32_t candidates, const uint32_t *set, size_t n,
                       char *err, size_t errlen) {
    if (n > seats) {
        return st_fail(err, errlen, ST_EINVAL,
                       "a ballot approves %zu candidates but this election has %u seats; "
                       "approve at most %u",
                       n, seats, seats);
    }
    for (size_t i = 0; i < n; i++) {
        if (set[i] >= candidates) {
            return st_fail(err, errlen, ST_EINVAL,
                           "candidate %u does not exist; this election has candidates 0 to %u",
                           set[i], candidates ? candidates - 1 : 0);
        }
        for (size_t j = 0; j < i; j++) {
            if (set[j] == set[i]) {
                return st_fail(err, errlen, ST_EINVAL,
                               "candidate %u is approved twice on one ballot", set[i]);
            }
        }
    }
    return ST_OK;
}

int st_election_init(st_election *e, uint32_t seats, uint32_t candidates, st_weight total) {
    memset(e, 0, sizeof(*e));
    if (!st_seats_valid(seats) || candidates == 0 || candidates > ST_CANDIDATES_MAX) {
        return ST_EINVAL;
    }
    e->approve = calloc(candidates, sizeof(*e->approve));
    if (e->approve == NULL) {
        return ST_ENOMEM;
    }
    e->seats = seats;
    e->candidates = candidates;
    e->total = total;
    return ST_OK;
}

void st_election_free(st_election *e) {
    free(e->approve);
    e->approve = NULL;
}

int st_election_change(st_election *e, int64_t area, bool had_old, const uint32_t *old_set,
                       size_t old_n, bool has_new, const uint32_t *new_set, size_t new_n) {
    if (area < 1 ||
        (had_old && st_approvals_check(e->seats, e->candidates, old_set, old_n, NULL, 0)) ||
        (has_new && st_approvals_check(e->seats, e->candidates, new_set, new_n, NULL, 0))) {
        return ST_EINVAL;
    }
    if (had_old) {
        e->part.area -= area;
        e->part.owners -= 1;
        for (size_t i = 0; i < old_n; i++) {
            e->approve[old_set[i]].area -= area;
            e->approve[old_set[i]].owners -= 1;
        }
    }
    if (has_new) {
        e->part.area += area;
        e->part.owners += 1;
        for (size_t i = 0; i < new_n; i++) {
            e->approve[new_set[i]].area += area;
            e->approve[new_set[i]].owners += 1;
        }
    }
    return ST_OK;
}

/* Descending by (qualified, owners, area), then ascending by index for a stable display. */
static int cmp_result(const void *pa, const void *pb) {
    const st_cand_result *a = pa, *b = pb;
    if (a->qualified != b->qualified) {
        return a->qualified ? -1 : 1;
    }
    if (a->approve.owners != b->approve.owners) {
        return a->approve.owners > b->approve.owners ? -1 : 1;
    }
    if (a->approve.area != b->approve.area) {
        return a->approve.area > b->approve.area ? -1 : 1;
    }
    return a->candidate < b->candidate ? -1 : a->candidate > b->candidate;
}

static bool same_weight(st_weight a, st_weight b) {
    return a.area == b.area && a.owners == b.owners;
}

void st_election_result(const st_election *e, st_cand_result *out, bool *quorum, uint32_t *elected,
                        uint32_t *runoff) {
    bool q = st_quorum_met(e->part, e->total);
    uint32_t n = e->candidates, nqual = 0;
    for (uint32_t i = 0; i < n; i++) {
        out[i] = (st_cand_result){.candidate = i, .approve = e->approve[i]};
        out[i].qualified =
            q && e->part.owners > 0 && st_threshold_met(ST_CLASS_ORDINARY, e->approve[i], e->part);
        nqual += out[i].qualified;
    }
    qsort(out, n, sizeof(*out), cmp_result);
    for (uint32_t i = 0; i < nqual; i++) {
        bool tied_with_prev = i > 0 && same_weight(out[i].approve, out[i - 1].approve);
        out[i].rank = tied_with_prev ? out[i - 1].rank : i + 1;
    }
    uint32_t won = 0, tied = 0;
    if (nqual <= e->seats) {
        for (uint32_t i = 0; i < nqual; i++) {
            out[i].outcome = ST_CAND_ELECTED;
        }
        won = nqual;
    } else {
        /* The weight at the last seat; a tie exists if the first loser shares it. */
        st_weight last = out[e->seats - 1].approve;
        bool tie = same_weight(out[e->seats].approve, last);
        for (uint32_t i = 0; i < nqual; i++) {
            if (tie && same_weight(out[i].approve, last)) {
                out[i].outcome = ST_CAND_RUNOFF;
                tied++;
            } else if (i < e->seats) {
                out[i].outcome = ST_CAND_ELECTED;
                won++;
            }
        }
    }
    *quorum = q;
    *elected = won;
    *runoff = tied;
}

bool st_election_equal(const st_election *a, const st_election *b) {
    if (a->seats != b->seats || a->candidates != b->candidates ||
        !same_weight(a->total, b->total) || !same_weight(a->part, b->part)) {
        return false;
    }
    for (uint32_t i = 0; i < a->candidates; i++) {
        if (!same_weight(a->approve[i], b->approve[i])) {
            return false;
        }
    }
    return true;
}
