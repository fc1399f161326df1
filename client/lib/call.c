/* call.c - the call engine: one attempt at one node (unary or server streaming, signed with
 * the handle's key), and the rounds over the cluster that follow the leader rules:
 *
 *   - a node answering UNAVAILABLE with trailing metadata `strata-leader: ADDR` is a
 *     follower: the next attempt goes to ADDR at once (learned if not in the list);
 *   - UNAVAILABLE without it (node down, no leader yet, outcome unknown), or an attempt that
 *     ran out of its own deadline: the next address of the list;
 *   - once every address has failed in a round (or redirects go round in circles), pause
 *     (back-off from backoff_min_ms doubling to backoff_max_ms, with jitter) and go again;
 *   - any other status is the service's answer and ends the call;
 *   - past the overall deadline: ST_FAIL_UNREACHABLE, naming every address tried and why.
 *
 * The request bytes are packed once, so a write's request_id is the same on every attempt;
 * the `strata-auth-bin` envelope is signed afresh per attempt (new nonce and time), since a
 * node may remember nonces it has seen.
 */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/lib/internal.h"
#include "crypto/request.h"

#define AUTH_KEY "strata-auth-bin"
#define LEADER_KEY "strata-leader"
#define STALE_KEY "strata-stale"
#define WHY_MAX 160
/* How long past a call's deadline the waiting thread gives gRPC before cancelling. */
#define CANCEL_GRACE_MS 5000

typedef enum { ATTEMPT_DONE, ATTEMPT_NEXT, ATTEMPT_LEADER } attempt_outcome;

/* One operation: its request, what to do with replies, and what the last attempt saw. */
typedef struct {
    const char *method;
    const uint8_t *body;
    size_t len;
    const ProtobufCMessageDescriptor *desc;
    bool stream;
    st_stream_fn fn; /* streams */
    void *ctx;

    int rc;                 /* ATTEMPT_DONE: the result */
    ProtobufCMessage *resp; /* unary success: caller-owned */
    uint64_t delivered;     /* stream: messages handed to fn */
    int stale;              /* `strata-stale`: 1, 0, -1 absent */
    int status;             /* last gRPC status seen, -1 none */
    char leader[ST_CLIENT_ADDRESS_MAX + 1];
    char why[WHY_MAX];
} call_state;

int st__pack(const ProtobufCMessage *m, uint8_t **out, size_t *len, st_error *err) {
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n > 0 ? n : 1);
    if (buf == NULL) {
        return st__fail(err, ST_FAIL_LOCAL, ST_ENOMEM, "out of memory packing a %zu-byte request",
                        n);
    }
    protobuf_c_message_pack(m, buf);
    *out = buf;
    *len = n;
    return ST_OK;
}

/* The signed envelope for one attempt, as a new slice in *value (*have = false without a
 * key). */
static int make_auth(st_client *c, const call_state *s, grpc_slice *value, bool *have,
                     st_error *err) {
    uint8_t sk[ST_SIGN_SK_LEN];
    pthread_mutex_lock(&c->mu);
    *have = c->key != NULL;
    if (*have) {
        memcpy(sk, c->key->sk, sizeof(sk));
    }
    pthread_mutex_unlock(&c->mu);
    if (!*have) {
        return ST_OK;
    }
    st_request q;
    memset(&q, 0, sizeof(q));
    size_t mlen = strlen(s->method);
    if (mlen == 0 || mlen > ST_METHOD_MAX) {
        sodium_memzero(sk, sizeof(sk));
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "method path \"%.40s\" is not 1..%d bytes",
                        s->method, ST_METHOD_MAX);
    }
    memcpy(q.method, s->method, mlen + 1);
    q.timestamp_ms = st__wall_ms();
    st__random(q.nonce, sizeof(q.nonce));
    char msg[256];
    int rc = st_request_sign(&q, s->body, s->len, sk, msg, sizeof(msg));
    sodium_memzero(sk, sizeof(sk));
    st_canon_writer w;
    st_canon_writer_init(&w);
    if (rc == ST_OK) {
        rc = st_request_encode(&q, &w, msg, sizeof(msg));
    }
    if (rc != ST_OK) {
        st_canon_writer_free(&w);
        *have = false;
        return st__fail(err, ST_FAIL_LOCAL, rc, "cannot sign the request: %s", msg);
    }
    size_t n = 0;
    const uint8_t *data = st_canon_writer_data(&w, &n);
    *value = grpc_slice_from_copied_buffer((const char *)data, n);
    st_canon_writer_free(&w);
    return ST_OK;
}

