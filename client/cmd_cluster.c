/* cmd_cluster.c - `strata cluster status|add|remove|transfer|register`: the operator's view
 * of the Raft cluster and its membership. Status asks any node, then the leader it names
 * (whose view of the members is the freshest); changes go to the leader (followers
 * redirect). Register puts a node's tree-head key, read from the node itself, in the
 * replicated roster, where clients find the keys they trust.
 */
#include <string.h>

#include "client/cli.h"

static const cli_command status_cmd, add_cmd, remove_cmd, transfer_cmd, register_cmd;

#define STATUS_USAGE "strata cluster status [--json]"
#define ADD_USAGE "strata cluster add ID --raft HOST:PORT --grpc HOST:PORT [--json]"
#define REMOVE_USAGE "strata cluster remove ID [--json]"
#define TRANSFER_USAGE "strata cluster transfer [ID] [--json]"
#define REGISTER_USAGE "strata cluster register ID [--grpc HOST:PORT] [--raft HOST:PORT] [--json]"

static void status_help(FILE *out) {
    fputs("usage: " STATUS_USAGE "\n"
          "\n"
          "Prints the leader, term, commit index and the members (id, gRPC and Raft\n"
          "addresses, role, applied index) as the leader sees them (or, with no leader, as\n"
          "the node that answered sees them).\n"
          "\n"
          "  --json   print {\"leader_id\", \"term\", \"commit_index\", \"members\": [{\"id\",\n"
          "           \"grpc\", \"raft\", \"role\", \"applied_index\"}], ...}\n"
          "\n"
          "Exit status: 0 shown, 1 refused, 2 usage error, 3 no node answered.\n",
          out);
}

