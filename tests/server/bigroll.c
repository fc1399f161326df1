/* bigroll.c - a 20,000-unit roll in one ImportRoll command, starting from a 1 MiB map
 * that has to grow on the way; then a vote on it: freezing the roll at open, the voters'
 * key enrollment, ~6,600 signed ballots (each appended to the vote's Merkle log), a
 * recount. Prints how long each took (no timed assertion). */
#include <string.h>

#include "tests/server/harness.h"

#define UNITS 20000

static t_unit roll[UNITS];
static char units[UNITS][16], owners[UNITS][16];

int main(void) {
    /* 20,000 units: owners hold 1 to 3 units, the developer keeps every 50th unit. */
    int64_t total = 0;
    size_t nowners = 0;
    for (size_t i = 0; i < UNITS; i++) {
        snprintf(units[i], sizeof(units[i]), "%zu-%zu-%zu", i / 2000 + 1, i / 100 % 20 + 1,
                 i % 100 + 1);
        bool dev = i % 50 == 49;
        if (dev) {
            snprintf(owners[i], sizeof(owners[i]), "DEV");
        } else {
            snprintf(owners[i], sizeof(owners[i]), "P%zu", i / 3);
        }
        roll[i] = (t_unit){
            units[i], "楼", 6000 + (int64_t)(i % 97) * 100, owners[i], dev ? "开发商" : owners[i],
            dev};
        total += roll[i].area;
    }
    for (size_t i = 0; i < UNITS; i++) {
        bool first = !roll[i].developer && (i == 0 || strcmp(owners[i], owners[i - 1]) != 0) &&
                     (i < 2 || strcmp(owners[i], owners[i - 2]) != 0);
        nowners += first;
    }
    nowners += 1; /* the developer */

    t_env e;
    t_open(&e, false, 1 << 20);
    e.enroll = T_ENROLL_LAZY; /* voters are enrolled below, outside the timed parts */
    st_apply_result r;
    CHECK_APPLY(t_create_community(&e, "大型社区", 0, &r), r, ST_OK);
    double t0 = t_now_ms();
    CHECK_APPLY(t_import_roll(&e, 1, roll, UNITS, &r), r, ST_OK);
    double import_ms = t_now_ms() - t0;
    printf("import of %d units in one command: %.1f ms (map grew from 1024 KiB to %zu KiB)\n",
           UNITS, import_ms, st_state_map_size(e.s) >> 10);

    st_community_info *ci;
    CHECK(st_state_get_community(e.s, 1, &ci) == ST_OK);
    CHECK(ci->unit_count == UNITS && ci->total.area == total);
    CHECK(ci->total.owners == (int64_t)nowners);
    printf("roll: %llu units, %lld owners, %lld.%02lld m2\n", (unsigned long long)ci->unit_count,
           (long long)ci->total.owners, (long long)(total / 100), (long long)(total % 100));
    st_community_info_free(ci);

    /* Re-importing replaces all 20,000 units in one transaction. */
    roll[0].owner = "NEW";
    roll[0].name = "新业主";
    t0 = t_now_ms();
    CHECK_APPLY(t_import_roll(&e, 1, roll, UNITS, &r), r, ST_OK);
    printf("re-import replacing %d units: %.1f ms\n", UNITS, t_now_ms() - t0);
    nowners += 1; /* unit 0 left P0, who still holds units 1 and 2 */

    CHECK_APPLY(t_create_vote(&e, 1, 4, "选聘物业", 0, 0, NULL, 0, &r), r, ST_OK);
    CHECK_APPLY(t_notice(&e, 1, &r), r, ST_OK);
    t0 = t_now_ms();
    CHECK_APPLY(t_open_vote(&e, 1, &r), r, ST_OK);
    printf("open (freeze %zu voters): %.1f ms\n", nowners, t_now_ms() - t0);

    /* The owners who vote enroll their keys first (issue + redeem each), without sync. */
    e.nosync = true;
    t_reopen(&e);
    size_t enrolled = 0;
    t0 = t_now_ms();
    for (size_t i = 0; i < UNITS - 2; i += 3, enrolled++) {
        CHECK_APPLY(t_enroll(&e, 1, owners[i + 1], &r), r, ST_OK);
    }
    printf("enrollment of %zu owners (2 commands each) with MDB_NOSYNC: %.0f ms\n", enrolled,
           t_now_ms() - t0);
    e.nosync = false;
    t_reopen(&e);

    /* Every owner votes once, synced commits and then without sync. */
    size_t n = 0;
    t0 = t_now_ms();
    for (size_t i = 0; i < UNITS && n < 300; i += 3, n++) {
        CHECK_APPLY(t_cast(&e, 1, owners[i + 1], 1 + (int)(n % 3), &r), r, ST_OK);
    }
    double synced = t_now_ms() - t0;
    printf("ballots with sync: %zu in %.0f ms (%.0f/s)\n", n, synced, (double)n * 1000 / synced);
    e.nosync = true;
    t_reopen(&e);
    size_t m = 0;
    t0 = t_now_ms();
    for (size_t i = 900; i < UNITS - 2; i += 3, m++) {
        CHECK_APPLY(t_cast(&e, 1, owners[i + 1], 1 + (int)(m % 3), &r), r, ST_OK);
    }
    double nosync = t_now_ms() - t0;
    printf("ballots with MDB_NOSYNC: %zu in %.0f ms (%.0f/s)\n", m, nosync,
           (double)m * 1000 / nosync);

    t0 = t_now_ms();
    st_recount_info rc;
    CHECK(st_state_recount(e.s, 1, &rc) == ST_OK);
    printf("recount of %llu ballots over %llu voters: %.1f ms\n", (unsigned long long)rc.ballots,
           (unsigned long long)rc.voters, t_now_ms() - t0);
    CHECK(rc.equal && rc.ballots == n + m && rc.voters == nowners);

    t0 = t_now_ms();
    uint8_t d[32];
    t_digest(&e, ST_STATE_DIGEST_ALL, d);
    printf("digest of the whole state: %.1f ms\n", t_now_ms() - t0);
    t_close(&e);
    printf("ok: 20,000-unit roll\n");
    return 0;
}
