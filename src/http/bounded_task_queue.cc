#include "http/bounded_task_queue.h"

#include <algorithm>

namespace policyd::http {

BoundedTaskQueue::BoundedTaskQueue(std::size_t threads, std::size_t max_queued)
    : max_queued_(std::max<std::size_t>(max_queued, 1)) {
  threads = std::max<std::size_t>(threads, 1);
  workers_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

BoundedTaskQueue::~BoundedTaskQueue() { shutdown(); }

void BoundedTaskQueue::enqueue(std::function<void()> job) {
  std::unique_lock lock(mutex_);
  room_.wait(lock, [this] { return jobs_.size() < max_queued_ || shutting_down_; });
  if (shutting_down_) {
    // Only reachable if enqueue races shutdown, which httplib's single accept loop never does;
    // run the job here rather than drop it (it closes its connection when done).
    lock.unlock();
    job();
    return;
  }
  jobs_.push_back(std::move(job));
  lock.unlock();
  job_ready_.notify_one();
}

void BoundedTaskQueue::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (shutting_down_ && workers_.empty()) return;
    shutting_down_ = true;
  }
  job_ready_.notify_all();
  room_.notify_all();
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

std::size_t BoundedTaskQueue::queued() const {
  std::lock_guard lock(mutex_);
  return jobs_.size();
}

void BoundedTaskQueue::Work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      job_ready_.wait(lock, [this] { return !jobs_.empty() || shutting_down_; });
      // Queued connections are still answered after shutdown() begins: stopping is graceful.
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    room_.notify_one();
    job();
  }
}

}  // namespace policyd::http
