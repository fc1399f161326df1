/* harness.h - what the server tests share: an assertion macro, a state in a temporary
 * directory, and builders that encode strata.internal.Commands and apply them with the
 * next log index, a fresh request id and the test's clock. */
#ifndef STRATA_TESTS_SERVER_HARNESS_H
#define STRATA_TESTS_SERVER_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"
#include "proto/strata/internal/command.pb-c.h"
#include "server/state.h"

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr);               \
            t_fail_hook();                                                                         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Runs `call` (a builder that applies a command) once, then checks the code it left in
 * the st_apply_result variable `res`, printing the message when it is not `want`. */
#define CHECK_APPLY(call, res, want)                                                               \
    do {                                                                                           \
        (void)(call);                                                                              \
        if ((res).code != (want)) {                                                                \
            fprintf(stderr, "%s:%d: result code %d (%s), expected %d (%s): %s\n", __FILE__,        \
                    __LINE__, (res).code, st_strerror((res).code), (want), st_strerror(want),      \
                    (res).message);                                                                \
            t_fail_hook();                                                                         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Called before a failing CHECK exits (prints the random seed, for instance). */
extern void (*t_on_fail)(void);
void t_fail_hook(void);

#define DAY_MS 86400000ULL
#define T0_MS 1714550400000ULL /* 2024-05-01T08:00:00Z */

typedef struct {
    st_state *s;
    char dir[64];
    uint64_t index;   /* last log index used */
    uint64_t time_ms; /* stamped on every command; tests move it */
    uint64_t req;     /* request id counter */
    const char *actor;
    bool nosync;
    size_t map_size;
    uint64_t limit; /* non-zero: commands past this index are not applied (replays) */
    void (*hook)(void *ctx, const char *point); /* passed to st_state_open */
} t_env;

/* Opens a fresh state in a new temporary directory (nosync unless asked otherwise). */
void t_open(t_env *e, bool nosync, size_t map_size);
/* Closes and opens again on the same directory (with e->hook), reading the applied
 * index back into e->index. */
void t_reopen(t_env *e);
/* Closes and deletes the directory. */
void t_close(t_env *e);
void t_rmdir(const char *dir);

/* Encodes cmd (filling time, actor and a fresh request id unless already set) and
 * applies it at the next index. Returns res->code; fails the test if apply itself fails. */
int t_apply(t_env *e, Strata__Internal__Command *cmd, st_apply_result *res);
/* Applies already-encoded bytes at the next index. */
int t_apply_bytes(t_env *e, const uint8_t *buf, size_t len, st_apply_result *res);

typedef struct {
    const char *unit, *building;
    int64_t area;
    const char *owner, *name;
    bool developer;
} t_unit;

/* The 12-unit roll of DOMAIN.md's worked example (tests/data/example-roll.csv). */
extern const t_unit t_example_roll[12];

/* Command builders: each applies and returns the result code; res may be NULL. */
int t_create_community(t_env *e, const char *name, int min_notice, st_apply_result *res);
int t_import_roll(t_env *e, uint64_t community, const t_unit *units, size_t n,
                  st_apply_result *res);
int t_create_vote(t_env *e, uint64_t community, uint32_t matter, const char *title, int notice,
                  uint32_t seats, const char *const *cands, size_t ncands, st_apply_result *res);
int t_notice(t_env *e, uint64_t vote, st_apply_result *res);
int t_open_vote(t_env *e, uint64_t vote, st_apply_result *res);
int t_close_vote(t_env *e, uint64_t vote, st_apply_result *res);
int t_publish(t_env *e, uint64_t vote, st_apply_result *res);
/* An online ballot with a choice (0 = leave the choice unset). */
int t_cast(t_env *e, uint64_t vote, const char *owner, int choice, st_apply_result *res);
/* An online election ballot. */
int t_cast_approvals(t_env *e, uint64_t vote, const char *owner, const uint32_t *set, size_t n,
                     st_apply_result *res);
/* Any ballot, as given (vote id, owner, choice or approvals, source...). */
int t_cast_raw(t_env *e, Strata__Internal__CastBallot *b, st_apply_result *res);

/* Creates, notices and opens a vote with the given notice (0) in one go; returns its id. */
uint64_t t_open_new_vote(t_env *e, uint64_t community, uint32_t matter, uint32_t seats,
                         const char *const *cands, size_t ncands);

/* Digest helpers. */
void t_digest(t_env *e, unsigned what, uint8_t out[32]);
bool t_digest_eq(const uint8_t a[32], const uint8_t b[32]);

/* Monotonic wall time in ms, for reporting durations only. */
double t_now_ms(void);

#endif
