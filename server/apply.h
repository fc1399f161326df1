/* apply.h - internal to server/: what the command handlers (apply_*.c) share with the
 * apply driver (state.c): the context of one command, refusals, record access, and
 * short names for the generated protobuf-c types.
 *
 * A handler validates first and writes after. It returns 0 with the result set (code
 * ST_OK and the event filled in, or a refusal via st_refuse()), or a storage code
 * (server/codes.h) when LMDB or malloc failed: then the driver aborts everything and
 * apply() reports the failure (or grows the map and retries on MDB_MAP_FULL). A refusal
 * must not depend on anything but the command and the stored state, so a malloc
 * failure is never a refusal.
 */
#ifndef STRATA_SERVER_APPLY_H
#define STRATA_SERVER_APPLY_H

#include "proto/strata/internal/command.pb-c.h"
#include "server/state.h"
#include "server/store.h"

typedef Strata__Internal__Command pb_command;
typedef Strata__Internal__Unit pb_unit;
typedef Strata__Internal__CommunityRecord pb_community;
typedef Strata__Internal__VoteRecord pb_vote;
typedef Strata__Internal__VoterRecord pb_voter;
typedef Strata__Internal__BallotRecord pb_ballot;
typedef Strata__Internal__EventRecord pb_event;
typedef Strata__Internal__RequestRecord pb_request;
typedef Strata__Internal__Outcome pb_outcome;
typedef Strata__Internal__CandidateResult pb_cand;
typedef Strata__Internal__Approvals pb_approvals;
typedef Strata__Internal__KeyRecord pb_keyrec;
typedef Strata__Internal__OwnerRecord pb_owner;
typedef Strata__Internal__EnrollmentRecord pb_enroll;
typedef Strata__Internal__ProxyRecord pb_proxy;
typedef Strata__Internal__MemberRecord pb_member;
typedef Strata__Internal__VoteReview pb_review;

#define ST_NOTICE_DAYS_DEFAULT 15
#define ST_NOTICE_DAYS_MAX 365
#define ST_MS_PER_DAY 86400000ULL
#define ST_REQUEST_ID_LEN 16
#define ST_NONCE_MAX 64
#define ST_SUMMARY_MAX 256
#define ST_ENROLL_DAYS_DEFAULT 14
#define ST_ENROLL_DAYS_MAX 365
#define ST_AUTH_WINDOW_MS (5 * 60 * 1000ULL) /* ±5 minutes (crypto/request.h) */
#define ST_ADDRESS_MAX 255

/* Role sets for the role matrix: ST_ROLE_BIT(ST_ROLE_OWNER) | ... */
#define ST_ROLE_BIT(r) (1u << (unsigned)(r))

typedef struct {
    st_store *store;
    MDB_txn *txn; /* the command's write transaction */
    uint64_t index;
    const pb_command *cmd;
    st_apply_result *res;
    /* Filled by an accepting handler: the event appended to the trail. */
    const char *kind;
    uint64_t community_id, vote_id;
    /* The actor's registered, active key, checked against the command's role set by the
     * driver; NULL for Genesis and RedeemEnrollmentCode (the actor is not registered). */
    const pb_keyrec *actor_key;
    uint8_t actor_id[16]; /* the actor's key id, raw (valid whenever actor_key is set) */
    /* Set by CastBallot when it accepts: the log position, for the request record. */
    uint64_t log_vote_id, log_tree_size;
} st_apply_ctx;

