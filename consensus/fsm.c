/* fsm.c - adapts an application state machine (fsm.h) to canonical/raft's raft_fsm:
 * batch decoding, skipping re-applied indexes, result hand-back, and snapshots wrapped
 * with a small header carrying the index they were taken at. */
#include <stdlib.h>
#include <string.h>

#include "consensus/fsm.h"
#include "core/error.h"

/* Snapshot header: "STSNAP01" then the applied index, big-endian. */
#define SNAP_MAGIC "STSNAP01"
#define SNAP_HEADER 16

struct st_fsm_adapter {
    struct raft_fsm raft_fsm; /* first: raft hands this pointer back */
    st_fsm app;
    struct raft *raft;
    st_slice *cmds;
    st_slice *results;
    st_fsm_result result;
    st_fsm_stats stats;
    bool failed; /* the application failed to store an entry or snapshot: apply no more */
};

static int adapter_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result) {
    st_fsm_adapter *a = fsm->data;
    /* raft 0.15 bumps last_applied only after apply returns, and tells apply no index;
     * every entry kind advances last_applied by one, so this is the entry's index. */
    uint64_t index = raft_last_applied(a->raft) + 1;
    a->result = (st_fsm_result){.index = index, .decoded = true, .results = a->results};
    *result = &a->result;
    if (a->failed) {
        /* Raft retries the entry that failed; the node is being stopped (node.h), and
         * nothing more is applied meanwhile, so its storage stays as the failure left it. */
        return RAFT_IOERR;
    }
    if (index <= a->app.applied(a->app.ctx)) {
        a->stats.entries_skipped++;
        a->result.n = 0;
        return 0;
    }
    size_t n = 0;
    if (st_batch_decode(buf->base, buf->len, a->cmds, &n) != ST_OK) {
        a->result.decoded = false;
        a->stats.entries_bad++;
        n = 0;
    }
    int rc = a->app.apply(a->app.ctx, index, a->cmds, n, a->results);
    if (rc != 0) {
        /* Raft stops applying at this entry and tries it again later; the node sees the
         * count and stops taking part (node.h, storage failures). */
        a->stats.apply_failures++;
        a->stats.failed_index = index;
        a->failed = true;
        return RAFT_IOERR;
    }
    a->result.n = n;
    a->stats.entries_applied++;
    a->stats.commands_applied += n;
    return 0;
}

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

/* The snapshot is two buffers, the header and the state's bytes as the application made
 * them (malloc'd, which raft_free releases with raft's default heap): no copy of a state
 * that may be hundreds of megabytes. */
static int adapter_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n) {
    st_fsm_adapter *a = fsm->data;
    uint8_t *data = NULL;
    size_t len = 0;
    if (a->app.snapshot(a->app.ctx, &data, &len) != ST_OK) {
        return RAFT_IOERR;
    }
    struct raft_buffer *b = raft_malloc(2 * sizeof(*b));
    uint8_t *header = raft_malloc(SNAP_HEADER);
    if (b == NULL || header == NULL) {
        raft_free(b);
        raft_free(header);
        free(data);
        return RAFT_NOMEM;
    }
    memcpy(header, SNAP_MAGIC, 8);
    put64(header + 8, a->app.applied(a->app.ctx));
    b[0].base = header;
    b[0].len = SNAP_HEADER;
    b[1].base = data;
    b[1].len = len;
    *bufs = b;
    *n = len > 0 ? 2 : 1;
    if (len == 0) {
        free(data);
    }
    a->stats.snapshots_taken++;
    return 0;
}

static int adapter_restore(struct raft_fsm *fsm, struct raft_buffer *buf) {
    st_fsm_adapter *a = fsm->data;
    const uint8_t *p = buf->base;
    if (buf->len < SNAP_HEADER || memcmp(p, SNAP_MAGIC, 8) != 0) {
        return RAFT_CORRUPT; /* raft keeps ownership of buf on failure */
    }
    uint64_t index = get64(p + 8);
    if (index <= a->app.applied(a->app.ctx)) {
        a->stats.restores_skipped++;
    } else {
        if (a->app.restore(a->app.ctx, index, p + SNAP_HEADER, buf->len - SNAP_HEADER) != ST_OK) {
            a->stats.restore_failures++;
            a->stats.failed_index = index;
            a->failed = true;
            return RAFT_IOERR;
        }
        a->stats.restores++;
    }
    raft_free(buf->base); /* on success the buffer is ours to release */
    return 0;
}

int st_fsm_adapter_new(const st_fsm *app, st_fsm_adapter **out) {
    st_fsm_adapter *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        return ST_ENOMEM;
    }
    a->cmds = calloc(ST_BATCH_MAX_COMMANDS, sizeof(*a->cmds));
    a->results = calloc(ST_BATCH_MAX_COMMANDS, sizeof(*a->results));
    if (a->cmds == NULL || a->results == NULL) {
        st_fsm_adapter_free(a);
        return ST_ENOMEM;
    }
    a->app = *app;
    a->raft_fsm.version = 1;
    a->raft_fsm.data = a;
    a->raft_fsm.apply = adapter_apply;
    a->raft_fsm.snapshot = adapter_snapshot;
    a->raft_fsm.restore = adapter_restore;
    *out = a;
    return ST_OK;
}

void st_fsm_adapter_free(st_fsm_adapter *a) {
    if (a != NULL) {
        free(a->cmds);
        free(a->results);
        free(a);
    }
}

struct raft_fsm *st_fsm_adapter_raft(st_fsm_adapter *a) {
    return &a->raft_fsm;
}

void st_fsm_adapter_bind(st_fsm_adapter *a, struct raft *r) {
    a->raft = r;
}

void st_fsm_adapter_stats(const st_fsm_adapter *a, st_fsm_stats *out) {
    *out = a->stats;
}
