/* result.h - a vote's published result as one JSON object: the keys of `strata tally
 * --json` (the counts, by area and by owners) plus the vote's identity, state and, for an
 * election, its candidates. `strata vote result --json` prints it, the audit bundle stores it
 * as result.json, and the bundle's verifier rebuilds it from a recount and compares.
 *
 * Integers only. Strings are written as JSON string literals with ", \ and control
 * characters escaped; other UTF-8 passes through unchanged.
 */
#ifndef STRATA_CLIENT_AUDIT_RESULT_H
#define STRATA_CLIENT_AUDIT_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/election.h"
#include "core/matter.h"
#include "core/tally.h"

/* One candidate of an election, in rank order. */
typedef struct st_result_candidate {
    uint32_t candidate; /* index into the vote's candidate list */
    const char *name;   /* borrowed */
    st_weight approve;
    bool qualified;
    uint32_t rank; /* 1-based among qualified; 0 if not qualified */
    int outcome;   /* st_cand_outcome */
} st_result_candidate;

/* A result. Plain value; the strings and the candidate array are borrowed. */
typedef struct st_result {
    uint64_t vote_id;
    uint32_t matter;
    const char *state; /* "open", "closed", "published", ... */
    st_tally tally;    /* matter votes; elections: total only */
    st_decision decision;
    uint64_t ballot_count;
    bool stale;
    /* elections (matter 3) */
    uint32_t seats, elected, runoff;
    size_t n_candidates;
    const st_result_candidate *candidates;
} st_result;

/* "elected", "runoff", "not_elected". */
const char *st_result_outcome_name(int outcome);

/* Writes s as a JSON string literal, quotes included. */
void st_json_string(FILE *out, const char *s);

/* The members shared with `strata tally --json`, from "total_area" to "passed", without
 * braces: total_area, total_owners, part_area, part_owners, agree_area, agree_owners,
 * disagree_area, disagree_owners, abstain_area, abstain_owners, quorum, passed. */
void st_json_count(FILE *out, const st_tally *t, const st_decision *d);

/* The whole object on one line and a newline:
 *   {"vote_id","matter","state","class", the members above, "ballot_count","stale"
 *    [, "seats","elected","runoff","candidates":[{"candidate","name","approve_area",
 *       "approve_owners","qualified","rank","outcome"}...]]}  (elections only) */
void st_result_json(FILE *out, const st_result *r);

#endif
