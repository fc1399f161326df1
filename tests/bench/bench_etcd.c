/* bench_etcd.c - a local etcd cluster and its KV.Put load (bench_etcd.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "client/strata.h"
#include "tests/bench/bench_etcd.h"
#include "tests/bench/bench_load.h"
#include "tests/bench/bench_proc.h"
#include "tests/bench/etcd_kv.pb-c.h"

#define PUT_METHOD "/etcdserverpb.KV/Put"
#define STATUS_METHOD "/etcdserverpb.Maintenance/Status"
#define VALUE_MAX 4096

/* Maintenance.Status of member i; NULL when it does not answer within timeout_ms. */
static Etcdserverpb__StatusResponse *status_of(be_cluster *e, st_client *c, int i,
                                               uint32_t timeout_ms) {
    Etcdserverpb__StatusRequest q = ETCDSERVERPB__STATUS_REQUEST__INIT;
    st_call_options o;
    memset(&o, 0, sizeof(o));
    o.address = e->client[i];
    o.deadline_ms = timeout_ms;
    ProtobufCMessage *resp = NULL;
    st_error err;
    if (st_client_unary(c, STATUS_METHOD, &q.base, &etcdserverpb__status_response__descriptor, &o,
                        &resp, &err) != ST_OK) {
        return NULL;
    }
    return (Etcdserverpb__StatusResponse *)resp;
}

/* The index of the leader member, -1 when none answers with one. */
static int leader_of(be_cluster *e, st_client *c) {
    for (int i = 0; i < e->n; i++) {
        Etcdserverpb__StatusResponse *s = status_of(e, c, i, 1000);
        if (s == NULL) {
            continue;
        }
        bool leader = s->header != NULL && s->leader != 0 && s->header->member_id == s->leader;
        if (leader) {
            snprintf(e->version, sizeof(e->version), "%s", s->version);
        }
        protobuf_c_message_free_unpacked(&s->base, NULL);
        if (leader) {
            return i;
        }
    }
    return -1;
}

static st_client *new_client(be_cluster *e, int first) {
    char list[BE_NODES * 70];
    size_t o = 0;
    list[0] = '\0';
    for (int k = -1; k < e->n; k++) {
        int i = k < 0 ? first : k;
        if (i < 0 || (k >= 0 && i == first)) {
            continue;
        }
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o ? "," : "", e->client[i]);
    }
    st_client_options opt;
    st_client_options_init(&opt);
    opt.cluster = list;
    bl_transport(&opt); /* etcd on 127.0.0.1: plaintext */
    st_client *c = NULL;
    st_error err;
    if (st_client_new(&opt, &c, &err) != ST_OK) {
        fprintf(stderr, "strata-bench: %s\n", err.message);
        return NULL;
    }
    return c;
}

int be_start(be_cluster *e, const char *etcd, const char *dir) {
    memset(e, 0, sizeof(*e));
    e->n = BE_NODES;
    int base = bp_free_ports(2 * e->n);
    if (base == 0) {
        fprintf(stderr, "strata-bench: no free ports for etcd\n");
        return -1;
    }
    char initial[512];
    size_t o = 0;
    for (int i = 0; i < e->n; i++) {
        o += (size_t)snprintf(initial + o, sizeof(initial) - o, "%se%d=http://127.0.0.1:%d",
                              i ? "," : "", i + 1, base + e->n + i);
        snprintf(e->client[i], sizeof(e->client[i]), "127.0.0.1:%d", base + i);
    }
    for (int i = 0; i < e->n; i++) {
        snprintf(e->dir[i], sizeof(e->dir[i]), "%s/etcd%d", dir, i + 1);
        if (mkdir(e->dir[i], 0755) != 0) {
            fprintf(stderr, "strata-bench: cannot create %s\n", e->dir[i]);
            return -1;
        }
        char args[16][600];
        int n = 0;
#define ARG(...) snprintf(args[n++], sizeof(args[0]), __VA_ARGS__)
        ARG("%s", etcd);
        ARG("--name=e%d", i + 1);
        ARG("--data-dir=%s/data", e->dir[i]);
        ARG("--listen-client-urls=http://%s", e->client[i]);
        ARG("--advertise-client-urls=http://%s", e->client[i]);
        ARG("--listen-peer-urls=http://127.0.0.1:%d", base + e->n + i);
        ARG("--initial-advertise-peer-urls=http://127.0.0.1:%d", base + e->n + i);
        ARG("--initial-cluster=%s", initial);
        ARG("--initial-cluster-token=strata-bench-%d", base);
        ARG("--initial-cluster-state=new");
        ARG("--logger=zap");
#undef ARG
        char *argv[17];
        for (int k = 0; k < n; k++) {
            argv[k] = args[k];
        }
        argv[n] = NULL;
        char log[600];
        snprintf(log, sizeof(log), "%s/etcd.log", e->dir[i]);
        e->pid[i] = bp_spawn(argv, log);
        if (e->pid[i] <= 0) {
            return -1;
        }
    }
    for (int i = 0; i < e->n; i++) {
        if (!bp_wait_port(base + i, e->pid[i], 20000)) {
            fprintf(stderr, "strata-bench: etcd member %d did not start: see %s/etcd.log\n", i + 1,
                    e->dir[i]);
            return -1;
        }
    }
    st_client *c = new_client(e, -1);
    if (c == NULL) {
        return -1;
    }
    uint64_t until = bp_now_ms() + 30000;
    int leader = -1;
    while ((leader = leader_of(e, c)) < 0 && bp_now_ms() < until) {
        bp_sleep_ms(100);
    }
    st_client_close(c);
    if (leader < 0) {
        fprintf(stderr, "strata-bench: the etcd cluster elected no leader in 30 s\n");
        return -1;
    }
    return 0;
}

