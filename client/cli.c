/* cli.c - helpers shared by the commands of the `strata` program (see cli.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli.h"
#include "core/error.h"

int cli_read_file(const char *path, char **out, size_t *len, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return st_fail(err, errlen, ST_EIO, "%s: cannot open: %s; %s", path, strerror(e),
                       e == ENOENT   ? "check the path"
                       : e == EACCES ? "check the file's permissions"
                                     : "check the path and the file");
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return st_fail(err, errlen, ST_EIO, "%s: cannot read: %s", path, strerror(e));
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        return st_fail(err, errlen, ST_EIO, "%s: is a directory; give the path of a CSV file",
                       path);
    }
    /* Regular files: one allocation of the right size. Pipes: grow as data comes. */
    /* +2: room for the NUL and for the read that sees the end of the file. */
    size_t cap = S_ISREG(sb.st_mode) && sb.st_size > 0 && (uintmax_t)sb.st_size < CLI_FILE_MAX
                     ? (size_t)sb.st_size + 2
                     : 65536;
    size_t n = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        close(fd);
        return st_fail(err, errlen, ST_ENOMEM, "%s: out of memory reading the file", path);
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > CLI_FILE_MAX) {
                free(buf);
                close(fd);
                return st_fail(err, errlen, ST_ERANGE,
                               "%s: larger than %zu MiB; split the file or check the path", path,
                               CLI_FILE_MAX >> 20);
            }
            char *b = realloc(buf, cap * 2);
            if (b == NULL) {
                free(buf);
                close(fd);
                return st_fail(err, errlen, ST_ENOMEM, "%s: out of memory reading the file", path);
            }
            buf = b;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return st_fail(err, errlen, ST_EIO, "%s: cannot read: %s", path, strerror(e));
        }
        if (got == 0) {
            break;
        }
        n += (size_t)got;
    }
    close(fd);
    if (n > CLI_FILE_MAX) {
        free(buf);
        return st_fail(err, errlen, ST_ERANGE,
                       "%s: larger than %zu MiB; split the file or check the path", path,
                       CLI_FILE_MAX >> 20);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return ST_OK;
}

int cli_option(int argc, char **argv, int *i, const char *name, const char **value) {
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0) {
        return 0;
    }
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0') {
        return 0; /* "--rollx" is another option */
    }
    if (*i + 1 >= argc) {
        return -1;
    }
    *i += 1;
    *value = argv[*i];
    return 1;
}

static void vmessage(const cli_command *cmd, const char *fmt, va_list ap) {
    fprintf(stderr, "strata %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_usage_error(const cli_command *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vmessage(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "usage: %s\n", cmd->usage);
    return CLI_EXIT_USAGE;
}

int cli_fail(const cli_command *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vmessage(cmd, fmt, ap);
    va_end(ap);
    return CLI_EXIT_FAIL;
}

/* The JSON form of byte c inside a string literal, written into out[8]. */
static const char *json_char(unsigned char c, char out[8]) {
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        break;
    }
    if (c < 0x20) {
        snprintf(out, 8, "\\u%04x", c);
    } else {
        out[0] = (char)c; /* UTF-8 passes through byte by byte */
        out[1] = '\0';
    }
    return out;
}

size_t cli_json_escape(const char *s, char *buf, size_t len) {
    size_t o = 0;
    char tmp[8];
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (o + 1 < len) {                                                                         \
            buf[o] = (ch);                                                                         \
        }                                                                                          \
        o++;                                                                                       \
    } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        for (const char *q = json_char(*p, tmp); *q != '\0'; q++) {
            PUT(*q);
        }
    }
    PUT('"');
#undef PUT
    if (len > 0) {
        buf[o < len ? o : len - 1] = '\0';
    }
    return o;
}

void cli_json_string(FILE *out, const char *s) {
    char tmp[8];
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        fputs(json_char(*p, tmp), out);
    }
    fputc('"', out);
}
