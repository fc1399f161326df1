/* log_check.c - reads every Raft segment before raft_uv does (log_check.h): batch parsing
 * with raft's checksums, torn-tail recognition in open segments, and the messages. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "consensus/log_check.h"
#include "consensus/lz4_check.h"
#include "core/error.h"

#define FORMAT_VERSION 1
#define MAX_BATCH_ENTRIES (1u << 24) /* more than any batch raft writes: garbage beyond it */
#define MAX_OPEN 64                  /* open segments looked at (raft keeps a handful) */

static const char *const REBUILD =
    "this node must not start from a log it cannot read (it may have acknowledged those "
    "entries); rebuild it from the other nodes (docs/OPERATIONS.md, Damaged data)";

/* ---- raft's CRC-32 (byteCrc32): MSB-first, polynomial 0x04C11DB7, init 0, no final xor ---- */

static uint32_t crc_table[256];
static bool crc_ready;

static uint32_t crc32_raft(const uint8_t *p, size_t n) {
    if (!crc_ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i << 24;
            for (int k = 0; k < 8; k++) {
                c = (c & 0x80000000u) ? (c << 1) ^ 0x04C11DB7u : c << 1;
            }
            crc_table[i] = c;
        }
        crc_ready = true;
    }
    uint32_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc = (crc << 8) ^ crc_table[((crc >> 24) ^ p[i]) & 0xffu];
    }
    return crc;
}

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool all_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

/* ---- batches ---- */

typedef enum {
    BATCH_OK,    /* *next and *entries set */
    BATCH_END,   /* an entry count of 0: no more data here */
    BATCH_SHORT, /* the batch runs past the end of the file */
    BATCH_BAD    /* a checksum fails, or the header makes no sense (*why says which) */
} batch_kind;

static batch_kind parse_batch(const uint8_t *buf, size_t size, size_t off, size_t *next,
                              uint64_t *entries, const char **why) {
    size_t left = size - off;
    if (left < 16) {
        return all_zero(buf + off, left) ? BATCH_END : BATCH_SHORT;
    }
    uint64_t n = le64(buf + off + 8);
    if (n == 0) {
        return BATCH_END;
    }
    if (n > MAX_BATCH_ENTRIES) {
        *why = "has an entry count that makes no sense";
        return BATCH_BAD;
    }
    size_t header = 8 + 16 * (size_t)n; /* the count, then one descriptor per entry */
    if (header > left - 8) {
        return BATCH_SHORT;
    }
    const uint8_t *h = buf + off + 8;
    if (crc32_raft(h, header) != le32(buf + off)) {
        *why = "fails its header checksum";
        return BATCH_BAD;
    }
    size_t data = 0;
    for (uint64_t i = 0; i < n; i++) {
        size_t len = le32(h + 8 + 16 * i + 12);
        data += (len + 7) & ~(size_t)7;
    }
    if (data > left - 8 - header) {
        return BATCH_SHORT;
    }
    if (crc32_raft(h + header, data) != le32(buf + off + 4)) {
        *why = "fails its data checksum";
        return BATCH_BAD;
    }
    *next = off + 8 + header + data;
    *entries = n;
    return BATCH_OK;
}

/* Whether a valid batch starts anywhere in buf[from..size) (8-byte aligned). */
static bool valid_batch_after(const uint8_t *buf, size_t size, size_t from) {
    for (size_t off = (from + 7) & ~(size_t)7; off + 16 <= size; off += 8) {
        if (all_zero(buf + off, 16)) {
            continue;
        }
        size_t next;
        uint64_t n;
        const char *why;
        if (parse_batch(buf, size, off, &next, &n, &why) == BATCH_OK) {
            return true;
        }
    }
    return false;
}

/* ---- files ---- */

