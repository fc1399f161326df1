/* tally.h - counting a vote on a matter: participation, quorum and thresholds, by area
 * and by head count, in integers only.
 *
 * The running tally is updated in O(1) per ballot (st_tally_change, which also handles
 * a ballot replacing an earlier one); st_tally_recount() computes the same figures from
 * scratch. The two must always agree; tests check that they do.
 *
 * Rules (DOMAIN.md), all in integers, each to be met by area AND by owners:
 *   quorum:   3*part  >= 2*total
 *   ordinary: 2*agree >  part       (exactly half fails)
 *   special:  4*agree >= 3*part     (exactly three quarters passes)
 * A matter that misses quorum has failed, whatever the split.
 */
#ifndef STRATA_CORE_TALLY_H
#define STRATA_CORE_TALLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/matter.h"

typedef enum {
    ST_CHOICE_NONE = 0, /* no ballot: does not take part */
    ST_CHOICE_AGREE = 1,
    ST_CHOICE_DISAGREE = 2,
    ST_CHOICE_ABSTAIN = 3 /* takes part, agrees to nothing */
} st_choice;

/* A weight counted twice: floor area (1/100 m²) and head count (owners). */
typedef struct {
    int64_t area;
    int64_t owners;
} st_weight;

typedef struct {
    st_weight total; /* of the frozen roll */
    st_weight agree;
    st_weight disagree;
    st_weight abstain;
} st_tally;

typedef struct {
    st_weight part; /* agree + disagree + abstain */
    bool quorum;
    bool passed; /* quorum met and the class threshold met */
} st_decision;

bool st_choice_valid(int c);             /* AGREE, DISAGREE or ABSTAIN */
const char *st_choice_name(st_choice c); /* "agree" ... "none" */
bool st_choice_parse(const char *s, st_choice *out);

void st_tally_init(st_tally *t, st_weight total);

/* One voter of `area` moves from choice `from` to `to` (NONE = no ballot). O(1).
 * ST_EINVAL if a choice is out of range or area < 1; the tally is then unchanged. */
int st_tally_change(st_tally *t, int64_t area, st_choice from, st_choice to);

st_weight st_tally_part(const st_tally *t);
bool st_quorum_met(st_weight part, st_weight total);
bool st_threshold_met(st_class c, st_weight agree, st_weight part);
st_decision st_tally_decide(const st_tally *t, st_class c);

/* From scratch: voter i has areas[i] and choices[i]. ST_EINVAL on a bad choice. */
int st_tally_recount(st_tally *out, st_weight total, const int64_t *areas, const st_choice *choices,
                     size_t n);

bool st_tally_equal(const st_tally *a, const st_tally *b);

#endif
