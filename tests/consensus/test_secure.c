/* test_secure.c - the authenticated, encrypted Raft transport (consensus/secure.h) on one
 * libuv loop, without raft: bytes written on one side's stream arrive intact on the other
 * (both ways, many frames); a node whose key is not trusted for its id is refused on both
 * sides and never reaches raft; a peer that does not speak the handshake, or says nothing,
 * is refused; and a single bit flipped in flight by a relay closes the connection with
 * "failed authentication" logged, after delivering only bytes sent before it.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consensus/node.h"
#include "consensus/secure.h"
#include "core/error.h"
#include "tests/core/check.h"

#define BIG (300 * 1024)

static uv_loop_t loop;
static int base_port;

typedef struct {
    uint8_t pk[32], sk[64];
} key;

static key keys[4]; /* 1, 2: trusted for ids 1, 2; 3: nobody's */

static int trust(void *ctx, uint64_t id, const uint8_t pk[32], char *why, size_t cap) {
    (void)ctx;
    if (id >= 1 && id <= 2 && memcmp(pk, keys[id].pk, 32) == 0) {
        return ST_OK;
    }
    snprintf(why, cap, "node %llu: key not trusted", (unsigned long long)id);
    return ST_EAUTH;
}

static char logbuf[8192];

static void log_line(void *ctx, int level, const char *msg) {
    (void)ctx;
    (void)level;
    size_t n = strlen(logbuf);
    snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

static void addr_of(int i, char *out, size_t cap) {
    snprintf(out, cap, "127.0.0.1:%d", base_port + i);
}

/* A transport for id with key k (secure) or plain raft TCP (k NULL). */
static void make(struct raft_uv_transport *t, uint64_t id, const key *k, char *addr) {
    if (k != NULL) {
        st_secure_config c = {.id = id,
                              .sk = k->sk,
                              .pk = k->pk,
                              .trust = trust,
                              .handshake_ms = 400,
                              .log = log_line};
        CHECK_EQ(st_secure_transport_init(t, &loop, &c), ST_OK);
    } else {
        CHECK_EQ(raft_uv_tcp_init(t, &loop), 0);
    }
    CHECK_EQ(t->init(t, id, addr), 0);
}

/* ---- the receiving side: collects what arrives on accepted streams */

typedef struct {
    uv_stream_t *stream;
    uint64_t id;
    uint8_t *got;
    size_t n;
    bool eof;
} rx;

static rx rxs[8];
static int n_rx;

static void rx_alloc(uv_handle_t *h, size_t s, uv_buf_t *b) {
    (void)h;
    (void)s;
    *b = uv_buf_init(malloc(65536), 65536);
}

static void rx_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
    rx *r = st->data;
    if (n > 0) {
        r->got = realloc(r->got, r->n + (size_t)n);
        memcpy(r->got + r->n, b->base, (size_t)n);
        r->n += (size_t)n;
    } else if (n < 0) {
        r->eof = true;
        uv_read_stop(st);
    }
    free(b->base);
}

static void on_accept(struct raft_uv_transport *t, raft_id id, const char *address,
                      uv_stream_t *stream) {
    (void)t;
    (void)address;
    CHECK(n_rx < 8);
    rx *r = &rxs[n_rx++];
    r->stream = stream;
    r->id = id;
    stream->data = r;
    CHECK_EQ(uv_read_start(stream, rx_alloc, rx_read), 0);
}

/* Node 3's own accepts: it trusts node 1, and may accept before node 1 refuses. */
static int other_accepts;
static void on_accept_other(struct raft_uv_transport *t, raft_id id, const char *address,
                            uv_stream_t *stream) {
    (void)t;
    (void)id;
    (void)address;
    other_accepts++;
    uv_close((uv_handle_t *)stream, (uv_close_cb)raft_free);
}

/* ---- the sending side */

typedef struct {
    struct raft_uv_connect req;
    bool done;
    int status;
    uv_stream_t *stream;
} tx;

static void on_connect(struct raft_uv_connect *req, uv_stream_t *stream, int status) {
    tx *x = req->data;
    x->done = true;
    x->status = status;
    x->stream = stream;
}

