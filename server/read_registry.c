/* read_registry.c - reads of the key registry, enrollment codes, proxy authorisations and
 * the cluster roster. Each runs in its own LMDB read transaction (any thread, concurrently
 * with apply) and hands out plain values or borrowed pointers valid during a callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "crypto/text.h"
#include "server/apply.h"
#include "server/codes.h"
#include "server/state.h"

static void copy_str(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

static void fill_key(const pb_keyrec *k, st_key_info *out) {
    memset(out, 0, sizeof(*out));
    if (k->key_id.len == 16) {
        memcpy(out->key_id, k->key_id.data, 16);
        st_hex_encode(out->key_id_hex, k->key_id.data, 16);
    }
    if (k->public_key.len == 32) {
        memcpy(out->public_key, k->public_key.data, 32);
    }
    out->role = (st_role)k->role;
    out->community_id = k->community_id;
    copy_str(out->owner_id, sizeof(out->owner_id), k->owner_id);
    copy_str(out->label, sizeof(out->label), k->label);
    out->seq = k->seq;
    out->registered_ms = k->registered_ms;
    out->registered_index = k->registered_index;
    copy_str(out->registered_by, sizeof(out->registered_by), k->registered_by);
    out->active = !k->revoked;
    out->revoked_ms = k->revoked_ms;
    copy_str(out->revoked_by, sizeof(out->revoked_by), k->revoked_by);
    copy_str(out->revoke_cosigner, sizeof(out->revoke_cosigner), k->revoke_cosigner);
    copy_str(out->revoke_reason, sizeof(out->revoke_reason), k->revoke_reason);
}

static int begin(st_state *s, st_store **st, MDB_txn **txn) {
    *st = st_state_store(s);
    return st_store_txn_begin(*st, MDB_RDONLY, txn);
}

static int end(st_store *st, MDB_txn *txn, int rc) {
    st_store_txn_end(st, txn, false);
    return st_code_from_mdb(rc);
}

/* ---- keys ---- */

int st_state_get_key(st_state *s, const uint8_t key_id[ST_KEY_ID_LEN], st_key_info *out) {
    st_store *st;
    MDB_txn *txn;
    int rc = begin(s, &st, &txn);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    pb_keyrec *k;
    rc = st_load_key(txn, st, key_id, &k);
    if (rc == 0) {
        fill_key(k, out);
        st_pb_free(k);
    }
    return end(st, txn, rc);
}

int st_state_get_key_hex(st_state *s, const char *key_id_hex, st_key_info *out) {
    uint8_t id[16];
    if (key_id_hex == NULL ||
        st_hex_decode(id, 16, key_id_hex, strlen(key_id_hex), NULL, 0) != ST_OK) {
        return ST_ENOENT;
    }
    return st_state_get_key(s, id, out);
}

