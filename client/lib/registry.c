/* registry.c - typed calls of strata.v1.Registry: create and read communities, import and
 * list a community's roll. Writes carry a fresh request_id (one per operation).
 */
#include <stdlib.h>
#include <string.h>

#include "client/lib/internal.h"

#define REGISTRY "/strata.v1.Registry/"

int st_create_community_policy(st_client *c, const char *name, const char *street,
                               int min_notice_days, int enroll_code_days, uint64_t *id,
                               st_error *err) {
    if (name == NULL || name[0] == '\0') {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "the community needs a name");
    }
    uint8_t rid[ST_CLIENT_REQUEST_ID_LEN];
    st_request_id_new(rid);
    Strata__V1__CreateCommunityRequest req = STRATA__V1__CREATE_COMMUNITY_REQUEST__INIT;
    req.request_id.data = rid;
    req.request_id.len = sizeof(rid);
    req.name = (char *)name;
    req.street = (char *)(street != NULL ? street : "");
    if (min_notice_days >= 0) {
        req.min_notice_case = STRATA__V1__CREATE_COMMUNITY_REQUEST__MIN_NOTICE_MIN_NOTICE_DAYS;
        req.min_notice_days = (uint32_t)min_notice_days;
    }
    if (enroll_code_days >= 0) {
        req.enroll_code_case = STRATA__V1__CREATE_COMMUNITY_REQUEST__ENROLL_CODE_ENROLL_CODE_DAYS;
        req.enroll_code_days = (uint32_t)enroll_code_days;
    }
    ProtobufCMessage *resp = NULL;
    int rc = st__unary(c, REGISTRY "CreateCommunity", &req.base,
                       &strata__v1__create_community_response__descriptor, true, &resp, err);
    if (rc == ST_OK) {
        *id = ((Strata__V1__CreateCommunityResponse *)resp)->community_id;
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return rc;
}

int st_create_community(st_client *c, const char *name, const char *street, int min_notice_days,
                        uint64_t *id, st_error *err) {
    return st_create_community_policy(c, name, street, min_notice_days, -1, id, err);
}

int st_get_community(st_client *c, uint64_t id, Strata__V1__Community **out, st_error *err) {
    Strata__V1__GetCommunityRequest req = STRATA__V1__GET_COMMUNITY_REQUEST__INIT;
    req.community_id = id;
    return st__unary(c, REGISTRY "GetCommunity", &req.base, &strata__v1__community__descriptor,
                     false, (ProtobufCMessage **)out, err);
}

/* Sends units[0..n), which are known to form a valid roll. */
static int import_units(st_client *c, uint64_t community_id, const st_unit *units, size_t n,
                        st_import_result *out, st_error *err) {
    Strata__V1__Unit *msgs = calloc(n, sizeof(*msgs));
    Strata__V1__Unit **ptrs = calloc(n, sizeof(*ptrs));
    if (msgs == NULL || ptrs == NULL) {
        free(msgs);
        free(ptrs);
        return st__fail(err, ST_FAIL_LOCAL, ST_ENOMEM, "out of memory for %zu units", n);
    }
    for (size_t i = 0; i < n; i++) {
        Strata__V1__Unit u = STRATA__V1__UNIT__INIT;
        u.unit = (char *)units[i].unit;
        u.building = (char *)(units[i].building != NULL ? units[i].building : "");
        u.area_centi_m2 = units[i].area;
        u.owner_id = (char *)units[i].owner_id;
        u.owner_name = (char *)units[i].owner_name;
        u.status = units[i].status == ST_UNIT_DEVELOPER_UNSOLD
                       ? STRATA__V1__UNIT_STATUS__UNIT_DEVELOPER_UNSOLD
                       : STRATA__V1__UNIT_STATUS__UNIT_OWNED;
        msgs[i] = u;
        ptrs[i] = &msgs[i];
    }
    uint8_t rid[ST_CLIENT_REQUEST_ID_LEN];
    st_request_id_new(rid);
    Strata__V1__ImportRollRequest req = STRATA__V1__IMPORT_ROLL_REQUEST__INIT;
    req.request_id.data = rid;
    req.request_id.len = sizeof(rid);
    req.community_id = community_id;
    req.n_units = n;
    req.units = ptrs;
    ProtobufCMessage *resp = NULL;
    int rc = st__unary(c, REGISTRY "ImportRoll", &req.base,
                       &strata__v1__import_roll_response__descriptor, true, &resp, err);
    free(ptrs);
    free(msgs);
    if (rc == ST_OK) {
        const Strata__V1__ImportRollResponse *r = (const Strata__V1__ImportRollResponse *)resp;
        if (out != NULL) {
            out->roll_version = r->roll_version;
            out->unit_count = r->unit_count;
            out->total_area = r->total_area;
            out->total_owners = r->total_owners;
        }
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return rc;
}

int st_import_units(st_client *c, uint64_t community_id, const st_unit *units, size_t n,
                    st_import_result *out, st_error *err) {
    if (n == 0) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "the roll has no units");
    }
    /* The units are checked as a roll would check them before anything is sent. */
    st_roll *check = NULL;
    char msg[512];
    int rc = st_roll_new(&check);
    if (rc != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, rc, "out of memory");
    }
    for (size_t i = 0; i < n && rc == ST_OK; i++) {
        rc = st_roll_add_unit(check, &units[i], msg, sizeof(msg));
    }
    if (rc == ST_OK) {
        rc = st_roll_seal(check, msg, sizeof(msg));
    }
    st_roll_free(check);
    if (rc != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, rc, "the roll is refused before sending: %s", msg);
    }
    return import_units(c, community_id, units, n, out, err);
}

int st_import_roll(st_client *c, uint64_t community_id, const st_roll *roll, st_import_result *out,
                   st_error *err) {
    if (roll == NULL || !st_roll_sealed(roll)) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "the roll must be sealed before import");
    }
    size_t n = st_roll_unit_count(roll);
    st_unit *units = calloc(n > 0 ? n : 1, sizeof(*units));
    if (units == NULL) {
        return st__fail(err, ST_FAIL_LOCAL, ST_ENOMEM, "out of memory for %zu units", n);
    }
    for (size_t i = 0; i < n; i++) {
        units[i] = *st_roll_unit(roll, i);
    }
    int rc = import_units(c, community_id, units, n, out, err);
    free(units);
    return rc;
}

int st_list_units(st_client *c, uint64_t community_id, Strata__V1__ListUnitsResponse **out,
                  st_error *err) {
    Strata__V1__ListUnitsRequest req = STRATA__V1__LIST_UNITS_REQUEST__INIT;
    req.community_id = community_id;
    return st__unary(c, REGISTRY "ListUnits", &req.base,
                     &strata__v1__list_units_response__descriptor, false, (ProtobufCMessage **)out,
                     err);
}
