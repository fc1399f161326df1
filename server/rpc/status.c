/* status.c - how outcomes become gRPC statuses: st_ codes (server/codes.h for the state
 * machine's refusals, plus the node's own codes), the leader hint for `strata-leader`,
 * and the leader's clock for command stamps. */
#include <time.h>

#include "core/error.h"
#include "server/codes.h"
#include "server/rpc/internal.h"

grpc_status_code st_rpc_status_of(int st_code) {
    switch (st_code) {
    case ST_ENOTLEADER: /* ask the leader */
    case ST_EUNKNOWN:   /* leadership lost mid-write: retry with the same request id */
    case ST_ESHUTDOWN:  /* this node is stopping: another will answer */
    case ST_EBUSY:      /* too much queued: retry later */
        return GRPC_STATUS_UNAVAILABLE;
    default:
        return (grpc_status_code)st_code_grpc(st_code);
    }
}

bool st_rpc_leader_hint(st_rpc *r, char *out, size_t cap, bool *self) {
    st_node_status s;
    st_node_get_status(r->cfg.node, &s);
    *self = s.leader_id != 0 && s.leader_id == s.id;
    if (s.leader_id == 0) {
        if (cap > 0) {
            out[0] = '\0';
        }
        return false;
    }
    return st_roster_grpc(r->cfg.roster, s.leader_id, out, cap);
}

bool st_rpc_is_leader(st_rpc *r) {
    st_node_status s;
    st_node_get_status(r->cfg.node, &s);
    return s.role == ST_ROLE_LEADER;
}

uint64_t st_rpc_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
