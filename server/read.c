/* read.c - the state machine's reads: communities, units, votes, ballots, recounts and
 * the event trail. Each runs in its own LMDB read transaction, so it may run on any
 * thread while apply() writes, and sees the state as of the last committed command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "crypto/merkle.h"
#include "server/apply.h"
#include "server/codes.h"
#include "server/state.h"

typedef struct {
    st_store *st;
    MDB_txn *txn;
} reader;

static int read_begin(st_state *s, reader *r) {
    r->st = st_state_store(s);
    return st_store_txn_begin(r->st, MDB_RDONLY, &r->txn);
}

/* Ends the read and turns the storage code into an st_ code. */
static int read_end(reader *r, int rc) {
    st_store_txn_end(r->st, r->txn, false);
    return st_code_from_mdb(rc);
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p != NULL) {
        memcpy(p, s, n);
    }
    return p;
}

/* Calls fn for every key starting with the 8 bytes of prefix (in key order), with the
 * value; stops when fn returns non-zero (rc from fn is returned if it is negative). */
typedef int (*scan_fn)(void *ctx, const MDB_val *k, const MDB_val *v);

static int scan_prefix(MDB_txn *txn, MDB_dbi dbi, const st_key *from, size_t prefix_len, scan_fn fn,
                       void *ctx) {
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        return rc;
    }
    MDB_val k = st_key_val(from), v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < prefix_len || memcmp(k.mv_data, from->b, prefix_len) != 0) {
            break;
        }
        int frc = fn(ctx, &k, &v);
        if (frc != 0) {
            rc = frc < 0 ? frc : 0;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---- communities and units ---- */

void st_community_info_free(st_community_info *c) {
    if (c != NULL) {
        free(c->name);
        free(c->street);
        free(c);
    }
}

int st_state_get_community(st_state *s, uint64_t id, st_community_info **out) {
    reader r;
    int rc = read_begin(s, &r);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    pb_community *com;
    rc = st_load_community(r.txn, r.st, id, &com);
    if (rc != 0) {
        return read_end(&r, rc);
    }
    st_community_info *c = calloc(1, sizeof(*c));
    if (c != NULL) {
        c->name = dup_str(com->name);
        c->street = dup_str(com->street);
    }
    if (c == NULL || c->name == NULL || c->street == NULL) {
        st_community_info_free(c);
        st_pb_free(com);
        return read_end(&r, ST_ENOMEM);
    }
    c->id = com->id;
    c->min_notice_days = com->min_notice_days;
    c->roll_version = com->roll_version;
    c->unit_count = com->unit_count;
    c->total = (st_weight){com->total_area, com->total_owners};
    c->vote_count = com->vote_count;
    c->created_ms = com->created_ms;
    c->roll_imported_ms = com->roll_imported_ms;
    c->enroll_code_days = com->enroll_code_days;
    st_pb_free(com);
    *out = c;
    return read_end(&r, 0);
}

/* MDB_NOTFOUND unless the community exists. */
static int community_exists(reader *r, uint64_t id) {
    st_key k = st_key_u64(id);
    MDB_val kv = st_key_val(&k), v;
    return mdb_get(r->txn, st_store_dbi(r->st, ST_DB_COMMUNITIES), &kv, &v);
}

typedef struct {
    int (*fn)(void *ctx, const st_unit *u);
    void *ctx;
} unit_scan;

static int unit_cb(void *ctx, const MDB_val *k, const MDB_val *v) {
    (void)k;
    unit_scan *us = ctx;
    pb_unit *pu;
    int rc = st_msg_decode(v, &strata__internal__unit__descriptor, (ProtobufCMessage **)&pu);
    if (rc != 0) {
        return rc;
    }
    st_unit u = {pu->unit,     pu->building,   pu->area_centi_m2,
                 pu->owner_id, pu->owner_name, (st_unit_status)pu->status};
    int stop = us->fn(us->ctx, &u);
    st_pb_free(pu);
    return stop != 0 ? 1 : 0;
}

int st_state_list_units(st_state *s, uint64_t community_id, int (*fn)(void *ctx, const st_unit *u),
                        void *ctx) {
    reader r;
    int rc = read_begin(s, &r);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    rc = community_exists(&r, community_id);
    if (rc == 0) {
        unit_scan us = {fn, ctx};
        st_key from = st_key_u64(community_id);
        rc = scan_prefix(r.txn, st_store_dbi(r.st, ST_DB_UNITS), &from, 8, unit_cb, &us);
    }
    return read_end(&r, rc);
}

/* ---- votes ---- */

void st_vote_info_free(st_vote_info *v) {
    if (v == NULL) {
        return;
    }
    for (size_t i = 0; v->reviews != NULL && i < v->review_count; i++) {
        free(v->reviews[i].reason);
    }
    free(v->reviews);
    free(v->title);
    for (uint32_t i = 0; v->candidates != NULL && i < v->candidate_count; i++) {
        free(v->candidates[i]);
    }
    free(v->candidates);
    free(v->standing);
    free(v);
}

/* The election standing from the stored snapshot of a published vote. */
static int standing_from_outcome(const pb_outcome *o, st_vote_info *info) {
    if (o->n_candidates != info->candidate_count) {
        return ST_ECORRUPT;
    }
    for (size_t i = 0; i < o->n_candidates; i++) {
        const pb_cand *pc = o->candidates[i];
        info->standing[i] = (st_cand_result){
            .candidate = pc->candidate,
            .approve = {pc->approve_area, pc->approve_owners},
            .qualified = pc->qualified,
            .rank = pc->rank,
            .outcome = (st_cand_outcome)pc->outcome,
        };
    }
    info->part = (st_weight){o->part_area, o->part_owners};
    info->quorum = o->quorum;
    info->elected = o->elected;
    info->runoff = o->runoff;
    return 0;
}

/* The log's size and root, and the supervisors' reviews. */
static int fill_log_and_reviews(const pb_vote *v, st_vote_info *info) {
    st_merkle_frontier *f;
    if (st_merkle_frontier_init(&f) != ST_OK) {
        return ST_ENOMEM;
    }
    int rc = 0;
    if (v->log_frontier.len > 0 &&
        st_merkle_frontier_decode(f, v->log_frontier.data, v->log_frontier.len, NULL, 0) != ST_OK) {
        rc = ST_ECORRUPT;
    }
    info->log_size = st_merkle_frontier_size(f);
    st_merkle_frontier_root(f, info->log_root);
    st_merkle_frontier_free(f);
    if (rc != 0 || v->n_reviews == 0) {
        return rc;
    }
    info->reviews = calloc(v->n_reviews, sizeof(*info->reviews));
    if (info->reviews == NULL) {
        return ST_ENOMEM;
    }
    info->review_count = v->n_reviews;
    for (size_t i = 0; i < v->n_reviews; i++) {
        const pb_review *r = v->reviews[i];
        st_vote_review *out = &info->reviews[i];
        out->kind = (int)r->kind;
        out->time_ms = r->time_ms;
        out->index = r->index;
        snprintf(out->key_id, sizeof(out->key_id), "%s", r->key_id);
        if ((out->reason = dup_str(r->reason)) == NULL) {
            return ST_ENOMEM;
        }
        info->review_status = out->kind;
    }
    return 0;
}

static int fill_vote(const pb_vote *v, st_vote_info *info) {
    int lrc = fill_log_and_reviews(v, info);
    if (lrc != 0) {
        return lrc;
    }
    info->id = v->id;
    info->community_id = v->community_id;
    info->matter = (int)v->matter;
    info->cls = st_matter_class(info->matter);
    info->election = v->matter == ST_MATTER_ELECTION;
    info->state = st_vote_state_of(v);
    info->notice_days = v->notice_days;
    info->created_ms = v->created_ms;
    info->noticed_ms = v->noticed_ms;
    info->opened_ms = v->opened_ms;
    info->closed_ms = v->closed_ms;
    info->published_ms = v->published_ms;
    info->roll_version = v->roll_version;
    info->total = (st_weight){v->total_area, v->total_owners};
    info->ballot_count = v->ballot_count;
    info->tally = st_vote_tally(v);
    info->decision = st_tally_decide(&info->tally, info->cls);
    const pb_outcome *o = v->outcome;
    if (!info->election) {
        if (o != NULL) {
            info->decision.part = (st_weight){o->part_area, o->part_owners};
            info->decision.quorum = o->quorum;
            info->decision.passed = o->passed;
        }
        info->quorum = info->decision.quorum;
        return (info->title = dup_str(v->title)) != NULL ? 0 : ST_ENOMEM;
    }
    info->seats = v->seats;
    info->candidate_count = (uint32_t)v->n_candidates;
    info->title = dup_str(v->title);
    info->candidates = calloc(v->n_candidates, sizeof(*info->candidates));
    info->standing = calloc(v->n_candidates, sizeof(*info->standing));
    if (info->title == NULL || info->candidates == NULL || info->standing == NULL) {
        return ST_ENOMEM;
    }
    for (size_t i = 0; i < v->n_candidates; i++) {
        if ((info->candidates[i] = dup_str(v->candidates[i])) == NULL) {
            return ST_ENOMEM;
        }
    }
    if (o != NULL) {
        return standing_from_outcome(o, info);
    }
    st_election e;
    int rc = st_vote_election(v, &e);
    if (rc != ST_OK) {
        return rc;
    }
    st_election_result(&e, info->standing, &info->quorum, &info->elected, &info->runoff);
    info->part = e.part;
    st_election_free(&e);
    return 0;
}

int st_state_get_vote(st_state *s, uint64_t id, st_vote_info **out) {
    reader r;
    int rc = read_begin(s, &r);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    pb_vote *v;
    rc = st_load_vote(r.txn, r.st, id, &v);
    if (rc != 0) {
        return read_end(&r, rc);
    }
    st_vote_info *info = calloc(1, sizeof(*info));
    rc = info != NULL ? fill_vote(v, info) : ST_ENOMEM;
    st_pb_free(v);
    if (rc != 0) {
        st_vote_info_free(info);
        return read_end(&r, rc);
    }
    *out = info;
    return read_end(&r, 0);
}

typedef struct {
    reader *r;
    int (*fn)(void *ctx, const st_vote_brief *v);
    void *ctx;
} vote_scan;

static int vote_cb(void *ctx, const MDB_val *k, const MDB_val *val) {
    (void)val;
    vote_scan *vs = ctx;
    if (k->mv_size != 16) {
        return ST_ECORRUPT;
    }
    pb_vote *v;
    int rc = st_load_vote(vs->r->txn, vs->r->st, st_get_be64((const uint8_t *)k->mv_data + 8), &v);
    if (rc != 0) {
        return rc == MDB_NOTFOUND ? ST_ECORRUPT : rc;
    }
    st_vote_brief b = {v->id, (int)v->matter, st_vote_state_of(v), v->title};
    int stop = vs->fn(vs->ctx, &b);
    st_pb_free(v);
    return stop != 0 ? 1 : 0;
}

int st_state_list_votes(st_state *s, uint64_t community_id,
                        int (*fn)(void *ctx, const st_vote_brief *v), void *ctx) {
    reader r;
    int rc = read_begin(s, &r);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    rc = community_exists(&r, community_id);
    if (rc == 0) {
        vote_scan vs = {&r, fn, ctx};
        st_key from = st_key_u64(community_id);
        rc = scan_prefix(r.txn, st_store_dbi(r.st, ST_DB_COMMUNITY_VOTES), &from, 8, vote_cb, &vs);
    }
    return read_end(&r, rc);
}

/* ---- ballots ---- */

static void fill_ballot(const pb_ballot *b, bool election, st_ballot_info *out) {
    *out = (st_ballot_info){
        .vote_id = b->vote_id,
        .seq = b->seq,
        .owner_id = b->owner_id,
        .election = election,
        .source = (st_ballot_source)b->source,
        .entered_by = b->entered_by,
        .nonce = b->nonce.data,
        .nonce_len = b->nonce.len,
        .time_ms = b->time_ms,
        .index = b->index,
        .actor = b->actor,
        .leaf_index = b->leaf_index,
        .record = b->record.data,
        .record_len = b->record.len,
        .key_id = b->key_id.len == 16 ? b->key_id.data : NULL,
        .proxy_owner_id = b->proxy_owner_id,
    };
    if (b->ballot_case == STRATA__INTERNAL__BALLOT_RECORD__BALLOT_CHOICE) {
        out->choice = (st_choice)b->choice;
    } else if (b->ballot_case == STRATA__INTERNAL__BALLOT_RECORD__BALLOT_APPROVALS) {
        out->approvals = b->approvals->candidates;
        out->approval_count = b->approvals->n_candidates;
    }
    if (b->paper_scan_sha256.len == 32) {
        out->paper_scan_sha256 = b->paper_scan_sha256.data;
    }
}

typedef struct {
    reader *r;
    bool election;
    int (*fn)(void *ctx, const st_ballot_info *b);
    void *ctx;
} ballot_scan;

static int ballot_cb(void *ctx, const MDB_val *k, const MDB_val *val) {
    (void)k;
    ballot_scan *bs = ctx;
    pb_ballot *b;
    int rc =
        st_msg_decode(val, &strata__internal__ballot_record__descriptor, (ProtobufCMessage **)&b);
    if (rc != 0) {
        return rc;
    }
    pb_voter *voter;
    rc = st_load_voter(bs->r->txn, bs->r->st, b->vote_id, b->owner_id, &voter);
    if (rc != 0) {
        st_pb_free(b);
        return rc == MDB_NOTFOUND ? ST_ECORRUPT : rc;
    }
    st_ballot_info info;
    fill_ballot(b, bs->election, &info);
    info.current = voter->current_seq == b->seq;
    int stop = bs->fn(bs->ctx, &info);
    st_pb_free(voter);
    st_pb_free(b);
    return stop != 0 ? 1 : 0;
}

int st_state_list_ballots(st_state *s, uint64_t vote_id,
                          int (*fn)(void *ctx, const st_ballot_info *b), void *ctx) {
    reader r;
    int rc = read_begin(s, &r);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    pb_vote *v;
    rc = st_load_vote(r.txn, r.st, vote_id, &v);
    if (rc == 0) {
        ballot_scan bs = {&r, v->matter == ST_MATTER_ELECTION, fn, ctx};
        st_pb_free(v);
        st_key from = st_key_u64(vote_id);
        rc = scan_prefix(r.txn, st_store_dbi(r.st, ST_DB_BALLOTS), &from, 8, ballot_cb, &bs);
    }
    return read_end(&r, rc);
}

int st_state_owner_ballots(st_state *s, uint64_t vote_id, const char *owner_id,
                           int (*fn)(void *ctx, const st_ballot_info *b), void *ctx) {
    reader r;
    int rc = read_begin(s, &r);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    pb_vote *v;
    rc = st_load_vote(r.txn, r.st, vote_id, &v);
    if (rc != 0) {
        return read_end(&r, rc);
    }
    bool election = v->matter == ST_MATTER_ELECTION;
    st_pb_free(v);
    pb_voter *voter;
    rc = st_load_voter(r.txn, r.st, vote_id, owner_id, &voter);
    if (rc != 0) {
        return read_end(&r, rc);
    }
    for (size_t i = 0; i < voter->n_ballot_seqs && rc == 0; i++) {
        st_key k = st_key_id2(vote_id, voter->ballot_seqs[i]);
        pb_ballot *b;
        rc = st_msg_get(r.txn, st_store_dbi(r.st, ST_DB_BALLOTS), &k,
                        &strata__internal__ballot_record__descriptor, (ProtobufCMessage **)&b);
        if (rc != 0) {
            rc = rc == MDB_NOTFOUND ? ST_ECORRUPT : rc;
            break;
        }
        st_ballot_info info;
        fill_ballot(b, election, &info);
        info.current = voter->current_seq == b->seq;
        int stop = fn(ctx, &info);
        st_pb_free(b);
        if (stop != 0) {
            break;
        }
    }
    st_pb_free(voter);
    return read_end(&r, rc);
}

/* ---- recount ---- */

typedef struct {
    pb_voter **voters; /* the frozen roll, in key (owner id) order */
    size_t n, cap;
    pb_ballot **last; /* each voter's last ballot in the history, or NULL */
    uint64_t ballots;
    bool consistent; /* every ballot's owner is on the roll */
} recount_scan;

static int voter_collect(void *ctx, const MDB_val *k, const MDB_val *val) {
    (void)k;
    recount_scan *rs = ctx;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 64;
        pb_voter **nv = realloc(rs->voters, cap * sizeof(*nv));
        if (nv == NULL) {
            return ST_ENOMEM;
        }
        rs->voters = nv;
        rs->cap = cap;
    }
    int rc = st_msg_decode(val, &strata__internal__voter_record__descriptor,
                           (ProtobufCMessage **)&rs->voters[rs->n]);
    if (rc != 0) {
        return rc;
    }
    rs->n++;
    return 0;
}