int st_state_list_keys(st_state *s, int (*fn)(void *ctx, const st_key_info *k), void *ctx) {
    st_store *st;
    MDB_txn *txn;
    int rc = begin(s, &st, &txn);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    st_key_info *info = malloc(sizeof(*info));
    MDB_cursor *cur = NULL;
    rc = info != NULL ? mdb_cursor_open(txn, st_store_dbi(st, ST_DB_KEYS), &cur) : ST_ENOMEM;
    MDB_val k, v;
    for (int crc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : MDB_NOTFOUND; crc == 0;
         crc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        pb_keyrec *rec;
        if ((rc = st_msg_decode(&v, &strata__internal__key_record__descriptor,
                                (ProtobufCMessage **)&rec)) != 0) {
            break;
        }
        fill_key(rec, info);
        st_pb_free(rec);
        if (fn(ctx, info) != 0) {
            break;
        }
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    free(info);
    return end(st, txn, rc);
}

int st_state_owner_keys(st_state *s, uint64_t community_id, const char *owner_id,
                        int (*fn)(void *ctx, const st_key_info *k), void *ctx) {
    if (!st_id_ok(owner_id)) {
        return ST_ENOENT;
    }
    st_store *st;
    MDB_txn *txn;
    int rc = begin(s, &st, &txn);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    st_key ok = st_key_id_str(community_id, owner_id);
    pb_owner *o;
    rc = st_msg_get(txn, st_store_dbi(st, ST_DB_OWNER_KEYS), &ok,
                    &strata__internal__owner_record__descriptor, (ProtobufCMessage **)&o);
    if (rc == 0 && o->n_key_ids == 0) {
        st_pb_free(o); /* a code issued, none redeemed yet */
        rc = MDB_NOTFOUND;
    }
    if (rc != 0) {
        return end(st, txn, rc);
    }
    st_key_info *info = malloc(sizeof(*info));
    rc = info != NULL ? 0 : ST_ENOMEM;
    for (size_t i = 0; rc == 0 && i < o->n_key_ids; i++) {
        pb_keyrec *k;
        if (o->key_ids[i].len != 16) {
            rc = ST_ECORRUPT;
            break;
        }
        rc = st_load_key(txn, st, o->key_ids[i].data, &k);
        if (rc != 0) {
            rc = rc == MDB_NOTFOUND ? ST_ECORRUPT : rc;
            break;
        }
        fill_key(k, info);
        st_pb_free(k);
        if (fn(ctx, info) != 0) {
            break;
        }
    }
    free(info);
    st_pb_free(o);
    return end(st, txn, rc);
}

int st_state_key_count(st_state *s, uint64_t *out) {
    st_store *st;
    MDB_txn *txn;
    *out = 0;
    int rc = begin(s, &st, &txn);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    rc = st_meta_get(txn, st, ST_META_LAST_KEY, out);
    return end(st, txn, rc);
}

/* ---- enrollment codes ---- */

int st_state_get_enrollment(st_state *s, const uint8_t code_key_id[ST_KEY_ID_LEN],
                            st_enrollment_info *out) {
    st_store *st;
    MDB_txn *txn;
    int rc = begin(s, &st, &txn);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    st_key k = st_key_bytes(code_key_id, 16);
    pb_enroll *e;
    rc = st_msg_get(txn, st_store_dbi(st, ST_DB_ENROLLMENTS), &k,
                    &strata__internal__enrollment_record__descriptor, (ProtobufCMessage **)&e);
    if (rc == 0) {
        memset(out, 0, sizeof(*out));
        memcpy(out->code_key_id, code_key_id, 16);
        if (e->code_public_key.len == 32) {
            memcpy(out->code_public_key, e->code_public_key.data, 32);
        }
        out->community_id = e->community_id;
        out->seq = e->seq;
        out->issued_ms = e->issued_ms;
        out->expires_ms = e->expires_ms;
        out->closed_ms = e->closed_ms;
        copy_str(out->owner_id, sizeof(out->owner_id), e->owner_id);
        copy_str(out->issued_by, sizeof(out->issued_by), e->issued_by);
        out->state = (st_enroll_state)e->state;
        if (e->redeemed_key_id.len == 16) {
            memcpy(out->redeemed_key_id, e->redeemed_key_id.data, 16);
        }
        st_pb_free(e);
    }
    return end(st, txn, rc);
}

/* ---- proxies ---- */

int st_state_list_proxies(st_state *s, uint64_t vote_id,
                          int (*fn)(void *ctx, const st_proxy_info *p), void *ctx) {
    st_store *st;
    MDB_txn *txn;
    int rc = begin(s, &st, &txn);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    pb_vote *vote;
    rc = st_load_vote(txn, st, vote_id, &vote);
    if (rc != 0) {
        return end(st, txn, rc);
    }
    st_pb_free(vote);
    MDB_cursor *cur;
    rc = mdb_cursor_open(txn, st_store_dbi(st, ST_DB_PROXIES), &cur);
    if (rc != 0) {
        return end(st, txn, rc);
    }
    st_key from = st_key_u64(vote_id);
    MDB_val k = st_key_val(&from), v;
    int crc;
    for (crc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); crc == 0;
         crc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < 8 || memcmp(k.mv_data, from.b, 8) != 0) {
            break;
        }
        pb_proxy *p;
        if ((rc = st_msg_decode(&v, &strata__internal__proxy_record__descriptor,
                                (ProtobufCMessage **)&p)) != 0) {
            break;
        }
        st_proxy_info info = {p->vote_id,
                              p->time_ms,
                              p->index,
                              p->principal_owner_id,
                              p->proxy_owner_id,
                              p->authorised_by,
                              p->document_sha256.data};
        int stop = fn(ctx, &info);
        st_pb_free(p);
        if (stop != 0) {
            break;
        }
    }
    mdb_cursor_close(cur);
    return end(st, txn, rc);
}

