/* harness.c - shared test scaffolding for tests/server (see harness.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "crypto/hash.h"
#include "crypto/approval.h"
#include "tests/server/harness.h"
#include "tests/server/harness_sign.h"

/* The harness's own bookkeeping: which owners have moved to a new key. */
typedef struct {
    uint64_t community;
    char owner[ST_ID_MAX + 1];
    unsigned gen;
} t_gen;

/* Derived keys by label (deriving a key pair costs a scalar multiplication). */
typedef struct {
    char *label;
    t_key key;
} t_cached;

struct t_harness {
    t_gen *gens;
    size_t ngens, cap;
    t_cached *cache; /* open addressing, power-of-two size */
    size_t ncache, cache_cap;
};

static t_harness *current; /* the harness whose cache t_key_from_label uses */

void (*t_on_fail)(void);

void t_fail_hook(void) {
    if (t_on_fail != NULL) {
        t_on_fail();
    }
}

const t_unit t_example_roll[12] = {
    {"A-101", "A", 8950, "O1", "王建国", false},
    {"A-102", "A", 12000, "O2", "李秀英", false},
    {"A-201", "A", 8950, "O3", "张伟", false},
    {"A-202", "A", 12000, "O1", "王建国", false},
    {"B-101", "B", 6525, "O4", "刘洋", false},
    {"B-102", "B", 6525, "O5", "陈静", false},
    {"B-201", "B", 14380, "O6", "杨帆", false},
    {"B-202", "B", 14380, "DEV", "华北置业有限公司", true},
    {"B-301", "B", 14380, "DEV", "华北置业有限公司", true},
    {"S-01", "S", 21000, "O7", "赵磊", false},
    {"S-02", "S", 5500, "O8", "黄敏", false},
    {"C-101", "C", 9860, "O9", "周强;吴芳", false},
};

static void open_state(t_env *e) {
    st_state_options opt = {
        .dir = e->dir, .map_size = e->map_size, .nosync = e->nosync, .hook = e->hook};
    char err[256];
    int rc = st_state_open(&e->s, &opt, err, sizeof(err));
    if (rc != ST_OK) {
        fprintf(stderr, "st_state_open(%s): %s\n", e->dir, err);
    }
    CHECK(rc == ST_OK);
}

static void derive(t_key *k, const char *label) {
    uint8_t seed[32];
    st_hash_sha256(seed, label, strlen(label));
    CHECK(st_sign_keypair_from_seed(k->pk, k->sk, seed) == ST_OK);
    st_key_id(k->id, k->pk);
    st_key_id_hex(k->hex, k->pk);
}

static size_t label_hash(const char *label) {
    size_t h = 1469598103934665603ULL;
    for (; *label; label++) {
        h = (h ^ (unsigned char)*label) * 1099511628211ULL;
    }
    return h;
}

static void cache_grow(t_harness *h) {
    size_t cap = h->cache_cap ? 2 * h->cache_cap : 256;
    t_cached *n = calloc(cap, sizeof(*n));
    CHECK(n != NULL);
    for (size_t i = 0; i < h->cache_cap; i++) {
        if (h->cache[i].label != NULL) {
            size_t j = label_hash(h->cache[i].label) & (cap - 1);
            while (n[j].label != NULL) {
                j = (j + 1) & (cap - 1);
            }
            n[j] = h->cache[i];
        }
    }
    free(h->cache);
    h->cache = n;
    h->cache_cap = cap;
}

void t_key_from_label(t_key *k, const char *label) {
    t_harness *h = current;
    if (h == NULL) {
        derive(k, label);
        return;
    }
    if (2 * (h->ncache + 1) > h->cache_cap) {
        cache_grow(h);
    }
    size_t j = label_hash(label) & (h->cache_cap - 1);
    for (; h->cache[j].label != NULL; j = (j + 1) & (h->cache_cap - 1)) {
        if (strcmp(h->cache[j].label, label) == 0) {
            *k = h->cache[j].key;
            return;
        }
    }
    derive(k, label);
    h->cache[j].label = strdup(label);
    CHECK(h->cache[j].label != NULL);
    h->cache[j].key = *k;
    h->ncache++;
}

void t_organiser_key(uint64_t community, t_key *k) {
    char label[64];
    snprintf(label, sizeof(label), "organiser/%llu", (unsigned long long)community);
    t_key_from_label(k, label);
}

static t_gen *find_gen(t_env *e, uint64_t community, const char *owner) {
    for (size_t i = 0; i < e->h->ngens; i++) {
        if (e->h->gens[i].community == community && strcmp(e->h->gens[i].owner, owner) == 0) {
            return &e->h->gens[i];
        }
    }
    return NULL;
}

void t_owner_key(t_env *e, uint64_t community, const char *owner, t_key *k) {
    const t_gen *g = find_gen(e, community, owner);
    char label[160];
    snprintf(label, sizeof(label), "owner/%llu/%s/%u", (unsigned long long)community, owner,
             g != NULL ? g->gen : 0);
    t_key_from_label(k, label);
}

