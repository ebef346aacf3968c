// Storage faults: the disk fills up or a write fails while policyd syncs, and data directories
// policyd must not use.
//
//  * In process (deterministic): the real Syncer, RocksStore and HTTP client against the fake
//    upstream, with writes failed by support/fault_fs.h.
//  * The real binary: a file-size limit set on the running daemon (prlimit(2), as
//    `prlimit --pid PID --fsize=1` does; writes then fail with EFBIG), and a truly full disk (a
//    small tmpfs filled up; skipped where mounting is not permitted). In both, lookups keep
//    answering from the last good state, status and the systemd STATUS line say DEGRADED with
//    the error, sync retries with backoff, and once the disk takes writes again the store
//    converges with nothing half-written.
//  * Unusable data directories: each is refused with exit code 78 and one line saying what to
//    do, and is left as it was.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

#include "base/clock.h"
#include "fake_upstream/fake_upstream.h"
#include "json/policy_json.h"
#include "resolve/resolve.h"
#include "store/rocks_store.h"
#include "support/daemon.h"
#include "support/fault_fs.h"
#include "support/notify_socket.h"
#include "support/upstream_checks.h"
#include "sync/syncer.h"
#include "upstream/upstream.h"

namespace policyd::testing_support {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string WriteToken(const TempDir& dir) {
  const std::string path = dir.Join("token");
  std::ofstream(path) << "fake-pat-0123456789\n";
  chmod(path.c_str(), 0600);
  return path;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------
// In process: Syncer + RocksStore on a file system that fails on demand.

class SyncerStorageFaultTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(upstream_.ok());
    for (int i = 0; i < 30; ++i) orgs_.push_back(upstream_.AddOrg("org " + std::to_string(i)));
    ASSERT_TRUE(upstream_.AddOrgPolicy(orgs_[0], {true, false, false}).ok());
    ASSERT_TRUE(upstream_.AddOrgPolicy(orgs_[3], {false, true, true}).ok());
    Result<std::unique_ptr<RocksStore>> store =
        RocksStore::Open(dir_.Join("data"), StoreOptions{}, fs_.env());
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
    UpstreamOptions options;
    options.base_url = upstream_.base_url();
    options.token_file = WriteToken(dir_);
    options.total_timeout = seconds(2);
    Result<std::unique_ptr<Upstream>> client = MakeHttpUpstream(options, SystemClock());
    ASSERT_TRUE(client) << client.error().ToString();
    client_ = std::move(*client);
    state_ = std::make_unique<ServingState>(FreshnessOptions{upstream_.base_url()});
    SyncOptions sync;
    sync.source = upstream_.base_url();
    sync.poll_interval = milliseconds(50);
    sync.backoff_initial = milliseconds(20);
    sync.backoff_max = milliseconds(200);
    syncer_ = std::make_unique<Syncer>(*store_, *client_, *state_, SystemClock(), sync);
  }

  rocksdb::IOStatus Fault() const {
    return GetParam() ? FaultFs::NoSpace() : FaultFs::WriteError();
  }
  std::string FaultText() const {
    return GetParam() ? "No space left on device" : "Input/output error";
  }

  ServerStatus Status() {
    ServerStatus s;
    if (Result<StoreMeta> meta = store_->Meta()) s.meta = *meta;
    state_->FillStatus(SystemClock().Now(), s);
    return s;
  }

  // What the store answers for each org of `ids`: the upstream's JSON body, or "unknown".
  std::map<std::string, std::string> Answers(const std::vector<std::string>& ids) {
    std::map<std::string, std::string> out;
    LookupBatch batch;
    for (const std::string& id : ids) batch.Add(id);
    EXPECT_TRUE(store_->Read(batch).ok());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      Result<Resolution> r = ResolveOrgPolicy(ids[i], batch.org(i), batch.instance(), false);
      out[ids[i]] = !batch.org(i).known ? "unknown"
                    : r                 ? FormatGetPolicyResponse(r->policy)
                                        : r.error().ToString();
    }
    return out;
  }
  // The same from the upstream.
  std::map<std::string, std::string> UpstreamAnswers(const std::vector<std::string>& ids) {
    const std::vector<std::string> known = upstream_.OrgIds();
    std::map<std::string, std::string> out;
    for (const std::string& id : ids) {
      out[id] = std::find(known.begin(), known.end(), id) == known.end()
                    ? "unknown"
                    : upstream_.EffectivePolicyBody(id);
    }
    return out;
  }

  TempDir dir_;
  FakeUpstream upstream_;
  FaultFs fs_;
  std::vector<std::string> orgs_;
  std::unique_ptr<RocksStore> store_;
  std::unique_ptr<Upstream> client_;
  std::unique_ptr<ServingState> state_;
  std::unique_ptr<Syncer> syncer_;
};

