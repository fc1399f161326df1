/* ballots.c - forged, misdirected and replayed ballots (docs/ROLES.md §Ballots): a broken
 * ballot signature, a ballot signed with another owner's key, one that claims another
 * owner's key id, A's owner voting in community B's vote, ballots for a closed, a published
 * and a missing vote, for an owner not on the roll, a ballot by a revoked key forwarded by
 * another owner, unsigned, with garbage or mismatching signed bytes, a cast time ahead of the
 * cluster, a paper ballot an owner enters, the same request id again with other content,
 * and a replayed ballot under a fresh request id. Each refusal's exact code is checked and
 * the data digest stays the same; the idempotent retry of an accepted ballot answers the
 * same sequence number and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/error.h"
#include "crypto/ballot.h"
#include "crypto/record.h"
#include "crypto/crypto.h"
#include "tests/core/check.h"
#include "tests/hostile/hostile.h"

#define CAST "/strata.v1.Voting/CastBallot"

/* A signed online ballot: signed by `signer`, its key id `key_id` (NULL: the signer's),
 * for community / vote / owner, cast at now + skew_ms. */
static void make(const tc_key *signer, const uint8_t *key_id, uint64_t community, uint64_t vote,
                 const char *owner, int choice, int64_t skew_ms, tc_ballot_buf *buf,
                 Strata__V1__CastBallotRequest *q) {
    memset(buf, 0, sizeof(*buf));
    CHECK(strlen(owner) <= 64);
    strcpy(buf->owner, owner);
    tc_request_id(buf->rid);
    st_ballot ballot;
    memset(&ballot, 0, sizeof(ballot));
    st_ballot *b = &ballot;
    b->community_id = community;
    b->vote_id = vote;
    strcpy(b->owner_id, owner);
    b->kind = ST_BALLOT_KIND_CHOICE;
    b->choice = (uint8_t)choice;
    CHECK(getrandom(b->nonce, sizeof(b->nonce), 0) == sizeof(b->nonce));
    memcpy(buf->nonce, b->nonce, sizeof(buf->nonce));
    b->cast_ms = (uint64_t)((int64_t)h_wall_ms() + skew_ms);
    memcpy(b->key_id, key_id != NULL ? key_id : signer->id, 16);
    CHECK(st_ballot_encode_buf(b, buf->ballot, &buf->ballot_len, NULL, 0) == ST_OK);
    /* Signed directly (st_record_sign refuses a key id that is not the signer's). */
    CHECK(st_sign_detached(buf->sig, ST_DOMAIN_BALLOT, buf->ballot, buf->ballot_len, signer->sk,
                           NULL, 0) == ST_OK);
    strata__v1__cast_ballot_request__init(q);
    q->request_id = (ProtobufCBinaryData){16, buf->rid};
    q->vote_id = vote;
    q->owner_id = buf->owner;
    q->ballot_case = STRATA__V1__CAST_BALLOT_REQUEST__BALLOT_CHOICE;
    q->choice = (Strata__V1__Choice)choice;
    q->source = STRATA__V1__BALLOT_SOURCE__BALLOT_ONLINE;
    q->nonce = (ProtobufCBinaryData){16, buf->nonce};
    q->signed_ballot = (ProtobufCBinaryData){buf->ballot_len, buf->ballot};
    q->public_key = (ProtobufCBinaryData){32, (uint8_t *)signer->pk};
    q->signature = (ProtobufCBinaryData){64, buf->sig};
}

