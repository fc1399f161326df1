/* inputs.c - bytes no honest client sends, and the signed request envelope attacked.
 *
 * On the wire (raw gRPC, wire.h): garbage as the request message, valid messages cut short
 * at every byte, no message at all, an empty one, a message over max-message-bytes, a
 * command over one Raft entry, unknown fields (ignored, as proto3 says), a known field with
 * the wrong wire type, text with a NUL byte or invalid UTF-8, unknown methods and services.
 *
 * The envelope (`strata-auth-bin`, docs/API.md §Authentication): missing, empty, garbage,
 * cut short or with a byte too many, of another version, given twice, signed for another
 * method or over other bytes, naming one key and signed by another, with a broken
 * signature, ten minutes old or ahead, replayed (on a write, on a refused write and on a
 * signed read), by a revoked key, and a redemption signed by a key other than the one it
 * registers.
 *
 * Every answer's code and the words of its details are checked; the data digest must not
 * move across each batch of refused inputs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "crypto/crypto.h"
#include "tests/core/check.h"
#include "tests/hostile/hostile.h"

#define AUTH "strata-auth-bin"

/* A small deterministic generator for the garbage (xorshift64*). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* A raw call to the leader, checked; env (may be NULL) signs it. */
static void raw(h_ctx *h, const char *what, const char *method, const void *body, size_t len,
                bool has_body, const uint8_t *env, size_t env_len, int want, const char *text) {
    hw_md md = {AUTH, env, env_len};
    hw_result res;
    int code = hw_call(h->hw, h_leader(h), method, body, len, has_body, &md, env != NULL ? 1 : 0,
                       &res, H_CALL_MS);
    h_check(h, what, code, res.details, want, text);
    hw_result_free(&res);
}

/* The envelope signing body (len bytes) for method with key, its clock moved by skew_ms. */
static size_t envelope(const tc_key *key, const char *method, const void *body, size_t len,
                       int64_t skew_ms, uint8_t out[ST_REQUEST_MAX_LEN], st_request *q) {
    st_request local;
    if (q == NULL) {
        q = &local;
    }
    memset(q, 0, sizeof(*q));
    CHECK(strlen(method) <= ST_METHOD_MAX);
    strcpy(q->method, method);
    q->timestamp_ms = (uint64_t)((int64_t)h_wall_ms() + skew_ms);
    tc_request_id(q->nonce);
    CHECK(st_request_sign(q, body, len, key->sk, NULL, 0) == ST_OK);
    st_canon_writer w;
    st_canon_writer_init(&w);
    CHECK(st_request_encode(q, &w, NULL, 0) == ST_OK);
    size_t n = 0;
    const uint8_t *data = st_canon_writer_data(&w, &n);
    CHECK(n <= ST_REQUEST_MAX_LEN);
    memcpy(out, data, n);
    st_canon_writer_free(&w);
    return n;
}

/* Re-encodes an envelope struct as it is (after the caller changed it). */
static size_t encode(const st_request *q, uint8_t out[ST_REQUEST_MAX_LEN]) {
    st_canon_writer w;
    st_canon_writer_init(&w);
    CHECK(st_request_encode(q, &w, NULL, 0) == ST_OK);
    size_t n = 0;
    const uint8_t *data = st_canon_writer_data(&w, &n);
    memcpy(out, data, n);
    st_canon_writer_free(&w);
    return n;
}

static bool decodes(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len) {
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, buf);
    if (m != NULL) {
        protobuf_c_message_free_unpacked(m, NULL);
    }
    return m != NULL;
}

/* ---- garbage, truncation, sizes, unknown fields and methods ---- */

typedef struct {
    const char *method;
    const ProtobufCMessageDescriptor *in;
    h_role signer; /* R_NONE: unsigned */
} target;

