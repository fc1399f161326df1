/* node.h - one Raft node on libuv: its lifecycle, a thread-safe proposal queue, leader
 * readiness, membership changes, and a status snapshot any thread may read.
 *
 * Threads. The node owns one libuv loop thread, which runs Raft, its TCP transport, its
 * disk I/O and the state machine's apply. Nothing else touches Raft. Other threads talk
 * to the node only through st_node_propose()/..._barrier()/..._add()/... (a mutex-guarded
 * queue plus uv_async_send, drained whole) and st_node_get_status() (a copy under a mutex).
 * Every callback runs on the loop thread; bytes it is handed are valid only during it.
 *
 * Batching. Proposals that are queued together travel in one Raft entry (batch.h) and are
 * applied in one state-machine call, up to ST_NODE_BATCH_MAX commands per entry.
 *
 * Readiness. raft 0.15 writes no entry on election and may commit older-term entries by
 * counting replicas (STACK.md bug 3). A new leader therefore issues a barrier and holds
 * proposals until it has applied; until then st_node_get_status() reports ready = false.
 *
 * Outcomes given to callbacks: ST_OK (committed and applied; result holds the state
 * machine's reply), ST_ENOTLEADER (never proposed: ask the leader in the status),
 * ST_EUNKNOWN (leadership was lost after proposing, or this leader could not write the
 * entry to its own log: it may still commit; retry with the same request id),
 * ST_ESHUTDOWN (stopping, or stopped taking part after a storage failure), ST_EBUSY (queue
 * full), ST_EINVAL (too large).
 *
 * Storage failures. A failed write of the Raft log or its metadata, or an entry or snapshot
 * the state machine could not store, is logged once as an ERROR and published in the status
 * (storage_failed); the node then refuses proposals, and its owner stops it. Restarted with
 * a working disk, it catches up from the others like any node that was down.
 */
#ifndef STRATA_CONSENSUS_NODE_H
#define STRATA_CONSENSUS_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus/fsm.h"
#include "consensus/secure.h"

#define ST_NODE_BATCH_MAX 256    /* commands per Raft entry */
#define ST_NODE_QUEUE_MAX 100000 /* proposals waiting at once */
#define ST_NODE_MEMBERS_MAX 16
#define ST_NODE_ADDRESS_MAX 128

typedef struct {
    uint64_t id;
    char address[ST_NODE_ADDRESS_MAX]; /* Raft host:port */
} st_peer;

enum { ST_LOG_DEBUG = 0, ST_LOG_INFO = 1, ST_LOG_WARN = 2, ST_LOG_ERROR = 3 };

typedef struct {
    uint64_t id;                   /* this node's id, >= 1 */
    const char *raft_address;      /* host:port to listen on for Raft traffic */
    const char *data_dir;          /* Raft log and snapshots; must exist */
    unsigned election_timeout_ms;  /* 0 = 1000 */
    unsigned heartbeat_timeout_ms; /* 0 = 100 */
    unsigned snapshot_threshold;   /* entries between snapshots; 0 = 1024 */
    unsigned snapshot_trailing;    /* entries kept behind a snapshot; 0 = 2048 */
    /* How long a leader waits on a snapshot it sent before sending it again; 0 = 10000.
     * A follower busy taking its own snapshot refuses an incoming one, and raft 0.15 then
     * waits this long (its own default is 30 s) before retrying. */
    unsigned install_snapshot_timeout_ms;
    bool pre_vote;
    /* Bootstrap: if n_bootstrap > 0 and the data dir holds no Raft state yet, the cluster
     * starts with these voters (this node among them). A node with no bootstrap list and
     * no state waits to be added by the leader (st_node_add). */
    const st_peer *bootstrap;
    size_t n_bootstrap;
    /* One line per event; term is the node's current term. May be NULL. Called on the
     * loop thread, or on the caller's thread during st_node_start. */
    void (*log)(void *log_ctx, int level, uint64_t term, const char *msg);
    void *log_ctx;
    /* Raft traffic. With node_sk set, every connection between nodes is authenticated with
     * this node's Ed25519 key and encrypted (secure.h), and trust decides which key each
     * peer id must present. Without it, plain TCP: for tests of this layer alone (stratad
     * always sets it). Both keys are copied. */
    const uint8_t *node_sk; /* ST_SECURE_SK_LEN bytes */
    const uint8_t *node_pk; /* ST_SECURE_PK_LEN bytes */
    st_secure_trust_fn trust;
    void *trust_ctx;
} st_node_config;

