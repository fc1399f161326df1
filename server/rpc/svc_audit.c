/* svc_audit.c - strata.v1.Audit: what a supervisor needs to check a vote.
 *
 *   ExportBallots   linearizable read, streamed: every ballot of the vote in sequence
 *                   order, replacements included (one message per ballot)
 *   Trail           linearizable read of the action trail after `after_seq`, optionally of
 *                   one community, at most `limit` events (0 = 1000, at most 10000)
 *   GetTreeHead     any node, from its own state: the vote's log size and root now,
 *                   signed by this node's key (heads.c) with its id and clock
 *   GetInclusionProof, GetConsistencyProof
 *                   any node, from its own state: RFC 9162 proofs for a tree size up to the
 *                   node's current one (0 = its current size). A size beyond it: a follower
 *                   answers UNAVAILABLE with `strata-leader` (it has not applied that far
 *                   yet), the leader OUT_OF_RANGE (the log is not that long)
 *   Certify, Dispute
 *                   write (a supervisor's signed request): CertifyVote / DisputeVote -> the
 *                   vote with its reviews
 * Reads here are public; proofs and heads need no barrier, since a node only ever states
 * what it has applied, which is committed.
 */
#include <stdio.h>
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

/* ---- tree heads and proofs ---- */

/* Answers a failed log read: what the st_ code means for this vote and these sizes. */
static void log_read_failed(st_call *c, int rc, uint64_t vote, const char *what) {
    switch (rc) {
    case ST_ENOENT:
        st_call_fail(c, GRPC_STATUS_NOT_FOUND, "vote %llu does not exist",
                     (unsigned long long)vote);
        return;
    case ST_EINVAL:
        st_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT, "%s", what);
        return;
    case ST_ERANGE:
        if (!st_rpc_is_leader(c->rpc)) {
            /* A follower that has not applied that far yet: the leader has (every size a
             * receipt or tree head names was committed). Clients follow strata-leader. */
            char why[320];
            snprintf(why, sizeof(why),
                     "%s: this node has not applied that much of vote %llu's log yet: retry on "
                     "the leader named in strata-leader, or here shortly",
                     what, (unsigned long long)vote);
            st_call_unavailable(c, why);
            return;
        }
        st_call_fail(c, GRPC_STATUS_OUT_OF_RANGE,
                     "%s: the log of vote %llu is not that long: ask for a size up to its "
                     "GetTreeHead",
                     what, (unsigned long long)vote);
        return;
    default:
        st_call_read_failed(c, rc, "vote %llu", (unsigned long long)vote);
        return;
    }
}

static void get_tree_head(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__GetTreeHeadRequest *q = (const void *)m;
    st_tree_head head;
    int rc = st_state_log_head(c->rpc->cfg.state, q->vote_id, &head);
    if (rc != ST_OK) {
        log_read_failed(c, rc, q->vote_id, "tree head");
        return;
    }
    st_sth sth;
    rc = st_rpc_sign_head(c->rpc, q->vote_id, head.tree_size, head.root, &sth);
    if (rc != ST_OK) {
        st_call_fail(c, GRPC_STATUS_INTERNAL, "signing the tree head failed: %s", st_strerror(rc));
        return;
    }
    uint8_t enc[ST_STH_LEN];
    st_sth_encode(&sth, enc);
    Strata__V1__TreeHead resp = STRATA__V1__TREE_HEAD__INIT;
    resp.sth = (ProtobufCBinaryData){sizeof(enc), enc};
    resp.tree_size = sth.tree_size;
    resp.root = (ProtobufCBinaryData){32, sth.root};
    resp.node_id = sth.node_id;
    st_call_ok(c, &resp.base);
}

/* Answers with the proof's hashes (they point into p). */
static void reply_proof(st_call *c, const st_tree_proof *p) {
    ProtobufCBinaryData hashes[ST_MERKLE_MAX_PROOF];
    Strata__V1__Proof resp = STRATA__V1__PROOF__INIT;
    for (size_t i = 0; i < p->count; i++) {
        hashes[i] = (ProtobufCBinaryData){32, (uint8_t *)p->hashes[i]};
    }
    resp.tree_size = p->tree_size;
    resp.n_hashes = p->count;
    resp.hashes = hashes;
    st_call_ok(c, &resp.base);
}

