/* apply_keys.c - the key registry: Genesis (the first operator and supervisor keys),
 * AddKey (operators add operator and supervisor keys), AppointOrganiser (supervisors
 * appoint a community's organisers), RevokeKey (staff keys) and RevokeOwnerKey (an owner's
 * key, by an organiser with a supervisor's co-signature), and the helpers every handler
 * uses to check who the actor is. docs/ROLES.md has the role matrix.
 *
 * A key is registered once and never deleted: a revoked key keeps its record (role,
 * owner, times) so ballots it signed before the revocation stay explained and counted, and
 * its id can never be registered again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/error.h"
#include "crypto/text.h"
#include "server/apply.h"
#include "crypto/approval.h"

const char *st_role_name(st_role r) {
    switch (r) {
    case ST_ROLE_OPERATOR:
        return "operator";
    case ST_ROLE_SUPERVISOR:
        return "supervisor";
    case ST_ROLE_ORGANISER:
        return "organiser";
    case ST_ROLE_OWNER:
        return "owner";
    default:
        return "unknown";
    }
}

/* ---- helpers ---- */

bool st_parse_key_hex(const char *hex, uint8_t id[16]) {
    if (hex == NULL || strlen(hex) != ST_KEY_ID_HEX_LEN) {
        return false;
    }
    for (size_t i = 0; i < ST_KEY_ID_HEX_LEN; i++) {
        char ch = hex[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
            return false; /* lowercase only: one spelling per key */
        }
    }
    return st_hex_decode(id, 16, hex, ST_KEY_ID_HEX_LEN, NULL, 0) == ST_OK;
}

bool st_public_key_ok(const ProtobufCBinaryData *pk) {
    return pk->len == ST_SIGN_PK_LEN && crypto_core_ed25519_is_valid_point(pk->data) == 1;
}

int st_load_key(MDB_txn *txn, const st_store *st, const uint8_t id[16], pb_keyrec **out) {
    st_key k = st_key_bytes(id, 16);
    return st_msg_get(txn, st_store_dbi(st, ST_DB_KEYS), &k,
                      &strata__internal__key_record__descriptor, (ProtobufCMessage **)out);
}

int st_put_key(st_apply_ctx *c, const pb_keyrec *k) {
    st_key key = st_key_bytes(k->key_id.data, k->key_id.len);
    return st_msg_put(c->txn, st_dbi(c, ST_DB_KEYS), &key, &k->base);
}

bool st_actor_organises(const st_apply_ctx *c, uint64_t community_id) {
    return c->actor_key != NULL && c->actor_key->role == STRATA__INTERNAL__ROLE__ROLE_ORGANISER &&
           c->actor_key->community_id == community_id;
}

int st_refuse_not_organiser(st_apply_ctx *c, uint64_t community_id) {
    if (c->actor_key != NULL && c->actor_key->role == STRATA__INTERNAL__ROLE__ROLE_ORGANISER) {
        return st_refuse(c, ST_EPERM,
                         "the actor's key does not organise community %llu (it is an organiser "
                         "key of community %llu); a supervisor appoints each community's "
                         "organisers",
                         (unsigned long long)community_id,
                         (unsigned long long)c->actor_key->community_id);
    }
    if (c->actor_key == NULL) {
        return st_refuse(c, ST_EPERM, "the actor's key does not organise community %llu",
                         (unsigned long long)community_id);
    }
    const char *role = st_role_name((st_role)c->actor_key->role);
    return st_refuse(c, ST_EPERM,
                     "the actor's key does not organise community %llu (it is %s %s key); a "
                     "supervisor appoints each community's organisers",
                     (unsigned long long)community_id, strchr("aeiou", role[0]) ? "an" : "a", role);
}

int st_roll_has_owner(MDB_txn *txn, const st_store *st, uint64_t community_id, const char *owner) {
    if (!st_id_ok(owner)) {
        return MDB_NOTFOUND;
    }
    st_key k = st_key_id_str(community_id, owner);
    MDB_val kv = st_key_val(&k), v;
    return mdb_get(txn, st_store_dbi(st, ST_DB_ROLL_OWNERS), &kv, &v);
}

