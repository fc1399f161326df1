/* disk.c - a full disk and damaged files, on three real stratad processes whose data
 * directories each sit on a small tmpfs (100 MiB) of the test's own mount namespace.
 *
 * 1. Disk low on the leader: the filesystems are filled until less than stratad's default
 *    reserve (min-free-bytes, 64 MiB) is free (all three: whichever node leads is low).
 *    Signed writes are refused by the leader with RESOURCE_EXHAUSTED naming it, its data
 *    directory and the reserve; reads go on; the replicated data digest does not change.
 *    The fillers are deleted and the same requests (same request_id) are accepted, without a
 *    restart.
 * 2. Disk low on a follower: writes go on (Raft needs the follower to append; the reserve is
 *    the leader's admission rule), and the follower logs the low space.
 * 3. A follower's disk full to the last byte: writes go on through the other two; the
 *    follower's state machine cannot store an entry, and it stops with exit status 1 and a
 *    storage-failure message (no signal, no sanitizer report) rather than go on. The filler
 *    is deleted, the node is started again and catches up: the digests of all three agree.
 *    Then the same on the leader, run with min-free-bytes = 0: it hands leadership over and
 *    exits 1, and the write in flight on it, answered "outcome unknown", is retried by its
 *    client with the same request_id and applied once.
 * 4. Damaged files at start, on a follower, one at a time:
 *    (a) its last Raft log segment cut in the middle of an entry after a kill -9 (a torn
 *        write): the node starts, logs the torn write it cleared, and agrees with the others;
 *    (b) bytes flipped in a closed segment and (c) in the newest snapshot: stratad exits 1
 *        naming the file; the node is then rebuilt as docs/OPERATIONS.md says (data directory
 *        emptied but for node.key) and agrees with the others;
 *    (d) the LMDB data file overwritten past its meta pages: the node starts, sets the state
 *        aside, rebuilds it from the Raft log and agrees with the others.
 * At the end every acknowledged ballot is in the vote's history exactly once, at the
 * sequence number its client was told, and the three digests agree.
 *
 * Needs root (a mount namespace and tmpfs mounts); otherwise it says why and exits 77 (a
 * skip for ctest). Prints `figure: disk refused_writes=N recovered=yes
 * damaged_files_tried=4 detected=4 ...`.
 *
 * Usage: fault_disk STRATAD DATA_DIR
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/cluster/steps.h"
#include "tests/core/check.h"

#define N 3
#define OWNERS 40
#define TMPFS_SIZE "100m"
#define RESERVE ((uint64_t)64 << 20) /* stratad's default min-free-bytes */
#define SNAP_THRESHOLD 64
#define SNAP_TRAILING 32
#define REFUSED 5      /* writes sent while the leader is low on space */
#define MAX_CASTS 4096 /* ballots one run may cast */
#define SKIP 77

static const char *stratad;
static tc_cluster *c;
static char base[256];               /* the harness's directory */
static char data[N + 1][320];        /* each node's data directory: a tmpfs mount point */
static volatile bool mounted[N + 1]; /* for the exit handler */

static tc_client *cl;
static tc_world w;
static uint64_t community, vote;
static unsigned n_casts;             /* scan numbers handed out */
static uint64_t told_seq[MAX_CASTS]; /* the sequence number each acknowledged cast was told */
static unsigned acked;

/* ---- mounts ---- */

static void unmount_all(void) {
    for (int i = 1; i <= N; i++) {
        if (mounted[i]) {
            umount2(data[i], MNT_DETACH);
            mounted[i] = false;
        }
    }
}

/* A private mount namespace: the tmpfs mounts are seen by this test and its stratad
 * processes only, and vanish with them however the test ends. */
static void private_mounts_or_skip(void) {
    if (geteuid() != 0) {
        printf("SKIP: fault_disk needs root (a mount namespace and tmpfs mounts)\n");
        exit(SKIP);
    }
    if (unshare(CLONE_NEWNS) != 0) {
        printf("SKIP: cannot make a mount namespace: %s\n", strerror(errno));
        exit(SKIP);
    }
    if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        printf("SKIP: cannot make the mounts private: %s\n", strerror(errno));
        exit(SKIP);
    }
    char probe[] = "/tmp/strata-disk-probe-XXXXXX";
    CHECK(mkdtemp(probe) != NULL);
    int rc = mount("strata-disk", probe, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m");
    int e = errno;
    if (rc == 0) {
        umount2(probe, MNT_DETACH);
    }
    rmdir(probe);
    if (rc != 0) {
        printf("SKIP: cannot mount a tmpfs: %s\n", strerror(e));
        exit(SKIP);
    }
}

