/* bundle_write.c - writing an audit bundle (bundle.h, docs/AUDIT.md): the files are created
 * exclusively in the bundle's directory and streamed as their parts come; st_bundle_finish
 * checks that every part was given, seals the roll to count its owners, and writes MANIFEST
 * last with the SHA-256 and size of every other file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/audit/bundle.h"
#include "client/audit/text.h"
#include "core/error.h"
#include "core/roll_csv.h"
#include "crypto/ballot.h"
#include "crypto/record.h"
#include "crypto/text.h"

enum { F_ROLL, F_BALLOTS, F_BALLOTS_CSV, F_KEYS, F_NODES, F_STH, F_RESULT, F_COUNT };

static const char *const file_names[F_COUNT] = {
    ST_BUNDLE_ROLL,  ST_BUNDLE_BALLOTS, ST_BUNDLE_BALLOTS_CSV, ST_BUNDLE_KEYS,
    ST_BUNDLE_NODES, ST_BUNDLE_STH,     ST_BUNDLE_RESULT,
};

struct st_bundle_writer {
    char *dir;
    uint64_t vote_id, community_id, roll_version, exported_ms;
    uint32_t matter, seats;
    char *title, *state;
    char **candidates;
    size_t n_candidates;
    FILE *f[F_COUNT]; /* NULL once closed, and ballots.csv for elections */
    bool election;
    st_roll *roll;
    size_t units, ballots, keys, nodes;
    bool have_sth, have_result;
    uint64_t tree_size;
};

const char *st_bundle_role_name(int role) {
    static const char *const names[] = {NULL, "operator", "supervisor", "organiser", "owner"};
    return role >= 1 && role <= 4 ? names[role] : NULL;
}

int st_bundle_role_parse(const char *name) {
    for (int r = 1; r <= 4; r++) {
        if (strcmp(st_bundle_role_name(r), name) == 0) {
            return r;
        }
    }
    return 0;
}

/* One line of text without control characters, 1..max bytes. */
static bool line_text_ok(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n == 0 || n > max) {
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return false;
        }
    }
    return true;
}

static void writer_free(st_bundle_writer *w, bool remove_files) {
    for (int i = 0; i < F_COUNT; i++) {
        if (w->f[i] != NULL) {
            fclose(w->f[i]);
        }
    }
    if (remove_files && w->dir != NULL) {
        char path[4096];
        for (int i = 0; i < F_COUNT; i++) {
            if (st_audit__path(w->dir, file_names[i], path, sizeof(path)) == ST_OK) {
                unlink(path);
            }
        }
        if (st_audit__path(w->dir, ST_BUNDLE_MANIFEST, path, sizeof(path)) == ST_OK) {
            unlink(path);
        }
    }
    for (size_t i = 0; i < w->n_candidates; i++) {
        free(w->candidates[i]);
    }
    free(w->candidates);
    st_roll_free(w->roll);
    free(w->title);
    free(w->state);
    free(w->dir);
    free(w);
}

void st_bundle_abort(st_bundle_writer *w) {
    if (w != NULL) {
        writer_free(w, true);
    }
}

/* Makes dir, or accepts it when it exists empty. */
static int make_dir(const char *dir, char *err, size_t errlen) {
    if (mkdir(dir, 0755) == 0) {
        return ST_OK;
    }
    int e = errno;
    if (e != EEXIST) {
        return st_fail(err, errlen, ST_EIO, "cannot create the directory %s: %s", dir, strerror(e));
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        return st_fail(err, errlen, ST_EEXIST,
                       "%s exists and is not a directory; choose a new "
                       "directory for the bundle",
                       dir);
    }
    char path[4096];
    for (int i = 0; i <= F_COUNT; i++) {
        const char *name = i < F_COUNT ? file_names[i] : ST_BUNDLE_MANIFEST;
        if (st_audit__path(dir, name, path, sizeof(path)) == ST_OK && access(path, F_OK) == 0) {
            return st_fail(err, errlen, ST_EEXIST,
                           "%s already holds %s; a bundle is never "
                           "overwritten: choose a new directory",
                           dir, name);
        }
    }
    return ST_OK;
}

