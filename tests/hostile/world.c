/* world.c - the hostile-client test's prepared world and shared checks (hostile.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/core/check.h"
#include "tests/hostile/hostile.h"

const char *const h_role_name[R_COUNT] = {
    "operator", "supervisor", "organiser", "other organiser", "owner", "unregistered key", "no key",
};

/* Community A's owners' names (masked for the public, docs/ROLES.md §Privacy). */
static const char *const names_a[] = {"张三", "王建国", "周强;吴芳", "李四",     "赵敏",
                                      "钱七", "孙八",   "Ann Lee",   "欧阳娜娜", "陈一"};
#define N_A (sizeof(names_a) / sizeof(names_a[0]))
#define N_B 6

const tc_key *h_key(const h_ctx *h, h_role r) {
    switch (r) {
    case R_OP:
        return &h->w.op;
    case R_SUP:
        return &h->w.sup;
    case R_ORG:
        return tc_organiser(&h->w, h->a);
    case R_ORG_B:
        return tc_organiser(&h->w, h->b);
    case R_OWNER:
        return tc_owner_key(&h->w, h->a, "O1");
    case R_STRANGER:
        return &h->stranger;
    default:
        return NULL;
    }
}

int h_leader(h_ctx *h) {
    if (h->leader != 0 && tc_running(h->c, h->leader)) {
        Strata__V1__StatusResponse *s = tc_status_of(h->cl, h->leader, 2000);
        bool leads = s != NULL && s->ready && strcmp(s->state, "leader") == 0;
        if (s != NULL) {
            protobuf_c_message_free_unpacked(&s->base, NULL);
        }
        if (leads) {
            return h->leader;
        }
    }
    h->leader = tc_wait_leader(h->cl, h->c, h->n_nodes, 15000);
    CHECK(h->leader != 0);
    return h->leader;
}

uint64_t h_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint8_t *h_pack(const ProtobufCMessage *m, size_t *len) {
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *p = malloc(*len + 1);
    CHECK(p != NULL);
    protobuf_c_message_pack(m, p);
    return p;
}

int h_call(h_ctx *h, const tc_key *key, const char *method, const ProtobufCMessage *req,
           const ProtobufCMessageDescriptor *out, ProtobufCMessage **resp, tc_status *st) {
    return tc_leader_call_as(h->cl, key, method, req, out, resp, st, H_CALL_MS);
}

