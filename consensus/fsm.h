/* fsm.h - the bridge between canonical/raft's struct raft_fsm and an application state
 * machine that knows nothing of Raft.
 *
 * The application sees whole entries: the commands of one batch (batch.h) and the Raft
 * index they were committed at, to apply in one storage transaction that also records
 * that index. On restart Raft re-applies entries after its last snapshot; the adapter
 * skips every index the application already holds (STACK.md, raft 0.15 bug 6), and it
 * skips restoring a snapshot older than the application's own state (committed history
 * never changes, so a state at index A >= S already contains snapshot S).
 *
 * Results travel back without allocation: the application writes them into buffers it
 * owns, valid until its next apply; raft 0.15 calls the proposer's apply callback
 * synchronously right after fsm->apply, so the node reads them there and nowhere else.
 */
#ifndef STRATA_CONSENSUS_FSM_H
#define STRATA_CONSENSUS_FSM_H

#include <raft.h>
#include <stdbool.h>
#include <stdint.h>

#include "consensus/batch.h"

typedef struct {
    /* Applies cmds[0..n) of the entry at `index`, in one storage transaction that also
     * stores `index` as applied. n may be 0 (an entry that failed to decode): only the
     * index is recorded. Deterministic: no clocks, randomness or I/O but storage.
     * results[i] receives the reply bytes for cmds[i], owned by the application and valid
     * until the next call. A refused command is a result, not an error: return non-zero
     * only when storage fails: Raft then stops applying on this node, and the adapter
     * applies nothing more (its owner is to stop the node: node.h, storage failures). */
    int (*apply)(void *ctx, uint64_t index, const st_slice *cmds, size_t n, st_slice *results);
    /* The highest Raft index the application's storage holds (0 when empty). */
    uint64_t (*applied)(void *ctx);
    /* The whole state as bytes, consistent with applied(). *buf is malloc'd; the caller
     * frees it with free(). */
    int (*snapshot)(void *ctx, uint8_t **buf, size_t *len);
    /* Replaces the whole state with snapshot bytes (borrowed) taken at `index`. */
    int (*restore)(void *ctx, uint64_t index, const uint8_t *buf, size_t len);
    void *ctx;
} st_fsm;

/* What the proposer's apply callback receives as `result` (valid during the callback). */
typedef struct {
    uint64_t index;          /* Raft index of the entry */
    bool decoded;            /* false: the entry was not a valid batch */
    size_t n;                /* commands applied */
    const st_slice *results; /* n reply buffers */
} st_fsm_result;

typedef struct st_fsm_adapter st_fsm_adapter;

/* Allocates an adapter over app. *out->raft_fsm (st_fsm_adapter_raft) is what raft_init
 * takes. Returns ST_OK or ST_ENOMEM. */
int st_fsm_adapter_new(const st_fsm *app, st_fsm_adapter **out);
void st_fsm_adapter_free(st_fsm_adapter *a);
struct raft_fsm *st_fsm_adapter_raft(st_fsm_adapter *a);
/* Tells the adapter which raft instance drives it (needed to learn entry indexes). */
void st_fsm_adapter_bind(st_fsm_adapter *a, struct raft *r);

/* Counters, for status and tests. */
typedef struct {
    uint64_t entries_applied; /* entries handed to the application */
    uint64_t entries_skipped; /* entries at or below the application's applied index */
    uint64_t commands_applied;
    uint64_t entries_bad; /* entries that did not decode as a batch */
    uint64_t snapshots_taken;
    uint64_t restores;         /* snapshots installed into the application */
    uint64_t restores_skipped; /* snapshots older than the application's state */
    uint64_t apply_failures;   /* entries the application could not store (Raft retries) */
    uint64_t restore_failures; /* snapshots the application could not install */
    uint64_t failed_index;     /* the entry (or snapshot) index of the last such failure */
} st_fsm_stats;

void st_fsm_adapter_stats(const st_fsm_adapter *a, st_fsm_stats *out);

#endif
