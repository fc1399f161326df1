/* node.c - a Raft node on its own libuv loop thread: queue draining and batching,
 * leader readiness through a barrier, membership operations, status, storage-failure
 * detection (a thin layer over raft_io's writes), and an orderly shutdown that never closes
 * Raft with entries still being written (STACK.md bug 1). */
#include <stddef.h>
#include <errno.h>
#include <pthread.h>
#include <raft/uv.h>
#include <sodium.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "consensus/io_guard.h"
#include "consensus/node.h"
#include "core/error.h"

#define STOP_GRACE_MS 3000 /* how long stop waits for in-flight entries */

typedef enum { OP_PROPOSE, OP_BARRIER, OP_ADD, OP_REMOVE, OP_TRANSFER } op_kind;

/* One request from another thread. Proposals carry their command bytes inline. */
typedef struct op {
    struct op *next;
    op_kind kind;
    st_node_cb cb;
    void *arg;
    uint64_t id;
    char address[ST_NODE_ADDRESS_MAX];
    size_t len;
    uint8_t data[];
} op;

typedef struct {
    op *head, *tail;
    size_t n;
} op_list;

/* One Raft entry in flight: the proposals it carries, answered together. */
typedef struct {
    struct raft_apply req;
    st_node *node;
    size_t n;
    op *ops[ST_NODE_BATCH_MAX];
} apply_req;

typedef struct {
    struct raft_barrier req;
    st_node *node;
    op *op; /* NULL for the leader's own readiness barrier */
    uint64_t term;
} barrier_req;

typedef struct {
    struct raft_change req;
    st_node *node;
    op *op;
    bool promote; /* after raft_add: assign the voter role next */
} change_req;

typedef struct {
    struct raft_transfer req;
    st_node *node;
    op *op;
} transfer_req;

struct st_node {
    st_node_config cfg;
    char raft_address[ST_NODE_ADDRESS_MAX];
    char data_dir[4096];
    st_peer *bootstrap;
    st_fsm fsm;
    st_fsm_adapter *adapter;

    uv_loop_t loop;
    uv_async_t wake;
    uv_check_t check;
    uv_timer_t tick; /* wakes the loop while stopping, to re-check in-flight work */
    struct raft_uv_transport transport;
    bool secure; /* transport is secure.h's, else raft's plain TCP */
    uint8_t sk[ST_SECURE_SK_LEN], pk[ST_SECURE_PK_LEN];
    struct raft_io io;  /* raft_uv, its writes wrapped to catch storage failures */
    st_io_guard *guard; /* what Raft is given in front of io (io_guard.h) */
    struct raft raft;
    /* raft_uv's own write functions: io's are wrapped to notice storage failures. */
    int (*io_append)(struct raft_io *, struct raft_io_append *, const struct raft_entry[], unsigned,
                     raft_io_append_cb);
    int (*io_truncate)(struct raft_io *, raft_index);
    int (*io_set_term)(struct raft_io *, raft_term);
    int (*io_set_vote)(struct raft_io *, raft_id);
    int (*io_snapshot_put)(struct raft_io *, unsigned, struct raft_io_snapshot_put *,
                           const struct raft_snapshot *, raft_io_snapshot_put_cb);
    pthread_t thread;
    bool started, thread_running;

    /* Loop-thread state. */
    op_list held;        /* proposals waiting for this leader to become ready */
    uint64_t ready_term; /* term whose barrier has applied; ready iff == current term */
    bool barrier_pending;
    size_t in_flight; /* raft requests not yet called back */
    bool closing, closed;
    uint64_t stop_deadline;
    bool failed; /* storage failed: see failure (published in the status) */
    char failure[256];
    uint64_t apply_failures; /* the adapter's count already looked at */

    /* Shared with other threads, under mu. */
    pthread_mutex_t mu;
    op_list queue;
    bool stopping;
    st_node_status status;
};

/* ---------------------------------------------------------------- logging */

