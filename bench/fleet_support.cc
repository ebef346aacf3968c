#include "fleet_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bench_support.h"

namespace policyd::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

Result<int> FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = -1;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  if (fd >= 0) close(fd);
  if (port <= 0) return Err(Status::Unavailable("no free loopback port"));
  return port;
}

Result<std::string> StartNats(const std::string& binary, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string error;
  const pid_t pid = Spawn({binary, "-a", "127.0.0.1", "-p", "-1", "-js", "-sd", dir + "/jetstream",
                           "--ports_file_dir", dir},
                          dir + "/nats.log", error);
  if (pid < 0) return Err(Status::Unavailable("cannot start nats-server: " + error));
  // "<executable name>_<pid>.ports": {"nats":["nats://127.0.0.1:PORT"],...}
  const std::string ports = dir + "/" + std::filesystem::path(binary).filename().string() + "_" +
                            std::to_string(pid) + ".ports";
  const auto t0 = Clock::now();
  while (Since(t0) < 20) {
    if (!ChildRunning(pid))
      return Err(Status::Unavailable("nats-server exited: " + FileTail(dir + "/nats.log", 500)));
    std::ifstream in(ports);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    const std::size_t at = text.find("nats://");
    if (at != std::string::npos) return text.substr(at, text.find('"', at) - at);
    std::this_thread::sleep_for(milliseconds(20));
  }
  return Err(Status::Unavailable("nats-server wrote no ports file within 20 s"));
}

Result<std::unique_ptr<BucketWatch>> BucketWatch::Open(const std::string& url,
                                                       const std::string& bucket) {
  nats::ConnectOptions o;
  o.urls = {url};
  o.name = "policyd_bench";
  auto conn = nats::NatsConnection::Connect(o);
  if (!conn) return Err(conn.error().WithContext("nats"));
  std::unique_ptr<BucketWatch> w(new BucketWatch());
  w->conn_ = std::move(*conn);
  const auto t0 = Clock::now();
  for (;;) {
    auto b = nats::KvBucket::Bind(*w->conn_, bucket);
    if (b) {
      w->bucket_ = std::move(*b);
      return w;
    }
    if (Since(t0) > 60) return Err(b.error().WithContext("bucket " + bucket));
    std::this_thread::sleep_for(milliseconds(50));
  }
}

BucketWatch::~BucketWatch() {
  if (stream_) stream_->Stop();
  if (thread_.joinable()) thread_.join();
  stream_.reset();
  bucket_.reset();
  conn_.reset();
}

Status BucketWatch::Watch() {
  Result<nats::BucketInfo> info = Info();
  if (!info) return info.error();
  auto stream = nats::KvStream::FromRevision(*bucket_, info->last_seq + 1);
  if (!stream) return stream.error().WithContext("watch");
  stream_ = std::move(*stream);
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

std::optional<nats::KvEntry> BucketWatch::WaitWrite(const std::string& key, std::uint64_t after,
                                                    std::int64_t not_before_ns,
                                                    milliseconds timeout) {
  std::unique_lock lock(mu_);
  std::optional<nats::KvEntry> found;
  cv_.wait_for(lock, timeout, [&] {
    auto it = latest_.find(key);
    if (it != latest_.end() && it->second.revision > after &&
        it->second.created_ns >= not_before_ns)
      found = it->second;
    return found.has_value();
  });
  return found;
}

void BucketWatch::Loop() {
  for (;;) {
    Result<nats::KvEvent> e = stream_->Next(milliseconds(500));
    if (!e) {
      if (e.error().code() == Code::kDeadlineExceeded || e.error().code() == Code::kDataLoss)
        continue;
      return;  // stopped or closed
    }
    if (e->kind != nats::KvEvent::Kind::kEntry) continue;
    std::lock_guard lock(mu_);
    latest_[e->entry.key] = e->entry;
    cv_.notify_all();
  }
}

}  // namespace policyd::bench
