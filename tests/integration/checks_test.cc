// Local checks against the real binaries: the C++ client and `policyctl check` on a snapshot with
// domains (and on the bundled example, also as a migrated v1 store), and, against the fake
// upstream, a domain added and verified upstream becoming acceptable once policyd has synced it.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>

#include "fake_upstream/fake_upstream.h"
#include "support/daemon.h"

namespace policyd::testing_support {
namespace {

// The org numbers of MakeSnapshot: "org-<i>" has the verified primary "org-<i>.example.com",
// every 3rd an unverified "org-<i>.example.net", every 4th a verified "login.org-<i>.example.org".
int Number(const std::string& org_id) { return std::stoi(org_id.substr(4)); }

class ChecksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    snapshot_ = new Snapshot(MakeSnapshot(120, 4));
    WriteSnapshot(*snapshot_, dir_->Join("snapshot.json"));
    daemon_ = new Daemon(*dir_, {"--snapshot", dir_->Join("snapshot.json")});
    ASSERT_TRUE(daemon_->WaitReady());
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete snapshot_;
    delete dir_;
  }

  static TempDir* dir_;
  static Snapshot* snapshot_;
  static Daemon* daemon_;
};
TempDir* ChecksTest::dir_ = nullptr;
Snapshot* ChecksTest::snapshot_ = nullptr;
Daemon* ChecksTest::daemon_ = nullptr;

TEST_F(ChecksTest, LoginNamesFollowEachOrgsEffectivePolicyAndVerifiedDomains) {
  Client client = daemon_->Connect();
  int with_flag = 0, without_flag = 0;
  for (const OrgRecord& org : snapshot_->orgs) {
    const int i = Number(org.id);
    const DomainPolicy policy = ExpectedPolicy(*snapshot_, org.id);
    const bool must = policy.flags.user_login_must_be_domain;
    (must ? with_flag : without_flag)++;
    SCOPED_TRACE(org.id);
    Result<CheckAnswer> a = client.CheckLoginName(org.id, "alice@" + org.id + ".EXAMPLE.com");
    ASSERT_TRUE(a.has_value()) << a.error().ToString();
    EXPECT_TRUE(a->allowed) << a->message;
    EXPECT_EQ(a->policy, policy);
    EXPECT_TRUE(a->org_known);
    if (must) {
      EXPECT_EQ(a->reason, CheckReason::kAllowedVerifiedDomain);
      EXPECT_EQ(a->matched_domain, org.id + ".example.com");
    } else {
      EXPECT_EQ(a->reason, CheckReason::kAllowedBareUsername);
    }
    if (must && i % 3 == 0) {  // the unverified domain
      a = client.CheckLoginName(org.id, "alice@" + org.id + ".example.net");
      ASSERT_TRUE(a.has_value());
      EXPECT_FALSE(a->allowed);
      EXPECT_EQ(a->reason, CheckReason::kDomainNotVerified);
    }
    if (must && i % 4 == 0) {  // a verified domain that is not the primary
      a = client.CheckLoginName(org.id, "alice@login." + org.id + ".example.org");
      ASSERT_TRUE(a.has_value());
      EXPECT_TRUE(a->allowed) << a->message;
    }
    // Another org's verified domain: not one of this org's (flag on), or a bare username that
    // poses as that org's user (flag off, the upstream's DomainNotAllowedAsUsername).
    a = client.CheckLoginName(org.id, "alice@ORG-1.example.com");
    ASSERT_TRUE(a.has_value());
    if (org.id == "org-1") {
      EXPECT_TRUE(a->allowed) << a->message;
    } else {
      EXPECT_FALSE(a->allowed) << a->message;
      EXPECT_EQ(a->reason,
                must ? CheckReason::kDomainNotInOrg : CheckReason::kDomainNotAllowedAsUsername);
      if (!must) {
        EXPECT_EQ(a->matched_domain, "org-1.example.com");
      }
    }
  }
  EXPECT_GT(with_flag, 0);
  EXPECT_GT(without_flag, 0);
}

