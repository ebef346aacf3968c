// Test support: does a running policyd answer every generic policy kind (issue #14) exactly as
// the fake upstream's GETs do, and has it synced up to the fake's newest event?
//
// Header-only; a test including it links policyd_test_support, policyd_fake_upstream and
// policyd_sync (for the cursor). The upstream must not change while a check runs.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/client.h"
#include "fake_upstream/fake_upstream.h"
#include "fake_upstream/policy_kinds.h"
#include "json/kind_json.h"
#include "json/policy_json.h"
#include "model/policy_kinds.h"
#include "support/process.h"
#include "sync/cursor.h"

namespace policyd::testing_support {

// An org id the upstream never issued (its ids are 18-digit numbers starting with 3).
inline constexpr std::string_view kNeverAnOrg = "999999999999999999";

// The fake upstream's name of a generic kind (the snapshot's lowerCamel name).
inline std::string FakeKindName(PolicyKind kind) {
  return std::string(::policyd::SpecOf(kind).snapshot_name);
}

// The body of the upstream's management GET for an org that falls back to the instance default:
// the admin GET's body, plus the deprecated top-level isDefault where the kind's response has
// it. The upstream answers 403 for an org it does not know; policyd (non-strict) answers this.
inline std::string ManagementDefaultBody(const FakeUpstream& upstream, PolicyKind kind) {
  std::string body = upstream.DefaultKindPolicyBody(FakeKindName(kind));
  const KindSpec* spec = FindKind(FakeKindName(kind));
  if (spec != nullptr && spec->management_is_default && body.ends_with('}')) {
    body.insert(body.size() - 1, ",\"isDefault\":true");
  }
  return body;
}

// `kind` of `answer` as the upstream's management GET (`management`) or admin GET renders it;
// a description when the answer failed or lacks the kind.
inline std::string RenderKindAnswer(const PolicyAnswer& answer, PolicyKind kind, bool management) {
  if (!answer.status.ok()) return answer.status.ToString();
  const KindValue* value = answer.kind(kind);
  if (value == nullptr) return "<" + FakeKindName(kind) + " missing from the answer>";
  return FormatKindGetResponse(value->policy, value->is_default, management);
}

inline KindSet GenericKindSet() {
  KindSet set;
  for (PolicyKind kind : kGenericKinds) set.insert(kind);
  return set;
}

// One org's answer of every kind against the upstream: known as the upstream says (`known`);
// every generic kind as the management GET of a known org (or, for an unknown one, the default
// as that GET shows it), the domain policy as the admin's org GET.
inline ::testing::AssertionResult OrgAnswerMatches(const FakeUpstream& upstream,
                                                   const std::string& id, const PolicyAnswer& a,
                                                   bool known) {
  if (a.org_known != known) {
    return ::testing::AssertionFailure()
           << "org " << id << " known: " << a.org_known << ", upstream: " << known;
  }
  if (a.status.ok() && FormatGetPolicyResponse(a.policy) != upstream.EffectivePolicyBody(id)) {
    return ::testing::AssertionFailure()
           << "org " << id << " domain\n upstream: " << upstream.EffectivePolicyBody(id)
           << "\n policyd:  " << FormatGetPolicyResponse(a.policy);
  }
  for (PolicyKind kind : kGenericKinds) {
    const std::string want = known ? upstream.KindPolicyBody(FakeKindName(kind), id)
                                   : ManagementDefaultBody(upstream, kind);
    const std::string got = RenderKindAnswer(a, kind, /*management=*/true);
    if (got != want) {
      return ::testing::AssertionFailure()
             << "org " << id << (known ? "" : " (unknown)") << " kind " << FakeKindName(kind)
             << "\n upstream: " << want << "\n policyd:  " << got;
    }
  }
  return ::testing::AssertionSuccess();
}

// Each kind's instance default as the upstream's admin GET.
inline ::testing::AssertionResult DefaultsMatch(Client& client, const FakeUpstream& upstream) {
  Result<PolicyAnswer> defaults = client.GetDefaultKinds(GenericKindSet());
  if (!defaults) {
    return ::testing::AssertionFailure() << "defaults: " << defaults.error().ToString();
  }
  for (PolicyKind kind : kGenericKinds) {
    const std::string want = upstream.DefaultKindPolicyBody(FakeKindName(kind));
    const std::string got = RenderKindAnswer(*defaults, kind, /*management=*/false);
    if (got != want) {
      return ::testing::AssertionFailure() << "default " << FakeKindName(kind)
                                           << "\n upstream: " << want << "\n policyd:  " << got;
    }
  }
  return ::testing::AssertionSuccess();
}

// Over one connection to `socket`, in frames that ask every kind of up to 500 orgs:
//   - every org of `upstream` is known and OrgAnswerMatches;
//   - an org the upstream never had and every id in `gone` (orgs removed upstream) are unknown
//     and answer the instance default of each kind; asked strictly, NOT_FOUND;
//   - DefaultsMatch.
// The failure names the first difference: org, kind and both bodies.
inline ::testing::AssertionResult KindAnswersMatchUpstream(
    const std::string& socket, const FakeUpstream& upstream,
    const std::vector<std::string>& gone = {}) {
  Result<Client> client = Client::Connect(socket);
  if (!client) return ::testing::AssertionFailure() << "connect: " << client.error().ToString();
  std::vector<std::string> ids = upstream.OrgIds();
  const std::size_t known = ids.size();
  ids.emplace_back(kNeverAnOrg);
  ids.insert(ids.end(), gone.begin(), gone.end());
  constexpr std::size_t kChunk = 500;
  for (std::size_t at = 0; at < ids.size(); at += kChunk) {
    const std::span<const std::string> chunk(ids.data() + at, std::min(kChunk, ids.size() - at));
    Result<std::vector<PolicyAnswer>> answers = client->GetOrgsKinds(chunk, KindSet::All());
    if (!answers) return ::testing::AssertionFailure() << "lookup: " << answers.error().ToString();
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      auto r = OrgAnswerMatches(upstream, chunk[i], (*answers)[i], at + i < known);
      if (!r) return r;
    }
  }
  for (std::size_t i = known; i < ids.size(); ++i) {
    Result<PolicyAnswer> strict = client->GetOrgKinds(ids[i], GenericKindSet(), /*strict=*/true);
    const Status status = strict ? strict->status : strict.error();
    if (status.code() != Code::kNotFound) {
      return ::testing::AssertionFailure()
             << "strict lookup of unknown org " << ids[i] << ": " << status.ToString();
    }
  }
  return DefaultsMatch(*client, upstream);
}

