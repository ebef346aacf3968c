# `cpack -G DEB` in the build dir: policyd_<version>_amd64.deb (docs/packaging.md).
#
# The package holds the install component "policyd": both binaries (stripped), the units in
# /usr/lib/systemd/system, /usr/lib/sysusers.d/policyd.conf, /etc/policyd/policyd.toml (a
# conffile), the examples, man pages and bash completion under /usr/share, and copyright and
# changelog.gz in /usr/share/doc/policyd. The C++ client library (component client-dev) is left
# out. Its Depends: are computed by dpkg-shlibdeps from the binaries, plus "systemd | adduser"
# for the postinst (systemd-sysusers, else addgroup). Maintainer scripts: packaging/deb/.
# Checked by the ctest DebPackage (scripts/check-deb.sh).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME policyd)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "policyd maintainers <maintainers@users.noreply.r-seed-e8ec03fe.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "local cache of a ZITADEL IAM's policies over a unix socket")
# The extended description: CPack puts the summary first and indents each line by one space;
# an empty line becomes " ." (deb-control(5)).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "policyd keeps a durable RocksDB copy of the policies of a ZITADEL instance and
its organisations, synchronised from the upstream's REST and events APIs, and
answers lookups and checks for local services over a unix socket, also while
the upstream is down. policyctl queries it from the command line.

The package installs the systemd units policyd.socket and policyd.service but
enables and starts neither.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # policyd_<version>_<arch>.deb (no Debian revision)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | adduser")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_CMAKE_PROJECTS "${PROJECT_BINARY_DIR};policyd;policyd;/")
# /etc/policyd/policyd.toml is a conffile: dpkg keeps an operator's edits on upgrade and asks
# when the shipped example changed too.
configure_file(packaging/deb/conffiles.in "${PROJECT_BINARY_DIR}/packaging/conffiles" @ONLY)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/deb/postinst;${PROJECT_SOURCE_DIR}/packaging/deb/prerm;${PROJECT_SOURCE_DIR}/packaging/deb/postrm;${PROJECT_BINARY_DIR}/packaging/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
