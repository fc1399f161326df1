/* config.c - stratad's settings (config.h): the key table, value parsers, the `key = value`
 * file reader, the flag parser and the whole-config checks. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/address.h"
#include "core/error.h"
#include "crypto/text.h"
#include "server/config.h"
#include "server/log.h"

#define FILE_LINE_MAX 8192

typedef enum {
    K_U64,
    K_MS,
    K_COUNT,
    K_BOOL,
    K_PATH,
    K_ADDR,
    K_PEER,
    K_SIZE,  /* a size of at least 1M */
    K_BYTES, /* a byte count, 0 allowed */
    K_LEVEL
} key_type;

typedef struct {
    const char *name;
    key_type type;
    size_t offset; /* into st_config; unused for K_PEER */
    const char *arg;
    const char *help;
} key_def;

#define OFF(f) offsetof(st_config, f)

static const key_def keys[] = {
    {"id", K_U64, OFF(id), "N", "this node's Raft id, 1 or more (required)"},
    {"data-dir", K_PATH, OFF(data_dir), "DIR",
     "Raft log and snapshots in DIR/raft, the LMDB state in DIR/state (required)"},
    {"grpc-listen", K_ADDR, OFF(grpc_listen), "HOST:PORT", "gRPC API address (required)"},
    {"raft-listen", K_ADDR, OFF(raft_listen), "HOST:PORT", "Raft traffic address (required)"},
    {"peer", K_PEER, 0, "ID=RAFT,GRPC[,KEY]",
     "a cluster member, repeatable; give every node the same list (required unless join); "
     "KEY: its node public key (base64), which its Raft connections must present"},
    {"join", K_BOOL, OFF(join), "BOOL",
     "start empty and wait to be added by the leader (Cluster.AddMember)"},
    {"election-timeout-ms", K_MS, OFF(election_timeout_ms), "MS",
     "Raft election timeout (default 1000)"},
    {"heartbeat-ms", K_MS, OFF(heartbeat_ms), "MS", "Raft heartbeat interval (default 100)"},
    {"snapshot-threshold", K_COUNT, OFF(snapshot_threshold), "N",
     "log entries between snapshots (default 1024)"},
    {"snapshot-trailing", K_COUNT, OFF(snapshot_trailing), "N",
     "log entries kept behind a snapshot (default 2048)"},
    {"install-snapshot-timeout-ms", K_MS, OFF(install_snapshot_ms), "MS",
     "how long a leader waits on a snapshot it sent before resending (default 10000)"},
    {"pre-vote", K_BOOL, OFF(pre_vote), "BOOL", "Raft pre-vote (default true)"},
    {"lmdb-map-size", K_SIZE, OFF(map_size), "BYTES",
     "initial LMDB map size, suffix K, M or G allowed (default 256M; grows when full)"},
    {"node-key", K_PATH, OFF(node_key), "FILE",
     "this node's tree-head signing key (a plain key file; default DATA_DIR/node.key, made "
     "at first start)"},
    {"log", K_PATH, OFF(log_file), "FILE", "also append log lines to FILE"},
    {"log-level", K_LEVEL, OFF(log_level), "LEVEL", "debug, info, warn or error (default info)"},
    {"grpc-threads", K_COUNT, OFF(grpc_threads), "N", "gRPC completion-queue threads (default 2)"},
    {"max-message-bytes", K_SIZE, OFF(max_message), "BYTES",
     "largest gRPC message accepted or sent (default 64M)"},
    {"tls-cert", K_PATH, OFF(tls_cert), "FILE",
     "this node's TLS certificate chain (PEM) for the gRPC API (required unless grpc-plaintext)"},
    {"tls-key", K_PATH, OFF(tls_key), "FILE", "the private key (PEM, unencrypted) of tls-cert"},
    {"tls-client-ca", K_PATH, OFF(tls_client_ca), "FILE",
     "require every gRPC client to present a certificate signed by a CA in FILE (PEM); unset: "
     "no client certificate asked for"},
    {"grpc-plaintext", K_BOOL, OFF(grpc_plaintext), "BOOL",
     "serve gRPC without TLS; only with a loopback grpc-listen (default false)"},
    {"min-free-bytes", K_BYTES, OFF(min_free_bytes), "BYTES",
     "free space the data-dir's filesystem keeps in reserve: a leader with less refuses "
     "writes (RESOURCE_EXHAUSTED) until space returns; 0 turns the check off (default 64M)"},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

void st_config_defaults(st_config *c) {
    memset(c, 0, sizeof(*c));
    c->election_timeout_ms = 1000;
    c->heartbeat_ms = 100;
    c->snapshot_threshold = 1024;
    c->snapshot_trailing = 2048;
    c->install_snapshot_ms = 10000;
    c->pre_vote = true;
    c->map_size = (size_t)256 << 20;
    c->log_level = ST_LOG_INFO;
    c->grpc_threads = 2;
    c->max_message = (size_t)64 << 20;
    c->min_free_bytes = (uint64_t)64 << 20;
}

/* Finds a key; `_` in name matches `-`. */
static const key_def *find_key(const char *name) {
    char norm[64];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof(norm)) {
        return NULL;
    }
    for (size_t i = 0; i <= n; i++) {
        norm[i] = name[i] == '_' ? '-' : name[i];
    }
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(keys[i].name, norm) == 0) {
            return &keys[i];
        }
    }
    return NULL;
}

