/* config.h - stratad's settings: command-line flags and the same keys in a `key = value`
 * file (--config FILE), flags overriding the file.
 *
 * Every key is both a flag (`--data-dir DIR` or `--data-dir=DIR`) and a file line
 * (`data-dir = DIR`; `_` may stand for `-` in file keys; `#` starts a comment line).
 * `peer` is repeatable; peers given as flags replace the file's list. A boolean flag given
 * alone (`--join`) means true. deploy/stratad.conf.example documents every key;
 * st_config_usage() prints the same list.
 *
 * Errors name the key (and for a file, the path and line) and say what is expected; the
 * caller (stratad's main) exits with status 2 on them. Nothing here exits or logs.
 */
#ifndef STRATA_SERVER_CONFIG_H
#define STRATA_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ST_CONFIG_PEERS_MAX 16
#define ST_CONFIG_ADDR_MAX 128
#define ST_CONFIG_PATH_MAX 4096

typedef struct {
    uint64_t id;
    char raft[ST_CONFIG_ADDR_MAX]; /* host:port of its Raft traffic */
    char grpc[ST_CONFIG_ADDR_MAX]; /* host:port of its gRPC service */
    bool has_key;                  /* a node key was given: its Raft traffic must present it */
    uint8_t key[32];               /* Ed25519 public key */
} st_config_peer;

typedef struct {
    uint64_t id;                          /* id: this node's Raft id, >= 1 (required) */
    char data_dir[ST_CONFIG_PATH_MAX];    /* data-dir (required) */
    char grpc_listen[ST_CONFIG_ADDR_MAX]; /* grpc-listen (required) */
    char raft_listen[ST_CONFIG_ADDR_MAX]; /* raft-listen (required) */
    st_config_peer peers[ST_CONFIG_PEERS_MAX];
    size_t n_peers;                    /* peer: required (with this node among them) unless join */
    bool join;                         /* join: start empty and wait to be added */
    unsigned election_timeout_ms;      /* election-timeout-ms, default 1000 */
    unsigned heartbeat_ms;             /* heartbeat-ms, default 100 */
    unsigned snapshot_threshold;       /* snapshot-threshold, default 1024 */
    unsigned snapshot_trailing;        /* snapshot-trailing, default 2048 */
    unsigned install_snapshot_ms;      /* install-snapshot-timeout-ms, default 10000 */
    bool pre_vote;                     /* pre-vote, default true */
    size_t map_size;                   /* lmdb-map-size, default 1 GiB (grows when full) */
    char log_file[ST_CONFIG_PATH_MAX]; /* log: "" = stderr only */
    char node_key[ST_CONFIG_PATH_MAX]; /* node-key: "" = DATA_DIR/node.key, made if missing */
    int log_level;                     /* log-level, default info */
    unsigned grpc_threads;             /* grpc-threads, default 2 */
    size_t max_message;                /* max-message-bytes, default 64 MiB */
    /* The gRPC API's transport (docs/OPERATIONS.md §TLS): TLS with tls-cert and tls-key,
     * and client certificates required when tls-client-ca is set; or, only when asked for
     * with grpc-plaintext and only on a loopback grpc-listen, no TLS. */
    char tls_cert[ST_CONFIG_PATH_MAX];      /* tls-cert: PEM certificate chain, "" = none */
    char tls_key[ST_CONFIG_PATH_MAX];       /* tls-key: PEM private key of tls-cert */
    char tls_client_ca[ST_CONFIG_PATH_MAX]; /* tls-client-ca: PEM CA bundle, "" = no client certs */
    bool grpc_plaintext;                    /* grpc-plaintext, default false */
    uint64_t min_free_bytes;                /* min-free-bytes, default 64 MiB; 0 = no check */
} st_config;

/* Fills the defaults (required keys empty). */
void st_config_defaults(st_config *c);

/* Parses argv[1..argc): --config FILE is read first, then every other flag applies over
 * it. *help is set (and nothing else checked) for --help or -h. Returns ST_OK, or
 * ST_EINVAL with one sentence in err naming the key. Checks the result (st_config_check). */
int st_config_parse_args(st_config *c, int argc, char **argv, bool *help, char *err, size_t errlen);

/* Reads a `key = value` file into c. ST_OK, or ST_EINVAL / ST_EIO with "FILE:LINE: ..." */
int st_config_load_file(st_config *c, const char *path, char *err, size_t errlen);

/* Sets one key from its text value. ST_OK or ST_EINVAL naming the key. */
int st_config_set(st_config *c, const char *key, const char *value, char *err, size_t errlen);

/* Whole-config checks: required keys present, this node in its peer list with the same
 * Raft address, no duplicate peer ids or addresses, heartbeat < election timeout, and the
 * gRPC transport: tls-cert with tls-key, or grpc-plaintext on a loopback grpc-listen
 * (never both, never neither). The TLS files themselves are read by server/tls.h. */
int st_config_check(const st_config *c, char *err, size_t errlen);

/* The peer entry for id, or NULL. */
const st_config_peer *st_config_find_peer(const st_config *c, uint64_t id);

/* Prints the flags with one line of help each. */
void st_config_usage(FILE *out);

#endif
