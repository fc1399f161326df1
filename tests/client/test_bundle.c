/* test_bundle.c - the audit bundle (client/audit/bundle.h) on the worked example of
 * DOMAIN.md, signed as a cluster would sign it (bundle_fixture.c): the untampered bundle
 * verifies and recounts to DOMAIN.md's figures; every tamper of tamper.h is caught, and the
 * verifier names the right file, line and discrepancy; broken manifests and files are
 * refused with their line; the JSON reader is strict.
 */
#include <stdlib.h>
#include <string.h>

#include "client/audit/bundle.h"
#include "client/audit/json.h"
#include "core/error.h"
#include "tests/cli/check.h"
#include "tests/client/bundle_fixture.h"
#include "tests/client/tamper.h"

static char dir[512];

static const char *path_of(const char *name) {
    static char p[1024];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return p;
}

static void test_untampered(const char *b) {
    st_bundle_report rep;
    int rc = st_bundle_verify(b, NULL, &rep);
    CHECK_INT(rc, ST_OK);
    if (rc != ST_OK) {
        fprintf(stderr, "  %s:%zu: %s\n", rep.file, rep.line, rep.message);
    }
    CHECK_INT(rep.ballots, 10);
    CHECK_INT(rep.voters, 9);
    CHECK_INT(rep.units, 12);
    CHECK_INT(rep.owners, 10);
    CHECK_INT(rep.tally.total.area, 134450);
    CHECK_INT(rep.decision.part.area, 128950);
    CHECK_INT(rep.decision.part.owners, 9);
    CHECK_INT(rep.tally.agree.area, 84715);
    CHECK_INT(rep.tally.agree.owners, 6);
    CHECK_INT(rep.tally.disagree.area, 37710);
    CHECK_INT(rep.tally.abstain.area, 6525);
    CHECK(rep.decision.quorum);
    CHECK(rep.decision.passed);
    CHECK_INT(rep.sth.tree_size, 10);
    CHECK(rep.threads >= 1);

    /* One thread and many give the same verdict. */
    st_bundle_verify_options one = {1, NULL, NULL};
    CHECK_INT(st_bundle_verify(b, &one, &rep), ST_OK);
    CHECK_INT(rep.threads, 1);
}

static void test_tampers(const char *b) {
    for (size_t i = 0; tamper_kinds[i] != NULL; i++) {
        char copy[600];
        snprintf(copy, sizeof(copy), "%s/t-%s", dir, tamper_kinds[i]);
        tamper_expect e;
        CHECK(tamper_copy(b, copy) == 0);
        int t = tamper_apply(copy, tamper_kinds[i], &e);
        CHECK_INT(t, 0);
        st_bundle_report rep;
        int rc = st_bundle_verify(copy, NULL, &rep);
        if (rc != ST_ECORRUPT || strcmp(rep.file, e.file) != 0 || rep.line != e.line ||
            strstr(rep.message, e.text) == NULL) {
            fprintf(stderr, "tamper %s: got %d %s:%zu: %s\n  expected %s:%zu: ...%s...\n",
                    tamper_kinds[i], rc, rep.file, rep.line, rep.message, e.file, e.line, e.text);
            check_failures++;
        }
    }
}

