/* bench_tally.c - how fast `strata tally` reads a large community and recounts a vote.
 *
 * Generates, from a fixed seed, a 20,000-unit roll shaped like a real community (40
 * buildings of 25 floors; owners holding one, two or three units; co-owners with joined
 * names; a developer block of unsold units counting as one owner) and 20,000 ballot rows
 * (most owners once, some replacing their ballot later, some in Chinese, some not voting
 * at all). Writes both as CSV the way a spreadsheet in China exports them (BOM, CRLF,
 * quoted names) to a temporary directory, then times cli_tally_files() - the code path
 * of `strata tally`: read both files, parse, recount, decide - over several runs.
 * The generator keeps its own count, and the run fails if the recount disagrees.
 *
 * usage: bench_tally [RUNS]      (default 15; not run by ctest)
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/cli.h"
#include "core/error.h"
#include "core/ratio.h"
#include "core/roll_csv.h"

#define UNITS 20000
#define BALLOT_ROWS 20000
#define BUILDINGS 40
#define FLOORS 25
#define PER_FLOOR 20 /* BUILDINGS * FLOORS * PER_FLOOR == UNITS */
#define DEVELOPER_UNITS 600
#define SEED 0x5354524154415f31ULL /* "STRATA_1" */

static uint64_t rng_state = SEED;

/* splitmix64: small, fast, and the same sequence everywhere. */
static uint64_t rng(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t below(uint32_t n) {
    return (uint32_t)(rng() % n);
}

/* agree 58%, disagree 32%, abstain 10% */
static int random_choice(void) {
    uint32_t r = below(100);
    return r < 58 ? 1 : r < 90 ? 2 : 3;
}

static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵",
                                       "吴", "周", "徐", "孙", "马", "朱", "胡", "郭"};
static const char *const given[] = {"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强",
                                    "磊", "军", "洋", "勇",   "艳", "杰", "娟", "建国"};

typedef struct {
    char id[24];
    char name[64];
    int64_t area; /* sum of the owner's units */
    int choice;   /* final choice as the generator counts it: 0 none, 1..3 */
} owner;

typedef struct {
    char *data;
    size_t len, cap;
} sbuf;

static void sbuf_init(sbuf *b, size_t cap) {
    b->data = malloc(cap);
    b->len = 0;
    b->cap = cap;
    if (b->data == NULL) {
        fprintf(stderr, "bench_tally: out of memory\n");
        exit(1);
    }
}

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(sbuf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + 4096;
        b->data = realloc(b->data, b->cap);
        if (b->data == NULL) {
            fprintf(stderr, "bench_tally: out of memory\n");
            exit(1);
        }
    }
}

