// The request handler's generic policy kinds: lookups naming kinds (one org, a batch, the
// instance default) resolve each kind on its own rows from one Store::Read; old requests answer
// exactly as before; PASSWORD checks decide on the org's effective password complexity policy;
// a frame holding a password is reported for wiping.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "check/password.h"
#include "server/handler.h"
#include "store/indexed_store.h"
#include "wire/frame.h"
#include "wire/request.h"

namespace policyd {
namespace {

Details DetailsOf(std::uint64_t sequence, std::string owner) {
  return Details{sequence, Timestamp{1700000000, 0}, Timestamp{1700000500, 0}, std::move(owner)};
}

void SetField(KindPolicy& policy, std::string_view name, std::uint64_t number) {
  const int i = FindKindField(SpecOf(policy.kind), name);
  ASSERT_GE(i, 0) << name;
  policy.fields[static_cast<std::size_t>(i)].number = number;
}

KindPolicy Complexity(std::uint64_t min_length, bool symbol, std::string owner) {
  KindPolicy p = EmptyKindPolicy(PolicyKind::kPasswordComplexity);
  SetField(p, "minLength", min_length);
  SetField(p, "hasLowercase", 1);
  SetField(p, "hasNumber", 1);
  SetField(p, "hasSymbol", symbol ? 1 : 0);
  p.details = DetailsOf(7, std::move(owner));
  return p;
}

KindPolicy Lockout(std::uint64_t attempts, std::string owner) {
  KindPolicy p = EmptyKindPolicy(PolicyKind::kLockout);
  SetField(p, "maxPasswordAttempts", attempts);
  p.details = DetailsOf(9, std::move(owner));
  return p;
}

KindPolicy Login(std::uint64_t lifetime_seconds, std::string owner) {
  KindPolicy p = EmptyKindPolicy(PolicyKind::kLogin);
  SetField(p, "allowUsernamePassword", 1);
  SetField(p, "passwordCheckLifetime", lifetime_seconds * 1'000'000'000);
  p.details = DetailsOf(11, std::move(owner));
  return p;
}

// The instance has defaults of password complexity, lockout and login (none of the others).
// org-own has its own complexity and lockout rows; org-plain none.
Snapshot TestSnapshot() {
  Snapshot s;
  s.instance = InstanceRecord{"inst", PolicyRecord{{true, false, true}, DetailsOf(3, "inst")}};
  s.orgs = {OrgRecord{"org-own", std::nullopt}, OrgRecord{"org-plain", std::nullopt}};
  s.kind_rows = {KindRow{"", Complexity(8, true, "inst"), {}}, KindRow{"", Lockout(10, "inst"), {}},
                 KindRow{"", Login(864000, "inst"), {}},
                 KindRow{"org-own", Complexity(12, false, "org-own"), {}},
                 KindRow{"org-own", Lockout(3, "org-own"), {}}};
  return s;
}

class KindHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "policyd-kinds-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Result<std::unique_ptr<Store>> base = OpenRocksStore(dir_ + "/data", StoreOptions{});
    ASSERT_TRUE(base.has_value()) << base.error().ToString();
    ASSERT_TRUE((*base)->Replace(TestSnapshot(), "test", "", SystemClock().Now()).ok());
    store_ = WithMemoryIndex(std::move(*base), [this](const IndexLoad&) {
      std::lock_guard lock(mu_);
      loaded_ = true;
      cv_.notify_all();
    });
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return loaded_; });
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Answers one request frame (with its length prefix) and decodes the answer.
  Response Ask(const std::vector<std::uint8_t>& frame, FrameSecrets* secrets = nullptr) {
    RequestHandler handler(*store_, state_, SystemClock(), "test");
    std::vector<std::uint64_t> in((frame.size() + 7) / 8);
    std::memcpy(in.data(), frame.data() + kFrameHeaderBytes, frame.size() - kFrameHeaderBytes);
    std::vector<std::uint8_t> out;
    const FrameSecrets s = handler.Handle(
        {reinterpret_cast<const std::uint8_t*>(in.data()), frame.size() - kFrameHeaderBytes}, out);
    if (secrets != nullptr) *secrets = s;
    std::vector<std::uint64_t> aligned((out.size() + 7) / 8);
    std::memcpy(aligned.data(), out.data() + kFrameHeaderBytes, out.size() - kFrameHeaderBytes);
    Result<Response> r = DecodeResponse(
        {reinterpret_cast<const std::uint8_t*>(aligned.data()), out.size() - kFrameHeaderBytes});
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r ? std::move(*r) : Response{};
  }

