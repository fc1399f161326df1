/* codes.h - how the state machine's outcomes map onto Strata's error codes
 * (core/error.h), and those onto gRPC status codes for the front end to come.
 *
 * Inside server/, storage calls return LMDB's own codes (0, MDB_* or an errno) so that
 * the apply loop can recognise MDB_MAP_FULL and grow the map; st_code_from_mdb() turns
 * them into st_ codes at the public boundary (server/state.h never returns an MDB_*).
 * ST_ENOMEM and the other st_ codes pass through unchanged: they are all small negative
 * numbers, which no LMDB code is (MDB_* are <= -30799, errno values are positive).
 */
#ifndef STRATA_SERVER_CODES_H
#define STRATA_SERVER_CODES_H

#include <errno.h>
#include <lmdb.h>

#include "core/error.h"

/* An LMDB (or errno, or st_) code as an st_ code: storage trouble is ST_EIO, a damaged
 * file ST_ECORRUPT, a missing key ST_ENOENT. */
static inline int st_code_from_mdb(int rc) {
    if (rc <= 0 && rc >= ST_ECORRUPT) {
        return rc; /* already an st_ code (0 is ST_OK) */
    }
    switch (rc) {
    case MDB_NOTFOUND:
        return ST_ENOENT;
    case ENOMEM:
        return ST_ENOMEM;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        return ST_ECORRUPT;
    default:
        return ST_EIO;
    }
}

/* The gRPC status code (numbers fixed by the gRPC spec) a refusal with this st_ code
 * answers with: a refused command is never INTERNAL, a storage failure always is. */
static inline int st_code_grpc(int code) {
    switch (code) {
    case ST_OK:
        return 0; /* OK */
    case ST_EINVAL:
        return 3; /* INVALID_ARGUMENT */
    case ST_ENOENT:
        return 5; /* NOT_FOUND */
    case ST_EEXIST:
        return 6; /* ALREADY_EXISTS */
    case ST_EPERM:
        return 7; /* PERMISSION_DENIED */
    case ST_ENOMEM:
        return 8; /* RESOURCE_EXHAUSTED */
    case ST_ESTATE:
        return 9; /* FAILED_PRECONDITION */
    case ST_ERANGE:
        return 11; /* OUT_OF_RANGE */
    case ST_EAUTH:
        return 16; /* UNAUTHENTICATED */
    case ST_ECORRUPT:
        return 15; /* DATA_LOSS */
    default:
        return 13; /* INTERNAL (ST_EIO and anything unknown) */
    }
}

#endif