static void garbage(h_ctx *h, const target *t) {
    static const struct {
        const char *bytes;
        size_t len;
    } fixed[] = {
        {"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11}, /* a varint that never ends */
        {"\x0f\x01", 2},                                      /* wire type 7 does not exist */
        {"\x00\x01", 2},                                      /* field number 0 */
        {"\x12\x7f\x01\x02", 4},                              /* 127 bytes announced, 2 given */
        {"\x0a\xff\xff\xff\xff\x0f", 6},                      /* 4 GiB announced */
        {"\x0b\x0c", 2},                                      /* groups (wire types 3, 4) */
        {"GET / HTTP/1.1\r\n\r\n", 18},
    };
    char what[160], text[96];
    snprintf(text, sizeof(text), "is not a valid %s message", t->in->name);
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        const uint8_t *b = (const uint8_t *)fixed[i].bytes;
        if (decodes(t->in, b, fixed[i].len)) {
            continue; /* a valid message by chance: not garbage for this type */
        }
        uint8_t env[ST_REQUEST_MAX_LEN];
        size_t el = 0;
        if (t->signer != R_NONE) {
            el = envelope(h_key(h, t->signer), t->method, b, fixed[i].len, 0, env, NULL);
        }
        snprintf(what, sizeof(what), "%s: garbage #%zu (%zu bytes)", t->method, i, fixed[i].len);
        raw(h, what, t->method, b, fixed[i].len, true, t->signer != R_NONE ? env : NULL, el,
            GRPC_STATUS_INVALID_ARGUMENT, text);
    }
    /* Random bytes: only those that do not decode by chance are garbage. */
    int sent = 0;
    for (int i = 0; sent < 12 && i < 200; i++) {
        uint8_t b[256];
        size_t len = 1 + rng() % sizeof(b);
        for (size_t k = 0; k < len; k++) {
            b[k] = (uint8_t)rng();
        }
        if (decodes(t->in, b, len)) {
            continue;
        }
        snprintf(what, sizeof(what), "%s: random garbage of %zu bytes", t->method, len);
        raw(h, what, t->method, b, len, true, NULL, 0, GRPC_STATUS_INVALID_ARGUMENT, text);
        sent++;
    }
}

/* A valid message cut at every byte where the rest no longer decodes. */
static void truncated(h_ctx *h, const char *method, const ProtobufCMessage *req, h_role signer) {
    size_t len;
    uint8_t *full = h_pack(req, &len);
    char what[160], text[96];
    snprintf(text, sizeof(text), "is not a valid %s message", req->descriptor->name);
    int n = 0;
    for (size_t cut = 1; cut < len; cut++) {
        if (decodes(req->descriptor, full, cut)) {
            continue; /* cut at a field boundary: a shorter, valid message */
        }
        uint8_t env[ST_REQUEST_MAX_LEN];
        size_t el = 0;
        bool sign = signer != R_NONE && cut % 2 == 0; /* half of them signed over the cut bytes */
        if (sign) {
            el = envelope(h_key(h, signer), method, full, cut, 0, env, NULL);
        }
        snprintf(what, sizeof(what), "%s cut to %zu of %zu bytes%s", method, cut, len,
                 sign ? " (signed)" : "");
        raw(h, what, method, full, cut, true, sign ? env : NULL, el, GRPC_STATUS_INVALID_ARGUMENT,
            text);
        n++;
    }
    CHECK(n > 0);
    free(full);
}

