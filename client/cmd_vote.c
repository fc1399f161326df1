/* cmd_vote.c - `strata vote ...`: an organiser creates a vote on a matter of Civil Code
 * art. 278 (or a committee election) and moves it through notice, open, close and publish;
 * anyone lists a community's votes and reads a result, as a readable report (the same as
 * `strata tally` prints for a recount) or as JSON with the keys of `strata tally --json`.
 */
#include <string.h>

#include "client/cli.h"
#include "core/election.h"
#include "core/matter.h"
#include "core/ratio.h"

static const cli_command create_cmd, notice_cmd, open_cmd, close_cmd, publish_cmd, list_cmd,
    result_cmd;

#define CREATE_USAGE                                                                               \
    "strata vote create COMMUNITY --matter 1-9 --title TITLE [--notice-days D] "                   \
    "[--seats N --candidate NAME...] [--json]"
#define LIST_USAGE "strata vote list COMMUNITY [--json]"
#define RESULT_USAGE "strata vote result VOTE [--stale] [--json]"

static const char *class_of(const Strata__V1__Vote *v) {
    return st_class_name(st_matter_class((int)v->matter));
}

/* The vote as one JSON object (lifecycle, no count). */
static void vote_json(FILE *out, const Strata__V1__Vote *v) {
    fprintf(out, "{\"id\":%llu,\"community_id\":%llu,\"matter\":%u,\"title\":",
            (unsigned long long)v->id, (unsigned long long)v->community_id, v->matter);
    cli_json_string(out, v->title);
    fprintf(out,
            ",\"class\":\"%s\",\"state\":\"%s\",\"notice_days\":%u,\"created_ms\":%llu"
            ",\"noticed_ms\":%llu,\"opens_after_ms\":%llu,\"opened_ms\":%llu,\"closed_ms\":%llu"
            ",\"published_ms\":%llu,\"roll_version\":%llu,\"ballot_count\":%llu",
            class_of(v), cli_vote_state(v->state), v->notice_days,
            (unsigned long long)v->created_ms, (unsigned long long)v->noticed_ms,
            (unsigned long long)v->opens_after_ms, (unsigned long long)v->opened_ms,
            (unsigned long long)v->closed_ms, (unsigned long long)v->published_ms,
            (unsigned long long)v->roll_version, (unsigned long long)v->ballot_count);
    if (v->matter == ST_MATTER_ELECTION) {
        fprintf(out, ",\"seats\":%u,\"candidates\":[", v->seats);
        for (size_t i = 0; i < v->n_candidates; i++) {
            if (i > 0) {
                fputc(',', out);
            }
            cli_json_string(out, v->candidates[i]);
        }
        fputc(']', out);
    }
    fputc('}', out);
}

/* Connects and parses the one VOTE argument of a command. */
static int vote_arg(const cli_command *cmd, cli_globals *g, int argc, char **argv,
                    const cli_opt *opts, size_t nopts, uint64_t *vote) {
    const char *pos[1];
    static const char *const names[] = {"VOTE"};
    int rc = cli_parse(cmd, g, argc, argv, opts, nopts, pos, names, 1, 1, NULL);
    if (rc == CLI_EXIT_OK) {
        rc = cli_number(cmd, "VOTE", pos[0], UINT64_MAX, false, vote);
    }
    return rc;
}

/* ---- create ---- */

static void create_help(FILE *out) {
    fputs("usage: " CREATE_USAGE "\n"
          "\n"
          "Creates a vote in the community (organisers) and prints its id. It starts as a\n"
          "draft; then strata vote notice, open, close and publish.\n"
          "\n"
          "  --matter N         the matter of Civil Code art. 278, 1 to 9:\n",
          out);
    for (int m = ST_MATTER_MIN; m <= ST_MATTER_MAX; m++) {
        fprintf(out, "                       %d  %s (%s), %s\n", m, st_matter_title(m),
                st_matter_title_zh(m), st_class_name(st_matter_class(m)));
    }
    fputs("  --title TITLE      what the owners are asked\n"
          "  --notice-days D    days between notice and opening (default: the community's\n"
          "                     minimum; never less)\n"
          "  --seats N          matter 3 only: committee seats, 5 to 11, odd\n"
          "  --candidate NAME   matter 3 only: a candidate; repeat it, or list several names\n"
          "                     after one --candidate\n"
          "  --json             print {\"id\": N}\n"
          "\n"
          "Exit status: 0 created, 1 refused, 2 usage error, 3 cluster unreachable.\n",
          out);
}

