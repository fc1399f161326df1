# partition.cmake - fault_partition: stratad nodes in their own network namespaces, the
# leader and then a follower cut off by taking their veth link down and healed again
# (partition.c; netns.c makes the namespaces, relay.c carries the test's gRPC into them).
# Needs root and `ip netns` (iproute2): exits 77, reported as skipped, when it cannot make
# namespaces.
add_executable(fault_partition partition.c netns.c relay.c)
target_link_libraries(fault_partition PRIVATE st_cluster_harness)
add_dependencies(fault_partition stratad)
add_test(NAME fault_partition
         COMMAND fault_partition $<TARGET_FILE:stratad> ${PROJECT_SOURCE_DIR}/tests/data)
set_tests_properties(fault_partition PROPERTIES TIMEOUT 180 SKIP_RETURN_CODE 77
                     RESOURCE_LOCK strata_cluster RUN_SERIAL TRUE)
