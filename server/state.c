/* state.c - the state machine's public entry points: open and close, and the apply
 * driver, which runs one command in one LMDB write transaction (see state.h).
 *
 * The transaction: read the applied index (skip if the entry is not newer); check the
 * envelope and the request id; run the handler, then append the event and the request
 * record if the command is accepted; store the applied index; commit. A refused command
 * aborts that transaction instead and commits a fresh one holding only the new applied
 * index, so a refusal cannot leave half its writes behind (handlers check before they
 * write, but this does not depend on it). Either way one write transaction commits per
 * command. On MDB_MAP_FULL everything is aborted, the map doubled and the command run
 * again from the start.
 *
 * Why not a nested transaction for the handler: LMDB allocates a 2 MiB dirty list for
 * every nested transaction, which costs ~7% in a normal build and makes every command
 * ~100 times slower under AddressSanitizer; refusals are rare, so they pay instead.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/error.h"
#include "server/apply.h"
#include "server/codes.h"
#include "server/state.h"

struct st_state {
    st_store *store;
    /* Serialises apply(): a refusal commits in a second transaction, and no other
     * command may slip in between and see its applied index go backwards. */
    pthread_mutex_t apply_lock;
};

int st_state_open(st_state **out, const st_state_options *opt, char *err, size_t errlen) {
    if (opt == NULL || opt->dir == NULL) {
        return st_fail(err, errlen, ST_EINVAL, "no data directory given");
    }
    st_state *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return st_fail(err, errlen, ST_ENOMEM, "out of memory opening the state");
    }
    if (pthread_mutex_init(&s->apply_lock, NULL) != 0) {
        free(s);
        return st_fail(err, errlen, ST_ENOMEM, "cannot create a lock");
    }
    int rc = st_store_open(&s->store, opt->dir, opt->map_size, opt->nosync, err, errlen);
    if (rc != ST_OK) {
        pthread_mutex_destroy(&s->apply_lock);
        free(s);
        return rc;
    }
    st_store_set_hook(s->store, opt->hook, opt->hook_ctx);
    *out = s;
    return ST_OK;
}

void st_state_close(st_state *s) {
    if (s == NULL) {
        return;
    }
    st_store_close(s->store);
    pthread_mutex_destroy(&s->apply_lock);
    free(s);
}

st_store *st_state_store(st_state *s) {
    return s->store;
}

int st_state_digest(st_state *s, unsigned what, uint8_t out[32]) {
    return st_store_digest(s->store, what, out);
}

int st_state_digest_at(st_state *s, unsigned what, uint8_t out[32], uint64_t *applied) {
    MDB_txn *txn;
    uint64_t idx = 0, open = 0;
    int rc = st_store_txn_begin(s->store, MDB_RDONLY, &txn);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    rc = st_meta_get(txn, s->store, ST_META_APPLIED, &idx);
    if (rc == 0) {
        rc = st_meta_get(txn, s->store, ST_META_APPLIED_OPEN, &open);
    }
    int code = st_code_from_mdb(rc);
    if (code == ST_OK) {
        code = st_store_digest_txn(txn, s->store, what, out);
    }
    st_store_txn_end(s->store, txn, false);
    *applied = open && idx > 0 ? idx - 1 : idx;
    return code;
}

size_t st_state_map_size(st_state *s) {
    return st_store_map_size(s->store);
}

int st_state_applied_index(st_state *s, uint64_t *out) {
    MDB_txn *txn;
    uint64_t applied = 0, open = 0;
    int rc = st_store_txn_begin(s->store, MDB_RDONLY, &txn);
    if (rc == 0) {
        rc = st_meta_get(txn, s->store, ST_META_APPLIED, &applied);
        if (rc == 0) {
            rc = st_meta_get(txn, s->store, ST_META_APPLIED_OPEN, &open);
        }
        st_store_txn_end(s->store, txn, false);
    }
    /* An entry with commands still to apply is not applied yet. */
    *out = open && applied > 0 ? applied - 1 : applied;
    return st_code_from_mdb(rc);
}

int st_state_snapshot(st_state *s, uint8_t **buf, size_t *len, char *err, size_t errlen) {
    return st_store_snapshot(s->store, buf, len, err, errlen);
}

