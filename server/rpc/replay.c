/* replay.c - the node-local table of recently seen (key id, nonce) pairs (replay.h): linear
 * probing over a fixed array; an expired entry counts as empty, and when the live count
 * reaches three quarters of the slots the table is rebuilt without the expired ones. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "server/rpc/replay.h"

typedef struct {
    uint8_t pair[32];    /* key id ‖ nonce */
    uint64_t expires_ms; /* 0: empty */
} slot;

struct st_replay {
    pthread_mutex_t mu;
    size_t used; /* slots with expires_ms != 0 (live or expired) */
    slot *slots; /* ST_REPLAY_SLOTS */
    slot *spare; /* the same size, for rebuilding */
};

int st_replay_new(st_replay **out) {
    st_replay *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return ST_ENOMEM;
    }
    r->slots = calloc(ST_REPLAY_SLOTS, sizeof(slot));
    r->spare = calloc(ST_REPLAY_SLOTS, sizeof(slot));
    if (r->slots == NULL || r->spare == NULL) {
        free(r->slots);
        free(r->spare);
        free(r);
        return ST_ENOMEM;
    }
    pthread_mutex_init(&r->mu, NULL);
    *out = r;
    return ST_OK;
}

void st_replay_free(st_replay *r) {
    if (r != NULL) {
        pthread_mutex_destroy(&r->mu);
        free(r->slots);
        free(r->spare);
        free(r);
    }
}

/* FNV-1a over the pair: the nonces are random, any mixing will do. */
static size_t home(const uint8_t pair[32]) {
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < 32; i++) {
        h = (h ^ pair[i]) * 1099511628211ULL;
    }
    return (size_t)(h & (ST_REPLAY_SLOTS - 1));
}

/* Copies the live entries into the spare array and swaps (r->mu held). */
static void rebuild(st_replay *r, uint64_t now_ms) {
    memset(r->spare, 0, ST_REPLAY_SLOTS * sizeof(slot));
    size_t used = 0;
    for (size_t i = 0; i < ST_REPLAY_SLOTS; i++) {
        const slot *s = &r->slots[i];
        if (s->expires_ms == 0 || s->expires_ms <= now_ms) {
            continue;
        }
        size_t j = home(s->pair);
        while (r->spare[j].expires_ms != 0) {
            j = (j + 1) & (ST_REPLAY_SLOTS - 1);
        }
        r->spare[j] = *s;
        used++;
    }
    slot *t = r->slots;
    r->slots = r->spare;
    r->spare = t;
    r->used = used;
}

int st_replay_add(st_replay *r, const uint8_t key_id[16], const uint8_t nonce[16], uint64_t ts_ms,
                  uint64_t now_ms, uint64_t window_ms) {
    slot e;
    memcpy(e.pair, key_id, 16);
    memcpy(e.pair + 16, nonce, 16);
    /* Past this time the timestamp alone refuses the request: the pair can be forgotten. */
    e.expires_ms = ts_ms + window_ms + 1;
    if (e.expires_ms <= now_ms) {
        return ST_OK; /* outside the window: the caller refuses it on time anyway */
    }
    pthread_mutex_lock(&r->mu);
    if (r->used >= ST_REPLAY_SLOTS / 4 * 3) {
        rebuild(r, now_ms);
    }
    int rc = ST_OK;
    if (r->used >= ST_REPLAY_SLOTS / 4 * 3) {
        rc = ST_EBUSY;
    } else {
        size_t i = home(e.pair);
        size_t reuse = ST_REPLAY_SLOTS; /* the first expired slot on the way, if any */
        for (; r->slots[i].expires_ms != 0; i = (i + 1) & (ST_REPLAY_SLOTS - 1)) {
            slot *s = &r->slots[i];
            if (memcmp(s->pair, e.pair, 32) == 0) {
                if (s->expires_ms > now_ms) {
                    rc = ST_EEXIST;
                } else {
                    *s = e; /* the same pair, long expired: record it afresh */
                }
                break;
            }
            if (s->expires_ms <= now_ms && reuse == ST_REPLAY_SLOTS) {
                reuse = i;
            }
        }
        if (rc == ST_OK && r->slots[i].expires_ms == 0) {
            if (reuse != ST_REPLAY_SLOTS) {
                r->slots[reuse] = e; /* an expired slot: used stays the same */
            } else {
                r->slots[i] = e;
                r->used++;
            }
        }
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}
