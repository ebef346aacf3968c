// Issue #14, "Tests and numbers": per policy kind, a randomized differential test of the real
// policyd against the fake upstream. After every step of a seeded random history (own rows
// added, changed and removed, default changes reaching every org without its own row, login
// factors, label activations and assets, orgs added and removed, restarts of policyd on the same
// data dir with SIGTERM or SIGKILL, before a change or right after it) and once policyd has synced
// the newest event, every org's answer of every kind, rendered as the upstream renders it, equals
// the fake's management GET byte for byte, an unknown org and removed orgs answer the defaults, and
// the defaults equal the admin GETs. Also: the same after a cold start under event retention (every
// kind read per org by GET), and the upgrade of a store written before the other kinds (a v3
// cursor, domain rows only): one cold start fetches every kind and nothing stored before is lost.
//
// POLICYD_KINDS_SEED replays another history (the seed is printed, and named in every failure);
// POLICYD_KINDS_STEPS makes each kind's history longer (docs/reliability.md).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "fake_upstream/fake_upstream.h"
#include "fake_upstream/policy_kinds.h"
#include "store/store.h"
#include "support/daemon.h"
#include "support/kind_checks.h"
#include "support/kind_history.h"
#include "support/upstream_checks.h"

namespace policyd::testing_support {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::uint64_t kDefaultSeed = 20261206;

std::uint64_t Seed() { return EnvNumber("POLICYD_KINDS_SEED", kDefaultSeed); }

class KindsDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(upstream_.ok());
    token_file_ = WriteFakePatFile(dir_);
  }

  std::unique_ptr<Daemon> Start() {
    auto d = std::make_unique<Daemon>(
        dir_,
        std::vector<std::string>{"--upstream", upstream_.base_url(), "--token-file", token_file_,
                                 "--poll-interval", "50ms", "--request-timeout", "2s"});
    EXPECT_TRUE(d->WaitReady());
    return d;
  }

  // Synced up to the upstream's newest event, then every kind of every org as the upstream.
  ::testing::AssertionResult Matches(Daemon& d, const std::vector<std::string>& gone) {
    if (auto synced = WaitUntilSynced(d.socket(), upstream_, seconds(20)); !synced) {
      return synced << "\npolicyd log:\n" << d.process().Log();
    }
    // Without retrying: the status's cursor is published together with the lookup index
    // (store/indexed_store.h), so once it shows the newest event every lookup sees it.
    return KindAnswersMatchUpstream(d.socket(), upstream_, gone);
  }

  std::uint64_t ColdStarts(Daemon& d) {
    Result<ServerStatus> status = d.Connect().GetStatus(/*with_counters=*/true);
    EXPECT_TRUE(status && status->counters);
    return status && status->counters ? status->counters->cold_starts : 0;
  }

  TempDir dir_;
  FakeUpstream upstream_;
  std::string token_file_;
};

class KindsDifferentialTest : public KindsDaemonTest,
                              public ::testing::WithParamInterface<std::string_view> {};

TEST_P(KindsDifferentialTest, EveryOrgAnswersAsTheUpstreamAfterEveryStepOfARandomHistory) {
  const KindSpec& kind = *FindKind(GetParam());
  const std::uint64_t seed = Seed() + static_cast<std::uint64_t>(kind.id);
  const std::uint64_t steps = EnvNumber("POLICYD_KINDS_STEPS", 24);
  SCOPED_TRACE("replay: POLICYD_KINDS_SEED=" + std::to_string(Seed()) + " POLICYD_KINDS_STEPS=" +
               std::to_string(steps) + " (history seed " + std::to_string(seed) + ")");
  std::cout << "kind " << kind.name << ": seed " << seed << ", " << steps << " steps\n";
  RandomKindHistory history(upstream_, seed);
  for (int i = 0; i < 6; ++i) history.AddOrg();
  auto daemon = Start();
  ASSERT_TRUE(Matches(*daemon, history.gone())) << "after the cold start";
  int restarts = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t step = 0; step < steps; ++step) {
    // One step in six restarts policyd on its data dir: stopped before the step (SIGTERM, or
    // SIGKILL one time in three), which happens while it is down, or killed (SIGKILL) right
    // after it, at whatever point of a poll it is.
    const bool restart = history.OneIn(6);
    const bool kill_after = restart && history.OneIn(3);
    if (restart && !kill_after) {
      daemon->process().Stop(history.OneIn(3) ? SIGKILL : SIGTERM);
      daemon.reset();
    }
    const std::string did = history.Step(kind);
    if (kill_after) daemon->process().Stop(SIGKILL);
    if (restart) {
      daemon = Start();
      ++restarts;
    }
    ASSERT_TRUE(Matches(*daemon, history.gone()))
        << "step " << step << (restart ? " (restarted)" : "") << ": " << did;
    const std::string org = history.AnyOrg();
    if (!org.empty()) {
      ASSERT_TRUE(OneFrameEqualsSingleKindAnswers(daemon->socket(), org)) << "step " << step;
    }
  }
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "kind " << kind.name << ": " << history.applied() << " changes applied of " << steps
            << " steps, " << restarts << " restarts, " << upstream_.OrgIds().size() << " orgs ("
            << history.gone().size() << " removed), " << upstream_.EventCount() << " events, "
            << took << " s\n";
  // A history that the upstream mostly refused would test little.
  EXPECT_GE(history.applied(), static_cast<int>(steps / 2));
}

