# SPDX-License-Identifier: AGPL-3.0-or-later
# Tiers that hammer a real covoit server: kill -9 under write load, seat races, the authorization matrix.
# Each has a short form in the default run and a long one labelled slow (ctest -L slow).
# They run the built covoit binary as a process and speak HTTP to it (tiers/tier_http.h); the database is read
# with SQLite directly.
function(covoit_tier name)
  add_executable(${name} tiers/${name}.c)
  target_link_libraries(${name} PRIVATE PkgConfig::JANSSON SQLite::SQLite3 Threads::Threads)
  add_dependencies(${name} covoit)
  target_compile_definitions(${name} PRIVATE
    COVOIT_BIN="$<TARGET_FILE:covoit>"
    COVOIT_TEST_DATA="${COVOIT_TEST_DATA}"
    COVOIT_SCENARIOS="${COVOIT_SCENARIOS}"
    COVOIT_TMP="${CMAKE_CURRENT_BINARY_DIR}")
endfunction()

# name, label(s), timeout in seconds, then the command; the long forms give --name so that their files in the
# build directory are not the short forms' (ctest -j runs them side by side)
function(covoit_tier_test name labels timeout)
  add_test(NAME ${name} COMMAND ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT ${timeout})
endfunction()

covoit_tier(tier_crash)
covoit_tier_test(tier_crash tiers 120 tier_crash --kills 3)
covoit_tier_test(tier_crash_long "tiers;slow" 3600
  tier_crash --name tier_crash_long --kills 30 --min-ms 200 --max-ms 3000)

covoit_tier(tier_seats)
covoit_tier_test(tier_seats tiers 120 tier_seats --racers 20 --rounds 6 --two-car-rounds 2 --regular-rounds 2)
covoit_tier_test(tier_seats_long "tiers;slow" 3600
  tier_seats --name tier_seats_long --racers 56 --rounds 200 --two-car-rounds 40 --regular-rounds 40)
# the same races split over two servers on one PostgreSQL database (the tier starts its own server)
covoit_tier_test(tier_seats_pg "tiers;pg" 180
  tier_seats --name tier_seats_pg --pg 1 --servers 2 --racers 20 --rounds 6 --two-car-rounds 4 --regular-rounds 2)
set_tests_properties(tier_seats_pg PROPERTIES SKIP_RETURN_CODE 77)
covoit_tier_test(tier_seats_pg_long "tiers;pg;slow" 3600
  tier_seats --name tier_seats_pg_long --pg 1 --servers 2 --racers 56 --rounds 200 --two-car-rounds 40
  --regular-rounds 40)
set_tests_properties(tier_seats_pg_long PROPERTIES SKIP_RETURN_CODE 77)

covoit_tier(tier_authz)
covoit_tier_test(tier_authz tiers 120 tier_authz)
covoit_tier_test(tier_authz_long "tiers;slow" 600 tier_authz --name tier_authz_long --bearer 1)

# partner operators: the outbox of booking events across a kill -9, two servers federating (a small partner in
# the tier receives the events: libmicrohttpd)
covoit_tier(tier_partners)
target_link_libraries(tier_partners PRIVATE PkgConfig::MHD)
covoit_tier_test(tier_partners tiers 180 tier_partners)
