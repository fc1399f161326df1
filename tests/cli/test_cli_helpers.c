/* test_cli_helpers.c - unit tests of the strata program's shared helpers (client/cli.h):
 * JSON string escaping, option matching, reading a whole file, and the recount behind
 * `strata tally` called directly.
 *
 * usage: test_cli_helpers DATA_DIR SCRATCH_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/cli.h"
#include "core/error.h"
#include "tests/cli/check.h"

static void test_json_escape(void) {
    char buf[64];
    CHECK_INT(cli_json_escape("ordinary", buf, sizeof(buf)), 10);
    CHECK_STR(buf, "\"ordinary\"");
    CHECK_INT(cli_json_escape("", buf, sizeof(buf)), 2);
    CHECK_STR(buf, "\"\"");
    cli_json_escape("a\"b\\c\nd\re\tf\x01g\x1f", buf, sizeof(buf));
    CHECK_STR(buf, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001f\"");
    cli_json_escape("王建国/周强;吴芳", buf, sizeof(buf));
    CHECK_STR(buf, "\"王建国/周强;吴芳\"");
    /* Too small a buffer: cut and terminated, and the needed length returned. */
    char small[5];
    CHECK_INT(cli_json_escape("abcdef", small, sizeof(small)), 8);
    CHECK_STR(small, "\"abc");
    CHECK_INT(cli_json_escape("abc", NULL, 0), 5);
}

static void test_option(void) {
    char *argv[] = {"tally", "--roll=r.csv", "--ballots", "b.csv", "--rollx", "--class"};
    int argc = 6, i;
    const char *v = NULL;
    i = 1;
    CHECK_INT(cli_option(argc, argv, &i, "--roll", &v), 1);
    CHECK_STR(v, "r.csv");
    CHECK_INT(i, 1);
    i = 2;
    CHECK_INT(cli_option(argc, argv, &i, "--ballots", &v), 1);
    CHECK_STR(v, "b.csv");
    CHECK_INT(i, 3);
    i = 2;
    CHECK_INT(cli_option(argc, argv, &i, "--roll", &v), 0);
    i = 4;
    CHECK_INT(cli_option(argc, argv, &i, "--roll", &v), 0);
    i = 5;
    CHECK_INT(cli_option(argc, argv, &i, "--class", &v), -1);
    CHECK_INT(i, 5);
}

static void test_read_file(const char *scratch) {
    char path[1024], err[512];
    char *buf = (char *)"unchanged";
    size_t len = 99;

    snprintf(path, sizeof(path), "%s/does-not-exist.csv", scratch);
    CHECK_INT(cli_read_file(path, &buf, &len, err, sizeof(err)), ST_EIO);
    CHECK_STR(buf, "unchanged");
    char want[1200];
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory; check the path",
             path);
    CHECK_STR(err, want);

    CHECK_INT(cli_read_file(scratch, &buf, &len, err, sizeof(err)), ST_EIO);
    snprintf(want, sizeof(want), "%s: is a directory; give the path of a CSV file", scratch);
    CHECK_STR(err, want);
    CHECK_STR(buf, "unchanged");

    /* Every byte comes back, NULs included, with a NUL after the end. */
    snprintf(path, sizeof(path), "%s/bytes.bin", scratch);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f != NULL) {
        static const char bytes[] = "a,b\n\0\xff\r\n";
        fwrite(bytes, 1, sizeof(bytes) - 1, f);
        fclose(f);
        CHECK_INT(cli_read_file(path, &buf, &len, err, sizeof(err)), ST_OK);
        CHECK_INT(len, sizeof(bytes) - 1);
        CHECK(memcmp(buf, bytes, len) == 0);
        CHECK_INT(buf[len], 0);
        free(buf);
    }

    /* An empty file reads as an empty buffer (the CSV readers say what is missing). */
    snprintf(path, sizeof(path), "%s/empty.csv", scratch);
    f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f != NULL) {
        fclose(f);
        buf = NULL;
        CHECK_INT(cli_read_file(path, &buf, &len, err, sizeof(err)), ST_OK);
        CHECK_INT(len, 0);
        CHECK(buf != NULL && buf[0] == '\0');
        free(buf);
    }

    /* A file of several hundred KiB comes back whole. */
    snprintf(path, sizeof(path), "%s/large.csv", scratch);
    f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f != NULL) {
        for (int i = 0; i < 50000; i++) {
            fprintf(f, "%d,x\n", i);
        }
        long size = ftell(f);
        fclose(f);
        CHECK_INT(cli_read_file(path, &buf, &len, err, sizeof(err)), ST_OK);
        CHECK_INT(len, size);
        CHECK(strncmp(buf + len - 8, "49999,x\n", 8) == 0);
        free(buf);
    }
}

static void test_tally_files(const char *data) {
    char roll[1024], ballots[1024], err[1024] = "";
    snprintf(roll, sizeof(roll), "%s/example-roll.csv", data);
    snprintf(ballots, sizeof(ballots), "%s/example-ballots.csv", data);
    cli_tally_result r;
    CHECK_INT(cli_tally_files(roll, ballots, ST_CLASS_ORDINARY, &r, err, sizeof(err)), ST_OK);
    CHECK_STR(err, "");
    CHECK_INT(r.units, 12);
    CHECK_INT(r.tally.total.area, 134450);
    CHECK_INT(r.tally.total.owners, 10);
    CHECK_INT(r.decision.part.area, 128950);
    CHECK_INT(r.decision.part.owners, 9);
    CHECK_INT(r.tally.agree.area, 84715);
    CHECK_INT(r.tally.agree.owners, 6);
    CHECK_INT(r.tally.disagree.area, 37710);
    CHECK_INT(r.tally.disagree.owners, 2);
    CHECK_INT(r.tally.abstain.area, 6525);
    CHECK_INT(r.tally.abstain.owners, 1);
    CHECK(r.decision.quorum);
    CHECK(r.decision.passed);
    CHECK_INT(r.ballots.rows, 9);
    CHECK_INT(cli_tally_files(roll, ballots, ST_CLASS_SPECIAL, &r, err, sizeof(err)), ST_OK);
    CHECK(r.decision.quorum);
    CHECK(!r.decision.passed);

    /* A bad ballots file: the error names it, the result is untouched. */
    snprintf(ballots, sizeof(ballots), "%s/bad-ballots-owner.csv", data);
    memset(&r, 0x5a, sizeof(r));
    CHECK_INT(cli_tally_files(roll, ballots, ST_CLASS_ORDINARY, &r, err, sizeof(err)), ST_EINVAL);
    char want[1200];
    snprintf(want, sizeof(want), "%s:4: owner_id \"O10\" is not an owner on the roll", ballots);
    CHECK_HAS(err, want);
    CHECK_INT(r.units, (size_t)0x5a5a5a5a5a5a5a5aULL);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: test_cli_helpers DATA_DIR SCRATCH_DIR\n");
        return 2;
    }
    mkdir(argv[2], 0755);
    test_json_escape();
    test_option();
    test_read_file(argv[2]);
    test_tally_files(argv[1]);
    return check_exit("test_cli_helpers");
}
