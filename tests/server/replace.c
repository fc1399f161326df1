/* replace.c - an owner replaces a ballot: the tally counts only the last one, and every
 * ballot stays in the history with its sequence number. */
#include <string.h>

#include "tests/server/harness.h"

typedef struct {
    size_t n;
    uint64_t seqs[8];
    st_choice choices[8];
    bool current[8];
} history;

static int collect(void *ctx, const st_ballot_info *b) {
    history *h = ctx;
    CHECK(h->n < 8);
    CHECK(strcmp(b->owner_id, "O1") == 0);
    h->seqs[h->n] = b->seq;
    h->choices[h->n] = b->choice;
    h->current[h->n] = b->current;
    h->n++;
    return 0;
}

static void check_tally(t_env *e, uint64_t vote, int64_t agree_owners, int64_t disagree_owners,
                        int64_t abstain_owners) {
    st_vote_info *v;
    CHECK(st_state_get_vote(e->s, vote, &v) == ST_OK);
    CHECK(v->tally.agree.owners == agree_owners);
    CHECK(v->tally.disagree.owners == disagree_owners);
    CHECK(v->tally.abstain.owners == abstain_owners);
    /* O1 holds: 89.50 + 120.00 m². */
    CHECK(v->tally.agree.area == agree_owners * 20950 - (agree_owners > 1 ? 20950 - 12000 : 0));
    st_vote_info_free(v);
    st_recount_info rc;
    CHECK(st_state_recount(e->s, vote, &rc) == ST_OK);
    CHECK(rc.equal);
}

int main(void) {
    t_env e;
    t_open(&e, true, 0);
    st_apply_result r;
    CHECK_APPLY(t_create_community(&e, "幸福家园", 0, &r), r, ST_OK);
    uint64_t com = r.id;
    CHECK_APPLY(t_import_roll(&e, com, t_example_roll, 12, &r), r, ST_OK);
    uint64_t vote = t_open_new_vote(&e, com, 4, 0, NULL, 0);

    CHECK_APPLY(t_cast(&e, vote, "O1", ST_CHOICE_AGREE, &r), r, ST_OK);
    CHECK(r.id == 1);
    check_tally(&e, vote, 1, 0, 0);
    CHECK_APPLY(t_cast(&e, vote, "O1", ST_CHOICE_DISAGREE, &r), r, ST_OK);
    CHECK(r.id == 2);
    CHECK(strstr(r.message, "replacing") != NULL);

    st_vote_info *v;
    CHECK(st_state_get_vote(e.s, vote, &v) == ST_OK);
    CHECK(v->tally.agree.owners == 0 && v->tally.agree.area == 0);
    CHECK(v->tally.disagree.owners == 1 && v->tally.disagree.area == 20950);
    CHECK(v->ballot_count == 2);
    st_vote_info_free(v);

    history h = {0};
    CHECK(st_state_owner_ballots(e.s, vote, "O1", collect, &h) == ST_OK);
    CHECK(h.n == 2);
    CHECK(h.seqs[0] == 1 && h.choices[0] == ST_CHOICE_AGREE && !h.current[0]);
    CHECK(h.seqs[1] == 2 && h.choices[1] == ST_CHOICE_DISAGREE && h.current[1]);
    history all = {0};
    CHECK(st_state_list_ballots(e.s, vote, collect, &all) == ST_OK);
    CHECK(all.n == 2 && !all.current[0] && all.current[1]);

    /* Replacing again, to abstain and back: still one participant. */
    CHECK_APPLY(t_cast(&e, vote, "O1", ST_CHOICE_ABSTAIN, &r), r, ST_OK);
    check_tally(&e, vote, 0, 0, 1);
    CHECK_APPLY(t_cast(&e, vote, "O2", ST_CHOICE_AGREE, &r), r, ST_OK);
    CHECK_APPLY(t_cast(&e, vote, "O1", ST_CHOICE_AGREE, &r), r, ST_OK);
    check_tally(&e, vote, 2, 0, 0);
    CHECK(r.id == 5);
    h.n = 0;
    CHECK(st_state_owner_ballots(e.s, vote, "O1", collect, &h) == ST_OK);
    CHECK(h.n == 4 && h.seqs[3] == 5 && h.current[3] && !h.current[2]);

    t_close(&e);
    printf("ok: replacement counts the last ballot once and keeps them all\n");
    return 0;
}