void t_owner_new_key(t_env *e, uint64_t community, const char *owner) {
    t_gen *g = find_gen(e, community, owner);
    if (g == NULL) {
        if (e->h->ngens == e->h->cap) {
            e->h->cap = e->h->cap ? 2 * e->h->cap : 8;
            e->h->gens = realloc(e->h->gens, e->h->cap * sizeof(*e->h->gens));
            CHECK(e->h->gens != NULL);
        }
        g = &e->h->gens[e->h->ngens++];
        memset(g, 0, sizeof(*g));
        g->community = community;
        snprintf(g->owner, sizeof(g->owner), "%s", owner);
    }
    g->gen++;
}

static void open_env(t_env *e, bool nosync, size_t map_size, bool genesis) {
    memset(e, 0, sizeof(*e));
    snprintf(e->dir, sizeof(e->dir), "/tmp/strata-server-XXXXXX");
    CHECK(mkdtemp(e->dir) != NULL);
    e->time_ms = T0_MS;
    e->nosync = nosync;
    e->map_size = map_size;
    e->h = calloc(1, sizeof(*e->h));
    CHECK(e->h != NULL);
    current = e->h;
    t_key_from_label(&e->op, "operator");
    t_key_from_label(&e->sup, "supervisor");
    open_state(e);
    CHECK(st_state_applied_index(e->s, &e->index) == ST_OK);
    if (!genesis) {
        return;
    }
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__Genesis g = STRATA__INTERNAL__GENESIS__INIT;
    g.operator_public_key = (ProtobufCBinaryData){32, e->op.pk};
    g.supervisor_public_key = (ProtobufCBinaryData){32, e->sup.pk};
    g.operator_label = "运维";
    g.supervisor_label = "东城街道办事处";
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_GENESIS;
    cmd.genesis = &g;
    st_apply_result r;
    CHECK_APPLY(t_apply_as(e, &cmd, &e->op, &r), r, ST_OK);
}

void t_open(t_env *e, bool nosync, size_t map_size) {
    open_env(e, nosync, map_size, true);
}

void t_open_bare(t_env *e, bool nosync, size_t map_size) {
    open_env(e, nosync, map_size, false);
}

void t_reopen(t_env *e) {
    st_state_close(e->s);
    e->s = NULL;
    open_state(e);
    CHECK(st_state_applied_index(e->s, &e->index) == ST_OK);
}

void t_rmdir(const char *dir) {
    char path[128];
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
}

void t_close(t_env *e) {
    st_state_close(e->s);
    e->s = NULL;
    t_rmdir(e->dir);
    if (e->h != NULL) {
        for (size_t i = 0; i < e->h->cache_cap; i++) {
            free(e->h->cache[i].label);
        }
        free(e->h->cache);
        free(e->h->gens);
        if (current == e->h) {
            current = NULL;
        }
        free(e->h);
        e->h = NULL;
    }
}

int t_apply_bytes(t_env *e, const uint8_t *buf, size_t len, st_apply_result *res) {
    st_apply_result local;
    if (res == NULL) {
        res = &local;
    }
    if (e->limit != 0 && e->index >= e->limit) {
        memset(res, 0, sizeof(*res));
        return ST_OK;
    }
    int rc = st_state_apply(e->s, ++e->index, buf, len, res);
    if (rc != ST_OK) {
        fprintf(stderr, "st_state_apply failed: %s: %s\n", st_strerror(rc), res->message);
    }
    CHECK(rc == ST_OK);
    CHECK(!res->skipped);
    return res->code;
}

/* Fills the request id, time and (from e->actor) actor, packs and applies at the next
 * index; everything it filled in is taken out again except the time. */
static int apply_cmd(t_env *e, Strata__Internal__Command *cmd, st_apply_result *res) {
    uint8_t rid[16] = {'r', 'e', 'q'};
    if (cmd->request_id.len == 0) {
        uint64_t n = ++e->req;
        for (int i = 0; i < 8; i++) {
            rid[15 - i] = (uint8_t)(n >> (8 * i));
        }
        cmd->request_id.data = rid;
        cmd->request_id.len = sizeof(rid);
    }
    if (cmd->time_ms == 0) {
        cmd->time_ms = e->time_ms;
    }
    char *given = cmd->actor;
    if (cmd->actor == NULL || cmd->actor[0] == '\0') {
        cmd->actor = (char *)(e->actor != NULL ? e->actor : "");
    }
    size_t len = strata__internal__command__get_packed_size(cmd);
    uint8_t *buf = malloc(len ? len : 1);
    CHECK(buf != NULL);
    strata__internal__command__pack(cmd, buf);
    int code = t_apply_bytes(e, buf, len, res);
    free(buf);
    cmd->actor = given;
    if (cmd->request_id.data == rid) {
        cmd->request_id.data = NULL;
        cmd->request_id.len = 0;
    }
    return code;
}

