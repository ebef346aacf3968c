// The C++ client's policy kinds, password check and dump against a fake daemon: a thread on a real
// unix socket that decodes each request with wire/request.h and answers with ResponseEncoder,
// the way the server's handler will (what it answers is decided by each test).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "check/password.h"
#include "client/client.h"
#include "unit/client/test_listener.h"
#include "wire/dump.h"
#include "wire/frame.h"
#include "wire/request.h"
#include "wire/response.h"

namespace policyd {
namespace {

// Answers one request: the decoded request, and the encoder to append the answer with.
using Answer =
    std::function<void(const RequestView&, ResponseEncoder&, std::vector<std::uint8_t>&)>;

class FakeDaemon {
 public:
  explicit FakeDaemon(Answer answer) : answer_(std::move(answer)) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeDaemon() {
    listener_.Shutdown();
    thread_.join();
  }
  const std::string& path() const { return listener_.path(); }
  // Every request frame received (as the daemon would see them), and every answer frame sent,
  // in order. Read them between calls (the client has its answer by then).
  std::vector<std::vector<std::uint8_t>> frames() const {
    std::lock_guard lock(mu_);
    return frames_;
  }
  std::vector<std::vector<std::uint8_t>> answers() const {
    std::lock_guard lock(mu_);
    return answers_;
  }

 private:
  static bool ReadAll(int fd, std::uint8_t* p, std::size_t n) {
    while (n > 0) {
      const ssize_t got = read(fd, p, n);
      if (got <= 0) return false;
      p += got;
      n -= static_cast<std::size_t>(got);
    }
    return true;
  }

  // One connection, frames until the client closes it.
  void Serve() {
    const int fd = listener_.Accept();
    if (fd < 0) return;
    ResponseEncoder encoder;
    std::uint8_t header[kFrameHeaderBytes];
    while (ReadAll(fd, header, sizeof(header))) {
      Result<std::uint32_t> length = DecodeFrameLength(header, kDefaultMaxFrameBytes);
      if (!length) break;
      std::vector<std::uint64_t> aligned(*length / 8 + 1);
      auto* body = reinterpret_cast<std::uint8_t*>(aligned.data());
      if (!ReadAll(fd, body, *length)) break;
      std::vector<std::uint8_t> out;
      auto request = DecodeRequest({body, *length});
      if (request) {
        answer_(*request, encoder, out);
      } else {
        encoder.AppendError(out, request.error().id, request.error().status);
      }
      {
        std::lock_guard lock(mu_);
        frames_.emplace_back(body, body + *length);
        answers_.push_back(out);
      }
      if (write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) break;
    }
    close(fd);
  }

