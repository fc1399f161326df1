/* apply_vote.c - the vote lifecycle: CreateVote (DRAFT), NoticeVote (NOTICED), OpenVote
 * (OPEN: the notice period has run and the roll is frozen into the vote), CloseVote
 * (CLOSED: nothing more can be added) and PublishVote (PUBLISHED: the result snapshot is
 * stored). Ballots are apply_ballot.c's. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/ratio.h"
#include "server/apply.h"

const char *st_vote_state_name(st_vote_state v) {
    switch (v) {
    case ST_VOTE_DRAFT:
        return "draft";
    case ST_VOTE_NOTICED:
        return "noticed";
    case ST_VOTE_OPEN:
        return "open";
    case ST_VOTE_CLOSED:
        return "closed";
    case ST_VOTE_PUBLISHED:
        return "published";
    default:
        return "unknown";
    }
}

static int put_vote(st_apply_ctx *c, const pb_vote *v) {
    st_key k = st_key_u64(v->id);
    return st_msg_put(c->txn, st_dbi(c, ST_DB_VOTES), &k, &v->base);
}

/* Loads the vote of a lifecycle command; a missing vote, or one of a community the actor
 * does not organise, is a refusal (*v stays NULL). */
static int load_vote_or_refuse(st_apply_ctx *c, uint64_t id, pb_vote **v) {
    int rc = st_load_vote(c->txn, c->store, id, v);
    if (rc == MDB_NOTFOUND) {
        *v = NULL;
        return st_refuse(c, ST_ENOENT, "vote %llu does not exist; check the vote id",
                         (unsigned long long)id);
    }
    if (rc == 0 && !st_actor_organises(c, (*v)->community_id)) {
        uint64_t community = (*v)->community_id;
        st_pb_free(*v);
        *v = NULL;
        return st_refuse_not_organiser(c, community);
    }
    return rc;
}

/* ---- CreateVote ---- */

static int check_vote_fields(st_apply_ctx *c, const Strata__Internal__CreateVote *b);
static int create_vote(st_apply_ctx *c, const Strata__Internal__CreateVote *b, pb_community *com);

static int check_candidates(st_apply_ctx *c, const Strata__Internal__CreateVote *b) {
    if (!st_seats_valid(b->seats)) {
        return st_refuse(c, ST_EINVAL,
                         "an election needs seats: an odd number from %d to %d (got %u)",
                         ST_SEATS_MIN, ST_SEATS_MAX, b->seats);
    }
    if (b->n_candidates < 1 || b->n_candidates > ST_CANDIDATES_MAX) {
        return st_refuse(c, ST_EINVAL, "an election needs 1 to %d candidates (got %zu)",
                         ST_CANDIDATES_MAX, b->n_candidates);
    }
    for (size_t i = 0; i < b->n_candidates; i++) {
        if (!st_text_ok(b->candidates[i])) {
            return st_refuse(c, ST_EINVAL,
                             "candidate %zu: a name must be 1 to %d bytes of UTF-8 text without "
                             "control characters or surrounding spaces",
                             i, ST_NAME_MAX);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(b->candidates[i], b->candidates[j]) == 0) {
                return st_refuse(c, ST_EINVAL,
                                 "candidates %zu and %zu are both \"%s\"; list each candidate "
                                 "once",
                                 j, i, b->candidates[i]);
            }
        }
    }
    return 0;
}

int st_apply_create_vote(st_apply_ctx *c) {
    const Strata__Internal__CreateVote *b = c->cmd->create_vote;
    pb_community *com;
    int rc = st_load_community(c->txn, c->store, b->community_id, &com);
    if (rc == MDB_NOTFOUND) {
        return st_refuse(c, ST_ENOENT,
                         "community %llu does not exist; create it first or check the id",
                         (unsigned long long)b->community_id);
    }
    if (rc != 0) {
        return rc;
    }
    rc = check_vote_fields(c, b);
    if (rc != 0 || c->res->code != ST_OK) {
        st_pb_free(com);
        return rc;
    }
    return create_vote(c, b, com);
}

