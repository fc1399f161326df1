/* internal.h - private to server/rpc/: the server, the life of one call, and what the
 * service files (svc_*.c) use to answer.
 *
 * Life of a unary call (call.c):
 *   1. a slot waits in grpc_server_request_registered_call for its method (server.c);
 *   2. the call arrives: the slot is re-armed, RECV_CLOSE_ON_SERVER is started alone, the
 *      request is decoded (with the SHA-256 of its exact bytes when it carries
 *      `strata-auth-bin`) and the method's handler runs on the completion-queue thread;
 *   3. the handler answers at once (st_call_ok / st_call_fail / ...), or hands the call to
 *      the Raft node (submit.c: a write is authenticated there, auth.c); the node's callback, on
 * the loop thread, copies the outcome into the call and posts it back with an empty batch
 * (TAG_RESUME), and the continuation answers on a completion-queue thread;
 *   4. the answer is one batch SEND_INITIAL_METADATA + SEND_MESSAGE + SEND_STATUS;
 *   5. the call is freed when both the close batch and the answer batch have completed
 *      (a reference count of two).
 * Every call is answered exactly once; a second answer is a bug, logged and ignored.
 *
 * Ownership: the call owns its decoded request (freed with the call) and whatever the
 * handler attaches with st_call_set_ctx(). Messages given to st_call_ok() are borrowed
 * (packed before it returns); byte buffers given to st_call_stream() are taken.
 */
#ifndef STRATA_SERVER_RPC_INTERNAL_H
#define STRATA_SERVER_RPC_INTERNAL_H

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "crypto/receipt.h"
#include "crypto/request.h"
#include "proto/strata/internal/command.pb-c.h"
#include "server/rpc/replay.h"
#include "server/rpc/rpc.h"
#include "server/state.h"

typedef struct st_call st_call;

typedef void (*st_handler)(st_call *c, const ProtobufCMessage *req);

typedef struct {
    const char *path;                        /* "/strata.v1.Voting/CastBallot" */
    const ProtobufCMessageDescriptor *input; /* the request message */
    st_handler fn;
} st_method_def;

/* The method tables of the services (svc_*.c), each ended by a {NULL} entry. */
extern const st_method_def st_svc_registry[];
extern const st_method_def st_svc_voting[];
extern const st_method_def st_svc_audit[];
extern const st_method_def st_svc_cluster[];
extern const st_method_def st_svc_keys[];

typedef enum {
    TAG_NEW,
    TAG_CLOSE,
    TAG_SEND,
    TAG_RESUME,
    TAG_SHUTDOWN,
    TAG_UNKNOWN_NEW, /* a call of a method no service has (unknown.c) */
    TAG_UNKNOWN_DONE
} st_tag_kind;

/* What a completion-queue event's tag points at. */
typedef struct {
    st_tag_kind kind;
    void *owner; /* the st_call, or the st_rpc for TAG_SHUTDOWN */
} st_tag;

typedef struct {
    const st_method_def *def;
    void *handle; /* from grpc_server_register_method */
    st_rpc *rpc;
} st_method;

struct st_rpc {
    st_rpc_config cfg;
    char listen[128];
    char version[64];
    uint8_t node_sk[ST_SIGN_SK_LEN]; /* cfg.node_sk / node_pk point here */
    uint8_t node_pk[ST_SIGN_PK_LEN];
    st_replay *replay; /* nonces of signed calls that are not commands (replay.h) */
    grpc_server *server;
    grpc_completion_queue *cq;
    pthread_t *threads;
    unsigned n_threads;
    st_method *methods;
    size_t n_methods;
    st_tag shutdown_tag;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool shutting_down, shutdown_done;
    atomic_size_t live; /* calls that arrived and are not freed yet */
    /* Linearizable reads (submit.c): calls waiting for the next barrier, and whether one
     * is in flight. Reads that arrive together share one barrier. */
    pthread_mutex_t read_mu;
    st_call *read_head, *read_tail;
    bool read_in_flight;
};

typedef enum { ST_AUTH_UNCHECKED = 0, ST_AUTH_OK, ST_AUTH_FAILED } st_auth_state;

/* The outcome of verifying the call's `strata-auth-bin` (auth.c). */
typedef struct {
    st_auth_state state;
    int code;                          /* ST_AUTH_FAILED: the st_ code the call was answered */
    st_request env;                    /* ST_AUTH_OK: the verified envelope */
    char actor[ST_KEY_ID_HEX_LEN + 1]; /* its key id in lowercase hex */
    bool new_key;                      /* verified with a key from the body (not registered) */
    st_role role;                      /* registered keys: the role and its scope */
    uint64_t community_id;
} st_call_auth;

