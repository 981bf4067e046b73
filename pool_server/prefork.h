// The process pool's supervision: Apache prefork's spare-worker management, read off the
// scoreboard (pool_server/scoreboard.h) -- the parent serves no one; it keeps the pool sized.
//
//   * At least --min-spare idle workers at all times: when fewer are idle, it forks more. A
//     worker that turns busy and leaves too few idle wakes the parent at once (an eventfd), so
//     the pool reacts to the first client, not to a timer; while it stays short the parent looks
//     again every 100 ms, forking more each time (see Resize: no fork storm).
//   * At most --max-spare idle workers: the extras retire -- a flag in their slot, then SIGTERM,
//     so each finishes what it serves and leaves without taking the shared queue (RunAcceptLoop).
//   * Never more than --max-workers, never fewer than --workers (the start count): equal, they
//     make a fixed-size pool (`--workers 4 --max-workers 4`).
//   * A worker that dies unasked (a crash, kill -9) is replaced at once and logged.
//   * kill -USR1 <parent> prints the scoreboard to stderr: one line per worker.
//
// A prefork cannot hold more connections than it has workers, so an idle keep-alive client
// still yields: while a client waits and no worker is idle, each answer closes its connection.
#pragma once

#include <sys/types.h>

#include <functional>

#include "absl/time/time.h"
#include "common/children.h"
#include "common/cli.h"
#include "common/socket.h"
#include "pool_server/scoreboard.h"

namespace hs {

class Prefork {
 public:
  // What a worker runs, in the child, in its own scoreboard slot; it returns at shutdown.
  using Worker = std::function<void(WorkerSlot& me)>;

  // Maps the scoreboard -- before any fork, so every worker inherits it -- and makes SIGUSR1
  // print it. One per process.
  explicit Prefork(const ServerOptions& options);
  ~Prefork();
  Prefork(const Prefork&) = delete;
  Prefork& operator=(const Prefork&) = delete;

  Scoreboard& board() { return board_; }

  // Forks the first --workers workers, then keeps the pool sized until shutdown begins.
  void Supervise(const Worker& worker);

  // Shutdown: SIGTERM to every worker (each serves what it has, and the queue while another is
  // busy), then reaps them all.
  void StopAll() { children_.StopAll(); }

  // Called by the worker in `me`: after it accepts a client, and after the connection closed.
  // Each tells the parent when the idle count has left [--min-spare, --max-spare].
  void TurnedBusy(WorkerSlot& me);
  void TurnedIdle(WorkerSlot& me);

 private:
  bool Resize();       // one look at the scoreboard: fork or retire; true: look again soon
  bool Fork();         // one worker into a free slot; false when it could not
  void Retire(int n);  // the last `n` idle workers
  void OnExit(pid_t pid, int wait_status);
  void Print();
  void Notify();

  const std::string program_;
  const int min_spare_;
  const int max_spare_;
  const int max_workers_;
  const int start_;
  Scoreboard board_;
  Children children_;
  Fd notify_;  // workers -> parent: "look at the scoreboard now"
  const Worker* worker_ = nullptr;
  int ramp_ = 1;     // forks at the next look while still short
  int replace_ = 0;  // workers that died unasked, not yet replaced
  absl::Time fork_failed_at_ = absl::InfinitePast();
};

// How a worker waits for a client on the listener it shares with every other worker. With
// poll() each new connection wakes every idle worker -- one accepts, the rest find nothing and
// sleep again: the thundering herd. An epoll set of its own per worker, holding the listener
// with EPOLLEXCLUSIVE (and the shutdown eventfd), lets the kernel wake one. The measurement and
// the alternative (Apache's accept mutex) are in prefork.cc.
class ExclusiveAccept {
 public:
  explicit ExclusiveAccept(int listener);  // in the worker, after fork()
  WaitResult Wait();  // kReady: a client may be waiting; kStop: shutdown (or retirement)

 private:
  const int listener_;
  Fd epoll_;  // invalid if it could not be made: then poll()
};

}  // namespace hs
