/* cmd_proxy.c - `strata proxy authorise`: an organiser records an owner's written proxy
 * authorisation (委托) for one vote: who authorised whom, and the SHA-256 of the scanned
 * document (the document itself stays with the organiser).
 */
#include <string.h>

#include "client/cli.h"
#include "crypto/text.h"

static const cli_command authorise_cmd;

#define AUTHORISE_USAGE                                                                            \
    "strata proxy authorise VOTE --principal OWNER_ID --proxy OWNER_ID --document FILE [--json]"

static void authorise_help(FILE *out) {
    fputs("usage: " AUTHORISE_USAGE "\n"
          "\n"
          "Records an owner's written authorisation of a proxy for one vote (organisers;\n"
          "signed by --key), before the vote closes. The proxy then signs the principal's\n"
          "ballot with the proxy's own key (strata ballot cast VOTE --owner PRINCIPAL), or\n"
          "fills in a paper ballot the organiser enters. The principal's own later ballot\n"
          "replaces the proxy's.\n"
          "\n"
          "  --principal OWNER_ID   the owner who authorises (whose parts count)\n"
          "  --proxy OWNER_ID       the owner authorised\n"
          "  --document FILE        the scanned authorisation; its SHA-256 is recorded\n"
          "  --json                 print {\"vote_id\", \"principal\", \"proxy\",\n"
          "                         \"document_sha256\"}\n"
          "\n"
          "Exit status: 0 recorded, 1 refused, 2 usage error, 3 cluster unreachable.\n",
          out);
}

static int authorise_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &authorise_cmd;
    const char *principal = NULL, *proxy = NULL, *doc = NULL;
    cli_opt opts[] = {
        {.name = "--principal", .value = &principal},
        {.name = "--proxy", .value = &proxy},
        {.name = "--document", .value = &doc},
    };
    const char *pos[1];
    static const char *const names[] = {"VOTE"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 3, pos, names, 1, 1, NULL);
    uint64_t vote = 0;
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "VOTE", pos[0], UINT64_MAX, false, &vote)) != CLI_EXIT_OK) {
        return rc;
    }
    if (principal == NULL || proxy == NULL || doc == NULL) {
        return cli_usage_error(cmd, "%s is missing",
                               principal == NULL ? "--principal"
                               : proxy == NULL   ? "--proxy"
                                                 : "--document");
    }
    if (strcmp(principal, proxy) == 0) {
        return cli_usage_error(cmd, "the principal and the proxy must be two different owners");
    }
    if ((rc = cli_need_cluster(cmd, g)) != CLI_EXIT_OK) {
        return rc;
    }
    uint8_t sha[32];
    if ((rc = cli_file_sha256(cmd, doc, sha)) != CLI_EXIT_OK) {
        return rc;
    }
    st_client *c = NULL;
    if ((rc = cli_connect_signed(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    st_error e;
    char hex[65];
    st_hex_encode(hex, sha, sizeof(sha));
    if (st_authorise_proxy(c, vote, principal, proxy, sha, &e) != ST_OK) {
        rc = cli_error(cmd, &e);
    } else if (g->json) {
        printf("{\"vote_id\":%llu,\"principal\":", (unsigned long long)vote);
        cli_json_string(stdout, principal);
        fputs(",\"proxy\":", stdout);
        cli_json_string(stdout, proxy);
        printf(",\"document_sha256\":\"%s\"}\n", hex);
    } else {
        printf("vote %llu: %s authorised %s as proxy (document SHA-256 %s)\n",
               (unsigned long long)vote, principal, proxy, hex);
    }
    st_client_close(c);
    return rc;
}

static const cli_command authorise_cmd = {
    .name = "proxy authorise",
    .summary = "record an owner's written proxy authorisation for a vote (organisers)",
    .usage = AUTHORISE_USAGE,
    .run = authorise_run,
    .help = authorise_help,
};

static const cli_command *const subs[] = {&authorise_cmd, NULL};

const cli_command cli_proxy_command = {
    .name = "proxy",
    .summary = "proxy authorisations (委托) for a vote (organisers)",
    .usage = "strata proxy authorise ...",
    .subs = subs,
};
