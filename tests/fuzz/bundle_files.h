/* bundle_files.h - the files of a matter vote's audit bundle (docs/AUDIT.md), in the order
 * the bundle fuzz target numbers them: an input's first byte picks one (modulo the count). */
#ifndef STRATA_TESTS_FUZZ_BUNDLE_FILES_H
#define STRATA_TESTS_FUZZ_BUNDLE_FILES_H

#define FUZZ_BUNDLE_FILES 8

/* MANIFEST first: fuzz_bundle.c rewrites it for every other file. */
static const char *const fuzz_bundle_files[FUZZ_BUNDLE_FILES] = {
    "MANIFEST", "roll.csv",  "ballots.log", "ballots.csv",
    "keys.txt", "nodes.txt", "sth.txt",     "result.json",
};

#endif
