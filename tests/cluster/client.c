/* client.c - the cluster tests' gRPC client (client.h): one channel per node, one
 * completion queue per call, signing (the request envelope as `strata-auth-bin`), the unary
 * batch, the server-stream loop and leader following. */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/sign.h"
#include "tests/cluster/client.h"
#include "tests/core/check.h"

#define AUTH_KEY "strata-auth-bin"

struct tc_client {
    tc_cluster *cluster;
    pthread_mutex_t mu;
    grpc_channel *ch[TC_MAX_NODES + 1];
    atomic_int leader;
};

void tc_key_new(tc_key *k) {
    CHECK(st_crypto_init() == ST_OK);
    CHECK(st_sign_keypair(k->pk, k->sk) == ST_OK);
    st_key_id(k->id, k->pk);
    st_key_id_hex(k->hex, k->pk);
}

/* Milliseconds since the Unix epoch: the clock a request envelope is stamped with. */
static uint64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static size_t sign_bytes(const tc_key *key, const char *method, const uint8_t *body, size_t len,
                         int64_t skew_ms, uint8_t out[ST_REQUEST_MAX_LEN]) {
    st_request q;
    memset(&q, 0, sizeof(q));
    CHECK(strlen(method) <= ST_METHOD_MAX);
    strcpy(q.method, method);
    q.timestamp_ms = (uint64_t)((int64_t)wall_ms() + skew_ms);
    CHECK(getrandom(q.nonce, sizeof(q.nonce), 0) == (ssize_t)sizeof(q.nonce));
    CHECK(st_request_sign(&q, body, len, key->sk, NULL, 0) == ST_OK);
    st_canon_writer w;
    st_canon_writer_init(&w);
    CHECK(st_request_encode(&q, &w, NULL, 0) == ST_OK);
    size_t n = 0;
    const uint8_t *data = st_canon_writer_data(&w, &n);
    CHECK(n <= ST_REQUEST_MAX_LEN);
    memcpy(out, data, n);
    st_canon_writer_free(&w);
    return n;
}

size_t tc_sign(const tc_key *key, const char *method, const ProtobufCMessage *req, int64_t skew_ms,
               uint8_t out[ST_REQUEST_MAX_LEN]) {
    size_t n = protobuf_c_message_get_packed_size(req);
    uint8_t *body = malloc(n + 1);
    CHECK(body != NULL);
    protobuf_c_message_pack(req, body);
    size_t len = sign_bytes(key, method, body, n, skew_ms, out);
    free(body);
    return len;
}

tc_client *tc_client_new(tc_cluster *c) {
    grpc_init();
    tc_client *cl = calloc(1, sizeof(*cl));
    CHECK(cl != NULL);
    cl->cluster = c;
    pthread_mutex_init(&cl->mu, NULL);
    return cl;
}

void tc_client_free(tc_client *cl) {
    for (int i = 0; i <= TC_MAX_NODES; i++) {
        if (cl->ch[i] != NULL) {
            grpc_channel_destroy(cl->ch[i]);
        }
    }
    pthread_mutex_destroy(&cl->mu);
    free(cl);
    grpc_shutdown();
}

int tc_client_leader(tc_client *cl) {
    return atomic_load(&cl->leader);
}

static grpc_channel *channel(tc_client *cl, int id) {
    pthread_mutex_lock(&cl->mu);
    if (cl->ch[id] == NULL) {
        grpc_arg args[] = {
            /* A node that comes back is found again quickly: after refused connects the
             * channel re-resolves, which gRPC otherwise rate-limits to once in 30 s (a node
             * that starts late would stay unreachable for about 5 s). */
            {GRPC_ARG_INTEGER, GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS, {.integer = 100}},
            {GRPC_ARG_INTEGER, GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, {.integer = 100}},
            {GRPC_ARG_INTEGER, GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, {.integer = 100}},
            {GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, {.integer = 300}},
            {GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, {.integer = 64 << 20}},
            {GRPC_ARG_INTEGER, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, {.integer = 64 << 20}},
            {GRPC_ARG_INTEGER, GRPC_ARG_ENABLE_RETRIES, {.integer = 0}},
        };
        grpc_channel_args ca = {sizeof(args) / sizeof(args[0]), args};
        grpc_channel_credentials *creds = grpc_insecure_credentials_create();
        cl->ch[id] = grpc_channel_create(tc_grpc_addr(cl->cluster, id), creds, &ca);
        grpc_channel_credentials_release(creds);
    }
    grpc_channel *ch = cl->ch[id];
    pthread_mutex_unlock(&cl->mu);
    return ch;
}

static grpc_byte_buffer *pack(const ProtobufCMessage *m) {
    size_t n = protobuf_c_message_get_packed_size(m);
    grpc_slice s = grpc_slice_malloc(n);
    protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(s));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

