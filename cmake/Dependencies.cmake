# Third-party dependencies, all from Debian packages (scripts/install-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

find_package(RocksDB 7 CONFIG REQUIRED)
find_package(FlatBuffers CONFIG REQUIRED)
find_package(simdjson CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(tomlplusplus CONFIG REQUIRED)

# tl::expected (libexpected-dev) is header-only without a usable CMake config on Debian.
find_path(TL_EXPECTED_INCLUDE_DIR tl/expected.hpp REQUIRED)
add_library(tl_expected INTERFACE)
target_include_directories(tl_expected SYSTEM INTERFACE ${TL_EXPECTED_INCLUDE_DIR})

# Asio standalone is header-only and ships no CMake config.
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(asio INTERFACE)
target_include_directories(asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # Asio 1.22 only enables co_await on clang when it finds libc++'s <experimental/coroutine>.
  target_compile_definitions(asio INTERFACE ASIO_HAS_CO_AWAIT=1 ASIO_HAS_STD_COROUTINE=1)
endif()
target_link_libraries(asio INTERFACE Threads::Threads)

if(POLICYD_TESTS)
  find_package(GTest CONFIG REQUIRED)
  include(GoogleTest)
endif()

# The upstream module: libcurl (OpenSSL flavour) and OpenSSL 3 (JWT signing, extra TLS trust
# anchors).
find_package(CURL REQUIRED)
find_package(OpenSSL 3 REQUIRED)

# libsystemd ships no CMake config: pkg-config.
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)

# NATS C client (libnats-dev 3.4.1, "cnats") for fleet mode. Debian's CMake package config
# (cmake/cnats/cnats-config.cmake) is unusable: it also declares cnats::nats_static, whose
# libnats_static.a the package does not ship, so find_package(cnats) fails with "The imported
# target cnats::nats_static references the file ... but this file does not exist". Its
# pkg-config file is complete: -> PkgConfig::NATS (libnats.so).
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats>=3.4)

# Protocol Buffers (libprotobuf-dev, protobuf-compiler 3.21): the upstream's messages for the
# Connect endpoint (schemas/zitadel, src/connect). Debian ships no CMake config: CMake's
# FindProtobuf module -> protobuf::libprotobuf, protobuf::protoc, protobuf_generate().
find_package(Protobuf 3.21 REQUIRED)
