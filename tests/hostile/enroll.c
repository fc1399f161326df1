/* enroll.c - enrollment codes misused (docs/ROLES.md §Enrollment): a code redeemed twice, a
 * code key never issued, a wrong code typed for an issued one, a code of another community
 * or of another owner, a superseded code, a redemption whose new-key signature is broken or
 * signed ten minutes ahead, and issues the organiser gets wrong (an owner not on the roll,
 * a validity out of range, a short code key, the same code twice). Expired codes need the
 * leader's clock moved: test_expiry.c.
 *
 * Each refusal's exact code is checked, and the data digest stays the same across them;
 * the redemptions that should work do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/error.h"
#include "crypto/approval.h"
#include "crypto/crypto.h"
#include "tests/core/check.h"
#include "tests/hostile/enroll.h"
#include "tests/hostile/hostile.h"

#define ISSUE "/strata.v1.Keys/IssueEnrollment"
#define REDEEM "/strata.v1.Keys/RedeemEnrollment"

void h_code_new(uint64_t community, const char *owner, h_code *c) {
    memset(c, 0, sizeof(*c));
    uint8_t raw[10];
    CHECK(getrandom(raw, sizeof(raw), 0) == sizeof(raw));
    for (size_t i = 0; i < sizeof(raw); i++) {
        snprintf(c->code + 2 * i, 3, "%02X", raw[i]);
    }
    CHECK(st_enroll_code_keypair(community, owner, c->code, strlen(c->code), c->pk, c->sk) ==
          ST_OK);
}

void h_issue_request(uint64_t community, const char *owner, const h_code *c, uint8_t rid[16],
                     Strata__V1__IssueEnrollmentRequest *q) {
    strata__v1__issue_enrollment_request__init(q);
    tc_request_id(rid);
    q->request_id = (ProtobufCBinaryData){16, rid};
    q->community_id = community;
    q->owner_id = (char *)owner;
    q->code_public_key = (ProtobufCBinaryData){32, (uint8_t *)c->pk};
}

void h_redeem_request(const tc_key *device, uint64_t community, const char *owner, const h_code *c,
                      uint64_t signed_ms, h_redeem *r) {
    memset(r, 0, sizeof(*r));
    uint8_t bytes[ST_ENROLL_MAX_LEN];
    size_t blen;
    CHECK(st_enroll_bytes(community, owner, device->pk, c->pk, signed_ms, bytes, &blen) == ST_OK);
    CHECK(st_sign_detached(r->sig, ST_DOMAIN_ENROLL, bytes, blen, device->sk, NULL, 0) == ST_OK);
    CHECK(st_sign_detached(r->code_sig, ST_DOMAIN_ENROLL_CODE, bytes, blen, c->sk, NULL, 0) ==
          ST_OK);
    tc_request_id(r->rid);
    strata__v1__redeem_enrollment_request__init(&r->q);
    r->q.request_id = (ProtobufCBinaryData){16, r->rid};
    r->q.community_id = community;
    r->q.owner_id = (char *)owner;
    r->q.public_key = (ProtobufCBinaryData){32, (uint8_t *)device->pk};
    r->q.code_public_key = (ProtobufCBinaryData){32, (uint8_t *)c->pk};
    r->q.signed_ms = signed_ms;
    r->q.signature = (ProtobufCBinaryData){64, r->sig};
    r->q.code_signature = (ProtobufCBinaryData){64, r->code_sig};
}

/* The organiser of community issues c for owner (CHECKed OK). */
static void issue(h_ctx *h, uint64_t community, const char *owner, const h_code *c) {
    uint8_t rid[16];
    Strata__V1__IssueEnrollmentRequest q;
    h_issue_request(community, owner, c, rid, &q);
    char what[96];
    snprintf(what, sizeof(what), "issue a code for %s of community %llu", owner,
             (unsigned long long)community);
    ProtobufCMessage *resp =
        h_expect(h, what, tc_organiser(&h->w, community), ISSUE, &q.base,
                 &strata__v1__issue_enrollment_response__descriptor, GRPC_STATUS_OK, NULL);
    CHECK(resp != NULL);
    protobuf_c_message_free_unpacked(resp, NULL);
}

static void redeem(h_ctx *h, const char *what, const tc_key *device, const h_redeem *r, int want,
                   const char *text) {
    ProtobufCMessage *resp = h_expect(h, what, device, REDEEM, &r->q.base,
                                      &strata__v1__key_response__descriptor, want, text);
    if (resp != NULL) {
        protobuf_c_message_free_unpacked(resp, NULL);
    }
}

