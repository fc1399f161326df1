/* client.h - a small gRPC C-core client for the cluster tests: unary calls and server
 * streams with the strata.v1 messages (protobuf-c), to one node or to the leader by
 * following `strata-leader`.
 *
 * Each call runs on its own completion queue on the calling thread, so any number of test
 * threads may call at once. Responses are protobuf-c messages the caller frees with
 * protobuf_c_message_free_unpacked(msg, NULL).
 */
#ifndef STRATA_TESTS_CLUSTER_CLIENT_H
#define STRATA_TESTS_CLUSTER_CLIENT_H

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "tests/cluster/harness.h"

typedef struct tc_client tc_client;

typedef struct {
    grpc_status_code code;
    char details[512];
    char leader[64]; /* the trailing `strata-leader`, "" if none */
    int node;        /* the node that gave this answer */
    int attempts;    /* calls made (tc_leader_call) */
} tc_status;

tc_client *tc_client_new(tc_cluster *c);
void tc_client_free(tc_client *cl);

/* One unary call to node id. On OK *resp (if resp is not NULL) holds the decoded answer of
 * type out. Returns the status code (also in *st). */
int tc_unary(tc_client *cl, int id, const char *method, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *out, ProtobufCMessage **resp, tc_status *st,
             int timeout_ms);

/* The call on the leader: starts with the last node that answered as leader, follows
 * `strata-leader`, tries the next node when none is named, and retries UNAVAILABLE and
 * DEADLINE_EXCEEDED (the same request, so the same request_id) until total_ms passed. */
int tc_leader_call(tc_client *cl, const char *method, const ProtobufCMessage *req,
                   const ProtobufCMessageDescriptor *out, ProtobufCMessage **resp, tc_status *st,
                   int total_ms);

/* A server-streaming call to node id: *msgs (malloc'd array of *n decoded messages) on OK. */
int tc_stream(tc_client *cl, int id, const char *method, const ProtobufCMessage *req,
              const ProtobufCMessageDescriptor *out, ProtobufCMessage ***msgs, size_t *n,
              tc_status *st, int timeout_ms);
void tc_free_msgs(ProtobufCMessage **msgs, size_t n);

/* The node last seen answering as leader (0 if none yet). */
int tc_client_leader(tc_client *cl);

#endif
