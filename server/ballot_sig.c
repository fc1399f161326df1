/* ballot_sig.c - the signed ballot and its record through crypto/ (see ballot_sig.h). */
#include <string.h>

#include "core/error.h"
#include "crypto/ballot.h"
#include "crypto/record.h"
#include "server/ballot_sig.h"

_Static_assert(ST_SB_RECORD_MAX == ST_RECORD_MAX_LEN, "record size");
_Static_assert(ST_SB_MAX_APPROVALS == ST_BALLOT_MAX_APPROVALS, "approvals");
_Static_assert(ST_SB_NONCE_LEN == ST_NONCE_LEN, "nonce");

static void from_ballot(const st_ballot *b, st_sballot *out) {
    memset(out, 0, sizeof(*out));
    out->community_id = b->community_id;
    out->vote_id = b->vote_id;
    memcpy(out->owner_id, b->owner_id, sizeof(out->owner_id));
    out->kind = b->kind;
    out->choice = b->choice;
    out->n_approvals = b->n_approvals;
    memcpy(out->approvals, b->approvals, sizeof(out->approvals));
    memcpy(out->nonce, b->nonce, sizeof(out->nonce));
    out->cast_ms = b->cast_ms;
    memcpy(out->key_id, b->key_id, sizeof(out->key_id));
}

int st_sballot_decode(st_sballot *out, const uint8_t *buf, size_t len, char *err, size_t errlen) {
    st_ballot b;
    int rc = st_ballot_decode(&b, buf, len, err, errlen);
    if (rc != ST_OK) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    from_ballot(&b, out);
    return ST_OK;
}

int st_sballot_seal(const uint8_t *ballot, size_t blen, const uint8_t pk[32], const uint8_t sig[64],
                    bool paper, const uint8_t scan[32], const char *proxy_owner_id, uint8_t *out,
                    size_t cap, size_t *len, char *err, size_t errlen) {
    st_record rec;
    memset(&rec, 0, sizeof(rec));
    *len = 0;
    int rc = st_ballot_decode(&rec.ballot, ballot, blen, err, errlen);
    if (rc != ST_OK) {
        return rc;
    }
    memcpy(rec.pubkey, pk, ST_SIGN_PK_LEN);
    memcpy(rec.sig, sig, ST_SIGN_SIG_LEN);
    rec.source = paper ? ST_SOURCE_PAPER : ST_SOURCE_ONLINE;
    if (paper) {
        memcpy(rec.scan_sha256, scan, 32);
    }
    if (proxy_owner_id != NULL && proxy_owner_id[0] != '\0') {
        size_t n = strlen(proxy_owner_id);
        if (n > ST_OWNER_ID_MAX) {
            return st_fail(err, errlen, ST_EINVAL, "proxy owner id longer than %d bytes",
                           ST_OWNER_ID_MAX);
        }
        rec.proxy = 1;
        memcpy(rec.proxy_owner_id, proxy_owner_id, n + 1);
    }
    rc = st_record_verify(&rec, err, errlen);
    if (rc != ST_OK) {
        return rc == ST_ENOMEM ? ST_ENOMEM : rc == ST_EAUTH ? ST_EAUTH : ST_EINVAL;
    }
    if (cap < ST_RECORD_MAX_LEN) {
        return ST_ERANGE;
    }
    return st_record_encode_buf(&rec, out, len, err, errlen);
}
