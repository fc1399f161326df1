/* strata.h - libstrata: the C library a phone app (and the `strata` program) embeds to use
 * a Strata cluster. It does what must be identical on every device:
 *   - keys: generate an Ed25519 key, save it as a key file (mode 0600, optionally sealed
 *     with a passphrase), load it (refusing a file others can read);
 *   - calls: TLS by default (the node's certificate checked against a CA bundle or the
 *     system's roots; optionally a client certificate), plaintext only when asked for and
 *     only to addresses on this machine;
 *     one gRPC channel per cluster address, created on first use; leader discovery
 *     (a follower answers UNAVAILABLE with the leader's address in the trailing metadata
 *     `strata-leader`, and the call goes there), the next address when a node is down,
 *     back-off between rounds, a clear error after the overall deadline;
 *   - signing: with a key, every call carries `strata-auth-bin`, the signed request
 *     envelope of docs/FORMATS.md §8; a ballot is built and signed in its canonical form
 *     (docs/FORMATS.md §4); writes carry a random 16-byte request_id made once per
 *     operation and reused on every retry, so the service applies them at most once;
 *   - checks that need no trust in the answering node: receipts, tree heads, inclusion and
 *     consistency proofs, verified offline with crypto/.
 *
 * Conventions.
 *   - Functions return ST_OK (0) or a negative code of core/error.h, and fill the caller's
 *     st_error (which may be NULL) with the kind of failure and one sentence.
 *   - No global state: everything lives in the handles. The only process-wide step is the
 *     one-time initialisation of libsodium, behind a pthread_once.
 *   - An st_client may be used from several threads at once. An st_keypair is immutable and
 *     may be shared by threads. st_client_close() must not race with calls on the handle.
 *   - Ownership is stated at each function. Messages returned as protobuf-c structs
 *     (Strata__V1__*, the generated code of proto/strata/v1) belong to the caller, who frees
 *     them with the matching strata__v1__*__free_unpacked(msg, NULL), or with
 *     protobuf_c_message_free_unpacked(&msg->base, NULL).
 *   - Strings passed in are borrowed for the duration of the call, never kept.
 */
#ifndef STRATA_CLIENT_STRATA_H
#define STRATA_CLIENT_STRATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/audit/bundle.h"
#include "client/audit/result.h"
#include "core/error.h"
#include "core/roll.h"
#include "crypto/receipt.h"
#include "crypto/sign.h"
#include "crypto/sth.h"
#include "proto/strata/v1/audit.pb-c.h"
#include "proto/strata/v1/cluster.pb-c.h"
#include "proto/strata/v1/common.pb-c.h"
#include "proto/strata/v1/keys.pb-c.h"
#include "proto/strata/v1/registry.pb-c.h"
#include "proto/strata/v1/voting.pb-c.h"

/* ======================================================================================
 * Errors
 * ====================================================================================== */

/* What kind of failure an st_error describes; the strata program's exit codes follow it. */
typedef enum {
    ST_FAIL_NONE = 0,       /* no failure */
    ST_FAIL_LOCAL = 1,      /* stopped before sending: bad argument, key file, memory */
    ST_FAIL_REFUSED = 2,    /* a node answered with an error status (or an unreadable reply) */
    ST_FAIL_UNREACHABLE = 3 /* no node (or no leader) answered before the deadline */
} st_fail_kind;

#define ST_ERROR_MESSAGE_MAX 1024
#define ST_ERROR_TRIED_MAX 1024

/* A plain value the caller provides; nothing to free. */
typedef struct st_error {
    int code;          /* ST_OK or a core/error.h code (a refusal maps its gRPC status) */
    st_fail_kind kind; /* see above */
    int grpc_status;   /* REFUSED: the status answered; UNREACHABLE: the last one seen;
                          otherwise -1 */
    /* One sentence. REFUSED: the service's own message. UNREACHABLE: which addresses were
     * tried for how long, and why each failed. LOCAL: what is wrong and what to do. */
    char message[ST_ERROR_MESSAGE_MAX];
    /* UNREACHABLE: "ADDR (last reason), ADDR (last reason), ..."; otherwise "". */
    char tried[ST_ERROR_TRIED_MAX];
} st_error;

/* Resets *e to "no failure" (code ST_OK, kind NONE, grpc_status -1, empty strings). */
void st_error_clear(st_error *e);

/* The name of a gRPC status code ("FAILED_PRECONDITION"); "UNKNOWN_STATUS" for others.
 * Static storage. */
const char *st_grpc_status_name(int status);

/* The core/error.h code a gRPC status stands for (NOT_FOUND -> ST_ENOENT, ...). */
int st_code_from_grpc(int status);

/* ======================================================================================
 * Keys and key files (docs/FORMATS.md §9)
 * ====================================================================================== */

