/* test_tls.c - the gRPC API over TLS with real stratad processes (issue #6). Certificates
 * are made at test time with openssl: a CA, a node certificate for IP 127.0.0.1 that the
 * three nodes share (they share the address), a client certificate from the same CA, and a
 * second CA with a client certificate of its own.
 *
 * stratad's settings: with neither TLS files nor grpc-plaintext, with grpc-plaintext on an
 * address that is not loopback (0.0.0.0, 10.1.2.3, [::], ::1:PORT), with both, with a cert
 * without its key or the reverse, with a missing, damaged, non-certificate or encrypted
 * file, a key that is not the certificate's, a client CA that holds no certificate: exit 2
 * and a message naming the key (and the file). Plaintext on 127.0.0.1, 127.3.4.5,
 * localhost and [::1], and good TLS files, pass the settings (such a start then stops at
 * the data directory this test makes impossible, status 1).
 *
 * Three phases on one 3-node cluster (restarted between them, its data kept):
 *   TLS: a write (Genesis) and reads with the CA succeed through libstrata, a write from a
 *     handle that knows only a follower is redirected to the leader over TLS, and the strata
 *     program works with --ca (and STRATA_CA); a handle with the system's roots, one with
 *     another CA and a plaintext one fail the handshake (UNAVAILABLE, unreachable, reason
 *     named) and nothing changed (the trail is as long as before, the operator key unknown);
 *     the strata program says what to do in each case.
 *   client certificates required (tls-client-ca): a handle without a client certificate,
 *     and one whose certificate another CA signed, are refused and nothing changed; one
 *     with the certificate writes and reads; the same for the strata program.
 *   plaintext (grpc-plaintext on loopback): a TLS handle fails ("does not answer in
 *     TLS"), a plaintext one works and sees every event of the earlier phases.
 *
 * Prints `figure: tls ...`: sequential Status calls per second and the first call of a
 * fresh handle (connection, handshake, call), over TLS and in plaintext.
 *
 * Usage: tls_cluster STRATAD STRATA OPENSSL
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/strata.h"
#include "tests/cluster/harness.h"
#include "tests/core/check.h"
#include "tests/tls/certs.h"

#define N 3
#define BAD_DEADLINE_MS 1500
#define STATUS_CALLS 300

static const char *stratad_bin, *strata_bin;
static char cluster_list[160];
static int config_refusals, handshakes_refused;

/* ---- stratad's settings ---- */

/* Runs stratad with a fixed node (data-dir under /dev/null: never creatable) and the
 * arguments args (NULL-terminated): it must exit with want and print text. */
static void expect_stratad(int want, const char *text, const char *const *args) {
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)stratad_bin;
    argv[n++] = "--id=1";
    argv[n++] = "--data-dir=/dev/null/strata-tls-test";
    argv[n++] = "--raft-listen=127.0.0.1:9";
    argv[n++] = "--peer=1=127.0.0.1:9,127.0.0.1:8";
    for (int i = 0; args[i] != NULL; i++) {
        CHECK(n < 31);
        argv[n++] = (char *)args[i];
    }
    argv[n] = NULL;
    const char *out = tt_path(6, "stratad.out");
    int rc = tt_run(argv, out);
    if (rc != want || !tt_file_has(out, text)) {
        fprintf(stderr, "stratad exited %d (want %d), wanted \"%s\"; it printed:\n", rc, want,
                text);
        char cat[400];
        snprintf(cat, sizeof(cat), "cat '%s' >&2", out);
        CHECK(system(cat) >= 0);
        CHECK(false);
    }
    if (want == 2) {
        config_refusals++;
    }
    printf("ok: stratad %s%s -> %d (%s)\n", args[0], args[1] != NULL ? " ..." : "", rc, text);
}

/* Names in the arguments below: a static "--KEY=DIR/FILE" per slot. */
static const char *flag(int slot, const char *key, const char *file) {
    static char buf[8][400];
    CHECK(slot >= 0 && slot < 8);
    snprintf(buf[slot], sizeof(buf[slot]), "--%s=%s", key, tt_path(slot, file));
    return buf[slot];
}