/* The vote's own fields; 0 with or without a refusal. */
static int check_vote_fields(st_apply_ctx *c, const Strata__Internal__CreateVote *b) {
    if (!st_actor_organises(c, b->community_id)) {
        return st_refuse_not_organiser(c, b->community_id);
    }
    if (!st_matter_valid((int)b->matter)) {
        return st_refuse(c, ST_EINVAL,
                         "matter %u is not one of the nine of Civil Code art. 278; give 1 to 9",
                         b->matter);
    }
    if (!st_text_ok(b->title)) {
        return st_refuse(c, ST_EINVAL,
                         "title must be 1 to %d bytes of UTF-8 text without control characters "
                         "or surrounding spaces",
                         ST_NAME_MAX);
    }
    bool election = b->matter == ST_MATTER_ELECTION;
    if (election) {
        int rc = check_candidates(c, b);
        if (rc != 0 || c->res->code != ST_OK) {
            return rc;
        }
    } else if (b->seats != 0 || b->n_candidates != 0) {
        return st_refuse(c, ST_EINVAL,
                         "seats and candidates belong to elections (matter 3) only; matter %u "
                         "takes neither",
                         b->matter);
    }
    return 0;
}

/* Creates the vote in community com (freed here). */
static int create_vote(st_apply_ctx *c, const Strata__Internal__CreateVote *b, pb_community *com) {
    bool election = b->matter == ST_MATTER_ELECTION;
    int rc;
    uint32_t notice = com->min_notice_days;
    if (b->notice_case == STRATA__INTERNAL__CREATE_VOTE__NOTICE_NOTICE_DAYS) {
        notice = b->notice_days;
    }
    if (notice < com->min_notice_days || notice > ST_NOTICE_DAYS_MAX) {
        rc = st_refuse(c, ST_EINVAL,
                       "notice_days %u is out of range: community %llu requires at least %u "
                       "days' notice, and at most %d are allowed",
                       notice, (unsigned long long)com->id, com->min_notice_days,
                       ST_NOTICE_DAYS_MAX);
        st_pb_free(com);
        return rc;
    }

    uint64_t id;
    rc = st_meta_get(c->txn, c->store, ST_META_LAST_VOTE, &id);
    if (rc != 0) {
        st_pb_free(com);
        return rc;
    }
    id++;
    pb_vote v = STRATA__INTERNAL__VOTE_RECORD__INIT;
    v.id = id;
    v.community_id = com->id;
    v.matter = b->matter;
    v.title = b->title;
    v.state = STRATA__INTERNAL__VOTE_STATE__VOTE_DRAFT;
    v.notice_days = notice;
    v.created_ms = c->cmd->time_ms;
    int64_t *zeros = NULL;
    if (election) {
        zeros = calloc(b->n_candidates, sizeof(*zeros));
        if (zeros == NULL) {
            st_pb_free(com);
            return ST_ENOMEM;
        }
        v.seats = b->seats;
        v.n_candidates = b->n_candidates;
        v.candidates = b->candidates;
        v.n_approve_area = v.n_approve_owners = b->n_candidates;
        v.approve_area = v.approve_owners = zeros;
    }
    com->vote_count++;
    st_key ck = st_key_u64(com->id), cv = st_key_id2(com->id, id);
    MDB_val cvk = st_key_val(&cv), empty = {0, NULL};
    if ((rc = put_vote(c, &v)) == 0 &&
        (rc = st_msg_put(c->txn, st_dbi(c, ST_DB_COMMUNITIES), &ck, &com->base)) == 0 &&
        (rc = mdb_put(c->txn, st_dbi(c, ST_DB_COMMUNITY_VOTES), &cvk, &empty, 0)) == 0 &&
        (rc = st_meta_put(c->txn, c->store, ST_META_LAST_VOTE, id)) == 0) {
        st_accept(c, id, "vote.create", com->id, id,
                  "created vote %llu in community %llu: matter %u (%s, %s), %u days' notice",
                  (unsigned long long)id, (unsigned long long)com->id, b->matter,
                  st_matter_title((int)b->matter), st_class_name(st_matter_class((int)b->matter)),
                  notice);
    }
    free(zeros);
    st_pb_free(com);
    return rc;
}

/* ---- NoticeVote ---- */

