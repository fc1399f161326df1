/* convert.h - the state's read results (server/state.h) as strata.v1 messages, with
 * personal names masked for public reads.
 *
 * Every function builds its message tree in the given arena (arena.h): nothing is owned
 * by the caller but the arena, and every string is copied, so the state's read results may
 * be freed right after. Each returns NULL when the arena is out of memory.
 */
#ifndef STRATA_SERVER_RPC_CONVERT_H
#define STRATA_SERVER_RPC_CONVERT_H

#include <stdbool.h>

#include "proto/strata/v1/audit.pb-c.h"
#include "proto/strata/v1/common.pb-c.h"
#include "proto/strata/v1/keys.pb-c.h"
#include "server/rpc/arena.h"
#include "server/state.h"

Strata__V1__Community *st_v1_community(st_arena *a, const st_community_info *c);
Strata__V1__Vote *st_v1_vote(st_arena *a, const st_vote_info *v);
Strata__V1__Ballot *st_v1_ballot(st_arena *a, const st_ballot_info *b);
/* mask: show the owner name as the public sees it (server/mask.h: 张三 -> 张*), except the
 * developer's, which is a company's and not personal data. */
Strata__V1__Unit *st_v1_unit(st_arena *a, const st_unit *u, bool mask);
Strata__V1__Event *st_v1_event(st_arena *a, const st_event_info *e);
/* A registered key's public data (role, scope, times; no revocation reasons). */
Strata__V1__Key *st_v1_key(st_arena *a, const st_key_info *k);

#endif
