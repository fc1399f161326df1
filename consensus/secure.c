/* secure.c - the authenticated, encrypted Raft transport of secure.h: the handshake, the
 * trust decision, and the relay between raft's end of a socket pair and the TCP socket.
 *
 * Wire format after raft's own TCP preamble (all integers big-endian):
 *   hello  = "STRAFT01" | id u64 | node public key [32] | X25519 public key [32]   (80)
 *   auth   = Ed25519 signature [64] | secretstream header [24]                     (88)
 *   frame  = length u32 | secretstream ciphertext of 1..FRAME_PLAIN plaintext bytes
 * The signature covers BLAKE2b-256("strata raft handshake v1" | initiator hello |
 * responder hello) followed by the signer's role ('I' or 'R'), so a hello or signature
 * cannot be replayed on another connection or reflected back to its sender.
 */
#include <arpa/inet.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "consensus/node.h"
#include "consensus/secure.h"
#include "core/error.h"

#define MAGIC "STRAFT01"
#define HELLO_LEN 80
#define AUTH_LEN (64 + crypto_secretstream_xchacha20poly1305_HEADERBYTES)
#define FRAME_PLAIN 65536
#define FRAME_MAX (FRAME_PLAIN + crypto_secretstream_xchacha20poly1305_ABYTES)
#define QUEUE_HIGH (8u << 20) /* stop reading the source above this much queued output */
#define QUEUE_LOW (1u << 20)  /* and read it again below this */

enum { HS_HELLO, HS_AUTH, OPEN, CLOSING };

typedef struct conn conn;
typedef struct sec sec;

struct sec {
    struct raft_uv_transport inner; /* raft's TCP transport */
    struct raft_uv_transport *outer;
    uv_loop_t *loop;
    uint64_t id;
    uint8_t sk[ST_SECURE_SK_LEN], pk[ST_SECURE_PK_LEN];
    st_secure_config cfg;
    raft_uv_accept_cb accept_cb;
    raft_uv_transport_close_cb close_cb;
    bool closing, inner_closed;
    conn *conns; /* every connection being set up or relayed */
    st_secure_stats stats;
};

struct conn {
    sec *s;
    conn *prev, *next;
    bool initiator;
    uint64_t peer_id;
    char peer_addr[ST_NODE_ADDRESS_MAX];
    struct raft_uv_connect *req; /* initiator: raft's request, answered once */
    struct raft_uv_connect inner_req;
    bool answered;
    int state;
    int handles; /* open libuv handles of this connection */
    int fail_status;
    uv_stream_t *tcp; /* from the inner transport (raft_malloc'd) */
    uv_pipe_t *app;   /* raft's end of the pair (raft_malloc'd; raft's once handed over) */
    bool app_handed;
    uv_pipe_t local; /* our end of the pair */
    bool local_open;
    uv_timer_t timer;
    bool tcp_paused, local_paused;
    uint8_t eph_pk[crypto_kx_PUBLICKEYBYTES], eph_sk[crypto_kx_SECRETKEYBYTES];
    uint8_t hello_i[HELLO_LEN], hello_r[HELLO_LEN]; /* initiator's, responder's */
    uint8_t peer_pk[ST_SECURE_PK_LEN];
    uint8_t rx[crypto_kx_SESSIONKEYBYTES], tx[crypto_kx_SESSIONKEYBYTES];
    crypto_secretstream_xchacha20poly1305_state push, pull;
    uint8_t *in; /* bytes read from tcp, not yet consumed */
    size_t in_len, in_cap;
};

typedef struct {
    uv_write_t req;
    conn *c;
    size_t len;
    uint8_t data[];
} wreq;

