/* cli_net.c - what the commands that talk to the cluster share: opening the libstrata
 * handle from the global options, loading the key (asking for a sealed key's passphrase),
 * turning a library error into a message that says what to do and an exit code, progress
 * on a terminal, and names for the API's enums and times.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <grpc/support/log.h>

#include "client/cli.h"
#include "crypto/hash.h"

#define ENV_PASSPHRASE "STRATA_PASSPHRASE"

bool cli_progress(void) {
    return isatty(STDERR_FILENO) != 0;
}

/* Reads one line from the terminal fd without echo into buf. 1 ok, -1 error. */
static int read_hidden(int fd, const char *prompt, char *buf, size_t cap, size_t *len) {
    struct termios old, quiet;
    bool restore = tcgetattr(fd, &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    if (write(fd, prompt, strlen(prompt)) < 0) {
        /* the prompt is a courtesy; reading still works */
    }
    size_t n = 0;
    int rc = 1;
    for (;;) {
        char ch;
        ssize_t got = read(fd, &ch, 1);
        if (got <= 0) {
            rc = n > 0 ? 1 : -1;
            break;
        }
        if (ch == '\n' || ch == '\r') {
            break;
        }
        if (n + 1 < cap) {
            buf[n++] = ch;
        }
    }
    buf[n] = '\0';
    *len = n;
    if (restore) {
        tcsetattr(fd, TCSAFLUSH, &old);
    }
    if (write(fd, "\n", 1) < 0) {
        /* as above */
    }
    return rc;
}

int cli_passphrase(const cli_command *cmd, const char *prompt, bool confirm, char *buf, size_t cap,
                   size_t *len) {
    const char *env = getenv(ENV_PASSPHRASE);
    if (env != NULL && env[0] != '\0') {
        size_t n = strlen(env);
        if (n + 1 > cap) {
            cli_fail(cmd, "%s is longer than %zu bytes", ENV_PASSPHRASE, cap - 1);
            return -1;
        }
        memcpy(buf, env, n + 1);
        *len = n;
        return 1;
    }
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return 0;
    }
    int rc = read_hidden(fd, prompt, buf, cap, len);
    if (rc == 1 && confirm) {
        char again[256];
        size_t alen = 0;
        rc = read_hidden(fd, "Repeat the passphrase: ", again, sizeof(again), &alen);
        if (rc == 1 && (alen != *len || memcmp(again, buf, alen) != 0)) {
            cli_fail(cmd, "the two passphrases differ; nothing was written");
            rc = -1;
        }
        memset(again, 0, sizeof(again));
    }
    if (rc == 1 && *len == 0) {
        cli_fail(cmd, "the passphrase is empty");
        rc = -1;
    } else if (rc < 0 && !confirm) {
        cli_fail(cmd, "cannot read the passphrase from the terminal");
    }
    close(fd);
    return rc;
}

int cli_load_key(const cli_command *cmd, const char *path, st_keypair **out) {
    bool sealed = false;
    uint8_t pk[ST_SIGN_PK_LEN];
    st_error e;
    if (st_keyfile_info(path, &sealed, pk, &e) != ST_OK) {
        return cli_error(cmd, &e);
    }
    char pass[256];
    size_t plen = 0;
    if (sealed) {
        char prompt[300];
        snprintf(prompt, sizeof(prompt), "Passphrase of %.250s: ", path);
        int got = cli_passphrase(cmd, prompt, false, pass, sizeof(pass), &plen);
        if (got < 0) {
            return CLI_EXIT_FAIL;
        }
        if (got == 0) {
            return cli_fail(
                cmd, "%s is sealed with a passphrase; set " ENV_PASSPHRASE " or run on a terminal",
                path);
        }
    }
    int rc = st_keypair_load(path, sealed ? pass : NULL, plen, out, &e);
    memset(pass, 0, sizeof(pass));
    return rc == ST_OK ? CLI_EXIT_OK : cli_error(cmd, &e);
}

int cli_need_cluster(const cli_command *cmd, const cli_globals *g) {
    if (g->cluster == NULL || g->cluster[0] == '\0') {
        return cli_usage_error(cmd, "no cluster: give --cluster HOST:PORT[,HOST:PORT...] or set "
                                    "STRATA_CLUSTER");
    }
    return CLI_EXIT_OK;
}

/* The transport of the last handle opened, for the hints of cli_error(). */
static bool last_plaintext;

