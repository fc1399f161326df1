/* strata_bench.c - strata-bench: Strata against etcd on the same machine, in one run.
 *
 * Starts (or connects to) a 3-node Strata cluster and a 3-member etcd cluster on
 * 127.0.0.1, casts N signed ballots with C requests in flight through libstrata and makes
 * N etcd KV.Put calls of the same size through the same client code, and prints both rows
 * side by side with their ratios; then measures what else the service promises: the
 * Ed25519 verify ceiling of this machine, a 20,000-unit roll import, result reads with few
 * and with many ballots in, the audit bundle of a big vote exported and verified offline,
 * and a wiped follower's catch-up. See tests/bench/README.md for each figure.
 *
 * usage: strata-bench [--ballots N] [--concurrency C] [--big N] [--json] [--stratad PATH]
 *                     [--etcd PATH] [--skip-etcd] [--connect ADDR...] [--perf FILE] ...
 *        strata-bench --help
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/bench_cluster.h"
#include "tests/bench/bench_etcd.h"
#include "tests/bench/bench_proc.h"
#include "tests/bench/bench_report.h"
#include "tests/bench/bench_strata.h"

#define FEW_BALLOTS 10

typedef struct {
    size_t ballots, big, owners, roll_units;
    unsigned concurrency, reads, verify_ms;
    bool json, skip_etcd, keep, verbose;
    const char *stratad, *etcd, *perf, *operator_key, *supervisor_key;
    char *connect[BC_MAX_NODES];
    int n_connect;
} options;

static void usage(FILE *f) {
    fprintf(f, "usage: strata-bench [options]\n"
               "  --ballots N          ballots cast, and etcd Puts made (default 20000)\n"
               "  --concurrency C      requests in flight (default 64)\n"
               "  --big N              ballots in the big vote: result reads, audit export and\n"
               "                       verification, follower catch-up (default 100000; 0 skips)\n"
               "  --owners N           owners enrolled (default min(ballots, 2000))\n"
               "  --roll-units N       units of the timed roll import (default 20000; 0 skips)\n"
               "  --reads N            GetVote calls per latency figure (default 200)\n"
               "  --verify-ms MS       how long each Ed25519 ceiling is measured (default 1000)\n"
               "  --json               print one JSON object instead of the table\n"
               "  --stratad PATH       the server (default: next to strata-bench, the build\n"
               "                       tree's server/stratad, or stratad on PATH)\n"
               "  --etcd PATH          etcd-server (default /usr/bin/etcd, or etcd on PATH)\n"
               "  --skip-etcd          no etcd run\n"
               "  --connect ADDR...    use a running Strata cluster (its gRPC addresses); with\n"
               "                       Genesis done, also give --supervisor-key FILE\n"
               "  --operator-key FILE  --supervisor-key FILE   key files of that cluster\n"
               "  --perf FILE          `perf record -g` of the Strata leader during the cast\n"
               "  --keep               keep the temporary directory (data and logs)\n"
               "  --verbose            progress on stderr\n");
}

static bool parse_size(const char *s, size_t *out) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
        return false;
    }
    *out = (size_t)v;
    return true;
}

static int parse(int argc, char **argv, options *o) {
    memset(o, 0, sizeof(*o));
    o->ballots = 20000;
    o->big = 100000;
    o->concurrency = 64;
    o->roll_units = 20000;
    o->reads = 200;
    o->verify_ms = 1000;
    bool owners_set = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t n = 0;
#define NEED_NUM()                                                                                 \
    do {                                                                                           \
        if (v == NULL || !parse_size(v, &n)) {                                                     \
            fprintf(stderr, "strata-bench: %s needs a number\n", a);                               \
            return -1;                                                                             \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)
#define NEED_STR()                                                                                 \
    do {                                                                                           \
        if (v == NULL) {                                                                           \
            fprintf(stderr, "strata-bench: %s needs a value\n", a);                                \
            return -1;                                                                             \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)
        if (strcmp(a, "--ballots") == 0) {
            NEED_NUM();
            o->ballots = n;
        } else if (strcmp(a, "--concurrency") == 0) {
            NEED_NUM();
            o->concurrency = (unsigned)n;
        } else if (strcmp(a, "--big") == 0) {
            NEED_NUM();
            o->big = n;
        } else if (strcmp(a, "--owners") == 0) {
            NEED_NUM();
            o->owners = n;
            owners_set = true;
        } else if (strcmp(a, "--roll-units") == 0) {
            NEED_NUM();
            o->roll_units = n;
        } else if (strcmp(a, "--reads") == 0) {
            NEED_NUM();
            o->reads = (unsigned)n;
        } else if (strcmp(a, "--verify-ms") == 0) {
            NEED_NUM();
            o->verify_ms = (unsigned)n;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--skip-etcd") == 0) {
            o->skip_etcd = true;
        } else if (strcmp(a, "--keep") == 0) {
            o->keep = true;
        } else if (strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "--stratad") == 0) {
            NEED_STR();
            o->stratad = v;
        } else if (strcmp(a, "--etcd") == 0) {
            NEED_STR();
            o->etcd = v;
        } else if (strcmp(a, "--perf") == 0) {
            NEED_STR();
            o->perf = v;
        } else if (strcmp(a, "--operator-key") == 0) {
            NEED_STR();
            o->operator_key = v;
        } else if (strcmp(a, "--supervisor-key") == 0) {
            NEED_STR();
            o->supervisor_key = v;
        } else if (strcmp(a, "--connect") == 0) {
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
                if (o->n_connect == BC_MAX_NODES) {
                    fprintf(stderr, "strata-bench: at most %d addresses\n", BC_MAX_NODES);
                    return -1;
                }
                o->connect[o->n_connect++] = argv[++i];
            }
            if (o->n_connect == 0) {
                fprintf(stderr, "strata-bench: --connect needs addresses\n");
                return -1;
            }
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "strata-bench: unknown option %s\n", a);
            usage(stderr);
            return -1;
        }
#undef NEED_NUM
#undef NEED_STR
    }
    if (o->concurrency == 0 || o->ballots == 0) {
        fprintf(stderr, "strata-bench: --ballots and --concurrency must be at least 1\n");
        return -1;
    }
    if (!owners_set) {
        o->owners = o->ballots < 2000 ? o->ballots : 2000;
    }
    if (o->owners == 0) {
        o->owners = 1;
    }
    if (o->big > 0 && o->big < FEW_BALLOTS) {
        o->big = FEW_BALLOTS;
    }
    return 0;
}

/* ---- finding the programs ---- */

