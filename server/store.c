/* store.c - the LMDB environment: opening the named databases, the growth lock and map
 * growth, key encoding, protobuf values and the content digest (see store.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/error.h"
#include "server/codes.h"
#include "server/store.h"

struct st_store {
    MDB_env *env;
    char dir[4096];
    bool nosync;
    MDB_dbi dbi[ST_DB_COUNT];
    pthread_rwlock_t lock; /* shared by every transaction; exclusive to grow the map */
    st_store_hook hook;
    void *hook_ctx;
};

static const char *const db_names[ST_DB_COUNT] = {
    [ST_DB_META] = "meta",
    [ST_DB_REQUESTS] = "requests",
    [ST_DB_COMMUNITIES] = "communities",
    [ST_DB_COMMUNITY_NAMES] = "community_names",
    [ST_DB_UNITS] = "units",
    [ST_DB_VOTES] = "votes",
    [ST_DB_COMMUNITY_VOTES] = "community_votes",
    [ST_DB_VOTERS] = "voters",
    [ST_DB_BALLOTS] = "ballots",
    [ST_DB_EVENTS] = "events",
    [ST_DB_KEYS] = "keys",
    [ST_DB_OWNER_KEYS] = "owner_keys",
    [ST_DB_ROLL_OWNERS] = "roll_owners",
    [ST_DB_ENROLLMENTS] = "enrollments",
    [ST_DB_PROXIES] = "proxies",
    [ST_DB_BALLOT_NONCES] = "ballot_nonces",
    [ST_DB_LOG_NODES] = "log_nodes",
    [ST_DB_REQUEST_NONCES] = "request_nonces",
    [ST_DB_NONCE_TIMES] = "nonce_times",
    [ST_DB_MEMBERS] = "members",
};

const char *st_store_db_name(st_db db) {
    return db < ST_DB_COUNT ? db_names[db] : "?";
}

MDB_dbi st_store_dbi(const st_store *st, st_db db) {
    return st->dbi[db];
}

MDB_env *st_store_env(const st_store *st) {
    return st->env;
}

size_t st_store_map_size(const st_store *st) {
    MDB_envinfo info;
    mdb_env_info(st->env, &info);
    return info.me_mapsize;
}

/* Opens every named database and checks (or, in a new environment, writes) the format. */
static int open_dbs(st_store *st, char *err, size_t errlen) {
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc != 0) {
        return st_fail(err, errlen, st_code_from_mdb(rc), "cannot begin a transaction: %s",
                       mdb_strerror(rc));
    }
    for (int i = 0; i < ST_DB_COUNT; i++) {
        rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &st->dbi[i]);
        if (rc != 0) {
            mdb_txn_abort(txn);
            return st_fail(err, errlen, st_code_from_mdb(rc), "cannot open database %s: %s",
                           db_names[i], mdb_strerror(rc));
        }
    }
    uint64_t format = 0;
    rc = st_meta_get(txn, st, ST_META_FORMAT, &format);
    if (rc == 0 && format == 0) {
        rc = st_meta_put(txn, st, ST_META_FORMAT, ST_STORE_FORMAT);
    } else if (rc == 0 && format != ST_STORE_FORMAT) {
        mdb_txn_abort(txn);
        return st_fail(err, errlen, ST_ECORRUPT,
                       "the data directory holds format %llu but this build reads format %d",
                       (unsigned long long)format, ST_STORE_FORMAT);
    }
    if (rc == 0) {
        rc = mdb_txn_commit(txn);
    } else {
        mdb_txn_abort(txn);
    }
    if (rc != 0) {
        return st_fail(err, errlen, st_code_from_mdb(rc), "cannot set up the databases: %s",
                       rc == ST_ECORRUPT ? "the format record is damaged" : mdb_strerror(rc));
    }
    return ST_OK;
}