/* gRPC's own log lines (a failed TLS handshake, for one) would break the rule of one
 * "strata NAME: " line per message; the reasons reach the user through st_error. */
static void quiet_grpc_log(gpr_log_func_args *args) {
    (void)args;
}

/* Usage errors of the transport options, found before anything is read or sent. */
static int check_transport(const cli_command *cmd, const cli_globals *g) {
    bool tls_files = (g->ca != NULL && g->ca[0] != '\0') ||
                     (g->cert != NULL && g->cert[0] != '\0') ||
                     (g->cert_key != NULL && g->cert_key[0] != '\0');
    if (g->plaintext && tls_files) {
        return cli_usage_error(cmd, "--plaintext (or STRATA_PLAINTEXT) excludes --ca, --cert and "
                                    "--cert-key (or STRATA_CA, STRATA_CERT, STRATA_CERT_KEY)");
    }
    bool cert = g->cert != NULL && g->cert[0] != '\0';
    bool key = g->cert_key != NULL && g->cert_key[0] != '\0';
    if (cert != key) {
        return cli_usage_error(cmd, cert ? "--cert needs --cert-key, the certificate's private key"
                                         : "--cert-key needs --cert, its certificate");
    }
    return CLI_EXIT_OK;
}

int cli_connect(const cli_command *cmd, const cli_globals *g, st_client **out) {
    int need = cli_need_cluster(cmd, g);
    if (need == CLI_EXIT_OK) {
        need = check_transport(cmd, g);
    }
    if (need != CLI_EXIT_OK) {
        return need;
    }
    st_keypair *key = NULL;
    if (g->key != NULL && g->key[0] != '\0') {
        int rc = cli_load_key(cmd, g->key, &key);
        if (rc != CLI_EXIT_OK) {
            return rc;
        }
    }
    st_client_options o;
    st_client_options_init(&o);
    o.cluster = g->cluster;
    o.key = key;
    if (g->timeout_ms != 0) {
        o.deadline_ms = g->timeout_ms;
        if (o.attempt_ms > o.deadline_ms) {
            o.attempt_ms = o.deadline_ms;
        }
    }
    o.plaintext = g->plaintext;
    o.tls_ca_file = g->ca != NULL && g->ca[0] != '\0' ? g->ca : NULL;
    o.tls_cert_file = g->cert != NULL && g->cert[0] != '\0' ? g->cert : NULL;
    o.tls_key_file = g->cert_key != NULL && g->cert_key[0] != '\0' ? g->cert_key : NULL;
    last_plaintext = g->plaintext;
    gpr_set_log_function(quiet_grpc_log);
    st_error e;
    int rc = st_client_new(&o, out, &e);
    st_keypair_free(key);
    if (rc != ST_OK) {
        if (e.kind == ST_FAIL_LOCAL && e.code == ST_EPERM) {
            return cli_usage_error(cmd, "--plaintext: %s", e.message);
        }
        if (e.kind == ST_FAIL_LOCAL && e.code == ST_EINVAL && strncmp(e.message, "TLS ", 4) != 0) {
            return cli_usage_error(cmd, "--cluster: %s", e.message);
        }
        return cli_error(cmd, &e);
    }
    return CLI_EXIT_OK;
}

/* A hint for an unreachable cluster whose reasons show a transport problem, or "". */
static const char *transport_hint(const st_error *e) {
    bool tls_failed = strstr(e->message, "(TLS") != NULL;
    bool closed = strstr(e->message, "connection closed by the node") != NULL;
    if (!last_plaintext && tls_failed) {
        return "; the TLS handshake failed: give --ca with the CA that signed the nodes' "
               "certificates (without it the system's roots are used), or --plaintext for "
               "nodes on this machine that serve without TLS";
    }
    if (!last_plaintext && closed) {
        return "; a node that closes the connection at once may require a client certificate: "
               "give --cert and --cert-key (signed by the CA of its tls-client-ca)";
    }
    if (last_plaintext && closed) {
        return "; a node that closes the connection at once may serve TLS only: drop --plaintext "
               "(and STRATA_PLAINTEXT) and give --ca";
    }
    return "";
}