static void wire_inputs(h_ctx *h) {
    const target targets[] = {
        {"/strata.v1.Voting/GetVote", &strata__v1__get_vote_request__descriptor, R_NONE},
        {"/strata.v1.Voting/CastBallot", &strata__v1__cast_ballot_request__descriptor, R_OWNER},
        {"/strata.v1.Registry/ImportRoll", &strata__v1__import_roll_request__descriptor, R_ORG},
        {"/strata.v1.Keys/RedeemEnrollment", &strata__v1__redeem_enrollment_request__descriptor,
         R_NONE},
        {"/strata.v1.Audit/ExportBallots", &strata__v1__export_ballots_request__descriptor, R_NONE},
    };
    h_state_mark(h);
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        garbage(h, &targets[i]);
    }
    h_state_same(h, "garbage messages");

    h_state_mark(h);
    tc_ballot_buf buf;
    Strata__V1__CastBallotRequest cb;
    tc_ballot_request(h_key(h, R_OWNER), h->a, h->vote_open, "O1", 1, NULL, &buf, &cb);
    truncated(h, "/strata.v1.Voting/CastBallot", &cb.base, R_OWNER);
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__ImportRollRequest ir = STRATA__V1__IMPORT_ROLL_REQUEST__INIT;
    ir.request_id = (ProtobufCBinaryData){16, rid};
    ir.community_id = h->a;
    ir.n_units = 3;
    ir.units = h->roll_a.ptrs;
    truncated(h, "/strata.v1.Registry/ImportRoll", &ir.base, R_ORG);
    h_state_same(h, "truncated messages");

    /* No message at all; an empty one (every field at its default). */
    h_state_mark(h);
    raw(h, "GetVote without a message", "/strata.v1.Voting/GetVote", NULL, 0, false, NULL, 0,
        GRPC_STATUS_INVALID_ARGUMENT, "needs a request message");
    uint8_t env[ST_REQUEST_MAX_LEN];
    size_t el = envelope(h_key(h, R_ORG), "/strata.v1.Voting/CreateVote", "", 0, 0, env, NULL);
    raw(h, "CreateVote without a message (signed)", "/strata.v1.Voting/CreateVote", NULL, 0, false,
        env, el, GRPC_STATUS_INVALID_ARGUMENT, "needs a request message");
    raw(h, "GetVote, empty message", "/strata.v1.Voting/GetVote", "", 0, true, NULL, 0,
        GRPC_STATUS_NOT_FOUND, "vote 0 does not exist");
    el = envelope(h_key(h, R_ORG), "/strata.v1.Voting/CreateVote", "", 0, 0, env, NULL);
    raw(h, "CreateVote, empty message (signed)", "/strata.v1.Voting/CreateVote", "", 0, true, env,
        el, GRPC_STATUS_INVALID_ARGUMENT, "request_id must be 16 bytes, not 0");

    /* A known field with the wrong wire type: vote_id (varint) as bytes. */
    static const uint8_t wrong_type[] = {0x0a, 0x01, 0x01};
    CHECK(!decodes(&strata__v1__get_vote_request__descriptor, wrong_type, sizeof(wrong_type)));
    raw(h, "GetVote with vote_id as bytes", "/strata.v1.Voting/GetVote", wrong_type,
        sizeof(wrong_type), true, NULL, 0, GRPC_STATUS_INVALID_ARGUMENT, "is not a valid");

    /* Over max-message-bytes (64 MiB): refused by the server's gRPC before any decoding. */
    size_t big = ((size_t)64 << 20) + 1;
    uint8_t *huge = calloc(1, big);
    CHECK(huge != NULL);
    raw(h, "GetVote of 64 MiB + 1 byte", "/strata.v1.Voting/GetVote", huge, big, true, NULL, 0,
        GRPC_STATUS_RESOURCE_EXHAUSTED, "larger than max");
    free(huge);

    /* Under the message limit, over one Raft entry (16 MiB) as a command. */
    size_t name_len = (size_t)17 << 20;
    char *name = malloc(name_len + 1);
    CHECK(name != NULL);
    memset(name, 'x', name_len);
    name[name_len] = '\0';
    Strata__V1__CreateCommunityRequest cc = STRATA__V1__CREATE_COMMUNITY_REQUEST__INIT;
    tc_request_id(rid);
    cc.request_id = (ProtobufCBinaryData){16, rid};
    cc.name = name;
    cc.street = (char *)"测试街道";
    h_expect(h, "CreateCommunity with a 17 MiB name", h_key(h, R_SUP),
             "/strata.v1.Registry/CreateCommunity", &cc.base,
             &strata__v1__create_community_response__descriptor, GRPC_STATUS_RESOURCE_EXHAUSTED,
             "one Raft entry holds at most");
    free(name);

    /* Unknown methods and services. */
    static const char *const unknown[] = {
        "/strata.v1.Voting/Vote",
        "/strata.v1.Voting/castballot",
        "/strata.v1.Nope/GetVote",
        "/strata.v2.Voting/GetVote",
        "/strata.v1.Voting/GetVote/extra",
        "/strata.internal.Command/Apply",
        "/",
    };
    static const uint8_t get1[] = {0x08, 0x01};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        char what[128];
        snprintf(what, sizeof(what), "unknown method %s", unknown[i]);
        raw(h, what, unknown[i], get1, sizeof(get1), true, NULL, 0, GRPC_STATUS_UNIMPLEMENTED,
            NULL);
    }
    h_state_same(h, "empty, missing, oversize messages and unknown methods");

    /* Unknown fields are ignored (proto3): a read answers as without them. */
    const uint8_t get_unknown[] = {
        0x08, (uint8_t)h->vote_open, /* vote_id */
        0x78, 0x2a,                  /* field 15, varint */
        0xc2, 0x3e,
        0x03, 'a',
        'b',  'c', /* field 1000, bytes */
        0x0d, 0x01,
        0x02, 0x03,
        0x04, /* field 1, fixed32: wrong type, see below */
    };
    CHECK(h->vote_open < 128);
    hw_result res;
    h_state_mark(h);
    int code = hw_call(h->hw, h_leader(h), "/strata.v1.Voting/GetVote", get_unknown, 10, true, NULL,
                       0, &res, H_CALL_MS);
    Strata__V1__Vote *v = code == GRPC_STATUS_OK && res.n_msgs == 1
                              ? strata__v1__vote__unpack(NULL, res.lens[0], res.msgs[0])
                              : NULL;
    h_check(h, "GetVote with unknown fields 15 and 1000", v != NULL ? code : GRPC_STATUS_INTERNAL,
            res.details, GRPC_STATUS_OK, NULL);
    CHECK(v == NULL || v->id == h->vote_open);
    if (v != NULL) {
        strata__v1__vote__free_unpacked(v, NULL);
    }
    hw_result_free(&res);
    /* ... but a known field number with another wire type is not an unknown field. */
    if (!decodes(&strata__v1__get_vote_request__descriptor, get_unknown, sizeof(get_unknown))) {
        raw(h, "GetVote with vote_id as fixed32", "/strata.v1.Voting/GetVote", get_unknown,
            sizeof(get_unknown), true, NULL, 0, GRPC_STATUS_INVALID_ARGUMENT, "is not a valid");
    }

    /* A signed write with an unknown field: applied as without it, and the field is under
     * the signature like every other byte. */
    Strata__V1__CreateVoteRequest cv = STRATA__V1__CREATE_VOTE_REQUEST__INIT;
    tc_request_id(rid);
    cv.request_id = (ProtobufCBinaryData){16, rid};
    cv.community_id = h->a;
    cv.matter = 1;
    cv.title = (char *)"修改议事规则 (v2)";
    cv.notice_case = STRATA__V1__CREATE_VOTE_REQUEST__NOTICE_NOTICE_DAYS;
    size_t cl;
    uint8_t *plain = h_pack(&cv.base, &cl);
    uint8_t *extra = malloc(cl + 3);
    CHECK(extra != NULL);
    memcpy(extra, plain, cl);
    extra[cl] = 0xf8; /* field 31, varint 1 */
    extra[cl + 1] = 0x01;
    extra[cl + 2] = 0x01;
    el = envelope(h_key(h, R_ORG), "/strata.v1.Voting/CreateVote", plain, cl, 0, env, NULL);
    raw(h, "CreateVote with an unknown field added after signing", "/strata.v1.Voting/CreateVote",
        extra, cl + 3, true, env, el, GRPC_STATUS_UNAUTHENTICATED, "does not match the SHA-256");
    h_state_same(h, "an unknown field added after signing");
    el = envelope(h_key(h, R_ORG), "/strata.v1.Voting/CreateVote", extra, cl + 3, 0, env, NULL);
    raw(h, "CreateVote with an unknown field, signed", "/strata.v1.Voting/CreateVote", extra,
        cl + 3, true, env, el, GRPC_STATUS_OK, NULL);
    free(plain);
    free(extra);
    h_state_mark(h);

    /* Text that is not text: a NUL inside a name, and bytes that are not UTF-8. A NUL would
     * cut the string where protobuf-c ends it: the signed bytes and what is applied would
     * differ. */
    static const char *const bad_text[] = {"阳光\0花园", "\xff\xfe\xfd", "abc\xc3"};
    static const size_t bad_len[] = {sizeof("阳光\0花园") - 1, 3, 4};
    for (size_t i = 0; i < 3; i++) {
        uint8_t body[128];
        size_t n = 0;
        body[n++] = 0x0a; /* request_id */
        body[n++] = 16;
        tc_request_id(body + n);
        n += 16;
        body[n++] = 0x12; /* name */
        body[n++] = (uint8_t)bad_len[i];
        memcpy(body + n, bad_text[i], bad_len[i]);
        n += bad_len[i];
        body[n++] = 0x1a; /* street */
        body[n++] = 4;
        memcpy(body + n, "Main", 4);
        n += 4;
        el =
            envelope(h_key(h, R_SUP), "/strata.v1.Registry/CreateCommunity", body, n, 0, env, NULL);
        char what[96];
        snprintf(what, sizeof(what), "CreateCommunity with a name that is not text (#%zu)", i);
        raw(h, what, "/strata.v1.Registry/CreateCommunity", body, n, true, env, el,
            GRPC_STATUS_INVALID_ARGUMENT, NULL);
    }
    uint8_t mine[32];
    size_t mn = 0;
    mine[mn++] = 0x08;
    mine[mn++] = (uint8_t)h->vote_open;
    mine[mn++] = 0x12;
    mine[mn++] = 5;
    memcpy(mine + mn, "O1\0O2", 5);
    mn += 5;
    raw(h, "MyBallots for owner \"O1\\0O2\"", "/strata.v1.Voting/MyBallots", mine, mn, true, NULL,
        0, GRPC_STATUS_INVALID_ARGUMENT, "owner_id holds a NUL byte");
    /* Deeper: a unit's owner name in a roll, signed as sent. */
    Strata__V1__Unit unit = h->roll_a.units[0];
    unit.owner_name = (char *)"QQQQ";
    Strata__V1__Unit *units[] = {&unit};
    tc_request_id(rid);
    ir.request_id = (ProtobufCBinaryData){16, rid};
    ir.n_units = 1;
    ir.units = units;
    size_t rl;
    uint8_t *roll = h_pack(&ir.base, &rl);
    uint8_t *at = memmem(roll, rl, "QQQQ", 4);
    CHECK(at != NULL);
    at[1] = '\0';
    el = envelope(h_key(h, R_ORG), "/strata.v1.Registry/ImportRoll", roll, rl, 0, env, NULL);
    raw(h, "ImportRoll with a NUL in a unit's owner name", "/strata.v1.Registry/ImportRoll", roll,
        rl, true, env, el, GRPC_STATUS_INVALID_ARGUMENT, "units.owner_name holds a NUL byte");
    free(roll);
    h_state_same(h, "unknown fields and strings that are not text");
}