static bool executable(const char *p) {
    return p != NULL && access(p, X_OK) == 0;
}

static const char *find_program(const char *given, const char *name, const char *fallback,
                                char *buf, size_t cap) {
    if (given != NULL) {
        return executable(given) ? given : NULL;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash != NULL) {
            *slash = '\0';
            int w = snprintf(buf, cap, "%s/%s", self, name);
            if (w > 0 && (size_t)w < cap && executable(buf)) {
                return buf;
            }
            if (fallback != NULL) {
                w = snprintf(buf, cap, "%s/%s", self, fallback);
                if (w > 0 && (size_t)w < cap && executable(buf)) {
                    return buf;
                }
            }
        }
    }
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof(dirs), "%s", path != NULL ? path : "/usr/bin:/bin");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
        snprintf(buf, cap, "%s/%s", d, name);
        if (executable(buf)) {
            return buf;
        }
    }
    return NULL;
}

/* ---- the Ed25519 ceiling ---- */

typedef struct {
    unsigned ms;
    uint64_t count;
    const uint8_t *pk, *sig, *msg;
} verify_job;

static void *verify_main(void *arg) {
    verify_job *j = arg;
    uint64_t until = bp_now_us() + (uint64_t)j->ms * 1000u, n = 0;
    do {
        for (int k = 0; k < 64; k++) {
            if (crypto_sign_verify_detached(j->sig, j->msg, 128, j->pk) != 0) {
                return NULL; /* cannot happen: count stays short and the figure shows it */
            }
            n++;
        }
    } while (bp_now_us() < until);
    j->count = n;
    return NULL;
}