static void mount_data(int id) {
    CHECK(mkdir(data[id], 0750) == 0 || errno == EEXIST);
    int rc = mount("strata-disk", data[id], "tmpfs", MS_NOSUID | MS_NODEV,
                   "size=" TMPFS_SIZE ",mode=0750");
    if (rc != 0) {
        fprintf(stderr, "mount tmpfs on %s: %s\n", data[id], strerror(errno));
    }
    CHECK(rc == 0);
    mounted[id] = true;
}

/* ---- space ---- */

static uint64_t free_bytes(int id) {
    struct statvfs v;
    CHECK(statvfs(data[id], &v) == 0);
    return (uint64_t)v.f_bavail * v.f_frsize;
}

/* Grows DATA/filler until the filesystem has at most `leave` bytes free (0: none at all).
 * Returns the filler's size. */
static uint64_t fill(int id, uint64_t leave) {
    char path[400];
    snprintf(path, sizeof(path), "%s/filler", data[id]);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    static char chunk[1 << 20];
    memset(chunk, 0x5a, sizeof(chunk));
    size_t cap = sizeof(chunk);
    for (;;) {
        uint64_t avail = free_bytes(id);
        if (avail <= leave) {
            break;
        }
        size_t n = avail - leave < cap ? (size_t)(avail - leave) : cap;
        ssize_t wr = write(fd, chunk, n);
        if (wr < 0) {
            CHECK(errno == ENOSPC);
            if (cap <= 4096) {
                break; /* full to the page */
            }
            cap /= 2;
        }
    }
    struct stat sb;
    CHECK(fstat(fd, &sb) == 0);
    close(fd);
    return (uint64_t)sb.st_size;
}

static void unfill(int id) {
    char path[400];
    snprintf(path, sizeof(path), "%s/filler", data[id]);
    CHECK(unlink(path) == 0);
}

/* ---- writes ---- */

/* The request of cast number k: a paper ballot whose scan hash carries k. */
static void cast_request(unsigned k, tc_ballot_buf *buf, Strata__V1__CastBallotRequest *q) {
    char owner[16];
    uint8_t scan[32] = {0xd1, 0x5c, (uint8_t)(k >> 8), (uint8_t)k};
    snprintf(owner, sizeof(owner), "O%u", 1 + k % OWNERS);
    tc_ballot_request(tc_organiser(&w, community), community, vote, owner, 1 + (int)(k % 3), scan,
                      buf, q);
}

static void record_ack(unsigned k, uint64_t seq) {
    CHECK(k < MAX_CASTS);
    acked++;
    CHECK_EQ(seq, acked); /* nothing else writes to this vote */
    told_seq[k] = seq;
}

/* One cast through the leader that must be acknowledged. */
static void cast_ok(void) {
    unsigned k = n_casts++;
    CHECK(k < MAX_CASTS);
    char owner[16];
    uint8_t scan[32] = {0xd1, 0x5c, (uint8_t)(k >> 8), (uint8_t)k};
    snprintf(owner, sizeof(owner), "O%u", 1 + k % OWNERS);
    uint64_t seq = tc_cast_paper(cl, &w, community, vote, owner, 1 + (int)(k % 3), scan, NULL);
    record_ack(k, seq);
}

static void cast_many(int n) {
    for (int i = 0; i < n; i++) {
        cast_ok();
    }
}

/* ---- logs and processes ---- */

static bool file_has(const char *path, const char *text) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return false;
    }
    char line[8192];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        found = strstr(line, text) != NULL;
    }
    fclose(f);
    return found;
}