  Answer answer_;
  TestListener listener_;
  mutable std::mutex mu_;
  std::vector<std::vector<std::uint8_t>> frames_;
  std::vector<std::vector<std::uint8_t>> answers_;
  std::thread thread_;
};

KindPolicy Complexity(std::uint64_t min_length) {
  KindPolicy p = EmptyKindPolicy(PolicyKind::kPasswordComplexity);
  p.fields[0].number = min_length;
  p.fields[FindKindField(SpecOf(PolicyKind::kPasswordComplexity), "has_symbol")].number = 1;
  p.details.resource_owner = "instance-1";
  return p;
}

KindPolicy Label(std::string primary) {
  KindPolicy p = EmptyKindPolicy(PolicyKind::kLabel);
  p.fields[0].text = std::move(primary);
  p.fields[FindKindField(SpecOf(PolicyKind::kLabel), "theme_mode")].number = 2;
  return p;
}

// Answers a lookup with the kinds it asked for: every org gets Complexity(8) (an inherited
// default) and Label("#5469d4") (its own); "unknown" is NOT_FOUND when strict.
void AnswerKinds(const RequestView& r, ResponseEncoder& enc, std::vector<std::uint8_t>& out) {
  static const KindPolicy complexity = Complexity(8);
  static const KindPolicy label = Label("#5469d4");
  static const Status not_found = Status::NotFound("org unknown is not known");
  KindAnswers answers;
  answers.domain = r.kinds().contains(PolicyKind::kDomain);
  if (r.kinds().contains(PolicyKind::kPasswordComplexity)) {
    answers.kinds[static_cast<std::size_t>(PolicyKind::kPasswordComplexity)] = {&complexity, true};
  }
  if (r.kinds().contains(PolicyKind::kLabel)) {
    answers.kinds[static_cast<std::size_t>(PolicyKind::kLabel)] = {&label, false};
  }
  DomainPolicy domain;
  domain.flags.user_login_must_be_domain = true;
  const Resolution res{domain, true};
  switch (r.kind()) {
    case RequestKind::kGetOrgPolicy:
      return enc.AppendOrgKinds(out, r.id(), r.org_id(0), res, answers, false);
    case RequestKind::kGetDefaultPolicy:
      return enc.AppendDefaultKinds(out, r.id(), domain, answers, false);
    case RequestKind::kGetOrgPolicies: {
      std::vector<OrgAnswer> batch;
      for (std::size_t i = 0; i < r.org_count(); ++i) {
        if (r.strict() && r.org_id(i) == "unknown") {
          batch.push_back({r.org_id(i), nullptr, &not_found, nullptr});
        } else {
          batch.push_back({r.org_id(i), &res, nullptr, &answers});
        }
      }
      return enc.AppendBatch(out, r.id(), batch, true);
    }
    default:
      return enc.AppendError(out, r.id(), Status::InvalidArgument("unexpected request"));
  }
}

KindSet Set(std::initializer_list<PolicyKind> kinds) {
  KindSet s;
  for (PolicyKind k : kinds) s.insert(k);
  return s;
}

TEST(ClientKindsTest, OneOrgManyKindsInOneFrame) {
  FakeDaemon daemon(AnswerKinds);
  auto client = Client::Connect(daemon.path());
  ASSERT_TRUE(client) << client.error().message();
  auto a = client->GetOrgKinds("org-1", Set({PolicyKind::kPasswordComplexity, PolicyKind::kLabel}),
                               true);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->org_id, "org-1");
  EXPECT_FALSE(a->has_domain);
  ASSERT_EQ(a->kinds.size(), 2u);
  EXPECT_EQ(a->kinds[0], (KindValue{Complexity(8), true}));
  EXPECT_EQ(a->kinds[1], (KindValue{Label("#5469d4"), false}));

  // With the domain policy too, and the instance defaults.
  a = client->GetOrgKinds("org-1", Set({PolicyKind::kDomain, PolicyKind::kLabel}));
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_TRUE(a->has_domain);
  EXPECT_TRUE(a->policy.flags.user_login_must_be_domain);
  EXPECT_EQ(a->kind(PolicyKind::kPasswordComplexity), nullptr);
  ASSERT_NE(a->kind(PolicyKind::kLabel), nullptr);
  auto d = client->GetDefaultKinds(KindSet::Of(PolicyKind::kPasswordComplexity));
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->org_id, "");
  EXPECT_EQ(d->kind(PolicyKind::kPasswordComplexity)->policy, Complexity(8));
  EXPECT_EQ(daemon.frames().size(), 3u) << "one frame per call";
}

TEST(ClientKindsTest, ABatchAnswersEveryOrgWithItsOwnStatus) {
  FakeDaemon daemon(AnswerKinds);
  auto client = Client::Connect(daemon.path());
  ASSERT_TRUE(client);
  const std::vector<std::string> orgs = {"org-1", "unknown", "org-3"};
  auto batch = client->GetOrgsKinds(orgs, Set({PolicyKind::kDomain, PolicyKind::kLabel}), true);
  ASSERT_TRUE(batch) << batch.error().message();
  ASSERT_EQ(batch->size(), 3u);
  EXPECT_TRUE((*batch)[0].status.ok());
  EXPECT_EQ((*batch)[0].kind(PolicyKind::kLabel)->policy, Label("#5469d4"));
  EXPECT_EQ((*batch)[1].status.code(), Code::kNotFound);
  EXPECT_EQ((*batch)[2].org_id, "org-3");
  EXPECT_TRUE((*batch)[2].stale);
}