/* The value of metadata key in a or b (first found), copied as a string into out. */
static bool md_get(const grpc_metadata_array *a, const grpc_metadata_array *b, const char *key,
                   char *out, size_t cap) {
    const grpc_metadata_array *arrays[2] = {a, b};
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < arrays[k]->count; i++) {
            const grpc_metadata *m = &arrays[k]->metadata[i];
            if (grpc_slice_str_cmp(m->key, key) == 0) {
                size_t n = GRPC_SLICE_LENGTH(m->value);
                if (n >= cap) {
                    n = cap - 1;
                }
                memcpy(out, GRPC_SLICE_START_PTR(m->value), n);
                out[n] = '\0';
                return true;
            }
        }
    }
    return false;
}

/* Decodes a received message of s->desc; NULL when it is not one. */
static ProtobufCMessage *decode(const call_state *s, grpc_byte_buffer *bb) {
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb)) {
        return NULL;
    }
    grpc_slice all = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    ProtobufCMessage *m =
        protobuf_c_message_unpack(s->desc, NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
    grpc_slice_unref(all);
    return m;
}

/* A short reason for the list of addresses tried: gRPC's connection errors are long.
 * Failed TLS handshakes start with "TLS" (the strata program adds what to do). */
static void short_reason(grpc_status_code status, const char *details, char *out, size_t cap) {
    const char *handshake = strstr(details, "andshake failed");
    if (status == GRPC_STATUS_UNAVAILABLE && strstr(details, "Connection refused") != NULL) {
        snprintf(out, cap, "connection refused");
    } else if (handshake != NULL && strstr(handshake, "certificate verify failed") != NULL) {
        snprintf(out, cap, "TLS: the node's certificate is not signed by a trusted CA");
    } else if (handshake != NULL && strstr(handshake, "wrong version number") != NULL) {
        snprintf(out, cap, "TLS: the node does not answer in TLS (plaintext?)");
    } else if (strstr(details, "Peer name") != NULL &&
               strstr(details, "not in peer certificate") != NULL) {
        snprintf(out, cap, "TLS: the node's certificate does not name this address");
    } else if (handshake != NULL) {
        const char *why = strstr(handshake, "SSL routines::");
        snprintf(out, cap, "TLS handshake failed: %.100s", why != NULL ? why + 14 : handshake + 15);
    } else if (status == GRPC_STATUS_UNAVAILABLE && strstr(details, "Socket closed") != NULL) {
        snprintf(out, cap, "connection closed by the node");
    } else if (status == GRPC_STATUS_UNAVAILABLE &&
               strstr(details, "failed to connect to all addresses") != NULL) {
        snprintf(out, cap, "cannot connect");
    } else if (status == GRPC_STATUS_DEADLINE_EXCEEDED) {
        snprintf(out, cap, "no answer in time");
    } else {
        snprintf(out, cap, "%s: %.120s", st_grpc_status_name(status),
                 details[0] ? details : "no message");
    }
}

/* Turns the final status of an attempt into its outcome. */
static attempt_outcome judge(call_state *s, const char *addr, grpc_status_code status,
                             const char *details, const grpc_metadata_array *imd,
                             const grpc_metadata_array *tmd, st_error *err) {
    s->status = (int)status;
    char stale[8];
    if (md_get(imd, tmd, STALE_KEY, stale, sizeof(stale))) {
        s->stale = strcmp(stale, "0") == 0 ? 0 : 1;
    }
    if (status == GRPC_STATUS_OK) {
        return ATTEMPT_DONE; /* the caller of judge checks the message */
    }
    bool retryable = status == GRPC_STATUS_UNAVAILABLE || status == GRPC_STATUS_DEADLINE_EXCEEDED;
    if (retryable && s->delivered == 0) {
        if (status == GRPC_STATUS_UNAVAILABLE &&
            md_get(imd, tmd, LEADER_KEY, s->leader, sizeof(s->leader)) && s->leader[0] != '\0') {
            snprintf(s->why, sizeof(s->why), "not the leader; leader is %.120s", s->leader);
            return ATTEMPT_LEADER;
        }
        short_reason(status, details, s->why, sizeof(s->why));
        return ATTEMPT_NEXT;
    }
    if (retryable) {
        s->rc = st__fail(err, ST_FAIL_UNREACHABLE, ST_EIO,
                         "the stream from %s broke after %llu messages: %s: %s", addr,
                         (unsigned long long)s->delivered, st_grpc_status_name(status), details);
    } else {
        s->rc = st__fail(err, ST_FAIL_REFUSED, st_code_from_grpc(status), "%s",
                         details[0] ? details : st_grpc_status_name(status));
    }
    if (err != NULL) {
        err->grpc_status = (int)status;
    }
    return ATTEMPT_DONE;
}