int st_apply_notice_vote(st_apply_ctx *c) {
    uint64_t id = c->cmd->notice_vote->vote_id;
    pb_vote *v;
    int rc = load_vote_or_refuse(c, id, &v);
    if (v == NULL) {
        return rc;
    }
    if (v->state != STRATA__INTERNAL__VOTE_STATE__VOTE_DRAFT) {
        rc = st_refuse(c, ST_ESTATE,
                       "vote %llu is %s; only a draft vote can be noticed, and only once",
                       (unsigned long long)id, st_vote_state_name(st_vote_state_of(v)));
    } else {
        v->state = STRATA__INTERNAL__VOTE_STATE__VOTE_NOTICED;
        v->noticed_ms = c->cmd->time_ms;
        rc = put_vote(c, v);
        if (rc == 0) {
            char at[32];
            st_format_time(v->noticed_ms + v->notice_days * ST_MS_PER_DAY, at, sizeof(at));
            st_accept(c, id, "vote.notice", v->community_id, id,
                      "noticed vote %llu; it may open from %s", (unsigned long long)id, at);
        }
    }
    st_pb_free(v);
    return rc;
}

/* ---- OpenVote: freeze the roll ---- */

/* Loads the community's current units (in position order) into a sealed roll. */
static int load_roll(st_apply_ctx *c, uint64_t community, st_roll **out) {
    st_roll *roll;
    if (st_roll_new(&roll) != ST_OK) {
        return ST_ENOMEM;
    }
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, st_dbi(c, ST_DB_UNITS), &cur);
    if (rc != 0) {
        st_roll_free(roll);
        return rc;
    }
    st_key start = st_key_u64(community);
    MDB_val k = st_key_val(&start), v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < 8 || memcmp(k.mv_data, start.b, 8) != 0) {
            break;
        }
        pb_unit *pu;
        rc = st_msg_decode(&v, &strata__internal__unit__descriptor, (ProtobufCMessage **)&pu);
        if (rc != 0) {
            break;
        }
        st_unit u = {pu->unit,     pu->building,   pu->area_centi_m2,
                     pu->owner_id, pu->owner_name, (st_unit_status)pu->status};
        int arc = st_roll_add_unit(roll, &u, NULL, 0);
        st_pb_free(pu);
        if (arc != ST_OK) {
            rc = arc == ST_ENOMEM ? ST_ENOMEM : ST_ECORRUPT; /* it was valid when stored */
            break;
        }
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) {
        rc = 0;
    }
    if (rc == 0 && st_roll_seal(roll, NULL, 0) != ST_OK) {
        rc = ST_ECORRUPT;
    }
    if (rc != 0) {
        st_roll_free(roll);
        return rc;
    }
    *out = roll;
    return 0;
}

/* Writes one VoterRecord per voter of the roll under the vote. */
static int freeze_voters(st_apply_ctx *c, uint64_t vote, const st_roll *roll) {
    size_t nu = st_roll_unit_count(roll), nv = st_roll_voter_count(roll);
    size_t *start = calloc(nv + 1, sizeof(*start));
    char **units = malloc(nu * sizeof(*units));
    if (start == NULL || units == NULL) {
        free(start);
        free(units);
        return ST_ENOMEM;
    }
    /* Group unit numbers by voter, keeping roll order within each voter. */
    for (size_t i = 0; i < nu; i++) {
        start[st_roll_unit_voter(roll, i) + 1]++;
    }
    for (size_t i = 0; i < nv; i++) {
        start[i + 1] += start[i];
    }
    for (size_t i = 0; i < nu; i++) {
        size_t vi = st_roll_unit_voter(roll, i);
        units[start[vi]++] = (char *)st_roll_unit(roll, i)->unit;
    }
    /* start[vi] is now the end of voter vi's run, i.e. the start of vi+1's. */
    int rc = 0;
    MDB_dbi dbi = st_dbi(c, ST_DB_VOTERS);
    for (size_t i = 0; i < nv && rc == 0; i++) {
        const st_voter *sv = st_roll_voter(roll, i);
        size_t end = start[i], begin = i == 0 ? 0 : start[i - 1];
        pb_voter m = STRATA__INTERNAL__VOTER_RECORD__INIT;
        m.owner_id = (char *)sv->owner_id;
        m.owner_name = (char *)sv->owner_name;
        m.area = sv->area;
        m.developer = sv->developer;
        m.n_units = end - begin;
        m.units = units + begin;
        st_key k = st_key_id_str(vote, sv->owner_id);
        rc = st_msg_put(c->txn, dbi, &k, &m.base);
    }
    free(start);
    free(units);
    return rc;
}

