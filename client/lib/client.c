/* client.c - the st_client handle: the cluster's address list, the transport (TLS with a
 * CA bundle or the system's roots and an optional client certificate, or plaintext to
 * loopback addresses only), one gRPC channel per address (created on first use, with
 * keepalive and message limits the server accepts), the key that signs calls, and the
 * thread that sits in grpc_completion_queue_next for the handle's whole life.
 */
#include <ctype.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/lib/internal.h"
#include "core/address.h"

void st_client_options_init(st_client_options *o) {
    memset(o, 0, sizeof(*o));
    o->deadline_ms = ST_CLIENT_DEADLINE_MS;
    o->attempt_ms = ST_CLIENT_ATTEMPT_MS;
    o->backoff_min_ms = ST_CLIENT_BACKOFF_MIN_MS;
    o->backoff_max_ms = ST_CLIENT_BACKOFF_MAX_MS;
    o->max_message_len = ST_CLIENT_MESSAGE_MAX;
}

/* The queue thread: completes each batch's st__wait until the queue shuts down. */
static void *queue_main(void *arg) {
    st_client *c = arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(c->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) {
            break;
        }
        if (ev.type == GRPC_OP_COMPLETE) {
            st__wait_complete(ev.tag, ev.success);
        }
    }
    return NULL;
}

/* "host:port": a non-empty host without spaces or commas, a port 1..65535. */
static int address_ok(const char *a, size_t n) {
    if (n == 0 || n > ST_CLIENT_ADDRESS_MAX) {
        return 0;
    }
    const char *colon = NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)a[i];
        if (ch <= ' ' || ch == ',' || ch == 0x7f) {
            return 0;
        }
        if (ch == ':') {
            colon = a + i;
        }
    }
    if (colon == NULL || colon == a) {
        return 0;
    }
    const char *p = colon + 1;
    size_t digits = (size_t)(a + n - p);
    if (digits == 0 || digits > 5 || *p == '0') {
        return 0;
    }
    long port = 0;
    for (; p < a + n; p++) {
        if (!isdigit((unsigned char)*p)) {
            return 0;
        }
        port = port * 10 + (*p - '0');
    }
    return port >= 1 && port <= 65535;
}

bool st_address_is_loopback(const char *address) {
    return st_hostport_is_loopback(address);
}

static int parse_cluster(st_client *c, const char *list, st_error *err) {
    if (list == NULL || list[0] == '\0') {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "no cluster address; give host:port[,host:port...]");
    }
    const char *p = list;
    for (;;) {
        while (*p == ' ') {
            p++;
        }
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && p[n - 1] == ' ') {
            n--;
        }
        if (!address_ok(p, n)) {
            return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                            "cluster address \"%.*s\" is not host:port (port 1-65535); the list "
                            "is host:port[,host:port...]",
                            (int)(n > 300 ? 300 : n), p);
        }
        int dup = 0;
        for (size_t i = 0; i < c->nconf; i++) {
            dup |= strlen(c->addrs[i]) == n && memcmp(c->addrs[i], p, n) == 0;
        }
        if (!dup) {
            if (c->nconf == ST_CLIENT_MAX_ADDRESSES) {
                return st__fail(err, ST_FAIL_LOCAL, ST_ERANGE,
                                "more than %d cluster addresses; give at most %d",
                                ST_CLIENT_MAX_ADDRESSES, ST_CLIENT_MAX_ADDRESSES);
            }
            char *a = strndup(p, n);
            if (a == NULL) {
                return st__fail(err, ST_FAIL_LOCAL, ST_ENOMEM, "out of memory");
            }
            c->addrs[c->nconf++] = a;
            c->naddrs = c->nconf;
        }
        if (end == NULL) {
            break;
        }
        p = end + 1;
    }
    c->naddrs = c->nconf;
    return ST_OK;
}