int st_state_restore(st_state *s, const uint8_t *buf, size_t len, char *err, size_t errlen) {
    pthread_mutex_lock(&s->apply_lock);
    int rc = st_store_restore(s->store, buf, len, err, errlen);
    pthread_mutex_unlock(&s->apply_lock);
    return rc;
}

/* ---- decoding: tell bad bytes from a failed malloc ---- */

typedef struct {
    ProtobufCAllocator base;
    bool failed;
} counting_allocator;

static void *pb_alloc(void *data, size_t size) {
    void *p = malloc(size);
    if (p == NULL) {
        ((counting_allocator *)data)->failed = true;
    }
    return p;
}

static void pb_free(void *data, void *p) {
    (void)data;
    free(p);
}

/* ---- the request fingerprint: SHA-256 of the command as packed with time_ms = 0, so a
 * retry stamped with a later time by another leader is recognised as the same request ---- */

typedef struct {
    ProtobufCBuffer base;
    crypto_hash_sha256_state h;
} hash_buffer;

static void hash_append(ProtobufCBuffer *b, size_t len, const uint8_t *data) {
    crypto_hash_sha256_update(&((hash_buffer *)b)->h, data, len);
}

static void command_fingerprint(const pb_command *cmd, uint8_t out[32]) {
    pb_command copy = *cmd; /* shallow: only top-level fields change */
    copy.time_ms = 0;
    /* A retry is re-signed with a fresh envelope: its timestamp and nonce differ. */
    copy.auth_time_ms = 0;
    copy.auth_nonce.len = 0;
    copy.auth_nonce.data = NULL;
    hash_buffer hb = {.base = {.append = hash_append}};
    crypto_hash_sha256_init(&hb.h);
    protobuf_c_message_pack_to_buffer(&copy.base, &hb.base);
    crypto_hash_sha256_final(&hb.h, out);
}

/* ---- the driver ---- */

static const char *body_name(int body) {
    switch (body) {
    case STRATA__INTERNAL__COMMAND__BODY_CREATE_COMMUNITY:
        return "CreateCommunity";
    case STRATA__INTERNAL__COMMAND__BODY_IMPORT_ROLL:
        return "ImportRoll";
    case STRATA__INTERNAL__COMMAND__BODY_CREATE_VOTE:
        return "CreateVote";
    case STRATA__INTERNAL__COMMAND__BODY_NOTICE_VOTE:
        return "NoticeVote";
    case STRATA__INTERNAL__COMMAND__BODY_OPEN_VOTE:
        return "OpenVote";
    case STRATA__INTERNAL__COMMAND__BODY_CAST_BALLOT:
        return "CastBallot";
    case STRATA__INTERNAL__COMMAND__BODY_CLOSE_VOTE:
        return "CloseVote";
    case STRATA__INTERNAL__COMMAND__BODY_PUBLISH_VOTE:
        return "PublishVote";
    case STRATA__INTERNAL__COMMAND__BODY_GENESIS:
        return "Genesis";
    case STRATA__INTERNAL__COMMAND__BODY_ADD_KEY:
        return "AddKey";
    case STRATA__INTERNAL__COMMAND__BODY_APPOINT_ORGANISER:
        return "AppointOrganiser";
    case STRATA__INTERNAL__COMMAND__BODY_REVOKE_KEY:
        return "RevokeKey";
    case STRATA__INTERNAL__COMMAND__BODY_ISSUE_ENROLLMENT_CODE:
        return "IssueEnrollmentCode";
    case STRATA__INTERNAL__COMMAND__BODY_REDEEM_ENROLLMENT_CODE:
        return "RedeemEnrollmentCode";
    case STRATA__INTERNAL__COMMAND__BODY_REVOKE_OWNER_KEY:
        return "RevokeOwnerKey";
    case STRATA__INTERNAL__COMMAND__BODY_AUTHORISE_PROXY:
        return "AuthoriseProxy";
    case STRATA__INTERNAL__COMMAND__BODY_CERTIFY_VOTE:
        return "CertifyVote";
    case STRATA__INTERNAL__COMMAND__BODY_DISPUTE_VOTE:
        return "DisputeVote";
    case STRATA__INTERNAL__COMMAND__BODY_SET_MEMBER:
        return "SetMember";
    case STRATA__INTERNAL__COMMAND__BODY_REMOVE_MEMBER:
        return "RemoveMember";
    default:
        return "unknown";
    }
}

