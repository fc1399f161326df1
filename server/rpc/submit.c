/* submit.c - the paths through Raft: a write (a strata.internal.Command authenticated and
 * stamped by the leader, proposed, answered once applied), a linearizable read (a barrier,
 * then the read), and cluster operations. The node's callback runs on the Raft loop thread: it only
 * copies the outcome into the call and posts the call back to the completion queue with an empty
 * batch, so that every answer is built on a gRPC thread. */
#include <stdlib.h>
#include <string.h>

#include "consensus/batch.h"
#include "core/error.h"
#include "server/replica.h"
#include "server/rpc/internal.h"

#define REQUEST_ID_LEN 16

const char *st_call_actor(const st_call *c) {
    return c->auth.state == ST_AUTH_OK ? c->auth.actor : "";
}

/* The key a command installs, which signs its own request since it is not registered yet:
 * Genesis (the operator key) and RedeemEnrollmentCode (the owner's new key). NULL for
 * every other command, and when the body's key is not 32 bytes (then the registry decides,
 * and apply refuses the body). */
static const uint8_t *new_key_of(const Strata__Internal__Command *cmd) {
    const ProtobufCBinaryData *pk = NULL;
    if (cmd->body_case == STRATA__INTERNAL__COMMAND__BODY_GENESIS && cmd->genesis != NULL) {
        pk = &cmd->genesis->operator_public_key;
    } else if (cmd->body_case == STRATA__INTERNAL__COMMAND__BODY_REDEEM_ENROLLMENT_CODE &&
               cmd->redeem_enrollment_code != NULL) {
        pk = &cmd->redeem_enrollment_code->public_key;
    }
    return pk != NULL && pk->len == ST_SIGN_PK_LEN ? pk->data : NULL;
}

int st_call_check_request_id(st_call *c, const ProtobufCBinaryData *id) {
    if (id->len != REQUEST_ID_LEN) {
        st_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT,
                     "request_id must be %d bytes, not %zu: choose 16 random bytes per request "
                     "and reuse them only to retry that same request",
                     REQUEST_ID_LEN, id->len);
        return ST_EINVAL;
    }
    return ST_OK;
}

void st_call_node_error(st_call *c, int st_code) {
    switch (st_code) {
    case ST_ENOTLEADER:
        st_call_unavailable(c, "this node is not the leader: retry on the node named in "
                               "strata-leader (or any other node if none is named)");
        return;
    case ST_EUNKNOWN:
        st_call_unavailable(c, "outcome unknown: leadership changed (or the leader could not "
                               "write its log) while the request was being replicated; retry "
                               "with the same request_id");
        return;
    case ST_ESHUTDOWN:
        st_call_unavailable(c, "this node is shutting down: retry on another node");
        return;
    case ST_EBUSY:
        st_call_unavailable(c, "too many requests are queued on the leader: retry shortly");
        return;
    case ST_ENOMEM:
        st_call_fail(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "the server is out of memory");
        return;
    default:
        st_call_fail(c, GRPC_STATUS_INTERNAL, "internal error: %s", st_strerror(st_code));
        return;
    }
}

/* An empty batch completes at once on the call's completion queue: the way back from the
 * loop thread to a gRPC thread. */
static void hop(st_call *c) {
    grpc_op none;
    memset(&none, 0, sizeof(none));
    grpc_call_error e = grpc_call_start_batch(c->call, &none, 0, &c->t_resume, NULL);
    if (e != GRPC_CALL_OK) {
        c->resume(c); /* not expected; answering from this thread is allowed too */
    }
}

void st_call_node_cb(void *arg, int status, const st_slice *result, uint64_t index) {
    (void)index;
    st_call *c = arg;
    c->node_status = status;
    const st_apply_result *res = status == ST_OK ? st_replica_result(result) : NULL;
    c->has_result = res != NULL;
    if (res != NULL) {
        c->result = *res;
    }
    hop(c);
}

/* ---- writes ---- */

static void propose_resume(st_call *c) {
    if (c->node_status != ST_OK) {
        st_call_node_error(c, c->node_status);
        return;
    }
    if (!c->has_result) {
        st_call_fail(c, GRPC_STATUS_INTERNAL,
                     "the command was committed but this node applied no result for it");
        return;
    }
    if (c->result.code != ST_OK) {
        st_call_refuse(c, c->result.code, c->result.message);
        return;
    }
    c->k.done(c, &c->result);
}

