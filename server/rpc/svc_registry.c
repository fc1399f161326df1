/* svc_registry.c - strata.v1.Registry: communities and their rolls.
 *
 *   CreateCommunity  write: CreateCommunity command -> the new community id
 *   GetCommunity     linearizable read of the community
 *   ImportRoll       write: ImportRoll command (the whole roll, all or nothing) -> the new
 *                    roll version and its totals
 *   ListUnits        linearizable read of the current roll; owner names masked (server/
 *                    mask.h: 张三 -> 张*) unless the call is signed by a supervisor or by an
 *                    organiser of the community (a bad signature is UNAUTHENTICATED, a
 *                    signature by any other key gets the public, masked roll)
 * Writes are signed (auth.c).
 */
#include <stdlib.h>

#include "core/error.h"
#include "core/roll.h"
#include "proto/strata/v1/registry.pb-c.h"
#include "server/rpc/convert.h"
#include "server/rpc/internal.h"

typedef Strata__Internal__Command pb_command;

/* ---- CreateCommunity ---- */

static void create_community_done(st_call *c, const st_apply_result *res) {
    Strata__V1__CreateCommunityResponse resp = STRATA__V1__CREATE_COMMUNITY_RESPONSE__INIT;
    resp.community_id = res->id;
    st_call_ok(c, &resp.base);
}

static void create_community(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__CreateCommunityRequest *q = (const void *)m;
    if (st_call_check_request_id(c, &q->request_id) != ST_OK) {
        return;
    }
    Strata__Internal__CreateCommunity body = STRATA__INTERNAL__CREATE_COMMUNITY__INIT;
    body.name = q->name;
    body.street = q->street;
    if (q->min_notice_case == STRATA__V1__CREATE_COMMUNITY_REQUEST__MIN_NOTICE_MIN_NOTICE_DAYS) {
        body.min_notice_case = STRATA__INTERNAL__CREATE_COMMUNITY__MIN_NOTICE_MIN_NOTICE_DAYS;
        body.min_notice_days = q->min_notice_days;
    }
    if (q->enroll_code_case == STRATA__V1__CREATE_COMMUNITY_REQUEST__ENROLL_CODE_ENROLL_CODE_DAYS) {
        body.enroll_code_case = STRATA__INTERNAL__CREATE_COMMUNITY__ENROLL_CODE_ENROLL_CODE_DAYS;
        body.enroll_code_days = q->enroll_code_days;
    }
    pb_command cmd = STRATA__INTERNAL__COMMAND__INIT;
    cmd.request_id = q->request_id;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_CREATE_COMMUNITY;
    cmd.create_community = &body;
    st_call_propose(c, &cmd, create_community_done);
}

/* ---- GetCommunity ---- */

static void get_community_read(st_call *c) {
    const Strata__V1__GetCommunityRequest *q = (const void *)c->req;
    st_community_info *info;
    int rc = st_state_get_community(c->rpc->cfg.state, q->community_id, &info);
    if (rc != ST_OK) {
        st_call_read_failed(c, rc, "community %llu does not exist",
                            (unsigned long long)q->community_id);
        return;
    }
    st_arena a = ST_ARENA_INIT;
    Strata__V1__Community *resp = st_v1_community(&a, info);
    st_community_info_free(info);
    if (resp != NULL) {
        st_call_ok(c, &resp->base);
    } else {
        st_call_node_error(c, ST_ENOMEM);
    }
    st_arena_free(&a);
}

static void get_community(st_call *c, const ProtobufCMessage *m) {
    (void)m;
    st_call_linear(c, get_community_read);
}

/* ---- ImportRoll ---- */

/* The totals of the imported units computed with core's roll (the state accepted the same
 * units, so this cannot fail but for memory). */
static int roll_totals(const Strata__V1__ImportRollRequest *q, Strata__V1__ImportRollResponse *r) {
    st_roll *roll;
    if (st_roll_new(&roll) != ST_OK) {
        return ST_ENOMEM;
    }
    int rc = ST_OK;
    for (size_t i = 0; i < q->n_units && rc == ST_OK; i++) {
        const Strata__V1__Unit *u = q->units[i];
        st_unit su = {u->unit,     u->building,   u->area_centi_m2,
                      u->owner_id, u->owner_name, (st_unit_status)u->status};
        rc = st_roll_add_unit(roll, &su, NULL, 0);
    }
    if (rc == ST_OK) {
        rc = st_roll_seal(roll, NULL, 0);
    }
    if (rc == ST_OK) {
        r->unit_count = st_roll_unit_count(roll);
        r->total_area = st_roll_total_area(roll);
        r->total_owners = st_roll_total_owners(roll);
    }
    st_roll_free(roll);
    return rc;
}

static void import_roll_done(st_call *c, const st_apply_result *res) {
    const Strata__V1__ImportRollRequest *q = (const void *)c->req;
    Strata__V1__ImportRollResponse resp = STRATA__V1__IMPORT_ROLL_RESPONSE__INIT;
    resp.roll_version = res->id;
    st_community_info *info = NULL;
    int rc = st_state_get_community(c->rpc->cfg.state, q->community_id, &info);
    if (rc == ST_OK && info->roll_version == res->id) {
        resp.unit_count = info->unit_count;
        resp.total_area = info->total.area;
        resp.total_owners = info->total.owners;
    } else {
        /* Another import came after this one (or the read failed): the figures of this
         * roll are those of the request itself. */
        rc = roll_totals(q, &resp);
    }
    st_community_info_free(info);
    if (rc != ST_OK) {
        st_call_fail(c, GRPC_STATUS_INTERNAL,
                     "roll version %llu was imported, but its totals could not be read: %s",
                     (unsigned long long)res->id, st_strerror(rc));
        return;
    }
    st_call_ok(c, &resp.base);
}

