/* verify_internal.h - the state of one verification of an audit bundle, shared by the
 * files of the verifier: bundle_verify.c (the order of the checks, MANIFEST and the small
 * files), verify_ballots.c (ballots.log: threads for signatures and leaf hashes, then the
 * checks line by line, the Merkle root) and verify_result.c (the recount and result.json).
 * Internal to client/audit/.
 */
#ifndef STRATA_CLIENT_AUDIT_VERIFY_INTERNAL_H
#define STRATA_CLIENT_AUDIT_VERIFY_INTERNAL_H

#include "client/audit/bundle.h"
#include "crypto/record.h"

enum { VF_ROLL, VF_BALLOTS, VF_BALLOTS_CSV, VF_KEYS, VF_NODES, VF_STH, VF_RESULT, VF_COUNT };

/* A key of keys.txt. */
typedef struct {
    uint8_t key_id[ST_KEY_ID_LEN];
    uint8_t public_key[ST_SIGN_PK_LEN];
    int role;
    uint64_t community_id;
    char owner_id[ST_OWNER_ID_MAX + 1];
    uint64_t registered_ms, revoked_ms;
    size_t line;
} st_audit_key;

/* A line of ballots.log, and what the worker threads found. */
typedef struct {
    uint64_t seq, leaf;
    const char *owner; /* into the file's buffer */
    const char *b64;   /* into the file's buffer */
    int fields_ok;     /* the line has its four fields and numbers */
    uint8_t *raw;      /* the record bytes (owned) */
    size_t raw_len;
    int b64_rc, dec_rc, sig_rc; /* ST_OK or the failure of each step (in order) */
    st_record rec;
    uint8_t leaf_hash[32];
    size_t dup_of; /* 0, or the 1-based line of an earlier ballot with the same nonce */
} st_audit_ballot;

typedef struct {
    const char *dir;
    const st_bundle_verify_options *o;
    st_bundle_report *rep;

    /* MANIFEST */
    uint64_t vote_id, community_id, roll_version, exported_ms, tree_size;
    uint32_t matter, seats;
    char title[ST_BUNDLE_TITLE_MAX + 1];
    char state[40];
    char *candidates[ST_BUNDLE_CANDIDATES_MAX];
    size_t n_candidates;
    uint64_t units, owners, total_area, ballots, keys, nodes;
    bool election;
    bool listed[VF_COUNT]; /* the files MANIFEST lists */

    char *buf[VF_COUNT];
    size_t len[VF_COUNT];

    st_trusted_key *node_keys;
    size_t n_node_keys;
    st_sth sth;
    st_audit_key *key; /* sorted by key id */
    size_t n_keys;
    st_roll *roll;
    st_audit_ballot *ballot;
    size_t n_ballots;
} st_audit_ctx;

extern const char *const st_audit_file_names[VF_COUNT];

/* Records the first discrepancy (file, line: 0 for the whole file) in the report; returns
 * ST_ECORRUPT. */
int st_audit__found(st_audit_ctx *c, const char *file, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records a failure that is not a discrepancy (I/O, memory) and returns code. */
int st_audit__trouble(st_audit_ctx *c, int code, const char *file, const char *msg);

/* The key of keys.txt with this id, or NULL. */
const st_audit_key *st_audit__find_key(const st_audit_ctx *c, const uint8_t id[ST_KEY_ID_LEN]);

/* ballots.log (verify_ballots.c): parse, verify every record on threads, check each line in
 * order, the counts and the Merkle root against the tree head. */
int st_audit__check_ballots(st_audit_ctx *c);
/* ballots.csv (matter votes): each line is the owner and choice of the same ballot. */
int st_audit__check_ballots_csv(st_audit_ctx *c);
/* The recount from roll.csv and the last ballot per owner, against result.json. */
int st_audit__check_result(st_audit_ctx *c);

#endif
