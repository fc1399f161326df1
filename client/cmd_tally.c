/* cmd_tally.c - `strata tally`: a supervisor's independent recount of a vote from the
 * roll CSV and the ballots CSV, offline, with the same counting code the servers use
 * (core/tally.h). Prints a readable report with the raw integers and the ratios, or one
 * JSON object with --json. Integer arithmetic only.
 */
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"
#include "core/error.h"
#include "core/matter.h"
#include "core/ratio.h"
#include "core/roll_csv.h"

/* ---- the recount ---- */

int cli_tally_files(const char *roll_path, const char *ballots_path, st_class cls,
                    cli_tally_result *out, char *err, size_t errlen) {
    char *roll_buf = NULL, *ballots_buf = NULL;
    size_t roll_len = 0, ballots_len = 0;
    st_roll *roll = NULL;
    st_choice *choices = NULL;
    int64_t *areas = NULL;
    cli_tally_result res;
    memset(&res, 0, sizeof(res));
    res.cls = cls;

    int rc = cli_read_file(roll_path, &roll_buf, &roll_len, err, errlen);
    if (rc == ST_OK) {
        rc = st_roll_csv_parse(roll_path, roll_buf, roll_len, &roll, err, errlen);
    }
    if (rc == ST_OK) {
        rc = cli_read_file(ballots_path, &ballots_buf, &ballots_len, err, errlen);
    }
    if (rc == ST_OK) {
        rc = st_ballots_csv_parse(ballots_path, ballots_buf, ballots_len, roll, &choices,
                                  &res.ballots, err, errlen);
    }
    if (rc == ST_OK) {
        size_t n = st_roll_voter_count(roll);
        areas = malloc(n * sizeof(*areas));
        if (areas == NULL) {
            rc = st_fail(err, errlen, ST_ENOMEM, "out of memory counting %zu owners", n);
        }
    }
    if (rc == ST_OK) {
        size_t n = st_roll_voter_count(roll);
        for (size_t i = 0; i < n; i++) {
            areas[i] = st_roll_voter(roll, i)->area;
        }
        st_weight total = {st_roll_total_area(roll), st_roll_total_owners(roll)};
        rc = st_tally_recount(&res.tally, total, areas, choices, n);
        if (rc != ST_OK) {
            st_fail(err, errlen, rc, "%s: the recount refused the ballots (%s)", ballots_path,
                    st_strerror(rc));
        }
    }
    if (rc == ST_OK) {
        res.units = st_roll_unit_count(roll);
        res.decision = st_tally_decide(&res.tally, cls);
        *out = res;
    }
    free(areas);
    free(choices);
    st_roll_free(roll);
    free(ballots_buf);
    free(roll_buf);
    return rc;
}

/* ---- output ---- */

static void print_json(FILE *out, const cli_tally_result *r) {
    fputs("{\"class\":", out);
    cli_json_string(out, st_class_name(r->cls));
    fputc(',', out);
    cli_json_count(out, &r->tally, &r->decision);
    fputs("}\n", out);
}

static void print_report(FILE *out, const cli_tally_result *r, int matter, const char *roll_path,
                         const char *ballots_path) {
    const st_tally *t = &r->tally;
    bool special = r->cls == ST_CLASS_SPECIAL;
    const char *cls = st_class_name(r->cls);
    const char *article = special ? "a" : "an";
    char a1[32];

    if (matter > 0) {
        fprintf(out, "Strata tally: independent recount of matter %d (%s, %s), %s %s matter\n",
                matter, st_matter_title(matter), st_matter_title_zh(matter), article, cls);
    } else {
        fprintf(out, "Strata tally: independent recount of %s %s matter\n", article, cls);
    }
    fprintf(out, "  roll:     %s\n  ballots:  %s\n\n", roll_path, ballots_path);

    fprintf(
        out,
        "Roll:           %zu unit%s; total %s m\xc2\xb2 / %lld %s (area %lld in 1/100 m\xc2\xb2)\n",
        r->units, r->units == 1 ? "" : "s", st_area_str(t->total.area, a1, sizeof(a1)),
        (long long)t->total.owners, cli_owners_word(t->total.owners), (long long)t->total.area);
    fprintf(out,
            "Ballots:        %zu line%s from %zu %s (%zu replaced by a later line for the same "
            "owner)\n",
            r->ballots.rows, r->ballots.rows == 1 ? "" : "s", r->ballots.voters,
            cli_owners_word((int64_t)r->ballots.voters), r->ballots.replaced);
    cli_report_count(out, t, &r->decision, r->cls);
}

/* ---- the command ---- */

#define TALLY_USAGE                                                                                \
    "strata tally --roll ROLL.csv --ballots BALLOTS.csv (--class ordinary|special | "              \
    "--matter 1-9) [--json]"

