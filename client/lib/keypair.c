/* keypair.c - Ed25519 key pairs and key files: generating, saving with mode 0600 (plain or
 * sealed with a passphrase, docs/FORMATS.md §9), and loading, which refuses a key file that
 * group or others could read. The text format itself is crypto/keyfile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/lib/internal.h"
#include "crypto/keyfile.h"
#include "crypto/text.h"

int st_keypair_from_seed(const uint8_t seed[ST_SIGN_SEED_LEN], st_keypair **out, st_error *err) {
    int rc = st__lib_init(err);
    if (rc != ST_OK) {
        return rc;
    }
    st_keypair *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return st__fail(err, ST_FAIL_LOCAL, ST_ENOMEM, "out of memory making a key");
    }
    memcpy(k->seed, seed, ST_SIGN_SEED_LEN);
    if (st_sign_keypair_from_seed(k->pk, k->sk, k->seed) != ST_OK) {
        st_keypair_free(k);
        return st__fail(err, ST_FAIL_LOCAL, ST_EIO, "cannot derive a key from the seed");
    }
    *out = k;
    return ST_OK;
}

int st_keypair_generate(st_keypair **out, st_error *err) {
    int rc = st__lib_init(err);
    if (rc != ST_OK) {
        return rc;
    }
    uint8_t seed[ST_SIGN_SEED_LEN];
    randombytes_buf(seed, sizeof(seed));
    rc = st_keypair_from_seed(seed, out, err);
    sodium_memzero(seed, sizeof(seed));
    return rc;
}

int st__keypair_copy(const st_keypair *k, st_keypair **out) {
    st_keypair *c = malloc(sizeof(*c));
    if (c == NULL) {
        return ST_ENOMEM;
    }
    memcpy(c, k, sizeof(*c));
    *out = c;
    return ST_OK;
}

void st_keypair_free(st_keypair *k) {
    if (k != NULL) {
        sodium_memzero(k, sizeof(*k));
        free(k);
    }
}

void st_keypair_public(const st_keypair *k, uint8_t pk[ST_SIGN_PK_LEN]) {
    memcpy(pk, k->pk, ST_SIGN_PK_LEN);
}

void st_keypair_public_b64(const st_keypair *k, char out[ST_PUBLIC_B64_LEN + 1]) {
    st_b64_encode(out, ST_PUBLIC_B64_LEN + 1, k->pk, ST_SIGN_PK_LEN);
}

void st_keypair_id_hex(const st_keypair *k, char out[ST_KEY_ID_TEXT_LEN + 1]) {
    st_key_id_hex(out, k->pk);
}

/* ---- files ---- */

/* Writes all of buf to fd. 0 or errno. */
static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int st_keypair_save(const st_keypair *k, const char *path, const char *pass, size_t passlen,
                    st_error *err) {
    int rc = st__lib_init(err);
    if (rc != ST_OK) {
        return rc;
    }
    if (pass != NULL && passlen == 0) {
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "the passphrase is empty; give one, or save the key unsealed");
    }
    char text[ST_KEYFILE_MAX_LEN];
    size_t len = 0;
    char msg[256];
    rc = st_keyfile_encode(k->seed, pass, passlen, text, sizeof(text), &len, msg, sizeof(msg));
    if (rc != ST_OK) {
        sodium_memzero(text, sizeof(text));
        return st__fail(err, ST_FAIL_LOCAL, rc, "cannot encode the key file: %s", msg);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int e = errno;
        sodium_memzero(text, sizeof(text));
        if (e == EEXIST) {
            return st__fail(err, ST_FAIL_LOCAL, ST_EEXIST,
                            "%s already exists; a key file is never overwritten: choose another "
                            "path or move the old key away first",
                            path);
        }
        return st__fail(err, ST_FAIL_LOCAL, ST_EIO, "%s: cannot create: %s", path, strerror(e));
    }
    /* The umask may have taken bits away but never adds any; set exactly 0600. */
    int e = fchmod(fd, 0600) != 0 ? errno : 0;
    if (e == 0) {
        e = write_all(fd, text, len);
    }
    if (e == 0 && fsync(fd) != 0) {
        e = errno;
    }
    sodium_memzero(text, sizeof(text));
    if (close(fd) != 0 && e == 0) {
        e = errno;
    }
    if (e != 0) {
        unlink(path);
        return st__fail(err, ST_FAIL_LOCAL, ST_EIO, "%s: cannot write the key: %s", path,
                        strerror(e));
    }
    return ST_OK;
}

