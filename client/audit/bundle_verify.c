/* bundle_verify.c - the offline verification of an audit bundle (bundle.h,
 * docs/AUDIT.md §Verification): MANIFEST and the files it lists (size and SHA-256), the node
 * keys and the final signed tree head, the keys, the frozen roll; then the ballots
 * (verify_ballots.c) and the recount against the published result (verify_result.c). The
 * first discrepancy ends the check and is reported with its file and line.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/audit/text.h"
#include "client/audit/verify_internal.h"
#include "core/error.h"
#include "core/roll_csv.h"
#include "crypto/text.h"

const char *const st_audit_file_names[VF_COUNT] = {
    ST_BUNDLE_ROLL,  ST_BUNDLE_BALLOTS, ST_BUNDLE_BALLOTS_CSV, ST_BUNDLE_KEYS,
    ST_BUNDLE_NODES, ST_BUNDLE_STH,     ST_BUNDLE_RESULT,
};

int st_audit__found(st_audit_ctx *c, const char *file, size_t line, const char *fmt, ...) {
    st_bundle_report *r = c->rep;
    snprintf(r->file, sizeof(r->file), "%s", file);
    r->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
    return ST_ECORRUPT;
}

int st_audit__trouble(st_audit_ctx *c, int code, const char *file, const char *msg) {
    snprintf(c->rep->file, sizeof(c->rep->file), "%s", file);
    c->rep->line = 0;
    snprintf(c->rep->message, sizeof(c->rep->message), "%s", msg);
    return code;
}

static int key_cmp(const void *a, const void *b) {
    return memcmp(((const st_audit_key *)a)->key_id, ((const st_audit_key *)b)->key_id,
                  ST_KEY_ID_LEN);
}

const st_audit_key *st_audit__find_key(const st_audit_ctx *c, const uint8_t id[ST_KEY_ID_LEN]) {
    st_audit_key probe;
    memset(&probe, 0, sizeof(probe));
    memcpy(probe.key_id, id, ST_KEY_ID_LEN);
    return bsearch(&probe, c->key, c->n_keys, sizeof(*c->key), key_cmp);
}

/* ---- MANIFEST ---- */

/* The value after "NAME " on a line, or NULL. */
static const char *after(const char *line, const char *name) {
    size_t n = strlen(name);
    return strncmp(line, name, n) == 0 && line[n] == ' ' ? line + n + 1 : NULL;
}

/* Reads "NAME NUMBER" into *out; a discrepancy otherwise. */
static int manifest_number(st_audit_ctx *c, st_audit_lines *l, const char *name, uint64_t *out) {
    bool bad = false;
    char *line = st_audit__next_line(l, &bad);
    const char *v = line != NULL && !bad ? after(line, name) : NULL;
    if (v == NULL || !st_audit__u64(v, out)) {
        return st_audit__found(c, ST_BUNDLE_MANIFEST, line != NULL ? l->line : l->line + 1,
                               "expected \"%s NUMBER\" (docs/AUDIT.md lists the lines in order)",
                               name);
    }
    return ST_OK;
}

static int manifest_text(st_audit_ctx *c, st_audit_lines *l, const char *name, char *out,
                         size_t cap) {
    bool bad = false;
    char *line = st_audit__next_line(l, &bad);
    const char *v = line != NULL && !bad ? after(line, name) : NULL;
    if (v == NULL || v[0] == '\0' || strlen(v) >= cap) {
        return st_audit__found(c, ST_BUNDLE_MANIFEST, line != NULL ? l->line : l->line + 1,
                               "expected \"%s TEXT\" (docs/AUDIT.md lists the lines in order)",
                               name);
    }
    memcpy(out, v, strlen(v) + 1);
    return ST_OK;
}