static int status_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &status_cmd;
    int rc = cli_parse(cmd, g, argc, argv, NULL, 0, NULL, NULL, 0, 0, NULL);
    st_client *c = NULL;
    if (rc != CLI_EXIT_OK || (rc = cli_connect(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    Strata__V1__StatusResponse *s = NULL;
    st_error e;
    if (st_cluster_status(c, NULL, &s, &e) != ST_OK) {
        st_client_close(c);
        return cli_error(cmd, &e);
    }
    /* A follower's view of the others' progress lags: ask the leader when it is known. */
    if (strcmp(s->state, "leader") != 0 && s->leader_grpc[0] != '\0') {
        Strata__V1__StatusResponse *l = NULL;
        if (st_cluster_status(c, s->leader_grpc, &l, &e) == ST_OK) {
            strata__v1__status_response__free_unpacked(s, NULL);
            s = l;
        }
    }
    /* Only a node knows its own applied index exactly (a leader reports 0 for the others):
     * ask each member directly, briefly; one that does not answer shows as unknown. */
    bool known[64] = {false};
    for (size_t i = 0; i < s->n_members && i < 64; i++) {
        Strata__V1__Member *m = s->members[i];
        if (m->id == s->node_id) {
            known[i] = true;
            m->applied_index = s->applied_index;
            continue;
        }
        if (m->grpc[0] == '\0') {
            continue;
        }
        Strata__V1__StatusRequest req = STRATA__V1__STATUS_REQUEST__INIT;
        st_call_options opts = {.deadline_ms = 1500, .address = m->grpc};
        Strata__V1__StatusResponse *ms = NULL;
        st_error me;
        if (st_client_unary(c, "/strata.v1.Cluster/Status", &req.base,
                            &strata__v1__status_response__descriptor, &opts,
                            (ProtobufCMessage **)&ms, &me) == ST_OK) {
            m->applied_index = ms->applied_index;
            known[i] = true;
            strata__v1__status_response__free_unpacked(ms, NULL);
        }
    }
    st_client_close(c);
    if (g->json) {
        printf("{\"node_id\":%llu,\"state\":", (unsigned long long)s->node_id);
        cli_json_string(stdout, s->state);
        printf(",\"ready\":%s,\"leader_id\":%llu,\"leader_grpc\":", s->ready ? "true" : "false",
               (unsigned long long)s->leader_id);
        cli_json_string(stdout, s->leader_grpc);
        printf(",\"term\":%llu,\"commit_index\":%llu,\"applied_index\":%llu,\"last_index\":%llu"
               ",\"version\":",
               (unsigned long long)s->term, (unsigned long long)s->commit_index,
               (unsigned long long)s->applied_index, (unsigned long long)s->last_index);
        cli_json_string(stdout, s->version);
        fputs(",\"members\":[", stdout);
        for (size_t i = 0; i < s->n_members; i++) {
            const Strata__V1__Member *m = s->members[i];
            printf("%s{\"id\":%llu,\"grpc\":", i ? "," : "", (unsigned long long)m->id);
            cli_json_string(stdout, m->grpc);
            fputs(",\"raft\":", stdout);
            cli_json_string(stdout, m->raft);
            printf(",\"role\":\"%s\",\"applied_index\":", st_member_role_name(m->role));
            if (i < 64 && known[i]) {
                printf("%llu,\"key_id\":", (unsigned long long)m->applied_index);
            } else {
                fputs("null,\"key_id\":", stdout);
            }
            if (m->public_key.len == ST_SIGN_PK_LEN) {
                char kid[ST_KEY_ID_HEX_LEN + 1];
                st_key_id_hex(kid, m->public_key.data);
                printf("\"%s\"}", kid);
            } else {
                fputs("null}", stdout);
            }
        }
        fputs("]}\n", stdout);
    } else {
        if (s->leader_id != 0) {
            printf("leader_id:     %llu (%s)%s\n", (unsigned long long)s->leader_id,
                   s->leader_grpc[0] ? s->leader_grpc : "address unknown",
                   s->leader_id == s->node_id && !s->ready ? ", not ready yet" : "");
        } else {
            printf("leader_id:     none (an election may be under way)\n");
        }
        printf("term:          %llu\n", (unsigned long long)s->term);
        printf("commit_index:  %llu\n", (unsigned long long)s->commit_index);
        printf("answered by:   node %llu (%s), applied %llu of %llu\n",
               (unsigned long long)s->node_id, s->state, (unsigned long long)s->applied_index,
               (unsigned long long)s->last_index);
        printf("members:\n  %-5s %-22s %-22s %-8s %-13s %s\n", "id", "grpc", "raft", "role",
               "applied_index", "node key id");
        for (size_t i = 0; i < s->n_members; i++) {
            const Strata__V1__Member *m = s->members[i];
            char kid[ST_KEY_ID_HEX_LEN + 1] = "(not registered)";
            if (m->public_key.len == ST_SIGN_PK_LEN) {
                st_key_id_hex(kid, m->public_key.data);
            }
            char applied[24] = "unreachable";
            if (i < 64 && known[i]) {
                snprintf(applied, sizeof(applied), "%llu", (unsigned long long)m->applied_index);
            }
            printf("  %-5llu %-22s %-22s %-8s %-13s %s\n", (unsigned long long)m->id,
                   m->grpc[0] ? m->grpc : "-", m->raft, st_member_role_name(m->role), applied, kid);
        }
    }
    strata__v1__status_response__free_unpacked(s, NULL);
    return CLI_EXIT_OK;
}

static void add_help(FILE *out) {
    fputs("usage: " ADD_USAGE "\n"
          "\n"
          "Adds node ID to the cluster (operators). Start the new node first; it joins and\n"
          "catches up, then votes.\n"
          "\n"
          "  --raft HOST:PORT   where the new node listens for Raft traffic\n"
          "  --grpc HOST:PORT   its gRPC address, for clients\n"
          "  --json             print {\"id\": ID}\n"
          "\n"
          "Exit status: 0 added, 1 refused, 2 usage error, 3 cluster unreachable.\n",
          out);
}

static int add_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &add_cmd;
    const char *raft = NULL, *grpc = NULL;
    cli_opt opts[] = {{.name = "--raft", .value = &raft}, {.name = "--grpc", .value = &grpc}};
    const char *pos[1];
    static const char *const names[] = {"ID"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 2, pos, names, 1, 1, NULL);
    uint64_t id = 0;
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "ID", pos[0], UINT64_MAX, false, &id)) != CLI_EXIT_OK) {
        return rc;
    }
    if (raft == NULL) {
        return cli_usage_error(cmd, "--raft is missing");
    }
    if (grpc == NULL) {
        return cli_usage_error(cmd, "--grpc is missing");
    }
    st_client *c = NULL;
    if ((rc = cli_connect(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    st_error e;
    if (st_cluster_add(c, id, raft, grpc, &e) != ST_OK) {
        rc = cli_error(cmd, &e);
    } else if (g->json) {
        printf("{\"id\": %llu}\n", (unsigned long long)id);
    } else {
        printf("member %llu added (raft %s, grpc %s)\n", (unsigned long long)id, raft, grpc);
    }
    st_client_close(c);
    return rc;
}

static void remove_help(FILE *out) {
    fputs("usage: " REMOVE_USAGE "\n"
          "\n"
          "Removes node ID from the cluster (operators). To remove the leader, transfer\n"
          "leadership first.\n"
          "\n"
          "  --json   print {\"id\": ID}\n"
          "\n"
          "Exit status: 0 removed, 1 refused, 2 usage error, 3 cluster unreachable.\n",
          out);
}

static int remove_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &remove_cmd;
    const char *pos[1];
    static const char *const names[] = {"ID"};
    int rc = cli_parse(cmd, g, argc, argv, NULL, 0, pos, names, 1, 1, NULL);
    uint64_t id = 0;
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "ID", pos[0], UINT64_MAX, false, &id)) != CLI_EXIT_OK) {
        return rc;
    }
    st_client *c = NULL;
    if ((rc = cli_connect(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    st_error e;
    if (st_cluster_remove(c, id, &e) != ST_OK) {
        rc = cli_error(cmd, &e);
    } else if (g->json) {
        printf("{\"id\": %llu}\n", (unsigned long long)id);
    } else {
        printf("member %llu removed\n", (unsigned long long)id);
    }
    st_client_close(c);
    return rc;
}

static void transfer_help(FILE *out) {
    fputs("usage: " TRANSFER_USAGE "\n"
          "\n"
          "Hands leadership to node ID, or without ID to the most up-to-date follower\n"
          "(operators; before maintenance of the leader's machine).\n"
          "\n"
          "  --json   print {\"leader_id\": N}\n"
          "\n"
          "Exit status: 0 transferred, 1 refused, 2 usage error, 3 cluster unreachable.\n",
          out);
}

static int transfer_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &transfer_cmd;
    const char *pos[1] = {NULL};
    static const char *const names[] = {"ID"};
    size_t npos = 0;
    int rc = cli_parse(cmd, g, argc, argv, NULL, 0, pos, names, 0, 1, &npos);
    uint64_t id = 0;
    if (rc != CLI_EXIT_OK ||
        (npos > 0 && (rc = cli_number(cmd, "ID", pos[0], UINT64_MAX, false, &id)) != 0)) {
        return rc;
    }
    st_client *c = NULL;
    if ((rc = cli_connect(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    uint64_t leader = 0;
    st_error e;
    if (st_cluster_transfer(c, id, &leader, &e) != ST_OK) {
        rc = cli_error(cmd, &e);
    } else if (g->json) {
        printf("{\"leader_id\": %llu}\n", (unsigned long long)leader);
    } else {
        printf("leadership transferred to node %llu\n", (unsigned long long)leader);
    }
    st_client_close(c);
    return rc;
}

static void register_help(FILE *out) {
    fputs("usage: " REGISTER_USAGE "\n"
          "\n"
          "Registers node ID's tree-head signing key in the replicated roster (operators;\n"
          "signed by --key). The key is read from the node itself (its Cluster.Status), the\n"
          "addresses from the leader's member list unless given. Clients trust tree heads and\n"
          "receipts signed by the keys of the roster: register every node once it runs, and\n"
          "again after its key changes.\n"
          "\n"
          "  --grpc HOST:PORT   the node's gRPC address (default: from the member list)\n"
          "  --raft HOST:PORT   its Raft address (default: from the member list)\n"
          "  --json             print {\"id\", \"key_id\", \"grpc\", \"raft\"}\n"
          "\n"
          "Exit status: 0 registered, 1 refused (or the node answered as another id),\n"
          "2 usage error, 3 cluster or node unreachable.\n",
          out);
}

static int register_run(cli_globals *g, int argc, char **argv) {
    const cli_command *cmd = &register_cmd;
    const char *grpc = NULL, *raft = NULL;
    cli_opt opts[] = {{.name = "--grpc", .value = &grpc}, {.name = "--raft", .value = &raft}};
    const char *pos[1];
    static const char *const names[] = {"ID"};
    int rc = cli_parse(cmd, g, argc, argv, opts, 2, pos, names, 1, 1, NULL);
    uint64_t id = 0;
    if (rc != CLI_EXIT_OK ||
        (rc = cli_number(cmd, "ID", pos[0], UINT64_MAX, false, &id)) != CLI_EXIT_OK) {
        return rc;
    }
    st_client *c = NULL;
    if ((rc = cli_connect_signed(cmd, g, &c)) != CLI_EXIT_OK) {
        return rc;
    }
    Strata__V1__StatusResponse *s = NULL, *node = NULL;
    st_error e;
    char grpc_addr[ST_CLIENT_ADDRESS_MAX + 1] = "", raft_addr[ST_CLIENT_ADDRESS_MAX + 1] = "";
    snprintf(grpc_addr, sizeof(grpc_addr), "%s", grpc != NULL ? grpc : "");
    snprintf(raft_addr, sizeof(raft_addr), "%s", raft != NULL ? raft : "");
    if (grpc == NULL || raft == NULL) {
        if (st_cluster_status(c, NULL, &s, &e) != ST_OK) {
            st_client_close(c);
            return cli_error(cmd, &e);
        }
        for (size_t i = 0; i < s->n_members; i++) {
            if (s->members[i]->id == id) {
                if (grpc == NULL) {
                    snprintf(grpc_addr, sizeof(grpc_addr), "%s", s->members[i]->grpc);
                }
                if (raft == NULL) {
                    snprintf(raft_addr, sizeof(raft_addr), "%s", s->members[i]->raft);
                }
            }
        }
        strata__v1__status_response__free_unpacked(s, NULL);
        if (grpc_addr[0] == '\0' || raft_addr[0] == '\0') {
            st_client_close(c);
            return cli_fail(cmd,
                            "node %llu is not in the member list (or its addresses are "
                            "unknown); give --grpc and --raft",
                            (unsigned long long)id);
        }
    }
    if (st_cluster_status(c, grpc_addr, &node, &e) != ST_OK) {
        st_client_close(c);
        return cli_error(cmd, &e);
    }
    if (node->node_id != id || node->node_public_key.len != ST_SIGN_PK_LEN) {
        rc = cli_fail(cmd, "%s answered as node %llu%s; check the id and address", grpc_addr,
                      (unsigned long long)node->node_id,
                      node->node_public_key.len != ST_SIGN_PK_LEN ? " without a node key" : "");
    } else if (st_register_node(c, id, raft_addr, grpc_addr, node->node_public_key.data, &e) !=
               ST_OK) {
        rc = cli_error(cmd, &e);
    } else {
        char kid[ST_KEY_ID_HEX_LEN + 1];
        st_key_id_hex(kid, node->node_public_key.data);
        if (g->json) {
            printf("{\"id\":%llu,\"key_id\":\"%s\",\"grpc\":", (unsigned long long)id, kid);
            cli_json_string(stdout, grpc_addr);
            fputs(",\"raft\":", stdout);
            cli_json_string(stdout, raft_addr);
            fputs("}\n", stdout);
        } else {
            printf("node %llu registered: key %s (grpc %s, raft %s)\n", (unsigned long long)id, kid,
                   grpc_addr, raft_addr);
        }
    }
    strata__v1__status_response__free_unpacked(node, NULL);
    st_client_close(c);
    return rc;
}

static const cli_command status_cmd = {
    .name = "cluster status",
    .summary = "print the leader, term, commit index and members",
    .usage = STATUS_USAGE,
    .run = status_run,
    .help = status_help,
};
static const cli_command add_cmd = {
    .name = "cluster add",
    .summary = "add a node to the cluster",
    .usage = ADD_USAGE,
    .run = add_run,
    .help = add_help,
};
static const cli_command remove_cmd = {
    .name = "cluster remove",
    .summary = "remove a node from the cluster",
    .usage = REMOVE_USAGE,
    .run = remove_run,
    .help = remove_help,
};
static const cli_command transfer_cmd = {
    .name = "cluster transfer",
    .summary = "hand leadership to another node",
    .usage = TRANSFER_USAGE,
    .run = transfer_run,
    .help = transfer_help,
};

static const cli_command register_cmd = {
    .name = "cluster register",
    .summary = "register a node's tree-head key in the roster (operators)",
    .usage = REGISTER_USAGE,
    .run = register_run,
    .help = register_help,
};

static const cli_command *const subs[] = {&status_cmd,   &add_cmd,      &remove_cmd,
                                          &transfer_cmd, &register_cmd, NULL};

const cli_command cli_cluster_command = {
    .name = "cluster",
    .summary = "the Raft cluster: status, membership, leadership, node keys (operators)",
    .usage = "strata cluster status|add|remove|transfer|register ...",
    .subs = subs,
};
