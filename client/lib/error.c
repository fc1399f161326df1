/* error.c - st_error: the kind of a failure, its code and one sentence; gRPC status names
 * and how they map onto Strata's codes (core/error.h).
 */
#include <grpc/status.h>
#include <stdio.h>
#include <string.h>

#include "client/lib/internal.h"

void st_error_clear(st_error *e) {
    if (e == NULL) {
        return;
    }
    e->code = ST_OK;
    e->kind = ST_FAIL_NONE;
    e->grpc_status = -1;
    e->message[0] = '\0';
    e->tried[0] = '\0';
}

int st__fail(st_error *err, st_fail_kind kind, int code, const char *fmt, ...) {
    if (err != NULL) {
        st_error_clear(err);
        err->code = code;
        err->kind = kind;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return code;
}

int st__fail_local(st_error *err, int code, const char *msg) {
    return st__fail(err, ST_FAIL_LOCAL, code, "%s", msg);
}

const char *st_grpc_status_name(int status) {
    static const char *const names[] = {
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    if (status < 0 || (size_t)status >= sizeof(names) / sizeof(names[0])) {
        return "UNKNOWN_STATUS";
    }
    return names[status];
}

int st_code_from_grpc(int status) {
    switch (status) {
    case GRPC_STATUS_OK:
        return ST_OK;
    case GRPC_STATUS_INVALID_ARGUMENT:
        return ST_EINVAL;
    case GRPC_STATUS_NOT_FOUND:
        return ST_ENOENT;
    case GRPC_STATUS_ALREADY_EXISTS:
        return ST_EEXIST;
    case GRPC_STATUS_PERMISSION_DENIED:
        return ST_EPERM;
    case GRPC_STATUS_FAILED_PRECONDITION:
    case GRPC_STATUS_ABORTED:
        return ST_ESTATE;
    case GRPC_STATUS_RESOURCE_EXHAUSTED:
    case GRPC_STATUS_OUT_OF_RANGE:
        return ST_ERANGE;
    case GRPC_STATUS_UNAUTHENTICATED:
        return ST_EAUTH;
    case GRPC_STATUS_DATA_LOSS:
        return ST_ECORRUPT;
    case GRPC_STATUS_UNAVAILABLE:
    case GRPC_STATUS_DEADLINE_EXCEEDED:
        return ST_EUNKNOWN;
    default:
        return ST_EIO; /* UNKNOWN, INTERNAL, UNIMPLEMENTED, CANCELLED */
    }
}
