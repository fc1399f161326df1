/* threads.c - reads run on other threads while apply() writes and grows the map: two
 * reader threads fetch the vote, recount it and digest the state in a loop while the
 * main thread casts ballots and imports rolls into a 64 KiB map that must grow many
 * times. Every read must succeed and see a consistent state (recount equal, ballot
 * count never going back). Most useful under ASan/TSan. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "tests/server/harness.h"

static t_env e;
static atomic_bool done;

typedef struct {
    unsigned long reads;
    bool ok;
} reader_result;

static void *reader(void *arg) {
    reader_result *res = arg;
    uint64_t last = 0;
    res->ok = true;
    while (!atomic_load(&done)) {
        st_vote_info *v;
        if (st_state_get_vote(e.s, 1, &v) != ST_OK) {
            res->ok = false;
            break;
        }
        if (v->ballot_count < last) {
            res->ok = false;
        }
        last = v->ballot_count;
        st_vote_info_free(v);
        st_recount_info rc;
        if (st_state_recount(e.s, 1, &rc) != ST_OK || !rc.equal) {
            res->ok = false;
        }
        uint8_t d[32];
        if (st_state_digest(e.s, ST_STATE_DIGEST_ALL, d) != ST_OK) {
            res->ok = false;
        }
        res->reads++;
    }
    return NULL;
}

int main(void) {
    t_open(&e, true, 64 << 10);
    st_apply_result r;
    CHECK_APPLY(t_create_community(&e, "幸福家园", 0, &r), r, ST_OK);
    CHECK_APPLY(t_import_roll(&e, 1, t_example_roll, 12, &r), r, ST_OK);
    uint64_t vote = t_open_new_vote(&e, 1, 4, 0, NULL, 0);
    CHECK(vote == 1);

    pthread_t th[2];
    reader_result rr[2] = {{0}};
    for (int i = 0; i < 2; i++) {
        CHECK(pthread_create(&th[i], NULL, reader, &rr[i]) == 0);
    }
    static t_unit roll[2000];
    static char units[2000][16], owners[2000][16];
    size_t start_map = st_state_map_size(e.s);
    static const char *const who[] = {"O1", "O2", "O3", "O4", "O5", "O6", "O7", "O8", "O9"};
    for (int i = 0; i < 1500; i++) {
        if (i % 100 == 99) {
            for (size_t u = 0; u < 2000; u++) {
                snprintf(units[u], sizeof(units[u]), "R%d-%zu", i, u);
                snprintf(owners[u], sizeof(owners[u]), "Q%zu", u / 2);
                roll[u] = (t_unit){units[u], "R", 7000, owners[u], owners[u], false};
            }
            CHECK_APPLY(t_import_roll(&e, 1, roll, 2000, &r), r, ST_OK);
        } else {
            CHECK_APPLY(t_cast(&e, vote, who[i % 9], 1 + i % 3, &r), r, ST_OK);
        }
    }
    atomic_store(&done, true);
    for (int i = 0; i < 2; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
        CHECK(rr[i].ok);
        CHECK(rr[i].reads > 0);
    }
    CHECK(st_state_map_size(e.s) > start_map);
    printf("threads: %lu + %lu reads alongside 1500 commands; map %zu -> %zu KiB\n", rr[0].reads,
           rr[1].reads, start_map >> 10, st_state_map_size(e.s) >> 10);
    t_close(&e);
    printf("ok: concurrent reads\n");
    return 0;
}
