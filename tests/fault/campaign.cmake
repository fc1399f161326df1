# campaign.cmake - the seeded fault campaign (campaign.c): three stratad processes under a
# random schedule of kill -9, SIGSTOP and leadership transfers while owners cast signed
# ballots, then every acknowledged write, refusal and replica checked. 120 s of faults in
# the normal build, 75 s under ASan+UBSan (slower nodes, same checks). A long campaign is
# the same binary with a bigger --seconds (tests/fault/README.md).
add_executable(fault_campaign campaign.c)
target_link_libraries(fault_campaign PRIVATE st_cluster_harness)
add_dependencies(fault_campaign stratad)
if(STRATA_SANITIZE)
  set(ST_CAMPAIGN_SECONDS 75)
else()
  set(ST_CAMPAIGN_SECONDS 120)
endif()
# Setup, the final catch-up and the checks take well under a minute; the timeout leaves
# several times that.
math(EXPR ST_CAMPAIGN_TIMEOUT "${ST_CAMPAIGN_SECONDS} * 2 + 300")
add_test(NAME fault_campaign COMMAND fault_campaign $<TARGET_FILE:stratad> --seconds
                                     ${ST_CAMPAIGN_SECONDS})
set_tests_properties(fault_campaign PROPERTIES TIMEOUT ${ST_CAMPAIGN_TIMEOUT}
                                               RESOURCE_LOCK strata_cluster RUN_SERIAL TRUE)


# truncate.c: a deposed leader truncating its log while it takes a snapshot, then killed or
# stopped and restarted, 30 times; the replicas must not diverge (consensus/io_guard.h).
add_executable(fault_truncate truncate.c)
target_link_libraries(fault_truncate PRIVATE st_cluster_harness)
add_dependencies(fault_truncate stratad)
add_test(NAME fault_truncate COMMAND fault_truncate $<TARGET_FILE:stratad>)
set_tests_properties(fault_truncate PROPERTIES TIMEOUT 600 RESOURCE_LOCK strata_cluster
                                               RUN_SERIAL TRUE)