TEST_P(SyncerStorageFaultTest, AFailedWriteDegradesServesTheLastGoodStateAndSyncResumes) {
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  ASSERT_EQ(Status().health, Health::kServing);
  std::vector<std::string> ids = orgs_;
  const std::map<std::string, std::string> before = Answers(ids);

  fs_.FailWrites(Fault());
  ASSERT_TRUE(upstream_.AddOrgPolicy(orgs_[1], {true, true, true}).ok());
  ASSERT_TRUE(upstream_.ChangeDefaultPolicy({false, true, false}).ok());
  ASSERT_TRUE(upstream_.RemoveOrg(orgs_[2]).ok());
  ASSERT_TRUE(upstream_.RemoveOrgPolicy(orgs_[0]).ok());
  ids.push_back(upstream_.AddOrg("added while the disk was full"));
  syncer_->Start();
  ASSERT_TRUE(WaitFor(
      [&] {
        ServerStatus s = Status();
        return s.health == Health::kDegraded && s.consecutive_failures >= 3;
      },
      seconds(10), "three failed rounds and DEGRADED"));
  const ServerStatus degraded = Status();
  EXPECT_TRUE(Contains(degraded.last_error, FaultText())) << degraded.last_error;
  EXPECT_TRUE(Contains(degraded.last_error, "write synced events")) << degraded.last_error;
  // Reads still answer, from the last good state.
  std::map<std::string, std::string> now = Answers(ids);
  for (const std::string& id : orgs_) EXPECT_EQ(now[id], before.at(id)) << id;
  EXPECT_EQ(now[ids.back()], "unknown");

  fs_.Heal();
  ASSERT_TRUE(WaitFor(
      [&] {
        ServerStatus s = Status();
        return s.health == Health::kServing && s.consecutive_failures == 0;
      },
      seconds(10), "sync to resume"));
  ASSERT_TRUE(WaitFor([&] { return Answers(ids) == UpstreamAnswers(ids); }, seconds(10),
                      "the store to converge"));
  syncer_->Stop();
  EXPECT_GE(syncer_->counters().failures.load(), 3u);

  // What is on disk is the converged state, whole.
  syncer_.reset();
  store_.reset();
  store_ = std::move(*RocksStore::Open(dir_.Join("data"), StoreOptions{}));
  EXPECT_EQ(Answers(ids), UpstreamAnswers(ids));
  EXPECT_EQ(store_->Meta()->org_count, upstream_.OrgIds().size());
  EXPECT_EQ(store_->Meta()->custom_policy_count, upstream_.OrgsWithOwnPolicy().size());
}

TEST_P(SyncerStorageFaultTest, AFullDiskAtColdStartWritesNothingUntilItIsFreed) {
  fs_.FailWrites(Fault());
  const policyd::Status failed = syncer_->SyncOnce();
  EXPECT_EQ(failed.code(), Code::kUnavailable) << failed.ToString();
  EXPECT_TRUE(Contains(failed.message(), "cold start: write state")) << failed.ToString();
  EXPECT_FALSE(store_->Meta()->has_instance);
  EXPECT_EQ(Status().health, Health::kStarting);  // nothing to serve yet
  fs_.Heal();
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  EXPECT_EQ(Status().health, Health::kServing);
  EXPECT_EQ(Answers(orgs_), UpstreamAnswers(orgs_));
}

INSTANTIATE_TEST_SUITE_P(Faults, SyncerStorageFaultTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "DiskFull" : "WriteError";
                         });

// ---------------------------------------------------------------------------------------------
// The real binary.

class DaemonStorageFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(upstream_.ok());
    token_ = WriteToken(dir_);
    for (int i = 0; i < 40; ++i) orgs_.push_back(upstream_.AddOrg("org " + std::to_string(i)));
    ASSERT_TRUE(upstream_.AddOrgPolicy(orgs_[0], {true, false, false}).ok());
    ASSERT_TRUE(upstream_.AddOrgPolicy(orgs_[1], {false, true, false}).ok());
  }

  std::unique_ptr<Daemon> Start() {
    auto d = std::make_unique<Daemon>(
        dir_,
        std::vector<std::string>{"--upstream", upstream_.base_url(), "--token-file", token_,
                                 "--poll-interval", "200ms", "--request-timeout", "2s"},
        std::vector<std::string>{"NOTIFY_SOCKET=" + notify_path_});
    EXPECT_TRUE(d->WaitReady());
    return d;
  }

  Result<ServerStatus> GetStatus(Daemon& d) {
    Result<Client> client = Client::Connect(d.socket());
    if (!client) return Err(client.error());
    return client->GetStatus();
  }

  // Upstream changes made while the disk is unusable; returns the org removed. `states_` gets the
  // upstream's answers before and after each change: the state the daemon keeps serving is one of
  // them, depending on how many changes a sync applied before the store refused a write (RocksDB
  // may still append to log space it reserved before the disk filled up).
  std::string ChangeUpstream() {
    states_ = {CurrentBodies()};
    EXPECT_TRUE(upstream_.AddOrgPolicy(orgs_[2], {true, true, true}).ok());
    states_.push_back(CurrentBodies());
    EXPECT_TRUE(upstream_.ChangeOrgPolicy(orgs_[0], {true, true, false}).ok());
    states_.push_back(CurrentBodies());
    EXPECT_TRUE(upstream_.RemoveOrgPolicy(orgs_[1]).ok());
    states_.push_back(CurrentBodies());
    EXPECT_TRUE(upstream_.ChangeDefaultPolicy({false, false, true}).ok());
    states_.push_back(CurrentBodies());
    EXPECT_TRUE(upstream_.RemoveOrg(orgs_[3]).ok());
    upstream_.AddOrg("added while the disk was unusable");
    states_.push_back(CurrentBodies());
    return orgs_[3];
  }

  // With the disk unusable: DEGRADED with `error` in the status, policyctl status and the STATUS
  // line; every org answers as in one and the same of the upstream's states_ (nothing half
  // written), and the answers do not move while the disk stays unusable.
  void ExpectDegradedButServing(Daemon& d, const std::string& error) {
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(WaitFor(
        [&] {
          Result<ServerStatus> s = GetStatus(d);
          return s && s->health == Health::kDegraded && s->consecutive_failures >= 2;
        },
        seconds(20), "DEGRADED after two failed syncs"));
    Result<ServerStatus> s = GetStatus(d);
    ASSERT_TRUE(s);
    EXPECT_TRUE(Contains(s->last_error, error)) << s->last_error;
    std::cout << "DEGRADED after "
              << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start)
                     .count()
              << " ms: " << s->last_error << "\n";
    Result<Client> client = Client::Connect(d.socket());
    ASSERT_TRUE(client);
    // The orgs every state has (not the one removed nor the one added by the last change).
    std::map<std::string, std::string> served;
    for (const auto& [org, body] : states_.back()) {
      if (!states_.front().contains(org)) continue;
      Result<PolicyAnswer> a = client->GetOrgPolicy(org);
      ASSERT_TRUE(a) << a.error().ToString();
      served[org] = FormatGetPolicyResponse(a->policy);
    }
    std::optional<std::size_t> state;
    for (std::size_t k = 0; k < states_.size() && !state; ++k) {
      bool all = true;
      for (const auto& [org, body] : served) all = all && states_[k].at(org) == body;
      if (all) state = k;
    }
    ASSERT_TRUE(state.has_value()) << "the answers are no state the upstream ever had";
    std::cout << "serving the upstream's state after " << *state << " of " << states_.size() - 1
              << " changes\n";
    // Three more sync rounds fail; the answers stay.
    std::this_thread::sleep_for(milliseconds(600));
    for (const auto& [org, body] : served) {
      Result<PolicyAnswer> a = client->GetOrgPolicy(org);
      ASSERT_TRUE(a) << a.error().ToString();
      EXPECT_EQ(FormatGetPolicyResponse(a->policy), body) << org;
    }
    CommandResult text = d.Ctl({"status"});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_TRUE(Contains(text.out, "health:          degraded")) << text.out;
    EXPECT_TRUE(Contains(text.out, error)) << text.out;
    degraded_at_ = notify_.all().size();
    EXPECT_TRUE(notify_.WaitFor("STATUS=DEGRADED (store not writable)", seconds(15)));
    EXPECT_TRUE(Contains(notify_.all(), error)) << notify_.all();
  }

  // After the disk recovered: converged, SERVING again on every channel, and a restart with the
  // upstream down serves exactly the converged state (it was written whole).
  void ExpectRecovered(std::unique_ptr<Daemon>& d, const std::string& removed) {
    const auto start = std::chrono::steady_clock::now();
    Result<ServerStatus> during = GetStatus(*d);  // the failures while the disk was unusable
    EXPECT_TRUE(WaitUntilAnswersMatch(d->socket(), upstream_, seconds(70), {removed}))
        << d->process().Log();
    std::cout << "converged "
              << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start)
                     .count()
              << " ms after the disk took writes again, after "
              << (during ? during->consecutive_failures : 0) << " failed syncs\n";
    EXPECT_TRUE(WaitFor(
        [&] {
          Result<ServerStatus> s = GetStatus(*d);
          return s && s->health == Health::kServing && s->consecutive_failures == 0;
        },
        seconds(20), "SERVING again"));
    EXPECT_TRUE(notify_.WaitFor("STATUS=serving", seconds(15), degraded_at_));
    EXPECT_EQ(d->process().Stop(SIGTERM), 0) << d->process().Log();
    upstream_.InjectFault(Fault{FaultKind::kUnavailable, Fault::kForever});
    d = Start();
    EXPECT_TRUE(AnswersMatchUpstream(d->socket(), upstream_, {removed}));
    upstream_.ClearFaults();
  }

  std::map<std::string, std::string> CurrentBodies() {
    std::map<std::string, std::string> out;
    for (const std::string& org : upstream_.OrgIds()) out[org] = upstream_.EffectivePolicyBody(org);
    return out;
  }

  TempDir dir_;
  FakeUpstream upstream_;
  std::string token_;
  std::vector<std::string> orgs_;
  std::string notify_path_ = dir_.Join("notify.sock");
  NotifySocket notify_{notify_path_};
  std::size_t degraded_at_ = 0;
  std::vector<std::map<std::string, std::string>> states_;  // see ChangeUpstream()
};

