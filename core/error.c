/* error.c - names for Strata's error codes and the st_fail() message helper. */
#include <stdarg.h>
#include <stdio.h>

#include "core/error.h"

const char *st_strerror(int code) {
    switch (code) {
    case ST_OK:
        return "ok";
    case ST_EINVAL:
        return "invalid argument";
    case ST_ENOMEM:
        return "out of memory";
    case ST_EEXIST:
        return "already exists";
    case ST_ENOENT:
        return "not found";
    case ST_ESTATE:
        return "not allowed in the current state";
    case ST_ERANGE:
        return "past a limit";
    case ST_EIO:
        return "storage error";
    case ST_EPERM:
        return "permission denied";
    case ST_EAUTH:
        return "authentication failed";
    case ST_ECORRUPT:
        return "integrity check failed";
    case ST_ENOTLEADER:
        return "not the leader";
    case ST_EUNKNOWN:
        return "outcome unknown";
    case ST_ESHUTDOWN:
        return "shutting down";
    case ST_EBUSY:
        return "busy";
    default:
        return "unknown error";
    }
}

int st_fail(char *err, size_t errlen, int code, const char *fmt, ...) {
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}
