/* roster.h - which gRPC address serves each Raft node id, so that a follower can name the
 * leader's API address in `strata-leader` and Cluster.Status can list every member's.
 *
 * Today the roster is local: seeded from the --peer list at start and extended by the
 * Cluster.AddMember calls this node handles. Raft's own configuration (replicated) only
 * carries Raft addresses. The roster is meant to move into the replicated state later (a
 * command recording each member's gRPC address); callers only ever ask "the gRPC address
 * of node N", so that move changes this file alone.
 *
 * Threads: every function is thread-safe.
 */
#ifndef STRATA_SERVER_RPC_ROSTER_H
#define STRATA_SERVER_RPC_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_ROSTER_MAX 64
#define ST_ROSTER_ADDR_MAX 128

typedef struct st_roster st_roster;

/* An empty roster into *out (the caller frees it with st_roster_free). ST_OK or ST_ENOMEM. */
int st_roster_new(st_roster **out);
void st_roster_free(st_roster *r);

/* Records (or replaces) node id's addresses; raft may be "" when unknown. ST_OK,
 * ST_EINVAL (id 0 or an address too long) or ST_ERANGE (roster full). */
int st_roster_set(st_roster *r, uint64_t id, const char *raft, const char *grpc);

/* Copies node id's gRPC address into out (cap bytes). false (out = "") if unknown. */
bool st_roster_grpc(st_roster *r, uint64_t id, char *out, size_t cap);

#endif
