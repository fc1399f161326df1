/* auth.c - signed request replay (docs/ROLES.md §Requests): a command carrying request
 * authentication (key id, timestamp, nonce) is refused when the timestamp is outside
 * ±5 minutes of the command time (or older than five minutes before the newest such
 * command), when the key id is not the actor's, or when the (key id, nonce) pair was seen;
 * the pair is recorded with the command's outcome, also a refusal; pairs older than the
 * window are pruned deterministically; a retry of the same request re-signed with a fresh
 * nonce is still the idempotent duplicate.
 */
#include <string.h>

#include "tests/server/harness.h"

#define MIN_MS 60000ULL

static t_env e;
static t_key org;

/* NoticeVote of vote with request auth by k (nonce byte n, timestamp ts). */
static int notice_auth(uint64_t vote, const t_key *k, uint8_t n, uint64_t ts, const uint8_t *rid,
                       st_apply_result *r) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__NoticeVote b = STRATA__INTERNAL__NOTICE_VOTE__INIT;
    uint8_t nonce[16];
    memset(nonce, n, sizeof(nonce));
    b.vote_id = vote;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_NOTICE_VOTE;
    cmd.notice_vote = &b;
    cmd.auth_key_id = (ProtobufCBinaryData){16, (uint8_t *)k->id};
    cmd.auth_time_ms = ts;
    cmd.auth_nonce = (ProtobufCBinaryData){16, nonce};
    if (rid != NULL) {
        cmd.request_id = (ProtobufCBinaryData){16, (uint8_t *)rid};
    }
    return t_apply_as(&e, &cmd, k, r);
}

static bool seen(const t_key *k, uint8_t n) {
    uint8_t nonce[16];
    memset(nonce, n, sizeof(nonce));
    bool s = false;
    CHECK(st_state_request_seen(e.s, k->id, nonce, &s) == ST_OK);
    return s;
}

static int check(const t_key *k, uint8_t n, uint64_t ts, uint64_t now) {
    uint8_t nonce[16];
    memset(nonce, n, sizeof(nonce));
    return st_state_check_request(e.s, k->id, nonce, ts, now);
}

static uint64_t draft(void) {
    st_apply_result r;
    CHECK_APPLY(t_create_vote(&e, 1, 4, "议题", 0, 0, NULL, 0, &r), r, ST_OK);
    return r.id;
}

