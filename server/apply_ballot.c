/* apply_ballot.c - CastBallot: one owner's ballot in an open vote.
 *
 * Every ballot is appended to the vote's history under the next sequence number and kept
 * forever; the owner's current ballot (in their frozen voter record) is replaced; the
 * running tally (st_tally_change) or election counts (st_election_change) in the vote
 * record move from the old ballot to the new one in the same transaction, in O(1)
 * (O(seats) for elections) whatever the size of the roll.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "server/apply.h"

/* Checks the ballot against the command alone and the vote; 0 with no refusal = fine. */
static int check_ballot(st_apply_ctx *c, const Strata__Internal__CastBallot *b, const pb_vote *v) {
    bool election = v->matter == ST_MATTER_ELECTION;
    if (b->ballot_case == STRATA__INTERNAL__CAST_BALLOT__BALLOT__NOT_SET) {
        return st_refuse(c, ST_EINVAL, "the ballot has neither a choice nor approvals; give %s",
                         election ? "approvals (candidate indexes)"
                                  : "a choice: agree, disagree or abstain");
    }
    if (election && b->ballot_case == STRATA__INTERNAL__CAST_BALLOT__BALLOT_CHOICE) {
        return st_refuse(c, ST_EINVAL,
                         "vote %llu is an election; give approvals (candidate indexes), not a "
                         "choice",
                         (unsigned long long)v->id);
    }
    if (!election && b->ballot_case == STRATA__INTERNAL__CAST_BALLOT__BALLOT_APPROVALS) {
        return st_refuse(c, ST_EINVAL,
                         "vote %llu decides matter %u; give a choice (agree, disagree or "
                         "abstain), not approvals",
                         (unsigned long long)v->id, v->matter);
    }
    if (!election && !st_choice_valid((int)b->choice)) {
        return st_refuse(c, ST_EINVAL, "choice %d is not agree (1), disagree (2) or abstain (3)",
                         (int)b->choice);
    }
    if (election) {
        char err[200];
        const pb_approvals *a = b->approvals;
        int rc = st_approvals_check(v->seats, (uint32_t)v->n_candidates, a->candidates,
                                    a->n_candidates, err, sizeof(err));
        if (rc != ST_OK) {
            return st_refuse(c, rc, "%s", err);
        }
    }
    if (b->source == STRATA__INTERNAL__SOURCE__SOURCE_PAPER) {
        if (b->paper_scan_sha256.len != 32) {
            return st_refuse(c, ST_EINVAL,
                             "a paper ballot needs paper_scan_sha256, the SHA-256 (32 bytes) of "
                             "the scanned ballot; got %zu bytes",
                             b->paper_scan_sha256.len);
        }
        if (!st_text_ok(b->entered_by)) {
            return st_refuse(c, ST_EINVAL,
                             "a paper ballot needs entered_by, the organiser who entered it");
        }
    } else if (b->source == STRATA__INTERNAL__SOURCE__SOURCE_ONLINE) {
        if (b->paper_scan_sha256.len != 0) {
            return st_refuse(c, ST_EINVAL,
                             "an online ballot carries no paper_scan_sha256; leave it empty or "
                             "send the ballot as PAPER");
        }
        if (b->entered_by[0] != '\0' && !st_text_ok(b->entered_by)) {
            return st_refuse(c, ST_EINVAL,
                             "entered_by must be empty or 1 to %d bytes of UTF-8 text",
                             ST_NAME_MAX);
        }
    } else {
        return st_refuse(c, ST_EINVAL, "source %d is not ONLINE (1) or PAPER (2)", (int)b->source);
    }
    if (b->nonce.len > ST_NONCE_MAX) {
        return st_refuse(c, ST_EINVAL, "the ballot nonce has %zu bytes; at most %d are allowed",
                         b->nonce.len, ST_NONCE_MAX);
    }
    return 0;
}