static ProtobufCMessage *unpack(const ProtobufCMessageDescriptor *d, grpc_byte_buffer *bb) {
    grpc_byte_buffer_reader rd;
    CHECK(grpc_byte_buffer_reader_init(&rd, bb));
    grpc_slice s = grpc_byte_buffer_reader_readall(&rd);
    grpc_byte_buffer_reader_destroy(&rd);
    ProtobufCMessage *m =
        protobuf_c_message_unpack(d, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
    grpc_slice_unref(s);
    return m;
}

/* Runs one batch on the call's own queue and waits for it. */
static int run_batch(grpc_call *call, grpc_completion_queue *cq, const grpc_op *ops, size_t n) {
    static int tag;
    CHECK(grpc_call_start_batch(call, ops, n, &tag, NULL) == GRPC_CALL_OK);
    grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    CHECK(ev.type == GRPC_OP_COMPLETE);
    return ev.success;
}

static void close_queue(grpc_completion_queue *cq) {
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(cq);
}

static void read_status(tc_status *st, int id, grpc_status_code code, grpc_slice details,
                        const grpc_metadata_array *trailing) {
    st->code = code;
    st->node = id;
    size_t dl = GRPC_SLICE_LENGTH(details);
    if (dl >= sizeof(st->details)) {
        dl = sizeof(st->details) - 1;
    }
    memcpy(st->details, GRPC_SLICE_START_PTR(details), dl);
    st->details[dl] = '\0';
    st->leader[0] = '\0';
    for (size_t i = 0; i < trailing->count; i++) {
        const grpc_metadata *m = &trailing->metadata[i];
        if (grpc_slice_str_cmp(m->key, "strata-leader") == 0) {
            size_t vl = GRPC_SLICE_LENGTH(m->value);
            if (vl < sizeof(st->leader)) {
                memcpy(st->leader, GRPC_SLICE_START_PTR(m->value), vl);
                st->leader[vl] = '\0';
            }
        }
    }
}

static grpc_call *new_call(tc_client *cl, int id, const char *method, grpc_completion_queue *cq,
                           int timeout_ms) {
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
    /* Copied: gRPC's header compression keeps the path slice after the call ends, and
     * method may be the caller's stack buffer. */
    grpc_slice m = grpc_slice_from_copied_string(method);
    grpc_call *call = grpc_channel_create_call(channel(cl, id), NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                               m, NULL, deadline, NULL);
    grpc_slice_unref(m);
    CHECK(call != NULL);
    return call;
}

/* One unary call; env (env_len bytes) is attached as strata-auth-bin when not NULL, else
 * key (when not NULL) signs the request bytes. */
static int unary(tc_client *cl, const tc_key *key, const uint8_t *env, size_t env_len, int id,
                 const char *method, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *out, ProtobufCMessage **resp, tc_status *st,
                 int timeout_ms) {
    if (resp != NULL) {
        *resp = NULL;
    }
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    grpc_call *call = new_call(cl, id, method, cq, timeout_ms);
    grpc_byte_buffer *send = pack(req), *recv = NULL;
    uint8_t signed_env[ST_REQUEST_MAX_LEN];
    if (env == NULL && key != NULL) {
        env_len = tc_sign(key, method, req, 0, signed_env);
        env = signed_env;
    }
    grpc_metadata md;
    memset(&md, 0, sizeof(md));
    if (env != NULL) {
        md.key = grpc_slice_from_static_string(AUTH_KEY);
        md.value = grpc_slice_from_copied_buffer((const char *)env, env_len);
    }
    grpc_metadata_array initial, trailing;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailing);
    grpc_status_code code = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    grpc_op ops[6];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = env != NULL ? 1 : 0;
    ops[0].data.send_initial_metadata.metadata = env != NULL ? &md : NULL;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.status = &code;
    ops[5].data.recv_status_on_client.status_details = &details;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing;
    run_batch(call, cq, ops, 6);
    tc_status local;
    if (st == NULL) {
        st = &local;
    }
    read_status(st, id, code, details, &trailing);
    if (code == GRPC_STATUS_OK && recv != NULL && resp != NULL) {
        *resp = unpack(out, recv);
        if (*resp == NULL) {
            st->code = GRPC_STATUS_INTERNAL;
            snprintf(st->details, sizeof(st->details), "answer is not a valid %s", out->name);
        }
    } else if (code == GRPC_STATUS_OK && recv == NULL) {
        st->code = GRPC_STATUS_INTERNAL;
        snprintf(st->details, sizeof(st->details), "OK without a message");
    }
    if (recv != NULL) {
        grpc_byte_buffer_destroy(recv);
    }
    if (env != NULL) {
        grpc_slice_unref(md.value);
    }
    grpc_byte_buffer_destroy(send);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailing);
    grpc_call_unref(call);
    close_queue(cq);
    return st->code;
}