static int create_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &create_cmd;
    const char *matter_s = NULL, *title = NULL, *days_s = NULL, *seats_s = NULL;
    cli_list cands = {.n = 0};
    cli_opt opts[] = {
        {.name = "--matter", .value = &matter_s},    {.name = "--title", .value = &title},
        {.name = "--notice-days", .value = &days_s}, {.name = "--seats", .value = &seats_s},
        {.name = "--candidate", .list = &cands},
    };
    const char *pos[1];
    static const char *const names[] = {"COMMUNITY"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 5, pos, names, 1, 1, NULL);
    uint64_t community = 0, matter = 0, days = 0, seats = 0;
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "COMMUNITY", pos[0], UINT64_MAX, false, &community)) != CLI_EXIT_OK) {
        return rc;
    }
    if (matter_s == NULL) {
        return cli_usage_error(cmd, "--matter is missing");
    }
    if (title == NULL) {
        return cli_usage_error(cmd, "--title is missing");
    }
    if (cli_number(cmd, "--matter", matter_s, ST_MATTER_MAX, false, &matter) != CLI_EXIT_OK ||
        (days_s != NULL && cli_number(cmd, "--notice-days", days_s, 365, true, &days) != 0) ||
        (seats_s != NULL && cli_number(cmd, "--seats", seats_s, 99, false, &seats) != 0)) {
        return CLI_EXIT_USAGE;
    }
    if (matter == ST_MATTER_ELECTION) {
        if (seats_s == NULL || !st_seats_valid((uint32_t)seats)) {
            return cli_usage_error(cmd, "an election (matter 3) needs --seats: an odd number "
                                        "from 5 to 11");
        }
        if (cands.n == 0) {
            return cli_usage_error(cmd, "an election (matter 3) needs --candidate NAME...");
        }
        for (size_t i = 0; i < cands.n; i++) {
            for (size_t j = 0; j < i; j++) {
                if (strcmp(cands.items[i], cands.items[j]) == 0) {
                    return cli_usage_error(cmd, "candidate \"%s\" is named twice", cands.items[i]);
                }
            }
        }
    } else if (seats_s != NULL || cands.n > 0) {
        return cli_usage_error(cmd, "--seats and --candidate are for elections (matter 3) only");
    }
    st_client *c = NULL;
    rc = cli_connect(cmd, g, &c);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    st_vote_spec spec = {
        .community_id = community,
        .matter = (uint32_t)matter,
        .title = title,
        .notice_days = days_s != NULL ? (int)days : -1,
        .seats = (uint32_t)seats,
        .candidates = cands.items,
        .n_candidates = cands.n,
    };
    uint64_t id = 0;
    st_error e;
    if (st_create_vote(c, &spec, &id, &e) != ST_OK) {
        rc = cli_error(cmd, &e);
    } else if (g->json) {
        printf("{\"id\": %llu}\n", (unsigned long long)id);
    } else {
        printf("%llu\n", (unsigned long long)id);
    }
    st_client_close(c);
    return rc;
}

/* ---- notice, open, close, publish ---- */

static void step_help_text(FILE *out, const char *usage, const char *what) {
    fprintf(out,
            "usage: %s\n"
            "\n"
            "%s\n"
            "\n"
            "  --json   print the vote as one JSON object\n"
            "\n"
            "Exit status: 0 done, 1 refused (for instance: not allowed in the vote's state),\n"
            "2 usage error, 3 cluster unreachable.\n",
            usage, what);
}

static void notice_help(FILE *out) {
    step_help_text(out, "strata vote notice VOTE [--json]",
                   "Records that the owners were given notice of the vote (organisers). It may\n"
                   "open once the notice period has passed.");
}
static void open_help(FILE *out) {
    step_help_text(out, "strata vote open VOTE [--json]",
                   "Opens the vote for ballots (organisers), freezing the community's roll as it\n"
                   "is now: later changes to the roll do not affect this vote.");
}
static void close_help(FILE *out) {
    step_help_text(out, "strata vote close VOTE [--json]",
                   "Closes the vote (organisers): nothing can be added after this.");
}
static void publish_help(FILE *out) {
    step_help_text(out, "strata vote publish VOTE [--json]",
                   "Publishes the result (公示) to the community (organisers).");
}

