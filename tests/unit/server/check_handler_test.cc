// The request handler's checks: policies from one Store::Read, domains read only when a decision
// needs them, per-check errors inside a batch, whole-request errors for a single check, the
// stale and no-data refusals, counting, and no allocation on the warmed-up no-domain path.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <new>
#include <optional>

#include "server/handler.h"
#include "store/forwarding_store.h"
#include "store/indexed_store.h"
#include "wire/frame.h"
#include "wire/request.h"

// Every allocation of this test binary's threads is counted, each thread on its own, so a test
// can assert that a code path allocates nothing (RocksDB's and the index loader's background
// threads allocate when they like; their allocations are not the handler's).
namespace {
thread_local std::uint64_t g_allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace policyd {
namespace {

// Forwards to a real store, counting reads and those that bring domains along; the latter can be
// made to fail.
class CountingStore final : public ForwardingStore {
 public:
  explicit CountingStore(Store& inner) : ForwardingStore(inner) {}
  Status Read(LookupBatch& batch) const override {
    ++reads;
    if (batch.with_domains()) {
      ++domain_reads;
      if (fail_domains) return Status::Internal("injected domain read failure");
    }
    return base().Read(batch);
  }
  Status Apply(const StoreChange&, Timestamp) override { return Status::Internal("read only"); }
  Status Replace(const Snapshot&, std::string_view, std::string_view, Timestamp) override {
    return Status::Internal("read only");
  }
  Status Flush() override { return Status::Ok(); }

  mutable int reads = 0;
  mutable int domain_reads = 0;
  bool fail_domains = false;
};

PolicyRecord Record(PolicyFlags flags, std::string owner) {
  return PolicyRecord{flags, Details{3, Timestamp{1700000000, 0}, Timestamp{}, std::move(owner)}};
}

// The instance default requires domain login names and instance-domain senders. org-open has
// its own policy without either; org-strict its own policy with domain login names and domain
// validation; org-inherit none (the default applies).
Snapshot TestSnapshot() {
  Snapshot s;
  s.instance = InstanceRecord{"inst", Record({true, false, true}, "inst")};
  s.orgs = {OrgRecord{"org-inherit", std::nullopt},
            OrgRecord{"org-open", Record({false, false, false}, "org-open")},
            OrgRecord{"org-strict", Record({true, true, false}, "org-strict")}};
  s.org_domains = {
      OrgDomains{"org-inherit", {{"inherit.example", true, true}}, 0},
      OrgDomains{"org-open", {{"open.example", true, true}}, 0},
      OrgDomains{"org-strict", {{"acme.com", true, true}, {"pending.org", false, false}}, 0}};
  s.instance_domains = InstanceDomains{{"x.example"}, 0};
  return s;
}

class CheckHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "policyd-checks-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Result<std::unique_ptr<Store>> base = OpenRocksStore(dir_ + "/data", StoreOptions{});
    ASSERT_TRUE(base.has_value()) << base.error().ToString();
    // Written as a sync writes (Apply), not as a Replace: a Replace's range tombstones make each
    // RocksDB point read allocate an iterator over them until compaction drops them, which
    // would hide what the handler itself allocates.
    const Snapshot snapshot = TestSnapshot();
    StoreChange change;
    change.instance = snapshot.instance;
    change.put_orgs = snapshot.orgs;
    change.put_org_domains = snapshot.org_domains;
    change.instance_domains = snapshot.instance_domains;
    ASSERT_TRUE((*base)->Apply(change, SystemClock().Now()).ok());
    // As the daemon serves it: RocksDB behind the in-memory index.
    store_ = WithMemoryIndex(std::move(*base), [this](const IndexLoad&) {
      std::lock_guard lock(mu_);
      loaded_ = true;
      cv_.notify_all();
    });
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return loaded_; });
    counting_.emplace(*store_);
  }
  void TearDown() override {
    counting_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Answers one request frame and decodes the answer.
  Response Ask(RequestHandler& handler, const std::vector<std::uint8_t>& frame) {
    std::vector<std::uint64_t> in((frame.size() + 7) / 8);
    std::memcpy(in.data(), frame.data() + kFrameHeaderBytes, frame.size() - kFrameHeaderBytes);
    out_.clear();
    handler.Handle(
        {reinterpret_cast<const std::uint8_t*>(in.data()), frame.size() - kFrameHeaderBytes}, out_);
    std::vector<std::uint64_t> aligned((out_.size() + 7) / 8);
    std::memcpy(aligned.data(), out_.data() + kFrameHeaderBytes, out_.size() - kFrameHeaderBytes);
    Result<Response> r = DecodeResponse(
        {reinterpret_cast<const std::uint8_t*>(aligned.data()), out_.size() - kFrameHeaderBytes});
    EXPECT_TRUE(r.has_value());
    return r ? std::move(*r) : Response{};
  }

  Response AskOne(const CheckRequest& check) {
    RequestHandler handler(*counting_, state_, SystemClock(), "test");
    std::vector<std::uint8_t> frame;
    AppendCheck(frame, 1, check);
    return Ask(handler, frame);
  }

  // One check's answer; fails the test on a whole-request error.
  CheckAnswer One(const CheckRequest& check) {
    Response r = AskOne(check);
    EXPECT_EQ(r.kind, ResponseKind::kCheck) << r.error.ToString();
    return r.checks.empty() ? CheckAnswer{} : r.checks[0];
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::optional<CountingStore> counting_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool loaded_ = false;
  ServingState state_{FreshnessOptions{}};
  std::vector<std::uint8_t> out_;
};

TEST_F(CheckHandlerTest, BareUsernameOnAnotherOrgsVerifiedDomainIsRefused) {
  // org-open: userLoginMustBeDomain off; acme.com is org-strict's verified domain.
  CheckAnswer a = One({CheckKind::kLoginName, "org-open", "bob@ACME.com", false});
  EXPECT_FALSE(a.allowed) << a.message;
  EXPECT_EQ(a.reason, CheckReason::kDomainNotAllowedAsUsername);
  EXPECT_EQ(a.matched_domain, "acme.com");
  EXPECT_NE(a.message.find("verified domain of org org-strict"), std::string::npos) << a.message;
  EXPECT_EQ(counting_->domain_reads, 0);  // the index alone, no domain rows

  a = One({CheckKind::kLoginName, "org-open", "a@b@acme.com", false});  // the last '@' splits
  EXPECT_EQ(a.reason, CheckReason::kDomainNotAllowedAsUsername);
  a = One({CheckKind::kLoginName, "org-open", "bob@open.example", false});  // its own domain
  EXPECT_TRUE(a.allowed) << a.message;
  EXPECT_EQ(a.reason, CheckReason::kAllowedBareUsername);
  a = One({CheckKind::kLoginName, "org-open", "bob@pending.org", false});  // verified by nobody
  EXPECT_EQ(a.reason, CheckReason::kAllowedBareUsername);
  a = One({CheckKind::kLoginName, "org-open", "acme.com", false});  // no '@'
  EXPECT_EQ(a.reason, CheckReason::kAllowedBareUsername);
}

TEST_F(CheckHandlerTest, ClaimsAreDecidedOnTheSameViewAsDomainsInABatch) {
  RequestHandler handler(*counting_, state_, SystemClock(), "test");
  std::vector<std::uint8_t> frame;
  AppendCheckBatch(frame, 1,
                   std::vector<CheckRequest>{
                       {CheckKind::kLoginName, "org-open", "x@inherit.example", false},
                       {CheckKind::kLoginName, "org-strict", "alice@acme.com", false},
                   });
  Response r = Ask(handler, frame);
  ASSERT_EQ(r.checks.size(), 2u);
  EXPECT_EQ(r.checks[0].reason, CheckReason::kDomainNotAllowedAsUsername);
  EXPECT_EQ(r.checks[1].reason, CheckReason::kAllowedVerifiedDomain);
  EXPECT_EQ(counting_->domain_reads, 1);  // org-strict needs its domains: one second read
}

TEST_F(CheckHandlerTest, LoginNameUsesTheOrgsOwnPolicyAndVerifiedDomains) {
  CheckAnswer a = One({CheckKind::kLoginName, "org-strict", "alice@ACME.com", false});
  EXPECT_TRUE(a.allowed) << a.message;
  EXPECT_EQ(a.reason, CheckReason::kAllowedVerifiedDomain);
  EXPECT_EQ(a.matched_domain, "acme.com");
  EXPECT_EQ(a.kind, CheckKind::kLoginName);
  EXPECT_EQ(a.org_id, "org-strict");
  EXPECT_TRUE(a.org_known);
  EXPECT_FALSE(a.policy.is_default);
  EXPECT_EQ(a.policy.details.resource_owner, "org-strict");
  EXPECT_TRUE(a.policy.flags.user_login_must_be_domain);

  a = One({CheckKind::kLoginName, "org-strict", "alice@pending.org", false});
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.reason, CheckReason::kDomainNotVerified);
  // Another org's verified domain is not this org's.
  a = One({CheckKind::kLoginName, "org-strict", "alice@open.example", false});
  EXPECT_EQ(a.reason, CheckReason::kDomainNotInOrg);
}