/* One attempt at the node addrs[target], with the whole call over by call_end (monotonic
 * ms). Unary: one batch of the six operations. Stream: send and initial metadata, then one
 * RECV_MESSAGE batch at a time until the end, then the status. */
static attempt_outcome attempt(st_client *c, size_t target, call_state *s, int64_t call_end,
                               st_error *err) {
    char addr[ST_CLIENT_ADDRESS_MAX + 1];
    st__client_address_copy(c, target, addr);
    s->leader[0] = '\0';
    s->why[0] = '\0';
    grpc_channel *ch = st__client_channel(c, target);
    if (ch == NULL) {
        snprintf(s->why, sizeof(s->why), "cannot open a channel");
        return ATTEMPT_NEXT;
    }
    grpc_slice auth = grpc_empty_slice();
    bool have_auth = false;
    s->rc = make_auth(c, s, &auth, &have_auth, err);
    if (s->rc != ST_OK) {
        return ATTEMPT_DONE;
    }
    int64_t left = call_end - st__mono_ms();
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                         gpr_time_from_millis(left > 1 ? left : 1, GPR_TIMESPAN));
    grpc_slice method = grpc_slice_from_copied_string(s->method);
    grpc_call *call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq, method,
                                               NULL, deadline, NULL);
    if (call == NULL) {
        grpc_slice_unref(method);
        grpc_slice_unref(auth);
        snprintf(s->why, sizeof(s->why), "cannot start a call");
        return ATTEMPT_NEXT;
    }
    grpc_metadata md[1];
    memset(md, 0, sizeof(md));
    md[0].key = grpc_slice_from_static_string(AUTH_KEY);
    md[0].value = auth;
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)s->body, s->len);
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&body, 1);
    grpc_slice_unref(body);
    grpc_metadata_array imd, tmd;
    grpc_metadata_array_init(&imd);
    grpc_metadata_array_init(&tmd);
    grpc_byte_buffer *recv = NULL;
    grpc_status_code status = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    st__wait w;
    st__wait_init(&w);
    int64_t cancel_at = call_end + CANCEL_GRACE_MS;

    grpc_op ops[6];
    memset(ops, 0, sizeof(ops));
    size_t n = 0;
    ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[n].data.send_initial_metadata.count = have_auth ? 1 : 0;
    ops[n].data.send_initial_metadata.metadata = md;
    n++;
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n].data.send_message.send_message = send;
    n++;
    ops[n].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    n++;
    ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[n].data.recv_initial_metadata.recv_initial_metadata = &imd;
    n++;
    grpc_op status_op;
    memset(&status_op, 0, sizeof(status_op));
    status_op.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    status_op.data.recv_status_on_client.trailing_metadata = &tmd;
    status_op.data.recv_status_on_client.status = &status;
    status_op.data.recv_status_on_client.status_details = &details;
    if (!s->stream) {
        ops[n].op = GRPC_OP_RECV_MESSAGE;
        ops[n].data.recv_message.recv_message = &recv;
        n++;
        ops[n++] = status_op;
    }
    int started = st__batch(call, ops, n, &w, cancel_at);
    int stopped = 0; /* a stream callback's non-zero return */
    bool bad_message = false;
    if (s->stream && started >= 0) {
        while (started == 1 && !stopped && !bad_message) {
            grpc_op r;
            memset(&r, 0, sizeof(r));
            r.op = GRPC_OP_RECV_MESSAGE;
            r.data.recv_message.recv_message = &recv;
            if (st__batch(call, &r, 1, &w, cancel_at) != 1 || recv == NULL) {
                break;
            }
            ProtobufCMessage *m = decode(s, recv);
            grpc_byte_buffer_destroy(recv);
            recv = NULL;
            if (m == NULL) {
                bad_message = true;
                grpc_call_cancel(call, NULL);
                break;
            }
            s->delivered++;
            stopped = s->fn(s->ctx, m);
            protobuf_c_message_free_unpacked(m, NULL);
            if (stopped) {
                grpc_call_cancel(call, NULL);
            }
        }
        started = st__batch(call, &status_op, 1, &w, cancel_at);
    }

    char *det = grpc_slice_to_c_string(details);
    attempt_outcome out;
    if (started < 0) {
        s->rc = st__fail(err, ST_FAIL_LOCAL, ST_EIO, "gRPC refused to start the call to %s", addr);
        out = ATTEMPT_DONE;
    } else if (started == 0) {
        snprintf(s->why, sizeof(s->why), "the call failed before a status");
        out = ATTEMPT_NEXT;
    } else if (stopped) {
        s->rc = st__fail(err, ST_FAIL_LOCAL, stopped, "stopped by the caller after %llu messages",
                         (unsigned long long)s->delivered);
        out = ATTEMPT_DONE;
    } else if (bad_message) {
        s->rc = st__fail(err, ST_FAIL_REFUSED, ST_ECORRUPT,
                         "%s sent a message of %s that cannot be decoded as %s; check that the "
                         "strata client and the cluster are the same version",
                         addr, s->method, s->desc->name);
        out = ATTEMPT_DONE;
    } else {
        out = judge(s, addr, status, det != NULL ? det : "", &imd, &tmd, err);
        if (out == ATTEMPT_DONE && status == GRPC_STATUS_OK) {
            s->rc = ST_OK;
            if (!s->stream) {
                s->resp = recv != NULL ? decode(s, recv) : NULL;
                if (s->resp == NULL) {
                    s->rc = st__fail(err, ST_FAIL_REFUSED, ST_ECORRUPT,
                                     "%s answered %s without a readable %s; check that the strata "
                                     "client and the cluster are the same version",
                                     addr, s->method, s->desc->name);
                }
            }
        }
    }
    gpr_free(det);
    if (recv != NULL) {
        grpc_byte_buffer_destroy(recv);
    }
    grpc_byte_buffer_destroy(send);
    grpc_metadata_array_destroy(&imd);
    grpc_metadata_array_destroy(&tmd);
    grpc_slice_unref(details);
    grpc_call_unref(call);
    grpc_slice_unref(method);
    grpc_slice_unref(auth);
    st__wait_destroy(&w);
    return out;
}

