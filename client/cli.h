/* cli.h - what the commands of the `strata` program share: exit codes, the command
 * table entry, the global options, option parsing, reading a whole file with a clear
 * error, JSON strings, connecting to the cluster and reporting its errors (cli_net.c), and
 * the readable report of a count (report.c).
 *
 * Adding a command: write client/cmd_NAME.c defining `const cli_command cli_NAME_command`
 * (or a group of subcommands), declare it below, list it in main.c's table and in
 * client/CMakeLists.txt.
 *
 * Conventions every command follows:
 *   - stdout carries the result and nothing else; messages go to stderr, one line each,
 *     starting "strata NAME: " and, for bad input, "FILE:LINE: ";
 *   - exit CLI_EXIT_OK on success (a vote that failed is still a successful count),
 *     CLI_EXIT_FAIL on bad input, an I/O error or a refusal by the service (its message
 *     printed, and what to do), CLI_EXIT_USAGE on a usage error, CLI_EXIT_UNREACHABLE when
 *     no node of the cluster answered (the addresses tried are named);
 *   - `--json` on every command that prints data; a command that creates something prints
 *     its id (with --json: {"id": N});
 *   - `strata NAME --help` is handled by main.c through cli_command.help.
 */
#ifndef STRATA_CLIENT_CLI_H
#define STRATA_CLIENT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "client/strata.h"
#include "core/roll_csv.h"
#include "core/tally.h"

enum {
    CLI_EXIT_OK = 0,         /* done (whatever the outcome of the vote) */
    CLI_EXIT_FAIL = 1,       /* bad input, unreadable file, failed write, refused by the service */
    CLI_EXIT_USAGE = 2,      /* missing or unknown option, bad option value */
    CLI_EXIT_UNREACHABLE = 3 /* no node of the cluster answered in time */
};

/* The options every command accepts, before or after its name. Strings are borrowed from
 * argv or the environment. */
typedef struct {
    const char *cluster; /* --cluster ADDR[,ADDR...] or STRATA_CLUSTER */
    const char *key;     /* --key FILE or STRATA_KEY */
    bool json;           /* --json */
    uint32_t timeout_ms; /* --timeout SECONDS or STRATA_TIMEOUT; 0: the library's default */
    /* The transport (docs/CLI.md): TLS checked against --ca FILE (STRATA_CA), else the
     * system's roots; a client certificate --cert FILE --cert-key FILE (STRATA_CERT,
     * STRATA_CERT_KEY); or --plaintext (STRATA_PLAINTEXT=1), loopback addresses only. Any
     * of these on the command line replaces all four of the environment. */
    const char *ca;
    const char *cert;
    const char *cert_key;
    bool plaintext;
    bool transport_from_env; /* the four above came from the environment */
} cli_globals;

typedef struct cli_command cli_command;
struct cli_command {
    const char *name;    /* "tally", or "vote create" for a subcommand */
    const char *summary; /* one line for `strata --help` */
    const char *usage;   /* one line: "strata tally --roll ROLL.csv ..." */
    /* Runs the command; argv[0] is the command name. Returns a CLI_EXIT_* code. NULL for a
     * group, which runs one of its subs. */
    int (*run)(cli_globals *g, int argc, char **argv);
    void (*help)(FILE *out);        /* the full help text, for `strata NAME --help` */
    const cli_command *const *subs; /* a group's subcommands, NULL-terminated; else NULL */
};

extern const cli_command cli_tally_command;
extern const cli_command cli_keygen_command;
extern const cli_command cli_key_command;
extern const cli_command cli_community_command;
extern const cli_command cli_roll_command;
extern const cli_command cli_vote_command;
extern const cli_command cli_ballot_command;
extern const cli_command cli_cluster_command;
extern const cli_command cli_audit_command;
extern const cli_command cli_genesis_command;
extern const cli_command cli_appoint_command;
extern const cli_command cli_enroll_command;
extern const cli_command cli_proxy_command;
extern const cli_command cli_ballot_verify_command; /* a leaf of the ballot group */

/* Prints a group's help: its usage lines and each subcommand's summary. */
void cli_group_help(const cli_command *group, FILE *out);

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

/* ---- parsing a command's arguments ---- */

#define CLI_LIST_MAX 64

/* Values of a repeatable option; "--candidate A B --candidate C" gives A, B, C. */
typedef struct {
    const char *items[CLI_LIST_MAX];
    size_t n;
} cli_list;

/* One option of a command: exactly one of value, flag, list is set. */
typedef struct {
    const char *name;   /* "--matter" */
    const char **value; /* takes one value, at most once */
    bool *flag;         /* takes no value */
    cli_list *list;     /* takes one or more values (the following arguments that do not
                           start with "--"), and may be repeated */
} cli_opt;

/* Parses argv[1..argc) into opts, the global options (--cluster, --key, --json,
 * --timeout, --ca, --cert, --cert-key, --plaintext) into g, and the positional arguments into
 * pos[0..npos_max); names[i] names positional i in messages ("VOTE"). Prints a usage error and
 * returns CLI_EXIT_USAGE for an unknown option, a missing or repeated value, a missing or extra
 * argument; otherwise CLI_EXIT_OK with *npos (may be NULL) set. */
int cli_parse(const cli_command *cmd, cli_globals *g, int argc, char **argv, const cli_opt *opts,
              size_t nopts, const char **pos, const char *const *names, size_t npos_min,
              size_t npos_max, size_t *npos);

/* Parses a global option at argv[*i] into g: 1 when it was one, 0 when not, -1 (after
 * printing a usage error) for a bad or missing value. cmd is NULL before the command. */
int cli_global_option(const cli_command *cmd, cli_globals *g, int argc, char **argv, int *i);

