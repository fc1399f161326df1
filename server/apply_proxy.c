/* apply_proxy.c - AuthoriseProxy: an organiser records an owner's written proxy
 * authorisation (委托) for one vote. The proxy is another owner of the community; their
 * enrolled key may then sign ballots for the principal (apply_ballot.c), which count for
 * the principal's parts and are logged as proxy ballots. One authorisation per principal
 * and vote; the principal's own later ballot still replaces the proxy's (the last counts).
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "server/apply.h"

int st_load_proxy(MDB_txn *txn, const st_store *st, uint64_t vote_id, const char *principal,
                  pb_proxy **out) {
    *out = NULL;
    if (!st_id_ok(principal)) {
        return MDB_NOTFOUND;
    }
    st_key k = st_key_id_str(vote_id, principal);
    return st_msg_get(txn, st_store_dbi(st, ST_DB_PROXIES), &k,
                      &strata__internal__proxy_record__descriptor, (ProtobufCMessage **)out);
}

/* The owner is a voter of the vote: on its frozen roll when open, else on the current roll. */
static int owner_of_vote(st_apply_ctx *c, const pb_vote *v, const char *owner) {
    if (v->state == STRATA__INTERNAL__VOTE_STATE__VOTE_OPEN) {
        pb_voter *voter;
        int rc = st_load_voter(c->txn, c->store, v->id, owner, &voter);
        if (rc == 0) {
            st_pb_free(voter);
        }
        return rc;
    }
    return st_roll_has_owner(c->txn, c->store, v->community_id, owner);
}

static int check_proxy(st_apply_ctx *c, const Strata__Internal__AuthoriseProxy *b,
                       const pb_vote *v) {
    if (v->state != STRATA__INTERNAL__VOTE_STATE__VOTE_DRAFT &&
        v->state != STRATA__INTERNAL__VOTE_STATE__VOTE_NOTICED &&
        v->state != STRATA__INTERNAL__VOTE_STATE__VOTE_OPEN) {
        return st_refuse(c, ST_ESTATE, "vote %llu is %s; proxies are authorised before it closes",
                         (unsigned long long)v->id, st_vote_state_name(st_vote_state_of(v)));
    }
    if (!st_id_ok(b->principal_owner_id) || !st_id_ok(b->proxy_owner_id)) {
        return st_refuse(c, ST_EINVAL,
                         "principal_owner_id and proxy_owner_id must be owner ids (1 to %d "
                         "bytes)",
                         ST_ID_MAX);
    }
    if (strcmp(b->principal_owner_id, b->proxy_owner_id) == 0) {
        return st_refuse(c, ST_EINVAL, "an owner cannot be their own proxy");
    }
    if (b->document_sha256.len != 32) {
        return st_refuse(c, ST_EINVAL,
                         "document_sha256 must be the SHA-256 (32 bytes) of the scanned written "
                         "authorisation; got %zu bytes",
                         b->document_sha256.len);
    }
    int rc = owner_of_vote(c, v, b->principal_owner_id);
    if (rc == MDB_NOTFOUND) {
        return st_refuse(c, ST_ENOENT, "principal \"%s\" is not a voter of vote %llu",
                         b->principal_owner_id, (unsigned long long)v->id);
    }
    if (rc != 0) {
        return rc;
    }
    rc = st_roll_has_owner(c->txn, c->store, v->community_id, b->proxy_owner_id);
    if (rc == MDB_NOTFOUND) {
        return st_refuse(c, ST_ENOENT,
                         "proxy \"%s\" is not an owner on community %llu's roll; a proxy who is "
                         "not an owner fills in a paper ballot instead",
                         b->proxy_owner_id, (unsigned long long)v->community_id);
    }
    if (rc != 0) {
        return rc;
    }
    pb_proxy *old;
    rc = st_load_proxy(c->txn, c->store, v->id, b->principal_owner_id, &old);
    if (rc == 0) {
        rc = st_refuse(c, ST_EEXIST, "owner %s has authorised %s as proxy in vote %llu already",
                       b->principal_owner_id, old->proxy_owner_id, (unsigned long long)v->id);
        st_pb_free(old);
        return rc;
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int st_apply_authorise_proxy(st_apply_ctx *c) {
    const Strata__Internal__AuthoriseProxy *b = c->cmd->authorise_proxy;
    pb_vote *v;
    int rc = st_load_vote(c->txn, c->store, b->vote_id, &v);
    if (rc == MDB_NOTFOUND) {
        return st_refuse(c, ST_ENOENT, "vote %llu does not exist; check the vote id",
                         (unsigned long long)b->vote_id);
    }
    if (rc != 0) {
        return rc;
    }
    if (!st_actor_organises(c, v->community_id)) {
        rc = st_refuse_not_organiser(c, v->community_id);
    } else if ((rc = check_proxy(c, b, v)) == 0 && c->res->code == ST_OK) {
        pb_proxy p = STRATA__INTERNAL__PROXY_RECORD__INIT;
        p.vote_id = v->id;
        p.principal_owner_id = b->principal_owner_id;
        p.proxy_owner_id = b->proxy_owner_id;
        p.document_sha256 = b->document_sha256;
        p.time_ms = c->cmd->time_ms;
        p.authorised_by = c->cmd->actor;
        p.index = c->index;
        st_key k = st_key_id_str(v->id, b->principal_owner_id);
        rc = st_msg_put(c->txn, st_dbi(c, ST_DB_PROXIES), &k, &p.base);
        if (rc == 0) {
            st_accept(c, v->id, "proxy.authorise", v->community_id, v->id,
                      "owner %s authorised %s as proxy in vote %llu", b->principal_owner_id,
                      b->proxy_owner_id, (unsigned long long)v->id);
        }
    }
    st_pb_free(v);
    return rc;
}