int st_bundle_create(const char *dir, const st_bundle_vote *vote, st_bundle_writer **out, char *err,
                     size_t errlen) {
    if (dir == NULL || dir[0] == '\0' || strlen(dir) > 3000) {
        return st_fail(err, errlen, ST_EINVAL, "give the bundle's directory (at most 3000 bytes)");
    }
    if (!st_matter_valid((int)vote->matter) || vote->title == NULL ||
        !line_text_ok(vote->title, ST_BUNDLE_TITLE_MAX) || vote->state == NULL ||
        !line_text_ok(vote->state, 32)) {
        return st_fail(err, errlen, ST_EINVAL,
                       "the vote needs a matter 1-9 and a one-line title and state");
    }
    bool election = vote->matter == ST_MATTER_ELECTION;
    if (election && (vote->n_candidates == 0 || vote->n_candidates > ST_BUNDLE_CANDIDATES_MAX)) {
        return st_fail(err, errlen, ST_EINVAL, "an election needs 1 to %d candidates",
                       ST_BUNDLE_CANDIDATES_MAX);
    }
    for (size_t i = 0; election && i < vote->n_candidates; i++) {
        if (!line_text_ok(vote->candidates[i], ST_NAME_MAX)) {
            return st_fail(err, errlen, ST_EINVAL, "candidate %zu's name is not one line", i);
        }
    }
    int rc = make_dir(dir, err, errlen);
    if (rc != ST_OK) {
        return rc;
    }
    st_bundle_writer *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return st_fail(err, errlen, ST_ENOMEM, "out of memory");
    }
    w->vote_id = vote->vote_id;
    w->community_id = vote->community_id;
    w->roll_version = vote->roll_version;
    w->exported_ms = vote->exported_ms;
    w->matter = vote->matter;
    w->seats = election ? vote->seats : 0;
    w->election = election;
    w->dir = strdup(dir);
    w->title = strdup(vote->title);
    w->state = strdup(vote->state);
    rc = w->dir != NULL && w->title != NULL && w->state != NULL ? st_roll_new(&w->roll) : ST_ENOMEM;
    if (rc == ST_OK && election) {
        w->candidates = calloc(vote->n_candidates, sizeof(char *));
        rc = w->candidates != NULL ? ST_OK : ST_ENOMEM;
        for (size_t i = 0; rc == ST_OK && i < vote->n_candidates; i++) {
            w->candidates[i] = strdup(vote->candidates[i]);
            w->n_candidates = i + 1;
            rc = w->candidates[i] != NULL ? ST_OK : ST_ENOMEM;
        }
    }
    if (rc != ST_OK) {
        writer_free(w, false);
        return st_fail(err, errlen, ST_ENOMEM, "out of memory");
    }
    char path[4096];
    for (int i = 0; i < F_COUNT; i++) {
        if ((i == F_BALLOTS_CSV && election) || i == F_STH || i == F_RESULT) {
            continue; /* sth.txt and result.json are written whole when given */
        }
        if (st_audit__path(dir, file_names[i], path, sizeof(path)) != ST_OK ||
            (w->f[i] = fopen(path, "wxe")) == NULL) {
            int e = errno;
            writer_free(w, true);
            return st_fail(err, errlen, ST_EIO, "cannot create %s/%s: %s", dir, file_names[i],
                           strerror(e));
        }
    }
    fputs(ST_ROLL_CSV_HEADER "\n", w->f[F_ROLL]);
    if (!election) {
        fputs(ST_BALLOTS_CSV_HEADER "\n", w->f[F_BALLOTS_CSV]);
    }
    *out = w;
    return ST_OK;
}

int st_bundle_add_unit(st_bundle_writer *w, const st_unit *u, char *err, size_t errlen) {
    int rc = st_roll_add_unit(w->roll, u, err, errlen);
    if (rc != ST_OK) {
        return rc;
    }
    FILE *f = w->f[F_ROLL];
    st_audit__csv_field(f, u->unit);
    fputc(',', f);
    st_audit__csv_field(f, u->building != NULL ? u->building : "");
    fprintf(f, ",%lld,", (long long)u->area);
    st_audit__csv_field(f, u->owner_id);
    fputc(',', f);
    st_audit__csv_field(f, u->owner_name);
    fprintf(f, ",%s\n", u->status == ST_UNIT_DEVELOPER_UNSOLD ? "developer_unsold" : "owned");
    w->units++;
    return ST_OK;
}

