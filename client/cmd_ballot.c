/* cmd_ballot.c - `strata ballot cast|show|verify`: an owner casts (or replaces) a ballot,
 * signed with the key given (--key or STRATA_KEY) in its canonical form, for themself or as
 * an authorised proxy, and keeps the service's receipt in a file next to the key; an
 * organiser enters a paper ballot with the hash of its scan; an owner lists their own
 * ballots; anyone checks a receipt against the cluster's signed log (cmd_ballot_verify.c).
 */
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"
#include "core/matter.h"
#include "crypto/text.h"

static const cli_command cast_cmd, show_cmd;

#define CAST_USAGE                                                                                 \
    "strata ballot cast VOTE (--choice agree|disagree|abstain | --approve NAME...) "               \
    "[--owner OWNER_ID] [--paper --scan FILE [--proxy OWNER_ID]] [--json]"
#define SHOW_USAGE "strata ballot show VOTE [--owner OWNER_ID] [--json]"

static void cast_help(FILE *out) {
    fputs("usage: " CAST_USAGE "\n"
          "\n"
          "Casts a ballot in an open vote, signed with --key (or STRATA_KEY). A later ballot\n"
          "of the same owner replaces an earlier one until the vote closes; every one is\n"
          "kept in the vote's log. The receipt the service returns is saved next to the key\n"
          "file, as KEYNAME-voteV-seqS.receipt, and its path printed; anyone can check it\n"
          "with strata ballot verify.\n"
          "\n"
          "  --choice CHOICE      agree, disagree or abstain (同意, 反对, 弃权)\n"
          "  --approve NAME...    an election (matter 3): the candidates approved, at most the\n"
          "                       number of seats; repeat it or list the names after it\n"
          "  --owner OWNER_ID     the owner the ballot counts for. Default: the owner of the\n"
          "                       key. Another owner: a proxy ballot, which needs that owner's\n"
          "                       written authorisation (strata proxy authorise)\n"
          "  --paper              a paper ballot (书面), entered by an organiser: --key is the\n"
          "                       organiser's key and --owner is required\n"
          "  --scan FILE          the scanned paper ballot; its SHA-256 is recorded and signed\n"
          "  --proxy OWNER_ID     the authorised proxy who filled in the paper ballot\n"
          "  --json               print {\"vote_id\", \"owner_id\", \"seq\", \"leaf_index\",\n"
          "                       \"tree_size\", \"proxy\", \"paper\", \"receipt_file\"}\n"
          "\n"
          "Exit status: 0 recorded, 1 refused (vote not open, not on the roll, key not\n"
          "enrolled, ...), 2 usage error, 3 cluster unreachable.\n",
          out);
}

/* Candidate indexes of the names in list, from the vote's candidate list. */
static int approvals_of(const cli_command *cmd, const Strata__V1__Vote *v, const cli_list *list,
                        uint32_t *out) {
    for (size_t i = 0; i < list->n; i++) {
        size_t k = 0;
        while (k < v->n_candidates && strcmp(v->candidates[k], list->items[i]) != 0) {
            k++;
        }
        if (k == v->n_candidates) {
            fprintf(stderr, "strata %s: \"%s\" is not a candidate of vote %llu; the candidates: ",
                    cmd->name, list->items[i], (unsigned long long)v->id);
            for (size_t j = 0; j < v->n_candidates; j++) {
                fprintf(stderr, "%s%s", j ? ", " : "", v->candidates[j]);
            }
            fputc('\n', stderr);
            return CLI_EXIT_FAIL;
        }
        out[i] = (uint32_t)k;
    }
    return CLI_EXIT_OK;
}

