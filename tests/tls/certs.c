/* certs.c - throwaway TLS material made with the openssl program, and running programs
 * (certs.h). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/core/check.h"
#include "tests/tls/certs.h"

static char openssl_bin[256];
static char cert_dir[256];

int tt_run(char *const argv[], const char *out) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int fd = open(out != NULL ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || fd < 0) {
            _exit(126);
        }
        dup2(in, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(in);
        close(fd);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool tt_file_has(const char *path, const char *text) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return false;
    }
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, text) != NULL;
}

void tt_certs_init(const char *openssl, const char *dir) {
    CHECK(strlen(openssl) < sizeof(openssl_bin) && strlen(dir) < sizeof(cert_dir) - 40);
    snprintf(openssl_bin, sizeof(openssl_bin), "%s", openssl);
    snprintf(cert_dir, sizeof(cert_dir), "%s", dir);
    CHECK(access(openssl_bin, X_OK) == 0);
}

const char *tt_path(int slot, const char *name) {
    static char buf[8][320];
    CHECK(slot >= 0 && slot < 8);
    snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", cert_dir, name);
    return buf[slot];
}

void tt_openssl(char *const *args) {
    char *argv[32];
    int n = 0;
    argv[n++] = openssl_bin;
    for (int i = 0; args[i] != NULL; i++) {
        CHECK(n < 31);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    int rc = tt_run(argv, tt_path(7, "openssl.log"));
    if (rc != 0) {
        fprintf(stderr, "openssl %s failed (status %d): see %s\n", args[0], rc,
                tt_path(7, "openssl.log"));
    }
    CHECK(rc == 0);
}

void tt_make_ca(const char *name) {
    char key[300], pem[300], subj[300];
    snprintf(key, sizeof(key), "%s/%s.key", cert_dir, name);
    snprintf(pem, sizeof(pem), "%s/%s.pem", cert_dir, name);
    snprintf(subj, sizeof(subj), "/CN=Strata test CA %s", name);
    char *args[] = {"req",     "-x509", "-new",     "-nodes",
                    "-newkey", "ec",    "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-keyout", key,     "-out",     pem,
                    "-days",   "2",     "-subj",    subj,
                    NULL};
    tt_openssl(args);
}

void tt_make_cert(const char *name, const char *ca, const char *ext) {
    char key[300], csr[300], pem[300], extf[300], subj[300], ca_pem[300], ca_key[300], serial[300];
    snprintf(key, sizeof(key), "%s/%s.key", cert_dir, name);
    snprintf(csr, sizeof(csr), "%s/%s.csr", cert_dir, name);
    snprintf(pem, sizeof(pem), "%s/%s.pem", cert_dir, name);
    snprintf(extf, sizeof(extf), "%s/%s.ext", cert_dir, name);
    snprintf(subj, sizeof(subj), "/CN=%s", name);
    snprintf(ca_pem, sizeof(ca_pem), "%s/%s.pem", cert_dir, ca);
    snprintf(ca_key, sizeof(ca_key), "%s/%s.key", cert_dir, ca);
    snprintf(serial, sizeof(serial), "%s/%s.srl", cert_dir, ca);
    FILE *f = fopen(extf, "w");
    CHECK(f != NULL);
    fprintf(f, "%s\n", ext);
    CHECK(fclose(f) == 0);
    char *req[] = {
        "req",     "-new", "-nodes", "-newkey", "ec",    "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-keyout", key,    "-out",   csr,       "-subj", subj,       NULL};
    tt_openssl(req);
    char *sign[] = {"x509",
                    "-req",
                    "-in",
                    csr,
                    "-CA",
                    ca_pem,
                    "-CAkey",
                    ca_key,
                    "-CAserial",
                    serial,
                    "-CAcreateserial",
                    "-days",
                    "2",
                    "-extfile",
                    extf,
                    "-out",
                    pem,
                    NULL};
    tt_openssl(sign);
}
