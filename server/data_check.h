/* data_check.h - stratad's data directory checked at start, before Raft or LMDB open it.
 *
 * - DIR/raft: consensus/log_check.h. A damaged closed segment, a damaged open segment (valid
 *   entries after a bad one) or a set-aside `corrupt-...` file stops the start (ST_ECORRUPT,
 *   the message names the file): the log is the durable record of what this node
 *   acknowledged, and Raft's own loader would drop the damaged part silently. A write torn by
 *   a crash at the very end of the log is dropped (and logged): it was never acknowledged.
 * - DIR/state (LMDB): read whole in a child process (store.h, st_store_check; a damaged file
 *   can crash its reader). The state is derived from the Raft snapshot and log, so a damaged
 *   one is set aside as DIR/state.damaged-<UTC time> (kept for a post-mortem; remove it once
 *   the node agrees with the others) and rebuilt from them: logged as a WARN.
 * - After a failed Raft start (a damaged file the check above does not read, such as the
 *   metadata or a snapshot's .meta), st_data_raft_hint() adds what to look at and do.
 *
 * docs/OPERATIONS.md §Damaged data says what the operator does for each.
 */
#ifndef STRATA_SERVER_DATA_CHECK_H
#define STRATA_SERVER_DATA_CHECK_H

#include <stddef.h>

#include "server/log.h"

/* Checks data_dir/raft and data_dir/state as above, logging what it repairs or sets aside.
 * Returns ST_OK (start), ST_ECORRUPT (do not start: err names the file and what to do) or
 * ST_EIO (a file cannot be read, or the damaged state cannot be moved aside). */
int st_data_check(const char *data_dir, st_log *log, char *err, size_t errlen);

/* A sentence to follow a failed Raft start in data_dir/raft with message msg (raft's). */
void st_data_raft_hint(const char *raft_dir, const char *msg, char *out, size_t len);

#endif
