/* test_tally.c - quorum and thresholds: the worked example and edge cases of DOMAIN.md,
 * ratios for reports, and a randomized check that the O(1) running tally always equals a
 * from-scratch recount and an independently written statement of the rules. */
#include "core/error.h"
#include "core/ratio.h"
#include "core/roll.h"
#include "core/tally.h"
#include "tests/core/check.h"
#include "tests/core/example.h"

/* The worked example's ballots, by owner id. O8 does not vote. */
static st_choice example_choice(const char *owner) {
    static const struct {
        const char *owner;
        st_choice c;
    } ballots[] = {
        {"O1", ST_CHOICE_AGREE},    {"O2", ST_CHOICE_AGREE},     {"O4", ST_CHOICE_AGREE},
        {"O6", ST_CHOICE_AGREE},    {"O7", ST_CHOICE_AGREE},     {"O9", ST_CHOICE_AGREE},
        {"O3", ST_CHOICE_DISAGREE}, {"DEV", ST_CHOICE_DISAGREE}, {"O5", ST_CHOICE_ABSTAIN},
    };
    for (size_t i = 0; i < sizeof(ballots) / sizeof(ballots[0]); i++) {
        if (strcmp(ballots[i].owner, owner) == 0) {
            return ballots[i].c;
        }
    }
    return ST_CHOICE_NONE;
}

static void test_worked_example(void) {
    st_roll *r = example_roll();
    size_t n = st_roll_voter_count(r);
    int64_t areas[16];
    st_choice choices[16];
    st_weight total = {st_roll_total_area(r), st_roll_total_owners(r)};
    st_tally running;
    st_tally_init(&running, total);
    for (size_t i = 0; i < n; i++) {
        const st_voter *v = st_roll_voter(r, i);
        areas[i] = v->area;
        choices[i] = example_choice(v->owner_id);
        if (choices[i] != ST_CHOICE_NONE) {
            CHECK(st_tally_change(&running, v->area, ST_CHOICE_NONE, choices[i]) == 0);
        }
    }
    st_tally t;
    CHECK(st_tally_recount(&t, total, areas, choices, n) == 0);
    CHECK(st_tally_equal(&t, &running));

    st_weight part = st_tally_part(&t);
    CHECK_EQ(part.area, 128950); /* 1289.50 m² */
    CHECK_EQ(part.owners, 9);
    CHECK_EQ(t.agree.area, 84715); /* 847.15 m² */
    CHECK_EQ(t.agree.owners, 6);
    CHECK_EQ(t.disagree.area, 8950 + 28760);
    CHECK_EQ(t.disagree.owners, 2);
    CHECK_EQ(t.abstain.area, 6525);
    CHECK_EQ(t.abstain.owners, 1);

    char buf[32];
    CHECK_STR(st_percent_str(part.area, total.area, buf, sizeof(buf)), "95.9%");
    CHECK_STR(st_percent_str(part.owners, total.owners, buf, sizeof(buf)), "90.0%");
    CHECK_STR(st_percent_str(t.agree.area, part.area, buf, sizeof(buf)), "65.7%");
    CHECK_STR(st_percent_str(t.agree.owners, part.owners, buf, sizeof(buf)), "66.7%");
    CHECK_STR(st_area_str(part.area, buf, sizeof(buf)), "1289.50");
    CHECK_STR(st_area_str(t.agree.area, buf, sizeof(buf)), "847.15");
    CHECK_STR(st_area_str(total.area, buf, sizeof(buf)), "1344.50");

    /* Hire a property company (matter 4, ordinary): passes. */
    st_decision d = st_tally_decide(&t, st_matter_class(4));
    CHECK(d.quorum);
    CHECK(d.passed);
    /* Raise the maintenance fund (matter 6, special): fails, needs 75% of both. */
    d = st_tally_decide(&t, st_matter_class(6));
    CHECK(d.quorum);
    CHECK(!d.passed);
    st_roll_free(r);
}

/* Six owners of 100.00 m² each; `part` take part, `agree` of them agree, the rest of
 * the participants disagree. */
static st_decision six(int part, int agree, st_class c) {
    st_tally t;
    st_tally_init(&t, (st_weight){6 * 10000, 6});
    for (int i = 0; i < part; i++) {
        CHECK(st_tally_change(&t, 10000, ST_CHOICE_NONE,
                              i < agree ? ST_CHOICE_AGREE : ST_CHOICE_DISAGREE) == 0);
    }
    return st_tally_decide(&t, c);
}