static bool wait_log(int id, const char *text, int timeout_ms) {
    uint64_t until = tc_now_ms() + (uint64_t)timeout_ms;
    while (!tc_log_contains(c, id, text)) {
        if (tc_now_ms() > until) {
            return false;
        }
        tc_sleep_ms(50);
    }
    return true;
}

static bool sanitizer_report(const char *path) {
    return file_has(path, "AddressSanitizer") || file_has(path, "LeakSanitizer") ||
           file_has(path, "runtime error:");
}

/* Starts stratad for node id on its data directory as the harness would (plus `extra`, a
 * flag, if not NULL), logging to BASE/node<id>/<tag>.log and its stderr to <tag>.stderr.
 * Not one of the harness's nodes: the caller waits for it (wait_exit). It dies with the
 * test however the test ends. */
static pid_t spawn(int id, const char *tag, const char *extra) {
    char args[32][400];
    int n = 0;
#define ARG(...) snprintf(args[n++], sizeof(args[0]), __VA_ARGS__)
    ARG("%s", stratad);
    ARG("--id=%d", id);
    ARG("--data-dir=%s", data[id]);
    ARG("--grpc-listen=127.0.0.1:%d", tc_grpc_port(c, id));
    ARG("--raft-listen=127.0.0.1:%d", tc_raft_port(c, id));
    for (int p = 1; p <= N; p++) {
        ARG("--peer=%d=127.0.0.1:%d,127.0.0.1:%d", p, tc_raft_port(c, p), tc_grpc_port(c, p));
    }
    ARG("--snapshot-threshold=%d", SNAP_THRESHOLD);
    ARG("--snapshot-trailing=%d", SNAP_TRAILING);
    ARG("--install-snapshot-timeout-ms=3000");
    ARG("--lmdb-map-size=64M");
    ARG("--grpc-plaintext=true"); /* loopback, as the harness's nodes */
    ARG("--log=%s/node%d/%s.log", base, id, tag);
    if (extra != NULL) {
        ARG("%s", extra);
    }
#undef ARG
    char *argv[33];
    for (int i = 0; i < n; i++) {
        argv[i] = args[i];
    }
    argv[n] = NULL;
    char err_path[400];
    snprintf(err_path, sizeof(err_path), "%s/node%d/%s.stderr", base, id, tag);
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(127);
        }
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* Waits up to timeout_ms for a spawned stratad to exit and returns its wait status; kills
 * it and fails the test if it is still running then. Its stderr must hold no sanitizer
 * report. */
static int wait_exit(pid_t pid, int id, const char *tag, int timeout_ms, const char *what) {
    uint64_t until = tc_now_ms() + (uint64_t)timeout_ms;
    int status = 0;
    char err_path[400];
    snprintf(err_path, sizeof(err_path), "%s/node%d/%s.stderr", base, id, tag);
    while (waitpid(pid, &status, WNOHANG) != pid) {
        if (tc_now_ms() > until) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fprintf(stderr, "node %d (%s) kept running %s: see %s\n", id, tag, what, err_path);
            CHECK(false);
        }
        tc_sleep_ms(20);
    }
    bool bad = sanitizer_report(err_path);
    if (bad) {
        fprintf(stderr, "node %d (%s) reported a sanitizer error: see %s\n", id, tag, err_path);
    }
    CHECK(!bad);
    return status;
}

/* A start expected to be refused: the wait status of stratad on node id's data. */
static int run_expecting_exit(int id, const char *tag) {
    return wait_exit(spawn(id, tag, NULL), id, tag, 20000, "on damaged data");
}

static bool tag_log_has(int id, const char *tag, const char *text) {
    char path[400];
    snprintf(path, sizeof(path), "%s/node%d/%s.log", base, id, tag);
    return file_has(path, text);
}

/* Waits for the three nodes to report the same data digest at the same index. */
static void same_state(const char *when, uint8_t digest[32]) {
    uint64_t idx = 0;
    CHECK(tc_same_state(cl, c, N, 30000, &idx));
    uint64_t i2;
    CHECK(tc_state_digest(cl, 1, digest, &i2, 5000));
    printf("%s: the three nodes agree at index %llu\n", when, (unsigned long long)idx);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    if (ftw->level == 0 || strcmp(path + ftw->base, "node.key") == 0) {
        return 0;
    }
    return remove(path) == 0 || errno == ENOTEMPTY ? 0 : -1;
}