/* Writes text to dir/name, replacing the file. */
static void put(const char *d, const char *name, const char *text) {
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", d, name);
    FILE *f = fopen(p, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_broken(const char *b) {
    char copy[600];
    st_bundle_report rep;
    snprintf(copy, sizeof(copy), "%s/broken", dir);

    CHECK(tamper_copy(b, copy) == 0);
    put(copy, ST_BUNDLE_MANIFEST, "strata-audit-bundle-v2\n");
    CHECK_INT(st_bundle_verify(copy, NULL, &rep), ST_ECORRUPT);
    CHECK_STR(rep.file, "MANIFEST");
    CHECK_INT(rep.line, 1);

    CHECK(tamper_copy(b, copy) == 0);
    put(copy, ST_BUNDLE_MANIFEST, "strata-audit-bundle-v1\nvote 7\ncommunity x\n");
    CHECK_INT(st_bundle_verify(copy, NULL, &rep), ST_ECORRUPT);
    CHECK_INT(rep.line, 3);
    CHECK_HAS(rep.message, "expected \"community NUMBER\"");

    CHECK(tamper_copy(b, copy) == 0);
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", copy, ST_BUNDLE_KEYS);
    remove(p);
    CHECK_INT(st_bundle_verify(copy, NULL, &rep), ST_ECORRUPT);
    CHECK_STR(rep.file, "keys.txt");
    CHECK_HAS(rep.message, "missing or unreadable");

    snprintf(p, sizeof(p), "%s/nothing-here", dir);
    CHECK_INT(st_bundle_verify(p, NULL, &rep), ST_ECORRUPT);
    CHECK_STR(rep.file, "MANIFEST");
    CHECK_HAS(rep.message, "no readable MANIFEST");
}

static void test_writer(void) {
    /* An existing bundle is never overwritten. */
    st_bundle_writer *w = NULL;
    char err[256];
    st_bundle_vote v = {
        .vote_id = 1, .community_id = 1, .matter = 4, .title = "T", .state = "closed"};
    char b[600];
    snprintf(b, sizeof(b), "%s/example", dir);
    CHECK_INT(st_bundle_create(b, &v, &w, err, sizeof(err)), ST_EEXIST);
    CHECK_HAS(err, "never overwritten");
    /* A bundle without its tree head is refused at the end, and its files removed. */
    snprintf(b, sizeof(b), "%s/partial", dir);
    CHECK_INT(st_bundle_create(b, &v, &w, err, sizeof(err)), ST_OK);
    CHECK_INT(st_bundle_add_unit(w, &fixture_example_units[0], err, sizeof(err)), ST_OK);
    CHECK_INT(st_bundle_finish(w, err, sizeof(err)), ST_EINVAL);
    snprintf(b, sizeof(b), "%s/partial/roll.csv", dir);
    FILE *f = fopen(b, "r");
    CHECK(f == NULL);
    if (f != NULL) {
        fclose(f);
    }
}

static void test_json(void) {
    st_json *j = NULL;
    char err[128];
    const char *good = "{\"a\":1,\"b\":[true,false,null],\"c\":\"\\u5f20\\u4e09\\ud83d\\ude00\","
                       "\"d\":-9223372036854775808}";
    CHECK_INT(st_json_parse(good, strlen(good), &j, err, sizeof(err)), ST_OK);
    CHECK_INT(st_json_get(j, "a")->i, 1);
    CHECK_INT(st_json_get(j, "b")->n, 3);
    CHECK_STR(st_json_get(j, "c")->s, "张三\xf0\x9f\x98\x80");
    CHECK(st_json_get(j, "d")->i == INT64_MIN);
    st_json_free(j);
    static const char *const bad[] = {
        "{\"a\":1,\"a\":2}",
        "{\"a\":1.5}",
        "{\"a\":01}",
        "[1,]",
        "{\"a\":\"\\u0000\"}",
        "{\"a\":\"\\ud800\"}",
        "\"\xff\"",
        "{} x",
        "9223372036854775808",
        "{\"a\" 1}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        j = NULL;
        int rc = st_json_parse(bad[i], strlen(bad[i]), &j, err, sizeof(err));
        if (rc != ST_EINVAL) {
            fprintf(stderr, "json accepted: %s\n", bad[i]);
            check_failures++;
        }
        st_json_free(j);
    }
}

int main(int argc, char **argv) {
    snprintf(dir, sizeof(dir), "%s", argc > 1 ? argv[1] : "scratch-bundle");
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) {
        return 1;
    }
    const char *b = path_of("example");
    if (fixture_write(b, fixture_example_units, 12, fixture_example_ballots,
                      FIXTURE_EXAMPLE_BALLOTS, false) != ST_OK) {
        fprintf(stderr, "cannot write the example bundle\n");
        return 1;
    }
    test_writer();
    test_untampered(b);
    test_tampers(b);
    test_broken(b);
    test_json();
    return check_exit("client_bundle");
}
