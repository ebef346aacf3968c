// fake-iam: the test suite's fake upstream IAM (tests/fake_upstream) as a program of its own, so
// that the README's five-minute tour can sync from an upstream without a real ZITADEL.
//
//   fake-iam [--url-file FILE] [--token TOKEN]
//
// Serves the upstream's REST API (the reads policyd syncs from, and the domain policy's writes:
// PUT /admin/v1/policies/domain, POST|PUT|DELETE /admin/v1/orgs/{id}/policies/domain) over plain
// HTTP on 127.0.0.1 at a free port, with an instance, every policy kind's default and two orgs,
// ACME (with its own domain policy) and Globex. Requests need `Authorization: Bearer TOKEN`
// (default fake-pat-0123456789). Once serving it prints one line saying where, and writes the
// base URL to FILE; it runs until SIGTERM or SIGINT and exits 0, or exits 1 if it cannot serve
// and 2 on a bad command line. Test-only: it keeps everything in memory and has no TLS.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

#include "fake_upstream/fake_upstream.h"

namespace {

using policyd::PolicyFlags;
using policyd::testing_support::FakeUpstream;
using policyd::testing_support::FakeUpstreamOptions;

struct Args {
  std::string url_file;
  std::string token = "fake-pat-0123456789";
};

bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) return false;
    if (arg == "--url-file") {
      args->url_file = argv[++i];
    } else if (arg == "--token") {
      args->token = argv[++i];
    } else {
      return false;
    }
  }
  return !args->token.empty();
}

// Fills the fake with what the tour shows: two orgs, one with its own domain policy.
bool AddOrgs(FakeUpstream& iam) {
  const std::string acme = iam.AddOrg("ACME");
  const std::string globex = iam.AddOrg("Globex");
  if (acme.empty() || globex.empty()) return false;
  return iam.AddOrgPolicy(acme, PolicyFlags{true, true, false}).ok();
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    std::cerr << "usage: fake-iam [--url-file FILE] [--token TOKEN]\n";
    return 2;
  }
  // Blocked before the server's threads start, so that they inherit the mask and sigwait below
  // is the only receiver.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  FakeUpstreamOptions options;
  options.pat = args.token;
  FakeUpstream iam(options);
  if (!iam.ok() || !AddOrgs(iam)) {
    std::cerr << "fake-iam: could not start the fake upstream\n";
    return 1;
  }
  if (!args.url_file.empty()) {
    // Renamed into place, so that a reader never sees half a URL.
    const std::string tmp = args.url_file + ".tmp";
    std::ofstream(tmp) << iam.base_url() << '\n';
    if (std::rename(tmp.c_str(), args.url_file.c_str()) != 0) {
      std::cerr << "fake-iam: cannot write " << args.url_file << "\n";
      return 1;
    }
  }
  std::cout << "fake IAM (instance " << iam.instance_id() << ", orgs ACME and Globex) on "
            << iam.base_url() << ", token " << args.token << std::endl;
  int signal_number = 0;
  sigwait(&stop, &signal_number);
  return 0;
}
