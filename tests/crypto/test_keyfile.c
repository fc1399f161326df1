/* test_keyfile.c - key file bodies: plain and sealed round trips, the exact plain text,
 * wrong/missing passphrase (ST_EAUTH), and truncated or garbled files (ST_EINVAL). */
#include "check.h"

#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/keyfile.h"

static uint8_t seed[32], pk[32];

static void expect_invalid(const char *text, size_t len, const char *why) {
    uint8_t s[32], p[32];
    int sealed;
    char err[160];
    CHECK(st_keyfile_inspect(text, len, &sealed, p, err, sizeof err) == ST_EINVAL);
    CHECK(st_keyfile_decode(text, len, "pw", 2, s, p, err, sizeof err) == ST_EINVAL);
    CHECK(strstr(err, "key file") != NULL);
    if (why)
        CHECK(strstr(err, why) != NULL);
    for (int i = 0; i < 32; i++)
        CHECK(s[i] == 0 && p[i] == 0);
}

static void test_plain(void) {
    char text[ST_KEYFILE_MAX_LEN], bad[ST_KEYFILE_MAX_LEN];
    uint8_t s[32], p[32];
    size_t len;
    int sealed = -1;
    char err[160];

    CHECK(st_keyfile_encode(seed, NULL, 0, text, sizeof text, &len, err, sizeof err) == ST_OK);
    CHECK(len == strlen(text));
    /* seed 00 01 .. 1f: the exact text. */
    CHECK(strcmp(text, "strata-key-v1 plain\n"
                       "public A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\n"
                       "seed AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n") == 0);
    CHECK(st_keyfile_inspect(text, len, &sealed, p, err, sizeof err) == ST_OK);
    CHECK(sealed == 0 && memcmp(p, pk, 32) == 0);
    CHECK(st_keyfile_decode(text, len, NULL, 0, s, p, err, sizeof err) == ST_OK);
    CHECK(memcmp(s, seed, 32) == 0 && memcmp(p, pk, 32) == 0);
    /* A passphrase given for a plain file is ignored. */
    CHECK(st_keyfile_decode(text, len, "x", 1, s, p, err, sizeof err) == ST_OK);

    /* Every truncation, and trailing text. */
    for (size_t cut = 0; cut < len; cut++)
        expect_invalid(text, cut, NULL);
    memcpy(bad, text, len);
    bad[len] = '\n';
    expect_invalid(bad, len + 1, "after line 3");
    /* Garbling. */
    memcpy(bad, text, len);
    bad[3] = 'X';
    expect_invalid(bad, len, "line 1");
    memcpy(bad, text, len);
    bad[19] = '\r'; /* CRLF */
    expect_invalid(bad, len, "line 1");
    memcpy(bad, text, len);
    bad[20] = 'P';
    expect_invalid(bad, len, "line 2");
    memcpy(bad, text, len);
    bad[27] = '*';
    expect_invalid(bad, len, "line 2");
    memcpy(bad, text, len);
    bad[len - 3] = 'h'; /* sets one of the last base64 unit's unused bits */
    expect_invalid(bad, len, "line 3");
    memcpy(bad, text, len);
    bad[len - 10] = (char)(bad[len - 10] == 'A' ? 'B' : 'A'); /* another seed */
    CHECK(st_keyfile_inspect(bad, len, &sealed, p, err, sizeof err) == ST_OK);
    CHECK(st_keyfile_decode(bad, len, NULL, 0, s, p, err, sizeof err) == ST_EINVAL);
    CHECK(strstr(err, "does not match") != NULL);
    /* Swapped lines. */
    {
        const char *swapped = "strata-key-v1 plain\n"
                              "seed AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
                              "public A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\n";
        expect_invalid(swapped, strlen(swapped), "line 2");
    }
    /* Output buffer too small. */
    CHECK(st_keyfile_encode(seed, NULL, 0, text, 100, &len, err, sizeof err) == ST_ERANGE);
    CHECK(len == 0);
}