TEST_F(DaemonStorageFaultTest, AFileSizeLimitDegradesTheDaemonAndLiftingItRecovers) {
  auto daemon = Start();
  ASSERT_TRUE(WaitUntilAnswersMatch(daemon->socket(), upstream_, seconds(10)));
  // Every write at offset >= 1 byte now fails with EFBIG (SIGXFSZ is ignored by policyd; its
  // stderr log cannot be written either while this lasts).
  const rlimit tiny{1, RLIM_INFINITY};
  ASSERT_EQ(prlimit(daemon->process().pid(), RLIMIT_FSIZE, &tiny, nullptr), 0) << strerror(errno);
  const std::string removed = ChangeUpstream();
  ExpectDegradedButServing(*daemon, "File too large");
  ASSERT_TRUE(daemon->process().Running());
  const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  ASSERT_EQ(prlimit(daemon->process().pid(), RLIMIT_FSIZE, &unlimited, nullptr), 0);
  ExpectRecovered(daemon, removed);
}

// A tmpfs of `size` mounted on `path` for the life of the object; ok() false where mounting is
// not permitted (not root, no CAP_SYS_ADMIN, or a sandbox forbidding it).
class TmpfsMount {
 public:
  TmpfsMount(const std::string& path, const std::string& options) : path_(path) {
    std::filesystem::create_directories(path);
    if (mount("tmpfs", path.c_str(), "tmpfs", 0, options.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = strerror(errno);
    }
  }
  ~TmpfsMount() {
    if (mounted_) umount2(path_.c_str(), MNT_DETACH);
  }
  bool ok() const { return mounted_; }
  const std::string& error() const { return error_; }
  // Remounts read-only (true on success).
  bool MakeReadOnly() {
    return mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) == 0;
  }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

// Fills the file system holding `path` until a write fails (ENOSPC).
void FillDisk(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  const std::string block(1 << 16, 'x');
  while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
  }
}

TEST_F(DaemonStorageFaultTest, AFullDiskDegradesTheDaemonAndFreeingSpaceRecovers) {
  TmpfsMount disk(dir_.Join("data"), "size=16m,mode=0700");
  if (!disk.ok()) GTEST_SKIP() << "cannot mount a tmpfs here: " << disk.error();
  auto daemon = Start();
  ASSERT_TRUE(WaitUntilAnswersMatch(daemon->socket(), upstream_, seconds(10)));
  const std::string filler = dir_.Join("data/filler");
  FillDisk(filler);
  const std::string removed = ChangeUpstream();
  ExpectDegradedButServing(*daemon, "No space left on device");
  ASSERT_TRUE(daemon->process().Running());
  std::filesystem::remove(filler);
  ExpectRecovered(daemon, removed);
  EXPECT_EQ(daemon->process().Stop(SIGTERM), 0);
}

