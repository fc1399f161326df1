/* bench_report.c - the table and the JSON object of strata-bench (bench_report.h). */
#include <string.h>

#include "tests/bench/bench_report.h"

static double ratio(double a, double b) {
    return b > 0 ? a / b : 0;
}

/* "%.*f" of v, or "-" when unknown (< 0). */
static const char *num(char *buf, size_t cap, double v, int decimals) {
    if (v < 0) {
        snprintf(buf, cap, "-");
    } else {
        snprintf(buf, cap, "%.*f", decimals, v);
    }
    return buf;
}

static void row(FILE *f, const char *name, double s, double e, int decimals, bool have_etcd,
                bool show_ratio) {
    char a[32], b[32], r[32];
    if (!have_etcd) {
        fprintf(f, "  %-22s %14s\n", name, num(a, sizeof(a), s, decimals));
        return;
    }
    if (show_ratio && s >= 0 && e > 0) {
        snprintf(r, sizeof(r), "%.2fx", s / e);
    } else {
        snprintf(r, sizeof(r), "-");
    }
    fprintf(f, "  %-22s %14s %14s %10s\n", name, num(a, sizeof(a), s, decimals),
            num(b, sizeof(b), e, decimals), r);
}

static void read_line(FILE *f, const char *name, const br_read *r) {
    if (r->ran) {
        fprintf(f, "  %-34s %9.3f %9.3f %9.3f ms  (%u reads, %llu ballots in)\n", name, r->p50_ms,
                r->p99_ms, r->max_ms, r->reads, (unsigned long long)r->ballots);
    }
}

void br_print_table(FILE *f, const br_figures *g) {
    fprintf(f, "\nstrata-bench: %zu operations, %u in flight, on %u cores (%s)\n", g->ballots,
            g->concurrency, g->cores, g->cpu_model);
    fprintf(f, "  3 nodes on 127.0.0.1, fsync on; strata: signed ballots of %zu owners", g->owners);
    if (g->etcd.ran) {
        fprintf(f, "; etcd %s: KV.Put, value as big as a ballot", g->etcd_version);
    }
    fprintf(f, "\n");
    bool he = g->etcd.ran;
    if (he) {
        fprintf(f, "\n  %-22s %14s %14s %10s\n", "", "strata", "etcd", "strata/etcd");
    } else {
        fprintf(f, "\n  %-22s %14s\n", "", "strata");
    }
    const br_side *s = &g->strata, *e = &g->etcd;
    row(f, "ops/s", s->ops_per_s, e->ops_per_s, 0, he, true);
    row(f, "latency p50 (ms)", s->p50_ms, e->p50_ms, 2, he, true);
    row(f, "latency p99 (ms)", s->p99_ms, e->p99_ms, 2, he, true);
    row(f, "latency max (ms)", s->max_ms, e->max_ms, 2, he, true);
    row(f, "server CPU (s)", s->cpu_s, e->cpu_s, 2, he, true);
    row(f, "server CPU (ms/op)", s->cpu_s >= 0 && s->ops ? s->cpu_s * 1000 / (double)s->ops : -1,
        e->cpu_s >= 0 && e->ops ? e->cpu_s * 1000 / (double)e->ops : -1, 3, he, true);
    row(f, "peak RSS (MiB)", s->rss_mb, e->rss_mb, 1, he, true);
    row(f, "bench CPU (s)", s->client_cpu_s, e->client_cpu_s, 2, he, true);
    row(f, "request bytes", (double)s->op_bytes, (double)e->op_bytes, 0, he, false);
    row(f, "seconds", s->secs, e->secs, 2, he, false);

    fprintf(f, "\n");
    if (g->verify_ran) {
        fprintf(f, "  %-34s %9.0f /s on one core, %.0f /s on %u threads\n",
                "Ed25519 verify (libsodium)", g->verify_1core, g->verify_all, g->verify_threads);
        if (s->ran) {
            fprintf(f, "  %-34s %9.0f %% of the %u-core verify ceiling\n", "strata ballots/s",
                    100.0 * ratio(s->ops_per_s, g->verify_all), g->verify_threads);
        }
    }
    if (g->roll_ran) {
        fprintf(f, "  %-34s %9.3f s (%zu units)\n", "roll import", g->roll_import_s, g->roll_units);
    }
    if (g->strata_big.ran) {
        const br_side *b = &g->strata_big;
        fprintf(f, "  %-34s %9.0f ballots/s, p50 %.2f p99 %.2f max %.2f ms (%llu ballots)\n",
                "big vote cast", b->ops_per_s, b->p50_ms, b->p99_ms, b->max_ms,
                (unsigned long long)b->ops);
    }
    if (g->read_few.ran || g->stale_few.ran) {
        fprintf(f, "  %-34s %9s %9s %9s\n", "GetVote", "p50", "p99", "max");
    }
    read_line(f, "  linearizable, few ballots", &g->read_few);
    read_line(f, "  linearizable, big vote", &g->read_big);
    read_line(f, "  stale (any node), few ballots", &g->stale_few);
    read_line(f, "  stale (any node), big vote", &g->stale_big);
    if (g->audit_ran) {
        fprintf(f, "  %-34s %9.3f s (%llu ballots, %llu keys, %.1f MiB)\n", "audit export",
                g->export_s, (unsigned long long)g->audit_ballots,
                (unsigned long long)g->audit_keys, (double)g->bundle_bytes / 1048576.0);
        fprintf(f, "  %-34s %9.3f s, %.0f ballots/s on %u threads (%.0f %% of the ceiling)\n",
                "audit verify (offline)", g->audit_verify_s, g->audit_verify_per_s,
                g->audit_threads, 100.0 * ratio(g->audit_verify_per_s, g->verify_all));
    }
    if (g->catchup_ran) {
        fprintf(f, "  %-34s %9.3f s to index %llu%s, %.1f MiB of data\n", "wiped follower catch-up",
                g->catchup_s, (unsigned long long)g->catchup_index,
                g->catchup_snapshot ? " (snapshot installed)" : " (no snapshot in its log)",
                (double)g->state_bytes / 1048576.0);
    }
    if (g->strata_rss_end_mb >= 0) {
        fprintf(f, "  %-34s %9.1f MiB (anonymous now: %.1f MiB)\n", "stratad peak RSS at the end",
                g->strata_rss_end_mb, g->strata_anon_end_mb);
    }
    fprintf(f, "\n");
}

