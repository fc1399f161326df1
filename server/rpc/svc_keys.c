/* svc_keys.c - strata.v1.Keys: the key registry, owners' enrollment, revocation and proxy
 * authorisations (docs/ROLES.md). Every method but GetKey is a write: the request is signed
 * (auth.c), its body becomes the internal command of the same name, and the state machine
 * decides by the role matrix.
 *
 *   Genesis           Genesis {operator and supervisor keys}; signed by the operator key it
 *                     installs (not registered yet) -> that key's id and sequence number
 *   AddKey            AddKey (operator) -> the new key's id and sequence number
 *   AppointOrganiser  AppointOrganiser (supervisor) -> the organiser key's id and sequence
 *   RevokeKey         RevokeKey -> the revoked key's id and sequence number
 *   IssueEnrollment   IssueEnrollmentCode (organiser) -> the code's sequence number and
 *                     when it expires (read back after apply)
 *   RedeemEnrollment  RedeemEnrollmentCode; signed by the owner's new key (not registered
 *                     yet) -> the new key's id and sequence number
 *   RevokeOwnerKey    RevokeOwnerKey (organiser, with a supervisor's co-signature)
 *   AuthoriseProxy    AuthoriseProxy (organiser)
 *   GetKey            linearizable read: a key's public data
 */
#include <string.h>

#include "core/error.h"
#include "crypto/text.h"
#include "proto/strata/v1/keys.pb-c.h"
#include "server/rpc/convert.h"
#include "server/rpc/internal.h"

typedef Strata__Internal__Command pb_command;

/* Answers a KeyResponse naming key_id (16 bytes) with the result's sequence number. */
static void reply_key(st_call *c, const uint8_t key_id[ST_KEY_ID_LEN], uint64_t seq) {
    Strata__V1__KeyResponse resp = STRATA__V1__KEY_RESPONSE__INIT;
    resp.key_id = (ProtobufCBinaryData){ST_KEY_ID_LEN, (uint8_t *)key_id};
    resp.seq = seq;
    st_call_ok(c, &resp.base);
}

/* Answers with the id of a 32-byte public key the request registered. */
static void reply_public_key(st_call *c, const ProtobufCBinaryData *pk, uint64_t seq) {
    uint8_t id[ST_KEY_ID_LEN];
    memset(id, 0, sizeof(id));
    if (pk->len == ST_SIGN_PK_LEN) {
        st_key_id(id, pk->data);
    }
    reply_key(c, id, seq);
}

/* The common start of every write: the request id; the command envelope for body_case. */
static bool begin(st_call *c, const ProtobufCBinaryData *request_id, pb_command *cmd,
                  Strata__Internal__Command__BodyCase body_case) {
    if (st_call_check_request_id(c, request_id) != ST_OK) {
        return false;
    }
    strata__internal__command__init(cmd);
    cmd->request_id = *request_id;
    cmd->body_case = body_case;
    return true;
}

/* ---- Genesis ---- */

static void genesis_done(st_call *c, const st_apply_result *res) {
    const Strata__V1__GenesisRequest *q = (const void *)c->req;
    reply_public_key(c, &q->operator_public_key, res->id);
}

static void genesis(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__GenesisRequest *q = (const void *)m;
    pb_command cmd;
    if (!begin(c, &q->request_id, &cmd, STRATA__INTERNAL__COMMAND__BODY_GENESIS)) {
        return;
    }
    if (q->operator_public_key.len != ST_SIGN_PK_LEN) {
        /* The request is verified with this key: without it there is nothing to check. */
        st_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT,
                     "operator_public_key must be the operator's Ed25519 public key (32 bytes), "
                     "not %zu bytes; the request is signed with its secret key",
                     q->operator_public_key.len);
        return;
    }
    Strata__Internal__Genesis body = STRATA__INTERNAL__GENESIS__INIT;
    body.operator_public_key = q->operator_public_key;
    body.supervisor_public_key = q->supervisor_public_key;
    body.operator_label = q->operator_label;
    body.supervisor_label = q->supervisor_label;
    cmd.genesis = &body;
    st_call_propose(c, &cmd, genesis_done);
}

/* ---- AddKey, AppointOrganiser ---- */

static void add_key_done(st_call *c, const st_apply_result *res) {
    const Strata__V1__AddKeyRequest *q = (const void *)c->req;
    reply_public_key(c, &q->public_key, res->id);
}

static void add_key(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__AddKeyRequest *q = (const void *)m;
    pb_command cmd;
    if (!begin(c, &q->request_id, &cmd, STRATA__INTERNAL__COMMAND__BODY_ADD_KEY)) {
        return;
    }
    Strata__Internal__AddKey body = STRATA__INTERNAL__ADD_KEY__INIT;
    body.public_key = q->public_key;
    body.role = (Strata__Internal__Role)q->role;
    body.label = q->label;
    cmd.add_key = &body;
    st_call_propose(c, &cmd, add_key_done);
}

