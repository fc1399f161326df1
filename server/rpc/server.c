/* server.c - the gRPC server: channel arguments, method registration, the completion-queue
 * threads and their event dispatch, the slots waiting for calls, and an orderly stop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <grpc/grpc_security.h>
#include <sodium.h>

#include "core/error.h"
#include "server/rpc/internal.h"

/* Calls of one method that can arrive before a completion-queue thread re-arms. gRPC
 * queues further calls until then; this only sets how many wait in gRPC vs with us. */
#define SLOTS_PER_METHOD 8
#define DEFAULT_MAX_MESSAGE ((size_t)64 << 20)

static const st_method_def *const services[] = {st_svc_registry, st_svc_voting, st_svc_audit,
                                                st_svc_cluster, st_svc_keys};
#define N_SERVICES (sizeof(services) / sizeof(services[0]))

/* Puts one slot in wait for a call of m. During shutdown the request fails: no slot. */
static void arm(st_method *m) {
    st_rpc *r = m->rpc;
    st_call *c = st_call_slot(m);
    if (c == NULL) {
        st_logf(r->cfg.log, ST_LOG_ERROR, "out of memory: %s has one slot fewer", m->def->path);
        return;
    }
    grpc_call_error e = grpc_server_request_registered_call(
        r->server, m->handle, &c->call, &c->deadline, &c->md, &c->payload, r->cq, r->cq, &c->t_new);
    if (e != GRPC_CALL_OK) {
        st_call_slot_free(c);
    }
}

static void *cq_main(void *arg) {
    st_rpc *r = arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(r->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) {
            break;
        }
        if (ev.type != GRPC_OP_COMPLETE) {
            continue;
        }
        st_tag *t = ev.tag;
        switch (t->kind) {
        case TAG_NEW: {
            st_call *c = t->owner;
            if (!ev.success) {
                st_call_slot_free(c); /* the server is shutting down */
                break;
            }
            pthread_mutex_lock(&r->mu);
            bool stopping = r->shutting_down;
            pthread_mutex_unlock(&r->mu);
            if (!stopping) {
                arm(c->method);
            }
            st_call_begin(c);
            break;
        }
        case TAG_CLOSE:
            st_call_on_close(t->owner);
            break;
        case TAG_SEND:
            st_call_on_send(t->owner, ev.success != 0);
            break;
        case TAG_RESUME:
            st_call_on_resume(t->owner);
            break;
        case TAG_UNKNOWN_NEW:
        case TAG_UNKNOWN_DONE:
            st_unknown_on_event(t, ev.success != 0);
            break;
        case TAG_SHUTDOWN:
            pthread_mutex_lock(&r->mu);
            r->shutdown_done = true;
            pthread_cond_broadcast(&r->cv);
            pthread_mutex_unlock(&r->mu);
            break;
        }
    }
    return NULL;
}

/* Starts the server's shutdown once (no new calls; calls in progress go on). */
static void begin_shutdown(st_rpc *r) {
    pthread_mutex_lock(&r->mu);
    bool first = !r->shutting_down;
    r->shutting_down = true;
    pthread_mutex_unlock(&r->mu);
    if (first) {
        grpc_server_shutdown_and_notify(r->server, r->cq, &r->shutdown_tag);
    }
}

/* The realtime clock ms from now, for pthread_cond_timedwait. */
static struct timespec deadline_in(unsigned ms) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return until;
}

/* Waits until the shutdown tag arrived or ms passed; true if it arrived. */
static bool wait_shutdown(st_rpc *r, unsigned ms) {
    struct timespec until = deadline_in(ms);
    pthread_mutex_lock(&r->mu);
    while (!r->shutdown_done) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT) {
            break;
        }
    }
    bool done = r->shutdown_done;
    pthread_mutex_unlock(&r->mu);
    return done;
}

