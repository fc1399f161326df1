/* test_enroll.c - enrollment codes and the two-step revocation of an owner's key:
 *   - codes: 4 groups of 5 Crockford base32 symbols (100 bits), every symbol drawn, no two
 *     codes alike; the code as typed (case, spaces, dashes, O/I/L) normalises to the same
 *     code, and so to the same code key; bad codes are refused with what is wrong;
 *   - issue and redeem against a fake node: only the code key's public half is sent, never
 *     the code; the redemption's two signatures verify over the enrollment bytes with the
 *     code key the issue sent, and the request is signed by the new key;
 *   - revocation requests: signed by the organiser, co-signed by another key only, every
 *     field bound by both signatures, the file round trip, strict loading (the line at
 *     fault), never overwritten unless replaced, and the submitted request carries both
 *     signatures and the supervisor's key id.
 */
#include <grpc/status.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/strata.h"
#include "crypto/approval.h"
#include "crypto/request.h"
#include "tests/cli/check.h"
#include "tests/client/fake_server.h"

static char dir[512];

static const char *path_of(const char *name) {
    static char p[1024];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return p;
}

static void test_code_format(void) {
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    int seen[32] = {0};
    char codes[200][ST_ENROLL_CODE_LEN + 1];
    st_error e;
    for (int i = 0; i < 200; i++) {
        char *c = codes[i];
        CHECK_INT(st_enroll_code_new(c, &e), ST_OK);
        CHECK_INT(strlen(c), 23);
        for (int k = 0; k < 23; k++) {
            if (k % 6 == 5) {
                CHECK(c[k] == '-');
            } else {
                const char *at = strchr(alphabet, c[k]);
                CHECK(at != NULL && c[k] != '\0');
                if (at != NULL) {
                    seen[at - alphabet]++;
                }
            }
        }
        for (int j = 0; j < i; j++) {
            CHECK(strcmp(codes[j], c) != 0);
        }
        char canon[ST_ENROLL_CODE_LEN + 1];
        CHECK_INT(st_enroll_code_normalise(c, canon, &e), ST_OK);
        CHECK_STR(canon, c);
    }
    /* 4000 symbols: each of the 32 appears (expected 125 times each). */
    for (int s = 0; s < 32; s++) {
        CHECK(seen[s] > 50);
    }
}

static void test_code_typed(void) {
    char out[ST_ENROLL_CODE_LEN + 1];
    st_error e;
    CHECK_INT(st_enroll_code_normalise("7kq2m 9xd4p-nbht3 c0vwe", out, &e), ST_OK);
    CHECK_STR(out, "7KQ2M-9XD4P-NBHT3-C0VWE");
    CHECK_INT(st_enroll_code_normalise("7KQ2M9XD4PNBHT3COVWE", out, &e), ST_OK); /* O -> 0 */
    CHECK_STR(out, "7KQ2M-9XD4P-NBHT3-C0VWE");
    CHECK_INT(st_enroll_code_normalise("iiiii-lllll-11111-00000", out, &e), ST_OK);
    CHECK_STR(out, "11111-11111-11111-00000");
    CHECK_INT(st_enroll_code_normalise("7KQ2M-9XD4P-NBHT3-C0VWU", out, &e), ST_EINVAL);
    CHECK_HAS(e.message, "(\"U\")");
    CHECK_INT(st_enroll_code_normalise("7KQ2M-9XD4P-NBHT3", out, &e), ST_EINVAL);
    CHECK_HAS(e.message, "has 15 letters and digits, not 20");
    CHECK_INT(st_enroll_code_normalise("7KQ2M-9XD4P-NBHT3-C0VWE-A", out, &e), ST_EINVAL);
    CHECK_HAS(e.message, "too long");
    CHECK_INT(st_enroll_code_normalise("7KQ2M-9XD4P-NBHT3-C0VW\xc3\xa9", out, &e), ST_EINVAL);
    CHECK_INT(st_enroll_code_normalise("", out, &e), ST_EINVAL);
    /* Two spellings of one code are one code key; another owner's is another key. */
    uint8_t a[32], b[32], c[32], sk[64];
    CHECK_INT(st_enroll_code_normalise("7kq2m-9xd4p-nbht3-covwe", out, &e), ST_OK);
    st_enroll_code_keypair(1, "O3", out, strlen(out), a, sk);
    st_enroll_code_keypair(1, "O3", "7KQ2M-9XD4P-NBHT3-C0VWE", 23, b, sk);
    st_enroll_code_keypair(1, "O4", "7KQ2M-9XD4P-NBHT3-C0VWE", 23, c, sk);
    CHECK(memcmp(a, b, 32) == 0);
    CHECK(memcmp(a, c, 32) != 0);
}

