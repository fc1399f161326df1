/* frozen.c - a vote counts against the roll frozen when it opened: re-importing the roll
 * (a developer unit sold to a new owner) leaves an open vote's totals and voters alone,
 * and a vote opened afterwards uses the new roll. */
#include <string.h>

#include "tests/server/harness.h"

static int count(void *ctx, const st_unit *u) {
    (void)u;
    (*(size_t *)ctx)++;
    return 0;
}

int main(void) {
    t_env e;
    t_open(&e, true, 0);
    st_apply_result r;
    CHECK_APPLY(t_create_community(&e, "幸福家园", 0, &r), r, ST_OK);
    uint64_t com = r.id;
    CHECK_APPLY(t_import_roll(&e, com, t_example_roll, 12, &r), r, ST_OK);
    uint64_t before = t_open_new_vote(&e, com, 4, 0, NULL, 0);
    CHECK_APPLY(t_cast(&e, before, "O1", ST_CHOICE_AGREE, &r), r, ST_OK);

    /* B-202 is sold by the developer to O10; the developer keeps B-301. A new unit D-1
     * is registered too. Total owners 11, area + 50.00 m². */
    t_unit sold[13];
    memcpy(sold, t_example_roll, sizeof(t_example_roll));
    sold[7] = (t_unit){"B-202", "B", 14380, "O10", "孙丽", false};
    sold[12] = (t_unit){"D-1", "D", 5000, "O11", "钱进", false};
    e.time_ms += 1000;
    CHECK_APPLY(t_import_roll(&e, com, sold, 13, &r), r, ST_OK);
    CHECK(r.id == 2);

    st_community_info *ci;
    CHECK(st_state_get_community(e.s, com, &ci) == ST_OK);
    CHECK(ci->roll_version == 2 && ci->unit_count == 13);
    CHECK(ci->total.area == 134450 + 5000 && ci->total.owners == 12);
    st_community_info_free(ci);
    size_t n = 0;
    CHECK(st_state_list_units(e.s, com, count, &n) == ST_OK && n == 13);

    /* The open vote is untouched: old totals, old voters. */
    st_vote_info *v;
    CHECK(st_state_get_vote(e.s, before, &v) == ST_OK);
    CHECK(v->roll_version == 1);
    CHECK(v->total.area == 134450 && v->total.owners == 10);
    st_vote_info_free(v);
    CHECK_APPLY(t_cast(&e, before, "O10", ST_CHOICE_AGREE, &r), r, ST_ENOENT);
    CHECK(strstr(r.message, "roll version 1") != NULL);
    /* The developer still votes with both unsold units of the frozen roll. */
    CHECK_APPLY(t_cast(&e, before, "DEV", ST_CHOICE_DISAGREE, &r), r, ST_OK);
    CHECK(st_state_get_vote(e.s, before, &v) == ST_OK);
    CHECK(v->tally.disagree.area == 28760);
    st_vote_info_free(v);
    st_recount_info rc;
    CHECK(st_state_recount(e.s, before, &rc) == ST_OK && rc.equal && rc.voters == 10);

    /* A vote opened now freezes the new roll. */
    uint64_t after = t_open_new_vote(&e, com, 4, 0, NULL, 0);
    CHECK(st_state_get_vote(e.s, after, &v) == ST_OK);
    CHECK(v->roll_version == 2);
    CHECK(v->total.area == 139450 && v->total.owners == 12);
    st_vote_info_free(v);
    CHECK_APPLY(t_cast(&e, after, "O10", ST_CHOICE_AGREE, &r), r, ST_OK);
    CHECK_APPLY(t_cast(&e, after, "DEV", ST_CHOICE_AGREE, &r), r, ST_OK);
    CHECK(st_state_get_vote(e.s, after, &v) == ST_OK);
    CHECK(v->tally.agree.area == 14380 * 2 && v->tally.agree.owners == 2);
    st_vote_info_free(v);
    CHECK(st_state_recount(e.s, after, &rc) == ST_OK && rc.equal && rc.voters == 12);

    /* A third import shrinking the roll still leaves both votes as they were. */
    CHECK_APPLY(t_import_roll(&e, com, t_example_roll, 3, &r), r, ST_OK);
    CHECK(st_state_get_vote(e.s, after, &v) == ST_OK);
    CHECK(v->total.owners == 12);
    st_vote_info_free(v);
    n = 0;
    CHECK(st_state_list_units(e.s, com, count, &n) == ST_OK && n == 3);

    t_close(&e);
    printf("ok: an open vote keeps its frozen roll; later votes use the new one\n");
    return 0;
}