/* A decimal unsigned integer with nothing else around it. */
static int parse_u64(const char *s, uint64_t *out) {
    if (s[0] < '0' || s[0] > '9') {
        return ST_EINVAL;
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        return ST_EINVAL;
    }
    *out = v;
    return ST_OK;
}

static int parse_size(const char *s, size_t *out) {
    if (s[0] < '0' || s[0] > '9') {
        return ST_EINVAL;
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0) {
        return ST_EINVAL;
    }
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k') {
        shift = 10;
    } else if (*end == 'M' || *end == 'm') {
        shift = 20;
    } else if (*end == 'G' || *end == 'g') {
        shift = 30;
    }
    if (shift != 0) {
        end++;
    }
    if (*end != '\0' || v > (SIZE_MAX >> shift)) {
        return ST_EINVAL;
    }
    *out = (size_t)(v << shift);
    return ST_OK;
}

static int parse_bool(const char *s, bool *out) {
    if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "1") == 0 ||
        strcmp(s, "on") == 0) {
        *out = true;
    } else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "0") == 0 ||
               strcmp(s, "off") == 0) {
        *out = false;
    } else {
        return ST_EINVAL;
    }
    return ST_OK;
}

/* host:port with a non-empty host without spaces and a port 1..65535. */
static int check_addr(const char *s) {
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s || strlen(s) >= ST_CONFIG_ADDR_MAX) {
        return ST_EINVAL;
    }
    for (const char *p = s; p < colon; p++) {
        if (isspace((unsigned char)*p) || *p == ',' || *p == '=') {
            return ST_EINVAL;
        }
    }
    uint64_t port;
    if (parse_u64(colon + 1, &port) != ST_OK || port == 0 || port > 65535) {
        return ST_EINVAL;
    }
    return ST_OK;
}

