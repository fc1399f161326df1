/* svc_cluster.c - strata.v1.Cluster: the operator's view of the Raft cluster.
 *
 *   Status              any node, about itself, unsigned: role, term, indexes, its own
 *                       tree-head key, members with their Raft and gRPC addresses and keys
 *                       (gRPC address and key from the roster, roster.h)
 *   AddMember           leader, operator-signed: record the gRPC address, add the node (as a
 *                       spare that catches up, then a voter); OK once the voter change is
 *                       committed
 *   RemoveMember        leader, operator-signed: remove a member (not the leader itself:
 *                       transfer first); once done, the node's roster entry is removed too
 *                       (a RemoveMember command, so its key signs no more tree heads)
 *   TransferLeadership  leader, operator-signed: hand over to `id` (0 = the most up-to-date
 *                       follower)
 *   RegisterNode        write, operator-signed: SetMember {id, raft, grpc, public_key} in the
 *                       replicated roster
 * The three Raft operations are not commands: the operator's signature is checked here
 * (auth.c, with the node's replay table), the role too.
 */
#include <raft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "proto/strata/v1/cluster.pb-c.h"
#include "server/replica.h"
#include "server/rpc/internal.h"

/* ---- Status ---- */

static Strata__V1__MemberRole member_role(int raft_role) {
    switch (raft_role) {
    case RAFT_VOTER:
        return STRATA__V1__MEMBER_ROLE__MEMBER_VOTER;
    case RAFT_STANDBY:
        return STRATA__V1__MEMBER_ROLE__MEMBER_STANDBY;
    case RAFT_SPARE:
        return STRATA__V1__MEMBER_ROLE__MEMBER_SPARE;
    default:
        return STRATA__V1__MEMBER_ROLE__MEMBER_ROLE_UNSPECIFIED;
    }
}

static void status(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__StatusRequest *q = (const Strata__V1__StatusRequest *)m;
    st_rpc *r = c->rpc;
    uint8_t digest[32];
    uint64_t digest_index = 0;
    if (q->with_digest) {
        int rc = st_state_digest_at(r->cfg.state, ST_STATE_DIGEST_DATA, digest, &digest_index);
        if (rc != ST_OK) {
            st_call_fail(c, GRPC_STATUS_INTERNAL, "node cannot read its state for a digest: %s",
                         st_strerror(rc));
            return;
        }
    }
    st_node_status s;
    st_node_get_status(r->cfg.node, &s);
    char leader_grpc[ST_ROSTER_ADDR_MAX] = "";
    if (s.leader_id != 0) {
        st_roster_grpc(r->cfg.roster, s.leader_id, leader_grpc, sizeof(leader_grpc));
    }
    Strata__V1__Member members[ST_NODE_MEMBERS_MAX];
    Strata__V1__Member *ptrs[ST_NODE_MEMBERS_MAX];
    char grpc[ST_NODE_MEMBERS_MAX][ST_ROSTER_ADDR_MAX];
    uint8_t keys[ST_NODE_MEMBERS_MAX][ST_SIGN_PK_LEN];
    for (size_t i = 0; i < s.n_members; i++) {
        strata__v1__member__init(&members[i]);
        members[i].id = s.members[i].id;
        st_roster_grpc(r->cfg.roster, s.members[i].id, grpc[i], sizeof(grpc[i]));
        members[i].grpc = grpc[i];
        if (st_roster_public_key(r->cfg.roster, s.members[i].id, keys[i])) {
            members[i].public_key = (ProtobufCBinaryData){ST_SIGN_PK_LEN, keys[i]};
        }
        members[i].raft = s.members[i].address;
        members[i].role = member_role(s.members[i].raft_role);
        /* Only this node's own applied index is known here. */
        members[i].applied_index = s.members[i].id == s.id ? s.applied_index : 0;
        ptrs[i] = &members[i];
    }
    Strata__V1__StatusResponse resp = STRATA__V1__STATUS_RESPONSE__INIT;
    resp.node_id = s.id;
    resp.state = (char *)st_node_role_name(s.role);
    resp.ready = s.ready;
    resp.leader_id = s.leader_id;
    resp.leader_grpc = leader_grpc;
    resp.term = s.term;
    resp.commit_index = s.commit_index;
    resp.applied_index = s.applied_index;
    resp.last_index = s.last_index;
    resp.n_members = s.n_members;
    resp.members = ptrs;
    resp.version = r->version;
    resp.node_public_key = (ProtobufCBinaryData){ST_SIGN_PK_LEN, r->node_pk};
    resp.raft_connections_accepted = s.transport.accepted;
    resp.raft_connections_refused = s.transport.refused;
    resp.raft_frames_rejected = s.transport.tampered;
    if (q->with_digest) {
        resp.state_digest = (ProtobufCBinaryData){sizeof(digest), digest};
        resp.digest_index = digest_index;
    }
    st_call_ok(c, &resp.base);
}

