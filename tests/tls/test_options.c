/* test_options.c - libstrata's transport options without a server: which addresses count
 * as loopback (and so may be dialled in plaintext), and st_client_new()'s refusals of
 * plaintext to another machine, of plaintext mixed with TLS files, of a certificate
 * without its key, and of TLS files that are missing, not PEM, damaged, encrypted, or a
 * key that is not the certificate's; a plaintext handle refuses at once a call pinned to
 * another machine. The files are made with openssl at test time.
 *
 * Usage: tls_options OPENSSL SCRATCH_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/strata.h"
#include "tests/core/check.h"
#include "tests/tls/certs.h"

static void check_loopback(void) {
    static const char *const yes[] = {"127.0.0.1:7001", "127.255.3.4:1", "localhost:7001",
                                      "LOCALHOST:80",   "[::1]:7001",    "[0:0:0:0:0:0:0:1]:9"};
    static const char *const no[] = {"0.0.0.0:7001",  "10.0.0.1:7001",
                                     "128.0.0.1:1",   "[::]:7001",
                                     "::1:7001",      "[::2]:7001",
                                     "127.1:80",      "127.0.0.1.x:80",
                                     "localhost.x:1", "node1:7001",
                                     "127.0.0.1",     ":7001",
                                     "[::1:7001",     "",
                                     "[]:1"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (!st_address_is_loopback(yes[i])) {
            fprintf(stderr, "%s should be loopback\n", yes[i]);
            CHECK(false);
        }
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        if (st_address_is_loopback(no[i])) {
            fprintf(stderr, "%s should not be loopback\n", no[i]);
            CHECK(false);
        }
    }
    printf("ok: %zu loopback and %zu other addresses told apart\n", sizeof(yes) / sizeof(yes[0]),
           sizeof(no) / sizeof(no[0]));
}

/* st_client_new with these options must fail with code and a message containing text. */
static void refused(const st_client_options *o, int code, const char *text) {
    st_client *c = NULL;
    st_error e;
    int rc = st_client_new(o, &c, &e);
    if (rc != code) {
        fprintf(stderr, "st_client_new: %d (want %d): %s\n", rc, code, rc ? e.message : "ok");
    }
    CHECK_EQ(rc, code);
    CHECK(c == NULL);
    CHECK_EQ(e.kind, ST_FAIL_LOCAL);
    CHECK_HAS(e.message, text);
    printf("ok: refused: %s\n", e.message);
}

static void accepted(const st_client_options *o) {
    st_client *c = NULL;
    st_error e;
    int rc = st_client_new(o, &c, &e);
    if (rc != ST_OK) {
        fprintf(stderr, "st_client_new: %s\n", e.message);
    }
    CHECK_EQ(rc, ST_OK);
    st_client_close(c);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    CHECK(fclose(f) == 0);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: tls_options OPENSSL SCRATCH_DIR\n");
        return 2;
    }
    const char *dir = argv[2];
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    CHECK(mkdir(dir, 0700) == 0);
    tt_certs_init(argv[1], dir);
    tt_make_ca("ca");
    tt_make_cert("client", "ca", "extendedKeyUsage=clientAuth");
    tt_make_cert("other", "ca", "extendedKeyUsage=clientAuth");
    /* A damaged certificate: the first 200 bytes of a good one, then the end line. */
    FILE *f = fopen(tt_path(0, "ca.pem"), "r");
    CHECK(f != NULL);
    char head[201];
    size_t n = fread(head, 1, 200, f);
    fclose(f);
    head[n] = '\0';
    char damaged[400];
    snprintf(damaged, sizeof(damaged), "%s\n-----END CERTIFICATE-----\n", head);
    write_file(tt_path(0, "damaged.pem"), damaged);
    /* The client key encrypted with a passphrase. */
    char *enc[] = {
        "pkey",        "-in",  (char *)tt_path(0, "client.key"),    "-aes256", "-passout",
        "pass:secret", "-out", (char *)tt_path(1, "encrypted.key"), NULL};
    tt_openssl(enc);

    check_loopback();

    st_client_options o;
    st_client_options_init(&o);
    o.cluster = "127.0.0.1:7001,localhost:7002,[::1]:7003";
    o.plaintext = true;
    accepted(&o);
    o.cluster = "127.0.0.1:7001,10.0.0.1:7002";
    refused(&o, ST_EPERM, "10.0.0.1:7002 is not one");
    o.cluster = "::1:7001";
    refused(&o, ST_EPERM, "::1:7001 is not one");
    o.cluster = "127.0.0.1:7001";
    o.tls_ca_file = tt_path(0, "ca.pem");
    refused(&o, ST_EINVAL, "plaintext excludes the TLS files");
    o.plaintext = false;
    accepted(&o); /* TLS with the CA */
    o.tls_ca_file = NULL;
    accepted(&o); /* TLS with the system's roots */

    o.cluster = "10.0.0.1:7001";
    o.tls_ca_file = tt_path(0, "missing.pem");
    refused(&o, ST_EIO, "TLS CA file: cannot read");
    o.tls_ca_file = tt_path(0, "client.key");
    refused(&o, ST_EINVAL, "holds no PEM certificate");
    o.tls_ca_file = tt_path(0, "damaged.pem");
    refused(&o, ST_EINVAL, "certificate 1 is damaged");
    o.tls_ca_file = tt_path(0, "ca.pem");
    o.tls_cert_file = tt_path(1, "client.pem");
    refused(&o, ST_EINVAL, "TLS client certificate without its key");
    o.tls_cert_file = NULL;
    o.tls_key_file = tt_path(1, "client.key");
    refused(&o, ST_EINVAL, "TLS client key without its certificate");
    o.tls_cert_file = tt_path(2, "client.pem");
    o.tls_key_file = tt_path(1, "other.key");
    refused(&o, ST_EINVAL, "is not the private key of the certificate");
    o.tls_key_file = tt_path(1, "encrypted.key");
    refused(&o, ST_EINVAL, "is encrypted");
    o.tls_key_file = tt_path(1, "client.pem");
    refused(&o, ST_EINVAL, "holds no PEM private key");
    o.tls_key_file = tt_path(1, "client.key");
    accepted(&o);

    /* A plaintext handle never dials another machine, even when a call names one. */
    st_client_options_init(&o);
    o.cluster = "127.0.0.1:1";
    o.plaintext = true;
    st_client *c = NULL;
    st_error e;
    CHECK_EQ(st_client_new(&o, &c, &e), ST_OK);
    Strata__V1__StatusResponse *s = NULL;
    CHECK_EQ(st_cluster_status(c, "10.0.0.1:7001", &s, &e), ST_EINVAL);
    CHECK_EQ(e.kind, ST_FAIL_LOCAL);
    CHECK_HAS(e.message, "is not on this machine");
    printf("ok: %s\n", e.message);
    st_client_close(c);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    printf("tls_options: all passed\n");
    return 0;
}
