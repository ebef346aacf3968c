// WebhookListener over real local HTTP: every status and counter, the key's rotation, and the
// signing key file.
#include "webhook/listener.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

#include "webhook/signature.h"

namespace policyd::webhook {
namespace {

constexpr std::string_view kKey = "Xq7CtbD2k9mVn4RwZp1sLf8gHj3aEu6yTc0B";
constexpr std::int64_t kNow = 1'796'000'000;
const std::string kBody = R"({"event_type":"org.policy.domain.changed","sequence":3})";

class ListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ListenerOptions options;
    options.max_body_bytes = 1024;
    options.now_unix = [] { return kNow; };
    options.on_valid = [this] { ++woken_; };
    listener_ = std::make_unique<WebhookListener>(std::string(kKey), options);
    ASSERT_TRUE(listener_->Start("127.0.0.1:0").ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", listener_->port());
  }
  httplib::Result Post(const std::string& body, const std::string& signature,
                       const std::string& path = std::string(kWebhookPath)) {
    httplib::Headers headers;
    if (!signature.empty()) headers.emplace("ZITADEL-Signature", signature);
    return client_->Post(path, headers, body, "application/json");
  }
  std::uint64_t Count(WebhookResult r) const {
    std::array<std::uint64_t, kWebhookResults> counts{};
    listener_->AddCounters(counts);
    return counts[static_cast<std::size_t>(r)];
  }

