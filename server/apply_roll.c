/* apply_roll.c - ImportRoll: replaces a community's current roll, all or nothing.
 *
 * Every unit goes through core's st_roll (the single authority on what a valid roll is
 * and how units group into voters); only when the whole roll seals are the old units
 * deleted and the new ones written, from the roll's own copies, so what is stored is
 * canonical whatever extra bytes the command carried, with the index of its owners
 * (roll_owners, for enrollment and proxies). The roll version increments.
 * Votes already open keep the roll they froze (apply_vote.c).
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/ratio.h"
#include "server/apply.h"

/* Deletes every key of the database that starts with be64(prefix). */
static int delete_prefix(MDB_txn *txn, MDB_dbi dbi, uint64_t prefix) {
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        return rc;
    }
    st_key start = st_key_u64(prefix);
    for (;;) {
        MDB_val k = st_key_val(&start), v;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            break;
        }
        if (rc != 0) {
            break;
        }
        if (k.mv_size < 8 || memcmp(k.mv_data, start.b, 8) != 0) {
            break;
        }
        rc = mdb_cursor_del(cur, 0);
        if (rc != 0) {
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc;
}

/* Writes the sealed roll as the community's units, position by position. */
static int write_units(MDB_txn *txn, MDB_dbi dbi, uint64_t community, const st_roll *roll) {
    size_t n = st_roll_unit_count(roll);
    for (size_t i = 0; i < n; i++) {
        const st_unit *u = st_roll_unit(roll, i);
        pb_unit m = STRATA__INTERNAL__UNIT__INIT;
        m.unit = (char *)u->unit;
        m.building = (char *)u->building;
        m.area_centi_m2 = u->area;
        m.owner_id = (char *)u->owner_id;
        m.owner_name = (char *)u->owner_name;
        m.status = (Strata__Internal__UnitStatus)u->status;
        st_key k = st_key_id_pos(community, (uint32_t)i);
        int rc = st_msg_put(txn, dbi, &k, &m.base);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* Writes the owner index of the sealed roll (one key per voter). */
static int write_owners(MDB_txn *txn, MDB_dbi dbi, uint64_t community, const st_roll *roll) {
    size_t n = st_roll_voter_count(roll);
    MDB_val empty = {0, NULL};
    for (size_t i = 0; i < n; i++) {
        st_key k = st_key_id_str(community, st_roll_voter(roll, i)->owner_id);
        MDB_val kv = st_key_val(&k);
        int rc = mdb_put(txn, dbi, &kv, &empty, 0);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int st_apply_import_roll(st_apply_ctx *c) {
    const Strata__Internal__ImportRoll *b = c->cmd->import_roll;
    pb_community *com;
    int rc = st_load_community(c->txn, c->store, b->community_id, &com);
    if (rc == MDB_NOTFOUND) {
        return st_refuse(c, ST_ENOENT,
                         "community %llu does not exist; create it first or check the id",
                         (unsigned long long)b->community_id);
    }
    if (rc != 0) {
        return rc;
    }
    if (!st_actor_organises(c, b->community_id)) {
        st_pb_free(com);
        return st_refuse_not_organiser(c, b->community_id);
    }
    if (b->n_units == 0) {
        st_pb_free(com);
        return st_refuse(c, ST_EINVAL, "the roll has no units; a roll lists every exclusive part");
    }
    if (b->n_units > ST_ROLL_UNITS_MAX) {
        st_pb_free(com);
        return st_refuse(c, ST_ERANGE, "the roll has %zu units; a roll holds at most %d",
                         b->n_units, ST_ROLL_UNITS_MAX);
    }

    st_roll *roll;
    if (st_roll_new(&roll) != ST_OK) {
        st_pb_free(com);
        return ST_ENOMEM;
    }
    char err[ST_MESSAGE_MAX - 64];
    for (size_t i = 0; i < b->n_units; i++) {
        const pb_unit *pu = b->units[i];
        st_unit u = {
            .unit = pu->unit,
            .building = pu->building,
            .area = pu->area_centi_m2,
            .owner_id = pu->owner_id,
            .owner_name = pu->owner_name,
            .status = (st_unit_status)pu->status, /* same numbers; others are refused */
        };
        rc = st_roll_add_unit(roll, &u, err, sizeof(err));
        if (rc == ST_ENOMEM) {
            st_roll_free(roll);
            st_pb_free(com);
            return ST_ENOMEM;
        }
        if (rc != ST_OK) {
            st_roll_free(roll);
            st_pb_free(com);
            return st_refuse(c, rc, "roll not imported, nothing changed: entry %zu: %s", i + 1,
                             err);
        }
    }
    rc = st_roll_seal(roll, err, sizeof(err));
    if (rc != ST_OK) {
        st_roll_free(roll);
        st_pb_free(com);
        return rc == ST_ENOMEM ? ST_ENOMEM : st_refuse(c, rc, "roll not imported: %s", err);
    }

    MDB_dbi units = st_dbi(c, ST_DB_UNITS);
    rc = delete_prefix(c->txn, units, b->community_id);
    if (rc == 0) {
        rc = write_units(c->txn, units, b->community_id, roll);
    }
    MDB_dbi owners = st_dbi(c, ST_DB_ROLL_OWNERS);
    if (rc == 0) {
        rc = delete_prefix(c->txn, owners, b->community_id);
    }
    if (rc == 0) {
        rc = write_owners(c->txn, owners, b->community_id, roll);
    }
    if (rc == 0) {
        com->roll_version++;
        com->unit_count = st_roll_unit_count(roll);
        com->total_area = st_roll_total_area(roll);
        com->total_owners = st_roll_total_owners(roll);
        com->roll_imported_ms = c->cmd->time_ms;
        st_key ck = st_key_u64(com->id);
        rc = st_msg_put(c->txn, st_dbi(c, ST_DB_COMMUNITIES), &ck, &com->base);
    }
    if (rc == 0) {
        char area[32];
        st_accept(c, com->roll_version, "roll.import", com->id, 0,
                  "imported roll version %llu of community %llu: %llu units, %s m2, %lld owners",
                  (unsigned long long)com->roll_version, (unsigned long long)com->id,
                  (unsigned long long)com->unit_count,
                  st_area_str(com->total_area, area, sizeof(area)), (long long)com->total_owners);
    }
    st_roll_free(roll);
    st_pb_free(com);
    return rc;
}