static void check_settings(void) {
    const char *plain = "--grpc-plaintext";
    const char *lo = "--grpc-listen=127.0.0.1:8";
    const char *passed = "data-dir: cannot create /dev/null/strata-tls-test";
    const char *none[] = {lo, NULL};
    expect_stratad(2, "tls-cert: missing; the gRPC API serves TLS", none);
    const char *listen[] = {"--grpc-listen=0.0.0.0:8", "--grpc-listen=10.1.2.3:8",
                            "--grpc-listen=[::]:8", "--grpc-listen=::1:8"};
    for (size_t i = 0; i < sizeof(listen) / sizeof(listen[0]); i++) {
        const char *a[] = {listen[i], plain, NULL};
        expect_stratad(2, "grpc-plaintext: only allowed with a loopback grpc-listen", a);
    }
    const char *both[] = {lo, plain, flag(0, "tls-cert", "node.pem"),
                          flag(1, "tls-key", "node.key"), NULL};
    expect_stratad(2, "grpc-plaintext: true together with tls-cert", both);
    const char *cert_only[] = {lo, flag(0, "tls-cert", "node.pem"), NULL};
    expect_stratad(2, "tls-key: missing", cert_only);
    const char *key_only[] = {lo, flag(1, "tls-key", "node.key"), NULL};
    expect_stratad(2, "tls-cert: missing; give the certificate chain", key_only);

    struct {
        const char *cert, *key, *ca, *text;
    } files[] = {
        {"missing.pem", "node.key", NULL, "tls-cert: cannot read"},
        {"damaged.pem", "node.key", NULL, "damaged.pem: certificate 1 is damaged"},
        {"node.key", "node.key", NULL, "node.key holds no PEM certificate"},
        {"node.pem", "ca.key", NULL, "ca.key is not the private key of the first certificate"},
        {"node.pem", "encrypted.key", NULL, "encrypted.key is encrypted"},
        {"node.pem", "node.pem", NULL, "node.pem holds no PEM private key"},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        const char *a[] = {lo, flag(0, "tls-cert", files[i].cert), flag(1, "tls-key", files[i].key),
                           files[i].ca != NULL ? flag(2, "tls-client-ca", files[i].ca) : NULL,
                           NULL};
        expect_stratad(2, files[i].text, a);
    }

    char no_ca[400];
    snprintf(no_ca, sizeof(no_ca), "tls-client-ca: %s holds no PEM certificate",
             tt_path(2, "node.key"));
    const char *bad_ca[] = {lo, flag(0, "tls-cert", "node.pem"), flag(1, "tls-key", "node.key"),
                            flag(2, "tls-client-ca", "node.key"), NULL};
    expect_stratad(2, no_ca, bad_ca);

    const char *ok_listen[] = {"--grpc-listen=127.0.0.1:8", "--grpc-listen=127.3.4.5:8",
                               "--grpc-listen=localhost:8", "--grpc-listen=[::1]:8"};
    for (size_t i = 0; i < sizeof(ok_listen) / sizeof(ok_listen[0]); i++) {
        const char *a[] = {ok_listen[i], plain, NULL};
        expect_stratad(1, passed, a);
    }
    const char *tls_ok[] = {"--grpc-listen=0.0.0.0:8", flag(0, "tls-cert", "node.pem"),
                            flag(1, "tls-key", "node.key"), flag(2, "tls-client-ca", "ca.pem"),
                            NULL};
    expect_stratad(1, passed, tls_ok);
    const char *out = tt_path(6, "stratad.out");
    CHECK(tt_file_has(out, "names IP:127.0.0.1") &&
          tt_file_has(out, "client certificates required"));
    CHECK(tt_file_has(out, "WARN") && tt_file_has(out, "the certificate expires in ") &&
          tt_file_has(out, "renew it and restart"));
    /* A certificate without names, its key readable by others: started, with warnings. */
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 644 '%s'", tt_path(0, "client.key"),
             tt_path(1, "loose.key"), tt_path(2, "loose.key"));
    CHECK(system(cmd) == 0);
    const char *loose[] = {lo, flag(0, "tls-cert", "client.pem"), flag(1, "tls-key", "loose.key"),
                           NULL};
    expect_stratad(1, passed, loose);
    CHECK(tt_file_has(out, "has no subjectAltName") &&
          tt_file_has(out, "loose.key is readable by group or others: chmod 600 it"));
    printf("ok: warnings: expiry within 30 days, no subjectAltName, a key others may read\n");
}