/* The channel credentials of the options' transport, in c->creds and c->plaintext. */
static int make_credentials(st_client *c, const st_client_options *o, st_error *err) {
    bool any_file = o->tls_ca_file != NULL || o->tls_cert_file != NULL || o->tls_key_file != NULL;
    if (o->plaintext) {
        if (any_file) {
            return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                            "plaintext excludes the TLS files (CA, certificate, key): choose "
                            "one");
        }
        for (size_t i = 0; i < c->nconf; i++) {
            if (!st_address_is_loopback(c->addrs[i])) {
                return st__fail(err, ST_FAIL_LOCAL, ST_EPERM,
                                "plaintext is only allowed to addresses on this machine "
                                "(127.0.0.0/8, [::1], localhost), and %.300s is not one: use "
                                "TLS (the CA that signed the nodes' certificates)",
                                c->addrs[i]);
            }
        }
        c->plaintext = true;
        c->creds = grpc_insecure_credentials_create();
        return c->creds != NULL
                   ? ST_OK
                   : st__fail(err, ST_FAIL_LOCAL, ST_EIO, "cannot start the gRPC client");
    }
    if ((o->tls_cert_file == NULL) != (o->tls_key_file == NULL)) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        o->tls_cert_file == NULL
                            ? "TLS client key without its certificate: give both or neither"
                            : "TLS client certificate without its key: give both or neither");
    }
    char *ca = NULL, *cert = NULL, *key = NULL;
    int rc = st__tls_files_load(o->tls_ca_file, o->tls_cert_file, o->tls_key_file, &ca, &cert, &key,
                                err);
    if (rc == ST_OK) {
        grpc_ssl_pem_key_cert_pair pair = {.private_key = key, .cert_chain = cert};
        /* NULL roots: gRPC's default, the system's trusted roots. */
        c->creds = grpc_ssl_credentials_create_ex(ca, cert != NULL ? &pair : NULL, NULL, NULL);
        if (c->creds == NULL) {
            rc = st__fail(err, ST_FAIL_LOCAL, ST_EIO, "cannot start the gRPC client (TLS)");
        }
    }
    free(ca);
    free(cert);
    if (key != NULL) {
        sodium_memzero(key, strlen(key));
        free(key);
    }
    return rc;
}

static void client_free(st_client *c) {
    for (size_t i = 0; i < c->naddrs; i++) {
        if (c->channels[i] != NULL) {
            grpc_channel_destroy(c->channels[i]);
        }
        free(c->addrs[i]);
    }
    if (c->creds != NULL) {
        grpc_channel_credentials_release(c->creds);
    }
    st_keypair_free(c->key);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int st_client_new(const st_client_options *o, st_client **out, st_error *err) {
    int rc = st__lib_init(err);
    if (rc != ST_OK) {
        return rc;
    }
    if (o->backoff_min_ms > o->backoff_max_ms) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "backoff_min_ms (%u) is above backoff_max_ms (%u)", o->backoff_min_ms,
                        o->backoff_max_ms);
    }
    st_client *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return st__fail(err, ST_FAIL_LOCAL, ST_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&c->mu, NULL);
    c->deadline_ms = o->deadline_ms ? o->deadline_ms : ST_CLIENT_DEADLINE_MS;
    c->attempt_ms = o->attempt_ms ? o->attempt_ms : ST_CLIENT_ATTEMPT_MS;
    c->backoff_min_ms = o->backoff_min_ms ? o->backoff_min_ms : ST_CLIENT_BACKOFF_MIN_MS;
    c->backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : ST_CLIENT_BACKOFF_MAX_MS;
    if (c->backoff_max_ms < c->backoff_min_ms) {
        c->backoff_max_ms = c->backoff_min_ms;
    }
    c->max_message_len = o->max_message_len ? o->max_message_len : ST_CLIENT_MESSAGE_MAX;
    if (c->max_message_len > INT32_MAX) {
        c->max_message_len = INT32_MAX;
    }
    rc = parse_cluster(c, o->cluster, err);
    if (rc == ST_OK && o->key != NULL && st__keypair_copy(o->key, &c->key) != ST_OK) {
        rc = st__fail(err, ST_FAIL_LOCAL, ST_ENOMEM, "out of memory");
    }
    if (rc != ST_OK) {
        client_free(c);
        return rc;
    }
    grpc_init();
    rc = make_credentials(c, o, err);
    if (rc != ST_OK) {
        client_free(c);
        grpc_shutdown();
        return rc;
    }
    c->cq = grpc_completion_queue_create_for_next(NULL);
    if (c->cq == NULL || pthread_create(&c->thread, NULL, queue_main, c) != 0) {
        if (c->cq != NULL) {
            grpc_completion_queue_shutdown(c->cq);
            grpc_completion_queue_destroy(c->cq);
        }
        client_free(c);
        grpc_shutdown();
        return st__fail(err, ST_FAIL_LOCAL, ST_EIO, "cannot start the gRPC client");
    }
    *out = c;
    return ST_OK;
}

