/* enroll.c - enrollment codes and the lost phone (docs/ROLES.md §Enrollment, §Revocation).
 *
 *  1. An organiser issues a code for an owner on the roll; the owner's key redeems it
 *     once. Expired, reused, superseded, wrong-owner, wrong-code and wrongly signed
 *     redemptions are refused and change nothing; the code itself is nowhere in the state.
 *  2. Lost phone: revoking an owner's key needs the organiser's signature and an active
 *     supervisor's co-signature over the revocation bytes. Ballots the key cast before
 *     still count; after, it can cast nothing; a new code enrolls a new key, whose ballot
 *     replaces the old one.
 */
#include <string.h>

#include "crypto/approval.h"
#include "tests/server/harness.h"

static t_env e;
static t_key org, org2;

/* A RedeemEnrollmentCode with every part given, for tampering. */
static int redeem_raw(uint64_t community, const char *owner, const t_key *k,
                      const char *code_for_pk, const char *code_for_sig, const t_key *signer,
                      const t_key *actor, uint64_t signed_ms, st_apply_result *r) {
    uint8_t cpk[32], csk[64], spk[32], ssk[64], msg[ST_ENROLL_MAX_LEN], sig[64], csig[64];
    size_t len;
    CHECK(st_enroll_code_keypair(1, "O1", code_for_pk, strlen(code_for_pk), cpk, csk) == ST_OK);
    CHECK(st_enroll_code_keypair(1, "O1", code_for_sig, strlen(code_for_sig), spk, ssk) == ST_OK);
    CHECK(st_enroll_bytes(community, owner, k->pk, cpk, signed_ms, msg, &len) == ST_OK);
    CHECK(st_sign_detached(sig, ST_DOMAIN_ENROLL, msg, len, signer->sk, NULL, 0) == ST_OK);
    CHECK(st_sign_detached(csig, ST_DOMAIN_ENROLL_CODE, msg, len, ssk, NULL, 0) == ST_OK);
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__RedeemEnrollmentCode b = STRATA__INTERNAL__REDEEM_ENROLLMENT_CODE__INIT;
    b.community_id = community;
    b.owner_id = (char *)owner;
    b.public_key = (ProtobufCBinaryData){32, (uint8_t *)k->pk};
    b.code_public_key = (ProtobufCBinaryData){32, cpk};
    b.signed_ms = signed_ms;
    b.signature = (ProtobufCBinaryData){64, sig};
    b.code_signature = (ProtobufCBinaryData){64, csig};
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_REDEEM_ENROLLMENT_CODE;
    cmd.redeem_enrollment_code = &b;
    return t_apply_as(&e, &cmd, actor, r);
}

static bool contains(const uint8_t *hay, size_t n, const void *needle, size_t m) {
    for (size_t i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0) {
            return true;
        }
    }
    return false;
}