static int step_run(cli_globals *g, int argc, char **argv) {
    static const struct {
        const char *name;
        st_vote_step step;
        const cli_command *cmd;
    } steps[] = {{"notice", ST_STEP_NOTICE, &notice_cmd},
                 {"open", ST_STEP_OPEN, &open_cmd},
                 {"close", ST_STEP_CLOSE, &close_cmd},
                 {"publish", ST_STEP_PUBLISH, &publish_cmd}};
    size_t k = 0;
    while (k < 3 && strcmp(argv[0], steps[k].name) != 0) {
        k++;
    }
    const cli_command *cmd = steps[k].cmd;
    uint64_t id = 0;
    int rc = vote_arg(cmd, g, argc, argv, NULL, 0, &id);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    st_client *c = NULL;
    rc = cli_connect(cmd, g, &c);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    Strata__V1__Vote *v = NULL;
    st_error e;
    if (st_step_vote(c, id, steps[k].step, &v, &e) != ST_OK) {
        st_client_close(c);
        return cli_error(cmd, &e);
    }
    if (g->json) {
        vote_json(stdout, v);
        fputc('\n', stdout);
    } else {
        char t1[32], t2[32];
        switch (steps[k].step) {
        case ST_STEP_NOTICE:
            printf("vote %llu: noticed at %s; it may open from %s\n", (unsigned long long)v->id,
                   cli_time(v->noticed_ms, t1, sizeof(t1)),
                   cli_time(v->opens_after_ms, t2, sizeof(t2)));
            break;
        case ST_STEP_OPEN:
            printf("vote %llu: open since %s, counting against roll version %llu\n",
                   (unsigned long long)v->id, cli_time(v->opened_ms, t1, sizeof(t1)),
                   (unsigned long long)v->roll_version);
            break;
        case ST_STEP_CLOSE:
            printf("vote %llu: closed at %s with %llu ballot%s\n", (unsigned long long)v->id,
                   cli_time(v->closed_ms, t1, sizeof(t1)), (unsigned long long)v->ballot_count,
                   v->ballot_count == 1 ? "" : "s");
            break;
        default:
            printf("vote %llu: published at %s\n", (unsigned long long)v->id,
                   cli_time(v->published_ms, t1, sizeof(t1)));
            break;
        }
    }
    strata__v1__vote__free_unpacked(v, NULL);
    st_client_close(c);
    return CLI_EXIT_OK;
}

/* ---- list ---- */

static void list_help(FILE *out) {
    fputs("usage: " LIST_USAGE "\n"
          "\n"
          "Lists the community's votes: id, matter, state, ballots cast and title. Public:\n"
          "no key needed.\n"
          "\n"
          "  --json   print {\"community_id\", \"votes\": [...]}\n"
          "\n"
          "Exit status: 0 listed, 1 refused, 2 usage error, 3 cluster unreachable.\n",
          out);
}

static int list_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &list_cmd;
    const char *pos[1];
    static const char *const names[] = {"COMMUNITY"};
    int rc = cli_parse(cmd, g, argc, argv, NULL, 0, pos, names, 1, 1, NULL);
    uint64_t id = 0;
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "COMMUNITY", pos[0], UINT64_MAX, false, &id)) != CLI_EXIT_OK) {
        return rc;
    }
    st_client *c = NULL;
    rc = cli_connect(cmd, g, &c);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    Strata__V1__ListVotesResponse *r = NULL;
    st_error e;
    if (st_list_votes(c, id, &r, &e) != ST_OK) {
        st_client_close(c);
        return cli_error(cmd, &e);
    }
    if (g->json) {
        printf("{\"community_id\":%llu,\"votes\":[", (unsigned long long)id);
        for (size_t i = 0; i < r->n_votes; i++) {
            if (i > 0) {
                fputc(',', stdout);
            }
            vote_json(stdout, r->votes[i]);
        }
        fputs("]}\n", stdout);
    } else if (r->n_votes == 0) {
        printf("community %llu has no votes yet\n", (unsigned long long)id);
    } else {
        printf("%-6s %-7s %-10s %8s  %s\n", "vote", "matter", "state", "ballots", "title");
        for (size_t i = 0; i < r->n_votes; i++) {
            const Strata__V1__Vote *v = r->votes[i];
            printf("%-6llu %-7u %-10s %8llu  %s\n", (unsigned long long)v->id, v->matter,
                   cli_vote_state(v->state), (unsigned long long)v->ballot_count, v->title);
        }
    }
    strata__v1__list_votes_response__free_unpacked(r, NULL);
    st_client_close(c);
    return CLI_EXIT_OK;
}

/* ---- result ---- */