/* ---- membership ---- */

/* Answers a membership operation's outcome; ok_msg is the response on success. */
static void membership_failed(st_call *c, int st_code, uint64_t id) {
    switch (st_code) {
    case ST_ENOENT:
        st_call_fail(c, GRPC_STATUS_NOT_FOUND,
                     "node %llu is not a member (Cluster.Status lists them)",
                     (unsigned long long)id);
        return;
    case ST_EEXIST:
        st_call_fail(c, GRPC_STATUS_ALREADY_EXISTS,
                     "node %llu, or its Raft address, is already a member", (unsigned long long)id);
        return;
    case ST_EBUSY:
        st_call_unavailable(c, "another membership change is in progress: retry when it is done");
        return;
    case ST_EUNKNOWN:
        st_call_unavailable(c, "outcome unknown: leadership changed during the membership "
                               "change; check Cluster.Status and retry if needed");
        return;
    default:
        st_call_node_error(c, st_code);
        return;
    }
}

static void add_member_then(st_call *c, int status) {
    const Strata__V1__AddMemberRequest *q = (const void *)c->req;
    if (status != ST_OK) {
        membership_failed(c, status, q->id);
        return;
    }
    st_logf(c->rpc->cfg.log, ST_LOG_INFO, "node %llu added (raft %s, grpc %s)",
            (unsigned long long)q->id, q->raft, q->grpc);
    Strata__V1__AddMemberResponse resp = STRATA__V1__ADD_MEMBER_RESPONSE__INIT;
    st_call_ok(c, &resp.base);
}

/* host:port with a port 1..65535. */
static bool addr_ok(const char *s) {
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s || colon[1] == '\0' || strlen(s) >= ST_ROSTER_ADDR_MAX) {
        return false;
    }
    unsigned long port = 0;
    for (const char *p = colon + 1; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || (port = port * 10 + (unsigned long)(*p - '0')) > 65535) {
            return false;
        }
    }
    return port > 0;
}

static void add_member(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__AddMemberRequest *q = (const void *)m;
    st_rpc *r = c->rpc;
    if (q->id == 0 || !addr_ok(q->raft) || !addr_ok(q->grpc)) {
        st_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT,
                     "AddMember needs id >= 1, raft and grpc as HOST:PORT (got id %llu, raft "
                     "\"%s\", grpc \"%s\")",
                     (unsigned long long)q->id, q->raft, q->grpc);
        return;
    }
    if (!st_rpc_is_leader(r)) {
        st_call_node_error(c, ST_ENOTLEADER);
        return;
    }
    if (st_call_require_role(c, ST_ROLE_OPERATOR) != ST_OK) {
        return;
    }
    if (st_roster_set(r->cfg.roster, q->id, q->raft, q->grpc) != ST_OK) {
        st_call_fail(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "the roster is full");
        return;
    }
    st_call_await(c, add_member_then);
    int rc = st_node_add(r->cfg.node, q->id, q->raft, st_call_node_cb, c);
    if (rc != ST_OK) {
        st_call_node_failed(c, rc);
    }
}