int st_verify_sig(const ProtobufCBinaryData *sig, const char *domain, const uint8_t *msg,
                  size_t len, const uint8_t pk[32]) {
    if (sig->len != ST_SIGN_SIG_LEN) {
        return ST_EAUTH;
    }
    int rc = st_sign_verify(sig->data, domain, msg, len, pk, NULL, 0);
    return rc == ST_ENOMEM ? ST_ENOMEM : rc == ST_OK ? ST_OK : ST_EAUTH;
}

static void key_hex(const ProtobufCBinaryData *id, char out[ST_KEY_ID_HEX_LEN + 1]) {
    if (id->len == 16) {
        st_hex_encode(out, id->data, 16);
    } else {
        snprintf(out, ST_KEY_ID_HEX_LEN + 1, "(bad key id)");
    }
}

/* An optional label or reason: empty, or text. */
static bool optional_text(const char *s) {
    return s[0] == '\0' || st_text_ok(s);
}

int st_register_key(st_apply_ctx *c, pb_keyrec *k) {
    uint64_t seq;
    int rc = st_meta_get(c->txn, c->store, ST_META_LAST_KEY, &seq);
    if (rc != 0) {
        return rc;
    }
    k->seq = ++seq;
    k->registered_ms = c->cmd->time_ms;
    k->registered_index = c->index;
    k->registered_by = c->cmd->actor;
    if ((rc = st_put_key(c, k)) != 0 ||
        (rc = st_meta_put(c->txn, c->store, ST_META_LAST_KEY, seq)) != 0) {
        return rc;
    }
    if (k->role == STRATA__INTERNAL__ROLE__ROLE_OPERATOR) {
        uint64_t ops;
        if ((rc = st_meta_get(c->txn, c->store, ST_META_OPERATORS, &ops)) != 0 ||
            (rc = st_meta_put(c->txn, c->store, ST_META_OPERATORS, ops + 1)) != 0) {
            return rc;
        }
    }
    if (k->role != STRATA__INTERNAL__ROLE__ROLE_OWNER) {
        return 0;
    }
    /* The owner's record: one more key; the code it was enrolled with is used up. */
    st_key ok = st_key_id_str(k->community_id, k->owner_id);
    pb_owner *rec = NULL;
    rc = st_msg_get(c->txn, st_dbi(c, ST_DB_OWNER_KEYS), &ok,
                    &strata__internal__owner_record__descriptor, (ProtobufCMessage **)&rec);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }
    pb_owner fresh = STRATA__INTERNAL__OWNER_RECORD__INIT;
    pb_owner *o = rec != NULL ? rec : &fresh;
    ProtobufCBinaryData *ids = malloc((o->n_key_ids + 1) * sizeof(*ids));
    if (ids == NULL) {
        if (rec != NULL) {
            st_pb_free(rec);
        }
        return ST_ENOMEM;
    }
    if (o->n_key_ids > 0) {
        memcpy(ids, o->key_ids, o->n_key_ids * sizeof(*ids));
    }
    ids[o->n_key_ids] = k->key_id;
    ProtobufCBinaryData *old_ids = o->key_ids, old_code = o->open_code;
    size_t old_n = o->n_key_ids;
    o->key_ids = ids;
    o->n_key_ids = old_n + 1;
    if (k->enrollment.len > 0 && o->open_code.len == k->enrollment.len &&
        memcmp(o->open_code.data, k->enrollment.data, k->enrollment.len) == 0) {
        o->open_code = (ProtobufCBinaryData){0, NULL};
    }
    rc = st_msg_put(c->txn, st_dbi(c, ST_DB_OWNER_KEYS), &ok, &o->base);
    o->key_ids = old_ids;
    o->n_key_ids = old_n;
    o->open_code = old_code;
    free(ids);
    if (rec != NULL) {
        st_pb_free(rec);
    }
    return rc;
}

/* 0 with no refusal when the key id of pk is not registered; else an EEXIST refusal or a
 * storage code. Fills id. */