/* ---- clients ---- */

/* A handle on the cluster (or on list when not NULL). */
static st_client *client(const char *list, const char *ca, const char *cert, const char *key,
                         bool plaintext, const st_keypair *k, uint32_t deadline_ms) {
    st_client_options o;
    st_client_options_init(&o);
    o.cluster = list != NULL ? list : cluster_list;
    o.tls_ca_file = ca;
    o.tls_cert_file = cert;
    o.tls_key_file = key;
    o.plaintext = plaintext;
    o.key = k;
    o.deadline_ms = deadline_ms;
    if (o.attempt_ms > deadline_ms) {
        o.attempt_ms = deadline_ms;
    }
    st_client *c = NULL;
    st_error e;
    if (st_client_new(&o, &c, &e) != ST_OK) {
        fprintf(stderr, "st_client_new: %s\n", e.message);
        CHECK(false);
    }
    return c;
}

/* The node that leads and is ready, asking each in turn for up to 20 s. */
static int wait_leader(st_client *cl, const tc_cluster *c) {
    uint64_t until = tc_now_ms() + 20000;
    while (tc_now_ms() < until) {
        for (int id = 1; id <= N; id++) {
            Strata__V1__StatusResponse *s = NULL;
            st_error e;
            if (st_cluster_status(cl, tc_grpc_addr(c, id), &s, &e) == ST_OK) {
                bool lead = strcmp(s->state, "leader") == 0 && s->ready;
                strata__v1__status_response__free_unpacked(s, NULL);
                if (lead) {
                    return id;
                }
            }
        }
        tc_sleep_ms(100);
    }
    fprintf(stderr, "no ready leader within 20 s\n");
    CHECK(false);
    return 0;
}

/* Events in the trail (a linearizable read through the leader). */
static size_t trail_len(st_client *cl) {
    Strata__V1__TrailResponse *t = NULL;
    st_error e;
    if (st_trail(cl, 0, 0, 0, &t, &e) != ST_OK) {
        fprintf(stderr, "trail: %s\n", e.message);
        CHECK(false);
    }
    size_t n = t->n_events;
    strata__v1__trail_response__free_unpacked(t, NULL);
    return n;
}

/* A call that must fail as unreachable with this reason in the message. */
static void check_unreachable(int rc, const st_error *e, const char *reason) {
    if (rc == ST_OK || e->kind != ST_FAIL_UNREACHABLE || strstr(e->message, reason) == NULL) {
        fprintf(stderr, "want unreachable with \"%s\"; got %d: %s\n", reason, rc,
                rc == ST_OK ? "ok" : e->message);
        CHECK(false);
    }
    CHECK_EQ(e->grpc_status, 14); /* UNAVAILABLE */
    handshakes_refused++;
    printf("ok: refused: %s\n", e->message);
}

/* Median microseconds of the first call of 5 fresh handles (connect, handshake, Status),
 * and Status calls per second on one handle. */