static int read_file(const char *dir, const char *name, uint8_t **out, size_t *size, char *err,
                     size_t errlen) {
    char path[4352];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
        }
        return st_fail(err, errlen, ST_EIO, "cannot read %s: %s", path, strerror(e));
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *b = malloc(n ? n : 1);
    if (b == NULL) {
        close(fd);
        return st_fail(err, errlen, ST_ENOMEM, "out of memory reading %s", path);
    }
    size_t off = 0;
    while (off < n) {
        ssize_t r = pread(fd, b + off, n - off, (off_t)off);
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            free(b);
            close(fd);
            return st_fail(err, errlen, ST_EIO, "cannot read %s: %s", path, strerror(e));
        }
        off += (size_t)r;
    }
    close(fd);
    *out = b;
    *size = n;
    return ST_OK;
}

/* Zeroes [from, to) of dir/name and syncs it. */
static int clear_range(const char *dir, const char *name, size_t from, size_t to, char *err,
                       size_t errlen) {
    char path[4352];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return st_fail(err, errlen, ST_EIO, "cannot open %s to clear a torn write: %s", path,
                       strerror(errno));
    }
    uint8_t zeros[4096] = {0};
    int rc = 0;
    for (size_t off = from; off < to && rc == 0;) {
        size_t chunk = to - off < sizeof(zeros) ? to - off : sizeof(zeros);
        ssize_t w = pwrite(fd, zeros, chunk, (off_t)off);
        if (w <= 0) {
            rc = -1;
        } else {
            off += (size_t)w;
        }
    }
    if (rc == 0) {
        rc = fsync(fd);
    }
    int e = errno;
    close(fd);
    if (rc != 0) {
        return st_fail(err, errlen, ST_EIO, "cannot clear a torn write in %s: %s", path,
                       strerror(e));
    }
    return ST_OK;
}

/* A closed segment: every batch valid, as many entries as its name says. */
static int check_closed(const char *dir, const char *name, uint64_t first, uint64_t last, char *err,
                        size_t errlen) {
    uint8_t *buf;
    size_t size;
    int rc = read_file(dir, name, &buf, &size, err, errlen);
    if (rc != ST_OK) {
        return rc;
    }
    uint64_t want = last >= first ? last - first + 1 : 0, count = 0;
    size_t off = 8;
    if (size < 8 || le64(buf) != FORMAT_VERSION) {
        rc = st_fail(err, errlen, ST_ECORRUPT,
                     "%s/%s is damaged: it does not start with format version %d; it held "
                     "entries %llu to %llu: %s",
                     dir, name, FORMAT_VERSION, (unsigned long long)first, (unsigned long long)last,
                     REBUILD);
        goto out;
    }
    while (off < size && count < want) {
        size_t next;
        uint64_t n;
        const char *why = "is cut short by the end of the file";
        batch_kind k = parse_batch(buf, size, off, &next, &n, &why);
        if (k == BATCH_END) {
            why = "is blank: the segment ends before all of its entries";
        }
        if (k != BATCH_OK) {
            rc = st_fail(err, errlen, ST_ECORRUPT,
                         "%s/%s is damaged: the batch at byte %zu (entry %llu onwards) %s; it "
                         "held entries %llu to %llu: %s",
                         dir, name, off, (unsigned long long)(first + count), why,
                         (unsigned long long)first, (unsigned long long)last, REBUILD);
            goto out;
        }
        count += n;
        off = next;
    }
    if (count != want || !all_zero(buf + off, size - off)) {
        rc = st_fail(err, errlen, ST_ECORRUPT,
                     "%s/%s is damaged: it holds %llu entries%s where its name says %llu to "
                     "%llu: %s",
                     dir, name, (unsigned long long)count,
                     count == want ? " and then more bytes" : "", (unsigned long long)first,
                     (unsigned long long)last, REBUILD);
    }
out:
    free(buf);
    return rc;
}

typedef struct {
    unsigned long long counter;
    char name[256]; /* a dirent name */
} open_seg;

static int cmp_open(const void *a, const void *b) {
    const open_seg *x = a, *y = b;
    return x->counter < y->counter ? -1 : x->counter > y->counter;
}

/* Whether an open segment holds any entry (a valid first batch). */
static bool open_has_data(const uint8_t *buf, size_t size) {
    if (size < 8 || le64(buf) != FORMAT_VERSION) {
        return false;
    }
    size_t next;
    uint64_t n;
    const char *why;
    return parse_batch(buf, size, 8, &next, &n, &why) == BATCH_OK;
}