uint64_t t_vote_community(t_env *e, uint64_t vote) {
    st_vote_info *v;
    if (st_state_get_vote(e->s, vote, &v) != ST_OK) {
        return 0;
    }
    uint64_t c = v->community_id;
    st_vote_info_free(v);
    return c;
}

/* The harness organiser of a community that exists, else of community 1 (a refusal for
 * a missing community must come from a registered organiser to be about the community). */
static void org_for(t_env *e, uint64_t community, t_key *k) {
    st_community_info *ci;
    if (community != 0 && st_state_get_community(e->s, community, &ci) == ST_OK) {
        st_community_info_free(ci);
    } else {
        community = 1;
    }
    t_organiser_key(community, k);
}

static bool key_active(t_env *e, const t_key *k) {
    st_key_info ki;
    return st_state_get_key(e->s, k->id, &ki) == ST_OK && ki.active;
}

/* Picks the actor the role matrix wants for cmd into k. For a CastBallot, returns the
 * community when k may sign it (enrolling the owner if needed), else 0. */
static uint64_t choose_actor(t_env *e, Strata__Internal__Command *cmd, t_key *k) {
    switch (cmd->body_case) {
    case STRATA__INTERNAL__COMMAND__BODY_CREATE_COMMUNITY:
    case STRATA__INTERNAL__COMMAND__BODY_APPOINT_ORGANISER:
    case STRATA__INTERNAL__COMMAND__BODY_CERTIFY_VOTE:
    case STRATA__INTERNAL__COMMAND__BODY_DISPUTE_VOTE:
        *k = e->sup;
        return 0;
    case STRATA__INTERNAL__COMMAND__BODY_GENESIS:
    case STRATA__INTERNAL__COMMAND__BODY_ADD_KEY:
    case STRATA__INTERNAL__COMMAND__BODY_REVOKE_KEY:
    case STRATA__INTERNAL__COMMAND__BODY_SET_MEMBER:
    case STRATA__INTERNAL__COMMAND__BODY_REMOVE_MEMBER:
        *k = e->op;
        return 0;
    case STRATA__INTERNAL__COMMAND__BODY_IMPORT_ROLL:
        org_for(e, cmd->import_roll->community_id, k);
        return 0;
    case STRATA__INTERNAL__COMMAND__BODY_CREATE_VOTE:
        org_for(e, cmd->create_vote->community_id, k);
        return 0;
    case STRATA__INTERNAL__COMMAND__BODY_ISSUE_ENROLLMENT_CODE:
        org_for(e, cmd->issue_enrollment_code->community_id, k);
        return 0;
    case STRATA__INTERNAL__COMMAND__BODY_NOTICE_VOTE:
        org_for(e, t_vote_community(e, cmd->notice_vote->vote_id), k);
        return 0;
    case STRATA__INTERNAL__COMMAND__BODY_OPEN_VOTE:
        org_for(e, t_vote_community(e, cmd->open_vote->vote_id), k);
        return 0;
    case STRATA__INTERNAL__COMMAND__BODY_CLOSE_VOTE:
        org_for(e, t_vote_community(e, cmd->close_vote->vote_id), k);
        return 0;
    case STRATA__INTERNAL__COMMAND__BODY_PUBLISH_VOTE:
        org_for(e, t_vote_community(e, cmd->publish_vote->vote_id), k);
        return 0;
    case STRATA__INTERNAL__COMMAND__BODY_AUTHORISE_PROXY:
        org_for(e, t_vote_community(e, cmd->authorise_proxy->vote_id), k);
        return 0;
    case STRATA__INTERNAL__COMMAND__BODY_CAST_BALLOT: {
        const Strata__Internal__CastBallot *b = cmd->cast_ballot;
        uint64_t c = t_vote_community(e, b->vote_id);
        if (c == 0) {
            org_for(e, 0, k);
            return 0;
        }
        if (b->source == STRATA__INTERNAL__SOURCE__SOURCE_PAPER) {
            t_organiser_key(c, k);
            return c;
        }
        t_owner_key(e, c, b->owner_id, k);
        if (key_active(e, k) || t_enroll(e, c, b->owner_id, NULL) == ST_OK) {
            return c;
        }
        t_organiser_key(c, k); /* the owner cannot be enrolled: unsigned, refused */
        return 0;
    }
    default:
        org_for(e, 1, k);
        return 0;
    }
}

/* What the harness does after an accepted command: appoint the new community's organiser,
 * enroll the owners of an imported roll. */