/* Checks one listed file's size and hash (read into c->buf). */
static int check_file(st_audit_ctx *c, int f, const char *hash, const char *size_s, size_t line) {
    uint64_t size = 0;
    if (strlen(hash) != 64 || strspn(hash, "0123456789abcdef") != 64 ||
        !st_audit__u64(size_s, &size)) {
        return st_audit__found(c, ST_BUNDLE_MANIFEST, line,
                               "expected \"file NAME SHA256 BYTES\" with 64 lowercase hex digits");
    }
    char msg[512];
    int rc =
        st_audit__read(c->dir, st_audit_file_names[f], &c->buf[f], &c->len[f], msg, sizeof(msg));
    if (rc == ST_EIO) {
        return st_audit__found(c, st_audit_file_names[f], 0,
                               "the file MANIFEST lists (line %zu) is missing or unreadable: %s",
                               line, msg);
    }
    if (rc != ST_OK) {
        return st_audit__trouble(c, rc, st_audit_file_names[f], msg);
    }
    char got[65];
    st_audit__sha256_hex(c->buf[f], c->len[f], got);
    if (c->len[f] != size || strcmp(got, hash) != 0) {
        return st_audit__found(c, ST_BUNDLE_MANIFEST, line,
                               "%s has %zu bytes and SHA-256 %s, but MANIFEST says %llu bytes and "
                               "%s: the file was changed after export",
                               st_audit_file_names[f], c->len[f], got, (unsigned long long)size,
                               hash);
    }
    return ST_OK;
}

