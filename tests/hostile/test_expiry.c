/* test_expiry.c - an expired enrollment code, over gRPC against a real stratad.
 *
 * A code's expiry is decided by the time the leader stamps on the redemption, so the
 * leader's clock has to pass it: a one-node cluster issues a code valid one day (and a
 * control code valid fourteen), is stopped, and comes back with its wall clock two days
 * ahead (clock_shim.c preloaded). The client's normal clock is then refused by the window
 * check (which shows the shim works); signed on the node's time, the one-day code is
 * refused FAILED_PRECONDITION "expired" with the data digest unchanged, and the
 * fourteen-day code still redeems.
 *
 * Prints `figure: hostile_expiry inputs_tried=N states_compared=K mismatches=0`.
 * Usage: hostile_expiry STRATAD CLOCK_SHIM.so
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/core/check.h"
#include "tests/hostile/enroll.h"
#include "tests/hostile/hostile.h"

#define REDEEM "/strata.v1.Keys/RedeemEnrollment"
#define AHEAD_MS (2LL * 24 * 60 * 60 * 1000)

/* Issues c for owner, valid `days` days (0: the community's default). */
static void issue(h_ctx *h, const char *owner, const h_code *c, uint32_t days) {
    uint8_t rid[16];
    Strata__V1__IssueEnrollmentRequest q;
    h_issue_request(h->a, owner, c, rid, &q);
    if (days != 0) {
        q.valid_case = STRATA__V1__ISSUE_ENROLLMENT_REQUEST__VALID_VALID_DAYS;
        q.valid_days = days;
    }
    ProtobufCMessage *resp =
        h_expect(h, "issue a code", tc_organiser(&h->w, h->a), "/strata.v1.Keys/IssueEnrollment",
                 &q.base, &strata__v1__issue_enrollment_response__descriptor, GRPC_STATUS_OK, NULL);
    CHECK(resp != NULL);
    protobuf_c_message_free_unpacked(resp, NULL);
}

/* Redeems c with a new device key, the request and the enrollment signed on the node's
 * clock (skew_ms ahead of this process's). */
static void redeem(h_ctx *h, const char *what, const char *owner, const h_code *c, int64_t skew_ms,
                   int want, const char *text) {
    tc_key device;
    tc_key_new(&device);
    h_redeem r;
    h_redeem_request(&device, h->a, owner, c, (uint64_t)((int64_t)h_wall_ms() + skew_ms), &r);
    uint8_t env[ST_REQUEST_MAX_LEN];
    size_t el = tc_sign(&device, REDEEM, &r.q.base, skew_ms, env);
    h_expect_env(h, what, REDEEM, &r.q.base, env, el, &strata__v1__key_response__descriptor, want,
                 text);
}

int main(int argc, char **argv) {
    CHECK(argc >= 3);
    uint64_t t0 = tc_now_ms();
    tc_options o = {.stratad = argv[1], .n_boot = 1};
    h_ctx h;
    memset(&h, 0, sizeof(h));
    h.verbose = getenv("STRATA_TEST_VERBOSE") != NULL;
    h.n_nodes = 1;
    h.c = tc_new(&o, "expiry");
    tc_start(h.c, 1, false);
    h.cl = tc_client_new(h.c);
    h.hw = hw_new(h.c);
    CHECK(tc_wait_leader(h.cl, h.c, 1, 15000) == 1);
    tc_world_init(&h.w);
    h.a = tc_world_setup(h.cl, h.c, &h.w, 1, "过期花园");
    tc_roll_generated(3, &h.roll_a);
    tc_import_roll(h.cl, &h.w, h.a, &h.roll_a);
    h_code one_day, two_weeks;
    h_code_new(h.a, "O1", &one_day);
    h_code_new(h.a, "O2", &two_weeks);
    issue(&h, "O1", &one_day, 1);
    issue(&h, "O2", &two_weeks, 0);

    /* Back two days later, by its own clock. */
    CHECK_EQ(tc_stop(h.c, 1, 10000), 0);
    char offset[32];
    snprintf(offset, sizeof(offset), "%lld", AHEAD_MS);
    const char *asan = getenv("ASAN_OPTIONS");
    char asan_opts[512];
    snprintf(asan_opts, sizeof(asan_opts), "verify_asan_link_order=0%s%s", asan != NULL ? ":" : "",
             asan != NULL ? asan : "");
    char *saved_asan = asan != NULL ? strdup(asan) : NULL;
    setenv("LD_PRELOAD", argv[2], 1);
    setenv("STRATA_TEST_CLOCK_OFFSET_MS", offset, 1);
    setenv("ASAN_OPTIONS", asan_opts, 1);
    tc_start(h.c, 1, false);
    unsetenv("LD_PRELOAD");
    unsetenv("STRATA_TEST_CLOCK_OFFSET_MS");
    if (saved_asan != NULL) {
        setenv("ASAN_OPTIONS", saved_asan, 1);
        free(saved_asan);
    } else {
        unsetenv("ASAN_OPTIONS");
    }
    CHECK(tc_wait_leader(h.cl, h.c, 1, 15000) == 1);
    printf("node 1 restarted with its clock %lld ms ahead\n", AHEAD_MS);

    h_state_mark(&h);
    redeem(&h, "redeem on this process's clock", "O2", &two_weeks, 0, GRPC_STATUS_UNAUTHENTICATED,
           "ago");
    redeem(&h, "redeem a one-day code two days later", "O1", &one_day, AHEAD_MS,
           GRPC_STATUS_FAILED_PRECONDITION, "expired");
    h_state_same(&h, "an expired code");
    redeem(&h, "redeem a fourteen-day code two days later", "O2", &two_weeks, AHEAD_MS,
           GRPC_STATUS_OK, NULL);

    printf("figure: hostile_expiry inputs_tried=%lu states_compared=%lu mismatches=%lu "
           "seconds=%llu\n",
           h.inputs, h.compared, h.mismatches,
           (unsigned long long)((tc_now_ms() - t0 + 500) / 1000));
    CHECK_EQ(h.mismatches, 0);
    tc_roll_free(&h.roll_a);
    tc_world_free(&h.w);
    hw_free(h.hw);
    tc_client_free(h.cl);
    tc_finish(h.c);
    printf("ok\n");
    return 0;
}
