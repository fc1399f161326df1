/* harness.h - what the server tests share: an assertion macro, a state in a temporary
 * directory, and builders that encode strata.internal.Commands and apply them with the
 * next log index, a fresh request id and the test's clock.
 *
 * Keys and roles (docs/ROLES.md): t_open installs genesis keys (operator, supervisor);
 * every command goes out as the role the matrix wants unless the test names an actor:
 * communities are created by the supervisor, who then appoints the harness's organiser
 * key for the new community; rolls, votes and paper ballots come from that organiser;
 * online ballots are signed by the owner's key, enrolled with a code (issue + redeem) when
 * the roll is imported (T_ENROLL_ON_IMPORT) or at the owner's first ballot
 * (T_ENROLL_LAZY). Those extra commands take log indexes of their own. All test keys are
 * derived from labels, so two runs produce the same commands. */
#ifndef STRATA_TESTS_SERVER_HARNESS_H
#define STRATA_TESTS_SERVER_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"
#include "crypto/sign.h"
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

/* A test key pair with its id. */
typedef struct {
    uint8_t pk[ST_SIGN_PK_LEN], sk[ST_SIGN_SK_LEN], id[ST_KEY_ID_LEN];
    char hex[ST_KEY_ID_HEX_LEN + 1];
} t_key;

typedef enum {
    T_ENROLL_ON_IMPORT = 0, /* every owner of an imported roll is enrolled (default) */
    T_ENROLL_LAZY = 1       /* an owner is enrolled at their first harness-made ballot */
} t_enroll_mode;

typedef struct t_harness t_harness;

typedef struct {
    st_state *s;
    char dir[64];
    uint64_t index;    /* last log index used */
    uint64_t time_ms;  /* stamped on every command; tests move it */
    uint64_t req;      /* request id counter */
    const char *actor; /* NULL: the role the matrix wants; otherwise every command's actor */
    bool nosync;
    size_t map_size;
    uint64_t limit; /* non-zero: commands past this index are not applied (replays) */
    void (*hook)(void *ctx, const char *point); /* passed to st_state_open */
    t_enroll_mode enroll;
    bool no_auto_appoint; /* CreateCommunity does not appoint the harness's organiser */
    t_key op, sup;        /* the genesis keys */
    t_harness *h;         /* private */
} t_env;

/* Opens a fresh state in a new temporary directory (nosync unless asked otherwise) and
 * applies Genesis (index 1) with the harness's operator and supervisor keys. */
void t_open(t_env *e, bool nosync, size_t map_size);
/* The same without Genesis (an empty registry). */
void t_open_bare(t_env *e, bool nosync, size_t map_size);
/* Closes and opens again on the same directory (with e->hook), reading the applied
 * index back into e->index. */
void t_reopen(t_env *e);
/* Closes and deletes the directory. */
void t_close(t_env *e);
void t_rmdir(const char *dir);

/* Encodes cmd (filling time, actor and a fresh request id unless already set) and
 * applies it at the next index. Returns res->code; fails the test if apply itself fails.
 * Without an actor (and e->actor NULL) it picks the key the role matrix wants, and signs
 * an unsigned CastBallot with it (online: the owner's key, enrolling the owner first if
 * needed and possible; paper: the organiser's); cmd is left as it was given. */
int t_apply(t_env *e, Strata__Internal__Command *cmd, st_apply_result *res);
/* Applies cmd as the holder of key k (no automatic signing). */
int t_apply_as(t_env *e, Strata__Internal__Command *cmd, const t_key *k, st_apply_result *res);
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

/* ---- keys and enrollment ---- */

/* The key pair derived from a label (SHA-256 of it as the seed). */
void t_key_from_label(t_key *k, const char *label);
/* The harness's organiser key of a community ("organiser/<id>"). */
void t_organiser_key(uint64_t community, t_key *k);
/* The owner's current harness key in a community ("owner/<c>/<owner>/<generation>"). */
void t_owner_key(t_env *e, uint64_t community, const char *owner, t_key *k);
/* Moves the owner to a fresh key (a new phone): later t_owner_key / t_enroll use it. */
void t_owner_new_key(t_env *e, uint64_t community, const char *owner);
/* Enrolls the owner's current harness key: IssueEnrollmentCode by the community's
 * organiser, then RedeemEnrollmentCode by the key. Nothing is applied if the key is active
 * already. Returns ST_OK or the code of the refused step (res gets its result). */
