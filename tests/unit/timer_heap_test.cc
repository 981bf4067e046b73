#include "common/timer_heap.h"

#include <cstddef>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace hs {
namespace {

absl::Time At(int seconds) { return absl::UnixEpoch() + absl::Seconds(seconds); }

// Empties the heap, earliest first; each entry leaves it marked as not queued.
std::vector<absl::Time> Drain(TimerHeap& heap) {
  std::vector<absl::Time> order;
  while (!heap.empty()) {
    TimerEntry* first = heap.earliest();
    order.push_back(first->deadline);
    heap.Remove(first);
    EXPECT_EQ(first->slot, TimerEntry::kNotQueued);
  }
  return order;
}

TEST(TimerHeap, EarliestDeadlineComesFirst) {
  TimerHeap heap;
  EXPECT_TRUE(heap.empty());
  std::vector<TimerEntry> entries(7);
  const int seconds[] = {50, 10, 70, 30, 20, 60, 40};
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].deadline = At(seconds[i]);
    heap.Push(&entries[i]);
    EXPECT_NE(entries[i].slot, TimerEntry::kNotQueued);
  }
  EXPECT_EQ(heap.earliest(), &entries[1]);
  EXPECT_EQ(Drain(heap),
            (std::vector<absl::Time>{At(10), At(20), At(30), At(40), At(50), At(60), At(70)}));
}

TEST(TimerHeap, EqualDeadlinesAllComeOut) {
  TimerHeap heap;
  std::vector<TimerEntry> entries(5);
  for (TimerEntry& entry : entries) {
    entry.deadline = At(5);
    heap.Push(&entry);
  }
  EXPECT_EQ(Drain(heap).size(), entries.size());
}

TEST(TimerHeap, RemovingAnyEntryKeepsTheOrder) {
  // Every entry in turn is removed from a full heap: the root, a leaf, one in between.
  for (size_t removed = 0; removed < 9; ++removed) {
    TimerHeap heap;
    std::vector<TimerEntry> entries(9);
    for (size_t i = 0; i < entries.size(); ++i) {
      entries[i].deadline = At(static_cast<int>((i * 5) % 9));  // 0 5 1 6 2 7 3 8 4
      heap.Push(&entries[i]);
    }
    heap.Remove(&entries[removed]);
    EXPECT_EQ(entries[removed].slot, TimerEntry::kNotQueued);
    std::vector<absl::Time> expected;
    for (int s = 0; s < 9; ++s) {
      if (At(s) != entries[removed].deadline) expected.push_back(At(s));
    }
    EXPECT_EQ(Drain(heap), expected) << "after removing entry " << removed;
  }
}

TEST(TimerHeap, TheEntryThatFillsARemovedSlotCanMoveUp) {
  // Pushed in this order the heap is [0, 3, 1, 4, 5, 6, 2]. Removing 4 moves the last entry, 2,
  // into its slot below 3: there it belongs above the hole, not below it.
  TimerHeap heap;
  std::vector<TimerEntry> entries(7);
  const int seconds[] = {0, 3, 1, 4, 5, 6, 2};
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].deadline = At(seconds[i]);
    heap.Push(&entries[i]);
  }
  heap.Remove(&entries[3]);
  EXPECT_EQ(Drain(heap), (std::vector<absl::Time>{At(0), At(1), At(2), At(3), At(5), At(6)}));
}

TEST(TimerHeap, RemovingAnEntryNotQueuedDoesNothing) {
  TimerHeap heap;
  TimerEntry queued{.deadline = At(1)};
  TimerEntry never_queued{.deadline = At(0)};
  heap.Push(&queued);
  heap.Remove(&never_queued);
  heap.Remove(&never_queued);
  EXPECT_EQ(heap.earliest(), &queued);
  heap.Remove(&queued);
  heap.Remove(&queued);  // twice: a wait that ended, then its destructor
  EXPECT_TRUE(heap.empty());
}

TEST(TimerHeap, AnEntryCanBeQueuedAgainWithANewDeadline) {
  TimerHeap heap;
  TimerEntry a{.deadline = At(10)}, b{.deadline = At(20)}, c{.deadline = At(30)};
  heap.Push(&a);
  heap.Push(&b);
  heap.Push(&c);
  heap.Remove(&a);
  a.deadline = At(40);
  heap.Push(&a);
  EXPECT_EQ(heap.earliest(), &b);
  heap.Remove(&c);
  c.deadline = At(5);
  heap.Push(&c);
  EXPECT_EQ(heap.earliest(), &c);
  EXPECT_EQ(Drain(heap), (std::vector<absl::Time>{At(5), At(20), At(40)}));
}

// Random pushes, removals of any entry and of the earliest, checked after every step against a
// sorted set of (deadline, entry).
TEST(TimerHeap, RandomOperationsMatchASortedReference) {
  std::mt19937 random(12345);
  std::vector<TimerEntry> entries(64);
  std::set<std::pair<absl::Time, TimerEntry*>> reference;
  TimerHeap heap;
  for (int step = 0; step < 20000; ++step) {
    TimerEntry& entry = entries[random() % entries.size()];
    const bool queued = entry.slot != TimerEntry::kNotQueued;
    switch (random() % 3) {
      case 0:  // push an entry that is not queued, with a deadline that may tie another's
        if (queued) break;
        entry.deadline = At(static_cast<int>(random() % 100));
        heap.Push(&entry);
        reference.emplace(entry.deadline, &entry);
        break;
      case 1:  // remove any entry, queued or not
        heap.Remove(&entry);
        reference.erase({entry.deadline, &entry});
        break;
      case 2:  // the loop's move: the earliest timer fires
        if (heap.empty()) break;
        ASSERT_EQ(heap.earliest()->deadline, reference.begin()->first) << "step " << step;
        reference.erase({heap.earliest()->deadline, heap.earliest()});
        heap.Remove(heap.earliest());
        break;
    }
    ASSERT_EQ(heap.empty(), reference.empty()) << "step " << step;
    if (!heap.empty()) {
      ASSERT_EQ(heap.earliest()->deadline, reference.begin()->first) << "step " << step;
    }
    for (TimerEntry& e : entries) {
      ASSERT_EQ(e.slot != TimerEntry::kNotQueued, reference.contains({e.deadline, &e}))
          << "step " << step;
    }
  }
  std::vector<absl::Time> expected;
  for (const auto& [deadline, entry] : reference) expected.push_back(deadline);
  EXPECT_EQ(Drain(heap), expected);
}

}  // namespace
}  // namespace hs
