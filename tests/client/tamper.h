/* tamper.h - changes an audit bundle the way an attacker would (tests only): change a
 * choice inside a signed record, drop, reorder or duplicate a ballot, swap a key, alter the
 * result. By default the MANIFEST line of the changed file is rewritten to match, so that
 * only the deeper checks can catch it. Used by tests/client/test_bundle.c and, through the
 * bundle_tamper program, by the end-to-end test on a bundle exported from a real vote.
 */
#ifndef STRATA_TESTS_CLIENT_TAMPER_H
#define STRATA_TESTS_CLIENT_TAMPER_H

#include <stdbool.h>
#include <stddef.h>

/* What the verifier must report for a tamper: the file, its line (0: the whole file) and
 * a piece of the message. */
typedef struct {
    char file[32];
    size_t line;
    char text[160];
} tamper_expect;

/* The kinds, NULL-terminated: choice, drop, drop-renumber, reorder, reorder-renumber,
 * duplicate, duplicate-renumber, swap-key, swap-owner, result, unsigned-manifest. */
extern const char *const tamper_kinds[];

/* Applies kind to the bundle in dir, in place. Returns 0, or -1 with a message on stderr
 * (unknown kind, a bundle too small for it). */
int tamper_apply(const char *dir, const char *kind, tamper_expect *expect);

/* Copies the bundle files of src into the new directory dst. 0 or -1. */
int tamper_copy(const char *src, const char *dst);

#endif