static int check_new_key(st_apply_ctx *c, const ProtobufCBinaryData *pk, uint8_t id[16]) {
    st_key_id(id, pk->data);
    pb_keyrec *old;
    int rc = st_load_key(c->txn, c->store, id, &old);
    if (rc == MDB_NOTFOUND) {
        return 0;
    }
    if (rc != 0) {
        return rc;
    }
    char hex[ST_KEY_ID_HEX_LEN + 1];
    st_hex_encode(hex, id, 16);
    rc = st_refuse(c, ST_EEXIST,
                   "key %s is registered already (as %s key %llu%s); a key is registered once "
                   "and never again, also after revocation",
                   hex, st_role_name((st_role)old->role), (unsigned long long)old->seq,
                   old->revoked ? ", revoked" : "");
    st_pb_free(old);
    return rc;
}

static int refuse_bad_key(st_apply_ctx *c, const char *what) {
    return st_refuse(c, ST_EINVAL,
                     "%s must be an Ed25519 public key: 32 bytes, a valid curve point of large "
                     "order",
                     what);
}

/* ---- Genesis ---- */

int st_apply_genesis(st_apply_ctx *c) {
    const Strata__Internal__Genesis *b = c->cmd->genesis;
    uint64_t keys;
    int rc = st_meta_get(c->txn, c->store, ST_META_LAST_KEY, &keys);
    if (rc != 0) {
        return rc;
    }
    if (keys > 0) {
        return st_refuse(c, ST_ESTATE,
                         "genesis has been done (%llu keys registered); operators add keys with "
                         "AddKey",
                         (unsigned long long)keys);
    }
    if (!st_public_key_ok(&b->operator_public_key)) {
        return refuse_bad_key(c, "operator_public_key");
    }
    if (!st_public_key_ok(&b->supervisor_public_key)) {
        return refuse_bad_key(c, "supervisor_public_key");
    }
    if (memcmp(b->operator_public_key.data, b->supervisor_public_key.data, 32) == 0) {
        return st_refuse(c, ST_EINVAL, "the operator and the supervisor need two different keys");
    }
    if (!optional_text(b->operator_label) || !optional_text(b->supervisor_label)) {
        return st_refuse(c, ST_EINVAL, "a label must be empty or 1 to %d bytes of text",
                         ST_NAME_MAX);
    }
    uint8_t op_id[16], sup_id[16];
    st_key_id(op_id, b->operator_public_key.data);
    st_key_id(sup_id, b->supervisor_public_key.data);
    if (memcmp(op_id, c->actor_id, 16) != 0) {
        return st_refuse(c, ST_EAUTH,
                         "Genesis is sent (and its request signed) by the operator key it "
                         "installs; the actor is another key");
    }
    pb_keyrec op = STRATA__INTERNAL__KEY_RECORD__INIT, sup = STRATA__INTERNAL__KEY_RECORD__INIT;
    op.key_id = (ProtobufCBinaryData){16, op_id};
    op.public_key = b->operator_public_key;
    op.role = STRATA__INTERNAL__ROLE__ROLE_OPERATOR;
    op.label = b->operator_label;
    sup.key_id = (ProtobufCBinaryData){16, sup_id};
    sup.public_key = b->supervisor_public_key;
    sup.role = STRATA__INTERNAL__ROLE__ROLE_SUPERVISOR;
    sup.label = b->supervisor_label;
    if ((rc = st_register_key(c, &op)) != 0 || (rc = st_register_key(c, &sup)) != 0) {
        return rc;
    }
    char sh[ST_KEY_ID_HEX_LEN + 1];
    st_hex_encode(sh, sup_id, 16);
    return st_accept(c, op.seq, "key.genesis", 0, 0,
                     "genesis: operator key %s and supervisor key %s installed", c->cmd->actor, sh);
}

/* ---- AddKey and AppointOrganiser ---- */

