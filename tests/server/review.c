/* review.c - a supervisor's certification or dispute of a published result, stored in the
 * vote and shown by st_state_get_vote; and the cluster roster (SetMember, RemoveMember,
 * the member reads). */
#include <string.h>

#include "tests/server/harness.h"

static t_env e;

static void reviews(void) {
    st_apply_result r;
    t_key org, sup2;
    t_organiser_key(1, &org);
    t_key_from_label(&sup2, "supervisor 2");
    CHECK_APPLY(t_add_key(&e, sup2.pk, ST_ROLE_SUPERVISOR, &e.op, &r), r, ST_OK);
    uint64_t v = t_open_new_vote(&e, 1, 4, 0, NULL, 0);
    CHECK_APPLY(t_cast(&e, v, "O1", 1, &r), r, ST_OK);

    /* Only a published result is reviewed. */
    T_REFUSED(&e, t_certify(&e, v, "", &e.sup, R_), ST_ESTATE, "only a published result");
    CHECK_APPLY(t_close_vote(&e, v, &r), r, ST_OK);
    T_REFUSED(&e, t_dispute(&e, v, "计票有误", &e.sup, R_), ST_ESTATE, "closed");
    CHECK_APPLY(t_publish(&e, v, &r), r, ST_OK);
    T_REFUSED(&e, t_certify(&e, 999, "", &e.sup, R_), ST_ENOENT, "vote 999");
    /* By supervisors only; a dispute needs a reason. */
    T_REFUSED(&e, t_certify(&e, v, "", &org, R_), ST_EPERM, "supervisor");
    T_REFUSED(&e, t_dispute(&e, v, "", &e.sup, R_), ST_EINVAL, "reason");
    T_REFUSED(&e, t_dispute(&e, v, " 空格", &e.sup, R_), ST_EINVAL, "reason");

    e.time_ms += 1000;
    uint64_t disputed_at = e.time_ms;
    CHECK_APPLY(t_dispute(&e, v, "B-202 的面积登记有误", &sup2, &r), r, ST_OK);
    CHECK(r.id == v && strstr(r.message, "disputed") != NULL);
    st_vote_info *vi;
    CHECK(st_state_get_vote(e.s, v, &vi) == ST_OK);
    CHECK(vi->review_count == 1 && vi->review_status == ST_REVIEW_DISPUTE);
    CHECK(vi->reviews[0].kind == ST_REVIEW_DISPUTE && vi->reviews[0].time_ms == disputed_at);
    CHECK(strcmp(vi->reviews[0].key_id, sup2.hex) == 0);
    CHECK(strcmp(vi->reviews[0].reason, "B-202 的面积登记有误") == 0);
    CHECK(vi->state == ST_VOTE_PUBLISHED && vi->decision.part.owners == 1); /* unchanged */
    st_vote_info_free(vi);

    e.time_ms += 1000;
    CHECK_APPLY(t_certify(&e, v, "", &e.sup, &r), r, ST_OK);
    CHECK(st_state_get_vote(e.s, v, &vi) == ST_OK);
    CHECK(vi->review_count == 2 && vi->review_status == ST_REVIEW_CERTIFY);
    CHECK(vi->reviews[1].kind == ST_REVIEW_CERTIFY && strcmp(vi->reviews[1].reason, "") == 0);
    CHECK(strcmp(vi->reviews[1].key_id, e.sup.hex) == 0 &&
          vi->reviews[0].kind == ST_REVIEW_DISPUTE);
    st_vote_info_free(vi);
    /* Reviews are events in the trail. */
    printf("reviews: certify and dispute of a published result, by supervisors, kept in order\n");
}

typedef struct {
    size_t n, members;
} roster_count;

static int count_members(void *ctx, const st_member_info *m) {
    roster_count *c = ctx;
    c->n++;
    c->members += m->member;
    return 0;
}