/* Creates and opens st->env over st->dir with its databases. On failure st->env is NULL. */
static int env_open(st_store *st, size_t map_size, char *err, size_t errlen) {
    int rc = mdb_env_create(&st->env);
    if (rc == 0) {
        rc = mdb_env_set_maxdbs(st->env, ST_DB_COUNT + 4);
    }
    if (rc == 0) {
        rc = mdb_env_set_mapsize(st->env, map_size ? map_size : ST_STORE_MAP_DEFAULT);
    }
    if (rc == 0) {
        /* MDB_NOTLS: read transactions are not tied to threads (gRPC thread pools). */
        rc = mdb_env_open(st->env, st->dir, MDB_NOTLS | (st->nosync ? MDB_NOSYNC : 0), 0644);
    }
    if (rc != 0) {
        int code = st_fail(err, errlen, st_code_from_mdb(rc), "cannot open LMDB in %s: %s", st->dir,
                           mdb_strerror(rc));
        if (st->env != NULL) {
            mdb_env_close(st->env);
            st->env = NULL;
        }
        return code;
    }
    int code = open_dbs(st, err, errlen);
    if (code != ST_OK) {
        mdb_env_close(st->env);
        st->env = NULL;
    }
    return code;
}

int st_store_open(st_store **out, const char *dir, size_t map_size, bool nosync, char *err,
                  size_t errlen) {
    if (sodium_init() < 0) {
        return st_fail(err, errlen, ST_EIO, "libsodium failed to initialise");
    }
    if (strlen(dir) >= sizeof(((st_store *)0)->dir) - 32) {
        return st_fail(err, errlen, ST_EINVAL, "data directory path is too long: %s", dir);
    }
    st_store *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return st_fail(err, errlen, ST_ENOMEM, "out of memory opening %s", dir);
    }
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* A growing writer must not starve behind a stream of readers. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int prc = pthread_rwlock_init(&st->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (prc != 0) {
        free(st);
        return st_fail(err, errlen, ST_ENOMEM, "cannot create a lock");
    }
    snprintf(st->dir, sizeof(st->dir), "%s", dir);
    st->nosync = nosync;
    int code = env_open(st, map_size, err, errlen);
    if (code != ST_OK) {
        pthread_rwlock_destroy(&st->lock);
        free(st);
        return code;
    }
    *out = st;
    return ST_OK;
}

void st_store_close(st_store *st) {
    if (st == NULL) {
        return;
    }
    if (st->env != NULL) {
        mdb_env_close(st->env);
    }
    pthread_rwlock_destroy(&st->lock);
    free(st);
}

int st_store_txn_begin(st_store *st, unsigned flags, MDB_txn **txn) {
    if (pthread_rwlock_rdlock(&st->lock) != 0) {
        return EAGAIN;
    }
    int rc = mdb_txn_begin(st->env, NULL, flags, txn);
    if (rc != 0) {
        pthread_rwlock_unlock(&st->lock);
    }
    return rc;
}

int st_store_txn_end(st_store *st, MDB_txn *txn, bool commit) {
    int rc = 0;
    if (commit) {
        rc = mdb_txn_commit(txn);
    } else {
        mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&st->lock);
    return rc;
}

int st_store_grow(st_store *st, size_t want) {
    if (pthread_rwlock_wrlock(&st->lock) != 0) {
        return EAGAIN;
    }
    MDB_envinfo info;
    mdb_env_info(st->env, &info);
    size_t size = info.me_mapsize * 2;
    if (size < info.me_mapsize) {
        size = SIZE_MAX; /* cannot double any more */
    }
    if (size < want) {
        size = want;
    }
    int rc = mdb_env_set_mapsize(st->env, size);
    pthread_rwlock_unlock(&st->lock);
    return rc;
}

