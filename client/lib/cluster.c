/* cluster.c - typed calls of strata.v1.Cluster for operators: a node's view of the
 * cluster, membership changes and leadership transfer (leader only: followers redirect).
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
