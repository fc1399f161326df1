/* test_election.c - committee elections: seat rules, approval checks, the per-candidate
 * threshold, ranking by owners then area, run-off ties at the last seat, and a randomized
 * check that running counts equal a recount and the outcome obeys the rules. */
#include "core/election.h"
#include "core/error.h"
#include "tests/core/check.h"

/* Casts a ballot for a voter of `area` approving the listed candidates. */
static void cast(st_election *e, int64_t area, const uint32_t *set, size_t n) {
    CHECK(st_election_change(e, area, false, NULL, 0, true, set, n) == 0);
}

static const st_cand_result *find(const st_cand_result *res, uint32_t n, uint32_t cand) {
    for (uint32_t i = 0; i < n; i++) {
        if (res[i].candidate == cand) {
            return &res[i];
        }
    }
    CHECK(!"candidate missing from result");
    return NULL;
}

static void test_rules(void) {
    CHECK(st_seats_valid(5) && st_seats_valid(7) && st_seats_valid(11));
    CHECK(!st_seats_valid(3) && !st_seats_valid(6) && !st_seats_valid(13) && !st_seats_valid(0));

    char err[256];
    uint32_t ok[] = {0, 4, 2};
    CHECK(st_approvals_check(5, 6, ok, 3, err, sizeof(err)) == 0);
    CHECK(st_approvals_check(5, 6, NULL, 0, err, sizeof(err)) == 0); /* abstain */
    uint32_t dup[] = {1, 2, 1};
    CHECK_EQ(st_approvals_check(5, 6, dup, 3, err, sizeof(err)), ST_EINVAL);
    CHECK_HAS(err, "approved twice");
    uint32_t range[] = {6};
    CHECK_EQ(st_approvals_check(5, 6, range, 1, err, sizeof(err)), ST_EINVAL);
    CHECK_HAS(err, "candidate 6 does not exist");
    uint32_t many[] = {0, 1, 2, 3, 4, 5};
    CHECK_EQ(st_approvals_check(5, 8, many, 6, err, sizeof(err)), ST_EINVAL);
    CHECK_HAS(err, "at most 5");

    st_election e;
    CHECK_EQ(st_election_init(&e, 4, 6, (st_weight){100, 1}), ST_EINVAL);
    CHECK_EQ(st_election_init(&e, 5, 0, (st_weight){100, 1}), ST_EINVAL);
    CHECK_EQ(st_election_init(&e, 5, ST_CANDIDATES_MAX + 1, (st_weight){100, 1}), ST_EINVAL);
    CHECK(st_election_init(&e, 5, 2, (st_weight){100, 1}) == 0);
    st_election before = e;
    CHECK_EQ(st_election_change(&e, 100, false, NULL, 0, true, dup, 3), ST_EINVAL);
    CHECK_EQ(st_election_change(&e, 0, false, NULL, 0, true, NULL, 0), ST_EINVAL);
    CHECK(st_election_equal(&e, &before));
    CHECK_EQ(e.part.owners, 0);
    st_election_free(&e);
}

