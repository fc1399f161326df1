/* raft_trust.h - which Ed25519 key each Raft peer must present on the authenticated Raft
 * transport (consensus/secure.h), decided in this order:
 *   1. a key pinned for the id in this node's configuration (`peer = ID=RAFT,GRPC,KEY`);
 *   2. the replicated roster (Cluster.RegisterNode): a registered member's current key;
 *      a node removed from the roster is refused;
 *   3. an id in neither: refused, unless no node is registered in the roster yet - a new
 *      cluster before its nodes are registered, or a joining node that has not caught up -
 *      where it is accepted with a warning logged (the bootstrap window; pin keys in the
 *      configuration to close it).
 * So before Cluster.AddMember, register the new node (its key) with Cluster.RegisterNode.
 *
 * Threads: st_raft_trust_check runs on the Raft loop thread; it reads the state through a
 * read transaction like any reader.
 */
#ifndef STRATA_SERVER_RAFT_TRUST_H
#define STRATA_SERVER_RAFT_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "server/state.h"

typedef struct st_raft_trust st_raft_trust;

/* Trust over the roster of state (borrowed). ST_OK or ST_ENOMEM. */
int st_raft_trust_new(st_state *state, st_raft_trust **out);
/* Pins node id's key (from the configuration). ST_OK, ST_ERANGE (too many). */
int st_raft_trust_pin(st_raft_trust *t, uint64_t id, const uint8_t pk[32]);
void st_raft_trust_free(st_raft_trust *t);
/* The st_secure_trust_fn: ctx is the st_raft_trust. */
int st_raft_trust_check(void *ctx, uint64_t id, const uint8_t pk[32], char *why, size_t cap);

#endif