static void import_roll(st_call *c, const ProtobufCMessage *m) {
    const Strata__V1__ImportRollRequest *q = (const void *)m;
    if (st_call_check_request_id(c, &q->request_id) != ST_OK) {
        return;
    }
    if (q->n_units == 0) {
        st_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT,
                     "a roll needs at least one unit: give every exclusive part of the community");
        return;
    }
    /* The internal units point into the request (borrowed until packed). */
    Strata__Internal__Unit *units = calloc(q->n_units, sizeof(*units));
    Strata__Internal__Unit **ptrs = calloc(q->n_units, sizeof(*ptrs));
    if (units == NULL || ptrs == NULL) {
        free(units);
        free(ptrs);
        st_call_node_error(c, ST_ENOMEM);
        return;
    }
    for (size_t i = 0; i < q->n_units; i++) {
        const Strata__V1__Unit *u = q->units[i];
        strata__internal__unit__init(&units[i]);
        units[i].unit = u->unit;
        units[i].building = u->building;
        units[i].area_centi_m2 = u->area_centi_m2;
        units[i].owner_id = u->owner_id;
        units[i].owner_name = u->owner_name;
        units[i].status = (Strata__Internal__UnitStatus)u->status;
        ptrs[i] = &units[i];
    }
    Strata__Internal__ImportRoll body = STRATA__INTERNAL__IMPORT_ROLL__INIT;
    body.community_id = q->community_id;
    body.n_units = q->n_units;
    body.units = ptrs;
    pb_command cmd = STRATA__INTERNAL__COMMAND__INIT;
    cmd.request_id = q->request_id;
    cmd.body_case = STRATA__INTERNAL__COMMAND__BODY_IMPORT_ROLL;
    cmd.import_roll = &body;
    st_call_propose(c, &cmd, import_roll_done);
    free(units);
    free(ptrs);
}

/* ---- ListUnits ---- */

typedef struct {
    st_arena *a;
    bool mask;
    Strata__V1__Unit **units;
    size_t n, cap;
    bool failed;
} unit_list;

static int collect_unit(void *ctx, const st_unit *u) {
    unit_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        Strata__V1__Unit **nu = realloc(l->units, cap * sizeof(*nu));
        if (nu == NULL) {
            l->failed = true;
            return 1;
        }
        l->units = nu;
        l->cap = cap;
    }
    Strata__V1__Unit *m = st_v1_unit(l->a, u, l->mask);
    if (m == NULL) {
        l->failed = true;
        return 1;
    }
    l->units[l->n++] = m;
    return 0;
}

static void list_units_read(st_call *c) {
    const Strata__V1__ListUnitsRequest *q = (const void *)c->req;
    bool mask = true;
    if (st_call_is_signed(c)) {
        if (st_call_authenticate(c, NULL, true) != ST_OK) {
            return; /* answered */
        }
        mask = !(c->auth.role == ST_ROLE_SUPERVISOR ||
                 (c->auth.role == ST_ROLE_ORGANISER && c->auth.community_id == q->community_id));
    }
    st_community_info *info;
    int rc = st_state_get_community(c->rpc->cfg.state, q->community_id, &info);
    if (rc != ST_OK) {
        st_call_read_failed(c, rc, "community %llu does not exist",
                            (unsigned long long)q->community_id);
        return;
    }
    st_arena a = ST_ARENA_INIT;
    unit_list l = {.a = &a, .mask = mask};
    Strata__V1__ListUnitsResponse resp = STRATA__V1__LIST_UNITS_RESPONSE__INIT;
    resp.roll_version = info->roll_version;
    st_community_info_free(info);
    rc = st_state_list_units(c->rpc->cfg.state, q->community_id, collect_unit, &l);
    if (rc == ST_OK && l.failed) {
        rc = ST_ENOMEM;
    }
    if (rc == ST_OK) {
        resp.n_units = l.n;
        resp.units = l.units;
        st_call_ok(c, &resp.base);
    } else {
        st_call_read_failed(c, rc, "community %llu does not exist",
                            (unsigned long long)q->community_id);
    }
    free(l.units);
    st_arena_free(&a);
}

static void list_units(st_call *c, const ProtobufCMessage *m) {
    (void)m;
    st_call_linear(c, list_units_read);
}

const st_method_def st_svc_registry[] = {
    {"/strata.v1.Registry/CreateCommunity", &strata__v1__create_community_request__descriptor,
     create_community},
    {"/strata.v1.Registry/GetCommunity", &strata__v1__get_community_request__descriptor,
     get_community},
    {"/strata.v1.Registry/ImportRoll", &strata__v1__import_roll_request__descriptor, import_roll},
    {"/strata.v1.Registry/ListUnits", &strata__v1__list_units_request__descriptor, list_units},
    {NULL, NULL, NULL},
};
