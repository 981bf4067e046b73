// WorkQueue: the bounded, blocking FIFO queue between thread_pool_server's acceptor and its
// workers, written by hand as the lab asks.
//
// Why bounded: when every worker is busy, an unbounded queue would let the acceptor keep
// accepting, and connections would pile up here as open descriptors (until EMFILE) whose clients
// wait with no sign of overload. With a bound, Push() blocks, the acceptor stops accepting, and
// new clients wait in the kernel's listen backlog instead: back-pressure reaches the client.
//
// Why std::mutex + std::condition_variable and not absl::Mutex (the house style elsewhere):
// Debian's Abseil is not built with ThreadSanitizer annotations, so `make tsan` would report
// false races through absl::Mutex. The standard library's primitives are understood by TSan.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace hs {

template <typename T>
class WorkQueue {
 public:
  // `capacity` >= 1: how many items may wait before Push() blocks.
  explicit WorkQueue(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Appends `item`, waiting while the queue is full. Returns false, dropping `item`, once the
  // queue is closed (also when Close() is called while this Push waits).
  bool Push(T item) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
      if (closed_) return false;
      items_.push_back(std::move(item));
    }
    not_empty_.notify_one();
    return true;
  }

  // Takes the oldest item, waiting while the queue is empty. After Close() the items still
  // queued are handed out as usual; then every Pop returns nullopt (the worker's cue to exit).
  std::optional<T> Pop() {
    std::optional<T> item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
      if (items_.empty()) return std::nullopt;  // closed and drained
      item.emplace(std::move(items_.front()));
      items_.pop_front();
    }
    not_full_.notify_one();
    return item;
  }

  // True while items wait for a consumer (a snapshot: it may change as soon as it returns).
  bool HasWaiting() {
    std::lock_guard<std::mutex> lock(mu_);
    return !items_.empty();
  }

  // No more items: wakes every waiting producer (their Push returns false) and consumer.
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_empty_;  // signalled when an item arrives (or on Close)
  std::condition_variable not_full_;   // signalled when an item leaves (or on Close)
  std::deque<T> items_;                // guarded by mu_
  bool closed_ = false;                // guarded by mu_
};

}  // namespace hs
