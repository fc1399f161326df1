/* snapshot.c - the state as Raft sees it: several commands per log entry applied by
 * position (with a crash in the middle of an entry), and snapshots taken from one state
 * and restored into another, including damaged snapshots that must change nothing. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "server/state.h"
#include "tests/server/harness.h"

/* An encoded CreateCommunity command with request id `req`, sent by the harness's
 * supervisor (caller frees). */
static uint8_t *community_cmd(const char *name, uint8_t req, size_t *len) {
    t_key sup;
    t_key_from_label(&sup, "supervisor");
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CreateCommunity cc = STRATA__INTERNAL__CREATE_COMMUNITY__INIT;
    uint8_t rid[16] = {0};
    rid[15] = req;
    rid[0] = 0xba;
    cc.name = (char *)name;
    cc.street = "测试街道";
    cmd.time_ms = T0_MS;
    cmd.actor = sup.hex;
    cmd.request_id.data = rid;
    cmd.request_id.len = sizeof(rid);
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CREATE_COMMUNITY;
    cmd.create_community = &cc;
    *len = strata__internal__command__get_packed_size(&cmd);
    uint8_t *buf = malloc(*len);
    CHECK(buf != NULL);
    strata__internal__command__pack(&cmd, buf);
    return buf;
}

static uint64_t applied(t_env *e) {
    uint64_t a = 0;
    CHECK(st_state_applied_index(e->s, &a) == ST_OK);
    return a;
}

static void test_positions(void) {
    t_env e;
    t_open(&e, true, 0);
    size_t len[3];
    uint8_t *cmd[3];
    const char *names[3] = {"一号小区", "二号小区", "三号小区"};
    for (int i = 0; i < 3; i++) {
        cmd[i] = community_cmd(names[i], (uint8_t)(i + 1), &len[i]);
    }
    st_apply_result r;
    /* Entry 7 carries three commands. Two are applied, then the process "crashes". */
    CHECK(st_state_apply_at(e.s, 7, 0, false, cmd[0], len[0], &r) == ST_OK);
    CHECK(r.code == ST_OK && !r.skipped && r.id == 1);
    CHECK(st_state_apply_at(e.s, 7, 1, false, cmd[1], len[1], &r) == ST_OK);
    CHECK(r.code == ST_OK && r.id == 2);
    /* Entry 7 is not complete: Raft must hand it over again. */
    CHECK(applied(&e) == 6);
    t_reopen(&e);
    CHECK(applied(&e) == 6);
    /* The replay skips what is done and applies the rest, exactly once. */
    CHECK(st_state_apply_at(e.s, 7, 0, false, cmd[0], len[0], &r) == ST_OK);
    CHECK(r.skipped);
    CHECK(st_state_apply_at(e.s, 7, 1, false, cmd[1], len[1], &r) == ST_OK);
    CHECK(r.skipped);
    CHECK(st_state_apply_at(e.s, 7, 2, true, cmd[2], len[2], &r) == ST_OK);
    CHECK(r.code == ST_OK && !r.skipped && r.id == 3);
    CHECK(applied(&e) == 7);
    /* Once complete, every position of entry 7 and anything older is skipped. */
    CHECK(st_state_apply_at(e.s, 7, 2, true, cmd[2], len[2], &r) == ST_OK && r.skipped);
    CHECK(st_state_apply_at(e.s, 6, 0, true, cmd[0], len[0], &r) == ST_OK && r.skipped);
    st_community_info *c = NULL;
    CHECK(st_state_get_community(e.s, 3, &c) == ST_OK);
    CHECK(strcmp(c->name, "三号小区") == 0);
    st_community_info_free(c);
    CHECK(st_state_get_community(e.s, 4, &c) == ST_ENOENT);
    /* A refused command inside an entry still advances the position. */
    uint8_t *again = community_cmd("一号小区", 9, &len[0]); /* same street and name */
    CHECK(st_state_apply_at(e.s, 8, 0, false, again, len[0], &r) == ST_OK);
    CHECK(r.code == ST_EEXIST);
    CHECK(applied(&e) == 7);
    CHECK(st_state_apply_at(e.s, 8, 0, false, again, len[0], &r) == ST_OK && r.skipped);
    free(again);
    for (int i = 0; i < 3; i++) {
        free(cmd[i]);
    }
    t_close(&e);
}

/* A whole entry in one transaction: the same outcomes, the same state (digest) as its
 * commands applied one position at a time, a refusal in the middle discarding only its own
 * writes, and the entry skipped whole when handed over again. */