INSTANTIATE_TEST_SUITE_P(AllKinds, KindsDifferentialTest,
                         ::testing::Values("passwordComplexity", "passwordAge", "lockout", "login",
                                           "privacy", "notification", "label"),
                         [](const ::testing::TestParamInfo<std::string_view>& param) {
                           return std::string(param.param);
                         });

class KindsColdStartTest : public KindsDaemonTest, public ::testing::WithParamInterface<bool> {};

// A cold start after a long history of every kind: with the complete history it replays the
// events and reads no org's policy; under retention (every event of the history hidden) it
// cannot, and reads each kind of each org by the management GET (x-zitadel-orgid), the label
// policy's preview too, and each default. Then a few steps incrementally.
TEST_P(KindsColdStartTest, EveryKindOfEveryOrgIsRightAfterAColdStart) {
  const bool retention = GetParam();
  SCOPED_TRACE("replay: POLICYD_KINDS_SEED=" + std::to_string(Seed()));
  RandomKindHistory history(upstream_, Seed() + 100);
  for (int i = 0; i < 8; ++i) history.AddOrg();
  for (int step = 0; step < 120; ++step) history.Step(history.AnyKind());
  if (retention) {
    upstream_.AdvanceClock(std::chrono::hours(48));
    upstream_.SetAuditLogRetention(std::chrono::hours(24));  // every event so far is hidden
    // One visible event, so that the newest event the daemon can see is the upstream's newest.
    ASSERT_FALSE(history.AddOrg().empty());
  }
  auto daemon = Start();
  ASSERT_TRUE(Matches(*daemon, history.gone()));
  EXPECT_EQ(ColdStarts(*daemon), 1u) << daemon->process().Log();
  const int orgs = static_cast<int>(upstream_.OrgIds().size());
  for (const KindSpec& kind : AllKinds()) {
    EXPECT_EQ(upstream_.RequestCount("/management/v1/policies/" + std::string(kind.path)),
              retention ? orgs : 0)
        << kind.name;
    if (retention) {
      EXPECT_EQ(upstream_.RequestCount("/admin/v1/policies/" + std::string(kind.path)), 1)
          << kind.name;
    }
  }
  EXPECT_EQ(upstream_.RequestCount("/management/v1/policies/label/_preview"), retention ? orgs : 0);
  std::cout << orgs << " orgs, " << history.gone().size() << " removed, " << history.applied()
            << " changes before the cold start, " << upstream_.EventCount() << " events\n";
  for (int step = 0; step < 8; ++step) {
    const std::string did = history.Step(history.AnyKind());
    ASSERT_TRUE(Matches(*daemon, history.gone())) << "step " << step << ": " << did;
  }
  EXPECT_EQ(ColdStarts(*daemon), 1u) << daemon->process().Log();
}

INSTANTIATE_TEST_SUITE_P(History, KindsColdStartTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? std::string("UnderRetention")
                                              : std::string("Complete");
                         });

