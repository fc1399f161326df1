/* raft_trust.c - the keys the Raft transport accepts for each node id (raft_trust.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "crypto/text.h"
#include "server/raft_trust.h"

#define PINS_MAX 64

struct st_raft_trust {
    st_state *state;
    size_t n_pins;
    struct {
        uint64_t id;
        uint8_t pk[32];
    } pins[PINS_MAX];
};

int st_raft_trust_new(st_state *state, st_raft_trust **out) {
    *out = calloc(1, sizeof(**out));
    if (*out == NULL) {
        return ST_ENOMEM;
    }
    (*out)->state = state;
    return ST_OK;
}

int st_raft_trust_pin(st_raft_trust *t, uint64_t id, const uint8_t pk[32]) {
    if (t->n_pins == PINS_MAX) {
        return ST_ERANGE;
    }
    t->pins[t->n_pins].id = id;
    memcpy(t->pins[t->n_pins].pk, pk, 32);
    t->n_pins++;
    return ST_OK;
}

void st_raft_trust_free(st_raft_trust *t) {
    free(t);
}

static int count_member(void *ctx, const st_member_info *m) {
    if (m->member) {
        (*(size_t *)ctx)++;
    }
    return 0;
}

static void b64(const uint8_t pk[32], char out[ST_B64_LEN(32) + 1]) {
    st_b64_encode(out, ST_B64_LEN(32) + 1, pk, 32);
}

int st_raft_trust_check(void *ctx, uint64_t id, const uint8_t pk[32], char *why, size_t cap) {
    st_raft_trust *t = ctx;
    char got[ST_B64_LEN(32) + 1], want[ST_B64_LEN(32) + 1];
    b64(pk, got);
    for (size_t i = 0; i < t->n_pins; i++) {
        if (t->pins[i].id != id) {
            continue;
        }
        if (memcmp(t->pins[i].pk, pk, 32) == 0) {
            return ST_OK;
        }
        b64(t->pins[i].pk, want);
        snprintf(why, cap,
                 "it presents key %s, but this node's configuration gives %s for node %llu", got,
                 want, (unsigned long long)id);
        return ST_EAUTH;
    }
    st_member_info m;
    int rc = st_state_get_member(t->state, id, &m);
    if (rc == ST_OK && m.member) {
        if (memcmp(m.public_key, pk, 32) == 0) {
            return ST_OK;
        }
        b64(m.public_key, want);
        snprintf(why, cap,
                 "it presents key %s, but the roster registers %s for node %llu (a replaced "
                 "key? register the node's current key with Cluster.RegisterNode)",
                 got, want, (unsigned long long)id);
        return ST_EAUTH;
    }
    if (rc == ST_OK) {
        snprintf(why, cap, "node %llu was removed from the roster", (unsigned long long)id);
        return ST_EAUTH;
    }
    size_t members = 0;
    st_state_list_members(t->state, count_member, &members);
    if (members == 0) {
        snprintf(why, cap,
                 "accepted with key %s although no key is known for node %llu: no node is "
                 "registered yet (register every node with Cluster.RegisterNode, or give its key "
                 "in the peer setting)",
                 got, (unsigned long long)id);
        return ST_OK;
    }
    snprintf(why, cap,
             "node %llu (key %s) is not in the roster: register it with Cluster.RegisterNode "
             "before adding it",
             (unsigned long long)id, got);
    return ST_EAUTH;
}
