/* enroll.c - enrollment of an owner's device (docs/ROLES.md §Enrollment): one-time codes
 * (drawn here, 100 bits in Crockford's base32), the code key every code stands for
 * (crypto/approval.h), and the two calls: the organiser's IssueEnrollment, which sends only
 * the code key's public half, and the owner's RedeemEnrollment, signed by the new key and
 * by the code key over the enrollment bytes. The code itself is never sent.
 */
#include <ctype.h>
#include <sodium.h>
#include <string.h>

#include "client/lib/internal.h"
#include "crypto/approval.h"
#include "crypto/text.h"

#define KEYS "/strata.v1.Keys/"

/* Crockford's base32: digits and letters without I, L, O, U. */
static const char ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int st_enroll_code_new(char out[ST_ENROLL_CODE_LEN + 1], st_error *err) {
    int rc = st__lib_init(err);
    if (rc != ST_OK) {
        return rc;
    }
    size_t o = 0;
    for (int i = 0; i < ST_ENROLL_CODE_SYMBOLS; i++) {
        if (i > 0 && i % 5 == 0) {
            out[o++] = '-';
        }
        out[o++] = ALPHABET[st__random_below(32)];
    }
    out[o] = '\0';
    return ST_OK;
}

int st_enroll_code_normalise(const char *typed, char out[ST_ENROLL_CODE_LEN + 1], st_error *err) {
    char sym[ST_ENROLL_CODE_SYMBOLS];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)typed; *p != '\0'; p++) {
        if (*p == ' ' || *p == '-') {
            continue;
        }
        int ch = toupper(*p);
        if (ch == 'O') {
            ch = '0';
        } else if (ch == 'I' || ch == 'L') {
            ch = '1';
        }
        if (*p >= 0x80 || strchr(ALPHABET, ch) == NULL || ch == '\0') {
            return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                            "the code has a character that is not in any code (\"%c\"); codes "
                            "use the digits and the letters A-Z but U",
                            *p >= 0x20 && *p < 0x7f ? *p : '?');
        }
        if (n == ST_ENROLL_CODE_SYMBOLS) {
            return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                            "the code is too long: a code has %d letters and digits, as four "
                            "groups of five",
                            ST_ENROLL_CODE_SYMBOLS);
        }
        sym[n++] = (char)ch;
    }
    if (n != ST_ENROLL_CODE_SYMBOLS) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "the code has %zu letters and digits, not %d; check it against the "
                        "enrollment letter (four groups of five)",
                        n, ST_ENROLL_CODE_SYMBOLS);
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && i % 5 == 0) {
            out[o++] = '-';
        }
        out[o++] = sym[i];
    }
    out[o] = '\0';
    return ST_OK;
}

/* The code key of (community, owner, canonical code). */
static int code_key(uint64_t community_id, const char *owner_id, const char *code,
                    uint8_t pk[ST_SIGN_PK_LEN], uint8_t sk[ST_SIGN_SK_LEN], st_error *err) {
    if (owner_id == NULL || owner_id[0] == '\0' || strlen(owner_id) > ST_APPROVAL_OWNER_MAX) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "the owner id must be 1 to %d bytes",
                        ST_APPROVAL_OWNER_MAX);
    }
    int rc = st_enroll_code_keypair(community_id, owner_id, code, strlen(code), pk, sk);
    if (rc != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, rc, "cannot derive the code key (%s)", st_strerror(rc));
    }
    return ST_OK;
}

int st_issue_enrollment(st_client *c, uint64_t community_id, const char *owner_id, int valid_days,
                        st_enrollment *out, st_error *err) {
    memset(out, 0, sizeof(*out));
    uint8_t pk[ST_SIGN_PK_LEN], sk[ST_SIGN_SK_LEN];
    char code[ST_ENROLL_CODE_LEN + 1];
    int rc = st_enroll_code_new(code, err);
    rc = rc ? rc : code_key(community_id, owner_id, code, pk, sk, err);
    sodium_memzero(sk, sizeof(sk)); /* the organiser never signs with the code key */
    if (rc != ST_OK) {
        sodium_memzero(code, sizeof(code));
        return rc;
    }
    uint8_t rid[ST_CLIENT_REQUEST_ID_LEN];
    st_request_id_new(rid);
    Strata__V1__IssueEnrollmentRequest req = STRATA__V1__ISSUE_ENROLLMENT_REQUEST__INIT;
    req.request_id.data = rid;
    req.request_id.len = sizeof(rid);
    req.community_id = community_id;
    req.owner_id = (char *)owner_id;
    req.code_public_key.data = pk;
    req.code_public_key.len = sizeof(pk);
    if (valid_days >= 0) {
        req.valid_case = STRATA__V1__ISSUE_ENROLLMENT_REQUEST__VALID_VALID_DAYS;
        req.valid_days = (uint32_t)valid_days;
    }
    ProtobufCMessage *resp = NULL;
    rc = st__unary(c, KEYS "IssueEnrollment", &req.base,
                   &strata__v1__issue_enrollment_response__descriptor, true, &resp, err);
    if (rc != ST_OK) {
        sodium_memzero(code, sizeof(code));
        return rc;
    }
    const Strata__V1__IssueEnrollmentResponse *r =
        (const Strata__V1__IssueEnrollmentResponse *)resp;
    memcpy(out->code, code, sizeof(code));
    sodium_memzero(code, sizeof(code));
    st_key_id_hex(out->code_key_id, pk);
    out->seq = r->seq;
    out->expires_ms = r->expires_ms;
    protobuf_c_message_free_unpacked(resp, NULL);
    return ST_OK;
}