/* ---- issue and redeem against a fake node ---- */

typedef struct {
    uint8_t code_pk[32];
    int issued, redeemed;
    bool redeem_ok;
    char why[200];
} keys_node;

static int pack_reply(const ProtobufCMessage *m, uint8_t **reply, size_t *len) {
    *len = protobuf_c_message_get_packed_size(m);
    *reply = malloc(*len ? *len : 1);
    if (*reply == NULL) {
        abort();
    }
    protobuf_c_message_pack(m, *reply);
    return 0;
}

/* The new key signed the request: the envelope in strata-auth-bin, over this body. */
static bool signed_by(const fake_call *call, const uint8_t pk[32]) {
    st_request q;
    return st_request_decode(&q, call->auth, call->auth_len, NULL, 0) == ST_OK &&
           st_request_verify(&q, pk, call->body, call->len, NULL, 0) == ST_OK &&
           strcmp(q.method, call->method) == 0;
}

static int redeem(keys_node *n, const fake_call *call) {
    Strata__V1__RedeemEnrollmentRequest *q =
        strata__v1__redeem_enrollment_request__unpack(NULL, call->len, call->body);
    n->redeem_ok = false;
    if (q == NULL || q->public_key.len != 32 || q->code_public_key.len != 32 ||
        q->signature.len != 64 || q->code_signature.len != 64 || q->request_id.len != 16) {
        snprintf(n->why, sizeof(n->why), "a malformed redemption");
    } else if (memcmp(q->code_public_key.data, n->code_pk, 32) != 0) {
        snprintf(n->why, sizeof(n->why), "another code key than the one issued");
    } else {
        uint8_t bytes[ST_ENROLL_MAX_LEN];
        size_t len = 0;
        st_enroll_bytes(q->community_id, q->owner_id, q->public_key.data, q->code_public_key.data,
                        q->signed_ms, bytes, &len);
        bool ok = st_sign_verify(q->signature.data, ST_DOMAIN_ENROLL, bytes, len,
                                 q->public_key.data, NULL, 0) == ST_OK &&
                  st_sign_verify(q->code_signature.data, ST_DOMAIN_ENROLL_CODE, bytes, len,
                                 q->code_public_key.data, NULL, 0) == ST_OK &&
                  signed_by(call, q->public_key.data);
        n->redeem_ok = ok;
        snprintf(n->why, sizeof(n->why), "%s", ok ? "" : "a signature does not verify");
    }
    if (q != NULL) {
        strata__v1__redeem_enrollment_request__free_unpacked(q, NULL);
    }
    n->redeemed++;
    return n->redeem_ok ? 0 : GRPC_STATUS_UNAUTHENTICATED;
}

