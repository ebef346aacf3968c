// LeftRight<T>: two copies of a T, so that readers never wait for the writer and never see a
// change half-applied (Ramalhete & Correia's Left-Right technique, simplified to one writer).
//
// Readers use whichever copy is active. The one writer applies a change to the inactive copy,
// makes it active, waits until the last reader of the old copy has left, and applies the same
// change there too. A reader's cost is two atomic increments on a shared counter; a writer's is
// applying each change twice (changes are small: a page of sync events).
//
// Threads: Read() from any number of threads at once; Write() from one thread at a time (the
// caller serializes writers).
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <utility>

namespace policyd {

template <typename T>
class LeftRight {
 public:
  // Calls `read(const T&)` on the active copy and returns its result. Never blocks.
  template <typename F>
  decltype(auto) Read(F&& read) const {
    const Side& side = Enter();
    struct Leave {
      const Side& s;
      ~Leave() { s.readers.fetch_sub(1, std::memory_order_release); }
    } leave{side};
    return std::forward<F>(read)(side.value);
  }

  // Sets both copies to `value` (the second by move). Only while no reader can be in Read()
  // (e.g. before the object is published to readers): it does not wait for them.
  void ResetUnshared(T value) {
    sides_[0].value = value;
    sides_[1].value = std::move(value);
  }

  // Calls `change(T&)` on both copies, one after the other; readers see the state before or
  // after, never between. `change` must be deterministic: both copies must end up equal.
  template <typename F>
  void Write(F&& change) {
    const int active = active_.load(std::memory_order_relaxed);
    Side& spare = sides_[1 - active];
    WaitForReaders(spare);  // readers that entered it before the previous switch
    change(spare.value);
    active_.store(1 - active, std::memory_order_seq_cst);
    Side& old = sides_[active];
    WaitForReaders(old);
    change(old.value);
  }

 private:
  struct alignas(64) Side {
    T value{};
    mutable std::atomic<std::int64_t> readers{0};
  };

  const Side& Enter() const {
    for (;;) {
      const int i = active_.load(std::memory_order_seq_cst);
      sides_[i].readers.fetch_add(1, std::memory_order_seq_cst);
      // If the writer switched in between, it may already be changing sides_[i]: retry. If it
      // did not, it will see our count before touching this side.
      if (active_.load(std::memory_order_seq_cst) == i) return sides_[i];
      sides_[i].readers.fetch_sub(1, std::memory_order_release);
    }
  }

  static void WaitForReaders(const Side& side) {
    // seq_cst pairs with Enter(): the switch of active_ and this load cannot be reordered.
    while (side.readers.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  }

  Side sides_[2];
  std::atomic<int> active_{0};
};

}  // namespace policyd
