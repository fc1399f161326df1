/* test_hostile.c - a hostile client against a real three-node cluster (issue #6): garbage
 * on the wire, attacked request envelopes, forged and misdirected ballots, misused
 * enrollment codes, and every RPC called by every role of docs/ROLES.md. Every answer's
 * gRPC status is checked exactly (and that its details say what is wrong); around every
 * batch of refused requests the leader's data digest must stay the same, and at the end
 * every node must hold the same data.
 *
 * Prints `figure: hostile inputs_tried=N rpc_role_cells=M states_compared=K mismatches=0`.
 * STRATA_TEST_VERBOSE=1 prints every answer.
 *
 * Usage: hostile_api STRATAD
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/core/check.h"
#include "tests/hostile/hostile.h"

int main(int argc, char **argv) {
    CHECK(argc >= 2);
    uint64_t t0 = tc_now_ms();
    tc_options o = {.stratad = argv[1]};
    h_ctx h;
    memset(&h, 0, sizeof(h));
    h.verbose = getenv("STRATA_TEST_VERBOSE") != NULL;
    h.n_nodes = H_NODES;
    h.c = tc_new(&o, "hostile");
    for (int i = 1; i <= H_NODES; i++) {
        tc_start(h.c, i, false);
    }
    h.cl = tc_client_new(h.c);
    h.hw = hw_new(h.c);
    CHECK(tc_wait_leader(h.cl, h.c, H_NODES, 15000) != 0);

    h_world_setup(&h);
    h_role_matrix(&h);
    h_wire_inputs(&h);
    h_envelopes(&h);
    h_ballots(&h);
    h_enrollment(&h);

    /* Every node holds the same data at the same index. */
    uint64_t index = 0;
    CHECK(tc_same_state(h.cl, h.c, H_NODES, 20000, &index));
    h.compared += H_NODES - 1;
    printf("all %d nodes hold the same data at index %llu\n", H_NODES, (unsigned long long)index);

    printf("figure: hostile inputs_tried=%lu rpc_role_cells=%lu states_compared=%lu "
           "mismatches=%lu seconds=%llu\n",
           h.inputs, h.cells, h.compared, h.mismatches,
           (unsigned long long)((tc_now_ms() - t0 + 500) / 1000));
    CHECK_EQ(h.mismatches, 0);
    tc_roll_free(&h.roll_a);
    tc_roll_free(&h.roll_b);
    tc_world_free(&h.w);
    hw_free(h.hw);
    tc_client_free(h.cl);
    tc_finish(h.c);
    printf("ok\n");
    return 0;
}