static void logf_(sec *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void alloc_tcp(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void tcp_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);
static void alloc_local(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void local_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

static void logf_(sec *s, int level, const char *fmt, ...) {
    if (s->cfg.log == NULL) {
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->cfg.log(s->cfg.log_ctx, level, msg);
}

static const char *who(const conn *c, char *buf, size_t cap) {
    snprintf(buf, cap, "node %llu (%s, %s)", (unsigned long long)c->peer_id,
             c->peer_addr[0] ? c->peer_addr : "?", c->initiator ? "outgoing" : "incoming");
    return buf;
}

/* ---------------------------------------------------------------- lifecycle */

static void maybe_closed(sec *s) {
    if (s->closing && s->inner_closed && s->conns == NULL && s->close_cb != NULL) {
        raft_uv_transport_close_cb cb = s->close_cb;
        s->close_cb = NULL;
        cb(s->outer);
    }
}

static void conn_unlink(conn *c) {
    sec *s = c->s;
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        s->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    c->prev = c->next = NULL;
}

static void conn_free(conn *c) {
    sec *s = c->s;
    if (c->initiator && !c->answered) {
        c->answered = true;
        /* raft expects RAFT_CANCELED exactly when it closed the transport. */
        c->req->cb(c->req, NULL, s->closing ? RAFT_CANCELED : c->fail_status);
    }
    conn_unlink(c);
    sodium_memzero(c->eph_sk, sizeof(c->eph_sk));
    sodium_memzero(c->rx, sizeof(c->rx));
    sodium_memzero(c->tx, sizeof(c->tx));
    sodium_memzero(&c->push, sizeof(c->push));
    sodium_memzero(&c->pull, sizeof(c->pull));
    free(c->in);
    free(c);
    maybe_closed(s);
}

static void handle_closed(conn *c) {
    if (--c->handles == 0) {
        conn_free(c);
    }
}

static void tcp_closed(uv_handle_t *h) {
    conn *c = h->data;
    raft_free(h);
    c->tcp = NULL;
    handle_closed(c);
}

static void app_closed(uv_handle_t *h) {
    conn *c = h->data;
    raft_free(h);
    c->app = NULL;
    handle_closed(c);
}

static void embedded_closed(uv_handle_t *h) {
    handle_closed(h->data);
}

/* Closes every handle of the connection; an initiator not yet answered is answered with
 * status once they are closed. */
static void conn_close(conn *c, int status) {
    if (c->state == CLOSING) {
        return;
    }
    c->state = CLOSING;
    c->fail_status = status;
    uv_close((uv_handle_t *)&c->timer, embedded_closed);
    if (c->tcp != NULL) {
        uv_close((uv_handle_t *)c->tcp, tcp_closed);
    }
    if (c->local_open) {
        uv_close((uv_handle_t *)&c->local, embedded_closed);
    }
    if (c->app != NULL && !c->app_handed) {
        uv_close((uv_handle_t *)c->app, app_closed);
    }
}

/* ---------------------------------------------------------------- writing */

static void write_done(uv_write_t *req, int status) {
    wreq *w = (wreq *)req;
    conn *c = w->c;
    free(w);
    if (status != 0) {
        if (status != UV_ECANCELED) {
            conn_close(c, RAFT_NOCONNECTION);
        }
        return;
    }
    if (c->state != OPEN) {
        return;
    }
    /* Resume a source paused for a full queue. */
    if (c->tcp_paused && uv_stream_get_write_queue_size((uv_stream_t *)&c->local) < QUEUE_LOW) {
        c->tcp_paused = false;
        uv_read_start(c->tcp, alloc_tcp, tcp_read);
    }
    if (c->local_paused && uv_stream_get_write_queue_size(c->tcp) < QUEUE_LOW) {
        c->local_paused = false;
        uv_read_start((uv_stream_t *)&c->local, alloc_local, local_read);
    }
}

/* Queues len bytes (copied) on dst. false on failure (the connection is closing). */
static bool send_bytes(conn *c, uv_stream_t *dst, const uint8_t *data, size_t len) {
    wreq *w = malloc(sizeof(*w) + len);
    if (w == NULL) {
        conn_close(c, RAFT_NOMEM);
        return false;
    }
    w->c = c;
    w->len = len;
    memcpy(w->data, data, len);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
    if (uv_write(&w->req, dst, &b, 1, write_done) != 0) {
        free(w);
        conn_close(c, RAFT_NOCONNECTION);
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- relaying */

static void alloc_local(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)h;
    (void)suggested;
    char *p = malloc(FRAME_PLAIN);
    *buf = uv_buf_init(p, p != NULL ? FRAME_PLAIN : 0);
}

/* Plaintext from raft: one frame per read. */
static void local_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
    conn *c = st->data;
    if (n < 0 || c->state != OPEN) {
        free(buf->base);
        if (n < 0) {
            conn_close(c, RAFT_NOCONNECTION); /* raft closed its end */
        }
        return;
    }
    if (n > 0) {
        size_t len = 4 + (size_t)n + crypto_secretstream_xchacha20poly1305_ABYTES;
        wreq *w = malloc(sizeof(*w) + len);
        if (w == NULL) {
            free(buf->base);
            conn_close(c, RAFT_NOMEM);
            return;
        }
        uint32_t be = htonl((uint32_t)(len - 4));
        memcpy(w->data, &be, 4);
        crypto_secretstream_xchacha20poly1305_push(
            &c->push, w->data + 4, NULL, (const uint8_t *)buf->base, (size_t)n, NULL, 0, 0);
        c->s->stats.bytes_out += (uint64_t)n;
        w->c = c;
        w->len = len;
        uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
        if (uv_write(&w->req, c->tcp, &b, 1, write_done) != 0) {
            free(w);
            free(buf->base);
            conn_close(c, RAFT_NOCONNECTION);
            return;
        }
        if (uv_stream_get_write_queue_size(c->tcp) > QUEUE_HIGH) {
            c->local_paused = true;
            uv_read_stop((uv_stream_t *)&c->local);
        }
    }
    free(buf->base);
}

static void alloc_tcp(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    conn *c = h->data;
    (void)suggested;
    size_t want = 65536;
    if (c->in_cap - c->in_len < want) {
        size_t cap = c->in_cap ? c->in_cap : 65536;
        while (cap - c->in_len < want) {
            cap *= 2;
        }
        uint8_t *p = realloc(c->in, cap);
        if (p == NULL) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        c->in = p;
        c->in_cap = cap;
    }
    *buf = uv_buf_init((char *)c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

/* Decrypts the complete frames in c->in and passes them to raft. false if the connection
 * was closed. */
static bool drain_frames(conn *c) {
    size_t off = 0;
    char w[160];
    while (c->in_len - off >= 4) {
        uint32_t be;
        memcpy(&be, c->in + off, 4);
        size_t len = ntohl(be);
        if (len <= crypto_secretstream_xchacha20poly1305_ABYTES || len > FRAME_MAX) {
            c->s->stats.tampered++;
            logf_(c->s, ST_LOG_WARN,
                  "raft transport: frame of %zu bytes from %s: not a valid frame (traffic "
                  "altered in flight?); connection closed",
                  len, who(c, w, sizeof(w)));
            conn_close(c, RAFT_NOCONNECTION);
            return false;
        }
        if (c->in_len - off - 4 < len) {
            break;
        }
        size_t plen = len - crypto_secretstream_xchacha20poly1305_ABYTES;
        wreq *wr = malloc(sizeof(*wr) + plen);
        if (wr == NULL) {
            conn_close(c, RAFT_NOMEM);
            return false;
        }
        unsigned long long got = 0;
        unsigned char tag = 0;
        if (crypto_secretstream_xchacha20poly1305_pull(&c->pull, wr->data, &got, &tag,
                                                       c->in + off + 4, len, NULL, 0) != 0 ||
            tag != 0) {
            free(wr);
            c->s->stats.tampered++;
            logf_(c->s, ST_LOG_WARN,
                  "raft transport: a frame from %s failed authentication (traffic altered in "
                  "flight?); connection closed",
                  who(c, w, sizeof(w)));
            conn_close(c, RAFT_NOCONNECTION);
            return false;
        }
        c->s->stats.bytes_in += got;
        wr->c = c;
        wr->len = (size_t)got;
        uv_buf_t b = uv_buf_init((char *)wr->data, (unsigned)got);
        if (uv_write(&wr->req, (uv_stream_t *)&c->local, &b, 1, write_done) != 0) {
            free(wr);
            conn_close(c, RAFT_NOCONNECTION);
            return false;
        }
        off += 4 + len;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->local) > QUEUE_HIGH) {
        c->tcp_paused = true;
        uv_read_stop(c->tcp);
    }
    return true;
}

/* ---------------------------------------------------------------- handshake */

static void transcript(const conn *c, uint8_t role, uint8_t out[33]) {
    static const char label[] = "strata raft handshake v1";
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, (const uint8_t *)label, sizeof(label) - 1);
    crypto_generichash_update(&h, c->hello_i, HELLO_LEN);
    crypto_generichash_update(&h, c->hello_r, HELLO_LEN);
    crypto_generichash_final(&h, out, 32);
    out[32] = role;
}

static void put_hello(const conn *c, uint8_t out[HELLO_LEN]) {
    memcpy(out, MAGIC, 8);
    for (int i = 0; i < 8; i++) {
        out[8 + i] = (uint8_t)(c->s->id >> (56 - 8 * i));
    }
    memcpy(out + 16, c->s->pk, 32);
    memcpy(out + 48, c->eph_pk, 32);
}

static void refuse(conn *c, const char *why) {
    char w[160];
    c->s->stats.refused++;
    logf_(c->s, ST_LOG_WARN, "raft transport: refused %s: %s", who(c, w, sizeof(w)), why);
    conn_close(c, RAFT_NOCONNECTION);
}

/* The peer's hello is in c->in: check it, derive the session keys, send our auth. */
static bool on_hello(conn *c) {
    uint8_t *peer = c->initiator ? c->hello_r : c->hello_i;
    memcpy(peer, c->in, HELLO_LEN);
    if (memcmp(peer, MAGIC, 8) != 0) {
        refuse(c, "it does not speak Strata's Raft transport (no handshake; is it a Strata "
                  "node of this version?)");
        return false;
    }
    uint64_t id = 0;
    for (int i = 0; i < 8; i++) {
        id = id << 8 | peer[8 + i];
    }
    if (id != c->peer_id) {
        char why[128];
        snprintf(why, sizeof(why), "it claims to be node %llu", (unsigned long long)id);
        refuse(c, why);
        return false;
    }
    memcpy(c->peer_pk, peer + 16, 32);
    const uint8_t *peer_eph = peer + 48;
    int rc = c->initiator
                 ? crypto_kx_client_session_keys(c->rx, c->tx, c->eph_pk, c->eph_sk, peer_eph)
                 : crypto_kx_server_session_keys(c->rx, c->tx, c->eph_pk, c->eph_sk, peer_eph);
    if (rc != 0 || sodium_memcmp(peer_eph, c->eph_pk, 32) == 0) {
        refuse(c, "its key exchange value is not acceptable");
        return false;
    }
    uint8_t auth[AUTH_LEN], msg[33];
    transcript(c, c->initiator ? 'I' : 'R', msg);
    crypto_sign_detached(auth, NULL, msg, sizeof(msg), c->s->sk);
    crypto_secretstream_xchacha20poly1305_init_push(&c->push, auth + 64, c->tx);
    c->state = HS_AUTH;
    return send_bytes(c, c->tcp, auth, sizeof(auth));
}

static void hand_over(conn *c);

/* The peer's auth is in c->in: check its signature and whether its key is trusted. */
static bool on_auth(conn *c) {
    uint8_t msg[33];
    transcript(c, c->initiator ? 'R' : 'I', msg);
    if (crypto_sign_verify_detached(c->in, msg, sizeof(msg), c->peer_pk) != 0) {
        refuse(c, "its handshake signature does not verify with the key it presented");
        return false;
    }
    char why[256] = "";
    if (c->s->cfg.trust(c->s->cfg.trust_ctx, c->peer_id, c->peer_pk, why, sizeof(why)) != ST_OK) {
        refuse(c, why[0] ? why : "its key is not trusted");
        return false;
    }
    if (crypto_secretstream_xchacha20poly1305_init_pull(&c->pull, c->in + 64, c->rx) != 0) {
        refuse(c, "its stream header is not acceptable");
        return false;
    }
    if (why[0] != '\0') {
        char w[160];
        logf_(c->s, ST_LOG_WARN, "raft transport: %s: %s", who(c, w, sizeof(w)), why);
    }
    hand_over(c);
    return c->state == OPEN;
}

/* Authenticated: make the socket pair and give raft its end. */
static void hand_over(conn *c) {
    sec *s = c->s;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        conn_close(c, RAFT_NOCONNECTION);
        return;
    }
    c->app = raft_malloc(sizeof(*c->app));
    if (c->app == NULL) {
        close(fds[0]);
        close(fds[1]);
        conn_close(c, RAFT_NOMEM);
        return;
    }
    uv_pipe_init(s->loop, c->app, 0);
    c->app->data = c;
    c->handles++;
    uv_pipe_init(s->loop, &c->local, 0);
    c->local.data = c;
    c->local_open = true;
    c->handles++;
    if (uv_pipe_open(c->app, fds[0]) != 0) {
        close(fds[0]);
        close(fds[1]);
        conn_close(c, RAFT_NOCONNECTION);
        return;
    }
    if (uv_pipe_open(&c->local, fds[1]) != 0) {
        close(fds[1]);
        conn_close(c, RAFT_NOCONNECTION);
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->local, alloc_local, local_read) != 0) {
        conn_close(c, RAFT_NOCONNECTION);
        return;
    }
    uv_timer_stop(&c->timer);
    c->state = OPEN;
    s->stats.accepted++;
    char w[160];
    logf_(s, ST_LOG_DEBUG, "raft transport: %s authenticated", who(c, w, sizeof(w)));
    c->app_handed = true;
    uv_pipe_t *app = c->app;
    c->app = NULL;
    c->handles--; /* raft's handle from now on */
    if (c->initiator) {
        c->answered = true;
        c->req->cb(c->req, (uv_stream_t *)app, 0);
    } else {
        s->accept_cb(s->outer, c->peer_id, c->peer_addr, (uv_stream_t *)app);
    }
}

static void tcp_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
    conn *c = st->data;
    (void)buf;
    if (c->state == CLOSING) {
        return;
    }
    if (n < 0) {
        if (c->state != OPEN) {
            char w[160];
            logf_(c->s, ST_LOG_DEBUG, "raft transport: %s closed during the handshake: %s",
                  who(c, w, sizeof(w)), uv_strerror((int)n));
        }
        conn_close(c, RAFT_NOCONNECTION);
        return;
    }
    if (n == 0) {
        return;
    }
    c->in_len += (size_t)n;
    while (c->state != OPEN && c->state != CLOSING) {
        size_t need = c->state == HS_HELLO ? HELLO_LEN : AUTH_LEN;
        if (c->in_len < need) {
            return;
        }
        bool ok = c->state == HS_HELLO ? on_hello(c) : on_auth(c);
        if (c->state == CLOSING) {
            return;
        }
        memmove(c->in, c->in + need, c->in_len - need);
        c->in_len -= need;
        if (!ok) {
            return;
        }
    }
    if (c->state == OPEN) {
        drain_frames(c);
    }
}