static int keys_handler(void *ctx, const fake_call *call, uint8_t **reply, size_t *len, char *msg,
                        size_t cap) {
    keys_node *n = ctx;
    if (strcmp(call->method, "/strata.v1.Keys/IssueEnrollment") == 0) {
        Strata__V1__IssueEnrollmentRequest *q =
            strata__v1__issue_enrollment_request__unpack(NULL, call->len, call->body);
        if (q == NULL || q->code_public_key.len != 32) {
            return GRPC_STATUS_INVALID_ARGUMENT;
        }
        memcpy(n->code_pk, q->code_public_key.data, 32);
        CHECK_INT(q->valid_case, STRATA__V1__ISSUE_ENROLLMENT_REQUEST__VALID_VALID_DAYS);
        CHECK_INT(q->valid_days, 3);
        strata__v1__issue_enrollment_request__free_unpacked(q, NULL);
        n->issued++;
        Strata__V1__IssueEnrollmentResponse r = STRATA__V1__ISSUE_ENROLLMENT_RESPONSE__INIT;
        r.seq = 4;
        r.expires_ms = 1700259200000ULL;
        return pack_reply(&r.base, reply, len);
    }
    if (strcmp(call->method, "/strata.v1.Keys/RedeemEnrollment") == 0) {
        int st = redeem(n, call);
        if (st != 0) {
            snprintf(msg, cap, "%s", n->why);
            return st;
        }
        Strata__V1__KeyResponse r = STRATA__V1__KEY_RESPONSE__INIT;
        r.seq = 5;
        return pack_reply(&r.base, reply, len);
    }
    snprintf(msg, cap, "not faked");
    return GRPC_STATUS_UNIMPLEMENTED;
}

static st_client *client_on(fake_server *f, const st_keypair *k) {
    st_client_options o;
    st_client_options_init(&o);
    o.cluster = fake_address(f);
    o.plaintext = true; /* the fake servers serve plaintext on loopback */
    o.key = k;
    o.deadline_ms = 3000;
    st_client *c = NULL;
    st_error e;
    if (st_client_new(&o, &c, &e) != ST_OK) {
        abort();
    }
    return c;
}

static void test_issue_redeem(void) {
    fake_server *f = fake_start();
    keys_node n;
    memset(&n, 0, sizeof(n));
    fake_set_handler(f, keys_handler, &n);
    st_keypair *org = NULL, *owner = NULL;
    st_error e;
    st_keypair_generate(&org, &e);
    st_keypair_generate(&owner, &e);
    st_client *c = client_on(f, org);
    st_enrollment en;
    CHECK_INT(st_issue_enrollment(c, 1, "O3", 3, &en, &e), ST_OK);
    CHECK_INT(n.issued, 1);
    CHECK_INT(en.seq, 4);
    CHECK(en.expires_ms == 1700259200000ULL);
    char idhex[33];
    st_key_id_hex(idhex, n.code_pk);
    CHECK_STR(en.code_key_id, idhex);
    /* The code never travels: not in any byte of the request. */
    const fake_call *call = fake_call_at(f, 0);
    CHECK(call != NULL && memmem(call->body, call->len, en.code, 23) == NULL);
    char bare[21];
    size_t b = 0;
    for (int i = 0; i < 23; i++) {
        if (en.code[i] != '-') {
            bare[b++] = en.code[i];
        }
    }
    bare[b] = '\0';
    CHECK(call != NULL && memmem(call->body, call->len, bare, 20) == NULL);
    st_client_close(c);

    /* The owner types it in lower case with spaces. */
    char typed[40];
    for (int i = 0; i <= 23; i++) {
        typed[i] =
            en.code[i] == '-' ? ' ' : (char)(en.code[i] >= 'A' ? en.code[i] + 32 : en.code[i]);
    }
    c = client_on(f, owner);
    st_key_result r;
    CHECK_INT(st_redeem_enrollment(c, 1, "O3", typed, &r, &e), ST_OK);
    CHECK(n.redeem_ok);
    char owner_id[33];
    st_keypair_id_hex(owner, owner_id);
    CHECK_STR(r.key_id, owner_id);
    CHECK_INT(r.seq, 5);
    /* Another owner's code key is another key: the node refuses it. */
    CHECK_INT(st_redeem_enrollment(c, 1, "O4", en.code, &r, &e), ST_EAUTH);
    CHECK_HAS(e.message, "another code key");
    st_client_close(c);
    /* Without a key nothing is sent. */
    c = client_on(f, NULL);
    size_t before = fake_calls(f);
    CHECK_INT(st_redeem_enrollment(c, 1, "O3", en.code, &r, &e), ST_EINVAL);
    CHECK_HAS(e.message, "needs the new owner key");
    CHECK_INT(fake_calls(f), before);
    st_client_close(c);
    st_keypair_free(org);
    st_keypair_free(owner);
    fake_stop(f);
}

