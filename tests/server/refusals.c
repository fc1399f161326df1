/* refusals.c - every lifecycle and validation refusal gives its st_ code and a message,
 * and changes nothing but the applied index: the data digest (ST_STATE_DIGEST_DATA) is
 * the same before and after, while the full digest moves with the applied index. */
#include <string.h>

#include "tests/server/harness.h"

static t_env e;
static uint8_t before_data[32], before_all[32];

static void snap(void) {
    t_digest(&e, ST_STATE_DIGEST_DATA, before_data);
    t_digest(&e, ST_STATE_DIGEST_ALL, before_all);
}

/* The last command was refused with `want`: nothing changed but the applied index. */
static void refused(const st_apply_result *r, int want, const char *needle, int line) {
    if (r->code != want) {
        fprintf(stderr, "refusals.c:%d: code %d (%s), expected %d: %s\n", line, r->code,
                st_strerror(r->code), want, r->message);
        exit(1);
    }
    if (needle != NULL && strstr(r->message, needle) == NULL) {
        fprintf(stderr, "refusals.c:%d: message \"%s\" lacks \"%s\"\n", line, r->message, needle);
        exit(1);
    }
    CHECK(r->message[0] != '\0' && r->id == 0 && !r->duplicate && !r->skipped);
    uint8_t data[32], all[32];
    t_digest(&e, ST_STATE_DIGEST_DATA, data);
    t_digest(&e, ST_STATE_DIGEST_ALL, all);
    if (!t_digest_eq(data, before_data)) {
        fprintf(stderr, "refusals.c:%d: a refused command changed the data\n", line);
        exit(1);
    }
    CHECK(!t_digest_eq(all, before_all)); /* the applied index moved */
    uint64_t applied;
    CHECK(st_state_applied_index(e.s, &applied) == ST_OK && applied == e.index);
    memcpy(before_all, all, 32);
}

#define REFUSED(call, want, needle)                                                                \
    do {                                                                                           \
        st_apply_result r_;                                                                        \
        snap();                                                                                    \
        call;                                                                                      \
        refused(&r_, want, needle, __LINE__);                                                      \
    } while (0)
#define R (&r_)

static const char *const cands7[] = {"甲", "乙", "丙", "丁", "戊", "己", "庚"};

static void envelope_refusals(void) {
    /* Bytes that are not a Command at all. */
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
    REFUSED(t_apply_bytes(&e, junk, sizeof(junk), R), ST_EINVAL, "decode");
    /* An empty command decodes but has no body (and no request id). */
    REFUSED(t_apply_bytes(&e, NULL, 0, R), ST_EINVAL, "request_id");
    /* A request id of the wrong length. */
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__NoticeVote nv = STRATA__INTERNAL__NOTICE_VOTE__INIT;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_NOTICE_VOTE;
    cmd.notice_vote = &nv;
    uint8_t rid[8] = {1};
    cmd.request_id.data = rid;
    cmd.request_id.len = sizeof(rid);
    REFUSED(t_apply(&e, &cmd, R), ST_EINVAL, "16");
    /* No body. */
    Strata__Internal__Command empty = STRATA__INTERNAL__COMMAND__INIT;
    REFUSED(t_apply(&e, &empty, R), ST_EINVAL, "no body");
    /* An actor with a control character. */
    Strata__Internal__Command bad_actor = STRATA__INTERNAL__COMMAND__INIT;
    bad_actor.body_case = STRATA__INTERNAL__COMMAND__BODY_NOTICE_VOTE;
    bad_actor.notice_vote = &nv;
    bad_actor.actor = "who\n";
    REFUSED(t_apply(&e, &bad_actor, R), ST_EINVAL, "actor");
}