static void appoint_done(st_call *c, const st_apply_result *res) {
    const Strata__V1__AppointOrganiserRequest *q = (const void *)c->req;
    reply_public_key(c, &q->public_key, res->id);
}

static void appoint_organiser(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__AppointOrganiserRequest *q = (const void *)m;
    pb_command cmd;
    if (!begin(c, &q->request_id, &cmd, STRATA__INTERNAL__COMMAND__BODY_APPOINT_ORGANISER)) {
        return;
    }
    Strata__Internal__AppointOrganiser body = STRATA__INTERNAL__APPOINT_ORGANISER__INIT;
    body.community_id = q->community_id;
    body.public_key = q->public_key;
    body.label = q->label;
    cmd.appoint_organiser = &body;
    st_call_propose(c, &cmd, appoint_done);
}

/* ---- RevokeKey, RevokeOwnerKey ---- */

static void revoke_key_done(st_call *c, const st_apply_result *res) {
    const Strata__V1__RevokeKeyRequest *q = (const void *)c->req;
    reply_key(c, q->key_id.data, res->id); /* 16 bytes: apply checked */
}

static void revoke_key(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__RevokeKeyRequest *q = (const void *)m;
    pb_command cmd;
    if (!begin(c, &q->request_id, &cmd, STRATA__INTERNAL__COMMAND__BODY_REVOKE_KEY)) {
        return;
    }
    Strata__Internal__RevokeKey body = STRATA__INTERNAL__REVOKE_KEY__INIT;
    body.key_id = q->key_id;
    body.reason = q->reason;
    cmd.revoke_key = &body;
    st_call_propose(c, &cmd, revoke_key_done);
}

static void revoke_owner_done(st_call *c, const st_apply_result *res) {
    const Strata__V1__RevokeOwnerKeyRequest *q = (const void *)c->req;
    reply_key(c, q->key_id.data, res->id);
}

static void revoke_owner_key(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__RevokeOwnerKeyRequest *q = (const void *)m;
    pb_command cmd;
    if (!begin(c, &q->request_id, &cmd, STRATA__INTERNAL__COMMAND__BODY_REVOKE_OWNER_KEY)) {
        return;
    }
    Strata__Internal__RevokeOwnerKey body = STRATA__INTERNAL__REVOKE_OWNER_KEY__INIT;
    body.key_id = q->key_id;
    body.reason = q->reason;
    body.signed_ms = q->signed_ms;
    body.organiser_signature = q->organiser_signature;
    body.supervisor_key_id = q->supervisor_key_id;
    body.supervisor_signature = q->supervisor_signature;
    cmd.revoke_owner_key = &body;
    st_call_propose(c, &cmd, revoke_owner_done);
}

/* ---- IssueEnrollment, RedeemEnrollment ---- */

static void issue_done(st_call *c, const st_apply_result *res) {
    const Strata__V1__IssueEnrollmentRequest *q = (const void *)c->req;
    Strata__V1__IssueEnrollmentResponse resp = STRATA__V1__ISSUE_ENROLLMENT_RESPONSE__INIT;
    resp.seq = res->id;
    uint8_t code_id[ST_KEY_ID_LEN];
    st_key_id(code_id, q->code_public_key.data); /* 32 bytes: apply checked */
    st_enrollment_info e;
    if (st_state_get_enrollment(c->rpc->cfg.state, code_id, &e) == ST_OK) {
        /* A later code for the same owner may have superseded it already: the expiry
         * stays what it was issued with. */
        resp.expires_ms = e.expires_ms;
    }
    st_call_ok(c, &resp.base);
}

static void issue_enrollment(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__IssueEnrollmentRequest *q = (const void *)m;
    pb_command cmd;
    if (!begin(c, &q->request_id, &cmd, STRATA__INTERNAL__COMMAND__BODY_ISSUE_ENROLLMENT_CODE)) {
        return;
    }
    Strata__Internal__IssueEnrollmentCode body = STRATA__INTERNAL__ISSUE_ENROLLMENT_CODE__INIT;
    body.community_id = q->community_id;
    body.owner_id = q->owner_id;
    body.code_public_key = q->code_public_key;
    if (q->valid_case == STRATA__V1__ISSUE_ENROLLMENT_REQUEST__VALID_VALID_DAYS) {
        body.valid_case = STRATA__INTERNAL__ISSUE_ENROLLMENT_CODE__VALID_VALID_DAYS;
        body.valid_days = q->valid_days;
    }
    cmd.issue_enrollment_code = &body;
    st_call_propose(c, &cmd, issue_done);
}

