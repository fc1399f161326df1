/* verify_ballots.c - ballots.log of an audit bundle: every line parsed, then every record
 * decoded, its signature verified and its leaf hash computed on several threads (the
 * expensive part: one Ed25519 verification a ballot), then each line checked in order
 * against the vote, the roll and the keys, so that the first discrepancy is the first by
 * line whatever thread found it; last, the counts and the Merkle root against the signed
 * tree head. Also ballots.csv, the tally's view of the same ballots.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/audit/text.h"
#include "client/audit/verify_internal.h"
#include "core/error.h"
#include "core/roll_csv.h"
#include "crypto/merkle.h"
#include "crypto/request.h"
#include "crypto/text.h"

#define CHUNK 256
#define THREADS_MAX 256
/* A ballot's cast time is the owner's clock: the service accepts it up to five minutes
 * after its own time (docs/ROLES.md), so this is the slack a revocation allows. */
#define CAST_SLACK_MS ST_REQUEST_WINDOW_MS

enum { PARSE_OK = 0, PARSE_FIELDS, PARSE_SEQ, PARSE_LEAF, PARSE_OWNER };

/* ---- parsing the lines ---- */

static int parse_lines(st_audit_ctx *c) {
    char *buf = c->buf[VF_BALLOTS];
    size_t len = c->len[VF_BALLOTS];
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) {
        lines += buf[i] == '\n';
    }
    if (len > 0 && buf[len - 1] != '\n') {
        lines++;
    }
    c->ballot = calloc(lines > 0 ? lines : 1, sizeof(*c->ballot));
    if (c->ballot == NULL) {
        return st_audit__trouble(c, ST_ENOMEM, ST_BUNDLE_BALLOTS, "out of memory");
    }
    st_audit_lines l;
    st_audit__lines_init(&l, buf, len);
    bool bad = false;
    char *line;
    while ((line = st_audit__next_line(&l, &bad)) != NULL) {
        st_audit_ballot *b = &c->ballot[c->n_ballots++];
        char *f[5];
        if (bad || st_audit__fields(line, f, 4) != 4) {
            b->fields_ok = PARSE_FIELDS;
        } else if (!st_audit__u64(f[0], &b->seq)) {
            b->fields_ok = PARSE_SEQ;
        } else if (!st_audit__u64(f[1], &b->leaf)) {
            b->fields_ok = PARSE_LEAF;
        } else if (!st_owner_id_ok(f[2])) {
            b->fields_ok = PARSE_OWNER;
        } else {
            b->owner = f[2];
            b->b64 = f[3];
        }
    }
    return ST_OK;
}

/* ---- the threads ---- */

/* The bytes padded base64 of n characters stands for, or 0 when no length fits. */
static size_t b64_len(const char *s, size_t n) {
    if (n == 0 || n % 4 != 0) {
        return 0;
    }
    size_t pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
    return n / 4 * 3 - pad;
}

static void check_record(st_audit_ballot *b) {
    if (b->fields_ok != PARSE_OK) {
        return;
    }
    size_t n64 = strlen(b->b64);
    size_t n = b64_len(b->b64, n64);
    if (n == 0 || n > ST_RECORD_MAX_LEN) {
        b->b64_rc = ST_EINVAL;
        return;
    }
    b->raw = malloc(n);
    if (b->raw == NULL) {
        b->b64_rc = ST_ENOMEM;
        return;
    }
    b->raw_len = n;
    if ((b->b64_rc = st_b64_decode(b->raw, n, b->b64, n64, NULL, 0)) != ST_OK) {
        return;
    }
    if ((b->dec_rc = st_record_decode(&b->rec, b->raw, n, NULL, 0)) != ST_OK) {
        return;
    }
    b->sig_rc = st_record_verify(&b->rec, NULL, 0);
    st_merkle_leaf_hash(b->leaf_hash, b->raw, n);
}

