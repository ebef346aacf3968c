// The connection's TLS and credentials options: a real nats-server with a TLS certificate from
// a throw-away CA (made with the openssl command), and unreadable files refused up front.
#include <fstream>

#include "nats_test_util.h"

namespace policyd::nats::testing {
namespace {

using testing_support::RunCommand;
using testing_support::TempDir;

// A CA and a server certificate for 127.0.0.1 / localhost, signed by it, in `dir`.
::testing::AssertionResult MakeCertificates(const TempDir& dir) {
  const std::string ext = dir.Join("ext.cnf");
  { std::ofstream(ext) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"; }
  const std::vector<std::vector<std::string>> steps = {
      {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
       "/CN=policyd test CA", "-keyout", dir.Join("ca.key"), "-out", dir.Join("ca.pem")},
      {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout",
       dir.Join("server.key"), "-out", dir.Join("server.csr")},
      {"openssl", "x509", "-req", "-in", dir.Join("server.csr"), "-CA", dir.Join("ca.pem"),
       "-CAkey", dir.Join("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", ext, "-out",
       dir.Join("server.pem")},
  };
  for (const std::vector<std::string>& argv : steps) {
    std::vector<std::string> full = argv;
    full[0] = "/usr/bin/openssl";
    testing_support::CommandResult r = RunCommand(full);
    if (r.exit_code != 0) return ::testing::AssertionFailure() << argv[1] << ": " << r.err;
  }
  return ::testing::AssertionSuccess();
}

TEST(NatsTlsTest, ConnectsToATlsServerTrustingTheCaFileAndNotWithoutIt) {
  TempDir certs;
  ASSERT_TRUE(MakeCertificates(certs));
  NatsClusterOptions options;
  options.extra_config = "tls {\n  cert_file: \"" + certs.Join("server.pem") +
                         "\"\n  key_file: \"" + certs.Join("server.key") + "\"\n}";
  NatsCluster server(options);
  ASSERT_TRUE(server.Start());

  ConnectOptions trusted = Options(server.Urls());
  trusted.ca_file = certs.Join("ca.pem");
  std::unique_ptr<NatsConnection> conn = MustConnect(trusted);
  ASSERT_NE(conn, nullptr);
  std::unique_ptr<KvBucket> b = MustCreate(*conn, "policyd");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(MustPut(*b, "org.1", "over TLS").revision, 1u);

  // Without the CA the server's certificate is not trusted: never connected, calls fail.
  ConnectOptions untrusted = Options(server.Urls());
  untrusted.request_timeout = 300ms;
  Result<std::unique_ptr<NatsConnection>> other = NatsConnection::Connect(untrusted);
  ASSERT_TRUE(other.has_value()) << other.error().ToString();
  EXPECT_FALSE(WaitFor([&] { return (*other)->state() == ConnState::kConnected; }, 1500ms,
                       "an untrusted TLS connection"));
  EXPECT_FALSE(KvBucket::Bind(**other, "policyd").has_value());
}

TEST(NatsTlsTest, UnreadableCaOrCredsFilesAreRefusedNamingTheFile) {
  NatsCluster server;
  ASSERT_TRUE(server.Start());
  ConnectOptions bad_ca = Options(server.Urls());
  bad_ca.ca_file = "/nonexistent/ca.pem";
  Result<std::unique_ptr<NatsConnection>> a = NatsConnection::Connect(bad_ca);
  ASSERT_FALSE(a.has_value());
  std::cerr << "[ info ] " << a.error().ToString() << "\n";
  EXPECT_EQ(a.error().code(), Code::kInvalidArgument);
  EXPECT_NE(a.error().message().find("/nonexistent/ca.pem"), std::string::npos);
  TempDir dir;
  { std::ofstream(dir.Join("garbage.pem")) << "not a certificate\n"; }
  bad_ca.ca_file = dir.Join("garbage.pem");
  Result<std::unique_ptr<NatsConnection>> g = NatsConnection::Connect(bad_ca);
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.error().code(), Code::kInvalidArgument) << g.error().ToString();

  ConnectOptions bad_creds = Options(server.Urls());
  bad_creds.creds_file = "/nonexistent/user.creds";
  Result<std::unique_ptr<NatsConnection>> c = NatsConnection::Connect(bad_creds);
  ASSERT_FALSE(c.has_value());
  std::cerr << "[ info ] " << c.error().ToString() << "\n";
  EXPECT_EQ(c.error().code(), Code::kInvalidArgument);
  EXPECT_NE(c.error().message().find("/nonexistent/user.creds"), std::string::npos);
}

}  // namespace
}  // namespace policyd::nats::testing