// ---------------------------------------------------------------------------------------------
// Data directories policyd must refuse.

// A policyd store in `dir` with `orgs` orgs, flushed into a table file.
void MakeStore(const std::string& dir, int orgs) {
  Result<std::unique_ptr<RocksStore>> store = RocksStore::Open(dir, StoreOptions{});
  ASSERT_TRUE(store) << store.error().ToString();
  Snapshot snapshot;
  snapshot.instance.id = "300000000000000001";
  snapshot.instance.policy.details.resource_owner = snapshot.instance.id;
  for (int i = 0; i < orgs; ++i) {
    OrgRecord org{"org-" + std::to_string(100000 + i), std::nullopt};
    if (i % 4 == 0) {
      org.policy = PolicyRecord{{true, false, true}, {7, {1700000000, 0}, {1700000001, 0}, org.id}};
    }
    snapshot.orgs.push_back(std::move(org));
  }
  ASSERT_TRUE((*store)->Replace(snapshot, "", "test", Timestamp{1700000002, 0}).ok());
  ASSERT_TRUE((*store)->Flush().ok());
}

// The first file of `dir` (in name order) whose name starts with `prefix` and ends with `suffix`.
std::string FileNamed(const std::string& dir, const std::string& prefix,
                      const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(suffix)) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  EXPECT_FALSE(out.empty()) << "no " << prefix << "*" << suffix << " in " << dir;
  return out.empty() ? dir + "/missing" : out.front();
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Every file under `path` with its bytes (a regular file: itself).
std::map<std::string, std::string> Contents(const std::string& path) {
  std::map<std::string, std::string> out;
  if (std::filesystem::is_regular_file(path)) {
    out[path] = ReadBytes(path);
    return out;
  }
  for (const auto& e : std::filesystem::directory_iterator(path)) {
    out[e.path().filename().string()] = ReadBytes(e.path().string());
  }
  return out;
}

struct UnusableDir {
  std::string name;
  std::function<void(const std::string& data)> make;
  std::string says;  // part of the error line
  // RocksDB's read-write open rewrites its MANIFEST, OPTIONS and WAL files, so every one of
  // these must be refused before that: nothing at all may change.
};

std::vector<UnusableDir> UnusableDirs() {
  return {
      {"a regular file instead of a directory",
       [](const std::string& d) { std::ofstream(d) << "not a directory"; }, "not a directory"},
      {"a directory of someone else's files",
       [](const std::string& d) {
         std::filesystem::create_directories(d);
         std::ofstream(d + "/notes.txt") << "mine";
       },
       "holds files but no RocksDB database"},
      {"another program's RocksDB",
       [](const std::string& d) {
         rocksdb::Options o;
         o.create_if_missing = true;
         rocksdb::DB* db = nullptr;
         ASSERT_TRUE(rocksdb::DB::Open(o, d, &db).ok());
         ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "user:1", "alice").ok());
         delete db;
       },
       "without the meta:format key"},
      {"another program's RocksDB with column families",
       [](const std::string& d) {
         rocksdb::Options o;
         o.create_if_missing = true;
         rocksdb::DB* db = nullptr;
         ASSERT_TRUE(rocksdb::DB::Open(o, d, &db).ok());
         rocksdb::ColumnFamilyHandle* cf = nullptr;
         ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "users", &cf).ok());
         ASSERT_TRUE(db->DestroyColumnFamilyHandle(cf).ok());
         delete db;
       },
       "RocksDB refused to open it"},
      // (A v1 store is migrated, not refused: store/keys.h "Versioning".)
      {"a policyd store of another format version",
       [](const std::string& d) {
         MakeStore(d, 10);
         rocksdb::DB* db = nullptr;
         ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), d, &db).ok());
         ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "meta:format", "policyd-store-v9").ok());
         delete db;
       },
       "policyd-store-v9"},
      {"a garbled CURRENT",
       [](const std::string& d) {
         MakeStore(d, 10);
         WriteBytes(d + "/CURRENT", "garbage without newline");
       },
       "is corrupt"},
      {"a CURRENT naming a missing MANIFEST",
       [](const std::string& d) {
         MakeStore(d, 10);
         WriteBytes(d + "/CURRENT", "MANIFEST-999999\n");
       },
       "is corrupt"},
      {"a garbled MANIFEST",
       [](const std::string& d) {
         MakeStore(d, 10);
         const std::string manifest = FileNamed(d, "MANIFEST-", "");
         std::string bytes = ReadBytes(manifest);
         for (std::size_t i = 10; i < bytes.size(); i += 7) bytes[i] = static_cast<char>(~bytes[i]);
         WriteBytes(manifest, bytes);
       },
       "is corrupt"},
      {"a truncated table file",
       [](const std::string& d) {
         MakeStore(d, 2000);
         const std::string sst = FileNamed(d, "", ".sst");
         std::filesystem::resize_file(sst, std::filesystem::file_size(sst) / 2);
       },
       "is corrupt"},
      {"a garbled first data block in a table file (the format key's)",
       [](const std::string& d) {
         MakeStore(d, 2000);
         const std::string sst = FileNamed(d, "", ".sst");
         std::string bytes = ReadBytes(sst);
         bytes[100] = static_cast<char>(~bytes[100]);
         WriteBytes(sst, bytes);
       },
       "is corrupt"},
      {"a garbled data block of org rows (found only by checking every block)",
       [](const std::string& d) {
         MakeStore(d, 2000);
         const std::string sst = FileNamed(d, "", ".sst");
         std::string bytes = ReadBytes(sst);
         // A third into the file: data blocks come first, the index and filter at the end.
         bytes[bytes.size() / 3] = static_cast<char>(~bytes[bytes.size() / 3]);
         WriteBytes(sst, bytes);
       },
       "block checksum mismatch"},
      {"a missing table file",
       [](const std::string& d) {
         MakeStore(d, 2000);
         std::filesystem::remove(FileNamed(d, "", ".sst"));
       },
       "is corrupt"},
  };
}