// A daemon older than policy kinds ignores `kinds` and answers the domain policy alone.
TEST(ClientKindsTest, AnOlderDaemonsDomainOnlyAnswerIsUnimplemented) {
  FakeDaemon daemon([](const RequestView& r, ResponseEncoder& enc, std::vector<std::uint8_t>& out) {
    enc.AppendOrgPolicy(out, r.id(), r.org_id(0), Resolution{DomainPolicy{}, true}, false);
  });
  auto client = Client::Connect(daemon.path());
  ASSERT_TRUE(client);
  auto a = client->GetOrgKinds("org-1", Set({PolicyKind::kDomain, PolicyKind::kLogin}));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), Code::kUnimplemented);
  EXPECT_NE(a.error().message().find("login"), std::string::npos);
  // Asking it for the domain policy alone through the kinds call still works.
  a = client->GetOrgKinds("org-1", KindSet::Of(PolicyKind::kDomain));
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_TRUE(a->has_domain);
  // No kinds at all is refused before anything is sent.
  EXPECT_EQ(client->GetOrgKinds("org-1", KindSet()).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(daemon.frames().size(), 2u);
}

TEST(ClientKindsTest, TheOldCallsSendNoKinds) {
  FakeDaemon daemon(AnswerKinds);
  auto client = Client::Connect(daemon.path());
  ASSERT_TRUE(client);
  auto a = client->GetOrgPolicy("org-1");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_TRUE(a->has_domain);
  EXPECT_TRUE(a->kinds.empty());
  ASSERT_EQ(daemon.frames().size(), 1u);
  const auto frames = daemon.frames();
  auto seen = DecodeRequest(frames[0]);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->kinds(), KindSet::Of(PolicyKind::kDomain));
}

TEST(ClientKindsTest, CheckPasswordSendsThePasswordAndDecodesTheVerdict) {
  FakeDaemon daemon([](const RequestView& r, ResponseEncoder& enc, std::vector<std::uint8_t>& out) {
    static const KindPolicy policy = Complexity(12);
    const CheckRequest c = r.check(0);
    ASSERT_EQ(c.kind, CheckKind::kPassword);
    const PasswordVerdict verdict = CheckPassword(policy, c.value);
    CheckDecision d;
    d.allowed = verdict.allowed;
    d.reason = PasswordCheckReason(verdict.failed);
    d.message = std::string(verdict.message);
    CheckResultView view;
    view.kind = c.kind;
    view.org_id = c.org_id;
    view.org_known = true;
    view.decision = &d;
    view.password_policy = &policy;
    view.password_is_default = true;
    view.error_id = verdict.error_id;
    enc.AppendCheck(out, r.id(), view, false);
  });
  auto client = Client::Connect(daemon.path());
  ASSERT_TRUE(client);
  auto short_one = client->CheckPassword("org-1", "abc!", true);
  ASSERT_TRUE(short_one) << short_one.error().message();
  EXPECT_FALSE(short_one->allowed);
  EXPECT_EQ(short_one->reason, CheckReason::kPasswordTooShort);
  EXPECT_EQ(short_one->error_id, "DOMAIN-HuJf6");
  EXPECT_EQ(short_one->message, "Password is too short");
  EXPECT_EQ(short_one->password_complexity, (KindValue{Complexity(12), true}));
  auto good = client->CheckPassword("org-1", "a long passphrase");
  ASSERT_TRUE(good) << good.error().message();
  EXPECT_TRUE(good->allowed);
  EXPECT_EQ(good->reason, CheckReason::kPasswordAllowed);
  EXPECT_EQ(good->error_id, "");

  const auto frames = daemon.frames();
  auto sent = DecodeRequest(frames.at(0));
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->check(0).value, "abc!");
  EXPECT_TRUE(sent->check(0).strict);
  // No answer carries the password.
  for (const std::vector<std::uint8_t>& answer : daemon.answers()) {
    const std::string bytes(answer.begin(), answer.end());
    EXPECT_EQ(bytes.find("abc!"), std::string::npos);
    EXPECT_EQ(bytes.find("a long passphrase"), std::string::npos);
  }
  EXPECT_EQ(daemon.answers().size(), 2u);
}

