/* roster.c - the node id -> gRPC address table of roster.h: a small array under a mutex. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "server/rpc/roster.h"

typedef struct {
    uint64_t id;
    char raft[ST_ROSTER_ADDR_MAX];
    char grpc[ST_ROSTER_ADDR_MAX];
} entry;

struct st_roster {
    pthread_mutex_t mu;
    size_t n;
    entry e[ST_ROSTER_MAX];
};

int st_roster_new(st_roster **out) {
    st_roster *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return ST_ENOMEM;
    }
    pthread_mutex_init(&r->mu, NULL);
    *out = r;
    return ST_OK;
}

void st_roster_free(st_roster *r) {
    if (r != NULL) {
        pthread_mutex_destroy(&r->mu);
        free(r);
    }
}

int st_roster_set(st_roster *r, uint64_t id, const char *raft, const char *grpc) {
    if (id == 0 || strlen(raft) >= ST_ROSTER_ADDR_MAX || strlen(grpc) >= ST_ROSTER_ADDR_MAX) {
        return ST_EINVAL;
    }
    pthread_mutex_lock(&r->mu);
    entry *e = NULL;
    for (size_t i = 0; i < r->n; i++) {
        if (r->e[i].id == id) {
            e = &r->e[i];
        }
    }
    if (e == NULL && r->n < ST_ROSTER_MAX) {
        e = &r->e[r->n++];
    }
    if (e != NULL) {
        e->id = id;
        snprintf(e->raft, sizeof(e->raft), "%s", raft);
        snprintf(e->grpc, sizeof(e->grpc), "%s", grpc);
    }
    pthread_mutex_unlock(&r->mu);
    return e != NULL ? ST_OK : ST_ERANGE;
}

bool st_roster_grpc(st_roster *r, uint64_t id, char *out, size_t cap) {
    bool found = false;
    if (cap > 0) {
        out[0] = '\0';
    }
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n; i++) {
        if (r->e[i].id == id && r->e[i].grpc[0] != '\0') {
            snprintf(out, cap, "%s", r->e[i].grpc);
            found = true;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return found;
}
