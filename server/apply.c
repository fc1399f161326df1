/* apply.c - helpers shared by the command handlers: refusals and acceptances, loading
 * records, text checks, time formatting, and the vote's tally and election views. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "server/apply.h"
#include "server/codes.h"

int st_refuse(st_apply_ctx *c, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->res->message, sizeof(c->res->message), fmt, ap);
    va_end(ap);
    c->res->code = code;
    c->res->id = 0;
    return 0;
}

int st_accept(st_apply_ctx *c, uint64_t id, const char *kind, uint64_t community_id,
              uint64_t vote_id, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->res->message, ST_SUMMARY_MAX, fmt, ap);
    va_end(ap);
    c->res->code = ST_OK;
    c->res->id = id;
    c->kind = kind;
    c->community_id = community_id;
    c->vote_id = vote_id;
    return 0;
}

int st_load_community(MDB_txn *txn, const st_store *st, uint64_t id, pb_community **out) {
    st_key k = st_key_u64(id);
    return st_msg_get(txn, st_store_dbi(st, ST_DB_COMMUNITIES), &k,
                      &strata__internal__community_record__descriptor, (ProtobufCMessage **)out);
}

int st_load_vote(MDB_txn *txn, const st_store *st, uint64_t id, pb_vote **out) {
    st_key k = st_key_u64(id);
    return st_msg_get(txn, st_store_dbi(st, ST_DB_VOTES), &k,
                      &strata__internal__vote_record__descriptor, (ProtobufCMessage **)out);
}

int st_load_voter(MDB_txn *txn, const st_store *st, uint64_t vote_id, const char *owner,
                  pb_voter **out) {
    *out = NULL;
    if (!st_id_ok(owner)) {
        return MDB_NOTFOUND; /* no such key can exist */
    }
    st_key k = st_key_id_str(vote_id, owner);
    return st_msg_get(txn, st_store_dbi(st, ST_DB_VOTERS), &k,
                      &strata__internal__voter_record__descriptor, (ProtobufCMessage **)out);
}

bool st_text_ok(const char *s) {
    return st_roll_valid_name(s);
}

bool st_id_ok(const char *s) {
    return st_roll_valid_id(s);
}

void st_format_time(uint64_t ms, char *buf, size_t len) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms / 1000 > (uint64_t)253402300799ULL || gmtime_r(&t, &tm) == NULL) {
        snprintf(buf, len, "time_ms %llu", (unsigned long long)ms);
        return;
    }
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

st_vote_state st_vote_state_of(const pb_vote *v) {
    return (st_vote_state)v->state;
}

st_tally st_vote_tally(const pb_vote *v) {
    st_tally t;
    st_tally_init(&t, (st_weight){v->total_area, v->total_owners});
    t.agree = (st_weight){v->agree_area, v->agree_owners};
    t.disagree = (st_weight){v->disagree_area, v->disagree_owners};
    t.abstain = (st_weight){v->abstain_area, v->abstain_owners};
    return t;
}

int st_vote_election(const pb_vote *v, st_election *e) {
    if (v->n_approve_area != v->n_candidates || v->n_approve_owners != v->n_candidates) {
        return ST_ECORRUPT;
    }
    int rc = st_election_init(e, v->seats, (uint32_t)v->n_candidates,
                              (st_weight){v->total_area, v->total_owners});
    if (rc != ST_OK) {
        return rc == ST_ENOMEM ? ST_ENOMEM : ST_ECORRUPT;
    }
    for (size_t i = 0; i < v->n_candidates; i++) {
        e->approve[i] = (st_weight){v->approve_area[i], v->approve_owners[i]};
    }
    e->part = (st_weight){v->part_area, v->part_owners};
    return ST_OK;
}