/* ID=RAFT_ADDR,GRPC_ADDR[,KEY] */
static int parse_peer(const char *s, st_config_peer *p) {
    memset(p, 0, sizeof(*p));
    const char *eq = strchr(s, '=');
    const char *comma = eq != NULL ? strchr(eq, ',') : NULL;
    if (eq == NULL || comma == NULL || (size_t)(eq - s) >= 24) {
        return ST_EINVAL;
    }
    char idbuf[24];
    memcpy(idbuf, s, (size_t)(eq - s));
    idbuf[eq - s] = '\0';
    size_t raft_len = (size_t)(comma - eq - 1);
    if (parse_u64(idbuf, &p->id) != ST_OK || p->id == 0 || raft_len >= ST_CONFIG_ADDR_MAX) {
        return ST_EINVAL;
    }
    memcpy(p->raft, eq + 1, raft_len);
    p->raft[raft_len] = '\0';
    if (strlen(comma + 1) >= ST_CONFIG_ADDR_MAX) {
        return ST_EINVAL;
    }
    snprintf(p->grpc, sizeof(p->grpc), "%s", comma + 1);
    char *key = strchr(p->grpc, ',');
    if (key != NULL) {
        *key++ = '\0';
        char msg[128];
        if (st_b64_decode(p->key, sizeof(p->key), key, strlen(key), msg, sizeof(msg)) != ST_OK) {
            return ST_EINVAL;
        }
        p->has_key = true;
    }
    return check_addr(p->raft) == ST_OK && check_addr(p->grpc) == ST_OK ? ST_OK : ST_EINVAL;
}

static int set_key(st_config *c, const key_def *k, const char *v, char *err, size_t errlen) {
    char *field = (char *)c + k->offset;
    uint64_t u;
    size_t sz;
    switch (k->type) {
    case K_U64:
        if (parse_u64(v, &u) != ST_OK || u == 0) {
            return st_fail(err, errlen, ST_EINVAL, "%s: \"%s\" is not a whole number of 1 or more",
                           k->name, v);
        }
        *(uint64_t *)(void *)field = u;
        return ST_OK;
    case K_MS:
    case K_COUNT:
        if (parse_u64(v, &u) != ST_OK || u == 0 || u > 100000000) {
            return st_fail(err, errlen, ST_EINVAL,
                           "%s: \"%s\" is not a whole number from 1 to 100000000", k->name, v);
        }
        *(unsigned *)(void *)field = (unsigned)u;
        return ST_OK;
    case K_BOOL:
        if (parse_bool(v, (bool *)(void *)field) != ST_OK) {
            return st_fail(err, errlen, ST_EINVAL, "%s: \"%s\" is not true or false", k->name, v);
        }
        return ST_OK;
    case K_PATH:
        if (v[0] == '\0' || strlen(v) >= ST_CONFIG_PATH_MAX) {
            return st_fail(err, errlen, ST_EINVAL, "%s: give a path of 1 to %d bytes", k->name,
                           ST_CONFIG_PATH_MAX - 1);
        }
        snprintf(field, ST_CONFIG_PATH_MAX, "%s", v);
        return ST_OK;
    case K_ADDR:
        if (check_addr(v) != ST_OK) {
            return st_fail(err, errlen, ST_EINVAL,
                           "%s: \"%s\" is not HOST:PORT (port 1..65535, e.g. 127.0.0.1:7001)",
                           k->name, v);
        }
        snprintf(field, ST_CONFIG_ADDR_MAX, "%s", v);
        return ST_OK;
    case K_SIZE:
        if (parse_size(v, &sz) != ST_OK || sz < ((size_t)1 << 20)) {
            return st_fail(err, errlen, ST_EINVAL,
                           "%s: \"%s\" is not a size of at least 1M (bytes, or with K, M or G)",
                           k->name, v);
        }
        *(size_t *)(void *)field = sz;
        return ST_OK;
    case K_BYTES:
        if (parse_size(v, &sz) != ST_OK) {
            return st_fail(err, errlen, ST_EINVAL,
                           "%s: \"%s\" is not a byte count (bytes, or with K, M or G; 0 for none)",
                           k->name, v);
        }
        *(uint64_t *)(void *)field = (uint64_t)sz;
        return ST_OK;
    case K_LEVEL: {
        int lv = st_log_level_parse(v);
        if (lv < 0) {
            return st_fail(err, errlen, ST_EINVAL,
                           "%s: \"%s\" is not one of debug, info, warn, error", k->name, v);
        }
        *(int *)(void *)field = lv;
        return ST_OK;
    }
    case K_PEER: {
        st_config_peer p;
        if (parse_peer(v, &p) != ST_OK) {
            return st_fail(err, errlen, ST_EINVAL,
                           "peer: \"%s\" is not ID=RAFT_HOST:PORT,GRPC_HOST:PORT[,KEY] "
                           "(e.g. 1=127.0.0.1:7101,127.0.0.1:7001; KEY: the node's public "
                           "key in base64, 44 characters, as its log prints it)",
                           v);
        }
        if (c->n_peers == ST_CONFIG_PEERS_MAX) {
            return st_fail(err, errlen, ST_EINVAL, "peer: at most %d peers", ST_CONFIG_PEERS_MAX);
        }
        c->peers[c->n_peers++] = p;
        return ST_OK;
    }
    }
    return ST_EINVAL;
}

