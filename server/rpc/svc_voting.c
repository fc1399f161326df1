/* svc_voting.c - strata.v1.Voting: the vote lifecycle, ballots and results.
 *
 *   CreateVote                    write: CreateVote -> the new vote id
 *   NoticeVote/OpenVote/
 *   CloseVote/PublishVote         write: the step's command -> the vote as it stands after
 *   GetVote                       allow_stale: this node's state at once (Vote.stale and
 *                                 trailing `strata-stale: 1`); otherwise a linearizable read
 *                                 on the leader (`strata-stale: 0`)
 *   ListVotes                     linearizable read: the community's votes in full
 *   CastBallot                    write: CastBallot with the signed ballot (signed_ballot,
 *                                 public_key, signature, proxy_owner_id passed through) ->
 *                                 the ballot's sequence number, its leaf index, the tree size
 *                                 and a receipt signed by this (the leader's) node key
 *   MyBallots                     linearizable read: one owner's ballots, oldest first
 * Writes are signed (auth.c); reads here are public.
 */
#include <stdlib.h>

#include "core/error.h"
#include "crypto/receipt.h"
#include "proto/strata/v1/voting.pb-c.h"
#include "server/rpc/convert.h"
#include "server/rpc/internal.h"

typedef Strata__Internal__Command pb_command;

void st_call_reply_vote(st_call *c, uint64_t id, bool stale) {
    st_vote_info *v;
    int rc = st_state_get_vote(c->rpc->cfg.state, id, &v);
    if (rc != ST_OK) {
        st_call_read_failed(c, rc, "vote %llu does not exist", (unsigned long long)id);
        return;
    }
    st_arena a = ST_ARENA_INIT;
    Strata__V1__Vote *m = st_v1_vote(&a, v);
    st_vote_info_free(v);
    if (m != NULL) {
        m->stale = stale;
        c->stale = stale ? "1" : "0";
        st_call_ok(c, &m->base);
    } else {
        st_call_node_error(c, ST_ENOMEM);
    }
    st_arena_free(&a);
}

/* ---- CreateVote ---- */

static void create_vote_done(st_call *c, const st_apply_result *res) {
    Strata__V1__CreateVoteResponse resp = STRATA__V1__CREATE_VOTE_RESPONSE__INIT;
    resp.vote_id = res->id;
    st_call_ok(c, &resp.base);
}

static void create_vote(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__CreateVoteRequest *q = (const void *)m;
    if (st_call_check_request_id(c, &q->request_id) != ST_OK) {
        return;
    }
    Strata__Internal__CreateVote body = STRATA__INTERNAL__CREATE_VOTE__INIT;
    body.community_id = q->community_id;
    body.matter = q->matter;
    body.title = q->title;
    if (q->notice_case == STRATA__V1__CREATE_VOTE_REQUEST__NOTICE_NOTICE_DAYS) {
        body.notice_case = STRATA__INTERNAL__CREATE_VOTE__NOTICE_NOTICE_DAYS;
        body.notice_days = q->notice_days;
    }
    body.seats = q->seats;
    body.n_candidates = q->n_candidates;
    body.candidates = q->candidates;
    pb_command cmd = STRATA__INTERNAL__COMMAND__INIT;
    cmd.request_id = q->request_id;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CREATE_VOTE;
    cmd.create_vote = &body;
    st_call_propose(c, &cmd, create_vote_done);
}

/* ---- NoticeVote, OpenVote, CloseVote, PublishVote ---- */

static void vote_step_done(st_call *c, const st_apply_result *res) {
    st_call_reply_vote(c, res->id, false);
}

