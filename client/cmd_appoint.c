/* cmd_appoint.c - `strata appoint organiser`: a street-office supervisor appoints the
 * organiser of one community (业主委员会 or the residents' committee acting for it) by
 * registering the organiser's public key for that community.
 */
#include "client/cli.h"

static const cli_command organiser_cmd;

#define ORGANISER_USAGE "strata appoint organiser COMMUNITY PUBLIC_KEY [--label L] [--json]"

static void organiser_help(FILE *out) {
    fputs("usage: " ORGANISER_USAGE "\n"
          "\n"
          "Appoints an organiser of the community (supervisors; signed by --key): the\n"
          "organiser made a key with strata keygen and handed over its public key. That key\n"
          "may then import the community's roll, run its votes, enter paper ballots, issue\n"
          "enrollment codes and record proxies. An organiser of two communities holds two\n"
          "keys.\n"
          "\n"
          "  --label L   who holds it (a name or a post; public)\n"
          "  --json      print {\"key_id\": ID, \"seq\": N}\n"
          "\n"
          "Prints the organiser key's id. Exit status: 0 appointed, 1 refused, 2 usage\n"
          "error, 3 cluster unreachable.\n",
          out);
}

static int organiser_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &organiser_cmd;
    const char *label = NULL;
    cli_opt opts[] = {{.name = "--label", .value = &label}};
    const char *pos[2];
    static const char *const names[] = {"COMMUNITY", "PUBLIC_KEY"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 1, pos, names, 2, 2, NULL);
    uint64_t community = 0;
    uint8_t pk[ST_SIGN_PK_LEN];
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "COMMUNITY", pos[0], UINT64_MAX, false, &community)) != 0 ||
        (rc = cli_public_key(cmd, "PUBLIC_KEY", pos[1], pk)) != CLI_EXIT_OK) {
        return rc;
    }
    st_client *c = NULL;
    if ((rc = cli_connect_signed(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    st_key_result r;
    st_error e;
    if (st_appoint_organiser(c, community, pk, label, &r, &e) != ST_OK) {
        rc = cli_error(cmd, &e);
    } else {
        cli_print_key_result(g, &r);
    }
    st_client_close(c);
    return rc;
}

static const cli_command organiser_cmd = {
    .name = "appoint organiser",
    .summary = "appoint a community's organiser by their public key (supervisors)",
    .usage = ORGANISER_USAGE,
    .run = organiser_run,
    .help = organiser_help,
};

static const cli_command *const subs[] = {&organiser_cmd, NULL};

const cli_command cli_appoint_command = {
    .name = "appoint",
    .summary = "appoint a community's organiser (supervisors)",
    .usage = "strata appoint organiser ...",
    .subs = subs,
};