static void scenario(uint8_t digest[32]) {
    t_open(&e, true, 0);
    st_apply_result r;
    CHECK_APPLY(t_create_community(&e, "幸福家园", 0, &r), r, ST_OK);
    t_organiser_key(1, &org);
    uint64_t t = e.time_ms;

    /* Accepted with its auth; the pair is recorded and the read says so. */
    uint64_t v1 = draft();
    CHECK(!seen(&org, 1) && check(&org, 1, t, t) == ST_OK);
    CHECK_APPLY(notice_auth(v1, &org, 1, t - 2 * MIN_MS, NULL, &r), r, ST_OK);
    CHECK(seen(&org, 1) && check(&org, 1, t, t) == ST_EAUTH);
    /* The same nonce again, on another command: a replay. */
    uint64_t v2 = draft();
    T_REFUSED(&e, notice_auth(v2, &org, 1, t, NULL, R_), ST_EAUTH, "replayed");
    /* Outside the window either way (bounds included). */
    T_REFUSED(&e, notice_auth(v2, &org, 2, t + 5 * MIN_MS + 1, NULL, R_), ST_EAUTH, "ahead");
    T_REFUSED(&e, notice_auth(v2, &org, 2, t - 5 * MIN_MS - 1, NULL, R_), ST_EAUTH, "old");
    CHECK(check(&org, 2, t + 5 * MIN_MS + 1, t) == ST_EAUTH &&
          check(&org, 2, t + 5 * MIN_MS, t) == ST_OK);
    /* The key id must be the actor's. */
    {
        Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
        Strata__Internal__NoticeVote b = STRATA__INTERNAL__NOTICE_VOTE__INIT;
        uint8_t nonce[16] = {3};
        b.vote_id = v2;
        cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_NOTICE_VOTE;
        cmd.notice_vote = &b;
        cmd.auth_key_id = (ProtobufCBinaryData){16, e.sup.id};
        cmd.auth_time_ms = t;
        cmd.auth_nonce = (ProtobufCBinaryData){16, nonce};
        T_REFUSED(&e, t_apply_as(&e, &cmd, &org, R_), ST_EAUTH, "another key");
        cmd.auth_key_id = (ProtobufCBinaryData){8, org.id};
        T_REFUSED(&e, t_apply_as(&e, &cmd, &org, R_), ST_EINVAL, "16 bytes");
    }
    /* A refused command still uses its nonce up: it cannot be replayed later, when it
     * would be accepted. The data digest (which leaves the replay window out) does not
     * move. */
    uint64_t v3 = draft();
    CHECK_APPLY(notice_auth(v3, &org, 4, t, NULL, &r), r, ST_OK);
    T_REFUSED(&e, notice_auth(v3, &org, 5, t, NULL, R_), ST_ESTATE, "only once");
    CHECK(seen(&org, 5));
    uint64_t v4 = draft();
    T_REFUSED(&e, notice_auth(v4, &org, 5, t, NULL, R_), ST_EAUTH, "replayed");

    /* A retry of the same request (same request id), re-signed with a fresh nonce and
     * timestamp: the duplicate, not a new command; its new nonce is recorded too. */
    uint8_t rid[16] = "notice-retry-001";
    CHECK_APPLY(notice_auth(v4, &org, 6, t, rid, &r), r, ST_OK);
    st_apply_result dup;
    CHECK_APPLY(notice_auth(v4, &org, 7, t + 1000, rid, &dup), dup, ST_OK);
    CHECK(dup.duplicate && dup.id == r.id && seen(&org, 7));

    /* Pruning: once the newest authenticated command is more than five minutes past a
     * pair's timestamp, the pair goes; replaying it is refused by the window instead. */
    CHECK(seen(&org, 1) && seen(&org, 6));
    e.time_ms = t + 5 * MIN_MS + 1000;
    uint64_t v5 = draft();
    CHECK_APPLY(notice_auth(v5, &org, 8, e.time_ms, NULL, &r), r, ST_OK);
    CHECK(!seen(&org, 1)); /* stamped t - 2 min: pruned */
    CHECK(!seen(&org, 6)); /* stamped t: pruned */
    CHECK(seen(&org, 8));
    uint64_t v6 = draft();
    T_REFUSED(&e, notice_auth(v6, &org, 6, t, NULL, R_), ST_EAUTH, "old");
    /* A leader with a slow clock cannot reopen the window behind pruned pairs: the
     * timestamp is also checked against the newest authenticated command's time. */
    e.time_ms = t;
    T_REFUSED(&e, notice_auth(v6, &org, 6, t, NULL, R_), ST_EAUTH, "old");
    CHECK(check(&org, 6, t, t) == ST_EAUTH);
    e.time_ms = t + 5 * MIN_MS + 2000;
    CHECK_APPLY(notice_auth(v6, &org, 9, e.time_ms - 60000, NULL, &r), r, ST_OK);

    /* Commands without auth fields are unaffected (the gRPC layer decides who needs them). */
    uint64_t v7 = draft();
    CHECK_APPLY(t_notice(&e, v7, &r), r, ST_OK);

    t_digest(&e, ST_STATE_DIGEST_ALL, digest);
    t_close(&e);
}

int main(void) {
    /* Replay bookkeeping is replicated state: the same commands give the same digest. */
    uint8_t a[32], b[32];
    scenario(a);
    scenario(b);
    CHECK(t_digest_eq(a, b));
    printf("ok: request nonces: replay, window, refused commands, retries, pruning\n");
    return 0;
}
