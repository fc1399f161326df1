/* apply_review.c - CertifyVote and DisputeVote: a supervisor's verdict on a published
 * result, appended to the vote's reviews with time, key and reason. Reviews never change
 * the result; they are the audit's record. A vote may be disputed and later certified (or
 * the reverse): every review stays, and the last one gives the vote's review status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "server/apply.h"

static int review(st_apply_ctx *c, uint64_t vote_id, const char *reason,
                  Strata__Internal__ReviewKind kind) {
    bool dispute = kind == STRATA__INTERNAL__REVIEW_KIND__REVIEW_DISPUTE;
    pb_vote *v;
    int rc = st_load_vote(c->txn, c->store, vote_id, &v);
    if (rc == MDB_NOTFOUND) {
        return st_refuse(c, ST_ENOENT, "vote %llu does not exist; check the vote id",
                         (unsigned long long)vote_id);
    }
    if (rc != 0) {
        return rc;
    }
    if (v->state != STRATA__INTERNAL__VOTE_STATE__VOTE_PUBLISHED) {
        rc = st_refuse(c, ST_ESTATE, "vote %llu is %s; only a published result can be %s",
                       (unsigned long long)vote_id, st_vote_state_name(st_vote_state_of(v)),
                       dispute ? "disputed" : "certified");
        st_pb_free(v);
        return rc;
    }
    if (dispute ? !st_text_ok(reason) : reason[0] != '\0' && !st_text_ok(reason)) {
        rc = st_refuse(c, ST_EINVAL, "%s: 1 to %d bytes of text",
                       dispute ? "a dispute needs a reason" : "reason must be empty or",
                       ST_NAME_MAX);
        st_pb_free(v);
        return rc;
    }
    pb_review r = STRATA__INTERNAL__VOTE_REVIEW__INIT;
    r.kind = kind;
    r.time_ms = c->cmd->time_ms;
    r.key_id = c->cmd->actor;
    r.reason = (char *)reason;
    r.index = c->index;
    pb_review **list = malloc((v->n_reviews + 1) * sizeof(*list));
    if (list == NULL) {
        st_pb_free(v);
        return ST_ENOMEM;
    }
    if (v->n_reviews > 0) {
        memcpy(list, v->reviews, v->n_reviews * sizeof(*list));
    }
    list[v->n_reviews] = &r;
    pb_review **old = v->reviews;
    size_t n = v->n_reviews;
    v->reviews = list;
    v->n_reviews = n + 1;
    st_key k = st_key_u64(v->id);
    rc = st_msg_put(c->txn, st_dbi(c, ST_DB_VOTES), &k, &v->base);
    v->reviews = old;
    v->n_reviews = n;
    free(list);
    if (rc == 0) {
        st_accept(c, v->id, dispute ? "vote.dispute" : "vote.certify", v->community_id, v->id,
                  "%s the result of vote %llu%s%.160s", dispute ? "disputed" : "certified",
                  (unsigned long long)v->id, reason[0] ? ": " : "", reason);
    }
    st_pb_free(v);
    return rc;
}

int st_apply_certify_vote(st_apply_ctx *c) {
    return review(c, c->cmd->certify_vote->vote_id, c->cmd->certify_vote->reason,
                  STRATA__INTERNAL__REVIEW_KIND__REVIEW_CERTIFY);
}

int st_apply_dispute_vote(st_apply_ctx *c) {
    return review(c, c->cmd->dispute_vote->vote_id, c->cmd->dispute_vote->reason,
                  STRATA__INTERNAL__REVIEW_KIND__REVIEW_DISPUTE);
}