/* Ten owners of 100 m² (10000) each; 5 seats; 7 candidates. */
static void test_clear_result(void) {
    st_election e;
    CHECK(st_election_init(&e, 5, 7, (st_weight){100000, 10}) == 0);
    /* 8 owners take part. Candidates 0-4 approved by 6, 6, 5, 7, 5 owners; 5 by 4
     * (exactly half: not qualified); 6 by nobody. */
    uint32_t b[8][5] = {
        {0, 1, 2, 3, 4}, {0, 1, 2, 3, 4}, {0, 1, 2, 3, 4}, {0, 1, 3, 4, 5},
        {0, 1, 2, 3, 5}, {0, 1, 3, 4, 5}, {2, 3, 5},       {3},
    };
    size_t nb[8] = {5, 5, 5, 5, 5, 5, 3, 1};
    for (int i = 0; i < 8; i++) {
        cast(&e, 10000, b[i], nb[i]);
    }
    st_cand_result res[7];
    bool quorum;
    uint32_t elected, runoff;
    st_election_result(&e, res, &quorum, &elected, &runoff);
    CHECK(quorum);
    CHECK_EQ(elected, 5);
    CHECK_EQ(runoff, 0);
    CHECK_EQ(res[0].candidate, 3); /* 8 approvals: first */
    CHECK_EQ(res[0].rank, 1);
    CHECK_EQ(find(res, 7, 3)->approve.owners, 8);
    CHECK_EQ(find(res, 7, 0)->approve.owners, 6);
    CHECK_EQ(find(res, 7, 0)->rank, 2);
    CHECK_EQ(find(res, 7, 1)->rank, 2); /* equal weight shares a rank */
    CHECK_EQ(find(res, 7, 5)->approve.owners, 4);
    CHECK(!find(res, 7, 5)->qualified); /* 4 of 8: exactly half fails */
    CHECK_EQ(find(res, 7, 5)->outcome, ST_CAND_NOT_ELECTED);
    CHECK_EQ(find(res, 7, 5)->rank, 0);
    CHECK(!find(res, 7, 6)->qualified);
    for (uint32_t c = 0; c < 5; c++) {
        CHECK_EQ(find(res, 7, c)->outcome, ST_CAND_ELECTED);
    }

    /* Owner 7 (approved only 3) changes to approve 5 too: 5 now has 5 of 8 and qualifies,
     * six candidates qualify for five seats; 5 ties 2 and 4 (5 owners, same area) at the
     * last seat, so all three go to a run-off for the two remaining seats. */
    uint32_t newset[] = {3, 5};
    CHECK(st_election_change(&e, 10000, true, b[7], 1, true, newset, 2) == 0);
    st_election_result(&e, res, &quorum, &elected, &runoff);
    CHECK_EQ(elected, 3);
    CHECK_EQ(runoff, 3);
    CHECK_EQ(find(res, 7, 3)->outcome, ST_CAND_ELECTED);
    CHECK_EQ(find(res, 7, 0)->outcome, ST_CAND_ELECTED);
    CHECK_EQ(find(res, 7, 1)->outcome, ST_CAND_ELECTED);
    CHECK_EQ(find(res, 7, 2)->outcome, ST_CAND_RUNOFF);
    CHECK_EQ(find(res, 7, 4)->outcome, ST_CAND_RUNOFF);
    CHECK_EQ(find(res, 7, 5)->outcome, ST_CAND_RUNOFF);
    CHECK_EQ(find(res, 7, 6)->outcome, ST_CAND_NOT_ELECTED);
    st_election_free(&e);
}

static void test_area_breaks_owner_tie(void) {
    /* Candidates 0..5 each approved by 3 of 4 owners, but by different area: no tie, the
     * larger approving area ranks higher and the smallest one misses the last seat. */
    st_election e;
    CHECK(st_election_init(&e, 5, 6, (st_weight){1000, 4}) == 0);
    uint32_t a[] = {0, 1, 2, 3, 4}, b[] = {0, 1, 2, 3, 5}, c[] = {0, 1, 2, 4, 5}, d[] = {3, 4, 5};
    cast(&e, 400, a, 5);
    cast(&e, 300, b, 5);
    cast(&e, 200, c, 5);
    cast(&e, 100, d, 3);
    /* approvals (owners, area): 0:(3,900) 1:(3,900) 2:(3,900) 3:(3,800) 4:(3,700) 5:(3,600) */
    st_cand_result res[6];
    bool quorum;
    uint32_t elected, runoff;
    st_election_result(&e, res, &quorum, &elected, &runoff);
    CHECK(quorum);
    CHECK_EQ(elected, 5);
    CHECK_EQ(runoff, 0);
    CHECK_EQ(find(res, 6, 5)->outcome, ST_CAND_NOT_ELECTED);
    CHECK(find(res, 6, 5)->qualified);
    CHECK_EQ(find(res, 6, 5)->rank, 6);
    CHECK_EQ(res[5].candidate, 5);
    CHECK_EQ(find(res, 6, 4)->rank, 5);
    st_election_free(&e);
}

static void test_no_quorum(void) {
    st_election e;
    CHECK(st_election_init(&e, 5, 5, (st_weight){600, 6}) == 0);
    uint32_t all[] = {0, 1, 2, 3, 4};
    for (int i = 0; i < 3; i++) {
        cast(&e, 100, all, 5); /* 3 of 6 take part: no quorum */
    }
    st_cand_result res[5];
    bool quorum;
    uint32_t elected, runoff;
    st_election_result(&e, res, &quorum, &elected, &runoff);
    CHECK(!quorum);
    CHECK_EQ(elected, 0);
    CHECK_EQ(runoff, 0);
    for (int i = 0; i < 5; i++) {
        CHECK(!res[i].qualified);
    }
    /* A fourth owner abstaining (empty set) takes part and brings quorum. */
    cast(&e, 100, NULL, 0);
    st_election_result(&e, res, &quorum, &elected, &runoff);
    CHECK(quorum);
    CHECK_EQ(e.part.owners, 4);
    CHECK_EQ(elected, 5); /* each approved by 3 of 4 owners, 300 of 400 m²: all qualify */
    st_election_free(&e);
}