static void roster(void) {
    st_apply_result r;
    t_key n1, n2, n1b;
    t_key_from_label(&n1, "node 1");
    t_key_from_label(&n2, "node 2");
    t_key_from_label(&n1b, "node 1 new");
    T_REFUSED(&e, t_set_member(&e, 1, "10.0.0.1:7001", "10.0.0.1:8001", n1.pk, &e.sup, R_),
              ST_EPERM, "operator");
    T_REFUSED(&e, t_set_member(&e, 0, "10.0.0.1:7001", "10.0.0.1:8001", n1.pk, NULL, R_), ST_EINVAL,
              "node_id");
    T_REFUSED(&e, t_set_member(&e, 1, "10.0.0.1", "10.0.0.1:8001", n1.pk, NULL, R_), ST_EINVAL,
              "host:port");
    T_REFUSED(&e, t_set_member(&e, 1, "10.0.0.1:7001", "a b:1", n1.pk, NULL, R_), ST_EINVAL,
              "host:port");
    uint8_t small[32] = {1};
    T_REFUSED(&e, t_set_member(&e, 1, "10.0.0.1:7001", "10.0.0.1:8001", small, NULL, R_), ST_EINVAL,
              "public_key");
    CHECK_APPLY(t_set_member(&e, 1, "10.0.0.1:7001", "10.0.0.1:8001", n1.pk, NULL, &r), r, ST_OK);
    uint64_t added = e.time_ms;
    T_REFUSED(&e, t_set_member(&e, 2, "10.0.0.2:7001", "10.0.0.2:8001", n1.pk, NULL, R_), ST_EEXIST,
              "node 1");
    CHECK_APPLY(t_set_member(&e, 2, "10.0.0.2:7001", "10.0.0.2:8001", n2.pk, NULL, &r), r, ST_OK);

    /* Updating addresses keeps the key; a new key retires the old one. */
    e.time_ms += 1000;
    CHECK_APPLY(t_set_member(&e, 1, "10.0.0.9:7001", "10.0.0.9:8001", n1.pk, NULL, &r), r, ST_OK);
    CHECK(strstr(r.message, "updated") != NULL);
    st_member_info mi;
    CHECK(st_state_get_member(e.s, 1, &mi) == ST_OK);
    CHECK(mi.member && strcmp(mi.raft_address, "10.0.0.9:7001") == 0 && mi.added_ms == added);
    CHECK(mi.key_since_ms == added && mi.retired_key_count == 0);
    e.time_ms += 1000;
    CHECK_APPLY(t_set_member(&e, 1, "10.0.0.9:7001", "10.0.0.9:8001", n1b.pk, NULL, &r), r, ST_OK);
    CHECK(st_state_get_member(e.s, 1, &mi) == ST_OK);
    CHECK(memcmp(mi.public_key, n1b.pk, 32) == 0 && mi.retired_key_count == 1);
    CHECK(mi.key_since_ms == e.time_ms);
    /* node 1's old key cannot go to node 2 */
    T_REFUSED(&e, t_set_member(&e, 2, "10.0.0.2:7001", "10.0.0.2:8001", n1.pk, NULL, R_), ST_EEXIST,
              "holds (or held)");

    T_REFUSED(&e, t_remove_member(&e, 3, NULL, R_), ST_ENOENT, "node 3");
    T_REFUSED(&e, t_remove_member(&e, 2, &e.sup, R_), ST_EPERM, "operator");
    e.time_ms += 1000;
    CHECK_APPLY(t_remove_member(&e, 2, NULL, &r), r, ST_OK);
    T_REFUSED(&e, t_remove_member(&e, 2, NULL, R_), ST_ESTATE, "removed already");
    CHECK(st_state_get_member(e.s, 2, &mi) == ST_OK);
    CHECK(!mi.member && mi.removed_ms == e.time_ms && mi.retired_key_count == 1);
    roster_count c = {0, 0};
    CHECK(st_state_list_members(e.s, count_members, &c) == ST_OK && c.n == 2 && c.members == 1);
    /* Re-added, with its key: trusted again from now (its earlier interval stays). */
    e.time_ms += 1000;
    CHECK_APPLY(t_set_member(&e, 2, "10.0.0.2:7001", "10.0.0.2:8001", n2.pk, NULL, &r), r, ST_OK);
    CHECK(strstr(r.message, "re-added") != NULL);
    CHECK(st_state_get_member(e.s, 2, &mi) == ST_OK);
    CHECK(mi.member && mi.removed_ms == 0 && mi.key_since_ms == e.time_ms);
    CHECK(st_state_get_member(e.s, 9, &mi) == ST_ENOENT);
    printf("roster: add, update, re-key, remove, re-add; node keys unique\n");
}

int main(void) {
    t_open(&e, true, 0);
    st_apply_result r;
    CHECK_APPLY(t_create_community(&e, "幸福家园", 0, &r), r, ST_OK);
    CHECK_APPLY(t_import_roll(&e, 1, t_example_roll, 12, &r), r, ST_OK);
    reviews();
    roster();
    t_close(&e);
    printf("ok: reviews and roster\n");
    return 0;
}