static void vote_step(st_call *c, const ProtobufCMessage *m,
                      Strata__Internal__Command__BodyCase kind) {
    const Strata__V1__VoteStepRequest *q = (const void *)m;
    if (st_call_check_request_id(c, &q->request_id) != ST_OK) {
        return;
    }
    /* The four step bodies are the same message shape: { uint64 vote_id = 1; }. */
    Strata__Internal__NoticeVote notice = STRATA__INTERNAL__NOTICE_VOTE__INIT;
    Strata__Internal__OpenVote open = STRATA__INTERNAL__OPEN_VOTE__INIT;
    Strata__Internal__CloseVote close = STRATA__INTERNAL__CLOSE_VOTE__INIT;
    Strata__Internal__PublishVote publish = STRATA__INTERNAL__PUBLISH_VOTE__INIT;
    pb_command cmd = STRATA__INTERNAL__COMMAND__INIT;
    cmd.request_id = q->request_id;
    cmd.body_case = kind;
    switch (kind) {
    case STRATA__INTERNAL__COMMAND__BODY_NOTICE_VOTE:
        notice.vote_id = q->vote_id;
        cmd.notice_vote = &notice;
        break;
    case STRATA__INTERNAL__COMMAND__BODY_OPEN_VOTE:
        open.vote_id = q->vote_id;
        cmd.open_vote = &open;
        break;
    case STRATA__INTERNAL__COMMAND__BODY_CLOSE_VOTE:
        close.vote_id = q->vote_id;
        cmd.close_vote = &close;
        break;
    default:
        publish.vote_id = q->vote_id;
        cmd.publish_vote = &publish;
        break;
    }
    st_call_propose(c, &cmd, vote_step_done);
}

static void notice_vote(st_call *c, const ProtobufCMessage *m) {
    vote_step(c, m, STRATA__INTERNAL__COMMAND__BODY_NOTICE_VOTE);
}
static void open_vote(st_call *c, const ProtobufCMessage *m) {
    vote_step(c, m, STRATA__INTERNAL__COMMAND__BODY_OPEN_VOTE);
}
static void close_vote(st_call *c, const ProtobufCMessage *m) {
    vote_step(c, m, STRATA__INTERNAL__COMMAND__BODY_CLOSE_VOTE);
}
static void publish_vote(st_call *c, const ProtobufCMessage *m) {
    vote_step(c, m, STRATA__INTERNAL__COMMAND__BODY_PUBLISH_VOTE);
}

/* ---- GetVote ---- */

static void get_vote_read(st_call *c) {
    const Strata__V1__GetVoteRequest *q = (const void *)c->req;
    st_call_reply_vote(c, q->vote_id, false);
}

static void get_vote(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__GetVoteRequest *q = (const void *)m;
    if (q->allow_stale) {
        /* this node's own state, which may lag the leader */
        st_call_reply_vote(c, q->vote_id, true);
    } else {
        st_call_linear(c, get_vote_read);
    }
}

/* ---- ListVotes ---- */

typedef struct {
    uint64_t *ids;
    size_t n, cap;
    bool failed;
} id_list;

static int collect_vote_id(void *ctx, const st_vote_brief *v) {
    id_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        uint64_t *ni = realloc(l->ids, cap * sizeof(*ni));
        if (ni == NULL) {
            l->failed = true;
            return 1;
        }
        l->ids = ni;
        l->cap = cap;
    }
    l->ids[l->n++] = v->id;
    return 0;
}

static void list_votes_read(st_call *c) {
    const Strata__V1__ListVotesRequest *q = (const void *)c->req;
    st_state *s = c->rpc->cfg.state;
    id_list ids = {0};
    /* Ids first, then each vote in full: a read callback must not read the state again. */
    int rc = st_state_list_votes(s, q->community_id, collect_vote_id, &ids);
    if (rc == ST_OK && ids.failed) {
        rc = ST_ENOMEM;
    }
    if (rc != ST_OK) {
        free(ids.ids);
        st_call_read_failed(c, rc, "community %llu does not exist",
                            (unsigned long long)q->community_id);
        return;
    }
    st_arena a = ST_ARENA_INIT;
    Strata__V1__ListVotesResponse resp = STRATA__V1__LIST_VOTES_RESPONSE__INIT;
    resp.votes = st_arena_alloc(&a, ids.n * sizeof(*resp.votes));
    rc = resp.votes != NULL ? ST_OK : ST_ENOMEM;
    for (size_t i = 0; i < ids.n && rc == ST_OK; i++) {
        st_vote_info *v;
        rc = st_state_get_vote(s, ids.ids[i], &v);
        if (rc == ST_OK) {
            resp.votes[resp.n_votes] = st_v1_vote(&a, v);
            rc = resp.votes[resp.n_votes] != NULL ? ST_OK : ST_ENOMEM;
            resp.n_votes++;
            st_vote_info_free(v);
        }
    }
    free(ids.ids);
    if (rc == ST_OK) {
        st_call_ok(c, &resp.base);
    } else {
        st_call_read_failed(c, rc == ST_ENOENT ? ST_ECORRUPT : rc, "no vote");
    }
    st_arena_free(&a);
}

