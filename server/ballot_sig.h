/* ballot_sig.h - internal to server/: the signed ballot (crypto/ballot.h) and its record
 * (crypto/record.h) behind plain types.
 *
 * Why a wrapper: crypto/ballot.h and crypto/record.h declare ST_CHOICE_* and ST_SOURCE_*
 * enumerators that core/tally.h and server/state.h declare too (same values), so no file
 * can include both. Only ballot_sig.c includes the crypto headers.
 */
#ifndef STRATA_SERVER_BALLOT_SIG_H
#define STRATA_SERVER_BALLOT_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_SB_MAX_APPROVALS 11
#define ST_SB_NONCE_LEN 16
#define ST_SB_RECORD_MAX 368 /* ST_RECORD_MAX_LEN, checked in ballot_sig.c */

/* A decoded canonical ballot (docs/FORMATS.md §4). */
typedef struct {
    uint64_t community_id, vote_id;
    char owner_id[65];
    int kind;       /* 1 choice, 2 approval set */
    uint8_t choice; /* kind 1: 1 agree, 2 disagree, 3 abstain */
    uint8_t n_approvals;
    uint32_t approvals[ST_SB_MAX_APPROVALS]; /* strictly ascending */
    uint8_t nonce[ST_SB_NONCE_LEN];
    uint64_t cast_ms;
    uint8_t key_id[16];
} st_sballot;

/* Strict decode of exactly buf[0..len). ST_OK or ST_EINVAL with a message. */
int st_sballot_decode(st_sballot *out, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* Builds the signed ballot record of (ballot bytes, pk, sig, source, proxy), checks it and
 * its signature (online: strata-ballot-v1 over the ballot; paper: strata-paper-ballot-v1
 * over the ballot and the scan hash) and writes its canonical bytes into out (cap >=
 * ST_SB_RECORD_MAX). proxy_owner_id is NULL or "" for the owner's own ballot. Returns
 * ST_OK, ST_EAUTH (the signature or key id does not match), ST_EINVAL (structure), or
 * ST_ENOMEM (never a refusal). */
int st_sballot_seal(const uint8_t *ballot, size_t blen, const uint8_t pk[32], const uint8_t sig[64],
                    bool paper, const uint8_t scan[32], const char *proxy_owner_id, uint8_t *out,
                    size_t cap, size_t *len, char *err, size_t errlen);

#endif
