/* cmd_ballot_verify.c - `strata ballot verify RECEIPT`: anyone (a resident needs no key)
 * checks that the ballot of a receipt file is in the vote's log and counts: the receipt's and
 * its tree head's signatures against the node keys the cluster's roster lists, an inclusion
 * proof from any node, a consistency proof from the receipt's head to the latest one, and
 * whether a later ballot of the same owner replaced it. It says plainly "counted", or what
 * exactly is wrong.
 */
#include <string.h>

#include "client/cli.h"
#include "crypto/record.h"
#include "crypto/text.h"

#define VERIFY_USAGE "strata ballot verify RECEIPT [--json]"
#define NODES_MAX 64

static void verify_help(FILE *out) {
    fputs("usage: " VERIFY_USAGE "\n"
          "\n"
          "Checks a ballot receipt (the file strata ballot cast saved next to the owner's\n"
          "key) against the cluster; no key is needed:\n"
          "  1. the receipt and its signed tree head verify under a node key the cluster's\n"
          "     roster lists (strata cluster register), and promise the ballot in the file;\n"
          "  2. an inclusion proof from any node leads from the ballot to that tree head;\n"
          "  3. the vote's latest signed tree head extends it (a consistency proof): nothing\n"
          "     logged before was changed or dropped since;\n"
          "  4. no later ballot of the same owner replaced it (the last one counts).\n"
          "Prints \"counted\" and the details, or NOT COUNTED and what exactly is wrong.\n"
          "\n"
          "  --json   print {\"counted\", \"vote_id\", \"owner_id\", \"seq\", \"leaf_index\",\n"
          "           \"receipt_tree_size\", \"receipt_node\", \"latest_tree_size\",\n"
          "           \"latest_node\", \"replaced_by\", \"problem\"}\n"
          "\n"
          "Exit status: 0 counted, 1 not counted or the receipt does not check, 2 usage error,\n"
          "3 cluster unreachable.\n",
          out);
}

typedef struct {
    bool counted;
    const char *problem; /* NULL when counted */
    uint64_t replaced_by;
    bool open; /* the vote is still open: a later ballot may yet replace it */
} verdict;

/* The owner's last ballot of the vote (MyBallots is a public read). */
static int last_seq(const cli_command *cmd, st_client *c, uint64_t vote, const char *owner,
                    uint64_t *last) {
    Strata__V1__MyBallotsResponse *r = NULL;
    st_error e;
    if (st_my_ballots(c, vote, owner, &r, &e) != ST_OK) {
        return cli_error(cmd, &e);
    }
    *last = 0;
    for (size_t i = 0; i < r->n_ballots; i++) {
        *last = r->ballots[i]->seq > *last ? r->ballots[i]->seq : *last;
    }
    strata__v1__my_ballots_response__free_unpacked(r, NULL);
    return CLI_EXIT_OK;
}

static void print_verdict(const cli_globals *g, const st_receipt_file *f,
                          const st_receipt_check *chk, const verdict *v) {
    const st_receipt *rc = &chk->receipt;
    if (g->json) {
        printf("{\"counted\":%s,\"vote_id\":%llu,\"owner_id\":", v->counted ? "true" : "false",
               (unsigned long long)f->vote_id);
        cli_json_string(stdout, f->owner_id);
        printf(",\"seq\":%llu,\"leaf_index\":%llu,\"receipt_tree_size\":%llu,\"receipt_node\":%llu"
               ",\"latest_tree_size\":%llu,\"latest_node\":%llu,\"replaced_by\":",
               (unsigned long long)f->seq, (unsigned long long)rc->leaf_index,
               (unsigned long long)rc->sth.tree_size, (unsigned long long)rc->sth.node_id,
               (unsigned long long)chk->latest.tree_size, (unsigned long long)chk->latest.node_id);
        if (v->replaced_by != 0) {
            printf("%llu", (unsigned long long)v->replaced_by);
        } else {
            fputs("null", stdout);
        }
        fputs(",\"problem\":", stdout);
        if (v->problem != NULL) {
            cli_json_string(stdout, v->problem);
        } else {
            fputs("null", stdout);
        }
        fputs("}\n", stdout);
        return;
    }
    if (!v->counted) {
        printf("NOT COUNTED: %s\n", v->problem);
        return;
    }
    char t1[32], t2[32];
    printf("counted: the ballot of %s in vote %llu (seq %llu) is leaf %llu of the vote's log\n",
           f->owner_id, (unsigned long long)f->vote_id, (unsigned long long)f->seq,
           (unsigned long long)rc->leaf_index);
    printf("  receipt:      signed by node %llu at %s, log of %llu ballot%s\n",
           (unsigned long long)rc->sth.node_id, cli_time(rc->sth.timestamp_ms, t1, sizeof(t1)),
           (unsigned long long)rc->sth.tree_size, rc->sth.tree_size == 1 ? "" : "s");
    printf("  inclusion:    the proof leads from the ballot to that tree head's root\n");
    printf("  latest head:  node %llu at %s, %llu ballot%s; it extends the receipt's log\n",
           (unsigned long long)chk->latest.node_id,
           cli_time(chk->latest.timestamp_ms, t2, sizeof(t2)),
           (unsigned long long)chk->latest.tree_size, chk->latest.tree_size == 1 ? "" : "s");
    printf("  counts:       it is %s's last ballot%s\n", f->owner_id,
           v->open ? " so far (the vote is open: a later one would replace it)" : "");
}