typedef struct {
    st_audit_ctx *c;
    atomic_size_t next;
    atomic_size_t done;
} work;

static void run_chunks(work *w, bool report) {
    st_audit_ctx *c = w->c;
    for (;;) {
        size_t start = atomic_fetch_add(&w->next, CHUNK);
        if (start >= c->n_ballots) {
            return;
        }
        size_t end = start + CHUNK < c->n_ballots ? start + CHUNK : c->n_ballots;
        for (size_t i = start; i < end; i++) {
            check_record(&c->ballot[i]);
        }
        size_t done = atomic_fetch_add(&w->done, end - start) + (end - start);
        if (report && c->o->progress != NULL) {
            c->o->progress(c->o->ctx, "signatures", done, c->n_ballots);
        }
    }
}

static void *worker(void *arg) {
    run_chunks(arg, false);
    return NULL;
}

static unsigned thread_count(const st_audit_ctx *c) {
    unsigned t = c->o->threads;
    if (t == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        t = n > 0 ? (unsigned)n : 1;
    }
    if (t > THREADS_MAX) {
        t = THREADS_MAX;
    }
    size_t chunks = (c->n_ballots + CHUNK - 1) / CHUNK;
    if (chunks < t) {
        t = chunks > 0 ? (unsigned)chunks : 1;
    }
    return t;
}

/* Verifies every record, the calling thread included; returns the threads used. */
static unsigned verify_records(st_audit_ctx *c) {
    work w;
    w.c = c;
    atomic_init(&w.next, 0);
    atomic_init(&w.done, 0);
    unsigned want = thread_count(c);
    pthread_t tid[THREADS_MAX];
    unsigned started = 0;
    for (unsigned i = 1; i < want; i++) {
        if (pthread_create(&tid[started], NULL, worker, &w) != 0) {
            break; /* fewer threads: the work still gets done */
        }
        started++;
    }
    run_chunks(&w, true);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(tid[i], NULL);
    }
    return started + 1;
}

/* ---- duplicates: the same ballot nonce twice ---- */

typedef struct {
    const uint8_t *nonce;
    size_t index;
} nonce_ref;

static int nonce_cmp(const void *a, const void *b) {
    const nonce_ref *x = a, *y = b;
    int d = memcmp(x->nonce, y->nonce, ST_NONCE_LEN);
    return d != 0 ? d : (x->index > y->index) - (x->index < y->index);
}

static int mark_duplicates(st_audit_ctx *c) {
    nonce_ref *r = calloc(c->n_ballots > 0 ? c->n_ballots : 1, sizeof(*r));
    if (r == NULL) {
        return st_audit__trouble(c, ST_ENOMEM, ST_BUNDLE_BALLOTS, "out of memory");
    }
    size_t n = 0;
    for (size_t i = 0; i < c->n_ballots; i++) {
        const st_audit_ballot *b = &c->ballot[i];
        if (b->fields_ok == PARSE_OK && b->b64_rc == ST_OK && b->dec_rc == ST_OK) {
            r[n].nonce = b->rec.ballot.nonce;
            r[n++].index = i;
        }
    }
    qsort(r, n, sizeof(*r), nonce_cmp);
    for (size_t i = 1; i < n; i++) {
        if (memcmp(r[i].nonce, r[i - 1].nonce, ST_NONCE_LEN) == 0) {
            size_t first = c->ballot[r[i - 1].index].dup_of != 0 ? c->ballot[r[i - 1].index].dup_of
                                                                 : r[i - 1].index + 1;
            c->ballot[r[i].index].dup_of = first;
        }
    }
    free(r);
    return ST_OK;
}

/* ---- one line, in order ---- */

