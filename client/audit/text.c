/* text.c - file, line, field and number helpers of the audit bundle (text.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/audit/text.h"
#include "core/error.h"
#include "crypto/hash.h"
#include "crypto/text.h"

int st_audit__path(const char *dir, const char *name, char *out, size_t cap) {
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? ST_ERANGE : ST_OK;
}

int st_audit__read(const char *dir, const char *name, char **out, size_t *len, char *err,
                   size_t errlen) {
    char path[4096];
    if (st_audit__path(dir, name, path, sizeof(path)) != ST_OK) {
        return st_fail(err, errlen, ST_ERANGE, "the bundle's path is too long");
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return st_fail(err, errlen, ST_EIO, "cannot open %s: %s", path, strerror(e));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return st_fail(err, errlen, ST_EIO, "%s is not a regular file", path);
    }
    if ((uintmax_t)sb.st_size >= ST_AUDIT_FILE_MAX) {
        close(fd);
        return st_fail(err, errlen, ST_ERANGE, "%s is larger than %zu MiB", path,
                       ST_AUDIT_FILE_MAX >> 20);
    }
    size_t size = (size_t)sb.st_size;
    char *buf = malloc(size + 1);
    if (buf == NULL) {
        close(fd);
        return st_fail(err, errlen, ST_ENOMEM, "out of memory reading %s", path);
    }
    size_t n = 0;
    while (n < size) {
        ssize_t got = read(fd, buf + n, size - n);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            int e = got < 0 ? errno : EIO;
            free(buf);
            close(fd);
            return st_fail(err, errlen, ST_EIO, "cannot read %s: %s", path,
                           got < 0 ? strerror(e) : "it shrank while being read");
        }
        n += (size_t)got;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return ST_OK;
}

void st_audit__lines_init(st_audit_lines *l, char *buf, size_t len) {
    l->p = buf;
    l->end = buf + len;
    l->line = 0;
}

char *st_audit__next_line(st_audit_lines *l, bool *bad) {
    *bad = false;
    if (l->p >= l->end) {
        return NULL;
    }
    l->line++;
    char *start = l->p;
    char *nl = memchr(start, '\n', (size_t)(l->end - start));
    char *stop = nl != NULL ? nl : l->end;
    if (nl == NULL || memchr(start, '\r', (size_t)(stop - start)) != NULL ||
        memchr(start, '\0', (size_t)(stop - start)) != NULL) {
        *bad = true;
    }
    *stop = '\0';
    l->p = nl != NULL ? nl + 1 : l->end;
    return start;
}

size_t st_audit__fields(char *line, char **fields, size_t max) {
    size_t n = 0;
    char *p = line;
    for (;;) {
        char *tab = strchr(p, '\t');
        if (n == max) {
            return max + 1;
        }
        fields[n++] = p;
        if (tab == NULL) {
            return n;
        }
        *tab = '\0';
        p = tab + 1;
    }
}

bool st_audit__u64(const char *s, uint64_t *out) {
    if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0')) {
        return false;
    }
    uint64_t v = 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
            return false;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

void st_audit__sha256_hex(const void *data, size_t len, char out[65]) {
    uint8_t h[ST_HASH_LEN];
    st_hash_sha256(h, data, len);
    st_hex_encode(out, h, sizeof(h));
}

void st_audit__csv_field(FILE *out, const char *s) {
    size_t n = strlen(s);
    bool quote = strpbrk(s, ",\"\r\n") != NULL || (n > 0 && (s[0] == ' ' || s[n - 1] == ' '));
    if (!quote) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s != '\0'; s++) {
        if (*s == '"') {
            fputc('"', out);
        }
        fputc(*s, out);
    }
    fputc('"', out);
}
