// Deadlines for a thread that waits in epoll: every deadline in one min-heap, whose earliest
// entry becomes epoll_wait's timeout. No timerfd, so arming or cancelling a timer is never a
// system call. Two models wait so: async_server's event loop (every wait of every coroutine: the
// idle and request timeouts, the send timeout, -d) and thread_pool_server's poller (every parked
// connection's idle or request timeout) -- hence common/.
//
// The heap is intrusive: an entry lives inside the object that waits (the loop's Wait, the
// poller's PooledConnection) and records its own slot, so a wait that ends early (its socket
// became ready first, or its coroutine was destroyed) leaves the heap in O(log n) without a
// search and without allocating.
#pragma once

#include <cstddef>
#include <vector>

#include "absl/time/time.h"

namespace hs {

struct TimerEntry {
  static constexpr size_t kNotQueued = static_cast<size_t>(-1);
  absl::Time deadline = absl::InfiniteFuture();
  size_t slot = kNotQueued;  // position in the heap, kNotQueued when not in it
};

class TimerHeap {
 public:
  bool empty() const { return heap_.empty(); }
  TimerEntry* earliest() const { return heap_.front(); }  // requires !empty()
  void Push(TimerEntry* entry);
  void Remove(TimerEntry* entry);  // no-op when it is not queued

 private:
  void Place(size_t slot, TimerEntry* entry) {
    heap_[slot] = entry;
    entry->slot = slot;
  }
  void SiftUp(size_t slot);
  void SiftDown(size_t slot);

  std::vector<TimerEntry*> heap_;
};

}  // namespace hs