static void test_edge_cases(void) {
    /* 4 of 6 take part: exactly 2/3 meets quorum. */
    CHECK(six(4, 4, ST_CLASS_ORDINARY).quorum);
    /* 2 of those 4 agree: exactly half, ordinary fails. */
    CHECK(!six(4, 2, ST_CLASS_ORDINARY).passed);
    CHECK(six(4, 3, ST_CLASS_ORDINARY).passed);
    /* 3 of 4 agree: exactly 3/4, special passes; 2 of 4 does not. */
    CHECK(six(4, 3, ST_CLASS_SPECIAL).passed);
    CHECK(!six(4, 2, ST_CLASS_SPECIAL).passed);
    /* Only 3 take part: quorum fails, and so does the matter, however they vote. */
    CHECK(!six(3, 3, ST_CLASS_ORDINARY).quorum);
    CHECK(!six(3, 3, ST_CLASS_ORDINARY).passed);
    CHECK(!six(3, 3, ST_CLASS_SPECIAL).passed);
    /* Nobody takes part: no quorum, nothing passes. */
    CHECK(!six(0, 0, ST_CLASS_SPECIAL).passed);

    /* Area and head count are each required: many small owners agree, but the agreeing
     * area is not more than half. */
    st_tally t;
    st_tally_init(&t, (st_weight){1000, 4});
    CHECK(st_tally_change(&t, 100, ST_CHOICE_NONE, ST_CHOICE_AGREE) == 0);
    CHECK(st_tally_change(&t, 100, ST_CHOICE_NONE, ST_CHOICE_AGREE) == 0);
    CHECK(st_tally_change(&t, 100, ST_CHOICE_NONE, ST_CHOICE_AGREE) == 0);
    CHECK(st_tally_change(&t, 700, ST_CHOICE_NONE, ST_CHOICE_DISAGREE) == 0);
    st_decision d = st_tally_decide(&t, ST_CLASS_ORDINARY);
    CHECK(d.quorum);
    CHECK(!d.passed); /* 3/4 owners but 300/1000 area */
    /* ... and one large owner alone does not carry a head count. */
    st_tally_init(&t, (st_weight){1000, 4});
    CHECK(st_tally_change(&t, 700, ST_CHOICE_NONE, ST_CHOICE_AGREE) == 0);
    CHECK(st_tally_change(&t, 100, ST_CHOICE_NONE, ST_CHOICE_DISAGREE) == 0);
    CHECK(st_tally_change(&t, 100, ST_CHOICE_NONE, ST_CHOICE_DISAGREE) == 0);
    CHECK(st_tally_change(&t, 100, ST_CHOICE_NONE, ST_CHOICE_ABSTAIN) == 0);
    d = st_tally_decide(&t, ST_CLASS_ORDINARY);
    CHECK(!d.passed); /* 700/1000 area but 1/4 owners */

    /* Abstention takes part and counts against the threshold. */
    st_tally_init(&t, (st_weight){300, 3});
    CHECK(st_tally_change(&t, 100, ST_CHOICE_NONE, ST_CHOICE_AGREE) == 0);
    CHECK(st_tally_change(&t, 100, ST_CHOICE_NONE, ST_CHOICE_ABSTAIN) == 0);
    d = st_tally_decide(&t, ST_CLASS_ORDINARY);
    CHECK(d.quorum);
    CHECK(!d.passed); /* 1 of 2 participants: exactly half */
}

static void test_replacement_and_refusal(void) {
    st_tally t, before;
    st_tally_init(&t, (st_weight){500, 2});
    CHECK(st_tally_change(&t, 200, ST_CHOICE_NONE, ST_CHOICE_AGREE) == 0);
    CHECK(st_tally_change(&t, 200, ST_CHOICE_AGREE, ST_CHOICE_DISAGREE) == 0);
    CHECK_EQ(t.agree.owners, 0);
    CHECK_EQ(t.agree.area, 0);
    CHECK_EQ(t.disagree.owners, 1);
    CHECK_EQ(t.disagree.area, 200);
    CHECK_EQ(st_tally_part(&t).owners, 1);
    before = t;
    CHECK_EQ(st_tally_change(&t, 200, ST_CHOICE_DISAGREE, (st_choice)9), ST_EINVAL);
    CHECK_EQ(st_tally_change(&t, 0, ST_CHOICE_NONE, ST_CHOICE_AGREE), ST_EINVAL);
    CHECK_EQ(st_tally_change(&t, 10, (st_choice)-1, ST_CHOICE_AGREE), ST_EINVAL);
    CHECK(st_tally_equal(&t, &before));

    int64_t areas[1] = {5};
    st_choice bad[1] = {(st_choice)4};
    CHECK_EQ(st_tally_recount(&t, (st_weight){5, 1}, areas, bad, 1), ST_EINVAL);
    CHECK(st_tally_equal(&t, &before));

    st_choice c;
    CHECK(st_choice_parse("abstain", &c) && c == ST_CHOICE_ABSTAIN);
    CHECK(!st_choice_parse("Agree", &c));
    CHECK(!st_choice_parse("none", &c));
    CHECK(!st_choice_valid(ST_CHOICE_NONE));
}

