/* test_membership.c - membership through the Cluster RPCs: a 4th node started with --join
 * is added with AddMember, catches up (applied index, stale read of a vote) and becomes a
 * voter; leadership is transferred to it and writes go through it; leadership is handed
 * back; it is removed with RemoveMember and the three others go on. Also: membership calls
 * on a follower are UNAVAILABLE with the leader named, the leader cannot remove itself, and
 * removing a non-member is NOT_FOUND. The membership calls are signed by the operator (an
 * unsigned one is UNAUTHENTICATED); the new node is registered in the replicated roster
 * (RegisterNode) and, while it leads, its receipts verify against its registered key; once
 * removed, its roster entry is removed too. The new node is registered before it is added:
 * the members' Raft transport accepts only registered keys.
 *
 * Usage: cluster_membership STRATAD DATA_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cluster/steps.h"
#include "tests/core/check.h"

#define N 3
#define NEW 4

static int member_role(const Strata__V1__StatusResponse *s, uint64_t id) {
    for (size_t i = 0; i < s->n_members; i++) {
        if (s->members[i]->id == id) {
            return s->members[i]->role;
        }
    }
    return -1;
}

static const tc_key *op; /* the operator key that signs the membership calls */

static int call(tc_client *cl, int node, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *out, ProtobufCMessage **resp, tc_status *st) {
    return node == 0 ? tc_leader_call_as(cl, op, method, req, out, resp, st, TC_WRITE_MS)
                     : tc_unary_as(cl, op, node, method, req, out, resp, st, 15000);
}

/* A paper ballot entered by the organiser, with a scan hash unique to k. */
static uint64_t cast(tc_client *cl, const tc_world *w, uint64_t community, uint64_t vote, int k,
                     const char *owner, int choice, tc_cast_result *out) {
    uint8_t scan[32] = {(uint8_t)(k >> 8), (uint8_t)k, 0x4d};
    return tc_cast_paper(cl, w, community, vote, owner, choice, scan, out);
}

