/* replica.h - the domain state (server/state.h) as the consensus layer's state machine
 * (consensus/fsm.h): each command of a Raft entry goes to st_state_apply_at() with its
 * position, snapshots and restores go through st_state_snapshot()/st_state_restore().
 *
 * Replies. The reply bytes handed back for each command are an st_apply_result owned by
 * the replica (an array of ST_BATCH_MAX_COMMANDS, overwritten by the next entry). They
 * never leave the process: the node's proposal callback, which raft 0.15 runs right
 * after apply on the loop thread, reads them with st_replica_result() and copies what it
 * keeps.
 *
 * Threads: apply/snapshot/restore run on the Raft loop thread. The st_state stays usable
 * for reads on any thread (its own rules).
 */
#ifndef STRATA_SERVER_REPLICA_H
#define STRATA_SERVER_REPLICA_H

#include "consensus/fsm.h"
#include "server/state.h"

typedef struct st_replica st_replica;

/* Creates the glue over `state` (borrowed: it must outlive the replica). log, if not
 * NULL, gets one line per snapshot taken or installed (level as in consensus/node.h).
 * Returns ST_OK or ST_ENOMEM. The caller frees *out with st_replica_free(). */
int st_replica_new(st_state *state, void (*log)(void *ctx, int level, const char *msg),
                   void *log_ctx, st_replica **out);
void st_replica_free(st_replica *r);

/* The st_fsm to give st_node_new() (ctx is r). */
void st_replica_fsm(st_replica *r, st_fsm *out);

/* The result a reply slice holds, or NULL if the slice is not a replica reply. The
 * pointer is borrowed: valid only during the node callback that received the slice. */
const st_apply_result *st_replica_result(const st_slice *reply);

#endif
