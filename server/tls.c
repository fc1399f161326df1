/* tls.c - reading and checking the gRPC API's TLS files (tls.h) with OpenSSL's libcrypto:
 * PEM certificates and keys, the key-certificate match, dates and names of the leaf for
 * the log. Nothing here talks to the network; gRPC does the handshakes. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/error.h"
#include "server/tls.h"

#define TLS_FILE_MAX ((size_t)1 << 20)
#define EXPIRY_WARN_DAYS 30

/* Reads the whole file into a new NUL-terminated buffer (*out). */
static int read_text(const char *key, const char *path, char **out, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return st_fail(err, errlen, ST_EIO, "%s: cannot read %s: %s", key, path, strerror(errno));
    }
    char *buf = malloc(TLS_FILE_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        return st_fail(err, errlen, ST_ENOMEM, "out of memory");
    }
    size_t n = fread(buf, 1, TLS_FILE_MAX + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n > TLS_FILE_MAX) {
        OPENSSL_cleanse(buf, TLS_FILE_MAX + 1);
        free(buf);
        return st_fail(err, errlen, bad ? ST_EIO : ST_ERANGE,
                       bad ? "%s: cannot read %s (a directory?)" : "%s: %s is larger than 1 MiB",
                       key, path);
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        OPENSSL_cleanse(buf, n);
        free(buf);
        return st_fail(err, errlen, ST_EINVAL, "%s: %s is not a PEM text file (it has NUL bytes)",
                       key, path);
    }
    *out = buf;
    return ST_OK;
}

/* The certificates of PEM text, in order (*out: a new stack, the caller frees it with
 * sk_X509_pop_free(..., X509_free)). At least one, and nothing damaged. */
static int read_certs(const char *key, const char *path, const char *pem, STACK_OF(X509) * *out,
                      char *err, size_t errlen) {
    STACK_OF(X509) *certs = sk_X509_new_null();
    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (certs == NULL || bio == NULL) {
        sk_X509_free(certs);
        BIO_free(bio);
        return st_fail(err, errlen, ST_ENOMEM, "out of memory");
    }
    ERR_clear_error();
    for (;;) {
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (x == NULL) {
            break;
        }
        if (sk_X509_push(certs, x) == 0) {
            X509_free(x);
            break;
        }
    }
    unsigned long e = ERR_peek_last_error();
    bool clean_end =
        e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
    ERR_clear_error();
    BIO_free(bio);
    int n = sk_X509_num(certs);
    if (n == 0 || !clean_end) {
        sk_X509_pop_free(certs, X509_free);
        if (n == 0 && clean_end) {
            return st_fail(err, errlen, ST_EINVAL,
                           "%s: %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", key,
                           path);
        }
        return st_fail(err, errlen, ST_EINVAL,
                       "%s: %s: certificate %d is damaged (not a valid PEM X.509 certificate)", key,
                       path, n + 1);
    }
    *out = certs;
    return ST_OK;
}

/* Never asked: stratad cannot type a passphrase, so an encrypted key is refused. */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Appends printf text to a NUL-terminated buffer of cap bytes, truncating. */
__attribute__((format(printf, 3, 4))) static void append(char *buf, size_t cap, const char *fmt,
                                                         ...) {
    size_t used = strlen(buf);
    if (used + 1 >= cap) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, cap - used, fmt, ap);
    va_end(ap);
}

/* "subject CN=...; names DNS:..., IP:...; valid until YYYY-MM-DD" into out, and the warnings
 * about the leaf's dates and names into warn. */