TEST_F(ChecksTest, ABatchAcrossManyOrgsMatchesTheSingleChecks) {
  Client client = daemon_->Connect();
  std::vector<std::string> names;  // the views in `checks` point into these
  names.reserve(snapshot_->orgs.size() * 3);
  std::vector<CheckRequest> checks;
  for (const OrgRecord& org : snapshot_->orgs) {
    names.push_back("bob@" + org.id + ".example.net");
    checks.push_back({CheckKind::kLoginName, org.id, names.back(), false});
    names.push_back(org.id + ".example.net");
    checks.push_back({CheckKind::kDomainVerification, org.id, names.back(), false});
    checks.push_back({CheckKind::kSmtpSender, "", "noreply@mail.example.com", false});
  }
  checks.push_back({CheckKind::kLoginName, "no-such-org", "bob", true});
  Result<std::vector<CheckAnswer>> batch = client.CheckBatch(checks);
  ASSERT_TRUE(batch.has_value()) << batch.error().ToString();
  ASSERT_EQ(batch->size(), checks.size());
  for (std::size_t i = 0; i + 1 < checks.size(); ++i) {
    Result<CheckAnswer> one = client.Check(checks[i]);
    ASSERT_TRUE(one.has_value()) << one.error().ToString();
    const CheckAnswer& b = (*batch)[i];
    EXPECT_EQ(b.allowed, one->allowed) << i;
    EXPECT_EQ(b.reason, one->reason) << i;
    EXPECT_EQ(b.matched_domain, one->matched_domain) << i;
    EXPECT_EQ(b.message, one->message) << i;
    EXPECT_EQ(b.policy, one->policy) << i;
    EXPECT_EQ(b.domain_on_org, one->domain_on_org) << i;
  }
  EXPECT_EQ(batch->back().status.code(), Code::kNotFound);
}

TEST_F(ChecksTest, SmtpSendersAndDomainVerificationUseTheRightPolicy) {
  Client client = daemon_->Connect();
  // The instance default requires instance-domain senders (MakeSnapshot: {false, true, true}).
  Result<CheckAnswer> a = client.CheckSmtpSender("noreply@Mail.Example.com");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->allowed) << a->message;
  EXPECT_EQ(a->matched_domain, "mail.example.com");
  EXPECT_TRUE(a->policy.is_default);
  a = client.CheckSmtpSender("noreply@org-0.example.com");  // an org's domain, not the instance's
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->reason, CheckReason::kSenderDomainNotInstanceDomain);

  for (const OrgRecord& org : snapshot_->orgs) {
    SCOPED_TRACE(org.id);
    const bool validate = ExpectedPolicy(*snapshot_, org.id).flags.validate_org_domains;
    a = client.CheckDomainVerification(org.id, "brand-new.example");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->allowed, !validate);
    EXPECT_EQ(a->reason, validate ? CheckReason::kVerificationRequired : CheckReason::kNotRequired);
    a = client.CheckDomainVerification(org.id, org.id + ".example.com");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->reason, CheckReason::kDomainAlreadyVerified);
  }
}

