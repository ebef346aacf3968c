// HttpServer over a real unix socket: the socket file's mode and life cycle, routing through
// cpp-httplib, and the error bodies for requests the library rejects itself.
#include "http/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

namespace policyd::http {
namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "policyd-http-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/http.sock";
    router_.Add("GET", "/hello/{name}", [](const HttpRequest& r) {
      HttpResponse response;
      response.body = "{\"hello\":\"" + std::string(r.PathParam("name")) + "\",\"org\":\"" +
                      std::string(r.Header("x-zitadel-orgid").value_or("")) + "\",\"q\":\"" +
                      std::string(r.QueryParam("ctx.orgId").value_or("")) + "\"}";
      response.headers.emplace_back("x-policyd-stale", "true");
      return response;
    });
    router_.Add("PUT", "/hello/{name}", [](const HttpRequest&) {
      return HttpResponse{501, "application/json", {}, "{\"code\":12}"};
    });
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  HttpServerOptions Options() {
    HttpServerOptions options;
    options.socket.path = path_;
    options.socket.mode = 0600;
    options.max_body_bytes = 1024;
    return options;
  }

  httplib::Client Client() {
    httplib::Client client(path_);
    client.set_address_family(AF_UNIX);
    client.set_read_timeout(std::chrono::seconds(5));
    return client;
  }

  // Sends `raw` bytes and returns what the server answers, read until `until` arrives, the
  // server closes or 20 s pass. (Not half-closing: cpp-httplib takes a client that shut down its
  // sending side for gone and answers nothing.)
  std::string Raw(const std::string& raw, std::string_view until) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path_.c_str());
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    timeval timeout{20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    EXPECT_EQ(write(fd, raw.data(), raw.size()), static_cast<ssize_t>(raw.size()));
    std::string out;
    char buffer[4096];
    while (out.find(until) == std::string::npos) {
      const ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n <= 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
    close(fd);
    return out;
  }

  std::string dir_;
  std::string path_;
  Router router_;
};

TEST_F(HttpServerTest, ServesTheRouterWithItsHeadersAndRemovesTheSocketOnStop) {
  {
    HttpServer server(router_, Options());
    ASSERT_TRUE(server.Start().ok());
    struct stat st {};
    ASSERT_EQ(lstat(path_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    httplib::Client client = Client();
    auto r = client.Get("/hello/w%C3%B6rld?ctx.orgId=4%202", {{"X-Zitadel-OrgId", "42"}});
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    EXPECT_EQ(r->get_header_value("x-policyd-stale"), "true");
    EXPECT_EQ(r->body, "{\"hello\":\"w\xC3\xB6rld\",\"org\":\"42\",\"q\":\"4 2\"}");

    auto head = client.Head("/hello/x");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->body, "");

    auto missing = client.Get("/nope");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
    EXPECT_EQ(missing->body, R"({"code":5,"message":"Not Found"})");
    auto wrong_method = client.Delete("/hello/x");
    ASSERT_TRUE(wrong_method);
    EXPECT_EQ(wrong_method->status, 405);
    EXPECT_EQ(wrong_method->body, R"({"code":12,"message":"Method Not Allowed"})");
    // A handler's own error body is kept as it is.
    auto put = client.Put("/hello/x", "{}", "application/json");
    ASSERT_TRUE(put);
    EXPECT_EQ(put->status, 501);
    EXPECT_EQ(put->body, "{\"code\":12}");
    auto big = client.Put("/hello/x", std::string(2048, 'x'), "application/json");
    ASSERT_TRUE(big);
    EXPECT_EQ(big->status, 413);
    EXPECT_EQ(big->body, R"({"code":8,"message":"Payload Too Large"})");

    server.Stop();
    EXPECT_NE(lstat(path_.c_str(), &st), 0) << "socket file left behind";
    server.Stop();  // idempotent
  }
}

TEST_F(HttpServerTest, MalformedRequestsGetA400WithAStatusBody) {
  HttpServerOptions options = Options();
  options.read_timeout = std::chrono::seconds(60);  // far beyond any answer below
  HttpServer server(router_, options);
  ASSERT_TRUE(server.Start().ok());
  const std::string bad_request = "\r\n\r\n{\"code\":3,\"message\":\"Bad Request\"}";
  for (const std::string& raw :
       {std::string("NONSENSE\r\n\r\n"), std::string("GET /hello/x\r\n\r\n"),
        std::string("BREW /hello/x HTTP/1.1\r\nHost: x\r\n\r\n")}) {
    const std::string answer = Raw(raw, bad_request);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << answer;
    EXPECT_NE(answer.find(bad_request), std::string::npos) << answer;
  }
  // A write without Content-Length has no body: answered at once, not after the read timeout.
  const auto start = std::chrono::steady_clock::now();
  const std::string put = Raw("PUT /hello/x HTTP/1.1\r\nHost: x\r\n\r\n", "{\"code\":12}");
  EXPECT_EQ(put.rfind("HTTP/1.1 501 Not Implemented\r\n", 0), 0u) << put;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  const std::string too_long = R"({"code":8,"message":"URI Too Long"})";
  const std::string answer = Raw("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n", too_long);
  EXPECT_EQ(answer.rfind("HTTP/1.1 414", 0), 0u) << answer.substr(0, 200);
  EXPECT_NE(answer.find(too_long), std::string::npos) << answer.substr(0, 200);
}

TEST_F(HttpServerTest, ReplacesAStaleSocketFileAndRefusesALiveOne) {
  {
    // A socket file nobody listens on, as a crashed daemon leaves it.
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path_.c_str());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    close(fd);
  }
  HttpServer first(router_, Options());
  ASSERT_TRUE(first.Start().ok());
  HttpServer second(router_, Options());
  const Status s = second.Start();
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("http-socket"), std::string::npos) << s.message();
  // The refused one did not take the file away from the live one.
  auto r = Client().Get("/hello/x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, APathThatIsNotASocketIsRefused) {
  { std::ofstream(path_) << "not a socket"; }
  HttpServer server(router_, Options());
  EXPECT_EQ(server.Start().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(std::filesystem::is_regular_file(path_));
}

TEST_F(HttpServerTest, StopDuringKeepAliveAndWithManyClientsEnds) {
  HttpServerOptions options = Options();
  options.threads = 2;
  options.max_queued_connections = 2;
  HttpServer server(router_, options);
  ASSERT_TRUE(server.Start().ok());
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      httplib::Client client = Client();
      client.set_keep_alive(true);
      for (int j = 0; j < 20; ++j) {
        auto r = client.Get("/hello/x");
        if (r && r->status == 200) ++ok;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(ok, 160);
  // One connection idles in keep-alive while the server stops.
  httplib::Client idle = Client();
  idle.set_keep_alive(true);
  ASSERT_TRUE(idle.Get("/hello/x"));
  server.Stop();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

}  // namespace
}  // namespace policyd::http