int st_redeem_enrollment(st_client *c, uint64_t community_id, const char *owner_id,
                         const char *code, st_key_result *out, st_error *err) {
    char canon[ST_ENROLL_CODE_LEN + 1];
    int rc = st_enroll_code_normalise(code, canon, err);
    if (rc != ST_OK) {
        return rc;
    }
    st_keypair *k = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->key != NULL) {
        rc = st__keypair_copy(c->key, &k);
    }
    pthread_mutex_unlock(&c->mu);
    if (rc != ST_OK || k == NULL) {
        sodium_memzero(canon, sizeof(canon));
        return st__fail(err, ST_FAIL_LOCAL, rc != ST_OK ? rc : ST_EINVAL,
                        rc != ST_OK ? "out of memory"
                                    : "redeeming a code needs the new owner key (strata keygen "
                                      "--out owner.key, then --key owner.key)");
    }
    uint8_t cpk[ST_SIGN_PK_LEN], csk[ST_SIGN_SK_LEN];
    uint8_t bytes[ST_ENROLL_MAX_LEN], sig[ST_SIGN_SIG_LEN], csig[ST_SIGN_SIG_LEN];
    size_t len = 0;
    char msg[256];
    uint64_t signed_ms = st__wall_ms();
    rc = code_key(community_id, owner_id, canon, cpk, csk, err);
    sodium_memzero(canon, sizeof(canon));
    if (rc == ST_OK && (rc = st_enroll_bytes(community_id, owner_id, k->pk, cpk, signed_ms, bytes,
                                             &len)) != ST_OK) {
        st__fail(err, ST_FAIL_LOCAL, rc, "cannot build the enrollment bytes");
    }
    if (rc == ST_OK) {
        rc = st_sign_detached(sig, ST_DOMAIN_ENROLL, bytes, len, k->sk, msg, sizeof(msg));
        rc = rc ? rc
                : st_sign_detached(csig, ST_DOMAIN_ENROLL_CODE, bytes, len, csk, msg, sizeof(msg));
        if (rc != ST_OK) {
            st__fail(err, ST_FAIL_LOCAL, rc, "cannot sign the enrollment: %s", msg);
        }
    }
    sodium_memzero(csk, sizeof(csk));
    uint8_t pk[ST_SIGN_PK_LEN];
    memcpy(pk, k->pk, sizeof(pk));
    st_keypair_free(k);
    if (rc != ST_OK) {
        return rc;
    }
    uint8_t rid[ST_CLIENT_REQUEST_ID_LEN];
    st_request_id_new(rid);
    Strata__V1__RedeemEnrollmentRequest req = STRATA__V1__REDEEM_ENROLLMENT_REQUEST__INIT;
    req.request_id.data = rid;
    req.request_id.len = sizeof(rid);
    req.community_id = community_id;
    req.owner_id = (char *)owner_id;
    req.public_key.data = pk;
    req.public_key.len = sizeof(pk);
    req.code_public_key.data = cpk;
    req.code_public_key.len = sizeof(cpk);
    req.signed_ms = signed_ms;
    req.signature.data = sig;
    req.signature.len = sizeof(sig);
    req.code_signature.data = csig;
    req.code_signature.len = sizeof(csig);
    ProtobufCMessage *resp = NULL;
    rc = st__unary(c, KEYS "RedeemEnrollment", &req.base, &strata__v1__key_response__descriptor,
                   true, &resp, err);
    if (rc == ST_OK) {
        const Strata__V1__KeyResponse *r = (const Strata__V1__KeyResponse *)resp;
        if (out != NULL) {
            memset(out, 0, sizeof(*out));
            st_key_id_hex(out->key_id, pk);
            out->seq = r->seq;
        }
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return rc;
}
