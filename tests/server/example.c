/* example.c - DOMAIN.md's worked example end to end through st_state_apply: the 12-unit
 * roll, a matter-4 vote (ordinary: passes) and a matter-6 vote (special: fails) with the
 * example's ballots, published with exactly part 1289.50 m² / 9 owners and agree
 * 847.15 m² / 6 owners. */
#include <string.h>

#include "core/ratio.h"
#include "tests/server/harness.h"

static int count_units(void *ctx, const st_unit *u) {
    size_t *n = ctx;
    if (*n == 0) {
        CHECK(strcmp(u->unit, "A-101") == 0 && u->area == 8950 && strcmp(u->owner_id, "O1") == 0);
    }
    if (*n == 11) {
        CHECK(strcmp(u->unit, "C-101") == 0 && strcmp(u->owner_name, "周强;吴芳") == 0);
    }
    (*n)++;
    return 0;
}

typedef struct {
    size_t n;
    char kinds[64][24];
    const t_env *env;
} event_list;

/* Every event names the key that acted, in the role the matrix gives its command. */
static int collect_events(void *ctx, const st_event_info *e) {
    event_list *l = ctx;
    CHECK(e->seq == l->n + 1);
    CHECK(strlen(e->actor) == 32);
    t_key org;
    t_organiser_key(1, &org);
    if (strcmp(e->kind, "key.genesis") == 0) {
        CHECK(strcmp(e->actor, l->env->op.hex) == 0);
    } else if (strcmp(e->kind, "community.create") == 0 || strcmp(e->kind, "key.appoint") == 0) {
        CHECK(strcmp(e->actor, l->env->sup.hex) == 0);
    } else if (strncmp(e->kind, "vote.", 5) == 0 || strcmp(e->kind, "roll.import") == 0 ||
               strcmp(e->kind, "enroll.issue") == 0) {
        CHECK(strcmp(e->actor, org.hex) == 0);
    } else {
        /* ballots and redemptions: an owner's key (or the organiser's, for paper) */
        CHECK(strcmp(e->kind, "ballot.cast") == 0 || strcmp(e->kind, "enroll.redeem") == 0);
        CHECK(strcmp(e->actor, l->env->sup.hex) != 0 && strcmp(e->actor, l->env->op.hex) != 0);
    }
    CHECK(e->summary[0] != '\0');
    if (l->n < 64) {
        snprintf(l->kinds[l->n], sizeof(l->kinds[0]), "%s", e->kind);
    }
    l->n++;
    return 0;
}

typedef struct {
    size_t n;
    bool saw_paper;
} ballot_list;

static int collect_ballots(void *ctx, const st_ballot_info *b) {
    ballot_list *l = ctx;
    CHECK(b->seq == l->n + 1);
    CHECK(b->current); /* nobody replaced a ballot */
    CHECK(b->leaf_index == b->seq - 1 && b->record != NULL && b->record_len > 100);
    CHECK(b->key_id != NULL && b->proxy_owner_id[0] == '\0');
    if (b->source == ST_SOURCE_PAPER) {
        CHECK(strcmp(b->owner_id, "O9") == 0);
        CHECK(b->paper_scan_sha256 != NULL && b->paper_scan_sha256[0] == 0xab);
        CHECK(strcmp(b->entered_by, "organiser-2") == 0);
        l->saw_paper = true;
    } else {
        CHECK(b->paper_scan_sha256 == NULL);
    }
    l->n++;
    return 0;
}

static int count_votes(void *ctx, const st_vote_brief *v) {
    size_t *n = ctx;
    CHECK(v->state == ST_VOTE_PUBLISHED);
    (*n)++;
    return 0;
}

/* O1 O2 O4 O6 O7 O9 agree; O3 and the developer disagree; O5 abstains; O8 does not vote.
 * O9's ballot is on paper. */
