// TLS against httplib::SSLServer with certificates made at test time: verification is always on,
// a private CA is trusted only through ca_file, and ca_file adds to (does not replace) the
// default trust store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "test_support.h"
#include "upstream/http_upstream.h"
#include "upstream/upstream.h"

namespace policyd {
namespace {

using ::testing::HasSubstr;
using upstream_test::CertAndKey;
using upstream_test::CertPem;
using upstream_test::HttpTestServer;
using upstream_test::TempDir;
using upstream_test::WriteFile;

constexpr std::string_view kPolicyBody =
    R"({"policy":{"details":{"resourceOwner":"300000000000000001"},"isDefault":true}})";

// A TLS server whose certificate is issued by its own fresh CA.
struct TlsUpstream {
  explicit TlsUpstream(const TempDir& dir, std::string_view name)
      : ca(upstream_test::MakeCa(std::string(name) + " test CA")),
        leaf(upstream_test::MakeServerCert(ca)),
        ca_file(dir.File(std::string(name) + "-ca.pem")) {}

  testing::AssertionResult Start(const TempDir& dir, std::string_view name) {
    if (ca.cert == nullptr || leaf.cert == nullptr) {
      return testing::AssertionFailure() << "certificate generation failed";
    }
    const std::string cert_file = dir.File(std::string(name) + "-server.pem");
    const std::string key_file = dir.File(std::string(name) + "-server.key");
    if (!WriteFile(ca_file, CertPem(ca.cert.get()), 0644) ||
        !WriteFile(cert_file, CertPem(leaf.cert.get()), 0644) ||
        !WriteFile(key_file, upstream_test::PrivateKeyPemPkcs8(leaf.key.get()), 0600)) {
      return testing::AssertionFailure() << "writing PEM files failed";
    }
    server = std::make_unique<HttpTestServer>(
        std::make_unique<httplib::SSLServer>(cert_file.c_str(), key_file.c_str()));
    server->server().Get("/admin/v1/policies/domain",
                         [](const httplib::Request&, httplib::Response& res) {
                           res.set_content(std::string(kPolicyBody), "application/json");
                         });
    return server->Start();
  }

  CertAndKey ca;
  CertAndKey leaf;
  std::string ca_file;
  std::unique_ptr<HttpTestServer> server;
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(WriteFile(dir_.File("token"), "pat-token", 0600)); }

  Result<InstanceRecord> Call(const std::string& base_url, const std::string& ca_file,
                              const std::string& default_bundle = "") {
    UpstreamOptions options;
    options.base_url = base_url;
    options.token_file = dir_.File("token");
    options.ca_file = ca_file;
    options.connect_timeout = std::chrono::milliseconds(3000);
    options.total_timeout = std::chrono::milliseconds(5000);
    upstream_internal::TestingKnobs knobs;
    knobs.default_ca_bundle = default_bundle;
    Result<std::unique_ptr<Upstream>> made =
        upstream_internal::MakeHttpUpstreamForTesting(options, clock_, knobs);
    if (!made) return Err(made.error());
    return (*made)->GetDefaultPolicy();
  }

  TempDir dir_;
  FakeClock clock_{Timestamp{1740820364, 0}};
};

TEST_F(TlsTest, PrivateCaIsRefusedWithoutCaFileAndTrustedWithIt) {
  TlsUpstream upstream(dir_, "a");
  ASSERT_TRUE(upstream.Start(dir_, "a"));

  Result<InstanceRecord> untrusted = Call(upstream.server->HttpsUrl(), "");
  ASSERT_FALSE(untrusted.has_value());
  EXPECT_EQ(untrusted.error().code(), Code::kUnavailable);
  EXPECT_THAT(untrusted.error().message(), HasSubstr("GET /admin/v1/policies/domain: "));
  EXPECT_THAT(untrusted.error().message(), HasSubstr("TLS failure"));
  EXPECT_THAT(untrusted.error().message(), HasSubstr("--ca-file"));

  Result<InstanceRecord> trusted = Call(upstream.server->HttpsUrl(), upstream.ca_file);
  ASSERT_TRUE(trusted.has_value()) << trusted.error().ToString();
  EXPECT_EQ(trusted->id, "300000000000000001");
}

TEST_F(TlsTest, CaFileOfAnotherCaDoesNotHelp) {
  TlsUpstream upstream(dir_, "a");
  TlsUpstream other(dir_, "b");
  ASSERT_TRUE(upstream.Start(dir_, "a"));
  ASSERT_TRUE(other.Start(dir_, "b"));
  Result<InstanceRecord> instance = Call(upstream.server->HttpsUrl(), other.ca_file);
  ASSERT_FALSE(instance.has_value());
  EXPECT_EQ(instance.error().code(), Code::kUnavailable);
  EXPECT_THAT(instance.error().message(), HasSubstr("TLS failure"));
}

TEST_F(TlsTest, CaFileAddsToTheDefaultTrustStoreInsteadOfReplacingIt) {
  // "system" plays the system trust store (libcurl's default bundle); "private" is --ca-file.
  TlsUpstream system(dir_, "system");
  TlsUpstream private_ca(dir_, "private");
  ASSERT_TRUE(system.Start(dir_, "system"));
  ASSERT_TRUE(private_ca.Start(dir_, "private"));

  Result<InstanceRecord> via_system =
      Call(system.server->HttpsUrl(), private_ca.ca_file, system.ca_file);
  ASSERT_TRUE(via_system.has_value()) << via_system.error().ToString();
  Result<InstanceRecord> via_private =
      Call(private_ca.server->HttpsUrl(), private_ca.ca_file, system.ca_file);
  ASSERT_TRUE(via_private.has_value()) << via_private.error().ToString();

  // Sanity: without ca_file only the "system" CA is trusted.
  EXPECT_TRUE(Call(system.server->HttpsUrl(), "", system.ca_file).has_value());
  EXPECT_FALSE(Call(private_ca.server->HttpsUrl(), "", system.ca_file).has_value());
}

TEST_F(TlsTest, CaFileMayHoldSeveralCertificates) {
  TlsUpstream first(dir_, "first");
  TlsUpstream second(dir_, "second");
  ASSERT_TRUE(first.Start(dir_, "first"));
  ASSERT_TRUE(second.Start(dir_, "second"));
  const std::string bundle = dir_.File("bundle.pem");
  ASSERT_TRUE(
      WriteFile(bundle, CertPem(first.ca.cert.get()) + CertPem(second.ca.cert.get()), 0644));
  EXPECT_TRUE(Call(first.server->HttpsUrl(), bundle).has_value());
  EXPECT_TRUE(Call(second.server->HttpsUrl(), bundle).has_value());
}

TEST_F(TlsTest, MalformedCaFileIsRefusedUpFront) {
  const std::string path = dir_.File("bad.pem");
  ASSERT_TRUE(
      WriteFile(path, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0644));
  Result<InstanceRecord> instance = Call("https://localhost:1", path);
  ASSERT_FALSE(instance.has_value());
  EXPECT_EQ(instance.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(instance.error().message(), HasSubstr("ca file " + path));
}

}  // namespace
}  // namespace policyd
