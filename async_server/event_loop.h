// The event loop of the async model: one thread, one epoll instance, one heap of deadlines.
//
// A coroutine that would block co_awaits a Wait instead -- loop.Readable(fd, deadline),
// loop.Writable(fd, deadline) or loop.Sleep(duration). The Wait records the coroutine beside
// the fd and the deadline, and the coroutine suspends. Run() resumes it directly (no queue, no
// callback) when epoll reports the fd ready, when the deadline passes, or, for a stop-aware wait,
// when shutdown begins. Everything runs on this one thread, so nothing needs a lock -- and any
// call that blocks (sleep, a blocking read) stops every client at once.
//
// Edge-triggered: a socket is registered once, when it is accepted, for input and output edges
// (EPOLLIN | EPOLLOUT | EPOLLET), and never touched again -- no epoll_ctl per request. An edge
// is reported once, so: a coroutine waits only after its system call said EAGAIN (or a short
// read emptied the socket), and an input edge that arrives while nobody is reading (a client
// pipelining during a -d delay) is remembered, so the next Readable wait returns at once; so is
// the peer hanging up (EPOLLRDHUP), which may arrive in the same edge as its last bytes.
// Level-triggered would need neither rule, but a socket with unread bytes and nobody reading,
// or writable with nothing to send, would then be reported on every epoll_wait -- a busy loop --
// unless interest were switched on and off with epoll_ctl around every wait.
#pragma once

#include <sys/epoll.h>

#include <coroutine>
#include <span>
#include <vector>

#include "absl/time/time.h"
#include "async_server/task.h"
#include "async_server/timer_heap.h"
#include "common/exchange.h"
#include "common/socket.h"

namespace hs::async {

class EventLoop {
 public:
  // Why a wait ended.
  enum class Wake { kReady, kTimeout, kStop };

  // The awaitable. It lives in the suspended coroutine's frame, and the loop points at it while
  // it is registered; destroying it (with its frame) unregisters it.
  class [[nodiscard]] Wait : public TimerEntry {
   public:
    Wait(const Wait&) = delete;
    Wait& operator=(const Wait&) = delete;
    ~Wait() { loop_.Unregister(*this); }

    bool await_ready() noexcept;
    void await_suspend(std::coroutine_handle<> coroutine) noexcept;
    Wake await_resume() const noexcept { return wake_; }

   private:
    friend class EventLoop;
    Wait(EventLoop& loop, int fd, bool output, absl::Time until, bool stop_aware);

    EventLoop& loop_;
    const int fd_;  // -1: a plain sleep
    const bool output_;
    const bool stop_aware_;
    bool registered_ = false;
    Wake wake_ = Wake::kReady;
    std::coroutine_handle<> coroutine_;
  };

  // Creates the epoll instance and watches hs::ShutdownFd(), which becomes readable on
  // SIGINT/SIGTERM.
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Registers a non-blocking `fd` for input and output edges, once for its whole life. False
  // when epoll refuses (out of memory, fs.epoll.max_user_watches).
  bool Watch(int fd);
  // The same for a listening socket, which several loops may share (async_server --workers N):
  // input edges only, and EPOLLEXCLUSIVE, so a new connection wakes one loop waiting in
  // epoll_wait, not every loop (all but one of which would find accept() saying EAGAIN). A busy
  // loop does not count: the kernel then wakes the next waiting one as well.
  bool WatchListener(int fd);
  // Called before `fd` is closed (close() itself removes it from epoll: no epoll_ctl needed).
  void Forget(int fd);

  // Ready to read (or closed, or in error). A stop-aware wait also ends when shutdown begins.
  Wait Readable(int fd, absl::Time deadline, bool stop_aware = false) {
    return Wait(*this, fd, /*output=*/false, deadline, stop_aware);
  }
  Wait Writable(int fd, absl::Time deadline) {
    return Wait(*this, fd, /*output=*/true, deadline, /*stop_aware=*/false);
  }
  Wait Sleep(absl::Duration duration) {
    return Wait(*this, -1, false, now_ + duration, /*stop_aware=*/false);
  }

  // Starts `task` now; the loop owns it from here on (see task.h).
  void Spawn(Task<> task) { tasks_.Spawn(std::move(task)); }

  // Runs until every spawned task has returned.
  void Run();

  // The time the last epoll_wait returned: one clock read per loop iteration.
  absl::Time Now() const { return now_; }

  // Every read lands here first, and only the bytes received are copied into the connection's
  // own buffer: an idle connection keeps a few hundred bytes, not a kReadChunk buffer.
  std::span<char> ReadScratch() { return read_scratch_; }

 private:
  struct Waiters {
    Wait* reader = nullptr;
    Wait* writer = nullptr;
    bool missed_input = false;  // an input edge came while no reader waited
    // The peer shut its side (EPOLLRDHUP) or the socket failed: the next read wait after the
    // one that takes missed_input returns at once. Needed because one edge can carry both the
    // last bytes and the FIN, and a read that drains the bytes cannot tell that the FIN is
    // queued behind them. One-shot, not sticky: a stale event of a closed fd whose number was
    // reused must cost one EAGAIN, not make every wait of the new connection return at once.
    bool hung_up = false;
  };
  static constexpr int kMaxEvents = 256;

  bool Add(int fd, uint32_t events);
  void Register(Wait& wait);
  void Unregister(Wait& wait);
  void Resume(Wait& wait, Wake why);
  void Dispatch(const epoll_event& event);
  void BeginShutdown();
  int TimeoutMs() const;

  Fd epoll_;
  int shutdown_fd_;
  std::vector<Waiters> waiters_;  // indexed by fd
  TimerHeap timers_;
  absl::Time now_;
  epoll_event events_[kMaxEvents];
  char read_scratch_[kReadChunk];
  // Last, so it is destroyed first: frames still suspended unregister their waits from a loop
  // that is still whole.
  TaskGroup tasks_;
};

}  // namespace hs::async