TEST_F(ChecksTest, PolicyctlCheckExitsZeroWhenAllowedAndOneWhenRefused) {
  // org-0 has its own policy with userLoginMustBeDomain (MakeSnapshot: even multiples of 4).
  CommandResult ok = daemon_->Ctl({"check", "login-name", "org-0", "alice@org-0.example.com"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("allowed: org-0.example.com is a verified domain of org org-0"),
            std::string::npos)
      << ok.out;
  EXPECT_NE(ok.out.find("reason:  ALLOWED_VERIFIED_DOMAIN"), std::string::npos) << ok.out;

  CommandResult refused =
      daemon_->Ctl({"check", "login-name", "org-0", "alice@org-0.example.net", "--json"});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_EQ(refused.out.rfind("{\"allowed\":false,\"reason\":\"DOMAIN_NOT_VERIFIED\","
                              "\"kind\":\"login_name\",\"orgId\":\"org-0\",\"orgKnown\":true,"
                              "\"matchedDomain\":\"org-0.example.net\",",
                              0),
            0u)
      << refused.out;

  CommandResult smtp = daemon_->Ctl({"check", "smtp-sender", "noreply@zitadel.example.com"});
  EXPECT_EQ(smtp.exit_code, 0) << smtp.err;
  CommandResult domain = daemon_->Ctl({"check", "domain", "org-0", "new.example"});
  EXPECT_EQ(domain.exit_code, 1) << domain.out;  // org-0 validates its domains
  EXPECT_NE(domain.out.find("VERIFICATION_REQUIRED"), std::string::npos) << domain.out;

  CommandResult strict = daemon_->Ctl({"check", "login-name", "no-such-org", "alice", "--strict"});
  EXPECT_EQ(strict.exit_code, 3);
  EXPECT_NE(strict.err.find("NOT_FOUND"), std::string::npos) << strict.err;
  CommandResult bad_org = daemon_->Ctl({"check", "login-name", std::string(201, 'x'), "alice"});
  EXPECT_EQ(bad_org.exit_code, 5);
  EXPECT_NE(bad_org.err.find("INVALID_ARGUMENT"), std::string::npos) << bad_org.err;
  CommandResult usage = daemon_->Ctl({"check", "login-name", "org-0"});
  EXPECT_EQ(usage.exit_code, 2);
  CommandResult no_daemon =
      RunCommand({BinDir() + "/cli/policyctl", "--socket", dir_->Join("nothing.sock"), "check",
                  "smtp-sender", "a@b.example"});
  EXPECT_EQ(no_daemon.exit_code, 4);
}

// The issue's example: on the bundled snapshot, org 300000000000000107 (userLoginMustBeDomain off)
// may not have a user "bob@acme.com", acme.com being verified by org 300000000000000042.
TEST(ChecksExampleTest, PolicyctlRefusesAUsernameOnAnotherOrgsVerifiedDomain) {
  TempDir dir;
  Daemon daemon(dir, {"--snapshot", SourceDir() + "/examples/snapshot.json"});
  ASSERT_TRUE(daemon.WaitReady());
  CommandResult refused = daemon.Ctl({"check", "login-name", "300000000000000107", "bob@acme.com"});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.out.find("refused: acme.com is a verified domain of org 300000000000000042"),
            std::string::npos)
      << refused.out;
  EXPECT_NE(refused.out.find("reason:  DOMAIN_NOT_ALLOWED_AS_USERNAME"), std::string::npos)
      << refused.out;
  CommandResult json =
      daemon.Ctl({"check", "login-name", "300000000000000107", "bob@ACME.com", "--json"});
  EXPECT_EQ(json.exit_code, 1);
  EXPECT_EQ(json.out.rfind("{\"allowed\":false,\"reason\":\"DOMAIN_NOT_ALLOWED_AS_USERNAME\",", 0),
            0u)
      << json.out;
  // Its own verified domain, and a domain nobody verified, are fine.
  CommandResult own =
      daemon.Ctl({"check", "login-name", "300000000000000107", "bob@globex.example.zitadel.cloud"});
  EXPECT_EQ(own.exit_code, 0) << own.out;
  CommandResult free_domain =
      daemon.Ctl({"check", "login-name", "300000000000000107", "bob@acme.org"});  // unverified
  EXPECT_EQ(free_domain.exit_code, 0) << free_domain.out;
  EXPECT_NE(free_domain.out.find("ALLOWED_BARE_USERNAME"), std::string::npos) << free_domain.out;
}

// A data dir written by a v1 binary (no verified-domain index) is migrated when policyd starts
// on it, and then answers as if the snapshot had been loaded by this binary.
TEST(ChecksExampleTest, AV1StoreIsMigratedAtStartAndGetsTheIndex) {
  TempDir dir;
  {
    Daemon loader(dir, {"--snapshot", SourceDir() + "/examples/snapshot.json"});
    ASSERT_TRUE(loader.WaitReady());
    ASSERT_EQ(loader.process().Stop(SIGTERM), 0);
  }
  {  // what a v1 binary leaves: no index rows, format v1
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir.Join("data"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteBatch batch;
    ASSERT_TRUE(batch.DeleteRange("verified-domain:", "verified-domain;").ok());
    ASSERT_TRUE(batch.Put("meta:format", "policyd-store-v1").ok());
    ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &batch).ok());
  }
  Daemon daemon(dir);
  ASSERT_TRUE(daemon.WaitReady());
  CommandResult refused = daemon.Ctl({"check", "login-name", "300000000000000107", "bob@acme.com"});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.out.find("DOMAIN_NOT_ALLOWED_AS_USERNAME"), std::string::npos) << refused.out;
  EXPECT_NE(daemon.process().Log().find("migrated from policyd-store-v1 to policyd-store-v2"),
            std::string::npos)
      << daemon.process().Log();
  EXPECT_NE(daemon.process().Log().find("migrated from policyd-store-v2 to policyd-store-v3"),
            std::string::npos)
      << daemon.process().Log();
}