static void list_votes(st_call *c, const ProtobufCMessage *m) {
    (void)m;
    st_call_linear(c, list_votes_read);
}

/* ---- CastBallot ---- */

/* The leader answers with the ballot's place in the log and its receipt, signed with this
 * node's key (a duplicate of an earlier request gets the first ballot's place again). */
static void cast_ballot_done(st_call *c, const st_apply_result *res) {
    Strata__V1__CastBallotResponse resp = STRATA__V1__CAST_BALLOT_RESPONSE__INIT;
    uint8_t receipt[ST_RECEIPT_LEN];
    resp.seq = res->id;
    if (res->logged) {
        int rc = st_rpc_receipt(c->rpc, res, receipt);
        if (rc != ST_OK) {
            st_call_fail(c, GRPC_STATUS_INTERNAL,
                         "ballot %llu was accepted, but its receipt could not be signed: %s; "
                         "read it back with MyBallots and fetch a tree head",
                         (unsigned long long)res->id, st_strerror(rc));
            return;
        }
        resp.receipt = (ProtobufCBinaryData){sizeof(receipt), receipt};
        resp.leaf_index = res->leaf_index;
        resp.tree_size = res->tree_size;
    }
    st_call_ok(c, &resp.base);
}

static void cast_ballot(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__CastBallotRequest *q = (const void *)m;
    if (st_call_check_request_id(c, &q->request_id) != ST_OK) {
        return;
    }
    if (q->ballot_case == STRATA__V1__CAST_BALLOT_REQUEST__BALLOT__NOT_SET) {
        st_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT,
                     "the ballot is empty: give a choice (matter votes) or approvals (elections)");
        return;
    }
    if (q->source == STRATA__V1__BALLOT_SOURCE__BALLOT_SOURCE_UNSPECIFIED) {
        st_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT,
                     "source is unset: BALLOT_ONLINE for an owner's own ballot, BALLOT_PAPER for "
                     "a paper ballot entered by an organiser");
        return;
    }
    Strata__Internal__CastBallot body = STRATA__INTERNAL__CAST_BALLOT__INIT;
    Strata__Internal__Approvals approvals = STRATA__INTERNAL__APPROVALS__INIT;
    body.vote_id = q->vote_id;
    body.owner_id = q->owner_id;
    if (q->ballot_case == STRATA__V1__CAST_BALLOT_REQUEST__BALLOT_CHOICE) {
        body.ballot_case = STRATA__INTERNAL__CAST_BALLOT__BALLOT_CHOICE;
        body.choice = (Strata__Internal__Choice)q->choice;
    } else {
        approvals.n_candidates = q->approvals != NULL ? q->approvals->n_candidates : 0;
        approvals.candidates = q->approvals != NULL ? q->approvals->candidates : NULL;
        body.ballot_case = STRATA__INTERNAL__CAST_BALLOT__BALLOT_APPROVALS;
        body.approvals = &approvals;
    }
    body.source = (Strata__Internal__Source)q->source;
    body.paper_scan_sha256 = q->paper_scan_sha256;
    if (q->source == STRATA__V1__BALLOT_SOURCE__BALLOT_PAPER) {
        /* A paper ballot is entered by the caller: the organiser whose key signs the request
         * (and the ballot). */
        if (!st_rpc_is_leader(c->rpc)) {
            st_call_node_error(c, ST_ENOTLEADER);
            return;
        }
        if (st_call_authenticate(c, NULL, false) != ST_OK) {
            return;
        }
        body.entered_by = (char *)st_call_actor(c);
    } else {
        body.entered_by = (char *)"";
    }
    body.nonce = q->nonce;
    body.signed_bytes = q->signed_ballot;
    body.public_key = q->public_key;
    body.signature = q->signature;
    body.proxy_owner_id = q->proxy_owner_id;
    pb_command cmd = STRATA__INTERNAL__COMMAND__INIT;
    cmd.request_id = q->request_id;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CAST_BALLOT;
    cmd.cast_ballot = &body;
    st_call_propose(c, &cmd, cast_ballot_done);
}