static void handshake_timeout(uv_timer_t *t) {
    conn *c = t->data;
    refuse(c, "no complete handshake in time");
}

/* Starts the handshake on c->tcp. */
static void start(conn *c) {
    sec *s = c->s;
    c->tcp->data = c;
    c->handles++; /* tcp */
    uv_timer_init(s->loop, &c->timer);
    c->timer.data = c;
    c->handles++;
    uv_timer_start(&c->timer, handshake_timeout, s->cfg.handshake_ms ? s->cfg.handshake_ms : 5000,
                   0);
    crypto_kx_keypair(c->eph_pk, c->eph_sk);
    uint8_t *mine = c->initiator ? c->hello_i : c->hello_r;
    put_hello(c, mine);
    if (!send_bytes(c, c->tcp, mine, HELLO_LEN)) {
        return;
    }
    if (uv_read_start(c->tcp, alloc_tcp, tcp_read) != 0) {
        conn_close(c, RAFT_NOCONNECTION);
    }
}

static conn *conn_new(sec *s, bool initiator, uint64_t peer_id, const char *addr) {
    conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->s = s;
    c->initiator = initiator;
    c->peer_id = peer_id;
    c->state = HS_HELLO;
    c->fail_status = RAFT_NOCONNECTION;
    snprintf(c->peer_addr, sizeof(c->peer_addr), "%s", addr != NULL ? addr : "");
    c->next = s->conns;
    if (s->conns != NULL) {
        s->conns->prev = c;
    }
    s->conns = c;
    return c;
}

