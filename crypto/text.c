/* text.c - strict hex and base64 codecs (base64 via libsodium's constant-time codec). */
#include <string.h>

#include <sodium.h>

#include "core/error.h"
#include "crypto/text.h"

void st_hex_encode(char *out, const uint8_t *in, size_t len) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int st_hex_decode(uint8_t *out, size_t outlen, const char *hex, size_t hexlen, char *err,
                  size_t errlen) {
    if (hexlen % 2 != 0 || hexlen / 2 != outlen) {
        memset(out, 0, outlen);
        return st_fail(err, errlen, ST_EINVAL, "hex: expected %zu characters, got %zu", outlen * 2,
                       hexlen);
    }
    for (size_t i = 0; i < outlen; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            memset(out, 0, outlen);
            return st_fail(err, errlen, ST_EINVAL, "hex: character %zu is not a hex digit",
                           hi < 0 ? 2 * i : 2 * i + 1);
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return ST_OK;
}

int st_b64_encode(char *out, size_t outcap, const uint8_t *in, size_t len) {
    if (len > (SIZE_MAX - 4) / 4 * 3 || outcap < ST_B64_LEN(len) + 1)
        return ST_ERANGE;
    sodium_bin2base64(out, outcap, in, len, sodium_base64_VARIANT_ORIGINAL);
    return ST_OK;
}

/* 1 for the 64 characters of the standard alphabet. */
static int b64_alphabet(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

int st_b64_decode(uint8_t *out, size_t outlen, const char *b64, size_t b64len, char *err,
                  size_t errlen) {
    size_t got = 0;
    const char *end = NULL;

    if (outlen > (SIZE_MAX - 4) / 4 * 3 || b64len != ST_B64_LEN(outlen)) {
        memset(out, 0, outlen);
        return st_fail(err, errlen, ST_EINVAL, "base64: expected %zu characters, got %zu",
                       ST_B64_LEN(outlen), b64len);
    }
    /* libsodium 1.0.18 maps some bytes >= 0x80 to base64 digits (found by fuzz_text: a
     * leading 0xff decoded as a digit), so check the alphabet here first: every character
     * is a digit, except '=' padding at the very end. */
    for (size_t i = 0; i < b64len; i++) {
        unsigned char c = (unsigned char)b64[i];
        if (!b64_alphabet(c) && !(c == '=' && i + 2 >= b64len)) {
            memset(out, 0, outlen);
            return st_fail(err, errlen, ST_EINVAL, "base64: character %zu is not base64", i);
        }
    }
    /* ignore=NULL: no character is skipped. libsodium rejects characters outside the
     * alphabet, bad padding and non-zero trailing bits; we add "all input consumed" and
     * "exactly outlen bytes". */
    if (sodium_base642bin(out, outlen, b64, b64len, NULL, &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got != outlen || end != b64 + b64len) {
        memset(out, 0, outlen);
        return st_fail(err, errlen, ST_EINVAL,
                       "base64: not the canonical padded encoding of %zu bytes", outlen);
    }
    return ST_OK;
}