static void redeem_done(st_call *c, const st_apply_result *res) {
    const Strata__V1__RedeemEnrollmentRequest *q = (const void *)c->req;
    reply_public_key(c, &q->public_key, res->id);
}

static void redeem_enrollment(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__RedeemEnrollmentRequest *q = (const void *)m;
    pb_command cmd;
    if (!begin(c, &q->request_id, &cmd, STRATA__INTERNAL__COMMAND__BODY_REDEEM_ENROLLMENT_CODE)) {
        return;
    }
    if (q->public_key.len != ST_SIGN_PK_LEN) {
        st_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT,
                     "public_key must be the new owner key (32 bytes), not %zu bytes; the "
                     "request is signed with its secret key",
                     q->public_key.len);
        return;
    }
    Strata__Internal__RedeemEnrollmentCode body = STRATA__INTERNAL__REDEEM_ENROLLMENT_CODE__INIT;
    body.community_id = q->community_id;
    body.owner_id = q->owner_id;
    body.public_key = q->public_key;
    body.code_public_key = q->code_public_key;
    body.signed_ms = q->signed_ms;
    body.signature = q->signature;
    body.code_signature = q->code_signature;
    cmd.redeem_enrollment_code = &body;
    st_call_propose(c, &cmd, redeem_done);
}

/* ---- AuthoriseProxy ---- */

static void proxy_done(st_call *c, const st_apply_result *res) {
    (void)res;
    Strata__V1__AuthoriseProxyResponse resp = STRATA__V1__AUTHORISE_PROXY_RESPONSE__INIT;
    st_call_ok(c, &resp.base);
}

static void authorise_proxy(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__AuthoriseProxyRequest *q = (const void *)m;
    pb_command cmd;
    if (!begin(c, &q->request_id, &cmd, STRATA__INTERNAL__COMMAND__BODY_AUTHORISE_PROXY)) {
        return;
    }
    Strata__Internal__AuthoriseProxy body = STRATA__INTERNAL__AUTHORISE_PROXY__INIT;
    body.vote_id = q->vote_id;
    body.principal_owner_id = q->principal_owner_id;
    body.proxy_owner_id = q->proxy_owner_id;
    body.document_sha256 = q->document_sha256;
    cmd.authorise_proxy = &body;
    st_call_propose(c, &cmd, proxy_done);
}

/* ---- GetKey ---- */

static void get_key_read(st_call *c) {
    const Strata__V1__GetKeyRequest *q = (const void *)c->req;
    char hex[ST_KEY_ID_HEX_LEN + 1];
    st_hex_encode(hex, q->key_id.data, ST_KEY_ID_LEN);
    st_key_info k;
    int rc = st_state_get_key(c->rpc->cfg.state, q->key_id.data, &k);
    if (rc != ST_OK) {
        st_call_read_failed(c, rc, "key %s is not registered", hex);
        return;
    }
    st_arena a = ST_ARENA_INIT;
    Strata__V1__Key *resp = st_v1_key(&a, &k);
    if (resp != NULL) {
        st_call_ok(c, &resp->base);
    } else {
        st_call_node_error(c, ST_ENOMEM);
    }
    st_arena_free(&a);
}

static void get_key(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__GetKeyRequest *q = (const void *)m;
    if (q->key_id.len != ST_KEY_ID_LEN) {
        st_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT,
                     "key_id must be 16 bytes (a key id, docs/FORMATS.md §2), not %zu",
                     q->key_id.len);
        return;
    }
    st_call_linear(c, get_key_read);
}

const st_method_def st_svc_keys[] = {
    {"/strata.v1.Keys/Genesis", &strata__v1__genesis_request__descriptor, genesis},
    {"/strata.v1.Keys/AddKey", &strata__v1__add_key_request__descriptor, add_key},
    {"/strata.v1.Keys/AppointOrganiser", &strata__v1__appoint_organiser_request__descriptor,
     appoint_organiser},
    {"/strata.v1.Keys/RevokeKey", &strata__v1__revoke_key_request__descriptor, revoke_key},
    {"/strata.v1.Keys/IssueEnrollment", &strata__v1__issue_enrollment_request__descriptor,
     issue_enrollment},
    {"/strata.v1.Keys/RedeemEnrollment", &strata__v1__redeem_enrollment_request__descriptor,
     redeem_enrollment},
    {"/strata.v1.Keys/RevokeOwnerKey", &strata__v1__revoke_owner_key_request__descriptor,
     revoke_owner_key},
    {"/strata.v1.Keys/AuthoriseProxy", &strata__v1__authorise_proxy_request__descriptor,
     authorise_proxy},
    {"/strata.v1.Keys/GetKey", &strata__v1__get_key_request__descriptor, get_key},
    {NULL, NULL, NULL},
};
