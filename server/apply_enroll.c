/* apply_enroll.c - enrollment: an organiser issues a one-time code for an owner on the
 * community's roll, and the owner's device redeems it with a new key (docs/ROLES.md
 * §Enrollment).
 *
 * The code never enters the log. The organiser's device draws the code at random, derives
 * the code's Ed25519 key pair from it (server/approval.h, bound to community and owner) and
 * sends only the code's public key. The owner's device, given the code on paper, derives
 * the same pair, makes its own key, and sends the new public key with two signatures over
 * the enrollment bytes: one by the new key (it holds the secret) and one by the code key
 * (it knows the code). The state verifies both against the stored code key. Nothing in the
 * log lets anyone redeem a code, and a redemption cannot be redirected to another key: the
 * code's signature covers the new public key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "crypto/text.h"
#include "server/apply.h"
#include "crypto/approval.h"

static int load_enrollment(MDB_txn *txn, const st_store *st, const uint8_t id[16],
                           pb_enroll **out) {
    st_key k = st_key_bytes(id, 16);
    return st_msg_get(txn, st_store_dbi(st, ST_DB_ENROLLMENTS), &k,
                      &strata__internal__enrollment_record__descriptor, (ProtobufCMessage **)out);
}

static int put_enrollment(st_apply_ctx *c, const pb_enroll *e) {
    st_key k = st_key_bytes(e->code_key_id.data, 16);
    return st_msg_put(c->txn, st_dbi(c, ST_DB_ENROLLMENTS), &k, &e->base);
}

/* Supersedes the owner's previous open code (if any) and makes code_id the open one. */
static int replace_open_code(st_apply_ctx *c, uint64_t community, const char *owner,
                             uint8_t code_id[16]) {
    st_key ok = st_key_id_str(community, owner);
    pb_owner *rec = NULL;
    int rc = st_msg_get(c->txn, st_dbi(c, ST_DB_OWNER_KEYS), &ok,
                        &strata__internal__owner_record__descriptor, (ProtobufCMessage **)&rec);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }
    pb_owner fresh = STRATA__INTERNAL__OWNER_RECORD__INIT;
    pb_owner *o = rec != NULL ? rec : &fresh;
    rc = 0;
    if (o->open_code.len == 16) {
        pb_enroll *old;
        rc = load_enrollment(c->txn, c->store, o->open_code.data, &old);
        if (rc == MDB_NOTFOUND) {
            rc = ST_ECORRUPT;
        }
        if (rc == 0) {
            if (old->state == STRATA__INTERNAL__ENROLL_STATE__ENROLL_OPEN) {
                old->state = STRATA__INTERNAL__ENROLL_STATE__ENROLL_SUPERSEDED;
                old->closed_ms = c->cmd->time_ms;
                rc = put_enrollment(c, old);
            }
            st_pb_free(old);
        }
    }
    if (rc == 0) {
        ProtobufCBinaryData saved = o->open_code;
        o->open_code = (ProtobufCBinaryData){16, code_id};
        rc = st_msg_put(c->txn, st_dbi(c, ST_DB_OWNER_KEYS), &ok, &o->base);
        o->open_code = saved;
    }
    if (rec != NULL) {
        st_pb_free(rec);
    }
    return rc;
}