static void community_and_roll_refusals(uint64_t com) {
    REFUSED(t_create_community(&e, "", 0, R), ST_EINVAL, "name");
    REFUSED(t_create_community(&e, "幸福家园", 400, R), ST_EINVAL, "min_notice_days");
    REFUSED(t_create_community(&e, "幸福家园", 0, R), ST_EEXIST, "already exists");

    REFUSED(t_import_roll(&e, 999, t_example_roll, 12, R), ST_ENOENT, "community 999");
    REFUSED(t_import_roll(&e, com, t_example_roll, 0, R), ST_EINVAL, "no units");
    t_unit bad[12];
    memcpy(bad, t_example_roll, sizeof(bad));
    bad[5].unit = "A-101"; /* duplicate unit: the old roll stays */
    REFUSED(t_import_roll(&e, com, bad, 12, R), ST_EEXIST, "A-101");
    memcpy(bad, t_example_roll, sizeof(bad));
    bad[3].area = 0;
    REFUSED(t_import_roll(&e, com, bad, 12, R), ST_EINVAL, "A-202");
    memcpy(bad, t_example_roll, sizeof(bad));
    bad[8].owner = "DEV2"; /* a second developer id */
    bad[8].name = "另一开发商";
    REFUSED(t_import_roll(&e, com, bad, 12, R), ST_EINVAL, "B-301");
    memcpy(bad, t_example_roll, sizeof(bad));
    bad[3].name = "王建军"; /* O1 under two names */
    REFUSED(t_import_roll(&e, com, bad, 12, R), ST_EINVAL, "O1");

    /* CreateVote validation. */
    REFUSED(t_create_vote(&e, 999, 4, "议题", -1, 0, NULL, 0, R), ST_ENOENT, "community 999");
    REFUSED(t_create_vote(&e, com, 0, "议题", -1, 0, NULL, 0, R), ST_EINVAL, "matter 0");
    REFUSED(t_create_vote(&e, com, 10, "议题", -1, 0, NULL, 0, R), ST_EINVAL, "matter 10");
    REFUSED(t_create_vote(&e, com, 4, "", -1, 0, NULL, 0, R), ST_EINVAL, "title");
    REFUSED(t_create_vote(&e, com, 4, "议题", 10, 0, NULL, 0, R), ST_EINVAL, "at least 15");
    REFUSED(t_create_vote(&e, com, 4, "议题", 400, 0, NULL, 0, R), ST_EINVAL, "notice_days");
    REFUSED(t_create_vote(&e, com, 3, "选举", -1, 0, NULL, 0, R), ST_EINVAL, "seats");
    REFUSED(t_create_vote(&e, com, 3, "选举", -1, 5, NULL, 0, R), ST_EINVAL, "candidates");
    REFUSED(t_create_vote(&e, com, 3, "选举", -1, 4, cands7, 7, R), ST_EINVAL, "seats");
    REFUSED(t_create_vote(&e, com, 3, "选举", -1, 13, cands7, 7, R), ST_EINVAL, "seats");
    REFUSED(t_create_vote(&e, com, 4, "议题", -1, 5, NULL, 0, R), ST_EINVAL, "matter 3");
    REFUSED(t_create_vote(&e, com, 4, "议题", -1, 0, cands7, 7, R), ST_EINVAL, "matter 3");
    const char *dup[] = {"甲", "乙", "甲"};
    REFUSED(t_create_vote(&e, com, 3, "选举", -1, 5, dup, 3, R), ST_EINVAL, "甲");
    const char *many[65];
    for (int i = 0; i < 65; i++) {
        many[i] = cands7[0]; /* never checked for duplicates: the count fails first */
    }
    REFUSED(t_create_vote(&e, com, 3, "选举", -1, 5, many, 65, R), ST_EINVAL, "1 to 64");
}

