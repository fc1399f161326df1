/* bundle.h - the audit bundle of one vote (docs/AUDIT.md): writing it, and verifying it
 * offline with crypto/ and core/ only (no network, no gRPC, no trust in any node).
 *
 * A bundle is a directory of line-oriented text files:
 *   MANIFEST      format, the vote, counts, and SHA-256 and size of every other file
 *   roll.csv      the roll frozen when the vote opened (the CSV of core/roll_csv.h)
 *   ballots.log   one ballot a line: seq, leaf index, owner id, base64 signed record
 *   ballots.csv   matter votes: owner_id,choice per ballot (the CSV of `strata tally`)
 *   keys.txt      every key that signed a ballot: id, role, scope, public key, times
 *   nodes.txt     the cluster's node keys: node id, public key
 *   sth.txt       the final signed tree head of the vote's log (base64)
 *   result.json   the published result, the JSON of `strata vote result --json`
 *
 * The writer (st_bundle_create ... st_bundle_finish) streams each file as its parts come
 * and writes MANIFEST last. The verifier (st_bundle_verify) re-checks every file and names
 * the FIRST discrepancy: file, line and what is wrong. Signatures and leaf hashes are
 * checked on several threads; everything else follows the files in order.
 *
 * Errors follow core/error.h: ST_OK or a negative code with one sentence in err. Strings
 * passed in are borrowed for the call.
 */
#ifndef STRATA_CLIENT_AUDIT_BUNDLE_H
#define STRATA_CLIENT_AUDIT_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "client/audit/result.h"
#include "core/roll.h"
#include "crypto/sign.h"
#include "crypto/sth.h"

#define ST_BUNDLE_FORMAT "strata-audit-bundle-v1"
#define ST_BUNDLE_FILES 7 /* the files MANIFEST lists, in this order: */
#define ST_BUNDLE_ROLL "roll.csv"
#define ST_BUNDLE_BALLOTS "ballots.log"
#define ST_BUNDLE_BALLOTS_CSV "ballots.csv"
#define ST_BUNDLE_KEYS "keys.txt"
#define ST_BUNDLE_NODES "nodes.txt"
#define ST_BUNDLE_STH "sth.txt"
#define ST_BUNDLE_RESULT "result.json"
#define ST_BUNDLE_MANIFEST "MANIFEST"
#define ST_BUNDLE_TITLE_MAX 512
#define ST_BUNDLE_CANDIDATES_MAX 64

/* Roles of keys.txt (the numbers of keys.proto's Role). */
enum {
    ST_BUNDLE_ROLE_OPERATOR = 1,
    ST_BUNDLE_ROLE_SUPERVISOR = 2,
    ST_BUNDLE_ROLE_ORGANISER = 3,
    ST_BUNDLE_ROLE_OWNER = 4
};

/* "operator", "supervisor", "organiser", "owner"; NULL for another number. */
const char *st_bundle_role_name(int role);
/* The role of a name above, or 0. */
int st_bundle_role_parse(const char *name);

/* What MANIFEST says of the vote. Borrowed by st_bundle_create. */
typedef struct st_bundle_vote {
    uint64_t vote_id;
    uint64_t community_id;
    uint32_t matter;   /* 1..9; 3 is an election */
    const char *title; /* one line, 1..512 bytes */
    const char *state; /* "closed" or "published" */
    uint64_t roll_version;
    uint32_t seats;                /* elections; 0 otherwise */
    const char *const *candidates; /* elections: names by index */
    size_t n_candidates;
    uint64_t exported_ms;
} st_bundle_vote;

/* One line of keys.txt. Borrowed by st_bundle_add_key. */
typedef struct st_bundle_key {
    uint8_t key_id[ST_KEY_ID_LEN];
    uint8_t public_key[ST_SIGN_PK_LEN];
    int role;              /* ST_BUNDLE_ROLE_* */
    uint64_t community_id; /* organisers and owners; 0 otherwise */
    const char *owner_id;  /* owners; "" otherwise */
    uint64_t registered_ms;
    uint64_t revoked_ms; /* 0: active */
} st_bundle_key;