/* Sends q signed by sender; returns the sequence number on OK (0 otherwise). */
static uint64_t send(h_ctx *h, const char *what, const tc_key *sender,
                     const Strata__V1__CastBallotRequest *q, int want, const char *text) {
    ProtobufCMessage *resp = h_expect(h, what, sender, CAST, &q->base,
                                      &strata__v1__cast_ballot_response__descriptor, want, text);
    uint64_t seq = 0;
    if (resp != NULL) {
        seq = ((Strata__V1__CastBallotResponse *)resp)->seq;
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return seq;
}

static void refused(h_ctx *h) {
    const tc_key *o1 = tc_owner_key(&h->w, h->a, "O1");
    const tc_key *o2 = tc_owner_key(&h->w, h->a, "O2");
    const tc_key *o5 = tc_owner_key(&h->w, h->a, "O5"); /* revoked by the role matrix */
    const tc_key *org = tc_organiser(&h->w, h->a);
    uint64_t a = h->a, open = h->vote_open;
    tc_ballot_buf buf;
    Strata__V1__CastBallotRequest q;

    make(o1, NULL, a, open, "O1", 1, 0, &buf, &q);
    buf.sig[5] ^= 0x01;
    send(h, "ballot with a broken signature", o1, &q, GRPC_STATUS_UNAUTHENTICATED, "signature");

    make(o2, NULL, a, open, "O1", 1, 0, &buf, &q);
    send(h, "O1's ballot signed with O2's key, sent by O2", o2, &q, GRPC_STATUS_PERMISSION_DENIED,
         NULL);

    make(o2, o1->id, a, open, "O1", 1, 0, &buf, &q);
    send(h, "ballot naming O1's key id, signed and sent by O2", o2, &q, GRPC_STATUS_UNAUTHENTICATED,
         NULL);

    make(o2, o1->id, a, open, "O1", 1, 0, &buf, &q);
    q.public_key = (ProtobufCBinaryData){32, (uint8_t *)o1->pk};
    send(h, "O1's key and key id, signature by O2, sent by O2", o2, &q,
         GRPC_STATUS_PERMISSION_DENIED, "sent by the key that signed it");

    make(o1, NULL, h->b, h->vote_b, "O1", 1, 0, &buf, &q);
    send(h, "A's owner O1 voting as O1 in B's vote", o1, &q, GRPC_STATUS_PERMISSION_DENIED, NULL);

    make(o1, NULL, a, h->vote_b, "O1", 1, 0, &buf, &q);
    send(h, "ballot for B's vote naming community A", o1, &q, GRPC_STATUS_INVALID_ARGUMENT, NULL);

    make(o2, NULL, a, h->vote_closed, "O2", 2, 0, &buf, &q);
    send(h, "ballot for a closed vote", o2, &q, GRPC_STATUS_FAILED_PRECONDITION,
         "nothing more can be added");

    make(o1, NULL, a, h->vote_pub, "O1", 2, 0, &buf, &q);
    send(h, "ballot for a published vote", o1, &q, GRPC_STATUS_FAILED_PRECONDITION, NULL);

    make(o1, NULL, a, 999999, "O1", 1, 0, &buf, &q);
    send(h, "ballot for a vote that does not exist", o1, &q, GRPC_STATUS_NOT_FOUND,
         "vote 999999 does not exist");

    make(o1, NULL, a, open, "ZZ-9", 1, 0, &buf, &q);
    send(h, "ballot for an owner not on the roll", o1, &q, GRPC_STATUS_NOT_FOUND, NULL);

    make(o5, NULL, a, open, "O5", 1, 0, &buf, &q);
    send(h, "ballot by a revoked key, forwarded by O1", o1, &q, GRPC_STATUS_UNAUTHENTICATED,
         "revoked");

    make(o1, NULL, a, open, "O1", 1, 0, &buf, &q);
    q.signature = (ProtobufCBinaryData){0, NULL};
    q.public_key = (ProtobufCBinaryData){0, NULL};
    send(h, "unsigned online ballot", o1, &q, GRPC_STATUS_UNAUTHENTICATED, NULL);

    make(o1, NULL, a, open, "O1", 1, 0, &buf, &q);
    q.choice = STRATA__V1__CHOICE__CHOICE_DISAGREE;
    send(h, "request says disagree, signed ballot agree", o1, &q, GRPC_STATUS_INVALID_ARGUMENT,
         NULL);

    make(o1, NULL, a, open, "O1", 1, 0, &buf, &q);
    q.choice = (Strata__V1__Choice)99;
    send(h, "choice 99", o1, &q, GRPC_STATUS_INVALID_ARGUMENT, NULL);

    make(o1, NULL, a, open, "O1", 1, 0, &buf, &q);
    CHECK(getrandom(buf.ballot, 50, 0) == 50);
    q.signed_ballot.len = 50;
    send(h, "signed ballot of random bytes", o1, &q, GRPC_STATUS_INVALID_ARGUMENT, NULL);

    make(o1, NULL, a, open, "O1", 1, 0, &buf, &q);
    q.signed_ballot.len--;
    send(h, "signed ballot one byte short", o1, &q, GRPC_STATUS_INVALID_ARGUMENT, NULL);

    make(o1, NULL, a, open, "O1", 1, 10 * 60 * 1000, &buf, &q);
    send(h, "ballot cast 10 minutes ahead", o1, &q, GRPC_STATUS_INVALID_ARGUMENT, NULL);

    make(o1, NULL, a, open, "O1", 1, 0, &buf, &q);
    buf.nonce[3] ^= 1;
    send(h, "request nonce not the signed one", o1, &q, GRPC_STATUS_INVALID_ARGUMENT, NULL);

    make(o1, NULL, a, open, "O1", 1, 0, &buf, &q);
    q.source = STRATA__V1__BALLOT_SOURCE__BALLOT_SOURCE_UNSPECIFIED;
    send(h, "ballot without a source", o1, &q, GRPC_STATUS_INVALID_ARGUMENT, "source is unset");

    make(o1, NULL, a, open, "O1", 1, 0, &buf, &q);
    q.ballot_case = STRATA__V1__CAST_BALLOT_REQUEST__BALLOT__NOT_SET;
    send(h, "ballot without a choice", o1, &q, GRPC_STATUS_INVALID_ARGUMENT, "the ballot is empty");

    make(o1, NULL, a, open, "O1", 1, 0, &buf, &q);
    q.request_id.len = 15;
    send(h, "ballot with a 15-byte request id", o1, &q, GRPC_STATUS_INVALID_ARGUMENT,
         "request_id must be 16 bytes");

    uint8_t scan[32] = {1, 2, 3};
    tc_ballot_request(o1, a, open, "O1", 1, scan, &buf, &q);
    send(h, "paper ballot entered by an owner", o1, &q, GRPC_STATUS_PERMISSION_DENIED, NULL);

    tc_ballot_request(org, h->b, h->vote_b, "O2", 1, scan, &buf, &q);
    send(h, "paper ballot for B's vote entered by A's organiser", org, &q,
         GRPC_STATUS_PERMISSION_DENIED, NULL);
}

static void retries(h_ctx *h) {
    const tc_key *o2 = tc_owner_key(&h->w, h->a, "O2");
    tc_ballot_buf buf, other;
    Strata__V1__CastBallotRequest q, q2;
    make(o2, NULL, h->a, h->vote_open, "O2", 1, 0, &buf, &q);
    uint64_t seq = send(h, "O2's ballot", o2, &q, GRPC_STATUS_OK, NULL);
    CHECK(seq > 0);

    h_state_mark(h);
    uint64_t again =
        send(h, "O2's ballot again, same request id (retry)", o2, &q, GRPC_STATUS_OK, NULL);
    if (again != seq) {
        h->mismatches++;
        fprintf(stderr, "MISMATCH retry answered seq %llu, the first %llu\n",
                (unsigned long long)again, (unsigned long long)seq);
    }
    make(o2, NULL, h->a, h->vote_open, "O2", 2, 0, &other, &q2);
    q2.request_id = q.request_id;
    send(h, "same request id, another ballot", o2, &q2, GRPC_STATUS_ALREADY_EXISTS, NULL);
    /* The same signed ballot (its nonce) under a fresh request id: a replay. */
    uint8_t rid[16];
    tc_request_id(rid);
    q.request_id = (ProtobufCBinaryData){16, rid};
    send(h, "the same signed ballot, new request id (replay)", o2, &q, GRPC_STATUS_ALREADY_EXISTS,
         NULL);
    h_state_same(h, "a retried, a conflicting and a replayed ballot");
}

void h_ballots(h_ctx *h) {
    uint64_t t0 = tc_now_ms();
    unsigned long n0 = h->inputs;
    h_state_mark(h);
    refused(h);
    h_state_same(h, "refused ballots");
    retries(h);
    printf("ballots: %lu inputs in %llu ms\n", h->inputs - n0,
           (unsigned long long)(tc_now_ms() - t0));
}
