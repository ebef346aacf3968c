# policyd_module(NAME SOURCES a.cc ... DEPS dep ...)
# One static library per module of src/, compiled with our warning flags. Headers are included as
# "<module>/<file>.h" relative to src/.
set(POLICYD_WARNINGS -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)

function(policyd_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(policyd_${name} STATIC ${M_SOURCES})
  target_include_directories(policyd_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(policyd_${name} PRIVATE ${POLICYD_WARNINGS})
  target_link_libraries(policyd_${name} PUBLIC ${M_DEPS})
  set_target_properties(policyd_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# policyd_executable(NAME SOURCES ... DEPS ...)
function(policyd_executable name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${M_SOURCES})
  target_compile_options(${name} PRIVATE ${POLICYD_WARNINGS})
  target_link_libraries(${name} PRIVATE ${M_DEPS})
endfunction()

# policyd_test(NAME SOURCES ... DEPS ...): a GoogleTest binary registered with ctest.
# SEPARATE: test files compiled on their own, outside the unity batches: their file-local names
# clash with another file's, or they replace operator new and delete (allocation counters).
function(policyd_test name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;LABELS;SEPARATE" ${ARGN})
  add_executable(${name} ${M_SOURCES})
  target_compile_options(${name} PRIVATE ${POLICYD_WARNINGS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${M_DEPS} GTest::gmock GTest::gtest_main)
  # A unity build: the test files of one binary are compiled in batches of up to 8, so the
  # headers every test file parses (gtest, gmock, the project's) are parsed once per batch, not
  # once per file (docs/tests.md, "CI time"). POLICYD_UNITY_TESTS=OFF compiles them one by one.
  if(POLICYD_UNITY_TESTS)
    set_target_properties(${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
    if(M_SEPARATE)
      set_source_files_properties(${M_SEPARATE} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
    endif()
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${M_LABELS}")
endfunction()