/* ---- the roster ---- */

static void fill_member(const pb_member *m, st_member_info *out) {
    memset(out, 0, sizeof(*out));
    out->node_id = m->node_id;
    copy_str(out->raft_address, sizeof(out->raft_address), m->raft_address);
    copy_str(out->grpc_address, sizeof(out->grpc_address), m->grpc_address);
    if (m->public_key.len == 32) {
        memcpy(out->public_key, m->public_key.data, 32);
    }
    out->member = m->removed_ms == 0;
    out->added_ms = m->added_ms;
    out->removed_ms = m->removed_ms;
    out->updated_ms = m->updated_ms;
    out->key_since_ms = m->key_since_ms;
    out->retired_key_count = m->n_retired_keys;
}

int st_state_get_member(st_state *s, uint64_t node_id, st_member_info *out) {
    st_store *st;
    MDB_txn *txn;
    int rc = begin(s, &st, &txn);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    st_key k = st_key_u64(node_id);
    pb_member *m;
    rc = st_msg_get(txn, st_store_dbi(st, ST_DB_MEMBERS), &k,
                    &strata__internal__member_record__descriptor, (ProtobufCMessage **)&m);
    if (rc == 0) {
        fill_member(m, out);
        st_pb_free(m);
    }
    return end(st, txn, rc);
}

int st_state_list_members(st_state *s, int (*fn)(void *ctx, const st_member_info *m), void *ctx) {
    st_store *st;
    MDB_txn *txn;
    int rc = begin(s, &st, &txn);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    st_member_info *info = malloc(sizeof(*info));
    MDB_cursor *cur = NULL;
    rc = info != NULL ? mdb_cursor_open(txn, st_store_dbi(st, ST_DB_MEMBERS), &cur) : ST_ENOMEM;
    MDB_val k, v;
    for (int crc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : MDB_NOTFOUND; crc == 0;
         crc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        pb_member *m;
        if ((rc = st_msg_decode(&v, &strata__internal__member_record__descriptor,
                                (ProtobufCMessage **)&m)) != 0) {
            break;
        }
        fill_member(m, info);
        st_pb_free(m);
        if (fn(ctx, info) != 0) {
            break;
        }
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    free(info);
    return end(st, txn, rc);
}

int st_members_trusted(MDB_txn *txn, const st_store *st, uint64_t node_id, uint64_t ts,
                       st_trusted_key *keys, size_t cap, size_t *n) {
    *n = 0;
    st_key k = st_key_u64(node_id);
    pb_member *m;
    int rc = st_msg_get(txn, st_store_dbi(st, ST_DB_MEMBERS), &k,
                        &strata__internal__member_record__descriptor, (ProtobufCMessage **)&m);
    if (rc != 0) {
        return rc;
    }
    if (m->removed_ms == 0 && ts >= m->key_since_ms && m->public_key.len == 32 && *n < cap) {
        keys[*n].node_id = node_id;
        memcpy(keys[*n].pubkey, m->public_key.data, 32);
        (*n)++;
    }
    for (size_t i = 0; i < m->n_retired_keys; i++) {
        const Strata__Internal__RetiredNodeKey *r = m->retired_keys[i];
        if (ts >= r->from_ms && ts < r->until_ms && r->public_key.len == 32 && *n < cap) {
            keys[*n].node_id = node_id;
            memcpy(keys[*n].pubkey, r->public_key.data, 32);
            (*n)++;
        }
    }
    st_pb_free(m);
    return 0;
}