/* Moves the running figures of v from the voter's current ballot to the new one. */
static int move_tally(pb_vote *v, const pb_voter *voter, const Strata__Internal__CastBallot *b) {
    bool had = voter->current_seq != 0;
    if (v->matter != ST_MATTER_ELECTION) {
        st_tally t = st_vote_tally(v);
        st_choice from = had ? (st_choice)voter->choice : ST_CHOICE_NONE;
        if (st_tally_change(&t, voter->area, from, (st_choice)b->choice) != ST_OK) {
            return ST_ECORRUPT; /* inputs were checked: only stored data can be wrong */
        }
        v->agree_area = t.agree.area;
        v->agree_owners = t.agree.owners;
        v->disagree_area = t.disagree.area;
        v->disagree_owners = t.disagree.owners;
        v->abstain_area = t.abstain.area;
        v->abstain_owners = t.abstain.owners;
        return 0;
    }
    st_election e;
    int rc = st_vote_election(v, &e);
    if (rc != ST_OK) {
        return rc;
    }
    const pb_approvals *a = b->approvals;
    rc = st_election_change(&e, voter->area, had, voter->approvals, voter->n_approvals, true,
                            a->candidates, a->n_candidates);
    if (rc != ST_OK) {
        st_election_free(&e);
        return ST_ECORRUPT;
    }
    for (size_t i = 0; i < e.candidates; i++) {
        v->approve_area[i] = e.approve[i].area;
        v->approve_owners[i] = e.approve[i].owners;
    }
    v->part_area = e.part.area;
    v->part_owners = e.part.owners;
    st_election_free(&e);
    return 0;
}

/* Writes the ballot, the voter's new current ballot, and the vote. */
static int record_ballot(st_apply_ctx *c, const Strata__Internal__CastBallot *b, pb_vote *v,
                         pb_voter *voter, uint64_t seq) {
    pb_ballot rec = STRATA__INTERNAL__BALLOT_RECORD__INIT;
    pb_approvals appr = STRATA__INTERNAL__APPROVALS__INIT;
    rec.vote_id = v->id;
    rec.seq = seq;
    rec.owner_id = voter->owner_id;
    if (b->ballot_case == STRATA__INTERNAL__CAST_BALLOT__BALLOT_CHOICE) {
        rec.ballot_case = STRATA__INTERNAL__BALLOT_RECORD__BALLOT_CHOICE;
        rec.choice = b->choice;
    } else {
        appr.n_candidates = b->approvals->n_candidates;
        appr.candidates = b->approvals->candidates;
        rec.ballot_case = STRATA__INTERNAL__BALLOT_RECORD__BALLOT_APPROVALS;
        rec.approvals = &appr;
    }
    rec.source = b->source;
    rec.paper_scan_sha256 = b->paper_scan_sha256;
    rec.entered_by = b->entered_by;
    rec.nonce = b->nonce;
    rec.time_ms = c->cmd->time_ms;
    rec.actor = c->cmd->actor;
    rec.index = c->index;
    rec.request_id = c->cmd->request_id;
    st_key bk = st_key_id2(v->id, seq);
    int rc = st_msg_put(c->txn, st_dbi(c, ST_DB_BALLOTS), &bk, &rec.base);
    if (rc != 0) {
        return rc;
    }

    /* The voter record: new current ballot and one more sequence in its history. The
     * arrays are swapped in for packing and swapped back before the record is freed. */
    uint64_t *seqs = malloc((voter->n_ballot_seqs + 1) * sizeof(*seqs));
    if (seqs == NULL) {
        return ST_ENOMEM;
    }
    if (voter->n_ballot_seqs > 0) {
        memcpy(seqs, voter->ballot_seqs, voter->n_ballot_seqs * sizeof(*seqs));
    }
    seqs[voter->n_ballot_seqs] = seq;
    uint64_t *old_seqs = voter->ballot_seqs;
    size_t old_nseqs = voter->n_ballot_seqs;
    uint32_t *old_appr = voter->approvals;
    size_t old_nappr = voter->n_approvals;
    Strata__Internal__Choice old_choice = voter->choice;
    voter->ballot_seqs = seqs;
    voter->n_ballot_seqs = old_nseqs + 1;
    voter->current_seq = seq;
    if (b->ballot_case == STRATA__INTERNAL__CAST_BALLOT__BALLOT_CHOICE) {
        voter->choice = b->choice;
        voter->approvals = NULL;
        voter->n_approvals = 0;
    } else {
        voter->choice = STRATA__INTERNAL__CHOICE__CHOICE_UNSPECIFIED;
        voter->approvals = b->approvals->candidates;
        voter->n_approvals = b->approvals->n_candidates;
    }
    st_key vk = st_key_id_str(v->id, voter->owner_id);
    rc = st_msg_put(c->txn, st_dbi(c, ST_DB_VOTERS), &vk, &voter->base);
    voter->ballot_seqs = old_seqs;
    voter->n_ballot_seqs = old_nseqs;
    voter->approvals = old_appr;
    voter->n_approvals = old_nappr;
    voter->choice = old_choice;
    free(seqs);
    if (rc != 0) {
        return rc;
    }
    v->ballot_count = seq;
    st_key k = st_key_id(v->id);
    return st_msg_put(c->txn, st_dbi(c, ST_DB_VOTES), &k, &v->base);
}

