/* stratad.c - the Strata server: one Raft node (consensus/), the domain state in LMDB
 * (server/state.h through server/replica.h) and the gRPC API (server/rpc/).
 *
 * Start: settings (config.h) -> the gRPC API's TLS files (tls.h: a bad one is a
 * configuration error) -> log -> lock the data directory -> the node's signing key
 * (node_key.h: DATA_DIR/node.key, made at first start, or --node-key) -> open the state
 * (LMDB with MDB_NOSYNC: the Raft log is the durable record) -> start the Raft node
 * (bootstrapping from the peer list when the data directory is new, or waiting to be added
 * with --join) -> serve gRPC.
 *
 * Stop on SIGTERM or SIGINT: stop accepting calls and let those in flight finish, hand
 * leadership to another node if this one leads, stop Raft (what is still queued is
 * answered UNAVAILABLE), stop gRPC, close the state. Exit 0 after a clean stop, 1 on a
 * runtime failure, 2 on a configuration error.
 *
 * Disk: at start the data directory is checked for damaged files (data_check.h); while
 * running, the main thread looks every WATCH_MS at the free space (space.h: a leader below
 * min-free-bytes refuses writes) and at the node's storage: after a failed write of the
 * Raft log or the state (consensus/node.h) it stops the node the same way, leadership
 * first, and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "consensus/node.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/text.h"
#include "server/config.h"
#include "server/data_check.h"
#include "server/log.h"
#include "server/node_key.h"
#include "server/raft_trust.h"
#include "server/replica.h"
#include "server/space.h"
#include "server/rpc/roster.h"
#include "server/rpc/rpc.h"
#include "server/state.h"
#include "server/tls.h"

#ifndef STRATA_VERSION
#define STRATA_VERSION "0.0.0"
#endif

#define DRAIN_GRACE_MS 5000   /* in-flight calls get this long to finish on stop */
#define TRANSFER_WAIT_MS 3000 /* a stopping leader waits this long for a successor */
#define WATCH_MS 250          /* how often the main thread looks at the disk and the node */

/* mkdir -p for one path; ST_OK or ST_EIO with a message. */
static int make_dirs(const char *path, char *err, size_t errlen) {
    char buf[ST_CONFIG_PATH_MAX + 16];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(buf, 0750) != 0 && errno != EEXIST) {
                return st_fail(err, errlen, ST_EIO, "data-dir: cannot create %s: %s", buf,
                               strerror(errno));
            }
            *p = saved;
            if (saved == '\0') {
                break;
            }
        }
    }
    return ST_OK;
}

/* One stratad per data directory: an exclusive lock held for the life of the process. */
static int lock_data_dir(const char *dir, int *fd_out, char *err, size_t errlen) {
    char path[ST_CONFIG_PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/stratad.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        return st_fail(err, errlen, ST_EIO, "cannot open %s: %s", path, strerror(errno));
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return st_fail(err, errlen, ST_EIO,
                       "data-dir %s is in use by another stratad (lock %s is held)", dir, path);
    }
    *fd_out = fd;
    return ST_OK;
}

static uint64_t node_term(void *ctx) {
    st_node_status s;
    st_node_get_status(ctx, &s);
    return s.term;
}

static void replica_log(void *ctx, int level, const char *msg) {
    st_logf(ctx, level, "%s", msg);
}

/* ---- handing leadership over before stopping ---- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int status;
} waiter;

static void waiter_cb(void *arg, int status, const st_slice *result, uint64_t index) {
    (void)result;
    (void)index;
    waiter *w = arg;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    w->status = status;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* If this node leads a cluster of several voters, asks Raft to hand over and waits a
 * little: the others then elect no one after a timeout, they already have a leader. */