static void measure(const tc_cluster *c, int id, const char *ca, bool plaintext, unsigned *first_us,
                    unsigned *per_s) {
    unsigned t[5];
    for (int i = 0; i < 5; i++) {
        st_client *cl = client(NULL, ca, NULL, NULL, plaintext, NULL, 5000);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        Strata__V1__StatusResponse *s = NULL;
        st_error e;
        CHECK_EQ(st_cluster_status(cl, tc_grpc_addr(c, id), &s, &e), ST_OK);
        clock_gettime(CLOCK_MONOTONIC, &b);
        strata__v1__status_response__free_unpacked(s, NULL);
        t[i] = (unsigned)((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000);
        st_client_close(cl);
    }
    for (int i = 0; i < 5; i++) {
        for (int j = i + 1; j < 5; j++) {
            if (t[j] < t[i]) {
                unsigned x = t[i];
                t[i] = t[j];
                t[j] = x;
            }
        }
    }
    *first_us = t[2];
    st_client *cl = client(NULL, ca, NULL, NULL, plaintext, NULL, 5000);
    uint64_t t0 = tc_now_ms();
    for (int i = 0; i < STATUS_CALLS; i++) {
        Strata__V1__StatusResponse *s = NULL;
        st_error e;
        CHECK_EQ(st_cluster_status(cl, tc_grpc_addr(c, id), &s, &e), ST_OK);
        strata__v1__status_response__free_unpacked(s, NULL);
    }
    uint64_t ms = tc_now_ms() - t0;
    *per_s = (unsigned)(STATUS_CALLS * 1000u / (ms > 0 ? ms : 1));
    st_client_close(cl);
}

/* ---- the strata program ---- */

/* Runs strata with args (NULL-terminated); its output in DIR/strata.out must contain text
 * and it must exit with want. */
static void expect_cli(int want, const char *text, const char *const *args) {
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)strata_bin;
    for (int i = 0; args[i] != NULL; i++) {
        CHECK(n < 31);
        argv[n++] = (char *)args[i];
    }
    argv[n] = NULL;
    const char *out = tt_path(6, "strata.out");
    int rc = tt_run(argv, out);
    if (rc != want || !tt_file_has(out, text)) {
        fprintf(stderr, "strata exited %d (want %d), wanted \"%s\"; it printed:\n", rc, want, text);
        char cat[400];
        snprintf(cat, sizeof(cat), "cat '%s' >&2", out);
        CHECK(system(cat) >= 0);
        CHECK(false);
    }
    printf("ok: strata ... %s -> %d (%s)\n", argv[n - 1], rc, text);
}

