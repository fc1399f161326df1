/* cmd_key.c - `strata key show|add|revoke`: look at a key file or at a registered key (its
 * role, scope and status, from the cluster's registry), and the operator's and supervisor's
 * staff keys: an operator adds operator and supervisor keys, revokes them; a supervisor
 * revokes organiser keys. Owner keys are revoked with two signatures (strata enroll
 * revoke-request, cmd_enroll.c).
 */
#include <string.h>
#include <sys/stat.h>

#include "client/cli.h"
#include "crypto/text.h"

static const cli_command show_cmd, add_cmd, revoke_cmd;

#define SHOW_USAGE "strata key show [FILE | KEY_ID | PUBLIC_KEY] [--json]"
#define ADD_USAGE "strata key add PUBLIC_KEY --role operator|supervisor [--label L] [--json]"
#define REVOKE_USAGE "strata key revoke KEY_ID [--reason R] [--json]"

/* ---- show ---- */

static void show_help(FILE *out) {
    fputs("usage: " SHOW_USAGE "\n"
          "\n"
          "With a key file (FILE, else --key or STRATA_KEY): opens it, asking for the\n"
          "passphrase of a sealed key (STRATA_PASSPHRASE, else the terminal), and prints its\n"
          "public key. A key file that group or others may read is refused: chmod 600 it.\n"
          "\n"
          "With a key id (32 hex digits) or a public key (44 base64 or 64 hex characters)\n"
          "that is not a file: asks the cluster's registry and prints the key's role, scope\n"
          "(community, owner), label, when it was registered and whether it was revoked.\n"
          "\n"
          "  --json   file: {\"public_key\", \"key_id\", \"file\", \"sealed\"}; registry:\n"
          "           {\"key_id\", \"public_key\", \"role\", \"community_id\", \"owner_id\",\n"
          "           \"label\", \"registered_ms\", \"revoked_ms\", \"active\"}\n"
          "\n"
          "Exit status: 0 shown, 1 unreadable, refused, unknown key or wrong passphrase,\n"
          "2 usage error, 3 cluster unreachable.\n",
          out);
}

/* True when text names a key (id or public key) and no file of that name exists. */
static bool names_a_key(const char *text) {
    struct stat sb;
    uint8_t id[ST_KEY_ID_LEN];
    return stat(text, &sb) != 0 && st_key_id_parse(text, id, NULL) == ST_OK;
}

void cli_print_registered_key(const cli_globals *g, const Strata__V1__Key *k) {
    char id[ST_KEY_ID_HEX_LEN + 1] = "", pk[ST_B64_LEN(ST_SIGN_PK_LEN) + 1] = "";
    if (k->key_id.len == ST_KEY_ID_LEN) {
        st_hex_encode(id, k->key_id.data, ST_KEY_ID_LEN);
    }
    if (k->public_key.len == ST_SIGN_PK_LEN) {
        st_b64_encode(pk, sizeof(pk), k->public_key.data, ST_SIGN_PK_LEN);
    }
    if (g->json) {
        printf("{\"key_id\":\"%s\",\"public_key\":\"%s\",\"role\":\"%s\",\"community_id\":%llu"
               ",\"owner_id\":",
               id, pk, st_key_role_name((int)k->role), (unsigned long long)k->community_id);
        cli_json_string(stdout, k->owner_id);
        fputs(",\"label\":", stdout);
        cli_json_string(stdout, k->label);
        printf(",\"registered_ms\":%llu,\"revoked_ms\":%llu,\"active\":%s}\n",
               (unsigned long long)k->registered_ms, (unsigned long long)k->revoked_ms,
               k->revoked_ms == 0 ? "true" : "false");
        return;
    }
    char t1[32];
    printf("key %s\n", id);
    printf("  public key:  %s\n", pk);
    printf("  role:        %s", st_key_role_name((int)k->role));
    if (k->role == STRATA__V1__ROLE__ROLE_OWNER) {
        printf(" %s of community %llu", k->owner_id, (unsigned long long)k->community_id);
    } else if (k->role == STRATA__V1__ROLE__ROLE_ORGANISER) {
        printf(" of community %llu", (unsigned long long)k->community_id);
    }
    fputc('\n', stdout);
    if (k->label[0] != '\0') {
        printf("  label:       %s\n", k->label);
    }
    printf("  registered:  %s\n", cli_time(k->registered_ms, t1, sizeof(t1)));
    if (k->revoked_ms == 0) {
        printf("  status:      active\n");
    } else {
        printf("  status:      revoked %s\n", cli_time(k->revoked_ms, t1, sizeof(t1)));
    }
}

static int show_registry(const cli_command *cmd, cli_globals *g, const char *text) {
    uint8_t id[ST_KEY_ID_LEN];
    st_error e;
    if (st_key_id_parse(text, id, &e) != ST_OK) {
        return cli_usage_error(cmd, "%s", e.message);
    }
    st_client *c = NULL;
    int rc = cli_connect(cmd, g, &c);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    Strata__V1__Key *k = NULL;
    if (st_get_key(c, id, &k, &e) != ST_OK) {
        st_client_close(c);
        return cli_error(cmd, &e);
    }
    st_client_close(c);
    cli_print_registered_key(g, k);
    strata__v1__key__free_unpacked(k, NULL);
    return CLI_EXIT_OK;
}