static void test_entry(void) {
    t_env one, whole;
    t_open(&one, true, 0);
    t_open(&whole, true, 0);
    const char *names[4] = {"一号小区", "二号小区", "一号小区", "四号小区"};
    uint8_t *cmd[4];
    size_t len[4];
    for (int i = 0; i < 4; i++) {
        cmd[i] = community_cmd(names[i], (uint8_t)(20 + i), &len[i]);
    }
    st_apply_result r[4], w[4];
    for (int i = 0; i < 4; i++) {
        CHECK(st_state_apply_at(one.s, 5, (uint32_t)i, i == 3, cmd[i], len[i], &r[i]) == ST_OK);
    }
    CHECK(st_state_apply_entry(whole.s, 5, (const uint8_t *const *)cmd, len, 4, w) == ST_OK);
    for (int i = 0; i < 4; i++) {
        CHECK(w[i].code == r[i].code);
        CHECK(w[i].id == r[i].id);
        CHECK(!w[i].skipped);
    }
    CHECK(w[2].code == ST_EEXIST); /* the same name again: refused, nothing of it kept */
    CHECK(w[3].id == 3);
    CHECK(applied(&whole) == 5);
    uint8_t d1[32], d2[32];
    t_digest(&one, ST_STATE_DIGEST_DATA, d1);
    t_digest(&whole, ST_STATE_DIGEST_DATA, d2);
    CHECK(t_digest_eq(d1, d2));
    /* Handed over again (a restart before Raft learnt it was applied): nothing happens. */
    CHECK(st_state_apply_entry(whole.s, 5, (const uint8_t *const *)cmd, len, 4, w) == ST_OK);
    for (int i = 0; i < 4; i++) {
        CHECK(w[i].skipped);
    }
    t_digest(&whole, ST_STATE_DIGEST_DATA, d2);
    CHECK(t_digest_eq(d1, d2));
    CHECK(st_state_apply_entry(whole.s, 6, (const uint8_t *const *)cmd, len, 0, w) == ST_EINVAL);
    for (int i = 0; i < 4; i++) {
        free(cmd[i]);
    }
    t_close(&one);
    t_close(&whole);
}

static void test_snapshot_restore(void) {
    t_env a, b;
    t_open(&a, true, 0);
    st_apply_result r;
    CHECK_APPLY(t_create_community(&a, "和平小区", 0, &r), r, ST_OK);
    uint64_t com = r.id;
    CHECK_APPLY(t_import_roll(&a, com, t_example_roll, 12, &r), r, ST_OK);
    uint64_t vote = t_open_new_vote(&a, com, 4, 0, NULL, 0);
    CHECK_APPLY(t_cast(&a, vote, "O1", 1, &r), r, ST_OK);
    CHECK_APPLY(t_cast(&a, vote, "O3", 2, &r), r, ST_OK);

    uint8_t *snap = NULL;
    size_t len = 0;
    char err[256];
    CHECK(st_state_snapshot(a.s, &snap, &len, err, sizeof(err)) == ST_OK);
    CHECK(len > 4096);

    /* A fresh state with something else in it becomes exactly the snapshot. */
    t_open(&b, true, 0);
    CHECK_APPLY(t_create_community(&b, "别的小区", 0, &r), r, ST_OK);
    uint8_t before[32], da[32], db[32];
    t_digest(&b, ST_STATE_DIGEST_ALL, before);

    /* Damaged snapshots are refused and change nothing. */
    CHECK(st_state_restore(b.s, snap, 0, err, sizeof(err)) == ST_ECORRUPT);
    uint8_t *bad = malloc(len);
    CHECK(bad != NULL);
    memcpy(bad, snap, len);
    memset(bad, 0, 8192); /* both meta pages */
    CHECK(st_state_restore(b.s, bad, len, err, sizeof(err)) == ST_ECORRUPT);
    CHECK(strstr(err, "not a readable state") != NULL);
    for (size_t i = 0; i < len; i++) {
        bad[i] = (uint8_t)(i * 131 + 7);
    }
    CHECK(st_state_restore(b.s, bad, len, err, sizeof(err)) == ST_ECORRUPT);
    free(bad);
    t_digest(&b, ST_STATE_DIGEST_ALL, db);
    CHECK(t_digest_eq(before, db));

    CHECK(st_state_restore(b.s, snap, len, err, sizeof(err)) == ST_OK);
    t_digest(&a, ST_STATE_DIGEST_ALL, da);
    t_digest(&b, ST_STATE_DIGEST_ALL, db);
    CHECK(t_digest_eq(da, db));
    CHECK(applied(&a) == applied(&b));
    st_vote_info *v = NULL;
    CHECK(st_state_get_vote(b.s, vote, &v) == ST_OK);
    CHECK(v->tally.agree.owners == 1 && v->tally.disagree.owners == 1);
    CHECK(v->tally.agree.area == 8950 + 12000);
    st_vote_info_free(v);

    /* Both go on from the same point and stay equal; the restored one survives a reopen. */
    b.index = a.index;
    b.req = a.req;
    b.time_ms = a.time_ms;
    CHECK_APPLY(t_cast(&a, vote, "O2", 1, &r), r, ST_OK);
    CHECK_APPLY(t_cast(&b, vote, "O2", 1, &r), r, ST_OK);
    t_reopen(&b);
    t_digest(&a, ST_STATE_DIGEST_ALL, da);
    t_digest(&b, ST_STATE_DIGEST_ALL, db);
    CHECK(t_digest_eq(da, db));
    free(snap);
    t_close(&a);
    t_close(&b);
}

int main(void) {
    test_positions();
    test_entry();
    test_snapshot_restore();
    printf("snapshot: all checks passed\n");
    return 0;
}