static void logf_(st_node *n, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void logf_(st_node *n, int level, const char *fmt, ...) {
    if (n->cfg.log == NULL) {
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    n->cfg.log(n->cfg.log_ctx, level, n->started ? n->raft.current_term : 0, msg);
}

static void transport_log(void *ctx, int level, const char *msg) {
    logf_(ctx, level, "%s", msg);
}

const char *st_node_role_name(st_node_role r) {
    switch (r) {
    case ST_ROLE_FOLLOWER:
        return "follower";
    case ST_ROLE_CANDIDATE:
        return "candidate";
    case ST_ROLE_LEADER:
        return "leader";
    default:
        return "unavailable";
    }
}

/* raft's message for the last failure if it left one, else the name of the code. */
static const char *raft_why(st_node *n, int rv) {
    const char *m = raft_errmsg(&n->raft);
    return m != NULL && m[0] != '\0' ? m : raft_strerror(rv);
}

/* ---------------------------------------------------------------- storage failures */

/* Whether a raft status means the disk below failed (not a shutdown or a lost term). */
static bool is_storage_error(int rv) {
    return rv == RAFT_IOERR || rv == RAFT_NOSPACE || rv == RAFT_CORRUPT ||
           rv == RAFT_UNAUTHORIZED || rv == RAFT_TOOMANY;
}

/* Records the first storage failure: logged once as an ERROR, published in the status
 * (storage_failed), and from then on proposals and barriers are refused with ST_ESHUTDOWN.
 * The owner is expected to stop the node (stratad does, with exit status 1). */
static void storage_failure(st_node *n, const char *what) {
    if (n->failed || n->closing) {
        return;
    }
    n->failed = true;
    snprintf(n->failure, sizeof(n->failure), "%s", what);
    logf_(n, ST_LOG_ERROR,
          "storage failure: %s (Raft data in %s); this node stops taking part rather than go "
          "on with a log or state it could not write (free space or repair the disk, then "
          "restart it: it catches up from the others)",
          what, n->data_dir);
    pthread_mutex_lock(&n->mu);
    n->status.storage_failed = true;
    snprintf(n->status.failure, sizeof(n->status.failure), "%s", n->failure);
    pthread_mutex_unlock(&n->mu);
}

static st_node *node_of_io(struct raft_io *io) {
    return (st_node *)(void *)((char *)io - offsetof(st_node, io));
}

/* One wrapped append: raft's request and callback, restored for the callback. */
typedef struct {
    struct raft_io_append req; /* what raft_uv sees */
    struct raft_io_append *orig;
    raft_io_append_cb cb;
    st_node *node;
} append_wrap;

static void append_done(struct raft_io_append *req, int status) {
    append_wrap *w = req->data;
    struct raft_io_append *orig = w->orig;
    raft_io_append_cb cb = w->cb;
    st_node *n = w->node;
    free(w);
    if (is_storage_error(status)) {
        char what[200];
        snprintf(what, sizeof(what), "writing the Raft log failed: %.120s (%s)", n->io.errmsg,
                 raft_strerror(status));
        storage_failure(n, what);
    }
    cb(orig, status);
}

static int wrap_append(struct raft_io *io, struct raft_io_append *req,
                       const struct raft_entry entries[], unsigned count, raft_io_append_cb cb) {
    st_node *n = node_of_io(io);
    append_wrap *w = malloc(sizeof(*w));
    if (w == NULL) {
        return RAFT_NOMEM;
    }
    *w = (append_wrap){.orig = req, .cb = cb, .node = n};
    w->req.data = w;
    int rv = n->io_append(io, &w->req, entries, count, append_done);
    if (rv != 0) {
        free(w);
        if (is_storage_error(rv)) {
            char what[200];
            snprintf(what, sizeof(what), "appending to the Raft log failed: %.120s (%s)",
                     io->errmsg, raft_strerror(rv));
            storage_failure(n, what);
        }
    }
    return rv;
}

/* A synchronous write of raft_uv: fails the node on a storage error. */
static int sync_write_result(struct raft_io *io, int rv, const char *what) {
    if (is_storage_error(rv)) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s failed: %.120s (%s)", what, io->errmsg, raft_strerror(rv));
        storage_failure(node_of_io(io), msg);
    }
    return rv;
}

static int wrap_truncate(struct raft_io *io, raft_index index) {
    return sync_write_result(io, node_of_io(io)->io_truncate(io, index), "truncating the Raft log");
}

static int wrap_set_term(struct raft_io *io, raft_term term) {
    return sync_write_result(io, node_of_io(io)->io_set_term(io, term),
                             "storing the Raft term (metadata)");
}

static int wrap_set_vote(struct raft_io *io, raft_id id) {
    return sync_write_result(io, node_of_io(io)->io_set_vote(io, id),
                             "storing the Raft vote (metadata)");
}

/* A snapshot that cannot be stored is only a warning: raft keeps the log and tries again at
 * the next threshold. If the disk is really full, the log writes fail next. */
typedef struct {
    struct raft_io_snapshot_put req;
    struct raft_io_snapshot_put *orig;
    raft_io_snapshot_put_cb cb;
    st_node *node;
    raft_index index;
} snapshot_wrap;

static void snapshot_put_done(struct raft_io_snapshot_put *req, int status) {
    snapshot_wrap *w = req->data;
    struct raft_io_snapshot_put *orig = w->orig;
    raft_io_snapshot_put_cb cb = w->cb;
    st_node *n = w->node;
    raft_index index = w->index;
    free(w);
    if (status != 0 && status != RAFT_CANCELED && !n->closing) {
        logf_(n, ST_LOG_WARN, "snapshot at index %llu not stored in %s: %s (%s)",
              (unsigned long long)index, n->data_dir, n->io.errmsg, raft_strerror(status));
    }
    cb(orig, status);
}

static int wrap_snapshot_put(struct raft_io *io, unsigned trailing,
                             struct raft_io_snapshot_put *req, const struct raft_snapshot *snapshot,
                             raft_io_snapshot_put_cb cb) {
    st_node *n = node_of_io(io);
    snapshot_wrap *w = malloc(sizeof(*w));
    if (w == NULL) {
        return RAFT_NOMEM;
    }
    *w = (snapshot_wrap){.orig = req, .cb = cb, .node = n, .index = snapshot->index};
    w->req.data = w;
    int rv = n->io_snapshot_put(io, trailing, &w->req, snapshot, snapshot_put_done);
    if (rv != 0) {
        free(w);
    }
    return rv;
}

/* Puts the wrappers in front of raft_uv's writes (after raft_uv_init, before raft_init). */
static void wrap_io(st_node *n) {
    n->io_append = n->io.append;
    n->io_truncate = n->io.truncate;
    n->io_set_term = n->io.set_term;
    n->io_set_vote = n->io.set_vote;
    n->io_snapshot_put = n->io.snapshot_put;
    n->io.append = wrap_append;
    n->io.truncate = wrap_truncate;
    n->io.set_term = wrap_set_term;
    n->io.set_vote = wrap_set_vote;
    n->io.snapshot_put = wrap_snapshot_put;
}

/* ---------------------------------------------------------------- op lists */

static void list_push(op_list *l, op *o) {
    o->next = NULL;
    if (l->tail != NULL) {
        l->tail->next = o;
    } else {
        l->head = o;
    }
    l->tail = o;
    l->n++;
}

static op *list_take_all(op_list *l) {
    op *h = l->head;
    *l = (op_list){0};
    return h;
}

static void finish(op *o, int status, const st_slice *result, uint64_t index) {
    if (o->cb != NULL) {
        o->cb(o->arg, status, result, index);
    }
    free(o);
}

static void fail_all(op *o, int status) {
    while (o != NULL) {
        op *next = o->next;
        finish(o, status, NULL, 0);
        o = next;
    }
}

static int raft_to_st(int rv) {
    switch (rv) {
    case 0:
        return ST_OK;
    case RAFT_NOTLEADER:
        return ST_ENOTLEADER;
    case RAFT_LEADERSHIPLOST:
        return ST_EUNKNOWN;
    case RAFT_SHUTDOWN:
        return ST_ESHUTDOWN;
    case RAFT_NOMEM:
        return ST_ENOMEM;
    case RAFT_BADID:
    case RAFT_NOTFOUND:
        return ST_ENOENT;
    case RAFT_DUPLICATEID:
    case RAFT_DUPLICATEADDRESS:
        return ST_EEXIST;
    case RAFT_CANTCHANGE:
    case RAFT_BUSY:
        return ST_EBUSY;
    case RAFT_TOOBIG:
        return ST_ERANGE;
    default:
        return ST_EIO;
    }
}

/* ---------------------------------------------------------------- proposals */

static void apply_cb(struct raft_apply *req, int status, void *result) {
    apply_req *ar = req->data;
    st_node *n = ar->node;
    n->in_flight--;
    const st_fsm_result *fr = result;
    for (size_t i = 0; i < ar->n; i++) {
        if (status == 0 && fr != NULL && fr->decoded && i < fr->n) {
            finish(ar->ops[i], ST_OK, &fr->results[i], fr->index);
        } else if (status == 0) {
            /* Applied but with no reply: the entry was skipped or did not decode. */
            finish(ar->ops[i], ST_EIO, NULL, fr != NULL ? fr->index : 0);
        } else if (is_storage_error(status)) {
            /* This leader could not write the entry, but it was sent to the followers too
             * and may still commit through them: the outcome is unknown. */
            finish(ar->ops[i], ST_EUNKNOWN, NULL, 0);
        } else {
            finish(ar->ops[i], raft_to_st(status), NULL, 0);
        }
    }
    free(ar);
}

/* Sends ops[0..count) as one entry. On failure answers them at once. */
static void submit_batch(st_node *n, op **ops, size_t count) {
    st_slice cmds[ST_NODE_BATCH_MAX] = {{0}}; /* zeroed: -O3 cannot see count >= 1 */
    for (size_t i = 0; i < count; i++) {
        cmds[i] = (st_slice){ops[i]->data, ops[i]->len};
    }
    size_t size = st_batch_size(cmds, count);
    apply_req *ar = calloc(1, sizeof(*ar));
    struct raft_buffer buf = {.base = size ? raft_malloc(size) : NULL, .len = size};
    int rv = RAFT_NOMEM;
    if (ar != NULL && buf.base != NULL) {
        st_batch_encode(cmds, count, buf.base);
        ar->node = n;
        ar->n = count;
        memcpy(ar->ops, ops, count * sizeof(ops[0]));
        ar->req.data = ar;
        rv = raft_apply(&n->raft, &ar->req, &buf, 1, apply_cb);
        if (rv == 0) {
            n->in_flight++;
            return;
        }
        logf_(n, ST_LOG_WARN, "propose %zu commands: %s", count, raft_why(n, rv));
    }
    raft_free(buf.base);
    free(ar);
    for (size_t i = 0; i < count; i++) {
        finish(ops[i], rv == RAFT_NOMEM ? ST_ENOMEM : raft_to_st(rv), NULL, 0);
    }
}

/* Groups queued proposals into entries of at most ST_NODE_BATCH_MAX commands and
 * ST_BATCH_MAX_BYTES bytes. */
static void submit_proposals(st_node *n, op *list) {
    op *batch[ST_NODE_BATCH_MAX];
    size_t count = 0, bytes = 5;
    while (list != NULL) {
        op *o = list;
        list = o->next;
        if (count == ST_NODE_BATCH_MAX || (count > 0 && bytes + 4 + o->len > ST_BATCH_MAX_BYTES)) {
            submit_batch(n, batch, count);
            count = 0;
            bytes = 5;
        }
        batch[count++] = o;
        bytes += 4 + o->len;
    }
    if (count > 0) {
        submit_batch(n, batch, count);
    }
}

/* ---------------------------------------------------------------- barriers */

static void barrier_cb(struct raft_barrier *req, int status) {
    barrier_req *br = req->data;
    st_node *n = br->node;
    n->in_flight--;
    if (br->op == NULL) {
        n->barrier_pending = false;
        if (status == 0 && br->term == n->raft.current_term) {
            n->ready_term = br->term;
            logf_(n, ST_LOG_INFO, "leader ready: barrier applied at index %llu",
                  (unsigned long long)raft_last_applied(&n->raft));
        }
    } else {
        finish(br->op, raft_to_st(status), NULL, status == 0 ? raft_last_applied(&n->raft) : 0);
    }
    free(br);
}

static int submit_barrier(st_node *n, op *o) {
    barrier_req *br = calloc(1, sizeof(*br));
    if (br == NULL) {
        return ST_ENOMEM;
    }
    br->node = n;
    br->op = o;
    br->term = n->raft.current_term;
    br->req.data = br;
    int rv = raft_barrier(&n->raft, &br->req, barrier_cb);
    if (rv != 0) {
        free(br);
        return raft_to_st(rv);
    }
    n->in_flight++;
    return ST_OK;
}

/* ---------------------------------------------------------------- membership */

static void change_cb(struct raft_change *req, int status) {
    change_req *cr = req->data;
    st_node *n = cr->node;
    n->in_flight--;
    if (status == 0 && cr->promote) {
        /* Added as a spare: now make it a voter (raft catches it up first). */
        cr->promote = false;
        int rv = raft_assign(&n->raft, &cr->req, cr->op->id, RAFT_VOTER, change_cb);
        if (rv == 0) {
            n->in_flight++;
            return;
        }
        status = rv;
    }
    if (status != 0) {
        logf_(n, ST_LOG_WARN, "membership change for node %llu: %s", (unsigned long long)cr->op->id,
              raft_strerror(status));
    } else {
        logf_(n, ST_LOG_INFO, "membership change for node %llu committed",
              (unsigned long long)cr->op->id);
    }
    finish(cr->op, raft_to_st(status), NULL, 0);
    free(cr);
}

static void transfer_cb(struct raft_transfer *req) {
    transfer_req *tr = req->data;
    st_node *n = tr->node;
    n->in_flight--;
    raft_id leader;
    const char *addr;
    raft_leader(&n->raft, &leader, &addr);
    /* Success means someone else leads now (and the chosen one, if one was named). */
    bool ok = leader != 0 && leader != n->cfg.id && (tr->op->id == 0 || leader == tr->op->id);
    logf_(n, ok ? ST_LOG_INFO : ST_LOG_WARN, "leadership transfer: leader is now %llu",
          (unsigned long long)leader);
    finish(tr->op, ok ? ST_OK : ST_EUNKNOWN, NULL, 0);
    free(tr);
}

static void run_membership(st_node *n, op *o) {
    int rv;
    if (o->kind == OP_TRANSFER) {
        transfer_req *tr = calloc(1, sizeof(*tr));
        if (tr == NULL) {
            finish(o, ST_ENOMEM, NULL, 0);
            return;
        }
        tr->node = n;
        tr->op = o;
        tr->req.data = tr;
        rv = raft_transfer(&n->raft, &tr->req, o->id, transfer_cb);
        if (rv == 0) {
            n->in_flight++;
            return;
        }
        free(tr);
    } else {
        change_req *cr = calloc(1, sizeof(*cr));
        if (cr == NULL) {
            finish(o, ST_ENOMEM, NULL, 0);
            return;
        }
        cr->node = n;
        cr->op = o;
        cr->req.data = cr;
        if (o->kind == OP_ADD) {
            cr->promote = true;
            rv = raft_add(&n->raft, &cr->req, o->id, o->address, change_cb);
        } else {
            rv = raft_remove(&n->raft, &cr->req, o->id, change_cb);
        }
        if (rv == 0) {
            n->in_flight++;
            return;
        }
        free(cr);
    }
    logf_(n, ST_LOG_WARN, "membership request for node %llu refused: %s", (unsigned long long)o->id,
          raft_why(n, rv));
    finish(o, raft_to_st(rv), NULL, 0);
}

/* ---------------------------------------------------------------- the loop */

static bool is_leader(st_node *n) {
    return raft_state(&n->raft) == RAFT_LEADER;
}

static bool is_ready(st_node *n) {
    return is_leader(n) && n->ready_term == n->raft.current_term;
}

static void close_transport(st_node *n) {
    if (n->secure) {
        st_secure_transport_close(&n->transport);
    } else {
        raft_uv_tcp_close(&n->transport);
    }
}

static void close_cb(struct raft *r) {
    st_node *n = r->data;
    st_io_guard_close(n->guard);
    raft_uv_close(&n->io);
    close_transport(n);
    uv_close((uv_handle_t *)&n->wake, NULL);
    uv_close((uv_handle_t *)&n->check, NULL);
    uv_close((uv_handle_t *)&n->tick, NULL);
    n->closed = true;
}

static void begin_close(st_node *n) {
    if (n->closing) {
        return;
    }
    n->closing = true;
    if (n->in_flight > 0) {
        logf_(n, ST_LOG_WARN, "closing with %zu requests still in flight", n->in_flight);
    }
    raft_close(&n->raft, close_cb);
}

/* While stopping, keeps the loop turning so check_cb can see in-flight work drain. */
static void noop_timer_cb(uv_timer_t *t) {
    (void)t;
}

static void wake_cb(uv_async_t *h) {
    st_node *n = h->data;
    pthread_mutex_lock(&n->mu);
    op *list = list_take_all(&n->queue);
    bool stopping = n->stopping;
    pthread_mutex_unlock(&n->mu);

    if (stopping) {
        fail_all(list, ST_ESHUTDOWN);
        fail_all(list_take_all(&n->held), ST_ESHUTDOWN);
        if (n->stop_deadline == 0) {
            n->stop_deadline = uv_now(&n->loop) + STOP_GRACE_MS;
            uv_timer_start(&n->tick, noop_timer_cb, 20, 20);
        }
        return;
    }

    op_list proposals = {0};
    while (list != NULL) {
        op *o = list;
        list = o->next;
        if (n->failed && (o->kind == OP_PROPOSE || o->kind == OP_BARRIER)) {
            finish(o, ST_ESHUTDOWN, NULL, 0); /* about to be stopped (storage failure) */
            continue;
        }
        switch (o->kind) {
        case OP_PROPOSE:
            if (!is_leader(n)) {
                finish(o, ST_ENOTLEADER, NULL, 0);
            } else if (!is_ready(n)) {
                list_push(&n->held, o);
            } else {
                list_push(&proposals, o);
            }
            break;
        case OP_BARRIER:
            if (!is_leader(n)) {
                finish(o, ST_ENOTLEADER, NULL, 0);
            } else if (!is_ready(n)) {
                list_push(&n->held, o);
            } else {
                int rc = submit_barrier(n, o);
                if (rc != ST_OK) {
                    finish(o, rc, NULL, 0);
                }
            }
            break;
        default:
            run_membership(n, o);
            break;
        }
    }
    if (proposals.head != NULL) {
        submit_proposals(n, proposals.head);
    }
}

static void publish_status(st_node *n) {
    struct raft *r = &n->raft;
    st_node_status s;
    memset(&s, 0, sizeof(s));
    s.id = n->cfg.id;
    switch (raft_state(r)) {
    case RAFT_LEADER:
        s.role = ST_ROLE_LEADER;
        break;
    case RAFT_CANDIDATE:
        s.role = ST_ROLE_CANDIDATE;
        break;
    case RAFT_FOLLOWER:
        s.role = ST_ROLE_FOLLOWER;
        break;
    default:
        s.role = ST_ROLE_UNAVAILABLE;
    }
    s.ready = is_ready(n);
    s.term = r->current_term;
    raft_id leader = 0;
    const char *addr = NULL;
    raft_leader(r, &leader, &addr);
    s.leader_id = leader;
    if (addr != NULL) {
        snprintf(s.leader_address, sizeof(s.leader_address), "%s", addr);
    }
    s.commit_index = r->commit_index;
    s.applied_index = raft_last_applied(r);
    s.last_index = raft_last_index(r);
    for (unsigned i = 0; i < r->configuration.n && s.n_members < ST_NODE_MEMBERS_MAX; i++) {
        st_member *m = &s.members[s.n_members++];
        m->id = r->configuration.servers[i].id;
        snprintf(m->address, sizeof(m->address), "%s", r->configuration.servers[i].address);
        m->raft_role = r->configuration.servers[i].role;
    }
    st_fsm_adapter_stats(n->adapter, &s.fsm);
    s.storage_failed = n->failed;
    snprintf(s.failure, sizeof(s.failure), "%s", n->failure);
    s.queued = n->held.n;
    if (n->secure) {
        st_secure_transport_stats(&n->transport, &s.transport);
    }
    pthread_mutex_lock(&n->mu);
    s.queued += n->queue.n;
    n->status = s;
    pthread_mutex_unlock(&n->mu);
}

/* After every loop iteration: readiness, held proposals, status, and shutdown. */
static void check_cb(uv_check_t *h) {
    st_node *n = h->data;
    if (n->closing) {
        return;
    }
    st_fsm_stats fs;
    st_fsm_adapter_stats(n->adapter, &fs);
    if (fs.apply_failures + fs.restore_failures > n->apply_failures) {
        n->apply_failures = fs.apply_failures + fs.restore_failures;
        char what[200];
        snprintf(what, sizeof(what),
                 "the state machine could not store entry %llu (its error is logged above)",
                 (unsigned long long)fs.failed_index);
        storage_failure(n, what);
    }
    if (n->failed && n->held.head != NULL) {
        fail_all(list_take_all(&n->held), ST_ESHUTDOWN);
    }
    if (n->stop_deadline != 0) {
        if (n->in_flight == 0 || uv_now(&n->loop) >= n->stop_deadline) {
            begin_close(n);
        }
        return;
    }
    if (is_leader(n)) {
        if (!is_ready(n) && !n->barrier_pending) {
            if (submit_barrier(n, NULL) == ST_OK) {
                n->barrier_pending = true;
            }
        }
        if (is_ready(n) && n->held.head != NULL) {
            op *list = list_take_all(&n->held);
            op_list proposals = {0};
            while (list != NULL) {
                op *o = list;
                list = o->next;
                if (o->kind == OP_BARRIER) {
                    int rc = submit_barrier(n, o);
                    if (rc != ST_OK) {
                        finish(o, rc, NULL, 0);
                    }
                } else {
                    list_push(&proposals, o);
                }
            }
            if (proposals.head != NULL) {
                submit_proposals(n, proposals.head);
            }
        }
    } else if (n->held.head != NULL) {
        /* Lost leadership before becoming ready: these never entered the log. */
        fail_all(list_take_all(&n->held), ST_ENOTLEADER);
    }
    publish_status(n);
}

static void *loop_main(void *arg) {
    st_node *n = arg;
    uv_run(&n->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* ---------------------------------------------------------------- public API */

int st_node_new(const st_node_config *cfg, const st_fsm *fsm, st_node **out, char *err,
                size_t errlen) {
    if (cfg->id == 0 || cfg->raft_address == NULL || cfg->data_dir == NULL ||
        strlen(cfg->raft_address) >= ST_NODE_ADDRESS_MAX ||
        strlen(cfg->data_dir) >= sizeof(((st_node *)0)->data_dir)) {
        return st_fail(err, errlen, ST_EINVAL,
                       "node config needs an id >= 1, a Raft address and a data directory");
    }
    if (cfg->n_bootstrap > ST_NODE_MEMBERS_MAX) {
        return st_fail(err, errlen, ST_ERANGE, "at most %d bootstrap members", ST_NODE_MEMBERS_MAX);
    }
    st_node *n = calloc(1, sizeof(*n));
    if (n == NULL) {
        return st_fail(err, errlen, ST_ENOMEM, "out of memory");
    }
    n->cfg = *cfg;
    if (cfg->node_sk != NULL && cfg->node_pk != NULL && cfg->trust != NULL) {
        n->secure = true;
        memcpy(n->sk, cfg->node_sk, sizeof(n->sk));
        memcpy(n->pk, cfg->node_pk, sizeof(n->pk));
    }
    n->cfg.node_sk = n->cfg.node_pk = NULL;
    snprintf(n->raft_address, sizeof(n->raft_address), "%s", cfg->raft_address);
    snprintf(n->data_dir, sizeof(n->data_dir), "%s", cfg->data_dir);
    n->cfg.raft_address = n->raft_address;
    n->cfg.data_dir = n->data_dir;
    if (cfg->n_bootstrap > 0) {
        n->bootstrap = calloc(cfg->n_bootstrap, sizeof(*n->bootstrap));
        if (n->bootstrap == NULL) {
            free(n);
            return st_fail(err, errlen, ST_ENOMEM, "out of memory");
        }
        memcpy(n->bootstrap, cfg->bootstrap, cfg->n_bootstrap * sizeof(*n->bootstrap));
        n->cfg.bootstrap = n->bootstrap;
    }
    n->fsm = *fsm;
    if (st_fsm_adapter_new(&n->fsm, &n->adapter) != ST_OK) {
        free(n->bootstrap);
        free(n);
        return st_fail(err, errlen, ST_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&n->mu, NULL);
    *out = n;
    return ST_OK;
}

int st_node_start(st_node *n, char *err, size_t errlen) {
    int rv;
    /* A peer going away must not kill the process (STACK.md bug 2). */
    signal(SIGPIPE, SIG_IGN);
    if (uv_loop_init(&n->loop) != 0) {
        return st_fail(err, errlen, ST_EIO, "cannot create the event loop");
    }
    n->wake.data = n->check.data = n->tick.data = n;
    uv_async_init(&n->loop, &n->wake, wake_cb);
    uv_check_init(&n->loop, &n->check);
    uv_check_start(&n->check, check_cb);
    uv_timer_init(&n->loop, &n->tick);

    if (n->secure) {
        st_secure_config sc = {
            .id = n->cfg.id,
            .sk = n->sk,
            .pk = n->pk,
            .trust = n->cfg.trust,
            .trust_ctx = n->cfg.trust_ctx,
            .log = transport_log,
            .log_ctx = n,
        };
        rv = st_secure_transport_init(&n->transport, &n->loop, &sc);
        if (rv != ST_OK) {
            st_fail(err, errlen, rv, "the Raft transport cannot start");
            goto fail_loop;
        }
    } else {
        rv = raft_uv_tcp_init(&n->transport, &n->loop);
        if (rv != 0) {
            goto fail_loop;
        }
    }
    rv = raft_uv_init(&n->io, &n->loop, n->data_dir, &n->transport);
    if (rv != 0) {
        st_fail(err, errlen, ST_EIO, "raft storage in %s: %s", n->data_dir, n->io.errmsg);
        goto fail_transport; /* raft_uv_init cleans up after itself */
    }
    wrap_io(n);
    n->guard = st_io_guard_new(&n->io, &n->loop);
    if (n->guard == NULL) {
        rv = RAFT_NOMEM;
        st_fail(err, errlen, ST_ENOMEM, "out of memory");
        goto fail_io;
    }
    rv = raft_init(&n->raft, st_io_guard_io(n->guard), st_fsm_adapter_raft(n->adapter), n->cfg.id,
                   n->raft_address);
    if (rv != 0) {
        st_fail(err, errlen, ST_EIO, "raft init: %s", raft_errmsg(&n->raft));
        goto fail_io;
    }
    n->raft.data = n;
    st_fsm_adapter_bind(n->adapter, &n->raft);
    raft_set_election_timeout(&n->raft,
                              n->cfg.election_timeout_ms ? n->cfg.election_timeout_ms : 1000);
    raft_set_heartbeat_timeout(&n->raft,
                               n->cfg.heartbeat_timeout_ms ? n->cfg.heartbeat_timeout_ms : 100);
    raft_set_snapshot_threshold(&n->raft,
                                n->cfg.snapshot_threshold ? n->cfg.snapshot_threshold : 1024);
    raft_set_snapshot_trailing(&n->raft,
                               n->cfg.snapshot_trailing ? n->cfg.snapshot_trailing : 2048);
    raft_set_install_snapshot_timeout(
        &n->raft, n->cfg.install_snapshot_timeout_ms ? n->cfg.install_snapshot_timeout_ms : 10000);
    raft_set_pre_vote(&n->raft, n->cfg.pre_vote);

    if (n->cfg.n_bootstrap > 0) {
        struct raft_configuration conf;
        raft_configuration_init(&conf);
        for (size_t i = 0; i < n->cfg.n_bootstrap && rv == 0; i++) {
            rv = raft_configuration_add(&conf, n->bootstrap[i].id, n->bootstrap[i].address,
                                        RAFT_VOTER);
        }
        if (rv == 0) {
            rv = raft_bootstrap(&n->raft, &conf);
            if (rv == RAFT_CANTBOOTSTRAP) {
                rv = 0; /* state exists already: start from it */
            } else if (rv == 0) {
                logf_(n, ST_LOG_INFO, "bootstrapped a cluster of %zu voters", n->cfg.n_bootstrap);
            }
        }
        raft_configuration_close(&conf);
        if (rv != 0) {
            st_fail(err, errlen, ST_EIO, "bootstrap: %s", raft_strerror(rv));
            goto fail_raft;
        }
    }
    rv = raft_start(&n->raft);
    if (rv != 0) {
        st_fail(err, errlen, ST_EIO, "raft start: %s", raft_errmsg(&n->raft));
        goto fail_raft;
    }
    n->started = true;
    publish_status(n);
    if (pthread_create(&n->thread, NULL, loop_main, n) != 0) {
        /* Raft runs but no thread drives it: close it on this thread. */
        n->stopping = true;
        begin_close(n);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        uv_loop_close(&n->loop);
        return st_fail(err, errlen, ST_ENOMEM, "cannot start the loop thread");
    }
    n->thread_running = true;
    logf_(n, ST_LOG_INFO, "node %llu started on %s, data in %s", (unsigned long long)n->cfg.id,
          n->raft_address, n->data_dir);
    return ST_OK;

fail_raft:
    /* raft_init succeeded: raft_close releases it, then close_cb releases the I/O, the
     * transport and the handles. */
    raft_close(&n->raft, close_cb);
    goto drain;
fail_io:
    st_io_guard_close(n->guard);
    raft_uv_close(&n->io);
fail_transport:
    close_transport(n);
fail_loop:
    uv_close((uv_handle_t *)&n->wake, NULL);
    uv_close((uv_handle_t *)&n->check, NULL);
    uv_close((uv_handle_t *)&n->tick, NULL);
drain:
    uv_run(&n->loop, UV_RUN_DEFAULT);
    uv_loop_close(&n->loop);
    if (err != NULL && err[0] == '\0') {
        st_fail(err, errlen, ST_EIO, "raft: %s", raft_strerror(rv));
    }
    return ST_EIO;
}

void st_node_stop(st_node *n) {
    if (n == NULL || !n->thread_running) {
        return;
    }
    pthread_mutex_lock(&n->mu);
    n->stopping = true;
    pthread_mutex_unlock(&n->mu);
    uv_async_send(&n->wake);
    pthread_join(n->thread, NULL);
    n->thread_running = false;
    uv_loop_close(&n->loop);
    logf_(n, ST_LOG_INFO, "node %llu stopped", (unsigned long long)n->cfg.id);
}

void st_node_free(st_node *n) {
    if (n == NULL) {
        return;
    }
    st_node_stop(n);
    fail_all(list_take_all(&n->queue), ST_ESHUTDOWN);
    fail_all(list_take_all(&n->held), ST_ESHUTDOWN);
    pthread_mutex_destroy(&n->mu);
    st_io_guard_free(n->guard);
    st_fsm_adapter_free(n->adapter);
    free(n->bootstrap);
    sodium_memzero(n->sk, sizeof(n->sk));
    free(n);
}

static int enqueue(st_node *n, op *o) {
    pthread_mutex_lock(&n->mu);
    if (n->stopping || !n->thread_running) {
        pthread_mutex_unlock(&n->mu);
        free(o);
        return ST_ESHUTDOWN;
    }
    if (n->queue.n >= ST_NODE_QUEUE_MAX) {
        pthread_mutex_unlock(&n->mu);
        free(o);
        return ST_EBUSY;
    }
    list_push(&n->queue, o);
    pthread_mutex_unlock(&n->mu);
    uv_async_send(&n->wake);
    return ST_OK;
}

static op *new_op(op_kind kind, size_t len, st_node_cb cb, void *arg) {
    op *o = calloc(1, sizeof(*o) + len);
    if (o != NULL) {
        o->kind = kind;
        o->cb = cb;
        o->arg = arg;
        o->len = len;
    }
    return o;
}

int st_node_propose(st_node *n, const uint8_t *cmd, size_t len, st_node_cb cb, void *arg) {
    if (len == 0 || len > ST_BATCH_MAX_BYTES - 9) {
        return ST_EINVAL;
    }
    op *o = new_op(OP_PROPOSE, len, cb, arg);
    if (o == NULL) {
        return ST_ENOMEM;
    }
    memcpy(o->data, cmd, len);
    return enqueue(n, o);
}

int st_node_barrier(st_node *n, st_node_cb cb, void *arg) {
    op *o = new_op(OP_BARRIER, 0, cb, arg);
    return o == NULL ? ST_ENOMEM : enqueue(n, o);
}

int st_node_add(st_node *n, uint64_t id, const char *address, st_node_cb cb, void *arg) {
    if (id == 0 || address == NULL || strlen(address) >= ST_NODE_ADDRESS_MAX) {
        return ST_EINVAL;
    }
    op *o = new_op(OP_ADD, 0, cb, arg);
    if (o == NULL) {
        return ST_ENOMEM;
    }
    o->id = id;
    snprintf(o->address, sizeof(o->address), "%s", address);
    return enqueue(n, o);
}

int st_node_remove(st_node *n, uint64_t id, st_node_cb cb, void *arg) {
    op *o = new_op(OP_REMOVE, 0, cb, arg);
    if (o == NULL) {
        return ST_ENOMEM;
    }
    o->id = id;
    return enqueue(n, o);
}

int st_node_transfer(st_node *n, uint64_t id, st_node_cb cb, void *arg) {
    op *o = new_op(OP_TRANSFER, 0, cb, arg);
    if (o == NULL) {
        return ST_ENOMEM;
    }
    o->id = id;
    return enqueue(n, o);
}

void st_node_get_status(st_node *n, st_node_status *out) {
    pthread_mutex_lock(&n->mu);
    *out = n->status;
    pthread_mutex_unlock(&n->mu);
}