/* ---- revocation requests ---- */

static int revoke_handler(void *ctx, const fake_call *call, uint8_t **reply, size_t *len, char *msg,
                          size_t cap) {
    (void)msg;
    (void)cap;
    Strata__V1__RevokeOwnerKeyRequest **out = ctx;
    *out = strata__v1__revoke_owner_key_request__unpack(NULL, call->len, call->body);
    Strata__V1__KeyResponse r = STRATA__V1__KEY_RESPONSE__INIT;
    r.seq = 9;
    return pack_reply(&r.base, reply, len);
}

static void test_revocation(void) {
    st_keypair *org = NULL, *sup = NULL;
    st_error e;
    st_keypair_generate(&org, &e);
    st_keypair_generate(&sup, &e);
    uint8_t victim[16];
    memset(victim, 0x5c, sizeof(victim));
    st_revoke_request r, back;
    CHECK_INT(st_revoke_request_make(org, 1, "O3", victim, "lost phone", &r, &e), ST_OK);
    CHECK(!r.cosigned);
    CHECK_INT(st_revoke_request_check(&r, &e), ST_OK);
    CHECK_INT(st_revoke_request_make(org, 1, "O3", victim, "two\nlines", &back, &e), ST_EINVAL);
    CHECK_INT(st_revoke_request_make(org, 1, "O3", victim, "", &back, &e), ST_EINVAL);

    /* Step 1's file, read back as written; never overwritten. */
    CHECK_INT(st_revoke_request_save(path_of("req.txt"), &r, false, &e), ST_OK);
    CHECK_INT(st_revoke_request_save(path_of("req.txt"), &r, false, &e), ST_EEXIST);
    CHECK_INT(st_revoke_request_load(path_of("req.txt"), &back, &e), ST_OK);
    CHECK(memcmp(&back, &r, sizeof(r)) == 0);

    /* Every field is bound by the organiser's signature. */
    back = r;
    back.community_id = 2;
    CHECK_INT(st_revoke_request_check(&back, &e), ST_EAUTH);
    back = r;
    snprintf(back.owner_id, sizeof(back.owner_id), "O4");
    CHECK_INT(st_revoke_request_check(&back, &e), ST_EAUTH);
    back = r;
    back.key_id[0] ^= 1;
    CHECK_INT(st_revoke_request_check(&back, &e), ST_EAUTH);
    back = r;
    snprintf(back.reason, sizeof(back.reason), "found again");
    CHECK_INT(st_revoke_request_check(&back, &e), ST_EAUTH);
    back = r;
    back.signed_ms++;
    CHECK_INT(st_revoke_request_check(&back, &e), ST_EAUTH);
    CHECK_HAS(e.message, "organiser's signature");
    CHECK_INT(st_revoke_request_cosign(&back, sup, &e), ST_EAUTH);

    /* Step 2: another person's key co-signs; the organiser cannot co-sign their own. */
    back = r;
    CHECK_INT(st_revoke_request_cosign(&back, org, &e), ST_EINVAL);
    CHECK_INT(st_revoke_request_cosign(&r, sup, &e), ST_OK);
    CHECK(r.cosigned);
    CHECK_INT(st_revoke_request_check(&r, &e), ST_OK);
    CHECK_INT(st_revoke_request_cosign(&r, sup, &e), ST_EEXIST);
    uint8_t bytes[ST_REVOKE_MAX_LEN];
    size_t len = 0;
    st_revoke_owner_bytes(1, "O3", victim, "lost phone", r.signed_ms, bytes, &len);
    uint8_t sup_pk[32];
    st_keypair_public(sup, sup_pk);
    CHECK(memcmp(r.supervisor_pk, sup_pk, 32) == 0);
    CHECK_INT(st_sign_verify(r.supervisor_sig, ST_DOMAIN_REVOKE_OWNER, bytes, len, sup_pk, NULL, 0),
              ST_OK);
    CHECK_INT(st_revoke_request_save(path_of("req.txt"), &r, true, &e), ST_OK);
    CHECK_INT(st_revoke_request_load(path_of("req.txt"), &back, &e), ST_OK);
    CHECK(memcmp(&back, &r, sizeof(r)) == 0);
    back.supervisor_sig[3] ^= 1;
    CHECK_INT(st_revoke_request_check(&back, &e), ST_EAUTH);
    CHECK_HAS(e.message, "supervisor's signature");

    /* Strict loading. */
    static const struct {
        const char *text, *where;
    } bad[] = {
        {"strata-revoke-request-v2\n", ":1: expected"},
        {"strata-revoke-request-v1\ncommunity 01\n", ":2: bad value"},
        {"strata-revoke-request-v1\ncommunity 1\nowner \n", ":3: bad value"},
        {"strata-revoke-request-v1\ncommunity 1\nowner O3\nkey 5c5c\n", ":4: bad value"},
        {"strata-revoke-request-v1\ncommunity 1\nowner O3\nkey "
         "5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c\nreason lost\nsigned_ms 5\norganiser x y\n",
         ":7: bad value"},
        {"strata-revoke-request-v1\ncommunity 1\nowner O3\nkey "
         "5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c\nreason lost",
         ":5: missing or unterminated"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "bad%zu.txt", i);
        FILE *fp = fopen(path_of(name), "w");
        fputs(bad[i].text, fp);
        fclose(fp);
        CHECK_INT(st_revoke_request_load(path_of(name), &back, &e), ST_EINVAL);
        CHECK_HAS(e.message, bad[i].where);
    }

    /* Step 3: the organiser submits both signatures and the supervisor's key id. */
    fake_server *f = fake_start();
    Strata__V1__RevokeOwnerKeyRequest *sent = NULL;
    fake_set_handler(f, revoke_handler, &sent);
    st_client *c = client_on(f, sup);
    st_key_result kr;
    CHECK_INT(st_revoke_owner_key(c, &r, &kr, &e), ST_EINVAL); /* not the organiser's key */
    CHECK_INT(fake_calls(f), 0);
    st_client_close(c);
    c = client_on(f, org);
    CHECK_INT(st_revoke_owner_key(c, &r, &kr, &e), ST_OK);
    CHECK_INT(kr.seq, 9);
    CHECK(sent != NULL);
    if (sent != NULL) {
        uint8_t sid[16];
        st_key_id(sid, sup_pk);
        CHECK(sent->key_id.len == 16 && memcmp(sent->key_id.data, victim, 16) == 0);
        CHECK_STR(sent->reason, "lost phone");
        CHECK(sent->signed_ms == r.signed_ms);
        CHECK(sent->supervisor_key_id.len == 16 &&
              memcmp(sent->supervisor_key_id.data, sid, 16) == 0);
        CHECK(sent->organiser_signature.len == 64 &&
              memcmp(sent->organiser_signature.data, r.organiser_sig, 64) == 0);
        CHECK(sent->supervisor_signature.len == 64 &&
              memcmp(sent->supervisor_signature.data, r.supervisor_sig, 64) == 0);
        strata__v1__revoke_owner_key_request__free_unpacked(sent, NULL);
    }
    /* Not co-signed: nothing is sent. */
    st_revoke_request one;
    CHECK_INT(st_revoke_request_make(org, 1, "O3", victim, "lost phone", &one, &e), ST_OK);
    CHECK_INT(st_revoke_owner_key(c, &one, &kr, &e), ST_EPERM);
    CHECK_HAS(e.message, "not co-signed yet");
    st_client_close(c);
    fake_stop(f);
    st_keypair_free(org);
    st_keypair_free(sup);
}

int main(int argc, char **argv) {
    snprintf(dir, sizeof(dir), "%s", argc > 1 ? argv[1] : "scratch-enroll");
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) {
        return 1;
    }
    test_code_format();
    test_code_typed();
    test_issue_redeem();
    test_revocation();
    return check_exit("client_enroll");
}