static void test_sealed(void) {
    char text[ST_KEYFILE_MAX_LEN], text2[ST_KEYFILE_MAX_LEN], bad[ST_KEYFILE_MAX_LEN];
    uint8_t s[32], p[32];
    size_t len, len2;
    int sealed = -1;
    char err[160];
    const char *pass = "correct horse battery staple";

    CHECK(st_keyfile_encode(seed, pass, strlen(pass), text, sizeof text, &len, err, sizeof err) ==
          ST_OK);
    CHECK(strncmp(text,
                  "strata-key-v1 sealed\npublic A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
                  "\nkdf argon2id13 2 67108864\nsalt ",
                  101) == 0);
    CHECK(strstr(text, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=") == NULL);
    CHECK(st_keyfile_inspect(text, len, &sealed, p, err, sizeof err) == ST_OK);
    CHECK(sealed == 1 && memcmp(p, pk, 32) == 0);
    CHECK(st_keyfile_decode(text, len, pass, strlen(pass), s, p, err, sizeof err) == ST_OK);
    CHECK(memcmp(s, seed, 32) == 0 && memcmp(p, pk, 32) == 0);
    /* Random salt and nonce: sealing twice gives different texts. */
    CHECK(st_keyfile_encode(seed, pass, strlen(pass), text2, sizeof text2, &len2, err,
                            sizeof err) == ST_OK);
    CHECK(strcmp(text, text2) != 0);

    /* Wrong and missing passphrases. */
    CHECK(st_keyfile_decode(text, len, "correct horse battery stapler", 29, s, p, err,
                            sizeof err) == ST_EAUTH);
    CHECK(strstr(err, "wrong passphrase") != NULL);
    for (int i = 0; i < 32; i++)
        CHECK(s[i] == 0 && p[i] == 0);
    CHECK(st_keyfile_decode(text, len, NULL, 0, s, p, err, sizeof err) == ST_EAUTH);
    CHECK(st_keyfile_decode(text, len, "", 0, s, p, err, sizeof err) == ST_EAUTH);
    CHECK(st_keyfile_encode(seed, "", 0, text2, sizeof text2, &len2, err, sizeof err) == ST_EINVAL);

    /* Structure errors are found without running the KDF. */
    for (size_t cut = 0; cut < len; cut++)
        expect_invalid(text, cut, NULL);
    memcpy(bad, text, len);
    memcpy(strstr(bad, "argon2id13"), "argon2i13 ", 10);
    expect_invalid(bad, len, "line 3");
    {
        static const char *const kdfs[] = {"kdf argon2id13 0 67108864",
                                           "kdf argon2id13 2 1024",
                                           "kdf argon2id13 02 67108864",
                                           "kdf argon2id13 2  67108864",
                                           "kdf argon2id13 2 67108864 ",
                                           "kdf argon2id13 5 67108864",
                                           "kdf argon2id13 2 99999999999999999999999",
                                           "kdf argon2id13 -2 67108864"};
        const char *line = strstr(text, "kdf ");
        const char *rest = strstr(line, "\nsalt");
        for (size_t k = 0; k < sizeof kdfs / sizeof kdfs[0]; k++) {
            int n = snprintf(bad, sizeof bad, "%.*s%s%s", (int)(line - text), text, kdfs[k], rest);
            CHECK(n > 0 && (size_t)n < sizeof bad);
            expect_invalid(bad, (size_t)n, "line 3");
        }
    }
    /* A garbled box is a wrong-passphrase failure (authentication), not a crash. */
    memcpy(bad, text, len);
    {
        char *box = strstr(bad, "\nbox ") + 5;
        box[0] = (char)(box[0] == 'A' ? 'B' : 'A');
    }
    CHECK(st_keyfile_decode(bad, len, pass, strlen(pass), s, p, err, sizeof err) == ST_EAUTH);
}

int main(void) {
    uint8_t sk[64];
    CHECK(st_crypto_init() == ST_OK);
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    CHECK(st_sign_keypair_from_seed(pk, sk, seed) == ST_OK);
    test_plain();
    test_sealed();
    printf("keyfile: ok\n");
    return 0;
}
