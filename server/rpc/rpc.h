/* rpc.h - stratad's gRPC front end (C core): the strata.v1 services Registry, Voting,
 * Audit, Cluster and Keys over a Raft node (consensus/node.h) and its domain state
 * (server/state.h).
 *
 * Authentication. Every call that writes (and ListUnits with unmasked names, and the Raft
 * membership operations) carries the signed request envelope of docs/FORMATS.md §8 as
 * binary metadata `strata-auth-bin`; auth.c verifies it on the gRPC thread and the key id
 * becomes the command's actor, so that the state machine applies the role matrix of
 * docs/ROLES.md. docs/API.md describes the protocol for clients.
 *
 * Threads. A few completion-queue threads (the only threads this module starts) receive
 * calls, decode and check requests, read LMDB for stale reads and answer. Writes and
 * linearizable reads go to the Raft loop thread through st_node_propose/_barrier; its
 * callback only copies the outcome into the call and posts the call back to the completion
 * queue (an empty grpc_call_start_batch), so that building replies and reading LMDB after
 * a barrier happen on gRPC threads again, never on the loop thread.
 *
 * Outcomes. A write is answered OK only once committed and applied; a refusal by the
 * state machine gets the gRPC code server/codes.h maps its st_ code to; a follower
 * answers UNAVAILABLE with the leader's gRPC address in the trailing metadata
 * `strata-leader`; a write whose leader lost office is UNAVAILABLE "outcome unknown,
 * retry with the same request_id"; a write that arrives while the leader's data directory
 * is below its free-space reserve is RESOURCE_EXHAUSTED (space.h) and never proposed.
 * docs/API.md is the user-facing description.
 *
 * Stopping: st_rpc_drain() (no new calls, in-flight ones finish), then st_node_stop()
 * (fails what is still queued, which answers those calls), then st_rpc_free().
 */
#ifndef STRATA_SERVER_RPC_RPC_H
#define STRATA_SERVER_RPC_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "consensus/node.h"
#include "server/log.h"
#include "server/rpc/roster.h"
#include "server/space.h"
#include "server/state.h"

typedef struct st_rpc st_rpc;

typedef struct {
    const char *listen;  /* host:port for the gRPC API */
    unsigned threads;    /* completion-queue threads; 0 = 2 */
    size_t max_message;  /* largest message received or sent; 0 = 64 MiB */
    const char *version; /* reported by Cluster.Status */
    st_node *node;       /* borrowed; started before st_rpc_start */
    st_state *state;     /* borrowed */
    st_roster *roster;   /* borrowed */
    st_log *log;         /* borrowed, may be NULL */
    /* Borrowed, may be NULL (no check): the data directory's free-space reserve. Below it
     * the leader refuses writes with RESOURCE_EXHAUSTED before they reach Raft. */
    st_space *space;
    uint64_t node_id; /* this node's Raft id: the signer named in its tree heads */
    /* This node's Ed25519 key (server/node_key.h): signs tree heads and receipts. Copied by
     * st_rpc_start (and wiped by st_rpc_free); the caller may wipe its own copy after. */
    const uint8_t *node_sk; /* 64 bytes */
    const uint8_t *node_pk; /* 32 bytes */
    /* Transport (server/tls.h, docs/OPERATIONS.md §TLS). tls_cert_pem NULL: no TLS (the
     * settings allow it on a loopback address only). Otherwise TLS with this certificate
     * chain and private key, and, when tls_client_ca_pem is not NULL, every client must
     * present a certificate signed by one of its CAs. PEM texts, borrowed for the call
     * (gRPC keeps its own copies); the caller wipes the key after st_rpc_start. */
    const char *tls_cert_pem;
    const char *tls_key_pem;
    const char *tls_client_ca_pem;
} st_rpc_config;

/* Binds, registers every method and starts the threads. Returns ST_OK, or ST_EIO (the
 * address cannot be bound, or gRPC refused the TLS material: err says so) or ST_ENOMEM.
 * The caller owns *out. */
int st_rpc_start(const st_rpc_config *cfg, st_rpc **out, char *err, size_t errlen);

/* Stops accepting calls and waits up to grace_ms for the calls in progress to finish.
 * Returns how many are still open. */
size_t st_rpc_drain(st_rpc *r, unsigned grace_ms);

/* Cancels what is left, stops the threads and frees everything. Call after the node has
 * stopped (no node callback can arrive any more). NULL is allowed. */
void st_rpc_free(st_rpc *r);

#endif
