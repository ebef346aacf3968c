#include "daemon/observability.h"

#include <filesystem>

namespace policyd {

void AddSyncCounters(const Syncer& syncer, DaemonCounters& out) {
  const SyncCounters& s = syncer.counters();
  out.sync_attempts += s.rounds.load(std::memory_order_relaxed);
  out.sync_successes += s.successes.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < kSyncFailureCauses; ++i) {
    out.sync_failures[i] += s.failures_by_cause[i].load(std::memory_order_relaxed);
  }
  out.cold_starts += s.cold_starts.load(std::memory_order_relaxed);
  out.events_applied += s.events_applied.load(std::memory_order_relaxed);
}

void AddObservabilityRoutes(const metrics::Endpoints& endpoints, http::Router& router) {
  for (const char* path : {"/metrics", "/healthz", "/readyz"}) {
    router.Add("GET", path, [&endpoints, path](const http::HttpRequest&) {
      http::HttpResponse response;
      if (std::optional<metrics::HttpReply> reply = endpoints.Answer(path)) {
        response.status = reply->status;
        response.content_type = std::move(reply->content_type);
        response.body = std::move(reply->body);
      }
      return response;
    });
  }
}

std::optional<std::uint64_t> DirectoryBytes(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) return std::nullopt;
  std::uint64_t total = 0;
  // Files come and go while RocksDB compacts: one that vanished meanwhile is simply skipped.
  for (; it != end; it.increment(ec)) {
    if (ec) return std::nullopt;
    std::error_code size_ec;
    if (!it->is_regular_file(size_ec)) continue;
    const std::uintmax_t size = it->file_size(size_ec);
    if (!size_ec) total += size;
  }
  return total;
}

Observability::Observability(const Store& store, const ServingState& state, const Clock& clock,
                             const Server& server, const Syncer* syncer,
                             ObservabilityOptions options)
    : store_(store),
      state_(state),
      clock_(clock),
      server_(server),
      syncer_(syncer),
      options_(std::move(options)),
      endpoints_(metrics::EndpointSources{
          [this] { return CurrentStatus(); }, [this] { return server_.loops_turning(); },
          metrics::MetricsContext{options_.version, options_.rocksdb_version,
                                  options_.max_staleness, std::nullopt},
          [this] { return DirectoryBytes(options_.data_dir); },
          [this] { return server_.accepting(); }}) {}

Observability::~Observability() { Stop(); }

Result<ServerStatus> Observability::CurrentStatus() const {
  Result<StoreMeta> meta = store_.Meta();
  if (!meta) return Err(meta.error());
  ServerStatus status;
  status.meta = std::move(*meta);
  LookupBatch batch;
  if (store_.Read(batch).ok() && batch.instance() != nullptr) {
    status.instance_id = batch.instance()->id;
  }
  status.version = options_.version;
  state_.FillStatus(clock_.Now(), status);
  DaemonCounters& counters = status.counters.emplace();
  server_.FillCounters(counters);
  if (syncer_ != nullptr) AddSyncCounters(*syncer_, counters);
  if (options_.more_counters) options_.more_counters(counters);
  return status;
}

Status Observability::StartListener(const std::string& address) {
  listener_ = std::make_unique<metrics::MetricsHttpListener>(endpoints_);
  Status started = listener_->Start(address);
  if (!started.ok()) listener_.reset();
  return started;
}

void Observability::Stop() {
  if (listener_) listener_->Stop();
}

}  // namespace policyd