struct st_call {
    st_rpc *rpc;
    st_method *method;
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_byte_buffer *payload;
    st_tag t_new, t_close, t_send, t_resume;
    int cancelled;
    atomic_int refs;
    atomic_bool answered;
    ProtobufCMessage *req;
    /* Request authentication: the envelope's bytes (in md, NULL when absent), the SHA-256
     * of the request message exactly as received, and the verification's outcome. */
    const uint8_t *auth_bytes;
    size_t auth_len;
    int auth_count; /* strata-auth-bin entries seen (more than one is refused) */
    uint8_t body_sha256[32];
    st_call_auth auth;
    const char *stale; /* "1" / "0": sent as trailing `strata-stale` with an OK answer */
    void *ctx;
    void (*ctx_free)(void *ctx);

    /* The answer in flight (released when its batch completes). */
    grpc_byte_buffer *out;
    grpc_slice details;
    bool has_details;
    grpc_metadata trailing[2]; /* strata-leader, strata-stale */
    size_t n_trailing;
    /* Streaming: the messages left to send, one batch at a time. */
    grpc_byte_buffer **stream;
    size_t n_stream, next_stream;
    bool streaming, final_sent;

    /* The continuation after a Raft node operation (submit.c). */
    void (*resume)(st_call *c);
    union {
        void (*done)(st_call *c, const st_apply_result *res);
        void (*read)(st_call *c);
        void (*then)(st_call *c, int status);
    } k;
    int node_status;
    bool has_result;
    st_apply_result result;
    st_call *read_next; /* in the rpc's list of reads waiting for a barrier */
};

/* ---- call.c: the call machinery ---- */

/* A new slot waiting for a call of method m (NULL when out of memory). */
st_call *st_call_slot(st_method *m);
/* Frees a slot whose request never produced a call. */
void st_call_slot_free(st_call *c);
/* The call of slot c has arrived: start it and run its handler. */
void st_call_begin(st_call *c);
/* Completion-queue events for a call. */
void st_call_on_close(st_call *c);
void st_call_on_send(st_call *c, bool ok);
void st_call_on_resume(st_call *c);