static int check_manifest(st_audit_ctx *c) {
    char *text = NULL;
    size_t len = 0;
    char msg[512];
    int rc = st_audit__read(c->dir, ST_BUNDLE_MANIFEST, &text, &len, msg, sizeof(msg));
    if (rc == ST_EIO) {
        return st_audit__found(c, ST_BUNDLE_MANIFEST, 0, "no readable MANIFEST: %s", msg);
    }
    if (rc != ST_OK) {
        return st_audit__trouble(c, rc, ST_BUNDLE_MANIFEST, msg);
    }
    st_audit_lines l;
    st_audit__lines_init(&l, text, len);
    bool bad = false;
    char *line = st_audit__next_line(&l, &bad);
    if (line == NULL || bad || strcmp(line, ST_BUNDLE_FORMAT) != 0) {
        free(text);
        return st_audit__found(c, ST_BUNDLE_MANIFEST, 1,
                               "the first line must be \"" ST_BUNDLE_FORMAT "\"");
    }
    uint64_t matter = 0, seats = 0;
    char cls[16];
    rc = manifest_number(c, &l, "vote", &c->vote_id);
    rc = rc ? rc : manifest_number(c, &l, "community", &c->community_id);
    rc = rc ? rc : manifest_number(c, &l, "matter", &matter);
    if (rc == ST_OK && !st_matter_valid(matter <= 9 ? (int)matter : 0)) {
        rc = st_audit__found(c, ST_BUNDLE_MANIFEST, l.line, "matter %llu is not 1 to 9",
                             (unsigned long long)matter);
    }
    c->matter = (uint32_t)matter;
    c->election = matter == ST_MATTER_ELECTION;
    rc = rc ? rc : manifest_text(c, &l, "class", cls, sizeof(cls));
    if (rc == ST_OK && strcmp(cls, st_class_name(st_matter_class((int)matter))) != 0) {
        rc = st_audit__found(c, ST_BUNDLE_MANIFEST, l.line, "matter %u is %s, not %s", c->matter,
                             st_class_name(st_matter_class((int)matter)), cls);
    }
    rc = rc ? rc : manifest_text(c, &l, "title", c->title, sizeof(c->title));
    rc = rc ? rc : manifest_text(c, &l, "state", c->state, sizeof(c->state));
    if (rc == ST_OK && strcmp(c->state, "closed") != 0 && strcmp(c->state, "published") != 0) {
        rc = st_audit__found(c, ST_BUNDLE_MANIFEST, l.line,
                             "state \"%s\": only a closed or published vote is final", c->state);
    }
    rc = rc ? rc : manifest_number(c, &l, "roll_version", &c->roll_version);
    rc = rc ? rc : manifest_number(c, &l, "seats", &seats);
    c->seats = (uint32_t)seats;
    if (rc == ST_OK &&
        (c->election ? !st_seats_valid(seats <= 99 ? (uint32_t)seats : 0) : seats != 0)) {
        rc = st_audit__found(c, ST_BUNDLE_MANIFEST, l.line,
                             c->election ? "an election has 5 to 11 seats, an odd number"
                                         : "a matter vote has seats 0");
    }
    /* Candidates: "candidate INDEX NAME", indexes 0, 1, ... */
    while (rc == ST_OK) {
        if ((size_t)(l.end - l.p) < 10 || memcmp(l.p, "candidate ", 10) != 0) {
            break;
        }
        line = st_audit__next_line(&l, &bad);
        const char *v = !bad ? after(line, "candidate") : NULL;
        if (v == NULL) {
            rc = st_audit__found(c, ST_BUNDLE_MANIFEST, l.line, "a broken line");
            break;
        }
        char idx[24];
        snprintf(idx, sizeof(idx), "%zu ", c->n_candidates);
        if (!c->election || c->n_candidates == ST_BUNDLE_CANDIDATES_MAX ||
            strncmp(v, idx, strlen(idx)) != 0 || v[strlen(idx)] == '\0') {
            rc = st_audit__found(c, ST_BUNDLE_MANIFEST, l.line,
                                 "expected \"candidate %zu NAME\" (elections only, in order)",
                                 c->n_candidates);
            break;
        }
        if ((c->candidates[c->n_candidates] = strdup(v + strlen(idx))) == NULL) {
            rc = st_audit__trouble(c, ST_ENOMEM, ST_BUNDLE_MANIFEST, "out of memory");
            break;
        }
        c->n_candidates++;
    }
    if (rc == ST_OK && c->election && c->n_candidates == 0) {
        rc = st_audit__found(c, ST_BUNDLE_MANIFEST, l.line + 1,
                             "an election lists its candidates: \"candidate 0 NAME\", ...");
    }
    rc = rc ? rc : manifest_number(c, &l, "units", &c->units);
    rc = rc ? rc : manifest_number(c, &l, "owners", &c->owners);
    rc = rc ? rc : manifest_number(c, &l, "total_area", &c->total_area);
    rc = rc ? rc : manifest_number(c, &l, "ballots", &c->ballots);
    rc = rc ? rc : manifest_number(c, &l, "keys", &c->keys);
    rc = rc ? rc : manifest_number(c, &l, "nodes", &c->nodes);
    rc = rc ? rc : manifest_number(c, &l, "tree_size", &c->tree_size);
    rc = rc ? rc : manifest_number(c, &l, "exported_ms", &c->exported_ms);
    for (int f = 0; rc == ST_OK && f < VF_COUNT; f++) {
        if (f == VF_BALLOTS_CSV && c->election) {
            continue;
        }
        line = st_audit__next_line(&l, &bad);
        const char *v = line != NULL && !bad ? after(line, "file") : NULL;
        char *fields[4] = {NULL, NULL, NULL, NULL};
        char copy[256];
        size_t n = 0;
        if (v != NULL && strlen(v) < sizeof(copy)) {
            memcpy(copy, v, strlen(v) + 1);
            for (char *p = strtok(copy, " "); p != NULL && n < 4; p = strtok(NULL, " ")) {
                fields[n++] = p;
            }
        }
        if (n != 3 || strcmp(fields[0], st_audit_file_names[f]) != 0) {
            rc = st_audit__found(c, ST_BUNDLE_MANIFEST, line != NULL ? l.line : l.line + 1,
                                 "expected \"file %s SHA256 BYTES\"", st_audit_file_names[f]);
            break;
        }
        c->listed[f] = true;
        rc = check_file(c, f, fields[1], fields[2], l.line);
    }
    if (rc == ST_OK && (line = st_audit__next_line(&l, &bad)) != NULL) {
        rc = st_audit__found(c, ST_BUNDLE_MANIFEST, l.line, "unexpected line after the files");
    }
    free(text);
    c->rep->vote_id = c->vote_id;
    c->rep->community_id = c->community_id;
    c->rep->matter = c->matter;
    return rc;
}

