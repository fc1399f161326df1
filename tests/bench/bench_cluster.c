/* bench_cluster.c - stratad nodes started or found by strata-bench (bench_cluster.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/bench/bench_cluster.h"

int bc_start(bc_cluster *c, const char *stratad, const char *dir, int n) {
    memset(c, 0, sizeof(*c));
    if (n < 1 || n > BC_MAX_NODES) {
        return -1;
    }
    int base = bp_free_ports(2 * n);
    if (base == 0) {
        fprintf(stderr, "strata-bench: no %d free ports on 127.0.0.1\n", 2 * n);
        return -1;
    }
    c->stratad = stratad;
    c->n = n;
    for (int i = 0; i < n; i++) {
        bc_node *d = &c->nodes[i];
        d->id = i + 1;
        snprintf(d->grpc, sizeof(d->grpc), "127.0.0.1:%d", base + i);
        snprintf(d->raft, sizeof(d->raft), "127.0.0.1:%d", base + n + i);
        snprintf(d->dir, sizeof(d->dir), "%s/node%d", dir, d->id);
        if (mkdir(d->dir, 0755) != 0) {
            fprintf(stderr, "strata-bench: cannot create %s\n", d->dir);
            return -1;
        }
    }
    for (int i = 0; i < n; i++) {
        if (bc_start_node(c, i, false) != 0) {
            return -1;
        }
    }
    return 0;
}

int bc_connect(bc_cluster *c, char *const *addrs, int n) {
    memset(c, 0, sizeof(*c));
    if (n < 1 || n > BC_MAX_NODES) {
        fprintf(stderr, "strata-bench: --connect takes 1 to %d addresses\n", BC_MAX_NODES);
        return -1;
    }
    c->n = n;
    for (int i = 0; i < n; i++) {
        bc_node *d = &c->nodes[i];
        snprintf(d->grpc, sizeof(d->grpc), "%s", addrs[i]);
        const char *colon = strrchr(addrs[i], ':');
        int port = colon != NULL ? atoi(colon + 1) : 0;
        d->pid = port > 0 ? bp_find_listener(port) : 0;
    }
    return 0;
}

void bc_addresses(const bc_cluster *c, int first, char *out, size_t cap) {
    size_t o = 0;
    out[0] = '\0';
    for (int k = -1; k < c->n; k++) {
        int i = k < 0 ? first : k;
        if (i < 0 || (k >= 0 && i == first)) {
            continue;
        }
        int w = snprintf(out + o, cap - o, "%s%s", o ? "," : "", c->nodes[i].grpc);
        if (w < 0 || (size_t)w >= cap - o) {
            break;
        }
        o += (size_t)w;
    }
}

int bc_index_of_id(const bc_cluster *c, int id) {
    for (int i = 0; i < c->n; i++) {
        if (c->nodes[i].id == id) {
            return i;
        }
    }
    return -1;
}

int bc_index_of_addr(const bc_cluster *c, const char *grpc) {
    for (int i = 0; i < c->n; i++) {
        if (strcmp(c->nodes[i].grpc, grpc) == 0) {
            return i;
        }
    }
    return -1;
}

int bc_start_node(bc_cluster *c, int i, bool join) {
    if (c->stratad == NULL) {
        fprintf(stderr, "strata-bench: a connected cluster's nodes are not started here\n");
        return -1;
    }
    bc_node *d = &c->nodes[i];
    char args[40][BP_PATH_MAX + 64];
    int n = 0;
#define ARG(...) snprintf(args[n++], sizeof(args[0]), __VA_ARGS__)
    ARG("%s", c->stratad);
    ARG("--id=%d", d->id);
    ARG("--data-dir=%s/data", d->dir);
    ARG("--grpc-listen=%s", d->grpc);
    ARG("--raft-listen=%s", d->raft);
    for (int p = 0; p < c->n; p++) {
        ARG("--peer=%d=%s,%s", c->nodes[p].id, c->nodes[p].raft, c->nodes[p].grpc);
    }
    if (join) {
        ARG("--join");
    }
    ARG("--lmdb-map-size=1G");
    ARG("--log=%s/stratad.log", d->dir);
    ARG("--grpc-plaintext"); /* on 127.0.0.1 only: the bench measures Strata, not TLS */
#undef ARG
    char *argv[41];
    for (int k = 0; k < n; k++) {
        argv[k] = args[k];
    }
    argv[n] = NULL;
    char out[BP_PATH_MAX + 16];
    snprintf(out, sizeof(out), "%s/stderr.log", d->dir);
    d->pid = bp_spawn(argv, out);
    if (d->pid <= 0) {
        return -1;
    }
    const char *colon = strrchr(d->grpc, ':');
    if (!bp_wait_port(atoi(colon + 1), d->pid, 20000)) {
        fprintf(stderr, "strata-bench: node %d did not start listening on %s: see %s\n", d->id,
                d->grpc, out);
        return -1;
    }
    return 0;
}

int bc_stop_node(bc_cluster *c, int i) {
    bc_node *d = &c->nodes[i];
    if (c->stratad == NULL || d->pid <= 0) {
        return -1;
    }
    int rc = bp_stop(d->pid, 30000);
    d->pid = 0;
    return rc;
}

int bc_wipe_node(bc_cluster *c, int i) {
    char path[BP_PATH_MAX + 16];
    const char *parts[] = {"raft", "state"};
    for (size_t k = 0; k < 2; k++) {
        snprintf(path, sizeof(path), "%s/data/%s", c->nodes[i].dir, parts[k]);
        struct stat sb;
        if (stat(path, &sb) == 0 && bp_rmtree(path) != 0) {
            fprintf(stderr, "strata-bench: cannot remove %s\n", path);
            return -1;
        }
    }
    return 0;
}

/* Whether node i's stderr holds a sanitizer report. */
static bool sanitizer_report(const bc_node *d) {
    char path[BP_PATH_MAX + 16], line[1024];
    snprintf(path, sizeof(path), "%s/stderr.log", d->dir);
    FILE *f = fopen(path, "r");
    bool found = false;
    while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL) {
        found = strstr(line, "AddressSanitizer") != NULL || strstr(line, "LeakSanitizer") != NULL ||
                strstr(line, "runtime error:") != NULL;
    }
    if (f != NULL) {
        fclose(f);
    }
    return found;
}

int bc_stop_all(bc_cluster *c) {
    int bad = 0;
    for (int i = 0; c->stratad != NULL && i < c->n; i++) {
        if (c->nodes[i].pid > 0) {
            int rc = bc_stop_node(c, i);
            if (rc != 0) {
                fprintf(stderr, "strata-bench: node %d exited with status %d after SIGTERM\n",
                        c->nodes[i].id, rc);
                bad = 1;
            }
        }
    }
    for (int i = 0; c->stratad != NULL && i < c->n; i++) {
        if (sanitizer_report(&c->nodes[i])) {
            fprintf(stderr, "strata-bench: node %d reported a sanitizer error: see %s/stderr.log\n",
                    c->nodes[i].id, c->nodes[i].dir);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}
