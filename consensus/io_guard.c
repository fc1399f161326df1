/* io_guard.c - the raft_io in front of raft_uv that keeps truncations and snapshot stores
 * from overlapping inside it (io_guard.h says why). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/io_guard.h"

#define CLOSE_GRACE_MS 300 /* see g_close */

typedef enum { W_APPEND, W_TRUNCATE, W_PUT } wait_kind;

/* A request held back, in the order Raft issued it. */
typedef struct waiting {
    struct waiting *next;
    wait_kind kind;
    struct raft_io_append *append;
    const struct raft_entry *entries;
    unsigned n;
    raft_io_append_cb append_cb;
    raft_index index;
    unsigned trailing;
    struct raft_io_snapshot_put *put;
    const struct raft_snapshot *snapshot;
    raft_io_snapshot_put_cb put_cb;
} waiting;

struct st_io_guard {
    struct raft_io io; /* what Raft calls; io.impl is the guard */
    struct raft_io *inner;
    uv_loop_t *loop;
    uv_timer_t timer; /* looks at the queue again on the next loop iteration */
    bool timer_open;

    /* A truncation raft_uv has: over when the first append issued after it completes. */
    bool truncating;
    struct raft_io_append witness_req; /* stands in for that append inside raft_uv */
    struct raft_io_append *witness;
    raft_io_append_cb witness_cb;

    /* A snapshot store raft_uv has: over on the loop iteration after its callback. */
    bool storing;
    struct raft_io_snapshot_put put_req; /* stands in for Raft's request inside raft_uv */
    struct raft_io_snapshot_put *put;
    raft_io_snapshot_put_cb put_cb;

    waiting *head, *tail;
    size_t n_waiting;
    bool broken; /* a held truncation could not be issued: refuse to write past it */
    bool closing;
    bool close_waits; /* raft_uv is closed once the outstanding truncation is over */

    raft_io_tick_cb tick;
    raft_io_recv_cb recv;
    raft_io_close_cb close_cb;
};

static st_io_guard *guard_of(struct raft_io *io) {
    return io->impl;
}

static int fail(st_io_guard *g, int rv) {
    if (rv != 0) {
        memcpy(g->io.errmsg, g->inner->errmsg, sizeof(g->io.errmsg));
    }
    return rv;
}

static void schedule(st_io_guard *g);
static void close_inner(st_io_guard *g);

/* ---- the requests that hold a barrier ---- */

static void witness_done(struct raft_io_append *req, int status) {
    st_io_guard *g = req->data;
    struct raft_io_append *orig = g->witness;
    raft_io_append_cb cb = g->witness_cb;
    g->witness = NULL;
    g->truncating = false; /* raft_uv wrote this append only after the truncation */
    orig->cb = cb;
    cb(orig, status);
    if (g->close_waits) {
        close_inner(g);
        return;
    }
    schedule(g);
}

static int send_append(st_io_guard *g, struct raft_io_append *req, const struct raft_entry *entries,
                       unsigned n, raft_io_append_cb cb) {
    if (g->broken) {
        return RAFT_IOERR;
    }
    if (g->truncating && g->witness == NULL) {
        g->witness = req;
        g->witness_cb = cb;
        g->witness_req.data = g;
        int rv = g->inner->append(g->inner, &g->witness_req, entries, n, witness_done);
        if (rv != 0) {
            g->witness = NULL;
        }
        return fail(g, rv);
    }
    return fail(g, g->inner->append(g->inner, req, entries, n, cb));
}

static int send_truncate(st_io_guard *g, raft_index index) {
    int rv = g->inner->truncate(g->inner, index);
    if (rv == 0) {
        g->truncating = true;
        g->witness = NULL;
    }
    return fail(g, rv);
}

static void put_done(struct raft_io_snapshot_put *req, int status) {
    st_io_guard *g = req->data;
    struct raft_io_snapshot_put *orig = g->put;
    raft_io_snapshot_put_cb cb = g->put_cb;
    g->put = NULL;
    orig->cb = cb;
    cb(orig, status);
    /* raft_uv releases the store's barrier after this callback returns: `storing` is
     * cleared on the next loop iteration. */
    schedule(g);
}

static int send_put(st_io_guard *g, unsigned trailing, struct raft_io_snapshot_put *req,
                    const struct raft_snapshot *snapshot, raft_io_snapshot_put_cb cb) {
    g->put = req;
    g->put_cb = cb;
    g->put_req.data = g;
    int rv = g->inner->snapshot_put(g->inner, trailing, &g->put_req, snapshot, put_done);
    if (rv == 0) {
        g->storing = true;
    } else {
        g->put = NULL;
    }
    return fail(g, rv);
}

/* ---- the queue ---- */

static int hold(st_io_guard *g, const waiting *w) {
    waiting *c = malloc(sizeof(*c));
    if (c == NULL) {
        return RAFT_NOMEM;
    }
    *c = *w;
    c->next = NULL;
    if (g->tail != NULL) {
        g->tail->next = c;
    } else {
        g->head = c;
    }
    g->tail = c;
    g->n_waiting++;
    return 0;
}

