/* store.h - the LMDB environment under the state machine: the named databases, key
 * encoding, protobuf values, map growth and the content digest.
 *
 * Every database and its keys are described in docs/STATE.md. Keys are big-endian
 * integers (so LMDB's byte order is numeric order) optionally followed by string bytes;
 * values are protobuf-c encodings of the *Record messages of
 * proto/strata/internal/command.proto, or 8-byte big-endian counters in `meta`.
 *
 * Functions taking an MDB_txn return LMDB codes (0, MDB_*, errno) or ST_ENOMEM /
 * ST_ECORRUPT (see server/codes.h); the caller decides what MDB_MAP_FULL means.
 *
 * Threads: any number of readers and one writer at a time. mdb_env_set_mapsize() must
 * not run while any transaction is open in the process, so every transaction is taken
 * under a shared lock (st_store_txn_begin) and growing the map takes it exclusively.
 */
#ifndef STRATA_SERVER_STORE_H
#define STRATA_SERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>
#include <protobuf-c/protobuf-c.h>

/* The named databases, in digest order. */
typedef enum {
    ST_DB_META = 0,        /* counter name -> u64 (applied index, next ids) */
    ST_DB_REQUESTS,        /* request id (16 bytes) -> RequestRecord */
    ST_DB_COMMUNITIES,     /* community id -> CommunityRecord */
    ST_DB_COMMUNITY_NAMES, /* SHA-256(street ‖ 0 ‖ name) -> community id (be64) */
    ST_DB_UNITS,           /* community id ‖ position (u32) -> Unit (the current roll) */
    ST_DB_VOTES,           /* vote id -> VoteRecord */
    ST_DB_COMMUNITY_VOTES, /* community id ‖ vote id -> empty */
    ST_DB_VOTERS,          /* vote id ‖ owner id -> VoterRecord (roll frozen at open) */
    ST_DB_BALLOTS,         /* vote id ‖ sequence -> BallotRecord */
    ST_DB_EVENTS,          /* sequence -> EventRecord */
    ST_DB_KEYS,            /* key id (16 bytes) -> KeyRecord */
    ST_DB_OWNER_KEYS,      /* community id ‖ owner id -> OwnerRecord */
    ST_DB_ROLL_OWNERS,     /* community id ‖ owner id -> empty (owners of the current roll) */
    ST_DB_ENROLLMENTS,     /* code key id (16 bytes) -> EnrollmentRecord */
    ST_DB_PROXIES,         /* vote id ‖ principal owner id -> ProxyRecord */
    ST_DB_BALLOT_NONCES,   /* vote id ‖ ballot nonce (16 bytes) -> ballot sequence (be64) */
    ST_DB_LOG_NODES,       /* vote id ‖ level (u8) ‖ index (be64) -> 32-byte Merkle node */
    ST_DB_REQUEST_NONCES,  /* key id (16) ‖ request nonce (16) -> request timestamp (be64) */
    ST_DB_NONCE_TIMES,     /* request timestamp (be64) ‖ key id ‖ nonce -> empty (pruning) */
    ST_DB_MEMBERS,         /* node id -> MemberRecord (the roster) */
    ST_DB_COUNT
} st_db;

/* Names of the counters in ST_DB_META. */
#define ST_META_APPLIED "applied_index"           /* Raft index of the last entry applied, */
#define ST_META_APPLIED_POS "applied_pos"         /* the command's position in that entry, */
#define ST_META_APPLIED_OPEN "applied_open"       /* 1 while later commands of it remain */
#define ST_META_LAST_COMMUNITY "last_community"   /* the last community id given out */
#define ST_META_LAST_VOTE "last_vote"             /* the last vote id given out */
#define ST_META_LAST_EVENT "last_event"           /* the last event sequence number */
#define ST_META_LAST_KEY "last_key"               /* the last key sequence number */
#define ST_META_LAST_ENROLLMENT "last_enrollment" /* the last enrollment code number */
#define ST_META_OPERATORS "active_operators"      /* operator keys not revoked */
#define ST_META_AUTH_NEWEST "auth_newest_ms"      /* newest time_ms of a command with auth */
#define ST_META_FORMAT "format"
#define ST_STORE_FORMAT 2 /* bump when the layout changes (2: keys, log, roster) */

#define ST_STORE_MAP_DEFAULT ((size_t)64 << 20) /* 64 MiB */

typedef struct st_store st_store;

/* Fault injection for tests: called at named points of a write ("before_commit": all
 * changes of a command are written, the transaction is not yet committed). */
typedef void (*st_store_hook)(void *ctx, const char *point);

/* Opens (creating if needed) the environment in directory dir, which must exist.
 * map_size 0 means ST_STORE_MAP_DEFAULT; nosync opens with MDB_NOSYNC. Returns an st_
 * code with a sentence in err. */
int st_store_open(st_store **out, const char *dir, size_t map_size, bool nosync, char *err,
                  size_t errlen);
void st_store_close(st_store *st);

MDB_dbi st_store_dbi(const st_store *st, st_db db);
/* The LMDB environment (for a transaction nested in one st_store_txn_begin opened). */
MDB_env *st_store_env(const st_store *st);
const char *st_store_db_name(st_db db);
size_t st_store_map_size(const st_store *st);

