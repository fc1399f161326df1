/* voting.c - typed calls of strata.v1.Voting: create a vote and move it through its steps,
 * read and list votes, cast a ballot (built and signed here in its canonical form: online by
 * the owner or an authorised proxy, on paper by the organiser who enters it), read an
 * owner's own ballots.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/lib/internal.h"
#include "crypto/ballot.h"
#include "crypto/merkle.h"
#include "crypto/receipt.h"
#include "crypto/record.h"

#define VOTING "/strata.v1.Voting/"

_Static_assert(ST_CLIENT_RECORD_MAX_LEN == ST_RECORD_MAX_LEN, "record size");
_Static_assert(ST_CLIENT_OWNER_ID_MAX == ST_OWNER_ID_MAX, "owner id size");
_Static_assert(ST_CLIENT_MAX_APPROVALS == ST_BALLOT_MAX_APPROVALS, "approvals");

int st_create_vote(st_client *c, const st_vote_spec *spec, uint64_t *vote_id, st_error *err) {
    if (spec->title == NULL || spec->title[0] == '\0') {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "the vote needs a title");
    }
    if (spec->matter < 1 || spec->matter > 9) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "matter %u is not a matter of Civil Code art. 278; use 1 to 9",
                        spec->matter);
    }
    uint8_t rid[ST_CLIENT_REQUEST_ID_LEN];
    st_request_id_new(rid);
    Strata__V1__CreateVoteRequest req = STRATA__V1__CREATE_VOTE_REQUEST__INIT;
    req.request_id.data = rid;
    req.request_id.len = sizeof(rid);
    req.community_id = spec->community_id;
    req.matter = spec->matter;
    req.title = (char *)spec->title;
    if (spec->notice_days >= 0) {
        req.notice_case = STRATA__V1__CREATE_VOTE_REQUEST__NOTICE_NOTICE_DAYS;
        req.notice_days = (uint32_t)spec->notice_days;
    }
    req.seats = spec->seats;
    req.n_candidates = spec->n_candidates;
    req.candidates = (char **)spec->candidates;
    ProtobufCMessage *resp = NULL;
    int rc = st__unary(c, VOTING "CreateVote", &req.base,
                       &strata__v1__create_vote_response__descriptor, true, &resp, err);
    if (rc == ST_OK) {
        *vote_id = ((Strata__V1__CreateVoteResponse *)resp)->vote_id;
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return rc;
}

const char *st_vote_step_name(st_vote_step step) {
    switch (step) {
    case ST_STEP_NOTICE:
        return "notice";
    case ST_STEP_OPEN:
        return "open";
    case ST_STEP_CLOSE:
        return "close";
    case ST_STEP_PUBLISH:
        return "publish";
    default:
        return NULL;
    }
}

int st_step_vote(st_client *c, uint64_t vote_id, st_vote_step step, Strata__V1__Vote **out,
                 st_error *err) {
    static const char *const methods[] = {NULL, VOTING "NoticeVote", VOTING "OpenVote",
                                          VOTING "CloseVote", VOTING "PublishVote"};
    if (step < ST_STEP_NOTICE || step > ST_STEP_PUBLISH) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "unknown vote step %d", (int)step);
    }
    uint8_t rid[ST_CLIENT_REQUEST_ID_LEN];
    st_request_id_new(rid);
    Strata__V1__VoteStepRequest req = STRATA__V1__VOTE_STEP_REQUEST__INIT;
    req.request_id.data = rid;
    req.request_id.len = sizeof(rid);
    req.vote_id = vote_id;
    ProtobufCMessage *resp = NULL;
    int rc =
        st__unary(c, methods[step], &req.base, &strata__v1__vote__descriptor, true, &resp, err);
    if (rc == ST_OK) {
        if (out != NULL) {
            *out = (Strata__V1__Vote *)resp;
        } else {
            protobuf_c_message_free_unpacked(resp, NULL);
        }
    }
    return rc;
}

int st_get_vote(st_client *c, uint64_t vote_id, bool allow_stale, Strata__V1__Vote **out,
                bool *stale, st_error *err) {
    Strata__V1__GetVoteRequest req = STRATA__V1__GET_VOTE_REQUEST__INIT;
    req.vote_id = vote_id;
    req.allow_stale = allow_stale;
    int md_stale = -1;
    st_call_options o;
    memset(&o, 0, sizeof(o));
    o.stale = &md_stale;
    int rc = st_client_unary(c, VOTING "GetVote", &req.base, &strata__v1__vote__descriptor, &o,
                             (ProtobufCMessage **)out, err);
    if (rc == ST_OK && stale != NULL) {
        /* The answer marks itself (Vote.stale); older nodes said it in metadata. */
        *stale = (*out)->stale || md_stale == 1;
    }
    return rc;
}

int st_list_votes(st_client *c, uint64_t community_id, Strata__V1__ListVotesResponse **out,
                  st_error *err) {
    Strata__V1__ListVotesRequest req = STRATA__V1__LIST_VOTES_REQUEST__INIT;
    req.community_id = community_id;
    return st__unary(c, VOTING "ListVotes", &req.base, &strata__v1__list_votes_response__descriptor,
                     false, (ProtobufCMessage **)out, err);
}

