/* cmd_enroll.c - `strata enroll ...`: an owner's device gets its key registered.
 *   issue           the organiser draws a one-time code for an owner (and can write a
 *                   printable letter); only the code key's public half is sent
 *   redeem          the owner's device proves the code and registers its new key
 *   revoke-request  lost phone, step 1: the organiser signs a revocation into a file
 *   cosign          step 2: a supervisor checks it and co-signs the file
 *   submit          step 3: the organiser sends the co-signed revocation
 */
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"
#include "crypto/text.h"

static const cli_command issue_cmd, redeem_cmd, request_cmd, cosign_cmd, submit_cmd;

#define ISSUE_USAGE                                                                                \
    "strata enroll issue COMMUNITY OWNER_ID [--letter FILE] [--valid-days D] [--json]"
#define REDEEM_USAGE "strata enroll redeem COMMUNITY OWNER_ID CODE [--json]"
#define REQUEST_USAGE "strata enroll revoke-request KEY_ID --reason R --out FILE [--json]"
#define COSIGN_USAGE "strata enroll cosign FILE [--json]"
#define SUBMIT_USAGE "strata enroll submit FILE [--json]"

/* ---- issue ---- */

static void issue_help(FILE *out) {
    fputs("usage: " ISSUE_USAGE "\n"
          "\n"
          "Issues a one-time enrollment code for an owner on the community's roll\n"
          "(organisers; signed by --key) and prints it: 20 letters and digits in four groups\n"
          "of five (100 bits). Only the public key derived from the code is sent; the code\n"
          "itself never leaves this computer. Hand it to the owner in person. A new code for\n"
          "the same owner replaces the older one.\n"
          "\n"
          "  --letter FILE    also write a printable letter for the owner (community, owner,\n"
          "                   masked name, units, code, expiry and instructions; mode 0600)\n"
          "  --valid-days D   expire sooner than the community's policy (default 14 days)\n"
          "  --json           print {\"community_id\", \"owner_id\", \"code\", \"expires_ms\",\n"
          "                   \"code_key_id\", \"seq\", \"letter\"}\n"
          "\n"
          "Exit status: 0 issued, 1 refused, 2 usage error, 3 cluster unreachable.\n",
          out);
}

/* The letter's facts from the cluster: the community, the owner's name and units. */
static int letter_facts(const cli_command *cmd, st_client *c, uint64_t community, const char *owner,
                        Strata__V1__Community **com, Strata__V1__ListUnitsResponse **units,
                        char *unit_list, size_t cap, const char **name) {
    st_error e;
    if (st_get_community(c, community, com, &e) != ST_OK ||
        st_list_units(c, community, units, &e) != ST_OK) {
        return cli_error(cmd, &e);
    }
    size_t o = 0;
    unit_list[0] = '\0';
    *name = NULL;
    for (size_t i = 0; i < (*units)->n_units; i++) {
        const Strata__V1__Unit *u = (*units)->units[i];
        if (strcmp(u->owner_id, owner) == 0) {
            int w = snprintf(unit_list + o, cap - o, "%s%s", o ? ", " : "", u->unit);
            o += w > 0 && (size_t)w < cap - o ? (size_t)w : 0;
            *name = u->owner_name;
        }
    }
    if (*name == NULL) {
        return cli_fail(cmd,
                        "owner %s is not on community %llu's roll; check the owner id "
                        "(strata roll show %llu)",
                        owner, (unsigned long long)community, (unsigned long long)community);
    }
    return CLI_EXIT_OK;
}

