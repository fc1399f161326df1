/* steps.h - the domain steps the cluster tests share, each through the leader (client.h),
 * each signed with the key whose role the role matrix (docs/ROLES.md) asks for, and each
 * CHECKed: the cluster's Genesis and node registration, a community with its organiser,
 * its roll (the worked example's CSV or a generated one), owners enrolled with codes, a vote
 * through its lifecycle, signed online ballots (with their receipts) and paper ballots,
 * reads of votes, the ballot history, and a recount of a vote from its exported history.
 *
 * A tc_world holds the keys a test acts with: the operator and supervisor of Genesis, one
 * organiser per community, and the owners' device keys made at enrollment.
 */
#ifndef STRATA_TESTS_CLUSTER_STEPS_H
#define STRATA_TESTS_CLUSTER_STEPS_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/receipt.h"
#include "crypto/record.h"
#include "proto/strata/v1/audit.pb-c.h"
#include "proto/strata/v1/cluster.pb-c.h"
#include "proto/strata/v1/keys.pb-c.h"
#include "proto/strata/v1/registry.pb-c.h"
#include "proto/strata/v1/voting.pb-c.h"
#include "tests/cluster/client.h"

#define TC_WRITE_MS 30000 /* how long a step keeps retrying a write */
#define TC_MAX_COMMUNITIES 8

/* A roll to import: units with their strings owned by the struct. */
typedef struct {
    size_t n;
    Strata__V1__Unit *units;
    Strata__V1__Unit **ptrs;
} tc_roll;

void tc_roll_from_csv(const char *path, tc_roll *r);
/* n owners, one unit each: unit "U-<i>", owner "O<i>", area 5000 + 37 * i. */
void tc_roll_generated(size_t n, tc_roll *r);
void tc_roll_free(tc_roll *r);
/* The area of the owner's units in the roll (0 if not on it). */
int64_t tc_roll_owner_area(const tc_roll *r, const char *owner_id);

typedef struct {
    uint64_t community;
    char owner[65];
    tc_key key;
} tc_owner;

typedef struct {
    tc_key op, sup; /* Genesis: the operator and the supervisor */
    size_t n_communities;
    struct {
        uint64_t id;
        tc_key org; /* its organiser */
    } communities[TC_MAX_COMMUNITIES];
    size_t n_owners, cap_owners;
    tc_owner *owners; /* enrolled owners' device keys */
} tc_world;

/* A world with fresh operator and supervisor keys (nothing sent yet). */
void tc_world_init(tc_world *w);
void tc_world_free(tc_world *w);
/* The organiser key of a community of the world (CHECKs that there is one). */
const tc_key *tc_organiser(const tc_world *w, uint64_t community);
/* The enrolled key of owner in community, or NULL. */
const tc_key *tc_owner_key(const tc_world *w, uint64_t community, const char *owner);

/* 16 random bytes. */
void tc_request_id(uint8_t out[16]);

/* Keys.Genesis with the world's operator and supervisor keys, signed by the operator. */
void tc_genesis(tc_client *cl, const tc_world *w);
/* Cluster.RegisterNode of nodes 1..n (those running) with the key each one's Status
 * reports, signed by the operator. */
void tc_register_nodes(tc_client *cl, tc_cluster *c, const tc_world *w, int n);
/* Cluster.RegisterNode of node id alone (running; it need not be a member yet: register a
 * node before AddMember, since the members' Raft transport accepts registered keys only). */
void tc_register_node(tc_client *cl, tc_cluster *c, const tc_world *w, int id);
/* The trusted node keys of the replicated roster, as node id's Status lists them: into
 * keys (cap entries); returns how many. */
size_t tc_trusted_keys(tc_client *cl, int id, st_trusted_key *keys, size_t cap);
/* Genesis, RegisterNode of nodes 1..n, a community created by the supervisor (min notice 0
 * days) and an organiser appointed for it: returns its id. */
uint64_t tc_world_setup(tc_client *cl, tc_cluster *c, tc_world *w, int n, const char *name);

/* The supervisor creates a community (min_notice_days 0) and appoints a fresh organiser
 * key for it, recorded in the world. */
uint64_t tc_create_community(tc_client *cl, tc_world *w, const char *name);
uint64_t tc_import_roll(tc_client *cl, const tc_world *w, uint64_t community, const tc_roll *r);
/* Enrolls an owner: the organiser issues a code (only its code key's public half is sent),
 * the owner's new device key redeems it (crypto/approval.h); the key goes into the world. */
const tc_key *tc_enroll(tc_client *cl, tc_world *w, uint64_t community, const char *owner);

/* A vote with notice 0 days, created by the community's organiser. */
uint64_t tc_create_vote(tc_client *cl, const tc_world *w, uint64_t community, uint32_t matter,
                        const char *title);
