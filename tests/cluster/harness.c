/* harness.c - stratad processes for the cluster tests (harness.h): spawning with the
 * command line each node needs, signals, reaping, and the cleanup paths that kill every
 * child whatever way the test ends. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/cluster/harness.h"
#include "tests/core/check.h"

struct tc_cluster {
    tc_options o;
    char dir[256];
    int base;
    char addr[TC_MAX_NODES + 1][32];
};

/* Every child ever started, for the cleanup paths (signal-safe: plain array). */
static volatile pid_t children[TC_MAX_NODES + 1];
static char keep_dir[256];
static volatile sig_atomic_t finished;

/* The fatal signals the harness handles, and the handlers that were there before (another
 * cleanup, such as the network namespaces of tests/fault/netns.c): called after the nodes
 * are killed. */
static const int fatal_sigs[] = {SIGINT, SIGTERM, SIGABRT, SIGSEGV, SIGBUS, SIGHUP};
#define N_FATAL (sizeof(fatal_sigs) / sizeof(fatal_sigs[0]))
static struct sigaction prev_action[N_FATAL];

static void kill_children(void) {
    for (int i = 1; i <= TC_MAX_NODES; i++) {
        pid_t p = children[i];
        if (p > 0) {
            kill(p, SIGKILL);
            kill(p, SIGCONT);
        }
    }
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void at_exit(void) {
    int any = 0;
    for (int i = 1; i <= TC_MAX_NODES; i++) {
        if (children[i] > 0) {
            any = 1;
        }
    }
    kill_children();
    for (int i = 1; i <= TC_MAX_NODES; i++) {
        if (children[i] > 0) {
            waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
    }
    if (!finished && keep_dir[0] != '\0') {
        /* Keep the logs for the post-mortem; the data (16 MiB of preallocated Raft segments
         * per node) only when asked. */
        bool keep_data = getenv("STRATA_TEST_KEEP") != NULL;
        for (int i = 1; !keep_data && i <= TC_MAX_NODES; i++) {
            char path[320];
            snprintf(path, sizeof(path), "%s/node%d/data", keep_dir, i);
            nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        }
        fprintf(stderr, "cluster test failed%s; node logs%s kept in %s\n",
                any ? " (its stratad processes were killed)" : "",
                keep_data ? " and data" : " (data too with STRATA_TEST_KEEP=1)", keep_dir);
    }
}

static void on_fatal(int sig) {
    kill_children();
    for (size_t i = 0; i < N_FATAL; i++) {
        if (fatal_sigs[i] == sig && prev_action[i].sa_handler != SIG_DFL &&
            prev_action[i].sa_handler != SIG_IGN && !(prev_action[i].sa_flags & SA_SIGINFO) &&
            prev_action[i].sa_handler != on_fatal) {
            prev_action[i].sa_handler(sig);
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

uint64_t tc_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void tc_sleep_ms(unsigned ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

tc_cluster *tc_new(const tc_options *o, const char *name) {
    tc_cluster *c = calloc(1, sizeof(*c));
    CHECK(c != NULL);
    c->o = *o;
    if (c->o.n_boot == 0) {
        c->o.n_boot = 3;
    }
    if (c->o.election_ms == 0) {
        c->o.election_ms = 1000;
    }
    if (c->o.heartbeat_ms == 0) {
        c->o.heartbeat_ms = 100;
    }
    CHECK(c->o.stratad != NULL && access(c->o.stratad, X_OK) == 0);
    /* Ports below Linux's ephemeral range (32768+), 50 per test, chosen by pid. */
    c->base = 12000 + (int)(getpid() % 400) * 50;
    for (int i = 1; i <= TC_MAX_NODES; i++) {
        snprintf(c->addr[i], sizeof(c->addr[i]), "127.0.0.1:%d", tc_grpc_port(c, i));
    }
    snprintf(c->dir, sizeof(c->dir), "/tmp/strata-%s-XXXXXX", name);
    CHECK(mkdtemp(c->dir) != NULL);
    snprintf(keep_dir, sizeof(keep_dir), "%s", c->dir);
    atexit(at_exit);
    for (size_t i = 0; i < N_FATAL; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_fatal;
        sigemptyset(&sa.sa_mask);
        sigaction(fatal_sigs[i], &sa, &prev_action[i]);
    }
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines interleave with ctest's output */
    printf("cluster %s: ports %d.., data in %s%s\n", name, c->base, c->dir,
           c->o.netns[1] != NULL ? ", nodes in network namespaces" : "");
    fflush(stdout);
    return c;
}

static const char *raft_host(const tc_cluster *c, int id) {
    return c->o.raft_host[id] != NULL ? c->o.raft_host[id] : "127.0.0.1";
}

int tc_grpc_port(const tc_cluster *c, int id) {
    return c->base + id;
}

int tc_raft_port(const tc_cluster *c, int id) {
    return c->base + 20 + id;
}

const char *tc_grpc_addr(const tc_cluster *c, int id) {
    return c->addr[id];
}

int tc_node_of_addr(const tc_cluster *c, const char *addr) {
    for (int i = 1; i <= TC_MAX_NODES; i++) {
        if (strcmp(c->addr[i], addr) == 0) {
            return i;
        }
    }
    return 0;
}

/* "/run/netns/NAME", where `ip netns add` keeps a namespace. */
static void netns_path(const char *netns, char *out, size_t cap) {
    snprintf(out, cap, "/run/netns/%s", netns);
}

int tc_ns_socket(const char *netns) {
    if (netns == NULL) {
        return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    }
    char path[300];
    netns_path(netns, path, sizeof(path));
    int target = open(path, O_RDONLY | O_CLOEXEC);
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int fd = -1;
    if (target >= 0 && self >= 0 && setns(target, CLONE_NEWNET) == 0) {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        /* Back home: a thread left in the node's namespace would make every later socket
         * there. */
        if (setns(self, CLONE_NEWNET) != 0) {
            fprintf(stderr, "tc_ns_socket: cannot return to the test's namespace\n");
            abort();
        }
    }
    if (target >= 0) {
        close(target);
    }
    if (self >= 0) {
        close(self);
    }
    return fd;
}

bool tc_running(tc_cluster *c, int id) {
    (void)c;
    return children[id] > 0;
}

void tc_start(tc_cluster *c, int id, bool join) {
    CHECK(id >= 1 && id <= TC_MAX_NODES);
    if (children[id] > 0) {
        return;
    }
    char node_dir[300], log[320], err_log[320];
    snprintf(node_dir, sizeof(node_dir), "%s/node%d", c->dir, id);
    snprintf(log, sizeof(log), "%s/stratad.log", node_dir);
    snprintf(err_log, sizeof(err_log), "%s/stderr.log", node_dir);
    mkdir(node_dir, 0755);

    char args[64][400];
    int n = 0;
#define ARG(...) snprintf(args[n++], sizeof(args[0]), __VA_ARGS__)
    ARG("%s", c->o.stratad);
    ARG("--id=%d", id);
    ARG("--data-dir=%s/data", node_dir);
    ARG("--grpc-listen=127.0.0.1:%d", tc_grpc_port(c, id));
    ARG("--raft-listen=%s:%d", raft_host(c, id), tc_raft_port(c, id));
    /* The bootstrap voters; a joining node also lists itself so that it knows its roster. */
    for (int p = 1; p <= c->o.n_boot; p++) {
        ARG("--peer=%d=%s:%d,127.0.0.1:%d", p, raft_host(c, p), tc_raft_port(c, p),
            tc_grpc_port(c, p));
    }
    if (join) {
        ARG("--peer=%d=%s:%d,127.0.0.1:%d", id, raft_host(c, id), tc_raft_port(c, id),
            tc_grpc_port(c, id));
        ARG("--join");
    }
    ARG("--election-timeout-ms=%u", c->o.election_ms);
    ARG("--heartbeat-ms=%u", c->o.heartbeat_ms);
    if (c->o.snapshot_threshold) {
        ARG("--snapshot-threshold=%u", c->o.snapshot_threshold);
    }
    if (c->o.snapshot_trailing) {
        ARG("--snapshot-trailing=%u", c->o.snapshot_trailing);
    }
    ARG("--install-snapshot-timeout-ms=3000");
    ARG("--lmdb-map-size=64M");
    ARG("--log=%s", log);
    ARG("--grpc-plaintext"); /* loopback only: the test clients speak plaintext */
    for (int k = 0; c->o.extra_args != NULL && c->o.extra_args[k] != NULL; k++) {
        CHECK(n < 63);
        ARG("%s", c->o.extra_args[k]);
    }
#undef ARG
    char *argv[65];
    for (int i = 0; i < n; i++) {
        argv[i] = args[i];
    }
    argv[n] = NULL;

    /* The node's network namespace, opened here so that a missing one fails the test. */
    int ns_fd = -1;
    if (c->o.netns[id] != NULL) {
        char path[300];
        netns_path(c->o.netns[id], path, sizeof(path));
        ns_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (ns_fd < 0) {
            fprintf(stderr, "node %d: network namespace %s: %s\n", id, path, strerror(errno));
        }
        CHECK(ns_fd >= 0);
    }

    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* Dies with the test, however the test dies. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(127);
        }
        if (ns_fd >= 0 && setns(ns_fd, CLONE_NEWNET) != 0) {
            _exit(126);
        }
        int fd = open(err_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], argv);
        _exit(127);
    }
    if (ns_fd >= 0) {
        close(ns_fd);
    }
    children[id] = pid;
    /* Returns once the node accepts gRPC connections (so a signal sent next finds it
     * running), or fails the test if it exits first. */
    uint64_t t0 = tc_now_ms(), until = t0 + 15000;
    for (;;) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            children[id] = 0;
            fprintf(stderr, "node %d exited at start (status %d): see %s\n", id,
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1, err_log);
            CHECK(false);
        }
        /* In the node's namespace: the test's own port may be a relay that accepts before
         * the node listens. */
        int fd = tc_ns_socket(c->o.netns[id]);
        CHECK(fd >= 0);
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)tc_grpc_port(c, id))};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
        close(fd);
        if (rc == 0) {
            if (getenv("STRATA_TEST_VERBOSE") != NULL) {
                printf("  node %d started in %llu ms\n", id,
                       (unsigned long long)(tc_now_ms() - t0));
            }
            return;
        }
        CHECK(tc_now_ms() < until);
        tc_sleep_ms(10);
    }
}

