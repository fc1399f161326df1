/* state.h - Strata's domain state machine: communities, rolls, votes, ballots and the
 * action trail, kept in LMDB and changed only by st_state_apply().
 *
 * apply() takes a Raft log entry (an encoded strata.internal.Command) and its index and
 * runs it in exactly one LMDB write transaction, which also stores the applied index.
 * It is deterministic (time comes from the command; no clocks, randomness or pointers
 * reach the database), so every node fed the same entries holds the same bytes, which
 * st_state_digest() lets you check. A command the rules refuse is a *result* (an st_
 * code and a sentence in st_apply_result) that changes nothing but the applied index;
 * apply() itself fails only when storage fails, and then nothing at all has changed.
 *
 * Threads: apply() is serialised internally (it is meant for the Raft loop thread); the
 * read functions may run on any number of threads at once, concurrently with apply():
 * each runs in its own LMDB read transaction and sees the state as of the last
 * committed command. A read's callback must not call into the same st_state (a waiting
 * map growth would deadlock it); collect what you need and call afterwards.
 *
 * Who may send which command is docs/ROLES.md: every command's actor is the key id (hex)
 * of the key that signed its request, checked against the replicated key registry.
 *
 * docs/STATE.md describes the databases, every command's rules and the vote lifecycle.
 */
#ifndef STRATA_SERVER_STATE_H
#define STRATA_SERVER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/election.h"
#include "core/matter.h"
#include "core/roll.h"
#include "core/tally.h"
#include "crypto/merkle.h"
#include "crypto/record.h" /* ST_SOURCE_ONLINE / ST_SOURCE_PAPER */
#include "crypto/sign.h"
#include "crypto/sth.h"

typedef struct st_state st_state;

typedef struct {
    const char *dir; /* data directory; must exist */
    size_t map_size; /* initial LMDB map size in bytes; 0 = 64 MiB. Grows by doubling. */
    bool nosync;     /* MDB_NOSYNC: for when the Raft log is the durable record. Default
                        (false) syncs every commit. */
    /* Fault injection for tests, NULL otherwise: called with "before_commit" once a
     * command's changes are written and before its transaction commits. */
    void (*hook)(void *ctx, const char *point);
    void *hook_ctx;
} st_state_options;

/* Opens (creating if empty) the state in opt->dir. Returns ST_OK, or an st_ code with a
 * sentence in err. The caller owns *out and releases it with st_state_close(). */
int st_state_open(st_state **out, const st_state_options *opt, char *err, size_t errlen);
/* Closes the state. No apply or read may be running. NULL is allowed. */
void st_state_close(st_state *s);

#define ST_MESSAGE_MAX 512

typedef struct {
    int code;       /* ST_OK: accepted (or skipped, or a duplicate of an accepted one);
                       otherwise the st_ code of the refusal */
    bool skipped;   /* index <= the applied index: nothing was done */
    bool duplicate; /* the request id was applied before: this is that earlier result */
    uint64_t id;    /* the new community id, roll version, vote id, or ballot sequence
                       number; the vote id for Notice/Open/Close/Publish; 0 if refused */
    uint64_t index; /* the index the result belongs to (the earlier one for a duplicate) */
    char message[ST_MESSAGE_MAX]; /* refused: what is wrong and what to do; accepted: a
                                     one-line summary of what was done */
    /* An accepted CastBallot (or its duplicate): where the ballot went in the vote's log,
     * which is what a receipt needs (sign an st_sth over log_vote_id, tree_size and root
     * with the node's key, then an st_receipt over leaf_hash and leaf_index). */
    bool logged;
    uint64_t log_vote_id, leaf_index, tree_size;
    uint8_t leaf_hash[32], root[32]; /* root of the log at tree_size */
} st_apply_result;

/* Applies the command cmd[0..len) (an encoded strata.internal.Command, borrowed) as log
 * entry `index`, filling *out. Returns ST_OK whenever *out holds the result, whether the
 * command was accepted, refused or skipped; ST_EIO, ST_ENOMEM or ST_ECORRUPT when the
 * storage failed, in which case nothing changed and the same call may be retried. */
int st_state_apply(st_state *s, uint64_t index, const uint8_t *cmd, size_t len,
                   st_apply_result *out);

/* Applies command number `pos` of the Raft entry `index`, which carries several commands
 * (consensus/batch.h); `last` says it is the entry's final one. Each command still commits
 * its own transaction, so a refusal discards only its own writes; the state records
 * (index, pos, whether later commands remain), and after a crash mid-entry the same entry
 * applied again skips the positions already done. st_state_apply() is the one-command
 * entry: position 0, last. */
