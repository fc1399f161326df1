/* wire.h - raw gRPC calls for the hostile-client tests: any method path, any payload bytes
 * (or none at all), any metadata (a missing, repeated or malformed `strata-auth-bin`), and
 * every message of the answer collected with the final status. Built on gRPC C core with
 * its own channels, which send messages of any size (the cluster tests' client stops at 64
 * MiB on the client side, which would hide the server's own limit).
 *
 * One call at a time per thread; each call has its own completion queue.
 */
#ifndef STRATA_TESTS_HOSTILE_WIRE_H
#define STRATA_TESTS_HOSTILE_WIRE_H

#include <grpc/grpc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/cluster/harness.h"

typedef struct hw_client hw_client;

/* One metadata entry to send (value of len bytes; a key ending in -bin is binary). */
typedef struct {
    const char *key;
    const void *value;
    size_t len;
} hw_md;

typedef struct {
    grpc_status_code code;
    char details[1024];
    size_t n_msgs;
    uint8_t **msgs; /* malloc'd, each lens[i] bytes */
    size_t *lens;
} hw_result;

hw_client *hw_new(tc_cluster *c);
void hw_free(hw_client *h);

/* Calls method on node id: sends md, then body (len bytes) unless has_body is false, then
 * closes; collects every answered message and the status into *res (release with
 * hw_result_free). Returns the status code. */
int hw_call(hw_client *h, int id, const char *method, const void *body, size_t len, bool has_body,
            const hw_md *md, size_t n_md, hw_result *res, int timeout_ms);
void hw_result_free(hw_result *res);

#endif
