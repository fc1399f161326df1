/* batch.h - the framing of one Raft log entry: several opaque commands carried together,
 * so that one replicated write (and one storage transaction) serves many requests.
 *
 * Layout (big-endian): u8 version (1) | u32 count | count x (u32 length | bytes) |
 * 0..7 zero bytes, so that the entry's length is a multiple of 8. The padding is not
 * cosmetic: raft 0.15's libuv segment writer pads entries to 8 bytes but its loader does
 * not, so a node restarting over an entry of any other length fails to load its log.
 * Decoding is strict: a wrong version, a zero or oversize count, a length running past
 * the end, or trailing bytes other than that zero padding are refused.
 */
#ifndef STRATA_CONSENSUS_BATCH_H
#define STRATA_CONSENSUS_BATCH_H

#include <stddef.h>
#include <stdint.h>

#define ST_BATCH_VERSION 1
#define ST_BATCH_MAX_COMMANDS 4096
#define ST_BATCH_MAX_BYTES (16u << 20) /* one entry at most 16 MiB */

/* A borrowed view of bytes. */
typedef struct {
    const uint8_t *data;
    size_t len;
} st_slice;

/* Bytes needed to frame these commands; 0 if the batch breaks a limit above. */
size_t st_batch_size(const st_slice *cmds, size_t n);

/* Frames the commands into out, which must hold st_batch_size() bytes. */
void st_batch_encode(const st_slice *cmds, size_t n, uint8_t *out);

/* Decodes an entry. On success *n is the count and cmds[0..n) point into buf (borrowed:
 * valid as long as buf). cmds must hold ST_BATCH_MAX_COMMANDS entries. Returns ST_OK or
 * ST_EINVAL. */
int st_batch_decode(const uint8_t *buf, size_t len, st_slice *cmds, size_t *n);

#endif