static void result_help(FILE *out) {
    fputs("usage: " RESULT_USAGE "\n"
          "\n"
          "Prints the count of a vote: participation, quorum, agree / disagree / abstain by\n"
          "area and by owners with their ratios, the threshold of its class and whether it\n"
          "passed (the report of strata tally), or for an election (matter 3) each\n"
          "candidate's approvals, rank and outcome. Before the vote closes the count is the\n"
          "running one. Public: no key needed.\n"
          "\n"
          "  --stale  let any node answer from its own state (may lag behind the leader)\n"
          "  --json   one JSON object: the keys of strata tally --json plus vote_id, matter,\n"
          "           state, ballot_count and stale; for elections also seats, elected,\n"
          "           runoff and candidates (name, approve_area, approve_owners, qualified,\n"
          "           rank, outcome)\n"
          "\n"
          "Exit status: 0 shown, 1 refused (or the service's decision disagrees with its own\n"
          "figures), 2 usage error, 3 cluster unreachable.\n",
          out);
}

static const char *outcome_name(int o) {
    return o == STRATA__V1__CANDIDATE_OUTCOME__CANDIDATE_ELECTED  ? "elected"
           : o == STRATA__V1__CANDIDATE_OUTCOME__CANDIDATE_RUNOFF ? "runoff"
                                                                  : "not_elected";
}

/* The JSON of the result: one writer for this, strata tally and the audit bundle. */
static void result_json(const Strata__V1__Vote *v, bool stale) {
    st_result r;
    st_result_candidate cands[ST_CANDIDATES_MAX];
    st_result_of_vote(v, stale, &r, cands);
    st_result_json(stdout, &r);
}

static void election_report(const Strata__V1__Vote *v, const st_tally *t, const st_decision *d) {
    char pa[16], po[16];
    fputs("Participating:  ", stdout);
    cli_print_weight(stdout, d->part, t->total, " of the totals");
    printf("Quorum:         %s; rule: at least 2/3 of the total area and at least 2/3 of the "
           "owners take part\n",
           d->quorum ? "met" : "not met");
    printf("Seats:          %u; a candidate qualifies with approvals from more than half of "
           "participating area and owners\n",
           v->seats);
    printf("Candidates:     %u elected, %u in a run-off\n", v->elected, v->runoff);
    for (size_t i = 0; i < v->n_standing; i++) {
        const Strata__V1__CandidateResult *cr = v->standing[i];
        char area[32];
        char rank[16] = "-";
        if (cr->rank > 0) {
            snprintf(rank, sizeof(rank), "%u.", cr->rank);
        }
        printf("  %3s %-12s %s m\xc2\xb2 (%s) / %lld %s (%s)  %s%s\n", rank, cr->name,
               st_area_str(cr->approve_area, area, sizeof(area)),
               st_percent_str(cr->approve_area, d->part.area, pa, sizeof(pa)),
               (long long)cr->approve_owners, cli_owners_word(cr->approve_owners),
               st_percent_str(cr->approve_owners, d->part.owners, po, sizeof(po)),
               outcome_name(cr->outcome), cr->qualified ? "" : " (not qualified)");
    }
    if (v->runoff > 0) {
        printf("Result:         a tie at the last seat: the %u candidates marked runoff need a "
               "run-off vote\n",
               v->runoff);
    }
}

static void result_report(const Strata__V1__Vote *v, const st_tally *t, const st_decision *d,
                          bool stale) {
    int m = (int)v->matter;
    st_class cls = st_matter_class(m);
    char t1[32], area[32];
    if (m == ST_MATTER_ELECTION) {
        printf("Strata vote %llu: matter 3 (%s, %s), an election\n", (unsigned long long)v->id,
               st_matter_title(m), st_matter_title_zh(m));
    } else {
        printf("Strata vote %llu: matter %d (%s, %s), %s %s matter\n", (unsigned long long)v->id, m,
               st_matter_title(m), st_matter_title_zh(m), cls == ST_CLASS_SPECIAL ? "a" : "an",
               st_class_name(cls));
    }
    printf("  title:    %s\n", v->title);
    printf("  state:    %s", cli_vote_state(v->state));
    if (v->published_ms) {
        printf(" (published %s)", cli_time(v->published_ms, t1, sizeof(t1)));
    } else if (v->closed_ms) {
        printf(" (closed %s)", cli_time(v->closed_ms, t1, sizeof(t1)));
    } else if (v->opened_ms) {
        printf(" (opened %s; a running count, final when the vote closes)",
               cli_time(v->opened_ms, t1, sizeof(t1)));
    }
    fputc('\n', stdout);
    if (stale) {
        printf("  stale:    answered by one node from its own state, which may lag\n");
    }
    printf("\nRoll:           version %llu, frozen when the vote opened; total %s m\xc2\xb2 / "
           "%lld %s (area %lld in 1/100 m\xc2\xb2)\n",
           (unsigned long long)v->roll_version, st_area_str(t->total.area, area, sizeof(area)),
           (long long)t->total.owners, cli_owners_word(t->total.owners), (long long)t->total.area);
    printf("Ballots:        %llu cast (a later ballot of an owner replaces an earlier one)\n",
           (unsigned long long)v->ballot_count);
    if (m == ST_MATTER_ELECTION) {
        election_report(v, t, d);
    } else {
        cli_report_count(stdout, t, d, cls);
    }
}