int st_apply_add_key(st_apply_ctx *c) {
    const Strata__Internal__AddKey *b = c->cmd->add_key;
    if (b->role != STRATA__INTERNAL__ROLE__ROLE_OPERATOR &&
        b->role != STRATA__INTERNAL__ROLE__ROLE_SUPERVISOR) {
        return st_refuse(c, ST_EINVAL,
                         "AddKey registers operator (1) or supervisor (2) keys, not role %d: "
                         "supervisors appoint organisers (AppointOrganiser) and owners enroll "
                         "with a code",
                         (int)b->role);
    }
    if (!st_public_key_ok(&b->public_key)) {
        return refuse_bad_key(c, "public_key");
    }
    if (!optional_text(b->label)) {
        return st_refuse(c, ST_EINVAL, "a label must be empty or 1 to %d bytes of text",
                         ST_NAME_MAX);
    }
    uint8_t id[16];
    int rc = check_new_key(c, &b->public_key, id);
    if (rc != 0 || c->res->code != ST_OK) {
        return rc;
    }
    pb_keyrec k = STRATA__INTERNAL__KEY_RECORD__INIT;
    k.key_id = (ProtobufCBinaryData){16, id};
    k.public_key = b->public_key;
    k.role = b->role;
    k.label = b->label;
    if ((rc = st_register_key(c, &k)) != 0) {
        return rc;
    }
    char hex[ST_KEY_ID_HEX_LEN + 1];
    st_hex_encode(hex, id, 16);
    return st_accept(c, k.seq, "key.add", 0, 0, "added %s key %s", st_role_name((st_role)b->role),
                     hex);
}

int st_apply_appoint_organiser(st_apply_ctx *c) {
    const Strata__Internal__AppointOrganiser *b = c->cmd->appoint_organiser;
    pb_community *com;
    int rc = st_load_community(c->txn, c->store, b->community_id, &com);
    if (rc == MDB_NOTFOUND) {
        return st_refuse(c, ST_ENOENT, "community %llu does not exist; check the id",
                         (unsigned long long)b->community_id);
    }
    if (rc != 0) {
        return rc;
    }
    st_pb_free(com);
    if (!st_public_key_ok(&b->public_key)) {
        return refuse_bad_key(c, "public_key");
    }
    if (!optional_text(b->label)) {
        return st_refuse(c, ST_EINVAL, "a label must be empty or 1 to %d bytes of text",
                         ST_NAME_MAX);
    }
    uint8_t id[16];
    rc = check_new_key(c, &b->public_key, id);
    if (rc != 0 || c->res->code != ST_OK) {
        return rc;
    }
    pb_keyrec k = STRATA__INTERNAL__KEY_RECORD__INIT;
    k.key_id = (ProtobufCBinaryData){16, id};
    k.public_key = b->public_key;
    k.role = STRATA__INTERNAL__ROLE__ROLE_ORGANISER;
    k.community_id = b->community_id;
    k.label = b->label;
    if ((rc = st_register_key(c, &k)) != 0) {
        return rc;
    }
    char hex[ST_KEY_ID_HEX_LEN + 1];
    st_hex_encode(hex, id, 16);
    return st_accept(c, k.seq, "key.appoint", b->community_id, 0,
                     "appointed organiser key %s for community %llu", hex,
                     (unsigned long long)b->community_id);
}

/* ---- revocation ---- */

/* Loads the key a revocation names; a missing or malformed id is a refusal (*k NULL). */
static int load_target(st_apply_ctx *c, const ProtobufCBinaryData *id, pb_keyrec **k) {
    *k = NULL;
    if (id->len != 16) {
        return st_refuse(c, ST_EINVAL, "key_id must be 16 bytes (got %zu)", id->len);
    }
    int rc = st_load_key(c->txn, c->store, id->data, k);
    if (rc == MDB_NOTFOUND) {
        char hex[ST_KEY_ID_HEX_LEN + 1];
        key_hex(id, hex);
        *k = NULL;
        return st_refuse(c, ST_ENOENT, "key %s is not registered", hex);
    }
    return rc;
}

static int refuse_revoked(st_apply_ctx *c, const pb_keyrec *k) {
    char hex[ST_KEY_ID_HEX_LEN + 1], at[32];
    key_hex(&k->key_id, hex);
    st_format_time(k->revoked_ms, at, sizeof(at));
    return st_refuse(c, ST_ESTATE, "key %s was revoked already, at %s", hex, at);
}

