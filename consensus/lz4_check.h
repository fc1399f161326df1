/* lz4_check.h - verifies an LZ4 frame (the format canonical/raft writes its snapshots in)
 * without the LZ4 library: the frame header and its checksum, every block decoded with
 * bounds checks, block checksums and the content checksum (xxHash32) when the frame has
 * them, the content size when it is given, and nothing after the end mark.
 *
 * raft 0.15 reads a damaged snapshot only at start, fails with an LZ4 error that names no
 * file, and leaks the snapshot's configuration on that path; checking first lets stratad
 * say which file is damaged before raft is started at all (log_check.h).
 *
 * Pure: no I/O, no allocation beyond the decoded content (freed before returning).
 */
#ifndef STRATA_CONSENSUS_LZ4_CHECK_H
#define STRATA_CONSENSUS_LZ4_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* ST_OK: a whole, valid frame. ST_EINVAL: buf is not an LZ4 frame at all (no magic number).
 * ST_ECORRUPT: an LZ4 frame that fails a check (why says which). ST_ENOMEM. */
int st_lz4_frame_check(const uint8_t *buf, size_t len, char *why, size_t whylen);

/* xxHash32 of p[0..n) with seed 0 (the checksum of LZ4 frames). */
uint32_t st_xxh32(const uint8_t *p, size_t n);

#endif