TEST(UnusableDataDirTest, EachIsRefusedWithExit78AndOneClearLineAndLeftAsItWas) {
  for (const UnusableDir& c : UnusableDirs()) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    const std::string data = dir.Join("data");
    c.make(data);
    if (::testing::Test::HasFatalFailure()) return;
    const std::map<std::string, std::string> before = Contents(data);
    CommandResult r = RunCommand(
        {BinDir() + "/daemon/policyd", "--socket", dir.Join("s.sock"), "--data-dir", data});
    EXPECT_EQ(r.exit_code, 78) << r.err;
    EXPECT_TRUE(Contains(r.err, c.says)) << r.err;
    EXPECT_TRUE(Contains(r.err, data)) << r.err;
    // The critical line says what to do; RocksDB may add a warning line of its own before it.
    EXPECT_TRUE(Contains(r.err, "--data-dir") || Contains(r.err, "move it away")) << r.err;
    EXPECT_NE(access(dir.Join("s.sock").c_str(), F_OK), 0) << "served anyway";
    std::cout << c.name << ": " << r.err.substr(0, r.err.find('\n')) << "\n";
    // Never silently reused, repaired or cleaned up.
    const std::map<std::string, std::string> after = Contents(data);
    EXPECT_EQ(after.size(), before.size());
    for (const auto& [name, bytes] : before) {
      auto it = after.find(name);
      EXPECT_TRUE(it != after.end()) << name << " was removed";
      if (it != after.end()) {
        EXPECT_TRUE(it->second == bytes) << name << " was changed";
      }
    }
  }
}

TEST(UnusableDataDirTest, AStoreThatCannotBeWrittenIsRefusedWithExit78) {
  TempDir dir;
  const std::string data = dir.Join("data");
  TmpfsMount disk(data, "size=16m,mode=0700");
  if (geteuid() == 0 && !disk.ok()) GTEST_SKIP() << "cannot mount a tmpfs here: " << disk.error();
  MakeStore(data, 10);
  if (disk.ok()) {
    ASSERT_TRUE(disk.MakeReadOnly()) << strerror(errno);  // what a failing disk's remount does
  } else {
    chmod(data.c_str(), 0500);  // not root: the permission bits are enough
  }
  CommandResult r = RunCommand(
      {BinDir() + "/daemon/policyd", "--socket", dir.Join("s.sock"), "--data-dir", data});
  EXPECT_EQ(r.exit_code, 78) << r.err;
  EXPECT_TRUE(Contains(r.err, "is not writable")) << r.err;
  EXPECT_FALSE(Contains(r.err, "another policyd")) << r.err;
  std::cout << r.err;
  chmod(data.c_str(), 0700);
}

}  // namespace
}  // namespace policyd::testing_support