/* Marks k revoked now, by the actor, and writes it. */
static int revoke(st_apply_ctx *c, pb_keyrec *k, char *reason, char *cosigner) {
    char *old_by = k->revoked_by, *old_reason = k->revoke_reason, *old_co = k->revoke_cosigner;
    k->revoked = true;
    k->revoked_ms = c->cmd->time_ms;
    k->revoked_by = c->cmd->actor;
    k->revoke_reason = reason;
    k->revoke_cosigner = cosigner;
    int rc = st_put_key(c, k);
    k->revoked_by = old_by; /* the strings belong to the command: free_unpacked must not */
    k->revoke_reason = old_reason;
    k->revoke_cosigner = old_co;
    if (rc == 0 && k->role == STRATA__INTERNAL__ROLE__ROLE_OPERATOR) {
        uint64_t ops;
        if ((rc = st_meta_get(c->txn, c->store, ST_META_OPERATORS, &ops)) == 0) {
            rc = st_meta_put(c->txn, c->store, ST_META_OPERATORS, ops > 0 ? ops - 1 : 0);
        }
    }
    return rc;
}

int st_apply_revoke_key(st_apply_ctx *c) {
    const Strata__Internal__RevokeKey *b = c->cmd->revoke_key;
    pb_keyrec *k;
    int rc = load_target(c, &b->key_id, &k);
    if (k == NULL) {
        return rc;
    }
    char hex[ST_KEY_ID_HEX_LEN + 1];
    key_hex(&k->key_id, hex);
    Strata__Internal__Role need = k->role == STRATA__INTERNAL__ROLE__ROLE_ORGANISER
                                      ? STRATA__INTERNAL__ROLE__ROLE_SUPERVISOR
                                      : STRATA__INTERNAL__ROLE__ROLE_OPERATOR;
    if (k->role == STRATA__INTERNAL__ROLE__ROLE_OWNER) {
        rc = st_refuse(c, ST_EPERM,
                       "key %s is an owner's key: revoke it with RevokeOwnerKey (an organiser "
                       "with a supervisor's co-signature)",
                       hex);
    } else if (c->actor_key->role != need) {
        rc = st_refuse(
            c, ST_EPERM, "%s keys are revoked by %s, not by %s", st_role_name((st_role)k->role),
            need == STRATA__INTERNAL__ROLE__ROLE_OPERATOR ? "an operator" : "a supervisor",
            st_role_name((st_role)c->actor_key->role));
    } else if (k->revoked) {
        rc = refuse_revoked(c, k);
    } else if (!optional_text(b->reason)) {
        rc = st_refuse(c, ST_EINVAL, "reason must be empty or 1 to %d bytes of text", ST_NAME_MAX);
    } else {
        uint64_t ops = 0;
        if (k->role == STRATA__INTERNAL__ROLE__ROLE_OPERATOR) {
            rc = st_meta_get(c->txn, c->store, ST_META_OPERATORS, &ops);
        }
        if (rc == 0 && k->role == STRATA__INTERNAL__ROLE__ROLE_OPERATOR && ops <= 1) {
            rc = st_refuse(c, ST_ESTATE,
                           "key %s is the last active operator key; add another operator "
                           "first",
                           hex);
        } else if (rc == 0 && (rc = revoke(c, k, b->reason, "")) == 0) {
            st_accept(c, k->seq, "key.revoke", k->community_id, 0, "revoked %s key %s%s%s",
                      st_role_name((st_role)k->role), hex, b->reason[0] ? ": " : "", b->reason);
        }
    }
    st_pb_free(k);
    return rc;
}

/* The checks of RevokeOwnerKey after the target is known to be an active owner key the
 * actor organises; 0 with or without a refusal, or a storage code. */
