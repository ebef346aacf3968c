// Test support: seeded random histories of the generic policy kinds (issue #14) on the fake
// upstream, for differential tests of policyd against it.
//
// Each Step() makes one random change through the fake's public mutations (or a burst of them):
// an org's own row added, changed (random field values within what the upstream accepts) or
// removed; the instance default changed (which reaches every org without its own row); login
// factors added and removed; label policies activated and their assets added and removed; orgs
// added and removed; the instance's events moved to a new stream (sequences starting again at
// 1); bursts of changes within one poll, some sharing one creationDate; now and then a change of
// another kind than the one asked. A change the upstream refuses (a row that exists already,
// "not changed", ...) is part of the history too: it pushes nothing, as the real API would.
//
// Not thread-safe; the FakeUpstream must outlive it.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "fake_upstream/fake_upstream.h"
#include "fake_upstream/policy_kinds.h"

namespace policyd::testing_support {

class RandomKindHistory {
 public:
  RandomKindHistory(FakeUpstream& upstream, std::uint64_t seed) : upstream_(upstream), rng_(seed) {}

  // Adds an org (names "k<n>", unique); returns its id.
  std::string AddOrg();
  // One random change, mostly of `kind`; returns what it did and what the upstream said, for
  // failure messages ("ChangeOrgKindPolicy login 3000…: OK").
  std::string Step(const KindSpec& kind);
  // One of the 7 kinds, at random.
  const KindSpec& AnyKind();
  // True with probability 1/n.
  bool OneIn(unsigned n) { return rng_() % n == 0; }
  // A random existing org ("" when there is none).
  std::string AnyOrg();

  // Steps that pushed events (the upstream accepted them).
  int applied() const { return applied_; }
  // Orgs removed so far: policyd must not know them.
  const std::vector<std::string>& gone() const { return gone_; }

 private:
  std::string Do(const std::string& what, const Status& status);
  std::string KindStep(const KindSpec& kind, unsigned op);
  std::string LoginFactorStep();
  std::string LabelStep();
  // An org with its own row of `kind` if there is one (most of the time), else any org.
  std::string Owner(const KindSpec& kind);
  // A request body of `kind`: proto JSON names, each field present or not (absent: zero).
  std::string Fields(const KindSpec& kind, bool add);
  template <typename T>
  const T& Pick(const std::vector<T>& values) {
    return values[rng_() % values.size()];
  }

  FakeUpstream& upstream_;
  std::mt19937_64 rng_;
  int next_name_ = 0;
  int applied_ = 0;
  std::vector<std::string> gone_;
};

}  // namespace policyd::testing_support