static void free_struct(st_rpc *r) {
    sodium_memzero(r->node_sk, sizeof(r->node_sk));
    st_replay_free(r->replay);
    free(r->threads);
    free(r->methods);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->read_mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

/* TLS server credentials for the configured PEM texts (gRPC copies them), or insecure
 * ones without a certificate. NULL when gRPC refuses them. */
static grpc_server_credentials *server_credentials(const st_rpc_config *cfg) {
    if (cfg->tls_cert_pem == NULL) {
        return grpc_insecure_server_credentials_create();
    }
    grpc_ssl_pem_key_cert_pair pair = {.private_key = cfg->tls_key_pem,
                                       .cert_chain = cfg->tls_cert_pem};
    /* With a client CA every connection must present a certificate that chains to it; the
     * handshake fails otherwise. Without one, no client certificate is asked for. */
    grpc_ssl_client_certificate_request_type req =
        cfg->tls_client_ca_pem != NULL ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                       : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
    return grpc_ssl_server_credentials_create_ex(cfg->tls_client_ca_pem, &pair, 1, req, NULL);
}

int st_rpc_start(const st_rpc_config *cfg, st_rpc **out, char *err, size_t errlen) {
    if (cfg->node_sk == NULL || cfg->node_pk == NULL || cfg->node_id == 0) {
        return st_fail(err, errlen, ST_EINVAL, "the gRPC API needs the node's id and key");
    }
    st_rpc *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return st_fail(err, errlen, ST_ENOMEM, "out of memory");
    }
    r->cfg = *cfg;
    /* Borrowed for this call only (gRPC copies them below). */
    r->cfg.tls_cert_pem = r->cfg.tls_key_pem = r->cfg.tls_client_ca_pem = NULL;
    memcpy(r->node_sk, cfg->node_sk, sizeof(r->node_sk));
    memcpy(r->node_pk, cfg->node_pk, sizeof(r->node_pk));
    r->cfg.node_sk = r->node_sk;
    r->cfg.node_pk = r->node_pk;
    snprintf(r->listen, sizeof(r->listen), "%s", cfg->listen);
    snprintf(r->version, sizeof(r->version), "%s", cfg->version != NULL ? cfg->version : "");
    r->cfg.listen = r->listen;
    r->cfg.version = r->version;
    if (r->cfg.threads == 0) {
        r->cfg.threads = 2;
    }
    if (r->cfg.max_message == 0) {
        r->cfg.max_message = DEFAULT_MAX_MESSAGE;
    }
    r->shutdown_tag = (st_tag){TAG_SHUTDOWN, r};
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->read_mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    atomic_init(&r->live, 0);

    size_t n = 0;
    for (size_t s = 0; s < N_SERVICES; s++) {
        for (const st_method_def *d = services[s]; d->path != NULL; d++) {
            n++;
        }
    }
    r->methods = calloc(n, sizeof(*r->methods));
    r->threads = calloc(r->cfg.threads, sizeof(*r->threads));
    if (r->methods == NULL || r->threads == NULL || st_replay_new(&r->replay) != ST_OK) {
        free_struct(r);
        return st_fail(err, errlen, ST_ENOMEM, "out of memory");
    }

    grpc_init();
    int max = r->cfg.max_message > (size_t)0x7fffffff ? 0x7fffffff : (int)r->cfg.max_message;
    grpc_arg args[] = {
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, {.integer = max}},
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, {.integer = max}},
        /* Two servers on one port must fail, not share it. */
        {GRPC_ARG_INTEGER, GRPC_ARG_ALLOW_REUSEPORT, {.integer = 0}},
        /* Clients may keep idle connections alive with a ping every 10 s or more. */
        {GRPC_ARG_INTEGER,
         GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
         {.integer = 10000}},
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, {.integer = 1}},
    };
    grpc_channel_args chargs = {sizeof(args) / sizeof(args[0]), args};
    r->server = grpc_server_create(&chargs, NULL);
    r->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(r->server, r->cq, NULL);
    for (size_t s = 0; s < N_SERVICES; s++) {
        for (const st_method_def *d = services[s]; d->path != NULL; d++) {
            st_method *m = &r->methods[r->n_methods++];
            m->def = d;
            m->rpc = r;
            m->handle = grpc_server_register_method(r->server, d->path, NULL,
                                                    GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
        }
    }
    bool tls = cfg->tls_cert_pem != NULL;
    grpc_server_credentials *creds = server_credentials(cfg);
    int port = creds != NULL ? grpc_server_add_http2_port(r->server, r->listen, creds) : 0;
    if (creds != NULL) {
        grpc_server_credentials_release(creds);
    }
    if (port == 0) {
        st_fail(err, errlen, ST_EIO,
                "grpc-listen: cannot listen on %s%s (address in use, or not an address of this "
                "machine%s)",
                r->listen, tls ? " with TLS" : "",
                tls ? ", or gRPC refused tls-cert and tls-key: its log says why" : "");
        /* Never started: shut down, drain the queue, destroy. */
        grpc_server_shutdown_and_notify(r->server, r->cq, &r->shutdown_tag);
        grpc_completion_queue_shutdown(r->cq);
        while (grpc_completion_queue_next(r->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
               GRPC_QUEUE_SHUTDOWN) {
        }
        grpc_server_destroy(r->server);
        grpc_completion_queue_destroy(r->cq);
        grpc_shutdown();
        free_struct(r);
        return ST_EIO;
    }
    grpc_server_start(r->server);
    for (size_t i = 0; i < r->n_methods; i++) {
        for (int k = 0; k < SLOTS_PER_METHOD; k++) {
            arm(&r->methods[i]);
        }
    }
    st_unknown_arm(r); /* any other path: UNIMPLEMENTED at once */
    for (unsigned i = 0; i < r->cfg.threads; i++) {
        if (pthread_create(&r->threads[i], NULL, cq_main, r) != 0) {
            st_logf(r->cfg.log, ST_LOG_ERROR, "could start only %u gRPC threads", i);
            if (i == 0) {
                /* Nobody would ever serve the queue: give up cleanly on this thread. */
                begin_shutdown(r);
                grpc_server_cancel_all_calls(r->server);
                grpc_completion_queue_shutdown(r->cq);
                cq_main(r);
                grpc_server_destroy(r->server);
                grpc_completion_queue_destroy(r->cq);
                grpc_shutdown();
                free_struct(r);
                return st_fail(err, errlen, ST_ENOMEM, "cannot start the gRPC threads");
            }
            r->n_threads = i;
            break;
        }
        r->n_threads = i + 1;
    }
    st_logf(r->cfg.log, ST_LOG_INFO, "gRPC API listening on %s (%s; %zu methods, %u threads)",
            r->listen,
            !tls                             ? "plaintext, loopback only"
            : cfg->tls_client_ca_pem != NULL ? "TLS, client certificates required"
                                             : "TLS",
            r->n_methods, r->n_threads);
    *out = r;
    return ST_OK;
}

size_t st_rpc_drain(st_rpc *r, unsigned grace_ms) {
    begin_shutdown(r);
    /* Waits for the calls in progress only: gRPC's own shutdown also waits for every client
     * to close its connection after the GOAWAY, which an idle client may take long to do;
     * st_rpc_free() closes those connections. */
    struct timespec until = deadline_in(grace_ms);
    pthread_mutex_lock(&r->mu);
    while (atomic_load(&r->live) > 0 && !r->shutdown_done) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT) {
            break;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return atomic_load(&r->live);
}

void st_rpc_free(st_rpc *r) {
    if (r == NULL) {
        return;
    }
    begin_shutdown(r);
    grpc_server_cancel_all_calls(r->server);
    if (!wait_shutdown(r, 5000)) {
        /* A call is still held somewhere: destroying the server now would be unsafe. The
         * process is ending; leave it to the operating system. */
        st_logf(r->cfg.log, ST_LOG_ERROR, "gRPC server did not shut down (%zu calls open)",
                atomic_load(&r->live));
        return;
    }
    grpc_server_destroy(r->server);
    grpc_completion_queue_shutdown(r->cq);
    for (unsigned i = 0; i < r->n_threads; i++) {
        pthread_join(r->threads[i], NULL);
    }
    grpc_completion_queue_destroy(r->cq);
    /* Blocking: grpc_shutdown() hands the clean-up to a thread of its own, which then holds
     * up the process's exit by a second or two. */
    grpc_shutdown_blocking();
    st_logf(r->cfg.log, ST_LOG_INFO, "gRPC API stopped");
    free_struct(r);
}
