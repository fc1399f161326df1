/* export.c - `strata audit export`: the audit bundle of a closed vote (docs/AUDIT.md), read
 * from the cluster and checked here before it is finished: the tree head must verify under
 * the roster's node keys, and the ballots streamed must hash to its root, so that a bundle on
 * disk is never one the cluster did not sign. The files are written by client/audit/.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/lib/internal.h"
#include "crypto/merkle.h"
#include "crypto/record.h"
#include "crypto/text.h"

#define NODES_MAX 64
#define PROGRESS_EVERY 1000

typedef struct {
    st_bundle_writer *w;
    st_merkle_frontier *log;
    uint8_t (*ids)[ST_KEY_ID_LEN]; /* the signing keys, as met */
    size_t n_ids, cap_ids;
    uint64_t n;
    st_export_progress_fn progress;
    void *ctx;
    uint64_t total;
    st_error *err;
    int rc;
} export_state;

static int keep_key(export_state *s, const uint8_t id[ST_KEY_ID_LEN]) {
    if (s->n_ids == s->cap_ids) {
        size_t cap = s->cap_ids ? s->cap_ids * 2 : 64;
        uint8_t(*n)[ST_KEY_ID_LEN] = realloc(s->ids, cap * ST_KEY_ID_LEN);
        if (n == NULL) {
            return ST_ENOMEM;
        }
        s->ids = n;
        s->cap_ids = cap;
    }
    memcpy(s->ids[s->n_ids++], id, ST_KEY_ID_LEN);
    return ST_OK;
}

static int one_ballot(void *ctx, const Strata__V1__Ballot *b) {
    export_state *s = ctx;
    char msg[300];
    st_record rec;
    if (b->record.len == 0) {
        s->rc = st__fail(s->err, ST_FAIL_REFUSED, ST_ECORRUPT,
                         "ballot seq %llu came without its signed record; the cluster must serve "
                         "Ballot.record to export a bundle",
                         (unsigned long long)b->seq);
        return 1;
    }
    if (st_record_decode(&rec, b->record.data, b->record.len, msg, sizeof(msg)) != ST_OK) {
        s->rc = st__fail(s->err, ST_FAIL_REFUSED, ST_ECORRUPT,
                         "ballot seq %llu: the record does not decode: %s",
                         (unsigned long long)b->seq, msg);
        return 1;
    }
    int rc = st_bundle_add_ballot(s->w, b->seq, b->leaf_index, b->owner_id, b->record.data,
                                  b->record.len, msg, sizeof(msg));
    if (rc != ST_OK) {
        s->rc = st__fail(s->err, ST_FAIL_REFUSED, ST_ECORRUPT, "%s", msg);
        return 1;
    }
    uint8_t leaf[32];
    st_merkle_leaf_hash(leaf, b->record.data, b->record.len);
    if (st_merkle_frontier_append(s->log, leaf, NULL, NULL) != ST_OK ||
        keep_key(s, rec.ballot.key_id) != ST_OK) {
        s->rc = st__fail(s->err, ST_FAIL_LOCAL, ST_ENOMEM, "out of memory");
        return 1;
    }
    s->n++;
    if (s->progress != NULL && s->n % PROGRESS_EVERY == 0) {
        s->progress(s->ctx, "ballots", s->n, s->total);
    }
    return 0;
}

static int id_cmp(const void *a, const void *b) {
    return memcmp(a, b, ST_KEY_ID_LEN);
}

/* GetKey for every distinct signing key, into the bundle. */
static int export_keys(st_client *c, export_state *s, st_export_result *out) {
    qsort(s->ids, s->n_ids, ST_KEY_ID_LEN, id_cmp);
    for (size_t i = 0; i < s->n_ids; i++) {
        if (i > 0 && memcmp(s->ids[i], s->ids[i - 1], ST_KEY_ID_LEN) == 0) {
            continue;
        }
        Strata__V1__Key *k = NULL;
        int rc = st_get_key(c, s->ids[i], &k, s->err);
        if (rc != ST_OK) {
            return rc;
        }
        uint8_t id[ST_KEY_ID_LEN];
        st_bundle_key bk;
        memset(&bk, 0, sizeof(bk));
        if (k->public_key.len == ST_SIGN_PK_LEN) {
            memcpy(bk.public_key, k->public_key.data, ST_SIGN_PK_LEN);
        }
        st_key_id(id, bk.public_key);
        if (memcmp(id, s->ids[i], ST_KEY_ID_LEN) != 0) {
            strata__v1__key__free_unpacked(k, NULL);
            return st__fail(s->err, ST_FAIL_REFUSED, ST_ECORRUPT,
                            "the cluster answered a key that is not the one asked for");
        }
        memcpy(bk.key_id, id, ST_KEY_ID_LEN);
        bk.role = (int)k->role;
        bk.community_id = k->community_id;
        bk.owner_id = k->owner_id;
        bk.registered_ms = k->registered_ms;
        bk.revoked_ms = k->revoked_ms;
        char msg[256];
        rc = st_bundle_add_key(s->w, &bk, msg, sizeof(msg));
        strata__v1__key__free_unpacked(k, NULL);
        if (rc != ST_OK) {
            return st__fail(s->err, ST_FAIL_REFUSED, ST_ECORRUPT, "%s", msg);
        }
        out->keys++;
        if (s->progress != NULL && out->keys % PROGRESS_EVERY == 0) {
            s->progress(s->ctx, "keys", out->keys, s->n_ids);
        }
    }
    return ST_OK;
}