/* Answers OK with resp (borrowed). */
void st_call_ok(st_call *c, const ProtobufCMessage *resp);
/* Answers with a gRPC status and a printf-style message. */
void st_call_fail(st_call *c, grpc_status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Answers with the status an st_ code maps to (status.c) and the message. */
void st_call_refuse(st_call *c, int st_code, const char *msg);
/* Answers UNAVAILABLE with `why`, adding `strata-leader` when a leader is known. */
void st_call_unavailable(st_call *c, const char *why);
/* Answers a failed state read: NOT_FOUND with the printf-style message for ST_ENOENT,
 * otherwise the status of the storage error. */
void st_call_read_failed(st_call *c, int st_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Streams msgs[0..n) (taken: buffers and the array are freed by the call), then OK. */
void st_call_stream(st_call *c, grpc_byte_buffer **msgs, size_t n);
/* Packs a message into a new byte buffer (the caller owns it). */
grpc_byte_buffer *st_call_pack(const ProtobufCMessage *m);

/* Attaches handler state (owned by the call from now on, freed with free_fn). */
void st_call_set_ctx(st_call *c, void *ctx, void (*free_fn)(void *ctx));
st_rpc *st_call_rpc(const st_call *c);

/* ---- wire_text.c: text fields ---- */

/* Whether no string field of the encoded message buf (of type d, already decoded by
 * protobuf-c), at any depth, holds a NUL byte; if one does, its name ("units.owner_name")
 * goes into field. */
bool st_wire_text_ok(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                     char *field, size_t cap);

/* ---- unknown.c: calls of methods this server does not serve ---- */

typedef struct st_unknown st_unknown;
/* Puts one slot in wait for a call of any unregistered method. */
void st_unknown_arm(st_rpc *r);
/* A TAG_UNKNOWN_* event: answers the call UNIMPLEMENTED, re-arms, frees when done. */
void st_unknown_on_event(st_tag *t, bool ok);

/* ---- auth.c: request authentication (docs/API.md §Authentication) ---- */

/* Whether the call carries `strata-auth-bin`. */
bool st_call_is_signed(const st_call *c);
/* Verifies the call's signed request envelope, in this order: present (once); decodes;
 * names the called method; its body hash is the SHA-256 of the received message; its
 * timestamp is within ±5 minutes of this node's clock; its key is registered and not
 * revoked (new_key: the 32-byte public key the body installs, for Keys.Genesis and
 * Keys.RedeemEnrollment, whose id must be the envelope's key id); the signature verifies;
 * the nonce was not seen (the replicated state's table, and for a call that is not a
 * command, `op`, the node's replay table, where it is then recorded). ST_OK; otherwise the
 * call has been answered (UNAUTHENTICATED, or INTERNAL / UNAVAILABLE when the check itself
 * failed) and the st_ code is returned. Idempotent: later calls return the first outcome
 * and answer nothing. */
int st_call_authenticate(st_call *c, const uint8_t *new_key, bool op);
/* st_call_authenticate(c, NULL, true), then the key's role must be `role`: otherwise the
 * call is answered PERMISSION_DENIED. For the operations that are not commands. */
int st_call_require_role(st_call *c, st_role role);
/* Sets cmd's actor and auth_key_id / auth_time_ms / auth_nonce from the verified envelope
 * (the pointers point into the call). */
void st_call_stamp_auth(st_call *c, Strata__Internal__Command *cmd);

/* ---- submit.c: writes, linearizable reads and node operations ---- */

/* Proposes cmd: on the leader only (a follower answers UNAVAILABLE), after authenticating
 * the call (st_call_authenticate; the new key of a Genesis or RedeemEnrollmentCode body is
 * taken from cmd), stamping time_ms, the actor and the auth fields. cmd is borrowed and
 * packed before return. Once committed and applied, done() runs on a gRPC thread with the
 * accepted result; a refusal, a lost leadership or a follower is answered here without
 * calling done(). */
void st_call_propose(st_call *c, Strata__Internal__Command *cmd,
                     void (*done)(st_call *c, const st_apply_result *res));
/* Runs read() on a gRPC thread once this leader has applied everything committed before
 * now: after a barrier (st_node_barrier) submitted after this call arrived. Reads arriving
 * while a barrier is in flight share the next one. A follower answers UNAVAILABLE with the
 * leader. */
void st_call_linear(st_call *c, void (*read)(st_call *c));
/* For cluster operations: arms the call so that st_call_node_cb (the st_node_cb to pass,
 * with c as arg) brings the node's status to then() on a gRPC thread. If the st_node_*
 * call itself fails, call st_call_node_failed() instead (the callback will not run). */
void st_call_await(st_call *c, void (*then)(st_call *c, int status));
void st_call_node_cb(void *arg, int status, const st_slice *result, uint64_t index);
void st_call_node_failed(st_call *c, int st_code);
/* Answers a node-level failure (ST_ENOTLEADER, ST_EUNKNOWN, ST_ESHUTDOWN, ST_EBUSY...). */
void st_call_node_error(st_call *c, int st_code);
/* Who the caller is, as commands record it: the key id (hex) of the verified
 * `strata-auth-bin`; "" before st_call_authenticate succeeded. */
const char *st_call_actor(const st_call *c);
/* Checks a request id: ST_OK, or answers INVALID_ARGUMENT and returns ST_EINVAL. */
int st_call_check_request_id(st_call *c, const ProtobufCBinaryData *id);

/* ---- status.c: codes and the leader hint ---- */

/* The gRPC status for an st_ code, including the node's own codes. */
grpc_status_code st_rpc_status_of(int st_code);
/* The leader's gRPC address into out; false when no leader is known. *self is set when
 * this node is the leader. */
bool st_rpc_leader_hint(st_rpc *r, char *out, size_t cap, bool *self);
/* Whether this node is the Raft leader now (it may not be ready yet). */
bool st_rpc_is_leader(st_rpc *r);
/* Milliseconds since the Unix epoch (the leader's stamp on commands). */
uint64_t st_rpc_now_ms(void);

/* ---- shared answers ---- */

/* Answers with the vote `id` as this node's state holds it now (svc_voting.c); stale marks
 * an answer from a node's local state without a barrier. */
void st_call_reply_vote(st_call *c, uint64_t id, bool stale);

/* ---- heads.c: this node's signed tree heads and receipts ---- */

/* Fills and signs *sth for the vote's log at (tree_size, root), stamped now by this node. */
int st_rpc_sign_head(st_rpc *r, uint64_t vote_id, uint64_t tree_size, const uint8_t root[32],
                     st_sth *sth);
/* The encoded receipt (docs/FORMATS.md §7) of an accepted ballot's apply result into out. */
int st_rpc_receipt(st_rpc *r, const st_apply_result *res, uint8_t out[ST_RECEIPT_LEN]);

#endif
