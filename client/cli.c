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

__attribute__((format(printf, 2, 0))) static void vmessage(const cli_command *cmd, const char *fmt,
                                                           va_list ap) {
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

/* ---- commands, groups and their arguments ---- */

void cli_group_help(const cli_command *group, FILE *out) {
    fprintf(out, "usage: %s\n\n%s\n\nCommands:\n", group->usage, group->summary);
    for (const cli_command *const *s = group->subs; *s != NULL; s++) {
        fprintf(out, "  %s\n      %s\n", (*s)->usage, (*s)->summary);
    }
    fprintf(out, "\nEvery command takes --help, and the options of the cluster:\n");
    cli_global_help(out);
}

void cli_global_help(FILE *out) {
    fputs(
        "  --cluster ADDR[,ADDR...]  the nodes' gRPC addresses (or STRATA_CLUSTER)\n"
        "  --key FILE                the key that signs requests (or STRATA_KEY)\n"
        "  --timeout SECONDS         give up after this long (or STRATA_TIMEOUT; default 10)\n"
        "  --json                    print JSON instead of text\n"
        "  --ca FILE                 the CA certificates (PEM) that signed the nodes' TLS\n"
        "                            certificates (or STRATA_CA; default: the system's roots)\n"
        "  --cert FILE --cert-key FILE\n"
        "                            this client's TLS certificate and its key (PEM), for a\n"
        "                            cluster that requires one (or STRATA_CERT, STRATA_CERT_KEY)\n"
        "  --plaintext               no TLS, for nodes on this machine only (127.0.0.0/8,\n"
        "                            [::1], localhost) (or STRATA_PLAINTEXT=1)\n",
        out);
}

int cli_number(const cli_command *cmd, const char *what, const char *text, uint64_t max,
               bool allow_zero, uint64_t *out) {
    uint64_t v = 0;
    bool ok = text[0] != '\0' && (text[0] != '0' || text[1] == '\0');
    for (const char *p = text; ok && *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || v > (max - (uint64_t)(*p - '0')) / 10) {
            ok = false;
        } else {
            v = v * 10 + (uint64_t)(*p - '0');
        }
    }
    if (!ok || v > max || (v == 0 && !allow_zero)) {
        return cli_usage_error(cmd, "%s \"%s\" is not a number from %d to %llu", what, text,
                               allow_zero ? 0 : 1, (unsigned long long)max);
    }
    *out = v;
    return CLI_EXIT_OK;
}

/* A transport option on the command line: the environment's transport is dropped whole,
 * so that `--ca FILE` is not mixed with STRATA_PLAINTEXT or the reverse. */
static void transport_from_command_line(cli_globals *g) {
    if (g->transport_from_env) {
        g->ca = g->cert = g->cert_key = NULL;
        g->plaintext = false;
        g->transport_from_env = false;
    }
}

int cli_global_option(const cli_command *cmd, cli_globals *g, int argc, char **argv, int *i) {
    static const cli_command before = {.name = "",
                                       .usage = "strata [--cluster ADDR,...] "
                                                "[--key FILE] [--timeout SECONDS] "
                                                "[--json] [--ca FILE] [--cert FILE --cert-key "
                                                "FILE] [--plaintext] COMMAND ..."};
    const cli_command *who = cmd != NULL ? cmd : &before;
    if (strcmp(argv[*i], "--json") == 0) {
        g->json = true;
        return 1;
    }
    if (strcmp(argv[*i], "--plaintext") == 0) {
        transport_from_command_line(g);
        g->plaintext = true;
        return 1;
    }
    static const char *const names[] = {"--cluster", "--key",  "--timeout",
                                        "--ca",      "--cert", "--cert-key"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        const char *value = NULL;
        int m = cli_option(argc, argv, i, names[k], &value);
        if (m == 0) {
            continue;
        }
        if (m < 0 || value[0] == '\0') {
            cli_usage_error(who, "%s needs a value", names[k]);
            return -1;
        }
        if (k >= 3) {
            transport_from_command_line(g);
        }
        if (k == 0) {
            g->cluster = value;
        } else if (k == 1) {
            g->key = value;
        } else if (k == 3) {
            g->ca = value;
        } else if (k == 4) {
            g->cert = value;
        } else if (k == 5) {
            g->cert_key = value;
        } else {
            uint64_t s = 0;
            if (cli_number(who, "--timeout", value, 3600, false, &s) != CLI_EXIT_OK) {
                return -1;
            }
            g->timeout_ms = (uint32_t)s * 1000;
        }
        return 1;
    }
    return 0;
}

int cli_parse(const cli_command *cmd, cli_globals *g, int argc, char **argv, const cli_opt *opts,
              size_t nopts, const char **pos, const char *const *names, size_t npos_min,
              size_t npos_max, size_t *npos) {
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        int gm = cli_global_option(cmd, g, argc, argv, &i);
        if (gm < 0) {
            return CLI_EXIT_USAGE;
        }
        if (gm > 0) {
            continue;
        }
        const char *arg = argv[i];
        if (arg[0] == '-' && arg[1] == '-') {
            const cli_opt *o = NULL;
            for (size_t k = 0; k < nopts && o == NULL; k++) {
                size_t l = strlen(opts[k].name);
                if (strncmp(arg, opts[k].name, l) == 0 &&
                    (arg[l] == '\0' || (arg[l] == '=' && opts[k].flag == NULL))) {
                    o = &opts[k];
                }
            }
            if (o == NULL) {
                return cli_usage_error(cmd, "unknown option \"%s\"", arg);
            }
            if (o->flag != NULL) {
                *o->flag = true;
                continue;
            }
            const char *value = NULL;
            if (cli_option(argc, argv, &i, o->name, &value) < 0 || value[0] == '\0') {
                return cli_usage_error(cmd, "%s needs a value", o->name);
            }
            if (o->value != NULL) {
                if (*o->value != NULL) {
                    return cli_usage_error(cmd, "%s is given twice", o->name);
                }
                *o->value = value;
                continue;
            }
            /* A list: this value and the following ones up to the next option. */
            for (;;) {
                if (o->list->n == CLI_LIST_MAX) {
                    return cli_usage_error(cmd, "%s takes at most %d values", o->name,
                                           CLI_LIST_MAX);
                }
                o->list->items[o->list->n++] = value;
                if (strchr(arg, '=') != NULL || i + 1 >= argc ||
                    (argv[i + 1][0] == '-' && argv[i + 1][1] == '-')) {
                    break;
                }
                value = argv[++i];
            }
            continue;
        }
        if (n == npos_max) {
            return cli_usage_error(cmd, "unexpected argument \"%s\"", arg);
        }
        pos[n++] = arg;
    }
    if (n < npos_min) {
        return cli_usage_error(cmd, "%s is missing", names[n]);
    }
    if (npos != NULL) {
        *npos = n;
    }
    return CLI_EXIT_OK;
}