/* docs/OPERATIONS.md, Damaged data: empty the data directory but for node.key and start the
 * node with the same settings: it catches up from the others. */
static void rebuild(int id) {
    CHECK(nftw(data[id], rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0);
    tc_start(c, id, false);
}

/* ---- Raft files ---- */

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static uint8_t *slurp(const char *path, size_t *size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    struct stat sb;
    CHECK(fstat(fd, &sb) == 0);
    uint8_t *b = malloc((size_t)sb.st_size + 1);
    CHECK(b != NULL);
    size_t off = 0;
    while (off < (size_t)sb.st_size) {
        ssize_t r = pread(fd, b + off, (size_t)sb.st_size - off, (off_t)off);
        CHECK(r > 0);
        off += (size_t)r;
    }
    close(fd);
    *size = off;
    return b;
}

/* The last batch of an open segment (raft's format: 8-byte version, then batches of two
 * CRCs, an entry count, 16-byte descriptors and padded data): its offset and end. false if
 * the segment holds none. */
static bool last_batch(const uint8_t *b, size_t size, size_t *at, size_t *end) {
    if (size < 8 || le64(b) != 1) {
        return false;
    }
    bool any = false;
    size_t off = 8;
    while (off + 16 <= size) {
        uint64_t n = le64(b + off + 8);
        if (n == 0 || n > 100000 || off + 16 + 16 * n > size) {
            break;
        }
        size_t len = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint32_t l = (uint32_t)b[off + 16 + 16 * i + 12] |
                         (uint32_t)b[off + 16 + 16 * i + 13] << 8 |
                         (uint32_t)b[off + 16 + 16 * i + 14] << 16 |
                         (uint32_t)b[off + 16 + 16 * i + 15] << 24;
            len += (l + 7) & ~7u;
        }
        size_t next = off + 16 + 16 * n + len;
        if (next > size) {
            break;
        }
        *at = off;
        *end = next;
        any = true;
        off = next;
    }
    return any;
}

/* The name in DIR/raft of the open segment with the highest counter that holds data, the
 * closed segment with the highest last index, or the newest snapshot (kind 'o', 'c', 's'). */
static bool raft_file(int id, char kind, char *out, size_t len) {
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/raft", data[id]);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    unsigned long long best[3] = {0, 0, 0};
    bool found = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        unsigned long long a = 0, b = 0, t = 0;
        int used = 0;
        unsigned long long key[3] = {0, 0, 0};
        if (kind == 'o' && sscanf(e->d_name, "open-%llu%n", &a, &used) == 1 &&
            e->d_name[used] == '\0') {
            char path[700];
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            size_t size, at, end;
            uint8_t *buf = slurp(path, &size);
            bool data_in = last_batch(buf, size, &at, &end);
            free(buf);
            if (!data_in) {
                continue;
            }
            key[0] = a;
        } else if (kind == 'c' && strlen(e->d_name) == 33 &&
                   sscanf(e->d_name, "%llu-%llu%n", &a, &b, &used) == 2 && used == 33) {
            key[0] = b;
        } else if (kind == 's' &&
                   sscanf(e->d_name, "snapshot-%llu-%llu-%llu%n", &a, &b, &t, &used) == 3 &&
                   e->d_name[used] == '\0') {
            key[0] = a;
            key[1] = b;
            key[2] = t;
        } else {
            continue;
        }
        if (!found || memcmp(key, best, sizeof(key)) != 0) {
            bool newer = !found || key[0] > best[0] || (key[0] == best[0] && key[1] > best[1]) ||
                         (key[0] == best[0] && key[1] == best[1] && key[2] > best[2]);
            if (newer) {
                memcpy(best, key, sizeof(key));
                snprintf(out, len, "%s", e->d_name);
                found = true;
            }
        }
    }
    closedir(d);
    return found;
}

/* Overwrites len bytes at off of path with a fixed pattern (bytes flipped). */
static void flip(const char *path, size_t off, size_t len) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    CHECK(fd >= 0);
    for (size_t i = 0; i < len; i++) {
        uint8_t b;
        CHECK(pread(fd, &b, 1, (off_t)(off + i)) == 1);
        b ^= 0xa5;
        CHECK(pwrite(fd, &b, 1, (off_t)(off + i)) == 1);
    }
    close(fd);
}

