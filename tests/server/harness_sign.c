/* harness_sign.c - signing ballots for the server tests (see harness_sign.h). */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "crypto/ballot.h"
#include "crypto/record.h"
#include "tests/server/harness_sign.h"

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int t_sign_ballot(const t_ballot *b, const uint8_t sk[64], const uint8_t *scan, uint8_t *out,
                  size_t *len, uint8_t sig[64]) {
    st_record rec;
    memset(&rec, 0, sizeof(rec));
    st_ballot *bl = &rec.ballot;
    bl->community_id = b->community;
    bl->vote_id = b->vote;
    if (b->owner == NULL || strlen(b->owner) > ST_OWNER_ID_MAX) {
        return -1;
    }
    strcpy(bl->owner_id, b->owner);
    bl->kind = (uint8_t)b->kind;
    if (b->kind == 1) {
        if (b->choice < 1 || b->choice > 3) {
            return -1;
        }
        bl->choice = (uint8_t)b->choice;
    } else {
        if (b->n > ST_BALLOT_MAX_APPROVALS) {
            return -1;
        }
        if (b->n > 0) {
            memcpy(bl->approvals, b->approvals, b->n * sizeof(uint32_t));
            qsort(bl->approvals, b->n, sizeof(uint32_t), cmp_u32);
        }
        bl->n_approvals = (uint8_t)b->n;
    }
    memcpy(bl->nonce, b->nonce, 16);
    bl->cast_ms = b->cast_ms;
    uint8_t pk[32];
    st_sign_sk_to_pk(pk, sk);
    st_key_id(bl->key_id, pk);
    if (st_ballot_encode_buf(bl, out, len, NULL, 0) != ST_OK) {
        return -1;
    }
    if (scan == NULL) {
        return st_ballot_sign(bl, sk, sig, NULL, 0) == ST_OK ? 0 : -1;
    }
    rec.source = ST_SOURCE_PAPER;
    memcpy(rec.scan_sha256, scan, 32);
    if (st_record_sign(&rec, sk, NULL, 0) != ST_OK) {
        return -1;
    }
    memcpy(sig, rec.sig, 64);
    return 0;
}

int t_ballot_record(const uint8_t *ballot, size_t blen, const uint8_t pk[32], const uint8_t sig[64],
                    const uint8_t *scan, const char *proxy, uint8_t *out, size_t *len) {
    st_record rec;
    memset(&rec, 0, sizeof(rec));
    if (st_ballot_decode(&rec.ballot, ballot, blen, NULL, 0) != ST_OK) {
        return -1;
    }
    memcpy(rec.pubkey, pk, 32);
    memcpy(rec.sig, sig, 64);
    rec.source = scan != NULL ? ST_SOURCE_PAPER : ST_SOURCE_ONLINE;
    if (scan != NULL) {
        memcpy(rec.scan_sha256, scan, 32);
    }
    if (proxy != NULL && proxy[0] != '\0') {
        rec.proxy = 1;
        strcpy(rec.proxy_owner_id, proxy);
    }
    return st_record_encode_buf(&rec, out, len, NULL, 0) == ST_OK ? 0 : -1;
}
