/* heads.c - what this node signs with its own key (server/node_key.h): tree heads of a
 * vote's log (crypto/sth.h, docs/FORMATS.md §6) and receipts for accepted ballots
 * (crypto/receipt.h, §7). The state machine knows nothing of node keys: it reports a
 * ballot's place in the log (st_apply_result) and the log's size and root
 * (st_state_log_head), and this file turns them into signed statements stamped with this
 * node's clock and id. */
#include <string.h>

#include "core/error.h"
#include "server/rpc/internal.h"

int st_rpc_sign_head(st_rpc *r, uint64_t vote_id, uint64_t tree_size, const uint8_t root[32],
                     st_sth *sth) {
    memset(sth, 0, sizeof(*sth));
    sth->vote_id = vote_id;
    sth->tree_size = tree_size;
    memcpy(sth->root, root, 32);
    sth->timestamp_ms = st_rpc_now_ms();
    sth->node_id = r->cfg.node_id;
    return st_sth_sign(sth, r->node_sk, NULL, 0);
}

int st_rpc_receipt(st_rpc *r, const st_apply_result *res, uint8_t out[ST_RECEIPT_LEN]) {
    if (!res->logged || res->leaf_index >= res->tree_size) {
        return ST_EINVAL;
    }
    st_receipt rc;
    memset(&rc, 0, sizeof(rc));
    memcpy(rc.leaf_hash, res->leaf_hash, 32);
    rc.leaf_index = res->leaf_index;
    int code = st_rpc_sign_head(r, res->log_vote_id, res->tree_size, res->root, &rc.sth);
    if (code == ST_OK) {
        code = st_receipt_sign(&rc, r->node_sk, NULL, 0);
    }
    if (code == ST_OK) {
        st_receipt_encode(&rc, out);
    }
    return code;
}