/* The role matrix (docs/ROLES.md): which roles may send each command. 0 for the two
 * commands whose actor is not registered yet (Genesis, RedeemEnrollmentCode). Scope
 * (which community an organiser may act in, whose key signs a ballot) is the handlers'. */
#define R_OP ST_ROLE_BIT(ST_ROLE_OPERATOR)
#define R_SUP ST_ROLE_BIT(ST_ROLE_SUPERVISOR)
#define R_ORG ST_ROLE_BIT(ST_ROLE_ORGANISER)
#define R_OWN ST_ROLE_BIT(ST_ROLE_OWNER)

static unsigned body_roles(int body) {
    switch (body) {
    case STRATA__INTERNAL__COMMAND__BODY_CREATE_COMMUNITY:
    case STRATA__INTERNAL__COMMAND__BODY_APPOINT_ORGANISER:
    case STRATA__INTERNAL__COMMAND__BODY_CERTIFY_VOTE:
    case STRATA__INTERNAL__COMMAND__BODY_DISPUTE_VOTE:
        return R_SUP;
    case STRATA__INTERNAL__COMMAND__BODY_IMPORT_ROLL:
    case STRATA__INTERNAL__COMMAND__BODY_CREATE_VOTE:
    case STRATA__INTERNAL__COMMAND__BODY_NOTICE_VOTE:
    case STRATA__INTERNAL__COMMAND__BODY_OPEN_VOTE:
    case STRATA__INTERNAL__COMMAND__BODY_CLOSE_VOTE:
    case STRATA__INTERNAL__COMMAND__BODY_PUBLISH_VOTE:
    case STRATA__INTERNAL__COMMAND__BODY_ISSUE_ENROLLMENT_CODE:
    case STRATA__INTERNAL__COMMAND__BODY_REVOKE_OWNER_KEY:
    case STRATA__INTERNAL__COMMAND__BODY_AUTHORISE_PROXY:
        return R_ORG;
    case STRATA__INTERNAL__COMMAND__BODY_CAST_BALLOT:
        return R_OWN | R_ORG; /* online: the owner or proxy; paper: the organiser */
    case STRATA__INTERNAL__COMMAND__BODY_ADD_KEY:
    case STRATA__INTERNAL__COMMAND__BODY_SET_MEMBER:
    case STRATA__INTERNAL__COMMAND__BODY_REMOVE_MEMBER:
        return R_OP;
    case STRATA__INTERNAL__COMMAND__BODY_REVOKE_KEY:
        return R_OP | R_SUP; /* operators revoke operator/supervisor keys, supervisors
                                organiser keys */
    default:
        return 0;
    }
}

static const char *roles_text(unsigned roles) {
    switch (roles) {
    case R_OP:
        return "an operator";
    case R_SUP:
        return "a supervisor";
    case R_ORG:
        return "an organiser";
    case R_OWN | R_ORG:
        return "an owner (online) or an organiser (paper)";
    case R_OP | R_SUP:
        return "an operator or a supervisor";
    default:
        return "nobody";
    }
}

/* Looks the actor up and checks the command's role set. Returns 0 with c->actor_key set
 * (the caller frees *key), or 0 with a refusal, or a storage code. */
