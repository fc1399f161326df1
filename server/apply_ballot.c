/* apply_ballot.c - CastBallot: one owner's signed ballot in an open vote.
 *
 * Every ballot is signed (docs/ROLES.md §Ballots): online by the owner's enrolled key or an
 * authorised proxy's, on paper by the organiser who enters it. Apply checks the signed
 * bytes against the command and the vote, the signing key against the registry, the
 * signature itself (Ed25519 verification is deterministic) and the ballot nonce against
 * replay. The signed ballot record (crypto/record.h) is the leaf appended to the vote's
 * Merkle log (log_store.c).
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
#include "crypto/merkle.h"
#include "crypto/text.h"
#include "server/apply.h"
#include "server/ballot_sig.h"

/* A ballot whose signature has been checked: the decoded ballot, who cast it, its record
 * (the leaf data) and leaf hash. */
typedef struct {
    st_sballot ballot;
    bool proxy;
    char proxy_owner_id[ST_ID_MAX + 1];
    uint8_t bytes[ST_SB_RECORD_MAX];
    size_t len;
    uint8_t leaf_hash[32];
    uint8_t key_id[16];
} signed_ballot;

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

/* The command's approvals (any order, no repeats: checked) are the signed set. */
static bool same_set(const pb_approvals *a, const st_sballot *sb) {
    if (a->n_candidates != sb->n_approvals) {
        return false;
    }
    for (size_t i = 0; i < a->n_candidates; i++) {
        bool found = false;
        for (size_t j = 0; j < sb->n_approvals && !found; j++) {
            found = sb->approvals[j] == a->candidates[i];
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

/* The signed bytes say what the command says, for this vote. */
static int check_signed_content(st_apply_ctx *c, const Strata__Internal__CastBallot *b,
                                const pb_vote *v, const st_sballot *sb) {
    if (sb->community_id != v->community_id) {
        return st_refuse(c, ST_EINVAL,
                         "the signed ballot is for community %llu, but vote %llu belongs to "
                         "community %llu",
                         (unsigned long long)sb->community_id, (unsigned long long)v->id,
                         (unsigned long long)v->community_id);
    }
    if (sb->vote_id != v->id) {
        return st_refuse(c, ST_EINVAL, "the signed ballot is for vote %llu, not vote %llu",
                         (unsigned long long)sb->vote_id, (unsigned long long)v->id);
    }
    if (strcmp(sb->owner_id, b->owner_id) != 0) {
        return st_refuse(c, ST_EINVAL, "the signed ballot is for owner \"%s\", not \"%.64s\"",
                         sb->owner_id, b->owner_id);
    }
    bool same = v->matter == ST_MATTER_ELECTION ? sb->kind == 2 && same_set(b->approvals, sb)
                                                : sb->kind == 1 && sb->choice == (uint8_t)b->choice;
    if (!same) {
        return st_refuse(c, ST_EINVAL,
                         "the signed ballot's %s differs from the command's; send what was "
                         "signed",
                         v->matter == ST_MATTER_ELECTION ? "approvals" : "choice");
    }
    if (b->nonce.len != 0 && (b->nonce.len != ST_SB_NONCE_LEN ||
                              memcmp(b->nonce.data, sb->nonce, ST_SB_NONCE_LEN) != 0)) {
        return st_refuse(c, ST_EINVAL, "nonce must be empty or the signed ballot's 16-byte nonce");
    }
    if (sb->cast_ms > c->cmd->time_ms && sb->cast_ms - c->cmd->time_ms > ST_AUTH_WINDOW_MS) {
        return st_refuse(c, ST_EINVAL,
                         "the ballot's cast time is more than five minutes after the cluster's "
                         "time; check the device clock");
    }
    return 0;
}

/* Who may have signed: the key is the actor's, registered, active, and of the right role
 * and community; for another owner's ballot, an authorised proxy. Fills the record's proxy
 * fields. 0 with or without a refusal, or a storage code. */
static int check_signer(st_apply_ctx *c, const Strata__Internal__CastBallot *b, const pb_vote *v,
                        signed_ballot *sg) {
    bool paper = b->source == STRATA__INTERNAL__SOURCE__SOURCE_PAPER;
    char hex[ST_KEY_ID_HEX_LEN + 1];
    st_hex_encode(hex, sg->key_id, 16);
    if (memcmp(sg->key_id, sg->ballot.key_id, 16) != 0) {
        return st_refuse(c, ST_EAUTH, "the signed ballot names another key than public_key (%s)",
                         hex);
    }
    pb_keyrec *k;
    int rc = st_load_key(c->txn, c->store, sg->key_id, &k);
    if (rc == MDB_NOTFOUND) {
        return st_refuse(c, ST_EAUTH, "key %s is not registered; %s", hex,
                         paper ? "paper ballots are signed by the entering organiser's key"
                               : "enroll the owner's key with a code first");
    }
    if (rc != 0) {
        return rc;
    }
    if (k->revoked) {
        char at[32];
        st_format_time(k->revoked_ms, at, sizeof(at));
        rc = st_refuse(c, ST_EAUTH,
                       "key %s was revoked at %s; ballots it signed before then still count, "
                       "new ones need a newly enrolled key",
                       hex, at);
    } else if (memcmp(sg->key_id, c->actor_id, 16) != 0) {
        rc = st_refuse(c, ST_EPERM, "%s",
                       paper ? "a paper ballot is signed by the organiser who enters it, and "
                               "only that organiser sends it"
                             : "an online ballot is sent by the key that signed it (the "
                               "owner's, or the authorised proxy's)");
    } else if (paper && (k->role != STRATA__INTERNAL__ROLE__ROLE_ORGANISER ||
                         k->community_id != v->community_id)) {
        rc = st_refuse_not_organiser(c, v->community_id);
    } else if (!paper && (k->role != STRATA__INTERNAL__ROLE__ROLE_OWNER ||
                          k->community_id != v->community_id)) {
        rc = st_refuse(c, ST_EPERM,
                       "key %s is not an owner key of community %llu; online ballots are signed "
                       "by the community's enrolled owners",
                       hex, (unsigned long long)v->community_id);
    } else if (!paper && b->proxy_owner_id[0] != '\0') {
        rc = st_refuse(c, ST_EINVAL,
                       "proxy_owner_id is for paper ballots; an online proxy ballot is signed "
                       "with the proxy's own key");
    } else {
        /* Whose ballot: the owner's own, or a proxy's for the principal. */
        const char *proxy = paper ? b->proxy_owner_id : k->owner_id;
        bool own = paper ? proxy[0] == '\0' : strcmp(k->owner_id, b->owner_id) == 0;
        if (!own) {
            pb_proxy *p;
            rc = st_load_proxy(c->txn, c->store, v->id, b->owner_id, &p);
            bool ok = rc == 0 && strcmp(p->proxy_owner_id, proxy) == 0;
            if (rc == 0) {
                st_pb_free(p);
            }
            if (rc == 0 || rc == MDB_NOTFOUND) {
                rc = 0;
                if (!ok) {
                    rc = st_refuse(c, ST_EPERM,
                                   "%s \"%.64s\" is not authorised as owner %s's proxy in vote "
                                   "%llu; the organiser records a written authorisation first",
                                   paper ? "proxy" : "the key's owner", proxy, b->owner_id,
                                   (unsigned long long)v->id);
                } else if (strlen(proxy) > ST_ID_MAX) {
                    rc = ST_ECORRUPT; /* ids were checked when authorised */
                } else {
                    sg->proxy = true;
                    memcpy(sg->proxy_owner_id, proxy, strlen(proxy) + 1);
                }
            }
        }
    }
    st_pb_free(k);
    return rc;
}

/* Checks the ballot's signature material and builds its record into sg. 0 with or without
 * a refusal, or a storage code (a failed malloc is never a refusal). */
static int check_signature(st_apply_ctx *c, const Strata__Internal__CastBallot *b, const pb_vote *v,
                           signed_ballot *sg) {
    bool paper = b->source == STRATA__INTERNAL__SOURCE__SOURCE_PAPER;
    memset(sg, 0, sizeof(*sg));
    if (b->signed_bytes.len == 0 || b->public_key.len != ST_SIGN_PK_LEN ||
        b->signature.len != ST_SIGN_SIG_LEN) {
        return st_refuse(c, ST_EAUTH,
                         "%s: give signed_bytes (the canonical ballot), public_key (32 bytes) and "
                         "signature (64 bytes)",
                         paper ? "a paper ballot is signed by the organiser who enters it"
                               : "an online ballot must be signed by the owner's enrolled key "
                                 "(or an authorised proxy's); unsigned ballots are not accepted");
    }
    char err[200];
    if (st_sballot_decode(&sg->ballot, b->signed_bytes.data, b->signed_bytes.len, err,
                          sizeof(err)) != ST_OK) {
        return st_refuse(c, ST_EINVAL, "signed_bytes is not a canonical ballot: %s", err);
    }
    int rc = check_signed_content(c, b, v, &sg->ballot);
    if (rc != 0 || c->res->code != ST_OK) {
        return rc;
    }
    st_key_id(sg->key_id, b->public_key.data);
    rc = check_signer(c, b, v, sg);
    if (rc != 0 || c->res->code != ST_OK) {
        return rc;
    }
    rc = st_sballot_seal(b->signed_bytes.data, b->signed_bytes.len, b->public_key.data,
                         b->signature.data, paper, paper ? b->paper_scan_sha256.data : NULL,
                         sg->proxy ? sg->proxy_owner_id : NULL, sg->bytes, sizeof(sg->bytes),
                         &sg->len, err, sizeof(err));
    if (rc == ST_ENOMEM || rc == ST_ERANGE) {
        return rc == ST_ENOMEM ? ST_ENOMEM : ST_ECORRUPT;
    }
    if (rc == ST_EAUTH) {
        return st_refuse(c, ST_EAUTH, "the ballot's signature does not verify (%s)",
                         paper ? "paper ballots: strata-paper-ballot-v1 over the ballot bytes and "
                                 "the scan hash"
                               : "strata-ballot-v1 over the ballot bytes");
    }
    if (rc != ST_OK) {
        return st_refuse(c, ST_EINVAL, "the ballot record is not valid: %s", err);
    }
    st_key nk = st_key_id_bytes(v->id, sg->ballot.nonce, ST_SB_NONCE_LEN);
    MDB_val nkv = st_key_val(&nk), nv;
    rc = mdb_get(c->txn, st_dbi(c, ST_DB_BALLOT_NONCES), &nkv, &nv);
    if (rc == 0) {
        return st_refuse(c, ST_EEXIST,
                         "this signed ballot was cast already (its nonce is ballot %llu's in "
                         "vote %llu); a replayed ballot is not counted twice",
                         nv.mv_size == 8 ? (unsigned long long)st_get_be64(nv.mv_data) : 0ULL,
                         (unsigned long long)v->id);
    }
    if (rc != MDB_NOTFOUND) {
        return rc;
    }
    st_merkle_leaf_hash(sg->leaf_hash, sg->bytes, sg->len);
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

/* Appends the leaf, writes the ballot, its nonce, the voter's new current ballot, and the
 * vote with its new frontier. */
static int record_ballot(st_apply_ctx *c, const Strata__Internal__CastBallot *b, pb_vote *v,
                         pb_voter *voter, uint64_t seq, const signed_ballot *sg) {
    uint64_t leaf, size;
    uint8_t root[32];
    int rc = st_vlog_append(c->txn, c->store, v, sg->leaf_hash, &leaf, &size, root);
    if (rc != 0) {
        return rc;
    }
    uint8_t seqb[8];
    st_put_be64(seqb, seq);
    st_key nk = st_key_id_bytes(v->id, sg->ballot.nonce, ST_SB_NONCE_LEN);
    MDB_val nkv = st_key_val(&nk), nv = {8, seqb};
    if ((rc = mdb_put(c->txn, st_dbi(c, ST_DB_BALLOT_NONCES), &nkv, &nv, 0)) != 0) {
        return rc;
    }
    c->res->logged = true;
    c->res->log_vote_id = v->id;
    c->res->leaf_index = leaf;
    c->res->tree_size = size;
    memcpy(c->res->leaf_hash, sg->leaf_hash, 32);
    memcpy(c->res->root, root, 32);
    c->log_vote_id = v->id;
    c->log_tree_size = size;

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
    rec.nonce = (ProtobufCBinaryData){ST_SB_NONCE_LEN, (uint8_t *)sg->ballot.nonce};
    rec.time_ms = c->cmd->time_ms;
    rec.actor = c->cmd->actor;
    rec.index = c->index;
    rec.request_id = c->cmd->request_id;
    rec.record = (ProtobufCBinaryData){sg->len, (uint8_t *)sg->bytes};
    rec.leaf_index = leaf;
    rec.key_id = (ProtobufCBinaryData){16, (uint8_t *)sg->key_id};
    rec.proxy_owner_id = (char *)sg->proxy_owner_id;
    st_key bk = st_key_id2(v->id, seq);
    rc = st_msg_put(c->txn, st_dbi(c, ST_DB_BALLOTS), &bk, &rec.base);
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
    st_key k = st_key_u64(v->id);
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
    signed_ballot *sg = NULL;
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
    sg = malloc(sizeof(*sg));
    if (sg == NULL) {
        rc = ST_ENOMEM;
        goto out;
    }
    if ((rc = check_signature(c, b, v, sg)) != 0 || c->res->code != ST_OK) {
        goto out;
    }
    uint64_t seq = v->ballot_count + 1;
    bool replaces = voter->current_seq != 0;
    if ((rc = move_tally(v, voter, b)) != 0 || (rc = record_ballot(c, b, v, voter, seq, sg)) != 0) {
        goto out;
    }
    uint64_t leaf = c->res->leaf_index, size = c->res->tree_size;
    st_accept(c, seq, "ballot.cast", v->community_id, v->id,
              "ballot %llu in vote %llu: owner %s, %s%s%s%s; leaf %llu of %llu",
              (unsigned long long)seq, (unsigned long long)v->id, voter->owner_id,
              b->source == STRATA__INTERNAL__SOURCE__SOURCE_PAPER ? "paper" : "online",
              sg->proxy ? " by proxy " : "", sg->proxy ? sg->proxy_owner_id : "",
              replaces ? ", replacing the owner's earlier ballot" : "", (unsigned long long)leaf,
              (unsigned long long)size);
out:
    free(sg);
    if (voter != NULL) {
        st_pb_free(voter);
    }
    st_pb_free(v);
    return rc;
}