static void after(t_env *e, const Strata__Internal__Command *cmd, const st_apply_result *res) {
    if (res->code != ST_OK || res->duplicate || res->skipped || res->id == 0) {
        return;
    }
    if (cmd->body_case == STRATA__INTERNAL__COMMAND__BODY_CREATE_COMMUNITY && !e->no_auto_appoint) {
        t_key org;
        t_organiser_key(res->id, &org);
        if (key_active(e, &org)) {
            return;
        }
        Strata__Internal__Command ac = STRATA__INTERNAL__COMMAND__INIT;
        Strata__Internal__AppointOrganiser ao = STRATA__INTERNAL__APPOINT_ORGANISER__INIT;
        ao.community_id = res->id;
        ao.public_key = (ProtobufCBinaryData){32, org.pk};
        ao.label = "业委会秘书";
        ac.body_case = STRATA__INTERNAL__COMMAND__BODY_APPOINT_ORGANISER;
        ac.appoint_organiser = &ao;
        st_apply_result r;
        CHECK_APPLY(t_apply_as(e, &ac, &e->sup, &r), r, ST_OK);
    } else if (cmd->body_case == STRATA__INTERNAL__COMMAND__BODY_IMPORT_ROLL &&
               e->enroll == T_ENROLL_ON_IMPORT) {
        const Strata__Internal__ImportRoll *ir = cmd->import_roll;
        for (size_t i = 0; i < ir->n_units; i++) {
            st_apply_result r;
            CHECK_APPLY(t_enroll(e, ir->community_id, ir->units[i]->owner_id, &r), r, ST_OK);
        }
    }
}

int t_apply_as(t_env *e, Strata__Internal__Command *cmd, const t_key *k, st_apply_result *res) {
    st_apply_result local;
    if (res == NULL) {
        res = &local;
    }
    char *given = cmd->actor;
    cmd->actor = (char *)k->hex;
    int code = apply_cmd(e, cmd, res);
    cmd->actor = given;
    after(e, cmd, res);
    return code;
}

bool t_sign_cast(Strata__Internal__CastBallot *b, uint64_t community, uint64_t cast_ms,
                 const t_key *k, uint64_t seed, t_sigbuf *buf) {
    t_ballot tb = {
        .community = community, .vote = b->vote_id, .owner = b->owner_id, .cast_ms = cast_ms};
    if (b->ballot_case == STRATA__INTERNAL__CAST_BALLOT__BALLOT_CHOICE) {
        tb.kind = 1;
        tb.choice = (int)b->choice;
    } else if (b->ballot_case == STRATA__INTERNAL__CAST_BALLOT__BALLOT_APPROVALS) {
        tb.kind = 2;
        tb.approvals = b->approvals->candidates;
        tb.n = b->approvals->n_candidates;
    } else {
        return false;
    }
    if (b->nonce.len == 16) {
        memcpy(tb.nonce, b->nonce.data, 16);
    } else if (b->nonce.len == 0) {
        uint8_t h[32], s8[8];
        for (int i = 0; i < 8; i++) {
            s8[i] = (uint8_t)(seed >> (56 - 8 * i));
        }
        st_hash_sha256(h, s8, sizeof(s8));
        memcpy(tb.nonce, h, 16);
    } else {
        return false;
    }
    const uint8_t *scan = NULL;
    if (b->source == STRATA__INTERNAL__SOURCE__SOURCE_PAPER) {
        if (b->paper_scan_sha256.len != 32) {
            return false;
        }
        scan = b->paper_scan_sha256.data;
    }
    size_t len;
    if (t_sign_ballot(&tb, k->sk, scan, buf->bytes, &len, buf->sig) != 0) {
        return false;
    }
    memcpy(buf->pk, k->pk, 32);
    b->signed_bytes = (ProtobufCBinaryData){len, buf->bytes};
    b->public_key = (ProtobufCBinaryData){32, buf->pk};
    b->signature = (ProtobufCBinaryData){64, buf->sig};
    return true;
}

int t_apply(t_env *e, Strata__Internal__Command *cmd, st_apply_result *res) {
    st_apply_result local;
    if (res == NULL) {
        res = &local;
    }
    if ((cmd->actor != NULL && cmd->actor[0] != '\0') || e->actor != NULL) {
        int code = apply_cmd(e, cmd, res);
        after(e, cmd, res);
        return code;
    }
    t_key k;
    uint64_t community = choose_actor(e, cmd, &k);
    Strata__Internal__CastBallot *b =
        cmd->body_case == STRATA__INTERNAL__COMMAND__BODY_CAST_BALLOT ? cmd->cast_ballot : NULL;
    t_sigbuf sb;
    bool signed_here = false;
    if (b != NULL && community != 0 && b->signed_bytes.len == 0) {
        /* The nonce follows the request: a retried request carries the same ballot. */
        uint64_t seed = e->req + 1;
        if (cmd->request_id.len == 16) {
            seed = 0;
            for (int i = 0; i < 16; i++) {
                seed = seed * 131 + cmd->request_id.data[i];
            }
        }
        signed_here =
            t_sign_cast(b, community, cmd->time_ms ? cmd->time_ms : e->time_ms, &k, seed, &sb);
    }
    int code = t_apply_as(e, cmd, &k, res);
    if (signed_here) {
        b->signed_bytes = (ProtobufCBinaryData){0, NULL};
        b->public_key = (ProtobufCBinaryData){0, NULL};
        b->signature = (ProtobufCBinaryData){0, NULL};
    }
    return code;
}