/* Checks the cast and writes its approvals sorted ascending into sorted[]. */
static int check_cast(const st_cast *b, uint32_t sorted[ST_BALLOT_MAX_APPROVALS], st_error *err) {
    if (b->owner_id == NULL || !st_owner_id_ok(b->owner_id)) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "the owner id must be 1 to 64 bytes of UTF-8 without control characters");
    }
    if (b->proxy_owner_id != NULL &&
        (!st_owner_id_ok(b->proxy_owner_id) || strcmp(b->proxy_owner_id, b->owner_id) == 0)) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "the proxy must be another owner than the one the ballot counts for");
    }
    if (b->paper && b->scan_sha256 == NULL) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "a paper ballot carries the SHA-256 of its scan");
    }
    if (!b->election) {
        if (b->choice < ST_CHOICE_AGREE || b->choice > ST_CHOICE_ABSTAIN) {
            return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                            "the choice must be agree, disagree or abstain");
        }
        return ST_OK;
    }
    if (b->n_approvals > ST_BALLOT_MAX_APPROVALS || (b->n_approvals > 0 && b->approvals == NULL)) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "at most %d approvals fit a ballot",
                        ST_BALLOT_MAX_APPROVALS);
    }
    for (size_t i = 0; i < b->n_approvals; i++) {
        uint32_t v = b->approvals[i];
        size_t j = i;
        for (; j > 0 && sorted[j - 1] > v; j--) {
            sorted[j] = sorted[j - 1];
        }
        sorted[j] = v;
    }
    for (size_t i = 1; i < b->n_approvals; i++) {
        if (sorted[i] == sorted[i - 1]) {
            return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                            "candidate %u is approved twice; approve each candidate once",
                            sorted[i]);
        }
    }
    return ST_OK;
}

/* Builds and signs the canonical ballot and its record into the request and *out. */
static int sign_ballot(const st_cast *b, const uint32_t *sorted, const uint8_t nonce[ST_NONCE_LEN],
                       const st_keypair *k, st_record *rec, uint8_t bytes[ST_BALLOT_MAX_LEN],
                       size_t *blen, st_cast_result *out, st_error *err) {
    memset(rec, 0, sizeof(*rec));
    st_ballot *bal = &rec->ballot;
    bal->community_id = b->community_id;
    bal->vote_id = b->vote_id;
    snprintf(bal->owner_id, sizeof(bal->owner_id), "%s", b->owner_id);
    if (b->election) {
        bal->kind = ST_BALLOT_KIND_APPROVAL;
        bal->n_approvals = (uint8_t)b->n_approvals;
        memcpy(bal->approvals, sorted, b->n_approvals * sizeof(uint32_t));
    } else {
        bal->kind = ST_BALLOT_KIND_CHOICE;
        bal->choice = (uint8_t)b->choice;
    }
    memcpy(bal->nonce, nonce, ST_NONCE_LEN);
    bal->cast_ms = st__wall_ms();
    st_key_id(bal->key_id, k->pk);
    rec->source = b->paper ? ST_SOURCE_PAPER : ST_SOURCE_ONLINE;
    if (b->paper) {
        memcpy(rec->scan_sha256, b->scan_sha256, sizeof(rec->scan_sha256));
    }
    if (b->proxy_owner_id != NULL) {
        rec->proxy = 1;
        snprintf(rec->proxy_owner_id, sizeof(rec->proxy_owner_id), "%s", b->proxy_owner_id);
    }
    char msg[256];
    int rc = st_ballot_encode_buf(bal, bytes, blen, msg, sizeof(msg));
    if (rc == ST_OK) {
        rc = st_record_sign(rec, k->sk, msg, sizeof(msg));
    }
    if (rc == ST_OK) {
        rc = st_record_encode_buf(rec, out->record, &out->record_len, msg, sizeof(msg));
    }
    if (rc != ST_OK) {
        out->record_len = 0;
        return st__fail(err, ST_FAIL_LOCAL, rc, "cannot build the signed ballot: %s", msg);
    }
    return ST_OK;
}

/* The receipt must promise the record that was sent. */
static int check_receipt_leaf(const st_cast_result *out, st_error *err) {
    st_receipt rc;
    uint8_t leaf[32];
    char msg[256];
    if (st_receipt_decode(&rc, out->receipt, out->receipt_len, msg, sizeof(msg)) != ST_OK) {
        return st__fail(err, ST_FAIL_REFUSED, ST_ECORRUPT,
                        "the ballot was accepted (seq %llu) but its receipt cannot be read: %s",
                        (unsigned long long)out->seq, msg);
    }
    st_merkle_leaf_hash(leaf, out->record, out->record_len);
    if (sodium_memcmp(leaf, rc.leaf_hash, sizeof(leaf)) != 0) {
        return st__fail(err, ST_FAIL_REFUSED, ST_ECORRUPT,
                        "the ballot was accepted (seq %llu) but the receipt is for another "
                        "record; keep it and report it to the street office",
                        (unsigned long long)out->seq);
    }
    return ST_OK;
}

