/* cmd_keygen.c - `strata keygen` makes an owner's (or organiser's, or supervisor's) Ed25519
 * key and writes it as a key file with mode 0600, sealed with a passphrase when asked, and
 * prints its public key. It does not talk to the cluster (cmd_key.c registers keys).
 */
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"

#define KEYGEN_USAGE "strata keygen --out FILE [--seal | --plain] [--json]"

static void keygen_help(FILE *out) {
    fputs("usage: " KEYGEN_USAGE "\n"
          "\n"
          "Makes a new Ed25519 key, writes it to FILE (mode 0600; an existing FILE is never\n"
          "overwritten) and prints its public key, the text to register with the organiser.\n"
          "\n"
          "  --out FILE   where to write the key file\n"
          "  --seal       seal the key with a passphrase: STRATA_PASSPHRASE if set, else asked\n"
          "               twice on the terminal (the default when STRATA_PASSPHRASE is set)\n"
          "  --plain      write the key unsealed, even when STRATA_PASSPHRASE is set\n"
          "  --json       print {\"public_key\", \"key_id\", \"file\", \"sealed\"}\n"
          "\n"
          "Exit status: 0 written, 1 the file exists or cannot be written, 2 usage error.\n",
          out);
}

void cli_print_key_file(const cli_globals *g, const st_keypair *k, const char *file, bool sealed) {
    char pk[ST_PUBLIC_B64_LEN + 1], id[ST_KEY_ID_TEXT_LEN + 1];
    st_keypair_public_b64(k, pk);
    st_keypair_id_hex(k, id);
    if (g->json) {
        printf("{\"public_key\":\"%s\",\"key_id\":\"%s\",\"file\":", pk, id);
        cli_json_string(stdout, file);
        printf(",\"sealed\":%s}\n", sealed ? "true" : "false");
    } else {
        printf("%s\n", pk);
    }
}

static int keygen_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &cli_keygen_command;
    const char *out = NULL;
    bool seal = false, plain = false;
    cli_opt opts[] = {
        {.name = "--out", .value = &out},
        {.name = "--seal", .flag = &seal},
        {.name = "--plain", .flag = &plain},
    };
    int rc = cli_parse(cmd, g, argc, argv, opts, 3, NULL, NULL, 0, 0, NULL);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    if (out == NULL) {
        return cli_usage_error(cmd, "--out is missing");
    }
    if (seal && plain) {
        return cli_usage_error(cmd, "give --seal or --plain, not both");
    }
    const char *env = getenv("STRATA_PASSPHRASE");
    if (!plain && env != NULL && env[0] != '\0') {
        seal = true;
    }
    char pass[256];
    size_t plen = 0;
    if (seal) {
        int got =
            cli_passphrase(cmd, "Passphrase for the new key: ", true, pass, sizeof(pass), &plen);
        if (got < 0) {
            return CLI_EXIT_FAIL;
        }
        if (got == 0) {
            return cli_fail(cmd, "--seal needs a passphrase: set STRATA_PASSPHRASE or run on a "
                                 "terminal");
        }
    }
    st_keypair *k = NULL;
    st_error e;
    rc = st_keypair_generate(&k, &e);
    if (rc == ST_OK) {
        rc = st_keypair_save(k, out, seal ? pass : NULL, plen, &e);
    }
    memset(pass, 0, sizeof(pass));
    if (rc != ST_OK) {
        st_keypair_free(k);
        return cli_error(cmd, &e);
    }
    cli_print_key_file(g, k, out, seal);
    if (cli_progress()) {
        char id[ST_KEY_ID_TEXT_LEN + 1];
        st_keypair_id_hex(k, id);
        fprintf(stderr, "strata keygen: wrote %s (mode 0600, %s), key id %s\n", out,
                seal ? "sealed with a passphrase" : "not sealed; --seal protects it", id);
    }
    st_keypair_free(k);
    return CLI_EXIT_OK;
}

const cli_command cli_keygen_command = {
    .name = "keygen",
    .summary = "make a key and write it to a key file (mode 0600)",
    .usage = KEYGEN_USAGE,
    .run = keygen_run,
    .help = keygen_help,
};