// One frame asking every kind of `org_id` answers each kind exactly as a frame asking that kind
// alone (and the domain policy as GetOrgPolicy).
inline ::testing::AssertionResult OneFrameEqualsSingleKindAnswers(const std::string& socket,
                                                                  const std::string& org_id) {
  Result<Client> client = Client::Connect(socket);
  if (!client) return ::testing::AssertionFailure() << "connect: " << client.error().ToString();
  Result<PolicyAnswer> all = client->GetOrgKinds(org_id, KindSet::All());
  if (!all) return ::testing::AssertionFailure() << "all kinds: " << all.error().ToString();
  Result<PolicyAnswer> domain = client->GetOrgPolicy(org_id);
  if (!domain) return ::testing::AssertionFailure() << "domain: " << domain.error().ToString();
  if (!all->has_domain || all->policy != domain->policy) {
    return ::testing::AssertionFailure()
           << "org " << org_id << " domain\n alone:     " << FormatGetPolicyResponse(domain->policy)
           << "\n all kinds: " << FormatGetPolicyResponse(all->policy);
  }
  for (PolicyKind kind : kGenericKinds) {
    Result<PolicyAnswer> one = client->GetOrgKinds(org_id, KindSet::Of(kind));
    if (!one) return ::testing::AssertionFailure() << "one kind: " << one.error().ToString();
    const KindValue* a = all->kind(kind);
    const KindValue* b = one->kind(kind);
    if (a == nullptr || b == nullptr || !(*a == *b) || one->kinds.size() != 1) {
      return ::testing::AssertionFailure()
             << "org " << org_id << " kind " << FakeKindName(kind)
             << "\n alone:     " << RenderKindAnswer(*one, kind, true)
             << "\n all kinds: " << RenderKindAnswer(*all, kind, true);
    }
  }
  return ::testing::AssertionSuccess();
}

// Succeeds once the cursor policyd has stored (its status) has applied the upstream's newest event
// (its date reached and the event itself seen): every event up to it is applied and readable.
inline ::testing::AssertionResult WaitUntilSynced(const std::string& socket,
                                                  const FakeUpstream& upstream,
                                                  std::chrono::milliseconds timeout) {
  // The newest event itself, not only its date: the pushes of a burst share one creationDate, so
  // a cursor that has the date may still lack the later pushes of that date.
  const Event newest = upstream.LastEvent();
  std::string last = "no status";
  auto synced = [&] {
    Result<Client> client = Client::Connect(socket);
    if (!client) return false;
    Result<ServerStatus> status = client->GetStatus();
    if (!status) return false;
    last = status->meta.cursor.substr(0, status->meta.cursor.find('\n'));
    Result<SyncCursor> cursor = SyncCursor::Decode(status->meta.cursor);
    return cursor && cursor->newest() >= newest.creation_date && cursor->Seen(newest);
  };
  ::testing::AssertionResult r = WaitFor(synced, timeout, "policyd to sync the newest event");
  if (!r) r << " (cursor: " << last << ")";
  return r;
}

}  // namespace policyd::testing_support