static int resolve_actor(st_apply_ctx *c, pb_keyrec **key) {
    *key = NULL;
    int body = c->cmd->body_case;
    bool unregistered = body == STRATA__INTERNAL__COMMAND__BODY_GENESIS ||
                        body == STRATA__INTERNAL__COMMAND__BODY_REDEEM_ENROLLMENT_CODE;
    if (!st_parse_key_hex(c->cmd->actor, c->actor_id)) {
        return st_refuse(c, ST_EAUTH,
                         "actor must be the key id (32 lowercase hex characters) of the key "
                         "that signed the request");
    }
    int rc = st_load_key(c->txn, c->store, c->actor_id, key);
    if (rc == MDB_NOTFOUND) {
        *key = NULL;
        if (unregistered) {
            return 0; /* the handler checks who may send it */
        }
        uint64_t keys;
        rc = st_meta_get(c->txn, c->store, ST_META_LAST_KEY, &keys);
        if (rc != 0) {
            return rc;
        }
        return st_refuse(c, ST_EAUTH, "%s",
                         keys == 0 ? "no key is registered yet: the cluster needs its Genesis "
                                     "command first (docs/ROLES.md)"
                                   : "the actor's key is not registered; register or enroll it "
                                     "first");
    }
    if (rc != 0) {
        return rc;
    }
    if (body == STRATA__INTERNAL__COMMAND__BODY_GENESIS) {
        return st_refuse(c, ST_ESTATE,
                         "genesis has been done (keys exist); operators add keys with AddKey");
    }
    if (body == STRATA__INTERNAL__COMMAND__BODY_REDEEM_ENROLLMENT_CODE) {
        return st_refuse(c, ST_EPERM,
                         "an enrollment code is redeemed by the new key itself; the actor is a "
                         "registered %s key",
                         st_role_name((st_role)(*key)->role));
    }
    if ((*key)->revoked) {
        char at[32];
        st_format_time((*key)->revoked_ms, at, sizeof(at));
        return st_refuse(c, ST_EAUTH, "the actor's key was revoked at %s; it can do nothing more",
                         at);
    }
    unsigned roles = body_roles(body);
    if ((roles & ST_ROLE_BIT((*key)->role)) == 0) {
        return st_refuse(c, ST_EPERM, "%s needs %s key; the actor's key has role %s",
                         body_name(body), roles_text(roles), st_role_name((st_role)(*key)->role));
    }
    c->actor_key = *key;
    return 0;
}

static int dispatch(st_apply_ctx *c) {
    switch (c->cmd->body_case) {
    case STRATA__INTERNAL__COMMAND__BODY_CREATE_COMMUNITY:
        return st_apply_create_community(c);
    case STRATA__INTERNAL__COMMAND__BODY_IMPORT_ROLL:
        return st_apply_import_roll(c);
    case STRATA__INTERNAL__COMMAND__BODY_CREATE_VOTE:
        return st_apply_create_vote(c);
    case STRATA__INTERNAL__COMMAND__BODY_NOTICE_VOTE:
        return st_apply_notice_vote(c);
    case STRATA__INTERNAL__COMMAND__BODY_OPEN_VOTE:
        return st_apply_open_vote(c);
    case STRATA__INTERNAL__COMMAND__BODY_CAST_BALLOT:
        return st_apply_cast_ballot(c);
    case STRATA__INTERNAL__COMMAND__BODY_CLOSE_VOTE:
        return st_apply_close_vote(c);
    case STRATA__INTERNAL__COMMAND__BODY_PUBLISH_VOTE:
        return st_apply_publish_vote(c);
    case STRATA__INTERNAL__COMMAND__BODY_GENESIS:
        return st_apply_genesis(c);
    case STRATA__INTERNAL__COMMAND__BODY_ADD_KEY:
        return st_apply_add_key(c);
    case STRATA__INTERNAL__COMMAND__BODY_APPOINT_ORGANISER:
        return st_apply_appoint_organiser(c);
    case STRATA__INTERNAL__COMMAND__BODY_REVOKE_KEY:
        return st_apply_revoke_key(c);
    case STRATA__INTERNAL__COMMAND__BODY_ISSUE_ENROLLMENT_CODE:
        return st_apply_issue_enrollment(c);
    case STRATA__INTERNAL__COMMAND__BODY_REDEEM_ENROLLMENT_CODE:
        return st_apply_redeem_enrollment(c);
    case STRATA__INTERNAL__COMMAND__BODY_REVOKE_OWNER_KEY:
        return st_apply_revoke_owner_key(c);
    case STRATA__INTERNAL__COMMAND__BODY_AUTHORISE_PROXY:
        return st_apply_authorise_proxy(c);
    case STRATA__INTERNAL__COMMAND__BODY_CERTIFY_VOTE:
        return st_apply_certify_vote(c);
    case STRATA__INTERNAL__COMMAND__BODY_DISPUTE_VOTE:
        return st_apply_dispute_vote(c);
    case STRATA__INTERNAL__COMMAND__BODY_SET_MEMBER:
        return st_apply_set_member(c);
    case STRATA__INTERNAL__COMMAND__BODY_REMOVE_MEMBER:
        return st_apply_remove_member(c);
    default:
        return st_refuse(c, ST_EINVAL,
                         "the command has no body this server knows; send one of the bodies "
                         "of strata.internal.Command (docs/STATE.md)");
    }
}