/* ---- MyBallots ---- */

typedef struct {
    st_arena *a;
    Strata__V1__Ballot **ballots;
    size_t n, cap;
    bool failed;
} ballot_list;

static int collect_ballot(void *ctx, const st_ballot_info *b) {
    ballot_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        Strata__V1__Ballot **nb = realloc(l->ballots, cap * sizeof(*nb));
        if (nb == NULL) {
            l->failed = true;
            return 1;
        }
        l->ballots = nb;
        l->cap = cap;
    }
    if ((l->ballots[l->n] = st_v1_ballot(l->a, b)) == NULL) {
        l->failed = true;
        return 1;
    }
    l->n++;
    return 0;
}

static void my_ballots_read(st_call *c) {
    const Strata__V1__MyBallotsRequest *q = (const void *)c->req;
    st_arena a = ST_ARENA_INIT;
    ballot_list l = {.a = &a};
    int rc = st_state_owner_ballots(c->rpc->cfg.state, q->vote_id, q->owner_id, collect_ballot, &l);
    if (rc == ST_OK && l.failed) {
        rc = ST_ENOMEM;
    }
    if (rc == ST_OK) {
        Strata__V1__MyBallotsResponse resp = STRATA__V1__MY_BALLOTS_RESPONSE__INIT;
        resp.n_ballots = l.n;
        resp.ballots = l.ballots;
        st_call_ok(c, &resp.base);
    } else {
        st_call_read_failed(c, rc, "vote %llu does not exist, or owner \"%s\" is not on its roll",
                            (unsigned long long)q->vote_id, q->owner_id);
    }
    free(l.ballots);
    st_arena_free(&a);
}

static void my_ballots(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__MyBallotsRequest *q = (const void *)m;
    if (q->owner_id[0] == '\0') {
        st_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT, "owner_id is empty: give the owner's id");
        return;
    }
    st_call_linear(c, my_ballots_read);
}

const st_method_def st_svc_voting[] = {
    {"/strata.v1.Voting/CreateVote", &strata__v1__create_vote_request__descriptor, create_vote},
    {"/strata.v1.Voting/NoticeVote", &strata__v1__vote_step_request__descriptor, notice_vote},
    {"/strata.v1.Voting/OpenVote", &strata__v1__vote_step_request__descriptor, open_vote},
    {"/strata.v1.Voting/CloseVote", &strata__v1__vote_step_request__descriptor, close_vote},
    {"/strata.v1.Voting/PublishVote", &strata__v1__vote_step_request__descriptor, publish_vote},
    {"/strata.v1.Voting/GetVote", &strata__v1__get_vote_request__descriptor, get_vote},
    {"/strata.v1.Voting/ListVotes", &strata__v1__list_votes_request__descriptor, list_votes},
    {"/strata.v1.Voting/CastBallot", &strata__v1__cast_ballot_request__descriptor, cast_ballot},
    {"/strata.v1.Voting/MyBallots", &strata__v1__my_ballots_request__descriptor, my_ballots},
    {NULL, NULL, NULL},
};
