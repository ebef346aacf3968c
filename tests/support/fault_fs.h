// Test support: a RocksDB file system that fails writes on demand, so that store and sync tests
// can make the disk "full" (or broken) at an exact moment and "free" it again.
//
// Usage: FaultFs fs; RocksStore::Open(dir, options, fs.env()); fs.FailWrites(FaultFs::NoSpace());
// ... fs.Heal();  Reads are never affected. Header-only; link policyd_store (RocksDB).
//
// Threads: FailWrites/Heal from the test thread while RocksDB writes from its own threads.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/io_status.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

namespace policyd::testing_support {

class FaultFs {
 public:
  FaultFs()
      : state_(std::make_shared<State>()),
        fs_(std::make_shared<FileSystem>(rocksdb::FileSystem::Default(), state_)),
        env_(rocksdb::NewCompositeEnv(fs_)) {}

  // The Env to open a store with; valid as long as this object.
  rocksdb::Env* env() const { return env_.get(); }

  // What the kernel's ENOSPC becomes in RocksDB (and what EFBIG, EIO, EDQUOT become).
  static rocksdb::IOStatus NoSpace() {
    return rocksdb::IOStatus::NoSpace("injected", "No space left on device");
  }
  static rocksdb::IOStatus WriteError() {
    return rocksdb::IOStatus::IOError("injected", "Input/output error");
  }

  // From now on, creating a file and every append, flush or sync fails with `error`.
  void FailWrites(rocksdb::IOStatus error) {
    std::lock_guard lock(state_->mu);
    state_->error = std::move(error);
    state_->failing = true;
  }
  void Heal() {
    std::lock_guard lock(state_->mu);
    state_->failing = false;
  }
  // Writes refused so far.
  int refused() const { return state_->refused.load(); }

 private:
  struct State {
    std::mutex mu;
    bool failing = false;  // guarded by mu
    rocksdb::IOStatus error;
    std::atomic<int> refused{0};

    // OK, or the injected error (counted).
    rocksdb::IOStatus Check() {
      std::lock_guard lock(mu);
      if (!failing) return rocksdb::IOStatus::OK();
      ++refused;
      return error;
    }
  };

  class File final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> file, std::shared_ptr<State> state)
        : FSWritableFileOwnerWrapper(std::move(file)), state_(std::move(state)) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = state_->Check();
      return s.ok() ? FSWritableFileOwnerWrapper::Append(data, o, dbg) : s;
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = state_->Check();
      return s.ok() ? FSWritableFileOwnerWrapper::Append(data, o, info, dbg) : s;
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                       const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = state_->Check();
      return s.ok() ? FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, dbg) : s;
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                       const rocksdb::IOOptions& o,
                                       const rocksdb::DataVerificationInfo& info,
                                       rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = state_->Check();
      return s.ok() ? FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, info, dbg) : s;
    }
    rocksdb::IOStatus Flush(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = state_->Check();
      return s.ok() ? FSWritableFileOwnerWrapper::Flush(o, dbg) : s;
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = state_->Check();
      return s.ok() ? FSWritableFileOwnerWrapper::Sync(o, dbg) : s;
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = state_->Check();
      return s.ok() ? FSWritableFileOwnerWrapper::Fsync(o, dbg) : s;
    }

   private:
    std::shared_ptr<State> state_;
  };

  class FileSystem final : public rocksdb::FileSystemWrapper {
   public:
    FileSystem(const std::shared_ptr<rocksdb::FileSystem>& base, std::shared_ptr<State> state)
        : FileSystemWrapper(base), state_(std::move(state)) {}
    const char* Name() const override { return "PolicydFaultFs"; }
    rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* out,
                                      rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = state_->Check(); !s.ok()) return s;
      std::unique_ptr<rocksdb::FSWritableFile> file;
      rocksdb::IOStatus s = target()->NewWritableFile(name, o, &file, dbg);
      if (s.ok()) *out = std::make_unique<File>(std::move(file), state_);
      return s;
    }
    rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& o,
                                         std::unique_ptr<rocksdb::FSWritableFile>* out,
                                         rocksdb::IODebugContext* dbg) override {
      if (rocksdb::IOStatus s = state_->Check(); !s.ok()) return s;
      std::unique_ptr<rocksdb::FSWritableFile> file;
      rocksdb::IOStatus s = target()->ReopenWritableFile(name, o, &file, dbg);
      if (s.ok()) *out = std::make_unique<File>(std::move(file), state_);
      return s;
    }

   private:
    std::shared_ptr<State> state_;
  };

  std::shared_ptr<State> state_;
  std::shared_ptr<FileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
};

}  // namespace policyd::testing_support