int st_bundle_add_ballot(st_bundle_writer *w, uint64_t seq, uint64_t leaf_index,
                         const char *owner_id, const uint8_t *record, size_t len, char *err,
                         size_t errlen) {
    if (seq != w->ballots + 1 || leaf_index != w->ballots) {
        return st_fail(err, errlen, ST_EINVAL,
                       "ballot %zu of the log has seq %llu and leaf %llu; expected seq %zu, "
                       "leaf %zu (every ballot is one leaf, in order)",
                       w->ballots + 1, (unsigned long long)seq, (unsigned long long)leaf_index,
                       w->ballots + 1, w->ballots);
    }
    st_record rec;
    char msg[256];
    int rc = st_record_decode(&rec, record, len, msg, sizeof(msg));
    if (rc != ST_OK) {
        return st_fail(err, errlen, rc, "ballot seq %llu: the record does not decode: %s",
                       (unsigned long long)seq, msg);
    }
    if (strcmp(rec.ballot.owner_id, owner_id) != 0 || strchr(owner_id, '\t') != NULL) {
        return st_fail(err, errlen, ST_EINVAL, "ballot seq %llu: owner %s, but its record is %s's",
                       (unsigned long long)seq, owner_id, rec.ballot.owner_id);
    }
    char b64[ST_B64_LEN(ST_RECORD_MAX_LEN) + 1];
    st_b64_encode(b64, sizeof(b64), record, len);
    fprintf(w->f[F_BALLOTS], "%llu\t%llu\t%s\t%s\n", (unsigned long long)seq,
            (unsigned long long)leaf_index, owner_id, b64);
    if (!w->election) {
        st_audit__csv_field(w->f[F_BALLOTS_CSV], owner_id);
        fprintf(w->f[F_BALLOTS_CSV], ",%s\n",
                rec.ballot.kind == ST_BALLOT_KIND_CHOICE
                    ? st_choice_name((st_choice)rec.ballot.choice)
                    : "none");
    }
    w->ballots++;
    return ST_OK;
}

int st_bundle_add_key(st_bundle_writer *w, const st_bundle_key *k, char *err, size_t errlen) {
    const char *role = st_bundle_role_name(k->role);
    const char *owner = k->owner_id != NULL ? k->owner_id : "";
    if (role == NULL || strchr(owner, '\t') != NULL || strchr(owner, '\n') != NULL) {
        return st_fail(err, errlen, ST_EINVAL, "key %zu: unknown role %d or a bad owner id",
                       w->keys + 1, k->role);
    }
    char id[ST_KEY_ID_HEX_LEN + 1], pk[ST_B64_LEN(ST_SIGN_PK_LEN) + 1];
    st_hex_encode(id, k->key_id, ST_KEY_ID_LEN);
    st_b64_encode(pk, sizeof(pk), k->public_key, ST_SIGN_PK_LEN);
    fprintf(w->f[F_KEYS], "%s\t%s\t%llu\t%s\t%s\t%llu\t%llu\n", id, role,
            (unsigned long long)k->community_id, owner, pk, (unsigned long long)k->registered_ms,
            (unsigned long long)k->revoked_ms);
    w->keys++;
    return ST_OK;
}

int st_bundle_add_node(st_bundle_writer *w, uint64_t node_id, const uint8_t pk[ST_SIGN_PK_LEN],
                       char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    char b64[ST_B64_LEN(ST_SIGN_PK_LEN) + 1];
    st_b64_encode(b64, sizeof(b64), pk, ST_SIGN_PK_LEN);
    fprintf(w->f[F_NODES], "%llu\t%s\n", (unsigned long long)node_id, b64);
    w->nodes++;
    return ST_OK;
}

/* Writes a whole small file dir/name. */
static int write_whole(const st_bundle_writer *w, const char *name,
                       void (*fn)(FILE *, const void *), const void *arg, char *err,
                       size_t errlen) {
    char path[4096];
    FILE *f = NULL;
    if (st_audit__path(w->dir, name, path, sizeof(path)) != ST_OK ||
        (f = fopen(path, "wxe")) == NULL) {
        int e = errno;
        return st_fail(err, errlen, ST_EIO, "cannot create %s/%s: %s", w->dir, name, strerror(e));
    }
    fn(f, arg);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        return st_fail(err, errlen, ST_EIO, "cannot write %s", path);
    }
    return ST_OK;
}

static void sth_text(FILE *f, const void *arg) {
    char b64[ST_B64_LEN(ST_STH_LEN) + 1];
    st_b64_encode(b64, sizeof(b64), arg, ST_STH_LEN);
    fprintf(f, "%s\n", b64);
}

int st_bundle_set_sth(st_bundle_writer *w, const uint8_t sth[ST_STH_LEN], char *err,
                      size_t errlen) {
    st_sth s;
    char msg[256];
    if (w->have_sth) {
        return st_fail(err, errlen, ST_EEXIST, "the tree head is given twice");
    }
    if (st_sth_decode(&s, sth, ST_STH_LEN, msg, sizeof(msg)) != ST_OK) {
        return st_fail(err, errlen, ST_EINVAL, "the tree head does not decode: %s", msg);
    }
    int rc = write_whole(w, ST_BUNDLE_STH, sth_text, sth, err, errlen);
    if (rc == ST_OK) {
        w->have_sth = true;
        w->tree_size = s.tree_size;
    }
    return rc;
}

