/* tally.c - the running tally of a vote, its from-scratch recount, and the art. 278
 * quorum and threshold rules, all in integer arithmetic. */
#include <string.h>

#include "core/error.h"
#include "core/tally.h"

bool st_choice_valid(int c) {
    return c == ST_CHOICE_AGREE || c == ST_CHOICE_DISAGREE || c == ST_CHOICE_ABSTAIN;
}

const char *st_choice_name(st_choice c) {
    switch (c) {
    case ST_CHOICE_AGREE:
        return "agree";
    case ST_CHOICE_DISAGREE:
        return "disagree";
    case ST_CHOICE_ABSTAIN:
        return "abstain";
    default:
        return "none";
    }
}

bool st_choice_parse(const char *s, st_choice *out) {
    static const st_choice all[] = {ST_CHOICE_AGREE, ST_CHOICE_DISAGREE, ST_CHOICE_ABSTAIN};
    for (size_t i = 0; s != NULL && i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(s, st_choice_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    }
    return false;
}

void st_tally_init(st_tally *t, st_weight total) {
    memset(t, 0, sizeof(*t));
    t->total = total;
}

static st_weight *bucket(st_tally *t, st_choice c) {
    switch (c) {
    case ST_CHOICE_AGREE:
        return &t->agree;
    case ST_CHOICE_DISAGREE:
        return &t->disagree;
    case ST_CHOICE_ABSTAIN:
        return &t->abstain;
    default:
        return NULL;
    }
}

int st_tally_change(st_tally *t, int64_t area, st_choice from, st_choice to) {
    if (area < 1 || (from != ST_CHOICE_NONE && !st_choice_valid((int)from)) ||
        (to != ST_CHOICE_NONE && !st_choice_valid((int)to))) {
        return ST_EINVAL;
    }
    st_weight *out = bucket(t, from), *in = bucket(t, to);
    if (out != NULL) {
        out->area -= area;
        out->owners -= 1;
    }
    if (in != NULL) {
        in->area += area;
        in->owners += 1;
    }
    return ST_OK;
}

st_weight st_tally_part(const st_tally *t) {
    return (st_weight){t->agree.area + t->disagree.area + t->abstain.area,
                       t->agree.owners + t->disagree.owners + t->abstain.owners};
}

bool st_quorum_met(st_weight part, st_weight total) {
    return 3 * part.area >= 2 * total.area && 3 * part.owners >= 2 * total.owners;
}

bool st_threshold_met(st_class c, st_weight agree, st_weight part) {
    if (c == ST_CLASS_SPECIAL) {
        return 4 * agree.area >= 3 * part.area && 4 * agree.owners >= 3 * part.owners;
    }
    return 2 * agree.area > part.area && 2 * agree.owners > part.owners;
}

st_decision st_tally_decide(const st_tally *t, st_class c) {
    st_decision d;
    d.part = st_tally_part(t);
    d.quorum = st_quorum_met(d.part, t->total);
    /* Nobody taking part cannot pass, even where 4*0 >= 3*0 would say so. */
    d.passed = d.quorum && d.part.owners > 0 && st_threshold_met(c, t->agree, d.part);
    return d;
}

int st_tally_recount(st_tally *out, st_weight total, const int64_t *areas, const st_choice *choices,
                     size_t n) {
    st_tally t;
    st_tally_init(&t, total);
    for (size_t i = 0; i < n; i++) {
        if (choices[i] == ST_CHOICE_NONE) {
            continue;
        }
        st_weight *b = bucket(&t, choices[i]);
        if (b == NULL || areas[i] < 1) {
            return ST_EINVAL;
        }
        b->area += areas[i];
        b->owners += 1;
    }
    *out = t;
    return ST_OK;
}

bool st_tally_equal(const st_tally *a, const st_tally *b) {
    return a->total.area == b->total.area && a->total.owners == b->total.owners &&
           a->agree.area == b->agree.area && a->agree.owners == b->agree.owners &&
           a->disagree.area == b->disagree.area && a->disagree.owners == b->disagree.owners &&
           a->abstain.area == b->abstain.area && a->abstain.owners == b->abstain.owners;
}
