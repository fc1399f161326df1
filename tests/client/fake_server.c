/* fake_server.c - the in-process gRPC server of the libstrata unit tests (see
 * fake_server.h). One thread: it requests one call at a time and answers it the way the
 * test configured (the unary pattern of docs/STACK.md: receive the message, RECV_CLOSE on
 * its own, then initial metadata + message + status in one batch).
 */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/client/fake_server.h"

#define MAX_CALLS 4096
#define TAG_NEW ((void *)1)
#define TAG_SHUTDOWN ((void *)2)
#define TAG_RECV ((void *)3)
#define TAG_CLOSE ((void *)4)
#define TAG_SEND ((void *)5)
#define NTAGS 6

struct fake_server {
    grpc_server *srv;
    grpc_completion_queue *cq;
    pthread_t thread;
    char address[64];

    pthread_mutex_t mu; /* guards the configuration and the records */
    fake_mode mode;
    char leader[256];
    int status;
    char message[256];
    int fail_first;
    uint8_t *reply;
    size_t reply_len;
    int reply_count;
    fake_handler handler;
    void *handler_ctx;
    char md_key[64], md_value[64];
    fake_call *calls[MAX_CALLS];
    size_t ncalls;
    int done[NTAGS]; /* completed tags not waited for yet (the server thread's own) */
    int success[NTAGS];
};

/* Waits for tag on the queue. The thread handles one call at a time, so other tags that
 * complete meanwhile (the call's RECV_CLOSE, the shutdown notification) are remembered in
 * done[] for their own wait. Returns the event's success. */
static int wait_tag(fake_server *f, void *tag) {
    uintptr_t t = (uintptr_t)tag;
    if (f->done[t]) {
        f->done[t] = 0;
        return f->success[t];
    }
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(f->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type != GRPC_OP_COMPLETE) {
            return 0;
        }
        if (ev.tag == tag) {
            return ev.success;
        }
        uintptr_t other = (uintptr_t)ev.tag;
        if (other < NTAGS) {
            f->done[other] = 1;
            f->success[other] = ev.success;
        }
    }
}

static void record(fake_server *f, const grpc_call_details *d, const grpc_metadata_array *md,
                   grpc_byte_buffer *payload, fake_call **out) {
    fake_call *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        abort();
    }
    size_t ml = GRPC_SLICE_LENGTH(d->method);
    if (ml >= sizeof(c->method)) {
        ml = sizeof(c->method) - 1;
    }
    memcpy(c->method, GRPC_SLICE_START_PTR(d->method), ml);
    for (size_t i = 0; i < md->count; i++) {
        if (grpc_slice_str_cmp(md->metadata[i].key, "strata-auth-bin") == 0) {
            size_t n = GRPC_SLICE_LENGTH(md->metadata[i].value);
            c->auth_len = n < sizeof(c->auth) ? n : sizeof(c->auth);
            memcpy(c->auth, GRPC_SLICE_START_PTR(md->metadata[i].value), c->auth_len);
        }
    }
    if (payload != NULL) {
        grpc_byte_buffer_reader r;
        if (grpc_byte_buffer_reader_init(&r, payload)) {
            grpc_slice s = grpc_byte_buffer_reader_readall(&r);
            c->len = GRPC_SLICE_LENGTH(s);
            c->body = malloc(c->len ? c->len : 1);
            if (c->body == NULL) {
                abort();
            }
            memcpy(c->body, GRPC_SLICE_START_PTR(s), c->len);
            grpc_slice_unref(s);
            grpc_byte_buffer_reader_destroy(&r);
        }
    }
    pthread_mutex_lock(&f->mu);
    if (f->ncalls < MAX_CALLS) {
        f->calls[f->ncalls++] = c;
    }
    pthread_mutex_unlock(&f->mu);
    *out = c;
}

