/* cmd_genesis.c - `strata genesis`: the operator's first command to a new cluster, which
 * installs the first operator and supervisor keys. It is signed by the operator key it
 * installs (--key), and accepted once, while the registry is empty (docs/ROLES.md).
 */
#include <string.h>

#include "client/cli.h"

#define GENESIS_USAGE                                                                              \
    "strata genesis --operator-pub KEY --supervisor-pub KEY [--operator-label L] "                 \
    "[--supervisor-label L] [--json]"

static void genesis_help(FILE *out) {
    fputs("usage: " GENESIS_USAGE "\n"
          "\n"
          "Installs the first operator and supervisor keys of a new cluster (operators). It is\n"
          "accepted once, while no key is registered, and must be signed by the operator key\n"
          "it installs: --key is that key's file. Make both keys first with strata keygen;\n"
          "the supervisor keeps theirs.\n"
          "\n"
          "  --operator-pub KEY      the operator's public key (as strata keygen prints it)\n"
          "  --supervisor-pub KEY    the street-office supervisor's public key\n"
          "  --operator-label L      who holds each key (public; optional)\n"
          "  --supervisor-label L\n"
          "  --json                  print {\"operator_key_id\", \"supervisor_key_id\", \"seq\"}\n"
          "\n"
          "Prints the two key ids, operator first. Exit status: 0 installed, 1 refused (for\n"
          "instance: the cluster has its keys already), 2 usage error, 3 cluster unreachable.\n",
          out);
}

static int genesis_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &cli_genesis_command;
    const char *op = NULL, *sup = NULL, *op_label = NULL, *sup_label = NULL;
    cli_opt opts[] = {
        {.name = "--operator-pub", .value = &op},
        {.name = "--supervisor-pub", .value = &sup},
        {.name = "--operator-label", .value = &op_label},
        {.name = "--supervisor-label", .value = &sup_label},
    };
    int rc = cli_parse(cmd, g, argc, argv, opts, 4, NULL, NULL, 0, 0, NULL);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    if (op == NULL) {
        return cli_usage_error(cmd, "--operator-pub is missing");
    }
    if (sup == NULL) {
        return cli_usage_error(cmd, "--supervisor-pub is missing");
    }
    uint8_t opk[ST_SIGN_PK_LEN], spk[ST_SIGN_PK_LEN];
    if ((rc = cli_public_key(cmd, "--operator-pub", op, opk)) != CLI_EXIT_OK ||
        (rc = cli_public_key(cmd, "--supervisor-pub", sup, spk)) != CLI_EXIT_OK) {
        return rc;
    }
    if (memcmp(opk, spk, sizeof(opk)) == 0) {
        return cli_usage_error(cmd, "the operator and the supervisor need two different keys");
    }
    st_client *c = NULL;
    if ((rc = cli_connect_signed(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    st_key_result r;
    st_error e;
    if (st_genesis(c, opk, spk, op_label, sup_label, &r, &e) != ST_OK) {
        rc = cli_error(cmd, &e);
    } else {
        char oid[ST_KEY_ID_HEX_LEN + 1], sid[ST_KEY_ID_HEX_LEN + 1];
        st_key_id_hex(oid, opk);
        st_key_id_hex(sid, spk);
        if (g->json) {
            printf("{\"operator_key_id\":\"%s\",\"supervisor_key_id\":\"%s\",\"seq\":%llu}\n", oid,
                   sid, (unsigned long long)r.seq);
        } else {
            printf("%s\n%s\n", oid, sid);
        }
    }
    st_client_close(c);
    return rc;
}

const cli_command cli_genesis_command = {
    .name = "genesis",
    .summary = "install a new cluster's first operator and supervisor keys (operators)",
    .usage = GENESIS_USAGE,
    .run = genesis_run,
    .help = genesis_help,
};