static void test_ratios(void) {
    char buf[32];
    CHECK_EQ(st_permille(128950, 134450), 959);
    CHECK_EQ(st_permille(2, 3), 667);
    CHECK_EQ(st_permille(1, 2000), 1); /* 0.5 per mille rounds up */
    CHECK_EQ(st_permille(1, 2001), 0);
    CHECK_EQ(st_permille(7, 7), 1000);
    CHECK_EQ(st_permille(0, 7), 0);
    CHECK_EQ(st_permille(1, 0), -1);
    CHECK_EQ(st_permille(-1, 5), -1);
    CHECK_EQ(st_permille(ST_RATIO_DEN_MAX - 1, ST_RATIO_DEN_MAX), 1000);
    CHECK_STR(st_percent_str(0, 0, buf, sizeof(buf)), "-");
    CHECK_STR(st_percent_str(1, 3, buf, sizeof(buf)), "33.3%");
    CHECK_STR(st_area_str(5, buf, sizeof(buf)), "0.05");
    CHECK_STR(st_area_str(-150, buf, sizeof(buf)), "-1.50");
    CHECK_STR(st_area_str(INT64_MIN, buf, sizeof(buf)), "-92233720368547758.08");

    CHECK_EQ(st_matter_class(4), ST_CLASS_ORDINARY);
    for (int m = 1; m <= 9; m++) {
        CHECK(st_matter_valid(m));
        CHECK_EQ(st_matter_class(m), (m >= 6 && m <= 8) ? ST_CLASS_SPECIAL : ST_CLASS_ORDINARY);
    }
    CHECK(!st_matter_valid(0));
    CHECK(!st_matter_valid(10));
    CHECK_STR(st_matter_title(42), "unknown matter");
    st_class c;
    CHECK(st_class_parse("special", &c) && c == ST_CLASS_SPECIAL);
    CHECK(!st_class_parse("Special", &c));
}

/* The rules restated independently of tally.c: thresholds as the smallest whole number
 * that meets them, found by ceiling division. */
static int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

static bool oracle_passes(st_class c, st_weight total, st_weight part, st_weight agree) {
    bool quorum =
        part.area >= ceil_div(2 * total.area, 3) && part.owners >= ceil_div(2 * total.owners, 3);
    if (!quorum || part.owners == 0) {
        return false;
    }
    if (c == ST_CLASS_ORDINARY) {
        return agree.area >= part.area / 2 + 1 && agree.owners >= part.owners / 2 + 1;
    }
    return agree.area >= ceil_div(3 * part.area, 4) && agree.owners >= ceil_div(3 * part.owners, 4);
}

static void test_randomized(void) {
    uint64_t seed = 20261123;
    const char *env = getenv("STRATA_TEST_SEED");
    if (env != NULL) {
        seed = strtoull(env, NULL, 10);
    }
    printf("randomized recount: seed %llu\n", (unsigned long long)seed);
    uint64_t s = seed;
    long steps = 0, passes = 0, quorums = 0;
    for (int round = 0; round < 3000; round++) {
        size_t n = 1 + test_below(&s, round % 10 == 0 ? 400 : 12);
        int64_t *areas = malloc(n * sizeof(*areas));
        st_choice *choices = calloc(n, sizeof(*choices));
        CHECK(areas != NULL && choices != NULL);
        st_weight total = {0, (int64_t)n};
        for (size_t i = 0; i < n; i++) {
            /* Small areas make exact-boundary ties frequent; sometimes huge ones. */
            areas[i] = round % 7 == 0 ? 1 + (int64_t)test_below(&s, ST_AREA_MAX)
                                      : 100 * (1 + (int64_t)test_below(&s, 4));
            total.area += areas[i];
        }
        st_tally running;
        st_tally_init(&running, total);
        size_t ops = test_below(&s, 3 * n + 1);
        for (size_t k = 0; k < ops; k++, steps++) {
            size_t i = test_below(&s, n);
            /* Replace, including back to "no ballot" (a withdrawn test case). */
            st_choice to = (st_choice)test_below(&s, 4);
            CHECK(st_tally_change(&running, areas[i], choices[i], to) == 0);
            choices[i] = to;
        }
        st_tally fresh;
        CHECK(st_tally_recount(&fresh, total, areas, choices, n) == 0);
        if (!st_tally_equal(&fresh, &running)) {
            fprintf(stderr, "seed %llu round %d: running tally differs from recount\n",
                    (unsigned long long)seed, round);
            exit(1);
        }
        st_weight part = st_tally_part(&fresh);
        for (int c = ST_CLASS_ORDINARY; c <= ST_CLASS_SPECIAL; c++) {
            st_decision d = st_tally_decide(&fresh, (st_class)c);
            bool want = oracle_passes((st_class)c, total, part, fresh.agree);
            if (d.passed != want) {
                fprintf(stderr, "seed %llu round %d class %d: passed=%d, rules say %d\n",
                        (unsigned long long)seed, round, c, d.passed, want);
                exit(1);
            }
            passes += d.passed;
            quorums += d.quorum;
        }
        free(areas);
        free(choices);
    }
    /* The generator must actually reach both outcomes, or the test proves little. */
    CHECK(passes > 100);
    CHECK(quorums > passes);
    printf("randomized recount: 3000 rolls, %ld ballot changes, %ld passes, %ld quorums\n", steps,
           passes, quorums);
}

int main(void) {
    test_worked_example();
    test_edge_cases();
    test_replacement_and_refusal();
    test_ratios();
    test_randomized();
    printf("tally: all checks passed\n");
    return 0;
}
