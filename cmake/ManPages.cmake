# Man pages policyd(8), policyctl(1), policyd.toml(5) and policyctl's bash completion, built by
# scripts/gen-man.py from the built binaries' --help (the CLI11 definitions) and the prose
# templates in docs/man/, so the pages list exactly the flags the binaries take. Gzipped -9n
# (no name or time stamp: reproducible) for installing.
#
#   build/man/policyd.8[.gz] policyctl.1[.gz] policyd.toml.5[.gz] policyctl.bash-completion
#
# Installed to share/man/man{1,5,8} and share/bash-completion/completions/policyctl. The target
# `man` is part of `all`. Checked by ctest ManPagesCoverEveryFlag and BashCompletionCoversEveryCommand
# (tests/package/).
find_program(POLICYD_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
find_program(POLICYD_PYTHON3 python3 REQUIRED)
find_program(POLICYD_GZIP gzip REQUIRED)

set(POLICYD_MAN_DIR "${PROJECT_BINARY_DIR}/man")
set(POLICYD_MAN_PAGES policyd.8 policyctl.1 policyd.toml.5)
set(man_templates "")
set(man_outputs "${POLICYD_MAN_DIR}/policyctl.bash-completion")
set(man_gzipped "")
foreach(page ${POLICYD_MAN_PAGES})
  list(APPEND man_templates "${PROJECT_SOURCE_DIR}/docs/man/${page}.in")
  list(APPEND man_outputs "${POLICYD_MAN_DIR}/${page}")
  list(APPEND man_gzipped "${POLICYD_MAN_DIR}/${page}.gz")
endforeach()

add_custom_command(
  OUTPUT ${man_outputs}
  COMMAND ${POLICYD_PYTHON3} ${PROJECT_SOURCE_DIR}/scripts/gen-man.py
          --policyd $<TARGET_FILE:policyd> --policyctl $<TARGET_FILE:policyctl>
          --templates ${PROJECT_SOURCE_DIR}/docs/man
          --changelog ${PROJECT_SOURCE_DIR}/packaging/deb/changelog --out ${POLICYD_MAN_DIR}
  DEPENDS policyd policyctl ${PROJECT_SOURCE_DIR}/scripts/gen-man.py ${man_templates}
          ${PROJECT_SOURCE_DIR}/packaging/deb/changelog
  COMMENT "Generating man pages and bash completion from --help"
  VERBATIM)
# The Debian changelog, gzipped like the pages: the package's changelog.gz.
set(changelog_gz "${PROJECT_BINARY_DIR}/packaging/changelog.gz")
add_custom_command(
  OUTPUT ${man_gzipped} ${changelog_gz}
  COMMAND ${POLICYD_GZIP} -9nkf ${POLICYD_MAN_PAGES}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/packaging
  COMMAND ${CMAKE_COMMAND} -E copy ${PROJECT_SOURCE_DIR}/packaging/deb/changelog
          ${PROJECT_BINARY_DIR}/packaging/changelog
  COMMAND ${POLICYD_GZIP} -9nf ${PROJECT_BINARY_DIR}/packaging/changelog
  DEPENDS ${man_outputs} ${PROJECT_SOURCE_DIR}/packaging/deb/changelog
  WORKING_DIRECTORY ${POLICYD_MAN_DIR}
  VERBATIM)
add_custom_target(man ALL DEPENDS ${man_outputs} ${man_gzipped} ${changelog_gz})

foreach(page ${POLICYD_MAN_PAGES})
  string(REGEX MATCH "[0-9]$" section "${page}")
  install(FILES "${POLICYD_MAN_DIR}/${page}.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man${section}")
endforeach()
install(FILES "${POLICYD_MAN_DIR}/policyctl.bash-completion"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" RENAME policyctl)
install(FILES packaging/deb/copyright "${changelog_gz}" DESTINATION "${CMAKE_INSTALL_DOCDIR}")
