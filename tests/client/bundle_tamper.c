/* bundle_tamper.c - the tamper tool of the command-line and end-to-end tests:
 *
 *   bundle_tamper example DIR   writes the worked example's signed bundle (bundle_fixture.h)
 *   bundle_tamper list          prints the tamper kinds, one a line
 *   bundle_tamper KIND DIR      applies one tamper (tamper.h) to the bundle in DIR, in
 *                               place, and prints what the verifier must report:
 *                               FILE<TAB>LINE<TAB>TEXT
 *
 * Exit status 0, or 1 with a message on stderr. A test tool only.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "tests/client/bundle_fixture.h"
#include "tests/client/tamper.h"

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        for (size_t i = 0; tamper_kinds[i] != NULL; i++) {
            printf("%s\n", tamper_kinds[i]);
        }
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: bundle_tamper example DIR | list | KIND DIR\n");
        return 1;
    }
    if (strcmp(argv[1], "example") == 0) {
        return fixture_write(argv[2], fixture_example_units, 12, fixture_example_ballots,
                             FIXTURE_EXAMPLE_BALLOTS, false) == ST_OK
                   ? 0
                   : 1;
    }
    tamper_expect e;
    if (tamper_apply(argv[2], argv[1], &e) != 0) {
        return 1;
    }
    printf("%s\t%zu\t%s\n", e.file, e.line, e.text);
    return 0;
}
