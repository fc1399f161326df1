/* secure.h - Raft traffic between nodes, authenticated and encrypted: a raft_uv_transport
 * that wraps canonical/raft's own TCP transport.
 *
 * Every connection starts with a handshake after raft's TCP preamble. Both sides send a
 * hello (magic, their Raft id, their Ed25519 node key, a fresh X25519 key), then sign the
 * transcript of both hellos with their node key. Each side checks the other's signature
 * and asks the trust callback whether that key belongs to that node id (the id the
 * connecting side asked for, or the id raft's preamble announced). The fresh X25519 keys
 * give per-connection session keys (crypto_kx), and every byte after the handshake travels
 * in crypto_secretstream (XChaCha20-Poly1305) frames: a frame that fails authentication
 * (altered, replayed, reordered or cut) closes the connection. Refusals are logged with
 * the node id, address and reason.
 *
 * Raft sees an ordinary stream: each authenticated connection is handed to raft as one end
 * of a Unix socket pair, and this module moves bytes between the other end and the TCP
 * socket, encrypting one way and decrypting the other.
 *
 * Threads: everything runs on the loop the transport was made on; the trust callback and
 * the log callback are called there.
 */
#ifndef STRATA_CONSENSUS_SECURE_H
#define STRATA_CONSENSUS_SECURE_H

#include <raft.h>
#include <raft/uv.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define ST_SECURE_SK_LEN 64
#define ST_SECURE_PK_LEN 32

/* Whether pk is node id's key: ST_OK to accept (why may hold a note that is logged as a
 * warning, e.g. an accepted unknown key), anything else refuses with why saying why. */
typedef int (*st_secure_trust_fn)(void *ctx, uint64_t id, const uint8_t pk[ST_SECURE_PK_LEN],
                                  char *why, size_t cap);

typedef struct {
    uint64_t id;                                        /* this node's Raft id */
    const uint8_t *sk;                                  /* its Ed25519 secret key (copied) */
    const uint8_t *pk;                                  /* its public key (copied) */
    st_secure_trust_fn trust;                           /* required */
    void *trust_ctx;                                    /* passed to trust */
    unsigned handshake_ms;                              /* 0 = 5000 */
    void (*log)(void *ctx, int level, const char *msg); /* ST_LOG_* levels; may be NULL */
    void *log_ctx;
} st_secure_config;

typedef struct {
    uint64_t accepted;  /* handshakes completed */
    uint64_t refused;   /* handshakes refused: untrusted key, bad signature, wrong id */
    uint64_t tampered;  /* connections closed on a frame that failed authentication */
    uint64_t bytes_out; /* plaintext bytes sent */
    uint64_t bytes_in;  /* plaintext bytes received */
} st_secure_stats;

/* Makes t a secure transport on loop (raft_uv_tcp underneath). ST_OK, ST_ENOMEM or
 * ST_EINVAL (no trust callback or key). Release with st_secure_transport_close after raft
 * closed the transport (as with raft_uv_tcp_close). */
int st_secure_transport_init(struct raft_uv_transport *t, uv_loop_t *loop,
                             const st_secure_config *cfg);
void st_secure_transport_close(struct raft_uv_transport *t);
/* Counters so far (loop thread). */
void st_secure_transport_stats(struct raft_uv_transport *t, st_secure_stats *out);

#endif