/* Reads a key file after the checks: a regular file, no access for group or others, not
 * longer than any key file. text is the caller's buffer of ST_KEYFILE_MAX_LEN + 1 bytes. */
static int read_keyfile(const char *path, char *text, size_t *len, st_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return st__fail(err, ST_FAIL_LOCAL, ST_EIO, "%s: cannot open the key file: %s%s", path,
                        strerror(e), e == ENOENT ? "; check the path (--key or STRATA_KEY)" : "");
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return st__fail(err, ST_FAIL_LOCAL, ST_EIO, "%s: cannot read: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL, "%s: not a regular file; give a key file",
                        path);
    }
    if ((sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        close(fd);
        return st__fail(err, ST_FAIL_LOCAL, ST_EPERM,
                        "%s: mode %04o lets others read the secret key; run `chmod 600 %s` "
                        "(and consider the key exposed if others could read it)",
                        path, (unsigned)(sb.st_mode & 07777), path);
    }
    size_t n = 0;
    for (;;) {
        ssize_t got = read(fd, text + n, ST_KEYFILE_MAX_LEN + 1 - n);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            int e = errno;
            close(fd);
            sodium_memzero(text, ST_KEYFILE_MAX_LEN + 1);
            return st__fail(err, ST_FAIL_LOCAL, ST_EIO, "%s: cannot read: %s", path, strerror(e));
        }
        if (got == 0 || n + (size_t)got > ST_KEYFILE_MAX_LEN) {
            n += (size_t)got;
            break;
        }
        n += (size_t)got;
    }
    close(fd);
    if (n > ST_KEYFILE_MAX_LEN) {
        sodium_memzero(text, ST_KEYFILE_MAX_LEN + 1);
        return st__fail(err, ST_FAIL_LOCAL, ST_EINVAL,
                        "%s: too long for a key file; check the path", path);
    }
    *len = n;
    return ST_OK;
}

int st_keyfile_info(const char *path, bool *sealed, uint8_t pk[ST_SIGN_PK_LEN], st_error *err) {
    char text[ST_KEYFILE_MAX_LEN + 1];
    size_t len = 0;
    int rc = read_keyfile(path, text, &len, err);
    if (rc != ST_OK) {
        return rc;
    }
    int s = 0;
    char msg[256];
    rc = st_keyfile_inspect(text, len, &s, pk, msg, sizeof(msg));
    sodium_memzero(text, sizeof(text));
    if (rc != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, rc, "%s: not a Strata key file: %s", path, msg);
    }
    *sealed = s != 0;
    return ST_OK;
}

int st_keypair_load(const char *path, const char *pass, size_t passlen, st_keypair **out,
                    st_error *err) {
    int rc = st__lib_init(err);
    if (rc != ST_OK) {
        return rc;
    }
    char text[ST_KEYFILE_MAX_LEN + 1];
    size_t len = 0;
    rc = read_keyfile(path, text, &len, err);
    if (rc != ST_OK) {
        return rc;
    }
    int sealed = 0;
    uint8_t pk[ST_SIGN_PK_LEN];
    uint8_t seed[ST_SIGN_SEED_LEN];
    char msg[256];
    rc = st_keyfile_inspect(text, len, &sealed, pk, msg, sizeof(msg));
    if (rc == ST_OK && sealed && pass == NULL) {
        sodium_memzero(text, sizeof(text));
        return st__fail(err, ST_FAIL_LOCAL, ST_EAUTH,
                        "%s is sealed with a passphrase; set STRATA_PASSPHRASE or run on a "
                        "terminal to be asked for it",
                        path);
    }
    if (rc == ST_OK) {
        rc = st_keyfile_decode(text, len, pass, passlen, seed, pk, msg, sizeof(msg));
    }
    sodium_memzero(text, sizeof(text));
    if (rc == ST_EAUTH) {
        return st__fail(err, ST_FAIL_LOCAL, rc, "%s: wrong passphrase", path);
    }
    if (rc != ST_OK) {
        return st__fail(err, ST_FAIL_LOCAL, rc, "%s: not a usable Strata key file: %s", path, msg);
    }
    rc = st_keypair_from_seed(seed, out, err);
    sodium_memzero(seed, sizeof(seed));
    return rc;
}