static void codes(void) {
    st_apply_result r;
    t_key k1, k1b, k2, stranger;
    t_key_from_label(&k1, "O1 phone");
    t_key_from_label(&k1b, "O1 other phone");
    t_key_from_label(&k2, "O2 phone");
    t_key_from_label(&stranger, "stranger");
    const char *code = "7KQ2-M9XD-4PNB-HT3C"; /* drawn by the organiser's device */

    /* Issue: the community's organiser, an owner on its current roll, a fresh code. */
    T_REFUSED(&e, t_issue(&e, 1, "O1", code, -1, &org2, R_), ST_EPERM, "does not organise");
    T_REFUSED(&e, t_issue(&e, 1, "O1", code, -1, &e.sup, R_), ST_EPERM, "organiser");
    T_REFUSED(&e, t_issue(&e, 9, "O1", code, -1, &org, R_), ST_ENOENT, "community 9");
    T_REFUSED(&e, t_issue(&e, 1, "O10", code, -1, &org, R_), ST_ENOENT, "not on community 1");
    T_REFUSED(&e, t_issue(&e, 1, "O1", code, 0, &org, R_), ST_EINVAL, "valid 1 to 14 days");
    T_REFUSED(&e, t_issue(&e, 1, "O1", code, 15, &org, R_), ST_EINVAL, "valid 1 to 14 days");
    CHECK_APPLY(t_issue(&e, 1, "O1", code, -1, &org, &r), r, ST_OK);
    CHECK(r.id == 1 && strstr(r.message, "2024-05-15T08:00:00Z") != NULL); /* +14 days */
    T_REFUSED(&e, t_issue(&e, 1, "O1", code, -1, &org, R_), ST_EEXIST, "issued before");

    /* The code never entered the log or the state; only its public key did. */
    uint8_t *snap;
    size_t len;
    char err[256];
    CHECK(st_state_snapshot(e.s, &snap, &len, err, sizeof(err)) == ST_OK);
    uint8_t cpk[32], csk[64];
    CHECK(st_enroll_code_keypair(1, "O1", code, strlen(code), cpk, csk) == ST_OK);
    CHECK(!contains(snap, len, code, strlen(code)));
    CHECK(!contains(snap, len, csk, 32)); /* nor the code key's seed */
    CHECK(contains(snap, len, cpk, 32));
    free(snap);
    uint8_t cid[16];
    st_key_id(cid, cpk);
    st_enrollment_info ei;
    CHECK(st_state_get_enrollment(e.s, cid, &ei) == ST_OK);
    CHECK(ei.state == ST_ENROLL_OPEN && ei.community_id == 1 && strcmp(ei.owner_id, "O1") == 0);
    CHECK(ei.expires_ms == T0_MS + 14 * DAY_MS && strcmp(ei.issued_by, org.hex) == 0);

    /* Redemptions that fail. */
    T_REFUSED(&e, redeem_raw(1, "O2", &k1, code, code, &k1, &k1, e.time_ms, R_), ST_EPERM,
              "another owner");
    T_REFUSED(&e, redeem_raw(1, "O1", &k1, code, "wrong code", &k1, &k1, e.time_ms, R_), ST_EAUTH,
              "code's signature");
    T_REFUSED(&e, redeem_raw(1, "O1", &k1, code, code, &k1b, &k1, e.time_ms, R_), ST_EAUTH,
              "new key's signature");
    T_REFUSED(&e, redeem_raw(1, "O1", &k1, "never issued", "never issued", &k1, &k1, e.time_ms, R_),
              ST_ENOENT, "no enrollment code");
    T_REFUSED(&e, redeem_raw(1, "O1", &k1, code, code, &k1, &stranger, e.time_ms, R_), ST_EAUTH,
              "new key");
    T_REFUSED(&e, redeem_raw(1, "O1", &k1, code, code, &k1, &org, e.time_ms, R_), ST_EPERM,
              "registered");
    T_REFUSED(&e, redeem_raw(1, "O1", &k1, code, code, &k1, &k1, e.time_ms + 3600000, R_),
              ST_EINVAL, "signed_ms");

    /* The right one, once. */
    CHECK_APPLY(t_redeem(&e, 1, "O1", code, &k1, &r), r, ST_OK);
    st_key_info ki;
    CHECK(st_state_get_key(e.s, k1.id, &ki) == ST_OK);
    CHECK(ki.role == ST_ROLE_OWNER && ki.community_id == 1 && strcmp(ki.owner_id, "O1") == 0);
    CHECK(ki.active && strcmp(ki.registered_by, k1.hex) == 0);
    CHECK(st_state_get_enrollment(e.s, cid, &ei) == ST_OK);
    CHECK(ei.state == ST_ENROLL_REDEEMED && memcmp(ei.redeemed_key_id, k1.id, 16) == 0);
    T_REFUSED(&e, t_redeem(&e, 1, "O1", code, &k1b, R_), ST_ESTATE, "works once");
    T_REFUSED(&e, t_redeem(&e, 1, "O1", code, &k1, R_), ST_EPERM, "registered");

    /* Expiry: valid while time < issued + days. */
    CHECK_APPLY(t_issue(&e, 1, "O2", "code-for-O2", 3, &org, &r), r, ST_OK);
    uint64_t issued = e.time_ms;
    e.time_ms = issued + 3 * DAY_MS;
    T_REFUSED(&e, t_redeem(&e, 1, "O2", "code-for-O2", &k2, R_), ST_ESTATE, "expired");
    e.time_ms = issued + 3 * DAY_MS - 1;
    /* Superseded: a newer code for the same owner; only the newest works. */
    CHECK_APPLY(t_issue(&e, 1, "O2", "newer-code", -1, &org, &r), r, ST_OK);
    T_REFUSED(&e, t_redeem(&e, 1, "O2", "code-for-O2", &k2, R_), ST_ESTATE, "newer code");
    CHECK_APPLY(t_redeem(&e, 1, "O2", "newer-code", &k2, &r), r, ST_OK);

    /* An owner who left the roll cannot redeem a code issued before. */
    CHECK_APPLY(t_issue(&e, 1, "O8", "code-for-O8", -1, &org, &r), r, ST_OK);
    t_unit roll[12];
    memcpy(roll, t_example_roll, sizeof(roll));
    roll[10].owner = "O8b";
    roll[10].name = "新业主";
    CHECK_APPLY(t_import_roll(&e, 1, roll, 12, &r), r, ST_OK);
    t_key k8;
    t_key_from_label(&k8, "O8 phone");
    T_REFUSED(&e, t_redeem(&e, 1, "O8", "code-for-O8", &k8, R_), ST_ENOENT, "no longer");
    CHECK_APPLY(t_import_roll(&e, 1, t_example_roll, 12, &r), r, ST_OK);

    /* The community's policy sets the default validity. */
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CreateCommunity cc = STRATA__INTERNAL__CREATE_COMMUNITY__INIT;
    cc.name = "短期小区";
    cc.street = "东城街道";
    cc.enroll_code_case = STRATA__INTERNAL__CREATE_COMMUNITY__ENROLL_CODE_ENROLL_CODE_DAYS;
    cc.enroll_code_days = 0;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CREATE_COMMUNITY;
    cmd.create_community = &cc;
    T_REFUSED(&e, t_apply(&e, &cmd, R_), ST_EINVAL, "enroll_code_days");
    cc.enroll_code_days = 2;
    CHECK_APPLY(t_apply(&e, &cmd, &r), r, ST_OK);
    uint64_t short_c = r.id;
    st_community_info *ci;
    CHECK(st_state_get_community(e.s, short_c, &ci) == ST_OK && ci->enroll_code_days == 2);
    st_community_info_free(ci);
    CHECK(st_state_get_community(e.s, 1, &ci) == ST_OK && ci->enroll_code_days == 14);
    st_community_info_free(ci);
    CHECK_APPLY(t_import_roll(&e, short_c, t_example_roll, 12, &r), r, ST_OK);
    t_key org_s;
    t_organiser_key(short_c, &org_s);
    T_REFUSED(&e, t_issue(&e, short_c, "O1", "x", 3, &org_s, R_), ST_EINVAL, "1 to 2 days");
    printf("codes: issue, redeem once, expiry, supersede, wrong owner, code and signature\n");
}