/* An Ed25519 key pair held in memory; opaque. Immutable once made; wiped when freed. */
typedef struct st_keypair st_keypair;

/* Characters of a public key in base64 (padded) and of a key id in hex. */
#define ST_PUBLIC_B64_LEN 44
#define ST_KEY_ID_TEXT_LEN ST_KEY_ID_HEX_LEN

/* A new random key pair in *out (the caller owns it: st_keypair_free). ST_OK, ST_EIO (no
 * random source) or ST_ENOMEM. */
int st_keypair_generate(st_keypair **out, st_error *err);

/* The key pair of a 32-byte seed (deterministic: tests, key escrow). Ownership as above. */
int st_keypair_from_seed(const uint8_t seed[ST_SIGN_SEED_LEN], st_keypair **out, st_error *err);

/* Wipes and frees; NULL is allowed. */
void st_keypair_free(st_keypair *k);

/* A copy of the public key into the caller's buffer. */
void st_keypair_public(const st_keypair *k, uint8_t pk[ST_SIGN_PK_LEN]);
/* The public key as padded base64 and a NUL (45 bytes) into the caller's buffer. */
void st_keypair_public_b64(const st_keypair *k, char out[ST_PUBLIC_B64_LEN + 1]);
/* The key id (docs/FORMATS.md §2) as 32 lowercase hex characters and a NUL. */
void st_keypair_id_hex(const st_keypair *k, char out[ST_KEY_ID_TEXT_LEN + 1]);

/* Writes a new key file at path with mode 0600: plain when pass is NULL, otherwise sealed
 * with pass[0..passlen) (Argon2id; passlen >= 1). Never overwrites: an existing path is
 * refused with ST_EEXIST. On any failure nothing is left at path. ST_OK, ST_EEXIST, ST_EIO,
 * ST_EINVAL (empty passphrase), ST_ENOMEM. */
int st_keypair_save(const st_keypair *k, const char *path, const char *pass, size_t passlen,
                    st_error *err);

/* Reads only the public part of a key file: whether it is sealed, and its public key (no
 * passphrase needed). Applies the same file checks as st_keypair_load(). */
int st_keyfile_info(const char *path, bool *sealed, uint8_t pk[ST_SIGN_PK_LEN], st_error *err);

/* Loads the key file at path into *out (the caller owns it). The file must be a regular
 * file that neither group nor others may read or write (else ST_EPERM, with a message
 * saying `chmod 600 FILE`). pass is needed for a sealed file (NULL or wrong: ST_EAUTH) and
 * ignored for a plain one. ST_OK, ST_EPERM, ST_EAUTH, ST_EINVAL (malformed), ST_EIO,
 * ST_ENOMEM. */
int st_keypair_load(const char *path, const char *pass, size_t passlen, st_keypair **out,
                    st_error *err);

/* ======================================================================================
 * The client handle
 * ====================================================================================== */

typedef struct st_client st_client;

#define ST_CLIENT_DEADLINE_MS 10000       /* default overall deadline of one operation */
#define ST_CLIENT_ATTEMPT_MS 3000         /* default deadline of one attempt at one node */
#define ST_CLIENT_BACKOFF_MIN_MS 50       /* first pause between rounds over the addresses */
#define ST_CLIENT_BACKOFF_MAX_MS 1000     /* the pause doubles up to this */
#define ST_CLIENT_STREAM_MS 300000        /* default deadline of a whole stream (export) */
#define ST_CLIENT_MESSAGE_MAX (64u << 20) /* largest message sent or received: 64 MiB */
#define ST_CLIENT_MAX_ADDRESSES 16        /* in the cluster list */
#define ST_CLIENT_ADDRESS_MAX 255         /* bytes in one "host:port" */
/* Keepalive: a ping at most every 5 minutes, and only while a call is active. The server
 * must allow it (its GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS default, 5 min). */
#define ST_CLIENT_KEEPALIVE_MS 300000
#define ST_CLIENT_REQUEST_ID_LEN 16
/* Sizes of crypto/ballot.h and crypto/record.h, repeated so that this header does not
 * bring crypto/ballot.h's choice names next to core/tally.h's (checked where both meet). */
#define ST_CLIENT_OWNER_ID_MAX 64    /* ST_OWNER_ID_MAX */
#define ST_CLIENT_RECORD_MAX_LEN 368 /* ST_RECORD_MAX_LEN */
#define ST_CLIENT_MAX_APPROVALS 11   /* ST_BALLOT_MAX_APPROVALS */

/* Set with st_client_options_init(), then change what you need. Borrowed by
 * st_client_new(), which copies what it keeps. */
