/* data_check.c - the start-time check of the data directory (data_check.h): the Raft files
 * through consensus/log_check.h, the LMDB state read in a child process and set aside when
 * damaged. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "consensus/log_check.h"
#include "core/error.h"
#include "server/data_check.h"
#include "server/store.h"

#define CHILD_DAMAGED 3 /* the child's exit status for a damaged state */

static void note_torn(void *ctx, const char *msg) {
    st_logf(ctx, ST_LOG_WARN, "%s", msg);
}

/* Runs st_store_check(dir) in a child: a damaged file may crash the reader. ST_OK, or
 * ST_ECORRUPT with why. */
static int check_state_in_child(const char *dir, char *why, size_t whylen) {
    int fds[2];
    if (pipe(fds) != 0) {
        return st_fail(why, whylen, ST_EIO, "cannot create a pipe: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return st_fail(why, whylen, ST_EIO, "cannot fork the check: %s", strerror(errno));
    }
    if (pid == 0) {
        /* A crash here is the answer, not a report: keep sanitizers' output off stderr. */
        close(fds[0]);
        int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (nul >= 0) {
            dup2(nul, STDERR_FILENO);
        }
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        char msg[512] = "";
        int rc = st_store_check(dir, msg, sizeof(msg));
        if (rc != ST_OK) {
            ssize_t w = write(fds[1], msg, strlen(msg));
            (void)w;
        }
        _exit(rc == ST_OK ? 0 : CHILD_DAMAGED);
    }
    close(fds[1]);
    char msg[512];
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fds[0], msg + got, sizeof(msg) - 1 - got);
        if (r > 0) {
            got += (size_t)r;
            if (got < sizeof(msg) - 1) {
                continue;
            }
        } else if (r < 0 && errno == EINTR) {
            continue;
        }
        break;
    }
    msg[got] = '\0';
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return st_fail(why, whylen, ST_EIO, "cannot wait for the check: %s", strerror(errno));
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return ST_OK;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_DAMAGED) {
        return st_fail(why, whylen, ST_ECORRUPT, "%s", msg);
    }
    if (WIFSIGNALED(status)) {
        return st_fail(why, whylen, ST_ECORRUPT, "reading it crashed the check (signal %d)",
                       WTERMSIG(status));
    }
    return st_fail(why, whylen, ST_ECORRUPT, "the check failed (exit status %d)",
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* fsync of a directory (after renames in it). */
static void sync_dir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int st_data_check(const char *data_dir, st_log *log, char *err, size_t errlen) {
    char raft_dir[4200], state_dir[4200];
    snprintf(raft_dir, sizeof(raft_dir), "%s/raft", data_dir);
    snprintf(state_dir, sizeof(state_dir), "%s/state", data_dir);

    st_raft_check_report rep;
    int rc = st_raft_check_dir(raft_dir, &rep, note_torn, log, err, errlen);
    if (rc != ST_OK) {
        return rc;
    }

    char why[600];
    rc = check_state_in_child(state_dir, why, sizeof(why));
    if (rc == ST_EIO) {
        return st_fail(err, errlen, ST_EIO, "state: %s", why);
    }
    if (rc == ST_OK) {
        return ST_OK;
    }
    /* Damaged: the Raft snapshot and log rebuild it. Keep the damaged copy aside. */
    char stamp[32], aside[4300];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(aside, sizeof(aside), "%s/state.damaged-%s", data_dir, stamp);
    if (rename(state_dir, aside) != 0 || mkdir(state_dir, 0750) != 0) {
        return st_fail(err, errlen, ST_EIO,
                       "state: %s/data.mdb is damaged (%s) and cannot be moved aside to %s: %s; "
                       "move %s away by hand and start again: it is rebuilt from the Raft log",
                       state_dir, why, aside, strerror(errno), state_dir);
    }
    sync_dir(data_dir);
    st_logf(log, ST_LOG_WARN,
            "state: %s/data.mdb is damaged (%s): moved aside to %s; the state is rebuilt from the "
            "Raft snapshot and log (and the leader). Remove the damaged copy once this node's "
            "digest agrees with the others (Cluster.Status with_digest)",
            state_dir, why, aside);
    return ST_OK;
}

void st_data_raft_hint(const char *raft_dir, const char *msg, char *out, size_t len) {
    char snap[256];
    bool snapshot = strstr(msg, "LZ4") != NULL || strstr(msg, "snapshot") != NULL;
    if (snapshot && st_raft_newest_snapshot(raft_dir, snap, sizeof(snap))) {
        snprintf(out, len,
                 "raft loads the newest snapshot at start, %s/%s (with %s.meta): it is damaged "
                 "or unreadable; this node must not start without it: rebuild it from the other "
                 "nodes (docs/OPERATIONS.md, Damaged data)",
                 raft_dir, snap, snap);
    } else {
        snprintf(out, len,
                 "the Raft files in %s cannot be loaded; if one is damaged, rebuild this node "
                 "from the other nodes (docs/OPERATIONS.md, Damaged data)",
                 raft_dir);
    }
}
