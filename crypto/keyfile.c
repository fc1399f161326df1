/* keyfile.c - key file text: encode (plain or sealed), strict parse, decode. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/error.h"
#include "crypto/keyfile.h"
#include "crypto/text.h"

#define MAGIC "strata-key-v1"
#define KDF_NAME "argon2id13"
#define SALT_LEN crypto_pwhash_SALTBYTES
#define NONCE_LEN crypto_secretbox_NONCEBYTES
#define BOX_LEN (crypto_secretbox_MACBYTES + ST_SIGN_SEED_LEN)

/* Everything a key file says. Holds the plain seed for plain files: wipe after use. */
typedef struct parsed {
    int sealed;
    uint8_t pk[ST_SIGN_PK_LEN];
    uint8_t seed[ST_SIGN_SEED_LEN]; /* plain only */
    unsigned long long opslimit;    /* sealed only, from here on */
    size_t memlimit;
    uint8_t salt[SALT_LEN];
    uint8_t nonce[NONCE_LEN];
    uint8_t box[BOX_LEN];
} parsed;

/* A cursor over the text; line counts from 1 for messages. */
typedef struct cursor {
    const char *p;
    size_t len, off;
    unsigned line;
} cursor;

/* Takes the next line (without its "\n") into *s / *n; the "\n" is mandatory. */
static int next_line(cursor *c, const char **s, size_t *n, char *err, size_t errlen) {
    const char *nl;
    c->line++;
    if (c->off >= c->len)
        return st_fail(err, errlen, ST_EINVAL, "key file: line %u missing", c->line);
    nl = memchr(c->p + c->off, '\n', c->len - c->off);
    if (!nl)
        return st_fail(err, errlen, ST_EINVAL, "key file: line %u does not end in a newline",
                       c->line);
    *s = c->p + c->off;
    *n = (size_t)(nl - *s);
    c->off += *n + 1;
    return ST_OK;
}

/* Reads a line "<key> <base64 of exactly outlen bytes>". */
static int b64_line(cursor *c, const char *key, uint8_t *out, size_t outlen, char *err,
                    size_t errlen) {
    const char *s;
    size_t n, klen = strlen(key);
    char why[96];
    int rc = next_line(c, &s, &n, err, errlen);

    if (rc != ST_OK)
        return rc;
    if (n < klen + 1 || memcmp(s, key, klen) != 0 || s[klen] != ' ')
        return st_fail(err, errlen, ST_EINVAL, "key file: line %u must start with \"%s \"", c->line,
                       key);
    if (st_b64_decode(out, outlen, s + klen + 1, n - klen - 1, why, sizeof why) != ST_OK)
        return st_fail(err, errlen, ST_EINVAL, "key file: line %u (%s): %s", c->line, key, why);
    return ST_OK;
}

/* Parses a canonical unsigned decimal (no sign, no leading zero) from s[0..n). */
static int parse_u64(const char *s, size_t n, unsigned long long *v) {
    unsigned long long x = 0;
    if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return 0;
        d = (unsigned)(s[i] - '0');
        if (x > (ULLONG_MAX - d) / 10)
            return 0;
        x = x * 10 + d;
    }
    *v = x;
    return 1;
}

/* "kdf argon2id13 <opslimit> <memlimit>", limits within libsodium's MIN..SENSITIVE. */
static int kdf_line(cursor *c, parsed *k, char *err, size_t errlen) {
    static const char head[] = "kdf " KDF_NAME " ";
    const char *s, *sp;
    size_t n, rest;
    unsigned long long ops, mem;
    int rc = next_line(c, &s, &n, err, errlen);

    if (rc != ST_OK)
        return rc;
    if (n < sizeof head - 1 || memcmp(s, head, sizeof head - 1) != 0)
        return st_fail(err, errlen, ST_EINVAL, "key file: line %u must start with \"%s\"", c->line,
                       head);
    s += sizeof head - 1;
    rest = n - (sizeof head - 1);
    sp = memchr(s, ' ', rest);
    if (!sp || !parse_u64(s, (size_t)(sp - s), &ops) ||
        !parse_u64(sp + 1, rest - (size_t)(sp - s) - 1, &mem))
        return st_fail(err, errlen, ST_EINVAL,
                       "key file: line %u: expected two decimal numbers after \"%s\"", c->line,
                       KDF_NAME);
    if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > crypto_pwhash_OPSLIMIT_SENSITIVE ||
        mem < crypto_pwhash_MEMLIMIT_MIN || mem > crypto_pwhash_MEMLIMIT_SENSITIVE)
        return st_fail(err, errlen, ST_EINVAL, "key file: line %u: KDF limits out of range",
                       c->line);
    k->opslimit = ops;
    k->memlimit = (size_t)mem;
    return ST_OK;
}