static int show_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &show_cmd;
    const char *pos[1] = {NULL};
    static const char *const names[] = {"FILE"};
    size_t npos = 0;
    int rc = cli_parse(cmd, g, argc, argv, NULL, 0, pos, names, 0, 1, &npos);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    if (npos > 0 && names_a_key(pos[0])) {
        return show_registry(cmd, g, pos[0]);
    }
    const char *file = npos > 0 ? pos[0] : g->key;
    if (file == NULL || file[0] == '\0') {
        return cli_usage_error(cmd, "which key? give FILE, KEY_ID, --key FILE or STRATA_KEY");
    }
    bool sealed = false;
    uint8_t pk[ST_SIGN_PK_LEN];
    st_error e;
    if (st_keyfile_info(file, &sealed, pk, &e) != ST_OK) {
        return cli_error(cmd, &e);
    }
    st_keypair *k = NULL;
    rc = cli_load_key(cmd, file, &k);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    cli_print_key_file(g, k, file, sealed);
    st_keypair_free(k);
    return CLI_EXIT_OK;
}

/* ---- add ---- */

static void add_help(FILE *out) {
    fputs("usage: " ADD_USAGE "\n"
          "\n"
          "Registers another operator or supervisor key (operators; signed by --key). The\n"
          "new key's holder made it with strata keygen and handed over its public key.\n"
          "Organisers are appointed by a supervisor (strata appoint organiser); owners\n"
          "enroll with a code (strata enroll).\n"
          "\n"
          "  --role ROLE   operator or supervisor\n"
          "  --label L     who holds it (a name or a post; public)\n"
          "  --json        print {\"key_id\": ID, \"seq\": N}\n"
          "\n"
          "Prints the new key's id. Exit status: 0 added, 1 refused, 2 usage error,\n"
          "3 cluster unreachable.\n",
          out);
}

void cli_print_key_result(const cli_globals *g, const st_key_result *r) {
    if (g->json) {
        printf("{\"key_id\":\"%s\",\"seq\":%llu}\n", r->key_id, (unsigned long long)r->seq);
    } else {
        printf("%s\n", r->key_id);
    }
}

static int add_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &add_cmd;
    const char *role_s = NULL, *label = NULL;
    cli_opt opts[] = {{.name = "--role", .value = &role_s}, {.name = "--label", .value = &label}};
    const char *pos[1];
    static const char *const names[] = {"PUBLIC_KEY"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 2, pos, names, 1, 1, NULL);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    uint8_t pk[ST_SIGN_PK_LEN];
    if ((rc = cli_public_key(cmd, "PUBLIC_KEY", pos[0], pk)) != CLI_EXIT_OK) {
        return rc;
    }
    if (role_s == NULL) {
        return cli_usage_error(cmd, "--role is missing");
    }
    int role = st_key_role_parse(role_s);
    if (role != ST_KEY_ROLE_OPERATOR && role != ST_KEY_ROLE_SUPERVISOR) {
        return cli_usage_error(cmd, "--role \"%s\": an operator adds operator or supervisor keys",
                               role_s);
    }
    st_client *c = NULL;
    if ((rc = cli_connect_signed(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    st_key_result r;
    st_error e;
    if (st_add_key(c, pk, role, label, &r, &e) != ST_OK) {
        rc = cli_error(cmd, &e);
    } else {
        cli_print_key_result(g, &r);
    }
    st_client_close(c);
    return rc;
}

/* ---- revoke ---- */

static void revoke_help(FILE *out) {
    fputs("usage: " REVOKE_USAGE "\n"
          "\n"
          "Revokes a staff key: an operator revokes operator and supervisor keys, a\n"
          "supervisor revokes organiser keys (signed by --key). The key's record stays; it\n"
          "can sign nothing from now on. The last operator key cannot be revoked. An owner's\n"
          "key (a lost phone) needs an organiser and a supervisor: strata enroll\n"
          "revoke-request, cosign and submit.\n"
          "\n"
          "  --reason R   why (kept in the key's record and the trail)\n"
          "  --json       print {\"key_id\": ID, \"seq\": N}\n"
          "\n"
          "Exit status: 0 revoked, 1 refused, 2 usage error, 3 cluster unreachable.\n",
          out);
}

static int revoke_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &revoke_cmd;
    const char *reason = NULL;
    cli_opt opts[] = {{.name = "--reason", .value = &reason}};
    const char *pos[1];
    static const char *const names[] = {"KEY_ID"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 1, pos, names, 1, 1, NULL);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    uint8_t id[ST_KEY_ID_LEN];
    st_error e;
    if (st_key_id_parse(pos[0], id, &e) != ST_OK) {
        return cli_usage_error(cmd, "%s", e.message);
    }
    st_client *c = NULL;
    if ((rc = cli_connect_signed(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    st_key_result r;
    if (st_revoke_key(c, id, reason, &r, &e) != ST_OK) {
        rc = cli_error(cmd, &e);
    } else {
        cli_print_key_result(g, &r);
    }
    st_client_close(c);
    return rc;
}

static const cli_command show_cmd = {
    .name = "key show",
    .summary = "print a key file's public key, or a registered key's role, scope and status",
    .usage = SHOW_USAGE,
    .run = show_run,
    .help = show_help,
};
static const cli_command add_cmd = {
    .name = "key add",
    .summary = "register an operator or supervisor key (operators)",
    .usage = ADD_USAGE,
    .run = add_run,
    .help = add_help,
};
static const cli_command revoke_cmd = {
    .name = "key revoke",
    .summary = "revoke a staff key (operators; supervisors for organiser keys)",
    .usage = REVOKE_USAGE,
    .run = revoke_run,
    .help = revoke_help,
};

static const cli_command *const subs[] = {&show_cmd, &add_cmd, &revoke_cmd, NULL};

const cli_command cli_key_command = {
    .name = "key",
    .summary = "look at keys; register and revoke staff keys",
    .usage = "strata key show|add|revoke ...",
    .subs = subs,
};
