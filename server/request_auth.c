/* request_auth.c - replay protection for signed requests: the (key id, nonce) pairs of
 * authenticated commands, kept while their timestamp is inside the ±5-minute window.
 *
 * The gRPC layer verifies the request envelope (crypto/request.h) and copies its key id,
 * timestamp and nonce into the Command. Apply then decides deterministically, from the
 * command and the stored state only: the timestamp must be within five minutes of the
 * command's time_ms (stamped by the leader) and not more than five minutes older than the
 * newest time_ms of any authenticated command so far (so a leader with a slow clock cannot
 * reopen the window behind pruned nonces); the pair must not be recorded. The pair is then
 * recorded, in the same transaction as the command's outcome (also a refusal), and pairs
 * whose timestamp is older than newest - 5 minutes are pruned through a time index:
 *   request_nonces: key id ‖ nonce -> timestamp   (lookup)
 *   nonce_times:    timestamp ‖ key id ‖ nonce -> empty   (pruning, oldest first)
 */
#include <string.h>

#include "core/error.h"
#include "server/apply.h"
#include "server/codes.h"

#define W ST_AUTH_WINDOW_MS

/* The window rule shared by apply and the read. */
static bool in_window(uint64_t ts, uint64_t now, uint64_t newest, const char **why) {
    uint64_t ref = now > newest ? now : newest;
    if (ts > now && ts - now > W) {
        *why = "is more than five minutes ahead of the cluster's time";
        return false;
    }
    if (ts < ref && ref - ts > W) {
        *why = "is more than five minutes old";
        return false;
    }
    return true;
}

static st_key pair_key(const uint8_t key_id[16], const uint8_t nonce[16]) {
    st_key k = {.n = 32};
    memcpy(k.b, key_id, 16);
    memcpy(k.b + 16, nonce, 16);
    return k;
}

int st_auth_check(st_apply_ctx *c, bool *present) {
    const pb_command *cmd = c->cmd;
    *present = false;
    if (cmd->auth_key_id.len == 0 && cmd->auth_nonce.len == 0 && cmd->auth_time_ms == 0) {
        return 0; /* no request authentication carried */
    }
    if (cmd->auth_key_id.len != 16 || cmd->auth_nonce.len != 16) {
        return st_refuse(c, ST_EINVAL,
                         "request authentication needs auth_key_id and auth_nonce of 16 bytes "
                         "each (got %zu and %zu), or none of the auth fields",
                         cmd->auth_key_id.len, cmd->auth_nonce.len);
    }
    uint8_t actor[16];
    if (!st_parse_key_hex(cmd->actor, actor) || memcmp(actor, cmd->auth_key_id.data, 16) != 0) {
        return st_refuse(c, ST_EAUTH,
                         "the request was signed by another key than the actor's; the actor is "
                         "the signing key's id");
    }
    uint64_t newest;
    int rc = st_meta_get(c->txn, c->store, ST_META_AUTH_NEWEST, &newest);
    if (rc != 0) {
        return rc;
    }
    const char *why = NULL;
    if (!in_window(cmd->auth_time_ms, cmd->time_ms, newest, &why)) {
        char ts[32];
        st_format_time(cmd->auth_time_ms, ts, sizeof(ts));
        return st_refuse(c, ST_EAUTH,
                         "the signed request's timestamp %s %s; check the device clock and sign "
                         "the request again",
                         ts, why);
    }
    st_key k = pair_key(cmd->auth_key_id.data, cmd->auth_nonce.data);
    MDB_val kv = st_key_val(&k), v;
    rc = mdb_get(c->txn, st_dbi(c, ST_DB_REQUEST_NONCES), &kv, &v);
    if (rc == 0) {
        return st_refuse(c, ST_EAUTH,
                         "the signed request was replayed (its nonce was seen); sign every "
                         "request with a fresh nonce");
    }
    if (rc != MDB_NOTFOUND) {
        return rc;
    }
    *present = true;
    return 0;
}