int st_state_apply_at(st_state *s, uint64_t index, uint32_t pos, bool last, const uint8_t *cmd,
                      size_t len, st_apply_result *out);

/* Applies every command of the Raft entry `index` (cmds[i], lens[i], borrowed; n >= 1) in
 * one transaction, each nested in it so that a refusal discards only its own writes:
 * outs[i] gets command i's result. The entry is applied whole or not at all (a storage
 * failure changes nothing and every outs[i] says so); positions an earlier
 * st_state_apply_at reached are skipped. Same return values as st_state_apply. */
int st_state_apply_entry(st_state *s, uint64_t index, const uint8_t *const *cmds,
                         const size_t *lens, size_t n, st_apply_result *outs);

/* The index of the last entry applied in full (0 for a new state): an entry with
 * commands still to apply counts as not applied. */
int st_state_applied_index(st_state *s, uint64_t *out);

/* The whole state as bytes, for a Raft snapshot (a compacted LMDB copy taken in a read
 * transaction; apply may run meanwhile). *buf is malloc'd; the caller frees it. */
int st_state_snapshot(st_state *s, uint8_t **buf, size_t *len, char *err, size_t errlen);

/* Replaces the whole state with snapshot bytes (borrowed). Bytes that are not a readable
 * state of this format are refused with ST_ECORRUPT and nothing changes. Waits for reads
 * in progress; no apply may run concurrently. */
