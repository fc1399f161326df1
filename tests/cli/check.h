/* check.h - the few assertion macros the tests in tests/cli share.
 *
 * A failed check prints "file:line: what" to stderr and counts; a test program returns
 * check_exit() so that ctest sees the failure and every failed check is listed.
 */
#ifndef STRATA_TESTS_CLI_CHECK_H
#define STRATA_TESTS_CLI_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            check_failures++;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_INT(got, want)                                                                       \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (g_ != w_) {                                                                            \
            fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__, #got, g_,    \
                    w_);                                                                           \
            check_failures++;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (g_ == NULL || strcmp(g_, w_) != 0) {                                                   \
            fprintf(stderr, "%s:%d: %s is\n  \"%s\"\nexpected\n  \"%s\"\n", __FILE__, __LINE__,    \
                    #got, g_ ? g_ : "(null)", w_);                                                 \
            check_failures++;                                                                      \
        }                                                                                          \
    } while (0)

/* got contains want */
#define CHECK_HAS(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (g_ == NULL || strstr(g_, w_) == NULL) {                                                \
            fprintf(stderr, "%s:%d: %s is\n  \"%s\"\nwhich does not contain\n  \"%s\"\n",          \
                    __FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_);                             \
            check_failures++;                                                                      \
        }                                                                                          \
    } while (0)

static inline int check_exit(const char *name) {
    if (check_failures > 0) {
        fprintf(stderr, "%s: %d check%s failed\n", name, check_failures,
                check_failures == 1 ? "" : "s");
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

#endif
