#include "async_server/event_loop.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/shutdown.h"

namespace hs::async {

EventLoop::Wait::Wait(EventLoop& loop, int fd, bool output, absl::Time until, bool stop_aware)
    : loop_(loop), fd_(fd), output_(output), stop_aware_(stop_aware) {
  deadline = until;
}

bool EventLoop::Wait::await_ready() noexcept {
  if (fd_ >= 0 && static_cast<size_t>(fd_) < loop_.waiters_.size() && loop_.waiters_[fd_].hung_up) {
    wake_ = Wake::kReady;  // the system call will report what happened
    return true;
  }
  if (stop_aware_ && ShutdownRequested()) {
    wake_ = Wake::kStop;
    return true;
  }
  if (deadline <= loop_.now_) {
    wake_ = Wake::kTimeout;
    return true;
  }
  return false;
}

bool EventLoop::Wait::await_suspend(std::coroutine_handle<> coroutine) noexcept {
  coroutine_ = coroutine;
  if (loop_.Register(*this)) return true;
  wake_ = Wake::kError;
  return false;  // resume at once
}

EventLoop::EventLoop() : epoll_(::epoll_create1(EPOLL_CLOEXEC)), shutdown_fd_(ShutdownFd()) {
  if (!epoll_) {
    LogInfo(absl::StrCat("async_server: epoll_create1: ", std::strerror(errno)));
    std::exit(1);
  }
  now_ = absl::Now();
  // Edge-triggered and never read (see shutdown.h): reported exactly once per loop.
  epoll_event event{.events = EPOLLIN | EPOLLET, .data = {.fd = shutdown_fd_}};
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, shutdown_fd_, &event);
}

EventLoop::~EventLoop() = default;

void EventLoop::Watch(int fd) {
  if (static_cast<size_t>(fd) >= waiters_.size()) waiters_.resize(fd + 1 + fd / 2);
  waiters_[fd] = {};
}

// EPOLLEXCLUSIVE allows no EPOLL_CTL_MOD, so the listener's interest never changes; that is
// fine, since the acceptor waits on it whenever it is not accepting, and Unwatch() removes it
// before shutdown leaves it unread.
bool EventLoop::WatchListener(int fd) {
  Watch(fd);
  return SetInterest(fd, EPOLLIN | EPOLLEXCLUSIVE);
}

void EventLoop::Unwatch(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  Forget(fd);
}

void EventLoop::Forget(int fd) {
  // Events for `fd` may still sit in this iteration's batch; a later connection may even reuse
  // the number. Either way they find no waiter, or a waiter that retries its system call and
  // waits again: a spurious wake-up costs one EAGAIN.
  if (static_cast<size_t>(fd) < waiters_.size()) waiters_[fd] = {};
}

void EventLoop::Park(Fd fd, absl::Time deadline, bool stop_aware, const IdleConversation& idle) {
  const int number = fd.get();
  Waiters& slot = waiters_[number];
  // Input interest may be off (a -d delay turned it off while a pipelined request waited), or
  // the socket not yet in epoll at all (it has never waited).
  if (!(slot.interest & EPOLLIN) && !SetInterest(number, slot.interest | EPOLLIN)) return;
  slot.parked.reset(new Parked{.fd = std::move(fd), .stop_aware = stop_aware, .idle = idle});
  slot.parked->deadline = deadline;
  if (deadline != absl::InfiniteFuture()) parked_timers_.Push(slot.parked.get());
  ++parked_;
}

void EventLoop::Unpark(int fd, Wake why) {
  const std::unique_ptr<Parked> parked = std::move(waiters_[fd].parked);
  parked_timers_.Remove(parked.get());
  --parked_;
  Spawn(unpark_(std::move(parked->fd), parked->idle, why));  // may park `fd` again
}

bool EventLoop::Register(Wait& wait) {
  if (wait.fd_ >= 0) {
    if (static_cast<size_t>(wait.fd_) >= waiters_.size()) waiters_.resize(wait.fd_ + 1);
    const uint32_t wanted = wait.output_ ? EPOLLOUT : EPOLLIN;
    if (!(waiters_[wait.fd_].interest & wanted) &&
        !SetInterest(wait.fd_, waiters_[wait.fd_].interest | wanted)) {
      return false;
    }
    Waiters& slot = waiters_[wait.fd_];
    (wait.output_ ? slot.writer : slot.reader) = &wait;
  }
  if (wait.deadline != absl::InfiniteFuture()) timers_.Push(&wait);
  wait.registered_ = true;
  return true;
}

void EventLoop::Unregister(Wait& wait) {
  if (!wait.registered_) return;
  wait.registered_ = false;
  if (wait.fd_ >= 0 && static_cast<size_t>(wait.fd_) < waiters_.size()) {
    Waiters& slot = waiters_[wait.fd_];
    Wait*& mine = wait.output_ ? slot.writer : slot.reader;
    if (mine == &wait) mine = nullptr;
  }
  timers_.Remove(&wait);
}

