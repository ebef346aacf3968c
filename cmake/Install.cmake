# What `cmake --install` puts where, besides the policyd and policyctl binaries (installed by
# src/daemon and src/cli). With the default prefix /usr/local and sysconfdir /etc:
#
#   lib/systemd/system/policyd.{service,socket}   units, ExecStart= and /etc paths adjusted
#   lib/sysusers.d/policyd.conf                   the policyd-clients group
#   share/man/man{1,5,8}/*.gz, share/bash-completion/completions/policyctl,
#   share/doc/policyd/{copyright,changelog.gz}    (cmake/ManPages.cmake)
#   /etc/policyd/policyd.toml                     example config, only when none is there yet
#   share/doc/policyd/examples/policyd.toml       the same example, always (compare on upgrades)
#   share/doc/policyd/examples/systemd/policyd.service.d/{publisher,follower}.conf
#                                                 fleet-mode drop-ins (copy one to /etc/systemd/
#                                                 system/policyd.service.d/ to use it)
#   share/doc/policyd/examples/nats/              NATS server config with least-privilege users
#   include/policyd/{client,base,model,resolve,check,wire}/*.h, lib/libpolicyd_*.a,
#   lib/pkgconfig/policyd-client.pc               the C++ client library (install component
#                                                 client-dev; everything else is "policyd")
#
# systemd searches /usr/local/lib/systemd/system and /usr/local/lib/sysusers.d as well as /usr/lib.

# --- systemd units --------------------------------------------------------------------------
# systemd/policyd.service names /usr/local/bin/policyd and /etc/policyd/ (what scripts/
# check-units.sh verifies); the installed copy names this install's paths. The binary's directory
# is resolved when installing, not when configuring, so `cmake --install build` (/usr/local/bin),
# `cmake --install build --prefix /usr` and the .deb (cpack installs with prefix /usr) each get
# an ExecStart= naming the policyd they install.
set(POLICYD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where the systemd units go, relative to the prefix (or absolute)")
set(POLICYD_SYSUSERS_DIR "lib/sysusers.d" CACHE STRING
    "Where the sysusers.d file goes, relative to the prefix (or absolute)")
set(POLICYD_CONFIG_DIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/policyd")

set(unit_out "${PROJECT_BINARY_DIR}/systemd")
foreach(unit policyd.service policyd.socket)
  set(unit_src "${PROJECT_SOURCE_DIR}/systemd/${unit}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${unit_src}")
  file(READ "${unit_src}" content)
  string(REPLACE "ExecStart=/usr/local/bin/policyd "
                 "ExecStart=POLICYD_INSTALL_BINDIR_PLACEHOLDER/policyd " content "${content}")
  string(REPLACE "/etc/policyd/" "${POLICYD_CONFIG_DIR}/" content "${content}")
  set(old "")
  if(EXISTS "${unit_out}/${unit}.in")
    file(READ "${unit_out}/${unit}.in" old)
  endif()
  if(NOT old STREQUAL content)
    file(WRITE "${unit_out}/${unit}.in" "${content}")
  endif()
endforeach()
install(CODE "
  set(POLICYD_INSTALL_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  if(NOT IS_ABSOLUTE \"\${POLICYD_INSTALL_BINDIR}\")
    set(POLICYD_INSTALL_BINDIR \"\${CMAKE_INSTALL_PREFIX}/\${POLICYD_INSTALL_BINDIR}\")
  endif()
  set(unit_dir \"${POLICYD_UNIT_DIR}\")
  if(NOT IS_ABSOLUTE \"\${unit_dir}\")
    set(unit_dir \"\${CMAKE_INSTALL_PREFIX}/\${unit_dir}\")
  endif()
  foreach(unit policyd.service policyd.socket)
    file(READ \"${unit_out}/\${unit}.in\" content)
    string(REPLACE \"POLICYD_INSTALL_BINDIR_PLACEHOLDER\" \"\${POLICYD_INSTALL_BINDIR}\"
                   content \"\${content}\")
    file(WRITE \"${unit_out}/install/\${unit}\" \"\${content}\")
    file(INSTALL DESTINATION \"\${unit_dir}\" TYPE FILE
         FILES \"${unit_out}/install/\${unit}\")
  endforeach()
")
install(FILES systemd/policyd-sysusers.conf DESTINATION "${POLICYD_SYSUSERS_DIR}"
        RENAME policyd.conf)

# --- configuration --------------------------------------------------------------------------
# Never overwrite an operator's config on upgrade or reinstall.
install(FILES examples/policyd.toml DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples")
install(FILES systemd/policyd.service.d/publisher.conf systemd/policyd.service.d/follower.conf
        DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples/systemd/policyd.service.d")
install(DIRECTORY examples/nats/ DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples/nats")
# (file(INSTALL) prefixes DESTDIR itself; the existence check must do it by hand.)
install(CODE "
  if(EXISTS \"\$ENV{DESTDIR}${POLICYD_CONFIG_DIR}/policyd.toml\")
    message(STATUS \"Keeping: \$ENV{DESTDIR}${POLICYD_CONFIG_DIR}/policyd.toml\")
  else()
    file(INSTALL DESTINATION \"${POLICYD_CONFIG_DIR}\" TYPE FILE
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
         FILES \"${PROJECT_SOURCE_DIR}/examples/policyd.toml\")
  endif()
")

# --- C++ client library -----------------------------------------------------------------------
# Static archives: policyd_client and the modules it links (wire's generated FlatBuffers code is
# compiled into libpolicyd_wire.a and uses header-only FlatBuffers, so consumers need neither
# flatc output nor libflatbuffers). Headers keep their "<module>/<file>.h" include paths under
# include/policyd/; they need C++20 and tl/expected.hpp (Debian: libexpected-dev).
set(POLICYD_CLIENT_ARCHIVES policyd_client policyd_wire policyd_resolve policyd_check policyd_model
    policyd_base)
# Its own install component, client-dev, which the .deb leaves out (cmake/Package.cmake).
install(TARGETS ${POLICYD_CLIENT_ARCHIVES} ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        COMPONENT client-dev)
set(POLICYD_CLIENT_HEADERS
    client/client.h base/status.h base/timestamp.h model/counters.h model/domain_policy.h
    model/domains.h
    model/store_state.h resolve/resolve.h check/check.h wire/response.h)
foreach(header ${POLICYD_CLIENT_HEADERS})
  get_filename_component(header_dir "${header}" DIRECTORY)
  install(FILES "src/${header}" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/policyd/${header_dir}"
          COMPONENT client-dev)
endforeach()
list(TRANSFORM POLICYD_CLIENT_ARCHIVES PREPEND "-l" OUTPUT_VARIABLE POLICYD_CLIENT_LIBS)
list(JOIN POLICYD_CLIENT_LIBS " " POLICYD_CLIENT_LIBS)
configure_file(cmake/policyd-client.pc.in "${PROJECT_BINARY_DIR}/policyd-client.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/policyd-client.pc"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig" COMPONENT client-dev)