static void connect_to(struct raft_uv_transport *t, tx *x, uint64_t id, int port_index) {
    memset(x, 0, sizeof(*x));
    x->req.data = x;
    char a[64];
    addr_of(port_index, a, sizeof(a));
    CHECK_EQ(t->connect(t, &x->req, id, a, on_connect), 0);
}

static void written(uv_write_t *w, int status) {
    (void)status;
    free(w);
}

typedef struct {
    uv_write_t w;
    uint8_t data[];
} owned;

static void owned_written(uv_write_t *w, int status) {
    (void)status;
    free(w); /* w is the first member of owned */
}

/* Sends a copy of data (freed when written). */
static void send_copy(uv_stream_t *s, const uint8_t *data, size_t len) {
    owned *o = malloc(sizeof(*o) + len);
    memcpy(o->data, data, len);
    uv_buf_t b = uv_buf_init((char *)o->data, (unsigned)len);
    CHECK_EQ(uv_write(&o->w, s, &b, 1, owned_written), 0);
}

static void send_all(uv_stream_t *s, const uint8_t *data, size_t len) {
    uv_write_t *w = malloc(sizeof(*w));
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    CHECK_EQ(uv_write(w, s, &b, 1, written), 0);
}

/* Runs the loop until cond() or 5 s. */
static void run_until(bool (*cond)(void)) {
    uint64_t end = uv_now(&loop) + 5000;
    while (!cond() && uv_now(&loop) < end) {
        uv_run(&loop, UV_RUN_ONCE);
        uv_update_time(&loop);
    }
}

static void tick(uv_timer_t *t) {
    (void)t;
}

static void run_ms(unsigned ms) {
    uint64_t end = uv_now(&loop) + ms;
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, tick, ms, 0);
    while (uv_now(&loop) < end) {
        uv_run(&loop, UV_RUN_ONCE);
        uv_update_time(&loop);
    }
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
}

static tx *want_tx;
static rx *want_rx;
static size_t want_n;
static bool tx_done(void) {
    return want_tx->done;
}
static bool rx_has(void) {
    return want_rx->n >= want_n || want_rx->eof;
}
static bool rx_eof(void) {
    return want_rx->eof;
}
static int want_accepts;
static bool accepted(void) {
    return n_rx >= want_accepts;
}

/* ---- a relay that flips one bit of the client->server bytes at offset flip_at */

typedef struct {
    uv_tcp_t listener, down, up; /* down: from the client; up: to the server */
    uv_connect_t conn;
    size_t seen;
    size_t flip_at;
    bool up_ready;
} relay;

static relay rl;

static void relay_alloc(uv_handle_t *h, size_t s, uv_buf_t *b) {
    (void)h;
    (void)s;
    *b = uv_buf_init(malloc(65536), 65536);
}

static void relay_down_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
    (void)st;
    if (n > 0) {
        uint8_t *p = (uint8_t *)b->base;
        if (rl.flip_at >= rl.seen && rl.flip_at < rl.seen + (size_t)n) {
            p[rl.flip_at - rl.seen] ^= 0x10;
        }
        rl.seen += (size_t)n;
        send_copy((uv_stream_t *)&rl.up, p, (size_t)n);
    }
    free(b->base);
}

static void relay_up_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
    (void)st;
    if (n > 0) {
        send_copy((uv_stream_t *)&rl.down, (const uint8_t *)b->base, (size_t)n);
    }
    free(b->base);
}

static void relay_up_connected(uv_connect_t *c, int status) {
    (void)c;
    CHECK_EQ(status, 0);
    rl.up_ready = true;
    CHECK_EQ(uv_read_start((uv_stream_t *)&rl.down, relay_alloc, relay_down_read), 0);
    CHECK_EQ(uv_read_start((uv_stream_t *)&rl.up, relay_alloc, relay_up_read), 0);
}

static void relay_accept(uv_stream_t *l, int status) {
    CHECK_EQ(status, 0);
    uv_tcp_init(&loop, &rl.down);
    CHECK_EQ(uv_accept(l, (uv_stream_t *)&rl.down), 0);
    uv_tcp_init(&loop, &rl.up);
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", base_port + 1, &sa);
    CHECK_EQ(uv_tcp_connect(&rl.conn, &rl.up, (struct sockaddr *)&sa, relay_up_connected), 0);
}

static bool closed_cb_fired[8];
static void closed(struct raft_uv_transport *t) {
    closed_cb_fired[(intptr_t)t->data] = true;
}