/* Walks one database: every key in order, the count equal to the B-tree's. */
static int check_db(MDB_txn *txn, MDB_dbi dbi, const char *name, char *err, size_t errlen) {
    MDB_stat ms;
    int rc = mdb_stat(txn, dbi, &ms);
    if (rc != 0) {
        return st_fail(err, errlen, ST_ECORRUPT, "database %s: %s", name, mdb_strerror(rc));
    }
    MDB_cursor *c;
    rc = mdb_cursor_open(txn, dbi, &c);
    if (rc != 0) {
        return st_fail(err, errlen, ST_ECORRUPT, "database %s: %s", name, mdb_strerror(rc));
    }
    size_t n = 0;
    MDB_val k, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        n++;
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND) {
        return st_fail(err, errlen, ST_ECORRUPT, "database %s, after %zu entries: %s", name, n,
                       mdb_strerror(rc));
    }
    if (n != ms.ms_entries) {
        return st_fail(err, errlen, ST_ECORRUPT,
                       "database %s holds %zu entries where its B-tree counts %zu", name, n,
                       (size_t)ms.ms_entries);
    }
    return ST_OK;
}

int st_store_check(const char *dir, char *err, size_t errlen) {
    char path[4200];
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        return errno == ENOENT
                   ? ST_OK
                   : st_fail(err, errlen, ST_EIO, "cannot read %s: %s", path, strerror(errno));
    }
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    int code = ST_OK;
    int rc = mdb_env_create(&env);
    if (rc == 0) {
        rc = mdb_env_set_maxdbs(env, ST_DB_COUNT + 4);
    }
    if (rc == 0) {
        rc = mdb_env_set_mapsize(env, (size_t)sb.st_size + ((size_t)1 << 20));
    }
    if (rc == 0) {
        rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS, 0644);
    }
    if (rc == 0) {
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    }
    if (rc != 0) {
        code = st_fail(err, errlen, ST_ECORRUPT, "cannot open it: %s", mdb_strerror(rc));
        goto out;
    }
    for (int i = 0; i < ST_DB_COUNT && code == ST_OK; i++) {
        MDB_dbi dbi;
        rc = mdb_dbi_open(txn, db_names[i], 0, &dbi);
        if (rc != 0) {
            code =
                st_fail(err, errlen, ST_ECORRUPT, "database %s: %s", db_names[i], mdb_strerror(rc));
            break;
        }
        code = check_db(txn, dbi, db_names[i], err, errlen);
        if (code == ST_OK && i == ST_DB_META) {
            MDB_val k = {strlen(ST_META_FORMAT), (void *)ST_META_FORMAT}, v;
            rc = mdb_get(txn, dbi, &k, &v);
            /* Another format is not damage: st_store_open says which, and refuses it. */
            if (rc != 0 || v.mv_size != 8) {
                code = st_fail(err, errlen, ST_ECORRUPT, "its format record is %s",
                               rc != 0 ? "missing" : "not 8 bytes");
            }
        }
    }
    if (code == ST_OK) {
        code = check_db(txn, 0, "(main)", err, errlen); /* the catalog of the databases */
    }
out:
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    if (env != NULL) {
        mdb_env_close(env);
    }
    return code;
}

void st_store_set_hook(st_store *st, st_store_hook hook, void *ctx) {
    st->hook = hook;
    st->hook_ctx = ctx;
}

void st_store_fault(const st_store *st, const char *point) {
    if (st->hook != NULL) {
        st->hook(st->hook_ctx, point);
    }
}

/* ---- keys ---- */

void st_put_be64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

uint64_t st_get_be64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