/* The lines of help of the global options (after "Options ...:"), for main.c and groups. */
void cli_global_help(FILE *out);

/* Parses an id or count: decimal digits only, no sign or leading zeros, 1..max (0 allowed
 * when allow_zero). On error prints `WHAT "TEXT" is not ...` as a usage error and returns
 * CLI_EXIT_USAGE. */
int cli_number(const cli_command *cmd, const char *what, const char *text, uint64_t max,
               bool allow_zero, uint64_t *out);

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

/* ---- talking to the cluster (cli_net.c) ---- */

/* CLI_EXIT_OK when g names a cluster; otherwise a usage error (printed). Commands call it
 * before reading any file, so that usage errors come first. */
int cli_need_cluster(const cli_command *cmd, const cli_globals *g);

/* Opens a handle on the cluster of g (a usage error when there is none), with the key of
 * g->key loaded (sealed keys: STRATA_PASSPHRASE, else a prompt on the terminal) and the
 * transport of g (usage errors: --plaintext with TLS options or with an address not on
 * this machine, --cert without --cert-key or the reverse; an unreadable or non-PEM TLS
 * file fails). Returns CLI_EXIT_OK, or the exit code after printing why. */
int cli_connect(const cli_command *cmd, const cli_globals *g, st_client **out);

/* cli_connect for a command that must be signed: without --key (or STRATA_KEY) it is a
 * usage error saying whose key is needed. */
int cli_connect_signed(const cli_command *cmd, const cli_globals *g, st_client **out);

/* Parses a public key (44 base64 or 64 hex characters) named what; a usage error
 * otherwise. */
int cli_public_key(const cli_command *cmd, const char *what, const char *text,
                   uint8_t pk[ST_SIGN_PK_LEN]);

/* Prints a key file's public key (--json: public_key, key_id, file, sealed). */
void cli_print_key_file(const cli_globals *g, const st_keypair *k, const char *file, bool sealed);
/* Prints a registered key (--json: key_id, public_key, role, community_id, owner_id, label,
 * registered_ms, revoked_ms, active). */
void cli_print_registered_key(const cli_globals *g, const Strata__V1__Key *k);
/* Prints the key id a key command returns (--json: {"key_id", "seq"}). */
void cli_print_key_result(const cli_globals *g, const st_key_result *r);

/* Reads the file at path and writes its SHA-256 into out (a scan, a document). CLI_EXIT_OK
 * or CLI_EXIT_FAIL after printing why. */
int cli_file_sha256(const cli_command *cmd, const char *path, uint8_t out[32]);

/* Loads the key file at path (asking for the passphrase of a sealed file as above).
 * Returns CLI_EXIT_OK or CLI_EXIT_FAIL after printing why. */
int cli_load_key(const cli_command *cmd, const char *path, st_keypair **out);

/* Reads a passphrase: STRATA_PASSPHRASE if set, else from the terminal without echo
 * (twice when confirm). Returns 1 and the text in buf (NUL-terminated, *len bytes), 0 when
 * there is no terminal to ask on, -1 on a mismatch or read error (message printed). */
int cli_passphrase(const cli_command *cmd, const char *prompt, bool confirm, char *buf, size_t cap,
                   size_t *len);

/* Prints a library error (what the service said and what to do, or which addresses were
 * tried) and returns its exit code: CLI_EXIT_UNREACHABLE or CLI_EXIT_FAIL. */
int cli_error(const cli_command *cmd, const st_error *e);

/* True when progress may be shown: stderr is a terminal. */
bool cli_progress(void);

/* Writes a time in ms since the epoch as "2024-05-01T08:00:00Z" ("-" for 0). */
const char *cli_time(uint64_t ms, char *buf, size_t len);

/* Names of the API's enums for output ("open", "agree", "owned", ...). */
const char *cli_vote_state(int state);
const char *cli_choice_name(int choice);
const char *cli_unit_status(int status);

/* ---- enrollment letters (enroll_letter.c) ---- */

/* What a letter says. Strings borrowed. */
typedef struct {
    uint64_t community_id;
    const char *community_name, *street;
    const char *owner_id, *owner_name; /* the name is masked in the letter */
    const char *units;                 /* "A-101, A-202" */
    const char *code;
    uint64_t expires_ms, seq;
    const char *organiser_key_id;
} cli_letter;

/* Writes the printable letter to a new file at path (mode 0600: it holds the code).
 * CLI_EXIT_OK or CLI_EXIT_FAIL after printing why. */
int cli_write_letter(const cli_command *cmd, const char *path, const cli_letter *l);

/* Masks a name as published lists do (docs/ROLES.md §Privacy): the first character of each
 * co-owner's name stays, every other character becomes '*' (张三 -> 张*, 周强;吴芳 ->
 * 周*;吴*). Writes into out (cap bytes, NUL-terminated); returns the length. */
size_t cli_mask_name(const char *name, char *out, size_t cap);

/* ---- the report of a count (report.c), shared by `strata tally` and `strata vote result` */

/* "owner" or "owners". */
const char *cli_owners_word(int64_t n);

/* "847.15 m² (65.7%) / 6 owners (66.7%)" and tail, a line: w and its shares of `of`. */
void cli_print_weight(FILE *out, st_weight w, st_weight of, const char *tail);

/* The lines of the readable report from "Participating:" to "Result:". */
void cli_report_count(FILE *out, const st_tally *t, const st_decision *d, st_class cls);

/* The JSON members shared by `strata tally --json` and `strata vote result --json`, from
 * "total_area" to "passed", without braces. */
void cli_json_count(FILE *out, const st_tally *t, const st_decision *d);

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