typedef struct {
    size_t value_bytes;
    const uint8_t *value; /* value_bytes random bytes */
} put_ctx;

typedef struct {
    Etcdserverpb__PutRequest q;
    char key[32];
    uint8_t value[VALUE_MAX];
} put_slot;

static int put_prepare(void *ctx, size_t i, st_client *c, void *slot, ProtobufCMessage **req,
                       char *why, size_t cap) {
    (void)c;
    (void)why;
    (void)cap;
    put_ctx *x = ctx;
    put_slot *s = slot;
    etcdserverpb__put_request__init(&s->q);
    int klen = snprintf(s->key, sizeof(s->key), "bench/%010zu", i);
    memcpy(s->value, x->value, x->value_bytes);
    memcpy(s->value, &i, sizeof(i) < x->value_bytes ? sizeof(i) : x->value_bytes);
    s->q.key = (ProtobufCBinaryData){(size_t)klen, (uint8_t *)s->key};
    s->q.value = (ProtobufCBinaryData){x->value_bytes, s->value};
    *req = &s->q.base;
    return 0;
}

static int put_check(void *ctx, size_t i, void *slot, const ProtobufCMessage *resp, char *why,
                     size_t cap) {
    (void)ctx;
    (void)i;
    (void)slot;
    const Etcdserverpb__PutResponse *r = (const void *)resp;
    if (r->header == NULL || r->header->revision <= 0) {
        snprintf(why, cap, "Put answered without a revision");
        return 1;
    }
    return 0;
}

int be_put(be_cluster *e, size_t n, unsigned concurrency, size_t value_bytes, br_side *out) {
    memset(out, 0, sizeof(*out));
    if (value_bytes > VALUE_MAX) {
        value_bytes = VALUE_MAX;
    }
    st_client *c = new_client(e, -1);
    int leader = c != NULL ? leader_of(e, c) : -1;
    st_client_close(c);
    if (leader < 0) {
        fprintf(stderr, "strata-bench: no etcd leader\n");
        return -1;
    }
    char list[BE_NODES * 70];
    size_t o = 0;
    for (int k = -1; k < e->n; k++) {
        int i = k < 0 ? leader : k;
        if (k >= 0 && i == leader) {
            continue;
        }
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o ? "," : "", e->client[i]);
    }
    uint8_t value[VALUE_MAX];
    if (getrandom(value, value_bytes, 0) != (ssize_t)value_bytes) {
        memset(value, 0x5a, value_bytes);
    }
    put_ctx x = {value_bytes, value};
    Etcdserverpb__StatusRequest warm = ETCDSERVERPB__STATUS_REQUEST__INIT;
    bl_spec s = {
        .cluster = list,
        .method = PUT_METHOD,
        .resp_desc = &etcdserverpb__put_response__descriptor,
        .n = n,
        .concurrency = concurrency,
        .prepare = put_prepare,
        .slot_size = sizeof(put_slot),
        .check = put_check,
        .ctx = &x,
        .warm_method = STATUS_METHOD,
        .warm_req = &warm.base,
        .warm_desc = &etcdserverpb__status_response__descriptor,
    };
    for (int i = 0; i < e->n; i++) {
        s.pids[s.npids++] = e->pid[i];
    }
    bl_result r;
    int rc = bl_run(&s, &r);
    if (rc < 0) {
        return -1;
    }
    out->ran = true;
    out->ops = r.ok;
    out->failed = r.failed;
    out->secs = r.secs;
    out->ops_per_s = r.ops_per_s;
    out->p50_ms = r.p50_ms;
    out->p99_ms = r.p99_ms;
    out->max_ms = r.max_ms;
    out->cpu_s = r.server_cpu_s;
    out->client_cpu_s = r.client_cpu_s;
    out->rss_mb = -1;
    for (int i = 0; i < e->n; i++) {
        double m = bp_hwm_mb(e->pid[i]);
        out->rss_mb = m > out->rss_mb ? m : out->rss_mb;
    }
    put_slot sample;
    memset(&sample, 0, sizeof(sample));
    put_prepare(&x, n, NULL, &sample, &(ProtobufCMessage *){NULL}, NULL, 0);
    out->op_bytes = etcdserverpb__put_request__get_packed_size(&sample.q);
    if (rc != 0) {
        fprintf(stderr, "strata-bench: %llu of %zu etcd Puts failed; the first: %s\n",
                (unsigned long long)r.failed, n, r.first_error);
        return -1;
    }
    return 0;
}

int be_stop(be_cluster *e) {
    int bad = 0;
    for (int i = 0; i < e->n; i++) {
        if (e->pid[i] > 0) {
            int rc = bp_stop(e->pid[i], 20000);
            /* etcd exits on SIGTERM with status 0 (or is killed by it: -1 here) */
            bad |= rc > 0;
            e->pid[i] = 0;
        }
    }
    return bad ? -1 : 0;
}
