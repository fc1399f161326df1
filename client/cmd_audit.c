/* cmd_audit.c - `strata audit ...`, for street-office supervisors and anyone checking the
 * record: the action trail of a community (who did what, when); the audit bundle of a vote,
 * exported from the cluster and verified offline (client/audit/, docs/AUDIT.md); and the
 * supervisor's certification or dispute of a published result.
 */
#include <string.h>

#include "client/cli.h"
#include "crypto/text.h"

static const cli_command trail_cmd, export_cmd, verify_cmd, certify_cmd, dispute_cmd;

#define TRAIL_USAGE "strata audit trail COMMUNITY [--after SEQ] [--json]"
#define PAGE 1000

static void trail_help(FILE *out) {
    fputs(
        "usage: " TRAIL_USAGE "\n"
        "\n"
        "Prints the community's action trail: every accepted command with its sequence\n"
        "number, time, actor, kind, vote and summary, oldest first (COMMUNITY 0: every\n"
        "community).\n"
        "\n"
        "  --after SEQ   only events after sequence number SEQ\n"
        "  --json        print {\"community_id\", \"events\": [{\"seq\", \"time_ms\", \"actor\",\n"
        "                \"kind\", \"community_id\", \"vote_id\", \"summary\"}]}\n"
        "\n"
        "Exit status: 0 shown, 1 refused, 2 usage error, 3 cluster unreachable.\n",
        out);
}

static void event_json(const Strata__V1__Event *ev, bool first) {
    printf("%s{\"seq\":%llu,\"time_ms\":%llu,\"actor\":", first ? "" : ",",
           (unsigned long long)ev->seq, (unsigned long long)ev->time_ms);
    cli_json_string(stdout, ev->actor);
    fputs(",\"kind\":", stdout);
    cli_json_string(stdout, ev->kind);
    printf(",\"community_id\":%llu,\"vote_id\":%llu,\"summary\":",
           (unsigned long long)ev->community_id, (unsigned long long)ev->vote_id);
    cli_json_string(stdout, ev->summary);
    fputc('}', stdout);
}

