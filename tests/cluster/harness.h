/* harness.h - real stratad processes on loopback for the cluster tests: a temporary data
 * directory, ports picked from the test's pid, start/stop/kill/pause of each node, and a
 * cleanup that never leaves a stratad behind (an atexit handler, fatal-signal handlers, and
 * PR_SET_PDEATHSIG in every child).
 *
 * Node i (1..TC_MAX_NODES) listens for gRPC on 127.0.0.1:base+i and for Raft on
 * 127.0.0.1:base+20+i; its data, stratad.log and stderr.log live in DIR/node<i>/. Nodes
 * 1..n_boot are bootstrapped together; a node started with join=true starts empty.
 *
 * Network namespaces (the partition test, tests/fault/partition.c): a node given a
 * namespace in tc_options.netns runs inside it (setns into /run/netns/NAME before exec, what
 * `ip netns exec` does) with its Raft on raft_host[i] there. Its gRPC stays on
 * 127.0.0.1:base+i of that namespace's own loopback, which the test reaches through a relay
 * at the same address in its own namespace (tests/fault/relay.h): tc_grpc_addr is the one
 * place that chooses how the test addresses a node's gRPC, for every mode.
 *
 * Threads: tc_start/tc_stop/tc_kill/tc_finish from the main thread only (fork and the
 * death signal are tied to it); the gRPC calls of client.h from any thread.
 */
#ifndef STRATA_TESTS_CLUSTER_HARNESS_H
#define STRATA_TESTS_CLUSTER_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define TC_MAX_NODES 5

typedef struct {
    const char *stratad;         /* path of the binary under test */
    int n_boot;                  /* voters bootstrapped together (default 3) */
    unsigned election_ms;        /* default 1000 */
    unsigned heartbeat_ms;       /* default 100 */
    unsigned snapshot_threshold; /* 0 = stratad's default */
    unsigned snapshot_trailing;  /* 0 = stratad's default */
    /* Per node (index 1..TC_MAX_NODES): the network namespace it runs in (NULL: the test's
     * own) and the host of its Raft address (NULL: 127.0.0.1). */
    const char *netns[TC_MAX_NODES + 1];
    const char *raft_host[TC_MAX_NODES + 1];
    /* More stratad flags ("--tls-cert=FILE"), NULL-terminated, after the harness's own
     * (which include --grpc-plaintext: give "--grpc-plaintext=false" to serve TLS). Read
     * at every tc_start, so a test may change them between restarts. NULL: none. */
    const char *const *extra_args;
} tc_options;

typedef struct tc_cluster tc_cluster;

/* A cluster description (no process yet); exits the test on failure. name labels the
 * temporary directory. */
tc_cluster *tc_new(const tc_options *o, const char *name);
/* Starts node id (1..TC_MAX_NODES) if it is not running. join: start empty, not
 * bootstrapped, and wait to be added. */
void tc_start(tc_cluster *c, int id, bool join);
/* Sends a signal (SIGSTOP, SIGCONT...) to node id. */
void tc_signal(tc_cluster *c, int id, int sig);
/* kill -9 and reap. */
void tc_kill(tc_cluster *c, int id);
/* SIGTERM, wait up to timeout_ms (then SIGKILL); returns the exit status (-1 if killed). */
int tc_stop(tc_cluster *c, int id, int timeout_ms);
bool tc_running(tc_cluster *c, int id);
/* Stops every node with SIGTERM (each must exit 0), checks their stderr for sanitizer
 * reports, and removes the directory. Call at the end of a passing test. */
void tc_finish(tc_cluster *c);

int tc_grpc_port(const tc_cluster *c, int id);
int tc_raft_port(const tc_cluster *c, int id);
/* "127.0.0.1:PORT" of node id's gRPC service; the node whose gRPC address is addr (0 if
 * none). */
const char *tc_grpc_addr(const tc_cluster *c, int id);
int tc_node_of_addr(const tc_cluster *c, const char *addr);
/* A TCP socket (close-on-exec) made inside network namespace netns (/run/netns/NAME; NULL:
 * the caller's): it stays in that namespace whichever thread uses it. -1 on failure. Only the
 * calling thread enters the namespace, and only for the socket() call. */
int tc_ns_socket(const char *netns);
/* Whether node id's stratad.log contains text. */
bool tc_log_contains(const tc_cluster *c, int id, const char *text);

/* Milliseconds on a monotonic clock; a sleep in milliseconds. */
uint64_t tc_now_ms(void);
void tc_sleep_ms(unsigned ms);

#endif
