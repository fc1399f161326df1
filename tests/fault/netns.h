/* netns.h - a private network for the partition test, made of Linux network namespaces with
 * `ip` (iproute2): a hub namespace holding a bridge, and one namespace per node joined to
 * the bridge by a veth pair (eth0 inside the node, v<i> on the hub's bridge), with the
 * address 10.X.Y.<i>/24 on eth0 (X.Y from the test's pid). Nothing in the test's own
 * namespace is touched: no interface, address or route.
 *
 * Names come from the pid: st<pid>-hub and st<pid>-n<i>. A link is cut by setting the hub
 * end of its veth pair down (the node keeps its address; its packets go nowhere, with no
 * reset, as when a cable or a switch port fails) and healed by setting it up again.
 *
 * The namespaces are deleted however the test ends: by tn_destroy, an atexit handler,
 * fatal-signal handlers (chained with any installed before or after, such as the cluster
 * harness's), and a watchdog process that deletes them when the test process is gone even
 * after SIGKILL.
 */
#ifndef STRATA_TESTS_FAULT_NETNS_H
#define STRATA_TESTS_FAULT_NETNS_H

#include <stdbool.h>
#include <stddef.h>

#define TN_MAX_NODES 5

typedef struct {
    int n;
    char hub[32];
    char node[TN_MAX_NODES + 1][32]; /* node i's namespace, 1..n */
    char host[TN_MAX_NODES + 1][16]; /* node i's address, 1..n */
} tn_net;

/* Whether this process can make network namespaces (root, `ip` found, a trial namespace
 * made and deleted); if not, why, into why. */
bool tn_usable(char *why, size_t len);
/* Makes the hub and n node namespaces (n <= TN_MAX_NODES); exits the test on failure. */
tn_net *tn_create(int n);
/* Cuts node id's link to the hub, or heals it. */
void tn_cut(tn_net *t, int id);
void tn_heal(tn_net *t, int id);
/* Deletes the namespaces (their nodes must be stopped or about to be) and frees t. */
void tn_destroy(tn_net *t);

#endif
