#include "pool_server/poller.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/shutdown.h"

namespace hs {
namespace {

constexpr int kMaxEvents = 256;
// How long accepting pauses when the process is out of descriptors.
constexpr absl::Duration kAcceptPause = absl::Milliseconds(100);
// epoll_wait's longest timeout, in milliseconds (a day: the deadlines are seconds away).
constexpr int64_t kLongestWaitMs = 24 * 3600 * 1000;

bool EpollControl(int epoll_fd, int op, int fd, uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  return ::epoll_ctl(epoll_fd, op, fd, &event) == 0;
}

absl::Status SystemError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("cannot ", what, ": ", std::strerror(errno)));
}

}  // namespace

Poller::Poller(Fd& listener, const ServerOptions& options, const DocumentRoot& root)
    : listener_(listener), options_(options), root_(root) {}

absl::Status Poller::Run(const std::function<void(ConnectionPtr)>& hand_over) {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return SystemError("create the poller's epoll");
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_) return SystemError("create the poller's eventfd");
  if (!EpollControl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), EPOLLIN) ||
      !EpollControl(epoll_.get(), EPOLL_CTL_ADD, ShutdownFd(), EPOLLIN)) {
    return SystemError("watch the poller's eventfds");
  }
  hand_over_ = &hand_over;
  Listen(true);
  epoll_event events[kMaxEvents];
  while (!Finished()) {
    const int n = ::epoll_wait(epoll_.get(), events, kMaxEvents, TimeoutMs());
    if (n < 0 && errno != EINTR) return SystemError("wait in epoll");
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_.get()) {
        TakeBack();
      } else if (fd == ShutdownFd()) {
        BeginShutdown();
      } else if (listener_.valid() && fd == listener_.get()) {
        Accept();
      } else {
        HandOverParked(fd);  // bytes (or room), EOF or an error: the worker's call will say which
      }
    }
    if (!listening_ && !shutdown_ && absl::Now() >= accept_paused_until_) Listen(true);
    HandOverExpired();
  }
  hand_over_ = nullptr;
  return absl::OkStatus();
}

void Poller::GiveBack(ConnectionPtr connection) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    --with_workers_;
    if (connection) {
      // Not empty: the poller has been woken already and has not taken the list yet (TakeBack
      // resets the eventfd before it takes the list, so no connection is left behind).
      wake = given_back_.empty();
      given_back_.push_back(std::move(connection));
    } else {
      wake = stopping_ && with_workers_ == 0;  // the last one closed: Run() may be done
    }
  }
  if (wake) {
    const uint64_t one = 1;
    ssize_t unused = ::write(wake_.get(), &one, sizeof one);
    (void)unused;
  }
}

void Poller::Accept() {
  for (;;) {
    absl::StatusOr<Fd> client = AcceptClient(listener_.get(), SOCK_NONBLOCK);
    if (!client.ok()) {
      if (absl::IsResourceExhausted(client.status())) {
        // Out of descriptors: the connection stays queued and the listener readable, so a
        // level-triggered epoll would report it again at once. Step out of epoll for a while.
        HS_VLOG(-1, "%s; pausing accepts", client.status().message());
        Listen(false);
        accept_paused_until_ = absl::Now() + kAcceptPause;
      }
      return;  // kUnavailable: nobody else is waiting
    }
    HandOver(NewConnection(*std::move(client)));  // its first turn: a worker reads its request
  }
}

ConnectionPtr Poller::NewConnection(Fd client) {
  HS_VLOG(client.get(), "connection opened");
  return std::make_unique<PooledConnection>(
      std::move(client), root_,
      ConversationPolicy{.delay = options_.delay, .served_by = options_.served_by}, absl::Now());
}