typedef struct st_client_options {
    /* "host:port[,host:port...]", at most ST_CLIENT_MAX_ADDRESSES, required. */
    const char *cluster;
    /* The key that signs every call (NULL: calls are unsigned; public reads need none).
     * Borrowed: the handle keeps its own copy. */
    const st_keypair *key;
    uint32_t deadline_ms;     /* overall per operation; ST_CLIENT_DEADLINE_MS */
    uint32_t attempt_ms;      /* per attempt at one node; ST_CLIENT_ATTEMPT_MS */
    uint32_t backoff_min_ms;  /* ST_CLIENT_BACKOFF_MIN_MS */
    uint32_t backoff_max_ms;  /* ST_CLIENT_BACKOFF_MAX_MS */
    uint32_t max_message_len; /* ST_CLIENT_MESSAGE_MAX */
    /* Transport security (docs/OPERATIONS.md §TLS). By default every connection is TLS and
     * the node's certificate must chain to a trusted root and name the address dialled
     * (host name or IP). Paths of PEM files, read by st_client_new(): */
    const char *tls_ca_file;   /* the CAs that signed the nodes' certificates; NULL: the
                                  system's trusted roots */
    const char *tls_cert_file; /* this client's certificate chain, for a cluster that
                                  requires client certificates; NULL: none */
    const char *tls_key_file;  /* its private key (unencrypted); with tls_cert_file only */
    /* No TLS at all: allowed only when every address of the cluster list is a loopback
     * address (127.0.0.0/8, [::1], localhost), and then a leader hint naming another
     * address is not followed. Excludes the tls_* files. */
    bool plaintext;
} st_client_options;

/* Fills *o with the defaults (cluster NULL, key NULL, TLS with the system's roots). */
void st_client_options_init(st_client_options *o);

/* Whether the host of "host:port" is a loopback address: 127.0.0.0/8, ::1 (written [::1])
 * or localhost (any case). */
bool st_address_is_loopback(const char *address);

/* Parses the address list, reads the TLS files and starts the handle: no connection is
 * made yet (a channel per address is created on first use), but the handle's
 * completion-queue thread starts now and stays in grpc_completion_queue_next until
 * st_client_close(), so idle connections answer keepalive pings. *out belongs to the
 * caller. ST_OK, ST_EINVAL (bad list or option, with the entry at fault; a TLS file that
 * is not PEM of its kind: then the message starts with "TLS "), ST_EPERM (plaintext with
 * an address not on this machine), ST_EIO (a TLS file cannot be read; the thread),
 * ST_ENOMEM. */
int st_client_new(const st_client_options *o, st_client **out, st_error *err);

/* Waits for nothing: no call may be in progress on the handle. Closes the channels, stops
 * the thread, wipes the key copy and frees the handle. NULL is allowed. */
void st_client_close(st_client *c);

/* Replaces the signing key (a copy is kept; NULL removes it). Calls already under way
 * finish with the key they started with. ST_OK or ST_ENOMEM. */
int st_client_set_key(st_client *c, const st_keypair *key, st_error *err);

/* The addresses of the cluster list, in order (borrowed, valid until st_client_close). */
size_t st_client_address_count(const st_client *c);
const char *st_client_address(const st_client *c, size_t i);

/* ---- generic calls: for methods without a typed function below ---- */

/* Per call; zero-initialise, then set what you need. */
typedef struct st_call_options {
    uint32_t deadline_ms; /* 0: the handle's deadline (unary) or ST_CLIENT_STREAM_MS (stream) */
    /* NULL: the cluster, following the leader. Otherwise only this node ("host:port"),
     * never redirected (a node's own status, a stale read from one node). */
    const char *address;
    /* The call changes state: an unreachable cluster is reported as "may or may not have
     * been applied" (the request_id in the message makes a retry safe). */
    bool write;
    /* Set on return when not NULL: 1 when a node answered with the metadata
     * `strata-stale: 1`, 0 with `strata-stale: 0`, -1 when absent. */
    int *stale;
    /* Set on return when not NULL: the address of the node that answered ("" if none);
     * the caller's buffer of ST_CLIENT_ADDRESS_MAX + 1 bytes. */
    char *answered_by;
} st_call_options;

/* Sends req to method ("/strata.v1.Voting/CastBallot") and waits for one reply, following
 * the leader rules above. Every attempt is signed afresh (new nonce and time) when the
 * handle has a key; the request bytes (and so its request_id) are the same on every
 * attempt. On success *resp is a new message of resp_desc, owned by the caller
 * (protobuf_c_message_free_unpacked). opts may be NULL. */
int st_client_unary(st_client *c, const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp_desc, const st_call_options *opts,
                    ProtobufCMessage **resp, st_error *err);

