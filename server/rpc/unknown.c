/* unknown.c - calls of methods this server does not serve.
 *
 * gRPC C core hands a call whose path matches no registered method only to a generic
 * request (grpc_server_request_call). Without one such a call waits, holding its memory,
 * until the client's deadline: a client could pile up calls of "/x" for free, and an
 * honest client with a typo waits instead of learning its mistake. One generic slot is kept
 * waiting; each unknown call is answered at once UNIMPLEMENTED, naming the path, and the
 * slot re-armed. The answer and the close are two batches (as for every call, call.c), the
 * slot freed when both have completed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/slice.h>

#include "server/rpc/internal.h"

struct st_unknown {
    st_rpc *rpc;
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array md;
    st_tag t_new, t_done;
    int cancelled;
    atomic_int pending; /* batches still to complete: the close and the answer */
    grpc_slice msg;
};

static void slot_free(st_unknown *u) {
    grpc_call_details_destroy(&u->details);
    grpc_metadata_array_destroy(&u->md);
    if (u->call != NULL) {
        grpc_call_unref(u->call);
    }
    free(u);
}

void st_unknown_arm(st_rpc *r) {
    st_unknown *u = calloc(1, sizeof(*u));
    if (u == NULL) {
        st_logf(r->cfg.log, ST_LOG_ERROR,
                "out of memory: calls of unknown methods wait for their deadline");
        return;
    }
    u->rpc = r;
    u->t_new = (st_tag){TAG_UNKNOWN_NEW, u};
    u->t_done = (st_tag){TAG_UNKNOWN_DONE, u};
    grpc_call_details_init(&u->details);
    grpc_metadata_array_init(&u->md);
    if (grpc_server_request_call(r->server, &u->call, &u->details, &u->md, r->cq, r->cq,
                                 &u->t_new) != GRPC_CALL_OK) {
        slot_free(u);
    }
}

/* Answers the arrived call UNIMPLEMENTED; false when no batch could start. */
static bool answer(st_unknown *u) {
    char path[160];
    size_t n = GRPC_SLICE_LENGTH(u->details.method);
    if (n >= sizeof(path)) {
        n = sizeof(path) - 1;
    }
    memcpy(path, GRPC_SLICE_START_PTR(u->details.method), n);
    path[n] = '\0';
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)path[i] < 0x20 || (unsigned char)path[i] > 0x7e) {
            path[i] = '?'; /* the path is the client's: print it safely */
        }
    }
    char msg[320];
    snprintf(msg, sizeof(msg),
             "unknown method \"%s\": this server serves strata.v1.Registry, Voting, Audit, "
             "Cluster and Keys (proto/strata/v1, docs/API.md)",
             path);
    u->msg = grpc_slice_from_copied_string(msg);
    atomic_store(&u->pending, 2);
    grpc_op close;
    memset(&close, 0, sizeof(close));
    close.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    close.data.recv_close_on_server.cancelled = &u->cancelled;
    if (grpc_call_start_batch(u->call, &close, 1, &u->t_done, NULL) != GRPC_CALL_OK) {
        atomic_fetch_sub(&u->pending, 1);
    }
    grpc_op ops[2];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[1].data.send_status_from_server.status = GRPC_STATUS_UNIMPLEMENTED;
    ops[1].data.send_status_from_server.status_details = &u->msg;
    st_logf(u->rpc->cfg.log, ST_LOG_DEBUG, "%s", msg);
    if (grpc_call_start_batch(u->call, ops, 2, &u->t_done, NULL) != GRPC_CALL_OK) {
        /* u may be freed by now if the close completed: only the count decides */
        return atomic_fetch_sub(&u->pending, 1) != 1;
    }
    return true;
}

static void done(st_unknown *u) {
    grpc_slice_unref(u->msg);
    slot_free(u);
}

void st_unknown_on_event(st_tag *t, bool ok) {
    st_unknown *u = t->owner;
    if (t->kind == TAG_UNKNOWN_NEW) {
        if (!ok) {
            slot_free(u); /* the server is shutting down */
            return;
        }
        st_rpc *r = u->rpc;
        pthread_mutex_lock(&r->mu);
        bool stopping = r->shutting_down;
        pthread_mutex_unlock(&r->mu);
        if (!stopping) {
            st_unknown_arm(r);
        }
        if (!answer(u)) {
            done(u);
        }
        return;
    }
    /* The close and the answer may complete on two completion-queue threads at once. */
    if (atomic_fetch_sub(&u->pending, 1) == 1) {
        done(u);
    }
}