// The domain state in `store` as comparable text: the instance default and each org's own
// policy (flags and details), each org's domains and the instance's, sorted by name (a cold start
// from the lists may order them otherwise). Entry versions and list sequences are left out: a
// cold start writes its own.
std::string DomainStateText(const Store& store) {
  std::string out;
  const auto policy = [&out](const PolicyRecord& p) {
    out += FormatGetPolicyResponse(DomainPolicy{p.flags, false, p.details});
  };
  const auto domains = [&out](std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) out += " " + n;
    out += "\n";
  };
  Status s = store.ForEachEntry(
      [&](const InstanceRecord& i, const InstanceDomains& d, const SourceVersion&) {
        out += "instance " + i.id + " ";
        policy(i.policy);
        domains(d.names);
        return Status::Ok();
      },
      [&](const OrgRecord& o, const OrgDomains& d, const SourceVersion&) {
        out += "org " + o.id + " ";
        if (o.policy) policy(*o.policy);
        std::vector<std::string> names;
        for (const OrgDomain& domain : d.domains) {
          names.push_back(domain.name + (domain.verified ? "+verified" : "") +
                          (domain.primary ? "+primary" : ""));
        }
        domains(std::move(names));
        return Status::Ok();
      });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::unique_ptr<Store> OpenStore(const std::string& dir) {
  auto store = OpenRocksStore(dir, StoreOptions{});
  EXPECT_TRUE(store.has_value()) << store.error().ToString();
  return store ? std::move(*store) : nullptr;
}