void st_client_close(st_client *c) {
    if (c == NULL) {
        return;
    }
    /* No call is in progress (the caller's promise), so nothing more will be queued. */
    for (size_t i = 0; i < c->naddrs; i++) {
        if (c->channels[i] != NULL) {
            grpc_channel_destroy(c->channels[i]);
            c->channels[i] = NULL;
        }
    }
    grpc_completion_queue_shutdown(c->cq);
    pthread_join(c->thread, NULL);
    grpc_completion_queue_destroy(c->cq);
    client_free(c);
    grpc_shutdown();
}

int st_client_set_key(st_client *c, const st_keypair *key, st_error *err) {
    st_keypair *copy = NULL;
    if (key != NULL && st__keypair_copy(key, &copy) != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, ST_ENOMEM, "out of memory");
    }
    pthread_mutex_lock(&c->mu);
    st_keypair *old = c->key;
    c->key = copy;
    pthread_mutex_unlock(&c->mu);
    st_keypair_free(old);
    return ST_OK;
}

size_t st_client_address_count(const st_client *c) {
    return c->nconf;
}

const char *st_client_address(const st_client *c, size_t i) {
    return i < c->nconf ? c->addrs[i] : NULL;
}

size_t st__client_address_index(st_client *c, const char *address) {
    size_t n = strlen(address);
    if (!address_ok(address, n) || (c->plaintext && !st_address_is_loopback(address))) {
        return SIZE_MAX;
    }
    size_t found = SIZE_MAX;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->naddrs && found == SIZE_MAX; i++) {
        if (strcmp(c->addrs[i], address) == 0) {
            found = i;
        }
    }
    if (found == SIZE_MAX && c->naddrs < ST__ADDRS_CAP) {
        char *a = strdup(address);
        if (a != NULL) {
            found = c->naddrs;
            c->addrs[c->naddrs++] = a;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return found;
}

void st__client_address_copy(st_client *c, size_t i, char *out) {
    pthread_mutex_lock(&c->mu);
    snprintf(out, ST_CLIENT_ADDRESS_MAX + 1, "%s", i < c->naddrs ? c->addrs[i] : "");
    pthread_mutex_unlock(&c->mu);
}

grpc_channel *st__client_channel(st_client *c, size_t i) {
    pthread_mutex_lock(&c->mu);
    grpc_channel *ch = i < c->naddrs ? c->channels[i] : NULL;
    if (ch == NULL && i < c->naddrs) {
        grpc_arg args[] = {
            /* Pings at most every 5 minutes and only during calls: the server's default
             * minimum interval accepts this, so it never answers "too_many_pings". */
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_KEEPALIVE_TIME_MS,
             .value.integer = ST_CLIENT_KEEPALIVE_MS},
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
             .value.integer = 20000},
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
             .value.integer = 0},
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
             .value.integer = (int)c->max_message_len},
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
             .value.integer = (int)c->max_message_len},
            /* Retries are ours (leader rules, one request_id); gRPC must not add its own. */
            {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ENABLE_RETRIES, .value.integer = 0},
            /* A node that comes back is found within a second, not after minutes. */
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
             .value.integer = 100},
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
             .value.integer = 100},
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
             .value.integer = 1000},
            /* gRPC re-resolves an address at most this often (default 30 s, and 5 s
             * between attempts to reconnect): a restarted node must be reachable again
             * within about a second. */
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS,
             .value.integer = 100},
            /* Handles do not share connections: closing one never disturbs another. */
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL,
             .value.integer = 1},
            {.type = GRPC_ARG_STRING,
             .key = GRPC_ARG_PRIMARY_USER_AGENT_STRING,
             .value.string = "libstrata"},
        };
        grpc_channel_args ca = {.num_args = sizeof(args) / sizeof(args[0]), .args = args};
        ch = grpc_channel_create(c->addrs[i], c->creds, &ca);
        c->channels[i] = ch;
    }
    pthread_mutex_unlock(&c->mu);
    return ch;
}
