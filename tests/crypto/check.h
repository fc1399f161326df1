/* check.h - the crypto tests' one assertion macro and a few helpers. A failed CHECK prints
 * file:line and the expression, and exits non-zero (ctest reports the test failed). */
#ifndef STRATA_TESTS_CRYPTO_CHECK_H
#define STRATA_TESTS_CRYPTO_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr);               \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Fills out[0..n) from a hex string literal of exactly 2n digits (test data only). */
static inline void test_unhex(uint8_t *out, size_t n, const char *hex) {
    CHECK(strlen(hex) == 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        CHECK(sscanf(hex + 2 * i, "%2x", &v) == 1);
        out[i] = (uint8_t)v;
    }
}

/* 1 when buf[0..n) is the bytes of the hex string. */
static inline int test_hex_eq(const uint8_t *buf, size_t n, const char *hex) {
    static const char d[] = "0123456789abcdef";
    if (strlen(hex) != 2 * n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (hex[2 * i] != d[buf[i] >> 4] || hex[2 * i + 1] != d[buf[i] & 15])
            return 0;
    return 1;
}

/* A small deterministic generator for randomized tests (xorshift64*). */
static inline uint64_t test_rand(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

#endif
