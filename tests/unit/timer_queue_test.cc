#include "common/timer_queue.h"

#include <cstddef>
#include <cstdint>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace hs {
namespace {

absl::Time At(int seconds) { return absl::UnixEpoch() + absl::Seconds(seconds); }

// Empties the queue, earliest first; each entry leaves it marked as not queued.
std::vector<absl::Time> Drain(TimerQueue& queue) {
  std::vector<absl::Time> order;
  while (!queue.empty()) {
    TimerEntry* first = queue.earliest();
    order.push_back(first->deadline);
    queue.Remove(first);
    EXPECT_EQ(first->slot, TimerEntry::kNotQueued);
  }
  return order;
}

TEST(TimerQueue, EarliestDeadlineComesFirst) {
  TimerQueue queue;
  EXPECT_TRUE(queue.empty());
  std::vector<TimerEntry> entries(7);
  const int seconds[] = {50, 10, 70, 30, 20, 60, 40};
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].deadline = At(seconds[i]);
    queue.Push(&entries[i]);
    EXPECT_NE(entries[i].slot, TimerEntry::kNotQueued);
  }
  EXPECT_EQ(queue.earliest(), &entries[1]);
  EXPECT_EQ(Drain(queue),
            (std::vector<absl::Time>{At(10), At(20), At(30), At(40), At(50), At(60), At(70)}));
}

TEST(TimerQueue, EqualDeadlinesAllComeOut) {
  TimerQueue queue;
  std::vector<TimerEntry> entries(5);
  for (TimerEntry& entry : entries) {
    entry.deadline = At(5);
    queue.Push(&entry);
  }
  EXPECT_EQ(Drain(queue).size(), entries.size());
}

TEST(TimerQueue, RemovingAnyEntryKeepsTheOrder) {
  // Pushed as 0 5 1 6 2 7 3 8 4: 0 5 6 7 8 go on the in-order list, 1 2 3 4 on the heap. Every
  // entry in turn is removed from the full queue: either lane's front, back, or one in between.
  for (size_t removed = 0; removed < 9; ++removed) {
    TimerQueue queue;
    std::vector<TimerEntry> entries(9);
    for (size_t i = 0; i < entries.size(); ++i) {
      entries[i].deadline = At(static_cast<int>((i * 5) % 9));
      queue.Push(&entries[i]);
    }
    queue.Remove(&entries[removed]);
    EXPECT_EQ(entries[removed].slot, TimerEntry::kNotQueued);
    std::vector<absl::Time> expected;
    for (int s = 0; s < 9; ++s) {
      if (At(s) != entries[removed].deadline) expected.push_back(At(s));
    }
    EXPECT_EQ(Drain(queue), expected) << "after removing entry " << removed;
  }
}

TEST(TimerQueue, DeadlinesInOrderStayOffTheHeap) {
  // The event loop's usual case: each park's deadline is the latest yet (ties included).
  TimerQueue queue;
  std::vector<TimerEntry> entries(6);
  const int seconds[] = {10, 20, 20, 30, 40, 50};
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].deadline = At(seconds[i]);
    queue.Push(&entries[i]);
    EXPECT_EQ(entries[i].slot, TimerEntry::kInOrder);
  }
  queue.Remove(&entries[0]);  // the front
  queue.Remove(&entries[3]);  // the middle
  queue.Remove(&entries[5]);  // the back: 40 is the last now, so 45 still goes on the list
  TimerEntry later{.deadline = At(45)};
  queue.Push(&later);
  EXPECT_EQ(later.slot, TimerEntry::kInOrder);
  TimerEntry earlier{.deadline = At(15)};  // would break the order: the heap takes it
  queue.Push(&earlier);
  EXPECT_NE(earlier.slot, TimerEntry::kInOrder);
  EXPECT_NE(earlier.slot, TimerEntry::kNotQueued);
  EXPECT_EQ(queue.earliest(), &earlier);
  EXPECT_EQ(Drain(queue), (std::vector<absl::Time>{At(15), At(20), At(20), At(40), At(45)}));
  // Emptied, the list starts again from any deadline.
  entries[0].deadline = At(1);
  queue.Push(&entries[0]);
  EXPECT_EQ(entries[0].slot, TimerEntry::kInOrder);
}

