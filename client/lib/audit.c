/* audit.c - typed calls of strata.v1.Audit: the action trail, the ballot export stream,
 * tree heads and proofs (checked by verify.c, never trusted as they come), a supervisor's
 * certification or dispute of a result.
 */
#include <string.h>

#include "client/lib/internal.h"

#define AUDIT "/strata.v1.Audit/"

int st_trail(st_client *c, uint64_t community_id, uint64_t after_seq, uint32_t limit,
             Strata__V1__TrailResponse **out, st_error *err) {
    Strata__V1__TrailRequest req = STRATA__V1__TRAIL_REQUEST__INIT;
    req.community_id = community_id;
    req.after_seq = after_seq;
    req.limit = limit;
    return st__unary(c, AUDIT "Trail", &req.base, &strata__v1__trail_response__descriptor, false,
                     (ProtobufCMessage **)out, err);
}

typedef struct {
    st_ballot_fn fn;
    void *ctx;
} export_ctx;

static int export_one(void *ctx, const ProtobufCMessage *msg) {
    const export_ctx *e = ctx;
    return e->fn(e->ctx, (const Strata__V1__Ballot *)msg);
}

int st_export_ballots(st_client *c, uint64_t vote_id, st_ballot_fn fn, void *ctx, uint64_t *count,
                      st_error *err) {
    Strata__V1__ExportBallotsRequest req = STRATA__V1__EXPORT_BALLOTS_REQUEST__INIT;
    req.vote_id = vote_id;
    export_ctx e = {fn, ctx};
    return st_client_stream(c, AUDIT "ExportBallots", &req.base, &strata__v1__ballot__descriptor,
                            NULL, export_one, &e, count, err);
}

int st_get_tree_head(st_client *c, uint64_t vote_id, Strata__V1__TreeHead **out, st_error *err) {
    Strata__V1__GetTreeHeadRequest req = STRATA__V1__GET_TREE_HEAD_REQUEST__INIT;
    req.vote_id = vote_id;
    return st__unary(c, AUDIT "GetTreeHead", &req.base, &strata__v1__tree_head__descriptor, false,
                     (ProtobufCMessage **)out, err);
}

int st_get_inclusion_proof(st_client *c, uint64_t vote_id, uint64_t leaf_index, uint64_t tree_size,
                           Strata__V1__Proof **out, st_error *err) {
    Strata__V1__InclusionProofRequest req = STRATA__V1__INCLUSION_PROOF_REQUEST__INIT;
    req.vote_id = vote_id;
    req.leaf_index = leaf_index;
    req.tree_size = tree_size;
    return st__unary(c, AUDIT "GetInclusionProof", &req.base, &strata__v1__proof__descriptor, false,
                     (ProtobufCMessage **)out, err);
}

int st_get_consistency_proof(st_client *c, uint64_t vote_id, uint64_t old_size, uint64_t new_size,
                             Strata__V1__Proof **out, st_error *err) {
    Strata__V1__ConsistencyProofRequest req = STRATA__V1__CONSISTENCY_PROOF_REQUEST__INIT;
    req.vote_id = vote_id;
    req.old_size = old_size;
    req.new_size = new_size;
    return st__unary(c, AUDIT "GetConsistencyProof", &req.base, &strata__v1__proof__descriptor,
                     false, (ProtobufCMessage **)out, err);
}

int st_review_vote(st_client *c, uint64_t vote_id, bool certify, const char *reason,
                   Strata__V1__Vote **out, st_error *err) {
    uint8_t rid[ST_CLIENT_REQUEST_ID_LEN];
    st_request_id_new(rid);
    ProtobufCMessage *resp = NULL;
    int rc;
    if (certify) {
        Strata__V1__CertifyRequest req = STRATA__V1__CERTIFY_REQUEST__INIT;
        req.request_id.data = rid;
        req.request_id.len = sizeof(rid);
        req.vote_id = vote_id;
        req.reason = (char *)(reason != NULL ? reason : "");
        rc = st__unary(c, AUDIT "Certify", &req.base, &strata__v1__vote__descriptor, true, &resp,
                       err);
    } else {
        if (reason == NULL || reason[0] == '\0') {
            return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "a dispute needs its reason");
        }
        Strata__V1__DisputeRequest req = STRATA__V1__DISPUTE_REQUEST__INIT;
        req.request_id.data = rid;
        req.request_id.len = sizeof(rid);
        req.vote_id = vote_id;
        req.reason = (char *)reason;
        rc = st__unary(c, AUDIT "Dispute", &req.base, &strata__v1__vote__descriptor, true, &resp,
                       err);
    }
    if (rc == ST_OK) {
        if (out != NULL) {
            *out = (Strata__V1__Vote *)resp;
        } else {
            protobuf_c_message_free_unpacked(resp, NULL);
        }
    }
    return rc;
}