// Rewrites `store` as a policyd that kept only the domain policy left it: the same domain rows
// and versions, no row of any other kind, and its cursor as a "v3" one.
void RewriteAsBeforeKinds(Store& store) {
  Result<StoreMeta> meta = store.Meta();
  ASSERT_TRUE(meta.has_value());
  ASSERT_TRUE(meta->cursor.starts_with("v5 ")) << meta->cursor;
  Snapshot old;
  Status read = store.ForEachEntry(
      [&](const InstanceRecord& i, const InstanceDomains& d, const SourceVersion& v) {
        old.instance = i;
        old.instance_domains = d;
        old.instance_version = v;
        return Status::Ok();
      },
      [&](const OrgRecord& o, const OrgDomains& d, const SourceVersion& v) {
        old.orgs.push_back(o);
        if (!d.domains.empty() || d.sequence != 0) old.org_domains.push_back(d);
        old.org_versions.push_back(v);
        return Status::Ok();
      });
  ASSERT_TRUE(read.ok()) << read.ToString();
  Status written =
      store.Replace(old, "v3" + meta->cursor.substr(2), meta->source, meta->last_change);
  ASSERT_TRUE(written.ok()) << written.ToString();
  int kind_rows = 0;
  ASSERT_TRUE(store
                  .ForEachKindRow([&](const ::policyd::KindRow&, bool) {
                    ++kind_rows;
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_EQ(kind_rows, 0);
}

// Issue #14 item 2: "Stores written by today's policyd upgrade in place: one cold start fetches
// the new kinds, and nothing already stored is lost." With the complete history (replay) and
// under retention (each kind read per org by GET).
class KindsUpgradeTest : public KindsDaemonTest, public ::testing::WithParamInterface<bool> {};

TEST_P(KindsUpgradeTest, AStoreWithOnlyTheDomainPolicyGetsEveryKindFromOneColdStart) {
  RandomKindHistory history(upstream_, Seed() + 200);
  for (int i = 0; i < 6; ++i) history.AddOrg();
  for (int step = 0; step < 40; ++step) history.Step(history.AnyKind());
  const std::vector<std::string> orgs = upstream_.OrgIds();
  ASSERT_GE(orgs.size(), 3u);
  ASSERT_TRUE(upstream_.AddOrgPolicy(orgs[0], {true, false, true}).ok());
  ASSERT_TRUE(upstream_.AddOrgPolicy(orgs[1], {false, true, false}).ok());
  ASSERT_TRUE(upstream_.ChangeDefaultPolicy({false, true, true}).ok());
  ASSERT_TRUE(upstream_.AddOrgDomain(orgs[2], "upgrade.example.com").ok());
  {
    auto daemon = Start();
    ASSERT_TRUE(Matches(*daemon, history.gone()));
    ASSERT_EQ(daemon->process().Stop(SIGTERM), 0) << daemon->process().Log();
  }
  std::string before;
  {
    std::unique_ptr<Store> store = OpenStore(dir_.Join("data"));
    ASSERT_TRUE(store);
    before = DomainStateText(*store);
    RewriteAsBeforeKinds(*store);
    ASSERT_EQ(DomainStateText(*store), before);
  }
  if (GetParam()) {
    upstream_.AdvanceClock(std::chrono::hours(48));
    upstream_.SetAuditLogRetention(std::chrono::hours(24));
  }
  // A change of another kind while the old version was down (and the newest event visible).
  ASSERT_TRUE(
      upstream_.ChangeDefaultKindPolicy("privacy", R"({"tosLink":"https://up.grade/"})").ok());

  // The upstream down: what the old version stored is served at once; the other kinds are not
  // there yet (no default), so they are UNAVAILABLE.
  upstream_.InjectFault(Fault{FaultKind::kUnavailable, Fault::kForever});
  {
    auto daemon = Start();
    EXPECT_TRUE(AnswersMatchUpstream(daemon->socket(), upstream_, history.gone()));
    Result<PolicyAnswer> kinds = daemon->Connect().GetOrgKinds(orgs[0], GenericKindSet());
    const Status status = kinds ? kinds->status : kinds.error();
    EXPECT_EQ(status.code(), Code::kUnavailable) << status.ToString();
    ASSERT_EQ(daemon->process().Stop(SIGTERM), 0) << daemon->process().Log();
  }
  upstream_.ClearFaults();

  const int default_reads = upstream_.RequestCount("/admin/v1/policies/domain");
  auto daemon = Start();
  ASSERT_TRUE(Matches(*daemon, history.gone()));
  EXPECT_TRUE(AnswersMatchUpstream(daemon->socket(), upstream_, history.gone()));
  EXPECT_EQ(ColdStarts(*daemon), 1u) << daemon->process().Log();
  EXPECT_EQ(upstream_.RequestCount("/admin/v1/policies/domain"), default_reads + 1);
  EXPECT_NE(daemon->process().Log().find("only the domain policy"), std::string::npos);
  // From then on incrementally.
  ASSERT_TRUE(
      upstream_.ChangeDefaultKindPolicy("privacy", R"({"tosLink":"https://up.grade/2"})").ok());
  ASSERT_TRUE(Matches(*daemon, history.gone()));
  EXPECT_EQ(ColdStarts(*daemon), 1u) << daemon->process().Log();
  ASSERT_EQ(daemon->process().Stop(SIGTERM), 0) << daemon->process().Log();
  daemon.reset();
  std::unique_ptr<Store> store = OpenStore(dir_.Join("data"));
  ASSERT_TRUE(store);
  EXPECT_EQ(DomainStateText(*store), before) << "the domain state changed in the upgrade";
  EXPECT_TRUE(store->Meta()->cursor.starts_with("v5 "));
}

INSTANTIATE_TEST_SUITE_P(History, KindsUpgradeTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? std::string("UnderRetention")
                                              : std::string("Complete");
                         });

// The login policy's IdP links under retention: IdPs whose events are hidden are learnt from the
// links the cold start reads, and those no policy linked yet from the linking owner's login
// policy, read when a link to one is added (one GET per owner). A rename of an instance IdP then
// reaches every org's link (the syncer finds the orgs in its store).
class KindsIdpTest : public KindsDaemonTest {};

TEST_F(KindsIdpTest, UnderRetentionIdpsOlderThanTheHistoryGetTheirNamesWhenLinked) {
  RandomKindHistory history(upstream_, Seed() + 300);
  const std::string org = history.AddOrg();
  const std::string other = history.AddOrg();
  ASSERT_TRUE(upstream_.AddOrgKindPolicy("login", org, "{}").ok());
  ASSERT_TRUE(upstream_.AddOrgKindPolicy("login", other, "{}").ok());
  Result<std::string> linked = upstream_.AddIdp("", IdpKind::kSaml, "Linked SAML");
  Result<std::string> corp = upstream_.AddIdp("", IdpKind::kOidc, "Corp OIDC");
  Result<std::string> google = upstream_.AddIdp("", IdpKind::kGoogle, "");
  Result<std::string> own = upstream_.AddIdpConfig(org, IdpConfigKind::kJwt, "Org JWT");
  ASSERT_TRUE(linked && corp && google && own);
  ASSERT_TRUE(upstream_.AddIdpToLoginPolicy(other, *linked).ok());
  upstream_.AdvanceClock(std::chrono::hours(48));
  upstream_.SetAuditLogRetention(std::chrono::hours(24));  // every IdP event is hidden
  ASSERT_FALSE(history.AddOrg().empty());
  auto daemon = Start();
  ASSERT_TRUE(Matches(*daemon, history.gone()));
  const auto login_reads = [this] {
    return upstream_.RequestCount("/management/v1/policies/login") +
           upstream_.RequestCount("/admin/v1/policies/login");
  };
  const int reads_after_cold_start = login_reads();
  ASSERT_TRUE(upstream_.AddIdpToLoginPolicy("", *corp).ok());
  ASSERT_TRUE(Matches(*daemon, history.gone()));
  for (const std::string& idp : {*corp, *google, *own, *linked}) {
    ASSERT_TRUE(upstream_.AddIdpToLoginPolicy(org, idp).ok()) << idp;
    ASSERT_TRUE(Matches(*daemon, history.gone())) << "linked " << idp;
  }
  // corp (instance), then google and own (org); corp and linked were known by then.
  EXPECT_EQ(login_reads() - reads_after_cold_start, 3) << daemon->process().Log();
  const std::string body = upstream_.KindPolicyBody("login", org);
  EXPECT_NE(body.find(R"("idpName":"Org JWT","idpType":"IDP_TYPE_JWT")"), std::string::npos)
      << body;
  ASSERT_TRUE(upstream_.ChangeIdp(*linked, "Renamed SAML").ok());
  ASSERT_TRUE(Matches(*daemon, history.gone()));
  ASSERT_TRUE(upstream_.RemoveIdp(*corp).ok());
  ASSERT_TRUE(Matches(*daemon, history.gone()));
  EXPECT_EQ(ColdStarts(*daemon), 1u) << daemon->process().Log();
}

// A store written by the policyd before the IdP links (cursor "v4", login rows without links, no
// IdP table) gets them from one cold start.
TEST_F(KindsIdpTest, AStoreWithoutIdpLinksGetsThemFromOneColdStart) {
  RandomKindHistory history(upstream_, Seed() + 400);
  const std::string org = history.AddOrg();
  ASSERT_TRUE(upstream_.AddOrgKindPolicy("login", org, "{}").ok());
  Result<std::string> idp = upstream_.AddIdp("", IdpKind::kOidc, "Corp OIDC");
  ASSERT_TRUE(idp && upstream_.AddIdpToLoginPolicy(org, *idp).ok());
  ASSERT_TRUE(upstream_.AddIdpToLoginPolicy("", *idp).ok());
  {
    auto daemon = Start();
    ASSERT_TRUE(Matches(*daemon, history.gone()));
    ASSERT_EQ(daemon->process().Stop(SIGTERM), 0) << daemon->process().Log();
  }
  {
    std::unique_ptr<Store> store = OpenStore(dir_.Join("data"));
    ASSERT_TRUE(store);
    Result<StoreMeta> meta = store->Meta();
    ASSERT_TRUE(meta && meta->cursor.starts_with("v5 "));
    StoreChange change;
    change.cursor = "v4" + meta->cursor.substr(2);
    ASSERT_TRUE(store
                    ->ForEachKindRow([&](const ::policyd::KindRow& row, bool has_policy) {
                      const ::policyd::KindSpec& spec = ::policyd::SpecOf(row.policy.kind);
                      if (!has_policy) return Status::Ok();
                      KindPolicy stripped = row.policy;
                      bool links = false;
                      for (std::size_t i = 0; i < spec.fields.size(); ++i) {
                        if (spec.fields[i].type != ::policyd::FieldType::kIdpLinks) continue;
                        links = links || !stripped.fields[i].links.empty();
                        stripped.fields[i].links.clear();
                      }
                      if (links) {
                        change.put_kind_rows.push_back(
                            {row.policy.kind, row.org_id, std::move(stripped), std::nullopt});
                      }
                      return Status::Ok();
                    })
                    .ok());
    ASSERT_EQ(change.put_kind_rows.size(), 3u);  // the org's and the instance's, and the table
    ASSERT_TRUE(store->Apply(change, meta->last_change).ok());
  }
  auto daemon = Start();
  ASSERT_TRUE(Matches(*daemon, history.gone()));
  EXPECT_EQ(ColdStarts(*daemon), 1u) << daemon->process().Log();
  EXPECT_NE(daemon->process().Log().find("no IdP links"), std::string::npos);
}

}  // namespace
}  // namespace policyd::testing_support