static int parse(const char *text, size_t len, parsed *k, char *err, size_t errlen) {
    cursor c = {text, len, 0, 0};
    const char *s;
    size_t n;
    int rc;

    memset(k, 0, sizeof *k);
    if ((rc = next_line(&c, &s, &n, err, errlen)) != ST_OK)
        return rc;
    if (n == sizeof MAGIC " plain" - 1 && memcmp(s, MAGIC " plain", n) == 0)
        k->sealed = 0;
    else if (n == sizeof MAGIC " sealed" - 1 && memcmp(s, MAGIC " sealed", n) == 0)
        k->sealed = 1;
    else
        return st_fail(err, errlen, ST_EINVAL,
                       "key file: line 1 must be \"" MAGIC " plain\" or \"" MAGIC " sealed\"");
    if ((rc = b64_line(&c, "public", k->pk, sizeof k->pk, err, errlen)) != ST_OK)
        return rc;
    if (!k->sealed) {
        rc = b64_line(&c, "seed", k->seed, sizeof k->seed, err, errlen);
    } else {
        if ((rc = kdf_line(&c, k, err, errlen)) == ST_OK &&
            (rc = b64_line(&c, "salt", k->salt, sizeof k->salt, err, errlen)) == ST_OK &&
            (rc = b64_line(&c, "nonce", k->nonce, sizeof k->nonce, err, errlen)) == ST_OK)
            rc = b64_line(&c, "box", k->box, sizeof k->box, err, errlen);
    }
    if (rc == ST_OK && c.off != len)
        rc = st_fail(err, errlen, ST_EINVAL, "key file: unexpected text after line %u", c.line);
    if (rc != ST_OK)
        sodium_memzero(k, sizeof *k);
    return rc;
}

/* Writes the sealed lines after "public": kdf, salt, nonce, box. Returns snprintf's count or
 * -1 (with err set) when Argon2id cannot get its memory. */