int t_enroll(t_env *e, uint64_t community, const char *owner, st_apply_result *res) {
    st_apply_result local;
    if (res == NULL) {
        res = &local;
    }
    memset(res, 0, sizeof(*res));
    t_key k, org;
    t_owner_key(e, community, owner, &k);
    st_key_info ki;
    if (st_state_get_key(e->s, k.id, &ki) == ST_OK) {
        return ki.active ? ST_OK : ST_EEXIST;
    }
    t_organiser_key(community, &org);
    /* The code as the organiser's device would draw it (here: from the log position). */
    char code[160];
    snprintf(code, sizeof(code), "code/%s/%llu", k.hex, (unsigned long long)e->index);
    uint8_t cpk[32], csk[64];
    if (st_enroll_code_keypair(community, owner, code, strlen(code), cpk, csk) != ST_OK) {
        res->code = ST_EINVAL;
        return ST_EINVAL;
    }
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__IssueEnrollmentCode is = STRATA__INTERNAL__ISSUE_ENROLLMENT_CODE__INIT;
    is.community_id = community;
    is.owner_id = (char *)owner;
    is.code_public_key = (ProtobufCBinaryData){32, cpk};
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_ISSUE_ENROLLMENT_CODE;
    cmd.issue_enrollment_code = &is;
    int rc = t_apply_as(e, &cmd, &org, res);
    if (rc != ST_OK) {
        return rc;
    }
    uint8_t msg[ST_ENROLL_MAX_LEN], sig[64], csig[64];
    size_t len;
    CHECK(st_enroll_bytes(community, owner, k.pk, cpk, e->time_ms, msg, &len) == ST_OK);
    CHECK(st_sign_detached(sig, ST_DOMAIN_ENROLL, msg, len, k.sk, NULL, 0) == ST_OK);
    CHECK(st_sign_detached(csig, ST_DOMAIN_ENROLL_CODE, msg, len, csk, NULL, 0) == ST_OK);
    Strata__Internal__Command rc2 = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__RedeemEnrollmentCode rd = STRATA__INTERNAL__REDEEM_ENROLLMENT_CODE__INIT;
    rd.community_id = community;
    rd.owner_id = (char *)owner;
    rd.public_key = (ProtobufCBinaryData){32, k.pk};
    rd.code_public_key = (ProtobufCBinaryData){32, cpk};
    rd.signed_ms = e->time_ms;
    rd.signature = (ProtobufCBinaryData){64, sig};
    rd.code_signature = (ProtobufCBinaryData){64, csig};
    rc2.body_case = STRATA__INTERNAL__COMMAND__BODY_REDEEM_ENROLLMENT_CODE;
    rc2.redeem_enrollment_code = &rd;
    return t_apply_as(e, &rc2, &k, res);
}

int t_create_community(t_env *e, const char *name, int min_notice, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CreateCommunity b = STRATA__INTERNAL__CREATE_COMMUNITY__INIT;
    b.name = (char *)name;
    b.street = "东城街道";
    if (min_notice >= 0) {
        b.min_notice_case = STRATA__INTERNAL__CREATE_COMMUNITY__MIN_NOTICE_MIN_NOTICE_DAYS;
        b.min_notice_days = (uint32_t)min_notice;
    }
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CREATE_COMMUNITY;
    cmd.create_community = &b;
    return t_apply(e, &cmd, res);
}

int t_import_roll(t_env *e, uint64_t community, const t_unit *units, size_t n,
                  st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__ImportRoll b = STRATA__INTERNAL__IMPORT_ROLL__INIT;
    Strata__Internal__Unit *us = calloc(n + 1, sizeof(*us));
    Strata__Internal__Unit **ptrs = calloc(n + 1, sizeof(*ptrs));
    CHECK(us != NULL && ptrs != NULL);
    for (size_t i = 0; i < n; i++) {
        Strata__Internal__Unit u = STRATA__INTERNAL__UNIT__INIT;
        u.unit = (char *)units[i].unit;
        u.building = (char *)units[i].building;
        u.area_centi_m2 = units[i].area;
        u.owner_id = (char *)units[i].owner;
        u.owner_name = (char *)units[i].name;
        u.status = units[i].developer ? STRATA__INTERNAL__UNIT_STATUS__UNIT_DEVELOPER_UNSOLD
                                      : STRATA__INTERNAL__UNIT_STATUS__UNIT_OWNED;
        us[i] = u;
        ptrs[i] = &us[i];
    }
    b.community_id = community;
    b.n_units = n;
    b.units = ptrs;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_IMPORT_ROLL;
    cmd.import_roll = &b;
    int code = t_apply(e, &cmd, res);
    free(us);
    free(ptrs);
    return code;
}

