# One helper per library and per test keeps targets uniform.
# Layering (dependencies point down only): base <- store <- engine <- pipeline <- api <- cli.
# A library may only list lower layers in DEPS; tests/layering_test.sh checks the includes.

set(NBAPROPS_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter)

function(nbaprops_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${NBAPROPS_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# POSTGRES: the test runs conformance cases on PostgreSQL too, so it needs the `pg` fixture (the
# throwaway cluster of tests/pg_cluster.sh).
function(nbaprops_test name)
  cmake_parse_arguments(ARG "POSTGRES" "" "SRCS;DEPS" ${ARGN})
  set(fixture "")
  if(ARG_POSTGRES)
    set(fixture FIXTURES_REQUIRED pg)
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE ${NBAPROPS_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    NBAPROPS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    NBAPROPS_BINARY="$<TARGET_FILE:nbaprops>")
  gtest_discover_tests(${name} WORKING_DIRECTORY ${PROJECT_BINARY_DIR} DISCOVERY_TIMEOUT 60
    PROPERTIES TIMEOUT 300 ENVIRONMENT "NBAPROPS_EXPORT_DIR=${PROJECT_BINARY_DIR}/test-exports" ${fixture})
endfunction()
