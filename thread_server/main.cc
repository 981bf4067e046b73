// thread_server -- a new thread per connection.
//
// The main thread accepts; every connection gets its own std::thread running ServeConnection, so
// a slow client (or -d) blocks only its own thread. Threads share the address space: everything
// they touch together must be immutable (options, root) or locked (the thread list below).
// Cost: a thread creation per connection (tens of us, 8 MiB of stack reserved) and one thread per
// open keep-alive connection, held until the client leaves or the idle (5 s) / request (10 s)
// timeouts from common/ close it. What breaks it: thousands of simultaneous clients exhaust
// memory or the thread limit. Use it for moderate numbers of clients that each block a while.
// Every thread is joined, never detached: soon after it ends (by the reaper below) and, at
// shutdown, all that remain -- so no thread outlives the server or piles up while it runs.
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/connection.h"
#include "common/log.h"
#include "common/server.h"

// The live connection threads. A finishing thread files its id under `finished_` and wakes the
// reaper thread, which joins it. (The acceptor cannot do that job: RunAcceptLoop sleeps in
// poll() while no client arrives, and finished threads would linger until the next one.)
class ConnectionThreads {
 public:
  ConnectionThreads() : reaper_([this] { Reap(); }) {}

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
    } catch (const std::system_error& e) {
      hs::LogInfo(absl::StrCat("thread_server: cannot start a thread: ", e.what()));
    }
  }

  // At shutdown: waits until every thread has finished and been joined, then joins the reaper.
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
    }
  }

  std::mutex mu_;
  std::condition_variable reap_;
  std::map<uint64_t, std::thread> running_;  // started, not yet joined; guarded by mu_
  std::vector<uint64_t> finished_;           // ids of threads about to end; guarded by mu_
  uint64_t next_id_ = 0;                     // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread reaper_;                       // last: starts once the members above exist
};

int main(int argc, char** argv) {
  hs::Server server = hs::StartServer(
      argc, argv,
      {.program = "thread_server", .description = "HTTP server, a thread per connection"});
  ConnectionThreads threads;

  hs::RunAcceptLoop(server.listener, [&](hs::Fd client) {
    threads.Start([&server, client = std::move(client)]() mutable {
      hs::ServeConnection(std::move(client), server.options, server.root);
    });
  });
  threads.JoinAll();
  return 0;
}