/* Receives one streamed message; msg is borrowed for the call (copy what you keep).
 * Return 0 to go on, anything else to stop the stream (the call then returns that value
 * with kind LOCAL). */
typedef int (*st_stream_fn)(void *ctx, const ProtobufCMessage *msg);

/* A server-streaming call: the leader rules apply until the first message arrives (or the
 * stream ends cleanly without one); after that a failure ends the call with an error.
 * *count (may be NULL) receives how many messages were delivered. */
int st_client_stream(st_client *c, const char *method, const ProtobufCMessage *req,
                     const ProtobufCMessageDescriptor *msg_desc, const st_call_options *opts,
                     st_stream_fn fn, void *ctx, uint64_t *count, st_error *err);

/* 16 random bytes for a request_id (one per logical write). */
void st_request_id_new(uint8_t id[ST_CLIENT_REQUEST_ID_LEN]);

/* ======================================================================================
 * Registry: communities and rolls
 * ====================================================================================== */

/* Creates a community; *id receives its id. min_notice_days < 0 leaves the service's
 * default (15 days). */
int st_create_community(st_client *c, const char *name, const char *street, int min_notice_days,
                        uint64_t *id, st_error *err);
/* The same with the enrollment policy: enroll_code_days < 0 leaves the service's default
 * (14 days an enrollment code stays valid). */
int st_create_community_policy(st_client *c, const char *name, const char *street,
                               int min_notice_days, int enroll_code_days, uint64_t *id,
                               st_error *err);

/* *out: caller-owned (strata__v1__community__free_unpacked). */
int st_get_community(st_client *c, uint64_t id, Strata__V1__Community **out, st_error *err);

/* What an import returns. A plain value. */
typedef struct st_import_result {
    uint64_t roll_version;
    uint64_t unit_count;
    int64_t total_area;
    int64_t total_owners;
} st_import_result;

/* Replaces the community's roll with units[0..n) in one call (all or nothing). Nothing is
 * sent if a unit is malformed (ST_EINVAL with the unit named). */
int st_import_units(st_client *c, uint64_t community_id, const st_unit *units, size_t n,
                    st_import_result *out, st_error *err);
/* The same from a roll built with core/roll.h (for instance by core/roll_csv.h). */
int st_import_roll(st_client *c, uint64_t community_id, const st_roll *roll, st_import_result *out,
                   st_error *err);

/* *out: caller-owned (strata__v1__list_units_response__free_unpacked). */
int st_list_units(st_client *c, uint64_t community_id, Strata__V1__ListUnitsResponse **out,
                  st_error *err);

/* ======================================================================================
 * Voting
 * ====================================================================================== */

/* A vote to create. Borrowed by st_create_vote(). */
typedef struct st_vote_spec {
    uint64_t community_id;
    uint32_t matter;               /* 1..9 (Civil Code art. 278); 3 is an election */
    const char *title;             /* required */
    int notice_days;               /* < 0: the community's minimum */
    uint32_t seats;                /* elections: 5..11, odd; otherwise 0 */
    const char *const *candidates; /* elections: candidate names */
    size_t n_candidates;
} st_vote_spec;

int st_create_vote(st_client *c, const st_vote_spec *spec, uint64_t *vote_id, st_error *err);

typedef enum {
    ST_STEP_NOTICE = 1, /* draft -> noticed */
    ST_STEP_OPEN = 2,   /* noticed -> open (freezes the roll) */
    ST_STEP_CLOSE = 3,  /* open -> closed */
    ST_STEP_PUBLISH = 4 /* closed -> published */
} st_vote_step;

/* "draft", "noticed", "open", "closed", "published" for a Strata__V1__VoteState; "unknown"
 * for others. Static storage. */
const char *st_vote_state_name(int state);

/* "notice", "open", "close", "publish"; NULL for others. */
const char *st_vote_step_name(st_vote_step step);

/* Moves the vote one step; *out (may be NULL) receives the vote after the step,
 * caller-owned (strata__v1__vote__free_unpacked). */
int st_step_vote(st_client *c, uint64_t vote_id, st_vote_step step, Strata__V1__Vote **out,
                 st_error *err);

/* Reads a vote. allow_stale = false: linearizable, from the leader. true: any node answers
 * from its own state. *stale (may be NULL) is the answer's own marker, Vote.stale (also
 * set when a node sends the metadata `strata-stale: 1`). *out: caller-owned. */
int st_get_vote(st_client *c, uint64_t vote_id, bool allow_stale, Strata__V1__Vote **out,
                bool *stale, st_error *err);

/* *out: caller-owned (strata__v1__list_votes_response__free_unpacked). */
int st_list_votes(st_client *c, uint64_t community_id, Strata__V1__ListVotesResponse **out,
                  st_error *err);