static int trail_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &trail_cmd;
    const char *after_s = NULL;
    cli_opt opts[] = {{.name = "--after", .value = &after_s}};
    const char *pos[1];
    static const char *const names[] = {"COMMUNITY"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 1, pos, names, 1, 1, NULL);
    uint64_t community = 0, after = 0;
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "COMMUNITY", pos[0], UINT64_MAX, true, &community)) != 0 ||
        (after_s != NULL && (rc = cli_number(cmd, "--after", after_s, UINT64_MAX, true, &after)))) {
        return rc;
    }
    st_client *c = NULL;
    if ((rc = cli_connect(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    if (g->json) {
        printf("{\"community_id\":%llu,\"events\":[", (unsigned long long)community);
    }
    size_t shown = 0;
    for (;;) {
        Strata__V1__TrailResponse *r = NULL;
        st_error e;
        if (st_trail(c, community, after, PAGE, &r, &e) != ST_OK) {
            if (g->json) {
                fputs("]}\n", stdout); /* what came so far stays valid JSON */
            }
            st_client_close(c);
            return cli_error(cmd, &e);
        }
        for (size_t i = 0; i < r->n_events; i++) {
            const Strata__V1__Event *ev = r->events[i];
            if (g->json) {
                event_json(ev, shown == 0);
            } else {
                char when[32];
                printf("%-6llu %s  %-16s %-18s vote %-4llu %s\n", (unsigned long long)ev->seq,
                       cli_time(ev->time_ms, when, sizeof(when)), ev->actor, ev->kind,
                       (unsigned long long)ev->vote_id, ev->summary);
            }
            shown++;
            after = ev->seq > after ? ev->seq : after;
        }
        size_t n = r->n_events;
        strata__v1__trail_response__free_unpacked(r, NULL);
        if (n < PAGE) {
            break;
        }
        if (cli_progress()) {
            fprintf(stderr, "strata audit trail: %zu events...\n", shown);
        }
    }
    st_client_close(c);
    if (g->json) {
        fputs("]}\n", stdout);
    } else if (shown == 0) {
        printf("no events\n");
    }
    return CLI_EXIT_OK;
}

/* ---- export ---- */

#define EXPORT_USAGE "strata audit export VOTE --out DIR [--json]"
#define VERIFY_USAGE "strata audit verify DIR [--threads N] [--json]"
#define CERTIFY_USAGE "strata audit certify VOTE [--reason R] [--json]"
#define DISPUTE_USAGE "strata audit dispute VOTE --reason R [--json]"

static void export_help(FILE *out) {
    fputs(
        "usage: " EXPORT_USAGE "\n"
        "\n"
        "Writes the audit bundle of a closed vote into the new directory DIR\n"
        "(docs/AUDIT.md): the frozen roll, every ballot with its signed record, every key\n"
        "that signed one, the cluster's node keys, the final signed tree head and the\n"
        "published result, as line-oriented text files with a MANIFEST of their SHA-256.\n"
        "Before finishing, the tree head is checked against the node keys and the ballots\n"
        "against its root. Then anyone can check the bundle offline: strata audit verify.\n"
        "No key is needed (public, masked data).\n"
        "\n"
        "  --out DIR   the bundle's directory (created; an existing bundle is never\n"
        "              overwritten)\n"
        "  --json      print {\"vote_id\", \"dir\", \"units\", \"ballots\", \"keys\", \"nodes\",\n"
        "              \"tree_size\", \"root\"}\n"
        "\n"
        "Progress is shown on a terminal. Exit status: 0 written, 1 refused (the vote is\n"
        "not closed, the answers do not check), 2 usage error, 3 cluster unreachable.\n",
        out);
}

static void show_progress(void *ctx, const char *stage, uint64_t done, uint64_t total) {
    const char *name = ctx;
    if (total > 0) {
        fprintf(stderr, "\rstrata %s: %s %llu of %llu...", name, stage, (unsigned long long)done,
                (unsigned long long)total);
    } else {
        fprintf(stderr, "\rstrata %s: %s %llu...", name, stage, (unsigned long long)done);
    }
}

static int export_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &export_cmd;
    const char *dir = NULL;
    cli_opt opts[] = {{.name = "--out", .value = &dir}};
    const char *pos[1];
    static const char *const names[] = {"VOTE"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 1, pos, names, 1, 1, NULL);
    uint64_t vote = 0;
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "VOTE", pos[0], UINT64_MAX, false, &vote)) != CLI_EXIT_OK) {
        return rc;
    }
    if (dir == NULL) {
        return cli_usage_error(cmd, "--out is missing");
    }
    st_client *c = NULL;
    if ((rc = cli_connect(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    bool progress = cli_progress();
    st_export_result r;
    st_error e;
    rc = st_export_bundle(c, vote, dir, progress ? show_progress : NULL, (void *)"audit export", &r,
                          &e);
    st_client_close(c);
    if (progress) {
        fputs("\n", stderr);
    }
    if (rc != ST_OK) {
        return cli_error(cmd, &e);
    }
    char root[65];
    st_hex_encode(root, r.sth.root, sizeof(r.sth.root));
    if (g->json) {
        printf("{\"vote_id\":%llu,\"dir\":", (unsigned long long)vote);
        cli_json_string(stdout, dir);
        printf(",\"units\":%llu,\"ballots\":%llu,\"keys\":%llu,\"nodes\":%llu,\"tree_size\":%llu"
               ",\"root\":\"%s\"}\n",
               (unsigned long long)r.units, (unsigned long long)r.ballots,
               (unsigned long long)r.keys, (unsigned long long)r.nodes,
               (unsigned long long)r.sth.tree_size, root);
    } else {
        printf("%s\n", dir);
        fprintf(stderr,
                "strata audit export: vote %llu: %llu units, %llu ballots, %llu keys, %llu node "
                "keys; tree head of node %llu: %llu ballots, root %s\n",
                (unsigned long long)vote, (unsigned long long)r.units,
                (unsigned long long)r.ballots, (unsigned long long)r.keys,
                (unsigned long long)r.nodes, (unsigned long long)r.sth.node_id,
                (unsigned long long)r.sth.tree_size, root);
    }
    return CLI_EXIT_OK;
}

/* ---- verify ---- */

static void verify_help(FILE *out) {
    fputs(
        "usage: " VERIFY_USAGE "\n"
        "\n"
        "Verifies an audit bundle offline (no cluster, no network; docs/AUDIT.md): every\n"
        "file against MANIFEST, the final tree head's signature against the bundle's node\n"
        "keys, every key's id, every ballot's signature and signer (its registration: an\n"
        "owner's own key, an authorised proxy's, or an organiser's for paper), the ballots'\n"
        "order and uniqueness, the Merkle root of all records against the signed tree\n"
        "head, and a recount from the frozen roll (the last ballot of each owner counts)\n"
        "against the published result. The first discrepancy is named: file, line, what.\n"
        "Compare the node key ids printed with those the cluster publishes (strata cluster\n"
        "status).\n"
        "\n"
        "  --threads N   signature checks on N threads (default: every core)\n"
        "  --json        print {\"verified\", \"file\", \"line\", \"message\", \"vote_id\",\n"
        "                \"ballots\", \"voters\", \"keys\", \"nodes\", \"tree_size\", the keys of\n"
        "                strata tally --json, \"threads\", \"ballots_per_second\"}\n"
        "\n"
        "Progress is shown on a terminal. Exit status: 0 verified, 1 a discrepancy (or an\n"
        "unreadable bundle), 2 usage error.\n",
        out);
}

static void verify_json(const st_bundle_report *r, bool ok, uint64_t per_s) {
    printf("{\"verified\":%s,\"file\":", ok ? "true" : "false");
    if (ok) {
        fputs("null,\"line\":null,\"message\":null", stdout);
    } else {
        cli_json_string(stdout, r->file);
        printf(",\"line\":%zu,\"message\":", r->line);
        cli_json_string(stdout, r->message);
    }
    printf(",\"vote_id\":%llu,\"ballots\":%zu,\"voters\":%zu,\"keys\":%zu,\"nodes\":%zu"
           ",\"tree_size\":%llu,",
           (unsigned long long)r->vote_id, r->ballots, r->voters, r->keys, r->nodes,
           (unsigned long long)r->sth.tree_size);
    st_json_count(stdout, &r->tally, &r->decision);
    printf(",\"threads\":%u,\"ballots_per_second\":%llu}\n", r->threads, (unsigned long long)per_s);
}

static void verify_text(const st_bundle_report *r, const char *dir, uint64_t per_s) {
    char root[65];
    st_hex_encode(root, r->sth.root, sizeof(r->sth.root));
    printf("VERIFIED: audit bundle %s of vote %llu (community %llu, matter %u)\n", dir,
           (unsigned long long)r->vote_id, (unsigned long long)r->community_id, r->matter);
    printf("  files:       every file matches MANIFEST's SHA-256\n");
    printf("  tree head:   signed by node %llu, %llu ballots, root %s\n",
           (unsigned long long)r->sth.node_id, (unsigned long long)r->sth.tree_size, root);
    printf("  ballots:     %zu signatures valid, each by a registered key of the right owner or\n"
           "               organiser; in order, none repeated; their Merkle root is the head's\n",
           r->ballots);
    printf("  keys:        %zu signing keys, %zu node key%s\n", r->keys, r->nodes,
           r->nodes == 1 ? "" : "s");
    printf("  recount:     %zu units, %zu owners on the frozen roll; the last ballot of %zu "
           "owner%s counts\n",
           r->units, r->owners, r->voters, r->voters == 1 ? "" : "s");
    if (r->matter != ST_MATTER_ELECTION) {
        cli_report_count(stdout, &r->tally, &r->decision, st_matter_class((int)r->matter));
    }
    printf("  result:      result.json equals the recount\n");
    printf("  speed:       %llu ballots/s on %u thread%s\n", (unsigned long long)per_s, r->threads,
           r->threads == 1 ? "" : "s");
}

static void verify_progress(void *ctx, const char *stage, uint64_t done, uint64_t total) {
    show_progress(ctx, stage, done, total);
}

static int verify_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &verify_cmd;
    const char *threads_s = NULL;
    cli_opt opts[] = {{.name = "--threads", .value = &threads_s}};
    const char *pos[1];
    static const char *const names[] = {"DIR"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 1, pos, names, 1, 1, NULL);
    uint64_t threads = 0;
    if (rc != CLI_EXIT_OK ||
        (threads_s != NULL &&
         (rc = cli_number(cmd, "--threads", threads_s, 256, false, &threads)) != CLI_EXIT_OK)) {
        return rc;
    }
    bool progress = cli_progress();
    st_bundle_verify_options o = {(unsigned)threads, progress ? verify_progress : NULL,
                                  (void *)"audit verify"};
    st_bundle_report r;
    rc = st_bundle_verify(pos[0], &o, &r);
    if (progress) {
        fputs("\n", stderr);
    }
    uint64_t per_s = r.verify_us > 0 ? (uint64_t)r.ballots * 1000000u / r.verify_us : 0;
    if (rc != ST_OK && rc != ST_ECORRUPT) {
        return cli_fail(cmd, "%s/%s: %s (%s)", pos[0], r.file, r.message, st_strerror(rc));
    }
    if (g->json) {
        verify_json(&r, rc == ST_OK, per_s);
    } else if (rc == ST_OK) {
        verify_text(&r, pos[0], per_s);
    } else {
        printf("DISCREPANCY: %s", r.file);
        if (r.line > 0) {
            printf(":%zu", r.line);
        }
        printf(": %s\n", r.message);
    }
    if (rc != ST_OK) {
        fprintf(stderr, "strata %s: %s does not verify: the first discrepancy is in %s", cmd->name,
                pos[0], r.file);
        if (r.line > 0) {
            fprintf(stderr, " line %zu", r.line);
        }
        fprintf(stderr, ": %s\n", r.message);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* ---- certify, dispute ---- */

static void certify_help(FILE *out) {
    fputs("usage: " CERTIFY_USAGE "\n"
          "\n"
          "Certifies a published result (supervisors; signed by --key), after checking it:\n"
          "typically strata audit export, then strata audit verify. The certification is\n"
          "recorded with the vote (its reviews) and in the trail.\n"
          "\n"
          "  --reason R   a note kept with the certification (optional)\n"
          "  --json       print the vote as one JSON object\n"
          "\n"
          "Exit status: 0 certified, 1 refused, 2 usage error, 3 cluster unreachable.\n",
          out);
}

static void dispute_help(FILE *out) {
    fputs("usage: " DISPUTE_USAGE "\n"
          "\n"
          "Disputes a published result (supervisors; signed by --key), with the reason: the\n"
          "dispute is recorded with the vote (its reviews) and in the trail.\n"
          "\n"
          "  --reason R   what is wrong (required)\n"
          "  --json       print the vote as one JSON object\n"
          "\n"
          "Exit status: 0 recorded, 1 refused, 2 usage error, 3 cluster unreachable.\n",
          out);
}

static int review_run(cli_globals *g, int argc, char **argv) {
    bool certify = strcmp(argv[0], "certify") == 0;
    const cli_command *cmd = certify ? &certify_cmd : &dispute_cmd;
    const char *reason = NULL;
    cli_opt opts[] = {{.name = "--reason", .value = &reason}};
    const char *pos[1];
    static const char *const names[] = {"VOTE"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 1, pos, names, 1, 1, NULL);
    uint64_t vote = 0;
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "VOTE", pos[0], UINT64_MAX, false, &vote)) != CLI_EXIT_OK) {
        return rc;
    }
    if (!certify && reason == NULL) {
        return cli_usage_error(cmd, "--reason is missing: say what is wrong");
    }
    st_client *c = NULL;
    if ((rc = cli_connect_signed(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    Strata__V1__Vote *v = NULL;
    st_error e;
    if (st_review_vote(c, vote, certify, reason, &v, &e) != ST_OK) {
        st_client_close(c);
        return cli_error(cmd, &e);
    }
    st_client_close(c);
    if (g->json) {
        printf("{\"vote_id\":%llu,\"state\":\"%s\",\"reviews\":[", (unsigned long long)v->id,
               cli_vote_state(v->state));
        for (size_t i = 0; i < v->n_reviews; i++) {
            const Strata__V1__Review *rv = v->reviews[i];
            char kid[ST_KEY_ID_HEX_LEN + 1] = "";
            if (rv->key_id.len == ST_KEY_ID_LEN) {
                st_hex_encode(kid, rv->key_id.data, ST_KEY_ID_LEN);
            }
            printf(
                "%s{\"certified\":%s,\"key_id\":\"%s\",\"time_ms\":%llu,\"reason\":", i ? "," : "",
                rv->certified ? "true" : "false", kid, (unsigned long long)rv->time_ms);
            cli_json_string(stdout, rv->reason);
            fputc('}', stdout);
        }
        fputs("]}\n", stdout);
    } else {
        printf("vote %llu: %s\n", (unsigned long long)v->id,
               certify ? "result certified" : "result disputed");
        for (size_t i = 0; i < v->n_reviews; i++) {
            const Strata__V1__Review *rv = v->reviews[i];
            char kid[ST_KEY_ID_HEX_LEN + 1] = "?", when[32];
            if (rv->key_id.len == ST_KEY_ID_LEN) {
                st_hex_encode(kid, rv->key_id.data, ST_KEY_ID_LEN);
            }
            printf("  %s by key %s at %s%s%s\n", rv->certified ? "certified" : "disputed", kid,
                   cli_time(rv->time_ms, when, sizeof(when)), rv->reason[0] ? ": " : "",
                   rv->reason);
        }
    }
    strata__v1__vote__free_unpacked(v, NULL);
    return CLI_EXIT_OK;
}

static const cli_command trail_cmd = {
    .name = "audit trail",
    .summary = "print who did what, when, in a community",
    .usage = TRAIL_USAGE,
    .run = trail_run,
    .help = trail_help,
};
static const cli_command export_cmd = {
    .name = "audit export",
    .summary = "write a closed vote's audit bundle into a new directory",
    .usage = EXPORT_USAGE,
    .run = export_run,
    .help = export_help,
};
static const cli_command verify_cmd = {
    .name = "audit verify",
    .summary = "verify an audit bundle offline; names the first discrepancy",
    .usage = VERIFY_USAGE,
    .run = verify_run,
    .help = verify_help,
};
static const cli_command certify_cmd = {
    .name = "audit certify",
    .summary = "certify a published result (supervisors)",
    .usage = CERTIFY_USAGE,
    .run = review_run,
    .help = certify_help,
};
static const cli_command dispute_cmd = {
    .name = "audit dispute",
    .summary = "dispute a published result, with the reason (supervisors)",
    .usage = DISPUTE_USAGE,
    .run = review_run,
    .help = dispute_help,
};

static const cli_command *const subs[] = {&trail_cmd,   &export_cmd,  &verify_cmd,
                                          &certify_cmd, &dispute_cmd, NULL};

const cli_command cli_audit_command = {
    .name = "audit",
    .summary = "the trail, audit bundles, certification (supervisors, anyone)",
    .usage = "strata audit trail|export|verify|certify|dispute ...",
    .subs = subs,
};
