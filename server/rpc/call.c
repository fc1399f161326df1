/* call.c - the life of one server call (internal.h): arrival, decoding, the answer batch,
 * server streaming one message at a time, the hop back from the Raft loop thread, and
 * the reference count that frees the call once its close and answer batches are done. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>

#include "core/error.h"
#include "crypto/hash.h"
#include "server/rpc/internal.h"

#define LEADER_KEY "strata-leader"
#define STALE_KEY "strata-stale"
#define AUTH_KEY "strata-auth-bin"

st_rpc *st_call_rpc(const st_call *c) {
    return c->rpc;
}

void st_call_set_ctx(st_call *c, void *ctx, void (*free_fn)(void *ctx)) {
    if (c->ctx_free != NULL) {
        c->ctx_free(c->ctx);
    }
    c->ctx = ctx;
    c->ctx_free = free_fn;
}

st_call *st_call_slot(st_method *m) {
    st_call *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->rpc = m->rpc;
    c->method = m;
    c->t_new = (st_tag){TAG_NEW, c};
    c->t_close = (st_tag){TAG_CLOSE, c};
    c->t_send = (st_tag){TAG_SEND, c};
    c->t_resume = (st_tag){TAG_RESUME, c};
    grpc_metadata_array_init(&c->md);
    return c;
}

void st_call_slot_free(st_call *c) {
    grpc_metadata_array_destroy(&c->md);
    if (c->payload != NULL) {
        grpc_byte_buffer_destroy(c->payload);
    }
    if (c->call != NULL) {
        grpc_call_unref(c->call);
    }
    free(c);
}

/* Releases what the answer batch held. */
static void release_answer(st_call *c) {
    if (c->out != NULL) {
        grpc_byte_buffer_destroy(c->out);
        c->out = NULL;
    }
    if (c->has_details) {
        grpc_slice_unref(c->details);
        c->has_details = false;
    }
    for (size_t i = 0; i < c->n_trailing; i++) {
        grpc_slice_unref(c->trailing[i].key);
        grpc_slice_unref(c->trailing[i].value);
    }
    c->n_trailing = 0;
    for (size_t i = c->next_stream; i < c->n_stream; i++) {
        grpc_byte_buffer_destroy(c->stream[i]);
    }
    free(c->stream);
    c->stream = NULL;
    c->n_stream = c->next_stream = 0;
}