static void enrollment(h_ctx *h) {
    uint64_t a = h->a, now = h_wall_ms();
    h_code c7, c8, c9a, c9b, cb2, wrong;
    h_code_new(a, "O7", &c7);
    h_code_new(a, "O8", &c8);
    h_code_new(a, "O9", &c9a);
    h_code_new(a, "O9", &c9b);
    h_code_new(h->b, "O2", &cb2);
    issue(h, a, "O7", &c7);
    issue(h, a, "O8", &c8);
    issue(h, a, "O9", &c9a);
    issue(h, a, "O9", &c9b); /* supersedes c9a */
    issue(h, h->b, "O2", &cb2);

    tc_key k1, k2;
    tc_key_new(&k1);
    tc_key_new(&k2);
    h_redeem r;
    h_redeem_request(&k1, a, "O7", &c7, now, &r);
    redeem(h, "redeem O7's code", &k1, &r, GRPC_STATUS_OK, NULL);

    h_state_mark(h);
    redeem(h, "redeem O7's code again, same request (retry)", &k1, &r, GRPC_STATUS_OK, NULL);
    h_redeem_request(&k2, a, "O7", &c7, now, &r);
    redeem(h, "O7's code redeemed again with another key", &k2, &r, GRPC_STATUS_FAILED_PRECONDITION,
           "a code works once");

    h_code_new(a, "O8", &wrong); /* a code key never issued */
    h_redeem_request(&k2, a, "O8", &wrong, now, &r);
    redeem(h, "a code key never issued", &k2, &r, GRPC_STATUS_NOT_FOUND, "no enrollment code");

    CHECK(st_enroll_code_keypair(a, "O8", "WRONG-CODE-TYPED", 16, wrong.pk, wrong.sk) == ST_OK);
    memcpy(wrong.pk, c8.pk, 32); /* the issued code's key, the signature by a wrong code */
    h_redeem_request(&k2, a, "O8", &wrong, now, &r);
    redeem(h, "a wrong code typed for O8's code", &k2, &r, GRPC_STATUS_UNAUTHENTICATED,
           "code's signature does not verify");

    h_redeem_request(&k2, a, "O2", &cb2, now, &r);
    redeem(h, "B's code for O2 redeemed in community A", &k2, &r, GRPC_STATUS_PERMISSION_DENIED,
           "issued for another owner");

    h_redeem_request(&k2, a, "O3", &c8, now, &r);
    redeem(h, "O8's code redeemed as O3", &k2, &r, GRPC_STATUS_PERMISSION_DENIED,
           "issued for another owner");

    h_redeem_request(&k2, a, "O9", &c9a, now, &r);
    redeem(h, "O9's superseded code", &k2, &r, GRPC_STATUS_FAILED_PRECONDITION, "newer code");

    h_redeem_request(&k2, a, "O8", &c8, now, &r);
    r.sig[7] ^= 0x10;
    redeem(h, "new key's signature broken", &k2, &r, GRPC_STATUS_UNAUTHENTICATED,
           "new key's signature does not verify");

    h_redeem_request(&k2, a, "O8", &c8, now + 10 * 60 * 1000, &r);
    redeem(h, "redemption signed 10 minutes ahead", &k2, &r, GRPC_STATUS_INVALID_ARGUMENT,
           "five minutes");

    h_redeem_request(&k2, a, "O8", &c8, now, &r);
    r.q.code_public_key.len = 31;
    redeem(h, "code key of 31 bytes", &k2, &r, GRPC_STATUS_INVALID_ARGUMENT, NULL);

    h_redeem_request(tc_owner_key(&h->w, a, "O1"), a, "O8", &c8, now, &r);
    redeem(h, "O8's code redeemed with O1's registered key", tc_owner_key(&h->w, a, "O1"), &r,
           GRPC_STATUS_PERMISSION_DENIED, "redeemed by the new key itself");

    /* Issues the organiser gets wrong. */
    const tc_key *org = tc_organiser(&h->w, a);
    uint8_t rid[16];
    Strata__V1__IssueEnrollmentRequest q;
    h_code cz;
    h_code_new(a, "ZZ", &cz);
    h_issue_request(a, "ZZ", &cz, rid, &q);
    h_expect(h, "a code for an owner not on the roll", org, ISSUE, &q.base,
             &strata__v1__issue_enrollment_response__descriptor, GRPC_STATUS_NOT_FOUND,
             "not on community");
    h_code_new(a, "O10", &cz);
    h_issue_request(a, "O10", &cz, rid, &q);
    q.valid_case = STRATA__V1__ISSUE_ENROLLMENT_REQUEST__VALID_VALID_DAYS;
    q.valid_days = 0;
    h_expect(h, "a code valid 0 days", org, ISSUE, &q.base,
             &strata__v1__issue_enrollment_response__descriptor, GRPC_STATUS_INVALID_ARGUMENT,
             "valid_days 0");
    q.valid_days = 999;
    h_expect(h, "a code valid 999 days", org, ISSUE, &q.base,
             &strata__v1__issue_enrollment_response__descriptor, GRPC_STATUS_INVALID_ARGUMENT,
             "valid_days 999");
    q.valid_case = STRATA__V1__ISSUE_ENROLLMENT_REQUEST__VALID__NOT_SET;
    q.code_public_key.len = 31;
    h_expect(h, "a code key of 31 bytes", org, ISSUE, &q.base,
             &strata__v1__issue_enrollment_response__descriptor, GRPC_STATUS_INVALID_ARGUMENT,
             "code_public_key");
    h_issue_request(a, "O8", &c8, rid, &q);
    h_expect(h, "the same code issued twice", org, ISSUE, &q.base,
             &strata__v1__issue_enrollment_response__descriptor, GRPC_STATUS_ALREADY_EXISTS,
             "issued before");
    h_state_same(h, "misused enrollment codes");

    /* The codes that are good still work after all that. */
    h_redeem_request(&k2, a, "O8", &c8, h_wall_ms(), &r);
    redeem(h, "redeem O8's code", &k2, &r, GRPC_STATUS_OK, NULL);
    tc_key k3;
    tc_key_new(&k3);
    h_redeem_request(&k3, a, "O9", &c9b, h_wall_ms(), &r);
    redeem(h, "redeem O9's newer code", &k3, &r, GRPC_STATUS_OK, NULL);
}

void h_enrollment(h_ctx *h) {
    uint64_t t0 = tc_now_ms();
    unsigned long n0 = h->inputs;
    enrollment(h);
    printf("enrollment: %lu inputs in %llu ms\n", h->inputs - n0,
           (unsigned long long)(tc_now_ms() - t0));
}
