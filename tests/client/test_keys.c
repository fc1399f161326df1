/* test_keys.c - libstrata's key files: written with mode 0600 whatever the umask, never
 * overwritten, refused when group or others may read them (with the chmod to run), sealed
 * with a passphrase (right, wrong, missing), and the public part readable without one.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/strata.h"
#include "tests/cli/check.h"

static char dir[512];

static const char *path_of(const char *name) {
    static char p[600];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return p;
}

static unsigned mode_of(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 ? (unsigned)(sb.st_mode & 07777) : 0xffffu;
}

static void test_plain(void) {
    st_keypair *k = NULL, *back = NULL;
    st_error e;
    CHECK_INT(st_keypair_generate(&k, &e), ST_OK);
    char p[600];
    snprintf(p, sizeof(p), "%s", path_of("plain.key"));
    mode_t old = umask(0);
    CHECK_INT(st_keypair_save(k, p, NULL, 0, &e), ST_OK);
    umask(old);
    CHECK_INT(mode_of(p), 0600);
    CHECK_INT(st_keypair_load(p, NULL, 0, &back, &e), ST_OK);
    uint8_t a[ST_SIGN_PK_LEN], b[ST_SIGN_PK_LEN];
    st_keypair_public(k, a);
    st_keypair_public(back, b);
    CHECK(memcmp(a, b, sizeof(a)) == 0);
    char ha[33], hb[33];
    st_keypair_id_hex(k, ha);
    st_keypair_id_hex(back, hb);
    CHECK_STR(ha, hb);
    CHECK_INT(strlen(ha), 32);
    st_keypair_free(back);
    back = NULL;

    /* Never overwritten: the old key stays. */
    st_keypair *k2 = NULL;
    CHECK_INT(st_keypair_generate(&k2, &e), ST_OK);
    CHECK_INT(st_keypair_save(k2, p, NULL, 0, &e), ST_EEXIST);
    CHECK_HAS(e.message, "never overwritten");
    CHECK_INT(st_keypair_load(p, NULL, 0, &back, &e), ST_OK);
    st_keypair_public(back, b);
    CHECK(memcmp(a, b, sizeof(a)) == 0);
    st_keypair_free(back);
    back = NULL;

    /* Readable by others: refused, with the fix in the message. */
    CHECK_INT(chmod(p, 0644), 0);
    CHECK_INT(st_keypair_load(p, NULL, 0, &back, &e), ST_EPERM);
    CHECK(back == NULL);
    CHECK_HAS(e.message, "chmod 600");
    CHECK_HAS(e.message, "0644");
    bool sealed = true;
    CHECK_INT(st_keyfile_info(p, &sealed, b, &e), ST_EPERM);
    CHECK_INT(chmod(p, 0640), 0);
    CHECK_INT(st_keypair_load(p, NULL, 0, &back, &e), ST_EPERM);
    CHECK_INT(chmod(p, 0604), 0);
    CHECK_INT(st_keypair_load(p, NULL, 0, &back, &e), ST_EPERM);
    CHECK_INT(chmod(p, 0400), 0);
    CHECK_INT(st_keypair_load(p, NULL, 0, &back, &e), ST_OK);
    st_keypair_free(back);
    back = NULL;

    /* Not a key file; missing file. */
    CHECK_INT(st_keypair_load(path_of("none.key"), NULL, 0, &back, &e), ST_EIO);
    CHECK_HAS(e.message, "check the path");
    FILE *f = fopen(path_of("junk.key"), "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs("hello\n", f);
        fclose(f);
    }
    chmod(path_of("junk.key"), 0600);
    CHECK_INT(st_keypair_load(path_of("junk.key"), NULL, 0, &back, &e), ST_EINVAL);
    CHECK_INT(e.kind, ST_FAIL_LOCAL);
    st_keypair_free(k);
    st_keypair_free(k2);
}

static void test_sealed(void) {
    uint8_t seed[ST_SIGN_SEED_LEN];
    for (int i = 0; i < ST_SIGN_SEED_LEN; i++) {
        seed[i] = (uint8_t)i;
    }
    st_keypair *k = NULL, *back = NULL;
    st_error e;
    CHECK_INT(st_keypair_from_seed(seed, &k, &e), ST_OK);
    /* The public key of FORMATS.md's worked example. */
    char b64[ST_PUBLIC_B64_LEN + 1];
    st_keypair_public_b64(k, b64);
    CHECK_STR(b64, "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=");
    char p[600];
    snprintf(p, sizeof(p), "%s", path_of("sealed.key"));
    CHECK_INT(st_keypair_save(k, p, "", 0, &e), ST_EINVAL);
    CHECK_INT(access(p, F_OK), -1); /* nothing left behind */
    CHECK_INT(st_keypair_save(k, p, "correct horse", 13, &e), ST_OK);
    CHECK_INT(mode_of(p), 0600);
    bool sealed = false;
    uint8_t pk[ST_SIGN_PK_LEN], want[ST_SIGN_PK_LEN];
    st_keypair_public(k, want);
    CHECK_INT(st_keyfile_info(p, &sealed, pk, &e), ST_OK);
    CHECK(sealed);
    CHECK(memcmp(pk, want, sizeof(pk)) == 0);
    CHECK_INT(st_keypair_load(p, NULL, 0, &back, &e), ST_EAUTH);
    CHECK_HAS(e.message, "STRATA_PASSPHRASE");
    CHECK_INT(st_keypair_load(p, "wrong horse", 11, &back, &e), ST_EAUTH);
    CHECK_HAS(e.message, "wrong passphrase");
    CHECK(back == NULL);
    CHECK_INT(st_keypair_load(p, "correct horse", 13, &back, &e), ST_OK);
    if (back != NULL) {
        st_keypair_public(back, pk);
        CHECK(memcmp(pk, want, sizeof(pk)) == 0);
    }
    st_keypair_free(back);
    st_keypair_free(k);
}

int main(int argc, char **argv) {
    snprintf(dir, sizeof(dir), "%s", argc > 1 ? argv[1] : "scratch-keys");
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) {
        return 1;
    }
    test_plain();
    test_sealed();
    return check_exit("client_keys");
}