// A domain added and verified upstream becomes an acceptable login-name domain once synced;
// until it is verified it is refused as unverified.
TEST(ChecksSyncTest, ADomainVerifiedUpstreamBecomesAcceptableAfterSync) {
  FakeUpstream upstream;
  ASSERT_TRUE(upstream.ok());
  TempDir dir;
  const std::string token = dir.Join("token");
  std::ofstream(token) << "fake-pat-0123456789\n";
  chmod(token.c_str(), 0600);
  const std::string org = upstream.AddOrg("Acme");
  ASSERT_FALSE(org.empty());
  // Domain login names, and domains stay unverified until their challenge passes.
  ASSERT_TRUE(upstream.AddOrgPolicy(org, {true, true, false}).ok());
  // Another org whose login names are bare usernames.
  const std::string other = upstream.AddOrg("Globex");
  ASSERT_FALSE(other.empty());
  ASSERT_TRUE(upstream.AddOrgPolicy(other, {false, false, false}).ok());

  Daemon daemon(dir, {"--upstream", upstream.base_url(), "--token-file", token, "--poll-interval",
                      "200ms", "--request-timeout", "2s"});
  ASSERT_TRUE(daemon.WaitReady());
  Client client = daemon.Connect();
  auto reason = [&](const std::string& name) {
    Result<CheckAnswer> a = client.CheckLoginName(org, name);
    return a ? std::string(CheckReasonName(a->reason)) : a.error().ToString();
  };
  auto other_reason = [&](const std::string& name) {
    Result<CheckAnswer> a = client.CheckLoginName(other, name);
    return a ? std::string(CheckReasonName(a->reason)) : a.error().ToString();
  };
  // The generated domain (added, verified and primary with the org) once the first sync is in.
  ASSERT_TRUE(
      WaitFor([&] { return reason("alice@acme.zitadel.example.com") == "ALLOWED_VERIFIED_DOMAIN"; },
              std::chrono::seconds(20), "the first sync"));
  EXPECT_EQ(reason("alice@acme.com"), "DOMAIN_NOT_IN_ORG");

  ASSERT_TRUE(upstream.AddOrgDomain(org, "acme.com").ok());
  EXPECT_TRUE(WaitFor([&] { return reason("alice@acme.com") == "DOMAIN_NOT_VERIFIED"; },
                      std::chrono::seconds(10), "the added domain"));
  Result<CheckAnswer> pending = client.CheckDomainVerification(org, "acme.com");
  ASSERT_TRUE(pending.has_value());
  EXPECT_TRUE(pending->domain_on_org);
  EXPECT_FALSE(pending->domain_verified);

  EXPECT_EQ(other_reason("bob@acme.com"), "ALLOWED_BARE_USERNAME");  // nobody verified it yet

  ASSERT_TRUE(upstream.VerifyOrgDomain(org, "acme.com").ok());
  EXPECT_TRUE(WaitFor([&] { return reason("alice@ACME.com") == "ALLOWED_VERIFIED_DOMAIN"; },
                      std::chrono::seconds(10), "the verified domain"));
  // Verified by Acme, the domain is no longer a username's for Globex's users (same sync batch).
  EXPECT_EQ(other_reason("bob@acme.com"), "DOMAIN_NOT_ALLOWED_AS_USERNAME");
  EXPECT_EQ(other_reason("bob@globex.zitadel.example.com"), "ALLOWED_BARE_USERNAME");

  ASSERT_TRUE(upstream.RemoveOrgDomain(org, "acme.com").ok());
  EXPECT_TRUE(WaitFor([&] { return reason("alice@acme.com") == "DOMAIN_NOT_IN_ORG"; },
                      std::chrono::seconds(10), "the removed domain"));
  EXPECT_EQ(other_reason("bob@acme.com"), "ALLOWED_BARE_USERNAME");
  // The org's removal drops the claims of its domains, the generated one too.
  EXPECT_EQ(other_reason("bob@acme.zitadel.example.com"), "DOMAIN_NOT_ALLOWED_AS_USERNAME");
  ASSERT_TRUE(upstream.RemoveOrg(org).ok());
  EXPECT_TRUE(WaitFor(
      [&] { return other_reason("bob@acme.zitadel.example.com") == "ALLOWED_BARE_USERNAME"; },
      std::chrono::seconds(10), "the removed org"));

  // Instance domains reach the SMTP sender check the same way.
  ASSERT_TRUE(upstream.ChangeDefaultPolicy({false, false, true}).ok());
  ASSERT_TRUE(upstream.AddInstanceDomain("mail.acme.com").ok());
  EXPECT_TRUE(WaitFor(
      [&] {
        Result<CheckAnswer> a = client.CheckSmtpSender("noreply@mail.acme.com");
        return a && a->reason == CheckReason::kAllowedInstanceDomain;
      },
      std::chrono::seconds(10), "the instance domain"));
}

