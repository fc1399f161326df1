/* apply_roster.c - the cluster roster in replicated state: SetMember adds a node or
 * updates its addresses and key, RemoveMember removes it (operators only). Node keys sign
 * tree heads and receipts; keeping them here lets every node and auditor know which key was
 * trusted when. A key is trusted from when it was set until the node is removed or its key
 * replaced; earlier keys stay listed (retired_keys) with the interval they were trusted for,
 * so old tree heads still verify and a removed node cannot sign new ones that verify.
 * This is the roster of keys and addresses; Raft membership itself is consensus/'s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "crypto/text.h"
#include "server/apply.h"

static int load_member(MDB_txn *txn, const st_store *st, uint64_t id, pb_member **out) {
    st_key k = st_key_u64(id);
    return st_msg_get(txn, st_store_dbi(st, ST_DB_MEMBERS), &k,
                      &strata__internal__member_record__descriptor, (ProtobufCMessage **)out);
}

static int put_member(st_apply_ctx *c, const pb_member *m) {
    st_key k = st_key_u64(m->node_id);
    return st_msg_put(c->txn, st_dbi(c, ST_DB_MEMBERS), &k, &m->base);
}

static bool address_ok(const char *a) {
    size_t n = strlen(a);
    return n >= 3 && n <= ST_ADDRESS_MAX && st_text_ok(a) && strchr(a, ' ') == NULL &&
           strchr(a, ':') != NULL;
}

/* 0 with no refusal unless another node holds (or held) the key: then EEXIST. */
static int key_unused(st_apply_ctx *c, uint64_t node, const uint8_t pk[32]) {
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, st_dbi(c, ST_DB_MEMBERS), &cur);
    if (rc != 0) {
        return rc;
    }
    MDB_val k, v;
    uint64_t other = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && other == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        pb_member *m;
        if ((rc = st_msg_decode(&v, &strata__internal__member_record__descriptor,
                                (ProtobufCMessage **)&m)) != 0) {
            break;
        }
        bool used = m->public_key.len == 32 && memcmp(m->public_key.data, pk, 32) == 0;
        for (size_t i = 0; i < m->n_retired_keys && !used; i++) {
            used = m->retired_keys[i]->public_key.len == 32 &&
                   memcmp(m->retired_keys[i]->public_key.data, pk, 32) == 0;
        }
        if (used && m->node_id != node) {
            other = m->node_id;
        }
        st_pb_free(m);
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }
    if (other != 0) {
        return st_refuse(c, ST_EEXIST,
                         "node %llu holds (or held) this public key; every node signs with a key "
                         "of its own",
                         (unsigned long long)other);
    }
    return 0;
}

/* Writes m, with one more retired key when extra is not NULL. */
static int put_with_retired(st_apply_ctx *c, pb_member *m,
                            Strata__Internal__RetiredNodeKey *extra) {
    if (extra == NULL) {
        return put_member(c, m);
    }
    Strata__Internal__RetiredNodeKey **list = malloc((m->n_retired_keys + 1) * sizeof(*list));
    if (list == NULL) {
        return ST_ENOMEM;
    }
    if (m->n_retired_keys > 0) {
        memcpy(list, m->retired_keys, m->n_retired_keys * sizeof(*list));
    }
    list[m->n_retired_keys] = extra;
    Strata__Internal__RetiredNodeKey **old = m->retired_keys;
    size_t n = m->n_retired_keys;
    m->retired_keys = list;
    m->n_retired_keys = n + 1;
    int rc = put_member(c, m);
    m->retired_keys = old;
    m->n_retired_keys = n;
    free(list);
    return rc;
}

