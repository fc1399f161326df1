/* raft_trust.c - which key the Raft transport accepts for each node id (server/raft_trust.h):
 * a key pinned in the configuration, else the replicated roster's current key; an id in
 * neither only while no node is registered (with a note the transport logs); a node removed
 * from the roster refused. */
#include <string.h>

#include "core/error.h"
#include "server/raft_trust.h"
#include "tests/server/harness.h"

static int check(st_raft_trust *t, uint64_t id, const t_key *k, char *why) {
    why[0] = '\0';
    return st_raft_trust_check(t, id, k->pk, why, 512);
}

int main(void) {
    t_env e;
    t_open(&e, true, 0);
    st_raft_trust *t;
    CHECK(st_raft_trust_new(e.s, &t) == ST_OK);
    t_key n1, n2, n7, other;
    t_key_from_label(&n1, "node 1");
    t_key_from_label(&n2, "node 2");
    t_key_from_label(&n7, "node 7");
    t_key_from_label(&other, "someone else");
    char why[512];

    /* Nothing registered: an unknown node is accepted, with the note that says so. */
    CHECK(check(t, 1, &n1, why) == ST_OK);
    CHECK(strstr(why, "no node is registered yet") != NULL);

    /* A pinned key must match whatever the roster says. */
    CHECK(st_raft_trust_pin(t, 7, n7.pk) == ST_OK);
    CHECK(check(t, 7, &n7, why) == ST_OK && why[0] == '\0');
    CHECK(check(t, 7, &other, why) == ST_EAUTH);
    CHECK(strstr(why, "this node's configuration gives") != NULL);

    /* Registered: the roster's key and no other; unknown ids refused from now on. */
    st_apply_result r;
    CHECK_APPLY(t_set_member(&e, 1, "127.0.0.1:7101", "127.0.0.1:7001", n1.pk, NULL, &r), r, ST_OK);
    CHECK_APPLY(t_set_member(&e, 2, "127.0.0.1:7102", "127.0.0.1:7002", n2.pk, NULL, &r), r, ST_OK);
    CHECK(check(t, 1, &n1, why) == ST_OK && why[0] == '\0');
    CHECK(check(t, 1, &n2, why) == ST_EAUTH);
    CHECK(strstr(why, "the roster registers") != NULL);
    CHECK(check(t, 9, &other, why) == ST_EAUTH);
    CHECK(strstr(why, "node 9 (key ") != NULL);
    CHECK(strstr(why, "is not in the roster") != NULL);
    CHECK(check(t, 7, &n7, why) == ST_OK); /* pinned, though not registered */

    /* Removed from the roster: refused, even with its old key. */
    CHECK_APPLY(t_remove_member(&e, 2, NULL, &r), r, ST_OK);
    CHECK(check(t, 2, &n2, why) == ST_EAUTH);
    CHECK(strstr(why, "was removed from the roster") != NULL);

    st_raft_trust_free(t);
    t_close(&e);
    printf("ok: raft transport trust (pinned, roster, bootstrap window, removed)\n");
    return 0;
}
