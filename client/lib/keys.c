/* keys.c - typed calls of strata.v1.Keys for staff keys and proxies: Genesis (signed by the
 * operator key it installs), AddKey, AppointOrganiser, RevokeKey, GetKey, AuthoriseProxy;
 * role names and key id parsing. Enrollment is enroll.c, owner key revocation revoke.c.
 */
#include <stdio.h>
#include <string.h>

#include "client/lib/internal.h"
#include "crypto/text.h"

#define KEYS "/strata.v1.Keys/"

const char *st_key_role_name(int role) {
    switch (role) {
    case ST_KEY_ROLE_OPERATOR:
        return "operator";
    case ST_KEY_ROLE_SUPERVISOR:
        return "supervisor";
    case ST_KEY_ROLE_ORGANISER:
        return "organiser";
    case ST_KEY_ROLE_OWNER:
        return "owner";
    default:
        return "unknown";
    }
}

int st_key_role_parse(const char *name) {
    for (int r = ST_KEY_ROLE_OPERATOR; r <= ST_KEY_ROLE_OWNER; r++) {
        if (strcmp(name, st_key_role_name(r)) == 0) {
            return r;
        }
    }
    return strcmp(name, "organizer") == 0 ? ST_KEY_ROLE_ORGANISER : 0;
}

int st_key_id_parse(const char *text, uint8_t id[ST_KEY_ID_LEN], st_error *err) {
    size_t n = strlen(text);
    char msg[160];
    if (n == ST_KEY_ID_HEX_LEN) {
        if (st_hex_decode(id, ST_KEY_ID_LEN, text, n, msg, sizeof(msg)) == ST_OK) {
            return ST_OK;
        }
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "key id \"%s\" is not 32 hex digits: %s",
                        text, msg);
    }
    uint8_t pk[ST_SIGN_PK_LEN];
    if (st_sign_pk_parse(pk, text, n, msg, sizeof(msg)) == ST_OK) {
        st_key_id(id, pk);
        return ST_OK;
    }
    return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                    "\"%.80s\" is neither a key id (32 hex digits) nor a public key (44 base64 "
                    "or 64 hex characters)",
                    text);
}

/* Fills out from a KeyResponse and frees it. */
static void key_result(ProtobufCMessage *resp, st_key_result *out) {
    const Strata__V1__KeyResponse *r = (const Strata__V1__KeyResponse *)resp;
    if (out != NULL) {
        memset(out, 0, sizeof(*out));
        if (r->key_id.len == ST_KEY_ID_LEN) {
            st_hex_encode(out->key_id, r->key_id.data, ST_KEY_ID_LEN);
        }
        out->seq = r->seq;
    }
    protobuf_c_message_free_unpacked(resp, NULL);
}

/* The handle's public key into pk; false when it has none. */
static bool handle_pk(st_client *c, uint8_t pk[ST_SIGN_PK_LEN]) {
    pthread_mutex_lock(&c->mu);
    bool have = c->key != NULL;
    if (have) {
        memcpy(pk, c->key->pk, ST_SIGN_PK_LEN);
    }
    pthread_mutex_unlock(&c->mu);
    return have;
}

static int key_call(st_client *c, const char *method, const ProtobufCMessage *req,
                    st_key_result *out, st_error *err) {
    ProtobufCMessage *resp = NULL;
    int rc = st__unary(c, method, req, &strata__v1__key_response__descriptor, true, &resp, err);
    if (rc == ST_OK) {
        key_result(resp, out);
    }
    return rc;
}

int st_genesis(st_client *c, const uint8_t operator_pk[ST_SIGN_PK_LEN],
               const uint8_t supervisor_pk[ST_SIGN_PK_LEN], const char *operator_label,
               const char *supervisor_label, st_key_result *out, st_error *err) {
    uint8_t mine[ST_SIGN_PK_LEN];
    if (!handle_pk(c, mine) || memcmp(mine, operator_pk, ST_SIGN_PK_LEN) != 0) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "Genesis is signed by the operator key it installs: give that key's "
                        "file with --key");
    }
    if (memcmp(operator_pk, supervisor_pk, ST_SIGN_PK_LEN) == 0) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "the operator and supervisor keys must be different keys");
    }
    uint8_t rid[ST_CLIENT_REQUEST_ID_LEN];
    st_request_id_new(rid);
    Strata__V1__GenesisRequest req = STRATA__V1__GENESIS_REQUEST__INIT;
    req.request_id.data = rid;
    req.request_id.len = sizeof(rid);
    req.operator_public_key.data = (uint8_t *)operator_pk;
    req.operator_public_key.len = ST_SIGN_PK_LEN;
    req.supervisor_public_key.data = (uint8_t *)supervisor_pk;
    req.supervisor_public_key.len = ST_SIGN_PK_LEN;
    req.operator_label = (char *)(operator_label != NULL ? operator_label : "");
    req.supervisor_label = (char *)(supervisor_label != NULL ? supervisor_label : "");
    return key_call(c, KEYS "Genesis", &req.base, out, err);
}