/* ---------------------------------------------------------------- the interface */

static int sec_init(struct raft_uv_transport *t, raft_id id, const char *address) {
    sec *s = t->impl;
    int rv = s->inner.init(&s->inner, id, address);
    if (rv != 0) {
        snprintf(t->errmsg, sizeof(t->errmsg), "%s", s->inner.errmsg);
    }
    return rv;
}

static void inner_accept(struct raft_uv_transport *inner, raft_id id, const char *address,
                         uv_stream_t *stream) {
    sec *s = inner->data;
    if (s->closing) {
        uv_close((uv_handle_t *)stream, (uv_close_cb)raft_free);
        return;
    }
    conn *c = conn_new(s, false, id, address);
    if (c == NULL) {
        uv_close((uv_handle_t *)stream, (uv_close_cb)raft_free);
        return;
    }
    c->tcp = stream;
    start(c);
}

static int sec_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb) {
    sec *s = t->impl;
    s->accept_cb = cb;
    int rv = s->inner.listen(&s->inner, inner_accept);
    if (rv != 0) {
        snprintf(t->errmsg, sizeof(t->errmsg), "%s", s->inner.errmsg);
    }
    return rv;
}

static void inner_connected(struct raft_uv_connect *ireq, uv_stream_t *stream, int status) {
    conn *c = ireq->data;
    if (status != 0 || c->s->closing) {
        if (stream != NULL) {
            c->tcp = stream;
            c->tcp->data = c;
            c->handles++;
            conn_close(c, RAFT_CANCELED);
            return;
        }
        c->fail_status = c->s->closing ? RAFT_CANCELED : status;
        conn_free(c);
        return;
    }
    c->tcp = stream;
    start(c);
}

