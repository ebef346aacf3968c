#include "servers.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench_kinds.h"
#include "bench_support.h"
#include "client/client.h"
#include "json/snapshot_json.h"
#include "model/domain_policy.h"
#include "wire/request.h"
#include "wire/response.h"

namespace policyd::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Writes the snapshot with the production streaming writer; returns its size in bytes. With
// `kinds`, also every generic kind's default and 1% own rows per kind (bench_kinds.h).
std::uintmax_t WriteSnapshot(int orgs, const std::string& path, bool kinds) {
  std::ofstream file(path, std::ios::binary);
  if (!file) Fail("cannot write " + path);
  InstanceRecord instance;
  instance.id = "300000000000000001";
  instance.policy.flags = {false, true, true};
  instance.policy.details = {7, Timestamp{1739260801, 500000000}, Timestamp{1740820364, 0},
                             instance.id};
  std::string out;
  std::vector<KindPolicy> defaults;
  std::vector<const KindPolicy*> rows;
  if (kinds) {
    for (PolicyKind k : kGenericKinds) defaults.push_back(BenchKindDefault(k, instance.id));
    for (const KindPolicy& d : defaults) rows.push_back(&d);
  }
  AppendSnapshotBegin(out, instance, {}, rows);
  std::vector<KindPolicy> own;
  for (int i = 0; i < orgs; ++i) {  // fixed-width ids: numeric order is byte order
    OrgRecord org;
    org.id = OrgId(i);
    own.clear();
    rows.clear();
    for (PolicyKind k : kGenericKinds)
      if (kinds && HasOwnKind(i, k)) own.push_back(BenchKindPolicy(k, i, org.id));
    for (const KindPolicy& p : own) rows.push_back(&p);
    if (HasOwnPolicy(i)) {
      PolicyRecord p;
      p.flags = {i % 2 == 0, i % 3 == 0, i % 5 == 0};
      p.details = {static_cast<std::uint64_t>(i + 1), Timestamp{1700000000 + i, 0},
                   Timestamp{1700000500 + i, 123000000}, org.id};
      org.policy = p;
    }
    // Every org has its generated domain, verified and primary, as the upstream gives it: the
    // login-name checks find it in the org's domains and in the verified-domain index.
    const OrgDomain generated{org.id + ".example.com", true, true};
    AppendSnapshotOrg(out, org, i == 0, std::span<const OrgDomain>(&generated, 1), rows);
    if (out.size() > (1 << 20)) {
      file << out;
      out.clear();
    }
  }
  AppendSnapshotEnd(out);
  file << out;
  file.close();
  if (!file) Fail("writing " + path + " failed");
  return std::filesystem::file_size(path);
}

std::uintmax_t SstBytes(const std::string& dir) {
  std::uintmax_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".sst") total += e.file_size(ec);
  return total;
}

void CheckRunning(const Policyd& p) {
  int status = 0;
  if (!ChildRunning(p.pid, &status))
    Fail("policyd exited (wait status " + std::to_string(status) + ") before answering; log:\n" +
         FileTail(p.log));
}

std::vector<std::uint8_t> WithPrefix(std::span<const std::uint8_t> body) {
  std::vector<std::uint8_t> frame(4 + body.size());
  const auto n = static_cast<std::uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) frame[i] = static_cast<std::uint8_t>(n >> (8 * i));
  std::memcpy(frame.data() + 4, body.data(), body.size());
  return frame;
}

std::string RespCommand(std::initializer_list<std::string_view> parts) {
  // Built with append only: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
  std::string out;
  out.append("*").append(std::to_string(parts.size())).append("\r\n");
  for (std::string_view p : parts) {
    out.append("$").append(std::to_string(p.size())).append("\r\n");
    out.append(p).append("\r\n");
  }
  return out;
}