static void result_text(FILE *f, const void *arg) {
    st_result_json(f, arg);
}

int st_bundle_set_result(st_bundle_writer *w, const st_result *r, char *err, size_t errlen) {
    if (w->have_result) {
        return st_fail(err, errlen, ST_EEXIST, "the result is given twice");
    }
    int rc = write_whole(w, ST_BUNDLE_RESULT, result_text, r, err, errlen);
    w->have_result = rc == ST_OK;
    return rc;
}

/* Closes the streamed files, checking every write. */
static int close_files(st_bundle_writer *w, char *err, size_t errlen) {
    int rc = ST_OK;
    for (int i = 0; i < F_COUNT; i++) {
        if (w->f[i] == NULL) {
            continue;
        }
        int bad = fflush(w->f[i]) != 0 || ferror(w->f[i]) || fsync(fileno(w->f[i])) != 0;
        bad |= fclose(w->f[i]) != 0;
        w->f[i] = NULL;
        if (bad && rc == ST_OK) {
            rc = st_fail(err, errlen, ST_EIO, "cannot write %s/%s", w->dir, file_names[i]);
        }
    }
    return rc;
}

typedef struct {
    const st_bundle_writer *w;
    char hash[F_COUNT][65];
    size_t size[F_COUNT];
} manifest_args;

static void manifest_text(FILE *f, const void *arg) {
    const manifest_args *m = arg;
    const st_bundle_writer *w = m->w;
    fprintf(f, "%s\n", ST_BUNDLE_FORMAT);
    fprintf(f, "vote %llu\ncommunity %llu\nmatter %u\nclass %s\ntitle %s\nstate %s\n",
            (unsigned long long)w->vote_id, (unsigned long long)w->community_id, w->matter,
            st_class_name(st_matter_class((int)w->matter)), w->title, w->state);
    fprintf(f, "roll_version %llu\nseats %u\n", (unsigned long long)w->roll_version, w->seats);
    for (size_t i = 0; i < w->n_candidates; i++) {
        fprintf(f, "candidate %zu %s\n", i, w->candidates[i]);
    }
    fprintf(f,
            "units %zu\nowners %lld\ntotal_area %lld\nballots %zu\nkeys %zu\nnodes %zu\n"
            "tree_size %llu\nexported_ms %llu\n",
            w->units, (long long)st_roll_total_owners(w->roll),
            (long long)st_roll_total_area(w->roll), w->ballots, w->keys, w->nodes,
            (unsigned long long)w->tree_size, (unsigned long long)w->exported_ms);
    for (int i = 0; i < F_COUNT; i++) {
        if (i == F_BALLOTS_CSV && w->election) {
            continue;
        }
        fprintf(f, "file %s %s %zu\n", file_names[i], m->hash[i], m->size[i]);
    }
}

int st_bundle_finish(st_bundle_writer *w, char *err, size_t errlen) {
    int rc = close_files(w, err, errlen);
    if (rc == ST_OK && (!w->have_sth || !w->have_result)) {
        rc = st_fail(err, errlen, ST_EINVAL, "the bundle needs its tree head and its result");
    }
    if (rc == ST_OK && w->units == 0) {
        rc = st_fail(err, errlen, ST_EINVAL, "the bundle's roll has no units");
    }
    if (rc == ST_OK) {
        rc = st_roll_seal(w->roll, err, errlen);
    }
    manifest_args *m = NULL;
    if (rc == ST_OK && (m = calloc(1, sizeof(*m))) == NULL) {
        rc = st_fail(err, errlen, ST_ENOMEM, "out of memory");
    }
    for (int i = 0; rc == ST_OK && i < F_COUNT; i++) {
        if (i == F_BALLOTS_CSV && w->election) {
            continue;
        }
        char *buf = NULL;
        size_t len = 0;
        rc = st_audit__read(w->dir, file_names[i], &buf, &len, err, errlen);
        if (rc == ST_OK) {
            st_audit__sha256_hex(buf, len, m->hash[i]);
            m->size[i] = len;
            free(buf);
        }
    }
    if (rc == ST_OK) {
        m->w = w;
        rc = write_whole(w, ST_BUNDLE_MANIFEST, manifest_text, m, err, errlen);
    }
    free(m);
    writer_free(w, rc != ST_OK);
    return rc;
}