void tc_signal(tc_cluster *c, int id, int sig) {
    (void)c;
    CHECK(children[id] > 0);
    CHECK(kill(children[id], sig) == 0);
}

void tc_kill(tc_cluster *c, int id) {
    (void)c;
    pid_t p = children[id];
    if (p <= 0) {
        return;
    }
    kill(p, SIGKILL);
    kill(p, SIGCONT);
    waitpid(p, NULL, 0);
    children[id] = 0;
}

int tc_stop(tc_cluster *c, int id, int timeout_ms) {
    (void)c;
    pid_t p = children[id];
    if (p <= 0) {
        return -1;
    }
    kill(p, SIGCONT);
    kill(p, SIGTERM);
    uint64_t until = tc_now_ms() + (uint64_t)timeout_ms;
    int status = 0;
    for (;;) {
        pid_t w = waitpid(p, &status, WNOHANG);
        if (w == p) {
            break;
        }
        if (tc_now_ms() > until) {
            fprintf(stderr, "node %d did not stop within %d ms: killing it\n", id, timeout_ms);
            kill(p, SIGKILL);
            waitpid(p, &status, 0);
            children[id] = 0;
            return -1;
        }
        tc_sleep_ms(20);
    }
    children[id] = 0;
    if (getenv("STRATA_TEST_VERBOSE") != NULL) {
        printf("  node %d stopped in %llu ms\n", id,
               (unsigned long long)(tc_now_ms() + (uint64_t)timeout_ms - until));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Whether the file at path contains text (read whole). */
static bool file_contains(const char *path, const char *text) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return false;
    }
    bool found = false;
    char line[4096];
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        found = strstr(line, text) != NULL;
    }
    fclose(f);
    return found;
}