int st_state_restore(st_state *s, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* SHA-256 over every key and value of every database, in order (docs/STATE.md).
 * ST_DIGEST_DATA leaves out the applied index and the request-replay window (the nonces
 * of signed requests, recorded also for refused commands), so a refused command can be
 * shown to have changed nothing else. */
#define ST_STATE_DIGEST_ALL 0u
#define ST_STATE_DIGEST_DATA 1u
int st_state_digest(st_state *s, unsigned what, uint8_t out[32]);
/* The same digest and the applied index it is the digest at, read in one transaction (so
 * nodes can be compared: equal indexes must give equal digests). */
int st_state_digest_at(st_state *s, unsigned what, uint8_t out[32], uint64_t *applied);

/* The current LMDB map size in bytes (it grows by itself when full). */
size_t st_state_map_size(st_state *s);

/* ---- reads: all return ST_OK, ST_ENOENT (no such thing), ST_EIO, ST_ECORRUPT or
 * ST_ENOMEM. Callbacks get pointers valid only during the call; returning non-zero stops
 * the listing early (the read still returns ST_OK). ---- */

typedef struct {
    uint64_t id;
    char *name;   /* owned by the struct */
    char *street; /* owned by the struct */
    uint32_t min_notice_days;
    uint64_t roll_version; /* 0: no roll imported yet */
    uint64_t unit_count;
    st_weight total; /* total area and owners of the current roll */
    uint64_t vote_count;
    uint64_t created_ms, roll_imported_ms;
    uint32_t enroll_code_days; /* policy: validity of enrollment codes */
} st_community_info;

/* On ST_OK the caller owns *out and frees it with st_community_info_free(). */
int st_state_get_community(st_state *s, uint64_t id, st_community_info **out);
void st_community_info_free(st_community_info *c);

/* The units of the community's current roll, in the order they were imported. */
int st_state_list_units(st_state *s, uint64_t community_id, int (*fn)(void *ctx, const st_unit *u),
                        void *ctx);

typedef enum {
    ST_VOTE_DRAFT = 1,
    ST_VOTE_NOTICED = 2,
    ST_VOTE_OPEN = 3,
    ST_VOTE_CLOSED = 4,
    ST_VOTE_PUBLISHED = 5
} st_vote_state;

const char *st_vote_state_name(st_vote_state v); /* "draft" ... "published" */

typedef struct {
    uint64_t id, community_id;
    int matter;
    st_class cls;
    bool election; /* matter 3 */
    st_vote_state state;
    char *title; /* owned by the struct */
    uint32_t notice_days;
    uint64_t created_ms, noticed_ms, opened_ms, closed_ms, published_ms; /* 0: not yet */
    uint64_t roll_version; /* of the roll frozen at open; 0 before */
    st_weight total;       /* of the frozen roll; 0 before open */
    uint64_t ballot_count; /* ballots in the history */
    /* Matter votes: the running tally and what it decides now (for a published vote,
     * the stored result snapshot). */
    st_tally tally;
    st_decision decision;
    /* Elections: the standing now (for a published vote, the stored snapshot). */
    uint32_t seats;
    uint32_t candidate_count;
    char **candidates;        /* candidate_count names by index, owned by the struct */
    st_weight part;           /* owners taking part and their area */
    st_cand_result *standing; /* candidate_count entries, in rank order, owned */
    bool quorum;              /* elections: quorum met (matter votes: decision.quorum) */
    uint32_t elected, runoff;
    /* The ballot log: its size (every accepted ballot is a leaf) and current root. */
    uint64_t log_size;
    uint8_t log_root[32];
    /* Supervisors' certifications and disputes of the published result, in order;
     * review_status is the last one's kind (ST_REVIEW_NONE when there is none). */
    size_t review_count;
    struct st_vote_review *reviews; /* owned by the struct */
    int review_status;
} st_vote_info;

enum { ST_REVIEW_NONE = 0, ST_REVIEW_CERTIFY = 1, ST_REVIEW_DISPUTE = 2 };

typedef struct st_vote_review {
    int kind; /* ST_REVIEW_CERTIFY or ST_REVIEW_DISPUTE */
    uint64_t time_ms, index;
    char key_id[ST_KEY_ID_HEX_LEN + 1]; /* the supervisor's key */
    char *reason;                       /* owned; "" when none was given */
} st_vote_review;

/* On ST_OK the caller owns *out and frees it with st_vote_info_free(). */
int st_state_get_vote(st_state *s, uint64_t id, st_vote_info **out);
void st_vote_info_free(st_vote_info *v);

typedef struct {
    uint64_t id;
    int matter;
    st_vote_state state;
    const char *title;
} st_vote_brief;

/* The votes of a community in order of creation (ST_ENOENT: no such community). */
int st_state_list_votes(st_state *s, uint64_t community_id,
                        int (*fn)(void *ctx, const st_vote_brief *v), void *ctx);

/* ST_SOURCE_ONLINE or ST_SOURCE_PAPER, as in the signed ballot record (crypto/record.h). */
typedef int st_ballot_source;

typedef struct {
    uint64_t vote_id, seq;
    const char *owner_id;
    bool election;
    st_choice choice;          /* matter votes */
    const uint32_t *approvals; /* elections: candidate indexes */
    size_t approval_count;
    st_ballot_source source;
    const uint8_t *paper_scan_sha256; /* 32 bytes for paper ballots, NULL online */
    const char *entered_by;           /* "" when not given */
    const uint8_t *nonce;
    size_t nonce_len;
    uint64_t time_ms, index;
    const char *actor;
    bool current; /* the owner's ballot that counts now */
    /* Its place in the vote's log and the leaf data (docs/FORMATS.md §5). */
    uint64_t leaf_index;
    const uint8_t *record; /* the signed ballot record, record_len bytes */
    size_t record_len;
    const uint8_t *key_id;      /* 16 bytes: the signing key */
    const char *proxy_owner_id; /* a proxy ballot: who cast it for owner_id; "" otherwise */
} st_ballot_info;

/* Every ballot of the vote, in sequence order (ST_ENOENT: no such vote). */
int st_state_list_ballots(st_state *s, uint64_t vote_id,
                          int (*fn)(void *ctx, const st_ballot_info *b), void *ctx);
/* One owner's ballots in the vote, in order (ST_ENOENT: no such vote, or the owner is
 * not on its frozen roll). */
int st_state_owner_ballots(st_state *s, uint64_t vote_id, const char *owner_id,
                           int (*fn)(void *ctx, const st_ballot_info *b), void *ctx);

typedef struct {
    bool equal;       /* the recount equals the running tally / election counts, and
                         every owner's current ballot is their last one in history */
    uint64_t ballots; /* ballots replayed */
    uint64_t voters;  /* owners on the frozen roll */
    st_tally tally;   /* matter votes: the recount */
    st_weight part;   /* elections: the recount's participation */
} st_recount_info;

/* Recounts a vote from scratch: replays its ballot history (the last ballot of each
 * owner counts) against the frozen roll, with st_tally_recount or a fresh st_election,
 * and compares with the running figures stored in the vote. A vote not yet open recounts
 * to zero. */
int st_state_recount(st_state *s, uint64_t vote_id, st_recount_info *out);

typedef struct {
    uint64_t seq, index, time_ms;
    const char *actor;
    const char *kind; /* "community.create", "roll.import", "vote.create", "vote.notice",
                         "vote.open", "ballot.cast", "vote.close", "vote.publish", and those
                         of docs/ROLES.md: "key.genesis", "key.add", "key.appoint",
                         "key.revoke", "key.revoke_owner", "enroll.issue", "enroll.redeem",
                         "proxy.authorise", "vote.certify", "vote.dispute", "member.set",
                         "member.remove" */
    uint64_t community_id, vote_id; /* 0 when not about one */
    const char *summary;
} st_event_info;

/* The action trail from sequence number `from` (1 = the start) onwards. */
int st_state_list_events(st_state *s, uint64_t from, int (*fn)(void *ctx, const st_event_info *e),
                         void *ctx);

/* ---- keys and roles (docs/ROLES.md) ---- */

typedef enum {
    ST_ROLE_OPERATOR = 1,
    ST_ROLE_SUPERVISOR = 2,
    ST_ROLE_ORGANISER = 3,
    ST_ROLE_OWNER = 4
} st_role;

const char *st_role_name(st_role r); /* "operator" ... "owner" */

/* A registered key: a plain value with its strings copied in. */
typedef struct {
    uint8_t key_id[ST_KEY_ID_LEN];
    char key_id_hex[ST_KEY_ID_HEX_LEN + 1];
    uint8_t public_key[ST_SIGN_PK_LEN];
    st_role role;
    uint64_t community_id;        /* organisers and owners; 0 otherwise */
    char owner_id[ST_ID_MAX + 1]; /* owners; "" otherwise */
    char label[ST_NAME_MAX + 1];  /* "" when none */
    uint64_t seq;                 /* registration sequence number */
    uint64_t registered_ms, registered_index;
    char registered_by[ST_KEY_ID_HEX_LEN + 1]; /* the actor (genesis keys: the operator key) */
    bool active;                               /* false once revoked */
    uint64_t revoked_ms;                       /* 0 while active */
    char revoked_by[ST_KEY_ID_HEX_LEN + 1];
    char revoke_cosigner[ST_KEY_ID_HEX_LEN + 1]; /* owner keys: the co-signing supervisor */
    char revoke_reason[ST_NAME_MAX + 1];
} st_key_info;

/* One key by its id (raw 16 bytes, or 32 hex characters). ST_ENOENT when not registered. A
 * revoked key is still found (active = false): the gRPC layer must refuse requests signed
 * by it (UNAUTHENTICATED). */
int st_state_get_key(st_state *s, const uint8_t key_id[ST_KEY_ID_LEN], st_key_info *out);
int st_state_get_key_hex(st_state *s, const char *key_id_hex, st_key_info *out);
/* Every key ever registered, in key id order (the audit bundle's key list). */
int st_state_list_keys(st_state *s, int (*fn)(void *ctx, const st_key_info *k), void *ctx);
/* The keys ever enrolled for one owner of a community, oldest first (ST_ENOENT: none). */
int st_state_owner_keys(st_state *s, uint64_t community_id, const char *owner_id,
                        int (*fn)(void *ctx, const st_key_info *k), void *ctx);
/* How many keys were ever registered (0: genesis has not happened yet). */
int st_state_key_count(st_state *s, uint64_t *out);

typedef enum {
    ST_ENROLL_OPEN = 1,
    ST_ENROLL_REDEEMED = 2,
    ST_ENROLL_SUPERSEDED = 3
} st_enroll_state;

typedef struct {
    uint8_t code_key_id[ST_KEY_ID_LEN];
    uint8_t code_public_key[ST_SIGN_PK_LEN];
    uint64_t community_id, seq, issued_ms, expires_ms, closed_ms;
    char owner_id[ST_ID_MAX + 1];
    char issued_by[ST_KEY_ID_HEX_LEN + 1];
    st_enroll_state state;                  /* an OPEN code past expires_ms is expired */
    uint8_t redeemed_key_id[ST_KEY_ID_LEN]; /* zero unless redeemed */
} st_enrollment_info;

/* An enrollment code by the key id of its code public key. */
int st_state_get_enrollment(st_state *s, const uint8_t code_key_id[ST_KEY_ID_LEN],
                            st_enrollment_info *out);

typedef struct {
    uint64_t vote_id, time_ms, index;
    const char *principal_owner_id, *proxy_owner_id, *authorised_by;
    const uint8_t *document_sha256; /* 32 bytes */
} st_proxy_info;

/* The proxy authorisations recorded for a vote, by principal owner id. */
int st_state_list_proxies(st_state *s, uint64_t vote_id,
                          int (*fn)(void *ctx, const st_proxy_info *p), void *ctx);

/* ---- signed request replay (docs/ROLES.md §Requests) ---- */

/* What apply will decide about request authentication with these fields at time now_ms
 * (the time the leader would stamp): ST_OK; ST_EAUTH when the timestamp is more than five
 * minutes from now_ms or older than five minutes before the newest authenticated command,
 * or the (key id, nonce) pair was seen. A read: the gRPC layer calls it before proposing,
 * and apply checks again deterministically. */
int st_state_check_request(st_state *s, const uint8_t key_id[ST_KEY_ID_LEN],
                           const uint8_t nonce[16], uint64_t timestamp_ms, uint64_t now_ms);
/* Whether the (key id, nonce) pair is recorded now. */
int st_state_request_seen(st_state *s, const uint8_t key_id[ST_KEY_ID_LEN], const uint8_t nonce[16],
                          bool *seen);

/* ---- the ballot logs (RFC 9162; docs/STATE.md §The log) ---- */

typedef struct {
    uint64_t vote_id, community_id;
    uint64_t tree_size;
    uint8_t root[32];
} st_tree_head;

/* The vote's log now. Signed tree heads are made outside the state machine: the server
 * fills an st_sth with vote_id, tree_size and root, its time and node id, and signs it with
 * its node key (crypto/sth.h). */
int st_state_log_head(st_state *s, uint64_t vote_id, st_tree_head *out);
/* The root at an earlier size (tree_size <= the current size, else ST_ERANGE). */
int st_state_log_root_at(st_state *s, uint64_t vote_id, uint64_t tree_size, st_tree_head *out);

typedef struct {
    uint64_t tree_size;    /* the size the proof is for */
    uint8_t root[32];      /* the root at tree_size */
    uint64_t old_size;     /* consistency: the old size */
    uint8_t old_root[32];  /* consistency: the root at old_size */
    uint8_t leaf_hash[32]; /* inclusion: the leaf's hash */
    size_t count;          /* hashes in the proof */
    uint8_t hashes[ST_MERKLE_MAX_PROOF][32];
} st_tree_proof;

/* Inclusion proof of leaf leaf_index in the tree of tree_size leaves (0 = the current
 * size), with that tree's root, read in one transaction. ST_EINVAL: leaf_index >=
 * tree_size; ST_ERANGE: tree_size above the current size. Verify with
 * st_merkle_verify_inclusion. */
int st_state_log_inclusion(st_state *s, uint64_t vote_id, uint64_t leaf_index, uint64_t tree_size,
                           st_tree_proof *out);
/* Consistency proof from old_size to new_size (0 = the current size), with both roots.
 * ST_EINVAL: old_size > new_size; ST_ERANGE: new_size above the current size. */
int st_state_log_consistency(st_state *s, uint64_t vote_id, uint64_t old_size, uint64_t new_size,
                             st_tree_proof *out);
/* The leaf data (signed ballot record) of leaf leaf_index and its ballot's sequence
 * number. *record is malloc'd; the caller frees it. ST_ENOENT: no such leaf. */
int st_state_log_leaf(st_state *s, uint64_t vote_id, uint64_t leaf_index, uint8_t **record,
                      size_t *len, uint64_t *seq);

/* Verifies a signed tree head against the replicated roster and the log: the signing
 * node's key was trusted at sth->timestamp_ms (a member's key from when it was set until
 * the node was removed or its key replaced), the signature verifies (crypto/sth.h), and
 * the root is the vote's log root at sth->tree_size. ST_OK; ST_EAUTH (key or signature);
 * ST_ECORRUPT (the root differs from the stored log); ST_ERANGE (size beyond the log). */
int st_state_verify_sth(st_state *s, const st_sth *sth, char *err, size_t errlen);

/* ---- the cluster roster ---- */

typedef struct {
    uint64_t node_id;
    char raft_address[ST_NAME_MAX + 1];
    char grpc_address[ST_NAME_MAX + 1];
    uint8_t public_key[ST_SIGN_PK_LEN];
    bool member; /* false once removed */
    uint64_t added_ms, removed_ms, updated_ms, key_since_ms;
    size_t retired_key_count; /* earlier keys of the node (still trusted for old heads) */
} st_member_info;

/* One node of the roster (also a removed one: member = false). */
int st_state_get_member(st_state *s, uint64_t node_id, st_member_info *out);
/* Every node ever in the roster, by node id. */
int st_state_list_members(st_state *s, int (*fn)(void *ctx, const st_member_info *m), void *ctx);

#endif