/* ---- nodes.txt and sth.txt ---- */

static int check_nodes(st_audit_ctx *c) {
    const char *F = ST_BUNDLE_NODES;
    st_audit_lines l;
    st_audit__lines_init(&l, c->buf[VF_NODES], c->len[VF_NODES]);
    c->node_keys = calloc(c->nodes > 0 ? c->nodes : 1, sizeof(*c->node_keys));
    if (c->node_keys == NULL) {
        return st_audit__trouble(c, ST_ENOMEM, F, "out of memory");
    }
    bool bad = false;
    char *line;
    while ((line = st_audit__next_line(&l, &bad)) != NULL) {
        char *f[3];
        char msg[128];
        if (bad || st_audit__fields(line, f, 2) != 2) {
            return st_audit__found(c, F, l.line, "expected \"NODE_ID<TAB>PUBLIC_KEY\"");
        }
        if (c->n_node_keys == c->nodes) {
            return st_audit__found(c, F, l.line, "more node keys than the %llu MANIFEST counts",
                                   (unsigned long long)c->nodes);
        }
        st_trusted_key *k = &c->node_keys[c->n_node_keys];
        if (!st_audit__u64(f[0], &k->node_id) || k->node_id == 0) {
            return st_audit__found(c, F, l.line, "node id \"%s\" is not a number from 1", f[0]);
        }
        if (st_b64_decode(k->pubkey, ST_SIGN_PK_LEN, f[1], strlen(f[1]), msg, sizeof(msg)) !=
            ST_OK) {
            return st_audit__found(c, F, l.line, "the public key is not 32 bytes of base64: %s",
                                   msg);
        }
        c->n_node_keys++;
    }
    if (c->n_node_keys != c->nodes || c->nodes == 0) {
        return st_audit__found(c, F, 0,
                               "%zu node keys, but MANIFEST counts %llu (and at least "
                               "one is needed)",
                               c->n_node_keys, (unsigned long long)c->nodes);
    }
    c->rep->nodes = c->n_node_keys;
    return ST_OK;
}

static int check_sth(st_audit_ctx *c) {
    const char *F = ST_BUNDLE_STH;
    st_audit_lines l;
    st_audit__lines_init(&l, c->buf[VF_STH], c->len[VF_STH]);
    bool bad = false;
    char *line = st_audit__next_line(&l, &bad);
    uint8_t raw[ST_STH_LEN];
    char msg[256];
    if (line == NULL || bad ||
        st_b64_decode(raw, sizeof(raw), line, strlen(line), msg, sizeof(msg)) != ST_OK) {
        return st_audit__found(c, F, 1,
                               "expected one line: the base64 of the %d-byte signed "
                               "tree head",
                               ST_STH_LEN);
    }
    if (st_audit__next_line(&l, &bad) != NULL) {
        return st_audit__found(c, F, 2, "unexpected second line");
    }
    if (st_sth_decode(&c->sth, raw, sizeof(raw), msg, sizeof(msg)) != ST_OK) {
        return st_audit__found(c, F, 1, "the tree head does not decode: %s", msg);
    }
    if (c->sth.vote_id != c->vote_id) {
        return st_audit__found(c, F, 1, "the tree head is of vote %llu, not vote %llu",
                               (unsigned long long)c->sth.vote_id, (unsigned long long)c->vote_id);
    }
    if (c->sth.tree_size != c->tree_size) {
        return st_audit__found(c, F, 1, "the tree head covers %llu ballots, MANIFEST says %llu",
                               (unsigned long long)c->sth.tree_size,
                               (unsigned long long)c->tree_size);
    }
    if (st_sth_verify(&c->sth, c->node_keys, c->n_node_keys, msg, sizeof(msg)) != ST_OK) {
        return st_audit__found(c, F, 1,
                               "the tree head's signature by node %llu does not verify under the "
                               "keys of nodes.txt: %s",
                               (unsigned long long)c->sth.node_id, msg);
    }
    c->rep->sth = c->sth;
    return ST_OK;
}

