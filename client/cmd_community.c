/* cmd_community.c - `strata community create|show`: a street-office supervisor registers a
 * community (物业管理区域) and anyone reads its figures: roll version, units, total area and
 * owners, votes.
 */
#include <string.h>

#include "client/cli.h"
#include "core/ratio.h"

static const cli_command create_cmd, show_cmd;

#define CREATE_USAGE                                                                               \
    "strata community create --name NAME --street STREET [--min-notice-days D] "                   \
    "[--enroll-code-days D] [--json]"
#define SHOW_USAGE "strata community show COMMUNITY [--json]"

static void create_help(FILE *out) {
    fputs("usage: " CREATE_USAGE "\n"
          "\n"
          "Registers a community under a street office (supervisors) and prints its id.\n"
          "\n"
          "  --name NAME           the community's name (阳光花园)\n"
          "  --street STREET       the street office (街道) it belongs to\n"
          "  --min-notice-days D   days between a vote's notice and its opening (policy;\n"
          "                        default 15; 0 for tests)\n"
          "  --enroll-code-days D  days an enrollment code stays valid (policy; default 14)\n"
          "  --json                print {\"id\": N}\n",
          out);
    fputs("\nExit status: 0 created, 1 refused, 2 usage error, 3 cluster unreachable.\n", out);
}

static int create_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &create_cmd;
    const char *name = NULL, *street = NULL, *days = NULL, *code_days = NULL;
    cli_opt opts[] = {
        {.name = "--name", .value = &name},
        {.name = "--street", .value = &street},
        {.name = "--min-notice-days", .value = &days},
        {.name = "--enroll-code-days", .value = &code_days},
    };
    int rc = cli_parse(cmd, g, argc, argv, opts, 4, NULL, NULL, 0, 0, NULL);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    if (name == NULL) {
        return cli_usage_error(cmd, "--name is missing");
    }
    if (street == NULL) {
        return cli_usage_error(cmd, "--street is missing");
    }
    uint64_t d = 0, cd = 0;
    if ((days != NULL && cli_number(cmd, "--min-notice-days", days, 365, true, &d) != 0) ||
        (code_days != NULL &&
         cli_number(cmd, "--enroll-code-days", code_days, 365, false, &cd) != 0)) {
        return CLI_EXIT_USAGE;
    }
    st_client *c = NULL;
    rc = cli_connect(cmd, g, &c);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    uint64_t id = 0;
    st_error e;
    if (st_create_community_policy(c, name, street, days != NULL ? (int)d : -1,
                                   code_days != NULL ? (int)cd : -1, &id, &e) != ST_OK) {
        rc = cli_error(cmd, &e);
    } else if (g->json) {
        printf("{\"id\": %llu}\n", (unsigned long long)id);
    } else {
        printf("%llu\n", (unsigned long long)id);
    }
    st_client_close(c);
    return rc;
}

static void show_help(FILE *out) {
    fputs("usage: " SHOW_USAGE "\n"
          "\n"
          "Prints a community: name, street office, notice policy, its roll's version, units,\n"
          "total area and owners, and how many votes it has held.\n"
          "\n"
          "  --json   print one JSON object\n"
          "\n"
          "Exit status: 0 shown, 1 refused (not found), 2 usage error, 3 cluster unreachable.\n",
          out);
}

static int show_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &show_cmd;
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
    Strata__V1__Community *m = NULL;
    st_error e;
    if (st_get_community(c, id, &m, &e) != ST_OK) {
        st_client_close(c);
        return cli_error(cmd, &e);
    }
    if (g->json) {
        printf("{\"id\":%llu,\"name\":", (unsigned long long)m->id);
        cli_json_string(stdout, m->name);
        fputs(",\"street\":", stdout);
        cli_json_string(stdout, m->street);
        printf(",\"min_notice_days\":%u,\"enroll_code_days\":%u,\"roll_version\":%llu"
               ",\"unit_count\":%llu,\"total_area\":%lld,\"total_owners\":%lld"
               ",\"vote_count\":%llu,\"created_ms\":%llu}\n",
               m->min_notice_days, m->enroll_code_days, (unsigned long long)m->roll_version,
               (unsigned long long)m->unit_count, (long long)m->total_area,
               (long long)m->total_owners, (unsigned long long)m->vote_count,
               (unsigned long long)m->created_ms);
    } else {
        char area[32], when[32];
        printf("Community %llu: %s\n", (unsigned long long)m->id, m->name);
        printf("  street office:  %s\n", m->street);
        printf("  notice:         at least %u day%s between notice and opening\n",
               m->min_notice_days, m->min_notice_days == 1 ? "" : "s");
        if (m->enroll_code_days > 0) {
            printf("  enrollment:     codes stay valid %u day%s\n", m->enroll_code_days,
                   m->enroll_code_days == 1 ? "" : "s");
        }
        if (m->roll_version == 0) {
            printf("  roll:           none yet (strata roll import %llu ROLL.csv)\n",
                   (unsigned long long)m->id);
        } else {
            printf("  roll:           version %llu: %llu unit%s, %s m\xc2\xb2, %lld %s\n",
                   (unsigned long long)m->roll_version, (unsigned long long)m->unit_count,
                   m->unit_count == 1 ? "" : "s", st_area_str(m->total_area, area, sizeof(area)),
                   (long long)m->total_owners, cli_owners_word(m->total_owners));
        }
        printf("  votes:          %llu\n", (unsigned long long)m->vote_count);
        printf("  created:        %s\n", cli_time(m->created_ms, when, sizeof(when)));
    }
    strata__v1__community__free_unpacked(m, NULL);
    st_client_close(c);
    return CLI_EXIT_OK;
}

static const cli_command create_cmd = {
    .name = "community create",
    .summary = "register a community under a street office; prints its id",
    .usage = CREATE_USAGE,
    .run = create_run,
    .help = create_help,
};

static const cli_command show_cmd = {
    .name = "community show",
    .summary = "print a community's figures",
    .usage = SHOW_USAGE,
    .run = show_run,
    .help = show_help,
};

static const cli_command *const subs[] = {&create_cmd, &show_cmd, NULL};

const cli_command cli_community_command = {
    .name = "community",
    .summary = "create and show communities (street-office supervisors)",
    .usage = "strata community create|show ...",
    .subs = subs,
};
