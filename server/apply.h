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

#define ST_NOTICE_DAYS_DEFAULT 15
#define ST_NOTICE_DAYS_MAX 365
#define ST_MS_PER_DAY 86400000ULL
#define ST_REQUEST_ID_LEN 16
#define ST_NONCE_MAX 64
#define ST_SUMMARY_MAX 256

typedef struct {
    st_store *store;
    MDB_txn *txn; /* the command's write transaction */
    uint64_t index;
    const pb_command *cmd;
    st_apply_result *res;
    /* Filled by an accepting handler: the event appended to the trail. */
    const char *kind;
    uint64_t community_id, vote_id;
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

/* The handlers, one per command body. */
int st_apply_create_community(st_apply_ctx *c);
int st_apply_import_roll(st_apply_ctx *c);
int st_apply_create_vote(st_apply_ctx *c);
int st_apply_notice_vote(st_apply_ctx *c);
int st_apply_open_vote(st_apply_ctx *c);
int st_apply_close_vote(st_apply_ctx *c);
int st_apply_publish_vote(st_apply_ctx *c);
int st_apply_cast_ballot(st_apply_ctx *c);

/* The store under a state (for read.c). */
st_store *st_state_store(st_state *s);

/* Vote helpers shared by apply_vote.c, apply_ballot.c and read.c. */
st_vote_state st_vote_state_of(const pb_vote *v);
st_tally st_vote_tally(const pb_vote *v);
/* Builds the running election of an election vote (caller: st_election_free). Returns
 * ST_OK, ST_ENOMEM, or ST_ECORRUPT if the stored counts do not fit together. */
int st_vote_election(const pb_vote *v, st_election *e);

#endif
