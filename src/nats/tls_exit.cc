#include "nats/tls_exit.h"

// The nats module's only OpenSSL include: it repairs cnats's own use of OpenSSL.
#include <openssl/ssl.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

namespace policyd::nats {
namespace {

std::atomic<bool> tls_used{false};
std::once_flag registered;

void ForgetCompressionMethodsFreedByCnats() {
  if (tls_used.load()) (void)SSL_COMP_set0_compression_methods(nullptr);
}

}  // namespace

void GuardTlsExit(bool tls) {
  std::call_once(registered, [] { std::atexit(ForgetCompressionMethodsFreedByCnats); });
  if (tls) tls_used = true;
}

}  // namespace policyd::nats
