/* replay.h - the (key id, nonce) pairs of signed calls that are not commands (signed reads,
 * Raft membership and leadership operations), remembered by this node while their
 * timestamps are inside the ±5-minute window, so that a captured request cannot be sent
 * again to the same node.
 *
 * Signed commands do not need this table: the state machine records their nonces in the
 * replicated state (docs/ROLES.md §Requests) and refuses a replay deterministically. The
 * table is local and lost on restart; a request replayed to another node, or after a
 * restart, within five minutes is not caught (docs/API.md says so).
 *
 * A fixed open-addressing table: ST_REPLAY_SLOTS slots, entries expire once their
 * timestamp is more than the window in the past. Threads: every function is thread-safe.
 */
#ifndef STRATA_SERVER_RPC_REPLAY_H
#define STRATA_SERVER_RPC_REPLAY_H

#include <stdint.h>

#define ST_REPLAY_SLOTS 65536 /* at most 3/4 of them hold live pairs */

typedef struct st_replay st_replay;

/* An empty table into *out (the caller frees it with st_replay_free). ST_OK or ST_ENOMEM. */
int st_replay_new(st_replay **out);
void st_replay_free(st_replay *r);

/* Records the pair with its request timestamp ts_ms, at node time now_ms. ST_OK when it was
 * new; ST_EEXIST when it is recorded already (a replay); ST_EBUSY when the table is full of
 * pairs still inside the window (retry later). */
int st_replay_add(st_replay *r, const uint8_t key_id[16], const uint8_t nonce[16], uint64_t ts_ms,
                  uint64_t now_ms, uint64_t window_ms);

#endif