bool tc_log_contains(const tc_cluster *c, int id, const char *text) {
    char path[320];
    snprintf(path, sizeof(path), "%s/node%d/stratad.log", c->dir, id);
    return file_contains(path, text);
}

void tc_finish(tc_cluster *c) {
    for (int id = 1; id <= TC_MAX_NODES; id++) {
        if (children[id] > 0) {
            int rc = tc_stop(c, id, 20000);
            if (rc != 0) {
                fprintf(stderr, "node %d exited with status %d after SIGTERM\n", id, rc);
            }
            CHECK_EQ(rc, 0);
        }
    }
    for (int id = 1; id <= TC_MAX_NODES; id++) {
        char path[320];
        snprintf(path, sizeof(path), "%s/node%d/stderr.log", c->dir, id);
        bool bad = file_contains(path, "AddressSanitizer") ||
                   file_contains(path, "runtime error:") || file_contains(path, "LeakSanitizer");
        if (bad) {
            fprintf(stderr, "node %d reported a sanitizer error: see %s\n", id, path);
        }
        CHECK(!bad);
    }
    finished = 1;
    if (getenv("STRATA_TEST_KEEP") != NULL) {
        printf("node data and logs kept in %s (STRATA_TEST_KEEP)\n", c->dir);
    } else {
        nftw(c->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    free(c);
}
