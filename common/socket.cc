#include "common/socket.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace hs {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int Fd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void Fd::reset(int fd) {
  // close() is not retried on EINTR: on Linux the descriptor is gone either way.
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

static absl::Status ErrnoStatus(int err, absl::string_view what) {
  std::string message = absl::StrCat(what, ": ", strerror(err));
  if (err == EAGAIN || err == EWOULDBLOCK || err == EADDRINUSE) {
    return absl::UnavailableError(message);
  }
  if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
    return absl::ResourceExhaustedError(message);
  }
  return absl::InternalError(message);
}

absl::StatusOr<Fd> ListenTcp(int port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoStatus(errno, "socket");
  int one = 1;
  // SO_REUSEADDR: restart at once on a port whose old connections are still in TIME_WAIT.
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot bind port ", port));
  }
  // The end of a response goes out at once instead of waiting for Nagle's algorithm (the tail
  // of a sendfile() body would otherwise wait for the acknowledgement of what went before). Set
  // here, not on every accepted socket: Linux copies it from the listener to each connection it
  // accepts, which saves a system call per connection.
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::listen(fd.get(), SOMAXCONN) < 0) return ErrnoStatus(errno, "listen");
  return fd;
}

int LocalPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) return -1;
  return ntohs(addr.sin_port);
}

absl::StatusOr<Fd> AcceptClient(int listen_fd, int flags) {
  for (;;) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, flags | SOCK_CLOEXEC);
    if (fd >= 0) return Fd(fd);  // TCP_NODELAY comes from the listener (Listen)
    // EINTR: a signal arrived; ECONNABORTED: the client gave up while queued. Neither is ours.
    if (errno == EINTR || errno == ECONNABORTED) continue;
    return ErrnoStatus(errno, "accept");
  }
}

absl::Time SendStall::Deadline() {
  int unacknowledged = 0;
  if (::ioctl(fd_, SIOCOUTQ, &unacknowledged) != 0) unacknowledged = 0;  // not TCP: writes count
  const int64_t acked = static_cast<int64_t>(sent_) - unacknowledged;
  if (!watching_ || acked > acked_) {
    watching_ = true;
    acked_ = acked;
    last_ack_ = absl::Now();
  }
  return last_ack_ + timeout_;
}

absl::Status StalledError(absl::Duration timeout) {
  return absl::DeadlineExceededError(
      absl::StrCat("the client read nothing for ", absl::FormatDuration(timeout)));
}

bool WaitForRoom(int fd, SendStall& stall) {
  for (;;) {
    const absl::Time deadline = stall.Deadline();
    int timeout_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(std::min(left, kStallCheck))) + 1;
    }
    pollfd p{fd, POLLOUT, 0};
    const int n = ::poll(&p, 1, timeout_ms);
    if (n > 0 || (n < 0 && errno != EINTR)) return true;  // room, or an error the write reports
  }
}

std::vector<Fd> AcceptQueued(int listen_fd, int flags) {
  std::vector<Fd> queued;
  for (;;) {
    absl::StatusOr<Fd> client = AcceptClient(listen_fd, flags);
    if (!client.ok()) return queued;  // EAGAIN: the queue is empty
    queued.push_back(*std::move(client));
  }
}

ssize_t SendSome(int fd, std::string_view& first, std::string_view& second, int flags) {
  iovec parts[2] = {{const_cast<char*>(first.data()), first.size()},
                    {const_cast<char*>(second.data()), second.size()}};
  msghdr message{};
  message.msg_iov = first.empty() ? &parts[1] : parts;
  message.msg_iovlen = first.empty() ? 1 : 2;
  const ssize_t n = ::sendmsg(fd, &message, flags);
  if (n > 0) {
    const size_t from_first = std::min(first.size(), static_cast<size_t>(n));
    first.remove_prefix(from_first);
    second.remove_prefix(static_cast<size_t>(n) - from_first);
  }
  return n;
}

absl::Status SendAll(int fd, std::string_view data, bool more, absl::Duration stall_timeout) {
  return SendAll(fd, data, {}, more, stall_timeout);
}

absl::Status SendAll(int fd, std::string_view first, std::string_view second, bool more,
                     absl::Duration stall_timeout) {
  const int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
  SendStall stall(fd, stall_timeout);
  while (!first.empty() || !second.empty()) {
    const ssize_t n = SendSome(fd, first, second, flags);
    if (n >= 0) {
      stall.Sent(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return ErrnoStatus(errno, "send");
    if (!WaitForRoom(fd, stall)) return StalledError(stall_timeout);
  }
  return absl::OkStatus();
}

absl::Status SendFileAll(int fd, int file_fd, off_t offset, size_t count,
                         absl::Duration stall_timeout) {
  SendStall stall(fd, stall_timeout);
  while (count > 0) {
    ssize_t n = ::sendfile(fd, file_fd, &offset, count);
    if (n > 0) {
      count -= static_cast<size_t>(n);
      stall.Sent(static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return absl::DataLossError("sendfile: file shrank while sending");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return ErrnoStatus(errno, "sendfile");
    if (!WaitForRoom(fd, stall)) return StalledError(stall_timeout);
  }
  return absl::OkStatus();
}

WaitResult WaitReadable(int fd, absl::Time deadline, int stop_fd) {
  for (;;) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    int timeout_ms = -1;  // InfiniteFuture: wait for readiness only
    if (deadline != absl::InfiniteFuture()) {
      const absl::Duration left = deadline - absl::Now();
      timeout_ms = left <= absl::ZeroDuration()
                       ? 0  // one look without waiting
                       : static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
    }
    int n = ::poll(fds, stop_fd >= 0 ? 2 : 1, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return WaitResult::kReady;  // let the following recv() report the error
    }
    if (n == 0) {
      if (timeout_ms == 0) return WaitResult::kTimeout;
      continue;  // re-check the deadline: poll may wake a little early
    }
    if (fds[0].revents != 0) return WaitResult::kReady;
    if (stop_fd >= 0 && fds[1].revents != 0) return WaitResult::kStop;
  }
}

void SetNonBlocking(int fd, bool non_blocking) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return;
  ::fcntl(fd, F_SETFL, non_blocking ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK));
}

void IgnoreSigpipe() { ::signal(SIGPIPE, SIG_IGN); }

}  // namespace hs

namespace hs {

void LingeringClose(Fd fd) {
  ::shutdown(fd.get(), SHUT_WR);
  const absl::Time deadline = absl::Now() + kLingerTimeout;
  char sink[4096];
  size_t drained = 0;
  while (drained < kLingerMaxBytes && WaitReadable(fd.get(), deadline) == WaitResult::kReady) {
    ssize_t n = ::recv(fd.get(), sink, sizeof sink, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the client has read our answer and closed
    drained += static_cast<size_t>(n);
  }
}

bool HasUnreadInput(int fd) {
  int pending = 0;
  return ::ioctl(fd, FIONREAD, &pending) == 0 && pending > 0;
}

bool HasPendingConnection(int listen_fd) {
  pollfd p{listen_fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

}  // namespace hs
