/* cmd_audit.c - `strata audit trail`: who did what, when, in a community (every accepted
 * command, oldest first), for street-office supervisors and anyone checking the record.
 */
#include <string.h>

#include "client/cli.h"

static const cli_command trail_cmd;

#define TRAIL_USAGE "strata audit trail COMMUNITY [--after SEQ] [--json]"
#define PAGE 1000

static void trail_help(FILE *out) {
    fputs(
        "usage: " TRAIL_USAGE "\n"
        "\n"
        "Prints the community's action trail: every accepted command with its sequence\n"
        "number, time, actor, kind, vote and summary, oldest first (COMMUNITY 0: every\n"
        "community).\n"
        "\n"
        "  --after SEQ   only events after sequence number SEQ\n"
        "  --json        print {\"community_id\", \"events\": [{\"seq\", \"time_ms\", \"actor\",\n"
        "                \"kind\", \"community_id\", \"vote_id\", \"summary\"}]}\n"
        "\n"
        "Exit status: 0 shown, 1 refused, 2 usage error, 3 cluster unreachable.\n",
        out);
}

static void event_json(const Strata__V1__Event *ev, bool first) {
    printf("%s{\"seq\":%llu,\"time_ms\":%llu,\"actor\":", first ? "" : ",",
           (unsigned long long)ev->seq, (unsigned long long)ev->time_ms);
    cli_json_string(stdout, ev->actor);
    fputs(",\"kind\":", stdout);
    cli_json_string(stdout, ev->kind);
    printf(",\"community_id\":%llu,\"vote_id\":%llu,\"summary\":",
           (unsigned long long)ev->community_id, (unsigned long long)ev->vote_id);
    cli_json_string(stdout, ev->summary);
    fputc('}', stdout);
}

static int trail_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &trail_cmd;
    const char *after_s = NULL;
    cli_opt opts[] = {{.name = "--after", .value = &after_s}};
    const char *pos[1];
    static const char *const names[] = {"COMMUNITY"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 1, pos, names, 1, 1, NULL);
    uint64_t community = 0, after = 0;
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "COMMUNITY", pos[0], UINT64_MAX, true, &community)) != 0 ||
        (after_s != NULL && (rc = cli_number(cmd, "--after", after_s, UINT64_MAX, true, &after)))) {
        return rc;
    }
    st_client *c = NULL;
    if ((rc = cli_connect(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    if (g->json) {
        printf("{\"community_id\":%llu,\"events\":[", (unsigned long long)community);
    }
    size_t shown = 0;
    for (;;) {
        Strata__V1__TrailResponse *r = NULL;
        st_error e;
        if (st_trail(c, community, after, PAGE, &r, &e) != ST_OK) {
            if (g->json) {
                fputs("]}\n", stdout); /* what came so far stays valid JSON */
            }
            st_client_close(c);
            return cli_error(cmd, &e);
        }
        for (size_t i = 0; i < r->n_events; i++) {
            const Strata__V1__Event *ev = r->events[i];
            if (g->json) {
                event_json(ev, shown == 0);
            } else {
                char when[32];
                printf("%-6llu %s  %-16s %-18s vote %-4llu %s\n", (unsigned long long)ev->seq,
                       cli_time(ev->time_ms, when, sizeof(when)), ev->actor, ev->kind,
                       (unsigned long long)ev->vote_id, ev->summary);
            }
            shown++;
            after = ev->seq > after ? ev->seq : after;
        }
        size_t n = r->n_events;
        strata__v1__trail_response__free_unpacked(r, NULL);
        if (n < PAGE) {
            break;
        }
        if (cli_progress()) {
            fprintf(stderr, "strata audit trail: %zu events...\n", shown);
        }
    }
    st_client_close(c);
    if (g->json) {
        fputs("]}\n", stdout);
    } else if (shown == 0) {
        printf("no events\n");
    }
    return CLI_EXIT_OK;
}

static const cli_command trail_cmd = {
    .name = "audit trail",
    .summary = "print who did what, when, in a community",
    .usage = TRAIL_USAGE,
    .run = trail_run,
    .help = trail_help,
};

static const cli_command *const subs[] = {&trail_cmd, NULL};

const cli_command cli_audit_command = {
    .name = "audit",
    .summary = "the action trail of a community (supervisors)",
    .usage = "strata audit trail ...",
    .subs = subs,
};