// Client::Dump: the chunks' bytes in order, checked by offset.
TEST(ClientDumpTest, ChunksReachTheSinkInOrderAndTheLastOneEndsTheDump) {
  FakeDaemon daemon([](const RequestView& r, ResponseEncoder&, std::vector<std::uint8_t>& out) {
    DumpChunkEncoder chunks;
    chunks.Append(out, r.id(), 0, "{\"instance\":", false, 0);
    chunks.Append(out, r.id(), 12, "{}}", true, 7);
  });
  auto client = Client::Connect(daemon.path());
  ASSERT_TRUE(client);
  std::string got;
  Result<DumpSummary> dump = client->Dump([&got](std::string_view bytes) {
    got += bytes;
    return Status::Ok();
  });
  ASSERT_TRUE(dump) << dump.error().ToString();
  EXPECT_EQ(got, "{\"instance\":{}}");
  EXPECT_EQ(dump->orgs, 7u);
  EXPECT_EQ(dump->bytes, got.size());
  EXPECT_TRUE(client->connected());
}

TEST(ClientDumpTest, AChunkOutOfPlaceIsInternalAndClosesTheConnection) {
  FakeDaemon daemon([](const RequestView& r, ResponseEncoder&, std::vector<std::uint8_t>& out) {
    DumpChunkEncoder chunks;
    chunks.Append(out, r.id(), 0, "{\"instance\":", false, 0);
    chunks.Append(out, r.id(), 13, "}}", true, 1);  // one byte went missing
  });
  auto client = Client::Connect(daemon.path());
  ASSERT_TRUE(client);
  Result<DumpSummary> dump = client->Dump([](std::string_view) { return Status::Ok(); });
  ASSERT_FALSE(dump);
  EXPECT_EQ(dump.error().code(), Code::kInternal);
  EXPECT_NE(dump.error().message().find("offset 13"), std::string::npos);
  EXPECT_FALSE(client->connected());
}

TEST(ClientDumpTest, AnErrorMidwayEndsTheDumpAndASinkErrorStopsIt) {
  FakeDaemon daemon([](const RequestView& r, ResponseEncoder& enc, std::vector<std::uint8_t>& out) {
    DumpChunkEncoder chunks;
    chunks.Append(out, r.id(), 0, "{", false, 0);
    enc.AppendError(out, r.id(), Status::DataLoss("dump: org row does not decode"));
  });
  auto client = Client::Connect(daemon.path());
  ASSERT_TRUE(client);
  Result<DumpSummary> dump = client->Dump([](std::string_view) { return Status::Ok(); });
  ASSERT_FALSE(dump);
  EXPECT_EQ(dump.error().code(), Code::kDataLoss);
  EXPECT_TRUE(client->connected());  // the error frame ended the dump: the connection is usable
  dump = client->Dump([](std::string_view) { return Status::Internal("disk full"); });
  ASSERT_FALSE(dump);
  EXPECT_EQ(dump.error().message(), "disk full");
  EXPECT_FALSE(client->connected());  // the rest of the dump was not read
}

TEST(ClientDumpTest, AnOlderDaemonsRefusalSaysToUseTheDataDirectory) {
  FakeDaemon daemon([](const RequestView& r, ResponseEncoder& enc, std::vector<std::uint8_t>& out) {
    // What a daemon that does not know the Dump body answers (wire/request.cc).
    enc.AppendError(out, r.id(), Status::InvalidArgument("unsupported request kind 7"));
  });
  auto client = Client::Connect(daemon.path());
  ASSERT_TRUE(client);
  Result<DumpSummary> dump = client->Dump([](std::string_view) { return Status::Ok(); });
  ASSERT_FALSE(dump);
  EXPECT_EQ(dump.error().code(), Code::kUnimplemented);
  EXPECT_NE(dump.error().message().find("--data-dir"), std::string::npos);
}

}  // namespace
}  // namespace policyd