static int voter_cmp(const void *key, const void *elem) {
    return strcmp((const char *)key, (*(pb_voter *const *)elem)->owner_id);
}

static int ballot_replay(void *ctx, const MDB_val *k, const MDB_val *val) {
    (void)k;
    recount_scan *rs = ctx;
    pb_ballot *b;
    int rc =
        st_msg_decode(val, &strata__internal__ballot_record__descriptor, (ProtobufCMessage **)&b);
    if (rc != 0) {
        return rc;
    }
    rs->ballots++;
    pb_voter **hit = bsearch(b->owner_id, rs->voters, rs->n, sizeof(*rs->voters), voter_cmp);
    if (hit == NULL) {
        rs->consistent = false;
        st_pb_free(b);
        return 0;
    }
    size_t i = (size_t)(hit - rs->voters);
    if (rs->last[i] != NULL) {
        st_pb_free(rs->last[i]);
    }
    rs->last[i] = b;
    return 0;
}

static bool same_approvals(const pb_voter *voter, const pb_ballot *b) {
    if (b->ballot_case != STRATA__INTERNAL__BALLOT_RECORD__BALLOT_APPROVALS ||
        b->approvals->n_candidates != voter->n_approvals) {
        return false;
    }
    return voter->n_approvals == 0 || memcmp(voter->approvals, b->approvals->candidates,
                                             voter->n_approvals * sizeof(*voter->approvals)) == 0;
}