static void write_file(const char *path, const sbuf *b) {
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "bench_tally: cannot write %s\n", path);
        exit(1);
    }
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* "12.34" milliseconds from nanoseconds, in integers. */
static const char *ms(int64_t ns, char *buf, size_t len) {
    int64_t centi_ms = (ns + 5000) / 10000;
    snprintf(buf, len, "%lld.%02lld", (long long)(centi_ms / 100), (long long)(centi_ms % 100));
    return buf;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 15;
    if (runs < 1 || runs > 1000) {
        fprintf(stderr, "usage: bench_tally [RUNS]   (1 to 1000, default 15)\n");
        return 2;
    }

    /* ---- the roll ---- */
    static owner owners[UNITS];
    static uint32_t unit_owner[UNITS];
    static uint32_t order[UNITS];
    size_t nowners = 0;
    /* The developer holds the last DEVELOPER_UNITS units (the newest building's upper
     * floors); everyone else's units are dealt out in a shuffled order, one to three each. */
    owner *dev = &owners[nowners++];
    snprintf(dev->id, sizeof(dev->id), "DEV");
    snprintf(dev->name, sizeof(dev->name), "华北置业有限公司");
    size_t owned = UNITS - DEVELOPER_UNITS;
    for (size_t i = 0; i < owned; i++) {
        order[i] = (uint32_t)i;
    }
    for (size_t i = owned - 1; i > 0; i--) {
        size_t j = below((uint32_t)(i + 1));
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    size_t multi = 0, co = 0;
    for (size_t i = 0; i < owned;) {
        owner *o = &owners[nowners];
        snprintf(o->id, sizeof(o->id), "P%06zu", nowners);
        if (below(100) < 15) { /* co-owners of the unit: one voter, both names */
            snprintf(o->name, sizeof(o->name), "%s%s;%s%s", surnames[below(16)], given[below(16)],
                     surnames[below(16)], given[below(16)]);
            co++;
        } else {
            snprintf(o->name, sizeof(o->name), "%s%s", surnames[below(16)], given[below(16)]);
        }
        uint32_t r = below(100), k = r < 90 ? 1 : r < 98 ? 2 : 3;
        multi += k > 1;
        for (uint32_t n = 0; n < k && i < owned; n++, i++) {
            unit_owner[order[i]] = (uint32_t)nowners;
        }
        nowners++;
    }
    for (size_t u = owned; u < UNITS; u++) {
        unit_owner[u] = 0;
    }

    sbuf roll;
    sbuf_init(&roll, 1 << 20);
    put(&roll, "\xef\xbb\xbf" ST_ROLL_CSV_HEADER "\r\n");
    int64_t total_area = 0;
    for (size_t u = 0; u < UNITS; u++) {
        size_t b = u / (FLOORS * PER_FLOOR), floor = u / PER_FLOOR % FLOORS + 1,
               room = u % PER_FLOOR + 1;
        int64_t area = 6000 + below(12000) + (below(4) == 0 ? 4000 : 0); /* 60-200 m² */
        owner *o = &owners[unit_owner[u]];
        o->area += area;
        total_area += area;
        put(&roll, "%02zu-%zu%02zu,%02zu栋,%lld,%s,\"%s\",%s\r\n", b + 1, floor, room, b + 1,
            (long long)area, o->id, o->name, o == dev ? "developer_unsold" : "owned");
    }

    /* ---- the ballots: 85% of owners vote once, then replacements up to BALLOT_ROWS ---- */
    static const char *const words[4][2] = {
        {"", ""}, {"agree", "同意"}, {"disagree", "反对"}, {"abstain", "弃权"}};
    sbuf ballots;
    sbuf_init(&ballots, 1 << 18);
    put(&ballots, "\xef\xbb\xbf" ST_BALLOTS_CSV_HEADER "\r\n");
    static uint32_t voted[UNITS];
    size_t nvoted = 0, rows = 0, replaced = 0;
    for (size_t i = 0; i < nowners && rows < BALLOT_ROWS; i++) {
        if (below(100) < 85) {
            owners[i].choice = random_choice();
            voted[nvoted++] = (uint32_t)i;
            put(&ballots, "%s,%s\r\n", owners[i].id, words[owners[i].choice][below(5) == 0]);
            rows++;
        }
    }
    while (rows < BALLOT_ROWS) {
        owner *o = &owners[voted[below((uint32_t)nvoted)]];
        o->choice = random_choice(); /* the later ballot counts */
        put(&ballots, "%s,%s\r\n", o->id, words[o->choice][below(5) == 0]);
        rows++;
        replaced++;
    }
    st_weight want_agree = {0, 0}, want_part = {0, 0};
    for (size_t i = 0; i < nowners; i++) {
        if (owners[i].choice != 0) {
            want_part.area += owners[i].area;
            want_part.owners++;
        }
        if (owners[i].choice == 1) {
            want_agree.area += owners[i].area;
            want_agree.owners++;
        }
    }

    char dir[] = "/tmp/strata-bench-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("bench_tally: mkdtemp");
        return 1;
    }
    char roll_path[64], ballots_path[64];
    snprintf(roll_path, sizeof(roll_path), "%s/roll.csv", dir);
    snprintf(ballots_path, sizeof(ballots_path), "%s/ballots.csv", dir);
    write_file(roll_path, &roll);
    write_file(ballots_path, &ballots);

    /* ---- timing ---- */
    int64_t *times = malloc((size_t)runs * sizeof(*times));
    cli_tally_result res;
    char err[1024];
    int failed = 0;
    for (int i = 0; i < runs && times != NULL; i++) {
        int64_t t0 = now_ns();
        int rc =
            cli_tally_files(roll_path, ballots_path, ST_CLASS_ORDINARY, &res, err, sizeof(err));
        times[i] = now_ns() - t0;
        if (rc != ST_OK) {
            fprintf(stderr, "bench_tally: %s\n", err);
            failed = 1;
            break;
        }
    }
    unlink(roll_path);
    unlink(ballots_path);
    rmdir(dir);
    if (times == NULL || failed) {
        return 1;
    }

    /* The recount must agree with the generator's own count. */
    if (res.tally.total.area != total_area || res.tally.total.owners != (int64_t)nowners ||
        res.decision.part.area != want_part.area || res.decision.part.owners != want_part.owners ||
        res.tally.agree.area != want_agree.area || res.tally.agree.owners != want_agree.owners ||
        res.units != UNITS || res.ballots.rows != BALLOT_ROWS || res.ballots.replaced != replaced) {
        fprintf(stderr, "bench_tally: the recount disagrees with the generator\n");
        return 1;
    }

    qsort(times, (size_t)runs, sizeof(*times), cmp_i64);
    int64_t best = times[0], median = times[runs / 2];
    int64_t rows_total = UNITS + BALLOT_ROWS;
    char b1[32], b2[32], pa[16], pb[16];
    printf("bench_tally: %d units (%zu owners: %zu with 2-3 units, %zu co-owned, developer "
           "%d units), %d ballot rows (%zu replaced)\n",
           UNITS, nowners, multi, co, DEVELOPER_UNITS, BALLOT_ROWS, replaced);
    printf("  CSV: roll %zu bytes, ballots %zu bytes\n", roll.len, ballots.len);
    printf("  read + parse + tally (cli_tally_files, the path of strata tally), %d runs:\n", runs);
    printf("  best %s ms, median %s ms, %lld rows/s at the median (%lld rows/s best)\n",
           ms(best, b1, sizeof(b1)), ms(median, b2, sizeof(b2)),
           (long long)(rows_total * 1000000000 / (median > 0 ? median : 1)),
           (long long)(rows_total * 1000000000 / (best > 0 ? best : 1)));
    printf("  result: quorum %s, agree %s of area / %s of owners, ordinary %s\n",
           res.decision.quorum ? "met" : "not met",
           st_percent_str(res.tally.agree.area, res.decision.part.area, pa, sizeof(pa)),
           st_percent_str(res.tally.agree.owners, res.decision.part.owners, pb, sizeof(pb)),
           res.decision.passed ? "PASSED" : "FAILED");
    free(times);
    free(roll.data);
    free(ballots.data);
    return 0;
}