  std::atomic<int> woken_{0};
  std::unique_ptr<WebhookListener> listener_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ListenerTest, ASignedDeliveryWakesTheSync) {
  httplib::Result r = Post(kBody, ComputeSignatureHeader(kNow, kBody, {kKey}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(woken_, 1);
  EXPECT_EQ(Count(WebhookResult::kAccepted), 1u);
}

TEST_F(ListenerTest, TheHeaderNameIsMatchedWhateverItsCase) {
  httplib::Headers headers{{"zitadel-signature", ComputeSignatureHeader(kNow, kBody, {kKey})}};
  httplib::Result r = client_->Post(std::string(kWebhookPath), headers, kBody, "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
}

TEST_F(ListenerTest, RefusalsSayWhyAndWakeNothing) {
  struct Refusal {
    std::string signature;
    std::string error;
    WebhookResult result;
  };
  const std::vector<Refusal> refusals = {
      {"", "signature missing", WebhookResult::kUnsigned},
      {ComputeSignatureHeader(kNow, kBody, {"another key"}), "signature invalid",
       WebhookResult::kInvalid},
      {"t=1,v1", "signature invalid", WebhookResult::kInvalid},
      {ComputeSignatureHeader(kNow - 301, kBody, {kKey}), "signature expired",
       WebhookResult::kExpired},
      {ComputeSignatureHeader(kNow + 301, kBody, {kKey}), "signature expired",
       WebhookResult::kExpired},
  };
  for (const Refusal& refusal : refusals) {
    const std::uint64_t before = Count(refusal.result);
    httplib::Result r = Post(kBody, refusal.signature);
    ASSERT_TRUE(r) << refusal.signature;
    EXPECT_EQ(r->status, 401) << refusal.signature;
    EXPECT_EQ(r->body, "{\"error\":\"" + refusal.error + "\"}\n") << refusal.signature;
    EXPECT_EQ(Count(refusal.result), before + 1) << refusal.signature;
  }
  EXPECT_EQ(woken_, 0);
  EXPECT_EQ(Count(WebhookResult::kAccepted), 0u);
}

TEST_F(ListenerTest, TwoSignatureHeadersAreInvalid) {
  const std::string good = ComputeSignatureHeader(kNow, kBody, {kKey});
  httplib::Headers headers{{"ZITADEL-Signature", good}, {"ZITADEL-Signature", good}};
  httplib::Result r = client_->Post(std::string(kWebhookPath), headers, kBody, "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(Count(WebhookResult::kInvalid), 1u);
  EXPECT_EQ(woken_, 0);
}

TEST_F(ListenerTest, AnOversizedBodyIsRefusedSignedOrNot) {
  const std::string big(1025, 'x');
  httplib::Result r = Post(big, ComputeSignatureHeader(kNow, big, {kKey}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(Count(WebhookResult::kTooLarge), 1u);
  // The same without a Content-Length (chunked): httplib stops reading at the limit.
  httplib::Client chunked("127.0.0.1", listener_->port());
  httplib::Result c = chunked.Post(
      std::string(kWebhookPath),
      // Two chunks of 600 bytes: small enough that the server has read all of it when it
      // answers (a close with unread bytes would reset the connection before the answer).
      [&big](std::size_t offset, httplib::DataSink& sink) {
        if (offset < 1200) {
          sink.write(big.data(), 600);
        } else {
          sink.done();
        }
        return true;
      },
      "application/json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 413);
  EXPECT_EQ(Count(WebhookResult::kTooLarge), 2u);
  // The unread rest of a refused body is not taken for another request.
  EXPECT_EQ(Count(WebhookResult::kBadRequest), 0u);
  // A body at the limit is read and checked.
  const std::string fits(1024, 'x');
  httplib::Result ok = Post(fits, ComputeSignatureHeader(kNow, fits, {kKey}));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 204);
  EXPECT_EQ(woken_, 1);
}

TEST_F(ListenerTest, OtherPathsAndMethods) {
  httplib::Result other = Post(kBody, ComputeSignatureHeader(kNow, kBody, {kKey}), "/");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  EXPECT_EQ(Count(WebhookResult::kNotFound), 1u);
  httplib::Result get = client_->Get(std::string(kWebhookPath));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->get_header_value("Allow"), "POST");
  EXPECT_EQ(Count(WebhookResult::kMethodNotAllowed), 1u);
  EXPECT_EQ(woken_, 0);
}

// Sends `bytes` on a fresh TCP connection and returns the head of the answer.
std::string RawExchange(int port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return "";
  }
  (void)!write(fd, bytes.data(), bytes.size());
  // No shutdown(SHUT_WR): httplib does not answer a peer it sees half-closed. A read timeout
  // instead of waiting for the close.
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string reply;
  char buffer[4096];
  for (ssize_t n;
       reply.find("\r\n\r\n") == std::string::npos && (n = read(fd, buffer, sizeof(buffer))) > 0;) {
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  close(fd);
  return reply;
}

TEST_F(ListenerTest, WhatIsNotHttpIsABadRequest) {
  const std::string reply = RawExchange(listener_->port(), "NONSENSE\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
  EXPECT_EQ(Count(WebhookResult::kBadRequest), 1u);
  EXPECT_EQ(woken_, 0);
}

TEST_F(ListenerTest, ARotatedKeyTakesEffect) {
  listener_->SetKey("the new key");
  httplib::Result old_key = Post(kBody, ComputeSignatureHeader(kNow, kBody, {kKey}));
  ASSERT_TRUE(old_key);
  EXPECT_EQ(old_key->status, 401);
  httplib::Result new_key = Post(kBody, ComputeSignatureHeader(kNow, kBody, {"the new key"}));
  ASSERT_TRUE(new_key);
  EXPECT_EQ(new_key->status, 204);
}

TEST(ListenerStartTest, ABadOrTakenAddressIsRefused) {
  ListenerOptions options;
  options.now_unix = [] { return kNow; };
  options.on_valid = [] {};
  WebhookListener first("k", options);
  EXPECT_EQ(first.Start("nonsense").code(), Code::kInvalidArgument);
  WebhookListener bound("k", options);
  ASSERT_TRUE(bound.Start("127.0.0.1:0").ok());
  WebhookListener second("k", options);
  EXPECT_EQ(second.Start("127.0.0.1:" + std::to_string(bound.port())).code(),
            Code::kFailedPrecondition);
}

class KeyFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& contents, mode_t mode) {
    const std::string path = dir_ + "/key";
    std::ofstream(path, std::ios::trunc) << contents;
    chmod(path.c_str(), mode);
    return path;
  }
  void SetUp() override {
    char tmpl[] = "/tmp/webhook_key_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    unlink((dir_ + "/key").c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_;
};

TEST_F(KeyFileTest, TrimsATrailingNewline) {
  Result<std::string> key = LoadSigningKey(Write(std::string(kKey) + "\n", 0600));
  ASSERT_TRUE(key.has_value()) << key.error().ToString();
  EXPECT_EQ(*key, kKey);
}

TEST_F(KeyFileTest, RefusesBadFilesWithoutQuotingThem) {
  struct Bad {
    std::string contents;
    mode_t mode;
    std::string says;
  };
  for (const Bad& bad : std::vector<Bad>{{"secretkey\n", 0644, "chmod o="},
                                         {"\n \n", 0600, "empty"},
                                         {"secret key", 0600, "whitespace"}}) {
    Result<std::string> key = LoadSigningKey(Write(bad.contents, bad.mode));
    ASSERT_FALSE(key.has_value()) << bad.contents;
    EXPECT_EQ(key.error().code(), Code::kInvalidArgument);
    EXPECT_NE(key.error().message().find(bad.says), std::string::npos) << key.error().ToString();
    EXPECT_EQ(key.error().message().find("secret"), std::string::npos) << key.error().ToString();
  }
  EXPECT_FALSE(LoadSigningKey(dir_ + "/missing").has_value());
}

}  // namespace
}  // namespace policyd::webhook
