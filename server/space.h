/* space.h - the free-space reserve of the filesystem that holds the data directory
 * (`min-free-bytes`).
 *
 * A leader admits a write only while that filesystem has at least the reserve free, so that
 * the Raft log, LMDB and snapshots always find room for what is already accepted: below it,
 * writes are refused with a message saying where and how much (the caller turns it into
 * RESOURCE_EXHAUSTED), and they are admitted again as soon as space returns, without a
 * restart. Reads, membership changes and replication are never refused here: a follower low
 * on space keeps appending what its leader sends (Raft needs it to), and if its disk really
 * fills it stops with a storage failure instead of diverging (consensus/node.h).
 *
 * The free space is read with statvfs(2) at every check (a few microseconds); a change
 * between "enough" and "low" is logged once, WARN going down and INFO coming back.
 *
 * Threads: st_space_check may be called from any thread.
 */
#ifndef STRATA_SERVER_SPACE_H
#define STRATA_SERVER_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/log.h"

typedef struct st_space st_space;

/* A reserve of `reserve` bytes (0: no check) on the filesystem of dir (copied). log may be
 * NULL. Returns ST_OK or ST_ENOMEM; the caller frees *out with st_space_free(). */
int st_space_new(const char *dir, uint64_t reserve, uint64_t node_id, st_log *log, st_space **out);
void st_space_free(st_space *s);

/* Whether a write may be admitted now. When not, why (if not NULL) gets one sentence for
 * the client: what (disk space low on node N), where (the directory, its free bytes and the
 * reserve) and what to do. When statvfs itself fails the write is admitted (a WARN is
 * logged once): this check guards against a full disk, it does not diagnose others. *free_bytes
 * (if not NULL) gets what statvfs reported (0 if it failed). */
bool st_space_check(st_space *s, uint64_t *free_bytes, char *why, size_t whylen);

#endif
