/* test_text_sign.c - hex/base64 codecs, SHA-256, Ed25519 keys from seeds, key ids, and
 * domain separation of signatures. */
#include "check.h"

#include <sodium.h>

#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "crypto/sign.h"
#include "crypto/text.h"

static void test_hash(void) {
    uint8_t h[32];
    st_hash_part parts[3] = {{"a", 1}, {NULL, 0}, {"bc", 2}};
    st_hash_sha256(h, "abc", 3);
    CHECK(test_hex_eq(h, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    st_hash_sha256v(h, parts, 3);
    CHECK(test_hex_eq(h, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    st_hash_sha256(h, NULL, 0);
    CHECK(test_hex_eq(h, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

static void test_text(void) {
    uint8_t in[5] = {0x00, 0x9f, 0xff, 0x10, 0xab}, out[8];
    char hex[11], b64[16];

    st_hex_encode(hex, in, 5);
    CHECK(strcmp(hex, "009fff10ab") == 0);
    CHECK(st_hex_decode(out, 5, hex, 10, NULL, 0) == ST_OK && memcmp(in, out, 5) == 0);
    CHECK(st_hex_decode(out, 5, "009FFF10AB", 10, NULL, 0) == ST_OK && memcmp(in, out, 5) == 0);
    CHECK(st_hex_decode(out, 5, hex, 9, NULL, 0) == ST_EINVAL);
    CHECK(st_hex_decode(out, 5, "009fff10abcd", 12, NULL, 0) == ST_EINVAL);
    CHECK(st_hex_decode(out, 5, "009fff10ag", 10, NULL, 0) == ST_EINVAL);
    CHECK(st_hex_decode(out, 5, "009fff10a ", 10, NULL, 0) == ST_EINVAL);
    CHECK(st_hex_decode(out, 0, "", 0, NULL, 0) == ST_OK);

    CHECK(st_b64_encode(b64, sizeof b64, in, 5) == ST_OK);
    CHECK(strcmp(b64, "AJ//EKs=") == 0);
    CHECK(st_b64_encode(b64, 8, in, 5) == ST_ERANGE);
    CHECK(st_b64_decode(out, 5, "AJ//EKs=", 8, NULL, 0) == ST_OK && memcmp(in, out, 5) == 0);
    CHECK(st_b64_decode(out, 5, "AJ//EKs", 7, NULL, 0) == ST_EINVAL);  /* no padding */
    CHECK(st_b64_decode(out, 5, "AJ//EKt=", 8, NULL, 0) == ST_EINVAL); /* non-zero bits */
    CHECK(st_b64_decode(out, 5, "AJ_/EKs=", 8, NULL, 0) == ST_EINVAL); /* url alphabet */
    CHECK(st_b64_decode(out, 5, "AJ/ EKs=", 8, NULL, 0) == ST_EINVAL); /* space */
    CHECK(st_b64_decode(out, 4, "AJ//EKs=", 8, NULL, 0) == ST_EINVAL); /* wrong length */
    CHECK(st_b64_decode(out, 5, "AJ//EK==", 8, NULL, 0) == ST_EINVAL); /* 4 bytes */
    CHECK(st_b64_decode(out, 6, "AJ//EKs=", 8, NULL, 0) == ST_EINVAL);
    CHECK(st_b64_decode(out, 3, "AJ==AJ//", 8, NULL, 0) == ST_EINVAL);
    CHECK(st_b64_decode(out, 3, "AJ=/", 4, NULL, 0) == ST_EINVAL);
    /* Found by fuzz_text: libsodium 1.0.18 alone accepts a leading 0xff as a digit. */
    {
        uint8_t nine[9];
        CHECK(st_b64_decode(nine, 9,
                            "\xff"
                            "077jf6j677j",
                            12, NULL, 0) == ST_EINVAL);
        CHECK(st_b64_decode(nine, 9, "A077jf6j677j", 12, NULL, 0) == ST_OK);
    }
}

static void test_sign(void) {
    uint8_t seed[32], pk[32], sk[64], pk2[32], sk2[64], sig[64], s2[32], sigp[64];
    char err[128], b64[100], hex[129];

    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    CHECK(st_sign_keypair_from_seed(pk, sk, seed) == ST_OK);
    /* RFC 8032-style derivation is deterministic: same seed, same keys. */
    CHECK(st_sign_keypair_from_seed(pk2, sk2, seed) == ST_OK);
    CHECK(memcmp(pk, pk2, 32) == 0 && memcmp(sk, sk2, 64) == 0);
    st_sign_sk_to_seed(s2, sk);
    CHECK(memcmp(s2, seed, 32) == 0);
    st_sign_sk_to_pk(pk2, sk);
    CHECK(memcmp(pk2, pk, 32) == 0);
    /* libsodium's known public key for the seed 00 01 .. 1f. */
    CHECK(test_hex_eq(pk, 32, "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"));

    /* key id = first 16 bytes of SHA-256("strata-key-id-v1" || pk), in lowercase hex. */
    {
        uint8_t buf[16 + 32], h[32], id[16];
        char idhex[33];
        memcpy(buf, "strata-key-id-v1", 16);
        memcpy(buf + 16, pk, 32);
        st_hash_sha256(h, buf, sizeof buf);
        st_key_id(id, pk);
        CHECK(memcmp(id, h, 16) == 0);
        st_key_id_hex(idhex, pk);
        CHECK(strlen(idhex) == 32 && test_hex_eq(id, 16, idhex));
    }

    CHECK(st_sign_detached(sig, "strata-ballot-v1", "hello", 5, sk, err, sizeof err) == ST_OK);
    CHECK(st_sign_verify(sig, "strata-ballot-v1", "hello", 5, pk, err, sizeof err) == ST_OK);
    /* The signed bytes are domain || 0x00 || message. */
    {
        uint8_t raw[64];
        memcpy(raw, "strata-ballot-v1\0hello", 22);
        CHECK(crypto_sign_verify_detached(sig, raw, 22, pk) == 0);
    }
    /* No crossing domains or messages, no prefix games. */
    CHECK(st_sign_verify(sig, "strata-sth-v1", "hello", 5, pk, err, sizeof err) == ST_EAUTH);
    CHECK(st_sign_verify(sig, "strata-ballot-v", "1hello", 6, pk, err, sizeof err) == ST_EAUTH);
    CHECK(st_sign_verify(sig, "strata-ballot-v1", "hellp", 5, pk, err, sizeof err) == ST_EAUTH);
    CHECK(st_sign_verify(sig, "strata-ballot-v1", "hello", 4, pk, err, sizeof err) == ST_EAUTH);
    st_sign_keypair_from_seed(pk2, sk2, (const uint8_t *)"another seed of 32 bytes........");
    CHECK(st_sign_verify(sig, "strata-ballot-v1", "hello", 5, pk2, err, sizeof err) == ST_EAUTH);
    sig[10] ^= 1;
    CHECK(st_sign_verify(sig, "strata-ballot-v1", "hello", 5, pk, err, sizeof err) == ST_EAUTH);
    sig[10] ^= 1;
    /* Bad domains. */
    CHECK(st_sign_detached(sig, "", "x", 1, sk, NULL, 0) == ST_EINVAL);
    CHECK(st_sign_detached(sig, "has space", "x", 1, sk, NULL, 0) == ST_EINVAL);
    CHECK(st_sign_verify(sig, "tab\there", "x", 1, pk, NULL, 0) == ST_EINVAL);
    CHECK(st_sign_domain_ok("strata-request-v1"));
    CHECK(!st_sign_domain_ok("0123456789012345678901234567890123456789012345678901234567890123"
                             "4"));
    CHECK(st_sign_domain_ok("0123456789012345678901234567890123456789012345678901234567890123"));
    /* Long messages (heap path) and the empty message. */
    {
        size_t n = 5000;
        uint8_t *big = malloc(n);
        CHECK(big != NULL);
        memset(big, 7, n);
        CHECK(st_sign_detached(sig, "t", big, n, sk, NULL, 0) == ST_OK);
        CHECK(st_sign_verify(sig, "t", big, n, pk, NULL, 0) == ST_OK);
        big[4999] = 8;
        CHECK(st_sign_verify(sig, "t", big, n, pk, NULL, 0) == ST_EAUTH);
        free(big);
        CHECK(st_sign_detached(sig, "t", NULL, 0, sk, NULL, 0) == ST_OK);
        CHECK(st_sign_verify(sig, "t", NULL, 0, pk, NULL, 0) == ST_OK);
    }
    /* Random key pairs work and differ. */
    CHECK(st_sign_keypair(pk2, sk2) == ST_OK);
    CHECK(memcmp(pk2, pk, 32) != 0);

    /* Text forms of keys and signatures. */
    st_hex_encode(hex, pk, 32);
    CHECK(st_sign_pk_parse(pk2, hex, 64, err, sizeof err) == ST_OK && memcmp(pk2, pk, 32) == 0);
    CHECK(st_b64_encode(b64, sizeof b64, pk, 32) == ST_OK && strlen(b64) == 44);
    CHECK(st_sign_pk_parse(pk2, b64, 44, err, sizeof err) == ST_OK && memcmp(pk2, pk, 32) == 0);
    CHECK(st_sign_pk_parse(pk2, b64, 43, err, sizeof err) == ST_EINVAL);
    CHECK(strstr(err, "64 hex or 44 base64") != NULL);
    hex[5] = 'x';
    CHECK(st_sign_pk_parse(pk2, hex, 64, err, sizeof err) == ST_EINVAL);
    st_hex_encode(hex, sig, 64);
    CHECK(st_sign_sig_parse(sigp, hex, 128, NULL, 0) == ST_OK && memcmp(sigp, sig, 64) == 0);
    CHECK(st_b64_encode(b64, sizeof b64, sig, 64) == ST_OK && strlen(b64) == 88);
    CHECK(st_sign_sig_parse(sigp, b64, 88, NULL, 0) == ST_OK && memcmp(sigp, sig, 64) == 0);
    b64[87] = 'A';
    CHECK(st_sign_sig_parse(sigp, b64, 88, NULL, 0) == ST_EINVAL);
}

int main(void) {
    CHECK(st_crypto_init() == ST_OK);
    CHECK(st_crypto_init() == ST_OK); /* idempotent */
    test_hash();
    test_text();
    test_sign();
    printf("text and sign: ok\n");
    return 0;
}