TEST_F(CheckHandlerTest, AnOrgWithoutItsOwnPolicyIsDecidedOnTheDefault) {
  const CheckAnswer a = One({CheckKind::kLoginName, "org-inherit", "bob@inherit.example", false});
  EXPECT_TRUE(a.allowed) << a.message;
  EXPECT_TRUE(a.policy.is_default);
  EXPECT_EQ(a.policy.details.resource_owner, "inst");
  EXPECT_NE(a.message.find("inherit.example"), std::string::npos) << a.message;
}

TEST_F(CheckHandlerTest, AnUnknownOrgGetsTheDefaultWithoutDomainsOrNotFoundWhenStrict) {
  CheckAnswer a = One({CheckKind::kLoginName, "org-nope", "bob@inherit.example", false});
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.reason, CheckReason::kDomainNotInOrg);
  EXPECT_FALSE(a.org_known);
  EXPECT_TRUE(a.policy.is_default);
  EXPECT_EQ(counting_->domain_reads, 0);  // an unknown org has no domains to read

  const Response strict = AskOne({CheckKind::kLoginName, "org-nope", "bob", true});
  EXPECT_EQ(strict.kind, ResponseKind::kError);
  EXPECT_EQ(strict.error.code(), Code::kNotFound);
}

TEST_F(CheckHandlerTest, SmtpSenderUsesTheInstancePolicyAndDomainsOnly) {
  CheckAnswer a = One({CheckKind::kSmtpSender, "", "noreply@x.example", false});
  EXPECT_TRUE(a.allowed) << a.message;
  EXPECT_EQ(a.reason, CheckReason::kAllowedInstanceDomain);
  EXPECT_TRUE(a.policy.is_default);
  EXPECT_FALSE(a.org_known);
  EXPECT_TRUE(a.org_id.empty());
  a = One({CheckKind::kSmtpSender, "", "noreply@acme.com", false});  // an org's domain
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.reason, CheckReason::kSenderDomainNotInstanceDomain);

  const Response with_org =
      AskOne({CheckKind::kSmtpSender, "org-open", "noreply@x.example", false});
  EXPECT_EQ(with_org.error.code(), Code::kInvalidArgument);
}

