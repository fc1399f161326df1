/* test_roll.c - the community roll: head count and area rules of DOMAIN.md, and every
 * refusal leaving the roll as it was. */
#include "core/error.h"
#include "core/roll.h"
#include "tests/core/check.h"
#include "tests/core/example.h"

static void test_worked_example_totals(void) {
    st_roll *r = example_roll();
    CHECK_EQ(st_roll_unit_count(r), 12);
    CHECK_EQ(st_roll_total_area(r), 134450);
    /* O1..O9 and the developer as one. */
    CHECK_EQ(st_roll_total_owners(r), 10);
    CHECK_EQ(st_roll_voter_count(r), 10);

    /* O1 holds two units and counts once, with both areas. */
    long o1 = st_roll_find_voter(r, "O1");
    CHECK(o1 >= 0);
    const st_voter *v = st_roll_voter(r, (size_t)o1);
    CHECK_EQ(v->area, 8950 + 12000);
    CHECK_EQ(v->unit_count, 2);
    CHECK(!v->developer);
    CHECK_STR(v->owner_name, "王建国");

    /* All developer-unsold units are one owner. */
    long dev = st_roll_find_voter(r, "DEV");
    CHECK(dev >= 0);
    v = st_roll_voter(r, (size_t)dev);
    CHECK_EQ(v->area, 14380 * 2);
    CHECK_EQ(v->unit_count, 2);
    CHECK(v->developer);

    /* Co-owners of one unit act as one voter. */
    long o9 = st_roll_find_voter(r, "O9");
    CHECK(o9 >= 0);
    CHECK_EQ(st_roll_voter(r, (size_t)o9)->unit_count, 1);
    CHECK_STR(st_roll_voter(r, (size_t)o9)->owner_name, "周强;吴芳");

    /* Voters are numbered by first appearance; units map to their voter. */
    CHECK_STR(st_roll_voter(r, 0)->owner_id, "O1");
    CHECK_EQ(st_roll_unit_voter(r, 3), 0); /* A-202 belongs to O1 */
    long b301 = st_roll_find_unit(r, "B-301");
    CHECK_EQ(b301, 8);
    CHECK_EQ(st_roll_unit_voter(r, (size_t)b301), dev);

    CHECK_EQ(st_roll_find_voter(r, "O10"), -1);
    CHECK_EQ(st_roll_find_unit(r, "Z-999"), -1);
    CHECK(st_roll_unit_voter(r, 12) == SIZE_MAX);
    CHECK(st_roll_voter(r, 10) == NULL);
    CHECK(st_roll_unit(r, 12) == NULL);

    /* The sum of voter areas is the total area. */
    int64_t sum = 0;
    for (size_t i = 0; i < st_roll_voter_count(r); i++) {
        sum += st_roll_voter(r, i)->area;
    }
    CHECK_EQ(sum, st_roll_total_area(r));
    st_roll_free(r);
}

/* Each bad unit is refused with the given code and a message naming it; the roll keeps
 * exactly what it had and still accepts good units afterwards. */
static void expect_refused(const st_unit *bad, int code, const char *text) {
    st_roll *r = NULL;
    char err[512] = "";
    CHECK(st_roll_new(&r) == 0);
    CHECK(st_roll_add_unit(r, &example_units[0], err, sizeof(err)) == 0);
    CHECK(st_roll_add_unit(r, &example_units[7], err, sizeof(err)) == 0); /* DEV */
    int rc = st_roll_add_unit(r, bad, err, sizeof(err));
    if (rc != code) {
        fprintf(stderr, "unit %s: expected %d, got %d (%s)\n", bad->unit ? bad->unit : "(null)",
                code, rc, err);
    }
    CHECK_EQ(rc, code);
    CHECK_HAS(err, text);
    CHECK_EQ(st_roll_unit_count(r), 2);
    CHECK(st_roll_add_unit(r, &example_units[1], err, sizeof(err)) == 0);
    CHECK(st_roll_seal(r, err, sizeof(err)) == 0);
    CHECK_EQ(st_roll_total_area(r), 8950 + 14380 + 12000);
    CHECK_EQ(st_roll_total_owners(r), 3);
    st_roll_free(r);
}