static void describe_leaf(X509 *leaf, char *out, size_t cap, char *warn, size_t wcap) {
    char cn[256] = "";
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof(cn)) <
        0) {
        snprintf(cn, sizeof(cn), "(none)");
    }
    snprintf(out, cap, "subject CN=%s; names ", cn);
    GENERAL_NAMES *names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    int shown = 0;
    for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        if (g->type == GEN_DNS) {
            const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
            int len = ASN1_STRING_length(g->d.dNSName);
            append(out, cap, "%sDNS:%.*s", shown++ ? ", " : "", len > 200 ? 200 : len,
                   (const char *)s);
        } else if (g->type == GEN_IPADD) {
            int len = ASN1_STRING_length(g->d.iPAddress);
            const unsigned char *s = ASN1_STRING_get0_data(g->d.iPAddress);
            char ip[INET6_ADDRSTRLEN] = "?";
            if (len == 4 || len == 16) {
                inet_ntop(len == 4 ? AF_INET : AF_INET6, s, ip, sizeof(ip));
            }
            append(out, cap, "%sIP:%s", shown++ ? ", " : "", ip);
        }
    }
    GENERAL_NAMES_free(names);
    if (shown == 0) {
        append(out, cap, "(none)");
        append(warn, wcap,
               "%sthe certificate has no subjectAltName: clients check the address they dial "
               "(DNS name or IP) against it, so give it one",
               warn[0] ? "; " : "");
    }
    const ASN1_TIME *not_after = X509_get0_notAfter(leaf);
    const ASN1_TIME *not_before = X509_get0_notBefore(leaf);
    struct tm tm;
    char date[32] = "?";
    if (ASN1_TIME_to_tm(not_after, &tm) == 1) {
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &tm);
    }
    append(out, cap, "; valid until %s", date);
    int days = 0, secs = 0;
    if (X509_cmp_current_time(not_before) > 0) {
        append(warn, wcap, "%sthe certificate is not valid yet: clients will refuse it",
               warn[0] ? "; " : "");
    } else if (ASN1_TIME_diff(&days, &secs, NULL, not_after) == 1) {
        if (days < 0 || (days == 0 && secs <= 0)) {
            append(warn, wcap,
                   "%sthe certificate expired on %s: clients will refuse it; renew it and "
                   "restart",
                   warn[0] ? "; " : "", date);
        } else if (days < EXPIRY_WARN_DAYS) {
            append(warn, wcap, "%sthe certificate expires in %d day%s (%s): renew it and restart",
                   warn[0] ? "; " : "", days, days == 1 ? "" : "s", date);
        }
    }
}

void st_tls_free(st_tls_files *t) {
    if (t->key_pem != NULL) {
        OPENSSL_cleanse(t->key_pem, strlen(t->key_pem));
    }
    free(t->cert_pem);
    free(t->key_pem);
    free(t->client_ca_pem);
    memset(t, 0, sizeof(*t));
}

int st_tls_load(const char *cert, const char *key, const char *client_ca, st_tls_files *out,
                char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    STACK_OF(X509) *chain = NULL, *cas = NULL;
    EVP_PKEY *pkey = NULL;
    int rc = read_text("tls-cert", cert, &out->cert_pem, err, errlen);
    if (rc == ST_OK) {
        rc = read_certs("tls-cert", cert, out->cert_pem, &chain, err, errlen);
    }
    if (rc == ST_OK) {
        rc = read_text("tls-key", key, &out->key_pem, err, errlen);
    }
    if (rc == ST_OK) {
        BIO *bio = BIO_new_mem_buf(out->key_pem, -1);
        if (bio == NULL) {
            rc = st_fail(err, errlen, ST_ENOMEM, "out of memory");
        } else {
            ERR_clear_error();
            pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
            ERR_clear_error();
            BIO_free(bio);
            if (pkey == NULL) {
                if (strstr(out->key_pem, "ENCRYPTED") != NULL) {
                    rc = st_fail(err, errlen, ST_EINVAL,
                                 "tls-key: %s is encrypted with a passphrase; stratad needs it "
                                 "unencrypted (`openssl pkey -in %s -out NEW`), mode 0600",
                                 key, key);
                } else {
                    rc = st_fail(err, errlen, ST_EINVAL,
                                 "tls-key: %s holds no PEM private key (-----BEGIN PRIVATE "
                                 "KEY-----)",
                                 key);
                }
            }
        }
    }
    if (rc == ST_OK && X509_check_private_key(sk_X509_value(chain, 0), pkey) != 1) {
        ERR_clear_error();
        rc = st_fail(err, errlen, ST_EINVAL,
                     "tls-key: %s is not the private key of the first certificate in tls-cert %s",
                     key, cert);
    }
    if (rc == ST_OK && client_ca != NULL && client_ca[0] != '\0') {
        rc = read_text("tls-client-ca", client_ca, &out->client_ca_pem, err, errlen);
        if (rc == ST_OK) {
            rc = read_certs("tls-client-ca", client_ca, out->client_ca_pem, &cas, err, errlen);
        }
    }
    if (rc == ST_OK) {
        out->n_chain = (size_t)sk_X509_num(chain);
        out->n_client_ca = cas != NULL ? (size_t)sk_X509_num(cas) : 0;
        describe_leaf(sk_X509_value(chain, 0), out->summary, sizeof(out->summary), out->warn,
                      sizeof(out->warn));
        struct stat st;
        if (stat(key, &st) == 0 && (st.st_mode & 077) != 0) {
            append(out->warn, sizeof(out->warn),
                   "%stls-key %s is readable by group or others: chmod 600 it",
                   out->warn[0] ? "; " : "", key);
        }
    }
    EVP_PKEY_free(pkey);
    if (chain != NULL) {
        sk_X509_pop_free(chain, X509_free);
    }
    if (cas != NULL) {
        sk_X509_pop_free(cas, X509_free);
    }
    return rc;
}