/* ---- the parts ---- */

/* 1 and 2: the leader low on space refuses, a follower low on space does not matter. In 1
 * every node is filled, so that whichever leads (an election under load may move the
 * office) is low on space. */
static unsigned low_space(void) {
    uint8_t before[32], after[32];
    same_state("before the disks fill", before);
    for (int i = 1; i <= N; i++) {
        uint64_t filler = fill(i, RESERVE - ((uint64_t)4 << 20));
        printf("node %d: %llu-byte filler, %llu bytes free (reserve %llu)\n", i,
               (unsigned long long)filler, (unsigned long long)free_bytes(i),
               (unsigned long long)RESERVE);
    }

    unsigned refused = 0;
    tc_ballot_buf bufs[REFUSED];
    Strata__V1__CastBallotRequest qs[REFUSED];
    unsigned ks[REFUSED];
    const tc_key *org = tc_organiser(&w, community);
    char want[64];
    int leader = 0;
    for (int i = 0; i < REFUSED; i++) {
        ks[i] = n_casts++;
        cast_request(ks[i], &bufs[i], &qs[i]);
        ProtobufCMessage *resp = NULL;
        tc_status st;
        int code =
            tc_leader_call_as(cl, org, "/strata.v1.Voting/CastBallot", &qs[i].base,
                              &strata__v1__cast_ballot_response__descriptor, &resp, &st, 10000);
        if (code != GRPC_STATUS_RESOURCE_EXHAUSTED) {
            fprintf(stderr, "write %d while the leader is low on space: status %d: %s\n", i, code,
                    st.details);
        }
        CHECK_EQ(code, GRPC_STATUS_RESOURCE_EXHAUSTED);
        leader = st.node;
        CHECK(leader >= 1 && leader <= N);
        snprintf(want, sizeof(want), "disk space low on node %d", leader);
        CHECK(strstr(st.details, want) != NULL);
        CHECK(strstr(st.details, data[leader]) != NULL);
        CHECK(strstr(st.details, "min-free-bytes") != NULL);
        CHECK(strstr(st.details, "Free space on that filesystem or grow it") != NULL);
        refused++;
        if (i == 0) {
            printf("refused by the leader, node %d: %s\n", leader, st.details);
        }
    }
    /* Reads are served; nothing changed. */
    Strata__V1__Vote *v = tc_get_vote(cl, 0, vote);
    CHECK_EQ(v->ballot_count, acked);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    same_state("with the leader low on space", after);
    CHECK(memcmp(before, after, 32) == 0);
    CHECK(wait_log(leader, want, 5000));

    /* Space returns: the same requests go through, no restart. */
    for (int i = 1; i <= N; i++) {
        unfill(i);
    }
    for (int i = 0; i < REFUSED; i++) {
        ProtobufCMessage *resp = NULL;
        tc_status st;
        int code = tc_leader_call_as(cl, org, "/strata.v1.Voting/CastBallot", &qs[i].base,
                                     &strata__v1__cast_ballot_response__descriptor, &resp, &st,
                                     TC_WRITE_MS);
        if (code != GRPC_STATUS_OK) {
            fprintf(stderr, "write %d after space returned: status %d: %s\n", i, code, st.details);
        }
        CHECK_EQ(code, GRPC_STATUS_OK);
        record_ack(ks[i], ((Strata__V1__CastBallotResponse *)resp)->seq);
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    CHECK(wait_log(leader, "disk space back on node", 5000));
    printf("space back on node %d: the %u refused writes, sent again, are accepted\n", leader,
           refused);

    /* A follower low on space: the leader still takes writes; the follower says so. */
    leader = tc_wait_leader(cl, c, N, 5000);
    CHECK(leader != 0);
    int follower = leader % N + 1;
    fill(follower, RESERVE - ((uint64_t)4 << 20));
    cast_many(10);
    snprintf(want, sizeof(want), "disk space low on node %d", follower);
    CHECK(wait_log(follower, want, 5000));
    unfill(follower);
    printf("node %d (follower) low on space: writes go on, its log says so\n", follower);
    return refused;
}

/* 3: a follower's disk full to the last byte stops it; with space it catches up. */
static void full_follower(int follower) {
    uint64_t filler = fill(follower, 0);
    printf("node %d (follower): disk full (%llu-byte filler, %llu bytes free)\n", follower,
           (unsigned long long)filler, (unsigned long long)free_bytes(follower));
    int writes = 0;
    while (!tc_log_contains(c, follower, "stopping after a storage failure")) {
        CHECK(writes < 1500);
        cast_ok();
        writes++;
    }
    CHECK(wait_log(follower, "stratad stopped", 20000));
    int rc = tc_stop(c, follower, 20000);
    CHECK_EQ(rc, 1);
    CHECK(tc_log_contains(c, follower, "storage failure: "));
    printf("node %d stopped (exit status 1) after %d more writes, which the others acknowledged\n",
           follower, writes);
    cast_many(5);
    unfill(follower);
    tc_start(c, follower, false);
    uint8_t d[32];
    same_state("the full follower restarted with space", d);
}

/* 3b: the reserve off on the leader (min-free-bytes = 0) and its disk full: its state
 * machine cannot store an entry; it hands leadership over and exits 1; the write in flight
 * on it is answered "outcome unknown" and its client's retry (same request_id) is applied
 * once; with space the node catches up. */
static void full_leader(int id) {
    CHECK_EQ(tc_stop(c, id, 20000), 0);
    pid_t pid = spawn(id, "noreserve", "--min-free-bytes=0");
    const tc_key *op = &w.op;
    uint64_t until = tc_now_ms() + 30000;
    /* Leadership to it (the operator's TransferLeadership, once it has caught up). */
    for (;;) {
        Strata__V1__StatusResponse *s = tc_status_of(cl, id, 1000);
        bool leads = s != NULL && s->ready && strcmp(s->state, "leader") == 0;
        if (s != NULL) {
            protobuf_c_message_free_unpacked(&s->base, NULL);
        }
        if (leads) {
            break;
        }
        CHECK(tc_now_ms() < until);
        Strata__V1__TransferLeadershipRequest tr = STRATA__V1__TRANSFER_LEADERSHIP_REQUEST__INIT;
        tr.id = (uint64_t)id;
        ProtobufCMessage *resp = NULL;
        tc_status st;
        if (tc_leader_call_as(cl, op, "/strata.v1.Cluster/TransferLeadership", &tr.base,
                              &strata__v1__transfer_leadership_response__descriptor, &resp, &st,
                              5000) == GRPC_STATUS_OK) {
            protobuf_c_message_free_unpacked(resp, NULL);
        }
        tc_sleep_ms(200);
    }
    uint64_t filler = fill(id, 0);
    printf("node %d leads with min-free-bytes = 0; its disk full (%llu-byte filler)\n", id,
           (unsigned long long)filler);
    char log_path[400];
    snprintf(log_path, sizeof(log_path), "%s/node%d/noreserve.log", base, id);
    int writes = 0;
    while (!file_has(log_path, "stopping after a storage failure")) {
        CHECK(writes < 1500);
        cast_ok(); /* tc_cast_paper retries UNAVAILABLE on the next leader, same request */
        writes++;
    }
    int status = wait_exit(pid, id, "noreserve", 30000, "after its storage failure");
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 1);
    CHECK(file_has(log_path, "storage failure: "));
    /* LMDB reports ENOSPC, or EIO for a write the full filesystem cut short. */
    CHECK(file_has(log_path, "storage failure applying CastBallot"));
    printf("node %d stopped (exit status 1) after %d writes, every one acknowledged\n", id, writes);
    cast_many(5);
    unfill(id);
    tc_start(c, id, false);
    uint8_t d[32];
    same_state("the full leader restarted with space", d);
}

