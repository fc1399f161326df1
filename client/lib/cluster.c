/* cluster.c - typed calls of strata.v1.Cluster for operators: a node's view of the
 * cluster, membership changes and leadership transfer (leader only: followers redirect),
 * registering a node's tree-head key in the roster; and the node keys a client trusts.
 */
#include <string.h>

#include "client/lib/internal.h"

#define CLUSTER "/strata.v1.Cluster/"

int st_cluster_status(st_client *c, const char *address, Strata__V1__StatusResponse **out,
                      st_error *err) {
    Strata__V1__StatusRequest req = STRATA__V1__STATUS_REQUEST__INIT;
    st_call_options o;
    memset(&o, 0, sizeof(o));
    o.address = address;
    return st_client_unary(c, CLUSTER "Status", &req.base, &strata__v1__status_response__descriptor,
                           &o, (ProtobufCMessage **)out, err);
}

int st_cluster_add(st_client *c, uint64_t id, const char *raft_address, const char *grpc_address,
                   st_error *err) {
    if (id == 0 || raft_address == NULL || raft_address[0] == '\0' || grpc_address == NULL ||
        grpc_address[0] == '\0') {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "a new member needs an id above 0, a Raft address and a gRPC address");
    }
    Strata__V1__AddMemberRequest req = STRATA__V1__ADD_MEMBER_REQUEST__INIT;
    req.id = id;
    req.raft = (char *)raft_address;
    req.grpc = (char *)grpc_address;
    ProtobufCMessage *resp = NULL;
    int rc = st__unary(c, CLUSTER "AddMember", &req.base,
                       &strata__v1__add_member_response__descriptor, true, &resp, err);
    if (rc == ST_OK) {
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return rc;
}

int st_cluster_remove(st_client *c, uint64_t id, st_error *err) {
    Strata__V1__RemoveMemberRequest req = STRATA__V1__REMOVE_MEMBER_REQUEST__INIT;
    req.id = id;
    ProtobufCMessage *resp = NULL;
    int rc = st__unary(c, CLUSTER "RemoveMember", &req.base,
                       &strata__v1__remove_member_response__descriptor, true, &resp, err);
    if (rc == ST_OK) {
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return rc;
}

int st_cluster_transfer(st_client *c, uint64_t id, uint64_t *leader_id, st_error *err) {
    Strata__V1__TransferLeadershipRequest req = STRATA__V1__TRANSFER_LEADERSHIP_REQUEST__INIT;
    req.id = id;
    ProtobufCMessage *resp = NULL;
    int rc = st__unary(c, CLUSTER "TransferLeadership", &req.base,
                       &strata__v1__transfer_leadership_response__descriptor, true, &resp, err);
    if (rc == ST_OK) {
        if (leader_id != NULL) {
            *leader_id = ((Strata__V1__TransferLeadershipResponse *)resp)->leader_id;
        }
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return rc;
}

const char *st_member_role_name(int role) {
    switch (role) {
    case STRATA__V1__MEMBER_ROLE__MEMBER_VOTER:
        return "voter";
    case STRATA__V1__MEMBER_ROLE__MEMBER_STANDBY:
        return "standby";
    case STRATA__V1__MEMBER_ROLE__MEMBER_SPARE:
        return "spare";
    default:
        return "unknown";
    }
}

int st_register_node(st_client *c, uint64_t id, const char *raft_address, const char *grpc_address,
                     const uint8_t pk[ST_SIGN_PK_LEN], st_error *err) {
    if (id == 0 || raft_address == NULL || grpc_address == NULL) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "a node needs an id above 0, its Raft and gRPC addresses and its key");
    }
    uint8_t rid[ST_CLIENT_REQUEST_ID_LEN];
    st_request_id_new(rid);
    Strata__V1__RegisterNodeRequest req = STRATA__V1__REGISTER_NODE_REQUEST__INIT;
    req.request_id.data = rid;
    req.request_id.len = sizeof(rid);
    req.id = id;
    req.raft = (char *)raft_address;
    req.grpc = (char *)grpc_address;
    req.public_key.data = (uint8_t *)pk;
    req.public_key.len = ST_SIGN_PK_LEN;
    ProtobufCMessage *resp = NULL;
    int rc = st__unary(c, CLUSTER "RegisterNode", &req.base,
                       &strata__v1__register_node_response__descriptor, true, &resp, err);
    if (rc == ST_OK) {
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return rc;
}

int st_trusted_nodes(st_client *c, st_trusted_key *keys, size_t cap, size_t *n, st_error *err) {
    Strata__V1__StatusResponse *s = NULL;
    *n = 0;
    int rc = st_cluster_status(c, NULL, &s, err);
    if (rc != ST_OK) {
        return rc;
    }
    for (size_t i = 0; i < s->n_members && *n < cap; i++) {
        const Strata__V1__Member *m = s->members[i];
        if (m->public_key.len == ST_SIGN_PK_LEN) {
            keys[*n].node_id = m->id;
            memcpy(keys[*n].pubkey, m->public_key.data, ST_SIGN_PK_LEN);
            (*n)++;
        }
    }
    uint64_t node = s->node_id;
    strata__v1__status_response__free_unpacked(s, NULL);
    if (*n == 0) {
        return st__fail(err, ST_FAIL_REFUSED, ST_ENOENT,
                        "node %llu lists no registered node key, so no tree head can be trusted "
                        "yet; the operator registers each node's key (strata cluster register "
                        "ID)",
                        (unsigned long long)node);
    }
    return ST_OK;
}