int t_create_vote(t_env *e, uint64_t community, uint32_t matter, const char *title, int notice,
                  uint32_t seats, const char *const *cands, size_t ncands, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CreateVote b = STRATA__INTERNAL__CREATE_VOTE__INIT;
    b.community_id = community;
    b.matter = matter;
    b.title = (char *)title;
    if (notice >= 0) {
        b.notice_case = STRATA__INTERNAL__CREATE_VOTE__NOTICE_NOTICE_DAYS;
        b.notice_days = (uint32_t)notice;
    }
    b.seats = seats;
    b.n_candidates = ncands;
    b.candidates = (char **)cands;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CREATE_VOTE;
    cmd.create_vote = &b;
    return t_apply(e, &cmd, res);
}

int t_notice(t_env *e, uint64_t vote, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__NoticeVote b = STRATA__INTERNAL__NOTICE_VOTE__INIT;
    b.vote_id = vote;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_NOTICE_VOTE;
    cmd.notice_vote = &b;
    return t_apply(e, &cmd, res);
}

int t_open_vote(t_env *e, uint64_t vote, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__OpenVote b = STRATA__INTERNAL__OPEN_VOTE__INIT;
    b.vote_id = vote;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_OPEN_VOTE;
    cmd.open_vote = &b;
    return t_apply(e, &cmd, res);
}

int t_close_vote(t_env *e, uint64_t vote, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CloseVote b = STRATA__INTERNAL__CLOSE_VOTE__INIT;
    b.vote_id = vote;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CLOSE_VOTE;
    cmd.close_vote = &b;
    return t_apply(e, &cmd, res);
}

int t_publish(t_env *e, uint64_t vote, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__PublishVote b = STRATA__INTERNAL__PUBLISH_VOTE__INIT;
    b.vote_id = vote;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_PUBLISH_VOTE;
    cmd.publish_vote = &b;
    return t_apply(e, &cmd, res);
}

int t_cast_raw(t_env *e, Strata__Internal__CastBallot *b, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CAST_BALLOT;
    cmd.cast_ballot = b;
    return t_apply(e, &cmd, res);
}

int t_cast(t_env *e, uint64_t vote, const char *owner, int choice, st_apply_result *res) {
    Strata__Internal__CastBallot b = STRATA__INTERNAL__CAST_BALLOT__INIT;
    b.vote_id = vote;
    b.owner_id = (char *)owner;
    b.ballot_case = STRATA__INTERNAL__CAST_BALLOT__BALLOT_CHOICE;
    b.choice = (Strata__Internal__Choice)choice;
    b.source = STRATA__INTERNAL__SOURCE__SOURCE_ONLINE;
    return t_cast_raw(e, &b, res);
}

int t_cast_approvals(t_env *e, uint64_t vote, const char *owner, const uint32_t *set, size_t n,
                     st_apply_result *res) {
    Strata__Internal__CastBallot b = STRATA__INTERNAL__CAST_BALLOT__INIT;
    Strata__Internal__Approvals a = STRATA__INTERNAL__APPROVALS__INIT;
    a.candidates = (uint32_t *)set;
    a.n_candidates = n;
    b.vote_id = vote;
    b.owner_id = (char *)owner;
    b.ballot_case = STRATA__INTERNAL__CAST_BALLOT__BALLOT_APPROVALS;
    b.approvals = &a;
    b.source = STRATA__INTERNAL__SOURCE__SOURCE_ONLINE;
    return t_cast_raw(e, &b, res);
}

uint64_t t_open_new_vote(t_env *e, uint64_t community, uint32_t matter, uint32_t seats,
                         const char *const *cands, size_t ncands) {
    st_apply_result r;
    CHECK_APPLY(t_create_vote(e, community, matter, "议题", 0, seats, cands, ncands, &r), r, ST_OK);
    uint64_t id = r.id;
    CHECK_APPLY(t_notice(e, id, &r), r, ST_OK);
    CHECK_APPLY(t_open_vote(e, id, &r), r, ST_OK);
    return id;
}

void t_digest(t_env *e, unsigned what, uint8_t out[32]) {
    CHECK(st_state_digest(e->s, what, out) == ST_OK);
}

bool t_digest_eq(const uint8_t a[32], const uint8_t b[32]) {
    return memcmp(a, b, 32) == 0;
}

double t_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- builders of the new commands ---- */

static int apply_maybe_as(t_env *e, Strata__Internal__Command *cmd, const t_key *as,
                          st_apply_result *res) {
    return as != NULL ? t_apply_as(e, cmd, as, res) : t_apply(e, cmd, res);
}