/* Sets a refusal (code and sentence) and returns 0, so handlers can `return st_refuse(...)`. */
int st_refuse(st_apply_ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets acceptance: the result id, the event kind and subject, and the summary line. */
int st_accept(st_apply_ctx *c, uint64_t id, const char *kind, uint64_t community_id,
              uint64_t vote_id, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static inline MDB_dbi st_dbi(const st_apply_ctx *c, st_db db) {
    return st_store_dbi(c->store, db);
}

/* Loads a record by id. MDB_NOTFOUND if absent; otherwise the caller frees *out with
 * protobuf_c_message_free_unpacked(&(*out)->base, NULL). */
int st_load_community(MDB_txn *txn, const st_store *st, uint64_t id, pb_community **out);
int st_load_vote(MDB_txn *txn, const st_store *st, uint64_t id, pb_vote **out);
int st_load_voter(MDB_txn *txn, const st_store *st, uint64_t vote_id, const char *owner,
                  pb_voter **out);
#define st_pb_free(m) protobuf_c_message_free_unpacked(&(m)->base, NULL)

/* Text checks shared by the handlers: core's rules for names (1..512 bytes of UTF-8
 * without control characters or surrounding spaces) and ids (1..64 bytes). */
bool st_text_ok(const char *s);
bool st_id_ok(const char *s);

/* Formats ms since the epoch as "2024-05-01T08:00:00Z" (UTC, no clock read). */
void st_format_time(uint64_t ms, char *buf, size_t len);

/* ---- keys (apply_keys.c) ---- */

/* Loads a key record by raw id: MDB_NOTFOUND if absent; free with st_pb_free. */
int st_load_key(MDB_txn *txn, const st_store *st, const uint8_t id[16], pb_keyrec **out);
/* Writes a key record under its key_id. */
int st_put_key(st_apply_ctx *c, const pb_keyrec *k);
/* Registers a new key: fills seq, registration time, index and actor, writes it, bumps
 * the counters and, for an owner key, appends it to the owner's record. The caller has
 * checked that the key id is new. Returns 0 or a storage code. */
int st_register_key(st_apply_ctx *c, pb_keyrec *k);
/* Parses an actor string: exactly 32 lowercase hex characters. */
bool st_parse_key_hex(const char *hex, uint8_t id[16]);
/* The public key is a valid Ed25519 point of 32 bytes (no small order). */
bool st_public_key_ok(const ProtobufCBinaryData *pk);
/* The actor is the organiser of this community. */
bool st_actor_organises(const st_apply_ctx *c, uint64_t community_id);
/* Refuses with ST_EPERM naming the community the actor does not organise; returns 0. */
int st_refuse_not_organiser(st_apply_ctx *c, uint64_t community_id);
/* 0 if the owner is on the community's current roll, MDB_NOTFOUND if not, or a storage
 * code. */
int st_roll_has_owner(MDB_txn *txn, const st_store *st, uint64_t community_id, const char *owner);
/* Verifies a detached signature (crypto/sign.h) as a refusal-safe answer: ST_OK, ST_EAUTH
 * (does not verify or malformed), or ST_ENOMEM (never a refusal). */
int st_verify_sig(const ProtobufCBinaryData *sig, const char *domain, const uint8_t *msg,
                  size_t len, const uint8_t pk[32]);

/* The proxy authorisation of (vote, principal): MDB_NOTFOUND if none (apply_proxy.c). */
int st_load_proxy(MDB_txn *txn, const st_store *st, uint64_t vote_id, const char *principal,
                  pb_proxy **out);

/* The keys of node_id trusted for a tree head stamped at ts (the member's current key
 * from key_since_ms while it is a member; each retired key within its interval), into
 * keys[0..*n) (cap entries). 0 or a storage code (MDB_NOTFOUND: never in the roster). */
int st_members_trusted(MDB_txn *txn, const st_store *st, uint64_t node_id, uint64_t ts,
                       st_trusted_key *keys, size_t cap, size_t *n);

/* ---- request authentication (request_auth.c) ---- */

/* Checks the command's request-auth fields (all or none): the key id is the actor's, the
 * timestamp within ±5 minutes of the command time and not older than five minutes before
 * the newest authenticated command, the (key id, nonce) pair unseen. 0 with a refusal
 * (ST_EINVAL, ST_EAUTH) or none; *present says the fields were there and passed. */
int st_auth_check(st_apply_ctx *c, bool *present);
/* Records the command's (key id, nonce), moves the newest time and prunes pairs that fell
 * out of the window. Returns 0 or a storage code. */
int st_auth_record(MDB_txn *txn, const st_store *st, const pb_command *cmd);

/* ---- the vote logs (log_store.c) ---- */

/* Appends a leaf to the vote's log: stores every node the append completes, updates the
 * frontier in v->log_frontier (the record is written by the caller) and gives the leaf
 * index and the new root. v->log_frontier's bytes are replaced by a malloc'd buffer that
 * st_pb_free releases with the record. Returns 0 or a storage code. */
int st_vlog_append(MDB_txn *txn, const st_store *st, pb_vote *v, const uint8_t leaf_hash[32],
                   uint64_t *leaf_index, uint64_t *tree_size, uint8_t root[32]);
/* The log's size from the stored frontier (0 if none); ST_ECORRUPT if it does not decode. */
int st_vlog_size(const pb_vote *v, uint64_t *size);
/* The get_node context for crypto/merkle.h's proof functions over a transaction. */
typedef struct {
    MDB_txn *txn;
    MDB_dbi dbi;
    uint64_t vote_id;
    int rc; /* the first storage code met (MDB_NOTFOUND: a node is missing) */
} st_vlog_reader;
void st_vlog_reader_init(st_vlog_reader *r, MDB_txn *txn, const st_store *st, uint64_t vote_id);
int st_vlog_get_node(void *ctx, unsigned level, uint64_t index, uint8_t out[32]);

/* The handlers, one per command body. */
int st_apply_create_community(st_apply_ctx *c);
int st_apply_import_roll(st_apply_ctx *c);
int st_apply_create_vote(st_apply_ctx *c);
int st_apply_notice_vote(st_apply_ctx *c);
int st_apply_open_vote(st_apply_ctx *c);
int st_apply_close_vote(st_apply_ctx *c);
int st_apply_publish_vote(st_apply_ctx *c);
int st_apply_cast_ballot(st_apply_ctx *c);
int st_apply_genesis(st_apply_ctx *c);
int st_apply_add_key(st_apply_ctx *c);
int st_apply_appoint_organiser(st_apply_ctx *c);
int st_apply_revoke_key(st_apply_ctx *c);
int st_apply_revoke_owner_key(st_apply_ctx *c);
int st_apply_issue_enrollment(st_apply_ctx *c);
int st_apply_redeem_enrollment(st_apply_ctx *c);
int st_apply_authorise_proxy(st_apply_ctx *c);
int st_apply_certify_vote(st_apply_ctx *c);
int st_apply_dispute_vote(st_apply_ctx *c);
int st_apply_set_member(st_apply_ctx *c);
int st_apply_remove_member(st_apply_ctx *c);

/* The store under a state (for read.c). */
st_store *st_state_store(st_state *s);

/* Vote helpers shared by apply_vote.c, apply_ballot.c and read.c. */
st_vote_state st_vote_state_of(const pb_vote *v);
st_tally st_vote_tally(const pb_vote *v);
/* Builds the running election of an election vote (caller: st_election_free). Returns
 * ST_OK, ST_ENOMEM, or ST_ECORRUPT if the stored counts do not fit together. */
int st_vote_election(const pb_vote *v, st_election *e);

#endif