static void test_randomized(void) {
    uint64_t s = 77;
    long runoffs = 0, elections = 0;
    for (int round = 0; round < 1500; round++, elections++) {
        uint32_t seats = 5 + 2 * (uint32_t)test_below(&s, 4);
        /* Half the rounds sit just past the seat count with equal areas, where
         * qualifying candidates outnumber seats and last-seat ties are common. */
        bool crowded = round % 2 == 0;
        uint32_t ncand =
            crowded ? seats + 1 + (uint32_t)test_below(&s, 3) : 1 + (uint32_t)test_below(&s, 16);
        size_t nvoters = 1 + test_below(&s, 30);
        int64_t areas[30];
        bool has[30] = {false};
        uint32_t sets[30][11];
        size_t ns[30] = {0};
        st_weight total = {0, (int64_t)nvoters};
        for (size_t i = 0; i < nvoters; i++) {
            areas[i] = crowded ? 100 : 100 * (1 + (int64_t)test_below(&s, 2));
            total.area += areas[i];
        }
        st_election e;
        CHECK(st_election_init(&e, seats, ncand, total) == 0);
        size_t ops = test_below(&s, 4 * nvoters);
        for (size_t k = 0; k < ops; k++) {
            size_t i = test_below(&s, nvoters);
            uint32_t set[11];
            size_t n = 0;
            bool want = test_below(&s, 8) != 0;
            if (want) {
                /* Random distinct candidates, at most seats. */
                size_t cap = seats < ncand ? seats : ncand;
                size_t m = crowded ? cap - test_below(&s, 2) : test_below(&s, cap + 1);
                while (n < m) {
                    uint32_t c = (uint32_t)test_below(&s, ncand);
                    bool seen = false;
                    for (size_t j = 0; j < n; j++) {
                        seen |= set[j] == c;
                    }
                    if (!seen) {
                        set[n++] = c;
                    }
                }
            }
            CHECK(st_election_change(&e, areas[i], has[i], sets[i], ns[i], want, set, n) == 0);
            has[i] = want;
            ns[i] = n;
            memcpy(sets[i], set, n * sizeof(set[0]));
        }
        /* Recount from the final ballots. */
        st_election fresh;
        CHECK(st_election_init(&fresh, seats, ncand, total) == 0);
        for (size_t i = 0; i < nvoters; i++) {
            if (has[i]) {
                cast(&fresh, areas[i], sets[i], ns[i]);
            }
        }
        CHECK(st_election_equal(&e, &fresh));

        st_cand_result res[16];
        bool quorum;
        uint32_t elected, runoff;
        st_election_result(&e, res, &quorum, &elected, &runoff);
        CHECK(elected <= seats);
        CHECK_EQ(quorum, st_quorum_met(e.part, total));
        /* Rules: an elected or run-off candidate qualified; every qualified candidate that
         * is not elected ranks no better than every elected one; a run-off happens only
         * when more qualify than seats, and elected + run-off covers the seats. */
        uint32_t nqual = 0;
        for (uint32_t i = 0; i < ncand; i++) {
            const st_cand_result *r = &res[i];
            bool q = quorum && e.part.owners > 0 && 2 * r->approve.area > e.part.area &&
                     2 * r->approve.owners > e.part.owners;
            CHECK_EQ(r->qualified, q);
            nqual += q;
            if (r->outcome != ST_CAND_NOT_ELECTED) {
                CHECK(q);
            }
            for (uint32_t j = 0; j < ncand; j++) {
                const st_cand_result *o = &res[j];
                if (r->outcome == ST_CAND_ELECTED && o->qualified &&
                    o->outcome != ST_CAND_ELECTED) {
                    bool better = o->approve.owners > r->approve.owners ||
                                  (o->approve.owners == r->approve.owners &&
                                   o->approve.area >= r->approve.area);
                    CHECK(!better);
                }
            }
        }
        if (runoff > 0) {
            CHECK(nqual > seats);
            CHECK(elected + runoff > seats);
            runoffs++;
        } else {
            CHECK_EQ(elected, nqual < seats ? nqual : seats);
        }
        st_election_free(&e);
        st_election_free(&fresh);
    }
    CHECK(runoffs > 10); /* the generator must reach run-off ties */
    printf("randomized elections: %ld elections, %ld with run-offs\n", elections, runoffs);
}

int main(void) {
    test_rules();
    test_clear_result();
    test_area_breaks_owner_tie();
    test_no_quorum();
    test_randomized();
    printf("election: all checks passed\n");
    return 0;
}