/* The open segments in counter order: the torn tail may only be the very last data. */
static int check_open(const char *dir, open_seg *segs, size_t n_segs, st_raft_check_report *rep,
                      void (*note)(void *, const char *), void *ctx, char *err, size_t errlen) {
    qsort(segs, n_segs, sizeof(segs[0]), cmp_open);
    for (size_t i = 0; i < n_segs; i++) {
        uint8_t *buf;
        size_t size;
        int rc = read_file(dir, segs[i].name, &buf, &size, err, errlen);
        if (rc != ST_OK) {
            return rc;
        }
        if (size < 8 || all_zero(buf, 8)) {
            /* Prepared but never written; nothing valid may hide after an empty header. */
            bool hidden = valid_batch_after(buf, size, 8);
            free(buf);
            if (hidden) {
                return st_fail(err, errlen, ST_ECORRUPT,
                               "%s/%s is damaged: its header is blank but entries follow: %s", dir,
                               segs[i].name, REBUILD);
            }
            continue;
        }
        if (le64(buf) != FORMAT_VERSION) {
            free(buf);
            return st_fail(err, errlen, ST_ECORRUPT,
                           "%s/%s is damaged: it does not start with format version %d: %s", dir,
                           segs[i].name, FORMAT_VERSION, REBUILD);
        }
        rep->open_segments++;
        size_t off = 8;
        uint64_t count = 0;
        batch_kind k;
        const char *why = "is cut short by the end of the file";
        for (;;) {
            size_t next;
            uint64_t n;
            k = parse_batch(buf, size, off, &next, &n, &why);
            if (k != BATCH_OK) {
                break;
            }
            count += n;
            off = next;
        }
        /* Valid data after the point where Raft's loader stops, here or in a later open
         * segment, means the stop is not the end of what was written: damage. */
        bool after = valid_batch_after(buf, size, off + 8);
        for (size_t j = i + 1; j < n_segs && !after; j++) {
            uint8_t *later;
            size_t later_size;
            rc = read_file(dir, segs[j].name, &later, &later_size, err, errlen);
            if (rc != ST_OK) {
                free(buf);
                return rc;
            }
            after = open_has_data(later, later_size);
            free(later);
        }
        if (k == BATCH_END) {
            free(buf);
            if (after) {
                return st_fail(err, errlen, ST_ECORRUPT,
                               "%s/%s is damaged: its entries stop after %llu at byte %zu (a "
                               "blank batch header) but more entries follow: %s",
                               dir, segs[i].name, (unsigned long long)count, off, REBUILD);
            }
            continue;
        }
        if (after) {
            free(buf);
            return st_fail(err, errlen, ST_ECORRUPT,
                           "%s/%s is damaged: the batch at byte %zu (after %llu good entries) "
                           "%s, and valid entries follow it: %s",
                           dir, segs[i].name, off, (unsigned long long)count, why, REBUILD);
        }
        /* A torn tail: the last write of this node, cut by a crash before it was synced. */
        rep->torn_tails++;
        char msg[768];
        if (k == BATCH_SHORT) {
            /* raft 0.15's loader crashes on a batch cut by the end of the file: clear it. */
            rc = clear_range(dir, segs[i].name, off, size, err, errlen);
            if (rc != ST_OK) {
                free(buf);
                return rc;
            }
            rep->cleared++;
            snprintf(msg, sizeof(msg),
                     "%s/%s: the last batch (byte %zu, after %llu good entries) is cut short by "
                     "the end of the file, a write torn by a crash before it was synced: its "
                     "%zu bytes are cleared; Raft keeps the entries before it and this node "
                     "fetches the rest again from the leader",
                     dir, segs[i].name, off, (unsigned long long)count, size - off);
        } else {
            snprintf(msg, sizeof(msg),
                     "%s/%s: the last batch (byte %zu, after %llu good entries) %s, a write "
                     "torn by a crash before it was synced: Raft drops it and this node fetches "
                     "it again from the leader",
                     dir, segs[i].name, off, (unsigned long long)count, why);
        }
        if (note != NULL) {
            note(ctx, msg);
        }
        free(buf);
    }
    return ST_OK;
}