/* Whether the trail holds a member.remove event for node id. */
static bool roster_removed(tc_client *cl, int id) {
    Strata__V1__TrailRequest tr = STRATA__V1__TRAIL_REQUEST__INIT;
    ProtobufCMessage *resp;
    tc_status st;
    if (tc_leader_call(cl, "/strata.v1.Audit/Trail", &tr.base,
                       &strata__v1__trail_response__descriptor, &resp, &st,
                       TC_WRITE_MS) != GRPC_STATUS_OK) {
        return false;
    }
    char want[32];
    snprintf(want, sizeof(want), "removed node %d;", id);
    bool found = false;
    Strata__V1__TrailResponse *t = (void *)resp;
    for (size_t i = 0; i < t->n_events; i++) {
        found |= strcmp(t->events[i]->kind, "member.remove") == 0 &&
                 strstr(t->events[i]->summary, want) != NULL;
    }
    protobuf_c_message_free_unpacked(resp, NULL);
    return found;
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    tc_options o = {.stratad = argv[1]};
    tc_cluster *c = tc_new(&o, "membership");
    for (int i = 1; i <= N; i++) {
        tc_start(c, i, false);
    }
    tc_client *cl = tc_client_new(c);
    int leader = tc_wait_leader(cl, c, N, 15000);
    CHECK(leader != 0);

    tc_world w;
    tc_world_init(&w);
    op = &w.op;
    uint64_t community = tc_world_setup(cl, c, &w, N, "membership");
    tc_roll roll;
    tc_roll_generated(30, &roll);
    tc_import_roll(cl, &w, community, &roll);
    uint64_t vote = tc_create_vote(cl, &w, community, 4, "选聘物业服务企业");
    tc_vote_step(cl, &w, community, "NoticeVote", vote);
    tc_vote_step(cl, &w, community, "OpenVote", vote);
    for (int i = 0; i < 50; i++) {
        char owner[16];
        snprintf(owner, sizeof(owner), "O%d", 1 + i % 30);
        cast(cl, &w, community, vote, i, owner, 1 + i % 3, NULL);
    }

    tc_start(c, NEW, true);
    char raft[32], grpc[32];
    snprintf(raft, sizeof(raft), "127.0.0.1:%d", tc_raft_port(c, NEW));
    snprintf(grpc, sizeof(grpc), "127.0.0.1:%d", tc_grpc_port(c, NEW));
    Strata__V1__AddMemberRequest add = STRATA__V1__ADD_MEMBER_REQUEST__INIT;
    add.id = NEW;
    add.raft = raft;
    add.grpc = grpc;
    tc_status st;
    ProtobufCMessage *resp;

    /* On a follower: UNAVAILABLE, naming the leader. */
    leader = tc_wait_leader(cl, c, N, 5000);
    int follower = leader % N + 1;
    CHECK_EQ(call(cl, follower, "/strata.v1.Cluster/AddMember", &add.base,
                  &strata__v1__add_member_response__descriptor, &resp, &st),
             GRPC_STATUS_UNAVAILABLE);
    CHECK_STR(st.leader, tc_grpc_addr(c, leader));

    /* Unsigned, or signed by another role: refused. */
    CHECK_EQ(tc_leader_call(cl, "/strata.v1.Cluster/AddMember", &add.base,
                            &strata__v1__add_member_response__descriptor, &resp, &st, TC_WRITE_MS),
             GRPC_STATUS_UNAUTHENTICATED);
    CHECK_EQ(tc_leader_call_as(cl, &w.sup, "/strata.v1.Cluster/AddMember", &add.base,
                               &strata__v1__add_member_response__descriptor, &resp, &st,
                               TC_WRITE_MS),
             GRPC_STATUS_PERMISSION_DENIED);

    tc_register_node(cl, c, &w, NEW);
    uint64_t t0 = tc_now_ms();
    CHECK_EQ(call(cl, 0, "/strata.v1.Cluster/AddMember", &add.base,
                  &strata__v1__add_member_response__descriptor, &resp, &st),
             GRPC_STATUS_OK);
    protobuf_c_message_free_unpacked(resp, NULL);
    leader = tc_client_leader(cl);
    Strata__V1__StatusResponse *s = tc_status_of(cl, leader, 2000);
    CHECK(s != NULL);
    CHECK_EQ(s->n_members, 4);
    CHECK_EQ(member_role(s, NEW), STRATA__V1__MEMBER_ROLE__MEMBER_VOTER);
    protobuf_c_message_free_unpacked(&s->base, NULL);
    uint64_t commit = tc_leader_commit(cl);
    CHECK(tc_wait_applied(cl, NEW, commit, 20000));
    printf("node %d added as a voter and caught up to index %llu in %llu ms\n", NEW,
           (unsigned long long)commit, (unsigned long long)(tc_now_ms() - t0));
    Strata__V1__Vote *lv = tc_get_vote(cl, 0, vote);
    Strata__V1__Vote *nv = tc_get_vote(cl, NEW, vote);
    CHECK_EQ(nv->ballot_count, 50);
    CHECK_EQ(nv->tally->agree_area, lv->tally->agree_area);
    protobuf_c_message_free_unpacked(&lv->base, NULL);
    protobuf_c_message_free_unpacked(&nv->base, NULL);
    s = tc_status_of(cl, NEW, 2000);
    CHECK(s != NULL && strcmp(s->state, "follower") == 0 && s->leader_id == (uint64_t)leader);
    CHECK_STR(s->leader_grpc, tc_grpc_addr(c, leader));
    protobuf_c_message_free_unpacked(&s->base, NULL);
    tc_register_nodes(cl, c, &w, NEW);
    st_trusted_key trusted[TC_MAX_NODES];
    size_t n_trusted = tc_trusted_keys(cl, NEW, trusted, TC_MAX_NODES);
    CHECK_EQ(n_trusted, NEW);

    /* Leadership to the new node; writes go through it. */
    Strata__V1__TransferLeadershipRequest tr = STRATA__V1__TRANSFER_LEADERSHIP_REQUEST__INIT;
    tr.id = NEW;
    CHECK_EQ(call(cl, 0, "/strata.v1.Cluster/TransferLeadership", &tr.base,
                  &strata__v1__transfer_leadership_response__descriptor, &resp, &st),
             GRPC_STATUS_OK);
    CHECK_EQ(((Strata__V1__TransferLeadershipResponse *)resp)->leader_id, NEW);
    protobuf_c_message_free_unpacked(resp, NULL);
    CHECK_EQ(tc_wait_leader(cl, c, NEW, 10000), NEW);
    printf("leadership transferred to node %d\n", NEW);
    tc_cast_result r;
    CHECK_EQ(cast(cl, &w, community, vote, 51, "O1", 1, &r), 51);
    CHECK_EQ(tc_client_leader(cl), NEW);
    CHECK_EQ(r.receipt.sth.node_id, NEW);
    tc_check_receipt(&r, trusted, n_trusted);
    printf("node %d's receipt verifies against its registered key\n", NEW);

    /* The leader cannot remove itself; a non-member is not found. */
    Strata__V1__RemoveMemberRequest rm = STRATA__V1__REMOVE_MEMBER_REQUEST__INIT;
    rm.id = NEW;
    CHECK_EQ(call(cl, NEW, "/strata.v1.Cluster/RemoveMember", &rm.base,
                  &strata__v1__remove_member_response__descriptor, &resp, &st),
             GRPC_STATUS_FAILED_PRECONDITION);
    rm.id = 9;
    CHECK_EQ(call(cl, NEW, "/strata.v1.Cluster/RemoveMember", &rm.base,
                  &strata__v1__remove_member_response__descriptor, &resp, &st),
             GRPC_STATUS_NOT_FOUND);

    /* Hand leadership back (to whichever follower is best), then remove node 4. */
    tr.id = 0;
    CHECK_EQ(call(cl, NEW, "/strata.v1.Cluster/TransferLeadership", &tr.base,
                  &strata__v1__transfer_leadership_response__descriptor, &resp, &st),
             GRPC_STATUS_OK);
    uint64_t next = ((Strata__V1__TransferLeadershipResponse *)resp)->leader_id;
    protobuf_c_message_free_unpacked(resp, NULL);
    CHECK(next >= 1 && next <= N);
    leader = tc_wait_leader(cl, c, N, 10000);
    CHECK(leader != 0);
    printf("leadership handed back to node %d\n", leader);
    rm.id = NEW;
    CHECK_EQ(call(cl, 0, "/strata.v1.Cluster/RemoveMember", &rm.base,
                  &strata__v1__remove_member_response__descriptor, &resp, &st),
             GRPC_STATUS_OK);
    protobuf_c_message_free_unpacked(resp, NULL);
    s = tc_status_of(cl, tc_client_leader(cl), 2000);
    CHECK(s != NULL);
    CHECK_EQ(s->n_members, 3);
    CHECK_EQ(member_role(s, NEW), -1);
    protobuf_c_message_free_unpacked(&s->base, NULL);
    CHECK_EQ(tc_stop(c, NEW, 10000), 0);
    bool gone = false;
    for (int i = 0; i < 100 && !gone; i++) {
        gone = roster_removed(cl, NEW);
        if (!gone) {
            tc_sleep_ms(50);
        }
    }
    CHECK(gone);
    printf("node %d removed from Raft and from the roster, and stopped\n", NEW);

    /* The three go on, and tolerate one of them down again. */
    CHECK_EQ(cast(cl, &w, community, vote, 52, "O2", 2, NULL), 52);
    follower = tc_client_leader(cl) % N + 1;
    CHECK_EQ(tc_stop(c, follower, 10000), 0);
    CHECK_EQ(cast(cl, &w, community, vote, 53, "O3", 3, NULL), 53);
    tc_start(c, follower, false);

    tc_roll_free(&roll);
    tc_world_free(&w);
    tc_client_free(cl);
    tc_finish(c);
    printf("ok\n");
    return 0;
}