TEST_F(CheckHandlerTest, DomainVerificationFollowsTheEffectiveValidateOrgDomains) {
  CheckAnswer a = One({CheckKind::kDomainVerification, "org-strict", "new.com", false});
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.reason, CheckReason::kVerificationRequired);
  a = One({CheckKind::kDomainVerification, "org-open", "new.com", false});
  EXPECT_TRUE(a.allowed);
  EXPECT_EQ(a.reason, CheckReason::kNotRequired);
  a = One({CheckKind::kDomainVerification, "org-strict", "pending.org", false});
  EXPECT_FALSE(a.allowed);
  EXPECT_TRUE(a.domain_on_org);
  EXPECT_FALSE(a.domain_verified);
  a = One({CheckKind::kDomainVerification, "org-strict", "ACME.com", false});
  EXPECT_TRUE(a.allowed);
  EXPECT_TRUE(a.domain_verified);
  EXPECT_EQ(a.matched_domain, "acme.com");
}

TEST_F(CheckHandlerTest, BadChecksAreWholeRequestErrorsAlone) {
  EXPECT_EQ(AskOne({CheckKind::kLoginName, "", "bob", false}).error.code(), Code::kInvalidArgument);
  EXPECT_EQ(AskOne({CheckKind::kUnspecified, "org-open", "bob", false}).error.code(),
            Code::kInvalidArgument);
  EXPECT_EQ(AskOne({static_cast<CheckKind>(77), "org-open", "bob", false}).error.code(),
            Code::kInvalidArgument);
  // A value that is no login name is an answer, not an error.
  const CheckAnswer a = One({CheckKind::kLoginName, "org-open", "", false});
  EXPECT_EQ(a.reason, CheckReason::kInvalidLoginName);
}