static const char *role_text(const st_audit_key *k, char *buf, size_t cap) {
    const char *role = st_bundle_role_name(k->role);
    if (k->role == ST_BUNDLE_ROLE_OWNER) {
        snprintf(buf, cap, "owner %s of community %llu", k->owner_id,
                 (unsigned long long)k->community_id);
    } else if (k->role == ST_BUNDLE_ROLE_ORGANISER) {
        snprintf(buf, cap, "an organiser of community %llu", (unsigned long long)k->community_id);
    } else {
        snprintf(buf, cap, "a %s", role);
    }
    return buf;
}

/* The signer the record's kind needs: role, owner (NULL: any) of this community. */
static int check_signer(st_audit_ctx *c, size_t line, const st_record *r, const st_audit_key *k,
                        const char *kid) {
    char who[160];
    bool paper = r->source == ST_SOURCE_PAPER;
    const char *owner = paper ? NULL : r->proxy ? r->proxy_owner_id : r->ballot.owner_id;
    int role = paper ? ST_BUNDLE_ROLE_ORGANISER : ST_BUNDLE_ROLE_OWNER;
    if (k->role != role || k->community_id != c->community_id ||
        (owner != NULL && strcmp(k->owner_id, owner) != 0)) {
        char want[160];
        if (paper) {
            snprintf(want, sizeof(want), "an organiser of community %llu (a paper ballot)",
                     (unsigned long long)c->community_id);
        } else {
            snprintf(want, sizeof(want), "%s %s of community %llu",
                     r->proxy ? "the proxy, owner" : "owner", owner,
                     (unsigned long long)c->community_id);
        }
        return st_audit__found(c, ST_BUNDLE_BALLOTS, line,
                               "%s's ballot is signed by key %s, which keys.txt (line %zu) "
                               "registers to %s, not to %s",
                               r->ballot.owner_id, kid, k->line, role_text(k, who, sizeof(who)),
                               want);
    }
    if (memcmp(k->public_key, r->pubkey, ST_SIGN_PK_LEN) != 0) {
        return st_audit__found(c, ST_BUNDLE_BALLOTS, line,
                               "the record's public key is not the one keys.txt (line %zu) lists "
                               "for key %s",
                               k->line, kid);
    }
    if (k->revoked_ms != 0 && r->ballot.cast_ms > k->revoked_ms + CAST_SLACK_MS) {
        return st_audit__found(c, ST_BUNDLE_BALLOTS, line,
                               "%s's ballot was cast at %llu ms, more than five minutes after its "
                               "key %s was revoked (%llu ms, keys.txt line %zu)",
                               r->ballot.owner_id, (unsigned long long)r->ballot.cast_ms, kid,
                               (unsigned long long)k->revoked_ms, k->line);
    }
    return ST_OK;
}

