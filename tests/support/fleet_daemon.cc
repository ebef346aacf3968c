#include "support/fleet_daemon.h"

#include <sys/stat.h>

#include <fstream>

namespace policyd::testing_support {

std::string JoinUrls(const std::vector<std::string>& urls) {
  std::string out;
  for (const std::string& url : urls) out += (out.empty() ? "" : ",") + url;
  return out;
}

FleetDaemonOptions FleetDaemon::Publisher(std::vector<std::string> nats_urls,
                                          std::string upstream_url, std::string publisher_id) {
  FleetDaemonOptions o;
  o.role = FleetDaemonOptions::Role::kPublisher;
  o.nats_urls = std::move(nats_urls);
  o.upstream_url = std::move(upstream_url);
  o.publisher_id = std::move(publisher_id);
  return o;
}

FleetDaemonOptions FleetDaemon::Follower(std::vector<std::string> nats_urls) {
  FleetDaemonOptions o;
  o.role = FleetDaemonOptions::Role::kFollower;
  o.nats_urls = std::move(nats_urls);
  return o;
}

FleetDaemon::FleetDaemon(FleetDaemonOptions options)
    : options_(std::move(options)), socket_(dir_.Join("policyd.sock")) {
  token_file_ = dir_.Join("token");
  std::ofstream(token_file_) << "fake-pat-0123456789\n";
  chmod(token_file_.c_str(), 0600);
}

FleetDaemon::~FleetDaemon() = default;

std::vector<std::string> FleetDaemon::Argv() const {
  std::vector<std::string> argv = {BinDir() + "/daemon/policyd",
                                   "--socket",
                                   socket_,
                                   "--data-dir",
                                   data_dir(),
                                   "--threads",
                                   "1",
                                   "--metrics-listen",
                                   "127.0.0.1:0"};
  const std::string urls = JoinUrls(options_.nats_urls);
  if (options_.role == FleetDaemonOptions::Role::kPublisher) {
    if (!options_.upstream_url.empty()) {
      argv.insert(argv.end(), {"--upstream", options_.upstream_url, "--token-file", token_file_,
                               "--poll-interval", options_.poll_interval});
    }
    if (!options_.snapshot.empty()) argv.insert(argv.end(), {"--snapshot", options_.snapshot});
    argv.insert(argv.end(), {"--publish-to", urls});
    if (!options_.publisher_id.empty()) {
      argv.insert(argv.end(), {"--publisher-id", options_.publisher_id});
    }
  } else {
    argv.insert(argv.end(), {"--follow", urls});
  }
  if (!options_.bucket.empty()) argv.insert(argv.end(), {"--nats-bucket", options_.bucket});
  argv.insert(argv.end(), options_.extra.begin(), options_.extra.end());
  return argv;
}

::testing::AssertionResult FleetDaemon::Start() {
  if (process_ && process_->Running()) {
    return ::testing::AssertionFailure() << "policyd is already running";
  }
  metrics_port_ = 0;
  process_ = std::make_unique<ChildProcess>(Argv(), dir_.Join("policyd.log"), options_.env);
  auto ready = [this] {
    if (!process_->Running()) return true;  // exited: report at once instead of waiting
    auto c = Client::Connect(socket_);
    return c.has_value() && c->GetStatus().has_value();
  };
  ::testing::AssertionResult r = WaitFor(ready, std::chrono::seconds(20), "policyd to serve");
  if (r && !process_->Running()) r = ::testing::AssertionFailure() << "policyd exited";
  if (r) {
    metrics_port_ = MetricsPort(*process_);
    if (metrics_port_ <= 0) r = ::testing::AssertionFailure() << "no metrics port in the log";
  }
  if (!r) r << "\npolicyd log (" << dir_.path() << "):\n" << Log();
  return r;
}

int FleetDaemon::Stop(int signal) {
  if (!process_ || !process_->Running()) return 0;
  return process_->Stop(signal, std::chrono::seconds(20));
}

bool FleetDaemon::Running() { return process_ && process_->Running(); }

pid_t FleetDaemon::pid() const { return process_ ? process_->pid() : -1; }

std::string FleetDaemon::Log() const { return process_ ? process_->Log() : std::string(); }

Scrape FleetDaemon::Metrics() const {
  if (metrics_port_ <= 0) return {};
  return ScrapeMetrics(metrics_port_);
}

std::optional<double> FleetDaemon::Metric(const std::string& series) const {
  return Metrics().Find(series);
}

CommandResult FleetDaemon::Ctl(std::vector<std::string> args) const {
  std::vector<std::string> argv = {BinDir() + "/cli/policyctl", "--socket", socket_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

Result<ServerStatus> FleetDaemon::Status() const {
  Result<Client> client = Client::Connect(socket_);
  if (!client) return Err(client.error());
  return client->GetStatus();
}

::testing::AssertionResult WaitForAll(const std::vector<FleetDaemon*>& daemons,
                                      const std::function<bool(FleetDaemon&)>& condition,
                                      std::chrono::milliseconds timeout, const std::string& what) {
  return WaitFor(
      [&] {
        for (FleetDaemon* d : daemons) {
          if (!condition(*d)) return false;
        }
        return true;
      },
      timeout, what);
}

}  // namespace policyd::testing_support