int st_apply_issue_enrollment(st_apply_ctx *c) {
    const Strata__Internal__IssueEnrollmentCode *b = c->cmd->issue_enrollment_code;
    pb_community *com;
    int rc = st_load_community(c->txn, c->store, b->community_id, &com);
    if (rc == MDB_NOTFOUND) {
        return st_refuse(c, ST_ENOENT, "community %llu does not exist; check the id",
                         (unsigned long long)b->community_id);
    }
    if (rc != 0) {
        return rc;
    }
    uint32_t policy = com->enroll_code_days ? com->enroll_code_days : ST_ENROLL_DAYS_DEFAULT;
    st_pb_free(com);
    if (!st_actor_organises(c, b->community_id)) {
        return st_refuse_not_organiser(c, b->community_id);
    }
    rc = st_roll_has_owner(c->txn, c->store, b->community_id, b->owner_id);
    if (rc == MDB_NOTFOUND) {
        return st_refuse(c, ST_ENOENT,
                         "owner \"%.64s\" is not on community %llu's current roll; codes are "
                         "issued for owners on the roll",
                         b->owner_id, (unsigned long long)b->community_id);
    }
    if (rc != 0) {
        return rc;
    }
    /* Length only: a code key that is not a usable point can never sign a redemption
     * (verification rejects it), and the full subgroup check costs a scalar
     * multiplication per code. */
    if (b->code_public_key.len != ST_SIGN_PK_LEN) {
        return st_refuse(c, ST_EINVAL,
                         "code_public_key must be the 32-byte Ed25519 public key derived from "
                         "the code (docs/ROLES.md §Enrollment)");
    }
    uint32_t days = policy;
    if (b->valid_case == STRATA__INTERNAL__ISSUE_ENROLLMENT_CODE__VALID_VALID_DAYS) {
        days = b->valid_days;
    }
    if (days < 1 || days > policy) {
        return st_refuse(c, ST_EINVAL,
                         "valid_days %u is out of range: community %llu's codes are valid 1 to "
                         "%u days",
                         days, (unsigned long long)b->community_id, policy);
    }
    uint8_t code_id[16];
    st_key_id(code_id, b->code_public_key.data);
    pb_enroll *dup;
    rc = load_enrollment(c->txn, c->store, code_id, &dup);
    if (rc == 0) {
        st_pb_free(dup);
        return st_refuse(c, ST_EEXIST,
                         "this code was issued before; draw a fresh random code for every issue");
    }
    if (rc != MDB_NOTFOUND) {
        return rc;
    }
    uint64_t seq;
    if ((rc = st_meta_get(c->txn, c->store, ST_META_LAST_ENROLLMENT, &seq)) != 0) {
        return rc;
    }
    seq++;
    uint64_t period = (uint64_t)days * ST_MS_PER_DAY;
    pb_enroll e = STRATA__INTERNAL__ENROLLMENT_RECORD__INIT;
    e.code_key_id = (ProtobufCBinaryData){16, code_id};
    e.code_public_key = b->code_public_key;
    e.community_id = b->community_id;
    e.owner_id = b->owner_id;
    e.seq = seq;
    e.issued_ms = c->cmd->time_ms;
    e.expires_ms = c->cmd->time_ms > UINT64_MAX - period ? UINT64_MAX : c->cmd->time_ms + period;
    e.issued_by = c->cmd->actor;
    e.state = STRATA__INTERNAL__ENROLL_STATE__ENROLL_OPEN;
    if ((rc = replace_open_code(c, b->community_id, b->owner_id, code_id)) != 0 ||
        (rc = put_enrollment(c, &e)) != 0 ||
        (rc = st_meta_put(c->txn, c->store, ST_META_LAST_ENROLLMENT, seq)) != 0) {
        return rc;
    }
    char until[32];
    st_format_time(e.expires_ms, until, sizeof(until));
    return st_accept(c, seq, "enroll.issue", b->community_id, 0,
                     "issued enrollment code %llu for owner %s of community %llu, valid until %s",
                     (unsigned long long)seq, b->owner_id, (unsigned long long)b->community_id,
                     until);
}

