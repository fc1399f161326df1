/* bench_report.h - every figure strata-bench measures in one run, and the two ways it
 * prints them: a side-by-side table with ratios for people, and one JSON object (--json)
 * for scripts. A figure that was not measured (a phase skipped) is left out of both. */
#ifndef STRATA_TESTS_BENCH_REPORT_H
#define STRATA_TESTS_BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One write workload on one system. */
typedef struct {
    bool ran;
    uint64_t ops, failed;
    double secs, ops_per_s, p50_ms, p99_ms, max_ms;
    double cpu_s;        /* the servers' CPU time (all nodes) over the run; < 0 unknown */
    double rss_mb;       /* the largest node's peak RSS (VmHWM) after the run; < 0 unknown */
    double client_cpu_s; /* the bench process over the run */
    size_t op_bytes;     /* request bytes of one operation (message + signed envelope) */
} br_side;

/* Sequential latency of one read. */
typedef struct {
    bool ran;
    uint64_t ballots; /* in the vote read */
    unsigned reads;
    double p50_ms, p99_ms, max_ms;
} br_read;

typedef struct {
    /* the run */
    unsigned cores;
    char cpu_model[128];
    size_t ballots, big;
    unsigned concurrency;
    size_t owners;
    const char *stratad_path, *etcd_path;
    char etcd_version[32];

    br_side strata, etcd;
    br_side strata_big; /* the --big cast into the second vote */

    /* libsodium Ed25519 verifications per second */
    bool verify_ran;
    double verify_1core, verify_all;
    unsigned verify_threads;

    /* ImportRoll of roll_units units */
    bool roll_ran;
    size_t roll_units;
    double roll_import_s;

    /* GetVote: linearizable (from the leader) and stale (any node), few and many ballots */
    br_read read_few, read_big, stale_few, stale_big;

    /* audit bundle of the big vote: export and offline verification */
    bool audit_ran;
    uint64_t audit_ballots, audit_keys;
    double export_s, audit_verify_s, audit_verify_per_s;
    unsigned audit_threads;
    uint64_t bundle_bytes;

    /* a wiped follower brought back after the big vote */
    bool catchup_ran;
    double catchup_s;
    uint64_t catchup_index;
    bool catchup_snapshot; /* its log says a snapshot was installed */
    uint64_t state_bytes;  /* the caught-up node's data directory */

    /* peak RSS of the largest stratad after everything (big vote included) */
    double strata_rss_end_mb;
    double strata_anon_end_mb; /* the largest RssAnon then: memory not of the LMDB map */
} br_figures;

void br_print_table(FILE *f, const br_figures *g);
void br_print_json(FILE *f, const br_figures *g);

#endif
