/* bench_load.c - concurrent unary calls through libstrata, with latencies and CPU time
 * (bench_load.h). */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "tests/bench/bench_load.h"
#include "tests/bench/bench_proc.h"

typedef struct {
    const bl_spec *s;
    pthread_barrier_t ready; /* every thread warmed up, and the main thread */
    atomic_size_t next;
    atomic_uint_fast64_t ok, failed;
    uint32_t *lat_us; /* per call; UINT32_MAX for a failed one */
    pthread_mutex_t mu;
    char first_error[512];
    uint64_t last_end_us;
    int start_failed;
} load;

static void note_error(load *l, size_t i, const char *what) {
    pthread_mutex_lock(&l->mu);
    if (l->first_error[0] == '\0') {
        snprintf(l->first_error, sizeof(l->first_error), "call %zu: %.400s", i, what);
    }
    pthread_mutex_unlock(&l->mu);
}

static void *worker(void *arg) {
    load *l = arg;
    const bl_spec *s = l->s;
    st_client_options o;
    st_client_options_init(&o);
    o.cluster = s->cluster;
    bl_transport(&o);
    o.deadline_ms = s->deadline_ms ? s->deadline_ms : 30000;
    o.attempt_ms = o.deadline_ms;
    st_client *c = NULL;
    st_error err;
    void *slot = calloc(1, s->slot_size ? s->slot_size : 1);
    int rc = slot != NULL ? st_client_new(&o, &c, &err) : ST_ENOMEM;
    if (rc == ST_OK && s->warm_method != NULL) {
        ProtobufCMessage *resp = NULL;
        rc = st_client_unary(c, s->warm_method, s->warm_req, s->warm_desc, NULL, &resp, &err);
        if (rc == ST_OK) {
            protobuf_c_message_free_unpacked(resp, NULL);
        }
    }
    if (rc != ST_OK) {
        note_error(l, 0, rc == ST_ENOMEM ? "out of memory" : err.message);
        pthread_mutex_lock(&l->mu);
        l->start_failed = 1;
        pthread_mutex_unlock(&l->mu);
    }
    pthread_barrier_wait(&l->ready); /* warmed up */
    pthread_barrier_wait(&l->ready); /* released (or told to stop) */
    int stop = 0;
    pthread_mutex_lock(&l->mu);
    stop = l->start_failed;
    pthread_mutex_unlock(&l->mu);
    uint64_t end_us = 0;
    while (!stop) {
        size_t i = atomic_fetch_add(&l->next, 1);
        if (i >= s->n) {
            break;
        }
        char why[512];
        why[0] = '\0';
        ProtobufCMessage *req = NULL;
        if (s->prepare(s->ctx, i, c, slot, &req, why, sizeof(why)) != 0) {
            l->lat_us[i] = UINT32_MAX;
            atomic_fetch_add(&l->failed, 1);
            note_error(l, i, why);
            continue;
        }
        ProtobufCMessage *resp = NULL;
        uint64_t t0 = bp_now_us();
        rc = st_client_unary(c, s->method, req, s->resp_desc, NULL, &resp, &err);
        uint64_t t1 = bp_now_us();
        end_us = t1;
        if (rc == ST_OK && s->check != NULL && s->check(s->ctx, i, slot, resp, why, sizeof(why))) {
            rc = ST_ECORRUPT;
        } else if (rc != ST_OK) {
            snprintf(why, sizeof(why), "%.500s", err.message);
        }
        if (resp != NULL) {
            protobuf_c_message_free_unpacked(resp, NULL);
        }
        if (rc == ST_OK) {
            uint64_t us = t1 - t0;
            l->lat_us[i] = us < UINT32_MAX ? (uint32_t)us : UINT32_MAX - 1;
            atomic_fetch_add(&l->ok, 1);
        } else {
            l->lat_us[i] = UINT32_MAX;
            atomic_fetch_add(&l->failed, 1);
            note_error(l, i, why);
        }
    }
    pthread_mutex_lock(&l->mu);
    if (end_us > l->last_end_us) {
        l->last_end_us = end_us;
    }
    pthread_mutex_unlock(&l->mu);
    st_client_close(c);
    free(slot);
    return NULL;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void bl_transport(st_client_options *o) {
    bool loopback = o->cluster != NULL && o->cluster[0] != '\0';
    char buf[2048];
    snprintf(buf, sizeof(buf), "%s", o->cluster != NULL ? o->cluster : "");
    char *save = NULL;
    for (char *a = strtok_r(buf, ",", &save); a != NULL && loopback;
         a = strtok_r(NULL, ",", &save)) {
        while (*a == ' ') {
            a++;
        }
        loopback = st_address_is_loopback(a);
    }
    const char *ca = getenv("STRATA_CA"), *cert = getenv("STRATA_CERT"),
               *key = getenv("STRATA_CERT_KEY");
    o->plaintext = loopback && (ca == NULL || ca[0] == '\0');
    if (!o->plaintext) {
        o->tls_ca_file = ca != NULL && ca[0] != '\0' ? ca : NULL;
        if (cert != NULL && cert[0] != '\0' && key != NULL && key[0] != '\0') {
            o->tls_cert_file = cert;
            o->tls_key_file = key;
        }
    }
}

double bl_percentile_ms(uint32_t *v, size_t n, double p) {
    if (n == 0) {
        return 0;
    }
    qsort(v, n, sizeof(*v), cmp_u32);
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1) {
        rank = 1;
    }
    if (rank > n) {
        rank = n;
    }
    return (double)v[rank - 1] / 1000.0;
}

