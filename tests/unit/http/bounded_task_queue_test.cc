// BoundedTaskQueue: jobs run on the workers, enqueue blocks while the queue is full, shutdown
// runs what is queued.
#include "http/bounded_task_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace policyd::http {
namespace {

using std::chrono::milliseconds;

// Polls `condition` for up to 10 s.
::testing::AssertionResult Eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(milliseconds(1));
  }
  return ::testing::AssertionFailure() << "condition not met within 10 s";
}

TEST(BoundedTaskQueueTest, EnqueueBlocksWhileTheQueueIsFullAndResumesWhenAWorkerFrees) {
  BoundedTaskQueue queue(/*threads=*/1, /*max_queued=*/2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> started{0};
  std::atomic<int> done{0};
  const auto job = [&] {
    ++started;
    released.wait();
    ++done;
  };
  queue.enqueue(job);  // taken by the one worker, which then waits
  ASSERT_TRUE(Eventually([&] { return started == 1; }));
  queue.enqueue(job);
  queue.enqueue(job);  // the queue is now full
  EXPECT_EQ(queue.queued(), 2u);
  std::atomic<bool> fourth_enqueued{false};
  std::thread producer([&] {
    queue.enqueue(job);
    fourth_enqueued = true;
  });
  // Not a timing assertion: the producer cannot get through until a job leaves the queue.
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_FALSE(fourth_enqueued);
  release.set_value();
  producer.join();
  EXPECT_TRUE(fourth_enqueued);
  queue.shutdown();
  EXPECT_EQ(done, 4);
  EXPECT_EQ(queue.queued(), 0u);
}

TEST(BoundedTaskQueueTest, ShutdownRunsQueuedJobsOnEveryWorker) {
  std::atomic<int> done{0};
  {
    BoundedTaskQueue queue(/*threads=*/3, /*max_queued=*/100);
    for (int i = 0; i < 50; ++i) queue.enqueue([&] { ++done; });
    queue.shutdown();
    EXPECT_EQ(done, 50);
    queue.shutdown();  // idempotent, and the destructor runs it again
  }
  EXPECT_EQ(done, 50);
}

}  // namespace
}  // namespace policyd::http