/* Compares the replay with the stored figures; fills out. */
static int recount_compare(const pb_vote *v, recount_scan *rs, st_recount_info *out) {
    bool election = v->matter == ST_MATTER_ELECTION;
    st_weight total = {0, (int64_t)rs->n};
    for (size_t i = 0; i < rs->n; i++) {
        total.area += rs->voters[i]->area;
        const pb_ballot *b = rs->last[i];
        uint64_t want = b != NULL ? b->seq : 0;
        if (rs->voters[i]->current_seq != want ||
            (b != NULL && !election && (int)rs->voters[i]->choice != (int)b->choice) ||
            (b != NULL && election && !same_approvals(rs->voters[i], b))) {
            rs->consistent = false;
        }
    }
    out->ballots = rs->ballots;
    out->voters = rs->n;
    if (!election) {
        int64_t *areas = malloc((rs->n + 1) * sizeof(*areas));
        st_choice *choices = malloc((rs->n + 1) * sizeof(*choices));
        int rc = areas != NULL && choices != NULL ? ST_OK : ST_ENOMEM;
        for (size_t i = 0; rc == ST_OK && i < rs->n; i++) {
            areas[i] = rs->voters[i]->area;
            choices[i] = rs->last[i] != NULL ? (st_choice)rs->last[i]->choice : ST_CHOICE_NONE;
        }
        if (rc == ST_OK && st_tally_recount(&out->tally, total, areas, choices, rs->n) != ST_OK) {
            rc = ST_ECORRUPT;
        }
        free(areas);
        free(choices);
        if (rc != ST_OK) {
            return rc;
        }
        st_tally running = st_vote_tally(v);
        out->part = st_tally_part(&out->tally);
        out->equal = rs->consistent && st_tally_equal(&running, &out->tally);
        return 0;
    }
    st_election running, fresh;
    int rc = st_vote_election(v, &running);
    if (rc != ST_OK) {
        return rc;
    }
    rc = st_election_init(&fresh, v->seats, (uint32_t)v->n_candidates, total);
    if (rc != ST_OK) {
        st_election_free(&running);
        return rc == ST_ENOMEM ? ST_ENOMEM : ST_ECORRUPT;
    }
    for (size_t i = 0; i < rs->n && rc == ST_OK; i++) {
        const pb_ballot *b = rs->last[i];
        if (b != NULL && b->ballot_case == STRATA__INTERNAL__BALLOT_RECORD__BALLOT_APPROVALS) {
            rc = st_election_change(&fresh, rs->voters[i]->area, false, NULL, 0, true,
                                    b->approvals->candidates, b->approvals->n_candidates);
        } else if (b != NULL) {
            rc = ST_ECORRUPT;
        }
    }
    if (rc == ST_OK) {
        out->part = fresh.part;
        out->equal = rs->consistent && st_election_equal(&running, &fresh);
    }
    st_election_free(&running);
    st_election_free(&fresh);
    return rc == ST_OK ? 0 : ST_ECORRUPT;
}