int st_add_key(st_client *c, const uint8_t pk[ST_SIGN_PK_LEN], int role, const char *label,
               st_key_result *out, st_error *err) {
    if (role != ST_KEY_ROLE_OPERATOR && role != ST_KEY_ROLE_SUPERVISOR) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "an operator adds operator or supervisor keys only; organisers are "
                        "appointed (strata appoint organiser) and owners enroll");
    }
    uint8_t rid[ST_CLIENT_REQUEST_ID_LEN];
    st_request_id_new(rid);
    Strata__V1__AddKeyRequest req = STRATA__V1__ADD_KEY_REQUEST__INIT;
    req.request_id.data = rid;
    req.request_id.len = sizeof(rid);
    req.public_key.data = (uint8_t *)pk;
    req.public_key.len = ST_SIGN_PK_LEN;
    req.role = (Strata__V1__Role)role;
    req.label = (char *)(label != NULL ? label : "");
    return key_call(c, KEYS "AddKey", &req.base, out, err);
}

int st_appoint_organiser(st_client *c, uint64_t community_id, const uint8_t pk[ST_SIGN_PK_LEN],
                         const char *label, st_key_result *out, st_error *err) {
    uint8_t rid[ST_CLIENT_REQUEST_ID_LEN];
    st_request_id_new(rid);
    Strata__V1__AppointOrganiserRequest req = STRATA__V1__APPOINT_ORGANISER_REQUEST__INIT;
    req.request_id.data = rid;
    req.request_id.len = sizeof(rid);
    req.community_id = community_id;
    req.public_key.data = (uint8_t *)pk;
    req.public_key.len = ST_SIGN_PK_LEN;
    req.label = (char *)(label != NULL ? label : "");
    return key_call(c, KEYS "AppointOrganiser", &req.base, out, err);
}

int st_revoke_key(st_client *c, const uint8_t key_id[ST_KEY_ID_LEN], const char *reason,
                  st_key_result *out, st_error *err) {
    uint8_t rid[ST_CLIENT_REQUEST_ID_LEN];
    st_request_id_new(rid);
    Strata__V1__RevokeKeyRequest req = STRATA__V1__REVOKE_KEY_REQUEST__INIT;
    req.request_id.data = rid;
    req.request_id.len = sizeof(rid);
    req.key_id.data = (uint8_t *)key_id;
    req.key_id.len = ST_KEY_ID_LEN;
    req.reason = (char *)(reason != NULL ? reason : "");
    return key_call(c, KEYS "RevokeKey", &req.base, out, err);
}

int st_get_key(st_client *c, const uint8_t key_id[ST_KEY_ID_LEN], Strata__V1__Key **out,
               st_error *err) {
    Strata__V1__GetKeyRequest req = STRATA__V1__GET_KEY_REQUEST__INIT;
    req.key_id.data = (uint8_t *)key_id;
    req.key_id.len = ST_KEY_ID_LEN;
    return st__unary(c, KEYS "GetKey", &req.base, &strata__v1__key__descriptor, false,
                     (ProtobufCMessage **)out, err);
}

int st_authorise_proxy(st_client *c, uint64_t vote_id, const char *principal_owner_id,
                       const char *proxy_owner_id, const uint8_t document_sha256[32],
                       st_error *err) {
    if (principal_owner_id == NULL || proxy_owner_id == NULL ||
        strcmp(principal_owner_id, proxy_owner_id) == 0) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "the principal and the proxy must be two different owners");
    }
    uint8_t rid[ST_CLIENT_REQUEST_ID_LEN];
    st_request_id_new(rid);
    Strata__V1__AuthoriseProxyRequest req = STRATA__V1__AUTHORISE_PROXY_REQUEST__INIT;
    req.request_id.data = rid;
    req.request_id.len = sizeof(rid);
    req.vote_id = vote_id;
    req.principal_owner_id = (char *)principal_owner_id;
    req.proxy_owner_id = (char *)proxy_owner_id;
    req.document_sha256.data = (uint8_t *)document_sha256;
    req.document_sha256.len = 32;
    ProtobufCMessage *resp = NULL;
    int rc = st__unary(c, KEYS "AuthoriseProxy", &req.base,
                       &strata__v1__authorise_proxy_response__descriptor, true, &resp, err);
    if (rc == ST_OK) {
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return rc;
}