/* Verifications per second of a 128-byte message on `threads` threads at once. */
static double verify_rate(unsigned threads, unsigned ms) {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], msg[128],
        sig[crypto_sign_BYTES];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(msg, sizeof(msg));
    crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
    verify_job jobs[64];
    pthread_t th[64];
    if (threads > 64) {
        threads = 64;
    }
    uint64_t t0 = bp_now_us();
    for (unsigned i = 0; i < threads; i++) {
        jobs[i] = (verify_job){ms, 0, pk, sig, msg};
        pthread_create(&th[i], NULL, verify_main, &jobs[i]);
    }
    uint64_t total = 0;
    for (unsigned i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += jobs[i].count;
    }
    double secs = (double)(bp_now_us() - t0) / 1e6;
    return (double)total / (secs > 0 ? secs : 1);
}

static void cpu_model(char *out, size_t cap) {
    snprintf(out, cap, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            if (colon != NULL) {
                colon += 2;
                colon[strcspn(colon, "\n")] = '\0';
                snprintf(out, cap, "%s", colon);
            }
            break;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
}

/* ---- the run ---- */

static bool verbose;
static uint64_t run_start_ms;

static void progress(const char *what) {
    if (verbose) {
        fprintf(stderr, "strata-bench: [%6.1f s] %s\n",
                (double)(bp_now_ms() - run_start_ms) / 1000.0, what);
    }
}

static int run_strata_tail(const options *o, bs_world *w, char *dir, br_figures *g) {
    /* The vote the big figures are about: a few ballots first, then the rest. */
    uint64_t vote = bs_open_vote(w, "strata-bench big vote");
    if (vote == 0) {
        return -1;
    }
    size_t few = FEW_BALLOTS;
    br_side few_side;
    progress("a few ballots into the second vote");
    if (bs_cast(w, vote, few, 1, 0, NULL, &few_side) != 0) {
        return -1;
    }
    progress("result reads with few ballots");
    if (bs_read_latency(w, vote, false, o->reads, &g->read_few) != 0 ||
        bs_read_latency(w, vote, true, o->reads, &g->stale_few) != 0) {
        return -1;
    }
    if (o->big == 0) {
        return 0;
    }
    progress("the big vote");
    if (bs_cast(w, vote, o->big - few, o->concurrency, few, NULL, &g->strata_big) != 0) {
        return -1;
    }
    progress("result reads with the big vote");
    if (bs_read_latency(w, vote, false, o->reads, &g->read_big) != 0 ||
        bs_read_latency(w, vote, true, o->reads, &g->stale_big) != 0) {
        return -1;
    }
    g->strata_rss_end_mb = bs_peak_rss_mb(w);
    progress("audit export and verification");
    char bundle[BP_PATH_MAX + 16];
    snprintf(bundle, sizeof(bundle), "%s/bundle", dir);
    if (bs_audit(w, vote, bundle, g) != 0) {
        return -1;
    }
    bp_rmtree(bundle);
    if (o->n_connect == 0) {
        progress("a wiped follower's catch-up");
        if (bs_catchup(w, g) != 0) {
            return -1;
        }
    }
    double rss = bs_peak_rss_mb(w);
    g->strata_rss_end_mb = rss > g->strata_rss_end_mb ? rss : g->strata_rss_end_mb;
    g->strata_anon_end_mb = bs_anon_rss_mb(w);
    return 0;
}

int main(int argc, char **argv) {
    options o;
    if (parse(argc, argv, &o) != 0) {
        return 2;
    }
    verbose = o.verbose;
    run_start_ms = bp_now_ms();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (sodium_init() < 0) {
        fprintf(stderr, "strata-bench: libsodium does not start\n");
        return 1;
    }
    char stratad_buf[PATH_MAX], etcd_buf[PATH_MAX];
    const char *stratad = NULL, *etcd = NULL;
    if (o.n_connect == 0) {
        stratad = find_program(o.stratad, "stratad", "../../server/stratad", stratad_buf, PATH_MAX);
        if (stratad == NULL) {
            fprintf(stderr, "strata-bench: no stratad found%s%s; give --stratad PATH\n",
                    o.stratad ? " at " : "", o.stratad ? o.stratad : "");
            return 2;
        }
    }
    if (!o.skip_etcd) {
        etcd = o.etcd != NULL                ? (executable(o.etcd) ? o.etcd : NULL)
               : executable("/usr/bin/etcd") ? "/usr/bin/etcd"
                                             : find_program(NULL, "etcd", NULL, etcd_buf, PATH_MAX);
        if (etcd == NULL) {
            fprintf(stderr, "strata-bench: no etcd found (Debian: apt-get install etcd-server, or "
                            "deploy/install-deps.sh); give --etcd PATH or --skip-etcd\n");
            return 2;
        }
    }
    char dir[BP_PATH_MAX];
    if (bp_init(dir, o.keep) != 0) {
        fprintf(stderr, "strata-bench: cannot make a temporary directory: %s\n", strerror(errno));
        return 1;
    }

    br_figures g;
    memset(&g, 0, sizeof(g));
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    g.cores = cores > 0 ? (unsigned)cores : 1;
    cpu_model(g.cpu_model, sizeof(g.cpu_model));
    g.ballots = o.ballots;
    g.big = o.big;
    g.concurrency = o.concurrency;
    g.owners = o.owners;
    g.stratad_path = stratad;
    g.etcd_path = etcd;
    g.strata_rss_end_mb = -1;

    progress("Ed25519 verify ceiling");
    g.verify_1core = verify_rate(1, o.verify_ms);
    g.verify_threads = g.cores;
    g.verify_all = verify_rate(g.cores, o.verify_ms);
    g.verify_ran = true;

    bc_cluster cluster;
    progress(o.n_connect ? "connecting to the Strata cluster" : "starting 3 stratad nodes");
    if ((o.n_connect ? bc_connect(&cluster, o.connect, o.n_connect)
                     : bc_start(&cluster, stratad, dir, 3)) != 0) {
        return 1;
    }
    bs_options so = {.cluster = &cluster,
                     .owners = o.owners,
                     .concurrency = o.concurrency,
                     .operator_key = o.operator_key,
                     .supervisor_key = o.supervisor_key,
                     .verbose = o.verbose};
    progress("Genesis, community, roll, enrollment");
    bs_world *w = bs_setup(&so);
    if (w == NULL) {
        return 1;
    }
    uint64_t vote = bs_open_vote(w, "strata-bench vote");
    if (vote == 0) {
        return 1;
    }
    progress("casting the ballots");
    if (bs_cast(w, vote, o.ballots, o.concurrency, 0, o.perf, &g.strata) != 0) {
        return 1;
    }
    size_t msg_bytes = 0, env_bytes = 0;
    bs_ballot_bytes(w, &msg_bytes, &env_bytes);

    if (etcd != NULL) {
        progress("starting 3 etcd members");
        be_cluster e;
        if (be_start(&e, etcd, dir) != 0) {
            return 1;
        }
        snprintf(g.etcd_version, sizeof(g.etcd_version), "%s", e.version);
        progress("etcd Puts");
        int rc = be_put(&e, o.ballots, o.concurrency, msg_bytes + env_bytes, &g.etcd);
        if (be_stop(&e) != 0 || rc != 0) {
            return 1;
        }
    }

    if (o.roll_units > 0) {
        progress("roll import");
        g.roll_units = o.roll_units;
        if (bs_roll_import(w, o.roll_units, &g.roll_import_s) != 0) {
            return 1;
        }
        g.roll_ran = true;
    }
    if (run_strata_tail(&o, w, dir, &g) != 0) {
        return 1;
    }
    bs_free(w);
    if (o.n_connect == 0) {
        progress("stopping the nodes");
        if (bc_stop_all(&cluster) != 0) {
            return 1;
        }
    }

    if (o.json) {
        br_print_json(stdout, &g);
    } else {
        br_print_table(stdout, &g);
        printf("figure: bench strata_ops_per_s=%.0f strata_p99_ms=%.2f", g.strata.ops_per_s,
               g.strata.p99_ms);
        if (g.etcd.ran) {
            printf(" etcd_ops_per_s=%.0f etcd_p99_ms=%.2f ratio_ops=%.2f ratio_p99=%.2f",
                   g.etcd.ops_per_s, g.etcd.p99_ms,
                   g.etcd.ops_per_s > 0 ? g.strata.ops_per_s / g.etcd.ops_per_s : 0,
                   g.etcd.p99_ms > 0 ? g.strata.p99_ms / g.etcd.p99_ms : 0);
        }
        printf(" ballots=%zu concurrency=%u verify_per_s=%.0f\n", o.ballots, o.concurrency,
               g.verify_all);
    }
    bp_success();
    return 0;
}