/* ---- keys.txt ---- */

static int check_keys(st_audit_ctx *c) {
    const char *F = ST_BUNDLE_KEYS;
    st_audit_lines l;
    st_audit__lines_init(&l, c->buf[VF_KEYS], c->len[VF_KEYS]);
    c->key = calloc(c->keys > 0 ? c->keys : 1, sizeof(*c->key));
    if (c->key == NULL) {
        return st_audit__trouble(c, ST_ENOMEM, F, "out of memory");
    }
    bool bad = false;
    char *line;
    while ((line = st_audit__next_line(&l, &bad)) != NULL) {
        char *f[8];
        char msg[128];
        if (bad || st_audit__fields(line, f, 7) != 7) {
            return st_audit__found(c, F, l.line,
                                   "expected KEY_ID, ROLE, COMMUNITY, OWNER, PUBLIC_KEY, "
                                   "REGISTERED_MS, REVOKED_MS separated by TABs");
        }
        if (c->n_keys == c->keys) {
            return st_audit__found(c, F, l.line, "more keys than the %llu MANIFEST counts",
                                   (unsigned long long)c->keys);
        }
        st_audit_key *k = &c->key[c->n_keys];
        k->line = l.line;
        k->role = st_bundle_role_parse(f[1]);
        if (st_hex_decode(k->key_id, ST_KEY_ID_LEN, f[0], strlen(f[0]), msg, sizeof(msg)) !=
                ST_OK ||
            strspn(f[0], "0123456789abcdef") != ST_KEY_ID_HEX_LEN) {
            return st_audit__found(c, F, l.line, "key id \"%s\" is not 32 lowercase hex digits",
                                   f[0]);
        }
        if (k->role == 0) {
            return st_audit__found(
                c, F, l.line, "role \"%s\" is not operator, supervisor, organiser or owner", f[1]);
        }
        if (!st_audit__u64(f[2], &k->community_id) || !st_audit__u64(f[5], &k->registered_ms) ||
            !st_audit__u64(f[6], &k->revoked_ms)) {
            return st_audit__found(c, F, l.line, "community and times must be decimal numbers");
        }
        bool scoped = k->role == ST_BUNDLE_ROLE_ORGANISER || k->role == ST_BUNDLE_ROLE_OWNER;
        bool owner = k->role == ST_BUNDLE_ROLE_OWNER;
        if ((k->community_id != 0) != scoped || (f[3][0] != '\0') != owner ||
            (owner && !st_owner_id_ok(f[3]))) {
            return st_audit__found(c, F, l.line, "a %s key has %s community and %s owner id", f[1],
                                   scoped ? "a" : "no", owner ? "an" : "no");
        }
        snprintf(k->owner_id, sizeof(k->owner_id), "%s", f[3]);
        if (st_b64_decode(k->public_key, ST_SIGN_PK_LEN, f[4], strlen(f[4]), msg, sizeof(msg)) !=
            ST_OK) {
            return st_audit__found(c, F, l.line, "the public key is not 32 bytes of base64: %s",
                                   msg);
        }
        uint8_t id[ST_KEY_ID_LEN];
        st_key_id(id, k->public_key);
        if (memcmp(id, k->key_id, ST_KEY_ID_LEN) != 0) {
            char want[ST_KEY_ID_HEX_LEN + 1];
            st_hex_encode(want, id, ST_KEY_ID_LEN);
            return st_audit__found(c, F, l.line,
                                   "key id %s is not the id of its public key (that is %s): the "
                                   "key was swapped",
                                   f[0], want);
        }
        c->n_keys++;
    }
    if (c->n_keys != c->keys) {
        return st_audit__found(c, F, 0, "%zu keys, but MANIFEST counts %llu", c->n_keys,
                               (unsigned long long)c->keys);
    }
    qsort(c->key, c->n_keys, sizeof(*c->key), key_cmp);
    for (size_t i = 1; i < c->n_keys; i++) {
        if (memcmp(c->key[i].key_id, c->key[i - 1].key_id, ST_KEY_ID_LEN) == 0) {
            size_t a = c->key[i - 1].line, b = c->key[i].line;
            return st_audit__found(c, F, a > b ? a : b, "the key of line %zu is listed again",
                                   a < b ? a : b);
        }
    }
    c->rep->keys = c->n_keys;
    return ST_OK;
}