/* Appends "addr (why)" for each address tried, in the order first tried. */
static void tried_list(st_client *c, const size_t *order, size_t norder, char why[][WHY_MAX],
                       char *out, size_t cap) {
    size_t o = 0;
    out[0] = '\0';
    for (size_t k = 0; k < norder && o < cap; k++) {
        char addr[ST_CLIENT_ADDRESS_MAX + 1];
        st__client_address_copy(c, order[k], addr);
        int w = snprintf(out + o, cap - o, "%s%s (%s)", k ? ", " : "", addr, why[order[k]]);
        if (w < 0) {
            break;
        }
        o += (size_t)w;
    }
}

/* The rounds over the cluster (see the top of the file). */
static int run(st_client *c, call_state *s, const st_call_options *o, bool write, st_error *err) {
    uint32_t total = o != NULL && o->deadline_ms ? o->deadline_ms
                     : s->stream                 ? ST_CLIENT_STREAM_MS
                                                 : c->deadline_ms;
    int64_t start = st__mono_ms();
    int64_t end = start + total;
    bool pinned = o != NULL && o->address != NULL;
    size_t target, cursor;
    if (pinned) {
        target = st__client_address_index(c, o->address);
        if (target == SIZE_MAX) {
            if (c->plaintext && !st_address_is_loopback(o->address)) {
                return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                                "address \"%.300s\" is not on this machine: a plaintext "
                                "handle only dials loopback addresses (use TLS)",
                                o->address);
            }
            return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "address \"%.300s\" is not host:port",
                            o->address);
        }
        cursor = target;
    } else {
        pthread_mutex_lock(&c->mu);
        target = c->preferred;
        pthread_mutex_unlock(&c->mu);
        cursor = target < c->nconf ? target : c->nconf - 1;
    }
    char why[ST__ADDRS_CAP][WHY_MAX];
    size_t order[ST__ADDRS_CAP];
    size_t norder = 0;
    size_t fails = 0, redirects = 0;
    uint32_t backoff = c->backoff_min_ms;
    s->status = -1;
    s->stale = -1;

    for (;;) {
        int64_t now = st__mono_ms();
        if (now >= end) {
            break;
        }
        int64_t call_end = s->stream ? end : now + c->attempt_ms;
        if (call_end > end) {
            call_end = end;
        }
        attempt_outcome out = attempt(c, target, s, call_end, err);
        if (out == ATTEMPT_DONE) {
            if (s->rc == ST_OK && !pinned) {
                pthread_mutex_lock(&c->mu);
                c->preferred = target;
                pthread_mutex_unlock(&c->mu);
            }
            if (o != NULL && o->answered_by != NULL) {
                st__client_address_copy(c, target, o->answered_by);
            }
            return s->rc;
        }
        bool seen = false;
        for (size_t k = 0; k < norder; k++) {
            seen |= order[k] == target;
        }
        if (!seen && norder < ST__ADDRS_CAP) {
            order[norder++] = target;
        }
        memcpy(why[target], s->why, WHY_MAX);

        if (out == ATTEMPT_LEADER && !pinned) {
            size_t li = st__client_address_index(c, s->leader);
            if (li != SIZE_MAX && li != target && redirects <= c->nconf) {
                redirects++;
                target = li;
                continue;
            }
        }
        fails++;
        if (!pinned && fails < c->nconf) {
            cursor = (cursor + 1) % c->nconf;
            target = cursor;
            continue;
        }
        /* A round is over: pause, then go round again. */
        int64_t pause = backoff / 2 + st__random_below(backoff / 2 + 1);
        int64_t left = end - st__mono_ms();
        st__sleep_ms(pause < left ? pause : left);
        backoff = backoff * 2 > c->backoff_max_ms ? c->backoff_max_ms : backoff * 2;
        fails = 0;
        redirects = 0;
        if (!pinned) {
            cursor = (cursor + 1) % c->nconf;
            target = cursor;
        }
    }

    char tried[ST_ERROR_TRIED_MAX];
    tried_list(c, order, norder, why, tried, sizeof(tried));
    int64_t spent = st__mono_ms() - start;
    st__fail(err, ST_FAIL_UNREACHABLE, write ? ST_EUNKNOWN : ST_EIO,
             "cannot reach the cluster within %lld.%lld s: tried %s%s", (long long)(spent / 1000),
             (long long)(spent % 1000 / 100), tried,
             write ? "; if a node received the request it may still be applied, so check before "
                     "repeating it"
                   : "");
    if (err != NULL) {
        err->grpc_status = s->status;
        snprintf(err->tried, sizeof(err->tried), "%s", tried);
    }
    return write ? ST_EUNKNOWN : ST_EIO;
}

