# -DPOLICYD_SANITIZE=address,undefined | thread: sanitizers for every target (scripts/
# ci-sanitizers.sh builds both; POLICYD_FUZZ implies address,undefined). The first report stops
# the process (-fno-sanitize-recover), so no test can pass over one.
if(NOT POLICYD_SANITIZE)
  return()
endif()
add_compile_options(-fsanitize=${POLICYD_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
add_link_options(-fsanitize=${POLICYD_SANITIZE})

if(POLICYD_SANITIZE MATCHES "thread")
  # TSan does not model std::atomic_thread_fence (gcc: -Wtsan), which Asio puts around handler
  # calls; Asio's own switch leaves those fences out. What TSan needs to see is still there: the
  # scheduler's mutex that hands each handler to the thread that runs it.
  add_compile_definitions(ASIO_DISABLE_FENCED_BLOCK)

  # Every executable carries tests/sanitizers/tsan.supp as its built-in suppressions
  # (__tsan_default_suppressions), so they hold in processes that do not inherit TSAN_OPTIONS too:
  # systemd-socket-activate, for one, starts policyd with a clean environment.
  set(supp_file "${PROJECT_SOURCE_DIR}/tests/sanitizers/tsan.supp")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${supp_file}")
  file(READ "${supp_file}" POLICYD_TSAN_SUPPRESSIONS)
  configure_file(cmake/tsan_suppressions.cc.in "${PROJECT_BINARY_DIR}/tsan_suppressions.cc" @ONLY)
  add_library(policyd_tsan_suppressions OBJECT "${PROJECT_BINARY_DIR}/tsan_suppressions.cc")
  link_libraries(policyd_tsan_suppressions)
endif()
