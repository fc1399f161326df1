/* fake_node.c - a fake Strata node for the command-line tests (cli_test.sh): the in-process
 * fake server of fake_server.h in a process of its own, answering every call one way:
 *
 *   fake_node ADDR_FILE --community ID     CreateCommunityResponse{community_id: ID}
 *   fake_node ADDR_FILE --vote-example     the worked example of DOMAIN.md as a published
 *                                          vote on matter 4 (GetVote and the vote steps)
 *   fake_node ADDR_FILE --election         an election (matter 3, vote 8, 5 seats): 张三
 *                                          elected, 李四 not qualified
 *   fake_node ADDR_FILE --status CODE MSG  that gRPC status and message
 *   fake_node ADDR_FILE --follower ADDR    UNAVAILABLE with strata-leader: ADDR
 *
 * It writes its "127.0.0.1:PORT" to ADDR_FILE (renamed into place when complete) and runs
 * until SIGTERM or SIGINT. A test mock only: it knows nothing of votes beyond the reply.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/strata.h"
#include "tests/client/fake_server.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static void reply_with(fake_server *f, const ProtobufCMessage *m) {
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL) {
        exit(1);
    }
    protobuf_c_message_pack(m, buf);
    fake_set_reply(f, buf, n, 1);
    free(buf);
}

/* DOMAIN.md: O1, O2, O4, O6, O7, O9 agree; O3 and the developer disagree; O5 abstains. */
static void vote_example(fake_server *f) {
    Strata__V1__Tally t = STRATA__V1__TALLY__INIT;
    t.total_area = 134450;
    t.total_owners = 10;
    t.part_area = 128950;
    t.part_owners = 9;
    t.agree_area = 84715;
    t.agree_owners = 6;
    t.disagree_area = 37710;
    t.disagree_owners = 2;
    t.abstain_area = 6525;
    t.abstain_owners = 1;
    t.quorum = 1;
    t.passed = 1;
    Strata__V1__Vote v = STRATA__V1__VOTE__INIT;
    v.id = 7;
    v.community_id = 1;
    v.matter = 4;
    v.title = "Hire the property service company";
    v.threshold = STRATA__V1__THRESHOLD_CLASS__THRESHOLD_ORDINARY;
    v.state = STRATA__V1__VOTE_STATE__VOTE_PUBLISHED;
    v.created_ms = 1700000000000ULL;
    v.noticed_ms = 1700000001000ULL;
    v.opens_after_ms = 1700000001000ULL;
    v.opened_ms = 1700000002000ULL;
    v.closed_ms = 1700000003000ULL;
    v.published_ms = 1700000004000ULL;
    v.roll_version = 1;
    v.ballot_count = 9;
    v.tally = &t;
    reply_with(f, &v.base);
}

/* An election on the worked example's roll: 张三 approved by O1, O2, O4, O6, O7, O9. */
static void election(fake_server *f) {
    Strata__V1__Tally t = STRATA__V1__TALLY__INIT;
    t.total_area = 134450;
    t.total_owners = 10;
    t.part_area = 128950;
    t.part_owners = 9;
    t.quorum = 1;
    Strata__V1__CandidateResult a = STRATA__V1__CANDIDATE_RESULT__INIT;
    a.candidate = 0;
    a.name = "张三";
    a.approve_area = 84715;
    a.approve_owners = 6;
    a.qualified = 1;
    a.rank = 1;
    a.outcome = STRATA__V1__CANDIDATE_OUTCOME__CANDIDATE_ELECTED;
    Strata__V1__CandidateResult b = STRATA__V1__CANDIDATE_RESULT__INIT;
    b.candidate = 1;
    b.name = "李四";
    b.approve_area = 30000;
    b.approve_owners = 2;
    Strata__V1__CandidateResult *standing[2] = {&a, &b};
    char *names[2] = {"张三", "李四"};
    Strata__V1__Vote v = STRATA__V1__VOTE__INIT;
    v.id = 8;
    v.community_id = 1;
    v.matter = 3;
    v.title = "Elect the owners' committee";
    v.state = STRATA__V1__VOTE_STATE__VOTE_CLOSED;
    v.closed_ms = 1700000003000ULL;
    v.roll_version = 1;
    v.ballot_count = 9;
    v.tally = &t;
    v.seats = 5;
    v.n_candidates = 2;
    v.candidates = names;
    v.n_standing = 2;
    v.standing = standing;
    v.elected = 1;
    reply_with(f, &v.base);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: fake_node ADDR_FILE --community ID | --vote-example | --election "
                        "| --status CODE MSG | --follower ADDR\n");
        return 2;
    }
    fake_server *f = fake_start();
    if (f == NULL) {
        fprintf(stderr, "fake_node: cannot start\n");
        return 1;
    }
    if (strcmp(argv[2], "--community") == 0 && argc == 4) {
        Strata__V1__CreateCommunityResponse r = STRATA__V1__CREATE_COMMUNITY_RESPONSE__INIT;
        r.community_id = strtoull(argv[3], NULL, 10);
        reply_with(f, &r.base);
    } else if (strcmp(argv[2], "--vote-example") == 0) {
        vote_example(f);
    } else if (strcmp(argv[2], "--election") == 0) {
        election(f);
    } else if (strcmp(argv[2], "--status") == 0 && argc == 5) {
        fake_set_status(f, atoi(argv[3]), argv[4]);
    } else if (strcmp(argv[2], "--follower") == 0 && argc == 4) {
        fake_set_leader(f, argv[3]);
    } else {
        fprintf(stderr, "fake_node: unknown mode %s\n", argv[2]);
        return 2;
    }
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
    FILE *fp = fopen(tmp, "w");
    if (fp == NULL || fprintf(fp, "%s\n", fake_address(f)) < 0 || fclose(fp) != 0 ||
        rename(tmp, argv[1]) != 0) {
        fprintf(stderr, "fake_node: cannot write %s\n", argv[1]);
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!stop) {
        usleep(50000); /* a signal between a check and pause() would be lost */
    }
    fake_stop(f);
    return 0;
}
