/* svc_audit.c - strata.v1.Audit: what a supervisor needs to check a vote.
 *
 *   ExportBallots   linearizable read, streamed: every ballot of the vote in sequence
 *                   order, replacements included (one message per ballot)
 *   Trail           linearizable read of the action trail after `after_seq`, optionally of
 *                   one community, at most `limit` events (0 = 1000, at most 10000)
 *   GetTreeHead, GetInclusionProof, GetConsistencyProof
 *                   UNIMPLEMENTED: this front end does not serve the vote's Merkle log yet
 *                   (tree heads also need the node's signing key)
 *   Certify, Dispute
 *                   UNIMPLEMENTED: not wired to the state's review commands yet (they need
 *                   an authenticated supervisor)
 */
#include <stdlib.h>

#include "core/error.h"
#include "proto/strata/v1/audit.pb-c.h"
#include "server/rpc/convert.h"
#include "server/rpc/internal.h"

#define TRAIL_DEFAULT 1000
#define TRAIL_MAX 10000

/* ---- ExportBallots ---- */

typedef struct {
    grpc_byte_buffer **msgs;
    size_t n, cap;
    bool failed;
} export_list;

static int export_ballot(void *ctx, const st_ballot_info *b) {
    export_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        grpc_byte_buffer **nm = realloc(l->msgs, cap * sizeof(*nm));
        if (nm == NULL) {
            l->failed = true;
            return 1;
        }
        l->msgs = nm;
        l->cap = cap;
    }
    st_arena a = ST_ARENA_INIT;
    Strata__V1__Ballot *m = st_v1_ballot(&a, b);
    if (m == NULL) {
        st_arena_free(&a);
        l->failed = true;
        return 1;
    }
    l->msgs[l->n++] = st_call_pack(&m->base);
    st_arena_free(&a);
    return 0;
}

static void export_ballots_read(st_call *c) {
    const Strata__V1__ExportBallotsRequest *q = (const void *)c->req;
    export_list l = {0};
    /* The whole history is encoded in one read transaction, then streamed one message per
     * completion. */
    int rc = st_state_list_ballots(c->rpc->cfg.state, q->vote_id, export_ballot, &l);
    if (rc == ST_OK && l.failed) {
        rc = ST_ENOMEM;
    }
    if (rc != ST_OK) {
        for (size_t i = 0; i < l.n; i++) {
            grpc_byte_buffer_destroy(l.msgs[i]);
        }
        free(l.msgs);
        st_call_read_failed(c, rc, "vote %llu does not exist", (unsigned long long)q->vote_id);
        return;
    }
    st_call_stream(c, l.msgs, l.n);
}

static void export_ballots(st_call *c, const ProtobufCMessage *m) {
    (void)m;
    st_call_linear(c, export_ballots_read);
}

/* ---- Trail ---- */

typedef struct {
    st_arena *a;
    uint64_t community_id;
    size_t limit;
    Strata__V1__Event **events;
    size_t n;
    bool failed;
} trail_list;

static int collect_event(void *ctx, const st_event_info *e) {
    trail_list *l = ctx;
    if (l->community_id != 0 && e->community_id != l->community_id) {
        return 0;
    }
    if ((l->events[l->n] = st_v1_event(l->a, e)) == NULL) {
        l->failed = true;
        return 1;
    }
    return ++l->n == l->limit ? 1 : 0;
}

static void trail_read(st_call *c) {
    const Strata__V1__TrailRequest *q = (const void *)c->req;
    st_arena a = ST_ARENA_INIT;
    trail_list l = {.a = &a, .community_id = q->community_id};
    l.limit = q->limit == 0 ? TRAIL_DEFAULT : q->limit > TRAIL_MAX ? TRAIL_MAX : q->limit;
    l.events = st_arena_alloc(&a, l.limit * sizeof(*l.events));
    int rc = l.events != NULL ? ST_OK : ST_ENOMEM;
    if (rc == ST_OK && q->after_seq != UINT64_MAX) {
        rc = st_state_list_events(c->rpc->cfg.state, q->after_seq + 1, collect_event, &l);
    }
    if (rc == ST_OK && l.failed) {
        rc = ST_ENOMEM;
    }
    if (rc == ST_OK) {
        Strata__V1__TrailResponse resp = STRATA__V1__TRAIL_RESPONSE__INIT;
        resp.n_events = l.n;
        resp.events = l.events;
        st_call_ok(c, &resp.base);
    } else {
        st_call_read_failed(c, rc, "no trail");
    }
    st_arena_free(&a);
}

static void trail(st_call *c, const ProtobufCMessage *m) {
    (void)m;
    st_call_linear(c, trail_read);
}

/* ---- not yet backed by the state ---- */

static void no_merkle_log(st_call *c, const ProtobufCMessage *m) {
    (void)m;
    st_call_fail(c, GRPC_STATUS_UNIMPLEMENTED,
                 "%s is not implemented yet: this server does not serve the vote's Merkle log "
                 "(tree heads and proofs) yet",
                 c->method->def->path);
}

static void no_certification(st_call *c, const ProtobufCMessage *m) {
    (void)m;
    st_call_fail(c, GRPC_STATUS_UNIMPLEMENTED,
                 "%s is not implemented yet: certification needs an authenticated supervisor, "
                 "which this server does not check yet",
                 c->method->def->path);
}

const st_method_def st_svc_audit[] = {
    {"/strata.v1.Audit/ExportBallots", &strata__v1__export_ballots_request__descriptor,
     export_ballots},
    {"/strata.v1.Audit/GetTreeHead", &strata__v1__get_tree_head_request__descriptor, no_merkle_log},
    {"/strata.v1.Audit/GetInclusionProof", &strata__v1__inclusion_proof_request__descriptor,
     no_merkle_log},
    {"/strata.v1.Audit/GetConsistencyProof", &strata__v1__consistency_proof_request__descriptor,
     no_merkle_log},
    {"/strata.v1.Audit/Trail", &strata__v1__trail_request__descriptor, trail},
    {"/strata.v1.Audit/Certify", &strata__v1__certify_request__descriptor, no_certification},
    {"/strata.v1.Audit/Dispute", &strata__v1__dispute_request__descriptor, no_certification},
    {NULL, NULL, NULL},
};