static int verify_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &cli_ballot_verify_command;
    const char *pos[1];
    static const char *const names[] = {"RECEIPT"};
    int rc = cli_parse(cmd, g, argc, argv, NULL, 0, pos, names, 1, 1, NULL);
    if (rc != CLI_EXIT_OK || (rc = cli_need_cluster(cmd, g)) != CLI_EXIT_OK) {
        return rc;
    }
    st_receipt_file f;
    st_error e;
    if (st_receipt_file_load(pos[0], &f, &e) != ST_OK) {
        return cli_error(cmd, &e);
    }
    if (f.record_len == 0) {
        return cli_fail(cmd,
                        "%s holds no signed ballot record, so there is nothing to check "
                        "the receipt against",
                        pos[0]);
    }
    st_record rec;
    char msg[256];
    if (st_record_decode(&rec, f.record, f.record_len, msg, sizeof(msg)) != ST_OK ||
        strcmp(rec.ballot.owner_id, f.owner_id) != 0 || rec.ballot.vote_id != f.vote_id) {
        return cli_fail(cmd, "%s: its ballot record is not owner %s's ballot in vote %llu", pos[0],
                        f.owner_id, (unsigned long long)f.vote_id);
    }
    /* No key: a resident's check. A key given is used all the same. */
    st_client *c = NULL;
    if ((rc = cli_connect(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    st_trusted_key keys[NODES_MAX];
    size_t nkeys = 0;
    if (st_trusted_nodes(c, keys, NODES_MAX, &nkeys, &e) != ST_OK) {
        st_client_close(c);
        return cli_error(cmd, &e);
    }
    st_receipt_check chk;
    verdict v = {false, NULL, 0, false};
    rc = st_check_receipt(c, f.receipt, ST_RECEIPT_LEN, f.record, f.record_len, keys, nkeys, &chk,
                          &e);
    if (rc != ST_OK && e.kind == ST_FAIL_UNREACHABLE) {
        st_client_close(c);
        return cli_error(cmd, &e);
    }
    if (rc != ST_OK) {
        v.problem = e.message;
    } else if (chk.receipt.sth.vote_id != f.vote_id) {
        v.problem = "the receipt is for another vote than the file says";
    }
    uint64_t last = 0;
    if (v.problem == NULL) {
        rc = last_seq(cmd, c, f.vote_id, f.owner_id, &last);
        if (rc != CLI_EXIT_OK) {
            st_client_close(c);
            return rc;
        }
        Strata__V1__Vote *vote = NULL;
        if (st_get_vote(c, f.vote_id, false, &vote, NULL, &e) == ST_OK) {
            v.open = vote->state == STRATA__V1__VOTE_STATE__VOTE_OPEN;
            strata__v1__vote__free_unpacked(vote, NULL);
        }
        if (last > f.seq) {
            v.replaced_by = last;
            snprintf(msg, sizeof(msg),
                     "the ballot is in the log (seq %llu, leaf %llu) but %s's later ballot seq "
                     "%llu replaced it: only the last ballot counts",
                     (unsigned long long)f.seq, (unsigned long long)chk.receipt.leaf_index,
                     f.owner_id, (unsigned long long)last);
            v.problem = msg;
        } else if (last < f.seq) {
            snprintf(msg, sizeof(msg), "the service lists no ballot seq %llu of %s in vote %llu",
                     (unsigned long long)f.seq, f.owner_id, (unsigned long long)f.vote_id);
            v.problem = msg;
        }
    }
    st_client_close(c);
    v.counted = v.problem == NULL;
    print_verdict(g, &f, &chk, &v);
    if (!v.counted) {
        fprintf(stderr, "strata %s: %s: not counted: %s\n", cmd->name, pos[0], v.problem);
    }
    return v.counted ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

const cli_command cli_ballot_verify_command = {
    .name = "ballot verify",
    .summary = "check a receipt: signed, in the log, not replaced (anyone, no key)",
    .usage = VERIFY_USAGE,
    .run = verify_run,
    .help = verify_help,
};
