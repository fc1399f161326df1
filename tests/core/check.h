/* check.h - the assertion macros of the core unit tests: on failure print where and
 * what, and exit non-zero so ctest reports the test as failed. */
#ifndef STRATA_TESTS_CORE_CHECK_H
#define STRATA_TESTS_CORE_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        if (va_ != vb_) {                                                                          \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b,  \
                    va_, vb_);                                                                     \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        if (strcmp(sa_, sb_) != 0) {                                                               \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a,  \
                    #b, sa_, sb_);                                                                 \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Contains: the message in buf mentions the given text. */
#define CHECK_HAS(buf, text)                                                                       \
    do {                                                                                           \
        if (strstr((buf), (text)) == NULL) {                                                       \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, (buf),  \
                    (text));                                                                       \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* A small deterministic generator (splitmix64) so randomized tests replay by seed. */
static inline uint64_t test_rand(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t test_below(uint64_t *s, uint64_t n) {
    return test_rand(s) % n;
}

#endif