int st_config_set(st_config *c, const char *key, const char *value, char *err, size_t errlen) {
    const key_def *k = find_key(key);
    if (k == NULL) {
        return st_fail(err, errlen, ST_EINVAL, "unknown key \"%s\" (stratad --help lists them)",
                       key);
    }
    return set_key(c, k, value, err, errlen);
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) {
        s[--n] = '\0';
    }
    return s;
}

int st_config_load_file(st_config *c, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return st_fail(err, errlen, ST_EIO, "config: cannot read %s: %s", path, strerror(errno));
    }
    char *line = malloc(FILE_LINE_MAX);
    if (line == NULL) {
        fclose(f);
        return st_fail(err, errlen, ST_ENOMEM, "out of memory");
    }
    int rc = ST_OK;
    unsigned lineno = 0;
    while (rc == ST_OK && fgets(line, FILE_LINE_MAX, f) != NULL) {
        lineno++;
        size_t len = strlen(line);
        if (len == FILE_LINE_MAX - 1 && line[len - 1] != '\n') {
            rc = st_fail(err, errlen, ST_EINVAL, "%s:%u: line longer than %d bytes", path, lineno,
                         FILE_LINE_MAX - 2);
            break;
        }
        char *s = trim(line);
        if (s[0] == '\0' || s[0] == '#') {
            continue;
        }
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            rc = st_fail(err, errlen, ST_EINVAL, "%s:%u: expected `key = value`, got \"%s\"", path,
                         lineno, s);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        char why[512];
        if (st_config_set(c, key, value, why, sizeof(why)) != ST_OK) {
            rc = st_fail(err, errlen, ST_EINVAL, "%s:%u: %s", path, lineno, why);
        }
    }
    if (rc == ST_OK && ferror(f)) {
        rc = st_fail(err, errlen, ST_EIO, "config: error reading %s", path);
    }
    free(line);
    fclose(f);
    return rc;
}

/* Splits "--key=value" / "--key value" at argv[*i]; advances *i past what it used. */
static int next_flag(int argc, char **argv, int *i, char *key, size_t keycap, const char **value,
                     char *err, size_t errlen) {
    const char *a = argv[*i];
    if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
        return st_fail(err, errlen, ST_EINVAL, "unexpected argument \"%s\" (flags are --key value)",
                       a);
    }
    a += 2;
    const char *eq = strchr(a, '=');
    size_t klen = eq != NULL ? (size_t)(eq - a) : strlen(a);
    if (klen >= keycap) {
        return st_fail(err, errlen, ST_EINVAL, "unknown flag --%s", a);
    }
    memcpy(key, a, klen);
    key[klen] = '\0';
    (*i)++;
    if (eq != NULL) {
        *value = eq + 1;
        return ST_OK;
    }
    const key_def *k = find_key(key);
    if (k != NULL && k->type == K_BOOL) {
        *value = "true";
        return ST_OK;
    }
    if (strcmp(key, "config") != 0 && k == NULL) {
        return st_fail(err, errlen, ST_EINVAL, "unknown flag --%s (stratad --help lists them)",
                       key);
    }
    if (*i >= argc) {
        return st_fail(err, errlen, ST_EINVAL, "--%s needs a value", key);
    }
    *value = argv[(*i)++];
    return ST_OK;
}

