# disk.cmake - a full disk and damaged files at start (disk.c): three stratad processes
# whose data directories are small tmpfs mounts in the test's own mount namespace. Needs
# root; without it the test exits 77 and ctest reports it skipped.
add_executable(fault_disk disk.c)
target_link_libraries(fault_disk PRIVATE st_cluster_harness)
add_dependencies(fault_disk stratad)
add_test(NAME fault_disk COMMAND fault_disk $<TARGET_FILE:stratad> ${PROJECT_SOURCE_DIR}/tests/data)
set_tests_properties(fault_disk PROPERTIES TIMEOUT 180 RESOURCE_LOCK strata_cluster
                                           SKIP_RETURN_CODE 77)
