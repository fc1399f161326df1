/* node_key.c - the node's signing key file (node_key.h): read it, or make it at first
 * start with O_CREAT | O_EXCL and mode 0600, so two starts never race to two keys. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "crypto/keyfile.h"
#include "server/node_key.h"

void st_node_key_wipe(st_node_key *k) {
    sodium_memzero(k->sk, sizeof(k->sk));
}

/* Writes a fresh plain key file at path (which must not exist). */
static int create_key(const char *path, char *err, size_t errlen) {
    uint8_t pk[ST_SIGN_PK_LEN], sk[ST_SIGN_SK_LEN], seed[ST_SIGN_SEED_LEN];
    char text[ST_KEYFILE_MAX_LEN];
    size_t len = 0;
    int rc = st_sign_keypair(pk, sk);
    if (rc == ST_OK) {
        st_sign_sk_to_seed(seed, sk);
        rc = st_keyfile_encode(seed, NULL, 0, text, sizeof(text), &len, err, errlen);
    } else {
        st_fail(err, errlen, rc, "node key: no random source to make a key");
    }
    sodium_memzero(sk, sizeof(sk));
    sodium_memzero(seed, sizeof(seed));
    if (rc != ST_OK) {
        sodium_memzero(text, sizeof(text));
        return rc;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        sodium_memzero(text, sizeof(text));
        return st_fail(err, errlen, ST_EIO, "node key: cannot create %s: %s", path,
                       strerror(errno));
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break;
        }
        done += (size_t)w;
    }
    sodium_memzero(text, sizeof(text));
    int ok = done == len && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (!ok) {
        unlink(path);
        return st_fail(err, errlen, ST_EIO, "node key: cannot write %s: %s", path, strerror(saved));
    }
    return ST_OK;
}

int st_node_key_load(const char *path, bool create, st_node_key *out, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    if (access(path, F_OK) != 0) {
        if (errno != ENOENT) {
            return st_fail(err, errlen, ST_EIO, "node key: cannot look at %s: %s", path,
                           strerror(errno));
        }
        if (!create) {
            return st_fail(err, errlen, ST_ENOENT,
                           "node key: %s does not exist (make one with `strata keygen --out %s "
                           "--plain`, or leave node-key unset to have one made in data-dir)",
                           path, path);
        }
        int rc = create_key(path, err, errlen);
        if (rc != ST_OK) {
            return rc;
        }
        out->created = true;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return st_fail(err, errlen, ST_EIO, "node key: cannot read %s: %s", path, strerror(errno));
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0) {
        out->loose_mode = (sb.st_mode & 077) != 0;
    }
    char text[ST_KEYFILE_MAX_LEN + 1];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, text + len, sizeof(text) - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int saved = errno;
            close(fd);
            sodium_memzero(text, sizeof(text));
            return st_fail(err, errlen, ST_EIO, "node key: cannot read %s: %s", path,
                           strerror(saved));
        }
        if (n == 0 || len + (size_t)n == sizeof(text)) {
            len += (size_t)n;
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    if (len > ST_KEYFILE_MAX_LEN) {
        sodium_memzero(text, sizeof(text));
        return st_fail(err, errlen, ST_EINVAL, "node key: %s is too long to be a key file", path);
    }
    int sealed = 0;
    uint8_t pk[ST_SIGN_PK_LEN], seed[ST_SIGN_SEED_LEN];
    char why[256] = "";
    int rc = st_keyfile_inspect(text, len, &sealed, pk, why, sizeof(why));
    if (rc == ST_OK && sealed) {
        rc = st_fail(why, sizeof(why), ST_EINVAL,
                     "the key is sealed with a passphrase; a node key must be a plain key "
                     "file (strata keygen --plain), kept with mode 0600");
    }
    if (rc == ST_OK) {
        rc = st_keyfile_decode(text, len, NULL, 0, seed, pk, why, sizeof(why));
    }
    sodium_memzero(text, sizeof(text));
    if (rc == ST_OK) {
        rc = st_sign_keypair_from_seed(out->pk, out->sk, seed);
        if (rc != ST_OK) {
            st_fail(why, sizeof(why), rc, "cannot derive the key pair");
        }
    }
    sodium_memzero(seed, sizeof(seed));
    if (rc != ST_OK) {
        st_node_key_wipe(out);
        return st_fail(err, errlen, rc == ST_EIO ? ST_EIO : ST_EINVAL, "node key: %s: %s", path,
                       why);
    }
    st_key_id_hex(out->key_id_hex, out->pk);
    return ST_OK;
}
