/* enroll.h - enrollment codes as the hostile tests make them: a code drawn at random with
 * its code key pair (crypto/approval.h), the IssueEnrollment request an organiser sends for
 * it, and the RedeemEnrollment request an owner's device signs with its new key. Shared by
 * enroll.c and test_expiry.c.
 */
#ifndef STRATA_TESTS_HOSTILE_ENROLL_H
#define STRATA_TESTS_HOSTILE_ENROLL_H

#include <stdint.h>

#include "proto/strata/v1/keys.pb-c.h"
#include "tests/cluster/client.h"

typedef struct {
    char code[32];
    uint8_t pk[32], sk[64];
} h_code;

typedef struct {
    Strata__V1__RedeemEnrollmentRequest q;
    uint8_t rid[16], sig[64], code_sig[64];
} h_redeem;

/* A fresh random code for owner of community, and its code key pair. */
void h_code_new(uint64_t community, const char *owner, h_code *c);
/* The issue of c (a fresh request id into rid; q points into c and rid). */
void h_issue_request(uint64_t community, const char *owner, const h_code *c, uint8_t rid[16],
                     Strata__V1__IssueEnrollmentRequest *q);
/* The redemption of c by device's new key, signed_ms as given (r->q points into r, c and
 * device). */
void h_redeem_request(const tc_key *device, uint64_t community, const char *owner, const h_code *c,
                      uint64_t signed_ms, h_redeem *r);

#endif