/* Saves the receipt next to the key; path (the caller's, cap bytes) is "" when not saved. */
static int save_receipt(const cli_command *cmd, const cli_globals *g, const st_cast *b,
                        const st_cast_result *r, char *path, size_t cap) {
    path[0] = '\0';
    if (r->receipt_len == 0 || g->key == NULL || g->key[0] == '\0') {
        return CLI_EXIT_OK;
    }
    st_receipt_file f;
    memset(&f, 0, sizeof(f));
    f.vote_id = b->vote_id;
    f.seq = r->seq;
    snprintf(f.owner_id, sizeof(f.owner_id), "%s", b->owner_id);
    memcpy(f.receipt, r->receipt, ST_RECEIPT_LEN);
    f.record_len = r->record_len;
    memcpy(f.record, r->record, r->record_len);
    if (st_receipt_file_path(g->key, b->vote_id, r->seq, path, cap) != ST_OK) {
        path[0] = '\0';
        return cli_fail(cmd,
                        "the ballot is recorded (seq %llu), but the receipt's path is too "
                        "long to save it",
                        (unsigned long long)r->seq);
    }
    st_error e;
    if (st_receipt_file_save(path, &f, &e) != ST_OK) {
        path[0] = '\0';
        fprintf(stderr, "strata %s: the ballot is recorded (seq %llu), but ", cmd->name,
                (unsigned long long)r->seq);
        return cli_error(cmd, &e);
    }
    return CLI_EXIT_OK;
}

/* Online ballots: the owner the key is enrolled for, and whether the ballot is a proxy's
 * (for_owner given and not the key's owner). owner receives the owner the ballot counts for,
 * proxy the key's owner for a proxy ballot ("" otherwise). */
static int key_owner(const cli_command *cmd, st_client *c, const char *key_path,
                     const char *for_owner, char *owner, char *proxy) {
    uint8_t pk[ST_SIGN_PK_LEN], id[ST_KEY_ID_LEN];
    bool sealed = false;
    st_error e;
    if (st_keyfile_info(key_path, &sealed, pk, &e) != ST_OK) {
        return cli_error(cmd, &e);
    }
    st_key_id(id, pk);
    proxy[0] = '\0';
    Strata__V1__Key *k = NULL;
    if (st_get_key(c, id, &k, &e) != ST_OK) {
        if (e.kind == ST_FAIL_REFUSED && e.grpc_status == 5 /* NOT_FOUND */) {
            char hex[ST_KEY_ID_HEX_LEN + 1];
            st_hex_encode(hex, id, ST_KEY_ID_LEN);
            return cli_fail(cmd,
                            "key %s (%s) is not registered: enroll it first with the code from "
                            "the organiser (strata enroll redeem), or vote on paper",
                            hex, key_path);
        }
        if (e.kind == ST_FAIL_REFUSED && for_owner != NULL) {
            snprintf(owner, ST_CLIENT_OWNER_ID_MAX + 1, "%s", for_owner);
            return CLI_EXIT_OK; /* the service will judge the ballot itself */
        }
        return cli_error(cmd, &e);
    }
    int rc = CLI_EXIT_OK;
    if (k->role != STRATA__V1__ROLE__ROLE_OWNER) {
        rc = cli_fail(cmd,
                      "%s is %s key; online ballots are signed by an owner's enrolled key (an "
                      "organiser enters paper ballots with --paper)",
                      key_path,
                      k->role == STRATA__V1__ROLE__ROLE_ORGANISER ? "an organiser" : "a staff");
    } else if (k->revoked_ms != 0) {
        rc = cli_fail(cmd, "%s was revoked; ask the organiser for a new enrollment code", key_path);
    } else {
        snprintf(owner, ST_CLIENT_OWNER_ID_MAX + 1, "%s",
                 for_owner != NULL ? for_owner : k->owner_id);
        if (for_owner != NULL && strcmp(for_owner, k->owner_id) != 0) {
            snprintf(proxy, ST_CLIENT_OWNER_ID_MAX + 1, "%s", k->owner_id);
        }
    }
    strata__v1__key__free_unpacked(k, NULL);
    return rc;
}