TEST(TimerQueue, TheEntryThatFillsARemovedHeapSlotCanMoveUp) {
  // After `first` (100) is on the list, every earlier deadline goes on the heap: pushed in this
  // order the heap is [0, 3, 1, 4, 5, 6, 2]. Removing 4 moves the last entry, 2, into its slot
  // below 3: there it belongs above the hole, not below it.
  TimerQueue queue;
  TimerEntry first{.deadline = At(100)};
  queue.Push(&first);
  std::vector<TimerEntry> entries(7);
  const int seconds[] = {0, 3, 1, 4, 5, 6, 2};
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].deadline = At(seconds[i]);
    queue.Push(&entries[i]);
    EXPECT_NE(entries[i].slot, TimerEntry::kInOrder);
  }
  queue.Remove(&entries[3]);
  EXPECT_EQ(Drain(queue),
            (std::vector<absl::Time>{At(0), At(1), At(2), At(3), At(5), At(6), At(100)}));
}

TEST(TimerQueue, RemovingAnEntryNotQueuedDoesNothing) {
  TimerQueue queue;
  TimerEntry queued{.deadline = At(1)};
  TimerEntry never_queued{.deadline = At(0)};
  queue.Push(&queued);
  queue.Remove(&never_queued);
  queue.Remove(&never_queued);
  EXPECT_EQ(queue.earliest(), &queued);
  queue.Remove(&queued);
  queue.Remove(&queued);  // twice: a wait that ended, then its destructor
  EXPECT_TRUE(queue.empty());
}

TEST(TimerQueue, AnEntryCanBeQueuedAgainWithANewDeadline) {
  TimerQueue queue;
  TimerEntry a{.deadline = At(10)}, b{.deadline = At(20)}, c{.deadline = At(30)};
  queue.Push(&a);
  queue.Push(&b);
  queue.Push(&c);
  queue.Remove(&a);
  a.deadline = At(40);
  queue.Push(&a);
  EXPECT_EQ(queue.earliest(), &b);
  queue.Remove(&c);
  c.deadline = At(5);
  queue.Push(&c);
  EXPECT_EQ(queue.earliest(), &c);
  EXPECT_EQ(Drain(queue), (std::vector<absl::Time>{At(5), At(20), At(40)}));
}

// Random pushes, removals of any entry and of the earliest, checked after every step against a
// sorted set of (deadline, entry). `Deadline(step)` picks each pushed deadline.
template <typename DeadlineFn>
void RandomOperationsMatchASortedReference(uint32_t seed, DeadlineFn Deadline) {
  std::mt19937 random(seed);
  std::vector<TimerEntry> entries(64);
  std::set<std::pair<absl::Time, TimerEntry*>> reference;
  TimerQueue queue;
  for (int step = 0; step < 20000; ++step) {
    TimerEntry& entry = entries[random() % entries.size()];
    const bool queued = entry.slot != TimerEntry::kNotQueued;
    switch (random() % 3) {
      case 0:  // push an entry that is not queued, with a deadline that may tie another's
        if (queued) break;
        entry.deadline = Deadline(step, random);
        queue.Push(&entry);
        reference.emplace(entry.deadline, &entry);
        break;
      case 1:  // remove any entry, queued or not
        queue.Remove(&entry);
        reference.erase({entry.deadline, &entry});
        break;
      case 2:  // the loop's move: the earliest timer fires
        if (queue.empty()) break;
        ASSERT_EQ(queue.earliest()->deadline, reference.begin()->first) << "step " << step;
        reference.erase({queue.earliest()->deadline, queue.earliest()});
        queue.Remove(queue.earliest());
        break;
    }
    ASSERT_EQ(queue.empty(), reference.empty()) << "step " << step;
    if (!queue.empty()) {
      ASSERT_EQ(queue.earliest()->deadline, reference.begin()->first) << "step " << step;
    }
    for (TimerEntry& e : entries) {
      ASSERT_EQ(e.slot != TimerEntry::kNotQueued, reference.contains({e.deadline, &e}))
          << "step " << step;
    }
  }
  std::vector<absl::Time> expected;
  for (const auto& [deadline, entry] : reference) expected.push_back(deadline);
  EXPECT_EQ(Drain(queue), expected);
}

TEST(TimerQueue, RandomDeadlinesMatchASortedReference) {
  RandomOperationsMatchASortedReference(
      12345, [](int, std::mt19937& random) { return At(static_cast<int>(random() % 100)); });
}

// The event loop's mix: time moves on and most deadlines are now + one timeout, some shorter.
TEST(TimerQueue, MostlyInOrderDeadlinesMatchASortedReference) {
  RandomOperationsMatchASortedReference(54321, [](int step, std::mt19937& random) {
    return At(step / 10 + (random() % 8 == 0 ? static_cast<int>(random() % 30) : 30));
  });
}

}  // namespace
}  // namespace hs