void st_put_be32(uint8_t *p, uint32_t v) {
    for (int i = 3; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

uint32_t st_get_be32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

st_key st_key_u64(uint64_t a) {
    st_key k = {.n = 8};
    st_put_be64(k.b, a);
    return k;
}

st_key st_key_id2(uint64_t a, uint64_t b) {
    st_key k = {.n = 16};
    st_put_be64(k.b, a);
    st_put_be64(k.b + 8, b);
    return k;
}

st_key st_key_id_pos(uint64_t a, uint32_t b) {
    st_key k = {.n = 12};
    st_put_be64(k.b, a);
    st_put_be32(k.b + 8, b);
    return k;
}

st_key st_key_id_str(uint64_t a, const char *s) {
    st_key k = {.n = 8};
    st_put_be64(k.b, a);
    size_t n = strlen(s);
    if (n > ST_KEY_MAX - 8) {
        n = ST_KEY_MAX - 8; /* callers pass validated ids (<= ST_ID_MAX bytes) */
    }
    memcpy(k.b + 8, s, n);
    k.n += n;
    return k;
}

st_key st_key_bytes(const uint8_t *p, size_t n) {
    st_key k = {.n = n < ST_KEY_MAX ? n : ST_KEY_MAX};
    memcpy(k.b, p, k.n);
    return k;
}

st_key st_key_id_bytes(uint64_t a, const uint8_t *p, size_t n) {
    st_key k = {.n = 8};
    st_put_be64(k.b, a);
    if (n > ST_KEY_MAX - 8) {
        n = ST_KEY_MAX - 8; /* callers pass fixed-size ids */
    }
    memcpy(k.b + 8, p, n);
    k.n += n;
    return k;
}

st_key st_key_node(uint64_t vote, unsigned level, uint64_t index) {
    st_key k = {.n = 17};
    st_put_be64(k.b, vote);
    k.b[8] = (uint8_t)level;
    st_put_be64(k.b + 9, index);
    return k;
}

MDB_val st_key_val(const st_key *k) {
    return (MDB_val){.mv_size = k->n, .mv_data = (void *)k->b};
}

/* ---- counters ---- */

int st_meta_get(MDB_txn *txn, const st_store *st, const char *name, uint64_t *out) {
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, st->dbi[ST_DB_META], &k, &v);
    if (rc == MDB_NOTFOUND) {
        *out = 0;
        return 0;
    }
    if (rc != 0) {
        return rc;
    }
    if (v.mv_size != 8) {
        return ST_ECORRUPT;
    }
    *out = st_get_be64(v.mv_data);
    return 0;
}

int st_meta_put(MDB_txn *txn, const st_store *st, const char *name, uint64_t value) {
    uint8_t b[8];
    st_put_be64(b, value);
    MDB_val k = {strlen(name), (void *)name}, v = {8, b};
    return mdb_put(txn, st->dbi[ST_DB_META], &k, &v, 0);
}

/* ---- protobuf values ---- */

int st_msg_put(MDB_txn *txn, MDB_dbi dbi, const st_key *key, const ProtobufCMessage *m) {
    MDB_val k = st_key_val(key);
    MDB_val v = {protobuf_c_message_get_packed_size(m), NULL};
    int rc = mdb_put(txn, dbi, &k, &v, MDB_RESERVE);
    if (rc == 0) {
        protobuf_c_message_pack(m, v.mv_data);
    }
    return rc;
}

int st_msg_decode(const MDB_val *v, const ProtobufCMessageDescriptor *d, ProtobufCMessage **out) {
    *out = protobuf_c_message_unpack(d, NULL, v->mv_size, v->mv_data);
    /* protobuf-c does not tell a malloc failure from bad bytes; stored bytes were packed
     * by us, so treat NULL as damage (a real shortage will fail elsewhere too). */
    return *out != NULL ? 0 : ST_ECORRUPT;
}

int st_msg_get(MDB_txn *txn, MDB_dbi dbi, const st_key *key, const ProtobufCMessageDescriptor *d,
               ProtobufCMessage **out) {
    MDB_val k = st_key_val(key), v;
    *out = NULL;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc != 0) {
        return rc;
    }
    return st_msg_decode(&v, d, out);
}

/* ---- digest ---- */

static void hash_chunk(crypto_hash_sha256_state *h, const void *p, size_t n) {
    uint8_t len[4];
    st_put_be32(len, (uint32_t)n);
    crypto_hash_sha256_update(h, len, sizeof(len));
    crypto_hash_sha256_update(h, p, n);
}