/* ---- the request envelope ---- */

typedef struct {
    h_ctx *h;
    int node;
    const char *method;
    const ProtobufCMessage *req;
    const uint8_t *env;
    size_t env_len;
    tc_status st;
    int code;
} racer;

static void *race(void *arg) {
    racer *r = arg;
    ProtobufCMessage *resp = NULL;
    r->code = tc_unary_env(r->h->cl, r->node, r->method, r->req, r->env, r->env_len,
                           &strata__v1__create_vote_response__descriptor, &resp, &r->st, 10000);
    if (resp != NULL) {
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return NULL;
}

static uint64_t vote_count(h_ctx *h) {
    Strata__V1__GetCommunityRequest q = STRATA__V1__GET_COMMUNITY_REQUEST__INIT;
    q.community_id = h->a;
    ProtobufCMessage *resp = NULL;
    tc_status st;
    CHECK_EQ(h_call(h, NULL, "/strata.v1.Registry/GetCommunity", &q.base,
                    &strata__v1__community__descriptor, &resp, &st),
             GRPC_STATUS_OK);
    uint64_t n = ((Strata__V1__Community *)resp)->vote_count;
    protobuf_c_message_free_unpacked(resp, NULL);
    return n;
}

/* The same signed request sent four times at once: one is applied, the others are replays
 * (caught before proposing, or by apply when they were proposed together). */
static void concurrent_replay(h_ctx *h, Strata__V1__CreateVoteRequest *cv) {
    const char *method = "/strata.v1.Voting/CreateVote";
    uint8_t rid[16];
    tc_request_id(rid);
    cv->request_id = (ProtobufCBinaryData){16, rid};
    uint8_t env[ST_REQUEST_MAX_LEN];
    size_t el = tc_sign(h_key(h, R_ORG), method, &cv->base, 0, env);
    uint64_t before = vote_count(h);
    racer r[4];
    pthread_t t[4];
    int leader = h_leader(h);
    for (int i = 0; i < 4; i++) {
        r[i] = (racer){h, leader, method, &cv->base, env, el, {0}, 0};
        CHECK(pthread_create(&t[i], NULL, race, &r[i]) == 0);
    }
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        if (r[i].code == GRPC_STATUS_OK) {
            ok++;
            h_check(h, "concurrent copy of one envelope", r[i].code, r[i].st.details,
                    GRPC_STATUS_OK, NULL);
        } else {
            h_check(h, "concurrent copy of one envelope", r[i].code, r[i].st.details,
                    GRPC_STATUS_UNAUTHENTICATED, "replayed");
        }
    }
    uint64_t after = vote_count(h);
    bool one = ok == 1 && after == before + 1;
    h_check(h, "one of four concurrent copies applied", one ? 0 : GRPC_STATUS_INTERNAL,
            one ? "" : "not exactly one applied", 0, NULL);
}