/* A ballot to cast. Borrowed by st_cast_ballot(). */
typedef struct st_cast {
    uint64_t community_id; /* of the vote: part of the signed ballot */
    uint64_t vote_id;
    const char *owner_id;
    bool election;             /* false: choice; true: approvals */
    int choice;                /* 1 agree, 2 disagree, 3 abstain (core/tally.h st_choice) */
    const uint32_t *approvals; /* candidate indexes (any order, no repeats), election only */
    size_t n_approvals;        /* 0..ST_CLIENT_MAX_APPROVALS; 0 takes part approving nobody */
    /* A paper ballot (书面) entered by an organiser: the handle's key is the organiser's, and
     * scan_sha256 the SHA-256 of the scanned ballot. false: an online ballot. */
    bool paper;
    const uint8_t *scan_sha256; /* 32 bytes, paper only */
    /* The proxy who cast it for owner_id (the principal), or NULL. Online: the owner id of
     * the handle's key, which must be authorised as the principal's proxy (the record says
     * so; nothing extra is sent). Paper: the proxy who filled the paper in (sent). */
    const char *proxy_owner_id;
} st_cast;

/* What st_cast_ballot() returns. A plain value. */
typedef struct st_cast_result {
    uint64_t seq;        /* position in the vote's ballot history */
    uint64_t leaf_index; /* in the vote's log (when the service keeps one) */
    uint64_t tree_size;
    size_t receipt_len; /* 0 when the service returned no receipt */
    uint8_t receipt[ST_RECEIPT_LEN];
    /* Signed ballots: the record (docs/FORMATS.md §5) the service logs for this ballot,
     * computed here; its leaf hash is what the receipt promises. 0 when unsigned. */
    size_t record_len;
    uint8_t record[ST_CLIENT_RECORD_MAX_LEN];
} st_cast_result;

/* Casts a ballot. The canonical ballot (fresh nonce, cast time now, the key's id) is signed
 * with the handle's key (online: under strata-ballot-v1; paper: strata-paper-ballot-v1 over
 * the ballot and the scan's hash) and sent as signed_ballot / public_key / signature; the
 * record the node will log is computed here and the receipt must promise exactly it. A
 * handle without a key is refused (ST_EINVAL): every ballot is signed. */
int st_cast_ballot(st_client *c, const st_cast *b, st_cast_result *out, st_error *err);

/* Every ballot of the owner in the vote, oldest first. *out: caller-owned
 * (strata__v1__my_ballots_response__free_unpacked). */
int st_my_ballots(st_client *c, uint64_t vote_id, const char *owner_id,
                  Strata__V1__MyBallotsResponse **out, st_error *err);

/* ======================================================================================
 * Keys and roles (strata.v1.Keys, docs/ROLES.md)
 * ====================================================================================== */

/* Roles, the numbers of keys.proto's Role. */
enum {
    ST_KEY_ROLE_OPERATOR = 1,
    ST_KEY_ROLE_SUPERVISOR = 2,
    ST_KEY_ROLE_ORGANISER = 3,
    ST_KEY_ROLE_OWNER = 4
};

/* "operator", "supervisor", "organiser", "owner"; "unknown" for another number. */
const char *st_key_role_name(int role);
/* The role of a name above (also "organizer"), or 0. */
int st_key_role_parse(const char *name);

/* What a key command returns. A plain value. */
typedef struct st_key_result {
    char key_id[ST_KEY_ID_TEXT_LEN + 1]; /* of the key registered or revoked ("" if none) */
    uint64_t seq;                        /* the event's sequence number in the trail */
} st_key_result;

/* Parses a key id (32 hex characters) or a public key (64 hex or 44 base64 characters; its
 * key id is taken) into id. ST_OK or ST_EINVAL with the message. */
int st_key_id_parse(const char *text, uint8_t id[ST_KEY_ID_LEN], st_error *err);

/* Installs the first operator and supervisor keys of a new cluster, once. The handle's key
 * must be the operator key (the request is signed by the key it installs): ST_EINVAL here
 * otherwise. Labels may be NULL. *out (may be NULL): the operator key's id. */
int st_genesis(st_client *c, const uint8_t operator_pk[ST_SIGN_PK_LEN],
               const uint8_t supervisor_pk[ST_SIGN_PK_LEN], const char *operator_label,
               const char *supervisor_label, st_key_result *out, st_error *err);

/* Operator: another operator or supervisor key (role ST_KEY_ROLE_OPERATOR or _SUPERVISOR). */
int st_add_key(st_client *c, const uint8_t pk[ST_SIGN_PK_LEN], int role, const char *label,
               st_key_result *out, st_error *err);

/* Supervisor: an organiser key for one community. */
int st_appoint_organiser(st_client *c, uint64_t community_id, const uint8_t pk[ST_SIGN_PK_LEN],
                         const char *label, st_key_result *out, st_error *err);

