/* wait.c - one batch of gRPC operations, started by a calling thread and completed by the
 * handle's completion-queue thread: the tag is an st__wait the caller sleeps on.
 *
 * Why not grpc_completion_queue_pluck per call: a client does network I/O only while a
 * thread sits in grpc_completion_queue_next (docs/STACK.md), so every handle keeps one
 * thread parked there for its lifetime, and all calls complete through it.
 */
#include <time.h>

#include "client/lib/internal.h"

void st__wait_init(st__wait *w) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w->mu, NULL);
    w->done = 0;
    w->ok = 0;
}

void st__wait_destroy(st__wait *w) {
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
}

void st__wait_complete(st__wait *w, int ok) {
    pthread_mutex_lock(&w->mu);
    w->ok = ok;
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu); /* the last touch: the waiter may free w after this */
}

int st__batch(grpc_call *call, const grpc_op *ops, size_t n, st__wait *w, int64_t cancel_at_ms) {
    w->done = 0;
    w->ok = 0;
    if (grpc_call_start_batch(call, ops, n, w, NULL) != GRPC_CALL_OK) {
        return -1;
    }
    pthread_mutex_lock(&w->mu);
    int cancelled = 0;
    while (!w->done) {
        if (cancelled) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        struct timespec at = {.tv_sec = cancel_at_ms / 1000,
                              .tv_nsec = (long)(cancel_at_ms % 1000) * 1000000L};
        if (pthread_cond_timedwait(&w->cv, &w->mu, &at) != 0 && !w->done) {
            /* gRPC completes every batch by the call's deadline; this is a safety net. */
            grpc_call_cancel(call, NULL);
            cancelled = 1;
        }
    }
    int ok = w->ok;
    pthread_mutex_unlock(&w->mu);
    return ok ? 1 : 0;
}