/* ---- writing ---- */

typedef struct st_bundle_writer st_bundle_writer;

/* Creates the directory dir (mode 0755; an existing empty directory is used, a non-empty
 * one refused with ST_EEXIST) and starts the files. *out belongs to the caller, who ends it
 * with st_bundle_finish or st_bundle_abort. ST_OK, ST_EINVAL, ST_EEXIST, ST_EIO, ST_ENOMEM. */
int st_bundle_create(const char *dir, const st_bundle_vote *vote, st_bundle_writer **out, char *err,
                     size_t errlen);

/* Adds a unit of the frozen roll (in roll order). */
int st_bundle_add_unit(st_bundle_writer *w, const st_unit *u, char *err, size_t errlen);
/* Adds the next ballot of the log: the record must decode (crypto/record.h). */
int st_bundle_add_ballot(st_bundle_writer *w, uint64_t seq, uint64_t leaf_index,
                         const char *owner_id, const uint8_t *record, size_t len, char *err,
                         size_t errlen);
int st_bundle_add_key(st_bundle_writer *w, const st_bundle_key *k, char *err, size_t errlen);
int st_bundle_add_node(st_bundle_writer *w, uint64_t node_id, const uint8_t pk[ST_SIGN_PK_LEN],
                       char *err, size_t errlen);
/* The final signed tree head (129 bytes, docs/FORMATS.md §6). */
int st_bundle_set_sth(st_bundle_writer *w, const uint8_t sth[ST_STH_LEN], char *err, size_t errlen);
/* The published result (borrowed for the call). */
int st_bundle_set_result(st_bundle_writer *w, const st_result *r, char *err, size_t errlen);

/* Closes the files, writes MANIFEST (with every file's SHA-256) and frees w. Every part
 * must have been given (sth, result). ST_OK, or an error (w is freed either way). */
int st_bundle_finish(st_bundle_writer *w, char *err, size_t errlen);
/* Closes and frees w, removing the files written so far. NULL is allowed. */
void st_bundle_abort(st_bundle_writer *w);

/* ---- verifying ---- */

/* Progress of a long check: stage ("signatures", ...), done of total. */
typedef void (*st_bundle_progress_fn)(void *ctx, const char *stage, uint64_t done, uint64_t total);

typedef struct st_bundle_verify_options {
    unsigned threads;               /* 0: every online core */
    st_bundle_progress_fn progress; /* may be NULL */
    void *ctx;
} st_bundle_verify_options;

#define ST_BUNDLE_FILE_MAX 32
#define ST_BUNDLE_MESSAGE_MAX 640

/* What st_bundle_verify found. A plain value. */
typedef struct st_bundle_report {
    /* The first discrepancy (when the result is not ST_OK): the file, its 1-based line (0:
     * the file as a whole) and one sentence. */
    char file[ST_BUNDLE_FILE_MAX];
    size_t line;
    char message[ST_BUNDLE_MESSAGE_MAX];

    /* What was read and checked (as far as it got). */
    uint64_t vote_id, community_id;
    uint32_t matter;
    size_t units, owners, ballots, keys, nodes;
    size_t voters;  /* owners whose last ballot counts */
    st_sth sth;     /* the final tree head (signature checked) */
    st_tally tally; /* matter votes: the recount */
    st_decision decision;
    unsigned threads;   /* threads used for signatures */
    uint64_t verify_us; /* time spent, microseconds */
} st_bundle_report;

/* Verifies the bundle in dir (see docs/AUDIT.md §Verification for every check, in order).
 * Returns ST_OK when everything checks; ST_ECORRUPT for a discrepancy (rep->file, line,
 * message); ST_EIO when a file cannot be read, ST_ENOMEM (also described in rep). */
int st_bundle_verify(const char *dir, const st_bundle_verify_options *o, st_bundle_report *rep);

#endif