/* Updates a member already in the roster (m, loaded) from b; *what says how. */
static int update_member(st_apply_ctx *c, const Strata__Internal__SetMember *b, pb_member *m,
                         const char **what) {
    uint64_t now = c->cmd->time_ms;
    Strata__Internal__RetiredNodeKey r = STRATA__INTERNAL__RETIRED_NODE_KEY__INIT, *extra = NULL;
    char *old_raft = m->raft_address, *old_grpc = m->grpc_address, *old_by = m->updated_by;
    ProtobufCBinaryData old_pk = m->public_key;
    bool same_key =
        m->public_key.len == 32 && memcmp(m->public_key.data, b->public_key.data, 32) == 0;
    if (m->removed_ms != 0) {
        *what = "re-added"; /* its old key was retired when it was removed */
        m->removed_ms = 0;
        m->added_ms = now;
        m->key_since_ms = now;
    } else if (!same_key) {
        *what = "re-keyed";
        r.public_key = m->public_key;
        r.from_ms = m->key_since_ms;
        r.until_ms = now;
        extra = &r;
        m->key_since_ms = now;
    } else {
        *what = "updated";
    }
    m->public_key = b->public_key;
    m->raft_address = b->raft_address;
    m->grpc_address = b->grpc_address;
    m->updated_ms = now;
    m->updated_by = c->cmd->actor;
    int rc = put_with_retired(c, m, extra);
    m->raft_address = old_raft; /* the command's: not for free_unpacked */
    m->grpc_address = old_grpc;
    m->updated_by = old_by;
    m->public_key = old_pk;
    return rc;
}

int st_apply_set_member(st_apply_ctx *c) {
    const Strata__Internal__SetMember *b = c->cmd->set_member;
    if (b->node_id == 0) {
        return st_refuse(c, ST_EINVAL, "node_id must be 1 or more");
    }
    if (!address_ok(b->raft_address) || !address_ok(b->grpc_address)) {
        return st_refuse(c, ST_EINVAL,
                         "raft_address and grpc_address must be host:port, 3 to %d bytes without "
                         "spaces",
                         ST_ADDRESS_MAX);
    }
    if (!st_public_key_ok(&b->public_key)) {
        return st_refuse(c, ST_EINVAL,
                         "public_key must be the node's Ed25519 public key (32 bytes, a valid "
                         "point)");
    }
    int rc = key_unused(c, b->node_id, b->public_key.data);
    if (rc != 0 || c->res->code != ST_OK) {
        return rc;
    }
    pb_member *m = NULL;
    rc = load_member(c->txn, c->store, b->node_id, &m);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }
    const char *what = "added";
    if (m == NULL) {
        pb_member fresh = STRATA__INTERNAL__MEMBER_RECORD__INIT;
        fresh.node_id = b->node_id;
        fresh.raft_address = b->raft_address;
        fresh.grpc_address = b->grpc_address;
        fresh.public_key = b->public_key;
        fresh.added_ms = fresh.key_since_ms = fresh.updated_ms = c->cmd->time_ms;
        fresh.updated_by = c->cmd->actor;
        rc = put_member(c, &fresh);
    } else {
        rc = update_member(c, b, m, &what);
        st_pb_free(m);
    }
    if (rc == 0) {
        char hex[ST_KEY_ID_HEX_LEN + 1];
        st_key_id_hex(hex, b->public_key.data);
        st_accept(c, b->node_id, "member.set", 0, 0, "%s node %llu (raft %s, grpc %s, key %s)",
                  what, (unsigned long long)b->node_id, b->raft_address, b->grpc_address, hex);
    }
    return rc;
}

int st_apply_remove_member(st_apply_ctx *c) {
    uint64_t id = c->cmd->remove_member->node_id;
    pb_member *m;
    int rc = load_member(c->txn, c->store, id, &m);
    if (rc == MDB_NOTFOUND) {
        return st_refuse(c, ST_ENOENT, "node %llu is not in the roster", (unsigned long long)id);
    }
    if (rc != 0) {
        return rc;
    }
    if (m->removed_ms != 0) {
        char at[32];
        st_format_time(m->removed_ms, at, sizeof(at));
        rc = st_refuse(c, ST_ESTATE, "node %llu was removed already, at %s", (unsigned long long)id,
                       at);
    } else {
        m->removed_ms = c->cmd->time_ms;
        m->updated_ms = c->cmd->time_ms;
        char *old_by = m->updated_by;
        m->updated_by = c->cmd->actor;
        Strata__Internal__RetiredNodeKey r = STRATA__INTERNAL__RETIRED_NODE_KEY__INIT;
        r.public_key = m->public_key;
        r.from_ms = m->key_since_ms;
        r.until_ms = c->cmd->time_ms;
        rc = put_with_retired(c, m, &r);
        m->updated_by = old_by;
        if (rc == 0) {
            st_accept(c, id, "member.remove", 0, 0,
                      "removed node %llu; its key is not trusted for tree heads from now",
                      (unsigned long long)id);
        }
    }
    st_pb_free(m);
    return rc;
}