int st_apply_open_vote(st_apply_ctx *c) {
    uint64_t id = c->cmd->open_vote->vote_id;
    pb_vote *v;
    int rc = load_vote_or_refuse(c, id, &v);
    if (v == NULL) {
        return rc;
    }
    pb_community *com = NULL;
    st_roll *roll = NULL;
    uint64_t period = v->notice_days * ST_MS_PER_DAY;
    /* Saturate: a notice stamped near the end of time never ends rather than wrapping. */
    uint64_t opens_at = v->noticed_ms > UINT64_MAX - period ? UINT64_MAX : v->noticed_ms + period;
    if (v->state != STRATA__INTERNAL__VOTE_STATE__VOTE_NOTICED) {
        rc = st_refuse(c, ST_ESTATE, "vote %llu is %s; %s", (unsigned long long)id,
                       st_vote_state_name(st_vote_state_of(v)),
                       v->state == STRATA__INTERNAL__VOTE_STATE__VOTE_DRAFT
                           ? "notice it first, then open it after the notice period"
                           : "only a noticed vote can be opened, and only once");
        goto out;
    }
    if (c->cmd->time_ms < opens_at) {
        char at[32], now[32];
        st_format_time(opens_at, at, sizeof(at));
        st_format_time(c->cmd->time_ms, now, sizeof(now));
        rc = st_refuse(c, ST_ESTATE,
                       "vote %llu is in its %u-day notice period; it may open from %s "
                       "(time_ms %llu), it is now %s",
                       (unsigned long long)id, v->notice_days, at, (unsigned long long)opens_at,
                       now);
        goto out;
    }
    rc = st_load_community(c->txn, c->store, v->community_id, &com);
    if (rc != 0) {
        rc = rc == MDB_NOTFOUND ? ST_ECORRUPT : rc; /* a vote's community always exists */
        goto out;
    }
    if (com->roll_version == 0) {
        rc = st_refuse(c, ST_ESTATE,
                       "community %llu has no roll yet; import the roll before opening a vote",
                       (unsigned long long)com->id);
        goto out;
    }
    if ((rc = load_roll(c, com->id, &roll)) != 0 || (rc = freeze_voters(c, id, roll)) != 0) {
        goto out;
    }
    v->state = STRATA__INTERNAL__VOTE_STATE__VOTE_OPEN;
    v->opened_ms = c->cmd->time_ms;
    v->roll_version = com->roll_version;
    v->total_area = st_roll_total_area(roll);
    v->total_owners = st_roll_total_owners(roll);
    rc = put_vote(c, v);
    if (rc == 0) {
        char area[32];
        st_accept(c, id, "vote.open", v->community_id, id,
                  "opened vote %llu on roll version %llu: %s m2, %lld owners",
                  (unsigned long long)id, (unsigned long long)v->roll_version,
                  st_area_str(v->total_area, area, sizeof(area)), (long long)v->total_owners);
    }
out:
    st_roll_free(roll);
    if (com != NULL) {
        st_pb_free(com);
    }
    st_pb_free(v);
    return rc;
}

/* ---- CloseVote ---- */

int st_apply_close_vote(st_apply_ctx *c) {
    uint64_t id = c->cmd->close_vote->vote_id;
    pb_vote *v;
    int rc = load_vote_or_refuse(c, id, &v);
    if (v == NULL) {
        return rc;
    }
    if (v->state != STRATA__INTERNAL__VOTE_STATE__VOTE_OPEN) {
        rc = st_refuse(c, ST_ESTATE, "vote %llu is %s; only an open vote can be closed",
                       (unsigned long long)id, st_vote_state_name(st_vote_state_of(v)));
    } else {
        v->state = STRATA__INTERNAL__VOTE_STATE__VOTE_CLOSED;
        v->closed_ms = c->cmd->time_ms;
        rc = put_vote(c, v);
        if (rc == 0) {
            st_accept(c, id, "vote.close", v->community_id, id,
                      "closed vote %llu with %llu ballots", (unsigned long long)id,
                      (unsigned long long)v->ballot_count);
        }
    }
    st_pb_free(v);
    return rc;
}

/* ---- PublishVote: the result snapshot ---- */