int tc_unary(tc_client *cl, int id, const char *method, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *out, ProtobufCMessage **resp, tc_status *st,
             int timeout_ms) {
    return unary(cl, NULL, NULL, 0, id, method, req, out, resp, st, timeout_ms);
}

int tc_unary_as(tc_client *cl, const tc_key *key, int id, const char *method,
                const ProtobufCMessage *req, const ProtobufCMessageDescriptor *out,
                ProtobufCMessage **resp, tc_status *st, int timeout_ms) {
    return unary(cl, key, NULL, 0, id, method, req, out, resp, st, timeout_ms);
}

int tc_unary_env(tc_client *cl, int id, const char *method, const ProtobufCMessage *req,
                 const uint8_t *env, size_t env_len, const ProtobufCMessageDescriptor *out,
                 ProtobufCMessage **resp, tc_status *st, int timeout_ms) {
    return unary(cl, NULL, env, env_len, id, method, req, out, resp, st, timeout_ms);
}

int tc_leader_call(tc_client *cl, const char *method, const ProtobufCMessage *req,
                   const ProtobufCMessageDescriptor *out, ProtobufCMessage **resp, tc_status *st,
                   int total_ms) {
    return tc_leader_call_as(cl, NULL, method, req, out, resp, st, total_ms);
}

int tc_leader_call_as(tc_client *cl, const tc_key *key, const char *method,
                      const ProtobufCMessage *req, const ProtobufCMessageDescriptor *out,
                      ProtobufCMessage **resp, tc_status *st, int total_ms) {
    uint64_t until = tc_now_ms() + (uint64_t)total_ms;
    int target = atomic_load(&cl->leader);
    if (target == 0) {
        target = 1;
    }
    int attempts = 0, code;
    for (;;) {
        uint64_t now = tc_now_ms();
        int left = now < until ? (int)(until - now) : 1;
        code =
            unary(cl, key, NULL, 0, target, method, req, out, resp, st, left < 3000 ? left : 3000);
        attempts++;
        st->attempts = attempts;
        if (code != GRPC_STATUS_UNAVAILABLE && code != GRPC_STATUS_DEADLINE_EXCEEDED) {
            if (code == GRPC_STATUS_OK) {
                atomic_store(&cl->leader, target);
            }
            return code;
        }
        if (tc_now_ms() >= until) {
            return code;
        }
        int hinted = st->leader[0] != '\0' ? tc_node_of_addr(cl->cluster, st->leader) : 0;
        if (hinted != 0 && hinted != target) {
            target = hinted; /* follow strata-leader at once */
            continue;
        }
        if (hinted == 0) {
            target = target % TC_MAX_NODES + 1; /* no leader named: ask the next node */
        }
        tc_sleep_ms(hinted == target ? 100 : 30);
    }
}

int tc_stream(tc_client *cl, int id, const char *method, const ProtobufCMessage *req,
              const ProtobufCMessageDescriptor *out, ProtobufCMessage ***msgs, size_t *n,
              tc_status *st, int timeout_ms) {
    *msgs = NULL;
    *n = 0;
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    grpc_call *call = new_call(cl, id, method, cq, timeout_ms);
    grpc_byte_buffer *send = pack(req);
    grpc_metadata_array initial, trailing;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailing);
    grpc_op ops[4];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
    run_batch(call, cq, ops, 4);
    size_t cap = 0;
    bool bad = false;
    for (;;) {
        grpc_byte_buffer *recv = NULL;
        grpc_op op;
        memset(&op, 0, sizeof(op));
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &recv;
        run_batch(call, cq, &op, 1);
        if (recv == NULL) {
            break;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *msgs = realloc(*msgs, cap * sizeof(**msgs));
            CHECK(*msgs != NULL);
        }
        ProtobufCMessage *m = unpack(out, recv);
        grpc_byte_buffer_destroy(recv);
        if (m == NULL) {
            bad = true;
            continue;
        }
        (*msgs)[(*n)++] = m;
    }
    grpc_status_code code = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    grpc_op op;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    op.data.recv_status_on_client.status = &code;
    op.data.recv_status_on_client.status_details = &details;
    op.data.recv_status_on_client.trailing_metadata = &trailing;
    run_batch(call, cq, &op, 1);
    tc_status local;
    if (st == NULL) {
        st = &local;
    }
    read_status(st, id, code, details, &trailing);
    if (bad && st->code == GRPC_STATUS_OK) {
        st->code = GRPC_STATUS_INTERNAL;
        snprintf(st->details, sizeof(st->details), "a streamed message is not a valid %s",
                 out->name);
    }
    grpc_byte_buffer_destroy(send);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailing);
    grpc_call_unref(call);
    close_queue(cq);
    return st->code;
}

void tc_free_msgs(ProtobufCMessage **msgs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        protobuf_c_message_free_unpacked(msgs[i], NULL);
    }
    free(msgs);
}
