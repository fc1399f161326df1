/* log.h - stratad's event log: one line per event, to stderr and optionally to a file.
 *
 * Line format (UTF-8, no trailing spaces):
 *   2024-05-01T08:30:00.123Z INFO node=1 term=3 leader ready: barrier applied at index 42
 * ISO 8601 UTC time with milliseconds, the level (DEBUG, INFO, WARN, ERROR), this node's id,
 * the Raft term the event happened in (0 before Raft runs), and the message. Newlines in a
 * message are replaced by spaces so that one event is always one line.
 *
 * Threads: every function may be called from any thread; a line is written with one
 * write(2) per destination under a mutex, so lines never interleave.
 */
#ifndef STRATA_SERVER_LOG_H
#define STRATA_SERVER_LOG_H

#include <stdint.h>
#include <stddef.h>

#include "consensus/node.h" /* ST_LOG_DEBUG .. ST_LOG_ERROR */

typedef struct st_log st_log;

/* Opens a log for node `node_id` writing lines at `min_level` or above to stderr and, if
 * path is not NULL or "", appended to that file (created 0644). Returns ST_OK, ST_ENOMEM
 * or ST_EIO (the file cannot be opened; err says why). The caller owns *out and closes it
 * with st_log_close(). */
int st_log_open(st_log **out, uint64_t node_id, const char *path, int min_level, char *err,
                size_t errlen);
void st_log_close(st_log *l);

/* Where st_logf() gets the current term from (the Raft node once it exists). term(ctx)
 * must be callable from any thread. Set it before other threads log. */
void st_log_set_term_source(st_log *l, uint64_t (*term)(void *ctx), void *ctx);

/* Logs a printf-style message with the current term. */
void st_logf(st_log *l, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Logs a finished message with a known term: the shape of st_node_config.log, so the Raft
 * node can log through this (ctx is the st_log). */
void st_log_term(void *ctx, int level, uint64_t term, const char *msg);

/* "debug", "info", "warn" or "error" to a level; -1 if none. */
int st_log_level_parse(const char *s);

#endif