static int call_common(st_client *c, call_state *s, const ProtobufCMessage *req,
                       const st_call_options *opts, bool write, st_error *err) {
    uint8_t *body = NULL;
    size_t len = 0;
    int rc = st__pack(req, &body, &len, err);
    if (rc != ST_OK) {
        return rc;
    }
    s->body = body;
    s->len = len;
    rc = run(c, s, opts, write, err);
    free(body);
    if (opts != NULL && opts->stale != NULL) {
        *opts->stale = s->stale;
    }
    return rc;
}

int st_client_unary(st_client *c, const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp_desc, const st_call_options *opts,
                    ProtobufCMessage **resp, st_error *err) {
    if (c == NULL || method == NULL || req == NULL || resp_desc == NULL || resp == NULL) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "st_client_unary: a required argument is "
                        "NULL");
    }
    if (opts != NULL && opts->answered_by != NULL) {
        opts->answered_by[0] = '\0';
    }
    call_state s;
    memset(&s, 0, sizeof(s));
    s.method = method;
    s.desc = resp_desc;
    int rc = call_common(c, &s, req, opts, opts != NULL && opts->write, err);
    if (rc == ST_OK) {
        *resp = s.resp;
        st_error_clear(err);
    }
    return rc;
}

int st_client_stream(st_client *c, const char *method, const ProtobufCMessage *req,
                     const ProtobufCMessageDescriptor *msg_desc, const st_call_options *opts,
                     st_stream_fn fn, void *ctx, uint64_t *count, st_error *err) {
    if (c == NULL || method == NULL || req == NULL || msg_desc == NULL || fn == NULL) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "st_client_stream: a required argument is "
                        "NULL");
    }
    if (opts != NULL && opts->answered_by != NULL) {
        opts->answered_by[0] = '\0';
    }
    call_state s;
    memset(&s, 0, sizeof(s));
    s.method = method;
    s.desc = msg_desc;
    s.stream = true;
    s.fn = fn;
    s.ctx = ctx;
    int rc = call_common(c, &s, req, opts, false, err);
    if (count != NULL) {
        *count = s.delivered;
    }
    if (rc == ST_OK) {
        st_error_clear(err);
    }
    return rc;
}

int st__unary(st_client *c, const char *method, const ProtobufCMessage *req,
              const ProtobufCMessageDescriptor *desc, bool write, ProtobufCMessage **resp,
              st_error *err) {
    st_call_options o;
    memset(&o, 0, sizeof(o));
    o.write = write;
    return st_client_unary(c, method, req, desc, &o, resp, err);
}
