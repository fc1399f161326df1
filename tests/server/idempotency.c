/* idempotency.c - a request id applies once: the same command again returns the stored
 * result and changes nothing; the same id on a different command is refused; a refused
 * command does not use its id up; an index at or below the applied index is skipped. */
#include <string.h>

#include "tests/server/harness.h"

static size_t pack(Strata__Internal__Command *cmd, uint8_t *buf, size_t cap) {
    size_t n = strata__internal__command__get_packed_size(cmd);
    CHECK(n <= cap);
    strata__internal__command__pack(cmd, buf);
    return n;
}

int main(void) {
    t_env e;
    t_open(&e, true, 0);
    st_apply_result r, r2;
    uint8_t rid[16] = "community-req-1";

    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CreateCommunity cc = STRATA__INTERNAL__CREATE_COMMUNITY__INIT;
    cc.name = "幸福家园";
    cc.street = "东城街道";
    cc.min_notice_case = STRATA__INTERNAL__CREATE_COMMUNITY__MIN_NOTICE_MIN_NOTICE_DAYS;
    cc.min_notice_days = 0;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CREATE_COMMUNITY;
    cmd.create_community = &cc;
    cmd.request_id.data = rid;
    cmd.request_id.len = 16;
    CHECK_APPLY(t_apply(&e, &cmd, &r), r, ST_OK);
    /* Index 1 is genesis; the harness appoints the community's organiser at index 3. */
    CHECK(r.id == 1 && !r.duplicate && r.index == 2 && e.index == 3);

    uint8_t data[32], all[32], now[32];
    t_digest(&e, ST_STATE_DIGEST_DATA, data);
    t_digest(&e, ST_STATE_DIGEST_ALL, all);

    /* The retry comes through another leader: a later time stamp, same request. */
    cmd.time_ms = T0_MS + 5000;
    CHECK_APPLY(t_apply(&e, &cmd, &r2), r2, ST_OK);
    CHECK(r2.duplicate && r2.id == 1 && r2.index == 2 && e.index == 4);
    CHECK(strstr(r2.message, "already applied at index 2") != NULL);
    t_digest(&e, ST_STATE_DIGEST_DATA, now);
    CHECK(t_digest_eq(now, data));
    st_community_info *ci;
    CHECK(st_state_get_community(e.s, 2, &ci) == ST_ENOENT);

    /* The same id on another command is refused, and changes nothing. */
    cc.name = "另一个小区";
    CHECK_APPLY(t_apply(&e, &cmd, &r2), r2, ST_EEXIST);
    CHECK(!r2.duplicate && strstr(r2.message, "different command") != NULL);
    t_digest(&e, ST_STATE_DIGEST_DATA, now);
    CHECK(t_digest_eq(now, data));

    /* A refused command does not use its request id: fixed, it applies. */
    uint8_t rid2[16] = "community-req-2";
    cmd.request_id.data = rid2;
    // cppcheck-suppress redundantAssignment ; cmd reads cc through a pointer
    cc.name = "";
    CHECK_APPLY(t_apply(&e, &cmd, &r2), r2, ST_EINVAL);
    // cppcheck-suppress redundantAssignment
    cc.name = "另一个小区";
    CHECK_APPLY(t_apply(&e, &cmd, &r2), r2, ST_OK);
    CHECK(r2.id == 2 && !r2.duplicate);

    /* A ballot retried: one ballot, the same sequence number. */
    CHECK_APPLY(t_import_roll(&e, 1, t_example_roll, 12, &r), r, ST_OK);
    uint64_t vote = t_open_new_vote(&e, 1, 4, 0, NULL, 0);
    Strata__Internal__Command bc = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CastBallot b = STRATA__INTERNAL__CAST_BALLOT__INIT;
    uint8_t brid[16] = "ballot-O1-0001";
    b.vote_id = vote;
    b.owner_id = "O1";
    b.ballot_case = STRATA__INTERNAL__CAST_BALLOT__BALLOT_CHOICE;
    b.choice = STRATA__INTERNAL__CHOICE__CHOICE_AGREE;
    b.source = STRATA__INTERNAL__SOURCE__SOURCE_ONLINE;
    bc.body_case = STRATA__INTERNAL__COMMAND__BODY_CAST_BALLOT;
    bc.cast_ballot = &b;
    bc.request_id.data = brid;
    bc.request_id.len = 16;
    CHECK_APPLY(t_apply(&e, &bc, &r), r, ST_OK);
    CHECK(r.id == 1);
    CHECK_APPLY(t_apply(&e, &bc, &r2), r2, ST_OK);
    CHECK(r2.duplicate && r2.id == 1);
    st_vote_info *v;
    CHECK(st_state_get_vote(e.s, vote, &v) == ST_OK);
    CHECK(v->ballot_count == 1 && v->tally.agree.owners == 1);
    st_vote_info_free(v);

    /* Indexes at or below the applied index are skipped, whatever they hold. */
    uint8_t buf[256];
    uint8_t rid3[16] = "community-req-3";
    cmd.request_id.data = rid3;
    // cppcheck-suppress redundantAssignment
    cc.name = "第三个小区";
    cmd.actor = e.sup.hex; /* packed by hand: no harness to pick the supervisor */
    size_t len = pack(&cmd, buf, sizeof(buf));
    t_digest(&e, ST_STATE_DIGEST_ALL, all);
    uint64_t applied;
    CHECK(st_state_applied_index(e.s, &applied) == ST_OK && applied == e.index);
    CHECK(st_state_apply(e.s, applied, buf, len, &r) == ST_OK);
    CHECK(r.skipped && r.code == ST_OK && r.id == 0);
    CHECK(st_state_apply(e.s, 1, buf, len, &r) == ST_OK);
    CHECK(r.skipped);
    CHECK(st_state_apply(e.s, 0, buf, len, &r) == ST_OK);
    CHECK(r.skipped);
    t_digest(&e, ST_STATE_DIGEST_ALL, now);
    CHECK(t_digest_eq(now, all));
    /* The next index applies it; a gap in indexes is fine (Raft may skip entries that are
     * not commands, such as barriers and configuration changes). */
    CHECK(st_state_apply(e.s, applied + 5, buf, len, &r) == ST_OK);
    CHECK(!r.skipped && r.code == ST_OK && r.id == 3);
    CHECK(st_state_applied_index(e.s, &applied) == ST_OK && applied == e.index + 5);

    t_close(&e);
    printf("ok: idempotency\n");
    return 0;
}
