/* roster.c - node id -> gRPC address and key (roster.h): the replicated roster read from
 * the state first, then the local table, a small array under a mutex. */
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
    st_state *state; /* borrowed, may be NULL */
    pthread_mutex_t mu;
    size_t n;
    entry e[ST_ROSTER_MAX];
};

int st_roster_new(st_state *state, st_roster **out) {
    st_roster *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return ST_ENOMEM;
    }
    r->state = state;
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

/* Node id as the replicated roster holds it, if registered and not removed. */
static bool registered(st_roster *r, uint64_t id, st_member_info *m) {
    return r->state != NULL && st_state_get_member(r->state, id, m) == ST_OK && m->member;
}

bool st_roster_grpc(st_roster *r, uint64_t id, char *out, size_t cap) {
    bool found = false;
    if (cap > 0) {
        out[0] = '\0';
    }
    st_member_info m;
    if (registered(r, id, &m) && m.grpc_address[0] != '\0' && strlen(m.grpc_address) < cap) {
        snprintf(out, cap, "%s", m.grpc_address);
        return true;
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

bool st_roster_public_key(st_roster *r, uint64_t id, uint8_t pk[ST_SIGN_PK_LEN]) {
    st_member_info m;
    if (!registered(r, id, &m)) {
        memset(pk, 0, ST_SIGN_PK_LEN);
        return false;
    }
    memcpy(pk, m.public_key, ST_SIGN_PK_LEN);
    return true;
}
