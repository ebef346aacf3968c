#include "support/nats_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/http_scrape.h"

namespace policyd::testing_support {
namespace {

// `count` distinct free loopback ports, never 4222. The sockets stay bound until all are picked,
// so the kernel hands out distinct ones; nats-server binds them right after.
std::vector<int> FreePorts(int count) {
  std::vector<int> ports;
  std::vector<int> fds;
  while (static_cast<int>(ports.size()) < count) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (fd >= 0) close(fd);
      ADD_FAILURE() << "no free loopback port";
      break;
    }
    fds.push_back(fd);
    const int port = ntohs(addr.sin_port);
    if (port != 4222) ports.push_back(port);
  }
  for (int fd : fds) close(fd);
  return ports;
}

}  // namespace

std::string NatsServerBinary() {
  const char* bin = std::getenv("POLICYD_NATS_SERVER");
  return bin != nullptr ? bin : "/usr/sbin/nats-server";
}

NatsCluster::NatsCluster(NatsClusterOptions options) : options_(std::move(options)) {
  const int n = options_.nodes;
  const std::vector<int> ports = FreePorts(3 * n);
  if (static_cast<int>(ports.size()) < 3 * n) return;
  nodes_.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    Node& node = nodes_[static_cast<std::size_t>(i)];
    node.name = "n" + std::to_string(i + 1);
    node.client_port = ports[static_cast<std::size_t>(3 * i)];
    node.http_port = ports[static_cast<std::size_t>(3 * i + 1)];
    node.cluster_port = ports[static_cast<std::size_t>(3 * i + 2)];
    node.config_path = dir_.Join(node.name + ".conf");
  }
  for (const std::string& file : options_.copy_files) {
    std::error_code ec;
    std::filesystem::copy_file(file, dir_.Join(std::filesystem::path(file).filename()),
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) ADD_FAILURE() << "copy " << file << ": " << ec.message();
  }
  for (Node& node : nodes_) WriteConfig(node);
}

NatsCluster::~NatsCluster() {
  for (int i = 0; i < size(); ++i) Stop(i);
}

void NatsCluster::WriteConfig(Node& node) {
  std::ofstream out(node.config_path);
  out << "server_name: " << node.name << "\n"
      << "listen: 127.0.0.1:" << node.client_port << "\n"
      << "http: 127.0.0.1:" << node.http_port << "\n"
      << "jetstream {\n  store_dir: \"" << dir_.Join(node.name) << "\"\n"
      << "  max_memory_store: 64MB\n  max_file_store: 256MB\n}\n";
  if (nodes_.size() > 1) {
    out << "cluster {\n  name: policyd-test\n  listen: 127.0.0.1:" << node.cluster_port
        << "\n  routes: [";
    // Listing the node's own route is harmless.
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      out << (i == 0 ? " " : ", ") << "nats-route://127.0.0.1:" << nodes_[i].cluster_port;
    }
    out << " ]\n}\n";
  }
  out << options_.extra_config << "\n";
}

void NatsCluster::Launch(Node& node) {
  const std::string log =
      dir_.Join(node.name + "." + std::to_string(node.log_paths.size()) + ".log");
  node.log_paths.push_back(log);
  node.process = std::make_unique<ChildProcess>(
      std::vector<std::string>{NatsServerBinary(), "-c", node.config_path}, log);
}

::testing::AssertionResult NatsCluster::WaitReady(Node& node, std::chrono::milliseconds timeout) {
  const bool clustered = nodes_.size() > 1;
  bool died = false;
  auto ready = [&] {
    if (!node.process || !node.process->Running()) return died = true;
    if (HttpGet(node.http_port, "/healthz").status != 200) return false;
    if (!clustered) return true;
    // The meta group has elected a leader that this node knows.
    const HttpAnswer jsz = HttpGet(node.http_port, "/jsz");
    return jsz.status == 200 && jsz.body.find("\"leader\"") != std::string::npos;
  };
  ::testing::AssertionResult r = WaitFor(ready, timeout, "nats-server " + node.name + " ready");
  if (died) r = ::testing::AssertionFailure() << "nats-server " << node.name << " exited";
  if (!r) return r << "\n--- " << node.name << " log ---\n" << Log(IndexOf(node.name));
  return r;
}

::testing::AssertionResult NatsCluster::Start(std::chrono::milliseconds timeout) {
  if (nodes_.empty()) return ::testing::AssertionFailure() << "no ports for nats-server";
  if (!std::filesystem::exists(NatsServerBinary())) {
    return ::testing::AssertionFailure()
           << NatsServerBinary() << " is missing: run scripts/install-deps.sh";
  }
  for (Node& node : nodes_) Launch(node);
  for (Node& node : nodes_) {
    ::testing::AssertionResult r = WaitReady(node, timeout);
    if (!r) return r;
  }
  return ::testing::AssertionSuccess();
}

std::string NatsCluster::Url(int i) const {
  return "nats://127.0.0.1:" + std::to_string(nodes_.at(static_cast<std::size_t>(i)).client_port);
}

std::vector<std::string> NatsCluster::Urls() const {
  std::vector<std::string> urls;
  for (int i = 0; i < size(); ++i) urls.push_back(Url(i));
  return urls;
}

std::string NatsCluster::Name(int i) const { return nodes_.at(static_cast<std::size_t>(i)).name; }

int NatsCluster::IndexOf(const std::string& name) const {
  for (int i = 0; i < size(); ++i) {
    if (nodes_[static_cast<std::size_t>(i)].name == name) return i;
  }
  return -1;
}

void NatsCluster::Kill(int i) {
  Node& node = nodes_.at(static_cast<std::size_t>(i));
  if (node.process) node.process->Stop(SIGKILL, std::chrono::seconds(10));
}

void NatsCluster::Stop(int i) {
  Node& node = nodes_.at(static_cast<std::size_t>(i));
  if (!node.process || !node.process->Running()) return;
  if (node.process->Stop(SIGTERM, std::chrono::seconds(10)) == -1000) {
    node.process->Stop(SIGKILL, std::chrono::seconds(10));
  }
}

bool NatsCluster::Running(int i) {
  Node& node = nodes_.at(static_cast<std::size_t>(i));
  return node.process && node.process->Running();
}

::testing::AssertionResult NatsCluster::Restart(int i, std::chrono::milliseconds timeout) {
  Stop(i);
  Node& node = nodes_.at(static_cast<std::size_t>(i));
  Launch(node);
  return WaitReady(node, timeout);
}

std::string NatsCluster::Log(int i) const {
  std::string all;
  for (const std::string& path : nodes_.at(static_cast<std::size_t>(i)).log_paths) {
    std::ifstream in(path);
    all += std::string(std::istreambuf_iterator<char>(in), {});
  }
  return all;
}

}  // namespace policyd::testing_support