/* The vote and its frozen roll; refuses a vote that is not final. */
static int read_vote(st_client *c, uint64_t vote_id, Strata__V1__Vote **v,
                     Strata__V1__ListUnitsResponse **units, st_error *err) {
    int rc = st_get_vote(c, vote_id, false, v, NULL, err);
    if (rc != ST_OK) {
        return rc;
    }
    int state = (int)(*v)->state;
    if (state != STRATA__V1__VOTE_STATE__VOTE_CLOSED &&
        state != STRATA__V1__VOTE_STATE__VOTE_PUBLISHED) {
        return st__fail(err, ST_FAIL_LOCAL, ST_ESTATE,
                        "vote %llu is %s: a bundle is of a closed vote, export it after the vote "
                        "closes",
                        (unsigned long long)vote_id, st_vote_state_name(state));
    }
    rc = st_list_units(c, (*v)->community_id, units, err);
    if (rc == ST_OK && (*units)->roll_version != (*v)->roll_version) {
        rc = st__fail(err, ST_FAIL_LOCAL, ST_ESTATE,
                      "community %llu's roll is at version %llu now, but vote %llu counted "
                      "against version %llu; the service does not serve older rolls, so this "
                      "vote cannot be exported with its frozen roll",
                      (unsigned long long)(*v)->community_id,
                      (unsigned long long)(*units)->roll_version, (unsigned long long)vote_id,
                      (unsigned long long)(*v)->roll_version);
    }
    return rc;
}

/* The tree head, verified against the roster's keys, into raw and *sth. */
static int read_head(st_client *c, uint64_t vote_id, const st_trusted_key *keys, size_t n,
                     uint8_t raw[ST_STH_LEN], st_sth *sth, st_error *err) {
    Strata__V1__TreeHead *h = NULL;
    int rc = st_get_tree_head(c, vote_id, &h, err);
    if (rc != ST_OK) {
        return rc;
    }
    if (h->sth.len != ST_STH_LEN) {
        rc = st__fail(err, ST_FAIL_REFUSED, ST_ECORRUPT, "the tree head has %zu bytes, not %d",
                      h->sth.len, ST_STH_LEN);
    } else {
        memcpy(raw, h->sth.data, ST_STH_LEN);
        rc = st_verify_tree_head(raw, ST_STH_LEN, keys, n, sth, err);
    }
    strata__v1__tree_head__free_unpacked(h, NULL);
    if (rc == ST_OK && sth->vote_id != vote_id) {
        rc = st__fail(err, ST_FAIL_REFUSED, ST_ECORRUPT, "asked for vote %llu's head, got %llu's",
                      (unsigned long long)vote_id, (unsigned long long)sth->vote_id);
    }
    return rc;
}

