/* log_check.h - the Raft data directory checked before raft_uv loads it.
 *
 * canonical/raft 0.15 loads damaged files in ways a voting system cannot accept: a closed
 * segment that fails its checksum is renamed `corrupt-...` and every later segment with it,
 * and an open segment is silently cut at the first bad batch, so entries this node stored
 * (and may have acknowledged) vanish without a word; an open segment that ends in the middle
 * of a batch crashes the loader (a double free). This check reads every segment first:
 *
 * - closed segments (`FIRST-LAST`): every batch must pass both checksums and the entry count
 *   must match the name. Anything else is damage: ST_ECORRUPT, naming the file, the byte
 *   offset and the entries affected.
 * - open segments (`open-N`): a bad last batch with nothing valid after it, in this segment
 *   or a later one, is a write torn by a crash (Raft acknowledges an entry only after it is
 *   synced, so a torn entry was never acknowledged by this node): Raft drops it, and the
 *   node fetches it again from the leader. A batch cut short by the end of the file is
 *   cleared to zeros first (the loader would crash on it). Either way `note` is told. A bad
 *   batch followed by valid ones is damage, not a torn write: ST_ECORRUPT.
 * - `corrupt-...` files (set aside by an earlier raft start) are damage too: the log they
 *   were cut from is incomplete.
 * - the snapshot raft loads at start (the newest): its LZ4 frame decoded whole and its
 *   content checksum compared (lz4_check.h). Damage is ST_ECORRUPT naming the file (raft
 *   would fail with an LZ4 error naming none, and leak on the way). Older snapshots are not
 *   read by raft and not checked; the metadata files are left to raft, whose errors name
 *   them.
 *
 * The segment format (raft's uv_encoding): an 8-byte format version (1), then batches: two
 * CRC-32 (MSB-first, polynomial 0x04C11DB7, no inversion: raft's byteCrc32) of the header
 * and of the data, the header (entry count, then per entry term, type, 3 unused bytes and
 * data length), then each entry's data padded to 8 bytes; integers little-endian.
 */
#ifndef STRATA_CONSENSUS_LOG_CHECK_H
#define STRATA_CONSENSUS_LOG_CHECK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    unsigned closed_segments; /* checked */
    unsigned open_segments;   /* holding data */
    unsigned torn_tails;      /* torn last batches found (Raft drops them) */
    unsigned cleared;         /* of which cut short by the end of the file, cleared here */
    bool snapshot_checked;    /* the newest snapshot was an LZ4 frame and passed */
} st_raft_check_report;

/* Checks (and where said above, repairs) the Raft files in dir. note (may be NULL) gets one
 * sentence per torn tail found. Returns ST_OK, ST_ECORRUPT with err naming the file and
 * saying what to do, or ST_EIO (a file cannot be read or repaired). A missing dir is OK. */
int st_raft_check_dir(const char *dir, st_raft_check_report *report,
                      void (*note)(void *ctx, const char *msg), void *ctx, char *err,
                      size_t errlen);

/* The file name of the snapshot raft loads at start (the newest: highest term, then index,
 * then timestamp), into name; false if there is none. */
bool st_raft_newest_snapshot(const char *dir, char *name, size_t len);

#endif
