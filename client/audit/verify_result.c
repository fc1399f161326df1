/* verify_result.c - the recount of an audit bundle and its comparison with result.json:
 * the last ballot of each owner on the frozen roll counts (core/tally.h for a matter,
 * core/election.h for an election), and every key of the published result must hold what
 * the recount gives, no key missing and none added.
 */
#include <stdlib.h>
#include <string.h>

#include "client/audit/json.h"
#include "client/audit/verify_internal.h"
#include "core/error.h"

/* The expected value of one key: an integer, a boolean or a string. */
typedef struct {
    const char *key;
    st_json_type type;
    int64_t i;
    const char *s;
} want;

/* Compares obj against w[0..n): the first difference is reported (at place, e.g.
 * "candidates[2]."). */
static int compare(st_audit_ctx *c, const st_json *obj, const want *w, size_t n,
                   const char *place) {
    const char *F = ST_BUNDLE_RESULT;
    const char *by = "the recount of ballots.log against roll.csv";
    if (obj->type != ST_JSON_OBJECT) {
        return st_audit__found(c, F, 1, "%s is not a JSON object", place[0] ? place : "the result");
    }
    for (size_t k = 0; k < n; k++) {
        const st_json *v = st_json_get(obj, w[k].key);
        if (v == NULL) {
            return st_audit__found(c, F, 1, "\"%s%s\" is missing", place, w[k].key);
        }
        if (v->type != w[k].type) {
            return st_audit__found(c, F, 1, "\"%s%s\" is a JSON %s, expected a %s", place, w[k].key,
                                   st_json_type_name(v->type), st_json_type_name(w[k].type));
        }
        if (w[k].type == ST_JSON_INT && v->i != w[k].i) {
            return st_audit__found(c, F, 1, "\"%s%s\" is %lld, but %s gives %lld", place, w[k].key,
                                   (long long)v->i, by, (long long)w[k].i);
        }
        if (w[k].type == ST_JSON_BOOL && v->b != (w[k].i != 0)) {
            return st_audit__found(c, F, 1, "\"%s%s\" is %s, but %s gives %s", place, w[k].key,
                                   v->b ? "true" : "false", by, w[k].i ? "true" : "false");
        }
        if (w[k].type == ST_JSON_STRING && strcmp(v->s, w[k].s) != 0) {
            return st_audit__found(c, F, 1, "\"%s%s\" is \"%s\", but the bundle says \"%s\"", place,
                                   w[k].key, v->s, w[k].s);
        }
    }
    for (size_t k = 0; k < obj->n; k++) {
        bool known = strcmp(obj->key[k], "candidates") == 0 && place[0] == '\0' && c->election;
        for (size_t j = 0; j < n && !known; j++) {
            known = strcmp(obj->key[k], w[j].key) == 0;
        }
        if (!known) {
            return st_audit__found(c, F, 1, "unexpected key \"%s%s\"", place, obj->key[k]);
        }
    }
    return ST_OK;
}

#define INT(k, v)                                                                                  \
    { k, ST_JSON_INT, (int64_t)(v), NULL }
#define BOOL(k, v)                                                                                 \
    { k, ST_JSON_BOOL, (v) ? 1 : 0, NULL }
#define STR(k, v)                                                                                  \
    { k, ST_JSON_STRING, 0, v }

static int compare_top(st_audit_ctx *c, const st_json *obj, const st_tally *t, const st_decision *d,
                       uint32_t elected, uint32_t runoff) {
    const char *cls = st_class_name(st_matter_class((int)c->matter));
    want w[] = {
        INT("vote_id", c->vote_id),
        INT("matter", c->matter),
        STR("state", c->state),
        STR("class", cls),
        INT("total_area", t->total.area),
        INT("total_owners", t->total.owners),
        INT("part_area", d->part.area),
        INT("part_owners", d->part.owners),
        INT("agree_area", t->agree.area),
        INT("agree_owners", t->agree.owners),
        INT("disagree_area", t->disagree.area),
        INT("disagree_owners", t->disagree.owners),
        INT("abstain_area", t->abstain.area),
        INT("abstain_owners", t->abstain.owners),
        BOOL("quorum", d->quorum),
        BOOL("passed", d->passed),
        INT("ballot_count", c->n_ballots),
        BOOL("stale", false),
        INT("seats", c->seats),
        INT("elected", elected),
        INT("runoff", runoff),
    };
    return compare(c, obj, w, c->election ? 21 : 18, "");
}

static int compare_candidates(st_audit_ctx *c, const st_json *obj, const st_cand_result *res) {
    const st_json *arr = st_json_get(obj, "candidates");
    if (arr == NULL || arr->type != ST_JSON_ARRAY) {
        return st_audit__found(c, ST_BUNDLE_RESULT, 1, "\"candidates\" is missing or not a list");
    }
    if (arr->n != c->n_candidates) {
        return st_audit__found(c, ST_BUNDLE_RESULT, 1,
                               "\"candidates\" lists %zu, but the election has %zu", arr->n,
                               c->n_candidates);
    }
    for (size_t i = 0; i < arr->n; i++) {
        const st_cand_result *r = &res[i];
        char place[48];
        snprintf(place, sizeof(place), "candidates[%zu].", i);
        want w[] = {
            INT("candidate", r->candidate),
            STR("name", c->candidates[r->candidate]),
            INT("approve_area", r->approve.area),
            INT("approve_owners", r->approve.owners),
            BOOL("qualified", r->qualified),
            INT("rank", r->rank),
            STR("outcome", st_result_outcome_name(r->outcome)),
        };
        int rc = compare(c, &arr->item[i], w, sizeof(w) / sizeof(w[0]), place);
        if (rc != ST_OK) {
            return rc;
        }
    }
    return ST_OK;
}

