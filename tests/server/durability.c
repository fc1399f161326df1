/* durability.c - what survives: the state across close and reopen; the last committed
 * state after a process is killed with SIGKILL inside a transaction (at a fault point,
 * and at random moments of a stream of commands); and determinism: states fed the same
 * commands have equal digests, whatever their map size and growth. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/server/harness.h"

/* A fixed script of commands: the example community, a vote, ballots, and re-imports of
 * a 3,000-unit roll (long transactions) every 60 commands. Results are not checked, so
 * the script can be cut short with e->limit to replay a prefix. */
static void big_roll(t_unit *u, size_t n, unsigned variant) {
    static char units[3000][16], owners[3000][16];
    for (size_t i = 0; i < n; i++) {
        snprintf(units[i], sizeof(units[i]), "X-%zu", i % 100000);
        snprintf(owners[i], sizeof(owners[i]), "W%zu", (i + variant) % 1000);
        u[i] = (t_unit){units[i], "X", 5000 + (int64_t)(i % 7) * 100, owners[i], owners[i], false};
    }
}

static void script(t_env *e, size_t commands) {
    static t_unit roll[3000];
    t_create_community(e, "幸福家园", 0, NULL);
    t_import_roll(e, 1, t_example_roll, 12, NULL);
    t_create_vote(e, 1, 4, "选聘物业", -1, 0, NULL, 0, NULL);
    t_notice(e, 1, NULL);
    t_open_vote(e, 1, NULL);
    static const char *const owners[] = {"O1", "O2", "O3", "O4", "O5",
                                         "O6", "O7", "O8", "O9", "DEV"};
    for (size_t i = 5; i < commands; i++) {
        if (i % 60 == 0) {
            big_roll(roll, 3000, (unsigned)i);
            t_import_roll(e, 1, roll, 3000, NULL);
        } else {
            t_cast(e, 1, owners[i % 10], 1 + (int)(i / 10 % 3), NULL);
        }
        e->time_ms += 1000;
    }
}

static void fresh(t_env *e, bool nosync, size_t map_size) {
    t_open(e, nosync, map_size);
    e->enroll = T_ENROLL_LAZY; /* only owners who vote get keys, not the 1,000 of big_roll */
}

/* ---- 1: close and reopen ---- */

static void reopen_keeps_everything(void) {
    t_env e;
    fresh(&e, false, 0);
    script(&e, 150);
    uint8_t all[32], again[32];
    t_digest(&e, ST_STATE_DIGEST_ALL, all);
    uint64_t index = e.index;
    t_reopen(&e);
    CHECK(e.index == index);
    t_digest(&e, ST_STATE_DIGEST_ALL, again);
    CHECK(t_digest_eq(all, again));
    st_recount_info rc;
    CHECK(st_state_recount(e.s, 1, &rc) == ST_OK && rc.equal && rc.ballots > 100);
    /* And it goes on from there. */
    st_apply_result r;
    CHECK_APPLY(t_cast(&e, 1, "O8", 1, &r), r, ST_OK);
    t_close(&e);
    printf("reopen: %llu commands survive close and reopen\n", (unsigned long long)index);
}

/* ---- 2: SIGKILL at the fault point inside the transaction ---- */

static int hook_fd = -1;
static bool hook_armed;

static void stop_before_commit(void *ctx, const char *point) {
    (void)ctx;
    if (hook_armed && strcmp(point, "before_commit") == 0) {
        char c = 'x';
        if (write(hook_fd, &c, 1) != 1) {
            _exit(3);
        }
        for (;;) {
            pause(); /* wait for the parent's SIGKILL, inside the write transaction */
        }
    }
}