static void print_cast(const cli_globals *g, const st_cast *b, const st_cast_result *r,
                       const char *path) {
    uint64_t vote = b->vote_id;
    if (g->json) {
        printf("{\"vote_id\":%llu,\"owner_id\":", (unsigned long long)vote);
        cli_json_string(stdout, b->owner_id);
        printf(",\"seq\":%llu,\"leaf_index\":%llu,\"tree_size\":%llu,\"proxy\":",
               (unsigned long long)r->seq, (unsigned long long)r->leaf_index,
               (unsigned long long)r->tree_size);
        if (b->proxy_owner_id != NULL) {
            cli_json_string(stdout, b->proxy_owner_id);
        } else {
            fputs("null", stdout);
        }
        printf(",\"paper\":%s,\"receipt_file\":", b->paper ? "true" : "false");
        if (path[0] != '\0') {
            cli_json_string(stdout, path);
        } else {
            fputs("null", stdout);
        }
        fputs("}\n", stdout);
        return;
    }
    printf("vote %llu: %sballot of %s%s%s recorded (seq %llu)\n", (unsigned long long)vote,
           b->paper ? "paper " : "", b->owner_id, b->proxy_owner_id ? " by proxy " : "",
           b->proxy_owner_id ? b->proxy_owner_id : "", (unsigned long long)r->seq);
    if (path[0] != '\0') {
        printf("receipt saved to %s\n", path);
    } else if (r->receipt_len > 0) {
        char b64[ST_B64_LEN(ST_RECEIPT_LEN) + 1];
        st_b64_encode(b64, sizeof(b64), r->receipt, r->receipt_len);
        printf("receipt (not saved): %s\n", b64);
    }
}

