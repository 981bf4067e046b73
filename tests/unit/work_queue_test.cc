#include "pool_server/work_queue.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <numeric>
#include <optional>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/expect_soon.h"

namespace hs {
namespace {

using std::chrono_literals::operator""ms;

// Nothing can be observed about a thread that is (rightly) blocked; this gives a thread that
// should block ample time to reach the wait -- or, if the queue is broken, to get through it.
void LetItBlock() { std::this_thread::sleep_for(300ms); }

TEST(WorkQueue, HandsItemsOutInFifoOrder) {
  WorkQueue<int> queue(8);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(queue.Push(i));
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(queue.Pop(), i);
}

TEST(WorkQueue, FullQueueBlocksTheProducerUntilAConsumerPops) {
  WorkQueue<int> queue(2);
  ASSERT_TRUE(queue.Push(1));
  ASSERT_TRUE(queue.Push(2));
  std::latch producer_started(1);
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    producer_started.count_down();
    EXPECT_TRUE(queue.Push(3));
    pushed = true;
  });
  producer_started.wait();
  LetItBlock();
  EXPECT_FALSE(pushed) << "Push() went through although the queue was full";
  EXPECT_EQ(queue.Pop(), 1);
  ExpectSoon([&] { return pushed.load(); }, "the waiting Push() completing after a Pop()");
  producer.join();
  EXPECT_EQ(queue.Pop(), 2);
  EXPECT_EQ(queue.Pop(), 3);
}

TEST(WorkQueue, CloseWakesEveryWaitingConsumer) {
  WorkQueue<int> queue(4);
  constexpr int kConsumers = 3;
  std::latch started(kConsumers);
  std::atomic<int> woken{0};
  std::vector<std::thread> consumers;
  for (int i = 0; i < kConsumers; ++i) {
    consumers.emplace_back([&] {
      started.count_down();
      EXPECT_EQ(queue.Pop(), std::nullopt);
      ++woken;
    });
  }
  started.wait();
  LetItBlock();
  EXPECT_EQ(woken, 0) << "Pop() returned from an empty, open queue";
  queue.Close();
  ExpectSoon([&] { return woken == kConsumers; }, "every waiting Pop() returning after Close()");
  for (std::thread& consumer : consumers) consumer.join();
}

TEST(WorkQueue, AfterCloseTheRemainingItemsAreHandedOutThenNothing) {
  WorkQueue<std::unique_ptr<int>> queue(4);  // move-only items, like the pool's sockets
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(queue.Push(std::make_unique<int>(i)));
  queue.Close();
  EXPECT_FALSE(queue.Push(std::make_unique<int>(4))) << "a closed queue takes no new items";
  for (int i = 1; i <= 3; ++i) {
    std::optional<std::unique_ptr<int>> item = queue.Pop();
    ASSERT_TRUE(item.has_value() && *item != nullptr);
    EXPECT_EQ(**item, i);
  }
  EXPECT_FALSE(queue.Pop().has_value());
  EXPECT_FALSE(queue.Pop().has_value());
}

TEST(WorkQueue, CloseReleasesAWaitingProducerWithFalse) {
  WorkQueue<int> queue(1);
  ASSERT_TRUE(queue.Push(1));
  std::latch started(1);
  std::atomic<bool> returned{false};
  bool accepted = true;
  std::thread producer([&] {
    started.count_down();
    accepted = queue.Push(2);
    returned = true;
  });
  started.wait();
  LetItBlock();
  queue.Close();
  ExpectSoon([&] { return returned.load(); }, "the waiting Push() returning after Close()");
  producer.join();
  EXPECT_FALSE(accepted);
  EXPECT_EQ(queue.Pop(), 1);
  EXPECT_EQ(queue.Pop(), std::nullopt);
}

TEST(WorkQueue, ManyProducersAndConsumersDeliverEveryItemExactlyOnce) {
  constexpr int kProducers = 4;
  constexpr int kConsumers = 3;
  constexpr int kPerProducer = 5000;
  WorkQueue<int> queue(8);  // small, so producers and consumers both wait often
  std::vector<std::vector<int>> received(kConsumers);
  std::vector<std::thread> consumers;
  for (int c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&queue, &mine = received[c]] {
      while (std::optional<int> item = queue.Pop()) mine.push_back(*item);
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&queue, p] {
      for (int i = 0; i < kPerProducer; ++i) EXPECT_TRUE(queue.Push(p * kPerProducer + i));
    });
  }
  for (std::thread& producer : producers) producer.join();
  queue.Close();
  for (std::thread& consumer : consumers) consumer.join();

  std::vector<int> all;
  for (const std::vector<int>& mine : received) {
    // FIFO: one consumer sees each producer's items in the order they were pushed.
    std::vector<int> last(kProducers, -1);
    for (int item : mine) {
      EXPECT_GT(item, last[item / kPerProducer]);
      last[item / kPerProducer] = item;
    }
    all.insert(all.end(), mine.begin(), mine.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<int> expected(kProducers * kPerProducer);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_TRUE(all == expected) << all.size() << " items received, " << expected.size()
                               << " sent (or some twice and some never)";
}

}  // namespace
}  // namespace hs