/* 4 (a): a torn last write. */
static bool torn_tail(int x) {
    char name[256], path[700];
    for (int attempt = 0;; attempt++) {
        cast_many(10);
        CHECK(tc_wait_applied(cl, x, tc_leader_commit(cl), 30000)); /* in x's own log */
        tc_kill(c, x);
        /* A snapshot closes the open segment: if one was just taken, no open segment holds an
         * entry yet. Start again and write more. */
        if (raft_file(x, 'o', name, sizeof(name))) {
            break;
        }
        CHECK(attempt < 5);
        tc_start(c, x, false);
    }
    snprintf(path, sizeof(path), "%s/raft/%s", data[x], name);
    size_t size, at, end;
    uint8_t *buf = slurp(path, &size);
    CHECK(last_batch(buf, size, &at, &end));
    free(buf);
    size_t cut = at + (end - at) / 2;
    CHECK(truncate(path, (off_t)cut) == 0);
    printf("(a) node %d killed; %s cut at byte %zu, inside its last entry (%zu..%zu)\n", x, name,
           cut, at, end);
    tc_start(c, x, false);
    bool noticed =
        wait_log(x, "cut short by the end of the file", 5000) && tc_log_contains(c, x, name);
    CHECK(noticed);
    cast_many(3);
    uint8_t d[32];
    same_state("(a) after the torn write", d);
    return noticed;
}

