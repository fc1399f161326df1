/* bench_proc.h - the server processes of strata-bench (stratad and etcd nodes): spawning
 * them with their output in a log file, stopping them, free ports on 127.0.0.1, the
 * figures the kernel keeps on each process (CPU time, peak RSS), and the cleanup that never
 * leaves a child running or a temporary directory behind, however the program ends (an
 * atexit handler, fatal-signal handlers, and PR_SET_PDEATHSIG in every child).
 *
 * Threads: spawn, stop and the cleanup from the main thread only.
 */
#ifndef STRATA_TESTS_BENCH_PROC_H
#define STRATA_TESTS_BENCH_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define BP_MAX_CHILDREN 16
#define BP_PATH_MAX 512

/* A new directory /tmp/strata-bench-XXXXXX (or under $TMPDIR) into dir (BP_PATH_MAX bytes),
 * removed at exit unless keep is set or the run failed (then its logs are kept and named).
 * Installs the cleanup handlers. Returns 0, or -1 with errno. */
int bp_init(char dir[BP_PATH_MAX], bool keep);
/* Tells the exit handler that the run succeeded (the directory may go). */
void bp_success(void);

/* Starts argv[0] with argv, stdout and stderr appended to log_path, dying with this
 * process. Returns the pid, or -1 (with a message on stderr). */
pid_t bp_spawn(char *const argv[], const char *log_path);
/* SIGTERM (after SIGCONT), then SIGKILL after timeout_ms; reaps. Returns the exit status,
 * -1 when it had to be killed or was not a child. */
int bp_stop(pid_t pid, int timeout_ms);
/* Whether the child is still running (reaps it if it exited; *status then set). */
bool bp_alive(pid_t pid, int *status);

/* Waits until 127.0.0.1:port accepts a TCP connection; false if pid exits first or after
 * timeout_ms. */
bool bp_wait_port(int port, pid_t pid, int timeout_ms);
/* A base port such that base .. base+count-1 can all be bound on 127.0.0.1 now (below the
 * ephemeral range, 20000-31999, tried at random). Returns 0 when none was found. */
int bp_free_ports(int count);

/* utime + stime of pid in seconds; -1 when /proc/<pid>/stat cannot be read. */
double bp_cpu_s(pid_t pid);
/* VmHWM (peak resident set) of pid in MiB; -1 when unknown. */
double bp_hwm_mb(pid_t pid);
/* VmRSS (resident set now) of pid in MiB; -1 when unknown. */
double bp_rss_mb(pid_t pid);
/* RssAnon (heap, stacks: not the mapped LMDB file) of pid now, MiB; -1 when unknown. */
double bp_rss_anon_mb(pid_t pid);
/* The pid of a process of this machine listening on 127.0.0.1:port (or any address) over
 * TCP, found through /proc/net/tcp and /proc/<pid>/fd; 0 when none is visible. */
pid_t bp_find_listener(int port);

/* Milliseconds on the monotonic clock; microseconds; a sleep. */
uint64_t bp_now_ms(void);
uint64_t bp_now_us(void);
void bp_sleep_ms(unsigned ms);

/* Removes a directory tree (what rm -rf does); 0 or -1. */
int bp_rmtree(const char *path);
/* Bytes of the files under path (du -sb); 0 when absent. */
uint64_t bp_tree_bytes(const char *path);

#endif