/* Appends the accepted command's event and request record (in the nested txn). */
static int record_accepted(st_apply_ctx *c, const uint8_t fingerprint[32]) {
    st_store *st = c->store;
    uint64_t seq;
    int rc = st_meta_get(c->txn, st, ST_META_LAST_EVENT, &seq);
    if (rc != 0) {
        return rc;
    }
    seq++;
    pb_event ev = STRATA__INTERNAL__EVENT_RECORD__INIT;
    ev.seq = seq;
    ev.index = c->index;
    ev.time_ms = c->cmd->time_ms;
    ev.actor = c->cmd->actor;
    ev.kind = (char *)c->kind;
    ev.community_id = c->community_id;
    ev.vote_id = c->vote_id;
    ev.summary = c->res->message;
    st_key k = st_key_u64(seq);
    rc = st_msg_put(c->txn, st_store_dbi(st, ST_DB_EVENTS), &k, &ev.base);
    if (rc == 0) {
        rc = st_meta_put(c->txn, st, ST_META_LAST_EVENT, seq);
    }
    if (rc != 0) {
        return rc;
    }
    pb_request req = STRATA__INTERNAL__REQUEST_RECORD__INIT;
    req.index = c->index;
    req.id = c->res->id;
    req.body_sha256.len = 32;
    req.body_sha256.data = (uint8_t *)fingerprint;
    req.message = c->res->message;
    req.log_vote_id = c->log_vote_id;
    req.tree_size = c->log_tree_size;
    MDB_val rk = {ST_REQUEST_ID_LEN, c->cmd->request_id.data};
    MDB_val rv = {protobuf_c_message_get_packed_size(&req.base), NULL};
    rc = mdb_put(c->txn, st_store_dbi(st, ST_DB_REQUESTS), &rk, &rv, MDB_RESERVE);
    if (rc == 0) {
        protobuf_c_message_pack(&req.base, rv.mv_data);
    }
    return rc;
}

/* A duplicate of an accepted ballot: where it went in the log, again (the receipt). */
static int duplicate_log(MDB_txn *txn, st_store *st, const pb_request *req, st_apply_result *out) {
    if (req->tree_size == 0) {
        return 0;
    }
    st_vlog_reader lr;
    st_vlog_reader_init(&lr, txn, st, req->log_vote_id);
    uint64_t leaf = req->tree_size - 1;
    if (st_vlog_get_node(&lr, 0, leaf, out->leaf_hash) != 0 ||
        st_merkle_root_at(req->tree_size, st_vlog_get_node, &lr, out->root) != 0) {
        return lr.rc == MDB_NOTFOUND || lr.rc == 0 ? ST_ECORRUPT : lr.rc;
    }
    out->logged = true;
    out->log_vote_id = req->log_vote_id;
    out->leaf_index = leaf;
    out->tree_size = req->tree_size;
    return 0;
}

/* Runs a decoded command inside the outer transaction txn. Returns 0 with out filled,
 * or a storage code. *auth says the command carried request authentication that passed
 * its checks, so its nonce is to be recorded whatever the outcome. */
