/* fake_server.h - an in-process gRPC server on 127.0.0.1 for the unit tests of libstrata's
 * call engine (tests/client only): it answers every method the way a test tells it to (a
 * canned reply, a follower's UNAVAILABLE with `strata-leader`, a status, silence) and
 * records what each call carried (method, body, `strata-auth-bin`).
 */
#ifndef STRATA_TESTS_CLIENT_FAKE_SERVER_H
#define STRATA_TESTS_CLIENT_FAKE_SERVER_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    FAKE_OK,       /* the reply (fake_set_reply), or the handler's */
    FAKE_FOLLOWER, /* UNAVAILABLE with trailing metadata strata-leader: <leader> */
    FAKE_STATUS,   /* the given status and message */
    FAKE_SILENT,   /* never answers: the client's deadline ends the call */
    FAKE_GARBAGE   /* OK with bytes that are no protobuf message */
} fake_mode;

/* What one call carried. Owned by the server; valid until fake_stop(). */
typedef struct fake_call {
    char method[160];
    uint8_t *body;
    size_t len;
    uint8_t auth[512]; /* the strata-auth-bin value */
    size_t auth_len;   /* 0: none sent */
} fake_call;

/* A reply computed per call: return 0 with *reply (malloc'd, the server frees it) and *len,
 * or a gRPC status code > 0 with a message in msg. */
typedef int (*fake_handler)(void *ctx, const fake_call *call, uint8_t **reply, size_t *len,
                            char *msg, size_t msgcap);

typedef struct fake_server fake_server;

/* Starts a server on 127.0.0.1 (a free port). Returns NULL on failure. */
fake_server *fake_start(void);
/* "127.0.0.1:PORT", borrowed. */
const char *fake_address(const fake_server *f);

void fake_set_mode(fake_server *f, fake_mode mode);
void fake_set_leader(fake_server *f, const char *leader);
void fake_set_status(fake_server *f, int status, const char *message);
/* The first n calls from now answer UNAVAILABLE without a leader, whatever the mode. */
void fake_fail_first(fake_server *f, int n);
/* A copy of the packed reply; for streams (method ending in "ExportBallots") sent count
 * times. */
void fake_set_reply(fake_server *f, const uint8_t *bytes, size_t len, int count);
void fake_set_handler(fake_server *f, fake_handler h, void *ctx);
/* Initial metadata to send with every answer (NULL key: none). Binary keys end in -bin. */
void fake_set_initial_metadata(fake_server *f, const char *key, const char *value);

size_t fake_calls(fake_server *f);
/* Call i (0-based), borrowed until fake_stop(); NULL if there is none. */
const fake_call *fake_call_at(fake_server *f, size_t i);

/* Stops the server, frees everything. */
void fake_stop(fake_server *f);

#endif