int t_enroll(t_env *e, uint64_t community, const char *owner, st_apply_result *res);
/* The community of a vote (0 if there is no such vote). */
uint64_t t_vote_community(t_env *e, uint64_t vote);
/* Signs a CastBallot body b for vote community `community` with key k (online; or paper
 * when b->source is PAPER, over its scan hash), filling signed_bytes, public_key and
 * signature with buffers inside *buf, which must outlive the apply. A ballot nonce is made
 * from seed (b->nonce is used if it has 16 bytes). Returns false if b cannot be encoded. */
typedef struct {
    uint8_t bytes[169], pk[32], sig[64];
} t_sigbuf;
bool t_sign_cast(Strata__Internal__CastBallot *b, uint64_t community, uint64_t cast_ms,
                 const t_key *k, uint64_t seed, t_sigbuf *buf);

/* ---- builders of the key, enrollment, proxy, review and roster commands: `as` is the
 * actor (NULL: the harness's choice); each applies and returns the result code ---- */

int t_add_key(t_env *e, const uint8_t pk[32], int role, const t_key *as, st_apply_result *res);
int t_appoint(t_env *e, uint64_t community, const uint8_t pk[32], const t_key *as,
              st_apply_result *res);
int t_revoke_key(t_env *e, const uint8_t id[16], const char *reason, const t_key *as,
                 st_apply_result *res);
/* IssueEnrollmentCode with the code key of `code` (valid_days < 0: the default). */
int t_issue(t_env *e, uint64_t community, const char *owner, const char *code, int valid_days,
            const t_key *as, st_apply_result *res);
/* RedeemEnrollmentCode of `code` for key k, correctly signed at e->time_ms, sent by k. */
int t_redeem(t_env *e, uint64_t community, const char *owner, const char *code, const t_key *k,
             st_apply_result *res);
/* RevokeOwnerKey of key id, signed by org and co-signed by sup (sup NULL: no co-signature),
 * sent by org. */
int t_revoke_owner(t_env *e, const uint8_t id[16], const char *reason, const t_key *org,
                   const t_key *sup, st_apply_result *res);
int t_authorise_proxy(t_env *e, uint64_t vote, const char *principal, const char *proxy,
                      const t_key *as, st_apply_result *res);
int t_certify(t_env *e, uint64_t vote, const char *reason, const t_key *as, st_apply_result *res);
int t_dispute(t_env *e, uint64_t vote, const char *reason, const t_key *as, st_apply_result *res);
int t_set_member(t_env *e, uint64_t node, const char *raft, const char *grpc, const uint8_t pk[32],
                 const t_key *as, st_apply_result *res);
int t_remove_member(t_env *e, uint64_t node, const t_key *as, st_apply_result *res);
/* A signed online ballot for owner in vote, signed and sent by k (choice 1..3). */
int t_cast_signed(t_env *e, uint64_t vote, const char *owner, int choice, const t_key *k,
                  st_apply_result *res);

/* Checks that r was refused with `want` (and a message containing needle, if not NULL),
 * and that the data digest still equals before (the refusal changed nothing). */
void t_check_refused(t_env *e, const st_apply_result *r, int want, const char *needle,
                     const uint8_t before[32], const char *file, int line);
#define T_REFUSED(env, call, want, needle)                                                         \
    do {                                                                                           \
        uint8_t before_[32];                                                                       \
        st_apply_result r_;                                                                        \
        t_digest((env), ST_STATE_DIGEST_DATA, before_);                                            \
        (void)(call);                                                                              \
        t_check_refused((env), &r_, (want), (needle), before_, __FILE__, __LINE__);                \
    } while (0)
#define R_ (&r_)

/* Digest helpers. */
void t_digest(t_env *e, unsigned what, uint8_t out[32]);
bool t_digest_eq(const uint8_t a[32], const uint8_t b[32]);

/* Monotonic wall time in ms, for reporting durations only. */
double t_now_ms(void);

#endif