/* Deletes the pairs whose timestamp is below cutoff, oldest first. */
static int prune(MDB_txn *txn, const st_store *st, uint64_t cutoff) {
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st_store_dbi(st, ST_DB_NONCE_TIMES), &cur);
    if (rc != 0) {
        return rc;
    }
    MDB_dbi pairs = st_store_dbi(st, ST_DB_REQUEST_NONCES);
    MDB_val k, v;
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
        if (k.mv_size != 40) {
            rc = ST_ECORRUPT;
            break;
        }
        const uint8_t *p = k.mv_data;
        if (st_get_be64(p) >= cutoff) {
            break;
        }
        MDB_val pk = {32, (void *)(p + 8)};
        rc = mdb_del(txn, pairs, &pk, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND) {
            break;
        }
        rc = mdb_cursor_del(cur, 0);
        if (rc != 0) {
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int st_auth_record(MDB_txn *txn, const st_store *st, const pb_command *cmd) {
    uint64_t newest;
    int rc = st_meta_get(txn, st, ST_META_AUTH_NEWEST, &newest);
    if (rc != 0) {
        return rc;
    }
    if (cmd->time_ms > newest) {
        newest = cmd->time_ms;
        if ((rc = st_meta_put(txn, st, ST_META_AUTH_NEWEST, newest)) != 0) {
            return rc;
        }
    }
    uint8_t ts[8];
    st_put_be64(ts, cmd->auth_time_ms);
    st_key pk = pair_key(cmd->auth_key_id.data, cmd->auth_nonce.data);
    MDB_val kv = st_key_val(&pk), tv = {8, ts};
    rc = mdb_put(txn, st_store_dbi(st, ST_DB_REQUEST_NONCES), &kv, &tv, 0);
    if (rc != 0) {
        return rc;
    }
    st_key tk = {.n = 40};
    memcpy(tk.b, ts, 8);
    memcpy(tk.b + 8, pk.b, 32);
    MDB_val tkv = st_key_val(&tk), empty = {0, NULL};
    rc = mdb_put(txn, st_store_dbi(st, ST_DB_NONCE_TIMES), &tkv, &empty, 0);
    if (rc != 0) {
        return rc;
    }
    return prune(txn, st, newest > W ? newest - W : 0);
}

/* ---- reads ---- */

int st_state_request_seen(st_state *s, const uint8_t key_id[ST_KEY_ID_LEN], const uint8_t nonce[16],
                          bool *seen) {
    st_store *st = st_state_store(s);
    MDB_txn *txn;
    *seen = false;
    int rc = st_store_txn_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    st_key k = pair_key(key_id, nonce);
    MDB_val kv = st_key_val(&k), v;
    rc = mdb_get(txn, st_store_dbi(st, ST_DB_REQUEST_NONCES), &kv, &v);
    if (rc == 0) {
        *seen = true;
    }
    st_store_txn_end(st, txn, false);
    return st_code_from_mdb(rc == MDB_NOTFOUND ? 0 : rc);
}

int st_state_check_request(st_state *s, const uint8_t key_id[ST_KEY_ID_LEN],
                           const uint8_t nonce[16], uint64_t timestamp_ms, uint64_t now_ms) {
    st_store *st = st_state_store(s);
    MDB_txn *txn;
    int rc = st_store_txn_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    uint64_t newest = 0;
    bool seen = false;
    rc = st_meta_get(txn, st, ST_META_AUTH_NEWEST, &newest);
    if (rc == 0) {
        st_key k = pair_key(key_id, nonce);
        MDB_val kv = st_key_val(&k), v;
        rc = mdb_get(txn, st_store_dbi(st, ST_DB_REQUEST_NONCES), &kv, &v);
        seen = rc == 0;
        rc = rc == MDB_NOTFOUND ? 0 : rc;
    }
    st_store_txn_end(st, txn, false);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    const char *why = NULL;
    return seen || !in_window(timestamp_ms, now_ms, newest, &why) ? ST_EAUTH : ST_OK;
}
