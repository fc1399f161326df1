/* bench_proc.c - child processes, ports, /proc figures and cleanup for strata-bench
 * (bench_proc.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/bench_proc.h"

/* Every child still running (signal-safe: a plain array). */
static volatile pid_t children[BP_MAX_CHILDREN];
static char temp_dir[BP_PATH_MAX];
static bool keep_dir;
static volatile sig_atomic_t succeeded;

static void kill_children(void) {
    for (int i = 0; i < BP_MAX_CHILDREN; i++) {
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

int bp_rmtree(const char *path) {
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static uint64_t tree_bytes;
static int add_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)path;
    (void)ftw;
    if (flag == FTW_F) {
        tree_bytes += (uint64_t)sb->st_size;
    }
    return 0;
}

uint64_t bp_tree_bytes(const char *path) {
    tree_bytes = 0;
    if (nftw(path, add_entry, 16, FTW_PHYS) != 0) {
        return 0;
    }
    return tree_bytes;
}

static void at_exit(void) {
    kill_children();
    for (int i = 0; i < BP_MAX_CHILDREN; i++) {
        if (children[i] > 0) {
            waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
    }
    if (temp_dir[0] == '\0') {
        return;
    }
    if (succeeded && !keep_dir) {
        bp_rmtree(temp_dir);
    } else {
        fprintf(stderr, "strata-bench: node data and logs kept in %s\n", temp_dir);
    }
}

static void on_fatal(int sig) {
    kill_children();
    signal(sig, SIG_DFL);
    raise(sig);
}

int bp_init(char dir[BP_PATH_MAX], bool keep) {
    const char *tmp = getenv("TMPDIR");
    snprintf(temp_dir, sizeof(temp_dir), "%s/strata-bench-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(temp_dir) == NULL) {
        temp_dir[0] = '\0';
        return -1;
    }
    keep_dir = keep;
    snprintf(dir, BP_PATH_MAX, "%s", temp_dir);
    atexit(at_exit);
    int sigs[] = {SIGINT, SIGTERM, SIGABRT, SIGSEGV, SIGBUS, SIGHUP};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        signal(sigs[i], on_fatal);
    }
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

void bp_success(void) {
    succeeded = 1;
}

uint64_t bp_now_ms(void) {
    return bp_now_us() / 1000u;
}

uint64_t bp_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void bp_sleep_ms(unsigned ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int slot_of(pid_t pid) {
    for (int i = 0; i < BP_MAX_CHILDREN; i++) {
        if (children[i] == pid) {
            return i;
        }
    }
    return -1;
}

pid_t bp_spawn(char *const argv[], const char *log_path) {
    int slot = slot_of(0);
    if (slot < 0) {
        fprintf(stderr, "strata-bench: more than %d server processes\n", BP_MAX_CHILDREN);
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "strata-bench: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the bench, however it dies */
        if (getppid() != parent) {
            _exit(127);
        }
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
        }
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    children[slot] = pid;
    return pid;
}

bool bp_alive(pid_t pid, int *status) {
    int st = 0;
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid) {
        int slot = slot_of(pid);
        if (slot >= 0) {
            children[slot] = 0;
        }
        if (status != NULL) {
            *status = st;
        }
        return false;
    }
    return w == 0;
}

int bp_stop(pid_t pid, int timeout_ms) {
    int slot = slot_of(pid);
    if (pid <= 0 || slot < 0) {
        return -1;
    }
    kill(pid, SIGCONT);
    kill(pid, SIGTERM);
    uint64_t until = bp_now_ms() + (uint64_t)timeout_ms;
    int status = 0;
    for (;;) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            break;
        }
        if (bp_now_ms() > until) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            children[slot] = 0;
            return -1;
        }
        bp_sleep_ms(10);
    }
    children[slot] = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int connect_port(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    close(fd);
    return rc;
}

bool bp_wait_port(int port, pid_t pid, int timeout_ms) {
    uint64_t until = bp_now_ms() + (uint64_t)timeout_ms;
    while (bp_now_ms() < until) {
        if (pid > 0 && !bp_alive(pid, NULL)) {
            return false;
        }
        if (connect_port(port) == 0) {
            return true;
        }
        bp_sleep_ms(10);
    }
    return false;
}