static void cast_example(t_env *e, uint64_t vote) {
    static const struct {
        const char *owner;
        int choice;
    } ballots[] = {{"O1", 1}, {"O2", 1}, {"O3", 2}, {"O4", 1},
                   {"O5", 3}, {"O6", 1}, {"O7", 1}, {"DEV", 2}};
    st_apply_result r;
    for (size_t i = 0; i < sizeof(ballots) / sizeof(ballots[0]); i++) {
        CHECK_APPLY(t_cast(e, vote, ballots[i].owner, ballots[i].choice, &r), r, ST_OK);
        CHECK(r.id == i + 1);
    }
    uint8_t scan[32];
    memset(scan, 0xab, sizeof(scan));
    Strata__Internal__CastBallot b = STRATA__INTERNAL__CAST_BALLOT__INIT;
    b.vote_id = vote;
    b.owner_id = "O9";
    b.ballot_case = STRATA__INTERNAL__CAST_BALLOT__BALLOT_CHOICE;
    b.choice = STRATA__INTERNAL__CHOICE__CHOICE_AGREE;
    b.source = STRATA__INTERNAL__SOURCE__SOURCE_PAPER;
    b.paper_scan_sha256.data = scan;
    b.paper_scan_sha256.len = sizeof(scan);
    b.entered_by = "organiser-2";
    CHECK_APPLY(t_cast_raw(e, &b, &r), r, ST_OK);
    CHECK(r.id == 9);
}

static void check_published(t_env *e, uint64_t vote, int matter, bool passed) {
    st_vote_info *v;
    CHECK(st_state_get_vote(e->s, vote, &v) == ST_OK);
    CHECK(v->matter == matter && !v->election);
    CHECK(v->state == ST_VOTE_PUBLISHED);
    CHECK(v->roll_version == 1);
    CHECK(v->total.area == 134450 && v->total.owners == 10);
    CHECK(v->ballot_count == 9);
    CHECK(v->decision.part.area == 128950 && v->decision.part.owners == 9);
    CHECK(v->tally.agree.area == 84715 && v->tally.agree.owners == 6);
    CHECK(v->tally.disagree.area == 8950 + 14380 * 2 && v->tally.disagree.owners == 2);
    CHECK(v->tally.abstain.area == 6525 && v->tally.abstain.owners == 1);
    CHECK(v->decision.quorum);
    CHECK(v->decision.passed == passed);
    CHECK(v->opened_ms == T0_MS + 2000 && v->closed_ms == T0_MS + 5000);
    CHECK(v->published_ms == T0_MS + 6000);
    /* The ratios the report prints: 95.9% of area takes part, 65.7% / 66.7% agree. */
    CHECK(st_permille(v->decision.part.area, v->total.area) == 959);
    CHECK(st_permille(v->tally.agree.area, v->decision.part.area) == 657);
    CHECK(st_permille(v->tally.agree.owners, v->decision.part.owners) == 667);
    st_vote_info_free(v);

    st_recount_info rc;
    CHECK(st_state_recount(e->s, vote, &rc) == ST_OK);
    CHECK(rc.equal);
    CHECK(rc.ballots == 9 && rc.voters == 10);
    CHECK(rc.tally.agree.area == 84715 && rc.tally.agree.owners == 6);

    ballot_list bl = {0};
    CHECK(st_state_list_ballots(e->s, vote, collect_ballots, &bl) == ST_OK);
    CHECK(bl.n == 9 && bl.saw_paper);
}