static void hand_over(st_node *node, st_log *log) {
    st_node_status s;
    st_node_get_status(node, &s);
    if (s.role != ST_ROLE_LEADER || s.n_members < 2) {
        return;
    }
    static waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0};
    if (st_node_transfer(node, 0, waiter_cb, &w) != ST_OK) {
        return;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += TRANSFER_WAIT_MS / 1000;
    pthread_mutex_lock(&w.mu);
    while (!w.done) {
        if (pthread_cond_timedwait(&w.cv, &w.mu, &until) == ETIMEDOUT) {
            break;
        }
    }
    bool done = w.done;
    int status = w.status;
    pthread_mutex_unlock(&w.mu);
    /* Not done: the callback will still run when the node stops (w is static). */
    st_logf(log, ST_LOG_INFO, "leadership hand-over before stopping: %s",
            !done             ? "timed out"
            : status == ST_OK ? "done"
                              : st_strerror(status));
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN); /* a peer going away must not kill us (STACK.md bug 2) */
    /* SIGTERM/SIGINT are taken by sigwait() below: block them first, so that one arriving
     * during start-up still stops the node cleanly, and so that every thread (Raft's,
     * gRPC's) inherits the mask. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    st_config cfg;
    st_config_defaults(&cfg);
    bool help = false;
    char err[1024] = "";
    if (st_config_parse_args(&cfg, argc, argv, &help, err, sizeof(err)) != ST_OK) {
        fprintf(stderr, "stratad: %s\n", err);
        return 2;
    }
    if (help) {
        st_config_usage(stdout);
        return 0;
    }
    st_tls_files tls;
    memset(&tls, 0, sizeof(tls));
    if (!cfg.grpc_plaintext && st_tls_load(cfg.tls_cert, cfg.tls_key, cfg.tls_client_ca, &tls, err,
                                           sizeof(err)) != ST_OK) {
        st_tls_free(&tls);
        fprintf(stderr, "stratad: %s\n", err);
        return 2;
    }

    st_log *log = NULL;
    if (st_log_open(&log, cfg.id, cfg.log_file, cfg.log_level, err, sizeof(err)) != ST_OK) {
        fprintf(stderr, "stratad: log: %s\n", err);
        st_tls_free(&tls);
        return 2;
    }
    if (cfg.grpc_plaintext) {
        st_logf(log, ST_LOG_WARN,
                "gRPC without TLS on %s (grpc-plaintext): for clients on this machine only",
                cfg.grpc_listen);
    } else {
        st_logf(log, ST_LOG_INFO, "TLS certificate %s (%zu in the chain): %s%s%s", cfg.tls_cert,
                tls.n_chain, tls.summary,
                tls.client_ca_pem != NULL ? "; client certificates required, CAs from " : "",
                tls.client_ca_pem != NULL ? cfg.tls_client_ca : "");
        if (tls.warn[0] != '\0') {
            st_logf(log, ST_LOG_WARN, "TLS: %s", tls.warn);
        }
    }
    int exit_code = 1;
    int lock_fd = -1;
    st_node_key key;
    memset(&key, 0, sizeof(key));
    st_state *state = NULL;
    st_replica *replica = NULL;
    st_roster *roster = NULL;
    st_raft_trust *trust = NULL;
    st_node *node = NULL;
    st_rpc *rpc = NULL;
    st_space *space = NULL;
    char raft_dir[ST_CONFIG_PATH_MAX + 8], state_dir[ST_CONFIG_PATH_MAX + 8];
    snprintf(raft_dir, sizeof(raft_dir), "%s/raft", cfg.data_dir);
    snprintf(state_dir, sizeof(state_dir), "%s/state", cfg.data_dir);

    if (make_dirs(cfg.data_dir, err, sizeof(err)) != ST_OK ||
        lock_data_dir(cfg.data_dir, &lock_fd, err, sizeof(err)) != ST_OK ||
        make_dirs(raft_dir, err, sizeof(err)) != ST_OK ||
        make_dirs(state_dir, err, sizeof(err)) != ST_OK) {
        st_logf(log, ST_LOG_ERROR, "%s", err);
        goto out;
    }
    if (st_crypto_init() != ST_OK) {
        st_logf(log, ST_LOG_ERROR, "libsodium cannot start (no random source)");
        goto out;
    }
    char key_path[ST_CONFIG_PATH_MAX + 16];
    bool default_key = cfg.node_key[0] == '\0';
    snprintf(key_path, sizeof(key_path), "%s", default_key ? cfg.data_dir : cfg.node_key);
    if (default_key) {
        strncat(key_path, "/node.key", sizeof(key_path) - strlen(key_path) - 1);
    }
    if (st_node_key_load(key_path, default_key, &key, err, sizeof(err)) != ST_OK) {
        st_logf(log, ST_LOG_ERROR, "%s", err);
        goto out;
    }
    char pk_b64[ST_B64_LEN(ST_SIGN_PK_LEN) + 1];
    st_b64_encode(pk_b64, sizeof(pk_b64), key.pk, sizeof(key.pk));
    st_logf(log, ST_LOG_INFO,
            "node key %s%s: key id %s, public key %s (register it with "
            "Cluster.RegisterNode)",
            key_path, key.created ? " (made now)" : "", key.key_id_hex, pk_b64);
    if (key.loose_mode) {
        st_logf(log, ST_LOG_WARN, "node key %s is readable by group or others: chmod 600 it",
                key_path);
    }

    /* Damaged files: refuse to start (a Raft log this node cannot read whole), or repair
     * what is safe to repair (a torn last write; a damaged state, rebuilt from the log). */
    int checked = st_data_check(cfg.data_dir, log, err, sizeof(err));
    if (checked != ST_OK) {
        st_logf(log, ST_LOG_ERROR, "%s: %s",
                checked == ST_ECORRUPT ? "damaged data" : "data directory check", err);
        goto out;
    }
    st_state_options so = {.dir = state_dir, .map_size = cfg.map_size, .nosync = true};
    if (st_state_open(&state, &so, err, sizeof(err)) != ST_OK) {
        st_logf(log, ST_LOG_ERROR, "state: %s", err);
        goto out;
    }
    if (st_replica_new(state, replica_log, log, &replica) != ST_OK ||
        st_roster_new(state, &roster) != ST_OK || st_raft_trust_new(state, &trust) != ST_OK ||
        st_space_new(cfg.data_dir, cfg.min_free_bytes, cfg.id, log, &space) != ST_OK) {
        st_logf(log, ST_LOG_ERROR, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < cfg.n_peers; i++) {
        st_roster_set(roster, cfg.peers[i].id, cfg.peers[i].raft, cfg.peers[i].grpc);
        if (cfg.peers[i].has_key) {
            st_raft_trust_pin(trust, cfg.peers[i].id, cfg.peers[i].key);
        }
    }
    st_roster_set(roster, cfg.id, cfg.raft_listen, cfg.grpc_listen);

    st_peer boot[ST_CONFIG_PEERS_MAX];
    for (size_t i = 0; i < cfg.n_peers; i++) {
        boot[i].id = cfg.peers[i].id;
        snprintf(boot[i].address, sizeof(boot[i].address), "%s", cfg.peers[i].raft);
    }
    st_node_config nc = {
        .id = cfg.id,
        .raft_address = cfg.raft_listen,
        .data_dir = raft_dir,
        .election_timeout_ms = cfg.election_timeout_ms,
        .heartbeat_timeout_ms = cfg.heartbeat_ms,
        .snapshot_threshold = cfg.snapshot_threshold,
        .snapshot_trailing = cfg.snapshot_trailing,
        .install_snapshot_timeout_ms = cfg.install_snapshot_ms,
        .pre_vote = cfg.pre_vote,
        .bootstrap = cfg.join ? NULL : boot,
        .n_bootstrap = cfg.join ? 0 : cfg.n_peers,
        .log = st_log_term,
        .log_ctx = log,
        .node_sk = key.sk,
        .node_pk = key.pk,
        .trust = st_raft_trust_check,
        .trust_ctx = trust,
    };
    st_fsm fsm;
    st_replica_fsm(replica, &fsm);
    if (st_node_new(&nc, &fsm, &node, err, sizeof(err)) != ST_OK) {
        st_logf(log, ST_LOG_ERROR, "raft: %s", err);
        goto out;
    }
    if (st_node_start(node, err, sizeof(err)) != ST_OK) {
        char hint[1024];
        st_data_raft_hint(raft_dir, err, hint, sizeof(hint));
        st_logf(log, ST_LOG_ERROR, "raft: %s; %s", err, hint);
        goto out;
    }
    st_log_set_term_source(log, node_term, node);

    st_rpc_config rc = {
        .listen = cfg.grpc_listen,
        .threads = cfg.grpc_threads,
        .max_message = cfg.max_message,
        .version = STRATA_VERSION,
        .node = node,
        .state = state,
        .roster = roster,
        .log = log,
        .space = space,
        .node_id = cfg.id,
        .node_sk = key.sk,
        .node_pk = key.pk,
        .tls_cert_pem = tls.cert_pem,
        .tls_key_pem = tls.key_pem,
        .tls_client_ca_pem = tls.client_ca_pem,
    };
    int started = st_rpc_start(&rc, &rpc, err, sizeof(err));
    st_node_key_wipe(&key); /* st_rpc keeps its own copy */
    st_tls_free(&tls);      /* and gRPC its own copies of these */
    if (started != ST_OK) {
        st_logf(log, ST_LOG_ERROR, "%s", err);
        goto out;
    }
    st_logf(log, ST_LOG_INFO, "stratad %s serving: gRPC %s, Raft %s, data %s%s", STRATA_VERSION,
            cfg.grpc_listen, cfg.raft_listen, cfg.data_dir,
            cfg.join ? " (joining: waiting to be added)" : "");

    /* Until a stop signal: every WATCH_MS, the free space (space.h logs when it goes low or
     * comes back, whatever the role) and whether the node's storage failed. */
    int sig = 0;
    bool failed = false;
    for (;;) {
        struct timespec tick = {0, WATCH_MS * 1000000L};
        sig = sigtimedwait(&stop_signals, NULL, &tick);
        if (sig > 0) {
            break;
        }
        st_space_check(space, NULL, NULL, 0);
        st_node_status ns;
        st_node_get_status(node, &ns);
        if (ns.storage_failed) {
            uint64_t free_bytes = 0;
            st_space_check(space, &free_bytes, NULL, 0);
            st_logf(log, ST_LOG_ERROR,
                    "stopping after a storage failure (%s); %s has %llu bytes free. Free space "
                    "or repair the disk, then start this node again: it catches up from the "
                    "others",
                    ns.failure, cfg.data_dir, (unsigned long long)free_bytes);
            failed = true;
            break;
        }
    }
    if (!failed) {
        st_logf(log, ST_LOG_INFO, "%s received: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    /* A clean stop lets the calls in flight finish while this node still leads; after a
     * storage failure they cannot finish here, so leadership goes first (which answers the
     * writes in flight "outcome unknown": their clients retry on the new leader). */
    if (failed) {
        hand_over(node, log);
    }
    size_t open_calls = st_rpc_drain(rpc, DRAIN_GRACE_MS);
    if (open_calls > 0) {
        st_logf(log, ST_LOG_WARN, "%zu calls still open after %d ms; stopping Raft answers them",
                open_calls, DRAIN_GRACE_MS);
    }
    if (!failed) {
        hand_over(node, log);
    }
    exit_code = failed ? 1 : 0;

out:
    st_node_stop(node); /* answers what is still queued (the gRPC threads still run) */
    st_rpc_free(rpc);
    st_log_set_term_source(log, NULL, NULL); /* the node goes away */
    st_node_free(node);
    st_replica_free(replica);
    st_state_close(state);
    st_roster_free(roster);
    st_raft_trust_free(trust);
    st_space_free(space);
    st_node_key_wipe(&key);
    st_tls_free(&tls);
    if (lock_fd >= 0) {
        close(lock_fd);
    }
    st_logf(log, exit_code == 0 ? ST_LOG_INFO : ST_LOG_ERROR, "stratad stopped");
    st_log_close(log);
    return exit_code;
}