int st_cast_ballot(st_client *c, const st_cast *b, st_cast_result *out, st_error *err) {
    uint32_t sorted[ST_BALLOT_MAX_APPROVALS];
    memset(out, 0, sizeof(*out));
    int rc = check_cast(b, sorted, err);
    if (rc != ST_OK) {
        return rc;
    }
    st_keypair *k = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->key != NULL) {
        rc = st__keypair_copy(c->key, &k);
    }
    pthread_mutex_unlock(&c->mu);
    if (rc != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, rc, "out of memory");
    }
    if (k == NULL) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "every ballot is signed: give the owner's key (or, for a paper ballot, "
                        "the organiser's) with --key");
    }

    uint8_t rid[ST_CLIENT_REQUEST_ID_LEN], nonce[ST_NONCE_LEN];
    st_request_id_new(rid);
    st__random(nonce, sizeof(nonce));
    Strata__V1__CastBallotRequest req = STRATA__V1__CAST_BALLOT_REQUEST__INIT;
    Strata__V1__Approvals ap = STRATA__V1__APPROVALS__INIT;
    req.request_id.data = rid;
    req.request_id.len = sizeof(rid);
    req.vote_id = b->vote_id;
    req.owner_id = (char *)b->owner_id;
    req.source = b->paper ? STRATA__V1__BALLOT_SOURCE__BALLOT_PAPER
                          : STRATA__V1__BALLOT_SOURCE__BALLOT_ONLINE;
    if (b->paper) {
        req.paper_scan_sha256.data = (uint8_t *)b->scan_sha256;
        req.paper_scan_sha256.len = 32;
        req.proxy_owner_id = (char *)(b->proxy_owner_id != NULL ? b->proxy_owner_id : "");
    }
    req.nonce.data = nonce;
    req.nonce.len = sizeof(nonce);
    if (b->election) {
        ap.n_candidates = b->n_approvals;
        ap.candidates = sorted;
        req.ballot_case = STRATA__V1__CAST_BALLOT_REQUEST__BALLOT_APPROVALS;
        req.approvals = &ap;
    } else {
        req.ballot_case = STRATA__V1__CAST_BALLOT_REQUEST__BALLOT_CHOICE;
        req.choice = (Strata__V1__Choice)b->choice;
    }
    st_record rec;
    uint8_t bytes[ST_BALLOT_MAX_LEN];
    size_t blen = 0;
    rc = sign_ballot(b, sorted, nonce, k, &rec, bytes, &blen, out, err);
    st_keypair_free(k);
    if (rc != ST_OK) {
        return rc;
    }
    req.signed_ballot.data = bytes;
    req.signed_ballot.len = blen;
    req.public_key.data = rec.pubkey;
    req.public_key.len = sizeof(rec.pubkey);
    req.signature.data = rec.sig;
    req.signature.len = sizeof(rec.sig);
    ProtobufCMessage *resp = NULL;
    rc = st__unary(c, VOTING "CastBallot", &req.base, &strata__v1__cast_ballot_response__descriptor,
                   true, &resp, err);
    if (rc != ST_OK) {
        return rc;
    }
    const Strata__V1__CastBallotResponse *r = (const Strata__V1__CastBallotResponse *)resp;
    out->seq = r->seq;
    out->leaf_index = r->leaf_index;
    out->tree_size = r->tree_size;
    if (r->receipt.len == ST_RECEIPT_LEN) {
        memcpy(out->receipt, r->receipt.data, ST_RECEIPT_LEN);
        out->receipt_len = ST_RECEIPT_LEN;
    } else if (r->receipt.len != 0) {
        rc = st__fail(err, ST_FAIL_REFUSED, ST_ECORRUPT,
                      "the ballot was accepted (seq %llu) but its receipt has %zu bytes, not %d",
                      (unsigned long long)r->seq, r->receipt.len, ST_RECEIPT_LEN);
    }
    protobuf_c_message_free_unpacked(resp, NULL);
    if (rc == ST_OK && out->receipt_len > 0 && out->record_len > 0) {
        rc = check_receipt_leaf(out, err);
    }
    return rc;
}

int st_my_ballots(st_client *c, uint64_t vote_id, const char *owner_id,
                  Strata__V1__MyBallotsResponse **out, st_error *err) {
    if (owner_id == NULL || !st_owner_id_ok(owner_id)) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "the owner id must be 1 to 64 bytes of UTF-8 without control characters");
    }
    Strata__V1__MyBallotsRequest req = STRATA__V1__MY_BALLOTS_REQUEST__INIT;
    req.vote_id = vote_id;
    req.owner_id = (char *)owner_id;
    return st__unary(c, VOTING "MyBallots", &req.base, &strata__v1__my_ballots_response__descriptor,
                     false, (ProtobufCMessage **)out, err);
}