/* 4 (b) and (c): a damaged closed segment or snapshot refuses the start; then rebuild. */
static bool refused_start(int x, char kind, const char *tag) {
    cast_many(10);
    CHECK_EQ(tc_stop(c, x, 20000), 0);
    char name[256], path[700];
    CHECK(raft_file(x, kind, name, sizeof(name)));
    snprintf(path, sizeof(path), "%s/raft/%s", data[x], name);
    struct stat sb;
    CHECK(stat(path, &sb) == 0);
    flip(path, (size_t)sb.st_size / 2, 4);
    printf("(%s) node %d stopped; 4 bytes flipped in the middle of %s\n", tag, x, name);
    int status = run_expecting_exit(x, tag);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 1);
    bool named = tag_log_has(x, tag, name) && tag_log_has(x, tag, "damaged");
    CHECK(named);
    CHECK(tag_log_has(x, tag, "docs/OPERATIONS.md"));
    printf("(%s) stratad exited 1 naming %s\n", tag, name);
    rebuild(x);
    cast_many(3);
    uint8_t d[32];
    char when[64];
    snprintf(when, sizeof(when), "(%s) after rebuilding node %d", tag, x);
    same_state(when, d);
    return named;
}

/* 4 (d): a damaged LMDB file is set aside and rebuilt. */
static bool damaged_state(int x) {
    cast_many(10);
    CHECK_EQ(tc_stop(c, x, 20000), 0);
    char path[400];
    snprintf(path, sizeof(path), "%s/state/data.mdb", data[x]);
    struct stat sb;
    CHECK(stat(path, &sb) == 0);
    CHECK(sb.st_size > 3 * 4096);
    /* Every page past the two meta pages: a fixed pseudo-random pattern. */
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    uint32_t s = 0x2545f491;
    uint8_t page[4096];
    for (off_t off = 2 * 4096; off < sb.st_size; off += 4096) {
        for (size_t i = 0; i < sizeof(page); i++) {
            s = s * 1103515245u + 12345u;
            page[i] = (uint8_t)(s >> 16);
        }
        CHECK(pwrite(fd, page, sizeof(page), off) == (ssize_t)sizeof(page));
    }
    close(fd);
    printf("(d) node %d stopped; data.mdb (%lld bytes) overwritten past its meta pages\n", x,
           (long long)sb.st_size);
    tc_start(c, x, false);
    bool noticed = wait_log(x, "data.mdb is damaged", 5000) && tc_log_contains(c, x, "moved aside");
    CHECK(noticed);
    glob_t g;
    char pattern[400];
    snprintf(pattern, sizeof(pattern), "%s/state.damaged-*", data[x]);
    CHECK(glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc == 1);
    globfree(&g);
    cast_many(3);
    uint8_t d[32];
    same_state("(d) after rebuilding the state", d);
    return noticed;
}

