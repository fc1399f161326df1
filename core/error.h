/* error.h - Strata's error codes, shared by every module.
 *
 * Functions return 0 (ST_OK) on success and one of these negative codes on failure.
 * Where a caller needs more than the code, functions take a `char *err, size_t errlen`
 * buffer and write one human-readable sentence into it (what is wrong, and where).
 */
#ifndef STRATA_CORE_ERROR_H
#define STRATA_CORE_ERROR_H

#include <stddef.h>

enum {
    ST_OK = 0,
    ST_EINVAL = -1,      /* the input is malformed or out of range */
    ST_ENOMEM = -2,      /* an allocation failed */
    ST_EEXIST = -3,      /* the thing already exists */
    ST_ENOENT = -4,      /* the thing does not exist */
    ST_ESTATE = -5,      /* not allowed in the current state (vote closed, roll sealed, ...) */
    ST_ERANGE = -6,      /* a count or size is past a documented limit */
    ST_EIO = -7,         /* the storage below failed */
    ST_EPERM = -8,       /* the actor's role does not allow it */
    ST_EAUTH = -9,       /* a signature, key or request failed authentication */
    ST_ECORRUPT = -10,   /* stored or supplied data fails an integrity check */
    ST_ENOTLEADER = -11, /* this node is not the leader; ask the leader */
    ST_EUNKNOWN = -12,   /* outcome unknown (leadership lost mid-write); retry idempotently */
    ST_ESHUTDOWN = -13,  /* the node is shutting down */
    ST_EBUSY = -14       /* too much in flight; retry later */
};

/* A short English name for an error code ("invalid argument"); never NULL. */
const char *st_strerror(int code);

/* Writes printf-style text into err (if err is non-NULL and errlen > 0), always
 * NUL-terminated, and returns code. Lets error paths read `return st_fail(...)`. */
int st_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