void st_call_propose(st_call *c, Strata__Internal__Command *cmd,
                     void (*done)(st_call *c, const st_apply_result *res)) {
    st_rpc *r = c->rpc;
    if (!st_rpc_is_leader(r)) {
        st_call_node_error(c, ST_ENOTLEADER);
        return;
    }
    /* Before authentication (no signature is verified for a write that cannot be taken);
     * nothing of the request is recorded, so the client may send it again as it is. */
    char why[768];
    if (!st_space_check(r->cfg.space, NULL, why, sizeof(why))) {
        st_call_fail(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "%s", why);
        return;
    }
    if (st_call_authenticate(c, new_key_of(cmd), false) != ST_OK) {
        return; /* answered */
    }
    st_call_stamp_auth(c, cmd);
    cmd->time_ms = st_rpc_now_ms();
    size_t n = strata__internal__command__get_packed_size(cmd);
    uint8_t *buf = malloc(n > 0 ? n : 1);
    if (buf == NULL) {
        st_call_node_error(c, ST_ENOMEM);
        return;
    }
    strata__internal__command__pack(cmd, buf);
    c->resume = propose_resume;
    c->k.done = done;
    /* After a successful propose the call may already be answered and freed by another
     * thread: c is not touched again. */
    int rc = st_node_propose(r->cfg.node, buf, n, st_call_node_cb, c);
    free(buf);
    if (rc == ST_EINVAL) {
        st_call_fail(c, GRPC_STATUS_RESOURCE_EXHAUSTED,
                     "the request is %zu bytes as a command; one Raft entry holds at most %u", n,
                     (unsigned)ST_BATCH_MAX_BYTES - 16);
    } else if (rc != ST_OK) {
        st_call_node_error(c, rc);
    }
}

/* ---- linearizable reads ----
 *
 * A barrier is a Raft entry: one per read would grow the log with every GetVote. Instead
 * reads queue in r->read_head; when no barrier is in flight, the whole queue leaves with a
 * new one; reads arriving meanwhile wait for the next. Each read is thus served after a
 * barrier submitted after it arrived, which is what linearizability needs. */

static void linear_resume(st_call *c) {
    switch (c->node_status) {
    case ST_OK:
        c->k.read(c);
        return;
    case ST_EUNKNOWN:
        st_call_unavailable(c, "leadership changed during the read: retry");
        return;
    default:
        st_call_node_error(c, c->node_status);
        return;
    }
}

static void barrier_cb(void *arg, int status, const st_slice *result, uint64_t index);

/* Takes the waiting reads (r->read_mu held); NULL when none. */
static st_call *take_reads(st_rpc *r) {
    st_call *batch = r->read_head;
    r->read_head = r->read_tail = NULL;
    r->read_in_flight = batch != NULL;
    return batch;
}

/* Answers every read of the batch with status (posting each back to a gRPC thread). */
static void finish_reads(st_call *batch, int status) {
    while (batch != NULL) {
        st_call *next = batch->read_next;
        batch->read_next = NULL;
        st_call_node_cb(batch, status, NULL, 0);
        batch = next;
    }
}

/* Sends one barrier for the batch; on a refusal answers it and tries the next batch. */
static void send_barrier(st_rpc *r, st_call *batch) {
    while (batch != NULL) {
        int rc = st_node_barrier(r->cfg.node, barrier_cb, batch);
        if (rc == ST_OK) {
            return;
        }
        finish_reads(batch, rc);
        pthread_mutex_lock(&r->read_mu);
        batch = take_reads(r);
        pthread_mutex_unlock(&r->read_mu);
    }
}

/* Runs on the loop thread: the batch may read; the next batch gets its own barrier. */
static void barrier_cb(void *arg, int status, const st_slice *result, uint64_t index) {
    (void)result;
    (void)index;
    st_call *batch = arg;
    st_rpc *r = batch->rpc;
    finish_reads(batch, status);
    pthread_mutex_lock(&r->read_mu);
    st_call *next = take_reads(r);
    pthread_mutex_unlock(&r->read_mu);
    send_barrier(r, next);
}

void st_call_linear(st_call *c, void (*read)(st_call *c)) {
    st_rpc *r = c->rpc;
    if (!st_rpc_is_leader(r)) {
        st_call_node_error(c, ST_ENOTLEADER);
        return;
    }
    c->resume = linear_resume;
    c->k.read = read;
    c->read_next = NULL;
    pthread_mutex_lock(&r->read_mu);
    if (r->read_tail != NULL) {
        r->read_tail->read_next = c;
    } else {
        r->read_head = c;
    }
    r->read_tail = c;
    st_call *batch = r->read_in_flight ? NULL : take_reads(r);
    pthread_mutex_unlock(&r->read_mu);
    /* c may be answered and freed by another thread from here on. */
    send_barrier(r, batch);
}

/* ---- cluster operations ---- */

static void await_resume(st_call *c) {
    c->k.then(c, c->node_status);
}

void st_call_await(st_call *c, void (*then)(st_call *c, int status)) {
    c->resume = await_resume;
    c->k.then = then;
}

void st_call_node_failed(st_call *c, int st_code) {
    c->k.then(c, st_code);
}