/* ---- roll.csv ---- */

static int check_roll(st_audit_ctx *c) {
    char msg[600];
    int rc = st_roll_csv_parse(ST_BUNDLE_ROLL, c->buf[VF_ROLL], c->len[VF_ROLL], &c->roll, msg,
                               sizeof(msg));
    if (rc == ST_ENOMEM) {
        return st_audit__trouble(c, rc, ST_BUNDLE_ROLL, "out of memory");
    }
    if (rc != ST_OK) {
        /* core's message starts "roll.csv:LINE: "; keep the line as ours. */
        size_t line = 0;
        const char *p = msg + strlen(ST_BUNDLE_ROLL);
        if (*p == ':') {
            line = strtoul(p + 1, NULL, 10);
            p = strchr(p + 1, ':');
            p = p != NULL ? p + 1 : msg;
            while (*p == ' ') {
                p++;
            }
        } else {
            p = msg;
        }
        return st_audit__found(c, ST_BUNDLE_ROLL, line, "%s", p);
    }
    c->rep->units = st_roll_unit_count(c->roll);
    c->rep->owners = (size_t)st_roll_total_owners(c->roll);
    if (st_roll_unit_count(c->roll) != c->units ||
        (uint64_t)st_roll_total_owners(c->roll) != c->owners ||
        (uint64_t)st_roll_total_area(c->roll) != c->total_area) {
        return st_audit__found(c, ST_BUNDLE_ROLL, 0,
                               "%zu units, %lld owners, area %lld; MANIFEST says %llu units, %llu "
                               "owners, area %llu",
                               st_roll_unit_count(c->roll),
                               (long long)st_roll_total_owners(c->roll),
                               (long long)st_roll_total_area(c->roll), (unsigned long long)c->units,
                               (unsigned long long)c->owners, (unsigned long long)c->total_area);
    }
    return ST_OK;
}

/* ---- the whole check ---- */

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void ctx_free(st_audit_ctx *c) {
    for (int f = 0; f < VF_COUNT; f++) {
        free(c->buf[f]);
    }
    for (size_t i = 0; i < c->n_candidates; i++) {
        free(c->candidates[i]);
    }
    for (size_t i = 0; i < c->n_ballots; i++) {
        free(c->ballot[i].raw);
    }
    free(c->ballot);
    free(c->node_keys);
    free(c->key);
    st_roll_free(c->roll);
}

int st_bundle_verify(const char *dir, const st_bundle_verify_options *o, st_bundle_report *rep) {
    static const st_bundle_verify_options defaults = {0, NULL, NULL};
    memset(rep, 0, sizeof(*rep));
    st_audit_ctx c;
    memset(&c, 0, sizeof(c));
    c.dir = dir;
    c.o = o != NULL ? o : &defaults;
    c.rep = rep;
    uint64_t start = now_us();
    int rc = check_manifest(&c);
    rc = rc ? rc : check_nodes(&c);
    rc = rc ? rc : check_sth(&c);
    rc = rc ? rc : check_keys(&c);
    rc = rc ? rc : check_roll(&c);
    rc = rc ? rc : st_audit__check_ballots(&c);
    rc = rc ? rc : st_audit__check_ballots_csv(&c);
    rc = rc ? rc : st_audit__check_result(&c);
    rep->verify_us = now_us() - start;
    ctx_free(&c);
    return rc;
}
