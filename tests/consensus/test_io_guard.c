/* test_io_guard.c - the raft_io guard (consensus/io_guard.h) in front of a recording fake
 * raft_io, on a real libuv loop: a truncation or snapshot store is issued only when no
 * earlier one can still hold a barrier inside raft_uv, appends issued after a held one wait
 * behind it in order, the first append after a truncation tells when it is over, a store is
 * over on the loop iteration after its callback, everything else passes straight through,
 * close cancels what waits, and close waits for a truncation under way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "consensus/io_guard.h"
#include "tests/core/check.h"

/* ---- a raft_io that records the calls it gets and keeps their callbacks ---- */

#define MAX_CALLS 64

typedef struct {
    struct raft_io io;
    char log[MAX_CALLS][32]; /* "append 7", "truncate 5", "put 0" */
    int n_log;
    struct raft_io_append *appends[MAX_CALLS]; /* outstanding, as raft_uv would hold them */
    int n_appends;
    struct raft_io_snapshot_put *put;
    int truncate_rv;
    raft_io_tick_cb tick;
    raft_io_recv_cb recv;
    raft_io_close_cb close_cb;
} fake;

static fake *fake_of(struct raft_io *io) {
    return io->impl;
}

static int f_append(struct raft_io *io, struct raft_io_append *req,
                    const struct raft_entry entries[], unsigned n, raft_io_append_cb cb) {
    fake *f = fake_of(io);
    (void)n;
    req->cb = cb;
    f->appends[f->n_appends++] = req;
    snprintf(f->log[f->n_log++], 32, "append %llu", (unsigned long long)entries[0].term);
    return 0;
}

static int f_truncate(struct raft_io *io, raft_index index) {
    fake *f = fake_of(io);
    if (f->truncate_rv != 0) {
        snprintf(io->errmsg, sizeof(io->errmsg), "truncate failed");
        return f->truncate_rv;
    }
    snprintf(f->log[f->n_log++], 32, "truncate %llu", (unsigned long long)index);
    return 0;
}

static int f_put(struct raft_io *io, unsigned trailing, struct raft_io_snapshot_put *req,
                 const struct raft_snapshot *snapshot, raft_io_snapshot_put_cb cb) {
    fake *f = fake_of(io);
    (void)snapshot;
    CHECK(f->put == NULL); /* never two stores at once */
    req->cb = cb;
    f->put = req;
    snprintf(f->log[f->n_log++], 32, "put %u", trailing);
    return 0;
}

static int f_set_term(struct raft_io *io, raft_term term) {
    (void)term;
    snprintf(io->errmsg, sizeof(io->errmsg), "disk full");
    return RAFT_IOERR;
}

static int f_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv) {
    fake *f = fake_of(io);
    (void)msecs;
    f->tick = tick;
    f->recv = recv;
    return 0;
}

static void f_close(struct raft_io *io, raft_io_close_cb cb) {
    fake *f = fake_of(io);
    f->close_cb = cb;
    snprintf(f->log[f->n_log++], 32, "close");
}

static void fake_init(fake *f) {
    memset(f, 0, sizeof(*f));
    f->io.version = 1;
    f->io.impl = f;
    f->io.append = f_append;
    f->io.truncate = f_truncate;
    f->io.snapshot_put = f_put;
    f->io.set_term = f_set_term;
    f->io.start = f_start;
    f->io.close = f_close;
}

/* raft_uv completes the oldest outstanding append. */
static void complete_append(fake *f, int status) {
    CHECK(f->n_appends > 0);
    struct raft_io_append *req = f->appends[0];
    memmove(f->appends, f->appends + 1, (size_t)(f->n_appends - 1) * sizeof(f->appends[0]));
    f->n_appends--;
    req->cb(req, status);
}

static void complete_put(fake *f, int status) {
    struct raft_io_snapshot_put *req = f->put;
    CHECK(req != NULL);
    f->put = NULL;
    req->cb(req, status);
}

static void check_log(const fake *f, int i, const char *want) {
    CHECK(i < f->n_log);
    CHECK_STR(f->log[i], want);
}