int st_store_digest(st_store *st, unsigned what, uint8_t out[32]) {
    MDB_txn *txn;
    int rc = st_store_txn_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    rc = st_store_digest_txn(txn, st, what, out);
    st_store_txn_end(st, txn, false);
    return rc;
}

int st_store_digest_txn(MDB_txn *txn, const st_store *st, unsigned what, uint8_t out[32]) {
    int rc = 0;
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    for (int i = 0; i < ST_DB_COUNT && rc == 0; i++) {
        hash_chunk(&h, db_names[i], strlen(db_names[i]));
        /* The data digest also leaves out the request-replay window: the nonces of signed
         * requests, which a refused command records too (ROLES.md §Requests). */
        if ((what & ST_DIGEST_DATA) && (i == ST_DB_REQUEST_NONCES || i == ST_DB_NONCE_TIMES)) {
            continue;
        }
        MDB_cursor *c;
        rc = mdb_cursor_open(txn, st->dbi[i], &c);
        if (rc != 0) {
            break;
        }
        MDB_val k, v;
        int crc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
        for (; crc == 0; crc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            /* The data digest leaves out where in the log the state is: applied_index,
             * applied_pos and applied_open (every key starting "applied_"). */
            if (i == ST_DB_META && (what & ST_DIGEST_DATA) &&
                ((k.mv_size >= 8 && memcmp(k.mv_data, "applied_", 8) == 0) ||
                 (k.mv_size == strlen(ST_META_AUTH_NEWEST) &&
                  memcmp(k.mv_data, ST_META_AUTH_NEWEST, k.mv_size) == 0))) {
                continue;
            }
            hash_chunk(&h, k.mv_data, k.mv_size);
            hash_chunk(&h, v.mv_data, v.mv_size);
        }
        mdb_cursor_close(c);
        if (crc != MDB_NOTFOUND) {
            rc = crc;
        }
    }
    if (rc != 0) {
        return st_code_from_mdb(rc);
    }
    crypto_hash_sha256_final(&h, out);
    return ST_OK;
}

/* ---- snapshots ---- */

typedef struct {
    MDB_env *env;
    int fd;
    int rc;
} copy_job;

static void *copy_main(void *arg) {
    copy_job *j = arg;
    j->rc = mdb_env_copyfd2(j->env, j->fd, MDB_CP_COMPACT);
    close(j->fd); /* the reader sees the end */
    return NULL;
}

/* The compacted copy is written by a thread into a pipe and read straight into one buffer
 * sized for the whole map's used pages: the pages never touched cost no memory, and the
 * state is held once, not in a file and again in memory. */
int st_store_snapshot(st_store *st, uint8_t **buf, size_t *len, char *err, size_t errlen) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        return st_fail(err, errlen, ST_EIO, "cannot create a snapshot pipe: %s", strerror(errno));
    }
    /* The copy runs in its own read transaction: under the shared lock, beside apply. */
    pthread_rwlock_rdlock(&st->lock);
    MDB_envinfo info;
    MDB_stat est;
    mdb_env_info(st->env, &info);
    mdb_env_stat(st->env, &est);
    size_t cap = ((size_t)info.me_last_pgno + 2) * est.ms_psize + 65536;
    uint8_t *b = malloc(cap);
    copy_job job = {.env = st->env, .fd = fds[1], .rc = 0};
    pthread_t th;
    bool started = b != NULL && pthread_create(&th, NULL, copy_main, &job) == 0;
    if (!started) {
        close(fds[1]);
    }
    size_t off = 0;
    bool overflow = false, read_err = false;
    while (started) {
        ssize_t r = read(fds[0], b + off, off < cap ? cap - off : 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            read_err = true;
            break;
        }
        if (r == 0) {
            if (off == cap) {
                /* Full buffer: is there more? Drain it and fail (cannot happen: a compact
                 * copy is never larger than the pages in use). */
                char extra;
                overflow = read(fds[0], &extra, 1) > 0;
            }
            break;
        }
        off += (size_t)r;
    }
    close(fds[0]); /* a writer still going gets EPIPE and stops */
    if (started) {
        pthread_join(th, NULL);
    }
    pthread_rwlock_unlock(&st->lock);
    if (b == NULL || !started) {
        free(b);
        return st_fail(err, errlen, ST_ENOMEM, "out of memory for a %zu-byte snapshot", cap);
    }
    if (job.rc != 0 || read_err || overflow) {
        free(b);
        return st_fail(err, errlen, ST_EIO, "cannot copy the state for a snapshot: %s",
                       job.rc     ? mdb_strerror(job.rc)
                       : overflow ? "larger than the map's pages in use"
                                  : strerror(errno));
    }
    *buf = b;
    *len = off;
    return ST_OK;
}