static int cast_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &cast_cmd;
    const char *owner_s = NULL, *choice_s = NULL, *scan = NULL, *proxy_s = NULL;
    bool paper = false;
    cli_list approve = {.n = 0};
    cli_opt opts[] = {
        {.name = "--owner", .value = &owner_s},  {.name = "--choice", .value = &choice_s},
        {.name = "--approve", .list = &approve}, {.name = "--paper", .flag = &paper},
        {.name = "--scan", .value = &scan},      {.name = "--proxy", .value = &proxy_s},
    };
    const char *pos[1];
    static const char *const names[] = {"VOTE"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 6, pos, names, 1, 1, NULL);
    uint64_t vote = 0;
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "VOTE", pos[0], UINT64_MAX, false, &vote)) != CLI_EXIT_OK) {
        return rc;
    }
    if ((choice_s == NULL) == (approve.n == 0)) {
        return cli_usage_error(cmd, "give --choice (a matter) or --approve (an election)");
    }
    st_choice choice = ST_CHOICE_NONE;
    if (choice_s != NULL && !st_ballot_choice_parse(choice_s, &choice)) {
        return cli_usage_error(cmd, "--choice \"%s\" is not known; use agree, disagree or abstain",
                               choice_s);
    }
    if (approve.n > ST_CLIENT_MAX_APPROVALS) {
        return cli_usage_error(cmd, "at most %d candidates can be approved",
                               ST_CLIENT_MAX_APPROVALS);
    }
    if (paper && (scan == NULL || owner_s == NULL)) {
        return cli_usage_error(cmd, "a paper ballot needs --scan FILE and --owner OWNER_ID");
    }
    if (!paper && (scan != NULL || proxy_s != NULL)) {
        return cli_usage_error(cmd, "--scan and --proxy are for paper ballots (--paper)");
    }
    if (proxy_s != NULL && strcmp(proxy_s, owner_s) == 0) {
        return cli_usage_error(cmd, "the proxy must be another owner than --owner");
    }
    if ((rc = cli_need_cluster(cmd, g)) != CLI_EXIT_OK) {
        return rc;
    }
    if (g->key == NULL || g->key[0] == '\0') {
        return cli_usage_error(cmd,
                               "every ballot is signed: give %s key with --key FILE (or "
                               "STRATA_KEY)",
                               paper ? "the organiser's" : "the owner's");
    }
    uint8_t sha[32];
    if (paper && (rc = cli_file_sha256(cmd, scan, sha)) != CLI_EXIT_OK) {
        return rc;
    }
    st_client *c = NULL;
    if ((rc = cli_connect(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    char owner[ST_CLIENT_OWNER_ID_MAX + 1], proxy[ST_CLIENT_OWNER_ID_MAX + 1] = "";
    if (paper) {
        snprintf(owner, sizeof(owner), "%s", owner_s);
        snprintf(proxy, sizeof(proxy), "%s", proxy_s != NULL ? proxy_s : "");
    } else if ((rc = key_owner(cmd, c, g->key, owner_s, owner, proxy)) != CLI_EXIT_OK) {
        st_client_close(c);
        return rc;
    }
    /* The vote's community and candidates: any node's copy will do, they never change. */
    Strata__V1__Vote *v = NULL;
    st_error e;
    if (st_get_vote(c, vote, true, &v, NULL, &e) != ST_OK) {
        st_client_close(c);
        return cli_error(cmd, &e);
    }
    bool election = v->matter == ST_MATTER_ELECTION;
    uint32_t idx[ST_CLIENT_MAX_APPROVALS];
    if (election && choice_s != NULL) {
        rc = cli_fail(cmd, "vote %llu is an election: give --approve NAME...",
                      (unsigned long long)vote);
    } else if (!election && approve.n > 0) {
        rc = cli_fail(cmd, "vote %llu is not an election: give --choice agree|disagree|abstain",
                      (unsigned long long)vote);
    } else if (election) {
        rc = approvals_of(cmd, v, &approve, idx);
    }
    st_cast b = {
        .community_id = v->community_id,
        .vote_id = vote,
        .owner_id = owner,
        .election = election,
        .choice = (int)choice,
        .approvals = idx,
        .n_approvals = approve.n,
        .paper = paper,
        .scan_sha256 = paper ? sha : NULL,
        .proxy_owner_id = proxy[0] != '\0' ? proxy : NULL,
    };
    strata__v1__vote__free_unpacked(v, NULL);
    if (rc != CLI_EXIT_OK) {
        st_client_close(c);
        return rc;
    }
    st_cast_result r;
    rc = st_cast_ballot(c, &b, &r, &e);
    st_client_close(c);
    if (rc != ST_OK) {
        return cli_error(cmd, &e);
    }
    char path[4096];
    rc = save_receipt(cmd, g, &b, &r, path, sizeof(path));
    print_cast(g, &b, &r, path);
    return rc;
}

static void show_help(FILE *out) {
    fputs("usage: " SHOW_USAGE "\n"
          "\n"
          "Lists every ballot of the owner in the vote, oldest first, and which one counts\n"
          "(the last).\n"
          "\n"
          "  --owner OWNER_ID   the owner (default: the owner of the key, --key)\n"
          "  --json             print {\"vote_id\", \"owner_id\", \"ballots\": [...]}\n"
          "\n"
          "Exit status: 0 shown, 1 refused, 2 usage error, 3 cluster unreachable.\n",
          out);
}

static void ballot_what(const Strata__V1__Ballot *b, bool json) {
    if (b->ballot_case == STRATA__V1__BALLOT__BALLOT_APPROVALS && b->approvals != NULL) {
        fputs(json ? "\"approvals\":[" : "approves", stdout);
        for (size_t i = 0; i < b->approvals->n_candidates; i++) {
            printf(json ? "%s%u" : "%s#%u", i ? (json ? "," : ", ") : (json ? "" : " "),
                   b->approvals->candidates[i]);
        }
        if (json) {
            fputc(']', stdout);
        } else if (b->approvals->n_candidates == 0) {
            fputs(" nobody", stdout);
        }
    } else {
        printf(json ? "\"choice\":\"%s\"" : "%s", cli_choice_name(b->choice));
    }
}

static int show_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &show_cmd;
    const char *owner = NULL;
    cli_opt opts[] = {{.name = "--owner", .value = &owner}};
    const char *pos[1];
    static const char *const names[] = {"VOTE"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 1, pos, names, 1, 1, NULL);
    uint64_t vote = 0;
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "VOTE", pos[0], UINT64_MAX, false, &vote)) != CLI_EXIT_OK) {
        return rc;
    }
    if (owner == NULL && (g->key == NULL || g->key[0] == '\0')) {
        return cli_usage_error(cmd, "--owner is missing (or give the owner's key with --key)");
    }
    st_client *c = NULL;
    rc = cli_connect(cmd, g, &c);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    char mine[ST_CLIENT_OWNER_ID_MAX + 1], proxy[ST_CLIENT_OWNER_ID_MAX + 1];
    if (owner == NULL) {
        if ((rc = key_owner(cmd, c, g->key, NULL, mine, proxy)) != CLI_EXIT_OK) {
            st_client_close(c);
            return rc;
        }
        owner = mine;
    }
    Strata__V1__MyBallotsResponse *r = NULL;
    st_error e;
    rc = st_my_ballots(c, vote, owner, &r, &e);
    st_client_close(c);
    if (rc != ST_OK) {
        return cli_error(cmd, &e);
    }
    if (g->json) {
        printf("{\"vote_id\":%llu,\"owner_id\":", (unsigned long long)vote);
        cli_json_string(stdout, owner);
        fputs(",\"ballots\":[", stdout);
        for (size_t i = 0; i < r->n_ballots; i++) {
            const Strata__V1__Ballot *b = r->ballots[i];
            printf("%s{\"seq\":%llu,", i ? "," : "", (unsigned long long)b->seq);
            ballot_what(b, true);
            printf(",\"source\":\"%s\",\"cast_ms\":%llu,\"current\":%s,\"leaf_index\":%llu}",
                   b->source == STRATA__V1__BALLOT_SOURCE__BALLOT_PAPER ? "paper" : "online",
                   (unsigned long long)b->cast_ms, b->current ? "true" : "false",
                   (unsigned long long)b->leaf_index);
        }
        fputs("]}\n", stdout);
    } else if (r->n_ballots == 0) {
        printf("vote %llu: no ballot of %s\n", (unsigned long long)vote, owner);
    } else {
        printf("vote %llu, ballots of %s:\n", (unsigned long long)vote, owner);
        for (size_t i = 0; i < r->n_ballots; i++) {
            const Strata__V1__Ballot *b = r->ballots[i];
            char when[32];
            printf("  seq %-4llu %s  %-6s ", (unsigned long long)b->seq,
                   cli_time(b->cast_ms, when, sizeof(when)),
                   b->source == STRATA__V1__BALLOT_SOURCE__BALLOT_PAPER ? "paper" : "online");
            ballot_what(b, false);
            if (b->proxy_owner_id != NULL && b->proxy_owner_id[0] != '\0') {
                printf("  by proxy %s", b->proxy_owner_id);
            }
            printf("%s\n", b->current ? "  (counts)" : "  (replaced)");
        }
    }
    strata__v1__my_ballots_response__free_unpacked(r, NULL);
    return CLI_EXIT_OK;
}

static const cli_command cast_cmd = {
    .name = "ballot cast",
    .summary = "cast or replace an owner's ballot; saves the receipt next to the key",
    .usage = CAST_USAGE,
    .run = cast_run,
    .help = cast_help,
};

static const cli_command show_cmd = {
    .name = "ballot show",
    .summary = "list an owner's ballots in a vote",
    .usage = SHOW_USAGE,
    .run = show_run,
    .help = show_help,
};

static const cli_command *const subs[] = {&cast_cmd, &show_cmd, &cli_ballot_verify_command, NULL};

const cli_command cli_ballot_command = {
    .name = "ballot",
    .summary = "cast ballots, look at your own, verify a receipt",
    .usage = "strata ballot cast|show|verify ...",
    .subs = subs,
};