int st_config_parse_args(st_config *c, int argc, char **argv, bool *help, char *err,
                         size_t errlen) {
    *help = false;
    char key[64];
    const char *value;
    /* Pass 1: --help and --config. */
    for (int i = 1; i < argc;) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            *help = true;
            return ST_OK;
        }
        int rc = next_flag(argc, argv, &i, key, sizeof(key), &value, err, errlen);
        if (rc != ST_OK) {
            return rc;
        }
        if (strcmp(key, "config") == 0) {
            rc = st_config_load_file(c, value, err, errlen);
            if (rc != ST_OK) {
                return rc;
            }
        }
    }
    /* Pass 2: every other flag over the file's values. */
    bool peers_from_flags = false;
    for (int i = 1; i < argc;) {
        int rc = next_flag(argc, argv, &i, key, sizeof(key), &value, err, errlen);
        if (rc != ST_OK) {
            return rc;
        }
        if (strcmp(key, "config") == 0) {
            continue;
        }
        const key_def *k = find_key(key);
        if (k == NULL || strchr(key, '_') != NULL) {
            return st_fail(err, errlen, ST_EINVAL, "unknown flag --%s (stratad --help lists them)",
                           key);
        }
        if (k->type == K_PEER && !peers_from_flags) {
            c->n_peers = 0; /* flags replace the file's peer list */
            peers_from_flags = true;
        }
        char why[512];
        if (set_key(c, k, value, why, sizeof(why)) != ST_OK) {
            return st_fail(err, errlen, ST_EINVAL, "--%s", why);
        }
    }
    return st_config_check(c, err, errlen);
}

/* The gRPC transport: TLS files, or plaintext on loopback when asked for. */
static int check_transport(const st_config *c, char *err, size_t errlen) {
    bool any_tls = c->tls_cert[0] != '\0' || c->tls_key[0] != '\0' || c->tls_client_ca[0] != '\0';
    if (c->grpc_plaintext) {
        if (any_tls) {
            return st_fail(err, errlen, ST_EINVAL,
                           "grpc-plaintext: true together with tls-cert, tls-key or "
                           "tls-client-ca; choose one: drop grpc-plaintext to serve TLS, or "
                           "the tls-* keys to serve plaintext on loopback");
        }
        if (!st_hostport_is_loopback(c->grpc_listen)) {
            return st_fail(err, errlen, ST_EINVAL,
                           "grpc-plaintext: only allowed with a loopback grpc-listen "
                           "(127.0.0.0/8, [::1] or localhost), not %s; to serve other "
                           "addresses give tls-cert and tls-key (docs/OPERATIONS.md, TLS)",
                           c->grpc_listen);
        }
        return ST_OK;
    }
    if (c->tls_cert[0] == '\0' && c->tls_key[0] == '\0') {
        return st_fail(err, errlen, ST_EINVAL,
                       "tls-cert: missing; the gRPC API serves TLS: give tls-cert FILE and "
                       "tls-key FILE (PEM; docs/OPERATIONS.md, TLS), or grpc-plaintext = true "
                       "with a loopback grpc-listen for a node used from this machine only");
    }
    if (c->tls_cert[0] == '\0') {
        return st_fail(err, errlen, ST_EINVAL,
                       "tls-cert: missing; give the certificate chain (PEM) of tls-key %s",
                       c->tls_key);
    }
    if (c->tls_key[0] == '\0') {
        return st_fail(err, errlen, ST_EINVAL,
                       "tls-key: missing; give the private key (PEM) of tls-cert %s", c->tls_cert);
    }
    return ST_OK;
}

const st_config_peer *st_config_find_peer(const st_config *c, uint64_t id) {
    for (size_t i = 0; i < c->n_peers; i++) {
        if (c->peers[i].id == id) {
            return &c->peers[i];
        }
    }
    return NULL;
}