int main(void) {
    t_open(&e, true, 0);
    st_apply_result r;
    envelope_refusals();

    /* Community with the default policy: 15 days' notice. */
    CHECK_APPLY(t_create_community(&e, "幸福家园", -1, &r), r, ST_OK);
    uint64_t com = r.id;
    st_community_info *ci;
    CHECK(st_state_get_community(e.s, com, &ci) == ST_OK);
    CHECK(ci->min_notice_days == 15 && ci->roll_version == 0);
    st_community_info_free(ci);

    /* A vote cannot open before the community has a roll. */
    CHECK_APPLY(t_create_vote(&e, com, 4, "选聘物业", -1, 0, NULL, 0, &r), r, ST_OK);
    uint64_t early = r.id;
    CHECK_APPLY(t_notice(&e, early, &r), r, ST_OK);
    e.time_ms += 15 * DAY_MS;
    REFUSED(t_open_vote(&e, early, R), ST_ESTATE, "no roll");

    CHECK_APPLY(t_import_roll(&e, com, t_example_roll, 12, &r), r, ST_OK);
    community_and_roll_refusals(com);

    /* The notice period: noticed at N, may open from N + 15 days, not a millisecond
     * earlier. */
    e.time_ms = T0_MS + 100 * DAY_MS;
    CHECK_APPLY(t_create_vote(&e, com, 4, "选聘物业", -1, 0, NULL, 0, &r), r, ST_OK);
    uint64_t v = r.id;
    REFUSED(t_open_vote(&e, v, R), ST_ESTATE, "notice it first");
    REFUSED(t_cast(&e, v, "O1", 1, R), ST_ESTATE, "once it opens");
    REFUSED(t_close_vote(&e, v, R), ST_ESTATE, "draft");
    REFUSED(t_publish(&e, v, R), ST_ESTATE, "close it first");
    uint64_t noticed = e.time_ms;
    CHECK_APPLY(t_notice(&e, v, &r), r, ST_OK);
    CHECK(strstr(r.message, "2024-08-24T08:00:00Z") != NULL); /* T0 + 100 + 15 days */
    REFUSED(t_notice(&e, v, R), ST_ESTATE, "only once");
    REFUSED(t_cast(&e, v, "O1", 1, R), ST_ESTATE, "once it opens");
    e.time_ms = noticed + 14 * DAY_MS;
    REFUSED(t_open_vote(&e, v, R), ST_ESTATE, "2024-08-24T08:00:00Z");
    e.time_ms = noticed + 15 * DAY_MS - 1;
    REFUSED(t_open_vote(&e, v, R), ST_ESTATE, "15-day notice period");
    e.time_ms = noticed + 15 * DAY_MS;
    CHECK_APPLY(t_open_vote(&e, v, &r), r, ST_OK);
    REFUSED(t_open_vote(&e, v, R), ST_ESTATE, "only once");
    REFUSED(t_publish(&e, v, R), ST_ESTATE, "close it first");

    /* Ballots in an open vote. */
    REFUSED(t_cast(&e, 999, "O1", 1, R), ST_ENOENT, "vote 999");
    REFUSED(t_cast(&e, v, "O10", 1, R), ST_ENOENT, "O10");
    REFUSED(t_cast(&e, v, "", 1, R), ST_ENOENT, "not on the roll");
    REFUSED(t_cast(&e, v, "O1", 0, R), ST_EINVAL, "choice 0");
    REFUSED(t_cast(&e, v, "O1", 7, R), ST_EINVAL, "choice 7");
    REFUSED(t_cast(&e, v, "O1", -1, R), ST_EINVAL, "choice -1");
    uint32_t one = 0;
    REFUSED(t_cast_approvals(&e, v, "O1", &one, 1, R), ST_EINVAL, "not approvals");
    Strata__Internal__CastBallot b = STRATA__INTERNAL__CAST_BALLOT__INIT;
    b.vote_id = v;
    b.owner_id = "O1";
    b.source = STRATA__INTERNAL__SOURCE__SOURCE_ONLINE;
    REFUSED(t_cast_raw(&e, &b, R), ST_EINVAL, "neither");
    b.ballot_case = STRATA__INTERNAL__CAST_BALLOT__BALLOT_CHOICE;
    b.choice = STRATA__INTERNAL__CHOICE__CHOICE_AGREE;
    b.source = STRATA__INTERNAL__SOURCE__SOURCE_UNSPECIFIED;
    REFUSED(t_cast_raw(&e, &b, R), ST_EINVAL, "source");
    b.source = STRATA__INTERNAL__SOURCE__SOURCE_PAPER;
    REFUSED(t_cast_raw(&e, &b, R), ST_EINVAL, "paper_scan_sha256");
    uint8_t scan[32] = {1};
    b.paper_scan_sha256.data = scan;
    b.paper_scan_sha256.len = 31;
    REFUSED(t_cast_raw(&e, &b, R), ST_EINVAL, "31 bytes");
    b.paper_scan_sha256.len = 32;
    REFUSED(t_cast_raw(&e, &b, R), ST_EINVAL, "entered_by");
    b.source = STRATA__INTERNAL__SOURCE__SOURCE_ONLINE;
    REFUSED(t_cast_raw(&e, &b, R), ST_EINVAL, "online ballot");
    b.paper_scan_sha256.len = 0;
    uint8_t nonce[65] = {0};
    b.nonce.data = nonce;
    b.nonce.len = 65;
    REFUSED(t_cast_raw(&e, &b, R), ST_EINVAL, "nonce");
    b.nonce.len = 16;
    CHECK_APPLY(t_cast_raw(&e, &b, &r), r, ST_OK);

    /* Election ballots: too many, duplicate, out of range; a choice on an election. */
    CHECK_APPLY(t_create_vote(&e, com, 3, "选举业委会", 15, 5, cands7, 7, &r), r, ST_OK);
    uint64_t el = r.id;
    CHECK_APPLY(t_notice(&e, el, &r), r, ST_OK);
    e.time_ms += 15 * DAY_MS;
    CHECK_APPLY(t_open_vote(&e, el, &r), r, ST_OK);
    uint32_t six[] = {0, 1, 2, 3, 4, 5}, twice[] = {1, 2, 1}, range[] = {0, 7};
    REFUSED(t_cast_approvals(&e, el, "O1", six, 6, R), ST_EINVAL, "at most 5");
    REFUSED(t_cast_approvals(&e, el, "O1", twice, 3, R), ST_EINVAL, "twice");
    REFUSED(t_cast_approvals(&e, el, "O1", range, 2, R), ST_EINVAL, "candidate 7");
    REFUSED(t_cast(&e, el, "O1", 1, R), ST_EINVAL, "election");
    CHECK_APPLY(t_cast_approvals(&e, el, "O1", six, 5, &r), r, ST_OK);

    /* Closing: after close nothing can be added; publish only once. */
    REFUSED(t_close_vote(&e, 999, R), ST_ENOENT, "vote 999");
    REFUSED(t_notice(&e, 999, R), ST_ENOENT, "vote 999");
    REFUSED(t_open_vote(&e, 999, R), ST_ENOENT, "vote 999");
    REFUSED(t_publish(&e, 999, R), ST_ENOENT, "vote 999");
    CHECK_APPLY(t_close_vote(&e, v, &r), r, ST_OK);
    REFUSED(t_close_vote(&e, v, R), ST_ESTATE, "closed");
    REFUSED(t_cast(&e, v, "O2", 1, R), ST_ESTATE, "nothing more can be added");
    REFUSED(t_cast(&e, v, "O1", 2, R), ST_ESTATE, "nothing more can be added");
    CHECK_APPLY(t_publish(&e, v, &r), r, ST_OK);
    REFUSED(t_publish(&e, v, R), ST_ESTATE, "published already");
    REFUSED(t_cast(&e, v, "O2", 1, R), ST_ESTATE, "published");
    REFUSED(t_close_vote(&e, v, R), ST_ESTATE, "published");

    st_vote_info *vi;
    CHECK(st_state_get_vote(e.s, v, &vi) == ST_OK);
    CHECK(vi->ballot_count == 1 && vi->tally.agree.owners == 1);
    CHECK(!vi->decision.quorum && !vi->decision.passed);
    st_vote_info_free(vi);
    st_recount_info rc;
    CHECK(st_state_recount(e.s, v, &rc) == ST_OK && rc.equal);
    CHECK(st_state_recount(e.s, el, &rc) == ST_OK && rc.equal);
    CHECK(st_state_recount(e.s, early, &rc) == ST_OK && rc.equal && rc.voters == 0);

    /* A notice stamped near the end of time does not wrap round and open at once. */
    CHECK_APPLY(t_create_vote(&e, com, 4, "末日", -1, 0, NULL, 0, &r), r, ST_OK);
    uint64_t late = r.id;
    e.time_ms = UINT64_MAX - 1000;
    CHECK_APPLY(t_notice(&e, late, &r), r, ST_OK);
    e.time_ms = UINT64_MAX - 10;
    REFUSED(t_open_vote(&e, late, R), ST_ESTATE, "notice period");

    /* Reads of things that do not exist. */
    CHECK(st_state_get_vote(e.s, 999, &vi) == ST_ENOENT);
    CHECK(st_state_get_community(e.s, 999, &ci) == ST_ENOENT);
    CHECK(st_state_recount(e.s, 999, &rc) == ST_ENOENT);
    CHECK(st_state_owner_ballots(e.s, v, "O10", NULL, NULL) == ST_ENOENT);

    t_close(&e);
    printf("ok: refusals\n");
    return 0;
}
