// BoundedTaskQueue: cpp-httplib's worker pool with a bound on waiting work.
//
// httplib's own ThreadPool (0.11.4) queues every accepted connection without limit, so a flood
// of connections would cost one descriptor and one queue entry each. Here enqueue() blocks while
// `max_queued` connections already wait: the accepting thread then stops accepting, and further
// clients wait in the socket's listen backlog (and are refused once it is full) instead.
//
// Lifecycle: created by httplib's listen loop through Server::new_task_queue; shutdown() (called
// by that loop when it stops) runs what is queued, then joins the workers.
//
// Thread-safety: enqueue() and shutdown() from the one accepting thread; jobs run on the workers.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace policyd::http {

class BoundedTaskQueue final : public httplib::TaskQueue {
 public:
  // `threads` >= 1 workers; at most `max_queued` >= 1 jobs waiting for one.
  BoundedTaskQueue(std::size_t threads, std::size_t max_queued);
  ~BoundedTaskQueue() override;

  void enqueue(std::function<void()> job) override;
  void shutdown() override;

  // Jobs waiting for a worker (for tests).
  std::size_t queued() const;

 private:
  void Work();

  const std::size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable job_ready_;  // a job was queued, or shutting down
  std::condition_variable room_;       // a job was taken off the queue
  std::deque<std::function<void()>> jobs_;
  bool shutting_down_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace policyd::http
