// Test support: seeded random histories of the generic policy kinds (issue #14) on the fake
// upstream, for differential tests of policyd against it.
//
// Each Step() makes one random change through the fake's public mutations (or a burst of them):
// an org's own row added, changed (random field values within what the upstream accepts) or
// removed; the instance default changed (which reaches every org without its own row); login
// factors added and removed; label policies activated and their assets added and removed; orgs
// added and removed; the instance's events moved to a new stream (sequences starting again at
// 1); bursts of changes within one poll, some sharing one creationDate; now and then a change of
// another kind than the one asked. Login histories (and now and then others) also change identity
// providers and the login policies' links to them: IdPs of random kinds and styles (templates,
// old-style configs; some nameless) added at the instance or an org, renamed, migrated and
// removed; links added to and removed from the instance's and orgs' login policies; custom login
// policies added with links; login policies with links removed. At most ~12 IdPs live at once, so
// links often meet the same IdP. A change the upstream refuses (a row that exists already,
// "not changed", a link to another org's IdP, ...) is part of the history too: it pushes nothing,
// as the real API would.
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
  // One change of the identity providers or of the login policies' links.
  std::string IdpStep();
  std::string AddIdpStep();
  std::string LinkStep(bool add);
  // An org without its own login policy gets one with links; or one with links loses it.
  std::string LoginPolicyWithLinksStep(bool add);
  // The IdPs `org_id` ("" the instance) may link: the instance's and its own.
  std::vector<IdpInfo> LinkableIdps(std::string_view org_id);
  // An org with its own row of `kind` if there is one (most of the time), else any org.
  std::string Owner(const KindSpec& kind);
  // A request body of `kind`: proto JSON names, each field present or not (absent: zero). A login
  // policy added to `org_id` may come with "idps" (always with `with_idps`).
  std::string Fields(const KindSpec& kind, bool add, std::string_view org_id = "",
                     bool with_idps = false);
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