static int format_sealed(char *out, size_t cap, const char *head, const uint8_t *seed,
                         const char *pass, size_t passlen, char *err, size_t errlen) {
    uint8_t key[crypto_secretbox_KEYBYTES], salt[SALT_LEN], nonce[NONCE_LEN], box[BOX_LEN];
    char b_salt[ST_B64_LEN(SALT_LEN) + 1], b_nonce[ST_B64_LEN(NONCE_LEN) + 1];
    char b_box[ST_B64_LEN(BOX_LEN) + 1];

    randombytes_buf(salt, sizeof salt);
    randombytes_buf(nonce, sizeof nonce);
    if (crypto_pwhash(key, sizeof key, pass, passlen, salt, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                      crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        st_fail(err, errlen, ST_ENOMEM, "key file: not enough memory for Argon2id");
        return -1;
    }
    crypto_secretbox_easy(box, seed, ST_SIGN_SEED_LEN, nonce, key);
    sodium_memzero(key, sizeof key);
    st_b64_encode(b_salt, sizeof b_salt, salt, sizeof salt);
    st_b64_encode(b_nonce, sizeof b_nonce, nonce, sizeof nonce);
    st_b64_encode(b_box, sizeof b_box, box, sizeof box);
    return snprintf(out, cap, "%skdf " KDF_NAME " %llu %zu\nsalt %s\nnonce %s\nbox %s\n", head,
                    (unsigned long long)crypto_pwhash_OPSLIMIT_INTERACTIVE,
                    (size_t)crypto_pwhash_MEMLIMIT_INTERACTIVE, b_salt, b_nonce, b_box);
}

int st_keyfile_encode(const uint8_t seed[ST_SIGN_SEED_LEN], const char *pass, size_t passlen,
                      char *out, size_t cap, size_t *len, char *err, size_t errlen) {
    uint8_t pk[ST_SIGN_PK_LEN], sk[ST_SIGN_SK_LEN];
    char b_pk[ST_B64_LEN(ST_SIGN_PK_LEN) + 1];
    int n;

    *len = 0;
    if (cap > 0)
        out[0] = '\0';
    if (pass && passlen == 0)
        return st_fail(err, errlen, ST_EINVAL, "key file: empty passphrase");
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_memzero(sk, sizeof sk);
    st_b64_encode(b_pk, sizeof b_pk, pk, sizeof pk);
    if (!pass) {
        char b_seed[ST_B64_LEN(ST_SIGN_SEED_LEN) + 1];
        st_b64_encode(b_seed, sizeof b_seed, seed, ST_SIGN_SEED_LEN);
        n = snprintf(out, cap, MAGIC " plain\npublic %s\nseed %s\n", b_pk, b_seed);
        sodium_memzero(b_seed, sizeof b_seed);
    } else {
        char head[128];
        snprintf(head, sizeof head, MAGIC " sealed\npublic %s\n", b_pk);
        n = format_sealed(out, cap, head, seed, pass, passlen, err, errlen);
        if (n < 0)
            return ST_ENOMEM;
    }
    if ((size_t)n >= cap) {
        if (cap > 0)
            sodium_memzero(out, cap);
        return st_fail(err, errlen, ST_ERANGE, "key file: output buffer too small");
    }
    *len = (size_t)n;
    return ST_OK;
}

int st_keyfile_inspect(const char *text, size_t len, int *sealed, uint8_t pk[ST_SIGN_PK_LEN],
                       char *err, size_t errlen) {
    parsed k;
    int rc = parse(text, len, &k, err, errlen);
    *sealed = k.sealed;
    memcpy(pk, k.pk, ST_SIGN_PK_LEN);
    sodium_memzero(&k, sizeof k);
    return rc;
}

int st_keyfile_decode(const char *text, size_t len, const char *pass, size_t passlen,
                      uint8_t seed[ST_SIGN_SEED_LEN], uint8_t pk[ST_SIGN_PK_LEN], char *err,
                      size_t errlen) {
    parsed k;
    int rc = parse(text, len, &k, err, errlen);

    memset(seed, 0, ST_SIGN_SEED_LEN);
    memset(pk, 0, ST_SIGN_PK_LEN);
    if (rc != ST_OK)
        return rc;
    if (k.sealed) {
        uint8_t key[crypto_secretbox_KEYBYTES];
        if (!pass || passlen == 0) {
            rc = st_fail(err, errlen, ST_EAUTH, "key file is sealed: a passphrase is needed");
        } else if (crypto_pwhash(key, sizeof key, pass, passlen, k.salt, k.opslimit, k.memlimit,
                                 crypto_pwhash_ALG_ARGON2ID13) != 0) {
            rc = st_fail(err, errlen, ST_ENOMEM, "key file: not enough memory for Argon2id");
        } else if (crypto_secretbox_open_easy(k.seed, k.box, sizeof k.box, k.nonce, key) != 0) {
            rc = st_fail(err, errlen, ST_EAUTH, "key file: wrong passphrase");
        }
        sodium_memzero(key, sizeof key);
    }
    if (rc == ST_OK) {
        uint8_t derived[ST_SIGN_PK_LEN], sk[ST_SIGN_SK_LEN];
        crypto_sign_seed_keypair(derived, sk, k.seed);
        sodium_memzero(sk, sizeof sk);
        if (sodium_memcmp(derived, k.pk, ST_SIGN_PK_LEN) != 0) {
            rc = st_fail(err, errlen, ST_EINVAL,
                         "key file: the public key line does not match the secret key");
        } else {
            memcpy(seed, k.seed, ST_SIGN_SEED_LEN);
            memcpy(pk, k.pk, ST_SIGN_PK_LEN);
        }
    }
    sodium_memzero(&k, sizeof k);
    return rc;
}
