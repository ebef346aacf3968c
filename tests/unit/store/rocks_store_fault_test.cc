// RocksStore when the disk fails under it: a full disk or a write error during Apply, Replace or
// Flush changes nothing, reads go on from the last good state, and writing works again (with
// nothing half-written) as soon as the disk does. Faults come from support/fault_fs.h.
#include <gtest/gtest.h>

#include <filesystem>

#include "store_test_util.h"
#include "support/fault_fs.h"

namespace policyd {
namespace {

using testing_support::FaultFs;

class RocksStoreFaultTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<RocksStore>> store = RocksStore::Open(tmp_.path(), {}, fs_.env());
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(
        store_->Replace(Snapshot{Instance(), {Org("a", 1), Org("b")}}, "c1", "up", At(1)).ok());
  }

  // The parameter picks the fault: ENOSPC (RocksDB: hard error), or a plain I/O error such as
  // EIO or EFBIG (RocksDB: fatal, which only a reopen would clear without our listener).
  rocksdb::IOStatus Fault() const {
    return GetParam() ? FaultFs::NoSpace() : FaultFs::WriteError();
  }

  static StoreChange AddOrg(const std::string& id, std::uint64_t seq, const std::string& cursor) {
    StoreChange change;
    change.put_orgs.push_back(Org(id, seq));
    change.cursor = cursor;
    return change;
  }

  TempDir tmp_;
  FaultFs fs_;
  std::unique_ptr<RocksStore> store_;
};

TEST_P(RocksStoreFaultTest, AFailedWriteChangesNothingAndReadsGoOn) {
  const Dump before = DumpStore(*store_);
  const StoreMeta meta_before = store_->Meta().value();
  fs_.FailWrites(Fault());
  for (int attempt = 0; attempt < 3; ++attempt) {
    Status s = store_->Apply(AddOrg("c", 2, "c2"), At(2));
    EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
    EXPECT_NE(s.message().find(tmp_.path()), std::string::npos) << s.ToString();
  }
  EXPECT_GT(fs_.refused(), 0);
  EXPECT_EQ(DumpStore(*store_), before);
  EXPECT_EQ(store_->Meta().value(), meta_before);
  LookupBatch batch;
  batch.Add("a");
  batch.Add("c");
  ASSERT_TRUE(store_->Read(batch).ok());
  EXPECT_TRUE(batch.org(0).known);
  EXPECT_FALSE(batch.org(1).known);
}

TEST_P(RocksStoreFaultTest, WritingWorksAgainOnceTheDiskDoes) {
  fs_.FailWrites(Fault());
  ASSERT_FALSE(store_->Apply(AddOrg("c", 2, "c2"), At(2)).ok());
  fs_.Heal();
  ASSERT_TRUE(store_->Apply(AddOrg("d", 3, "c3"), At(3)).ok());
  EXPECT_EQ(
      DumpStore(*store_),
      DumpOf(Instance(), {{"a", Policy(1, "a")}, {"b", std::nullopt}, {"d", Policy(3, "d")}}));
  EXPECT_EQ(store_->Meta()->cursor, "c3");
  EXPECT_EQ(store_->Meta()->org_count, 3u);
}

TEST_P(RocksStoreFaultTest, NothingHalfWrittenSurvivesAReopen) {
  ASSERT_TRUE(store_->Apply(AddOrg("c", 2, "c2"), At(2)).ok());
  fs_.FailWrites(Fault());
  ASSERT_FALSE(store_->Apply(AddOrg("x", 9, "c9"), At(9)).ok());
  ASSERT_FALSE(store_->Replace(Snapshot{Instance(), {Org("y")}}, "c10", "up", At(10)).ok());
  // Closed while still failing (a crash would do the same): the WAL ends with the torn batch.
  store_.reset();
  fs_.Heal();
  std::unique_ptr<RocksStore> reopened = OpenStore(tmp_.path());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(
      DumpStore(*reopened),
      DumpOf(Instance(), {{"a", Policy(1, "a")}, {"b", std::nullopt}, {"c", Policy(2, "c")}}));
  EXPECT_EQ(reopened->Meta()->cursor, "c2");
  EXPECT_EQ(reopened->Meta()->org_count, 3u);
  EXPECT_EQ(reopened->Meta()->custom_policy_count, 2u);
}

TEST_P(RocksStoreFaultTest, AFailedFlushIsResumedByTheNextWrite) {
  ASSERT_TRUE(store_->Apply(AddOrg("c", 2, "c2"), At(2)).ok());
  fs_.FailWrites(Fault());
  Status flushed = store_->Flush();
  EXPECT_EQ(flushed.code(), Code::kUnavailable) << flushed.ToString();
  EXPECT_FALSE(store_->Apply(AddOrg("d", 3, "c3"), At(3)).ok());
  fs_.Heal();
  ASSERT_TRUE(store_->Apply(AddOrg("d", 3, "c3"), At(3)).ok());
  EXPECT_TRUE(store_->Flush().ok());
  store_.reset();
  std::unique_ptr<RocksStore> reopened = OpenStore(tmp_.path());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->Meta()->cursor, "c3");
  EXPECT_EQ(reopened->Meta()->org_count, 4u);
}

TEST_P(RocksStoreFaultTest, AFailedReplaceKeepsThePreviousStateWhole) {
  const Dump before = DumpStore(*store_);
  fs_.FailWrites(Fault());
  std::vector<OrgRecord> many;
  for (int i = 0; i < 5000; ++i) many.push_back(Org("org-" + std::to_string(i), i % 3 + 1));
  EXPECT_EQ(store_->Replace(Snapshot{Instance(2), many}, "big", "up", At(5)).code(),
            Code::kUnavailable);
  EXPECT_EQ(DumpStore(*store_), before);
  fs_.Heal();
  ASSERT_TRUE(store_->Replace(Snapshot{Instance(2), many}, "big", "up", At(6)).ok());
  EXPECT_EQ(store_->Meta()->org_count, 5000u);
  EXPECT_EQ(DumpStore(*store_).orgs.size(), 5000u);
}

TEST_P(RocksStoreFaultTest, RocksDbWritesNoInfoLogFileIntoTheDataDirectory) {
  // Debian's RocksDB (built with assertions) aborts in its file logger after a failed write to
  // that file, i.e. when the disk is full; the store logs through spdlog instead.
  fs_.FailWrites(Fault());
  EXPECT_FALSE(store_->Apply(AddOrg("c", 2, "c2"), At(2)).ok());
  fs_.Heal();
  EXPECT_TRUE(store_->Apply(AddOrg("c", 2, "c2"), At(2)).ok());
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("LOG")));
}

INSTANTIATE_TEST_SUITE_P(Faults, RocksStoreFaultTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "DiskFull" : "WriteError";
                         });

}  // namespace
}  // namespace policyd
