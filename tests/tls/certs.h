/* certs.h - throwaway TLS material for the TLS tests, made at test time with the openssl
 * program (never checked in, so nothing expires in the repository): CAs, certificates they
 * sign with the names and key usages a test asks for, and a helper that runs a program and
 * keeps what it printed. Every function exits the test (CHECK) on failure.
 */
#ifndef STRATA_TESTS_TLS_CERTS_H
#define STRATA_TESTS_TLS_CERTS_H

#include <stdbool.h>

/* Runs argv (argv[0] a path) with stdin from /dev/null and stdout and stderr into the file
 * out (created anew; NULL: /dev/null). Returns the exit status, or -1 when it did not
 * exit normally. */
int tt_run(char *const argv[], const char *out);

/* Whether the file at path contains text. */
bool tt_file_has(const char *path, const char *text);

/* The directory that holds the material, and the openssl program. */
void tt_certs_init(const char *openssl, const char *dir);

/* DIR/NAME.pem and DIR/NAME.key: a self-signed CA (P-256, valid two days). */
void tt_make_ca(const char *name);

/* DIR/NAME.pem and DIR/NAME.key: a certificate signed by the CA DIR/CA.pem, with the
 * extension lines ext (e.g. "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"). */
void tt_make_cert(const char *name, const char *ca, const char *ext);

/* Runs openssl with the arguments (NULL-terminated, without the program); exits the test
 * when it fails (its output is in DIR/openssl.log). */
void tt_openssl(char *const *args);

/* "DIR/NAME" into a static buffer of its own per call slot (slot 0..7). */
const char *tt_path(int slot, const char *name);

#endif
