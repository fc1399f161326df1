/* tls.h - the gRPC API's TLS files (tls-cert, tls-key, tls-client-ca of server/config.h),
 * read and checked at start so that a bad file stops stratad with a message naming the
 * key and the file instead of a failed handshake later: each file must be readable and
 * hold PEM of the right kind (certificates; one unencrypted private key), and the key must
 * be the private key of the first certificate of tls-cert. The contents go to gRPC
 * (server/rpc/rpc.h) as PEM text.
 *
 * What is not refused but reported (st_tls_files.warn, for the log): a certificate that
 * has expired or is not valid yet, one that expires within 30 days, and a key file that
 * group or others may read. Rotating the files means a restart (docs/OPERATIONS.md, TLS).
 */
#ifndef STRATA_SERVER_TLS_H
#define STRATA_SERVER_TLS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *cert_pem;      /* tls-cert's whole text (the chain, leaf first) */
    char *key_pem;       /* tls-key's whole text; wiped by st_tls_free */
    char *client_ca_pem; /* tls-client-ca's whole text, or NULL */
    size_t n_chain;      /* certificates in tls-cert */
    size_t n_client_ca;  /* certificates in tls-client-ca */
    /* The leaf for the log: "subject CN=node1; names DNS:node1.example, IP:10.0.0.1;
     * valid until 2026-05-01" */
    char summary[768];
    char warn[512]; /* "" or one sentence to log as a warning */
} st_tls_files;

/* Reads and checks the files (client_ca may be NULL or ""); fills *out (free it with
 * st_tls_free, also after a failure). ST_OK, or ST_EIO (unreadable) / ST_EINVAL (not PEM of
 * the right kind, key and certificate differ) / ST_ENOMEM with one sentence in err that
 * names the key and the file. */
int st_tls_load(const char *cert, const char *key, const char *client_ca, st_tls_files *out,
                char *err, size_t errlen);

/* Wipes the key text and frees everything; leaves *t zeroed. */
void st_tls_free(st_tls_files *t);

#endif