static bool port_free(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

int bp_free_ports(int count) {
    for (int attempt = 0; attempt < 200; attempt++) {
        uint32_t r = 0;
        if (getrandom(&r, sizeof(r), 0) != sizeof(r)) {
            r = (uint32_t)getpid() * 7919u + (uint32_t)attempt;
        }
        int base = 20000 + (int)(r % (uint32_t)(12000 - count));
        bool ok = true;
        for (int i = 0; ok && i < count; i++) {
            ok = port_free(base + i);
        }
        if (ok) {
            return base;
        }
    }
    return 0;
}

double bp_cpu_s(pid_t pid) {
    char path[64], buf[2048];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name is in parentheses and may hold spaces: count fields after it. */
    char *p = strrchr(buf, ')');
    if (p == NULL) {
        return -1;
    }
    p += 2; /* field 3, the state */
    unsigned long long utime = 0, stime = 0;
    for (int field = 3; field <= 15 && p != NULL; field++) {
        if (field == 14) {
            utime = strtoull(p, NULL, 10);
        } else if (field == 15) {
            stime = strtoull(p, NULL, 10);
        }
        p = strchr(p, ' ');
        if (p != NULL) {
            p++;
        }
    }
    long hz = sysconf(_SC_CLK_TCK);
    return (double)(utime + stime) / (double)(hz > 0 ? hz : 100);
}

static double status_kb(pid_t pid, const char *key) {
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    double mb = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            mb = (double)strtoull(line + klen + 1, NULL, 10) / 1024.0;
            break;
        }
    }
    fclose(f);
    return mb;
}

double bp_hwm_mb(pid_t pid) {
    return status_kb(pid, "VmHWM");
}

double bp_rss_mb(pid_t pid) {
    return status_kb(pid, "VmRSS");
}

double bp_rss_anon_mb(pid_t pid) {
    return status_kb(pid, "RssAnon");
}

/* The inode of a socket listening on port (TCP state 0A) in /proc/net/tcp, 0 if none. */
static unsigned long listen_inode(int port) {
    FILE *f = fopen("/proc/net/tcp", "r");
    if (f == NULL) {
        return 0;
    }
    char line[512];
    unsigned long found = 0;
    while (found == 0 && fgets(line, sizeof(line), f) != NULL) {
        unsigned int lport = 0, state = 0;
        unsigned long inode = 0;
        char local[64];
        /* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
        if (sscanf(line, " %*d: %63[0-9A-Fa-f:] %*s %x %*s %*s %*s %*u %*u %lu", local, &state,
                   &inode) != 3) {
            continue;
        }
        char *colon = strchr(local, ':');
        if (colon == NULL) {
            continue;
        }
        lport = (unsigned int)strtoul(colon + 1, NULL, 16);
        if (state == 0x0A && lport == (unsigned int)port) {
            found = inode;
        }
    }
    fclose(f);
    return found;
}

pid_t bp_find_listener(int port) {
    unsigned long inode = listen_inode(port);
    if (inode == 0) {
        return 0;
    }
    char want[64];
    snprintf(want, sizeof(want), "socket:[%lu]", inode);
    DIR *proc = opendir("/proc");
    if (proc == NULL) {
        return 0;
    }
    pid_t found = 0;
    struct dirent *e;
    while (found == 0 && (e = readdir(proc)) != NULL) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') {
            continue;
        }
        char fddir[300];
        snprintf(fddir, sizeof(fddir), "/proc/%s/fd", e->d_name);
        DIR *fds = opendir(fddir);
        if (fds == NULL) {
            continue;
        }
        struct dirent *d;
        while (found == 0 && (d = readdir(fds)) != NULL) {
            char link[600], target[64];
            snprintf(link, sizeof(link), "%s/%s", fddir, d->d_name);
            ssize_t n = readlink(link, target, sizeof(target) - 1);
            if (n > 0) {
                target[n] = '\0';
                if (strcmp(target, want) == 0) {
                    found = (pid_t)strtol(e->d_name, NULL, 10);
                }
            }
        }
        closedir(fds);
    }
    closedir(proc);
    return found;
}