static int publish_matter(pb_vote *v, pb_outcome *o, char *line, size_t len) {
    st_tally t = st_vote_tally(v);
    st_decision d = st_tally_decide(&t, st_matter_class((int)v->matter));
    o->quorum = d.quorum;
    o->passed = d.passed;
    o->part_area = d.part.area;
    o->part_owners = d.part.owners;
    o->agree_area = t.agree.area;
    o->agree_owners = t.agree.owners;
    o->disagree_area = t.disagree.area;
    o->disagree_owners = t.disagree.owners;
    o->abstain_area = t.abstain.area;
    o->abstain_owners = t.abstain.owners;
    char pa[32], aa[32];
    snprintf(line, len, "%s: part %s m2 / %lld owners, agree %s m2 / %lld owners",
             d.passed   ? "passed"
             : d.quorum ? "failed"
                        : "failed (no quorum)",
             st_area_str(d.part.area, pa, sizeof(pa)), (long long)d.part.owners,
             st_area_str(t.agree.area, aa, sizeof(aa)), (long long)t.agree.owners);
    return 0;
}

static int publish_election(pb_vote *v, pb_outcome *o, pb_cand *cands, pb_cand **ptrs, char *line,
                            size_t len) {
    st_election e;
    int rc = st_vote_election(v, &e);
    if (rc != ST_OK) {
        return rc;
    }
    st_cand_result *res = calloc(e.candidates, sizeof(*res));
    if (res == NULL) {
        st_election_free(&e);
        return ST_ENOMEM;
    }
    bool quorum;
    uint32_t elected, runoff;
    st_election_result(&e, res, &quorum, &elected, &runoff);
    o->quorum = quorum;
    o->part_area = e.part.area;
    o->part_owners = e.part.owners;
    o->elected = elected;
    o->runoff = runoff;
    o->n_candidates = e.candidates;
    o->candidates = ptrs;
    for (uint32_t i = 0; i < e.candidates; i++) {
        pb_cand *pc = &cands[i];
        *pc = (pb_cand)STRATA__INTERNAL__CANDIDATE_RESULT__INIT;
        pc->candidate = res[i].candidate;
        pc->approve_area = res[i].approve.area;
        pc->approve_owners = res[i].approve.owners;
        pc->qualified = res[i].qualified;
        pc->rank = res[i].rank;
        pc->outcome = (Strata__Internal__CandidateOutcome)res[i].outcome;
        ptrs[i] = pc;
    }
    snprintf(line, len, "%s: %u elected, %u in a run-off, part %lld owners",
             quorum ? "quorum met" : "no quorum", elected, runoff, (long long)e.part.owners);
    free(res);
    st_election_free(&e);
    return 0;
}

int st_apply_publish_vote(st_apply_ctx *c) {
    uint64_t id = c->cmd->publish_vote->vote_id;
    pb_vote *v;
    int rc = load_vote_or_refuse(c, id, &v);
    if (v == NULL) {
        return rc;
    }
    if (v->state != STRATA__INTERNAL__VOTE_STATE__VOTE_CLOSED) {
        rc = st_refuse(c, ST_ESTATE, "vote %llu is %s; %s", (unsigned long long)id,
                       st_vote_state_name(st_vote_state_of(v)),
                       v->state == STRATA__INTERNAL__VOTE_STATE__VOTE_PUBLISHED
                           ? "it has been published already"
                           : "close it first; only a closed vote can be published");
        st_pb_free(v);
        return rc;
    }
    pb_outcome o = STRATA__INTERNAL__OUTCOME__INIT;
    /* o points into these until the vote is packed: same scope as o. */
    pb_cand cands[ST_CANDIDATES_MAX], *ptrs[ST_CANDIDATES_MAX]; // cppcheck-suppress variableScope
    char line[160];
    if (v->matter == ST_MATTER_ELECTION) {
        rc = publish_election(v, &o, cands, ptrs, line, sizeof(line));
    } else {
        rc = publish_matter(v, &o, line, sizeof(line));
    }
    if (rc == 0) {
        pb_outcome *old = v->outcome; /* NULL: a closed vote has no outcome yet */
        v->outcome = &o;
        v->state = STRATA__INTERNAL__VOTE_STATE__VOTE_PUBLISHED;
        v->published_ms = c->cmd->time_ms;
        rc = put_vote(c, v);
        v->outcome = old; /* o lives on the stack: do not let free_unpacked see it */
        if (rc == 0) {
            st_accept(c, id, "vote.publish", v->community_id, id, "published vote %llu: %s",
                      (unsigned long long)id, line);
        }
    }
    st_pb_free(v);
    return rc;
}