static int issue_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &issue_cmd;
    const char *letter = NULL, *days_s = NULL;
    cli_opt opts[] = {{.name = "--letter", .value = &letter},
                      {.name = "--valid-days", .value = &days_s}};
    const char *pos[2];
    static const char *const names[] = {"COMMUNITY", "OWNER_ID"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 2, pos, names, 2, 2, NULL);
    uint64_t community = 0, days = 0;
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "COMMUNITY", pos[0], UINT64_MAX, false, &community)) != 0 ||
        (days_s != NULL && (rc = cli_number(cmd, "--valid-days", days_s, 365, false, &days)))) {
        return rc;
    }
    st_client *c = NULL;
    if ((rc = cli_connect_signed(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    Strata__V1__Community *com = NULL;
    Strata__V1__ListUnitsResponse *units = NULL;
    char unit_list[1024];
    const char *name = NULL;
    if (letter != NULL) {
        rc = letter_facts(cmd, c, community, pos[1], &com, &units, unit_list, sizeof(unit_list),
                          &name);
    }
    st_enrollment en;
    st_error e;
    memset(&en, 0, sizeof(en));
    if (rc == CLI_EXIT_OK &&
        st_issue_enrollment(c, community, pos[1], days_s != NULL ? (int)days : -1, &en, &e) !=
            ST_OK) {
        rc = cli_error(cmd, &e);
    }
    st_client_close(c);
    if (rc == CLI_EXIT_OK && letter != NULL) {
        char kid[ST_KEY_ID_TEXT_LEN + 1] = "";
        uint8_t pk[ST_SIGN_PK_LEN];
        bool sealed = false;
        if (st_keyfile_info(g->key, &sealed, pk, NULL) == ST_OK) {
            st_key_id_hex(kid, pk);
        }
        cli_letter l = {community, com->name, com->street,   pos[1], name,
                        unit_list, en.code,   en.expires_ms, en.seq, kid};
        if (cli_write_letter(cmd, letter, &l) != CLI_EXIT_OK) {
            fprintf(stderr,
                    "strata %s: the code below is issued all the same; give it to the "
                    "owner another way\n",
                    cmd->name);
            letter = NULL;
            rc = CLI_EXIT_FAIL;
        }
    }
    if (en.code[0] != '\0') {
        if (g->json) {
            printf("{\"community_id\":%llu,\"owner_id\":", (unsigned long long)community);
            cli_json_string(stdout, pos[1]);
            printf(",\"code\":\"%s\",\"expires_ms\":%llu,\"code_key_id\":\"%s\",\"seq\":%llu"
                   ",\"letter\":",
                   en.code, (unsigned long long)en.expires_ms, en.code_key_id,
                   (unsigned long long)en.seq);
            if (letter != NULL) {
                cli_json_string(stdout, letter);
            } else {
                fputs("null", stdout);
            }
            fputs("}\n", stdout);
        } else {
            printf("%s\n", en.code);
        }
        if (cli_progress()) {
            char t[32];
            fprintf(stderr, "strata %s: code for owner %s of community %llu, valid until %s%s%s\n",
                    cmd->name, pos[1], (unsigned long long)community,
                    cli_time(en.expires_ms, t, sizeof(t)), letter ? "; letter in " : "",
                    letter ? letter : "");
        }
    }
    memset(&en, 0, sizeof(en));
    if (com != NULL) {
        strata__v1__community__free_unpacked(com, NULL);
    }
    if (units != NULL) {
        strata__v1__list_units_response__free_unpacked(units, NULL);
    }
    return rc;
}

/* ---- redeem ---- */

static void redeem_help(FILE *out) {
    fputs("usage: " REDEEM_USAGE "\n"
          "\n"
          "Registers the owner's new key (--key, made with strata keygen on the owner's own\n"
          "device) with the one-time code from the enrollment letter. The code is not sent:\n"
          "the key it stands for signs the enrollment, and so does the new key. A code works\n"
          "once, for this owner only, until it expires. Case, spaces and dashes in CODE do\n"
          "not matter.\n"
          "\n"
          "  --json   print {\"key_id\": ID, \"seq\": N}\n"
          "\n"
          "Prints the new key's id. Exit status: 0 enrolled, 1 refused (wrong, used or\n"
          "expired code: ask the organiser for a new one), 2 usage error, 3 cluster\n"
          "unreachable.\n",
          out);
}

static int redeem_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &redeem_cmd;
    const char *pos[3];
    static const char *const names[] = {"COMMUNITY", "OWNER_ID", "CODE"};
    int rc = cli_parse(cmd, g, argc, argv, NULL, 0, pos, names, 3, 3, NULL);
    uint64_t community = 0;
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "COMMUNITY", pos[0], UINT64_MAX, false, &community)) != 0) {
        return rc;
    }
    char canon[ST_ENROLL_CODE_LEN + 1];
    st_error e;
    if (st_enroll_code_normalise(pos[2], canon, &e) != ST_OK) {
        return cli_usage_error(cmd, "CODE: %s", e.message);
    }
    st_client *c = NULL;
    if ((rc = cli_connect_signed(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    st_key_result r;
    if (st_redeem_enrollment(c, community, pos[1], canon, &r, &e) != ST_OK) {
        rc = cli_error(cmd, &e);
    } else {
        cli_print_key_result(g, &r);
    }
    memset(canon, 0, sizeof(canon));
    st_client_close(c);
    return rc;
}

/* ---- revoke-request ---- */

static void request_help(FILE *out) {
    fputs("usage: " REQUEST_USAGE "\n"
          "\n"
          "Lost phone, step 1 of 3 (organisers; --key is the organiser's key): signs the\n"
          "revocation of an owner's key and writes it to FILE, a short text file to hand to\n"
          "a street-office supervisor. Step 2: the supervisor runs strata enroll cosign FILE.\n"
          "Step 3: the organiser runs strata enroll submit FILE, then issues the owner a new\n"
          "code. Ballots the key signed before stay valid.\n"
          "\n"
          "  --reason R   why, one line (kept in the key's record)\n"
          "  --out FILE   where to write the request (never overwritten)\n"
          "  --json       print {\"file\", \"key_id\", \"community_id\", \"owner_id\"}\n"
          "\n"
          "Exit status: 0 written, 1 refused (not an owner key, unreadable key), 2 usage\n"
          "error, 3 cluster unreachable.\n",
          out);
}

static void print_request(const cli_command *cmd, const cli_globals *g, const char *file,
                          const st_revoke_request *r, const char *what) {
    char kid[ST_KEY_ID_HEX_LEN + 1];
    st_hex_encode(kid, r->key_id, ST_KEY_ID_LEN);
    if (g->json) {
        printf("{\"file\":");
        cli_json_string(stdout, file);
        printf(",\"key_id\":\"%s\",\"community_id\":%llu,\"owner_id\":", kid,
               (unsigned long long)r->community_id);
        cli_json_string(stdout, r->owner_id);
        printf(",\"cosigned\":%s}\n", r->cosigned ? "true" : "false");
    } else {
        printf("%s\n", file);
    }
    fprintf(stderr, "strata %s: %s: revoke key %s of owner %s of community %llu (\"%s\")\n",
            cmd->name, what, kid, r->owner_id, (unsigned long long)r->community_id, r->reason);
}

static int request_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &request_cmd;
    const char *reason = NULL, *out = NULL;
    cli_opt opts[] = {{.name = "--reason", .value = &reason}, {.name = "--out", .value = &out}};
    const char *pos[1];
    static const char *const names[] = {"KEY_ID"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 2, pos, names, 1, 1, NULL);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    uint8_t id[ST_KEY_ID_LEN];
    st_error e;
    if (st_key_id_parse(pos[0], id, &e) != ST_OK) {
        return cli_usage_error(cmd, "%s", e.message);
    }
    if (reason == NULL) {
        return cli_usage_error(cmd, "--reason is missing");
    }
    if (out == NULL) {
        return cli_usage_error(cmd, "--out is missing");
    }
    st_client *c = NULL;
    if ((rc = cli_connect_signed(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    Strata__V1__Key *k = NULL;
    rc = st_get_key(c, id, &k, &e) == ST_OK ? CLI_EXIT_OK : cli_error(cmd, &e);
    st_client_close(c);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    if (k->role != STRATA__V1__ROLE__ROLE_OWNER || k->revoked_ms != 0) {
        rc = cli_fail(cmd,
                      "key %s is %s%s, not an active owner key; staff keys are revoked with "
                      "strata key revoke",
                      pos[0], k->revoked_ms != 0 ? "revoked already, " : "a key of a ",
                      st_key_role_name((int)k->role));
        strata__v1__key__free_unpacked(k, NULL);
        return rc;
    }
    st_keypair *me = NULL;
    st_revoke_request r;
    if ((rc = cli_load_key(cmd, g->key, &me)) == CLI_EXIT_OK) {
        if (st_revoke_request_make(me, k->community_id, k->owner_id, id, reason, &r, &e) != ST_OK ||
            st_revoke_request_save(out, &r, false, &e) != ST_OK) {
            rc = cli_error(cmd, &e);
        } else {
            print_request(cmd, g, out, &r,
                          "written; a supervisor co-signs it next (strata "
                          "enroll cosign)");
        }
    }
    st_keypair_free(me);
    strata__v1__key__free_unpacked(k, NULL);
    return rc;
}

/* ---- cosign ---- */

static void cosign_help(FILE *out) {
    fputs("usage: " COSIGN_USAGE "\n"
          "\n"
          "Lost phone, step 2 of 3 (supervisors; --key is the supervisor's key): checks the\n"
          "organiser's signature on the revocation request FILE, and with a cluster given\n"
          "(--cluster or STRATA_CLUSTER) that the key is the named owner's and the signer an\n"
          "organiser of that community; then adds the supervisor's co-signature to FILE.\n"
          "\n"
          "  --json   print {\"file\", \"key_id\", \"community_id\", \"owner_id\", \"cosigned\"}\n"
          "\n"
          "Exit status: 0 co-signed, 1 a signature or a fact does not check, 2 usage error,\n"
          "3 cluster unreachable.\n",
          out);
}

/* With a cluster: the revoked key is the named owner's, the signer that community's
 * organiser. */
static int cosign_facts(const cli_command *cmd, const cli_globals *g, const st_revoke_request *r) {
    st_client *c = NULL;
    int rc = cli_connect(cmd, g, &c);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    Strata__V1__Key *owner = NULL, *org = NULL;
    uint8_t oid[ST_KEY_ID_LEN];
    st_key_id(oid, r->organiser_pk);
    st_error e;
    if (st_get_key(c, r->key_id, &owner, &e) != ST_OK || st_get_key(c, oid, &org, &e) != ST_OK) {
        rc = cli_error(cmd, &e);
    } else if (owner->role != STRATA__V1__ROLE__ROLE_OWNER ||
               owner->community_id != r->community_id ||
               strcmp(owner->owner_id, r->owner_id) != 0) {
        rc = cli_fail(cmd,
                      "the key to revoke is not owner %s's of community %llu in the "
                      "registry; do not co-sign",
                      r->owner_id, (unsigned long long)r->community_id);
    } else if (org->role != STRATA__V1__ROLE__ROLE_ORGANISER ||
               org->community_id != r->community_id || org->revoked_ms != 0) {
        rc = cli_fail(cmd,
                      "the request is not signed by an active organiser of community "
                      "%llu; do not co-sign",
                      (unsigned long long)r->community_id);
    }
    if (owner != NULL) {
        strata__v1__key__free_unpacked(owner, NULL);
    }
    if (org != NULL) {
        strata__v1__key__free_unpacked(org, NULL);
    }
    st_client_close(c);
    return rc;
}

static int cosign_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &cosign_cmd;
    const char *pos[1];
    static const char *const names[] = {"FILE"};
    int rc = cli_parse(cmd, g, argc, argv, NULL, 0, pos, names, 1, 1, NULL);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    if (g->key == NULL || g->key[0] == '\0') {
        return cli_usage_error(cmd, "the co-signature is the supervisor's: give their key "
                                    "file with --key FILE (or STRATA_KEY)");
    }
    st_revoke_request r;
    st_error e;
    if (st_revoke_request_load(pos[0], &r, &e) != ST_OK || st_revoke_request_check(&r, &e)) {
        return cli_error(cmd, &e);
    }
    if (r.cosigned) {
        return cli_fail(cmd,
                        "%s is co-signed already; the organiser submits it next (strata "
                        "enroll submit)",
                        pos[0]);
    }
    if (g->cluster != NULL && g->cluster[0] != '\0') {
        if ((rc = cosign_facts(cmd, g, &r)) != CLI_EXIT_OK) {
            return rc;
        }
    } else {
        fprintf(stderr,
                "strata %s: no cluster given: the signatures are checked, the "
                "registry is not\n",
                cmd->name);
    }
    st_keypair *me = NULL;
    if ((rc = cli_load_key(cmd, g->key, &me)) != CLI_EXIT_OK) {
        return rc;
    }
    if (st_revoke_request_cosign(&r, me, &e) != ST_OK ||
        st_revoke_request_save(pos[0], &r, true, &e) != ST_OK) {
        rc = cli_error(cmd, &e);
    } else {
        print_request(cmd, g, pos[0], &r,
                      "co-signed; the organiser submits it next (strata "
                      "enroll submit)");
    }
    st_keypair_free(me);
    return rc;
}

/* ---- submit ---- */

static void submit_help(FILE *out) {
    fputs("usage: " SUBMIT_USAGE "\n"
          "\n"
          "Lost phone, step 3 of 3 (organisers; --key is the organiser's key that signed the\n"
          "request): sends the co-signed revocation request FILE. The key is revoked from\n"
          "now on; issue the owner a new code (strata enroll issue) to enroll a new device.\n"
          "\n"
          "  --json   print {\"key_id\": ID, \"seq\": N}\n"
          "\n"
          "Prints the revoked key's id. Exit status: 0 revoked, 1 refused (not co-signed,\n"
          "a signature does not check), 2 usage error, 3 cluster unreachable.\n",
          out);
}

static int submit_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &submit_cmd;
    const char *pos[1];
    static const char *const names[] = {"FILE"};
    int rc = cli_parse(cmd, g, argc, argv, NULL, 0, pos, names, 1, 1, NULL);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    if ((rc = cli_need_cluster(cmd, g)) != CLI_EXIT_OK) {
        return rc;
    }
    st_revoke_request r;
    st_error e;
    if (st_revoke_request_load(pos[0], &r, &e) != ST_OK) {
        return cli_error(cmd, &e);
    }
    st_client *c = NULL;
    if ((rc = cli_connect_signed(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    st_key_result kr;
    if (st_revoke_owner_key(c, &r, &kr, &e) != ST_OK) {
        rc = cli_error(cmd, &e);
    } else {
        cli_print_key_result(g, &kr);
    }
    st_client_close(c);
    return rc;
}

static const cli_command issue_cmd = {
    .name = "enroll issue",
    .summary = "issue an owner's one-time enrollment code (organisers)",
    .usage = ISSUE_USAGE,
    .run = issue_run,
    .help = issue_help,
};
static const cli_command redeem_cmd = {
    .name = "enroll redeem",
    .summary = "register the owner's new key with the code (owners)",
    .usage = REDEEM_USAGE,
    .run = redeem_run,
    .help = redeem_help,
};
static const cli_command request_cmd = {
    .name = "enroll revoke-request",
    .summary = "lost phone 1/3: sign the revocation of an owner's key into a file (organisers)",
    .usage = REQUEST_USAGE,
    .run = request_run,
    .help = request_help,
};
static const cli_command cosign_cmd = {
    .name = "enroll cosign",
    .summary = "lost phone 2/3: check and co-sign the request file (supervisors)",
    .usage = COSIGN_USAGE,
    .run = cosign_run,
    .help = cosign_help,
};
static const cli_command submit_cmd = {
    .name = "enroll submit",
    .summary = "lost phone 3/3: send the co-signed revocation (organisers)",
    .usage = SUBMIT_USAGE,
    .run = submit_run,
    .help = submit_help,
};

static const cli_command *const subs[] = {&issue_cmd,  &redeem_cmd, &request_cmd,
                                          &cosign_cmd, &submit_cmd, NULL};

const cli_command cli_enroll_command = {
    .name = "enroll",
    .summary = "enroll owners' devices with one-time codes; revoke a lost one",
    .usage = "strata enroll issue|redeem|revoke-request|cosign|submit ...",
    .subs = subs,
};