static int run_command(st_store *st, MDB_txn *txn, uint64_t index, const pb_command *cmd,
                       st_apply_result *out, bool *auth) {
    st_apply_ctx c = {.store = st, .txn = txn, .index = index, .cmd = cmd, .res = out};
    *auth = false;
    if (cmd == NULL) {
        return st_refuse(&c, ST_EINVAL,
                         "the command bytes do not decode as a strata.internal.Command; "
                         "check the encoder and resend");
    }
    if (cmd->request_id.len != ST_REQUEST_ID_LEN) {
        return st_refuse(&c, ST_EINVAL,
                         "request_id has %zu bytes; give a fresh random nonce of exactly %d "
                         "bytes",
                         cmd->request_id.len, ST_REQUEST_ID_LEN);
    }
    if (!st_text_ok(cmd->actor)) {
        return st_refuse(&c, ST_EINVAL,
                         "actor must say who sends the command: 1 to %d bytes of UTF-8 text "
                         "without control characters or surrounding spaces",
                         ST_NAME_MAX);
    }
    bool present = false;
    int rc = st_auth_check(&c, &present);
    if (rc != 0 || out->code != ST_OK) {
        return rc;
    }
    *auth = present;

    uint8_t fp[32];
    command_fingerprint(cmd, fp);

    MDB_val rk = {ST_REQUEST_ID_LEN, cmd->request_id.data}, rv;
    rc = mdb_get(txn, st_store_dbi(st, ST_DB_REQUESTS), &rk, &rv);
    if (rc == 0) {
        pb_request *req;
        rc = st_msg_decode(&rv, &strata__internal__request_record__descriptor,
                           (ProtobufCMessage **)&req);
        if (rc != 0) {
            return rc;
        }
        if (req->body_sha256.len == 32 && memcmp(req->body_sha256.data, fp, 32) == 0) {
            out->code = ST_OK;
            out->duplicate = true;
            out->id = req->id;
            out->index = req->index;
            snprintf(out->message, sizeof(out->message), "already applied at index %llu: %s",
                     (unsigned long long)req->index, req->message);
            rc = duplicate_log(txn, st, req, out);
        } else {
            rc = st_refuse(&c, ST_EEXIST,
                           "request id already used at index %llu by a different command; "
                           "give every new request a fresh random request id",
                           (unsigned long long)req->index);
        }
        st_pb_free(req);
        return rc;
    }
    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    if (strcmp(body_name(cmd->body_case), "unknown") == 0) {
        return dispatch(&c); /* the refusal for a missing or unknown body */
    }
    pb_keyrec *actor = NULL;
    rc = resolve_actor(&c, &actor);
    if (rc == 0 && out->code == ST_OK) {
        rc = dispatch(&c);
    }
    if (rc == 0 && out->code == ST_OK) {
        rc = record_accepted(&c, fp);
    }
    if (actor != NULL) {
        st_pb_free(actor);
    }
    return rc;
}

/* Whether (index, pos) was applied already, from the positions stored in txn: an earlier
 * entry, or this entry complete, or this position reached. */
static int already_applied(st_state *s, MDB_txn *txn, uint64_t index, uint32_t pos, bool *done,
                           uint64_t *applied) {
    uint64_t applied_pos = 0, open = 0;
    *applied = 0;
    int rc = st_meta_get(txn, s->store, ST_META_APPLIED, applied);
    if (rc == 0) {
        rc = st_meta_get(txn, s->store, ST_META_APPLIED_POS, &applied_pos);
    }
    if (rc == 0) {
        rc = st_meta_get(txn, s->store, ST_META_APPLIED_OPEN, &open);
    }
    *done = rc == 0 && (index < *applied || (index == *applied && (!open || pos <= applied_pos)));
    return rc;
}

static void mark_skipped(st_apply_result *out, uint64_t index, uint32_t pos, uint64_t applied) {
    out->skipped = true;
    snprintf(out->message, sizeof(out->message),
             "index %llu position %u was already applied (applied index %llu); nothing done",
             (unsigned long long)index, pos, (unsigned long long)applied);
}

/* Runs one command in a transaction nested in txn: an accepted command's writes join txn,
 * a refused one's are discarded; either way the request nonce of an authenticated command
 * is recorded in txn (a refused signed request cannot be replayed either). 0 with out
 * filled, or a storage code (nothing of the command in txn then). */
static int apply_nested(st_state *s, MDB_txn *txn, uint64_t index, const pb_command *cmd,
                        st_apply_result *out) {
    MDB_txn *child;
    int rc = mdb_txn_begin(st_store_env(s->store), txn, 0, &child);
    if (rc != 0) {
        return rc;
    }
    bool auth = false;
    rc = run_command(s->store, child, index, cmd, out, &auth);
    if (rc == 0 && out->code == ST_OK) {
        rc = mdb_txn_commit(child);
    } else {
        mdb_txn_abort(child);
    }
    if (rc == 0 && auth) {
        rc = st_auth_record(txn, s->store, cmd);
    }
    return rc;
}

static int put_position(st_state *s, MDB_txn *txn, uint64_t index, uint32_t pos, bool last) {
    int rc = st_meta_put(txn, s->store, ST_META_APPLIED, index);
    if (rc == 0) {
        rc = st_meta_put(txn, s->store, ST_META_APPLIED_POS, pos);
    }
    if (rc == 0) {
        rc = st_meta_put(txn, s->store, ST_META_APPLIED_OPEN, last ? 0 : 1);
    }
    return rc;
}

