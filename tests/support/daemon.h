// Test support: a real policyd on a temp socket and data dir, plus snapshot helpers.
#pragma once

#include <string>
#include <vector>

#include "client/client.h"
#include "model/domain_policy.h"
#include "model/domains.h"
#include "support/process.h"

namespace policyd::testing_support {

// A deterministic snapshot: `orgs` orgs named "org-<i>", every `custom_every`-th with its own
// policy whose flags vary with i. Every org has the verified primary domain
// "org-<i>.example.com"; every 3rd also an unverified "org-<i>.example.net" and every 4th a
// verified "login.org-<i>.example.org". The instance has "zitadel.example.com" and
// "mail.example.com".
Snapshot MakeSnapshot(int orgs, int custom_every = 10);

// Writes `snapshot` to `path` with the production writer.
void WriteSnapshot(const Snapshot& snapshot, const std::string& path);

// What policyd must answer for `org_id` under `snapshot` (non-strict).
DomainPolicy ExpectedPolicy(const Snapshot& snapshot, const std::string& org_id);

// The domains policyd must hold for `org_id` under `snapshot` (Store::ReadDomains): the org's
// list in snapshot order (empty for an unknown org or one without domains) and the instance's.
DomainSet ExpectedDomains(const Snapshot& snapshot, const std::string& org_id);

// Writes the fake upstream's default PAT to `dir`/token (mode 0600, as policyd requires) and
// returns the path, for --token-file.
std::string WriteFakePatFile(const TempDir& dir);

class Daemon {
 public:
  // Starts policyd on dir/policyd.sock with dir/data and two serving threads (unless `extra`
  // has --threads); `extra` are further flags, `env`
  // ("NAME=value") further environment variables.
  explicit Daemon(const TempDir& dir, std::vector<std::string> extra = {},
                  const std::vector<std::string>& env = {});
  ~Daemon();

  // Waits until the socket answers a status request.
  ::testing::AssertionResult WaitReady();
  const std::string& socket() const { return socket_; }
  ChildProcess& process() { return *process_; }
  Client Connect();
  // policyctl with --socket set.
  CommandResult Ctl(std::vector<std::string> args);
  // The same with `input` on its standard input.
  CommandResult CtlWithInput(std::vector<std::string> args, const std::string& input);

 private:
  std::string socket_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace policyd::testing_support