/* What to do about a refusal with this gRPC status. */
static const char *refusal_hint(int status) {
    switch (status) {
    case 3: /* INVALID_ARGUMENT */
        return "check the values given (--help lists them)";
    case 5: /* NOT_FOUND */
        return "check the id (strata vote list COMMUNITY and strata community show ID list what "
               "exists)";
    case 6: /* ALREADY_EXISTS */
        return "it exists already; nothing was changed";
    case 7: /* PERMISSION_DENIED */
        return "the key used (--key or STRATA_KEY) has no right to this: use the key of the "
               "role that does it (docs/ROLES.md), e.g. the community's appointed organiser, the "
               "owner's enrolled key, or a proxy with a recorded authorisation";
    case 9: /* FAILED_PRECONDITION */
        return "not allowed in the current state; check the state first (strata vote result "
               "VOTE, strata community show ID)";
    case 8: /* RESOURCE_EXHAUSTED */
        return "the request is too large or the service is busy; split it, or retry later";
    case 12: /* UNIMPLEMENTED */
        return "the cluster does not offer this call; check that the strata program and the "
               "cluster are the same version";
    case 16: /* UNAUTHENTICATED */
        return "the request's signature was refused: check --key (or STRATA_KEY), that the key "
               "is registered, and this computer's clock";
    default:
        return "try again; if it persists, show this message to the cluster's operator";
    }
}

int cli_error(const cli_command *cmd, const st_error *e) {
    switch (e->kind) {
    case ST_FAIL_UNREACHABLE:
        fprintf(stderr,
                "strata %s: %s; check --cluster (or STRATA_CLUSTER) and that the nodes run "
                "(strata cluster status)%s\n",
                cmd->name, e->message, transport_hint(e));
        return CLI_EXIT_UNREACHABLE;
    case ST_FAIL_REFUSED:
        if (e->grpc_status > 0) {
            fprintf(stderr, "strata %s: refused by the service (%s): %s; %s\n", cmd->name,
                    st_grpc_status_name(e->grpc_status), e->message, refusal_hint(e->grpc_status));
        } else {
            fprintf(stderr, "strata %s: %s\n", cmd->name, e->message);
        }
        return CLI_EXIT_FAIL;
    default:
        fprintf(stderr, "strata %s: %s\n", cmd->name, e->message);
        return CLI_EXIT_FAIL;
    }
}

const char *cli_time(uint64_t ms, char *buf, size_t len) {
    if (ms == 0) {
        snprintf(buf, len, "-");
        return buf;
    }
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&s, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(buf, len, "%llu", (unsigned long long)ms);
    }
    return buf;
}

const char *cli_vote_state(int state) {
    static const char *const names[] = {"unspecified", "draft",  "noticed",
                                        "open",        "closed", "published"};
    return state >= 0 && state <= 5 ? names[state] : "unknown";
}

const char *cli_choice_name(int choice) {
    static const char *const names[] = {"none", "agree", "disagree", "abstain"};
    return choice >= 0 && choice <= 3 ? names[choice] : "unknown";
}

const char *cli_unit_status(int status) {
    return status == STRATA__V1__UNIT_STATUS__UNIT_DEVELOPER_UNSOLD ? "developer_unsold"
           : status == STRATA__V1__UNIT_STATUS__UNIT_OWNED          ? "owned"
                                                                    : "unknown";
}

int cli_connect_signed(const cli_command *cmd, const cli_globals *g, st_client **out) {
    if (g->key == NULL || g->key[0] == '\0') {
        int need = cli_need_cluster(cmd, g);
        if (need != CLI_EXIT_OK) {
            return need;
        }
        return cli_usage_error(cmd, "this request is signed: give the key file with --key FILE "
                                    "(or STRATA_KEY)");
    }
    return cli_connect(cmd, g, out);
}

int cli_public_key(const cli_command *cmd, const char *what, const char *text,
                   uint8_t pk[ST_SIGN_PK_LEN]) {
    char msg[200];
    if (st_sign_pk_parse(pk, text, strlen(text), msg, sizeof(msg)) != ST_OK) {
        return cli_usage_error(cmd,
                               "%s \"%.60s\" is not a public key (44 base64 or 64 hex characters, "
                               "as strata keygen prints it): %s",
                               what, text, msg);
    }
    return CLI_EXIT_OK;
}

int cli_file_sha256(const cli_command *cmd, const char *path, uint8_t out[32]) {
    char *buf = NULL;
    size_t len = 0;
    char err[600];
    if (cli_read_file(path, &buf, &len, err, sizeof(err)) != ST_OK) {
        return cli_fail(cmd, "%s", err);
    }
    st_hash_sha256(out, buf, len);
    free(buf);
    return CLI_EXIT_OK;
}
