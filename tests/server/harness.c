/* harness.c - shared test scaffolding for tests/server (see harness.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "tests/server/harness.h"

void (*t_on_fail)(void);

void t_fail_hook(void) {
    if (t_on_fail != NULL) {
        t_on_fail();
    }
}

const t_unit t_example_roll[12] = {
    {"A-101", "A", 8950, "O1", "王建国", false},
    {"A-102", "A", 12000, "O2", "李秀英", false},
    {"A-201", "A", 8950, "O3", "张伟", false},
    {"A-202", "A", 12000, "O1", "王建国", false},
    {"B-101", "B", 6525, "O4", "刘洋", false},
    {"B-102", "B", 6525, "O5", "陈静", false},
    {"B-201", "B", 14380, "O6", "杨帆", false},
    {"B-202", "B", 14380, "DEV", "华北置业有限公司", true},
    {"B-301", "B", 14380, "DEV", "华北置业有限公司", true},
    {"S-01", "S", 21000, "O7", "赵磊", false},
    {"S-02", "S", 5500, "O8", "黄敏", false},
    {"C-101", "C", 9860, "O9", "周强;吴芳", false},
};

static void open_state(t_env *e) {
    st_state_options opt = {
        .dir = e->dir, .map_size = e->map_size, .nosync = e->nosync, .hook = e->hook};
    char err[256];
    int rc = st_state_open(&e->s, &opt, err, sizeof(err));
    if (rc != ST_OK) {
        fprintf(stderr, "st_state_open(%s): %s\n", e->dir, err);
    }
    CHECK(rc == ST_OK);
}

void t_open(t_env *e, bool nosync, size_t map_size) {
    memset(e, 0, sizeof(*e));
    snprintf(e->dir, sizeof(e->dir), "/tmp/strata-server-XXXXXX");
    CHECK(mkdtemp(e->dir) != NULL);
    e->time_ms = T0_MS;
    e->actor = "organiser";
    e->nosync = nosync;
    e->map_size = map_size;
    open_state(e);
    CHECK(st_state_applied_index(e->s, &e->index) == ST_OK);
}

void t_reopen(t_env *e) {
    st_state_close(e->s);
    e->s = NULL;
    open_state(e);
    CHECK(st_state_applied_index(e->s, &e->index) == ST_OK);
}

void t_rmdir(const char *dir) {
    char path[128];
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
}

void t_close(t_env *e) {
    st_state_close(e->s);
    e->s = NULL;
    t_rmdir(e->dir);
}

int t_apply_bytes(t_env *e, const uint8_t *buf, size_t len, st_apply_result *res) {
    st_apply_result local;
    if (res == NULL) {
        res = &local;
    }
    if (e->limit != 0 && e->index >= e->limit) {
        memset(res, 0, sizeof(*res));
        return ST_OK;
    }
    int rc = st_state_apply(e->s, ++e->index, buf, len, res);
    if (rc != ST_OK) {
        fprintf(stderr, "st_state_apply failed: %s: %s\n", st_strerror(rc), res->message);
    }
    CHECK(rc == ST_OK);
    CHECK(!res->skipped);
    return res->code;
}

int t_apply(t_env *e, Strata__Internal__Command *cmd, st_apply_result *res) {
    uint8_t rid[16] = {'r', 'e', 'q'};
    if (cmd->request_id.len == 0) {
        uint64_t n = ++e->req;
        for (int i = 0; i < 8; i++) {
            rid[15 - i] = (uint8_t)(n >> (8 * i));
        }
        cmd->request_id.data = rid;
        cmd->request_id.len = sizeof(rid);
    }
    if (cmd->time_ms == 0) {
        cmd->time_ms = e->time_ms;
    }
    if (cmd->actor == NULL || cmd->actor[0] == '\0') {
        cmd->actor = (char *)e->actor;
    }
    size_t len = strata__internal__command__get_packed_size(cmd);
    uint8_t *buf = malloc(len ? len : 1);
    CHECK(buf != NULL);
    strata__internal__command__pack(cmd, buf);
    int code = t_apply_bytes(e, buf, len, res);
    free(buf);
    if (cmd->request_id.data == rid) {
        cmd->request_id.data = NULL;
        cmd->request_id.len = 0;
    }
    return code;
}

int t_create_community(t_env *e, const char *name, int min_notice, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CreateCommunity b = STRATA__INTERNAL__CREATE_COMMUNITY__INIT;
    b.name = (char *)name;
    b.street = "东城街道";
    if (min_notice >= 0) {
        b.min_notice_case = STRATA__INTERNAL__CREATE_COMMUNITY__MIN_NOTICE_MIN_NOTICE_DAYS;
        b.min_notice_days = (uint32_t)min_notice;
    }
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CREATE_COMMUNITY;
    cmd.create_community = &b;
    return t_apply(e, &cmd, res);
}

int t_import_roll(t_env *e, uint64_t community, const t_unit *units, size_t n,
                  st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__ImportRoll b = STRATA__INTERNAL__IMPORT_ROLL__INIT;
    Strata__Internal__Unit *us = calloc(n + 1, sizeof(*us));
    Strata__Internal__Unit **ptrs = calloc(n + 1, sizeof(*ptrs));
    CHECK(us != NULL && ptrs != NULL);
    for (size_t i = 0; i < n; i++) {
        Strata__Internal__Unit u = STRATA__INTERNAL__UNIT__INIT;
        u.unit = (char *)units[i].unit;
        u.building = (char *)units[i].building;
        u.area_centi_m2 = units[i].area;
        u.owner_id = (char *)units[i].owner;
        u.owner_name = (char *)units[i].name;
        u.status = units[i].developer ? STRATA__INTERNAL__UNIT_STATUS__UNIT_DEVELOPER_UNSOLD
                                      : STRATA__INTERNAL__UNIT_STATUS__UNIT_OWNED;
        us[i] = u;
        ptrs[i] = &us[i];
    }
    b.community_id = community;
    b.n_units = n;
    b.units = ptrs;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_IMPORT_ROLL;
    cmd.import_roll = &b;
    int code = t_apply(e, &cmd, res);
    free(us);
    free(ptrs);
    return code;
}

int t_create_vote(t_env *e, uint64_t community, uint32_t matter, const char *title, int notice,
                  uint32_t seats, const char *const *cands, size_t ncands, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CreateVote b = STRATA__INTERNAL__CREATE_VOTE__INIT;
    b.community_id = community;
    b.matter = matter;
    b.title = (char *)title;
    if (notice >= 0) {
        b.notice_case = STRATA__INTERNAL__CREATE_VOTE__NOTICE_NOTICE_DAYS;
        b.notice_days = (uint32_t)notice;
    }
    b.seats = seats;
    b.n_candidates = ncands;
    b.candidates = (char **)cands;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CREATE_VOTE;
    cmd.create_vote = &b;
    return t_apply(e, &cmd, res);
}

int t_notice(t_env *e, uint64_t vote, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__NoticeVote b = STRATA__INTERNAL__NOTICE_VOTE__INIT;
    b.vote_id = vote;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_NOTICE_VOTE;
    cmd.notice_vote = &b;
    return t_apply(e, &cmd, res);
}

int t_open_vote(t_env *e, uint64_t vote, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__OpenVote b = STRATA__INTERNAL__OPEN_VOTE__INIT;
    b.vote_id = vote;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_OPEN_VOTE;
    cmd.open_vote = &b;
    return t_apply(e, &cmd, res);
}

int t_close_vote(t_env *e, uint64_t vote, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CloseVote b = STRATA__INTERNAL__CLOSE_VOTE__INIT;
    b.vote_id = vote;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CLOSE_VOTE;
    cmd.close_vote = &b;
    return t_apply(e, &cmd, res);
}

int t_publish(t_env *e, uint64_t vote, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__PublishVote b = STRATA__INTERNAL__PUBLISH_VOTE__INIT;
    b.vote_id = vote;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_PUBLISH_VOTE;
    cmd.publish_vote = &b;
    return t_apply(e, &cmd, res);
}

int t_cast_raw(t_env *e, Strata__Internal__CastBallot *b, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CAST_BALLOT;
    cmd.cast_ballot = b;
    return t_apply(e, &cmd, res);
}

int t_cast(t_env *e, uint64_t vote, const char *owner, int choice, st_apply_result *res) {
    Strata__Internal__CastBallot b = STRATA__INTERNAL__CAST_BALLOT__INIT;
    b.vote_id = vote;
    b.owner_id = (char *)owner;
    b.ballot_case = STRATA__INTERNAL__CAST_BALLOT__BALLOT_CHOICE;
    b.choice = (Strata__Internal__Choice)choice;
    b.source = STRATA__INTERNAL__SOURCE__SOURCE_ONLINE;
    return t_cast_raw(e, &b, res);
}

int t_cast_approvals(t_env *e, uint64_t vote, const char *owner, const uint32_t *set, size_t n,
                     st_apply_result *res) {
    Strata__Internal__CastBallot b = STRATA__INTERNAL__CAST_BALLOT__INIT;
    Strata__Internal__Approvals a = STRATA__INTERNAL__APPROVALS__INIT;
    a.candidates = (uint32_t *)set;
    a.n_candidates = n;
    b.vote_id = vote;
    b.owner_id = (char *)owner;
    b.ballot_case = STRATA__INTERNAL__CAST_BALLOT__BALLOT_APPROVALS;
    b.approvals = &a;
    b.source = STRATA__INTERNAL__SOURCE__SOURCE_ONLINE;
    return t_cast_raw(e, &b, res);
}

uint64_t t_open_new_vote(t_env *e, uint64_t community, uint32_t matter, uint32_t seats,
                         const char *const *cands, size_t ncands) {
    st_apply_result r;
    CHECK_APPLY(t_create_vote(e, community, matter, "议题", 0, seats, cands, ncands, &r), r, ST_OK);
    uint64_t id = r.id;
    CHECK_APPLY(t_notice(e, id, &r), r, ST_OK);
    CHECK_APPLY(t_open_vote(e, id, &r), r, ST_OK);
    return id;
}

void t_digest(t_env *e, unsigned what, uint8_t out[32]) {
    CHECK(st_state_digest(e->s, what, out) == ST_OK);
}

bool t_digest_eq(const uint8_t a[32], const uint8_t b[32]) {
    return memcmp(a, b, 32) == 0;
}

double t_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}
