// The event loop of the async model: one thread, one epoll instance, one queue of deadlines.
//
// A coroutine that would block co_awaits a Wait instead -- loop.Readable(fd, deadline),
// loop.Writable(fd, deadline) or loop.Sleep(duration). The Wait records the coroutine beside
// the fd and the deadline, and the coroutine suspends. Run() resumes it directly (no queue, no
// callback) when epoll reports the fd ready, when the deadline passes, or, for a stop-aware wait,
// when shutdown begins. Everything runs on this one thread, so nothing needs a lock -- and any
// call that blocks (sleep, a blocking read) stops every client at once.
//
// Level-triggered, with interest only while someone waits. A socket enters epoll, for input, at
// its first wait -- not when it is accepted: a client whose request is already there when it is
// accepted is answered, and with Connection: close closed, without one epoll_ctl. From then on
// epoll reports it for as long as it has unread bytes (or EOF), so a
// coroutine simply tries its system call and waits on EAGAIN -- nothing to remember between
// waits. Nobody reading (a -d delay, a pipelined request) would make that a report on every
// epoll_wait, so the first such report turns input interest off, and the next reader's wait turns
// it on (one epoll_ctl each, only in that case); output interest is on only while a writer waits
// (a full send buffer). A hang-up (EPOLLHUP/EPOLLERR) is reported whatever the interest, so a
// socket that hangs up with nobody waiting leaves epoll, and its next wait returns at once.
//
// Chosen by measurement over edge-triggered, which needs no epoll_ctl at all but must remember
// an edge that came while nobody read, a hang-up that came in the same edge as the last bytes,
// and whether the last read emptied the socket (three flags, and two of the three commits that
// touched that version fixed an edge bug). wrk -t2 -d5s keep-alive on /page.html, 2 cores shared
// with wrk, medians of 3 interleaved rounds (requests/s):
//                           10 connections    1,000 connections
//   edge-triggered              110.9k             114.2k
//   level, as here              112.8k             115.0k
//   level + skip the EAGAIN     106.1k             112.8k   (the edge version's "drained" flag)
// All within the run-to-run noise (about 5%): the simpler design stays.
//
// Parking. A connection waiting for a request with nothing of it received -- the idle keep-alive
// client, the usual case by far -- keeps no coroutine: the driver hands its socket and its
// conversation's small idle state (IdleConversation) to Park() and its coroutine returns,
// freeing the frame (the conversation, the socket object, the frames of the read it would wait
// in: about 1 KiB). The socket stays in epoll; when bytes or a hang-up arrive, the deadline
// passes or (if the wait was stop-aware) shutdown begins, the loop starts a new coroutine for it
// with the state and the reason (OnUnpark). An idle client then costs this loop about 140 bytes,
// under nginx's idle connection; a new frame per request costs one malloc, not a system call.
#pragma once

#include <sys/epoll.h>

#include <coroutine>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "absl/time/time.h"
#include "async_server/task.h"
#include "common/conversation.h"
#include "common/socket.h"
#include "common/timer_queue.h"

namespace hs::async {

class EventLoop {
 public:
  // Why a wait ended. kError: epoll refused the socket (out of memory,
  // fs.epoll.max_user_watches), so nothing can be waited for: the connection should end.
  enum class Wake { kReady, kTimeout, kStop, kError };

  // The awaitable. It lives in the suspended coroutine's frame, and the loop points at it while
  // it is registered; destroying it (with its frame) unregisters it.
  class [[nodiscard]] Wait : public TimerEntry {
   public:
    Wait(const Wait&) = delete;
    Wait& operator=(const Wait&) = delete;
    ~Wait() { loop_.Unregister(*this); }

    bool await_ready() noexcept;
    bool await_suspend(std::coroutine_handle<> coroutine) noexcept;
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

  // Takes on a new non-blocking `fd`; it enters epoll at its first wait (see above).
  void Watch(int fd);
  // The same for a listening socket, which several loops may share (async_server --workers N):
  // with EPOLLEXCLUSIVE, so a new connection wakes one loop waiting in epoll_wait, not every
  // loop (all but one of which would find accept() saying EAGAIN). A busy loop does not count:
  // the kernel then wakes the next waiting one as well.
  bool WatchListener(int fd);
  // Called before `fd` is closed (close() itself removes it from epoll: no epoll_ctl needed).
  void Forget(int fd);
  // Removes `fd` from this loop's epoll while it stays open (a listener other loops still use).
  void Unwatch(int fd);

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

  // Who takes a parked connection back: given its socket, its conversation's state and why it
  // woke (kReady: input or a hang-up; kTimeout; kStop), returns the coroutine to spawn.
  using Unparker = std::function<Task<>(Fd fd, const IdleConversation& idle, Wake why)>;
  void OnUnpark(Unparker unpark) { unpark_ = std::move(unpark); }
  // Keeps `fd` (watched by this loop, its input read until EAGAIN) without a coroutine until
  // input arrives, `deadline` passes or, if `stop_aware`, shutdown begins. Closes it if epoll
  // refuses it.
  void Park(Fd fd, absl::Time deadline, bool stop_aware, const IdleConversation& idle);

  // Starts `task` now; the loop owns it from here on (see task.h).
  void Spawn(Task<> task) { tasks_.Spawn(std::move(task)); }

  // Runs until every spawned task has returned and no connection is parked.
  void Run();

  // The time the last epoll_wait returned: one clock read per loop iteration.
  absl::Time Now() const { return now_; }

  // Every read lands here first, and only the bytes received are copied into the conversation's
  // buffer: an idle connection keeps a few hundred bytes, not a kReadChunk buffer.
  std::span<char> ReadScratch() { return read_scratch_; }

 private:
  // A parked connection: all that is left of it in user space.
  struct Parked : TimerEntry {
    Fd fd;
    bool stop_aware;
    IdleConversation idle;
  };
  struct Waiters {
    Wait* reader = nullptr;
    Wait* writer = nullptr;
    std::unique_ptr<Parked> parked;
    uint32_t interest = 0;  // what epoll watches for this fd now (EPOLLIN, EPOLLOUT)
    bool added = false;     // in epoll (from its first wait on)
    bool hung_up = false;   // left epoll after a hang-up with nobody waiting
  };
  static constexpr int kMaxEvents = 256;

  bool Register(Wait& wait);
  void Unregister(Wait& wait);
  void Resume(Wait& wait, Wake why);
  void Dispatch(const epoll_event& event);
  void Unpark(int fd, Wake why);
  void BeginShutdown();
  bool SetInterest(int fd, uint32_t events);
  int TimeoutMs() const;

  Fd epoll_;
  int shutdown_fd_;
  std::vector<Waiters> waiters_;  // indexed by fd
  TimerQueue timers_;             // of waits
  TimerQueue parked_timers_;      // of parked connections
  size_t parked_ = 0;
  Unparker unpark_;
  absl::Time now_;
  epoll_event events_[kMaxEvents];
  char read_scratch_[kReadChunk];
  // Last, so it is destroyed first: frames still suspended unregister their waits from a loop
  // that is still whole.
  TaskGroup tasks_;
};

}  // namespace hs::async