static void unref(st_call *c) {
    if (atomic_fetch_sub(&c->refs, 1) != 1) {
        return;
    }
    st_rpc *r = c->rpc;
    release_answer(c);
    if (c->req != NULL) {
        protobuf_c_message_free_unpacked(c->req, NULL);
    }
    if (c->ctx_free != NULL) {
        c->ctx_free(c->ctx);
    }
    st_call_slot_free(c);
    pthread_mutex_lock(&r->mu);
    if (atomic_fetch_sub(&r->live, 1) == 1) {
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

/* Every call is answered once; a second answer is a bug in a handler. */
static bool claim_answer(st_call *c) {
    if (atomic_exchange(&c->answered, true)) {
        st_logf(c->rpc->cfg.log, ST_LOG_ERROR, "bug: %s answered twice", c->method->def->path);
        return false;
    }
    return true;
}

static void start_or_release(st_call *c, const grpc_op *ops, size_t n) {
    grpc_call_error e = grpc_call_start_batch(c->call, ops, n, &c->t_send, NULL);
    if (e != GRPC_CALL_OK) {
        st_logf(c->rpc->cfg.log, ST_LOG_ERROR, "%s: cannot send the answer: %s",
                c->method->def->path, grpc_call_error_to_string(e));
        release_answer(c);
        unref(c);
    }
}

/* The last batch: initial metadata (unless a stream sent it), the message if any, and
 * the status with `strata-leader` when leader is not NULL/"" (and `strata-stale` on an OK
 * answer the handler marked). Takes out. */
static void send_final(st_call *c, grpc_status_code code, const char *msg, grpc_byte_buffer *out,
                       const char *leader) {
    grpc_op ops[3];
    size_t n = 0;
    memset(ops, 0, sizeof(ops));
    if (!c->streaming) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    }
    if (out != NULL) {
        c->out = out;
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = out;
    }
    c->details = grpc_slice_from_copied_string(msg != NULL ? msg : "");
    c->has_details = true;
    if (leader != NULL && leader[0] != '\0') {
        c->trailing[c->n_trailing].key = grpc_slice_from_static_string(LEADER_KEY);
        c->trailing[c->n_trailing].value = grpc_slice_from_copied_string(leader);
        c->n_trailing++;
    }
    if (code == GRPC_STATUS_OK && c->stale != NULL) {
        c->trailing[c->n_trailing].key = grpc_slice_from_static_string(STALE_KEY);
        c->trailing[c->n_trailing].value = grpc_slice_from_static_string(c->stale);
        c->n_trailing++;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = code;
    ops[n].data.send_status_from_server.status_details = &c->details;
    ops[n].data.send_status_from_server.trailing_metadata_count = c->n_trailing;
    ops[n++].data.send_status_from_server.trailing_metadata = c->n_trailing ? c->trailing : NULL;
    c->final_sent = true;
    if (code != GRPC_STATUS_OK) {
        st_logf(c->rpc->cfg.log, ST_LOG_DEBUG, "%s -> status %d: %s", c->method->def->path,
                (int)code, msg != NULL ? msg : "");
    }
    start_or_release(c, ops, n);
}

grpc_byte_buffer *st_call_pack(const ProtobufCMessage *m) {
    size_t n = protobuf_c_message_get_packed_size(m);
    grpc_slice s = grpc_slice_malloc(n);
    protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(s));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

void st_call_ok(st_call *c, const ProtobufCMessage *resp) {
    size_t n = protobuf_c_message_get_packed_size(resp);
    if (n > c->rpc->cfg.max_message) {
        st_call_fail(c, GRPC_STATUS_RESOURCE_EXHAUSTED,
                     "the answer would be %zu bytes, over this server's limit of %zu", n,
                     c->rpc->cfg.max_message);
        return;
    }
    if (!claim_answer(c)) {
        return;
    }
    send_final(c, GRPC_STATUS_OK, "", st_call_pack(resp), NULL);
}

void st_call_fail(st_call *c, grpc_status_code code, const char *fmt, ...) {
    if (!claim_answer(c)) {
        return;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    send_final(c, code, msg, NULL, NULL);
}

void st_call_refuse(st_call *c, int st_code, const char *msg) {
    st_call_fail(c, st_rpc_status_of(st_code), "%s", msg);
}

void st_call_read_failed(st_call *c, int st_code, const char *fmt, ...) {
    if (st_code != ST_ENOENT) {
        st_call_fail(c, st_rpc_status_of(st_code), "reading the state failed: %s",
                     st_strerror(st_code));
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    st_call_fail(c, GRPC_STATUS_NOT_FOUND, "%s", msg);
}

void st_call_unavailable(st_call *c, const char *why) {
    if (!claim_answer(c)) {
        return;
    }
    char leader[ST_ROSTER_ADDR_MAX];
    bool self;
    if (!st_rpc_leader_hint(c->rpc, leader, sizeof(leader), &self)) {
        leader[0] = '\0';
    }
    send_final(c, GRPC_STATUS_UNAVAILABLE, why, NULL, leader);
}

void st_call_stream(st_call *c, grpc_byte_buffer **msgs, size_t n) {
    if (!claim_answer(c)) {
        for (size_t i = 0; i < n; i++) {
            grpc_byte_buffer_destroy(msgs[i]);
        }
        free(msgs);
        return;
    }
    if (n == 0) {
        free(msgs);
        send_final(c, GRPC_STATUS_OK, "", NULL, NULL);
        return;
    }
    c->stream = msgs;
    c->n_stream = n;
    c->next_stream = 1;
    c->streaming = true;
    c->out = msgs[0];
    grpc_op ops[2];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = c->out;
    start_or_release(c, ops, 2);
}

void st_call_on_send(st_call *c, bool ok) {
    if (c->streaming && !c->final_sent) {
        /* One message of the stream went out: send the next, or the status. */
        grpc_byte_buffer_destroy(c->out);
        c->out = NULL;
        if (ok && c->next_stream < c->n_stream) {
            c->out = c->stream[c->next_stream++];
            grpc_op op;
            memset(&op, 0, sizeof(op));
            op.op = GRPC_OP_SEND_MESSAGE;
            op.data.send_message.send_message = c->out;
            start_or_release(c, &op, 1);
            return;
        }
        send_final(c, ok ? GRPC_STATUS_OK : GRPC_STATUS_CANCELLED,
                   ok ? "" : "the stream was cut off", NULL, NULL);
        return;
    }
    release_answer(c);
    unref(c);
}

void st_call_on_close(st_call *c) {
    unref(c);
}

void st_call_on_resume(st_call *c) {
    c->resume(c);
}

/* Finds `strata-auth-bin` in the request's metadata (gRPC has decoded the -bin value). */
static void find_auth(st_call *c) {
    for (size_t i = 0; i < c->md.count; i++) {
        const grpc_metadata *m = &c->md.metadata[i];
        if (grpc_slice_str_cmp(m->key, AUTH_KEY) == 0) {
            if (c->auth_count++ == 0) {
                c->auth_bytes = GRPC_SLICE_START_PTR(m->value);
                c->auth_len = GRPC_SLICE_LENGTH(m->value);
            }
        }
    }
}

void st_call_begin(st_call *c) {
    atomic_fetch_add(&c->rpc->live, 1);
    atomic_store(&c->refs, 2); /* the close batch, and the answer */
    grpc_op op;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &c->cancelled;
    if (grpc_call_start_batch(c->call, &op, 1, &c->t_close, NULL) != GRPC_CALL_OK) {
        unref(c);
    }
    const st_method_def *def = c->method->def;
    if (c->payload == NULL) {
        st_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT, "%s needs a request message", def->path);
        return;
    }
    grpc_byte_buffer_reader rd;
    if (!grpc_byte_buffer_reader_init(&rd, c->payload)) {
        st_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT, "the request could not be decompressed");
        return;
    }
    grpc_slice s = grpc_byte_buffer_reader_readall(&rd);
    grpc_byte_buffer_reader_destroy(&rd);
    grpc_byte_buffer_destroy(c->payload);
    c->payload = NULL;
    find_auth(c);
    if (c->auth_count > 0) {
        /* What the client signed: the message exactly as it arrived (auth.c step 4). */
        st_hash_sha256(c->body_sha256, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
    }
    c->req =
        protobuf_c_message_unpack(def->input, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
    char field[128];
    bool text_ok = c->req == NULL || st_wire_text_ok(def->input, GRPC_SLICE_START_PTR(s),
                                                     GRPC_SLICE_LENGTH(s), field, sizeof(field));
    grpc_slice_unref(s);
    if (c->req == NULL) {
        st_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT, "the request is not a valid %s message",
                     def->input->name);
        return;
    }
    if (!text_ok) {
        st_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT,
                     "the request is not a valid %s message: text field %s holds a NUL byte; "
                     "text is UTF-8 without NUL",
                     def->input->name, field);
        return;
    }
    def->fn(c, c->req);
}
