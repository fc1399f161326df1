/* steps.h - the domain steps the cluster tests share, each through the leader (client.h)
 * and each CHECKed: create a community, import a roll (the worked example's CSV or a
 * generated one), run a vote through its lifecycle, cast ballots, read votes, export the
 * ballot history, and recount a vote from its exported history.
 */
#ifndef STRATA_TESTS_CLUSTER_STEPS_H
#define STRATA_TESTS_CLUSTER_STEPS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/strata/v1/audit.pb-c.h"
#include "proto/strata/v1/cluster.pb-c.h"
#include "proto/strata/v1/registry.pb-c.h"
#include "proto/strata/v1/voting.pb-c.h"
#include "tests/cluster/client.h"

#define TC_WRITE_MS 30000 /* how long a step keeps retrying a write */

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

/* 16 random bytes. */
void tc_request_id(uint8_t out[16]);

uint64_t tc_create_community(tc_client *cl, const char *name);
uint64_t tc_import_roll(tc_client *cl, uint64_t community, const tc_roll *r);
/* A vote with notice 0 days (the community is created with min_notice_days 0). */
uint64_t tc_create_vote(tc_client *cl, uint64_t community, uint32_t matter, const char *title);
/* NoticeVote, OpenVote, CloseVote or PublishVote; returns the vote's state after. */
int tc_vote_step(tc_client *cl, const char *step, uint64_t vote);
/* An online ballot; returns its sequence number. */
uint64_t tc_cast(tc_client *cl, uint64_t vote, const char *owner, int choice);

/* GetVote from node id with allow_stale (id 0: the leader, linearizable). The caller
 * frees the vote with protobuf_c_message_free_unpacked. */
Strata__V1__Vote *tc_get_vote(tc_client *cl, int id, uint64_t vote);
/* Every ballot of the vote from the leader (ExportBallots). */
void tc_export(tc_client *cl, uint64_t vote, Strata__V1__Ballot ***ballots, size_t *n);

/* Recounts a matter vote from its exported history (each owner's last ballot counts, with
 * the owner's area from the roll), checks the `current` flags, and CHECKs that the vote's
 * tally equals the recount. */
void tc_check_recount(const Strata__V1__Vote *v, Strata__V1__Ballot **ballots, size_t n,
                      const tc_roll *roll);

/* Cluster.Status of node id (NULL if it does not answer within timeout_ms). */
Strata__V1__StatusResponse *tc_status_of(tc_client *cl, int id, int timeout_ms);
/* Waits until some running node among 1..n reports itself ready leader; returns its id, 0
 * on timeout. */
int tc_wait_leader(tc_client *cl, tc_cluster *c, int n, int timeout_ms);
/* Waits until node id's applied index reaches index; returns whether it did. */
bool tc_wait_applied(tc_client *cl, int id, uint64_t index, int timeout_ms);

#endif