static void json_side(FILE *f, const char *name, const br_side *s) {
    fprintf(f,
            "\"%s\": {\"ops\": %llu, \"failed\": %llu, \"secs\": %.3f, \"ops_per_s\": %.1f, "
            "\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, \"cpu_s\": %.3f, "
            "\"rss_mb\": %.1f, \"client_cpu_s\": %.3f, \"op_bytes\": %zu}",
            name, (unsigned long long)s->ops, (unsigned long long)s->failed, s->secs, s->ops_per_s,
            s->p50_ms, s->p99_ms, s->max_ms, s->cpu_s, s->rss_mb, s->client_cpu_s, s->op_bytes);
}

static void json_read(FILE *f, const char *name, const br_read *r) {
    fprintf(f,
            ", \"%s\": {\"ballots\": %llu, \"reads\": %u, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
            "\"max_ms\": %.3f}",
            name, (unsigned long long)r->ballots, r->reads, r->p50_ms, r->p99_ms, r->max_ms);
}

/* s as a JSON string body (the CPU model: printable ASCII expected; others escaped). */
static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            fprintf(f, "\\%c", ch);
        } else if (ch < 0x20) {
            fprintf(f, "\\u%04x", ch);
        } else {
            fputc(ch, f);
        }
    }
    fputc('"', f);
}

void br_print_json(FILE *f, const br_figures *g) {
    fprintf(f, "{");
    json_side(f, "strata", &g->strata);
    if (g->etcd.ran) {
        fprintf(f, ", ");
        json_side(f, "etcd", &g->etcd);
        fprintf(f, ", \"ratio_ops\": %.3f, \"ratio_p99\": %.3f",
                ratio(g->strata.ops_per_s, g->etcd.ops_per_s),
                ratio(g->strata.p99_ms, g->etcd.p99_ms));
        fprintf(f, ", \"etcd_version\": ");
        json_str(f, g->etcd_version);
    }
    fprintf(f, ", \"ballots\": %zu, \"concurrency\": %u, \"owners\": %zu, \"cores\": %u",
            g->ballots, g->concurrency, g->owners, g->cores);
    fprintf(f, ", \"cpu_model\": ");
    json_str(f, g->cpu_model);
    if (g->verify_ran) {
        fprintf(f,
                ", \"verify_per_s_1core\": %.0f, \"verify_per_s_all\": %.0f, "
                "\"verify_threads\": %u",
                g->verify_1core, g->verify_all, g->verify_threads);
    }
    if (g->roll_ran) {
        fprintf(f, ", \"roll_import_units\": %zu, \"roll_import_s\": %.3f", g->roll_units,
                g->roll_import_s);
    }
    if (g->strata_big.ran) {
        fprintf(f, ", ");
        json_side(f, "strata_big", &g->strata_big);
    }
    if (g->read_few.ran) {
        json_read(f, "result_read_few", &g->read_few);
    }
    if (g->read_big.ran) {
        json_read(f, "result_read_big", &g->read_big);
    }
    if (g->stale_few.ran) {
        json_read(f, "stale_read_few", &g->stale_few);
    }
    if (g->stale_big.ran) {
        json_read(f, "stale_read_big", &g->stale_big);
    }
    if (g->audit_ran) {
        fprintf(f,
                ", \"audit\": {\"ballots\": %llu, \"keys\": %llu, \"bundle_bytes\": %llu, "
                "\"export_s\": %.3f, \"verify_s\": %.3f, \"verify_per_s\": %.0f, "
                "\"threads\": %u, \"ratio_to_ceiling\": %.3f}",
                (unsigned long long)g->audit_ballots, (unsigned long long)g->audit_keys,
                (unsigned long long)g->bundle_bytes, g->export_s, g->audit_verify_s,
                g->audit_verify_per_s, g->audit_threads,
                ratio(g->audit_verify_per_s, g->verify_all));
    }
    if (g->catchup_ran) {
        fprintf(f,
                ", \"catchup\": {\"s\": %.3f, \"index\": %llu, \"snapshot_installed\": %s, "
                "\"data_bytes\": %llu}",
                g->catchup_s, (unsigned long long)g->catchup_index,
                g->catchup_snapshot ? "true" : "false", (unsigned long long)g->state_bytes);
    }
    if (g->strata_rss_end_mb >= 0) {
        fprintf(f, ", \"strata_rss_end_mb\": %.1f, \"strata_anon_end_mb\": %.1f",
                g->strata_rss_end_mb, g->strata_anon_end_mb);
    }
    fprintf(f, "}\n");
}
