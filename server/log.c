/* log.c - stratad's one-line-per-event log (log.h): formatting, the term source, and the
 * serialised writes to stderr and the log file. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "server/log.h"

#define LINE_MAX_BYTES 2048

struct st_log {
    uint64_t node_id;
    int min_level;
    int fd; /* the log file, or -1 */
    uint64_t (*term)(void *ctx);
    void *term_ctx;
    pthread_mutex_t mu;
};

static const char *level_name(int level) {
    switch (level) {
    case ST_LOG_DEBUG:
        return "DEBUG";
    case ST_LOG_INFO:
        return "INFO";
    case ST_LOG_WARN:
        return "WARN";
    default:
        return "ERROR";
    }
}

int st_log_level_parse(const char *s) {
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

int st_log_open(st_log **out, uint64_t node_id, const char *path, int min_level, char *err,
                size_t errlen) {
    st_log *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return st_fail(err, errlen, ST_ENOMEM, "out of memory");
    }
    l->node_id = node_id;
    l->min_level = min_level;
    l->fd = -1;
    if (path != NULL && path[0] != '\0') {
        l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (l->fd < 0) {
            int e = errno;
            free(l);
            return st_fail(err, errlen, ST_EIO, "cannot open the log file %s: %s", path,
                           strerror(e));
        }
    }
    pthread_mutex_init(&l->mu, NULL);
    *out = l;
    return ST_OK;
}

void st_log_close(st_log *l) {
    if (l == NULL) {
        return;
    }
    if (l->fd >= 0) {
        close(l->fd);
    }
    pthread_mutex_destroy(&l->mu);
    free(l);
}

void st_log_set_term_source(st_log *l, uint64_t (*term)(void *ctx), void *ctx) {
    pthread_mutex_lock(&l->mu);
    l->term = term;
    l->term_ctx = ctx;
    pthread_mutex_unlock(&l->mu);
}

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return; /* nowhere to report a failing log */
        }
        p += w;
        n -= (size_t)w;
    }
}

void st_log_term(void *ctx, int level, uint64_t term, const char *msg) {
    st_log *l = ctx;
    if (l == NULL || level < l->min_level) {
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[LINE_MAX_BYTES];
    int n =
        snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s node=%llu term=%llu ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 ts.tv_nsec / 1000000L, level_name(level), (unsigned long long)l->node_id,
                 (unsigned long long)term);
    if (n < 0) {
        return;
    }
    size_t len = (size_t)n;
    for (const char *p = msg; *p != '\0' && len < sizeof(line) - 1; p++) {
        line[len++] = (*p == '\n' || *p == '\r') ? ' ' : *p;
    }
    line[len++] = '\n';
    pthread_mutex_lock(&l->mu);
    write_all(STDERR_FILENO, line, len);
    if (l->fd >= 0) {
        write_all(l->fd, line, len);
    }
    pthread_mutex_unlock(&l->mu);
}

void st_logf(st_log *l, int level, const char *fmt, ...) {
    if (l == NULL || level < l->min_level) {
        return;
    }
    char msg[LINE_MAX_BYTES - 96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&l->mu);
    uint64_t (*term)(void *) = l->term;
    void *term_ctx = l->term_ctx;
    pthread_mutex_unlock(&l->mu);
    st_log_term(l, level, term != NULL ? term(term_ctx) : 0, msg);
}