/* Operator (operator and supervisor keys) or supervisor (organiser keys). reason may be
 * NULL. Owner keys are revoked with st_revoke_owner_key (two signatures). */
int st_revoke_key(st_client *c, const uint8_t key_id[ST_KEY_ID_LEN], const char *reason,
                  st_key_result *out, st_error *err);

/* Anyone: a key's role, scope and status. *out: caller-owned (strata__v1__key__free_unpacked). */
int st_get_key(st_client *c, const uint8_t key_id[ST_KEY_ID_LEN], Strata__V1__Key **out,
               st_error *err);

/* Organiser: a written proxy authorisation (委托) for one vote; document_sha256 is the
 * SHA-256 of its scan. */
int st_authorise_proxy(st_client *c, uint64_t vote_id, const char *principal_owner_id,
                       const char *proxy_owner_id, const uint8_t document_sha256[32],
                       st_error *err);

/* ---- enrollment of an owner's device (docs/ROLES.md §Enrollment) ---- */

/* An enrollment code: 20 symbols of Crockford's base32 (0-9 A-Z without I L O U: 100 bits
 * of entropy) in four groups of five: "7KQ2M-9XD4P-NBHT3-C0VWE". */
#define ST_ENROLL_CODE_SYMBOLS 20
#define ST_ENROLL_CODE_LEN 23 /* with the three dashes */

/* A new random code into out (NUL-terminated). ST_OK or ST_EIO. */
int st_enroll_code_new(char out[ST_ENROLL_CODE_LEN + 1], st_error *err);

/* The canonical form of a code as typed: case, spaces and dashes are ignored, and O, I, L
 * read as 0, 1, 1. ST_OK, or ST_EINVAL saying what is wrong (a character that is no code
 * symbol, too few or too many symbols). */
int st_enroll_code_normalise(const char *typed, char out[ST_ENROLL_CODE_LEN + 1], st_error *err);

/* What an issued code is. A plain value; code is the secret to hand to the owner. */
typedef struct st_enrollment {
    char code[ST_ENROLL_CODE_LEN + 1];
    char code_key_id[ST_KEY_ID_TEXT_LEN + 1]; /* of the code key: how the service knows it */
    uint64_t seq;
    uint64_t expires_ms;
} st_enrollment;

/* Organiser: draws a new code for (community, owner), derives its code key
 * (crypto/approval.h) and sends only the code key's public half. valid_days < 0: the
 * community's default. The code never leaves this function but in *out. */
int st_issue_enrollment(st_client *c, uint64_t community_id, const char *owner_id, int valid_days,
                        st_enrollment *out, st_error *err);

/* The owner's device: redeems code (as typed; normalised here) for the handle's key, the
 * new owner key (made by st_keypair_generate, not registered yet): both the new key and the
 * code key sign the enrollment bytes, and the request is signed by the new key. */
int st_redeem_enrollment(st_client *c, uint64_t community_id, const char *owner_id,
                         const char *code, st_key_result *out, st_error *err);

/* ---- revoking an owner's key: organiser and supervisor (two steps, two people) ---- */

#define ST_REVOKE_REASON_MAX 512

/* A revocation of an owner key, as it passes from the organiser to the supervisor and back.
 * A plain value. */
typedef struct st_revoke_request {
    uint64_t community_id;                     /* of the revoked key */
    char owner_id[ST_CLIENT_OWNER_ID_MAX + 1]; /* of the revoked key */
    uint8_t key_id[ST_KEY_ID_LEN];             /* the revoked key */
    char reason[ST_REVOKE_REASON_MAX + 1];
    uint64_t signed_ms;
    uint8_t organiser_pk[ST_SIGN_PK_LEN];
    uint8_t organiser_sig[ST_SIGN_SIG_LEN];
    bool cosigned;
    uint8_t supervisor_pk[ST_SIGN_PK_LEN];
    uint8_t supervisor_sig[ST_SIGN_SIG_LEN];
} st_revoke_request;

/* Step 1 (organiser): fills *out and signs the revocation bytes (crypto/approval.h) with
 * organiser. The revoked key's community and owner come from the registry (st_get_key). */
int st_revoke_request_make(const st_keypair *organiser, uint64_t community_id, const char *owner_id,
                           const uint8_t key_id[ST_KEY_ID_LEN], const char *reason,
                           st_revoke_request *out, st_error *err);
/* Step 2 (supervisor): checks the organiser's signature, then co-signs (ST_EEXIST when it is
 * co-signed already). */
