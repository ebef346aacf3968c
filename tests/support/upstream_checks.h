// Test support: does a running policyd answer exactly what the fake upstream says?
//
// Header-only; a test including it links policyd_test_support and policyd_fake_upstream.
// The upstream must not change while a comparison runs (pause whatever drives it).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "client/client.h"
#include "fake_upstream/fake_upstream.h"
#include "json/policy_json.h"
#include "support/process.h"

namespace policyd::testing_support {

// Over one connection to `socket`: every org of `upstream` answers byte for byte the body of
// GET /admin/v1/orgs/{id}/policies/domain (flags, isDefault and details, so each row's sequence
// and change date), and is known; the default answers GET /admin/v1/policies/domain; every id
// in `gone` (orgs removed upstream) is unknown; the status counts orgs and own policies as the
// upstream does. The failure names the first difference.
inline ::testing::AssertionResult AnswersMatchUpstream(const std::string& socket,
                                                       const FakeUpstream& upstream,
                                                       const std::vector<std::string>& gone = {}) {
  Result<Client> client = Client::Connect(socket);
  if (!client) return ::testing::AssertionFailure() << "connect: " << client.error().ToString();
  const std::vector<std::string> ids = upstream.OrgIds();
  constexpr std::size_t kChunk = 500;
  for (std::size_t at = 0; at < ids.size(); at += kChunk) {
    const std::span<const std::string> chunk(ids.data() + at, std::min(kChunk, ids.size() - at));
    Result<std::vector<PolicyAnswer>> answers = client->GetOrgPolicies(chunk);
    if (!answers) return ::testing::AssertionFailure() << "lookup: " << answers.error().ToString();
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      const PolicyAnswer& a = (*answers)[i];
      const std::string want = upstream.EffectivePolicyBody(chunk[i]);
      const std::string got =
          a.status.ok() ? FormatGetPolicyResponse(a.policy) : a.status.ToString();
      if (got != want || !a.org_known) {
        return ::testing::AssertionFailure()
               << "org " << chunk[i] << (a.org_known ? "" : " unknown") << "\n upstream: " << want
               << "\n policyd:  " << got;
      }
    }
  }
  Result<PolicyAnswer> def = client->GetDefaultPolicy();
  if (!def) return ::testing::AssertionFailure() << "default: " << def.error().ToString();
  if (FormatGetPolicyResponse(def->policy) != upstream.DefaultPolicyBody()) {
    return ::testing::AssertionFailure() << "default\n upstream: " << upstream.DefaultPolicyBody()
                                         << "\n policyd:  " << FormatGetPolicyResponse(def->policy);
  }
  for (std::size_t at = 0; at < gone.size(); at += kChunk) {
    const std::span<const std::string> chunk(gone.data() + at, std::min(kChunk, gone.size() - at));
    Result<std::vector<PolicyAnswer>> answers = client->GetOrgPolicies(chunk);
    if (!answers) return ::testing::AssertionFailure() << "lookup: " << answers.error().ToString();
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      if ((*answers)[i].org_known) {
        return ::testing::AssertionFailure() << "org " << chunk[i] << " was removed upstream but "
                                             << "policyd still knows it";
      }
    }
  }
  Result<ServerStatus> status = client->GetStatus();
  if (!status) return ::testing::AssertionFailure() << "status: " << status.error().ToString();
  if (status->meta.org_count != ids.size() ||
      status->meta.custom_policy_count != upstream.OrgsWithOwnPolicy().size()) {
    return ::testing::AssertionFailure()
           << "policyd counts " << status->meta.org_count << " orgs / "
           << status->meta.custom_policy_count << " own policies; upstream " << ids.size() << " / "
           << upstream.OrgsWithOwnPolicy().size();
  }
  return ::testing::AssertionSuccess();
}

// Repeats AnswersMatchUpstream until it holds or `timeout` passes; on timeout, the last
// difference.
inline ::testing::AssertionResult WaitUntilAnswersMatch(const std::string& socket,
                                                        const FakeUpstream& upstream,
                                                        std::chrono::milliseconds timeout,
                                                        const std::vector<std::string>& gone = {}) {
  ::testing::AssertionResult last = ::testing::AssertionFailure();
  if (WaitFor([&] { return bool(last = AnswersMatchUpstream(socket, upstream, gone)); }, timeout,
              "policyd to answer as the upstream does")) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "not converged after " << timeout.count() << " ms: " << last.message();
}

}  // namespace policyd::testing_support