static int write_file(const char *path, const uint8_t *buf, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -1;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Opens a candidate data file read-only and checks it is a Strata state of our format. */
static int check_candidate(const char *path, size_t len, char *err, size_t errlen) {
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    int rc = mdb_env_create(&env);
    if (rc == 0) {
        rc = mdb_env_set_maxdbs(env, ST_DB_COUNT + 4);
    }
    if (rc == 0) {
        rc = mdb_env_set_mapsize(env, len + ((size_t)1 << 20));
    }
    if (rc == 0) {
        rc = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK, 0644);
    }
    if (rc == 0) {
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(txn, db_names[ST_DB_META], 0, &dbi);
    }
    uint64_t format = 0;
    if (rc == 0) {
        MDB_val k = {strlen(ST_META_FORMAT), (void *)ST_META_FORMAT}, v;
        rc = mdb_get(txn, dbi, &k, &v);
        if (rc == 0 && v.mv_size == 8) {
            format = st_get_be64(v.mv_data);
        }
    }
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    if (env != NULL) {
        mdb_env_close(env);
    }
    if (rc != 0) {
        return st_fail(err, errlen, ST_ECORRUPT, "the snapshot is not a readable state: %s",
                       mdb_strerror(rc));
    }
    if (format != ST_STORE_FORMAT) {
        return st_fail(err, errlen, ST_ECORRUPT,
                       "the snapshot holds format %llu but this build reads format %d",
                       (unsigned long long)format, ST_STORE_FORMAT);
    }
    return ST_OK;
}

int st_store_restore(st_store *st, const uint8_t *buf, size_t len, char *err, size_t errlen) {
    char tmp[sizeof(st->dir) + 32], data[sizeof(st->dir) + 32];
    snprintf(tmp, sizeof(tmp), "%s/restore.mdb", st->dir);
    snprintf(data, sizeof(data), "%s/data.mdb", st->dir);
    char lock[sizeof(st->dir) + 32];
    snprintf(lock, sizeof(lock), "%s/restore.mdb-lock", st->dir);
    if (write_file(tmp, buf, len) != 0) {
        int e = errno;
        unlink(tmp);
        return st_fail(err, errlen, ST_EIO, "cannot write the snapshot to %s: %s", tmp,
                       strerror(e));
    }
    int code = check_candidate(tmp, len, err, errlen);
    unlink(lock);
    if (code != ST_OK) {
        unlink(tmp);
        return code;
    }
    /* Exclusive: no transaction of this process is open while the file is swapped. */
    pthread_rwlock_wrlock(&st->lock);
    MDB_envinfo info;
    mdb_env_info(st->env, &info);
    size_t map = info.me_mapsize;
    while (map < len * 2) {
        map *= 2;
    }
    mdb_env_close(st->env);
    st->env = NULL;
    int rc = rename(tmp, data);
    if (rc == 0) {
        int dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    /* Reopen whatever data.mdb now holds: the snapshot, or on a failed rename the old state. */
    int e = errno;
    code = env_open(st, map, err, errlen);
    pthread_rwlock_unlock(&st->lock);
    if (rc != 0) {
        unlink(tmp);
        return st_fail(err, errlen, ST_EIO, "cannot move the snapshot into place: %s", strerror(e));
    }
    return code;
}
