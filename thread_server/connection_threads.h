// ConnectionThreads: thread_server's live connection threads, each joined soon after it ends.
//
// Every thread is joined, never detached: soon after it ends (by the reaper thread below) and, at
// shutdown, all that remain -- so no thread outlives the server or piles up while it runs.
// A finishing thread files its id under `finished_` and wakes the reaper, which joins it. (The
// acceptor cannot do that job: RunAcceptLoop sleeps in poll() while no client arrives, and
// finished threads would linger until the next one.)
//
// Why std::mutex + std::condition_variable and not absl::Mutex: as for pool_server/work_queue.h,
// Debian's Abseil carries no ThreadSanitizer annotations, and `make tsan` must see this lock.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace hs {

class ConnectionThreads {
 public:
  ConnectionThreads() : reaper_([this] { Reap(); }) {}
  ConnectionThreads(const ConnectionThreads&) = delete;
  ConnectionThreads& operator=(const ConnectionThreads&) = delete;

  // Runs `serve` on a new thread. If no thread can be created, `serve` (and with it the
  // client's socket) is dropped and the server carries on.
  template <typename Serve>
  void Start(Serve serve) {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t id = next_id_++;
    try {
      running_.emplace(id, std::thread([this, id, serve = std::move(serve)]() mutable {
                         serve();
                         std::lock_guard<std::mutex> lock(mu_);
                         finished_.push_back(id);
                         reap_.notify_one();
                       }));
      ++unjoined_;
    } catch (const std::system_error& e) {
      LogInfo(absl::StrCat("thread_server: cannot start a thread: ", e.what()));
    }
  }

  // Threads started and not yet joined: running, or ended and about to be joined.
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return unjoined_;
  }

  // At shutdown: waits until every thread has finished and been joined, then joins the reaper.
  // Start must not be called after (or during) JoinAll.
  void JoinAll() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    reap_.notify_one();
    reaper_.join();
  }

 private:
  void Reap() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      reap_.wait(lock, [&] { return !finished_.empty() || (stopping_ && running_.empty()); });
      if (finished_.empty()) return;  // shutting down and nothing left to join
      std::thread done = std::move(running_.extract(finished_.back()).mapped());
      finished_.pop_back();
      lock.unlock();  // the thread has done its last locked step; joining it cannot deadlock
      done.join();
      lock.lock();
      --unjoined_;
    }
  }

  mutable std::mutex mu_;
  std::condition_variable reap_;
  std::map<uint64_t, std::thread> running_;  // not yet taken by the reaper; guarded by mu_
  std::vector<uint64_t> finished_;           // ids of threads about to end; guarded by mu_
  size_t unjoined_ = 0;                      // threads started, not yet joined; guarded by mu_
  uint64_t next_id_ = 0;                     // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread reaper_;                       // last: starts once the members above exist
};

}  // namespace hs
