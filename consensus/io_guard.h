/* io_guard.h - a raft_io placed in front of raft_uv that never lets a log truncation and a
 * snapshot store (or two of either) overlap inside raft_uv.
 *
 * Why: in canonical/raft 0.15 (Debian 12), raft_uv serves a truncation and a snapshot store
 * through a "barrier" attached to the open log segments. A barrier requested while every
 * open segment already serves another one is attached to none and never fires
 * (canonical/raft#372, fixed upstream by #435): a follower's truncation of conflicting
 * entries is then silently dropped. Its Raft core goes on correctly in memory, but on disk
 * the entries that should have gone stay, and the new ones are written after them; after a
 * restart the node loads the stale entries at their old indexes and every later entry one
 * place off, re-applies them, and its state diverges from the cluster's. Found by the fault
 * campaign (tests/fault/truncate.c reproduces it: a deposed leader, stopped while taking a
 * snapshot, truncating on its return, then killed and restarted).
 *
 * What the guard does: it passes every call through, except that it issues truncate and
 * snapshot_put to raft_uv only when no earlier one may still hold a barrier. A truncation
 * is over when an append issued after it completes (raft_uv holds that append until the
 * truncation is done, and Raft always appends the new entries right after truncating); a
 * snapshot store is over once raft_uv has called it back and released its barrier, which
 * it does right after the callback, so the guard looks again on the next loop iteration.
 * Until then later truncations and stores wait in a queue with every append issued after
 * them, and go out in the order Raft issued them. Appends that nothing waits before go
 * straight through; on close every waiting request is called back with RAFT_CANCELED.
 *
 * It also closes raft_uv only once a truncation under way is over: raft_uv 0.15, closed
 * while a truncation runs on its thread pool, calls the truncation's barrier callback a
 * second time, which frees the request the running work still uses (a crash at shutdown,
 * found by the same test once truncations were no longer dropped). A truncation that no
 * append has followed yet gives no sign of its end; the close then waits a grace period
 * (300 ms) for its thread-pool work.
 *
 * Everything runs on the loop thread.
 */
#ifndef STRATA_CONSENSUS_IO_GUARD_H
#define STRATA_CONSENSUS_IO_GUARD_H

#include <raft.h>
#include <stddef.h>
#include <uv.h>

typedef struct st_io_guard st_io_guard;

/* A guard in front of inner (a raft_io already initialised, raft_uv_init), on loop. NULL if
 * out of memory. Give st_io_guard_io(g) to raft_init instead of inner. */
st_io_guard *st_io_guard_new(struct raft_io *inner, uv_loop_t *loop);
struct raft_io *st_io_guard_io(st_io_guard *g);
/* Closes the guard's loop handle (idempotent; the io's close does it too). Call it on the
 * paths that close the loop without raft_close. */
void st_io_guard_close(st_io_guard *g);
/* Frees the guard once its loop has run the handle's close (after uv_run returned). */
void st_io_guard_free(st_io_guard *g);

/* Requests waiting now (tests and logs). */
size_t st_io_guard_waiting(const st_io_guard *g);

#endif