/* `strata community create` with the supervisor's key file and more args; the new id. */
static uint64_t cli_create_community(const char *name, const char *const *transport) {
    const char *args[24];
    int n = 0;
    args[n++] = "--cluster";
    args[n++] = cluster_list;
    for (int i = 0; transport[i] != NULL; i++) {
        args[n++] = transport[i];
    }
    args[n++] = "--key";
    args[n++] = tt_path(5, "supervisor.key");
    args[n++] = "community";
    args[n++] = "create";
    args[n++] = "--name";
    args[n++] = name;
    args[n++] = "--street";
    args[n++] = "1 TLS Road";
    args[n++] = "--json";
    args[n] = NULL;
    expect_cli(0, "\"id\"", args);
    FILE *f = fopen(tt_path(6, "strata.out"), "r");
    CHECK(f != NULL);
    char buf[256] = "";
    size_t got = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[got] = '\0';
    const char *p = strstr(buf, "\"id\":");
    CHECK(p != NULL);
    uint64_t id = strtoull(p + 5, NULL, 10);
    CHECK(id > 0);
    return id;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: tls_cluster STRATAD STRATA OPENSSL\n");
        return 2;
    }
    stratad_bin = argv[1];
    strata_bin = argv[2];
    unsetenv("STRATA_CA");
    unsetenv("STRATA_CERT");
    unsetenv("STRATA_CERT_KEY");
    unsetenv("STRATA_PLAINTEXT");
    unsetenv("STRATA_KEY");
    unsetenv("STRATA_CLUSTER");
    char dir[] = "/tmp/strata-tls-certs-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    tt_certs_init(argv[3], dir);
    tt_make_ca("ca");
    tt_make_ca("other");
    tt_make_cert("node", "ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth");
    tt_make_cert("client", "ca", "extendedKeyUsage=clientAuth");
    tt_make_cert("rogue", "other", "extendedKeyUsage=clientAuth");
    char *enc[] = {
        "pkey",        "-in",  (char *)tt_path(0, "node.key"),      "-aes256", "-passout",
        "pass:secret", "-out", (char *)tt_path(1, "encrypted.key"), NULL};
    tt_openssl(enc);
    char cat[600];
    snprintf(cat, sizeof(cat),
             "head -c 200 '%s/node.pem' > '%s/damaged.pem' && echo && "
             "echo '-----END CERTIFICATE-----' >> '%s/damaged.pem'",
             dir, dir, dir);
    CHECK(system(cat) == 0);
    const char *ca = tt_path(3, "ca.pem");
    char ca_path[320];
    snprintf(ca_path, sizeof(ca_path), "%s", ca);
    ca = ca_path;
    char client_pem[320], client_key[320], rogue_pem[320], rogue_key[320], other_ca[320];
    snprintf(client_pem, sizeof(client_pem), "%s/client.pem", dir);
    snprintf(client_key, sizeof(client_key), "%s/client.key", dir);
    snprintf(rogue_pem, sizeof(rogue_pem), "%s/rogue.pem", dir);
    snprintf(rogue_key, sizeof(rogue_key), "%s/rogue.key", dir);
    snprintf(other_ca, sizeof(other_ca), "%s/other.pem", dir);

    check_settings();

    /* ---- phase 1: TLS ---- */
    char cert_flag[400], key_flag[400], client_ca_flag[400];
    snprintf(cert_flag, sizeof(cert_flag), "--tls-cert=%s/node.pem", dir);
    snprintf(key_flag, sizeof(key_flag), "--tls-key=%s/node.key", dir);
    snprintf(client_ca_flag, sizeof(client_ca_flag), "--tls-client-ca=%s/ca.pem", dir);
    const char *extra[8] = {"--grpc-plaintext=false", cert_flag, key_flag, NULL};
    tc_options opt = {.stratad = stratad_bin, .extra_args = extra};
    tc_cluster *c = tc_new(&opt, "tls");
    snprintf(cluster_list, sizeof(cluster_list), "%s,%s,%s", tc_grpc_addr(c, 1), tc_grpc_addr(c, 2),
             tc_grpc_addr(c, 3));
    for (int id = 1; id <= N; id++) {
        tc_start(c, id, false);
    }
    CHECK(tc_log_contains(c, 1, "gRPC API listening on") && tc_log_contains(c, 1, "(TLS; "));
    CHECK(tc_log_contains(c, 2, "TLS certificate ") && tc_log_contains(c, 2, "IP:127.0.0.1"));

    st_error e;
    st_keypair *op = NULL, *sup = NULL;
    CHECK_EQ(st_keypair_generate(&op, &e), ST_OK);
    CHECK_EQ(st_keypair_generate(&sup, &e), ST_OK);
    CHECK_EQ(st_keypair_save(sup, tt_path(5, "supervisor.key"), NULL, 0, &e), ST_OK);
    uint8_t op_pk[ST_SIGN_PK_LEN], sup_pk[ST_SIGN_PK_LEN], op_id[ST_KEY_ID_LEN];
    st_keypair_public(op, op_pk);
    st_keypair_public(sup, sup_pk);
    char op_hex[ST_KEY_ID_TEXT_LEN + 1];
    st_keypair_id_hex(op, op_hex);
    CHECK_EQ(st_key_id_parse(op_hex, op_id, &e), ST_OK);

    st_client *good = client(NULL, ca, NULL, NULL, false, op, 10000);
    int leader = wait_leader(good, c);
    printf("ok: node %d leads; Status over TLS with the CA\n", leader);
    unsigned tls_first_us = 0, tls_per_s = 0;
    measure(c, leader, ca, false, &tls_first_us, &tls_per_s);

    size_t before = trail_len(good);
    const char *bad_ca[] = {NULL, other_ca};
    for (int i = 0; i < 2; i++) {
        st_client *bad = client(NULL, bad_ca[i], NULL, NULL, false, op, BAD_DEADLINE_MS);
        st_key_result r;
        int rc = st_genesis(bad, op_pk, sup_pk, "operator", "supervisor", &r, &e);
        check_unreachable(rc, &e, "TLS: the node's certificate is not signed by a trusted CA");
        st_client_close(bad);
    }
    st_client *plain = client(NULL, NULL, NULL, NULL, true, op, BAD_DEADLINE_MS);
    st_key_result r;
    int rc = st_genesis(plain, op_pk, sup_pk, "operator", "supervisor", &r, &e);
    check_unreachable(rc, &e, "connection closed by the node");
    st_client_close(plain);
    CHECK_EQ(trail_len(good), before);
    Strata__V1__Key *k = NULL;
    CHECK_EQ(st_get_key(good, op_id, &k, &e), ST_ENOENT);
    CHECK_EQ(e.grpc_status, 5); /* NOT_FOUND: the refused Genesis changed nothing */
    printf("ok: nothing changed: %zu events in the trail, the operator key unknown\n", before);

    CHECK_EQ(st_genesis(good, op_pk, sup_pk, "operator", "supervisor", &r, &e), ST_OK);
    CHECK_EQ(st_get_key(good, op_id, &k, &e), ST_OK);
    CHECK_EQ(k->role, STRATA__V1__ROLE__ROLE_OPERATOR);
    strata__v1__key__free_unpacked(k, NULL);
    size_t after_genesis = trail_len(good);
    CHECK(after_genesis > before);
    printf("ok: Genesis over TLS; the operator key reads back (%zu events)\n", after_genesis);

    /* A handle that knows one follower only: the write is redirected to the leader. */
    int follower = leader == 1 ? 2 : 1;
    st_client *via = client(tc_grpc_addr(c, follower), ca, NULL, NULL, false, sup, 10000);
    uint64_t community = 0;
    CHECK_EQ(st_create_community(via, "Redirected", "2 TLS Road", -1, &community, &e), ST_OK);
    CHECK(community > 0);
    st_client_close(via);
    printf("ok: a write through follower %d went to the leader over TLS (community %llu)\n",
           follower, (unsigned long long)community);

    const char *with_ca[] = {"--ca", ca, NULL};
    uint64_t cli_comm = cli_create_community("CLI over TLS", with_ca);
    char show_id[24];
    snprintf(show_id, sizeof(show_id), "%llu", (unsigned long long)cli_comm);
    const char *show[] = {"--cluster", cluster_list, "--ca",  ca,
                          "community", "show",       show_id, NULL};
    expect_cli(0, "CLI over TLS", show);
    setenv("STRATA_CA", ca, 1);
    const char *status_env[] = {"--cluster", cluster_list, "cluster", "status", "--json", NULL};
    expect_cli(0, "\"leader_id\"", status_env);
    setenv("STRATA_PLAINTEXT", "1", 1);
    unsetenv("STRATA_CA");
    const char *ca_over_env[] = {"--cluster", cluster_list, "--ca",   ca,
                                 "cluster",   "status",     "--json", NULL};
    expect_cli(0, "\"leader_id\"", ca_over_env); /* the command line's transport wins */
    setenv("STRATA_PLAINTEXT", "maybe", 1);
    expect_cli(2, "STRATA_PLAINTEXT \"maybe\" is not 1 or 0", status_env);
    unsetenv("STRATA_PLAINTEXT");
    const char *no_ca[] = {"--cluster", cluster_list, "--timeout", "2", "cluster", "status", NULL};
    expect_cli(3, "the TLS handshake failed: give --ca", no_ca);
    const char *plain_cli[] = {"--cluster",   cluster_list, "--timeout", "2",
                               "--plaintext", "cluster",    "status",    NULL};
    expect_cli(3, "may serve TLS only: drop --plaintext", plain_cli);
    const char *plain_far[] = {"--cluster", "10.0.0.1:7001", "--plaintext",
                               "cluster",   "status",        NULL};
    expect_cli(2, "--plaintext: plaintext is only allowed to addresses on this machine", plain_far);
    const char *plain_ca[] = {"--cluster", cluster_list, "--plaintext", "--ca",
                              ca,          "cluster",    "status",      NULL};
    expect_cli(2, "--plaintext (or STRATA_PLAINTEXT) excludes --ca", plain_ca);
    size_t phase1 = trail_len(good);
    CHECK(phase1 >= after_genesis + 2); /* the two communities */
    st_client_close(good);

    /* ---- phase 2: client certificates required ---- */
    for (int id = 1; id <= N; id++) {
        CHECK_EQ(tc_stop(c, id, 20000), 0);
    }
    extra[3] = client_ca_flag;
    extra[4] = NULL;
    for (int id = 1; id <= N; id++) {
        tc_start(c, id, false);
    }
    CHECK(tc_log_contains(c, 3, "(TLS, client certificates required; "));
    st_client *mutual = client(NULL, ca, client_pem, client_key, false, sup, 10000);
    leader = wait_leader(mutual, c);
    before = trail_len(mutual);
    CHECK_EQ(before, phase1); /* kept across the restart */
    struct {
        const char *cert, *key, *why;
    } refused[] = {{NULL, NULL, "no client certificate"},
                   {rogue_pem, rogue_key, "a client certificate of another CA"}};
    for (int i = 0; i < 2; i++) {
        st_client *bad =
            client(NULL, ca, refused[i].cert, refused[i].key, false, sup, BAD_DEADLINE_MS);
        rc = st_create_community(bad, "Refused", "3 TLS Road", -1, &community, &e);
        printf("   (%s)\n", refused[i].why);
        check_unreachable(rc, &e, "connection closed by the node");
        Strata__V1__StatusResponse *s = NULL;
        rc = st_cluster_status(bad, NULL, &s, &e);
        check_unreachable(rc, &e, "connection closed by the node");
        st_client_close(bad);
    }
    CHECK_EQ(trail_len(mutual), before);
    printf("ok: nothing changed: %zu events in the trail\n", before);
    CHECK_EQ(st_create_community(mutual, "Mutual", "4 TLS Road", -1, &community, &e), ST_OK);
    Strata__V1__Community *cm = NULL;
    CHECK_EQ(st_get_community(mutual, community, &cm, &e), ST_OK);
    CHECK_STR(cm->name, "Mutual");
    strata__v1__community__free_unpacked(cm, NULL);
    printf("ok: a write and a read with the client certificate (community %llu)\n",
           (unsigned long long)community);
    const char *ca_only[] = {"--cluster", cluster_list, "--ca",   ca,  "--timeout",
                             "2",         "cluster",    "status", NULL};
    expect_cli(3, "may require a client certificate: give --cert and --cert-key", ca_only);
    const char *with_cert[] = {"--ca", ca, "--cert", client_pem, "--cert-key", client_key, NULL};
    cli_create_community("CLI with a client certificate", with_cert);
    const char *cert_no_key[] = {"--cluster", cluster_list, "--ca",   ca,  "--cert",
                                 client_pem,  "cluster",    "status", NULL};
    expect_cli(2, "--cert needs --cert-key", cert_no_key);
    size_t phase2 = trail_len(mutual);
    CHECK(phase2 >= before + 2);
    st_client_close(mutual);

    /* ---- phase 3: plaintext on loopback ---- */
    for (int id = 1; id <= N; id++) {
        CHECK_EQ(tc_stop(c, id, 20000), 0);
    }
    extra[0] = NULL; /* the harness's own --grpc-plaintext only */
    for (int id = 1; id <= N; id++) {
        tc_start(c, id, false);
    }
    CHECK(tc_log_contains(c, 1, "(plaintext, loopback only; "));
    st_client *tls = client(NULL, ca, NULL, NULL, false, NULL, BAD_DEADLINE_MS);
    Strata__V1__StatusResponse *s = NULL;
    rc = st_cluster_status(tls, NULL, &s, &e);
    check_unreachable(rc, &e, "TLS: the node does not answer in TLS");
    st_client_close(tls);
    st_client *pt = client(NULL, NULL, NULL, NULL, true, NULL, 10000);
    leader = wait_leader(pt, c);
    CHECK_EQ(trail_len(pt), phase2);
    printf("ok: plaintext on loopback; the %zu events of the TLS phases are all there\n", phase2);
    unsigned pt_first_us = 0, pt_per_s = 0;
    measure(c, leader, NULL, true, &pt_first_us, &pt_per_s);
    st_client_close(pt);

    tc_finish(c);
    st_keypair_free(op);
    st_keypair_free(sup);
    char rm[400];
    snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
    CHECK(system(rm) == 0);
    printf("figure: tls status_calls_per_s_tls=%u status_calls_per_s_plaintext=%u "
           "first_call_us_tls=%u first_call_us_plaintext=%u handshakes_refused=%d "
           "config_refusals=%d\n",
           tls_per_s, pt_per_s, tls_first_us, pt_first_us, handshakes_refused, config_refusals);
    printf("tls_cluster: all passed\n");
    return 0;
}
