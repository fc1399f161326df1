/* cmd_roll.c - `strata roll import|show`: an organiser replaces a community's roll from a
 * CSV file (read and checked here first with core/roll_csv.h, so a bad file never reaches
 * the cluster; then one ImportRoll call, all or nothing), and anyone lists the roll (owner
 * names masked unless the key's role may see them).
 */
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"
#include "core/ratio.h"

static const cli_command import_cmd, show_cmd;

#define IMPORT_USAGE "strata roll import COMMUNITY ROLL.csv [--json]"
#define SHOW_USAGE "strata roll show COMMUNITY [--json]"

static void import_help(FILE *out) {
    fputs("usage: " IMPORT_USAGE "\n"
          "\n"
          "Replaces the community's roll with the units of ROLL.csv, in one step (all or\n"
          "nothing). The file is checked here first; a bad file is refused with its line and\n"
          "never sent. Votes already open keep the roll they froze when they opened.\n"
          "\n"
          "ROLL.csv has the header\n"
          "    " ST_ROLL_CSV_HEADER "\n"
          "area_centi_m2 in hundredths of a square metre (89.50 m\xc2\xb2 = 8950), status owned\n"
          "or developer_unsold; co-owners share one owner_id, their names joined by ';'.\n"
          "\n"
          "  --json   print {\"community_id\", \"roll_version\", \"unit_count\", \"total_area\",\n"
          "           \"total_owners\"}\n"
          "\n"
          "Progress is shown on a terminal. Exit status: 0 imported, 1 bad file or refused,\n"
          "2 usage error, 3 cluster unreachable.\n",
          out);
}

static int import_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &import_cmd;
    const char *pos[2];
    static const char *const names[] = {"COMMUNITY", "ROLL.csv"};
    int rc = cli_parse(cmd, g, argc, argv, NULL, 0, pos, names, 2, 2, NULL);
    uint64_t id = 0;
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "COMMUNITY", pos[0], UINT64_MAX, false, &id)) != CLI_EXIT_OK ||
        (rc = cli_need_cluster(cmd, g)) != CLI_EXIT_OK) {
        return rc;
    }
    bool progress = cli_progress();
    char *buf = NULL;
    size_t len = 0;
    st_roll *roll = NULL;
    char err[1024];
    if (cli_read_file(pos[1], &buf, &len, err, sizeof(err)) != ST_OK ||
        st_roll_csv_parse(pos[1], buf, len, &roll, err, sizeof(err)) != ST_OK) {
        free(buf);
        return cli_fail(cmd, "%s", err);
    }
    free(buf);
    if (progress) {
        char area[32];
        fprintf(stderr,
                "strata roll import: %s: %zu units, %lld owners, %s m\xc2\xb2; sending...\n",
                pos[1], st_roll_unit_count(roll), (long long)st_roll_total_owners(roll),
                st_area_str(st_roll_total_area(roll), area, sizeof(area)));
    }
    st_client *c = NULL;
    rc = cli_connect(cmd, g, &c);
    if (rc != CLI_EXIT_OK) {
        st_roll_free(roll);
        return rc;
    }
    st_import_result r;
    st_error e;
    if (st_import_roll(c, id, roll, &r, &e) != ST_OK) {
        rc = cli_error(cmd, &e);
    } else if (g->json) {
        printf("{\"community_id\":%llu,\"roll_version\":%llu,\"unit_count\":%llu"
               ",\"total_area\":%lld,\"total_owners\":%lld}\n",
               (unsigned long long)id, (unsigned long long)r.roll_version,
               (unsigned long long)r.unit_count, (long long)r.total_area,
               (long long)r.total_owners);
    } else {
        char area[32];
        printf("community %llu: roll version %llu, %llu units, %s m\xc2\xb2, %lld %s\n",
               (unsigned long long)id, (unsigned long long)r.roll_version,
               (unsigned long long)r.unit_count, st_area_str(r.total_area, area, sizeof(area)),
               (long long)r.total_owners, cli_owners_word(r.total_owners));
    }
    if (progress && rc == CLI_EXIT_OK) {
        fprintf(stderr, "strata roll import: done\n");
    }
    st_client_close(c);
    st_roll_free(roll);
    return rc;
}

static void show_help(FILE *out) {
    fputs("usage: " SHOW_USAGE "\n"
          "\n"
          "Lists the community's current roll: unit, building, area, owner id, status and\n"
          "owner name (masked, 张*, unless the key's role may see names).\n"
          "\n"
          "  --json   print {\"community_id\", \"roll_version\", \"units\": [...]}\n"
          "\n"
          "Exit status: 0 shown, 1 refused, 2 usage error, 3 cluster unreachable.\n",
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
    Strata__V1__ListUnitsResponse *r = NULL;
    st_error e;
    if (st_list_units(c, id, &r, &e) != ST_OK) {
        st_client_close(c);
        return cli_error(cmd, &e);
    }
    if (g->json) {
        printf("{\"community_id\":%llu,\"roll_version\":%llu,\"units\":[", (unsigned long long)id,
               (unsigned long long)r->roll_version);
        for (size_t i = 0; i < r->n_units; i++) {
            const Strata__V1__Unit *u = r->units[i];
            fputs(i ? ",{\"unit\":" : "{\"unit\":", stdout);
            cli_json_string(stdout, u->unit);
            fputs(",\"building\":", stdout);
            cli_json_string(stdout, u->building);
            printf(",\"area_centi_m2\":%lld,\"owner_id\":", (long long)u->area_centi_m2);
            cli_json_string(stdout, u->owner_id);
            fputs(",\"owner_name\":", stdout);
            cli_json_string(stdout, u->owner_name);
            printf(",\"status\":\"%s\"}", cli_unit_status(u->status));
        }
        fputs("]}\n", stdout);
    } else {
        printf("Roll of community %llu, version %llu: %zu unit%s\n", (unsigned long long)id,
               (unsigned long long)r->roll_version, r->n_units, r->n_units == 1 ? "" : "s");
        printf("%-12s %-8s %11s  %-16s %-16s %s\n", "unit", "building", "area m2", "owner",
               "status", "name");
        for (size_t i = 0; i < r->n_units; i++) {
            const Strata__V1__Unit *u = r->units[i];
            char area[32];
            printf("%-12s %-8s %11s  %-16s %-16s %s\n", u->unit, u->building,
                   st_area_str(u->area_centi_m2, area, sizeof(area)), u->owner_id,
                   cli_unit_status(u->status), u->owner_name);
        }
    }
    strata__v1__list_units_response__free_unpacked(r, NULL);
    st_client_close(c);
    return CLI_EXIT_OK;
}

static const cli_command import_cmd = {
    .name = "roll import",
    .summary = "replace a community's roll from a CSV file (organisers)",
    .usage = IMPORT_USAGE,
    .run = import_run,
    .help = import_help,
};

static const cli_command show_cmd = {
    .name = "roll show",
    .summary = "list a community's roll",
    .usage = SHOW_USAGE,
    .run = show_run,
    .help = show_help,
};

static const cli_command *const subs[] = {&import_cmd, &show_cmd, NULL};

const cli_command cli_roll_command = {
    .name = "roll",
    .summary = "import and show a community's roll of units and owners",
    .usage = "strata roll import|show ...",
    .subs = subs,
};
