// Module-internal: a workaround for a double free at process exit in cnats 3.4.1 with OpenSSL 3.
//
// cnats registers an exit handler (natsLib_Destructor, with atexit, when the library is first
// initialised) that, once cnats has set up TLS, frees OpenSSL's list of compression methods
// (sk_SSL_COMP_free(SSL_COMP_get_compression_methods())). OpenSSL 3 frees that same list again
// in its own cleanup (OPENSSL_cleanup, run from libcrypto's destructor after every exit
// handler): a use after free and double free in every process that used TLS through cnats
// (seen by valgrind in the plain build; a SEGV under ASan).
//
// GuardTlsExit() registers, once and before cnats is initialised, an exit handler of ours.
// Exit handlers run in reverse order of registration, so ours runs after cnats's: if TLS was
// used, it makes OpenSSL forget the list cnats freed (SSL_COMP_set0_compression_methods(NULL);
// the old pointer is not touched), and OpenSSL's cleanup then has nothing to free twice.
// Without TLS cnats frees nothing and the handler does nothing.
//
// Thread-safety: GuardTlsExit may be called from any thread.
#pragma once

namespace policyd::nats {

// Call before the first cnats call of the process; `tls` marks that TLS is being set up.
void GuardTlsExit(bool tls);

}  // namespace policyd::nats
