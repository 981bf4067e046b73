#include "pool_server/prefork.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/shutdown.h"

namespace hs {
namespace {

// While the pool is short of idle workers, or has too many, the parent looks again this often.
constexpr absl::Duration kLook = absl::Milliseconds(100);
// No fork storm: a look forks what is missing, and while the pool stays short each next look
// forks twice as many as the last (2, 4, 8, 16, 32 ...), but never more than this many at once.
// Apache ramps 1, 2, 4 ... 32 a second, wary of its heavier children; ours cost well under a
// millisecond of CPU to fork, so 32 per 100 ms stays a fraction of one core, and 64 clients
// arriving at once find a worker each within about half a second.
constexpr int kMaxForksPerLook = 32;
// After a failed fork (out of memory or processes), wait this long before trying again.
constexpr absl::Duration kForkRetry = absl::Seconds(1);

int usr1_fd = -1;  // written by the SIGUSR1 handler, read by Supervise

void OnUsr1(int) {
  const int saved_errno = errno;  // async-signal-safe: one write(2) to an eventfd
  const uint64_t one = 1;
  ssize_t unused = ::write(usr1_fd, &one, sizeof one);
  (void)unused;
  errno = saved_errno;
}

// Reads (and so clears) an eventfd; true if it had been written.
bool Consume(int fd) {
  uint64_t count;
  return ::read(fd, &count, sizeof count) == sizeof count;
}

int StartCount(const ServerOptions& options) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::min(options.workers > 0 ? options.workers : std::max(1, cores), options.max_workers);
}

}  // namespace

Prefork::Prefork(const ServerOptions& options)
    : program_(options.program),
      min_spare_(options.min_spare),
      max_spare_(options.max_spare),
      max_workers_(options.max_workers),
      start_(StartCount(options)),
      board_(static_cast<size_t>(options.max_workers)),
      children_([this](pid_t pid, int status) { OnExit(pid, status); }),
      notify_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  usr1_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (!notify_ || usr1_fd < 0) std::abort();
  struct sigaction on_usr1 {};
  on_usr1.sa_handler = OnUsr1;
  on_usr1.sa_flags = SA_RESTART;
  ::sigaction(SIGUSR1, &on_usr1, nullptr);
}

Prefork::~Prefork() {
  ::signal(SIGUSR1, SIG_DFL);
  ::close(usr1_fd);
}

void Prefork::Supervise(const Worker& worker) {
  worker_ = &worker;
  absl::Time next_look = absl::InfinitePast();
  while (!ShutdownRequested()) {
    children_.Collect();  // OnExit: slots freed, unasked deaths counted
    if (Consume(usr1_fd)) Print();
    Consume(notify_.get());
    for (; replace_ > 0 && Fork(); --replace_) {
    }
    // Decide at most once per kLook, however often workers call: the ramp is per look.
    const absl::Time now = absl::Now();
    absl::Duration wait = absl::InfiniteDuration();  // until a worker, a death or a signal
    if (now < fork_failed_at_ + kForkRetry) {
      wait = fork_failed_at_ + kForkRetry - now;
    } else if (now < next_look) {
      wait = next_look - now;
    } else {
      next_look = now + kLook;
      if (Resize()) wait = kLook;
    }
    pollfd wake[] = {{ShutdownFd(), POLLIN, 0},
                     {children_.reaped_fd(), POLLIN, 0},
                     {notify_.get(), POLLIN, 0},
                     {usr1_fd, POLLIN, 0}};
    const int timeout_ms = wait == absl::InfiniteDuration()
                               ? -1
                               : static_cast<int>(absl::ToInt64Milliseconds(wait)) + 1;
    ::poll(wake, 4, timeout_ms);
  }
  worker_ = nullptr;
}

bool Prefork::Resize() {
  const int idle = board_.Idle();
  const int staying = board_.Staying();
  int forks = 0;
  if (staying < start_) {
    forks = start_ - staying;  // the start, or forks that failed
  } else if (idle < min_spare_) {
    forks = std::max(min_spare_ - idle, ramp_);
  }
  forks = std::min({forks, max_workers_ - board_.Live(), kMaxForksPerLook});
  if (forks > 0) {
    int forked = 0;
    while (forked < forks && Fork()) ++forked;
    ramp_ = std::min(2 * forked, kMaxForksPerLook);
    return true;
  }
  ramp_ = 1;
  // Retire half of the extra idle workers per look: a pool that grew for a burst shrinks back
  // within a second, and one that is still needed is not torn down on a moment's lull.
  const int extra = std::min(idle - max_spare_, staying - start_);
  if (extra <= 0) return false;
  Retire(std::max(1, extra / 2));
  return true;
}

