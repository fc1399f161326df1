/* wire.c - raw gRPC calls with arbitrary payloads and metadata (wire.h). */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/core/check.h"
#include "tests/hostile/wire.h"

#define MAX_MD 8

struct hw_client {
    tc_cluster *cluster;
    grpc_channel *ch[TC_MAX_NODES + 1];
};

hw_client *hw_new(tc_cluster *c) {
    grpc_init();
    hw_client *h = calloc(1, sizeof(*h));
    CHECK(h != NULL);
    h->cluster = c;
    return h;
}

void hw_free(hw_client *h) {
    for (int i = 0; i <= TC_MAX_NODES; i++) {
        if (h->ch[i] != NULL) {
            grpc_channel_destroy(h->ch[i]);
        }
    }
    free(h);
    grpc_shutdown();
}

static grpc_channel *channel(hw_client *h, int id) {
    if (h->ch[id] == NULL) {
        grpc_arg args[] = {
            {GRPC_ARG_INTEGER, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, {.integer = -1}},
            {GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, {.integer = -1}},
            {GRPC_ARG_INTEGER, GRPC_ARG_ENABLE_RETRIES, {.integer = 0}},
            {GRPC_ARG_INTEGER, GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, {.integer = 100}},
            {GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, {.integer = 300}},
        };
        grpc_channel_args ca = {sizeof(args) / sizeof(args[0]), args};
        grpc_channel_credentials *creds = grpc_insecure_credentials_create();
        h->ch[id] = grpc_channel_create(tc_grpc_addr(h->cluster, id), creds, &ca);
        grpc_channel_credentials_release(creds);
    }
    return h->ch[id];
}

static void run_batch(grpc_call *call, grpc_completion_queue *cq, const grpc_op *ops, size_t n) {
    static int tag;
    CHECK(grpc_call_start_batch(call, ops, n, &tag, NULL) == GRPC_CALL_OK);
    grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    CHECK(ev.type == GRPC_OP_COMPLETE);
}

static void add_msg(hw_result *res, grpc_byte_buffer *bb) {
    grpc_byte_buffer_reader rd;
    CHECK(grpc_byte_buffer_reader_init(&rd, bb));
    grpc_slice s = grpc_byte_buffer_reader_readall(&rd);
    grpc_byte_buffer_reader_destroy(&rd);
    size_t n = GRPC_SLICE_LENGTH(s);
    res->msgs = realloc(res->msgs, (res->n_msgs + 1) * sizeof(*res->msgs));
    res->lens = realloc(res->lens, (res->n_msgs + 1) * sizeof(*res->lens));
    CHECK(res->msgs != NULL && res->lens != NULL);
    res->msgs[res->n_msgs] = malloc(n + 1);
    CHECK(res->msgs[res->n_msgs] != NULL);
    memcpy(res->msgs[res->n_msgs], GRPC_SLICE_START_PTR(s), n);
    res->lens[res->n_msgs++] = n;
    grpc_slice_unref(s);
}

int hw_call(hw_client *h, int id, const char *method, const void *body, size_t len, bool has_body,
            const hw_md *md, size_t n_md, hw_result *res, int timeout_ms) {
    memset(res, 0, sizeof(*res));
    CHECK(n_md <= MAX_MD);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
    grpc_slice path = grpc_slice_from_copied_string(method);
    grpc_call *call = grpc_channel_create_call(channel(h, id), NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                               path, NULL, deadline, NULL);
    grpc_slice_unref(path);
    CHECK(call != NULL);

    grpc_metadata meta[MAX_MD];
    memset(meta, 0, sizeof(meta));
    for (size_t i = 0; i < n_md; i++) {
        meta[i].key = grpc_slice_from_copied_string(md[i].key);
        meta[i].value = grpc_slice_from_copied_buffer(md[i].value, md[i].len);
    }
    grpc_byte_buffer *send = NULL;
    if (has_body) {
        grpc_slice s = grpc_slice_malloc(len);
        if (len > 0) {
            memcpy(GRPC_SLICE_START_PTR(s), body, len);
        }
        send = grpc_raw_byte_buffer_create(&s, 1);
        grpc_slice_unref(s);
    }
    grpc_metadata_array initial, trailing;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailing);

    grpc_op ops[4];
    size_t n = 0;
    memset(ops, 0, sizeof(ops));
    ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[n].data.send_initial_metadata.count = n_md;
    ops[n++].data.send_initial_metadata.metadata = n_md ? meta : NULL;
    if (send != NULL) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = send;
    }
    ops[n++].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[n++].data.recv_initial_metadata.recv_initial_metadata = &initial;
    run_batch(call, cq, ops, n);

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
        add_msg(res, recv);
        grpc_byte_buffer_destroy(recv);
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
    res->code = code;
    size_t dl = GRPC_SLICE_LENGTH(details);
    if (dl >= sizeof(res->details)) {
        dl = sizeof(res->details) - 1;
    }
    memcpy(res->details, GRPC_SLICE_START_PTR(details), dl);
    res->details[dl] = '\0';

    grpc_slice_unref(details);
    if (send != NULL) {
        grpc_byte_buffer_destroy(send);
    }
    for (size_t i = 0; i < n_md; i++) {
        grpc_slice_unref(meta[i].key);
        grpc_slice_unref(meta[i].value);
    }
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailing);
    grpc_call_unref(call);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(cq);
    return code;
}

void hw_result_free(hw_result *res) {
    for (size_t i = 0; i < res->n_msgs; i++) {
        free(res->msgs[i]);
    }
    free(res->msgs);
    free(res->lens);
    memset(res, 0, sizeof(*res));
}
