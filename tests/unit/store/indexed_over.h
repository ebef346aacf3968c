// Test helper: a RocksStore behind a test double (a ForwardingStore that counts or fails some
// calls) behind the in-memory lookup index, as the daemon stacks them with the double in between.
//
// Threads: the constructor waits for the index's load; then as the Store.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "store/indexed_store.h"
#include "unit/store/store_test_util.h"

namespace policyd {

// A RocksStore in `dir` (prepared by `before`), wrapped by a Double (constructed from the
// RocksStore's unique_ptr), behind the index; waits for the load.
template <typename Double>
class IndexedOver {
 public:
  explicit IndexedOver(const std::string& dir, std::function<void(Store&)> before = nullptr) {
    std::unique_ptr<RocksStore> rocks = OpenStore(dir);
    if (before) before(*rocks);
    auto wrapped = std::make_unique<Double>(std::move(rocks));
    double_ = wrapped.get();
    store_ = WithMemoryIndex(std::move(wrapped), [this](const IndexLoad& load) {
      std::lock_guard lock(mu_);
      load_ = load;
      cv_.notify_all();
    });
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return load_.has_value(); });
  }
  const IndexLoad& load() const { return *load_; }
  // The double between the index and RocksDB.
  Double& base() { return *double_; }
  const Double& base() const { return *double_; }
  Store* operator->() { return store_.get(); }
  Store& operator*() { return *store_; }

 private:
  std::unique_ptr<Store> store_;
  Double* double_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<IndexLoad> load_;
};

}  // namespace policyd
