/* tls.c - a handle's TLS files (internal.h): read whole and checked with libcrypto before
 * gRPC gets them, because gRPC parses them only when it connects, and then turns a bad file
 * into a channel that fails every call as if the cluster were unreachable. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "client/lib/internal.h"

/* Largest TLS file read (a CA bundle of the whole Web PKI is about 200 KiB). */
#define TLS_FILE_MAX ((size_t)1 << 20)

static void free_text(char *t) {
    if (t != NULL) {
        OPENSSL_cleanse(t, strlen(t));
        free(t);
    }
}

/* Reads the whole file into a new NUL-terminated buffer (*out). */
static int read_text(const char *what, const char *path, char **out, st_error *err) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EIO, "TLS %s: cannot read %.300s: %s", what, path,
                        strerror(errno));
    }
    char *buf = malloc(TLS_FILE_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        return st__fail(err, ST_FAIL_LOCAL, ST_ENOMEM, "out of memory");
    }
    size_t n = fread(buf, 1, TLS_FILE_MAX + 1, f);
    int bad = ferror(f);
    fclose(f);
    buf[n > TLS_FILE_MAX ? TLS_FILE_MAX : n] = '\0';
    if (bad || n > TLS_FILE_MAX || strlen(buf) != n) {
        free_text(buf);
        return st__fail(err, ST_FAIL_LOCAL, bad ? ST_EIO : ST_EINVAL,
                        bad                ? "TLS %s: cannot read %.300s (a directory?)"
                        : n > TLS_FILE_MAX ? "TLS %s: %.300s is larger than 1 MiB"
                                           : "TLS %s: %.300s is not a PEM text file",
                        what, path);
    }
    *out = buf;
    return ST_OK;
}

/* Checks that pem holds one or more certificates and nothing damaged; *first (may be
 * NULL) receives the first one, the caller's to X509_free. */
static int check_certs(const char *what, const char *path, const char *pem, X509 **first,
                       st_error *err) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (bio == NULL) {
        return st__fail(err, ST_FAIL_LOCAL, ST_ENOMEM, "out of memory");
    }
    ERR_clear_error();
    int n = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (n++ == 0 && first != NULL) {
            *first = x;
        } else {
            X509_free(x);
        }
    }
    unsigned long e = ERR_peek_last_error();
    bool clean_end =
        e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
    ERR_clear_error();
    BIO_free(bio);
    if (n > 0 && clean_end) {
        return ST_OK;
    }
    if (n > 0 && first != NULL) {
        X509_free(*first);
        *first = NULL;
    }
    if (n == 0 && clean_end) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "TLS %s: %.300s holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                        what, path);
    }
    return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                    "TLS %s: %.300s: certificate %d is damaged (not a valid PEM X.509 "
                    "certificate)",
                    what, path, n + 1);
}

/* Never asked: an encrypted key is refused (the library cannot prompt). */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Checks that pem holds an unencrypted private key that belongs to leaf. */
static int check_key(const char *path, const char *pem, X509 *leaf, const char *cert_path,
                     st_error *err) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (bio == NULL) {
        return st__fail(err, ST_FAIL_LOCAL, ST_ENOMEM, "out of memory");
    }
    ERR_clear_error();
    EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    int rc = ST_OK;
    if (k == NULL) {
        rc = st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                      strstr(pem, "ENCRYPTED") != NULL
                          ? "TLS client key: %.300s is encrypted; give it unencrypted (mode 0600)"
                          : "TLS client key: %.300s holds no PEM private key (-----BEGIN PRIVATE "
                            "KEY-----)",
                      path);
    } else if (X509_check_private_key(leaf, k) != 1) {
        rc = st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                      "TLS client key: %.300s is not the private key of the certificate in "
                      "%.300s",
                      path, cert_path);
    }
    ERR_clear_error();
    EVP_PKEY_free(k);
    return rc;
}

int st__tls_files_load(const char *ca_file, const char *cert_file, const char *key_file, char **ca,
                       char **cert, char **key, st_error *err) {
    *ca = *cert = *key = NULL;
    X509 *leaf = NULL;
    int rc = ST_OK;
    if (ca_file != NULL) {
        rc = read_text("CA file", ca_file, ca, err);
        if (rc == ST_OK) {
            rc = check_certs("CA file", ca_file, *ca, NULL, err);
        }
    }
    if (rc == ST_OK && cert_file != NULL) {
        rc = read_text("client certificate", cert_file, cert, err);
        if (rc == ST_OK) {
            rc = check_certs("client certificate", cert_file, *cert, &leaf, err);
        }
    }
    if (rc == ST_OK && key_file != NULL) {
        rc = read_text("client key", key_file, key, err);
        if (rc == ST_OK && leaf != NULL) {
            rc = check_key(key_file, *key, leaf, cert_file, err);
        }
    }
    X509_free(leaf);
    if (rc != ST_OK) {
        free_text(*ca);
        free_text(*cert);
        free_text(*key);
        *ca = *cert = *key = NULL;
    }
    return rc;
}