/* ---- what Raft sees ---- */

typedef struct {
    struct raft_io_append req;
    int done, status;
} my_append;

typedef struct {
    struct raft_io_snapshot_put req;
    int done, status;
} my_put;

static void my_append_cb(struct raft_io_append *req, int status) {
    my_append *a = (my_append *)req;
    CHECK(req->data == (void *)a); /* Raft's own request comes back, data untouched */
    a->done++;
    a->status = status;
}

static void my_put_cb(struct raft_io_snapshot_put *req, int status) {
    my_put *p = (my_put *)req;
    CHECK(req->data == (void *)p);
    p->done++;
    p->status = status;
}

static int append(struct raft_io *io, my_append *a, raft_term term) {
    static struct raft_entry e[8];
    memset(a, 0, sizeof(*a));
    a->req.data = a;
    e[term % 8].term = term;
    return io->append(io, &a->req, &e[term % 8], 1, my_append_cb);
}

static int put(struct raft_io *io, my_put *p, unsigned trailing) {
    static struct raft_snapshot snap;
    memset(p, 0, sizeof(*p));
    p->req.data = p;
    return io->snapshot_put(io, trailing, &p->req, &snap, my_put_cb);
}

static void run_once(uv_loop_t *loop) {
    uv_run(loop, UV_RUN_NOWAIT);
}

static int closed_with;
static struct raft_io *closed_io;
static void my_close_cb(struct raft_io *io) {
    closed_io = io;
    closed_with++;
}

static struct raft_io *ticked;
static void my_tick(struct raft_io *io) {
    ticked = io;
}
static void my_recv(struct raft_io *io, struct raft_message *m) {
    (void)io;
    (void)m;
}