  static KindSet Kinds(std::initializer_list<PolicyKind> kinds) {
    KindSet set;
    for (PolicyKind k : kinds) set.insert(k);
    return set;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool loaded_ = false;
  ServingState state_{FreshnessOptions{}};
};

TEST_F(KindHandlerTest, OneFrameAnswersSeveralKindsEachWithItsOwnFallback) {
  std::vector<std::uint8_t> frame;
  AppendGetOrgKinds(frame, 5, "org-own",
                    Kinds({PolicyKind::kDomain, PolicyKind::kPasswordComplexity,
                           PolicyKind::kLockout, PolicyKind::kLogin}),
                    false);
  const Response r = Ask(frame);
  ASSERT_EQ(r.kind, ResponseKind::kPolicy) << r.error.ToString();
  ASSERT_EQ(r.policies.size(), 1u);
  const PolicyAnswer& a = r.policies[0];
  EXPECT_TRUE(a.org_known);
  EXPECT_TRUE(a.has_domain);
  EXPECT_TRUE(a.policy.is_default);  // org-own has no domain policy of its own
  ASSERT_EQ(a.kinds.size(), 3u);
  const KindValue* complexity = a.kind(PolicyKind::kPasswordComplexity);
  ASSERT_NE(complexity, nullptr);
  EXPECT_FALSE(complexity->is_default);
  EXPECT_EQ(complexity->policy, Complexity(12, false, "org-own"));
  const KindValue* lockout = a.kind(PolicyKind::kLockout);
  ASSERT_NE(lockout, nullptr);
  EXPECT_FALSE(lockout->is_default);
  EXPECT_EQ(lockout->policy, Lockout(3, "org-own"));
  const KindValue* login = a.kind(PolicyKind::kLogin);
  ASSERT_NE(login, nullptr);
  EXPECT_TRUE(login->is_default);
  EXPECT_EQ(login->policy, Login(864000, "inst"));
  EXPECT_EQ(a.kind(PolicyKind::kPrivacy), nullptr);  // not asked
}

TEST_F(KindHandlerTest, AnOrgWithoutOwnRowsGetsTheDefaultsAndDomainCanBeLeftOut) {
  std::vector<std::uint8_t> frame;
  AppendGetOrgKinds(frame, 6, "org-plain", KindSet::Of(PolicyKind::kPasswordComplexity), true);
  const Response r = Ask(frame);
  ASSERT_EQ(r.kind, ResponseKind::kPolicy) << r.error.ToString();
  const PolicyAnswer& a = r.policies[0];
  EXPECT_FALSE(a.has_domain);
  ASSERT_EQ(a.kinds.size(), 1u);
  EXPECT_TRUE(a.kinds[0].is_default);
  EXPECT_EQ(a.kinds[0].policy, Complexity(8, true, "inst"));
}

TEST_F(KindHandlerTest, UnknownOrgsFallBackUnlessStrictAndBadIdsAreRefusedWithoutDomain) {
  std::vector<std::uint8_t> frame;
  AppendGetOrgKinds(frame, 7, "org-nobody", KindSet::Of(PolicyKind::kLockout), false);
  Response r = Ask(frame);
  ASSERT_EQ(r.kind, ResponseKind::kPolicy) << r.error.ToString();
  EXPECT_FALSE(r.policies[0].org_known);
  EXPECT_EQ(r.policies[0].kinds[0].policy, Lockout(10, "inst"));

  frame.clear();
  AppendGetOrgKinds(frame, 8, "org-nobody", KindSet::Of(PolicyKind::kLockout), true);
  r = Ask(frame);
  ASSERT_EQ(r.kind, ResponseKind::kError);
  EXPECT_EQ(r.error.code(), Code::kNotFound);

  frame.clear();
  AppendGetOrgKinds(frame, 9, std::string(kMaxIdLength + 1, '7'), KindSet::Of(PolicyKind::kLockout),
                    false);
  r = Ask(frame);
  ASSERT_EQ(r.kind, ResponseKind::kError);
  EXPECT_EQ(r.error.code(), Code::kInvalidArgument);
}

TEST_F(KindHandlerTest, AKindWithNoStoredDefaultIsUnavailable) {
  std::vector<std::uint8_t> frame;
  AppendGetOrgKinds(frame, 10, "org-own", Kinds({PolicyKind::kLockout, PolicyKind::kPrivacy}),
                    false);
  const Response r = Ask(frame);
  ASSERT_EQ(r.kind, ResponseKind::kError);
  EXPECT_EQ(r.error.code(), Code::kUnavailable);
  EXPECT_NE(r.error.message().find("privacy"), std::string::npos) << r.error.message();
}

TEST_F(KindHandlerTest, ABatchAnswersEveryOrgWithItsOwnStatus) {
  const std::vector<std::string> orgs = {"org-own", "org-nobody", "org-plain", ""};
  std::vector<std::uint8_t> frame;
  AppendGetOrgsKinds(frame, 11, orgs, Kinds({PolicyKind::kDomain, PolicyKind::kLockout}), true);
  const Response r = Ask(frame);
  ASSERT_EQ(r.kind, ResponseKind::kBatch) << r.error.ToString();
  ASSERT_EQ(r.policies.size(), 4u);
  EXPECT_TRUE(r.policies[0].status.ok());
  EXPECT_EQ(r.policies[0].kinds[0].policy, Lockout(3, "org-own"));
  EXPECT_EQ(r.policies[1].status.code(), Code::kNotFound);
  EXPECT_TRUE(r.policies[2].status.ok());
  EXPECT_TRUE(r.policies[2].kinds[0].is_default);
  EXPECT_TRUE(r.policies[2].has_domain);
  EXPECT_EQ(r.policies[3].status.code(), Code::kInvalidArgument);
}

TEST_F(KindHandlerTest, TheDefaultRequestAnswersTheInstanceDefaultsOfTheKinds) {
  std::vector<std::uint8_t> frame;
  AppendGetDefaultKinds(frame, 12, Kinds({PolicyKind::kLogin, PolicyKind::kPasswordComplexity}));
  const Response r = Ask(frame);
  ASSERT_EQ(r.kind, ResponseKind::kPolicy) << r.error.ToString();
  const PolicyAnswer& a = r.policies[0];
  EXPECT_FALSE(a.has_domain);
  ASSERT_EQ(a.kinds.size(), 2u);
  EXPECT_EQ(a.kinds[0].policy, Complexity(8, true, "inst"));
  EXPECT_TRUE(a.kinds[0].is_default);
  EXPECT_EQ(a.kinds[1].policy, Login(864000, "inst"));
}

TEST_F(KindHandlerTest, RequestsWithoutKindsAnswerExactlyAsBefore) {
  std::vector<std::uint8_t> old_frame, named_frame;
  AppendGetOrgPolicy(old_frame, 13, "org-own", false);
  const Response old_answer = Ask(old_frame);
  ASSERT_EQ(old_answer.kind, ResponseKind::kPolicy);
  EXPECT_TRUE(old_answer.policies[0].kinds.empty());
  AppendGetOrgKinds(named_frame, 13, "org-own", KindSet::Of(PolicyKind::kDomain), false);
  const Response named = Ask(named_frame);
  EXPECT_EQ(named.policies[0].policy, old_answer.policies[0].policy);
  EXPECT_TRUE(named.policies[0].kinds.empty());
}

TEST_F(KindHandlerTest, PasswordChecksUseTheOrgsEffectiveComplexityPolicy) {
  std::vector<std::uint8_t> frame;
  AppendCheck(frame, 14, {CheckKind::kPassword, "org-own", "abcdefgh1", false});
  FrameSecrets secrets = FrameSecrets::kNone;
  Response r = Ask(frame, &secrets);
  EXPECT_EQ(secrets, FrameSecrets::kMayHoldSecret);
  ASSERT_EQ(r.kind, ResponseKind::kCheck) << r.error.ToString();
  CheckAnswer a = r.checks[0];
  EXPECT_FALSE(a.allowed);  // org-own wants 12 bytes
  EXPECT_EQ(a.reason, CheckReason::kPasswordTooShort);
  EXPECT_EQ(a.error_id, "DOMAIN-HuJf6");
  EXPECT_EQ(a.message, VerdictOf(PasswordRule::kMinLength).message);
  ASSERT_TRUE(a.password_complexity.has_value());
  EXPECT_FALSE(a.password_complexity->is_default);
  EXPECT_EQ(a.password_complexity->policy, Complexity(12, false, "org-own"));
  EXPECT_EQ(a.message.find("abcdefgh1"), std::string::npos);

  // org-plain inherits the default: 8 bytes and a symbol.
  const std::vector<CheckRequest> checks = {
      {CheckKind::kPassword, "org-plain", "abcdefgh1", false},
      {CheckKind::kPassword, "org-plain", "abcd efg1", false},  // a space is a symbol
      {CheckKind::kPassword, "org-own", "abcdefghijk1", false},
      {CheckKind::kPassword, "org-nobody", "x", true},
      {CheckKind::kLoginName, "org-plain", "bob", false}};
  frame.clear();
  AppendCheckBatch(frame, 15, checks);
  r = Ask(frame, &secrets);
  EXPECT_EQ(secrets, FrameSecrets::kMayHoldSecret);
  ASSERT_EQ(r.kind, ResponseKind::kCheckBatch) << r.error.ToString();
  ASSERT_EQ(r.checks.size(), 5u);
  EXPECT_EQ(r.checks[0].reason, CheckReason::kPasswordNoSymbol);
  EXPECT_EQ(r.checks[0].error_id, "DOMAIN-ZDLwA");
  EXPECT_TRUE(r.checks[0].password_complexity->is_default);
  EXPECT_TRUE(r.checks[1].allowed);
  EXPECT_EQ(r.checks[1].reason, CheckReason::kPasswordAllowed);
  EXPECT_TRUE(r.checks[1].error_id.empty());
  EXPECT_TRUE(r.checks[2].allowed);
  EXPECT_EQ(r.checks[3].status.code(), Code::kNotFound);
  EXPECT_TRUE(r.checks[4].status.ok());
  EXPECT_FALSE(r.checks[4].password_complexity.has_value());
}

TEST_F(KindHandlerTest, APasswordCheckNeedsAnOrg) {
  std::vector<std::uint8_t> frame;
  AppendCheck(frame, 16, {CheckKind::kPassword, "", "Secret-1", false});
  const Response r = Ask(frame);
  ASSERT_EQ(r.kind, ResponseKind::kError);
  EXPECT_EQ(r.error.code(), Code::kInvalidArgument);
  EXPECT_EQ(r.error.message().find("Secret-1"), std::string::npos);
}

TEST_F(KindHandlerTest, OnlyFramesThatMayHoldAPasswordAreReportedForWiping) {
  std::vector<std::uint8_t> frame;
  FrameSecrets secrets = FrameSecrets::kMayHoldSecret;
  AppendCheck(frame, 17, {CheckKind::kLoginName, "org-plain", "bob", false});
  Ask(frame, &secrets);
  EXPECT_EQ(secrets, FrameSecrets::kNone);
  frame.clear();
  AppendGetOrgKinds(frame, 18, "org-own", KindSet::Of(PolicyKind::kLockout), false);
  Ask(frame, &secrets);
  EXPECT_EQ(secrets, FrameSecrets::kNone);
}

}  // namespace
}  // namespace policyd