typedef struct {
    st_rpc *rpc;
    uint64_t id;
} roster_removal;

/* On the loop thread: how the roster removal went (it needs no answer). */
static void roster_removed(void *arg, int status, const st_slice *result, uint64_t index) {
    (void)index;
    roster_removal *rm = arg;
    const st_apply_result *res = status == ST_OK ? st_replica_result(result) : NULL;
    if (res != NULL && (res->code == ST_OK || res->code == ST_ENOENT)) {
        st_logf(rm->rpc->cfg.log, ST_LOG_INFO, "node %llu: roster %s", (unsigned long long)rm->id,
                res->code == ST_OK ? "entry removed: its key signs no more tree heads"
                                   : "had no entry (never registered)");
    } else {
        st_logf(rm->rpc->cfg.log, ST_LOG_WARN,
                "node %llu left Raft, but its roster entry was not removed (%s): send "
                "RemoveMember again or check Cluster.Status",
                (unsigned long long)rm->id, res != NULL ? res->message : st_strerror(status));
    }
    free(rm);
}

/* Proposes the RemoveMember command for the node that left Raft, signed by the same
 * operator request; it is answered without waiting for it. */
static void remove_from_roster(st_call *c, uint64_t id) {
    Strata__Internal__RemoveMember body = STRATA__INTERNAL__REMOVE_MEMBER__INIT;
    body.node_id = id;
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    uint8_t rid[16];
    /* Its request id: derived from the envelope's nonce, so unique to this signed request. */
    memcpy(rid, c->auth.env.nonce, sizeof(rid));
    rid[0] ^= 0x5a;
    cmd.request_id = (ProtobufCBinaryData){sizeof(rid), rid};
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_REMOVE_MEMBER;
    cmd.remove_member = &body;
    st_call_stamp_auth(c, &cmd);
    cmd.time_ms = st_rpc_now_ms();
    roster_removal *rm = malloc(sizeof(*rm));
    size_t n = strata__internal__command__get_packed_size(&cmd);
    uint8_t *buf = malloc(n);
    int rc = ST_ENOMEM;
    if (rm != NULL && buf != NULL) {
        strata__internal__command__pack(&cmd, buf);
        *rm = (roster_removal){c->rpc, id};
        rc = st_node_propose(c->rpc->cfg.node, buf, n, roster_removed, rm);
    }
    free(buf);
    if (rc != ST_OK) {
        free(rm);
        st_logf(c->rpc->cfg.log, ST_LOG_WARN,
                "node %llu left Raft, but its roster entry could not be removed: %s",
                (unsigned long long)id, st_strerror(rc));
    }
}

static void remove_member_then(st_call *c, int status) {
    const Strata__V1__RemoveMemberRequest *q = (const void *)c->req;
    if (status != ST_OK) {
        membership_failed(c, status, q->id);
        return;
    }
    st_logf(c->rpc->cfg.log, ST_LOG_INFO, "node %llu removed", (unsigned long long)q->id);
    remove_from_roster(c, q->id);
    Strata__V1__RemoveMemberResponse resp = STRATA__V1__REMOVE_MEMBER_RESPONSE__INIT;
    st_call_ok(c, &resp.base);
}

static void remove_member(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__RemoveMemberRequest *q = (const void *)m;
    st_rpc *r = c->rpc;
    st_node_status s;
    st_node_get_status(r->cfg.node, &s);
    if (s.role != ST_ROLE_LEADER) {
        st_call_node_error(c, ST_ENOTLEADER);
        return;
    }
    if (st_call_require_role(c, ST_ROLE_OPERATOR) != ST_OK) {
        return;
    }
    if (q->id == s.id) {
        st_call_fail(c, GRPC_STATUS_FAILED_PRECONDITION,
                     "node %llu is the leader: transfer leadership (Cluster.TransferLeadership) "
                     "before removing it",
                     (unsigned long long)q->id);
        return;
    }
    st_call_await(c, remove_member_then);
    int rc = st_node_remove(r->cfg.node, q->id, st_call_node_cb, c);
    if (rc != ST_OK) {
        st_call_node_failed(c, rc);
    }
}