static int sec_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
                       const char *address, raft_uv_connect_cb cb) {
    sec *s = t->impl;
    req->cb = cb;
    conn *c = conn_new(s, true, id, address);
    if (c == NULL) {
        return RAFT_NOMEM;
    }
    c->req = req;
    c->inner_req.data = c;
    int rv = s->inner.connect(&s->inner, &c->inner_req, id, address, inner_connected);
    if (rv != 0) {
        c->answered = true; /* raft learns of it from the return value */
        conn_unlink(c);
        free(c);
    }
    return rv;
}

static void inner_closed(struct raft_uv_transport *inner) {
    sec *s = inner->data;
    s->inner_closed = true;
    maybe_closed(s);
}

static void sec_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb) {
    sec *s = t->impl;
    s->closing = true;
    s->close_cb = cb;
    s->inner.close(&s->inner, inner_closed);
    for (conn *c = s->conns, *next; c != NULL; c = next) {
        next = c->next;
        if (c->tcp != NULL || c->state == OPEN) {
            conn_close(c, RAFT_CANCELED);
        }
        /* else: an outgoing connect the inner transport is cancelling. */
    }
    maybe_closed(s);
}

int st_secure_transport_init(struct raft_uv_transport *t, uv_loop_t *loop,
                             const st_secure_config *cfg) {
    if (cfg->trust == NULL || cfg->sk == NULL || cfg->pk == NULL) {
        return ST_EINVAL;
    }
    sec *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return ST_ENOMEM;
    }
    if (raft_uv_tcp_init(&s->inner, loop) != 0) {
        free(s);
        return ST_ENOMEM;
    }
    s->inner.data = s;
    s->outer = t;
    s->loop = loop;
    s->id = cfg->id;
    memcpy(s->sk, cfg->sk, sizeof(s->sk));
    memcpy(s->pk, cfg->pk, sizeof(s->pk));
    s->cfg = *cfg;
    s->cfg.sk = s->sk;
    s->cfg.pk = s->pk;
    memset(t, 0, sizeof(*t));
    t->impl = s;
    t->init = sec_init;
    t->listen = sec_listen;
    t->connect = sec_connect;
    t->close = sec_close;
    return ST_OK;
}

void st_secure_transport_close(struct raft_uv_transport *t) {
    sec *s = t->impl;
    if (s == NULL) {
        return;
    }
    raft_uv_tcp_close(&s->inner);
    sodium_memzero(s->sk, sizeof(s->sk));
    free(s);
    t->impl = NULL;
}

void st_secure_transport_stats(struct raft_uv_transport *t, st_secure_stats *out) {
    sec *s = t->impl;
    *out = s->stats;
}