int st_state_recount(st_state *s, uint64_t vote_id, st_recount_info *out) {
    memset(out, 0, sizeof(*out));
    reader r;
    int rc = read_begin(s, &r);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    pb_vote *v;
    rc = st_load_vote(r.txn, r.st, vote_id, &v);
    if (rc != 0) {
        return read_end(&r, rc);
    }
    recount_scan rs = {.consistent = true};
    st_key from = st_key_u64(vote_id);
    rc = scan_prefix(r.txn, st_store_dbi(r.st, ST_DB_VOTERS), &from, 8, voter_collect, &rs);
    if (rc == 0) {
        rs.last = calloc(rs.n + 1, sizeof(*rs.last));
        rc = rs.last != NULL ? 0 : ST_ENOMEM;
    }
    if (rc == 0) {
        rc = scan_prefix(r.txn, st_store_dbi(r.st, ST_DB_BALLOTS), &from, 8, ballot_replay, &rs);
    }
    if (rc == 0) {
        rc = recount_compare(v, &rs, out);
    }
    for (size_t i = 0; i < rs.n; i++) {
        st_pb_free(rs.voters[i]);
        if (rs.last != NULL && rs.last[i] != NULL) {
            st_pb_free(rs.last[i]);
        }
    }
    free(rs.voters);
    free(rs.last);
    st_pb_free(v);
    return read_end(&r, rc);
}

/* ---- events ---- */

typedef struct {
    int (*fn)(void *ctx, const st_event_info *e);
    void *ctx;
} event_scan;

static int event_cb(void *ctx, const MDB_val *k, const MDB_val *val) {
    (void)k;
    event_scan *es = ctx;
    pb_event *e;
    int rc =
        st_msg_decode(val, &strata__internal__event_record__descriptor, (ProtobufCMessage **)&e);
    if (rc != 0) {
        return rc;
    }
    st_event_info info = {e->seq,  e->index,        e->time_ms, e->actor,
                          e->kind, e->community_id, e->vote_id, e->summary};
    int stop = es->fn(es->ctx, &info);
    st_pb_free(e);
    return stop != 0 ? 1 : 0;
}

int st_state_list_events(st_state *s, uint64_t from, int (*fn)(void *ctx, const st_event_info *e),
                         void *ctx) {
    reader r;
    int rc = read_begin(s, &r);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    event_scan es = {fn, ctx};
    st_key k = st_key_u64(from);
    rc = scan_prefix(r.txn, st_store_dbi(r.st, ST_DB_EVENTS), &k, 0, event_cb, &es);
    return read_end(&r, rc);
}
