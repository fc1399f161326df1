/* election.c - committee elections (matter 3) through apply: a 5-seat election with a
 * clear result, and one with a tie at the last seat that goes to a run-off; both
 * published and recounted. Ten owners of 100.00 m² each. */
#include <string.h>

#include "tests/server/harness.h"

static const char *const cands[] = {"赵一", "钱二", "孙三", "李四", "周五", "吴六", "郑七"};

static void roll10(t_env *e, uint64_t com) {
    t_unit units[10];
    static char names[10][8], owners[10][8];
    for (int i = 0; i < 10; i++) {
        snprintf(names[i], sizeof(names[i]), "U-%d", i);
        snprintf(owners[i], sizeof(owners[i]), "P%d", i);
        units[i] = (t_unit){names[i], "", 10000, owners[i], owners[i], false};
    }
    st_apply_result r;
    CHECK_APPLY(t_import_roll(e, com, units, 10, &r), r, ST_OK);
}

typedef struct {
    size_t n;
    uint32_t set[5];
} ballot;

static void cast_all(t_env *e, uint64_t vote, const ballot *b) {
    st_apply_result r;
    for (int i = 0; i < 10; i++) {
        char owner[8];
        snprintf(owner, sizeof(owner), "P%d", i);
        CHECK_APPLY(t_cast_approvals(e, vote, owner, b[i].set, b[i].n, &r), r, ST_OK);
    }
}

static const st_cand_result *find(const st_vote_info *v, uint32_t cand) {
    for (uint32_t i = 0; i < v->candidate_count; i++) {
        if (v->standing[i].candidate == cand) {
            return &v->standing[i];
        }
    }
    CHECK(false);
    return NULL;
}

static void finish(t_env *e, uint64_t vote) {
    st_apply_result r;
    CHECK_APPLY(t_close_vote(e, vote, &r), r, ST_OK);
    CHECK_APPLY(t_publish(e, vote, &r), r, ST_OK);
    printf("%s\n", r.message);
    st_recount_info rc;
    CHECK(st_state_recount(e->s, vote, &rc) == ST_OK);
    CHECK(rc.equal && rc.part.owners == 10 && rc.part.area == 100000);
}

int main(void) {
    t_env e;
    t_open(&e, true, 0);
    st_apply_result r;
    CHECK_APPLY(t_create_community(&e, "和谐小区", 0, &r), r, ST_OK);
    uint64_t com = r.id;
    roll10(&e, com);

    /* Clear: approvals c0 10, c1 9, c2 8, c3 7, c4 6, c5 3, c6 2. */
    uint64_t clear = t_open_new_vote(&e, com, 3, 5, cands, 7);
    ballot b1[10] = {
        {5, {0, 1, 2, 3, 4}}, {5, {0, 1, 2, 3, 4}}, {5, {0, 1, 2, 3, 4}}, {5, {0, 1, 2, 3, 4}},
        {5, {0, 1, 2, 3, 4}}, {5, {0, 1, 2, 3, 4}}, {5, {0, 1, 2, 3, 5}}, {4, {0, 1, 2, 5}},
        {4, {0, 1, 5, 6}},    {2, {0, 6}},
    };
    /* P9 first abstains (an empty list takes part), then replaces it. */
    CHECK_APPLY(t_cast_approvals(&e, clear, "P9", NULL, 0, &r), r, ST_OK);
    cast_all(&e, clear, b1);
    finish(&e, clear);
    st_vote_info *v;
    CHECK(st_state_get_vote(e.s, clear, &v) == ST_OK);
    CHECK(v->election && v->state == ST_VOTE_PUBLISHED && v->seats == 5);
    CHECK(v->candidate_count == 7 && strcmp(v->candidates[4], "周五") == 0);
    CHECK(v->quorum && v->elected == 5 && v->runoff == 0);
    CHECK(v->part.owners == 10 && v->ballot_count == 11);
    static const int64_t approvals[7] = {10, 9, 8, 7, 6, 3, 2};
    for (uint32_t c = 0; c < 7; c++) {
        const st_cand_result *cr = find(v, c);
        CHECK(cr->approve.owners == approvals[c] && cr->approve.area == approvals[c] * 10000);
        CHECK(cr->qualified == (c < 5));
        CHECK(cr->rank == (c < 5 ? c + 1 : 0));
        CHECK(cr->outcome == (c < 5 ? ST_CAND_ELECTED : ST_CAND_NOT_ELECTED));
    }
    CHECK(v->standing[0].candidate == 0 && v->standing[4].candidate == 4);
    st_vote_info_free(v);

    /* Tie at the last seat: c4 and c5 both have 6 owners / 600.00 m². */
    uint64_t tie = t_open_new_vote(&e, com, 3, 5, cands, 7);
    ballot b2[10] = {
        {5, {0, 1, 2, 3, 4}}, {5, {0, 1, 2, 3, 4}}, {5, {0, 1, 2, 3, 4}}, {5, {0, 1, 2, 3, 4}},
        {5, {0, 1, 2, 4, 5}}, {5, {0, 1, 2, 4, 5}}, {5, {0, 1, 2, 3, 5}}, {5, {0, 1, 2, 3, 5}},
        {4, {0, 1, 3, 5}},    {2, {0, 5}},
    };
    cast_all(&e, tie, b2);
    /* While open, the standing already shows the run-off. */
    CHECK(st_state_get_vote(e.s, tie, &v) == ST_OK);
    CHECK(v->state == ST_VOTE_OPEN && v->elected == 4 && v->runoff == 2);
    st_vote_info_free(v);
    finish(&e, tie);
    CHECK(st_state_get_vote(e.s, tie, &v) == ST_OK);
    CHECK(v->quorum && v->elected == 4 && v->runoff == 2);
    for (uint32_t c = 0; c < 4; c++) {
        CHECK(find(v, c)->outcome == ST_CAND_ELECTED && find(v, c)->rank == c + 1);
    }
    CHECK(find(v, 4)->outcome == ST_CAND_RUNOFF && find(v, 5)->outcome == ST_CAND_RUNOFF);
    CHECK(find(v, 4)->rank == 5 && find(v, 5)->rank == 5);
    CHECK(find(v, 4)->approve.owners == 6 && find(v, 5)->approve.area == 60000);
    CHECK(find(v, 6)->outcome == ST_CAND_NOT_ELECTED && !find(v, 6)->qualified);
    st_vote_info_free(v);

    /* Without quorum nobody is elected: 6 of 10 owners take part. */
    uint64_t few = t_open_new_vote(&e, com, 3, 5, cands, 7);
    for (int i = 0; i < 6; i++) {
        char owner[8];
        snprintf(owner, sizeof(owner), "P%d", i);
        CHECK_APPLY(t_cast_approvals(&e, few, owner, b1[0].set, 5, &r), r, ST_OK);
    }
    CHECK(st_state_get_vote(e.s, few, &v) == ST_OK);
    CHECK(!v->quorum && v->elected == 0 && v->runoff == 0);
    st_vote_info_free(v);
    st_recount_info rc;
    CHECK(st_state_recount(e.s, few, &rc) == ST_OK && rc.equal);

    t_close(&e);
    printf("ok: elections: clear result, run-off tie at the last seat, no quorum\n");
    return 0;
}
