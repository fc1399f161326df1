/* internal.h - what the files of libstrata share and the public header does not show: the
 * layout of the handles, error helpers, the call engine used by the typed functions.
 * Nothing here is part of the API (client/strata.h is).
 */
#ifndef STRATA_CLIENT_LIB_INTERNAL_H
#define STRATA_CLIENT_LIB_INTERNAL_H

#include <grpc/grpc.h>
#include <pthread.h>
#include <stdarg.h>

#include "client/strata.h"

/* ---- library start (init.c) ---- */

/* Starts libsodium once per process (pthread_once). ST_OK, or ST_EIO with err filled. */
int st__lib_init(st_error *err);

/* ---- errors (error.c) ---- */

/* Fills err (if not NULL) with kind, code and a printf message; returns code. */
int st__fail(st_error *err, st_fail_kind kind, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Same for an error of crypto/ or core/ whose sentence is in msg. */
int st__fail_local(st_error *err, int code, const char *msg);

/* ---- time and randomness (init.c) ---- */

int64_t st__mono_ms(void);     /* CLOCK_MONOTONIC in ms */
uint64_t st__wall_ms(void);    /* CLOCK_REALTIME in ms since the Unix epoch */
void st__sleep_ms(int64_t ms); /* nanosleep, restarted on EINTR */
void st__random(void *buf, size_t len);
uint32_t st__random_below(uint32_t n); /* uniform in [0, n), n >= 1 */

/* ---- key pairs (keypair.c) ---- */

struct st_keypair {
    uint8_t seed[ST_SIGN_SEED_LEN];
    uint8_t pk[ST_SIGN_PK_LEN];
    uint8_t sk[ST_SIGN_SK_LEN];
};

/* A copy of k in a new allocation (*out, free with st_keypair_free). */
int st__keypair_copy(const st_keypair *k, st_keypair **out);

/* ---- the handle (client.c) ---- */

/* Room for the configured addresses plus leaders learned from `strata-leader`. */
#define ST__ADDRS_CAP (2 * ST_CLIENT_MAX_ADDRESSES)

struct st_client {
    pthread_mutex_t mu; /* guards everything below that changes after st_client_new */
    size_t nconf;       /* addresses from the options: addrs[0..nconf) */
    size_t naddrs;      /* plus learned ones: addrs[nconf..naddrs) */
    char *addrs[ST__ADDRS_CAP];
    grpc_channel *channels[ST__ADDRS_CAP]; /* NULL until first used */
    size_t preferred;                      /* where the last successful call went */
    st_keypair *key;                       /* the handle's own copy, or NULL */

    grpc_channel_credentials *creds; /* TLS, or insecure when plaintext */
    bool plaintext;                  /* then only loopback addresses are dialled */
    grpc_completion_queue *cq;       /* every call's completions; drained by `thread` */
    pthread_t thread;

    uint32_t deadline_ms, attempt_ms, backoff_min_ms, backoff_max_ms, max_message_len;
};

/* Index of address (adding it to the learned ones if new); SIZE_MAX when it is not
 * host:port, when the table is full, or when the handle is plaintext and the address is
 * not a loopback one. Takes c->mu. */
size_t st__client_address_index(st_client *c, const char *address);
/* The channel of address i, created on first use. NULL on failure. Takes c->mu. */
grpc_channel *st__client_channel(st_client *c, size_t i);
/* A copy of address i into out (ST_CLIENT_ADDRESS_MAX + 1 bytes). Takes c->mu. */
void st__client_address_copy(st_client *c, size_t i, char *out);

/* ---- the TLS files of a handle (tls.c) ---- */

/* Reads the files that are not NULL into new NUL-terminated PEM texts (*ca, *cert, *key;
 * the caller frees them, wiping the key) and checks them: certificates in the CA and
 * certificate files, one unencrypted private key that belongs to the certificate. ST_OK,
 * or ST_EIO (unreadable) / ST_EINVAL (the message starts with "TLS " and names the file)
 * / ST_ENOMEM, with nothing left to free. */
int st__tls_files_load(const char *ca_file, const char *cert_file, const char *key_file, char **ca,
                       char **cert, char **key, st_error *err);

/* ---- one completion, waited for by the thread that started the batch (wait.c) ---- */

/* The tag of a batch: the handle's completion-queue thread marks it done. */
typedef struct st__wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    int ok; /* grpc_event.success */
} st__wait;

void st__wait_init(st__wait *w);
void st__wait_destroy(st__wait *w);
/* Marks w done with success ok and wakes its waiter (the completion-queue thread). */
void st__wait_complete(st__wait *w, int ok);
/* Starts ops on call with w as the tag and waits until the queue thread completes it. If
 * nothing completes by cancel_at_ms (monotonic) the call is cancelled, and the wait goes on
 * (gRPC always completes a batch). Returns 1 when the batch succeeded, 0 when it failed,
 * -1 when it could not be started. */
int st__batch(grpc_call *call, const grpc_op *ops, size_t n, st__wait *w, int64_t cancel_at_ms);

/* ---- calls with the leader rules (call.c) ---- */

/* Packs a protobuf-c message into a new buffer (*out, free()). ST_OK or ST_ENOMEM. */
int st__pack(const ProtobufCMessage *m, uint8_t **out, size_t *len, st_error *err);

/* Runs a unary call through st_client_unary with the handle's defaults; write marks a
 * state-changing call. Typed functions use this. */
int st__unary(st_client *c, const char *method, const ProtobufCMessage *req,
              const ProtobufCMessageDescriptor *desc, bool write, ProtobufCMessage **resp,
              st_error *err);

#endif