static int check_cosigned(st_apply_ctx *c, const Strata__Internal__RevokeOwnerKey *b,
                          const pb_keyrec *k, char sup_hex[ST_KEY_ID_HEX_LEN + 1]) {
    if (!st_text_ok(b->reason)) {
        return st_refuse(c, ST_EINVAL,
                         "revoking an owner's key needs a reason: 1 to %d bytes of text",
                         ST_APPROVAL_REASON_MAX);
    }
    if (b->signed_ms > c->cmd->time_ms && b->signed_ms - c->cmd->time_ms > ST_AUTH_WINDOW_MS) {
        return st_refuse(c, ST_EINVAL,
                         "signed_ms is more than five minutes after the cluster's time");
    }
    if (b->supervisor_key_id.len != 16) {
        return st_refuse(c, ST_EPERM,
                         "revoking an owner's key needs a supervisor's co-signature: give "
                         "supervisor_key_id (16 bytes) and supervisor_signature");
    }
    key_hex(&b->supervisor_key_id, sup_hex);
    pb_keyrec *sup;
    int rc = st_load_key(c->txn, c->store, b->supervisor_key_id.data, &sup);
    if (rc == MDB_NOTFOUND) {
        return st_refuse(c, ST_EPERM, "co-signing key %s is not registered", sup_hex);
    }
    if (rc != 0) {
        return rc;
    }
    bool ok = sup->role == STRATA__INTERNAL__ROLE__ROLE_SUPERVISOR && !sup->revoked;
    uint8_t sup_pk[32] = {0};
    memcpy(sup_pk, sup->public_key.data, sup->public_key.len == 32 ? 32 : 0);
    if (!ok) {
        rc = st_refuse(
            c, ST_EPERM, "the co-signature must be by an active supervisor key; %s is %s %s key",
            sup_hex, sup->revoked ? "a revoked" : "an active", st_role_name((st_role)sup->role));
    }
    st_pb_free(sup);
    if (!ok || rc != 0) {
        return rc;
    }
    uint8_t msg[ST_REVOKE_MAX_LEN];
    size_t len;
    if (st_revoke_owner_bytes(k->community_id, k->owner_id, k->key_id.data, b->reason, b->signed_ms,
                              msg, &len) != ST_OK) {
        return st_refuse(c, ST_EINVAL, "the revocation bytes cannot be built from this reason");
    }
    rc = st_verify_sig(&b->organiser_signature, ST_DOMAIN_REVOKE_OWNER, msg, len,
                       c->actor_key->public_key.data);
    if (rc == ST_OK) {
        rc = st_verify_sig(&b->supervisor_signature, ST_DOMAIN_REVOKE_OWNER, msg, len, sup_pk);
        if (rc == ST_EAUTH) {
            return st_refuse(c, ST_EAUTH,
                             "the supervisor's co-signature does not verify over the revocation "
                             "bytes (docs/ROLES.md)");
        }
    } else if (rc == ST_EAUTH) {
        return st_refuse(c, ST_EAUTH,
                         "the organiser's signature does not verify over the revocation bytes "
                         "(docs/ROLES.md)");
    }
    return rc == ST_ENOMEM ? ST_ENOMEM : 0;
}

int st_apply_revoke_owner_key(st_apply_ctx *c) {
    const Strata__Internal__RevokeOwnerKey *b = c->cmd->revoke_owner_key;
    pb_keyrec *k;
    int rc = load_target(c, &b->key_id, &k);
    if (k == NULL) {
        return rc;
    }
    char hex[ST_KEY_ID_HEX_LEN + 1], sup_hex[ST_KEY_ID_HEX_LEN + 1] = "";
    key_hex(&k->key_id, hex);
    if (k->role != STRATA__INTERNAL__ROLE__ROLE_OWNER) {
        rc = st_refuse(c, ST_EPERM, "key %s is a%s %s key, not an owner's; use RevokeKey", hex,
                       k->role == STRATA__INTERNAL__ROLE__ROLE_SUPERVISOR ? "" : "n",
                       st_role_name((st_role)k->role));
    } else if (!st_actor_organises(c, k->community_id)) {
        rc = st_refuse_not_organiser(c, k->community_id);
    } else if (k->revoked) {
        rc = refuse_revoked(c, k);
    } else if ((rc = check_cosigned(c, b, k, sup_hex)) == 0 && c->res->code == ST_OK &&
               (rc = revoke(c, k, b->reason, sup_hex)) == 0) {
        st_accept(c, k->seq, "key.revoke_owner", k->community_id, 0,
                  "revoked owner %s's key %s in community %llu, co-signed by supervisor %s",
                  k->owner_id, hex, (unsigned long long)k->community_id, sup_hex);
    }
    st_pb_free(k);
    return rc;
}