static void tally_help(FILE *out) {
    fputs("usage: " TALLY_USAGE "\n"
          "\n"
          "Recounts a vote from a roll and its ballots, offline, with the counting rules of\n"
          "Civil Code art. 278 (integer arithmetic only), and says whether the matter passed.\n"
          "\n"
          "  --roll FILE      the community roll as CSV, header:\n"
          "                   " ST_ROLL_CSV_HEADER "\n"
          "                   area_centi_m2 in hundredths of a square metre (89.50 m\xc2\xb2 = "
          "8950),\n"
          "                   status owned or developer_unsold\n"
          "  --ballots FILE   the ballots as CSV, header: " ST_BALLOTS_CSV_HEADER "\n"
          "                   choice agree, disagree or abstain (or \xe5\x90\x8c\xe6\x84\x8f, "
          "\xe5\x8f\x8d\xe5\xaf\xb9, \xe5\xbc\x83\xe6\x9d\x83);\n"
          "                   a later line for the same owner replaces an earlier one\n"
          "  --class CLASS    ordinary: more than half of participating area and owners agree\n"
          "                   special:  at least 3/4 of participating area and owners agree\n"
          "  --matter N       the matter of art. 278 (1-9) instead of --class;\n"
          "                   6, 7 and 8 are special, the others ordinary\n"
          "  --json           print one JSON object on one line instead of the report\n"
          "\n"
          "Quorum, for every matter: owners holding at least 2/3 of the total area and at\n"
          "least 2/3 of the owners take part (an abstention takes part).\n"
          "\n"
          "Exit status: 0 when counted (passed or not), 1 on bad input, 2 on a usage error.\n",
          out);
}

static int tally_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &cli_tally_command;
    const char *roll = NULL, *ballots = NULL, *cls_arg = NULL, *matter_arg = NULL;
    bool json = g->json;
    static const char *const names[] = {"--roll", "--ballots", "--class", "--matter"};
    const char **slots[] = {&roll, &ballots, &cls_arg, &matter_arg};

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
            continue;
        }
        int matched = 0;
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]) && !matched; k++) {
            const char *value = NULL;
            matched = cli_option(argc, argv, &i, names[k], &value);
            if (matched < 0) {
                return cli_usage_error(cmd, "%s needs a value", names[k]);
            }
            if (matched > 0) {
                if (*slots[k] != NULL) {
                    return cli_usage_error(cmd, "%s is given twice", names[k]);
                }
                if (value[0] == '\0') {
                    return cli_usage_error(cmd, "%s needs a value", names[k]);
                }
                *slots[k] = value;
            }
        }
        if (!matched) {
            return cli_usage_error(cmd, "%s \"%s\"",
                                   argv[i][0] == '-' ? "unknown option" : "unexpected argument",
                                   argv[i]);
        }
    }
    if (roll == NULL) {
        return cli_usage_error(cmd, "--roll is missing");
    }
    if (ballots == NULL) {
        return cli_usage_error(cmd, "--ballots is missing");
    }
    if (cls_arg != NULL && matter_arg != NULL) {
        return cli_usage_error(cmd, "give --class or --matter, not both");
    }
    st_class cls;
    int matter = 0;
    if (cls_arg != NULL) {
        if (!st_class_parse(cls_arg, &cls)) {
            return cli_usage_error(cmd, "--class \"%s\" is not known; use ordinary or special",
                                   cls_arg);
        }
    } else if (matter_arg != NULL) {
        /* One digit 1..9, nothing else: "06", "6.0" or " 6" are refused. */
        if (strlen(matter_arg) != 1 || !st_matter_valid(matter_arg[0] - '0')) {
            return cli_usage_error(cmd,
                                   "--matter \"%s\" is not a matter; use a number from %d to %d",
                                   matter_arg, ST_MATTER_MIN, ST_MATTER_MAX);
        }
        matter = matter_arg[0] - '0';
        cls = st_matter_class(matter);
    } else {
        return cli_usage_error(cmd, "--class or --matter is missing");
    }

    cli_tally_result res;
    char err[1024];
    if (cli_tally_files(roll, ballots, cls, &res, err, sizeof(err)) != ST_OK) {
        return cli_fail(cmd, "%s", err);
    }
    if (json) {
        print_json(stdout, &res);
    } else {
        print_report(stdout, &res, matter, roll, ballots);
    }
    return CLI_EXIT_OK;
}

const cli_command cli_tally_command = {
    .name = "tally",
    .summary = "recount a vote from a roll CSV and a ballots CSV (supervisor's check)",
    .usage = TALLY_USAGE,
    .run = tally_run,
    .help = tally_help,
};