static void test_refusals(void) {
    st_unit u = {"X-1", "X", 100, "OX", "某人", ST_UNIT_OWNED};

    st_unit dup = u;
    dup.unit = "A-101";
    expect_refused(&dup, ST_EEXIST, "A-101 appears twice");

    st_unit zero = u;
    zero.area = 0;
    expect_refused(&zero, ST_EINVAL, "area 0 is out of range");
    zero.area = -5;
    expect_refused(&zero, ST_EINVAL, "area -5");
    zero.area = ST_AREA_MAX + 1;
    expect_refused(&zero, ST_EINVAL, "out of range");

    st_unit status = u;
    status.status = (st_unit_status)7;
    expect_refused(&status, ST_EINVAL, "unknown status");

    st_unit rename = u;
    rename.owner_id = "O1";
    rename.owner_name = "王建军";
    expect_refused(&rename, ST_EINVAL, "one owner id must carry one name");

    st_unit dev2 = u;
    dev2.status = ST_UNIT_DEVELOPER_UNSOLD;
    dev2.owner_id = "DEV2";
    expect_refused(&dev2, ST_EINVAL, "must share one owner id");

    st_unit noid = u;
    noid.unit = "";
    expect_refused(&noid, ST_EINVAL, "unit number");
    noid.unit = " X-1";
    expect_refused(&noid, ST_EINVAL, "unit number");

    st_unit ctrl = u;
    ctrl.owner_name = "a\tb";
    expect_refused(&ctrl, ST_EINVAL, "owner name");
    ctrl.owner_name = "\xe7\x8e"; /* truncated UTF-8 */
    expect_refused(&ctrl, ST_EINVAL, "owner name");
    ctrl.owner_name = "\xc0\xaf"; /* overlong '/' */
    expect_refused(&ctrl, ST_EINVAL, "owner name");
    ctrl.owner_name = "\xed\xa0\x80"; /* surrogate */
    expect_refused(&ctrl, ST_EINVAL, "owner name");

    st_unit longid = u;
    char big[ST_ID_MAX + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    longid.owner_id = big;
    expect_refused(&longid, ST_EINVAL, "owner id");

    st_unit nullbuilding = u;
    nullbuilding.building = NULL;
    expect_refused(&nullbuilding, ST_EINVAL, "building");
}

static void test_seal_rules(void) {
    st_roll *r = NULL;
    char err[256];
    CHECK(st_roll_new(&r) == 0);
    /* Empty rolls do not seal; unsealed rolls report no voters. */
    CHECK_EQ(st_roll_seal(r, err, sizeof(err)), ST_EINVAL);
    CHECK(st_roll_add_unit(r, &example_units[0], err, sizeof(err)) == 0);
    CHECK_EQ(st_roll_voter_count(r), 0);
    CHECK_EQ(st_roll_find_voter(r, "O1"), -1);
    CHECK_EQ(st_roll_total_area(r), 0);
    CHECK_EQ(st_roll_find_unit(r, "A-101"), 0);
    CHECK(st_roll_seal(r, err, sizeof(err)) == 0);
    CHECK(st_roll_sealed(r));
    /* Sealed rolls take no more units. */
    CHECK_EQ(st_roll_add_unit(r, &example_units[1], err, sizeof(err)), ST_ESTATE);
    CHECK_EQ(st_roll_unit_count(r), 1);
    CHECK_EQ(st_roll_total_owners(r), 1);
    st_roll_free(r);

    /* An owner may hold an owned unit and be the developer: still one voter. */
    CHECK(st_roll_new(&r) == 0);
    st_unit a = {"D-1", "", 500, "DEV", "开发商", ST_UNIT_OWNED};
    st_unit b = {"D-2", "", 700, "DEV", "开发商", ST_UNIT_DEVELOPER_UNSOLD};
    CHECK(st_roll_add_unit(r, &a, err, sizeof(err)) == 0);
    CHECK(st_roll_add_unit(r, &b, err, sizeof(err)) == 0);
    CHECK(st_roll_seal(r, err, sizeof(err)) == 0);
    CHECK_EQ(st_roll_total_owners(r), 1);
    CHECK(st_roll_voter(r, 0)->developer);
    CHECK_EQ(st_roll_voter(r, 0)->area, 1200);
    st_roll_free(r);
}

/* Many units: the hash tables grow, every lookup still finds the right entry. */
static void test_large_roll(void) {
    st_roll *r = NULL;
    char err[256], unit[32], owner[32];
    CHECK(st_roll_new(&r) == 0);
    const int n = 50000;
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        snprintf(unit, sizeof(unit), "U-%d", i);
        snprintf(owner, sizeof(owner), "O-%d", i / 3); /* three units per owner */
        st_unit u = {unit, "B", 1000 + i % 997, owner, "业主", ST_UNIT_OWNED};
        CHECK(st_roll_add_unit(r, &u, err, sizeof(err)) == 0);
        total += u.area;
    }
    CHECK(st_roll_seal(r, err, sizeof(err)) == 0);
    CHECK_EQ(st_roll_total_area(r), total);
    CHECK_EQ(st_roll_total_owners(r), (n + 2) / 3);
    for (int i = 0; i < n; i += 7) {
        snprintf(unit, sizeof(unit), "U-%d", i);
        snprintf(owner, sizeof(owner), "O-%d", i / 3);
        long ui = st_roll_find_unit(r, unit);
        CHECK_EQ(ui, i);
        long vi = st_roll_find_voter(r, owner);
        CHECK_EQ(vi, i / 3);
        CHECK_EQ(st_roll_unit_voter(r, (size_t)ui), vi);
    }
    st_roll_free(r);
}

static void test_valid_text(void) {
    CHECK(st_roll_valid_id("A-101"));
    CHECK(st_roll_valid_name("周强;吴芳"));
    CHECK(st_roll_valid_name("😀 emoji")); /* 4-byte UTF-8 */
    CHECK(!st_roll_valid_name(""));
    CHECK(!st_roll_valid_name(NULL));
    CHECK(!st_roll_valid_name("trailing "));
    CHECK(!st_roll_valid_name("\x7f"));
    CHECK(!st_roll_valid_name("\xc2\x85"));         /* C1 control NEL */
    CHECK(!st_roll_valid_name("\xf4\x90\x80\x80")); /* past U+10FFFF */
    CHECK(!st_roll_valid_name("\xff"));
}

int main(void) {
    test_worked_example_totals();
    test_refusals();
    test_seal_rules();
    test_large_roll();
    test_valid_text();
    printf("roll: all checks passed\n");
    return 0;
}