static void envelopes(h_ctx *h) {
    const char *method = "/strata.v1.Voting/CreateVote";
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__CreateVoteRequest cv = STRATA__V1__CREATE_VOTE_REQUEST__INIT;
    cv.request_id = (ProtobufCBinaryData){16, rid};
    cv.community_id = h->a;
    cv.matter = 2;
    cv.title = (char *)"修改管理规约";
    cv.notice_case = STRATA__V1__CREATE_VOTE_REQUEST__NOTICE_NOTICE_DAYS;
    size_t len;
    uint8_t *body = h_pack(&cv.base, &len);
    const tc_key *org = h_key(h, R_ORG);
    const ProtobufCMessageDescriptor *out = &strata__v1__create_vote_response__descriptor;
    uint8_t env[ST_REQUEST_MAX_LEN], bad[ST_REQUEST_MAX_LEN + 8];
    st_request q;
    size_t el;

    h_state_mark(h);
    h_expect(h, "envelope missing", NULL, method, &cv.base, out, GRPC_STATUS_UNAUTHENTICATED,
             "must be signed");
    h_expect_env(h, "envelope empty", method, &cv.base, (const uint8_t *)"", 0, out,
                 GRPC_STATUS_UNAUTHENTICATED, "is not a signed request envelope (0 bytes)");
    for (int i = 0; i < 4; i++) {
        size_t n = 1 + rng() % ST_REQUEST_MAX_LEN;
        for (size_t k = 0; k < n; k++) {
            bad[k] = (uint8_t)rng();
        }
        h_expect_env(h, "envelope of random bytes", method, &cv.base, bad, n, out,
                     GRPC_STATUS_UNAUTHENTICATED, "is not a signed request envelope");
    }
    el = envelope(org, method, body, len, 0, env, &q);
    for (size_t cut = 1; cut < el; cut += 17) {
        h_expect_env(h, "envelope cut short", method, &cv.base, env, cut, out,
                     GRPC_STATUS_UNAUTHENTICATED, "is not a signed request envelope");
    }
    memcpy(bad, env, el);
    bad[el] = 0;
    h_expect_env(h, "envelope with a byte too many", method, &cv.base, bad, el + 1, out,
                 GRPC_STATUS_UNAUTHENTICATED, "is not a signed request envelope");
    memcpy(bad, env, el);
    bad[0] = 2;
    h_expect_env(h, "envelope of version 2", method, &cv.base, bad, el, out,
                 GRPC_STATUS_UNAUTHENTICATED, "is not a signed request envelope");

    /* Two envelopes, each valid. */
    uint8_t env2[ST_REQUEST_MAX_LEN];
    size_t el2 = envelope(org, method, body, len, 0, env2, NULL);
    hw_md two[2] = {{AUTH, env, el}, {AUTH, env2, el2}};
    hw_result res;
    int code = hw_call(h->hw, h_leader(h), method, body, len, true, two, 2, &res, H_CALL_MS);
    h_check(h, "two envelopes", code, res.details, GRPC_STATUS_UNAUTHENTICATED, "given 2 times");
    hw_result_free(&res);

    /* Signed for another method; over other bytes. */
    el = envelope(org, "/strata.v1.Voting/OpenVote", body, len, 0, env, NULL);
    h_expect_env(h, "envelope for another method", method, &cv.base, env, el, out,
                 GRPC_STATUS_UNAUTHENTICATED, "signed for /strata.v1.Voting/OpenVote");
    cv.matter = 6; /* the request changed after it was signed */
    el = envelope(org, method, body, len, 0, env, NULL);
    h_expect_env(h, "envelope over other bytes", method, &cv.base, env, el, out,
                 GRPC_STATUS_UNAUTHENTICATED, "does not match the SHA-256");
    cv.matter = 2;

    /* Naming the organiser's key, signed by another; a broken signature. */
    el = envelope(&h->stranger, method, body, len, 0, env, &q);
    memcpy(q.key_id, org->id, sizeof(q.key_id));
    el = encode(&q, env);
    h_expect_env(h, "envelope naming one key, signed by another", method, &cv.base, env, el, out,
                 GRPC_STATUS_UNAUTHENTICATED, "does not verify");
    el = envelope(org, method, body, len, 0, env, &q);
    q.sig[10] ^= 0x40;
    el = encode(&q, env);
    h_expect_env(h, "envelope with a broken signature", method, &cv.base, env, el, out,
                 GRPC_STATUS_UNAUTHENTICATED, "does not verify");
    el = envelope(org, method, body, len, 0, env, &q);
    q.nonce[0] ^= 1; /* a field changed after signing */
    el = encode(&q, env);
    h_expect_env(h, "envelope whose nonce changed after signing", method, &cv.base, env, el, out,
                 GRPC_STATUS_UNAUTHENTICATED, "does not verify");

    /* Outside the ±5-minute window. */
    el = envelope(org, method, body, len, -10 * 60 * 1000, env, NULL);
    h_expect_env(h, "envelope signed 10 minutes ago", method, &cv.base, env, el, out,
                 GRPC_STATUS_UNAUTHENTICATED, "ago");
    el = envelope(org, method, body, len, 10 * 60 * 1000, env, NULL);
    h_expect_env(h, "envelope signed 10 minutes ahead", method, &cv.base, env, el, out,
                 GRPC_STATUS_UNAUTHENTICATED, "in the future");
    el = envelope(org, method, body, len, -6 * 60 * 1000, env, NULL);
    h_expect_env(h, "envelope signed 6 minutes ago", method, &cv.base, env, el, out,
                 GRPC_STATUS_UNAUTHENTICATED, "ago");

    /* A revoked key (owner O5's, revoked by the role matrix). */
    const tc_key *revoked = tc_owner_key(&h->w, h->a, "O5");
    tc_ballot_buf bb;
    Strata__V1__CastBallotRequest cb;
    tc_ballot_request(revoked, h->a, h->vote_open, "O5", 1, NULL, &bb, &cb);
    h_expect(h, "ballot request signed by a revoked key", revoked, "/strata.v1.Voting/CastBallot",
             &cb.base, &strata__v1__cast_ballot_response__descriptor, GRPC_STATUS_UNAUTHENTICATED,
             "was revoked");
    h_state_same(h, "attacked envelopes");

    /* Replays: of an accepted write, of a refused one, of a signed read. */
    el = envelope(org, method, body, len, 0, env, NULL);
    ProtobufCMessage *resp = NULL;
    tc_status st;
    code = tc_unary_env(h->cl, h_leader(h), method, &cv.base, env, el, out, &resp, &st, 5000);
    h_check(h, "CreateVote, signed once", code, st.details, GRPC_STATUS_OK, NULL);
    if (resp != NULL) {
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    h_state_mark(h);
    h_expect_env(h, "the same envelope again (replay)", method, &cv.base, env, el, out,
                 GRPC_STATUS_UNAUTHENTICATED, "replayed");
    uint8_t rid2[16];
    tc_request_id(rid2);
    cv.request_id = (ProtobufCBinaryData){16, rid2};
    const tc_key *owner = h_key(h, R_OWNER);
    el = tc_sign(owner, method, &cv.base, 0, env);
    h_expect_env(h, "CreateVote by an owner", method, &cv.base, env, el, out,
                 GRPC_STATUS_PERMISSION_DENIED, "needs an organiser key");
    h_expect_env(h, "the owner's refused request replayed", method, &cv.base, env, el, out,
                 GRPC_STATUS_UNAUTHENTICATED, "replayed");
    Strata__V1__ListUnitsRequest lu = STRATA__V1__LIST_UNITS_REQUEST__INIT;
    lu.community_id = h->a;
    el = tc_sign(&h->w.sup, "/strata.v1.Registry/ListUnits", &lu.base, 0, env);
    code = tc_unary_env(h->cl, h_leader(h), "/strata.v1.Registry/ListUnits", &lu.base, env, el,
                        &strata__v1__list_units_response__descriptor, &resp, &st, 5000);
    h_check(h, "ListUnits signed by the supervisor", code, st.details, GRPC_STATUS_OK, NULL);
    if (resp != NULL) {
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    h_expect_env(h, "ListUnits envelope replayed", "/strata.v1.Registry/ListUnits", &lu.base, env,
                 el, &strata__v1__list_units_response__descriptor, GRPC_STATUS_UNAUTHENTICATED,
                 "replayed");

    /* A redemption signed by another key than the one it registers. */
    tc_key device;
    tc_key_new(&device);
    Strata__V1__RedeemEnrollmentRequest rr = STRATA__V1__REDEEM_ENROLLMENT_REQUEST__INIT;
    tc_request_id(rid2);
    rr.request_id = (ProtobufCBinaryData){16, rid2};
    rr.community_id = h->a;
    rr.owner_id = (char *)"O7";
    rr.public_key = (ProtobufCBinaryData){32, device.pk};
    h_expect(h, "RedeemEnrollment signed by another key", &h->stranger,
             "/strata.v1.Keys/RedeemEnrollment", &rr.base, &strata__v1__key_response__descriptor,
             GRPC_STATUS_UNAUTHENTICATED, "is signed by the key it registers");
    h_state_same(h, "replayed envelopes");
    concurrent_replay(h, &cv);
    free(body);
}

void h_wire_inputs(h_ctx *h) {
    uint64_t t0 = tc_now_ms();
    unsigned long n0 = h->inputs;
    wire_inputs(h);
    printf("wire: %lu inputs in %llu ms\n", h->inputs - n0, (unsigned long long)(tc_now_ms() - t0));
}

void h_envelopes(h_ctx *h) {
    uint64_t t0 = tc_now_ms();
    unsigned long n0 = h->inputs;
    envelopes(h);
    printf("envelopes: %lu inputs in %llu ms\n", h->inputs - n0,
           (unsigned long long)(tc_now_ms() - t0));
}