TEST_F(CheckHandlerTest, ABatchIsAnsweredInOrderWithPerCheckErrorsFromOneDomainRead) {
  const std::vector<CheckRequest> checks = {
      {CheckKind::kLoginName, "org-strict", "a@acme.com", false},
      {CheckKind::kDomainVerification, "org-strict", "acme.com", false},  // same org: no re-read
      {CheckKind::kLoginName, "org-nope", "a", true},                     // NOT_FOUND alone
      {CheckKind::kSmtpSender, "", "a@x.example", false},
      {CheckKind::kLoginName, "", "a", false},                       // bad org id alone
      {static_cast<CheckKind>(9), "org-open", "a", false},           // a newer kind alone
      {CheckKind::kSmtpSender, "org-open", "a@x.example", false},    // SMTP with an org alone
      {CheckKind::kLoginName, "org-open", "a@anything.com", false},  // flag off: no domain read
      {CheckKind::kLoginName, "org-inherit", "a@inherit.example", false},
  };
  RequestHandler handler(*counting_, state_, SystemClock(), "test");
  std::vector<std::uint8_t> frame;
  AppendCheckBatch(frame, 5, checks);
  const Response r = Ask(handler, frame);
  ASSERT_EQ(r.kind, ResponseKind::kCheckBatch);
  ASSERT_EQ(r.checks.size(), checks.size());
  EXPECT_EQ(r.checks[0].reason, CheckReason::kAllowedVerifiedDomain);
  EXPECT_EQ(r.checks[1].reason, CheckReason::kDomainAlreadyVerified);
  EXPECT_EQ(r.checks[2].status.code(), Code::kNotFound);
  EXPECT_EQ(r.checks[2].org_id, "org-nope");
  EXPECT_EQ(r.checks[3].reason, CheckReason::kAllowedInstanceDomain);
  EXPECT_EQ(r.checks[4].status.code(), Code::kInvalidArgument);
  EXPECT_EQ(r.checks[5].status.code(), Code::kInvalidArgument);
  EXPECT_EQ(r.checks[6].status.code(), Code::kInvalidArgument);
  EXPECT_EQ(r.checks[7].reason, CheckReason::kAllowedBareUsername);
  EXPECT_EQ(r.checks[8].reason, CheckReason::kAllowedVerifiedDomain);
  for (std::size_t i : {0, 1, 3, 7, 8}) EXPECT_TRUE(r.checks[i].status.ok()) << i;
  // The policies from the index, then once more with every org's and the instance's domains,
  // in one consistent view, for all the checks that need domains.
  EXPECT_EQ(counting_->reads, 2);
  EXPECT_EQ(counting_->domain_reads, 1);
}

TEST_F(CheckHandlerTest, ChecksThatNeedNoDomainsReadNone) {
  One({CheckKind::kLoginName, "org-open", "alice@whatever.com", false});
  EXPECT_EQ(counting_->domain_reads, 0);
  EXPECT_EQ(counting_->reads, 1);
}

TEST_F(CheckHandlerTest, AFailedDomainReadFailsTheRequest) {
  counting_->fail_domains = true;
  const Response r = AskOne({CheckKind::kLoginName, "org-strict", "a@acme.com", false});
  EXPECT_EQ(r.kind, ResponseKind::kError);
  EXPECT_EQ(r.error.code(), Code::kInternal);
}