int t_add_key(t_env *e, const uint8_t pk[32], int role, const t_key *as, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__AddKey b = STRATA__INTERNAL__ADD_KEY__INIT;
    b.public_key = (ProtobufCBinaryData){32, (uint8_t *)pk};
    b.role = (Strata__Internal__Role)role;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_ADD_KEY;
    cmd.add_key = &b;
    return apply_maybe_as(e, &cmd, as, res);
}

int t_appoint(t_env *e, uint64_t community, const uint8_t pk[32], const t_key *as,
              st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__AppointOrganiser b = STRATA__INTERNAL__APPOINT_ORGANISER__INIT;
    b.community_id = community;
    b.public_key = (ProtobufCBinaryData){32, (uint8_t *)pk};
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_APPOINT_ORGANISER;
    cmd.appoint_organiser = &b;
    return apply_maybe_as(e, &cmd, as, res);
}

int t_revoke_key(t_env *e, const uint8_t id[16], const char *reason, const t_key *as,
                 st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__RevokeKey b = STRATA__INTERNAL__REVOKE_KEY__INIT;
    b.key_id = (ProtobufCBinaryData){16, (uint8_t *)id};
    b.reason = (char *)reason;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_REVOKE_KEY;
    cmd.revoke_key = &b;
    return apply_maybe_as(e, &cmd, as, res);
}

int t_issue(t_env *e, uint64_t community, const char *owner, const char *code, int valid_days,
            const t_key *as, st_apply_result *res) {
    uint8_t cpk[32], csk[64];
    CHECK(st_enroll_code_keypair(community, owner, code, strlen(code), cpk, csk) == ST_OK);
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__IssueEnrollmentCode b = STRATA__INTERNAL__ISSUE_ENROLLMENT_CODE__INIT;
    b.community_id = community;
    b.owner_id = (char *)owner;
    b.code_public_key = (ProtobufCBinaryData){32, cpk};
    if (valid_days >= 0) {
        b.valid_case = STRATA__INTERNAL__ISSUE_ENROLLMENT_CODE__VALID_VALID_DAYS;
        b.valid_days = (uint32_t)valid_days;
    }
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_ISSUE_ENROLLMENT_CODE;
    cmd.issue_enrollment_code = &b;
    return apply_maybe_as(e, &cmd, as, res);
}

int t_redeem(t_env *e, uint64_t community, const char *owner, const char *code, const t_key *k,
             st_apply_result *res) {
    uint8_t cpk[32], csk[64], msg[ST_ENROLL_MAX_LEN], sig[64], csig[64];
    size_t len;
    CHECK(st_enroll_code_keypair(community, owner, code, strlen(code), cpk, csk) == ST_OK);
    CHECK(st_enroll_bytes(community, owner, k->pk, cpk, e->time_ms, msg, &len) == ST_OK);
    CHECK(st_sign_detached(sig, ST_DOMAIN_ENROLL, msg, len, k->sk, NULL, 0) == ST_OK);
    CHECK(st_sign_detached(csig, ST_DOMAIN_ENROLL_CODE, msg, len, csk, NULL, 0) == ST_OK);
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__RedeemEnrollmentCode b = STRATA__INTERNAL__REDEEM_ENROLLMENT_CODE__INIT;
    b.community_id = community;
    b.owner_id = (char *)owner;
    b.public_key = (ProtobufCBinaryData){32, (uint8_t *)k->pk};
    b.code_public_key = (ProtobufCBinaryData){32, cpk};
    b.signed_ms = e->time_ms;
    b.signature = (ProtobufCBinaryData){64, sig};
    b.code_signature = (ProtobufCBinaryData){64, csig};
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_REDEEM_ENROLLMENT_CODE;
    cmd.redeem_enrollment_code = &b;
    return t_apply_as(e, &cmd, k, res);
}

int t_revoke_owner(t_env *e, const uint8_t id[16], const char *reason, const t_key *org,
                   const t_key *sup, st_apply_result *res) {
    st_key_info ki;
    CHECK(st_state_get_key(e->s, id, &ki) == ST_OK);
    uint8_t msg[ST_REVOKE_MAX_LEN], osig[64], ssig[64];
    size_t len;
    /* A key that is not an owner's has no owner id: sign something, apply refuses it. */
    const char *owner = ki.owner_id[0] != '\0' ? ki.owner_id : "-";
    const char *why = reason[0] != '\0' ? reason : "-";
    CHECK(st_revoke_owner_bytes(ki.community_id, owner, id, why, e->time_ms, msg, &len) == ST_OK);
    CHECK(st_sign_detached(osig, ST_DOMAIN_REVOKE_OWNER, msg, len, org->sk, NULL, 0) == ST_OK);
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__RevokeOwnerKey b = STRATA__INTERNAL__REVOKE_OWNER_KEY__INIT;
    b.key_id = (ProtobufCBinaryData){16, (uint8_t *)id};
    b.reason = (char *)reason;
    b.signed_ms = e->time_ms;
    b.organiser_signature = (ProtobufCBinaryData){64, osig};
    if (sup != NULL) {
        CHECK(st_sign_detached(ssig, ST_DOMAIN_REVOKE_OWNER, msg, len, sup->sk, NULL, 0) == ST_OK);
        b.supervisor_key_id = (ProtobufCBinaryData){16, (uint8_t *)sup->id};
        b.supervisor_signature = (ProtobufCBinaryData){64, ssig};
    }
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_REVOKE_OWNER_KEY;
    cmd.revoke_owner_key = &b;
    return t_apply_as(e, &cmd, org, res);
}