static double client_cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double servers_cpu_s(const bl_spec *s) {
    if (s->npids == 0) {
        return -1;
    }
    double sum = 0;
    for (size_t i = 0; i < s->npids; i++) {
        double t = bp_cpu_s(s->pids[i]);
        if (t < 0) {
            return -1;
        }
        sum += t;
    }
    return sum;
}

int bl_run(const bl_spec *s, bl_result *r) {
    memset(r, 0, sizeof(*r));
    if (s->concurrency == 0 || s->n == 0) {
        return 0;
    }
    load *l = calloc(1, sizeof(*l));
    pthread_t *th = calloc(s->concurrency, sizeof(pthread_t));
    uint32_t *lat = malloc(s->n * sizeof(uint32_t));
    if (l == NULL || th == NULL || lat == NULL) {
        fprintf(stderr, "strata-bench: out of memory for %zu calls\n", s->n);
        free(l);
        free(th);
        free(lat);
        return -1;
    }
    l->s = s;
    l->lat_us = lat;
    atomic_init(&l->next, 0);
    atomic_init(&l->ok, 0);
    atomic_init(&l->failed, 0);
    pthread_mutex_init(&l->mu, NULL);
    pthread_barrier_init(&l->ready, NULL, s->concurrency + 1);
    unsigned started = 0;
    for (; started < s->concurrency; started++) {
        if (pthread_create(&th[started], NULL, worker, l) != 0) {
            break;
        }
    }
    if (started < s->concurrency) {
        /* The barrier counts threads that will never come: give up before it. */
        fprintf(stderr, "strata-bench: could start only %u of %u client threads\n", started,
                s->concurrency);
        exit(1);
    }
    pthread_barrier_wait(&l->ready);
    double cpu0 = servers_cpu_s(s), ccpu0 = client_cpu_s();
    uint64_t t0 = bp_now_us();
    pthread_barrier_wait(&l->ready);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
    }
    double cpu1 = servers_cpu_s(s), ccpu1 = client_cpu_s();
    int ret = 0;
    if (l->start_failed) {
        fprintf(stderr, "strata-bench: a client could not start: %s\n", l->first_error);
        ret = -1;
    } else {
        uint64_t end = l->last_end_us > t0 ? l->last_end_us : t0 + 1;
        r->ok = atomic_load(&l->ok);
        r->failed = atomic_load(&l->failed);
        r->secs = (double)(end - t0) / 1e6;
        r->ops_per_s = (double)r->ok / r->secs;
        r->server_cpu_s = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
        r->client_cpu_s = ccpu1 - ccpu0;
        snprintf(r->first_error, sizeof(r->first_error), "%s", l->first_error);
        size_t k = 0;
        double sum = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (lat[i] != UINT32_MAX) {
                lat[k++] = lat[i];
                sum += lat[i];
            }
        }
        r->mean_ms = k ? sum / (double)k / 1000.0 : 0;
        r->p50_ms = bl_percentile_ms(lat, k, 50);
        r->p99_ms = bl_percentile_ms(lat, k, 99);
        r->max_ms = k ? (double)lat[k - 1] / 1000.0 : 0;
        ret = r->failed ? 1 : 0;
    }
    pthread_barrier_destroy(&l->ready);
    pthread_mutex_destroy(&l->mu);
    free(lat);
    free(th);
    free(l);
    return ret;
}
