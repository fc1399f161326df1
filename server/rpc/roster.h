/* roster.h - which gRPC address serves each Raft node id, and which key signs its tree
 * heads, so that a follower can name the leader's API address in `strata-leader` and
 * Cluster.Status can list every member's address and key. The one place that answers
 * those questions.
 *
 * Two sources, in this order:
 *   1. the replicated roster of the state (st_state_get_member: what Cluster.RegisterNode
 *      recorded, the same on every node), for a node registered and not removed;
 *   2. the local table: seeded from the --peer list at start and extended by the
 *      Cluster.AddMember calls this node handles, the fallback for gRPC addresses before a
 *      node is registered. Node keys come from the replicated roster only.
 * Raft's own configuration only carries Raft addresses.
 *
 * Threads: every function is thread-safe.
 */
#ifndef STRATA_SERVER_RPC_ROSTER_H
#define STRATA_SERVER_RPC_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/state.h"

#define ST_ROSTER_MAX 64
#define ST_ROSTER_ADDR_MAX 128

typedef struct st_roster st_roster;

/* An empty roster over state (borrowed, may be NULL: the local table only) into *out (the
 * caller frees it with st_roster_free). ST_OK or ST_ENOMEM. */
int st_roster_new(st_state *state, st_roster **out);
void st_roster_free(st_roster *r);

/* Records (or replaces) node id's addresses; raft may be "" when unknown. ST_OK,
 * ST_EINVAL (id 0 or an address too long) or ST_ERANGE (roster full). */
int st_roster_set(st_roster *r, uint64_t id, const char *raft, const char *grpc);

/* Copies node id's gRPC address into out (cap bytes): the replicated roster's, else the
 * local table's. false (out = "") if unknown. */
bool st_roster_grpc(st_roster *r, uint64_t id, char *out, size_t cap);

/* Node id's current tree-head key from the replicated roster into pk. false (pk zeroed)
 * when the node is not registered, or was removed. */
bool st_roster_public_key(st_roster *r, uint64_t id, uint8_t pk[ST_SIGN_PK_LEN]);

#endif