int main(void) {
    CHECK(sodium_init() >= 0);
    base_port = 23000 + (int)(getpid() % 1500) * 10;
    CHECK_EQ(uv_loop_init(&loop), 0);
    for (int i = 1; i <= 3; i++) {
        crypto_sign_keypair(keys[i].pk, keys[i].sk);
    }
    char a1[64], a2[64], a3[64], a4[64];
    addr_of(1, a1, sizeof(a1));
    addr_of(2, a2, sizeof(a2));
    addr_of(3, a3, sizeof(a3));
    addr_of(4, a4, sizeof(a4));

    /* Node 1 listens; node 2 connects and sends BIG bytes; node 1 answers on the same
     * connection. */
    struct raft_uv_transport t1, t2, t3, tp;
    make(&t1, 1, &keys[1], a1);
    CHECK_EQ(t1.listen(&t1, on_accept), 0);
    make(&t2, 2, &keys[2], a2);
    tx x;
    connect_to(&t2, &x, 1, 1);
    want_tx = &x;
    run_until(tx_done);
    CHECK(x.done && x.status == 0 && x.stream != NULL);
    uint8_t *big = malloc(BIG), *back = malloc(BIG);
    randombytes_buf(big, BIG);
    randombytes_buf(back, BIG);
    send_all(x.stream, big, BIG);
    want_accepts = 1;
    run_until(accepted);
    CHECK_EQ(n_rx, 1);
    CHECK_EQ(rxs[0].id, 2);
    want_rx = &rxs[0];
    want_n = BIG;
    run_until(rx_has);
    CHECK_EQ(rxs[0].n, BIG);
    CHECK(memcmp(rxs[0].got, big, BIG) == 0);
    /* The other way. */
    rx back_rx = {0};
    x.stream->data = &back_rx;
    CHECK_EQ(uv_read_start(x.stream, rx_alloc, rx_read), 0);
    send_all(rxs[0].stream, back, BIG);
    want_rx = &back_rx;
    run_until(rx_has);
    CHECK_EQ(back_rx.n, BIG);
    CHECK(memcmp(back_rx.got, back, BIG) == 0);
    st_secure_stats s1;
    st_secure_transport_stats(&t1, &s1);
    CHECK_EQ(s1.accepted, 1);
    CHECK_EQ(s1.bytes_in, BIG);
    CHECK_EQ(s1.bytes_out, BIG);
    printf("2 -> 1 and back: %d bytes each way intact, in frames of at most 64 KiB\n", BIG);

    /* Node 3's key is nobody's: both sides refuse, raft never sees it. */
    make(&t3, 3, &keys[3], a3);
    tx x3;
    connect_to(&t3, &x3, 1, 1);
    want_tx = &x3;
    run_until(tx_done);
    /* Node 3 trusts node 1, and may finish its side before node 1 refuses it: node 1's
     * refusal is what counts. */
    CHECK(x3.done);
    run_ms(100);
    CHECK_EQ(n_rx, 1);
    st_secure_transport_stats(&t1, &s1);
    CHECK_EQ(s1.refused, 1);
    CHECK_HAS(logbuf, "refused node 3 (127.0.0.1");
    CHECK_HAS(logbuf, "node 3: key not trusted");
    /* Node 3 claiming to be node 2 (with its own key) is refused too. */
    struct raft_uv_transport t3b;
    make(&t3b, 2, &keys[3], a4);
    tx x3b;
    connect_to(&t3b, &x3b, 1, 1);
    want_tx = &x3b;
    run_until(tx_done);
    CHECK(x3b.done);
    run_ms(100);
    st_secure_transport_stats(&t1, &s1);
    CHECK_EQ(s1.refused, 2);
    CHECK_HAS(logbuf, "node 2: key not trusted");
    /* And node 1 refuses to talk to node 3 when it is the one connecting. */
    CHECK_EQ(t3.listen(&t3, on_accept_other), 0);
    tx x13;
    connect_to(&t1, &x13, 3, 3);
    want_tx = &x13;
    run_until(tx_done);
    CHECK(x13.status == RAFT_NOCONNECTION);
    run_ms(100);
    CHECK_EQ(n_rx, 1);
    CHECK_HAS(logbuf, "outgoing): node 3: key not trusted");
    printf("untrusted keys refused on both sides: %s", strstr(logbuf, "raft transport: refused"));

    /* A plain raft TCP peer: its bytes are not a hello; silence times out. */
    make(&tp, 2, NULL, a4);
    tx xp;
    connect_to(&tp, &xp, 1, 1);
    want_tx = &xp;
    run_until(tx_done);
    CHECK_EQ(xp.status, 0); /* plain TCP knows nothing of the handshake */
    static uint8_t junk[200];
    memset(junk, 0x41, sizeof(junk));
    send_all(xp.stream, junk, sizeof(junk));
    run_ms(200);
    CHECK_HAS(logbuf, "does not speak Strata's Raft transport");
    tx xs;
    connect_to(&tp, &xs, 1, 1);
    want_tx = &xs;
    run_until(tx_done);
    run_ms(700);
    CHECK_HAS(logbuf, "no complete handshake in time");
    CHECK_EQ(n_rx, 1);
    st_secure_transport_stats(&t1, &s1);
    CHECK_EQ(s1.refused, 5); /* 3 untrusted (2 incoming, 1 outgoing) + 2 plain */

    /* A relay on port 5 flips one bit at byte 4000 of what node 2 sends to node 1. */
    uv_tcp_init(&loop, &rl.listener);
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", base_port + 5, &sa);
    CHECK_EQ(uv_tcp_bind(&rl.listener, (struct sockaddr *)&sa, 0), 0);
    CHECK_EQ(uv_listen((uv_stream_t *)&rl.listener, 4, relay_accept), 0);
    rl.flip_at = 4000;
    tx xt;
    connect_to(&t2, &xt, 1, 5);
    want_tx = &xt;
    run_until(tx_done);
    CHECK_EQ(xt.status, 0);
    send_all(xt.stream, big, 100000);
    want_accepts = 2;
    run_until(accepted);
    CHECK_EQ(n_rx, 2);
    want_rx = &rxs[1];
    run_until(rx_eof);
    CHECK(rxs[1].eof);
    CHECK(rxs[1].n < 4000); /* nothing from the altered frame on was delivered */
    CHECK(rxs[1].n == 0 || memcmp(rxs[1].got, big, rxs[1].n) == 0);
    CHECK_HAS(logbuf, "failed authentication");
    st_secure_transport_stats(&t1, &s1);
    CHECK_EQ(s1.tampered, 1);
    printf("a bit flipped in flight at byte 4000: connection closed after %zu good bytes\n",
           rxs[1].n);

    /* Close everything; each transport's close callback fires. */
    for (int i = 0; i < n_rx; i++) {
        uv_close((uv_handle_t *)rxs[i].stream, (uv_close_cb)raft_free);
    }
    uv_close((uv_handle_t *)x.stream, (uv_close_cb)raft_free);
    uv_close((uv_handle_t *)xt.stream, (uv_close_cb)raft_free);
    uv_close((uv_handle_t *)xp.stream, (uv_close_cb)raft_free);
    if (x3.stream != NULL) {
        uv_close((uv_handle_t *)x3.stream, (uv_close_cb)raft_free);
    }
    if (x3b.stream != NULL) {
        uv_close((uv_handle_t *)x3b.stream, (uv_close_cb)raft_free);
    }
    if (xs.stream != NULL) {
        uv_close((uv_handle_t *)xs.stream, (uv_close_cb)raft_free);
    }
    uv_close((uv_handle_t *)&rl.listener, NULL);
    uv_close((uv_handle_t *)&rl.down, NULL);
    uv_close((uv_handle_t *)&rl.up, NULL);
    struct raft_uv_transport *all[] = {&t1, &t2, &t3, &t3b, &tp};
    for (int i = 0; i < 5; i++) {
        all[i]->data = (void *)(intptr_t)i;
        all[i]->close(all[i], closed);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 5; i++) {
        CHECK(closed_cb_fired[i]);
    }
    for (int i = 0; i < 4; i++) {
        st_secure_transport_close(all[i]);
    }
    raft_uv_tcp_close(&tp);
    CHECK_EQ(uv_loop_close(&loop), 0);
    for (int i = 0; i < n_rx; i++) {
        free(rxs[i].got);
    }
    free(back_rx.got);
    free(big);
    free(back);
    printf("ok\n");
    return 0;
}