int st_revoke_request_cosign(st_revoke_request *r, const st_keypair *supervisor, st_error *err);
/* Checks both signatures (the supervisor's only when co-signed). ST_OK or ST_EAUTH. */
int st_revoke_request_check(const st_revoke_request *r, st_error *err);
/* The text file of a request (docs/CLI.md): written new (never over an existing file) or,
 * with replace, atomically replacing one. Read back strictly, naming the line at fault. */
int st_revoke_request_save(const char *path, const st_revoke_request *r, bool replace,
                           st_error *err);
int st_revoke_request_load(const char *path, st_revoke_request *r, st_error *err);
/* Step 3 (organiser): sends the co-signed request. The handle's key must be the organiser's
 * that signed it (ST_EINVAL here otherwise). */
int st_revoke_owner_key(st_client *c, const st_revoke_request *r, st_key_result *out,
                        st_error *err);

/* ======================================================================================
 * Cluster (operators)
 * ====================================================================================== */

/* The status as one node sees it: address NULL asks any node (the first that answers),
 * otherwise that node only. *out: caller-owned (strata__v1__status_response__free_unpacked). */
int st_cluster_status(st_client *c, const char *address, Strata__V1__StatusResponse **out,
                      st_error *err);
int st_cluster_add(st_client *c, uint64_t id, const char *raft_address, const char *grpc_address,
                   st_error *err);
int st_cluster_remove(st_client *c, uint64_t id, st_error *err);
/* id 0: the most up-to-date follower. *leader_id (may be NULL) receives the new leader. */
int st_cluster_transfer(st_client *c, uint64_t id, uint64_t *leader_id, st_error *err);

/* Operator: records node id's addresses and tree-head key in the replicated roster. */
int st_register_node(st_client *c, uint64_t id, const char *raft_address, const char *grpc_address,
                     const uint8_t pk[ST_SIGN_PK_LEN], st_error *err);

/* The node keys of the roster as the answering node lists them (Cluster.Status members with
 * a 32-byte public_key), into keys[0..cap); *n set. A status with no member key: ST_ENOENT
 * with a message saying the nodes must be registered. */
int st_trusted_nodes(st_client *c, st_trusted_key *keys, size_t cap, size_t *n, st_error *err);

/* "voter", "standby", "spare", "unknown". Static storage. */
const char *st_member_role_name(int role);

/* ======================================================================================
 * Audit
 * ====================================================================================== */

/* Events after after_seq (limit 0: the service's default, 1000). community 0: all.
 * *out: caller-owned (strata__v1__trail_response__free_unpacked). */
int st_trail(st_client *c, uint64_t community_id, uint64_t after_seq, uint32_t limit,
             Strata__V1__TrailResponse **out, st_error *err);

/* Receives one exported ballot, borrowed for the call. 0 goes on; anything else stops. */
typedef int (*st_ballot_fn)(void *ctx, const Strata__V1__Ballot *ballot);

/* Streams every ballot of the vote in log order. *count (may be NULL): how many. */
int st_export_ballots(st_client *c, uint64_t vote_id, st_ballot_fn fn, void *ctx, uint64_t *count,
                      st_error *err);

/* Supervisor: certifies (certify true) or disputes a published vote; reason is required for
 * a dispute, optional (NULL) for a certification. *out (may be NULL): the vote after it,
 * caller-owned. */
int st_review_vote(st_client *c, uint64_t vote_id, bool certify, const char *reason,
                   Strata__V1__Vote **out, st_error *err);

/* The vote's current signed tree head, proofs. *out: caller-owned
 * (strata__v1__tree_head__free_unpacked / strata__v1__proof__free_unpacked). */
int st_get_tree_head(st_client *c, uint64_t vote_id, Strata__V1__TreeHead **out, st_error *err);
int st_get_inclusion_proof(st_client *c, uint64_t vote_id, uint64_t leaf_index, uint64_t tree_size,
                           Strata__V1__Proof **out, st_error *err);
int st_get_consistency_proof(st_client *c, uint64_t vote_id, uint64_t old_size, uint64_t new_size,
                             Strata__V1__Proof **out, st_error *err);

/* ======================================================================================
 * Verification, offline (crypto/ only: no trust in the node that answered)
 * ====================================================================================== */

/* Decodes receipt[0..len) into *out and verifies it against the trusted node keys: the tree
 * head's and the receipt's signatures by a key of the tree head's node, leaf_index <
 * tree_size, and (when record is not NULL) that the record's leaf hash is the receipt's and
 * its ballot belongs to the tree head's vote. ST_OK, ST_EAUTH, ST_ECORRUPT, ST_EINVAL. */
int st_verify_receipt(const uint8_t *receipt, size_t len, const st_trusted_key *keys, size_t nkeys,
                      const uint8_t *record, size_t record_len, st_receipt *out, st_error *err);