static grpc_byte_buffer *buffer_of(const uint8_t *p, size_t n) {
    grpc_slice s = grpc_slice_from_copied_buffer((const char *)p, n);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

static void handle(fake_server *f, grpc_call *call, const grpc_call_details *d,
                   const grpc_metadata_array *md) {
    grpc_byte_buffer *payload = NULL;
    grpc_op op;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &payload;
    grpc_call_start_batch(call, &op, 1, TAG_RECV, NULL);
    wait_tag(f, TAG_RECV);
    fake_call *rec = NULL;
    record(f, d, md, payload, &rec);
    if (payload != NULL) {
        grpc_byte_buffer_destroy(payload);
    }

    int cancelled = 0;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &cancelled;
    grpc_call_start_batch(call, &op, 1, TAG_CLOSE, NULL);

    /* What to answer, decided under the lock from the configuration. */
    pthread_mutex_lock(&f->mu);
    fake_mode mode = f->mode;
    int status = f->status;
    char message[256], leader[256], mdk[64], mdv[64];
    snprintf(message, sizeof(message), "%s", f->message);
    snprintf(leader, sizeof(leader), "%s", f->leader);
    snprintf(mdk, sizeof(mdk), "%s", f->md_key);
    snprintf(mdv, sizeof(mdv), "%s", f->md_value);
    int fail = f->fail_first > 0;
    if (fail) {
        f->fail_first--;
    }
    uint8_t *reply = NULL;
    size_t reply_len = f->reply_len;
    int count = f->reply_count;
    if (f->reply != NULL) {
        reply = malloc(reply_len ? reply_len : 1);
        if (reply == NULL) {
            abort();
        }
        memcpy(reply, f->reply, reply_len);
    }
    fake_handler h = f->handler;
    void *hctx = f->handler_ctx;
    pthread_mutex_unlock(&f->mu);

    if (fail) {
        mode = FAKE_STATUS;
        status = GRPC_STATUS_UNAVAILABLE;
        snprintf(message, sizeof(message), "not ready");
    } else if (mode == FAKE_OK && h != NULL) {
        free(reply);
        reply = NULL;
        int st = h(hctx, rec, &reply, &reply_len, message, sizeof(message));
        if (st != 0) {
            mode = FAKE_STATUS;
            status = st;
        }
        count = 1;
    }
    if (mode == FAKE_SILENT) {
        wait_tag(f, TAG_CLOSE); /* the client gives up */
    }
    bool stream = strstr(rec->method, "ExportBallots") != NULL;

    grpc_metadata imd[1], tmd[1];
    memset(imd, 0, sizeof(imd));
    memset(tmd, 0, sizeof(tmd));
    size_t nimd = 0, ntmd = 0;
    if (mdk[0] != '\0') {
        imd[0].key = grpc_slice_from_copied_string(mdk);
        imd[0].value = grpc_slice_from_copied_string(mdv);
        nimd = 1;
    }
    grpc_status_code code = GRPC_STATUS_OK;
    if (mode == FAKE_FOLLOWER) {
        code = GRPC_STATUS_UNAVAILABLE;
        snprintf(message, sizeof(message), "not the leader");
        tmd[0].key = grpc_slice_from_static_string("strata-leader");
        tmd[0].value = grpc_slice_from_copied_string(leader);
        ntmd = 1;
    } else if (mode == FAKE_STATUS) {
        code = (grpc_status_code)status;
    } else if (mode == FAKE_SILENT) {
        code = GRPC_STATUS_DEADLINE_EXCEEDED;
    } else {
        message[0] = '\0';
    }
    grpc_byte_buffer *out = NULL;
    if (mode == FAKE_GARBAGE) {
        static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
        out = buffer_of(junk, sizeof(junk));
    } else if (mode == FAKE_OK && reply != NULL) {
        out = buffer_of(reply, reply_len);
    }

    grpc_op ops[3];
    memset(ops, 0, sizeof(ops));
    size_t n = 0;
    ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[n].data.send_initial_metadata.count = nimd;
    ops[n].data.send_initial_metadata.metadata = imd;
    n++;
    if (stream && out != NULL) {
        grpc_call_start_batch(call, ops, n, TAG_SEND, NULL);
        wait_tag(f, TAG_SEND);
        for (int i = 0; i < count; i++) {
            /* SEND_MESSAGE takes the buffer's slices: a new buffer for every message. */
            grpc_byte_buffer *copy = buffer_of(reply, reply_len);
            memset(ops, 0, sizeof(ops));
            ops[0].op = GRPC_OP_SEND_MESSAGE;
            ops[0].data.send_message.send_message = copy;
            grpc_call_start_batch(call, ops, 1, TAG_SEND, NULL);
            wait_tag(f, TAG_SEND);
            grpc_byte_buffer_destroy(copy);
        }
        n = 0;
        memset(ops, 0, sizeof(ops));
    } else if (out != NULL) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = out;
        n++;
    }
    grpc_slice details = grpc_slice_from_copied_string(message);
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = code;
    ops[n].data.send_status_from_server.status_details = message[0] ? &details : NULL;
    ops[n].data.send_status_from_server.trailing_metadata_count = ntmd;
    ops[n].data.send_status_from_server.trailing_metadata = tmd;
    n++;
    grpc_call_start_batch(call, ops, n, TAG_SEND, NULL);
    wait_tag(f, TAG_SEND);
    if (mode != FAKE_SILENT) {
        wait_tag(f, TAG_CLOSE);
    }
    grpc_slice_unref(details);
    if (out != NULL) {
        grpc_byte_buffer_destroy(out);
    }
    for (size_t i = 0; i < nimd; i++) {
        grpc_slice_unref(imd[i].key);
        grpc_slice_unref(imd[i].value);
    }
    for (size_t i = 0; i < ntmd; i++) {
        grpc_slice_unref(tmd[i].value);
    }
    free(reply);
    grpc_call_unref(call);
}