int st_config_check(const st_config *c, char *err, size_t errlen) {
    if (c->id == 0) {
        return st_fail(err, errlen, ST_EINVAL, "id: missing (this node's Raft id, e.g. --id 1)");
    }
    if (c->data_dir[0] == '\0') {
        return st_fail(err, errlen, ST_EINVAL,
                       "data-dir: missing (e.g. --data-dir /var/lib/strata)");
    }
    if (c->grpc_listen[0] == '\0') {
        return st_fail(err, errlen, ST_EINVAL,
                       "grpc-listen: missing (e.g. --grpc-listen 127.0.0.1:7001)");
    }
    if (c->raft_listen[0] == '\0') {
        return st_fail(err, errlen, ST_EINVAL,
                       "raft-listen: missing (e.g. --raft-listen 127.0.0.1:7101)");
    }
    if (strcmp(c->grpc_listen, c->raft_listen) == 0) {
        return st_fail(err, errlen, ST_EINVAL, "grpc-listen and raft-listen must differ");
    }
    for (size_t i = 0; i < c->n_peers; i++) {
        for (size_t j = 0; j < i; j++) {
            if (c->peers[i].id == c->peers[j].id) {
                return st_fail(err, errlen, ST_EINVAL, "peer: id %llu is given twice",
                               (unsigned long long)c->peers[i].id);
            }
            if (strcmp(c->peers[i].raft, c->peers[j].raft) == 0 ||
                strcmp(c->peers[i].grpc, c->peers[j].grpc) == 0) {
                return st_fail(err, errlen, ST_EINVAL, "peer: nodes %llu and %llu share an address",
                               (unsigned long long)c->peers[j].id,
                               (unsigned long long)c->peers[i].id);
            }
        }
    }
    const st_config_peer *self = st_config_find_peer(c, c->id);
    if (!c->join && c->n_peers == 0) {
        return st_fail(err, errlen, ST_EINVAL,
                       "peer: missing; give every member as --peer ID=RAFT,GRPC (this node "
                       "included), or --join to wait to be added");
    }
    if (!c->join && self == NULL) {
        return st_fail(err, errlen, ST_EINVAL,
                       "peer: this node (id %llu) is not in the peer list; add --peer %llu=%s,%s",
                       (unsigned long long)c->id, (unsigned long long)c->id, c->raft_listen,
                       c->grpc_listen);
    }
    if (self != NULL && strcmp(self->raft, c->raft_listen) != 0) {
        return st_fail(err, errlen, ST_EINVAL,
                       "peer: node %llu's Raft address %s differs from raft-listen %s",
                       (unsigned long long)c->id, self->raft, c->raft_listen);
    }
    if (c->heartbeat_ms >= c->election_timeout_ms) {
        return st_fail(err, errlen, ST_EINVAL,
                       "heartbeat-ms: %u must be below election-timeout-ms (%u)", c->heartbeat_ms,
                       c->election_timeout_ms);
    }
    if (c->grpc_threads > 64) {
        return st_fail(err, errlen, ST_EINVAL, "grpc-threads: at most 64");
    }
    return check_transport(c, err, errlen);
}

void st_config_usage(FILE *out) {
    fprintf(out, "usage: stratad [--config FILE] [--KEY VALUE ...]\n\n"
                 "Runs one Strata node: Raft on raft-listen, the gRPC API on grpc-listen.\n"
                 "The gRPC API serves TLS (tls-cert, tls-key; client certificates with\n"
                 "tls-client-ca); without TLS only when grpc-plaintext = true and grpc-listen\n"
                 "is a loopback address (127.0.0.0/8, [::1], localhost).\n"
                 "Every key can also be a `key = value` line of the --config file; flags win.\n\n");
    fprintf(out, "  %-36s %s\n", "--config FILE", "read keys from FILE first");
    for (size_t i = 0; i < N_KEYS; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s %s", keys[i].name, keys[i].arg);
        fprintf(out, "  %-36s %s\n", left, keys[i].help);
    }
    fprintf(out, "\nExit status: 0 after a clean stop (SIGTERM or SIGINT), 1 on a runtime "
                 "failure, 2 on a configuration error.\n");
}
