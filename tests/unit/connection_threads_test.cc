#include "thread_server/connection_threads.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <iterator>
#include <latch>
#include <memory>
#include <thread>

#include "gtest/gtest.h"
#include "tests/unit/expect_soon.h"

namespace hs {
namespace {

using std::chrono_literals::operator""ms;

// Kernel tasks (threads) of this process, the test runner's own and a sanitizer's included.
size_t LiveThreads() {
  return std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                       std::filesystem::directory_iterator());
}

TEST(ConnectionThreads, StartRunsTheFunctionOnANewThread) {
  ConnectionThreads threads;
  std::thread::id ran_on;
  threads.Start([&] { ran_on = std::this_thread::get_id(); });
  threads.JoinAll();  // also orders the write above before the reads below
  EXPECT_NE(ran_on, std::thread::id());
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST(ConnectionThreads, JoinsAThreadSoonAfterItEndsWhileOthersRun) {
  // At most: a thread of an earlier test may still be on its way out when `before` is counted
  // (seen once in CI), and it leaving must not fail this test; one of ours lingering still does.
  const size_t before = LiveThreads();
  ConnectionThreads threads;  // + the reaper
  std::latch release(1);
  constexpr int kBlocked = 8;
  for (int i = 0; i < kBlocked; ++i) threads.Start([&] { release.wait(); });
  threads.Start([] {});  // ends at once, with no further Start to notice it
  ExpectSoon([&] { return threads.size() == kBlocked; }, "the finished thread joined");
  ExpectSoon([&] { return LiveThreads() <= before + 1 + kBlocked; }, "its task gone");

  release.count_down();
  ExpectSoon([&] { return threads.size() == 0; }, "every finished thread joined");
  ExpectSoon([&] { return LiveThreads() <= before + 1; }, "only the reaper left");
  threads.JoinAll();
  ExpectSoon([&] { return LiveThreads() <= before; }, "the reaper gone too");
}

TEST(ConnectionThreads, JoinAllWaitsForRunningThreads) {
  ConnectionThreads threads;
  std::atomic<int> finished = 0;
  for (int i = 0; i < 4; ++i) {
    threads.Start([&] {
      std::this_thread::sleep_for(200ms);
      ++finished;
    });
  }
  EXPECT_EQ(threads.size(), 4u);
  threads.JoinAll();
  EXPECT_EQ(finished, 4);
  EXPECT_EQ(threads.size(), 0u);
}

TEST(ConnectionThreads, JoinAllWithNoThreadReturnsAtOnce) {
  ConnectionThreads threads;
  threads.JoinAll();
  EXPECT_EQ(threads.size(), 0u);
}

// Makes every thread created without attributes (as std::thread creates them) ask for a stack
// larger than any address space, so creating one fails; restores the default when it goes.
class ThreadCreationFails {
 public:
  ThreadCreationFails() {
    pthread_getattr_default_np(&saved_);
    pthread_attr_t huge;
    pthread_attr_init(&huge);
    pthread_attr_setstacksize(&huge, size_t{1} << 62);
    pthread_setattr_default_np(&huge);
    pthread_attr_destroy(&huge);
  }
  ~ThreadCreationFails() {
    pthread_setattr_default_np(&saved_);
    pthread_attr_destroy(&saved_);
  }

 private:
  pthread_attr_t saved_;
};

TEST(ConnectionThreads, DropsTheWorkWhenNoThreadCanBeCreated) {
  ConnectionThreads threads;  // its reaper is created before thread creation is made to fail
  bool ran = false;
  auto client = std::make_shared<int>(0);  // stands for the socket the work owns
  std::weak_ptr<int> watch = client;
  {
    ThreadCreationFails no_threads;
    threads.Start([&ran, client = std::move(client)] { ran = true; });
  }
  EXPECT_TRUE(watch.expired()) << "the work (and its socket) was not released";
  EXPECT_EQ(threads.size(), 0u);

  bool ran_later = false;
  threads.Start([&] { ran_later = true; });  // the server carries on
  threads.JoinAll();
  EXPECT_FALSE(ran);
  EXPECT_TRUE(ran_later);
}

}  // namespace
}  // namespace hs
