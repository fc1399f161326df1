/* netns.c - the partition test's private network of namespaces (netns.h): `ip` run
 * without a shell, and the cleanup paths that delete the namespaces however the test ends. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/core/check.h"
#include "tests/fault/netns.h"

#define MAX_NAMES (TN_MAX_NODES + 1)

/* What the cleanup paths delete (signal-safe: plain arrays, written before they are armed). */
static char ip_path[64];
static char names[MAX_NAMES][32];
static volatile sig_atomic_t n_names;
static volatile sig_atomic_t deleted;

static const int fatal_sigs[] = {SIGINT, SIGTERM, SIGABRT, SIGSEGV, SIGBUS, SIGHUP};
#define N_FATAL (sizeof(fatal_sigs) / sizeof(fatal_sigs[0]))
static struct sigaction prev_action[N_FATAL];

static bool find_ip(void) {
    static const char *const where[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"};
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        if (access(where[i], X_OK) == 0) {
            snprintf(ip_path, sizeof(ip_path), "%s", where[i]);
            return true;
        }
    }
    return false;
}

/* `ip netns del NAME` for every name, output discarded. Async-signal-safe (fork, execve,
 * waitpid): also runs from the signal handlers and the watchdog. */
static void delete_all(void) {
    static char *const env[] = {NULL};
    for (int i = 0; i < n_names; i++) {
        pid_t p = fork();
        if (p == 0) {
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) {
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
            }
            char *argv[] = {ip_path, "netns", "del", names[i], NULL};
            execve(ip_path, argv, env);
            _exit(127);
        }
        if (p > 0) {
            while (waitpid(p, NULL, 0) < 0 && errno == EINTR) {
            }
        }
    }
}

static void at_exit(void) {
    if (!deleted) {
        delete_all();
        deleted = 1;
    }
}

