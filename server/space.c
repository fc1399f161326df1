/* space.c - the data directory's free-space reserve (space.h): statvfs and the logged
 * transitions between enough and low. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "core/error.h"
#include "server/space.h"

enum { SPACE_UNKNOWN = 0, SPACE_OK, SPACE_LOW, SPACE_UNREADABLE };

struct st_space {
    char *dir;
    uint64_t reserve;
    uint64_t node_id;
    st_log *log;
    atomic_int state; /* the last state logged */
};

int st_space_new(const char *dir, uint64_t reserve, uint64_t node_id, st_log *log, st_space **out) {
    st_space *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->dir = strdup(dir)) == NULL) {
        free(s);
        return ST_ENOMEM;
    }
    s->reserve = reserve;
    s->node_id = node_id;
    s->log = log;
    atomic_init(&s->state, SPACE_UNKNOWN);
    *out = s;
    return ST_OK;
}

void st_space_free(st_space *s) {
    if (s != NULL) {
        free(s->dir);
        free(s);
    }
}

/* Logs a change of state once (whichever thread sees it first). */
static void transition(st_space *s, int to, uint64_t free_bytes, int err) {
    int from = atomic_exchange(&s->state, to);
    if (from == to || s->log == NULL) {
        return;
    }
    switch (to) {
    case SPACE_LOW:
        st_logf(s->log, ST_LOG_WARN,
                "disk space low on node %llu: %s has %llu bytes free, below min-free-bytes "
                "(%llu): while it leads, this node refuses writes; free space on that "
                "filesystem or grow it",
                (unsigned long long)s->node_id, s->dir, (unsigned long long)free_bytes,
                (unsigned long long)s->reserve);
        break;
    case SPACE_OK:
        if (from == SPACE_LOW) {
            st_logf(s->log, ST_LOG_INFO,
                    "disk space back on node %llu: %s has %llu bytes free (min-free-bytes "
                    "%llu): writes are accepted again",
                    (unsigned long long)s->node_id, s->dir, (unsigned long long)free_bytes,
                    (unsigned long long)s->reserve);
        }
        break;
    case SPACE_UNREADABLE:
        st_logf(s->log, ST_LOG_WARN,
                "cannot read the free space of %s (%s): writes are not held back", s->dir,
                strerror(err));
        break;
    default:
        break;
    }
}

bool st_space_check(st_space *s, uint64_t *free_bytes, char *why, size_t whylen) {
    if (free_bytes != NULL) {
        *free_bytes = 0;
    }
    if (s == NULL || s->reserve == 0) {
        return true;
    }
    struct statvfs v;
    if (statvfs(s->dir, &v) != 0) {
        transition(s, SPACE_UNREADABLE, 0, errno);
        return true;
    }
    /* f_bavail: what an unprivileged writer may still use (root may dig into the
     * filesystem's own reserve, but the check should not count on it). */
    uint64_t avail = (uint64_t)v.f_bavail * (uint64_t)v.f_frsize;
    if (free_bytes != NULL) {
        *free_bytes = avail;
    }
    if (avail >= s->reserve) {
        transition(s, SPACE_OK, avail, 0);
        return true;
    }
    transition(s, SPACE_LOW, avail, 0);
    if (why != NULL && whylen > 0) {
        snprintf(why, whylen,
                 "disk space low on node %llu: its data directory %s has %llu bytes free, below "
                 "the min-free-bytes reserve of %llu; nothing was written. Free space on that "
                 "filesystem or grow it: writes are accepted again as soon as there is room",
                 (unsigned long long)s->node_id, s->dir, (unsigned long long)avail,
                 (unsigned long long)s->reserve);
    }
    return false;
}
