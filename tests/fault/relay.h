/* relay.h - a TCP relay from 127.0.0.1:PORT of the test's own network namespace to
 * 127.0.0.1:PORT inside another namespace: how the partition test's gRPC client reaches a
 * node whose gRPC listens on its namespace's own loopback. The path never crosses the
 * network the test cuts, so the test can still talk to a node the cut has isolated, and the
 * node's gRPC address is the same string on both sides (tc_grpc_addr, the `strata-leader`
 * hints, the registered roster).
 *
 * One thread per relay, non-blocking sockets, a buffer per direction; each accepted
 * connection gets its own connection into the namespace (refused there: the client's
 * connection is closed, as a stopped node would close it). A close or reset on either side
 * closes both.
 */
#ifndef STRATA_TESTS_FAULT_RELAY_H
#define STRATA_TESTS_FAULT_RELAY_H

#include <stddef.h>

typedef struct tr_relay tr_relay;

/* Listens on 127.0.0.1:port here and relays to 127.0.0.1:port in netns; exits the test if
 * the port is taken. */
tr_relay *tr_relay_start(const char *netns, int port);
/* Connections relayed so far. */
size_t tr_relay_connections(tr_relay *r);
/* Stops the thread, closes every connection, frees r. */
void tr_relay_stop(tr_relay *r);

#endif