TEST_F(CheckHandlerTest, ChecksAreRefusedLikeLookupsWhenStaleOrEmpty) {
  ServingState refusing(FreshnessOptions{"https://iam", std::chrono::seconds(1), true});
  RequestHandler handler(*counting_, refusing, SystemClock(), "test");
  std::vector<std::uint8_t> frame;
  AppendCheck(frame, 1, {CheckKind::kSmtpSender, "", "a@x.example", false});
  EXPECT_EQ(Ask(handler, frame).error.code(), Code::kUnavailable);

  // A store without an instance default yet.
  const std::string empty_dir = dir_ + "/empty";
  Result<std::unique_ptr<Store>> empty = OpenRocksStore(empty_dir, StoreOptions{});
  ASSERT_TRUE(empty.has_value());
  RequestHandler on_empty(**empty, state_, SystemClock(), "test");
  EXPECT_EQ(Ask(on_empty, frame).error.code(), Code::kUnavailable);
}

TEST_F(CheckHandlerTest, ChecksAreCountedByKind) {
  RequestMetrics metrics;
  RequestHandler handler(*counting_, state_, SystemClock(), "test", &metrics);
  std::vector<std::uint8_t> frame;
  AppendCheck(frame, 1, {CheckKind::kLoginName, "org-open", "a", false});
  Ask(handler, frame);
  frame.clear();
  AppendCheck(frame, 2, {CheckKind::kLoginName, "org-nope", "a", true});
  Ask(handler, frame);
  frame.clear();
  AppendCheckBatch(frame, 3, std::vector<CheckRequest>{{CheckKind::kLoginName, "", "a", false}});
  Ask(handler, frame);
  DaemonCounters c;
  metrics.AddTo(c);
  auto count = [&c](std::uint8_t kind, Code code) {
    for (const RequestCount& r : c.requests) {
      if (r.kind == kind && r.code == code) return r.count;
    }
    return std::uint64_t{0};
  };
  EXPECT_EQ(count(kKindCheck, Code::kOk), 1u);
  EXPECT_EQ(count(kKindCheck, Code::kNotFound), 1u);
  EXPECT_EQ(count(kKindCheckBatch, Code::kOk), 1u);  // per-check errors do not count
  EXPECT_EQ(CountedKindName(kKindCheck), "check");
  EXPECT_EQ(CountedKindName(kKindCheckBatch), "check_batch");
}

// Login names with an '@' read the verified-domain index (a RocksDB point read) next to the
// in-memory policies: that allocates nothing either.
TEST_F(CheckHandlerTest, AWarmedUpHandlerAllocatesNothingForChecksWithoutDomains) {
  RequestHandler handler(*store_, state_, SystemClock(), "test");
  std::vector<std::uint8_t> single, batch;
  AppendCheck(single, 1, {CheckKind::kLoginName, "org-open", "alice@example.com", false});
  AppendCheckBatch(batch, 2,
                   std::vector<CheckRequest>{
                       {CheckKind::kLoginName, "org-open", "alice", false},
                       {CheckKind::kLoginName, "org-nope", "bob@example.com", false},
                   });
  std::vector<std::uint64_t> in_single((single.size() + 7) / 8), in_batch((batch.size() + 7) / 8);
  std::memcpy(in_single.data(), single.data() + 4, single.size() - 4);
  std::memcpy(in_batch.data(), batch.data() + 4, batch.size() - 4);
  const std::span<const std::uint8_t> a(reinterpret_cast<const std::uint8_t*>(in_single.data()),
                                        single.size() - 4);
  const std::span<const std::uint8_t> b(reinterpret_cast<const std::uint8_t*>(in_batch.data()),
                                        batch.size() - 4);
  std::vector<std::uint8_t> out;
  out.reserve(4096);
  for (int i = 0; i < 3; ++i) {  // warm up
    out.clear();
    handler.Handle(a, out);
    handler.Handle(b, out);
  }
  const std::uint64_t before = g_allocations;
  for (int i = 0; i < 100; ++i) {
    out.clear();
    handler.Handle(a, out);
    handler.Handle(b, out);
  }
  EXPECT_EQ(g_allocations - before, 0u);
}

}  // namespace
}  // namespace policyd