/* Decodes and verifies a signed tree head (docs/FORMATS.md §6) into *out. */
int st_verify_tree_head(const uint8_t *sth, size_t len, const st_trusted_key *keys, size_t nkeys,
                        st_sth *out, st_error *err);

/* Checks that proof (hashes of 32 bytes, concatenated: n hashes) leads from the receipt's
 * leaf to its tree head's root. ST_OK, ST_ECORRUPT, ST_EINVAL. */
int st_verify_inclusion(const st_receipt *rc, const uint8_t *proof, size_t n, st_error *err);

/* Checks that the tree of older is a prefix of the tree of newer (same vote). */
int st_verify_consistency(const st_sth *older, const st_sth *newer, const uint8_t *proof, size_t n,
                          st_error *err);

/* Copies the hashes of a Proof message into buf (the caller's, cap bytes; ST_MERKLE_MAX_PROOF
 * * 32 always suffices), *n hashes. ST_EINVAL when a hash is not 32 bytes, ST_ERANGE. */
int st_proof_flatten(const Strata__V1__Proof *p, uint8_t *buf, size_t cap, size_t *n,
                     st_error *err);

/* What st_check_receipt() found. A plain value. */
typedef struct st_receipt_check {
    st_receipt receipt; /* decoded */
    st_sth latest;      /* the latest tree head fetched (verified) */
    bool included;      /* the inclusion proof at the receipt's tree size checked */
    bool consistent;    /* the latest head extends the receipt's head */
} st_receipt_check;

/* The whole check of a resident's receipt: st_verify_receipt(), then an inclusion proof
 * fetched from any node, then the vote's latest tree head (verified) and a consistency proof
 * from the receipt's head to it. ST_OK only when everything checks; otherwise the first
 * failure, with out filled as far as it got. */
int st_check_receipt(st_client *c, const uint8_t *receipt, size_t len, const uint8_t *record,
                     size_t record_len, const st_trusted_key *keys, size_t nkeys,
                     st_receipt_check *out, st_error *err);

/* ======================================================================================
 * Results and the audit bundle (client/audit/: docs/AUDIT.md)
 * ====================================================================================== */

/* The st_result (client/audit/result.h) of a vote as the service answered it; candidates
 * (elections) go to cands[0..ST_CANDIDATES_MAX), and strings are borrowed from v. stale is
 * the answer's marker. */
void st_result_of_vote(const Strata__V1__Vote *v, bool stale, st_result *out,
                       st_result_candidate cands[ST_CANDIDATES_MAX]);

/* Progress of an export: stage ("ballots", "keys", ...) and counts. */
typedef void (*st_export_progress_fn)(void *ctx, const char *stage, uint64_t done, uint64_t total);

/* What st_export_bundle wrote. A plain value. */
typedef struct st_export_result {
    uint64_t ballots, keys, nodes, units;
    st_sth sth; /* the final tree head, verified against the node keys */
} st_export_result;

/* Writes the audit bundle of a closed or published vote into the new directory dir: the
 * vote, its frozen roll (ListUnits, which must still be at the vote's roll version), every
 * ballot (ExportBallots), every key that signed one (GetKey), the node keys (Cluster.Status),
 * the vote's signed tree head (GetTreeHead, checked against the node keys and the ballots'
 * Merkle root here before anything is finished) and the published result. On failure no
 * bundle is left behind. progress may be NULL. */
int st_export_bundle(st_client *c, uint64_t vote_id, const char *dir,
                     st_export_progress_fn progress, void *ctx, st_export_result *out,
                     st_error *err);

/* ======================================================================================
 * Receipt files: what `strata ballot cast` saves next to the key (docs/CLI.md)
 * ====================================================================================== */

/* A plain value. */
typedef struct st_receipt_file {
    uint64_t vote_id;
    uint64_t seq;
    char owner_id[ST_CLIENT_OWNER_ID_MAX + 1];
    uint8_t receipt[ST_RECEIPT_LEN];
    size_t record_len; /* 0: no record */
    uint8_t record[ST_CLIENT_RECORD_MAX_LEN];
} st_receipt_file;

/* The path of the receipt of (vote, seq) next to key_path: the key file's directory and
 * name without its ".key" suffix, then "-vote<V>-seq<S>.receipt". ST_OK or ST_ERANGE (cap). */
int st_receipt_file_path(const char *key_path, uint64_t vote_id, uint64_t seq, char *out,
                         size_t cap);
/* Writes a new file (mode 0600: the record shows the choice; never overwrites: ST_EEXIST). */
int st_receipt_file_save(const char *path, const st_receipt_file *f, st_error *err);
/* Reads and parses a receipt file into *f. ST_EINVAL names the line at fault. */
int st_receipt_file_load(const char *path, st_receipt_file *f, st_error *err);

#endif
