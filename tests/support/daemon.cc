#include "support/daemon.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "json/snapshot_json.h"

namespace policyd::testing_support {

Snapshot MakeSnapshot(int orgs, int custom_every) {
  Snapshot s;
  s.instance.id = "300000000000000001";
  s.instance.policy.flags = {false, true, true};
  s.instance.policy.details = {7, Timestamp{1739260801, 500000000}, Timestamp{1740820364, 0},
                               s.instance.id};
  for (int i = 0; i < orgs; ++i) {
    OrgRecord org;
    org.id = "org-" + std::to_string(i);
    if (custom_every > 0 && i % custom_every == 0) {
      PolicyRecord p;
      p.flags = {i % 2 == 0, i % 3 == 0, i % 5 == 0};
      p.details = {static_cast<std::uint64_t>(i + 1), Timestamp{1700000000 + i, 0},
                   Timestamp{1700000500 + i, 123000000}, org.id};
      org.policy = p;
    }
    s.orgs.push_back(std::move(org));
  }
  // The store keeps orgs in id byte order, and so does a dump.
  std::sort(s.orgs.begin(), s.orgs.end(),
            [](const OrgRecord& a, const OrgRecord& b) { return a.id < b.id; });
  // Domains in the orgs' order, as a parsed snapshot has them.
  for (const OrgRecord& org : s.orgs) {
    const int i = std::stoi(org.id.substr(4));
    OrgDomains d{org.id, {{org.id + ".example.com", true, true}}, 0};
    if (i % 3 == 0) d.domains.push_back({org.id + ".example.net", false, false});
    if (i % 4 == 0) d.domains.push_back({"login." + org.id + ".example.org", true, false});
    s.org_domains.push_back(std::move(d));
  }
  s.instance_domains.names = {"zitadel.example.com", "mail.example.com"};
  return s;
}

void WriteSnapshot(const Snapshot& snapshot, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  out << FormatSnapshot(snapshot);
}

DomainPolicy ExpectedPolicy(const Snapshot& snapshot, const std::string& org_id) {
  for (const OrgRecord& org : snapshot.orgs) {
    if (org.id == org_id && org.policy) return {org.policy->flags, false, org.policy->details};
  }
  DomainPolicy d{snapshot.instance.policy.flags, true, snapshot.instance.policy.details};
  d.details.resource_owner = snapshot.instance.id;
  return d;
}

DomainSet ExpectedDomains(const Snapshot& snapshot, const std::string& org_id) {
  DomainSet set;
  set.instance = snapshot.instance_domains.names;
  for (const OrgDomains& d : snapshot.org_domains) {
    if (d.org_id == org_id) set.org = d.domains;
  }
  return set;
}

std::string WriteFakePatFile(const TempDir& dir) {
  const std::string path = dir.Join("token");
  std::ofstream(path) << "fake-pat-0123456789\n";
  chmod(path.c_str(), 0600);
  return path;
}

Daemon::Daemon(const TempDir& dir, std::vector<std::string> extra,
               const std::vector<std::string>& env)
    : socket_(dir.Join("policyd.sock")) {
  std::vector<std::string> argv = {BinDir() + "/daemon/policyd", "--socket", socket_, "--data-dir",
                                   dir.Join("data")};
  // Two serving threads unless the test chose.
  if (std::find(extra.begin(), extra.end(), "--threads") == extra.end()) {
    argv.insert(argv.end(), {"--threads", "2"});
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  process_ = std::make_unique<ChildProcess>(argv, dir.Join("policyd.log"), env);
}

Daemon::~Daemon() = default;

::testing::AssertionResult Daemon::WaitReady() {
  auto ready = [this] {
    if (!process_->Running()) return true;  // exited: report at once instead of waiting
    auto c = Client::Connect(socket_);
    return c.has_value() && c->GetStatus().has_value();
  };
  ::testing::AssertionResult r = WaitFor(ready, std::chrono::seconds(20), "policyd to serve");
  if (r && !process_->Running()) r = ::testing::AssertionFailure() << "policyd exited";
  if (!r) r << "\npolicyd log:\n" << process_->Log();
  return r;
}

Client Daemon::Connect() {
  auto c = Client::Connect(socket_);
  EXPECT_TRUE(c.has_value()) << c.error().ToString();
  return std::move(*c);
}

CommandResult Daemon::Ctl(std::vector<std::string> args) {
  std::vector<std::string> argv = {BinDir() + "/cli/policyctl", "--socket", socket_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

CommandResult Daemon::CtlWithInput(std::vector<std::string> args, const std::string& input) {
  std::vector<std::string> argv = {BinDir() + "/cli/policyctl", "--socket", socket_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommandWithInput(argv, input);
}

}  // namespace policyd::testing_support