typedef enum {
    ST_ROLE_FOLLOWER = 0,
    ST_ROLE_CANDIDATE,
    ST_ROLE_LEADER,
    ST_ROLE_UNAVAILABLE
} st_node_role;

typedef struct {
    uint64_t id;
    char address[ST_NODE_ADDRESS_MAX];
    int raft_role; /* RAFT_VOTER, RAFT_STANDBY or RAFT_SPARE */
} st_member;

typedef struct {
    uint64_t id;
    st_node_role role;
    bool ready; /* leader that has applied its own barrier: may serve writes and reads */
    uint64_t term;
    uint64_t leader_id; /* 0 if unknown */
    char leader_address[ST_NODE_ADDRESS_MAX];
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t last_index;
    size_t n_members;
    st_member members[ST_NODE_MEMBERS_MAX];
    size_t queued;             /* proposals waiting to enter the log */
    st_secure_stats transport; /* zero with plain TCP */
    st_fsm_stats fsm;
    /* The node's storage failed (a Raft log or metadata write, or the state machine could
     * not store an entry or a snapshot): it refuses proposals and barriers (ST_ESHUTDOWN)
     * and should be stopped; failure says what failed. Raft's own retries cannot be trusted
     * to leave a consistent log behind a failed write, so the node is not used any more. */
    bool storage_failed;
    char failure[256];
} st_node_status;

typedef struct st_node st_node;

/* result: the state machine's reply for this command (NULL unless status is ST_OK);
 * index: the Raft index it was applied at (0 if none). */
typedef void (*st_node_cb)(void *arg, int status, const st_slice *result, uint64_t index);

/* Creates a node (nothing runs yet). fsm is copied. Returns ST_OK or an error with a
 * message in err. */
int st_node_new(const st_node_config *cfg, const st_fsm *fsm, st_node **out, char *err,
                size_t errlen);
/* Loads the Raft state, bootstraps if asked, and starts the loop thread. */
int st_node_start(st_node *n, char *err, size_t errlen);
/* Refuses new work, lets in-flight entries finish (up to a few seconds), closes Raft and
 * joins the loop thread. Idempotent. */
void st_node_stop(st_node *n);
/* Frees a stopped (or never started) node. */
void st_node_free(st_node *n);

/* Queues a command (copied) for the log. Thread-safe. Returns ST_OK if queued (cb will
 * run exactly once), or ST_ESHUTDOWN / ST_EBUSY / ST_EINVAL (cb will not run). */
int st_node_propose(st_node *n, const uint8_t *cmd, size_t len, st_node_cb cb, void *arg);
/* Completes once everything committed before it is applied on this leader: the point
 * for a linearizable read. */
int st_node_barrier(st_node *n, st_node_cb cb, void *arg);
/* Membership (leader only): add a voter (joins as spare, catches up, then votes),
 * remove a member, and hand leadership to id (0 = the best follower). */
int st_node_add(st_node *n, uint64_t id, const char *address, st_node_cb cb, void *arg);
int st_node_remove(st_node *n, uint64_t id, st_node_cb cb, void *arg);
int st_node_transfer(st_node *n, uint64_t id, st_node_cb cb, void *arg);

/* A consistent copy of the node's state. Thread-safe. */
void st_node_get_status(st_node *n, st_node_status *out);

const char *st_node_role_name(st_node_role r);

#endif