bool WaitForRedis(Redis& r, Conn& conn) {
  const auto t0 = Clock::now();
  std::string error;
  for (;;) {
    if (!ChildRunning(r.pid)) {
      r.pid = -1;
      r.missing = "redis-server exited at start: " + FileTail(r.log, 300);
      return false;
    }
    if (conn.Connect(r.socket, error) && conn.WriteAll(RespCommand({"PING"})) &&
        conn.ReadSimple("PONG"))
      return true;
    if (Since(t0) > 20) {
      r.missing = "redis-server did not answer within 20 s";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Pipelines lookups to policyd and SETs of the answers to Redis, 256 orgs at a time.
void LoadRedis(Conn& redis, const std::string& policyd_socket,
               const std::vector<std::string>& org_ids) {
  Conn pd;
  std::string error;
  if (!pd.Connect(policyd_socket, error)) Fail(error);
  constexpr int kChunk = 256;
  std::vector<std::uint8_t> req;
  std::string sets;
  std::uint64_t id = 0;
  const int n = static_cast<int>(org_ids.size());
  for (int first = 0; first < n; first += kChunk) {
    const int last = std::min(first + kChunk, n);
    req.clear();
    for (int i = first; i < last; ++i) AppendGetOrgPolicy(req, ++id, org_ids[i], false);
    if (!pd.WriteAll(req)) Fail("write to policyd failed while loading Redis");
    sets.clear();
    for (int i = first; i < last; ++i) {
      const auto body = pd.ReadFrame();
      if (body.empty()) Fail("policyd stopped answering while loading Redis");
      sets +=
          RespCommand({"SET", org_ids[i],
                       std::string_view(reinterpret_cast<const char*>(body.data()), body.size())});
    }
    if (!redis.WriteAll(sets)) Fail("write to redis failed while loading");
    for (int i = first; i < last; ++i)
      if (!redis.ReadSimple("OK")) Fail("redis SET failed while loading");
  }
}

// The bytes of `path` from `offset` on (what a process started after `offset` was the size has
// written to a log that earlier runs wrote too).
std::string FileFrom(const std::string& path, std::uintmax_t offset) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Waits for the daemon's "lookup index loaded: N orgs, K own rows of other policy kinds, M MiB,
// in T ms" line in its log, written
// after `log_offset`.
void WaitForIndex(Policyd& p, Clock::time_point t0, std::uintmax_t log_offset) {
  static constexpr std::string_view kLine = "lookup index loaded: ";
  for (;;) {
    CheckRunning(p);
    const std::string log = FileFrom(p.log, log_offset);
    if (const std::size_t at = log.find(kLine); at != std::string::npos) {
      p.index_s = Since(t0);
      p.index_rss_kb = RssKb(p.pid);
      const std::size_t from = at + kLine.size();
      const std::size_t end = log.find('\n', from);
      p.index_line = log.substr(from, end == std::string::npos ? std::string::npos : end - from);
      return;
    }
    if (log.find("lookup index not loaded") != std::string::npos)
      Fail("policyd did not load its lookup index; log:\n" + log);
    if (Since(t0) > 600) Fail("policyd did not load its lookup index within 10 min");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

std::uintmax_t WriteBenchSnapshot(int orgs, const std::string& path) {
  return WriteSnapshot(orgs, path, false);
}

std::string OrgId(int i) {
  return std::to_string(310000000000000000ULL + static_cast<unsigned>(i));
}

bool HasOwnPolicy(int i) { return i % 100 == 0; }

std::vector<std::string> OrgIds(int orgs) {
  std::vector<std::string> ids;
  ids.reserve(orgs);
  for (int i = 0; i < orgs; ++i) ids.push_back(OrgId(i));
  return ids;
}

Policyd StartPolicyd(const std::string& binary, const std::string& socket,
                     const std::string& data_dir, const std::string& snapshot,
                     const std::string& log, const std::vector<std::string>& extra_args,
                     bool wait_for_index) {
  if (access(binary.c_str(), X_OK) != 0)
    Fail("policyd binary not found at " + binary + " (build it, or pass --policyd PATH)");
  Policyd p;
  p.socket = socket;
  p.data_dir = data_dir;
  p.log = log;
  NotifySocket notify(socket + ".notify");
  std::vector<std::string> argv = {binary,
                                   "--socket",
                                   socket,
                                   "--data-dir",
                                   data_dir,
                                   "--log-level",
                                   wait_for_index ? "info" : "warn"};
  if (!snapshot.empty()) argv.insert(argv.end(), {"--snapshot", snapshot});
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  std::string error;
  std::error_code size_error;
  std::uintmax_t log_offset = std::filesystem::file_size(log, size_error);
  if (size_error) log_offset = 0;
  const auto t0 = Clock::now();
  p.pid = Spawn(argv, log, error, {"NOTIFY_SOCKET=" + notify.path()});
  if (p.pid < 0) Fail("cannot start policyd: " + error);
  // READY=1 comes once the store is open and the socket listens; the first answer an instant
  // later, when the serving threads run.
  while (!notify.Receive("READY=1", 1)) {
    CheckRunning(p);
    if (Since(t0) > 600) Fail("policyd sent no READY=1 within 10 min");
  }
  p.ready_s = Since(t0);
  for (;;) {
    CheckRunning(p);
    ClientOptions options;
    options.timeout = std::chrono::seconds(2);
    auto client = Client::Connect(socket, options);
    if (client && client->GetStatus()) break;
    if (Since(t0) > 600) Fail("policyd did not answer within 10 min");
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  p.answer_s = Since(t0);
  if (wait_for_index) WaitForIndex(p, t0, log_offset);
  return p;
}

void StopPolicyd(Policyd& p) {
  StopChild(p.pid, SIGTERM, 30000);
  p.pid = -1;
}

PreparedStore PrepareStore(const std::string& binary, const std::string& dir,
                           const std::string& name, int orgs,
                           const std::vector<std::string>& serve_args, bool kinds,
                           bool wait_for_index) {
  PreparedStore s;
  s.orgs = orgs;
  s.kinds = kinds;
  s.org_ids = OrgIds(orgs);
  const std::string snapshot = dir + "/" + name + ".json";
  const std::string data = dir + "/" + name + ".data";
  const std::string socket = dir + "/" + name + ".sock";
  const std::string log = dir + "/" + name + ".log";
  auto t0 = Clock::now();
  s.snapshot_bytes = WriteSnapshot(orgs, snapshot, kinds);
  s.write_snapshot_s = Since(t0);
  Policyd loader = StartPolicyd(binary, socket, data, snapshot, log);
  s.load_snapshot_s = loader.answer_s;
  StopPolicyd(loader);
  std::filesystem::remove(snapshot);
  s.store_bytes = DirSize(data);
  s.sst_bytes = SstBytes(data);
  s.serving = StartPolicyd(binary, socket, data, "", log, serve_args, wait_for_index);
  return s;
}

Response AskPolicyd(const std::string& socket, const std::vector<std::uint8_t>& request,
                    const std::string& what, std::vector<std::uint8_t>* body) {
  Conn conn;
  std::string error;
  if (!conn.Connect(socket, error)) Fail(what + ": " + error);
  if (!conn.WriteAll(request)) Fail(what + ": write to policyd failed");
  const auto frame = conn.ReadFrame();
  if (frame.empty()) Fail(what + ": no answer from policyd");
  if (body != nullptr) body->assign(frame.begin(), frame.end());
  std::vector<std::uint64_t> aligned((frame.size() + 7) / 8);
  std::memcpy(aligned.data(), frame.data(), frame.size());
  Result<Response> decoded =
      DecodeResponse({reinterpret_cast<const std::uint8_t*>(aligned.data()), frame.size()});
  if (!decoded) Fail(what + ": undecodable answer: " + decoded.error().ToString());
  return std::move(*decoded);
}

std::vector<std::uint8_t> ProbeLookup(const std::string& socket,
                                      const std::vector<std::string>& org_ids, int index) {
  std::vector<std::uint8_t> req, body;
  AppendGetOrgPolicy(req, 1, org_ids[index], false);
  const Response decoded = AskPolicyd(socket, req, "org " + org_ids[index], &body);
  if (decoded.kind != ResponseKind::kPolicy || decoded.policies.size() != 1 ||
      !decoded.policies[0].status.ok() || !decoded.policies[0].org_known ||
      decoded.policies[0].policy.is_default == HasOwnPolicy(index))
    Fail("policyd's answer for org " + org_ids[index] + " is not the expected policy");
  return WithPrefix(body);
}

void ProbeBatch(const std::string& socket, const std::string& org_id, int batch,
                std::size_t& request_bytes, std::size_t& response_bytes) {
  std::vector<std::uint8_t> req;
  std::vector<std::string> ids(batch, org_id);
  AppendGetOrgPolicies(req, 1, ids, false);
  request_bytes = req.size();
  Conn conn;
  std::string error;
  if (!conn.Connect(socket, error) || !conn.WriteAll(req)) Fail("batch probe: " + error);
  const auto body = conn.ReadFrame();
  if (body.empty()) Fail("policyd did not answer a batch of " + std::to_string(batch));
  response_bytes = 4 + body.size();
}

void ReadEveryOrg(const std::string& socket, const std::vector<std::string>& org_ids) {
  Conn conn;
  std::string error;
  if (!conn.Connect(socket, error)) Fail(error);
  std::vector<std::uint8_t> req;
  std::uint64_t id = 0;
  for (std::size_t first = 0; first < org_ids.size(); first += 64) {
    const std::size_t n = std::min<std::size_t>(64, org_ids.size() - first);
    req.clear();
    AppendGetOrgPolicies(req, ++id, std::span(org_ids).subspan(first, n), false);
    if (!conn.WriteAll(req) || conn.ReadFrame().empty()) Fail("policyd stopped answering");
  }
}

namespace {
void EchoMain(void* arg) { RunEchoServer(*static_cast<EchoServerConfig*>(arg)); }
}  // namespace

pid_t StartEcho(const std::string& socket, const std::vector<std::uint8_t>& response_frame,
                const EchoVariant& variant) {
  EchoServerConfig config;
  config.listen_fd = ListenUnix(socket.c_str());
  if (config.listen_fd < 0)
    Fail("echo server: cannot listen on " + socket + ": " + std::strerror(errno));
  config.response_frame = response_frame;
  config.variant = variant;
  const pid_t pid = ForkFunction(EchoMain, &config);
  close(config.listen_fd);  // the child has it
  return pid;
}

Redis StartRedis(const std::string& server, const std::string& dir,
                 const std::string& policyd_socket, const std::vector<std::string>& org_ids) {
  Redis r;
  r.socket = dir + "/redis.sock";
  r.log = dir + "/redis.log";
  if (server.find('/') == std::string::npos ? !InPath(server) : access(server.c_str(), X_OK) != 0) {
    r.missing = server + " not found";
    return r;
  }
  std::string error;
  r.pid = Spawn({server, "--port", "0", "--unixsocket", r.socket, "--unixsocketperm", "700",
                 "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir},
                r.log, error);
  if (r.pid < 0) {
    r.missing = "cannot start: " + error;
    return r;
  }
  Conn redis;
  if (!WaitForRedis(r, redis)) return r;
  LoadRedis(redis, policyd_socket, org_ids);
  // Check one value and take the sizes: the same size as policyd's answer (the bytes differ only
  // in the request id they carry).
  const std::string& org = org_ids[1 % org_ids.size()];
  const std::string get = RespCommand({"GET", org});
  std::string_view value;
  if (!redis.WriteAll(get) || !redis.ReadBulk(value)) Fail("redis GET after load failed");
  const std::size_t expected = ProbeLookup(policyd_socket, org_ids, 1 % org_ids.size()).size();
  if (value.size() + 4 != expected)
    Fail("redis holds " + std::to_string(value.size()) + " B for org " + org +
         ", policyd answers " + std::to_string(expected - 4) + " B");
  r.request_bytes = get.size();
  r.reply_bytes = 1 + std::to_string(value.size()).size() + 2 + value.size() + 2;
  return r;
}

}  // namespace policyd::bench