static void get_inclusion_proof(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__InclusionProofRequest *q = (const void *)m;
    st_tree_proof *p = malloc(sizeof(*p));
    if (p == NULL) {
        st_call_node_error(c, ST_ENOMEM);
        return;
    }
    int rc = st_state_log_inclusion(c->rpc->cfg.state, q->vote_id, q->leaf_index, q->tree_size, p);
    if (rc == ST_OK) {
        reply_proof(c, p);
    } else {
        char what[160];
        snprintf(what, sizeof(what), "leaf %llu in a tree of size %llu%s",
                 (unsigned long long)q->leaf_index, (unsigned long long)q->tree_size,
                 q->tree_size == 0 ? " (the current size)" : "");
        if (rc == ST_EINVAL) {
            snprintf(what, sizeof(what),
                     "leaf_index %llu is not below the tree size %s%llu: a leaf is in a tree "
                     "only once the tree has grown past it",
                     (unsigned long long)q->leaf_index, q->tree_size == 0 ? "now, " : "",
                     (unsigned long long)q->tree_size);
        }
        log_read_failed(c, rc, q->vote_id, what);
    }
    free(p);
}

static void get_consistency_proof(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__ConsistencyProofRequest *q = (const void *)m;
    st_tree_proof *p = malloc(sizeof(*p));
    if (p == NULL) {
        st_call_node_error(c, ST_ENOMEM);
        return;
    }
    int rc = st_state_log_consistency(c->rpc->cfg.state, q->vote_id, q->old_size, q->new_size, p);
    if (rc == ST_OK) {
        reply_proof(c, p);
    } else {
        char what[160];
        snprintf(what, sizeof(what), "consistency from size %llu to %llu%s",
                 (unsigned long long)q->old_size, (unsigned long long)q->new_size,
                 q->new_size == 0 ? " (the current size)" : "");
        if (rc == ST_EINVAL) {
            snprintf(what, sizeof(what), "old_size %llu is above new_size %llu",
                     (unsigned long long)q->old_size, (unsigned long long)q->new_size);
        }
        log_read_failed(c, rc, q->vote_id, what);
    }
    free(p);
}

/* ---- Certify, Dispute ---- */

static void review_done(st_call *c, const st_apply_result *res) {
    st_call_reply_vote(c, res->id, false);
}

static void certify(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__CertifyRequest *q = (const void *)m;
    if (st_call_check_request_id(c, &q->request_id) != ST_OK) {
        return;
    }
    Strata__Internal__CertifyVote body = STRATA__INTERNAL__CERTIFY_VOTE__INIT;
    body.vote_id = q->vote_id;
    body.reason = q->reason;
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    cmd.request_id = q->request_id;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CERTIFY_VOTE;
    cmd.certify_vote = &body;
    st_call_propose(c, &cmd, review_done);
}

static void dispute(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__DisputeRequest *q = (const void *)m;
    if (st_call_check_request_id(c, &q->request_id) != ST_OK) {
        return;
    }
    Strata__Internal__DisputeVote body = STRATA__INTERNAL__DISPUTE_VOTE__INIT;
    body.vote_id = q->vote_id;
    body.reason = q->reason;
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    cmd.request_id = q->request_id;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_DISPUTE_VOTE;
    cmd.dispute_vote = &body;
    st_call_propose(c, &cmd, review_done);
}

const st_method_def st_svc_audit[] = {
    {"/strata.v1.Audit/ExportBallots", &strata__v1__export_ballots_request__descriptor,
     export_ballots},
    {"/strata.v1.Audit/GetTreeHead", &strata__v1__get_tree_head_request__descriptor, get_tree_head},
    {"/strata.v1.Audit/GetInclusionProof", &strata__v1__inclusion_proof_request__descriptor,
     get_inclusion_proof},
    {"/strata.v1.Audit/GetConsistencyProof", &strata__v1__consistency_proof_request__descriptor,
     get_consistency_proof},
    {"/strata.v1.Audit/Trail", &strata__v1__trail_request__descriptor, trail},
    {"/strata.v1.Audit/Certify", &strata__v1__certify_request__descriptor, certify},
    {"/strata.v1.Audit/Dispute", &strata__v1__dispute_request__descriptor, dispute},
    {NULL, NULL, NULL},
};