/* Begins a read-only (flags MDB_RDONLY) or write (flags 0) transaction under the shared
 * growth lock; st_store_txn_end commits (commit = true) or aborts it and drops the lock.
 * The lock is dropped even when the commit fails. */
int st_store_txn_begin(st_store *st, unsigned flags, MDB_txn **txn);
int st_store_txn_end(st_store *st, MDB_txn *txn, bool commit);

/* Doubles the map (at least to `want` bytes). Call with no transaction of this
 * process open: it takes the growth lock exclusively, waiting for readers to finish. */
int st_store_grow(st_store *st, size_t want);

/* The whole environment, compacted, as bytes (mdb_env_copyfd2): a consistent copy taken
 * in a read transaction, so apply may go on meanwhile. *buf is malloc'd; the caller frees
 * it. */
int st_store_snapshot(st_store *st, uint8_t **buf, size_t *len, char *err, size_t errlen);

/* Replaces the environment with snapshot bytes: written beside the data file, checked as
 * a readable Strata state of this format (ST_ECORRUPT otherwise, nothing changed), then
 * swapped in while no transaction is open. Waits for running reads to finish. */
int st_store_restore(st_store *st, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* Reads the whole environment in dir read-only (no lock file, nothing written): every named
 * database opened and walked key by key, its entry count compared with the B-tree's own, and
 * the format record checked. ST_OK (also when dir holds no data.mdb yet), or ST_ECORRUPT
 * with a sentence in err. LMDB keeps no checksums: this finds damaged pages and structure,
 * not a changed byte inside a value. A badly damaged file can crash the reader (LMDB follows
 * page numbers it does not check), so stratad runs this in a child process. */
int st_store_check(const char *dir, char *err, size_t errlen);

void st_store_set_hook(st_store *st, st_store_hook hook, void *ctx);
void st_store_fault(const st_store *st, const char *point);

/* ---- keys ---- */

#define ST_KEY_MAX 128 /* the longest key we build (8 + 8 + ST_ID_MAX fits) */

typedef struct {
    uint8_t b[ST_KEY_MAX];
    size_t n;
} st_key;

void st_put_be64(uint8_t *p, uint64_t v);
uint64_t st_get_be64(const uint8_t *p);
void st_put_be32(uint8_t *p, uint32_t v);
uint32_t st_get_be32(const uint8_t *p);

/* key = be64(a) */
st_key st_key_u64(uint64_t a);
/* key = be64(a) ‖ be64(b) */
st_key st_key_id2(uint64_t a, uint64_t b);
/* key = be64(a) ‖ be32(b) */
st_key st_key_id_pos(uint64_t a, uint32_t b);
/* key = be64(a) ‖ bytes of s (no terminator); s is at most ST_ID_MAX bytes */
st_key st_key_id_str(uint64_t a, const char *s);
/* key = p[0..n) (n <= ST_KEY_MAX) */
st_key st_key_bytes(const uint8_t *p, size_t n);
/* key = be64(a) ‖ p[0..n) (n <= ST_KEY_MAX - 8) */
st_key st_key_id_bytes(uint64_t a, const uint8_t *p, size_t n);
/* key = be64(vote) ‖ u8(level) ‖ be64(index): a Merkle node of a vote's log */
st_key st_key_node(uint64_t vote, unsigned level, uint64_t index);
MDB_val st_key_val(const st_key *k);

/* ---- counters in ST_DB_META ---- */

/* A missing counter reads as 0. */
int st_meta_get(MDB_txn *txn, const st_store *st, const char *name, uint64_t *out);
int st_meta_put(MDB_txn *txn, const st_store *st, const char *name, uint64_t v);

/* ---- protobuf values ---- */

/* Packs m straight into the database (MDB_RESERVE: one copy). */
int st_msg_put(MDB_txn *txn, MDB_dbi dbi, const st_key *key, const ProtobufCMessage *m);
/* Reads and unpacks. MDB_NOTFOUND if absent, ST_ECORRUPT if it does not decode,
 * ST_ENOMEM. On success the caller owns *out: protobuf_c_message_free_unpacked(*out, NULL). */
int st_msg_get(MDB_txn *txn, MDB_dbi dbi, const st_key *key, const ProtobufCMessageDescriptor *d,
               ProtobufCMessage **out);
/* Unpacks a value already read; same ownership and codes as st_msg_get. */
int st_msg_decode(const MDB_val *v, const ProtobufCMessageDescriptor *d, ProtobufCMessage **out);

/* ---- digest ---- */

/* Which parts st_store_digest covers. */
#define ST_DIGEST_ALL 0u
#define ST_DIGEST_DATA 1u /* everything but the applied index and the request-replay window */

/* SHA-256 over every database in st_db order: for each, its name, then every key and
 * value in key order, each length-prefixed (be32). Equal digests mean equal contents. */
int st_store_digest(st_store *st, unsigned what, uint8_t out[32]);
/* The same inside the caller's (read) transaction. */
int st_store_digest_txn(MDB_txn *txn, const st_store *st, unsigned what, uint8_t out[32]);

#endif