int main(void) {
    t_env e;
    t_open(&e, true, 0);
    st_apply_result r;

    CHECK_APPLY(t_create_community(&e, "幸福家园", 0, &r), r, ST_OK);
    CHECK(r.id == 1);
    uint64_t com = r.id;
    CHECK_APPLY(t_import_roll(&e, com, t_example_roll, 12, &r), r, ST_OK);
    CHECK(r.id == 1); /* roll version */

    st_community_info *ci;
    CHECK(st_state_get_community(e.s, com, &ci) == ST_OK);
    CHECK(strcmp(ci->name, "幸福家园") == 0 && ci->min_notice_days == 0);
    CHECK(ci->roll_version == 1 && ci->unit_count == 12);
    CHECK(ci->total.area == 134450 && ci->total.owners == 10);
    st_community_info_free(ci);
    size_t nunits = 0;
    CHECK(st_state_list_units(e.s, com, count_units, &nunits) == ST_OK);
    CHECK(nunits == 12);

    e.time_ms = T0_MS + 1000;
    CHECK_APPLY(t_create_vote(&e, com, 4, "选聘物业服务企业", -1, 0, NULL, 0, &r), r, ST_OK);
    uint64_t hire = r.id;
    CHECK_APPLY(t_create_vote(&e, com, 6, "筹集维修资金", -1, 0, NULL, 0, &r), r, ST_OK);
    uint64_t fund = r.id;
    CHECK(hire == 1 && fund == 2);
    CHECK_APPLY(t_notice(&e, hire, &r), r, ST_OK);
    CHECK_APPLY(t_notice(&e, fund, &r), r, ST_OK);
    e.time_ms = T0_MS + 2000; /* min notice 0: may open at once */
    CHECK_APPLY(t_open_vote(&e, hire, &r), r, ST_OK);
    CHECK_APPLY(t_open_vote(&e, fund, &r), r, ST_OK);

    st_vote_info *v;
    CHECK(st_state_get_vote(e.s, hire, &v) == ST_OK);
    CHECK(v->state == ST_VOTE_OPEN && v->cls == ST_CLASS_ORDINARY);
    CHECK(v->total.area == 134450 && v->total.owners == 10);
    CHECK(v->notice_days == 0 && v->noticed_ms == T0_MS + 1000);
    CHECK(v->decision.part.owners == 0 && !v->decision.passed);
    st_vote_info_free(v);
    CHECK(st_state_get_vote(e.s, fund, &v) == ST_OK);
    CHECK(v->cls == ST_CLASS_SPECIAL);
    st_vote_info_free(v);

    e.time_ms = T0_MS + 3000;
    cast_example(&e, hire);
    cast_example(&e, fund);

    /* The running tally before close already decides the same way. */
    CHECK(st_state_get_vote(e.s, hire, &v) == ST_OK);
    CHECK(v->decision.passed && v->decision.part.area == 128950);
    st_vote_info_free(v);
    CHECK(st_state_get_vote(e.s, fund, &v) == ST_OK);
    CHECK(v->decision.quorum && !v->decision.passed);
    st_vote_info_free(v);

    e.time_ms = T0_MS + 5000;
    CHECK_APPLY(t_close_vote(&e, hire, &r), r, ST_OK);
    CHECK_APPLY(t_close_vote(&e, fund, &r), r, ST_OK);
    e.time_ms = T0_MS + 6000;
    CHECK_APPLY(t_publish(&e, hire, &r), r, ST_OK);
    printf("publish hire: %s\n", r.message);
    CHECK(strstr(r.message, "passed") != NULL);
    CHECK_APPLY(t_publish(&e, fund, &r), r, ST_OK);
    printf("publish fund: %s\n", r.message);
    CHECK(strstr(r.message, "failed") != NULL);

    check_published(&e, hire, 4, true);
    check_published(&e, fund, 6, false);

    size_t nvotes = 0;
    CHECK(st_state_list_votes(e.s, com, count_votes, &nvotes) == ST_OK);
    CHECK(nvotes == 2);

    /* Every accepted command left one event, in order. */
    /* Genesis, the community and its organiser, the roll and the enrollment (issue and
     * redeem) of its ten owners, then the votes. */
    event_list el = {.env = &e};
    CHECK(st_state_list_events(e.s, 1, collect_events, &el) == ST_OK);
    CHECK(el.n == 1 + 1 + 1 + 1 + 20 + 2 + 2 + 2 + 18 + 2 + 2);
    CHECK(strcmp(el.kinds[0], "key.genesis") == 0);
    CHECK(strcmp(el.kinds[1], "community.create") == 0);
    CHECK(strcmp(el.kinds[2], "key.appoint") == 0);
    CHECK(strcmp(el.kinds[3], "roll.import") == 0);
    CHECK(strcmp(el.kinds[4], "enroll.issue") == 0);
    CHECK(strcmp(el.kinds[5], "enroll.redeem") == 0);
    CHECK(strcmp(el.kinds[24], "vote.create") == 0);
    CHECK(strcmp(el.kinds[28], "vote.open") == 0);
    CHECK(strcmp(el.kinds[30], "ballot.cast") == 0);
    CHECK(strcmp(el.kinds[el.n - 1], "vote.publish") == 0);

    uint64_t applied;
    CHECK(st_state_applied_index(e.s, &applied) == ST_OK);
    CHECK(applied == e.index);

    t_close(&e);
    printf("ok: worked example: matter 4 passes, matter 6 fails, part 128950/9, agree 84715/6\n");
    return 0;
}
