/* apply_community.c - CreateCommunity: a new community with its notice policy. Ids come
 * from a counter in the meta database; (street, name) must be unique. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/error.h"
#include "server/apply.h"

/* Key of the name index: SHA-256(street ‖ 0 ‖ name); names may be longer than a key. */
static st_key name_key(const char *street, const char *name) {
    st_key k = {.n = 32};
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const uint8_t *)street, strlen(street) + 1);
    crypto_hash_sha256_update(&h, (const uint8_t *)name, strlen(name));
    crypto_hash_sha256_final(&h, k.b);
    return k;
}

int st_apply_create_community(st_apply_ctx *c) {
    const Strata__Internal__CreateCommunity *b = c->cmd->create_community;
    if (!st_text_ok(b->name)) {
        return st_refuse(c, ST_EINVAL,
                         "community name must be 1 to %d bytes of UTF-8 text without control "
                         "characters or surrounding spaces",
                         ST_NAME_MAX);
    }
    if (!st_text_ok(b->street)) {
        return st_refuse(c, ST_EINVAL,
                         "street (the street office the community belongs to) must be 1 to %d "
                         "bytes of UTF-8 text without control characters or surrounding spaces",
                         ST_NAME_MAX);
    }
    uint32_t min_notice = ST_NOTICE_DAYS_DEFAULT;
    if (b->min_notice_case == STRATA__INTERNAL__CREATE_COMMUNITY__MIN_NOTICE_MIN_NOTICE_DAYS) {
        min_notice = b->min_notice_days;
    }
    if (min_notice > ST_NOTICE_DAYS_MAX) {
        return st_refuse(c, ST_EINVAL,
                         "min_notice_days %u is out of range; give 0 to %d days (default %d)",
                         min_notice, ST_NOTICE_DAYS_MAX, ST_NOTICE_DAYS_DEFAULT);
    }

    uint32_t enroll_days = ST_ENROLL_DAYS_DEFAULT;
    if (b->enroll_code_case == STRATA__INTERNAL__CREATE_COMMUNITY__ENROLL_CODE_ENROLL_CODE_DAYS) {
        enroll_days = b->enroll_code_days;
    }
    if (enroll_days < 1 || enroll_days > ST_ENROLL_DAYS_MAX) {
        return st_refuse(c, ST_EINVAL,
                         "enroll_code_days %u is out of range; give 1 to %d days (default %d)",
                         enroll_days, ST_ENROLL_DAYS_MAX, ST_ENROLL_DAYS_DEFAULT);
    }

    st_key nk = name_key(b->street, b->name);
    MDB_val k = st_key_val(&nk), v;
    MDB_dbi names = st_dbi(c, ST_DB_COMMUNITY_NAMES);
    int rc = mdb_get(c->txn, names, &k, &v);
    if (rc == 0) {
        unsigned long long other = v.mv_size == 8 ? (unsigned long long)st_get_be64(v.mv_data) : 0;
        return st_refuse(c, ST_EEXIST,
                         "community \"%s\" of %s already exists as community %llu; use that id "
                         "or choose another name",
                         b->name, b->street, other);
    }
    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    uint64_t id;
    rc = st_meta_get(c->txn, c->store, ST_META_LAST_COMMUNITY, &id);
    if (rc != 0) {
        return rc;
    }
    id++;
    pb_community rec = STRATA__INTERNAL__COMMUNITY_RECORD__INIT;
    rec.id = id;
    rec.name = b->name;
    rec.street = b->street;
    rec.min_notice_days = min_notice;
    rec.enroll_code_days = enroll_days;
    rec.created_ms = c->cmd->time_ms;
    st_key ck = st_key_u64(id);
    uint8_t idb[8];
    st_put_be64(idb, id);
    MDB_val iv = {8, idb};
    if ((rc = st_msg_put(c->txn, st_dbi(c, ST_DB_COMMUNITIES), &ck, &rec.base)) != 0 ||
        (rc = mdb_put(c->txn, names, &k, &iv, 0)) != 0 ||
        (rc = st_meta_put(c->txn, c->store, ST_META_LAST_COMMUNITY, id)) != 0) {
        return rc;
    }
    return st_accept(c, id, "community.create", id, 0,
                     "created community %llu \"%s\" of %s; notice at least %u days",
                     (unsigned long long)id, b->name, b->street, min_notice);
}