static int check_line(st_audit_ctx *c, size_t i) {
    const char *F = ST_BUNDLE_BALLOTS;
    size_t line = i + 1;
    const st_audit_ballot *b = &c->ballot[i];
    char msg[256];
    switch (b->fields_ok) {
    case PARSE_FIELDS:
        return st_audit__found(c, F, line,
                               "expected SEQ, LEAF_INDEX, OWNER_ID and RECORD (base64) separated "
                               "by TABs");
    case PARSE_SEQ:
        return st_audit__found(c, F, line, "the seq is not a decimal number");
    case PARSE_LEAF:
        return st_audit__found(c, F, line, "the leaf index is not a decimal number");
    case PARSE_OWNER:
        return st_audit__found(c, F, line, "the owner id is not 1-64 bytes of UTF-8");
    default:
        break;
    }
    if (b->seq != line) {
        if (i > 0 && c->ballot[i - 1].fields_ok == PARSE_OK && b->seq == c->ballot[i - 1].seq) {
            return st_audit__found(c, F, line, "seq %llu again: ballot %llu is duplicated",
                                   (unsigned long long)b->seq, (unsigned long long)b->seq);
        }
        return st_audit__found(c, F, line,
                               "seq %llu where %zu was expected: a ballot is missing, duplicated "
                               "or out of order",
                               (unsigned long long)b->seq, line);
    }
    if (b->leaf != i) {
        return st_audit__found(c, F, line, "leaf index %llu where %zu was expected",
                               (unsigned long long)b->leaf, i);
    }
    if (b->b64_rc == ST_ENOMEM) {
        return st_audit__trouble(c, ST_ENOMEM, F, "out of memory");
    }
    if (b->b64_rc != ST_OK) {
        return st_audit__found(c, F, line, "the record is not padded base64 of 1 to %d bytes",
                               ST_RECORD_MAX_LEN);
    }
    if (b->dec_rc != ST_OK) {
        st_record tmp;
        st_record_decode(&tmp, b->raw, b->raw_len, msg, sizeof(msg));
        return st_audit__found(c, F, line, "the record does not decode: %s", msg);
    }
    const st_record *r = &b->rec;
    const st_ballot *bal = &r->ballot;
    if (bal->vote_id != c->vote_id || bal->community_id != c->community_id) {
        return st_audit__found(c, F, line,
                               "the signed ballot is for vote %llu of community %llu, not vote "
                               "%llu of community %llu",
                               (unsigned long long)bal->vote_id,
                               (unsigned long long)bal->community_id,
                               (unsigned long long)c->vote_id, (unsigned long long)c->community_id);
    }
    if (strcmp(bal->owner_id, b->owner) != 0) {
        return st_audit__found(c, F, line, "the line names owner %s, but the signed ballot is %s's",
                               b->owner, bal->owner_id);
    }
    if (c->election) {
        if (bal->kind != ST_BALLOT_KIND_APPROVAL ||
            st_approvals_check(c->seats, (uint32_t)c->n_candidates, bal->approvals,
                               bal->n_approvals, msg, sizeof(msg)) != ST_OK) {
            return st_audit__found(c, F, line, "%s's ballot is not a valid election ballot: %s",
                                   bal->owner_id,
                                   bal->kind != ST_BALLOT_KIND_APPROVAL ? "it is a choice" : msg);
        }
    } else if (bal->kind != ST_BALLOT_KIND_CHOICE) {
        return st_audit__found(c, F, line,
                               "%s's ballot approves candidates, but matter %u is not "
                               "an election",
                               bal->owner_id, c->matter);
    }
    if (st_roll_find_voter(c->roll, bal->owner_id) < 0) {
        return st_audit__found(c, F, line, "owner %s is not on the frozen roll (roll.csv)",
                               bal->owner_id);
    }
    char kid[ST_KEY_ID_HEX_LEN + 1];
    st_hex_encode(kid, bal->key_id, ST_KEY_ID_LEN);
    const st_audit_key *k = st_audit__find_key(c, bal->key_id);
    if (k == NULL) {
        return st_audit__found(c, F, line,
                               "%s's ballot is signed by key %s, which keys.txt does "
                               "not list",
                               bal->owner_id, kid);
    }
    int rc = check_signer(c, line, r, k, kid);
    if (rc != ST_OK) {
        return rc;
    }
    if (b->sig_rc != ST_OK) {
        return st_audit__found(c, F, line,
                               "the signature of %s's ballot does not verify under key %s: the "
                               "record was altered or forged",
                               bal->owner_id, kid);
    }
    if (b->dup_of != 0) {
        char nonce[2 * ST_NONCE_LEN + 1];
        st_hex_encode(nonce, bal->nonce, ST_NONCE_LEN);
        return st_audit__found(c, F, line,
                               "the same ballot as line %zu (nonce %s): a ballot is duplicated "
                               "or replayed",
                               b->dup_of, nonce);
    }
    return ST_OK;
}