// Issue 12 §3: where audit-log retention hides every domain event, the daemon's cold start still
// knows each org's verified non-primary domains (login names with them are allowed, as the
// upstream allows them), its unverified ones, and the instance's domains.
TEST(ChecksSyncTest, UnderRetentionAColdStartKnowsDomainsWhoseEventsAreHidden) {
  FakeUpstream upstream;
  ASSERT_TRUE(upstream.ok());
  TempDir dir;
  const std::string token = dir.Join("token");
  std::ofstream(token) << "fake-pat-0123456789\n";
  chmod(token.c_str(), 0600);
  const std::string org = upstream.AddOrg("Acme");
  ASSERT_TRUE(upstream.AddOrgPolicy(org, {true, true, false}).ok());
  ASSERT_TRUE(upstream.AddOrgDomain(org, "acme.com").ok());
  ASSERT_TRUE(upstream.VerifyOrgDomain(org, "acme.com").ok());  // verified, not primary
  ASSERT_TRUE(upstream.AddOrgDomain(org, "acme.net").ok());     // stays unverified
  ASSERT_TRUE(upstream.ChangeDefaultPolicy({false, false, true}).ok());
  ASSERT_TRUE(upstream.AddInstanceDomain("mail.acme.com").ok());
  upstream.AdvanceClock(std::chrono::hours(48));
  upstream.SetAuditLogRetention(std::chrono::hours(24));  // none of these events is visible

  Daemon daemon(dir, {"--upstream", upstream.base_url(), "--token-file", token, "--poll-interval",
                      "200ms", "--request-timeout", "2s"});
  ASSERT_TRUE(daemon.WaitReady());
  Client client = daemon.Connect();
  auto reason = [&](const std::string& name) {
    Result<CheckAnswer> a = client.CheckLoginName(org, name);
    return a ? std::string(CheckReasonName(a->reason)) : a.error().ToString();
  };
  ASSERT_TRUE(
      WaitFor([&] { return reason("alice@acme.zitadel.example.com") == "ALLOWED_VERIFIED_DOMAIN"; },
              std::chrono::seconds(20), "the first sync"));
  EXPECT_EQ(upstream.RequestCount("/management/v1/orgs/me/domains/_search"), 1);
  EXPECT_EQ(reason("alice@ACME.com"), "ALLOWED_VERIFIED_DOMAIN");
  EXPECT_EQ(reason("alice@acme.net"), "DOMAIN_NOT_VERIFIED");
  EXPECT_EQ(reason("alice@other.com"), "DOMAIN_NOT_IN_ORG");
  Result<CheckAnswer> smtp = client.CheckSmtpSender("noreply@mail.acme.com");
  ASSERT_TRUE(smtp.has_value()) << smtp.error().ToString();
  EXPECT_EQ(smtp->reason, CheckReason::kAllowedInstanceDomain) << smtp->message;
}

}  // namespace
}  // namespace policyd::testing_support
