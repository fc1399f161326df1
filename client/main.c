/* main.c - the `strata` command-line program: reads the global options, finds the command
 * named by the first other argument (and, for a group such as `vote`, its subcommand) and
 * runs it. Each command lives in its own file (cmd_NAME.c) and is listed once in the table
 * below; see cli.h for the conventions they follow.
 *
 *   strata --help | --version
 *   strata help [COMMAND [SUBCOMMAND]]
 *   strata [GLOBAL OPTIONS] COMMAND [SUBCOMMAND] [ARGS...] [--help]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"

#ifndef STRATA_VERSION
#define STRATA_VERSION "unknown"
#endif

static const cli_command *const commands[] = {
    &cli_tally_command,   &cli_keygen_command,    &cli_key_command,    &cli_genesis_command,
    &cli_appoint_command, &cli_community_command, &cli_roll_command,   &cli_enroll_command,
    &cli_vote_command,    &cli_proxy_command,     &cli_ballot_command, &cli_cluster_command,
    &cli_audit_command,
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
    fputs("\n"
          "Options of every command that talks to the cluster (before or after its name):\n",
          out);
    cli_global_help(out);
    fputs("\n"
          "Exit status: 0 done, 1 bad input or refused by the service, 2 usage error,\n"
          "3 the cluster cannot be reached.\n",
          out);
}

static const cli_command *find(const cli_command *const *table, size_t n, const char *group,
                               const char *name) {
    for (size_t i = 0; i < n && table[i] != NULL; i++) {
        const char *full = table[i]->name;
        if (group != NULL) {
            size_t gl = strlen(group);
            if (strncmp(full, group, gl) != 0 || full[gl] != ' ') {
                continue;
            }
            full += gl + 1;
        }
        if (strcmp(full, name) == 0) {
            return table[i];
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

static void help_of(const cli_command *cmd, FILE *out) {
    if (cmd->subs != NULL) {
        cli_group_help(cmd, out);
    } else {
        cmd->help(out);
    }
}

/* The subcommand of group named by argv[*i] (advancing *i), after printing an error if
 * there is none. */
static const cli_command *find_sub(const cli_command *group, int argc, char **argv, int *i,
                                   int *rc) {
    if (*i >= argc) {
        fprintf(stderr, "strata %s: which one? ", group->name);
        for (const cli_command *const *s = group->subs; *s != NULL; s++) {
            fprintf(stderr, "%s%s", s == group->subs ? "" : ", ",
                    (*s)->name + strlen(group->name) + 1);
        }
        fprintf(stderr, "; see strata %s --help\n", group->name);
        *rc = CLI_EXIT_USAGE;
        return NULL;
    }
    size_t n = 0;
    while (group->subs[n] != NULL) {
        n++;
    }
    const cli_command *sub = find(group->subs, n, group->name, argv[*i]);
    if (sub == NULL) {
        fprintf(stderr, "strata %s: unknown command \"%s\"; see strata %s --help\n", group->name,
                argv[*i], group->name);
        *rc = CLI_EXIT_USAGE;
    }
    return sub;
}

/* The environment's defaults for the global options. */
static int globals_from_env(cli_globals *g) {
    g->cluster = getenv("STRATA_CLUSTER");
    g->key = getenv("STRATA_KEY");
    g->ca = getenv("STRATA_CA");
    g->cert = getenv("STRATA_CERT");
    g->cert_key = getenv("STRATA_CERT_KEY");
    const char *plain = getenv("STRATA_PLAINTEXT");
    if (plain != NULL && plain[0] != '\0') {
        if (strcmp(plain, "1") == 0 || strcmp(plain, "true") == 0 || strcmp(plain, "yes") == 0) {
            g->plaintext = true;
        } else if (strcmp(plain, "0") != 0 && strcmp(plain, "false") != 0 &&
                   strcmp(plain, "no") != 0) {
            fprintf(stderr, "strata: STRATA_PLAINTEXT \"%s\" is not 1 or 0 (true/false, yes/no)\n",
                    plain);
            return CLI_EXIT_USAGE;
        }
    }
    g->transport_from_env = true;
    const char *t = getenv("STRATA_TIMEOUT");
    if (t != NULL && t[0] != '\0') {
        static const cli_command env = {.name = "", .usage = "STRATA_TIMEOUT=SECONDS (1-3600)"};
        uint64_t s = 0;
        if (cli_number(&env, "STRATA_TIMEOUT", t, 3600, false, &s) != CLI_EXIT_OK) {
            return CLI_EXIT_USAGE;
        }
        g->timeout_ms = (uint32_t)s * 1000;
    }
    return CLI_EXIT_OK;
}

int main(int argc, char **argv) {
    cli_globals g;
    memset(&g, 0, sizeof(g));
    if (globals_from_env(&g) != CLI_EXIT_OK) {
        return CLI_EXIT_USAGE;
    }
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && !is_help(argv[i]) && strcmp(argv[i], "--version") != 0;
         i++) {
        int m = cli_global_option(NULL, &g, argc, argv, &i);
        if (m < 0) {
            return CLI_EXIT_USAGE;
        }
        if (m == 0) {
            fprintf(stderr, "strata: unknown option \"%s\"\n", argv[i]);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[i];
    if (is_help(name)) {
        usage(stdout);
        return finish(CLI_EXIT_OK);
    }
    if (strcmp(name, "--version") == 0) {
        printf("strata %s\n", STRATA_VERSION);
        return finish(CLI_EXIT_OK);
    }
    int rc = CLI_EXIT_OK;
    if (strcmp(name, "help") == 0) {
        if (i + 1 >= argc) {
            usage(stdout);
            return finish(CLI_EXIT_OK);
        }
        i++;
        const cli_command *cmd = find(commands, NCOMMANDS, NULL, argv[i]);
        if (cmd == NULL) {
            fprintf(stderr, "strata: unknown command \"%s\"; see strata --help\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
        if (cmd->subs != NULL && i + 1 < argc) {
            i++;
            cmd = find_sub(cmd, argc, argv, &i, &rc);
            if (cmd == NULL) {
                return rc;
            }
        }
        help_of(cmd, stdout);
        return finish(CLI_EXIT_OK);
    }
    const cli_command *cmd = find(commands, NCOMMANDS, NULL, name);
    if (cmd == NULL) {
        fprintf(stderr, "strata: unknown command \"%s\"\n", name);
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (cmd->subs != NULL) {
        i++;
        if (i < argc && is_help(argv[i])) {
            help_of(cmd, stdout);
            return finish(CLI_EXIT_OK);
        }
        cmd = find_sub(cmd, argc, argv, &i, &rc);
        if (cmd == NULL) {
            return rc;
        }
    }
    for (int k = i + 1; k < argc; k++) {
        if (is_help(argv[k])) {
            help_of(cmd, stdout);
            return finish(CLI_EXIT_OK);
        }
    }
    return finish(cmd->run(&g, argc - i, argv + i));
}
