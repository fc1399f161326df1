/* bench_etcd.h - the etcd side of strata-bench: a 3-member etcd cluster (Debian's
 * etcd-server) on free ports of 127.0.0.1 with its default durability (every write in the
 * WAL with fsync before it is acknowledged), data under the bench's temporary directory,
 * and n KV.Put calls of a value_bytes-byte value under distinct keys, made through
 * libstrata's call engine by the same load generator as the ballots (bench_load.h), with
 * the leader first in the address list as for Strata.
 */
#ifndef STRATA_TESTS_BENCH_ETCD_H
#define STRATA_TESTS_BENCH_ETCD_H

#include <stddef.h>
#include <sys/types.h>

#include "tests/bench/bench_report.h"

#define BE_NODES 3

typedef struct {
    int n;
    pid_t pid[BE_NODES];
    char client[BE_NODES][64]; /* host:port of the gRPC (client) URL */
    char dir[BE_NODES][512];
    char version[32];
} be_cluster;

/* Starts the members and waits until one reports a leader. 0 or -1 (message on stderr). */
int be_start(be_cluster *e, const char *etcd, const char *dir);
/* n Puts with concurrency in flight; fills *out (server CPU and the largest peak RSS). */
int be_put(be_cluster *e, size_t n, unsigned concurrency, size_t value_bytes, br_side *out);
/* Stops the members (SIGTERM); 0 when each exited 0. */
int be_stop(be_cluster *e);

#endif
