/* cli.h - what the commands of the `strata` program share: exit codes, the command
 * table entry, option matching, reading a whole file with a clear error, JSON strings.
 *
 * Adding a command: write client/cmd_NAME.c defining `const cli_command cli_NAME_command`,
 * declare it below, list it in main.c's table and in client/CMakeLists.txt.
 *
 * Conventions every command follows:
 *   - stdout carries the result and nothing else; messages go to stderr, one line each,
 *     starting "strata NAME: " and, for bad input, "FILE:LINE: ";
 *   - exit CLI_EXIT_OK on success (a vote that failed is still a successful count),
 *     CLI_EXIT_FAIL on bad input or an I/O error, CLI_EXIT_USAGE on a usage error;
 *   - `strata NAME --help` is handled by main.c through cli_command.help.
 */
#ifndef STRATA_CLIENT_CLI_H
#define STRATA_CLIENT_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "core/roll_csv.h"
#include "core/tally.h"

enum {
    CLI_EXIT_OK = 0,   /* done (whatever the outcome of the vote) */
    CLI_EXIT_FAIL = 1, /* bad input, unreadable file, failed write */
    CLI_EXIT_USAGE = 2 /* missing or unknown option, bad option value */
};

typedef struct {
    const char *name;    /* "tally" */
    const char *summary; /* one line for `strata --help` */
    const char *usage;   /* one line: "strata tally --roll ROLL.csv ..." */
    /* Runs the command; argv[0] is the command name. Returns a CLI_EXIT_* code. */
    int (*run)(int argc, char **argv);
    void (*help)(FILE *out); /* the full help text, for `strata NAME --help` */
} cli_command;

extern const cli_command cli_tally_command;

/* Largest file cli_read_file() reads. */
#define CLI_FILE_MAX ((size_t)1 << 30)

/* Reads the whole file at `path` into a new NUL-terminated buffer (*out, free() it;
 * *len excludes the NUL). Pipes work; a directory does not. On failure returns ST_EIO
 * (missing, unreadable, a directory), ST_ERANGE (larger than CLI_FILE_MAX) or ST_ENOMEM
 * with one sentence in err naming the path and what to do, and leaves *out unchanged. */
int cli_read_file(const char *path, char **out, size_t *len, char *err, size_t errlen);

/* Matches argv[*i] against option `name` ("--roll") written as "--roll VALUE" or
 * "--roll=VALUE". Returns 0 if it is another argument, 1 if it matched (then *value is
 * set and *i points at the last argument used), -1 if it matched but the value is
 * missing. */
int cli_option(int argc, char **argv, int *i, const char *name, const char **value);

/* Prints "strata CMD: MESSAGE" and the command's usage line to stderr; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "strata CMD: MESSAGE" to stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes s as a JSON string literal, quotes included, into buf (always NUL-terminated
 * when len > 0). Escapes ", \ and control characters; other UTF-8 passes through.
 * Returns the length the whole literal needs (excluding the NUL), like snprintf. */
size_t cli_json_escape(const char *s, char *buf, size_t len);
/* Writes s as a JSON string literal to out. */
void cli_json_string(FILE *out, const char *s);

/* ---- tally: the recount behind `strata tally`, shared with tests/bench ---- */

typedef struct {
    st_class cls;
    size_t units;                 /* units on the roll */
    st_ballots_csv_stats ballots; /* ballot lines read, replaced, owners with a ballot */
    st_tally tally;               /* totals and the three choices, by area and owners */
    st_decision decision;         /* participation, quorum, passed */
} cli_tally_result;

/* Reads and parses both files, recounts with st_tally_recount() and decides with
 * st_tally_decide(). Returns ST_OK, or an error code with one sentence in err naming
 * the file (and line). */
int cli_tally_files(const char *roll_path, const char *ballots_path, st_class cls,
                    cli_tally_result *out, char *err, size_t errlen);

#endif