static int count_ballots(void *ctx, const st_ballot_info *b) {
    (void)b;
    (*(size_t *)ctx)++;
    return 0;
}

static int count_keys(void *ctx, const st_key_info *k) {
    (void)k;
    (*(size_t *)ctx)++;
    return 0;
}

static void lost_phone(void) {
    st_apply_result r;
    t_key k1, k3, sup2, org1b;
    t_key_from_label(&k1, "O1 phone"); /* enrolled in codes() */
    t_owner_key(&e, 1, "O3", &k3);
    t_key_from_label(&sup2, "supervisor 2");
    t_key_from_label(&org1b, "organiser 1b");
    CHECK_APPLY(t_add_key(&e, sup2.pk, ST_ROLE_SUPERVISOR, &e.op, &r), r, ST_OK);
    CHECK_APPLY(t_appoint(&e, 1, org1b.pk, &e.sup, &r), r, ST_OK);

    uint64_t v = t_open_new_vote(&e, 1, 4, 0, NULL, 0);
    CHECK_APPLY(t_cast_signed(&e, v, "O1", 1, &k1, &r), r, ST_OK); /* before the loss */
    CHECK_APPLY(t_cast_signed(&e, v, "O3", 2, &k3, &r), r, ST_OK);
    st_vote_info *vi;
    CHECK(st_state_get_vote(e.s, v, &vi) == ST_OK);
    CHECK(vi->tally.agree.owners == 1 && vi->tally.agree.area == 8950 + 12000);
    st_vote_info_free(vi);

    /* Tiered approval: both signatures, by the community's organiser and a supervisor. */
    e.time_ms += 60000;
    T_REFUSED(&e, t_revoke_owner(&e, k1.id, "手机遗失", &org, NULL, R_), ST_EPERM, "co-signature");
    T_REFUSED(&e, t_revoke_owner(&e, k1.id, "手机遗失", &org, &org1b, R_), ST_EPERM,
              "supervisor key");
    T_REFUSED(&e, t_revoke_owner(&e, k1.id, "手机遗失", &org2, &e.sup, R_), ST_EPERM,
              "does not organise");
    T_REFUSED(&e, t_revoke_owner(&e, k1.id, "", &org, &e.sup, R_), ST_EINVAL, "reason");
    T_REFUSED(&e, t_revoke_owner(&e, org1b.id, "x", &org, &e.sup, R_), ST_EPERM, "RevokeKey");
    /* A co-signature over other bytes (another reason) does not count. */
    {
        /* the organiser signs "手机遗失", the supervisor "其他" */
        uint8_t msg[ST_REVOKE_MAX_LEN], osig[64], ssig[64];
        size_t len;
        CHECK(st_revoke_owner_bytes(1, "O1", k1.id, "手机遗失", e.time_ms, msg, &len) == ST_OK);
        CHECK(st_sign_detached(osig, ST_DOMAIN_REVOKE_OWNER, msg, len, org.sk, NULL, 0) == ST_OK);
        CHECK(st_revoke_owner_bytes(1, "O1", k1.id, "其他", e.time_ms, msg, &len) == ST_OK);
        CHECK(st_sign_detached(ssig, ST_DOMAIN_REVOKE_OWNER, msg, len, e.sup.sk, NULL, 0) == ST_OK);
        Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
        Strata__Internal__RevokeOwnerKey b = STRATA__INTERNAL__REVOKE_OWNER_KEY__INIT;
        b.key_id = (ProtobufCBinaryData){16, k1.id};
        b.reason = "手机遗失";
        b.signed_ms = e.time_ms;
        b.organiser_signature = (ProtobufCBinaryData){64, osig};
        b.supervisor_key_id = (ProtobufCBinaryData){16, e.sup.id};
        b.supervisor_signature = (ProtobufCBinaryData){64, ssig};
        cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_REVOKE_OWNER_KEY;
        cmd.revoke_owner_key = &b;
        T_REFUSED(&e, t_apply_as(&e, &cmd, &org, R_), ST_EAUTH, "supervisor's co-signature");
        /* and an organiser signature that is not the organiser's */
        b.organiser_signature = (ProtobufCBinaryData){64, ssig};
        T_REFUSED(&e, t_apply_as(&e, &cmd, &org, R_), ST_EAUTH, "organiser's signature");
    }
    /* A revoked supervisor cannot co-sign. */
    CHECK_APPLY(t_revoke_key(&e, sup2.id, "", &e.op, &r), r, ST_OK);
    T_REFUSED(&e, t_revoke_owner(&e, k1.id, "手机遗失", &org, &sup2, R_), ST_EPERM, "revoked");

    uint64_t revoked_at = e.time_ms;
    CHECK_APPLY(t_revoke_owner(&e, k1.id, "手机遗失", &org, &e.sup, &r), r, ST_OK);
    T_REFUSED(&e, t_revoke_owner(&e, k1.id, "手机遗失", &org, &e.sup, R_), ST_ESTATE,
              "revoked already");
    st_key_info ki;
    CHECK(st_state_get_key(e.s, k1.id, &ki) == ST_OK);
    CHECK(!ki.active && ki.revoked_ms == revoked_at && strcmp(ki.revoke_cosigner, e.sup.hex) == 0);
    CHECK(strcmp(ki.revoked_by, org.hex) == 0 && strcmp(ki.revoke_reason, "手机遗失") == 0);

    /* The ballot cast before still counts; the key casts nothing more. */
    CHECK(st_state_get_vote(e.s, v, &vi) == ST_OK);
    CHECK(vi->tally.agree.owners == 1 && vi->tally.agree.area == 8950 + 12000);
    CHECK(vi->ballot_count == 2 && vi->log_size == 2);
    st_vote_info_free(vi);
    st_recount_info rc;
    CHECK(st_state_recount(e.s, v, &rc) == ST_OK && rc.equal && rc.tally.agree.owners == 1);
    e.time_ms += 1000;
    T_REFUSED(&e, t_cast_signed(&e, v, "O1", 2, &k1, R_), ST_EAUTH, "revoked");
    /* nor any request at all */
    T_REFUSED(&e, t_issue(&e, 1, "O1", "x", -1, &k1, R_), ST_EAUTH, "revoked");

    /* A new code, a new key: its ballot replaces the old one; all stay in the log. */
    t_key k1new;
    t_key_from_label(&k1new, "O1 new phone");
    CHECK_APPLY(t_issue(&e, 1, "O1", "replacement code", -1, &org, &r), r, ST_OK);
    CHECK_APPLY(t_redeem(&e, 1, "O1", "replacement code", &k1new, &r), r, ST_OK);
    CHECK_APPLY(t_cast_signed(&e, v, "O1", 2, &k1new, &r), r, ST_OK);
    CHECK(strstr(r.message, "replacing") != NULL && r.leaf_index == 2 && r.tree_size == 3);
    CHECK(st_state_get_vote(e.s, v, &vi) == ST_OK);
    CHECK(vi->tally.agree.owners == 0 && vi->tally.disagree.owners == 2);
    st_vote_info_free(vi);
    size_t n = 0;
    CHECK(st_state_owner_ballots(e.s, v, "O1", count_ballots, &n) == ST_OK && n == 2);
    n = 0;
    CHECK(st_state_owner_keys(e.s, 1, "O1", count_keys, &n) == ST_OK);
    CHECK(n == 2); /* the harness's first key was never made: k1 and k1new */
    printf("lost phone: revocation needs both signatures; earlier ballots count, later refused\n");
}

int main(void) {
    t_open(&e, true, 0);
    e.enroll = T_ENROLL_LAZY; /* this test enrolls by hand */
    st_apply_result r;
    CHECK_APPLY(t_create_community(&e, "幸福家园", 0, &r), r, ST_OK);
    CHECK_APPLY(t_create_community(&e, "和平小区", 0, &r), r, ST_OK);
    CHECK_APPLY(t_import_roll(&e, 1, t_example_roll, 12, &r), r, ST_OK);
    CHECK_APPLY(t_import_roll(&e, 2, t_example_roll, 12, &r), r, ST_OK);
    t_organiser_key(1, &org);
    t_organiser_key(2, &org2);
    codes();
    /* O3 votes with the harness's key in lost_phone(). */
    CHECK_APPLY(t_enroll(&e, 1, "O3", &r), r, ST_OK);
    lost_phone();
    t_close(&e);
    printf("ok: enrollment and revocation\n");
    return 0;
}