/* One attempt at commands first..first+n-1 of entry index (cmds[i] is command first+i) in
 * one transaction: returns 0 with outs filled, or a storage code (nothing changed;
 * MDB_MAP_FULL: grow, retry). */
static int apply_once(st_state *s, uint64_t index, uint32_t first, bool last,
                      pb_command *const *cmds, size_t n, st_apply_result *outs) {
    MDB_txn *txn;
    int rc = st_store_txn_begin(s->store, 0, &txn);
    if (rc != 0) {
        return rc;
    }
    bool any = false;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint32_t pos = first + (uint32_t)i;
        st_apply_result *out = &outs[i];
        memset(out, 0, sizeof(*out));
        out->index = index;
        bool done = false;
        uint64_t applied = 0;
        rc = already_applied(s, txn, index, pos, &done, &applied);
        if (rc == 0 && done) {
            mark_skipped(out, index, pos, applied);
            continue;
        }
        if (rc == 0) {
            rc = apply_nested(s, txn, index, cmds[i], out);
        }
        any = true;
    }
    if (rc == 0 && any) {
        rc = put_position(s, txn, index, first + (uint32_t)n - 1, last);
    }
    if (rc != 0 || !any) {
        st_store_txn_end(s->store, txn, false);
        return rc;
    }
    st_store_fault(s->store, "before_commit");
    return st_store_txn_end(s->store, txn, true);
}

/* Decodes, applies under the apply lock (growing the map when full), and frees. */
static int apply_commands(st_state *s, uint64_t index, uint32_t first, bool last,
                          const uint8_t *const *cmd, const size_t *len, size_t n,
                          st_apply_result *outs) {
    counting_allocator alloc = {.base = {.alloc = pb_alloc, .free = pb_free}};
    alloc.base.allocator_data = &alloc;
    pb_command *stack[64];
    pb_command **c = n <= 64 ? stack : calloc(n, sizeof(*c));
    if (c == NULL) {
        return ST_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        c[i] = strata__internal__command__unpack(&alloc.base, len[i], cmd[i]);
    }
    int rc = 0;
    if (alloc.failed) {
        rc = ST_ENOMEM; /* not a refusal: another node may have had the memory */
    } else {
        pthread_mutex_lock(&s->apply_lock);
        for (;;) {
            rc = apply_once(s, index, first, last, c, n, outs);
            if (rc != MDB_MAP_FULL) {
                break;
            }
            rc = st_store_grow(s->store, 0);
            if (rc != 0) {
                break;
            }
        }
        pthread_mutex_unlock(&s->apply_lock);
    }
    const char *what = "a command";
    for (size_t i = 0; i < n && rc != 0; i++) {
        if (c[i] != NULL) {
            what = body_name(c[i]->body_case);
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (c[i] != NULL) {
            strata__internal__command__free_unpacked(c[i], &alloc.base);
        }
    }
    if (c != stack) {
        free(c);
    }
    if (rc == ST_ENOMEM) {
        memset(outs, 0, n * sizeof(*outs));
        return rc;
    }
    if (rc != 0) {
        int code = st_code_from_mdb(rc);
        for (size_t i = 0; i < n; i++) {
            memset(&outs[i], 0, sizeof(outs[i]));
            outs[i].code = code;
            snprintf(outs[i].message, sizeof(outs[i].message),
                     "storage failure applying %s (entry %llu, %zu command%s): %s", what,
                     (unsigned long long)index, n, n == 1 ? "" : "s",
                     rc < 0 && rc >= ST_ECORRUPT ? st_strerror(rc) : mdb_strerror(rc));
        }
        return code;
    }
    return ST_OK;
}

int st_state_apply(st_state *s, uint64_t index, const uint8_t *cmd, size_t len,
                   st_apply_result *out) {
    return st_state_apply_at(s, index, 0, true, cmd, len, out);
}

int st_state_apply_at(st_state *s, uint64_t index, uint32_t pos, bool last, const uint8_t *cmd,
                      size_t len, st_apply_result *out) {
    return apply_commands(s, index, pos, last, &cmd, &len, 1, out);
}

int st_state_apply_entry(st_state *s, uint64_t index, const uint8_t *const *cmds,
                         const size_t *lens, size_t n, st_apply_result *outs) {
    if (n == 0) {
        return ST_EINVAL;
    }
    return apply_commands(s, index, 0, true, cmds, lens, n, outs);
}