int t_authorise_proxy(t_env *e, uint64_t vote, const char *principal, const char *proxy,
                      const t_key *as, st_apply_result *res) {
    uint8_t doc[32];
    st_hash_sha256(doc, "委托书", strlen("委托书"));
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__AuthoriseProxy b = STRATA__INTERNAL__AUTHORISE_PROXY__INIT;
    b.vote_id = vote;
    b.principal_owner_id = (char *)principal;
    b.proxy_owner_id = (char *)proxy;
    b.document_sha256 = (ProtobufCBinaryData){32, doc};
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_AUTHORISE_PROXY;
    cmd.authorise_proxy = &b;
    return apply_maybe_as(e, &cmd, as, res);
}

int t_certify(t_env *e, uint64_t vote, const char *reason, const t_key *as, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CertifyVote b = STRATA__INTERNAL__CERTIFY_VOTE__INIT;
    b.vote_id = vote;
    b.reason = (char *)reason;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CERTIFY_VOTE;
    cmd.certify_vote = &b;
    return apply_maybe_as(e, &cmd, as, res);
}

int t_dispute(t_env *e, uint64_t vote, const char *reason, const t_key *as, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__DisputeVote b = STRATA__INTERNAL__DISPUTE_VOTE__INIT;
    b.vote_id = vote;
    b.reason = (char *)reason;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_DISPUTE_VOTE;
    cmd.dispute_vote = &b;
    return apply_maybe_as(e, &cmd, as, res);
}

int t_set_member(t_env *e, uint64_t node, const char *raft, const char *grpc, const uint8_t pk[32],
                 const t_key *as, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__SetMember b = STRATA__INTERNAL__SET_MEMBER__INIT;
    b.node_id = node;
    b.raft_address = (char *)raft;
    b.grpc_address = (char *)grpc;
    b.public_key = (ProtobufCBinaryData){32, (uint8_t *)pk};
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_SET_MEMBER;
    cmd.set_member = &b;
    return apply_maybe_as(e, &cmd, as, res);
}

int t_remove_member(t_env *e, uint64_t node, const t_key *as, st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__RemoveMember b = STRATA__INTERNAL__REMOVE_MEMBER__INIT;
    b.node_id = node;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_REMOVE_MEMBER;
    cmd.remove_member = &b;
    return apply_maybe_as(e, &cmd, as, res);
}

int t_cast_signed(t_env *e, uint64_t vote, const char *owner, int choice, const t_key *k,
                  st_apply_result *res) {
    Strata__Internal__Command cmd = STRATA__INTERNAL__COMMAND__INIT;
    Strata__Internal__CastBallot b = STRATA__INTERNAL__CAST_BALLOT__INIT;
    b.vote_id = vote;
    b.owner_id = (char *)owner;
    b.ballot_case = STRATA__INTERNAL__CAST_BALLOT__BALLOT_CHOICE;
    b.choice = (Strata__Internal__Choice)choice;
    b.source = STRATA__INTERNAL__SOURCE__SOURCE_ONLINE;
    t_sigbuf sb;
    CHECK(t_sign_cast(&b, t_vote_community(e, vote), e->time_ms, k, e->index * 7919 + 17, &sb));
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CAST_BALLOT;
    cmd.cast_ballot = &b;
    return t_apply_as(e, &cmd, k, res);
}

void t_check_refused(t_env *e, const st_apply_result *r, int want, const char *needle,
                     const uint8_t before[32], const char *file, int line) {
    if (r->code != want) {
        fprintf(stderr, "%s:%d: code %d (%s), expected %d (%s): %s\n", file, line, r->code,
                st_strerror(r->code), want, st_strerror(want), r->message);
        t_fail_hook();
        exit(1);
    }
    if (needle != NULL && strstr(r->message, needle) == NULL) {
        fprintf(stderr, "%s:%d: message \"%s\" lacks \"%s\"\n", file, line, r->message, needle);
        t_fail_hook();
        exit(1);
    }
    uint8_t now[32];
    t_digest(e, ST_STATE_DIGEST_DATA, now);
    if (memcmp(now, before, 32) != 0 || r->id != 0 || r->logged) {
        fprintf(stderr, "%s:%d: a refused command changed the data: %s\n", file, line, r->message);
        t_fail_hook();
        exit(1);
    }
}
