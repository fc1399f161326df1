/* result_vote.c - a vote as the service answers it (Strata__V1__Vote) turned into the
 * st_result that `strata vote result --json` prints and the audit bundle stores, and the
 * names of vote states.
 */
#include <string.h>

#include "client/lib/internal.h"

const char *st_vote_state_name(int state) {
    static const char *const names[] = {"unspecified", "draft",  "noticed",
                                        "open",        "closed", "published"};
    return state >= 0 && state <= 5 ? names[state] : "unknown";
}

void st_result_of_vote(const Strata__V1__Vote *v, bool stale, st_result *out,
                       st_result_candidate cands[ST_CANDIDATES_MAX]) {
    static const Strata__V1__Tally empty = STRATA__V1__TALLY__INIT;
    const Strata__V1__Tally *t = v->tally != NULL ? v->tally : &empty;
    memset(out, 0, sizeof(*out));
    out->vote_id = v->id;
    out->matter = v->matter;
    out->state = st_vote_state_name((int)v->state);
    out->tally.total = (st_weight){t->total_area, t->total_owners};
    out->tally.agree = (st_weight){t->agree_area, t->agree_owners};
    out->tally.disagree = (st_weight){t->disagree_area, t->disagree_owners};
    out->tally.abstain = (st_weight){t->abstain_area, t->abstain_owners};
    out->decision.part = (st_weight){t->part_area, t->part_owners};
    out->decision.quorum = t->quorum;
    out->decision.passed = t->passed;
    out->ballot_count = v->ballot_count;
    out->stale = stale;
    out->seats = v->seats;
    out->elected = v->elected;
    out->runoff = v->runoff;
    size_t n = v->n_standing < ST_CANDIDATES_MAX ? v->n_standing : ST_CANDIDATES_MAX;
    for (size_t i = 0; i < n; i++) {
        const Strata__V1__CandidateResult *cr = v->standing[i];
        cands[i].candidate = cr->candidate;
        cands[i].name = cr->name;
        cands[i].approve = (st_weight){cr->approve_area, cr->approve_owners};
        cands[i].qualified = cr->qualified;
        cands[i].rank = cr->rank;
        cands[i].outcome = (int)cr->outcome;
    }
    out->n_candidates = n;
    out->candidates = cands;
}