/* Index of each voter's last ballot (SIZE_MAX: none) into last[]. */
static void last_ballots(const st_audit_ctx *c, size_t *last, size_t nv) {
    for (size_t v = 0; v < nv; v++) {
        last[v] = SIZE_MAX;
    }
    for (size_t i = 0; i < c->n_ballots; i++) {
        long v = st_roll_find_voter(c->roll, c->ballot[i].rec.ballot.owner_id);
        if (v >= 0) {
            last[v] = i;
        }
    }
}

static int recount_matter(st_audit_ctx *c, const size_t *last, size_t nv, st_tally *t,
                          st_decision *d) {
    int64_t *areas = malloc(nv * sizeof(*areas));
    st_choice *choices = malloc(nv * sizeof(*choices));
    int rc = areas != NULL && choices != NULL ? ST_OK : ST_ENOMEM;
    for (size_t v = 0; rc == ST_OK && v < nv; v++) {
        areas[v] = st_roll_voter(c->roll, v)->area;
        choices[v] =
            last[v] == SIZE_MAX ? ST_CHOICE_NONE : (st_choice)c->ballot[last[v]].rec.ballot.choice;
        c->rep->voters += last[v] != SIZE_MAX;
    }
    st_weight total = {st_roll_total_area(c->roll), st_roll_total_owners(c->roll)};
    if (rc == ST_OK) {
        rc = st_tally_recount(t, total, areas, choices, nv);
    }
    free(areas);
    free(choices);
    if (rc != ST_OK) {
        return st_audit__trouble(c, rc, ST_BUNDLE_BALLOTS, "the recount failed");
    }
    *d = st_tally_decide(t, st_matter_class((int)c->matter));
    return ST_OK;
}

int st_audit__check_result(st_audit_ctx *c) {
    size_t nv = st_roll_voter_count(c->roll);
    size_t *last = malloc((nv > 0 ? nv : 1) * sizeof(*last));
    if (last == NULL) {
        return st_audit__trouble(c, ST_ENOMEM, ST_BUNDLE_RESULT, "out of memory");
    }
    if (c->o->progress != NULL) {
        c->o->progress(c->o->ctx, "recount", 0, c->n_ballots);
    }
    last_ballots(c, last, nv);
    st_tally t;
    st_decision d;
    memset(&t, 0, sizeof(t));
    memset(&d, 0, sizeof(d));
    st_weight total = {st_roll_total_area(c->roll), st_roll_total_owners(c->roll)};
    st_cand_result *res = NULL;
    uint32_t elected = 0, runoff = 0;
    int rc = ST_OK;
    if (!c->election) {
        rc = recount_matter(c, last, nv, &t, &d);
    } else {
        st_election e;
        rc = st_election_init(&e, c->seats, (uint32_t)c->n_candidates, total);
        res = calloc(c->n_candidates, sizeof(*res));
        if (rc == ST_OK && res == NULL) {
            rc = ST_ENOMEM;
        }
        for (size_t v = 0; rc == ST_OK && v < nv; v++) {
            if (last[v] != SIZE_MAX) {
                const st_ballot *b = &c->ballot[last[v]].rec.ballot;
                rc = st_election_change(&e, st_roll_voter(c->roll, v)->area, false, NULL, 0, true,
                                        b->approvals, b->n_approvals);
                c->rep->voters++;
            }
        }
        if (rc == ST_OK) {
            st_tally_init(&t, total);
            d.part = e.part;
            st_election_result(&e, res, &d.quorum, &elected, &runoff);
        }
        st_election_free(&e);
        if (rc != ST_OK) {
            rc = st_audit__trouble(c, rc, ST_BUNDLE_BALLOTS, "the election recount failed");
        }
    }
    free(last);
    c->rep->tally = t;
    c->rep->decision = d;
    st_json *j = NULL;
    char msg[256];
    if (rc == ST_OK) {
        int jr = st_json_parse(c->buf[VF_RESULT], c->len[VF_RESULT], &j, msg, sizeof(msg));
        if (jr == ST_ENOMEM) {
            rc = st_audit__trouble(c, jr, ST_BUNDLE_RESULT, "out of memory");
        } else if (jr != ST_OK) {
            rc = st_audit__found(c, ST_BUNDLE_RESULT, 1, "not valid JSON: %s", msg);
        }
    }
    if (rc == ST_OK) {
        rc = compare_top(c, j, &t, &d, elected, runoff);
    }
    if (rc == ST_OK && c->election) {
        rc = compare_candidates(c, j, res);
    }
    st_json_free(j);
    free(res);
    return rc;
}