void Poller::BeginShutdown() {
  if (shutdown_) return;
  shutdown_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  // The shutdown eventfd stays readable for good: left in the epoll it would end every wait.
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, ShutdownFd(), nullptr);
  HS_VLOG(-1, "shutdown: taking the accept queue, closing the listener");
  std::vector<Fd> queued = AcceptQueued(listener_.get(), SOCK_NONBLOCK);
  listener_.reset();  // a later client is refused at once (close() also leaves the epoll)
  listening_ = false;
  const absl::Time at = ShutdownStartedAt();
  std::vector<int> woken;
  for (ConnectionPtr& connection : parked_) {
    if (!connection) continue;
    connection->conversation.ShutdownBegan(at);
    if (connection->wake_on_shutdown) woken.push_back(connection->socket.get());
  }
  for (Fd& client : queued) HandOver(NewConnection(std::move(client)));
  for (int fd : woken) HandOverParked(fd);
}

void Poller::TakeBack() {
  uint64_t count;
  ssize_t unused = ::read(wake_.get(), &count, sizeof count);  // reset first: see GiveBack
  (void)unused;
  {
    std::lock_guard<std::mutex> lock(mu_);
    taking_.swap(given_back_);
  }
  for (ConnectionPtr& connection : taking_) Park(std::move(connection));
  taking_.clear();
}

void Poller::Park(ConnectionPtr connection) {
  const int fd = connection->socket.get();
  if (shutdown_) {
    connection->conversation.ShutdownBegan(ShutdownStartedAt());
    // Given back by a worker that had not heard of it: shutdown ends this wait, so act now.
    if (connection->wake_on_shutdown) return HandOver(std::move(connection));
  }
  // One-shot: reported once, then silent until parked again (MOD re-arms it, and reports at once
  // bytes that came meanwhile), so nothing fires for a connection a worker holds.
  const int op = connection->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  // A half-sent answer waits for room to send the rest; anything else for the client's bytes.
  const uint32_t wanted = connection->sending ? EPOLLOUT : EPOLLIN;
  if (!EpollControl(epoll_.get(), op, fd, wanted | EPOLLONESHOT)) {
    HS_VLOG(fd, "epoll refused the connection (%s); closing it", std::strerror(errno));
    return;
  }
  connection->in_epoll = true;
  deadlines_.Push(connection.get());
  if (static_cast<size_t>(fd) >= parked_.size()) parked_.resize(static_cast<size_t>(fd) + 1);
  parked_[static_cast<size_t>(fd)] = std::move(connection);
  ++parked_count_;
}

void Poller::HandOver(ConnectionPtr connection) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++with_workers_;
  }
  (*hand_over_)(std::move(connection));
}

void Poller::HandOverParked(int fd) {
  const size_t slot = static_cast<size_t>(fd);
  // Not parked: a worker has it, and this is an event from before it was handed over by its
  // deadline or by shutdown (still armed then). The worker gives it back, and it is re-armed.
  if (fd < 0 || slot >= parked_.size() || !parked_[slot]) return;
  ConnectionPtr connection = std::move(parked_[slot]);
  --parked_count_;
  deadlines_.Remove(connection.get());
  HandOver(std::move(connection));
}

void Poller::HandOverExpired() {
  const absl::Time now = absl::Now();
  while (!deadlines_.empty() && deadlines_.earliest()->deadline <= now) {
    HandOverParked(static_cast<PooledConnection*>(deadlines_.earliest())->socket.get());
  }
}

void Poller::Listen(bool on) {
  if (on == listening_ || !listener_.valid()) return;
  if (EpollControl(epoll_.get(), on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, listener_.get(), EPOLLIN)) {
    listening_ = on;
  } else if (on) {
    accept_paused_until_ = absl::Now() + kAcceptPause;  // try again later
  }
}

int Poller::TimeoutMs() const {
  absl::Time next = absl::InfiniteFuture();
  if (!deadlines_.empty()) next = deadlines_.earliest()->deadline;
  if (!listening_ && !shutdown_) next = std::min(next, accept_paused_until_);
  if (next == absl::InfiniteFuture()) return -1;
  const absl::Duration left = next - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  // Rounded up: waking before the deadline would only mean waiting again.
  return static_cast<int>(
      std::min(absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))), kLongestWaitMs));
}

bool Poller::Finished() {
  if (!shutdown_ || parked_count_ > 0) return false;
  std::lock_guard<std::mutex> lock(mu_);
  return with_workers_ == 0 && given_back_.empty();
}

}  // namespace hs