static void transfer_then(st_call *c, int status) {
    const Strata__V1__TransferLeadershipRequest *q = (const void *)c->req;
    st_node_status s;
    st_node_get_status(c->rpc->cfg.node, &s);
    /* The node republishes its status at the end of the loop iteration that ran the
     * callback: wait for it (a few ms at most) to name the new leader. */
    for (int i = 0; status == ST_OK && (s.leader_id == 0 || s.leader_id == s.id) && i < 250; i++) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
        st_node_get_status(c->rpc->cfg.node, &s);
    }
    if (status != ST_OK) {
        if (status == ST_EUNKNOWN) {
            st_call_unavailable(c, "the transfer did not complete as asked: check Cluster.Status "
                                   "for the current leader");
        } else {
            membership_failed(c, status, q->id);
        }
        return;
    }
    Strata__V1__TransferLeadershipResponse resp = STRATA__V1__TRANSFER_LEADERSHIP_RESPONSE__INIT;
    resp.leader_id = s.leader_id != 0 && s.leader_id != s.id ? s.leader_id : q->id;
    st_call_ok(c, &resp.base);
}

static void transfer_leadership(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__TransferLeadershipRequest *q = (const void *)m;
    st_rpc *r = c->rpc;
    st_node_status s;
    st_node_get_status(r->cfg.node, &s);
    if (s.role != ST_ROLE_LEADER) {
        st_call_node_error(c, ST_ENOTLEADER);
        return;
    }
    if (st_call_require_role(c, ST_ROLE_OPERATOR) != ST_OK) {
        return;
    }
    if (q->id == s.id) {
        st_call_fail(c, GRPC_STATUS_FAILED_PRECONDITION, "node %llu already leads",
                     (unsigned long long)q->id);
        return;
    }
    st_call_await(c, transfer_then);
    int rc = st_node_transfer(r->cfg.node, q->id, st_call_node_cb, c);
    if (rc != ST_OK) {
        st_call_node_failed(c, rc);
    }
}

/* ---- RegisterNode ---- */

static void register_node_done(st_call *c, const st_apply_result *res) {
    (void)res;
    Strata__V1__RegisterNodeResponse resp = STRATA__V1__REGISTER_NODE_RESPONSE__INIT;
    st_call_ok(c, &resp.base);
}

static void register_node(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__RegisterNodeRequest *q = (const void *)m;
    if (st_call_check_request_id(c, &q->request_id) != ST_OK) {
        return;
    }
    Strata__Internal__SetMember body = STRATA__INTERNAL__SET_MEMBER__INIT;
    body.node_id = q->id;
    body.raft_address = q->raft;
    body.grpc_address = q->grpc;
    body.public_key = q->public_key;
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    cmd.request_id = q->request_id;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_SET_MEMBER;
    cmd.set_member = &body;
    st_call_propose(c, &cmd, register_node_done);
}

const st_method_def st_svc_cluster[] = {
    {"/strata.v1.Cluster/Status", &strata__v1__status_request__descriptor, status},
    {"/strata.v1.Cluster/AddMember", &strata__v1__add_member_request__descriptor, add_member},
    {"/strata.v1.Cluster/RemoveMember", &strata__v1__remove_member_request__descriptor,
     remove_member},
    {"/strata.v1.Cluster/TransferLeadership", &strata__v1__transfer_leadership_request__descriptor,
     transfer_leadership},
    {"/strata.v1.Cluster/RegisterNode", &strata__v1__register_node_request__descriptor,
     register_node},
    {NULL, NULL, NULL},
};