/* NoticeVote, OpenVote, CloseVote or PublishVote by the vote's organiser; returns the
 * vote's state after. */
int tc_vote_step(tc_client *cl, const tc_world *w, uint64_t community, const char *step,
                 uint64_t vote);

/* What an accepted ballot came back with. */
typedef struct {
    uint64_t seq;
    st_receipt receipt;                /* decoded; leaf_index and the tree head inside */
    uint8_t record[ST_RECORD_MAX_LEN]; /* the signed ballot record the client built */
    size_t record_len;
} tc_cast_result;

/* An online ballot signed by the owner's enrolled key (crypto/ballot.h); the request is
 * signed by the same key. Returns its sequence number; *out (may be NULL) gets the receipt
 * and the record. */
uint64_t tc_cast(tc_client *cl, const tc_world *w, uint64_t community, uint64_t vote,
                 const char *owner, int choice, tc_cast_result *out);
/* A paper ballot with scan hash `scan` (32 bytes), entered and signed by the community's
 * organiser. */
uint64_t tc_cast_paper(tc_client *cl, const tc_world *w, uint64_t community, uint64_t vote,
                       const char *owner, int choice, const uint8_t scan[32], tc_cast_result *out);
/* Builds the request of a signed ballot into q (strings and bytes point into the storage
 * given): online by key, or paper (scan != NULL) by the organiser's key. The record the
 * ballot makes goes into record / *record_len. */
typedef struct {
    uint8_t ballot[ST_BALLOT_MAX_LEN];
    size_t ballot_len;
    uint8_t sig[64];
    uint8_t rid[16];
    uint8_t nonce[16];
    uint8_t scan[32];
    char owner[65];
    uint8_t record[ST_RECORD_MAX_LEN];
    size_t record_len;
} tc_ballot_buf;
void tc_ballot_request(const tc_key *key, uint64_t community, uint64_t vote, const char *owner,
                       int choice, const uint8_t *scan, tc_ballot_buf *buf,
                       Strata__V1__CastBallotRequest *q);
/* Checks a cast's receipt offline against the trusted node keys (and its record). */
void tc_check_receipt(const tc_cast_result *r, const st_trusted_key *keys, size_t n);

/* GetVote from node id with allow_stale (id 0: the leader, linearizable). The caller
 * frees the vote with protobuf_c_message_free_unpacked. */
Strata__V1__Vote *tc_get_vote(tc_client *cl, int id, uint64_t vote);
/* Every ballot of the vote from the leader (ExportBallots). */
void tc_export(tc_client *cl, uint64_t vote, Strata__V1__Ballot ***ballots, size_t *n);
/* The same, each stream allowed stream_ms (tc_export: 10 s) for long histories. */
void tc_export_within(tc_client *cl, uint64_t vote, int stream_ms, Strata__V1__Ballot ***ballots,
                      size_t *n);

/* Recounts a matter vote from its exported history (each owner's last ballot counts, with
 * the owner's area from the roll), checks the `current` flags, and CHECKs that the vote's
 * tally equals the recount. */
void tc_check_recount(const Strata__V1__Vote *v, Strata__V1__Ballot **ballots, size_t n,
                      const tc_roll *roll);

/* Cluster.Status of node id (NULL if it does not answer within timeout_ms). */
Strata__V1__StatusResponse *tc_status_of(tc_client *cl, int id, int timeout_ms);
/* Cluster.Status with_digest of node id: its data digest and the applied index it was read
 * at. false if the node does not answer. */
bool tc_state_digest(tc_client *cl, int id, uint8_t digest[32], uint64_t *index, int timeout_ms);
/* Waits until every running node among 1..n reports its data digest at the same applied
 * index (*index) and CHECKs that the digests are equal. false on timeout (still catching
 * up, or a node not answering). Call when no writes are in flight. */
bool tc_same_state(tc_client *cl, tc_cluster *c, int n, int timeout_ms, uint64_t *index);
/* Waits until some running node among 1..n reports itself ready leader; returns its id, 0
 * on timeout. */
int tc_wait_leader(tc_client *cl, tc_cluster *c, int n, int timeout_ms);
/* The leader's commit index, at least the index of every write acknowledged before the
 * call: a linearizable read first (its barrier is applied after every earlier write, and the
 * leader republishes its status after the loop iteration that applied those), then the
 * leader's Cluster.Status. Its Status read alone may still show the index of the iteration
 * before the one that answered the last write. */
uint64_t tc_leader_commit(tc_client *cl);
/* Waits until node id's applied index reaches index; returns whether it did. */
bool tc_wait_applied(tc_client *cl, int id, uint64_t index, int timeout_ms);

#endif