static void *serve(void *arg) {
    fake_server *f = arg;
    for (;;) {
        grpc_call *call = NULL;
        grpc_call_details d;
        grpc_metadata_array md;
        grpc_call_details_init(&d);
        grpc_metadata_array_init(&md);
        grpc_server_request_call(f->srv, &call, &d, &md, f->cq, f->cq, TAG_NEW);
        int ok = wait_tag(f, TAG_NEW);
        if (ok) {
            handle(f, call, &d, &md);
        }
        grpc_call_details_destroy(&d);
        grpc_metadata_array_destroy(&md);
        if (!ok) {
            break;
        }
    }
    wait_tag(f, TAG_SHUTDOWN);
    return NULL;
}

fake_server *fake_start(void) {
    grpc_init();
    fake_server *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        return NULL;
    }
    pthread_mutex_init(&f->mu, NULL);
    f->srv = grpc_server_create(NULL, NULL);
    f->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(f->srv, f->cq, NULL);
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int port = grpc_server_add_http2_port(f->srv, "127.0.0.1:0", creds);
    grpc_server_credentials_release(creds);
    if (port <= 0) {
        return NULL;
    }
    snprintf(f->address, sizeof(f->address), "127.0.0.1:%d", port);
    grpc_server_start(f->srv);
    pthread_create(&f->thread, NULL, serve, f);
    return f;
}

const char *fake_address(const fake_server *f) {
    return f->address;
}

void fake_set_mode(fake_server *f, fake_mode mode) {
    pthread_mutex_lock(&f->mu);
    f->mode = mode;
    pthread_mutex_unlock(&f->mu);
}

void fake_set_leader(fake_server *f, const char *leader) {
    pthread_mutex_lock(&f->mu);
    snprintf(f->leader, sizeof(f->leader), "%s", leader);
    f->mode = FAKE_FOLLOWER;
    pthread_mutex_unlock(&f->mu);
}

void fake_set_status(fake_server *f, int status, const char *message) {
    pthread_mutex_lock(&f->mu);
    f->status = status;
    snprintf(f->message, sizeof(f->message), "%s", message);
    f->mode = FAKE_STATUS;
    pthread_mutex_unlock(&f->mu);
}

void fake_fail_first(fake_server *f, int n) {
    pthread_mutex_lock(&f->mu);
    f->fail_first = n;
    pthread_mutex_unlock(&f->mu);
}

void fake_set_reply(fake_server *f, const uint8_t *bytes, size_t len, int count) {
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL) {
        abort();
    }
    memcpy(copy, bytes, len);
    pthread_mutex_lock(&f->mu);
    free(f->reply);
    f->reply = copy;
    f->reply_len = len;
    f->reply_count = count;
    f->mode = FAKE_OK;
    pthread_mutex_unlock(&f->mu);
}

void fake_set_handler(fake_server *f, fake_handler h, void *ctx) {
    pthread_mutex_lock(&f->mu);
    f->handler = h;
    f->handler_ctx = ctx;
    f->mode = FAKE_OK;
    pthread_mutex_unlock(&f->mu);
}

void fake_set_initial_metadata(fake_server *f, const char *key, const char *value) {
    pthread_mutex_lock(&f->mu);
    snprintf(f->md_key, sizeof(f->md_key), "%s", key ? key : "");
    snprintf(f->md_value, sizeof(f->md_value), "%s", value ? value : "");
    pthread_mutex_unlock(&f->mu);
}

size_t fake_calls(fake_server *f) {
    pthread_mutex_lock(&f->mu);
    size_t n = f->ncalls;
    pthread_mutex_unlock(&f->mu);
    return n;
}

const fake_call *fake_call_at(fake_server *f, size_t i) {
    pthread_mutex_lock(&f->mu);
    const fake_call *c = i < f->ncalls ? f->calls[i] : NULL;
    pthread_mutex_unlock(&f->mu);
    return c;
}

void fake_stop(fake_server *f) {
    if (f == NULL) {
        return;
    }
    grpc_server_shutdown_and_notify(f->srv, f->cq, TAG_SHUTDOWN);
    grpc_server_cancel_all_calls(f->srv);
    pthread_join(f->thread, NULL);
    grpc_server_destroy(f->srv);
    grpc_completion_queue_shutdown(f->cq);
    while (grpc_completion_queue_next(f->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(f->cq);
    for (size_t i = 0; i < f->ncalls; i++) {
        free(f->calls[i]->body);
        free(f->calls[i]);
    }
    free(f->reply);
    pthread_mutex_destroy(&f->mu);
    free(f);
    grpc_shutdown();
}
