/* harness_sign.h - signing ballots for the server tests, behind plain types: crypto/ballot.h
 * cannot share a file with server/state.h (both declare ST_CHOICE_* / ST_SOURCE_*). */
#ifndef STRATA_TESTS_SERVER_HARNESS_SIGN_H
#define STRATA_TESTS_SERVER_HARNESS_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define T_BALLOT_MAX 169
#define T_RECORD_MAX 368

/* What a ballot says (docs/FORMATS.md §4). */
typedef struct {
    uint64_t community, vote;
    const char *owner;
    int kind;                  /* 1 choice, 2 approvals */
    int choice;                /* kind 1 */
    const uint32_t *approvals; /* kind 2: any order; sorted here */
    size_t n;
    uint8_t nonce[16];
    uint64_t cast_ms;
} t_ballot;

/* Encodes the ballot with the key id of sk's public key and signs it: online under
 * strata-ballot-v1, paper (scan != NULL) under strata-paper-ballot-v1 over ballot || scan.
 * Returns 0, or -1 when the ballot cannot be encoded (bad choice, repeats, too many). */
int t_sign_ballot(const t_ballot *b, const uint8_t sk[64], const uint8_t *scan, uint8_t *out,
                  size_t *len, uint8_t sig[64]);

/* The canonical signed ballot record (the Merkle leaf data) of a signed ballot: proxy may
 * be NULL. Returns 0 or -1. */
int t_ballot_record(const uint8_t *ballot, size_t blen, const uint8_t pk[32], const uint8_t sig[64],
                    const uint8_t *scan, const char *proxy, uint8_t *out, size_t *len);

#endif