static waiting *take(st_io_guard *g) {
    waiting *w = g->head;
    g->head = w->next;
    if (g->head == NULL) {
        g->tail = NULL;
    }
    g->n_waiting--;
    return w;
}

/* Issues what waits, in order, as far as no barrier is in the way: appends may always go
 * (once everything before them has gone), a truncation or a store only when none is
 * outstanding. A failure is reported through the request's own callback. */
static void drain(st_io_guard *g) {
    while (g->head != NULL && !g->closing) {
        if (g->head->kind != W_APPEND && (g->truncating || g->storing)) {
            return;
        }
        waiting *w = take(g);
        int rv;
        switch (w->kind) {
        case W_APPEND:
            rv = send_append(g, w->append, w->entries, w->n, w->append_cb);
            if (rv != 0) {
                w->append->cb = w->append_cb;
                w->append_cb(w->append, rv);
            }
            break;
        case W_TRUNCATE:
            if (send_truncate(g, w->index) != 0) {
                g->broken = true; /* appends after it would land at the wrong place */
            }
            break;
        case W_PUT:
            rv = send_put(g, w->trailing, w->put, w->snapshot, w->put_cb);
            if (rv != 0) {
                w->put->cb = w->put_cb;
                w->put_cb(w->put, rv);
            }
            break;
        }
        free(w);
    }
}

static void timer_cb(uv_timer_t *t) {
    st_io_guard *g = t->data;
    if (g->put == NULL) {
        g->storing = false; /* its callback has run, and raft_uv has released it since */
    }
    drain(g);
}

static void schedule(st_io_guard *g) {
    if (!g->closing && g->timer_open) {
        uv_timer_start(&g->timer, timer_cb, 0, 0);
    }
}

/* ---- raft_io ---- */

static int g_append(struct raft_io *io, struct raft_io_append *req,
                    const struct raft_entry entries[], unsigned n, raft_io_append_cb cb) {
    st_io_guard *g = guard_of(io);
    if (g->head != NULL) {
        waiting w = {.kind = W_APPEND, .append = req, .entries = entries, .n = n, .append_cb = cb};
        return hold(g, &w);
    }
    return send_append(g, req, entries, n, cb);
}

static int g_truncate(struct raft_io *io, raft_index index) {
    st_io_guard *g = guard_of(io);
    if (g->head != NULL || g->truncating || g->storing) {
        waiting w = {.kind = W_TRUNCATE, .index = index};
        return hold(g, &w);
    }
    return send_truncate(g, index);
}

static int g_snapshot_put(struct raft_io *io, unsigned trailing, struct raft_io_snapshot_put *req,
                          const struct raft_snapshot *snapshot, raft_io_snapshot_put_cb cb) {
    st_io_guard *g = guard_of(io);
    if (g->head != NULL || g->truncating || g->storing) {
        waiting w = {
            .kind = W_PUT, .trailing = trailing, .put = req, .snapshot = snapshot, .put_cb = cb};
        return hold(g, &w);
    }
    return send_put(g, trailing, req, snapshot, cb);
}

static void inner_closed(struct raft_io *inner) {
    st_io_guard *g = inner->data;
    if (g->close_cb != NULL) {
        g->close_cb(&g->io);
    }
}

static void close_inner(st_io_guard *g) {
    g->close_waits = false;
    g->inner->close(g->inner, inner_closed);
}

/* The grace period of a close that found a truncation with no append behind it yet. */
static void close_grace_cb(uv_timer_t *t) {
    st_io_guard *g = t->data;
    st_io_guard_close(g);
    if (g->close_waits) {
        close_inner(g);
    }
}

static void g_close(struct raft_io *io, raft_io_close_cb cb) {
    st_io_guard *g = guard_of(io);
    g->closing = true;
    g->close_cb = cb;
    while (g->head != NULL) {
        waiting *w = take(g);
        if (w->kind == W_APPEND) {
            w->append->cb = w->append_cb;
            w->append_cb(w->append, RAFT_CANCELED);
        } else if (w->kind == W_PUT) {
            w->put->cb = w->put_cb;
            w->put_cb(w->put, RAFT_CANCELED);
        }
        free(w);
    }
    /* raft_uv 0.15 closing while a truncation runs on its thread pool calls the
     * truncation's barrier callback a second time, which frees the request the running
     * work still uses. Close once the append behind it completes, which follows the
     * truncation's end (the loop keeps running until the close callback). */
    if (g->truncating && g->witness != NULL) {
        st_io_guard_close(g);
        g->close_waits = true;
        return;
    }
    /* A truncation no append has followed yet gives no sign of its end: its thread-pool
     * work takes milliseconds, so the close waits a grace period for it (the same crash,
     * seen when a node was stopped right after it truncated). */
    if (g->truncating && g->timer_open) {
        g->close_waits = true;
        uv_timer_start(&g->timer, close_grace_cb, CLOSE_GRACE_MS, 0);
        return;
    }
    st_io_guard_close(g);
    close_inner(g);
}