static int result_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &result_cmd;
    bool allow_stale = false;
    cli_opt opts[] = {{.name = "--stale", .flag = &allow_stale}};
    uint64_t id = 0;
    int rc = vote_arg(cmd, g, argc, argv, opts, 1, &id);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    st_client *c = NULL;
    rc = cli_connect(cmd, g, &c);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    Strata__V1__Vote *v = NULL;
    bool stale = false;
    st_error e;
    if (st_get_vote(c, id, allow_stale, &v, &stale, &e) != ST_OK) {
        st_client_close(c);
        return cli_error(cmd, &e);
    }
    Strata__V1__Tally empty = STRATA__V1__TALLY__INIT;
    const Strata__V1__Tally *mt = v->tally != NULL ? v->tally : &empty;
    st_tally t = {
        .total = {mt->total_area, mt->total_owners},
        .agree = {mt->agree_area, mt->agree_owners},
        .disagree = {mt->disagree_area, mt->disagree_owners},
        .abstain = {mt->abstain_area, mt->abstain_owners},
    };
    st_decision d = {
        .part = {mt->part_area, mt->part_owners}, .quorum = mt->quorum, .passed = mt->passed};
    if (g->json) {
        result_json(v, stale);
    } else {
        result_report(v, &t, &d, stale);
    }
    /* The service's decision must follow from its own figures (DOMAIN.md's rules). */
    if (v->matter != ST_MATTER_ELECTION) {
        st_decision mine = st_tally_decide(&t, st_matter_class((int)v->matter));
        if (mine.quorum != d.quorum || mine.passed != d.passed || mine.part.area != d.part.area ||
            mine.part.owners != d.part.owners) {
            fprintf(stderr,
                    "strata vote result: the service's decision (quorum %s, %s) does not follow "
                    "from its own figures (quorum %s, %s); report this to the street office\n",
                    d.quorum ? "met" : "not met", d.passed ? "passed" : "failed",
                    mine.quorum ? "met" : "not met", mine.passed ? "passed" : "failed");
            rc = CLI_EXIT_FAIL;
        }
    }
    strata__v1__vote__free_unpacked(v, NULL);
    st_client_close(c);
    return rc;
}

static const cli_command create_cmd = {
    .name = "vote create",
    .summary = "create a vote on a matter, or an election; prints its id",
    .usage = CREATE_USAGE,
    .run = create_run,
    .help = create_help,
};
static const cli_command notice_cmd = {
    .name = "vote notice",
    .summary = "record the owners' notice of the vote",
    .usage = "strata vote notice VOTE [--json]",
    .run = step_run,
    .help = notice_help,
};
static const cli_command open_cmd = {
    .name = "vote open",
    .summary = "open the vote for ballots (freezes the roll)",
    .usage = "strata vote open VOTE [--json]",
    .run = step_run,
    .help = open_help,
};
static const cli_command close_cmd = {
    .name = "vote close",
    .summary = "close the vote",
    .usage = "strata vote close VOTE [--json]",
    .run = step_run,
    .help = close_help,
};
static const cli_command publish_cmd = {
    .name = "vote publish",
    .summary = "publish the result to the community",
    .usage = "strata vote publish VOTE [--json]",
    .run = step_run,
    .help = publish_help,
};
static const cli_command list_cmd = {
    .name = "vote list",
    .summary = "list a community's votes",
    .usage = LIST_USAGE,
    .run = list_run,
    .help = list_help,
};
static const cli_command result_cmd = {
    .name = "vote result",
    .summary = "print a vote's count and result",
    .usage = RESULT_USAGE,
    .run = result_run,
    .help = result_help,
};

static const cli_command *const subs[] = {&create_cmd,  &notice_cmd, &open_cmd,   &close_cmd,
                                          &publish_cmd, &list_cmd,   &result_cmd, NULL};

const cli_command cli_vote_command = {
    .name = "vote",
    .summary = "create votes, move them through their steps, read results",
    .usage = "strata vote create|notice|open|close|publish|list|result ...",
    .subs = subs,
};