bool Prefork::Fork() {
  WorkerSlot* slot = board_.FreeSlot();
  if (slot == nullptr) return false;
  const pid_t pid = children_.Fork(program_.c_str(), [&] {
    slot->pid = ::getpid();      // before the parent's fork() returns, perhaps
    ::signal(SIGUSR1, SIG_IGN);  // `kill -USR1` to the whole group: the parent prints once
    (*worker_)(*slot);
  });
  if (pid < 0) {
    fork_failed_at_ = absl::Now();
    return false;
  }
  slot->pid = pid;
  HS_VLOG(-1, "started worker %d", pid);
  return true;
}

void Prefork::Retire(int n) {
  for (size_t i = board_.size(); i-- > 0 && n > 0;) {
    WorkerSlot& slot = board_[i];
    const pid_t pid = slot.pid.load();
    if (pid == 0 || slot.busy() || slot.retire.load()) continue;
    // The flag first: woken by the signal, the worker reads it and leaves without taking the
    // shared queue. Had it taken a client meanwhile, it serves that one first (gracefully).
    slot.retire = true;
    if (children_.Signal(pid, SIGTERM)) {
      HS_VLOG(-1, "retiring idle worker %d", pid);
      --n;
    }
  }
}

void Prefork::OnExit(pid_t pid, int wait_status) {
  const bool retired = board_.Release(pid);
  if (retired || ShutdownRequested()) return;  // asked to leave
  LogInfo(absl::StrCat(program_, ": worker ", pid, " ", DescribeExit(wait_status),
                       "; starting another"));
  ++replace_;
}

void Prefork::TurnedBusy(WorkerSlot& me) {
  me.connections.fetch_add(1);
  me.state = WorkerState::kReading;
  if (board_.Idle() < min_spare_ && board_.Live() < max_workers_) Notify();
}

void Prefork::TurnedIdle(WorkerSlot& me) {
  me.state = WorkerState::kIdle;
  if (board_.Idle() > max_spare_ && board_.Staying() > start_) Notify();
}

void Prefork::Notify() {
  const uint64_t one = 1;
  ssize_t unused = ::write(notify_.get(), &one, sizeof one);
  (void)unused;
}

void Prefork::Print() {
  std::string text = absl::StrFormat(
      "%s: scoreboard: %d workers, %d busy, %d idle (--min-spare %d, --max-spare %d, "
      "--max-workers %d)\n",
      program_, board_.Live(), board_.Busy(), board_.Idle(), min_spare_, max_spare_, max_workers_);
  text += board_.Describe();
  text.pop_back();  // LogInfo ends the last line
  LogInfo(text);
}

// The accept question, measured: 32 idle workers (`--workers 32 --max-workers 32`), wrk with one
// connection and `Connection: close` for 5 s, so every request is one accept; voluntary and
// involuntary context switches summed over the parent and every worker (/proc/PID/status),
// divided by the requests served (2 cores, shared with other work; two runs each):
//   poll() on the shared listener (before)          32.4 and 32.9 per request, 7,200-8,200 req/s
//   EPOLLEXCLUSIVE, an epoll set per worker (now)   1.8 and 1.9 per request, 15,500-17,400 req/s
// (--workers 2: 2.0 per request either way: the herd is the idle workers.) Apache's answer is an
// accept mutex, a process-shared lock that only its holder waits on the listener with; it wakes
// one worker too, but a worker killed while holding it must be recovered (a robust mutex), and a
// worker blocked on a lock cannot also wait for the shutdown eventfd. EPOLLEXCLUSIVE needs
// neither, and async_server already shares its listener among loops that way.
ExclusiveAccept::ExclusiveAccept(int listener)
    : listener_(listener), epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
  epoll_event client{.events = EPOLLIN | EPOLLEXCLUSIVE, .data = {.fd = listener}};
  epoll_event stop{.events = EPOLLIN, .data = {.fd = ShutdownFd()}};
  if (epoll_ && (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listener, &client) != 0 ||
                 ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, ShutdownFd(), &stop) != 0)) {
    epoll_.reset();
  }
}

WaitResult ExclusiveAccept::Wait() {
  for (;;) {
    // Shutdown first, even with a client waiting: a retired worker must not take it, and the
    // others take the queue in RunAcceptLoop's shutdown part.
    if (ShutdownRequested()) return WaitResult::kStop;
    if (!epoll_) return WaitReadable(listener_, absl::InfiniteFuture(), ShutdownFd());
    epoll_event events[2];
    const int n = ::epoll_wait(epoll_.get(), events, 2, -1);
    if (n < 0 && errno != EINTR) return WaitResult::kReady;  // accept() will say what is wrong
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == listener_) return WaitResult::kReady;
    }
  }
}

}  // namespace hs