/* Every acknowledged cast exactly once, at the sequence number it was told. */
static void check_history(void) {
    Strata__V1__Ballot **hist;
    size_t n;
    tc_export(cl, vote, &hist, &n);
    CHECK_EQ(n, acked);
    static bool seen[MAX_CASTS];
    for (size_t i = 0; i < n; i++) {
        const Strata__V1__Ballot *b = hist[i];
        CHECK_EQ(b->paper_scan_sha256.len, 32);
        const uint8_t *s = b->paper_scan_sha256.data;
        CHECK(s[0] == 0xd1 && s[1] == 0x5c);
        unsigned k = (unsigned)s[2] << 8 | s[3];
        CHECK(k < n_casts && !seen[k]);
        seen[k] = true;
        CHECK_EQ(b->seq, told_seq[k]);
    }
    tc_free_msgs((ProtobufCMessage **)hist, n);
    printf("all %u acknowledged ballots are in the history once, at their sequence numbers\n",
           acked);
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    stratad = argv[1];
    private_mounts_or_skip();
    uint64_t t0 = tc_now_ms();

    char name[48];
    snprintf(name, sizeof(name), "disk%d-%llu", (int)getpid(), (unsigned long long)t0);
    tc_options o = {.stratad = stratad,
                    .snapshot_threshold = SNAP_THRESHOLD,
                    .snapshot_trailing = SNAP_TRAILING};
    c = tc_new(&o, name);
    /* The harness made /tmp/strata-NAME-XXXXXX; NAME holds this pid and the start time, so
     * the match is ours (a kept directory of an earlier run cannot match). */
    glob_t g;
    char pattern[96];
    snprintf(pattern, sizeof(pattern), "/tmp/strata-%s-*", name);
    CHECK(glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc == 1);
    snprintf(base, sizeof(base), "%s", g.gl_pathv[0]);
    globfree(&g);
    atexit(unmount_all); /* runs before the harness's own handler kills the nodes */
    for (int i = 1; i <= N; i++) {
        char node_dir[300];
        snprintf(node_dir, sizeof(node_dir), "%s/node%d", base, i);
        CHECK(mkdir(node_dir, 0755) == 0 || errno == EEXIST);
        snprintf(data[i], sizeof(data[i]), "%s/data", node_dir);
        mount_data(i);
        tc_start(c, i, false);
    }
    cl = tc_client_new(c);
    int leader = tc_wait_leader(cl, c, N, 15000);
    CHECK(leader != 0);
    tc_world_init(&w);
    community = tc_world_setup(cl, c, &w, N, "disk");
    tc_roll roll;
    tc_roll_generated(OWNERS, &roll);
    tc_import_roll(cl, &w, community, &roll);
    vote = tc_create_vote(cl, &w, community, 4, "选聘物业服务企业");
    tc_vote_step(cl, &w, community, "NoticeVote", vote);
    tc_vote_step(cl, &w, community, "OpenVote", vote);
    cast_many(80); /* past the snapshot threshold */
    printf("set up: %u ballots acknowledged, %llu bytes free on node %d's tmpfs\n", acked,
           (unsigned long long)free_bytes(leader), leader);
    CHECK(free_bytes(leader) > RESERVE);

    unsigned refused = low_space();
    leader = tc_wait_leader(cl, c, N, 5000);
    CHECK(leader != 0);
    full_follower(leader % N + 1);
    leader = tc_wait_leader(cl, c, N, 5000);
    CHECK(leader != 0);
    full_leader(leader);

    leader = tc_wait_leader(cl, c, N, 5000);
    CHECK(leader != 0);
    int x = leader % N + 1;
    int detected = 0;
    detected += torn_tail(x);
    detected += refused_start(x, 'c', "b");
    detected += refused_start(x, 's', "c");
    detected += damaged_state(x);

    uint8_t d[32];
    same_state("at the end", d);
    check_history();

    for (int i = 1; i <= N; i++) {
        CHECK_EQ(tc_stop(c, i, 20000), 0);
    }
    unmount_all();
    tc_roll_free(&roll);
    tc_world_free(&w);
    tc_client_free(cl);
    tc_finish(c);
    printf("figure: disk refused_writes=%u recovered=yes damaged_files_tried=4 detected=%d "
           "acked=%u seconds=%llu\n",
           refused, detected, acked, (unsigned long long)((tc_now_ms() - t0) / 1000));
    printf("ok\n");
    return 0;
}
