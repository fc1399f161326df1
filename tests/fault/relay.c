/* relay.c - the loopback-to-namespace TCP relay of the partition test (relay.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/cluster/harness.h"
#include "tests/core/check.h"
#include "tests/fault/relay.h"

#define MAX_PAIRS 32
#define BUF_LEN 65536

/* One relayed connection: side 0 the client here, side 1 the node there. buf[d] holds what
 * was read from fd[d] and is still to be written to fd[1 - d]. */
typedef struct {
    int fd[2];
    bool eof[2];
    size_t len[2], off[2];
    uint8_t buf[2][BUF_LEN];
} pair;

struct tr_relay {
    char netns[64];
    int port;
    int listen_fd;
    int wake[2];
    pthread_t thread;
    atomic_size_t connections;
    pair *pairs[MAX_PAIRS];
};

static void set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    CHECK(fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0);
}

static void close_pair(tr_relay *r, int i) {
    pair *p = r->pairs[i];
    close(p->fd[0]);
    close(p->fd[1]);
    free(p);
    r->pairs[i] = NULL;
}

/* A new client: its own connection to the node inside the namespace. */
static void accept_one(tr_relay *r) {
    int c = accept4(r->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) {
        return;
    }
    int slot = -1;
    for (int i = 0; i < MAX_PAIRS && slot < 0; i++) {
        if (r->pairs[i] == NULL) {
            slot = i;
        }
    }
    int up = slot >= 0 ? tc_ns_socket(r->netns) : -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (up < 0 || connect(up, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        /* Nothing listens there (the node is down): the client sees its connection close. */
        if (up >= 0) {
            close(up);
        }
        close(c);
        return;
    }
    set_nonblock(up);
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    pair *p = calloc(1, sizeof(*p));
    CHECK(p != NULL);
    p->fd[0] = c;
    p->fd[1] = up;
    r->pairs[slot] = p;
    atomic_fetch_add(&r->connections, 1);
}

/* Moves what poll reported for pair i; false when the pair is done (closed or failed). */
static bool serve_pair(pair *p, const struct pollfd *pf) {
    for (int d = 0; d < 2; d++) {
        short ev = pf[d].revents;
        /* Writable: flush what the other side sent. */
        if ((ev & POLLOUT) && p->len[1 - d] > p->off[1 - d]) {
            ssize_t w = send(p->fd[d], p->buf[1 - d] + p->off[1 - d], p->len[1 - d] - p->off[1 - d],
                             MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR) {
                return false;
            }
            if (w > 0) {
                p->off[1 - d] += (size_t)w;
                if (p->off[1 - d] == p->len[1 - d]) {
                    p->off[1 - d] = p->len[1 - d] = 0;
                }
            }
        }
        /* Readable (or closed, or failed): read what is there while the buffer is free. */
        if ((ev & (POLLIN | POLLHUP | POLLERR)) && !p->eof[d] && p->len[d] == 0) {
            ssize_t n = read(p->fd[d], p->buf[d], BUF_LEN);
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                return false; /* a reset: close both sides */
            }
            if (n == 0) {
                /* Its buffer is empty (read only then): pass the end on at once. */
                p->eof[d] = true;
                shutdown(p->fd[1 - d], SHUT_WR);
            } else if (n > 0) {
                p->len[d] = (size_t)n;
                p->off[d] = 0;
            }
        }
        /* Gone both ways after its end was read: nothing more can pass through it. */
        if ((ev & (POLLHUP | POLLERR)) && p->eof[d]) {
            return false;
        }
    }
    return !(p->eof[0] && p->eof[1] && p->len[0] == 0 && p->len[1] == 0);
}

static void *run(void *arg) {
    tr_relay *r = arg;
    for (;;) {
        struct pollfd pf[2 + 2 * MAX_PAIRS];
        int idx[MAX_PAIRS];
        nfds_t n = 0;
        pf[n++] = (struct pollfd){.fd = r->wake[0], .events = POLLIN};
        pf[n++] = (struct pollfd){.fd = r->listen_fd, .events = POLLIN};
        for (int i = 0; i < MAX_PAIRS; i++) {
            pair *p = r->pairs[i];
            idx[i] = -1;
            if (p == NULL) {
                continue;
            }
            idx[i] = (int)n;
            for (int d = 0; d < 2; d++) {
                short ev = 0;
                if (!p->eof[d] && p->len[d] == 0) {
                    ev |= POLLIN;
                }
                if (p->len[1 - d] > p->off[1 - d]) {
                    ev |= POLLOUT;
                }
                pf[n++] = (struct pollfd){.fd = p->fd[d], .events = ev};
            }
        }
        if (poll(pf, n, -1) < 0) {
            CHECK(errno == EINTR);
            continue;
        }
        if (pf[0].revents) {
            return NULL;
        }
        for (int i = 0; i < MAX_PAIRS; i++) {
            if (idx[i] >= 0 && !serve_pair(r->pairs[i], &pf[idx[i]])) {
                close_pair(r, i);
            }
        }
        if (pf[1].revents & POLLIN) {
            accept_one(r);
        }
    }
}

tr_relay *tr_relay_start(const char *netns, int port) {
    tr_relay *r = calloc(1, sizeof(*r));
    CHECK(r != NULL);
    snprintf(r->netns, sizeof(r->netns), "%s", netns);
    r->port = port;
    r->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    CHECK(r->listen_fd >= 0);
    int one = 1;
    setsockopt(r->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(r->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "relay: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        CHECK(false);
    }
    CHECK(listen(r->listen_fd, 64) == 0);
    CHECK(pipe2(r->wake, O_CLOEXEC) == 0);
    CHECK(pthread_create(&r->thread, NULL, run, r) == 0);
    return r;
}

size_t tr_relay_connections(tr_relay *r) {
    return atomic_load(&r->connections);
}

void tr_relay_stop(tr_relay *r) {
    char b = 0;
    CHECK(write(r->wake[1], &b, 1) == 1);
    pthread_join(r->thread, NULL);
    for (int i = 0; i < MAX_PAIRS; i++) {
        if (r->pairs[i] != NULL) {
            close_pair(r, i);
        }
    }
    close(r->listen_fd);
    close(r->wake[0]);
    close(r->wake[1]);
    free(r);
}