/* The checks of a redemption against its code; 0 with or without a refusal. */
static int check_redeem(st_apply_ctx *c, const Strata__Internal__RedeemEnrollmentCode *b,
                        const pb_enroll *e) {
    if (e->community_id != b->community_id || strcmp(e->owner_id, b->owner_id) != 0) {
        return st_refuse(c, ST_EPERM,
                         "this code was issued for another owner; ask the organiser for a code "
                         "of your own");
    }
    char at[32];
    if (e->state == STRATA__INTERNAL__ENROLL_STATE__ENROLL_REDEEMED) {
        st_format_time(e->closed_ms, at, sizeof(at));
        return st_refuse(c, ST_ESTATE, "this code was used at %s; a code works once", at);
    }
    if (e->state != STRATA__INTERNAL__ENROLL_STATE__ENROLL_OPEN) {
        return st_refuse(c, ST_ESTATE,
                         "a newer code was issued for this owner; only the newest one works");
    }
    if (c->cmd->time_ms >= e->expires_ms) {
        st_format_time(e->expires_ms, at, sizeof(at));
        return st_refuse(c, ST_ESTATE, "this code expired at %s; ask the organiser for a new one",
                         at);
    }
    if (b->signed_ms > c->cmd->time_ms && b->signed_ms - c->cmd->time_ms > ST_AUTH_WINDOW_MS) {
        return st_refuse(c, ST_EINVAL,
                         "signed_ms is more than five minutes after the cluster's time");
    }
    int rc = st_roll_has_owner(c->txn, c->store, b->community_id, b->owner_id);
    if (rc == MDB_NOTFOUND) {
        return st_refuse(c, ST_ENOENT,
                         "owner \"%.64s\" is no longer on community %llu's current roll",
                         b->owner_id, (unsigned long long)b->community_id);
    }
    if (rc != 0) {
        return rc;
    }
    uint8_t msg[ST_ENROLL_MAX_LEN];
    size_t len;
    if (st_enroll_bytes(b->community_id, b->owner_id, b->public_key.data, e->code_public_key.data,
                        b->signed_ms, msg, &len) != ST_OK) {
        return ST_ECORRUPT; /* the owner id was checked when the code was issued */
    }
    rc = st_verify_sig(&b->signature, ST_DOMAIN_ENROLL, msg, len, b->public_key.data);
    if (rc == ST_EAUTH) {
        return st_refuse(c, ST_EAUTH,
                         "the new key's signature does not verify over the enrollment bytes");
    }
    if (rc == ST_OK) {
        rc = st_verify_sig(&b->code_signature, ST_DOMAIN_ENROLL_CODE, msg, len,
                           e->code_public_key.data);
        if (rc == ST_EAUTH) {
            return st_refuse(c, ST_EAUTH,
                             "the code's signature does not verify: the code is wrong, or was "
                             "typed for another owner");
        }
    }
    return rc == ST_ENOMEM ? ST_ENOMEM : 0;
}

int st_apply_redeem_enrollment(st_apply_ctx *c) {
    const Strata__Internal__RedeemEnrollmentCode *b = c->cmd->redeem_enrollment_code;
    /* Length only here: the key's own signature below proves it is a usable key
     * (libsodium's verification rejects small-order and non-canonical keys). */
    if (b->public_key.len != ST_SIGN_PK_LEN) {
        return st_refuse(c, ST_EINVAL, "public_key must be the new Ed25519 public key (32 bytes)");
    }
    uint8_t id[16];
    st_key_id(id, b->public_key.data);
    if (memcmp(id, c->actor_id, 16) != 0) {
        return st_refuse(c, ST_EAUTH,
                         "a redemption is sent (and its request signed) by the new key; the "
                         "actor is another key");
    }
    /* The driver let an unregistered actor through; the new key is the actor. */
    if (b->code_public_key.len != 32) {
        return st_refuse(c, ST_EINVAL, "code_public_key must be 32 bytes");
    }
    uint8_t code_id[16];
    st_key_id(code_id, b->code_public_key.data);
    pb_enroll *e;
    int rc = load_enrollment(c->txn, c->store, code_id, &e);
    if (rc == MDB_NOTFOUND) {
        return st_refuse(c, ST_ENOENT,
                         "no enrollment code matches; check the code as typed, or ask the "
                         "organiser for one");
    }
    if (rc != 0) {
        return rc;
    }
    rc = check_redeem(c, b, e);
    if (rc == 0 && c->res->code == ST_OK) {
        pb_keyrec k = STRATA__INTERNAL__KEY_RECORD__INIT;
        k.key_id = (ProtobufCBinaryData){16, id};
        k.public_key = b->public_key;
        k.role = STRATA__INTERNAL__ROLE__ROLE_OWNER;
        k.community_id = b->community_id;
        k.owner_id = b->owner_id;
        k.enrollment = (ProtobufCBinaryData){16, code_id};
        rc = st_register_key(c, &k);
        if (rc == 0) {
            ProtobufCBinaryData saved = e->redeemed_key_id;
            e->state = STRATA__INTERNAL__ENROLL_STATE__ENROLL_REDEEMED;
            e->closed_ms = c->cmd->time_ms;
            e->redeemed_key_id = (ProtobufCBinaryData){16, id};
            rc = put_enrollment(c, e);
            e->redeemed_key_id = saved;
        }
        if (rc == 0) {
            st_accept(c, k.seq, "enroll.redeem", b->community_id, 0,
                      "enrolled key %s for owner %s of community %llu (code %llu)", c->cmd->actor,
                      b->owner_id, (unsigned long long)b->community_id, (unsigned long long)e->seq);
        }
    }
    st_pb_free(e);
    return rc;
}