/* The snapshot raft loads at start: its LZ4 frame whole (raft's own snapshots are LZ4 with
 * a content checksum; one that is not LZ4 cannot be checked here and is left to raft). */
static int check_snapshot(const char *dir, const char *name, char *err, size_t errlen) {
    uint8_t *buf;
    size_t size;
    int rc = read_file(dir, name, &buf, &size, err, errlen);
    if (rc != ST_OK) {
        return rc;
    }
    char why[256];
    rc = st_lz4_frame_check(buf, size, why, sizeof(why));
    free(buf);
    if (rc == ST_EINVAL) {
        return ST_OK;
    }
    if (rc == ST_ENOMEM) {
        return st_fail(err, errlen, ST_ENOMEM, "%s/%s: %s", dir, name, why);
    }
    if (rc != ST_OK) {
        return st_fail(err, errlen, ST_ECORRUPT,
                       "%s/%s is damaged: %s; it is the snapshot raft loads at start (the state "
                       "up to its index, the log after it): %s",
                       dir, name, why, REBUILD);
    }
    return ST_OK;
}

int st_raft_check_dir(const char *dir, st_raft_check_report *report,
                      void (*note)(void *ctx, const char *msg), void *ctx, char *err,
                      size_t errlen) {
    st_raft_check_report rep = {0};
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT) {
            if (report != NULL) {
                *report = rep;
            }
            return ST_OK;
        }
        return st_fail(err, errlen, ST_EIO, "cannot list %s: %s", dir, strerror(errno));
    }
    open_seg segs[MAX_OPEN];
    memset(segs, 0, sizeof(segs));
    size_t n_segs = 0;
    int rc = ST_OK;
    struct dirent *e;
    while (rc == ST_OK && (e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        unsigned long long a, b;
        int used = 0;
        if (strncmp(name, "corrupt-", 8) == 0) {
            rc = st_fail(err, errlen, ST_ECORRUPT,
                         "%s/%s is a damaged segment set aside at an earlier start: the log "
                         "it was cut from is incomplete, and %s",
                         dir, name, REBUILD);
        } else if (sscanf(name, "open-%llu%n", &a, &used) == 1 && name[used] == '\0') {
            if (n_segs < MAX_OPEN) {
                segs[n_segs].counter = a;
                snprintf(segs[n_segs].name, sizeof(segs[n_segs].name), "%s", name);
                n_segs++;
            }
        } else if (strlen(name) == 33 && sscanf(name, "%llu-%llu%n", &a, &b, &used) == 2 &&
                   used == 33) {
            rc = check_closed(dir, name, a, b, err, errlen);
            rep.closed_segments++;
        }
    }
    closedir(d);
    if (rc == ST_OK) {
        rc = check_open(dir, segs, n_segs, &rep, note, ctx, err, errlen);
    }
    char snap[256];
    if (rc == ST_OK && st_raft_newest_snapshot(dir, snap, sizeof(snap))) {
        rc = check_snapshot(dir, snap, err, errlen);
        rep.snapshot_checked = rc == ST_OK;
    }
    if (report != NULL) {
        *report = rep;
    }
    return rc;
}

bool st_raft_newest_snapshot(const char *dir, char *name, size_t len) {
    DIR *d = opendir(dir);
    if (d == NULL) {
        return false;
    }
    unsigned long long best[3] = {0, 0, 0};
    bool found = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        unsigned long long t, i, ts;
        int used = 0;
        if (sscanf(e->d_name, "snapshot-%llu-%llu-%llu%n", &t, &i, &ts, &used) == 3 &&
            e->d_name[used] == '\0') {
            if (!found || t > best[0] || (t == best[0] && i > best[1]) ||
                (t == best[0] && i == best[1] && ts > best[2])) {
                best[0] = t;
                best[1] = i;
                best[2] = ts;
                snprintf(name, len, "%s", e->d_name);
                found = true;
            }
        }
    }
    closedir(d);
    return found;
}
