/* main.c - the `strata` command-line program: finds the command named by the first
 * argument and runs it. Each command lives in its own file (cmd_NAME.c) and is listed
 * once in the table below; see cli.h for the conventions they follow.
 *
 *   strata --help | --version
 *   strata help [COMMAND]
 *   strata COMMAND --help
 *   strata COMMAND [ARGS...]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "client/cli.h"

#ifndef STRATA_VERSION
#define STRATA_VERSION "unknown"
#endif

static const cli_command *const commands[] = {
    &cli_tally_command,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out) {
    fputs("usage: strata COMMAND [ARGS...]\n"
          "       strata COMMAND --help | strata --help | strata --version\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    }
}

static const cli_command *find(const char *name) {
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i]->name, name) == 0) {
            return commands[i];
        }
    }
    return NULL;
}

static bool is_help(const char *arg) {
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* Everything written to stdout must have reached it: a full disk or a closed pipe
 * is a failure, not a silent success. */
static int finish(int rc) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "strata: cannot write the output: %s\n", strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (is_help(name)) {
        usage(stdout);
        return finish(CLI_EXIT_OK);
    }
    if (strcmp(name, "--version") == 0) {
        printf("strata %s\n", STRATA_VERSION);
        return finish(CLI_EXIT_OK);
    }
    if (strcmp(name, "help") == 0) {
        if (argc == 2) {
            usage(stdout);
            return finish(CLI_EXIT_OK);
        }
        name = argv[2];
        const cli_command *cmd = find(name);
        if (cmd == NULL) {
            fprintf(stderr, "strata: unknown command \"%s\"; see strata --help\n", name);
            return CLI_EXIT_USAGE;
        }
        cmd->help(stdout);
        return finish(CLI_EXIT_OK);
    }
    const cli_command *cmd = find(name);
    if (cmd == NULL) {
        fprintf(stderr, "strata: unknown command \"%s\"\n", name);
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        if (is_help(argv[i])) {
            cmd->help(stdout);
            return finish(CLI_EXIT_OK);
        }
    }
    return finish(cmd->run(argc - 1, argv + 1));
}