int st_apply_cast_ballot(st_apply_ctx *c) {
    const Strata__Internal__CastBallot *b = c->cmd->cast_ballot;
    pb_vote *v;
    int rc = st_load_vote(c->txn, c->store, b->vote_id, &v);
    if (rc == MDB_NOTFOUND) {
        return st_refuse(c, ST_ENOENT, "vote %llu does not exist; check the vote id",
                         (unsigned long long)b->vote_id);
    }
    if (rc != 0) {
        return rc;
    }
    pb_voter *voter = NULL;
    if (v->state != STRATA__INTERNAL__VOTE_STATE__VOTE_OPEN) {
        bool before = v->state == STRATA__INTERNAL__VOTE_STATE__VOTE_DRAFT ||
                      v->state == STRATA__INTERNAL__VOTE_STATE__VOTE_NOTICED;
        rc = st_refuse(c, ST_ESTATE, "vote %llu is %s; %s", (unsigned long long)v->id,
                       st_vote_state_name(st_vote_state_of(v)),
                       before ? "ballots can be cast once it opens"
                              : "it has closed and nothing more can be added to it");
        goto out;
    }
    rc = st_load_voter(c->txn, c->store, v->id, b->owner_id, &voter);
    if (rc == MDB_NOTFOUND) {
        rc = st_refuse(c, ST_ENOENT,
                       "owner \"%.64s\" is not on the roll frozen when vote %llu opened (roll "
                       "version %llu); check the owner id",
                       b->owner_id, (unsigned long long)v->id, (unsigned long long)v->roll_version);
        goto out;
    }
    if (rc != 0 || (rc = check_ballot(c, b, v)) != 0 || c->res->code != ST_OK) {
        goto out;
    }
    uint64_t seq = v->ballot_count + 1;
    bool replaces = voter->current_seq != 0;
    if ((rc = move_tally(v, voter, b)) != 0 || (rc = record_ballot(c, b, v, voter, seq)) != 0) {
        goto out;
    }
    st_accept(c, seq, "ballot.cast", v->community_id, v->id,
              "ballot %llu in vote %llu: owner %s, %s%s", (unsigned long long)seq,
              (unsigned long long)v->id, voter->owner_id,
              b->source == STRATA__INTERNAL__SOURCE__SOURCE_PAPER ? "paper" : "online",
              replaces ? ", replacing the owner's earlier ballot" : "");
out:
    if (voter != NULL) {
        st_pb_free(voter);
    }
    st_pb_free(v);
    return rc;
}