static void kill_inside_transaction(void) {
    t_env e;
    fresh(&e, false, 1 << 20); /* a small map: the import also grows it */
    script(&e, 20);
    uint8_t before[32];
    t_digest(&e, ST_STATE_DIGEST_ALL, before);
    uint64_t index = e.index;
    st_state_close(e.s);
    e.s = NULL;

    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        hook_fd = fds[1];
        e.hook = stop_before_commit;
        t_reopen(&e);
        static t_unit roll[20000];
        static char units[20000][16], owners[20000][16];
        for (size_t i = 0; i < 20000; i++) {
            snprintf(units[i], sizeof(units[i]), "K-%zu", i);
            snprintf(owners[i], sizeof(owners[i]), "K%zu", i / 3);
            roll[i] = (t_unit){units[i], "K", 9000, owners[i], owners[i], false};
        }
        hook_armed = true;
        t_import_roll(&e, 1, roll, 20000, NULL);
        _exit(2); /* not reached: the hook waits to be killed */
    }
    close(fds[1]);
    char c;
    CHECK(read(fds[0], &c, 1) == 1); /* the child is inside its transaction */
    CHECK(kill(pid, SIGKILL) == 0);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(fds[0]);

    e.hook = NULL;
    t_reopen(&e);
    CHECK(e.index == index);
    uint8_t after[32];
    t_digest(&e, ST_STATE_DIGEST_ALL, after);
    CHECK(t_digest_eq(before, after));
    st_community_info *ci;
    CHECK(st_state_get_community(e.s, 1, &ci) == ST_OK);
    CHECK(ci->unit_count == 12);
    st_community_info_free(ci);
    /* The state is writable again (the dead writer's lock was recovered). */
    st_apply_result r;
    CHECK_APPLY(t_cast(&e, 1, "O8", 2, &r), r, ST_OK);
    t_close(&e);
    printf("kill at before_commit: reopened at index %llu with the earlier digest\n",
           (unsigned long long)index);
}

/* ---- 3: SIGKILL at random moments; the survivor equals a replay of its prefix ---- */

static void kill_at_random(unsigned round, unsigned delay_ms) {
    t_env e;
    fresh(&e, false, 0);
    st_state_close(e.s);
    e.s = NULL;
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        t_reopen(&e);
        script(&e, 100000); /* far more than it can do before the kill */
        _exit(2);
    }
    usleep(delay_ms * 1000);
    CHECK(kill(pid, SIGKILL) == 0);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));

    t_reopen(&e);
    uint64_t survived = e.index;
    uint8_t got[32];
    t_digest(&e, ST_STATE_DIGEST_ALL, got);
    t_close(&e);

    t_env ref;
    fresh(&ref, true, 0);
    ref.limit = survived;
    script(&ref, survived + 1);
    uint8_t want[32];
    t_digest(&ref, ST_STATE_DIGEST_ALL, want);
    CHECK(ref.index == survived);
    t_close(&ref);
    CHECK(t_digest_eq(got, want));
    printf("kill round %u after %u ms: %llu commands committed, digest equals their replay\n",
           round, delay_ms, (unsigned long long)survived);
}

/* ---- 4: determinism ---- */

static void same_commands_same_digest(void) {
    t_env a, b, c;
    fresh(&a, true, 0);
    fresh(&b, false, 0);
    fresh(&c, true, 64 << 10); /* 64 KiB: grows many times on the way */
    script(&a, 400);
    script(&b, 400);
    script(&c, 400);
    uint8_t da[32], db[32], dc[32];
    t_digest(&a, ST_STATE_DIGEST_ALL, da);
    t_digest(&b, ST_STATE_DIGEST_ALL, db);
    t_digest(&c, ST_STATE_DIGEST_ALL, dc);
    CHECK(t_digest_eq(da, db));
    CHECK(t_digest_eq(da, dc));
    CHECK(st_state_map_size(c.s) > (64 << 10));
    printf("determinism: equal digests for 400 commands; the 64 KiB map grew to %zu KiB\n",
           st_state_map_size(c.s) >> 10);
    /* One more command on one of them: the digests part. */
    st_apply_result r;
    CHECK_APPLY(t_cast(&a, 1, "O8", 3, &r), r, ST_OK);
    t_digest(&a, ST_STATE_DIGEST_ALL, da);
    CHECK(!t_digest_eq(da, db));
    t_close(&a);
    t_close(&b);
    t_close(&c);
}

int main(void) {
    reopen_keeps_everything();
    kill_inside_transaction();
    static const unsigned delays[] = {30, 90, 170, 260};
    for (unsigned i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
        kill_at_random(i, delays[i]);
    }
    same_commands_same_digest();
    printf("ok: durability and determinism\n");
    return 0;
}