static const char *code_name(int code) {
    static const char *const names[] = {
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    return code >= 0 && code <= 16 ? names[code] : "?";
}

bool h_check(h_ctx *h, const char *what, int code, const char *details, int want,
             const char *text) {
    h->inputs++;
    bool ok = code == want;
    if (ok && want != GRPC_STATUS_OK && details[0] == '\0') {
        ok = false; /* a refusal must say what is wrong */
    }
    if (ok && text != NULL && strstr(details, text) == NULL) {
        ok = false;
    }
    if (!ok) {
        h->mismatches++;
        fprintf(stderr, "MISMATCH %s: want %s%s%s%s, got %s: %s\n", what, code_name(want),
                text != NULL ? " (\"" : "", text != NULL ? text : "", text != NULL ? "\")" : "",
                code_name(code), details);
    } else if (h->verbose) {
        printf("  %-60s %s: %s\n", what, code_name(code), details);
    }
    return ok;
}

ProtobufCMessage *h_expect(h_ctx *h, const char *what, const tc_key *key, const char *method,
                           const ProtobufCMessage *req, const ProtobufCMessageDescriptor *out,
                           int want, const char *text) {
    ProtobufCMessage *resp = NULL;
    tc_status st;
    int code = h_call(h, key, method, req, out, &resp, &st);
    h_check(h, what, code, st.details, want, text);
    if (code != GRPC_STATUS_OK && resp != NULL) {
        protobuf_c_message_free_unpacked(resp, NULL);
        resp = NULL;
    }
    return resp;
}

void h_expect_env(h_ctx *h, const char *what, const char *method, const ProtobufCMessage *req,
                  const uint8_t *env, size_t env_len, const ProtobufCMessageDescriptor *out,
                  int want, const char *text) {
    ProtobufCMessage *resp = NULL;
    tc_status st;
    int code = tc_unary_env(h->cl, h_leader(h), method, req, env, env_len, out, &resp, &st, 5000);
    h_check(h, what, code, st.details, want, text);
    if (resp != NULL) {
        protobuf_c_message_free_unpacked(resp, NULL);
    }
}

void h_state_mark(h_ctx *h) {
    CHECK(tc_state_digest(h->cl, h_leader(h), h->digest, &h->digest_index, 5000));
}

void h_state_same(h_ctx *h, const char *what) {
    uint8_t d[32];
    uint64_t index;
    CHECK(tc_state_digest(h->cl, h_leader(h), d, &index, 5000));
    h->compared++;
    if (memcmp(d, h->digest, 32) != 0) {
        h->mismatches++;
        fprintf(stderr, "MISMATCH %s: the data digest changed (index %llu -> %llu)\n", what,
                (unsigned long long)h->digest_index, (unsigned long long)index);
    } else if (h->verbose) {
        printf("  state unchanged after %s (index %llu -> %llu)\n", what,
               (unsigned long long)h->digest_index, (unsigned long long)index);
    }
}

static void set_name(Strata__V1__Unit *u, const char *name) {
    free(u->owner_name);
    u->owner_name = strdup(name);
    CHECK(u->owner_name != NULL);
}

void h_world_setup(h_ctx *h) {
    uint64_t t0 = tc_now_ms();
    tc_world_init(&h->w);
    tc_key_new(&h->stranger);

    /* Before Genesis: nothing signed is accepted but Genesis by the key it installs. */
    h_state_mark(h);
    uint8_t rid[16];
    tc_request_id(rid);
    Strata__V1__CreateCommunityRequest cc = STRATA__V1__CREATE_COMMUNITY_REQUEST__INIT;
    cc.request_id = (ProtobufCBinaryData){16, rid};
    cc.name = (char *)"太早花园";
    cc.street = (char *)"测试街道";
    h_expect(h, "CreateCommunity before Genesis", &h->w.sup, "/strata.v1.Registry/CreateCommunity",
             &cc.base, &strata__v1__create_community_response__descriptor,
             GRPC_STATUS_UNAUTHENTICATED, "no keys yet");
    Strata__V1__GenesisRequest g = STRATA__V1__GENESIS_REQUEST__INIT;
    g.request_id = (ProtobufCBinaryData){16, rid};
    g.operator_public_key = (ProtobufCBinaryData){32, h->w.op.pk};
    g.supervisor_public_key = (ProtobufCBinaryData){32, h->w.sup.pk};
    h_expect(h, "Genesis signed by the supervisor key", &h->w.sup, "/strata.v1.Keys/Genesis",
             &g.base, &strata__v1__key_response__descriptor, GRPC_STATUS_UNAUTHENTICATED,
             "signed by the key it registers");
    h_expect(h, "Genesis unsigned", NULL, "/strata.v1.Keys/Genesis", &g.base,
             &strata__v1__key_response__descriptor, GRPC_STATUS_UNAUTHENTICATED, "must be signed");
    h_state_same(h, "signed requests before Genesis");

    h->a = tc_world_setup(h->cl, h->c, &h->w, h->n_nodes, "阳光花园");
    h->b = tc_create_community(h->cl, &h->w, "幸福里");
    tc_roll_generated(N_A, &h->roll_a);
    for (size_t i = 0; i < N_A; i++) {
        set_name(&h->roll_a.units[i], names_a[i]);
    }
    tc_roll_generated(N_B, &h->roll_b);
    tc_import_roll(h->cl, &h->w, h->a, &h->roll_a);
    tc_import_roll(h->cl, &h->w, h->b, &h->roll_b);
    tc_enroll(h->cl, &h->w, h->a, "O1"); /* the owner of the matrix */
    tc_enroll(h->cl, &h->w, h->a, "O2"); /* another owner of A */
    tc_enroll(h->cl, &h->w, h->a, "O5"); /* revoked by the matrix's RevokeOwnerKey */
    tc_enroll(h->cl, &h->w, h->b, "O1"); /* B's O1: another person with the same owner id */

    h->vote_open = tc_create_vote(h->cl, &h->w, h->a, 4, "选聘物业服务企业");
    tc_vote_step(h->cl, &h->w, h->a, "NoticeVote", h->vote_open);
    tc_vote_step(h->cl, &h->w, h->a, "OpenVote", h->vote_open);
    tc_cast(h->cl, &h->w, h->a, h->vote_open, "O1", 1, NULL);
    tc_cast(h->cl, &h->w, h->a, h->vote_open, "O2", 2, NULL);

    h->vote_closed = tc_create_vote(h->cl, &h->w, h->a, 1, "修改议事规则");
    tc_vote_step(h->cl, &h->w, h->a, "NoticeVote", h->vote_closed);
    tc_vote_step(h->cl, &h->w, h->a, "OpenVote", h->vote_closed);
    tc_cast(h->cl, &h->w, h->a, h->vote_closed, "O2", 1, NULL);
    tc_vote_step(h->cl, &h->w, h->a, "CloseVote", h->vote_closed);

    h->vote_pub = tc_create_vote(h->cl, &h->w, h->a, 5, "使用维修资金");
    tc_vote_step(h->cl, &h->w, h->a, "NoticeVote", h->vote_pub);
    tc_vote_step(h->cl, &h->w, h->a, "OpenVote", h->vote_pub);
    tc_cast(h->cl, &h->w, h->a, h->vote_pub, "O1", 1, NULL);
    tc_vote_step(h->cl, &h->w, h->a, "CloseVote", h->vote_pub);
    tc_vote_step(h->cl, &h->w, h->a, "PublishVote", h->vote_pub);

    h->vote_b = tc_create_vote(h->cl, &h->w, h->b, 4, "续聘物业服务企业");
    tc_vote_step(h->cl, &h->w, h->b, "NoticeVote", h->vote_b);
    tc_vote_step(h->cl, &h->w, h->b, "OpenVote", h->vote_b);
    tc_cast(h->cl, &h->w, h->b, h->vote_b, "O1", 3, NULL);
    printf("world: communities A=%llu B=%llu, votes open=%llu closed=%llu published=%llu B=%llu "
           "(%llu ms)\n",
           (unsigned long long)h->a, (unsigned long long)h->b, (unsigned long long)h->vote_open,
           (unsigned long long)h->vote_closed, (unsigned long long)h->vote_pub,
           (unsigned long long)h->vote_b, (unsigned long long)(tc_now_ms() - t0));
}
