// Deadlines for a thread that waits in epoll: every deadline in one queue, whose earliest entry
// becomes epoll_wait's timeout. No timerfd, so arming or cancelling a timer is never a system
// call. Two models wait so: async_server's event loop (every wait of every coroutine: the idle
// and request timeouts, the send timeout, -d) and thread_pool_server's poller (every parked
// connection's idle or request timeout) -- hence common/.
//
// Intrusive: an entry lives inside the object that waits (the loop's Wait, a parked connection,
// the poller's PooledConnection) and records where it is queued, so a wait that ends early (its
// socket became ready first, or its coroutine was destroyed) leaves the queue without a search
// and without allocating.
//
// Two lanes. Most deadlines arrive in order: a keep-alive connection parks after each answer
// until now + the idle timeout, so each new deadline is the latest yet. Those go on a linked list
// kept in deadline order by appending only an entry that is not earlier than its tail: pushing,
// removing any entry and reading the earliest are O(1), and a busy connection's park after every
// request moves two pointers (as nginx and libev do for equal timeouts). An entry that would
// break the order (a shorter timeout after a longer one, a deadline cut short by shutdown) goes
// on a binary min-heap instead, O(log n); the earliest is the earlier of the two fronts.
#pragma once

#include <cstddef>
#include <vector>

#include "absl/time/time.h"

namespace hs {

struct TimerEntry {
  static constexpr size_t kNotQueued = static_cast<size_t>(-1);
  static constexpr size_t kInOrder = static_cast<size_t>(-2);  // on the in-order list
  absl::Time deadline = absl::InfiniteFuture();
  size_t slot = kNotQueued;        // kInOrder, a position in the heap, or kNotQueued
  TimerEntry* previous = nullptr;  // on the in-order list
  TimerEntry* next = nullptr;
};

class TimerQueue {
 public:
  bool empty() const { return first_ == nullptr && heap_.empty(); }
  TimerEntry* earliest() const {  // requires !empty()
    if (heap_.empty()) return first_;
    if (first_ == nullptr || heap_.front()->deadline < first_->deadline) return heap_.front();
    return first_;
  }
  void Push(TimerEntry* entry);
  void Remove(TimerEntry* entry);  // no-op when it is not queued

 private:
  void Place(size_t slot, TimerEntry* entry) {
    heap_[slot] = entry;
    entry->slot = slot;
  }
  void SiftUp(size_t slot);
  void SiftDown(size_t slot);

  TimerEntry* first_ = nullptr;  // the in-order list, earliest first
  TimerEntry* last_ = nullptr;
  std::vector<TimerEntry*> heap_;  // the rest
};

}  // namespace hs
