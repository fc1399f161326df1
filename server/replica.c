/* replica.c - st_state driven as a consensus st_fsm (replica.h): apply each command of an
 * entry at its position, reply with the st_apply_result, snapshot and restore. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "consensus/node.h"
#include "core/error.h"
#include "server/replica.h"

struct st_replica {
    st_state *state;
    st_apply_result *results; /* ST_BATCH_MAX_COMMANDS, rewritten by each apply */
    void (*log)(void *ctx, int level, const char *msg);
    void *log_ctx;
};

static void rlog(st_replica *r, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void rlog(st_replica *r, int level, const char *fmt, ...) {
    if (r->log == NULL) {
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->log(r->log_ctx, level, msg);
}

static int replica_apply(void *ctx, uint64_t index, const st_slice *cmds, size_t n,
                         st_slice *results) {
    st_replica *r = ctx;
    if (n == 0) {
        /* An entry that did not decode as a batch: record its index through an empty
         * command, which the state refuses (no request id) without changing anything. */
        st_apply_result ignored;
        static const uint8_t empty[1] = {0};
        int rc = st_state_apply_at(r->state, index, 0, true, empty, 0, &ignored);
        if (rc != ST_OK) {
            rlog(r, ST_LOG_ERROR, "storage failure recording undecodable entry %llu: %s",
                 (unsigned long long)index, ignored.message);
        }
        return rc;
    }
    /* The whole entry in one transaction (one commit per entry, however many ballots). */
    const uint8_t *data[ST_BATCH_MAX_COMMANDS];
    size_t lens[ST_BATCH_MAX_COMMANDS];
    for (size_t i = 0; i < n; i++) {
        data[i] = cmds[i].data;
        lens[i] = cmds[i].len;
    }
    int rc = st_state_apply_entry(r->state, index, data, lens, n, r->results);
    if (rc != ST_OK) {
        /* Storage failed: nothing of this entry changed; Raft stops applying here and the
         * same entry is applied again on restart. */
        rlog(r, ST_LOG_ERROR, "entry %llu (%zu commands): %s", (unsigned long long)index, n,
             r->results[0].message);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        results[i] = (st_slice){(const uint8_t *)&r->results[i], sizeof(r->results[i])};
    }
    return ST_OK;
}

static uint64_t replica_applied(void *ctx) {
    st_replica *r = ctx;
    uint64_t idx = 0;
    if (st_state_applied_index(r->state, &idx) != ST_OK) {
        return 0;
    }
    return idx;
}

static int replica_snapshot(void *ctx, uint8_t **buf, size_t *len) {
    st_replica *r = ctx;
    char err[256] = "";
    int rc = st_state_snapshot(r->state, buf, len, err, sizeof(err));
    if (rc != ST_OK) {
        rlog(r, ST_LOG_ERROR, "snapshot failed: %s", err);
        return rc;
    }
    rlog(r, ST_LOG_INFO, "snapshot taken at index %llu (%zu bytes)",
         (unsigned long long)replica_applied(r), *len);
    return ST_OK;
}

static int replica_restore(void *ctx, uint64_t index, const uint8_t *buf, size_t len) {
    st_replica *r = ctx;
    char err[256] = "";
    int rc = st_state_restore(r->state, buf, len, err, sizeof(err));
    if (rc != ST_OK) {
        rlog(r, ST_LOG_ERROR, "snapshot at index %llu not installed: %s", (unsigned long long)index,
             err);
        return rc;
    }
    uint64_t now = replica_applied(r);
    rlog(r, now == index ? ST_LOG_INFO : ST_LOG_WARN,
         "snapshot installed: state restored at index %llu%s", (unsigned long long)now,
         now == index ? "" : " (differs from the snapshot's index)");
    return ST_OK;
}

int st_replica_new(st_state *state, void (*log)(void *ctx, int level, const char *msg),
                   void *log_ctx, st_replica **out) {
    st_replica *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return ST_ENOMEM;
    }
    r->results = calloc(ST_BATCH_MAX_COMMANDS, sizeof(*r->results));
    if (r->results == NULL) {
        free(r);
        return ST_ENOMEM;
    }
    r->state = state;
    r->log = log;
    r->log_ctx = log_ctx;
    *out = r;
    return ST_OK;
}

void st_replica_free(st_replica *r) {
    if (r != NULL) {
        free(r->results);
        free(r);
    }
}

void st_replica_fsm(st_replica *r, st_fsm *out) {
    *out = (st_fsm){
        .apply = replica_apply,
        .applied = replica_applied,
        .snapshot = replica_snapshot,
        .restore = replica_restore,
        .ctx = r,
    };
}

const st_apply_result *st_replica_result(const st_slice *reply) {
    if (reply == NULL || reply->data == NULL || reply->len != sizeof(st_apply_result)) {
        return NULL;
    }
    return (const st_apply_result *)(const void *)reply->data;
}
