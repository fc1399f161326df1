/* bench_load.h - the load generator of strata-bench: n unary calls of one method, made
 * through libstrata (st_client_unary: the leader rules, the deadline, the signed envelope
 * when the handle has a key) by `concurrency` threads, so that that many requests are in
 * flight at once. Each thread has its own st_client (a handle's key is per handle, and
 * each request may be signed by another owner's key); every handle gets the same address
 * list, so the gRPC core shares one connection per server among them.
 *
 * The same code drives Strata's CastBallot and etcd's KV.Put: only the request builder and
 * the answer check differ. Before the clock starts every thread makes one warm-up call
 * (connections are up); the clock runs from releasing the threads to the last answer.
 * Server CPU time is the growth of utime + stime of the given pids over that interval.
 */
#ifndef STRATA_TESTS_BENCH_LOAD_H
#define STRATA_TESTS_BENCH_LOAD_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "client/strata.h"

#define BL_MAX_PIDS 8

typedef struct {
    const char *cluster; /* "host:port,..." for st_client_options.cluster; leader first */
    const char *method;  /* "/strata.v1.Voting/CastBallot" */
    const ProtobufCMessageDescriptor *resp_desc;
    size_t n;             /* calls */
    unsigned concurrency; /* threads, each with one call in flight */
    uint32_t deadline_ms; /* per call (0: 30 s) */
    /* Request i, built into the thread's slot (slot_size bytes, zeroed once); may set the
     * handle's key. Returns 0, or non-zero to count the call as failed (why filled). */
    int (*prepare)(void *ctx, size_t i, st_client *c, void *slot, ProtobufCMessage **req, char *why,
                   size_t cap);
    size_t slot_size;
    /* Checks answer i; 0 when it is right, otherwise non-zero with why filled. */
    int (*check)(void *ctx, size_t i, void *slot, const ProtobufCMessage *resp, char *why,
                 size_t cap);
    void *ctx;
    /* The warm-up call of each thread (unsigned; NULL: none). */
    const char *warm_method;
    const ProtobufCMessage *warm_req;
    const ProtobufCMessageDescriptor *warm_desc;
    /* The servers whose CPU time is measured. */
    pid_t pids[BL_MAX_PIDS];
    size_t npids;
} bl_spec;

typedef struct {
    uint64_t ok, failed;
    double secs;      /* from release to the last answer */
    double ops_per_s; /* ok / secs */
    double p50_ms, p99_ms, max_ms, mean_ms;
    double server_cpu_s; /* all pids together; -1 when not measured */
    double client_cpu_s; /* this process (every thread) over the same interval */
    char first_error[512];
} bl_result;

/* Runs the load. Returns 0 when every call succeeded, 1 when some failed (r says how many
 * and the first error), -1 when the load could not start (message on stderr). */
int bl_run(const bl_spec *s, bl_result *r);

/* Sets the transport of a handle on o->cluster (already set): plaintext when every address
 * is a loopback one (the nodes strata-bench starts serve plaintext on 127.0.0.1, and so does
 * its etcd), otherwise TLS checked against STRATA_CA (unset: the system's roots), with the
 * client certificate STRATA_CERT and key STRATA_CERT_KEY when both are set (a --connect'ed
 * cluster; docs/OPERATIONS.md §TLS). */
void bl_transport(st_client_options *o);

/* The p-th percentile (nearest rank, 0 < p <= 100) of v[0..n) in microseconds, as ms;
 * sorts v. 0 when n == 0. */
double bl_percentile_ms(uint32_t *v, size_t n, double p);

#endif