static void inner_tick(struct raft_io *inner) {
    st_io_guard *g = inner->data;
    g->tick(&g->io);
}

static void inner_recv(struct raft_io *inner, struct raft_message *m) {
    st_io_guard *g = inner->data;
    g->recv(&g->io, m);
}

static int g_init(struct raft_io *io, raft_id id, const char *address) {
    st_io_guard *g = guard_of(io);
    return fail(g, g->inner->init(g->inner, id, address));
}

static int g_load(struct raft_io *io, raft_term *term, raft_id *voted_for,
                  struct raft_snapshot **snapshot, raft_index *start_index,
                  struct raft_entry *entries[], size_t *n_entries) {
    st_io_guard *g = guard_of(io);
    return fail(
        g, g->inner->load(g->inner, term, voted_for, snapshot, start_index, entries, n_entries));
}

static int g_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv) {
    st_io_guard *g = guard_of(io);
    g->tick = tick;
    g->recv = recv;
    return fail(g, g->inner->start(g->inner, msecs, inner_tick, inner_recv));
}

static int g_bootstrap(struct raft_io *io, const struct raft_configuration *conf) {
    st_io_guard *g = guard_of(io);
    return fail(g, g->inner->bootstrap(g->inner, conf));
}

static int g_recover(struct raft_io *io, const struct raft_configuration *conf) {
    st_io_guard *g = guard_of(io);
    return fail(g, g->inner->recover(g->inner, conf));
}

static int g_set_term(struct raft_io *io, raft_term term) {
    st_io_guard *g = guard_of(io);
    return fail(g, g->inner->set_term(g->inner, term));
}

static int g_set_vote(struct raft_io *io, raft_id server_id) {
    st_io_guard *g = guard_of(io);
    return fail(g, g->inner->set_vote(g->inner, server_id));
}

static int g_send(struct raft_io *io, struct raft_io_send *req, const struct raft_message *message,
                  raft_io_send_cb cb) {
    st_io_guard *g = guard_of(io);
    return fail(g, g->inner->send(g->inner, req, message, cb));
}

static int g_snapshot_get(struct raft_io *io, struct raft_io_snapshot_get *req,
                          raft_io_snapshot_get_cb cb) {
    st_io_guard *g = guard_of(io);
    return fail(g, g->inner->snapshot_get(g->inner, req, cb));
}

static raft_time g_time(struct raft_io *io) {
    st_io_guard *g = guard_of(io);
    return g->inner->time(g->inner);
}

static int g_random(struct raft_io *io, int min, int max) {
    st_io_guard *g = guard_of(io);
    return g->inner->random(g->inner, min, max);
}

static int g_async_work(struct raft_io *io, struct raft_io_async_work *req,
                        raft_io_async_work_cb cb) {
    st_io_guard *g = guard_of(io);
    return fail(g, g->inner->async_work(g->inner, req, cb));
}

st_io_guard *st_io_guard_new(struct raft_io *inner, uv_loop_t *loop) {
    st_io_guard *g = calloc(1, sizeof(*g));
    if (g == NULL) {
        return NULL;
    }
    g->inner = inner;
    g->loop = loop;
    inner->data = g; /* raft_uv leaves its io's data to its user: the guard is that user */
    uv_timer_init(loop, &g->timer);
    g->timer.data = g;
    g->timer_open = true;
    struct raft_io *io = &g->io;
    io->version = inner->version;
    io->impl = g;
    io->init = g_init;
    io->close = g_close;
    io->load = g_load;
    io->start = g_start;
    io->bootstrap = g_bootstrap;
    io->recover = g_recover;
    io->set_term = g_set_term;
    io->set_vote = g_set_vote;
    io->send = g_send;
    io->append = g_append;
    io->truncate = g_truncate;
    io->snapshot_put = g_snapshot_put;
    io->snapshot_get = g_snapshot_get;
    io->time = g_time;
    io->random = g_random;
    io->async_work = inner->version >= 2 && inner->async_work != NULL ? g_async_work : NULL;
    return g;
}

struct raft_io *st_io_guard_io(st_io_guard *g) {
    return &g->io;
}

void st_io_guard_close(st_io_guard *g) {
    if (g != NULL && g->timer_open) {
        uv_timer_stop(&g->timer);
        uv_close((uv_handle_t *)&g->timer, NULL);
        g->timer_open = false;
    }
}

void st_io_guard_free(st_io_guard *g) {
    if (g == NULL) {
        return;
    }
    while (g->head != NULL) {
        free(take(g));
    }
    free(g);
}

size_t st_io_guard_waiting(const st_io_guard *g) {
    return g->n_waiting;
}