static int write_bundle(st_client *c, const Strata__V1__Vote *v,
                        const Strata__V1__ListUnitsResponse *units, const st_trusted_key *keys,
                        size_t nkeys, const uint8_t raw[ST_STH_LEN], export_state *s,
                        st_export_result *out) {
    char msg[600];
    int rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < units->n_units; i++) {
        const Strata__V1__Unit *u = units->units[i];
        st_unit su = {u->unit,
                      u->building,
                      u->area_centi_m2,
                      u->owner_id,
                      u->owner_name,
                      u->status == STRATA__V1__UNIT_STATUS__UNIT_DEVELOPER_UNSOLD
                          ? ST_UNIT_DEVELOPER_UNSOLD
                          : ST_UNIT_OWNED};
        rc = st_bundle_add_unit(s->w, &su, msg, sizeof(msg));
    }
    if (rc != ST_OK) {
        return st__fail(s->err, ST_FAIL_REFUSED, ST_ECORRUPT, "the roll: %s", msg);
    }
    out->units = units->n_units;
    s->rc = ST_OK;
    rc = st_export_ballots(c, v->id, one_ballot, s, NULL, s->err);
    if (rc != ST_OK) {
        return s->rc != ST_OK ? s->rc : rc;
    }
    out->ballots = s->n;
    uint8_t root[32];
    st_merkle_frontier_root(s->log, root);
    if (s->n != out->sth.tree_size || memcmp(root, out->sth.root, 32) != 0) {
        return st__fail(s->err, ST_FAIL_REFUSED, ST_ECORRUPT,
                        "the %llu ballots exported do not make the log the signed tree head "
                        "describes (%llu ballots): the cluster's answers disagree; report this "
                        "to the operator",
                        (unsigned long long)s->n, (unsigned long long)out->sth.tree_size);
    }
    if ((rc = export_keys(c, s, out)) != ST_OK) {
        return rc;
    }
    for (size_t i = 0; i < nkeys; i++) {
        st_bundle_add_node(s->w, keys[i].node_id, keys[i].pubkey, msg, sizeof(msg));
    }
    out->nodes = nkeys;
    st_result r;
    st_result_candidate cands[ST_CANDIDATES_MAX];
    st_result_of_vote(v, false, &r, cands);
    rc = st_bundle_set_sth(s->w, raw, msg, sizeof(msg));
    rc = rc ? rc : st_bundle_set_result(s->w, &r, msg, sizeof(msg));
    return rc == ST_OK ? ST_OK : st__fail(s->err, ST_FAIL_LOCAL, rc, "%s", msg);
}

int st_export_bundle(st_client *c, uint64_t vote_id, const char *dir,
                     st_export_progress_fn progress, void *ctx, st_export_result *out,
                     st_error *err) {
    memset(out, 0, sizeof(*out));
    Strata__V1__Vote *v = NULL;
    Strata__V1__ListUnitsResponse *units = NULL;
    st_trusted_key keys[NODES_MAX];
    size_t nkeys = 0;
    uint8_t raw[ST_STH_LEN];
    int rc = read_vote(c, vote_id, &v, &units, err);
    rc = rc ? rc : st_trusted_nodes(c, keys, NODES_MAX, &nkeys, err);
    rc = rc ? rc : read_head(c, vote_id, keys, nkeys, raw, &out->sth, err);
    export_state s;
    memset(&s, 0, sizeof(s));
    s.progress = progress;
    s.ctx = ctx;
    s.err = err;
    s.total = v != NULL ? v->ballot_count : 0;
    if (rc == ST_OK) {
        const char **names = NULL;
        if (v->n_candidates > 0 && (names = calloc(v->n_candidates, sizeof(char *))) == NULL) {
            rc = st__fail(err, ST_FAIL_LOCAL, ST_ENOMEM, "out of memory");
        }
        for (size_t i = 0; names != NULL && i < v->n_candidates; i++) {
            names[i] = v->candidates[i];
        }
        st_bundle_vote bv = {
            .vote_id = v->id,
            .community_id = v->community_id,
            .matter = v->matter,
            .title = v->title,
            .state = st_vote_state_name((int)v->state),
            .roll_version = v->roll_version,
            .seats = v->seats,
            .candidates = names,
            .n_candidates = v->n_candidates,
            .exported_ms = st__wall_ms(),
        };
        char msg[600];
        if (rc == ST_OK && (rc = st_bundle_create(dir, &bv, &s.w, msg, sizeof(msg))) != ST_OK) {
            rc = st__fail(err, ST_FAIL_LOCAL, rc, "%s", msg);
        }
        free(names);
    }
    if (rc == ST_OK && st_merkle_frontier_init(&s.log) != ST_OK) {
        rc = st__fail(err, ST_FAIL_LOCAL, ST_ENOMEM, "out of memory");
    }
    if (rc == ST_OK) {
        rc = write_bundle(c, v, units, keys, nkeys, raw, &s, out);
    }
    if (rc == ST_OK) {
        char msg[600];
        rc = st_bundle_finish(s.w, msg, sizeof(msg));
        s.w = NULL;
        if (rc != ST_OK) {
            st__fail(err, ST_FAIL_LOCAL, rc, "%s", msg);
            rmdir(dir);
        }
    } else if (s.w != NULL) {
        st_bundle_abort(s.w);
        rmdir(dir); /* only when nothing else is in it */
    }
    st_merkle_frontier_free(s.log);
    free(s.ids);
    if (v != NULL) {
        strata__v1__vote__free_unpacked(v, NULL);
    }
    if (units != NULL) {
        strata__v1__list_units_response__free_unpacked(units, NULL);
    }
    return rc;
}