void EventLoop::Resume(Wait& wait, Wake why) {
  Unregister(wait);
  wait.wake_ = why;
  wait.coroutine_.resume();  // runs the coroutine up to its next co_await; `wait` may be gone
}

void EventLoop::Dispatch(const epoll_event& event) {
  const int fd = event.data.fd;
  if (fd == shutdown_fd_) return BeginShutdown();
  // Look the slot up again after each resume: the resumed coroutine may have accepted
  // connections (growing waiters_) or closed this fd.
  const uint32_t hang_up = EPOLLERR | EPOLLHUP;
  const uint32_t input = EPOLLIN | hang_up;
  const uint32_t output = EPOLLOUT | hang_up;
  if (static_cast<size_t>(fd) >= waiters_.size()) return;
  if (waiters_[fd].parked) return Unpark(fd, Wake::kReady);  // a request, or a hang-up
  if ((event.events & hang_up) && !waiters_[fd].reader && !waiters_[fd].writer) {
    // Reported whatever the interest, so it would come back on every epoll_wait until someone
    // reads: leave epoll now, and let the next wait return at once.
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    waiters_[fd].hung_up = true;
    waiters_[fd].added = false;
    waiters_[fd].interest = 0;
    return;
  }
  if ((event.events & input) && static_cast<size_t>(fd) < waiters_.size()) {
    if (Wait* reader = waiters_[fd].reader) {
      Resume(*reader, Wake::kReady);
    } else if ((waiters_[fd].interest & (EPOLLIN | EPOLLEXCLUSIVE)) == EPOLLIN) {
      // Nobody reads now (a -d delay, a pipelined request): level-triggered would report it on
      // every epoll_wait. Stop watching until a reader waits again.
      SetInterest(fd, waiters_[fd].interest & ~EPOLLIN);
    }
  }
  if ((event.events & output) && static_cast<size_t>(fd) < waiters_.size()) {
    if (Wait* writer = waiters_[fd].writer) {
      Resume(*writer, Wake::kReady);
    } else if (waiters_[fd].interest & EPOLLOUT) {
      SetInterest(fd, waiters_[fd].interest & ~EPOLLOUT);
    }
  }
}

bool EventLoop::SetInterest(int fd, uint32_t events) {
  Waiters& slot = waiters_[fd];
  epoll_event event{.events = events, .data = {.fd = fd}};
  if (::epoll_ctl(epoll_.get(), slot.added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event) != 0) {
    HS_VLOG(fd, "epoll_ctl: %s", std::strerror(errno));
    return false;
  }
  slot.interest = events;
  slot.added = true;
  return true;
}

void EventLoop::BeginShutdown() {
  // Only reads wait stop-aware: idle keep-alive connections and the acceptor.
  for (size_t fd = 0; fd < waiters_.size(); ++fd) {
    Wait* reader = waiters_[fd].reader;
    if (reader != nullptr && reader->stop_aware_) Resume(*reader, Wake::kStop);
    if (waiters_[fd].parked && waiters_[fd].parked->stop_aware) Unpark(fd, Wake::kStop);
  }
}

int EventLoop::TimeoutMs() const {
  absl::Time earliest = absl::InfiniteFuture();
  if (!timers_.empty()) earliest = timers_.earliest()->deadline;
  if (!parked_timers_.empty()) earliest = std::min(earliest, parked_timers_.earliest()->deadline);
  if (earliest == absl::InfiniteFuture()) return -1;
  const absl::Duration left = earliest - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  // Round up: waking a little early would only cost an empty iteration, but repeatedly.
  return static_cast<int>(std::min<int64_t>(
      absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))), INT_MAX));
}

void EventLoop::Run() {
  while (tasks_.size() > 0 || parked_ > 0) {
    const int ready = ::epoll_wait(epoll_.get(), events_, kMaxEvents, TimeoutMs());
    now_ = absl::Now();
    if (ready < 0 && errno != EINTR) {
      LogInfo(absl::StrCat("async_server: epoll_wait: ", std::strerror(errno)));
      std::exit(1);
    }
    for (int i = 0; i < ready; ++i) Dispatch(events_[i]);
    while (!timers_.empty() && timers_.earliest()->deadline <= now_) {
      Resume(*static_cast<Wait*>(timers_.earliest()), Wake::kTimeout);
    }
    while (!parked_timers_.empty() && parked_timers_.earliest()->deadline <= now_) {
      Unpark(static_cast<Parked*>(parked_timers_.earliest())->fd.get(), Wake::kTimeout);
    }
  }
}

}  // namespace hs::async