static void on_fatal(int sig) {
    if (!deleted) {
        delete_all();
        deleted = 1;
    }
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

/* A process outside the test's process tree (double fork, own session: a test runner that
 * kills the test and its descendants does not find it) that deletes the namespaces once the
 * test process has gone, however it went: it waits for the end of a pipe only the test
 * holds open. */
static int start_watchdog(void) {
    int fds[2];
    CHECK(pipe2(fds, O_CLOEXEC) == 0);
    pid_t p = fork();
    CHECK(p >= 0);
    if (p == 0) {
        close(fds[1]);
        if (fork() != 0) {
            _exit(0);
        }
        setsid();
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        char b;
        while (read(fds[0], &b, 1) != 0) {
            if (errno != EINTR) {
                break;
            }
        }
        delete_all();
        _exit(0);
    }
    close(fds[0]);
    while (waitpid(p, NULL, 0) < 0 && errno == EINTR) {
    }
    return fds[1];
}

/* Runs ip with the given arguments (NULL-terminated); its output goes into out. Returns
 * its exit status (-1 if it did not exit). */
static int run_ip(char *out, size_t cap, const char *arg, ...) {
    char *argv[24];
    int n = 0;
    argv[n++] = ip_path;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a != NULL && n < 23; a = va_arg(ap, const char *)) {
        argv[n++] = (char *)a;
    }
    va_end(ap);
    argv[n] = NULL;
    int fds[2];
    CHECK(pipe2(fds, O_CLOEXEC) == 0);
    pid_t p = fork();
    CHECK(p >= 0);
    if (p == 0) {
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        execv(ip_path, argv);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    for (;;) {
        char buf[512];
        ssize_t r = read(fds[0], buf, sizeof(buf));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        for (ssize_t i = 0; i < r && len + 1 < cap; i++) {
            out[len++] = buf[i];
        }
    }
    if (cap > 0) {
        out[len] = '\0';
    }
    close(fds[0]);
    int status;
    while (waitpid(p, &status, 0) < 0) {
        CHECK(errno == EINTR);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ip ARGS..., which must succeed. */
#define IP(...)                                                                                    \
    do {                                                                                           \
        char out_[1024];                                                                           \
        int rc_ = run_ip(out_, sizeof(out_), __VA_ARGS__, (const char *)NULL);                     \
        if (rc_ != 0) {                                                                            \
            fprintf(stderr, "%s:%d: ip failed (%d): %s\n", __FILE__, __LINE__, rc_, out_);         \
        }                                                                                          \
        CHECK(rc_ == 0);                                                                           \
    } while (0)

bool tn_usable(char *why, size_t len) {
    if (geteuid() != 0) {
        snprintf(why, len, "not running as root (network namespaces need CAP_SYS_ADMIN)");
        return false;
    }
    if (!find_ip()) {
        snprintf(why, len, "no `ip` command (Debian package iproute2)");
        return false;
    }
    /* A trial: a namespace with a bridge and a veth pair in it. */
    char probe[32], out[1024];
    snprintf(probe, sizeof(probe), "st%d-probe", (int)getpid());
    int rc = run_ip(out, sizeof(out), "netns", "add", probe, (const char *)NULL);
    if (rc != 0) {
        snprintf(why, len, "`ip netns add` failed: %s", out);
        return false;
    }
    rc = run_ip(out, sizeof(out), "-n", probe, "link", "add", "br0", "type", "bridge",
                (const char *)NULL);
    if (rc == 0) {
        rc = run_ip(out, sizeof(out), "-n", probe, "link", "add", "va", "type", "veth", "peer",
                    "name", "vb", (const char *)NULL);
    }
    char del_out[256];
    run_ip(del_out, sizeof(del_out), "netns", "del", probe, (const char *)NULL);
    if (rc != 0) {
        snprintf(why, len, "no bridge or veth devices in a network namespace: %s", out);
        return false;
    }
    return true;
}

tn_net *tn_create(int n) {
    CHECK(n >= 1 && n <= TN_MAX_NODES);
    CHECK(ip_path[0] != '\0' || find_ip());
    tn_net *t = calloc(1, sizeof(*t));
    CHECK(t != NULL);
    t->n = n;
    int pid = (int)getpid();
    snprintf(t->hub, sizeof(t->hub), "st%d-hub", pid);
    /* 10.X.Y.0/24 from the pid: distinct between tests running at once, and private to
     * these namespaces anyway. */
    int x = (pid >> 8) & 0xff, y = pid & 0xff;
    for (int i = 1; i <= n; i++) {
        snprintf(t->node[i], sizeof(t->node[i]), "st%d-n%d", pid, i);
        snprintf(t->host[i], sizeof(t->host[i]), "10.%d.%d.%d", x, y, i);
    }

    /* Arm the cleanup before the first namespace exists. */
    snprintf(names[0], sizeof(names[0]), "%s", t->hub);
    for (int i = 1; i <= n; i++) {
        snprintf(names[i], sizeof(names[i]), "%s", t->node[i]);
    }
    n_names = n + 1;
    deleted = 0;
    start_watchdog(); /* its pipe stays open until this process ends */
    atexit(at_exit);
    for (size_t i = 0; i < N_FATAL; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_fatal;
        sigemptyset(&sa.sa_mask);
        sigaction(fatal_sigs[i], &sa, &prev_action[i]);
    }

    IP("netns", "add", t->hub);
    IP("-n", t->hub, "link", "add", "br0", "type", "bridge", "forward_delay", "0");
    IP("-n", t->hub, "link", "set", "br0", "up");
    for (int i = 1; i <= n; i++) {
        char port[16], addr[32];
        snprintf(port, sizeof(port), "v%d", i);
        snprintf(addr, sizeof(addr), "%s/24", t->host[i]);
        IP("netns", "add", t->node[i]);
        IP("-n", t->hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns",
           t->node[i]);
        IP("-n", t->hub, "link", "set", port, "master", "br0", "up");
        IP("-n", t->node[i], "addr", "add", addr, "dev", "eth0");
        IP("-n", t->node[i], "link", "set", "eth0", "up");
        IP("-n", t->node[i], "link", "set", "lo", "up");
    }
    return t;
}

static void set_link(tn_net *t, int id, const char *state) {
    CHECK(id >= 1 && id <= t->n);
    char port[16];
    snprintf(port, sizeof(port), "v%d", id);
    IP("-n", t->hub, "link", "set", port, state);
}

void tn_cut(tn_net *t, int id) {
    set_link(t, id, "down");
}

void tn_heal(tn_net *t, int id) {
    set_link(t, id, "up");
}

void tn_destroy(tn_net *t) {
    if (!deleted) {
        delete_all();
        deleted = 1;
    }
    free(t);
}
