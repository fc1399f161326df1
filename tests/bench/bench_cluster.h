/* bench_cluster.h - the 3-node stratad cluster of strata-bench: started by the bench on
 * free ports of 127.0.0.1 with its data under the bench's temporary directory, or an
 * existing cluster given by its gRPC addresses (--connect; its pids are looked up by the
 * listening port, so CPU and RSS are measured when the nodes run on this machine).
 *
 * Node i (0..n-1) has Raft id i+1; its data is DIR/node<i+1>/data and its log
 * DIR/node<i+1>/stratad.log. Started nodes use stratad's defaults (fsync on, snapshot every
 * 1024 entries) except a 1 GiB initial LMDB map, so that 100,000 ballots never pause to
 * grow it.
 */
#ifndef STRATA_TESTS_BENCH_CLUSTER_H
#define STRATA_TESTS_BENCH_CLUSTER_H

#include <stdbool.h>
#include <sys/types.h>

#include "tests/bench/bench_proc.h"

#define BC_MAX_NODES 5

typedef struct {
    int id;    /* Raft id */
    pid_t pid; /* 0 when not running (or not found) */
    char grpc[64], raft[64];
    char dir[BP_PATH_MAX]; /* DIR/node<id> */
} bc_node;

typedef struct {
    const char *stratad; /* NULL: connected, not started */
    int n;
    bc_node nodes[BC_MAX_NODES];
} bc_cluster;

/* Starts n (1..BC_MAX_NODES) nodes under dir and waits until each accepts connections.
 * 0, or -1 with a message on stderr. */
int bc_start(bc_cluster *c, const char *stratad, const char *dir, int n);
/* An existing cluster: addrs[0..n) are gRPC addresses "host:port". Ids are unknown (0)
 * until the caller fills them from Cluster.Status. */
int bc_connect(bc_cluster *c, char *const *addrs, int n);

/* The address list "a,b,c" with node `first` (index, -1: none) first, into out. */
void bc_addresses(const bc_cluster *c, int first, char *out, size_t cap);
/* The index of the node with Raft id (or gRPC address); -1 when none. */
int bc_index_of_id(const bc_cluster *c, int id);
int bc_index_of_addr(const bc_cluster *c, const char *grpc);

/* Stops node i with SIGTERM (waiting up to 30 s); its exit status, -1 when killed. */
int bc_stop_node(bc_cluster *c, int i);
/* Removes node i's Raft log and state (DIR/node/data/raft and /state), keeping its node
 * key: the node comes back empty, as a replaced disk would. */
int bc_wipe_node(bc_cluster *c, int i);
/* (Re)starts node i; join: start empty and wait to be brought up to date by the leader. */
int bc_start_node(bc_cluster *c, int i, bool join);
/* Stops every running node; 0 when each exited 0. */
int bc_stop_all(bc_cluster *c);

#endif
