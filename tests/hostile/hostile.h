/* hostile.h - what the parts of the hostile-client test share: the prepared world (a real
 * three-node cluster after Genesis, community A with its organiser, community B with its
 * own, both rolls, enrolled owners, an open, a closed and a published vote in A and an open
 * vote in B), the seven callers of the role matrix, the checks of an exact gRPC status
 * with its details, the data-digest brackets around refused requests, and the counters
 * printed as figures.
 *
 * A check that fails is printed and counted as a mismatch; the test goes on, so that one
 * run lists every wrong answer, and fails at the end.
 */
#ifndef STRATA_TESTS_HOSTILE_HOSTILE_H
#define STRATA_TESTS_HOSTILE_HOSTILE_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/cluster/steps.h"
#include "tests/hostile/wire.h"

#define H_NODES 3
#define H_CALL_MS 10000

/* The callers of the role matrix (docs/ROLES.md §Who may call which RPC). */
typedef enum {
    R_OP,       /* the operator of Genesis */
    R_SUP,      /* the supervisor of Genesis */
    R_ORG,      /* the organiser of community A (the community the requests are about) */
    R_ORG_B,    /* the organiser of community B */
    R_OWNER,    /* an owner enrolled in A (owner O1) */
    R_STRANGER, /* a valid Ed25519 key that was never registered */
    R_NONE,     /* no key: an unsigned call (a resident, the public) */
    R_COUNT
} h_role;

extern const char *const h_role_name[R_COUNT];

typedef struct {
    tc_cluster *c;
    tc_client *cl;
    hw_client *hw;
    tc_world w;
    uint64_t a, b; /* communities */
    tc_roll roll_a, roll_b;
    tc_key stranger;
    uint64_t vote_open;   /* A, open, with ballots */
    uint64_t vote_closed; /* A, closed, with a ballot */
    uint64_t vote_pub;    /* A, published */
    uint64_t vote_b;      /* B, open */
    int n_nodes;          /* nodes 1..n_nodes may be running */
    int leader;           /* the node last seen leading (h_leader) */
    /* figures */
    unsigned long inputs, cells, compared, mismatches;
    /* the digest bracket */
    uint8_t digest[32];
    uint64_t digest_index;
    bool verbose;
} h_ctx;

/* The key a role signs with (NULL for R_NONE). */
const tc_key *h_key(const h_ctx *h, h_role r);

/* The node currently answering as leader (waits for one). */
int h_leader(h_ctx *h);

/* A unary call through the leader signed by key (NULL: unsigned); returns the code, the
 * answer in *resp (may be NULL) when OK. */
int h_call(h_ctx *h, const tc_key *key, const char *method, const ProtobufCMessage *req,
           const ProtobufCMessageDescriptor *out, ProtobufCMessage **resp, tc_status *st);

/* Records one checked input: code is what came back, want what should have. text (may be
 * NULL) must occur in the details; a refusal must explain itself (non-empty details). */
bool h_check(h_ctx *h, const char *what, int code, const char *details, int want, const char *text);

/* h_call + h_check; returns the answer on OK (caller frees) or NULL. */
ProtobufCMessage *h_expect(h_ctx *h, const char *what, const tc_key *key, const char *method,
                           const ProtobufCMessage *req, const ProtobufCMessageDescriptor *out,
                           int want, const char *text);
/* The same call with an envelope given as it is (to the leader). */
void h_expect_env(h_ctx *h, const char *what, const char *method, const ProtobufCMessage *req,
                  const uint8_t *env, size_t env_len, const ProtobufCMessageDescriptor *out,
                  int want, const char *text);

/* The digest bracket: h_state_mark reads the leader's data digest; h_state_same reads it
 * again and counts a mismatch if it changed (what names the batch in between). */
void h_state_mark(h_ctx *h);
void h_state_same(h_ctx *h, const char *what);

/* The packed bytes of a message (malloc'd; *len). */
uint8_t *h_pack(const ProtobufCMessage *m, size_t *len);
/* Milliseconds since the Unix epoch. */
uint64_t h_wall_ms(void);

/* The world (world.c). */
void h_world_setup(h_ctx *h);

/* The parts (one file each). */
void h_wire_inputs(h_ctx *h); /* garbage, truncated, oversize, unknown fields and methods */
void h_envelopes(h_ctx *h);   /* the signed request envelope attacked */
void h_ballots(h_ctx *h);     /* hostile ballots */
void h_enrollment(h_ctx *h);  /* hostile enrollment codes */
void h_role_matrix(h_ctx *h); /* every RPC x every role */

#endif