static int check_root(st_audit_ctx *c) {
    const char *F = ST_BUNDLE_BALLOTS;
    if (c->n_ballots != c->ballots) {
        return st_audit__found(c, F, 0, "%zu ballots, but MANIFEST counts %llu", c->n_ballots,
                               (unsigned long long)c->ballots);
    }
    if (c->n_ballots != c->sth.tree_size) {
        return st_audit__found(c, F, 0,
                               "%zu ballots, but the signed tree head (sth.txt) covers %llu: "
                               "ballots were %s",
                               c->n_ballots, (unsigned long long)c->sth.tree_size,
                               c->n_ballots < c->sth.tree_size ? "dropped" : "added");
    }
    st_merkle_frontier *fr = NULL;
    if (st_merkle_frontier_init(&fr) != ST_OK) {
        return st_audit__trouble(c, ST_ENOMEM, F, "out of memory");
    }
    for (size_t i = 0; i < c->n_ballots; i++) {
        st_merkle_frontier_append(fr, c->ballot[i].leaf_hash, NULL, NULL);
    }
    uint8_t root[32];
    st_merkle_frontier_root(fr, root);
    st_merkle_frontier_free(fr);
    if (memcmp(root, c->sth.root, sizeof(root)) != 0) {
        char a[65], b[65];
        st_hex_encode(a, root, 32);
        st_hex_encode(b, c->sth.root, 32);
        return st_audit__found(c, F, 0,
                               "the Merkle root of its %zu records is %s, but the signed tree head "
                               "(sth.txt) says %s: a record was changed, moved, added or dropped",
                               c->n_ballots, a, b);
    }
    return ST_OK;
}

int st_audit__check_ballots(st_audit_ctx *c) {
    int rc = parse_lines(c);
    if (rc != ST_OK) {
        return rc;
    }
    c->rep->threads = verify_records(c);
    rc = mark_duplicates(c);
    for (size_t i = 0; rc == ST_OK && i < c->n_ballots; i++) {
        rc = check_line(c, i);
    }
    c->rep->ballots = c->n_ballots;
    return rc != ST_OK ? rc : check_root(c);
}

/* ---- ballots.csv ---- */

/* The CSV field of s into out (as st_audit__csv_field writes it); false if it does not fit. */
static bool csv_field_text(const char *s, char *out, size_t cap) {
    FILE *f = fmemopen(out, cap, "w");
    if (f == NULL) {
        return false;
    }
    st_audit__csv_field(f, s);
    bool ok = ftell(f) < (long)cap - 1;
    fclose(f);
    return ok;
}

int st_audit__check_ballots_csv(st_audit_ctx *c) {
    if (c->election) {
        return ST_OK;
    }
    const char *F = ST_BUNDLE_BALLOTS_CSV;
    st_audit_lines l;
    st_audit__lines_init(&l, c->buf[VF_BALLOTS_CSV], c->len[VF_BALLOTS_CSV]);
    bool bad = false;
    char *line = st_audit__next_line(&l, &bad);
    if (line == NULL || bad || strcmp(line, ST_BALLOTS_CSV_HEADER) != 0) {
        return st_audit__found(c, F, 1, "the first line must be \"" ST_BALLOTS_CSV_HEADER "\"");
    }
    for (size_t i = 0; i < c->n_ballots; i++) {
        line = st_audit__next_line(&l, &bad);
        const st_ballot *bal = &c->ballot[i].rec.ballot;
        char field[160], want[200];
        if (!csv_field_text(bal->owner_id, field, sizeof(field))) {
            return st_audit__trouble(c, ST_ENOMEM, F, "cannot format an owner id");
        }
        snprintf(want, sizeof(want), "%s,%s", field, st_choice_name((st_choice)bal->choice));
        if (line == NULL || bad || strcmp(line, want) != 0) {
            return st_audit__found(c, F, i + 2,
                                   "expected \"%s\", the owner and choice of ballot seq %zu in "
                                   "ballots.log",
                                   want, i + 1);
        }
    }
    if (st_audit__next_line(&l, &bad) != NULL) {
        return st_audit__found(c, F, l.line, "more lines than ballots.log has ballots");
    }
    return ST_OK;
}
