/* client.h - a small gRPC C-core client for the cluster tests: unary calls and server
 * streams with the strata.v1 messages (protobuf-c), to one node or to the leader by
 * following `strata-leader`, unsigned or signed with a test key: the signed request
 * envelope of docs/FORMATS.md §8 (crypto/request.h) over the method and the exact request
 * bytes, as binary metadata `strata-auth-bin`, made afresh (new nonce and time) for every
 * attempt.
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
#include <stdint.h>

#include "crypto/request.h"
#include "tests/cluster/harness.h"

typedef struct tc_client tc_client;

/* A test key pair (Ed25519), its key id and the id in hex. */
typedef struct {
    uint8_t sk[64], pk[32], id[16];
    char hex[33];
} tc_key;

/* A fresh random key. */
void tc_key_new(tc_key *k);

/* The envelope that signs method over req with key, its timestamp moved by skew_ms from
 * now (tests of the ±5-minute window), a fresh nonce; into out (ST_REQUEST_MAX_LEN bytes).
 * Returns its length. */
size_t tc_sign(const tc_key *key, const char *method, const ProtobufCMessage *req, int64_t skew_ms,
               uint8_t out[ST_REQUEST_MAX_LEN]);

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
 * type out. Returns the status code (also in *st). tc_unary sends no signature; tc_unary_as
 * signs with key (NULL: none); tc_unary_env attaches the given envelope as it is (a replay,
 * or an envelope made for other bytes). */
int tc_unary(tc_client *cl, int id, const char *method, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *out, ProtobufCMessage **resp, tc_status *st,
             int timeout_ms);
int tc_unary_as(tc_client *cl, const tc_key *key, int id, const char *method,
                const ProtobufCMessage *req, const ProtobufCMessageDescriptor *out,
                ProtobufCMessage **resp, tc_status *st, int timeout_ms);
int tc_unary_env(tc_client *cl, int id, const char *method, const ProtobufCMessage *req,
                 const uint8_t *env, size_t env_len, const ProtobufCMessageDescriptor *out,
                 ProtobufCMessage **resp, tc_status *st, int timeout_ms);

/* The call on the leader: starts with the last node that answered as leader, follows
 * `strata-leader`, tries the next node when none is named, and retries UNAVAILABLE and
 * DEADLINE_EXCEEDED (the same request, so the same request_id) until total_ms passed. */
int tc_leader_call(tc_client *cl, const char *method, const ProtobufCMessage *req,
                   const ProtobufCMessageDescriptor *out, ProtobufCMessage **resp, tc_status *st,
                   int total_ms);
/* The same, each attempt signed afresh with key (NULL: unsigned). */
int tc_leader_call_as(tc_client *cl, const tc_key *key, const char *method,
                      const ProtobufCMessage *req, const ProtobufCMessageDescriptor *out,
                      ProtobufCMessage **resp, tc_status *st, int total_ms);

/* A server-streaming call to node id: *msgs (malloc'd array of *n decoded messages) on OK. */
int tc_stream(tc_client *cl, int id, const char *method, const ProtobufCMessage *req,
              const ProtobufCMessageDescriptor *out, ProtobufCMessage ***msgs, size_t *n,
              tc_status *st, int timeout_ms);
void tc_free_msgs(ProtobufCMessage **msgs, size_t n);

/* The node last seen answering as leader (0 if none yet). */
int tc_client_leader(tc_client *cl);

#endif