int main(void) {
    uv_loop_t loop;
    CHECK(uv_loop_init(&loop) == 0);
    fake f;
    fake_init(&f);
    st_io_guard *g = st_io_guard_new(&f.io, &loop);
    CHECK(g != NULL);
    struct raft_io *io = st_io_guard_io(g);

    /* Callbacks raft_uv makes with its own io reach Raft with the guard's. */
    CHECK(io->start(io, 100, my_tick, my_recv) == 0);
    f.tick(&f.io);
    CHECK(ticked == io);
    /* A failure's message is Raft's to read in the io it knows. */
    CHECK_EQ(io->set_term(io, 3), RAFT_IOERR);
    CHECK_STR(io->errmsg, "disk full");
    printf("calls pass through; callbacks and error messages carry the guard's io\n");

    /* Nothing outstanding: an append goes straight through, its callback is Raft's. */
    my_append a1, a2, a3, a4, a5;
    CHECK(append(io, &a1, 1) == 0);
    check_log(&f, 0, "append 1");
    CHECK(f.appends[0] == &a1.req);
    complete_append(&f, 0);
    CHECK_EQ(a1.done, 1);

    /* A store is outstanding: a truncation waits, with the append issued after it; another
     * append issued before anything waits would go on, but here one waits already. */
    my_put p1, p2;
    CHECK(put(io, &p1, 128) == 0);
    check_log(&f, 1, "put 128");
    CHECK(io->truncate(io, 40) == 0);
    CHECK(append(io, &a2, 2) == 0);
    CHECK(append(io, &a3, 3) == 0);
    CHECK_EQ(f.n_log, 2);
    CHECK_EQ(st_io_guard_waiting(g), 3);
    printf("during a snapshot store a truncation waits, with the appends after it\n");

    /* The store's callback: raft_uv still holds its barrier until the callback returns, so
     * nothing is issued yet; on the next loop iteration the truncation and both appends go,
     * in order, the first append standing as the truncation's witness. */
    complete_put(&f, 0);
    CHECK_EQ(p1.done, 1);
    CHECK_EQ(f.n_log, 2);
    run_once(&loop);
    CHECK_EQ(f.n_log, 5);
    check_log(&f, 2, "truncate 40");
    check_log(&f, 3, "append 2");
    check_log(&f, 4, "append 3");
    CHECK(f.appends[0] != &a2.req); /* the guard's stand-in */
    CHECK(f.appends[1] == &a3.req);
    CHECK_EQ(st_io_guard_waiting(g), 0);
    printf("after the store's callback and one loop iteration they go, in order\n");

    /* The truncation is outstanding: a store waits, and appends after it wait too, until
     * the first append after the truncation completes. */
    CHECK(put(io, &p2, 0) == 0);
    CHECK(append(io, &a4, 4) == 0);
    CHECK_EQ(f.n_log, 5);
    CHECK_EQ(st_io_guard_waiting(g), 2);
    complete_append(&f, 0); /* the witness: a2 */
    CHECK_EQ(a2.done, 1);
    CHECK_EQ(a2.status, 0);
    run_once(&loop);
    CHECK_EQ(f.n_log, 7);
    check_log(&f, 5, "put 0");
    check_log(&f, 6, "append 4");
    printf("during a truncation a store waits until the first append after it completes\n");

    /* A truncation while the store is outstanding, whose issue then fails: later appends
     * are refused rather than written at the wrong place. */
    CHECK(io->truncate(io, 50) == 0);
    f.truncate_rv = RAFT_NOMEM;
    complete_append(&f, 0); /* a3 */
    complete_append(&f, 0); /* a4 */
    CHECK(a3.done == 1 && a4.done == 1);
    complete_put(&f, 0);
    CHECK_EQ(p2.done, 1);
    run_once(&loop);
    CHECK_EQ(f.n_log, 7);
    CHECK_EQ(append(io, &a5, 5), RAFT_IOERR);
    printf("a held truncation that cannot be issued stops later appends\n");

    /* Close: what waits is cancelled, then the inner io closes; its callback reaches Raft
     * with the guard's io. */
    fake f2;
    fake_init(&f2);
    st_io_guard *g2 = st_io_guard_new(&f2.io, &loop);
    struct raft_io *io2 = st_io_guard_io(g2);
    my_put p3;
    my_append a6;
    CHECK(put(io2, &p3, 64) == 0);
    CHECK(io2->truncate(io2, 9) == 0);
    CHECK(append(io2, &a6, 6) == 0);
    CHECK_EQ(st_io_guard_waiting(g2), 2);
    io2->close(io2, my_close_cb);
    CHECK_EQ(a6.done, 1);
    CHECK_EQ(a6.status, RAFT_CANCELED);
    CHECK_STR(f2.log[f2.n_log - 1], "close");
    complete_put(&f2, RAFT_CANCELED);
    CHECK_EQ(p3.status, RAFT_CANCELED);
    f2.close_cb(&f2.io);
    CHECK(closed_with == 1 && closed_io == io2);
    printf("close cancels what waits and hands the inner close back to Raft\n");

    /* Close while a truncation runs inside raft_uv: raft_uv is closed only once the append
     * behind the truncation has completed (raft_uv 0.15 would free the running
     * truncation's request otherwise). */
    fake f3;
    fake_init(&f3);
    st_io_guard *g3 = st_io_guard_new(&f3.io, &loop);
    struct raft_io *io3 = st_io_guard_io(g3);
    my_append a7;
    CHECK(io3->truncate(io3, 12) == 0);
    CHECK(append(io3, &a7, 7) == 0);
    check_log(&f3, 0, "truncate 12");
    check_log(&f3, 1, "append 7");
    io3->close(io3, my_close_cb);
    CHECK_EQ(f3.n_log, 2); /* not closed yet */
    complete_append(&f3, 0);
    CHECK_EQ(a7.done, 1);
    CHECK_STR(f3.log[2], "close");
    f3.close_cb(&f3.io);
    CHECK(closed_with == 2 && closed_io == io3);
    printf("close during a truncation waits for it to end\n");

    st_io_guard_close(g);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    st_io_guard_free(g);
    st_io_guard_free(g2);
    st_io_guard_free(g3);
    printf("ok\n");
    return 0;
}
