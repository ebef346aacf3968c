// Helpers for the store tests: TempDir (a fresh directory under /tmp for one test, removed with
// everything in it afterwards), record builders and an Open wrapper.
//
// Threads: each helper object is owned by one test.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "store/rocks_store.h"

namespace policyd {

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/policyd-store-test-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside the directory (which need not exist).
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline PolicyRecord Policy(std::uint64_t seq, std::string owner,
                           bool login_must_be_domain = false) {
  return PolicyRecord{
      PolicyFlags{login_must_be_domain, true, false},
      Details{seq, Timestamp{1700000000, 1},
              Timestamp{1700000000 + static_cast<std::int64_t>(seq), 2}, std::move(owner)}};
}

inline InstanceRecord Instance(std::uint64_t seq = 1) {
  return InstanceRecord{"inst-1", Policy(seq, "inst-1", true)};
}

inline OrgRecord Org(std::string id, std::optional<std::uint64_t> policy_seq = std::nullopt) {
  OrgRecord org{std::move(id), std::nullopt};
  if (policy_seq) org.policy = Policy(*policy_seq, org.id);
  return org;
}

inline Timestamp At(std::int64_t seconds) { return Timestamp{seconds, 0}; }

// Opens `dir`, failing the test (and returning nullptr) if that does not work.
inline std::unique_ptr<RocksStore> OpenStore(const std::string& dir, StoreOptions options = {}) {
  options.block_cache_bytes = 8u << 20;
  Result<std::unique_ptr<RocksStore>> store = RocksStore::Open(dir, options);
  if (!store) {
    ADD_FAILURE() << "open " << dir << ": " << store.error().ToString();
    return nullptr;
  }
  return std::move(*store);
}

// Everything ForEach() visits, for comparing whole states.
struct Dump {
  std::optional<InstanceRecord> instance;
  std::vector<OrgRecord> orgs;
  friend bool operator==(const Dump&, const Dump&) = default;
};

inline Dump DumpStore(const Store& store) {
  Dump dump;
  Status s = store.ForEach([&](const InstanceRecord& i) { dump.instance = i; },
                           [&](const OrgRecord& o) {
                             dump.orgs.push_back(o);
                             return Status::Ok();
                           });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return dump;
}

inline Dump DumpOf(const std::optional<InstanceRecord>& instance,
                   const std::map<std::string, std::optional<PolicyRecord>>& orgs) {
  Dump dump{instance, {}};
  for (const auto& [id, policy] : orgs) dump.orgs.push_back(OrgRecord{id, policy});
  return dump;
}

}  // namespace policyd
