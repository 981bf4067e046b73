#include "async_server/async_socket.h"

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "common/conversation.h"

namespace hs::async {

using Wake = EventLoop::Wake;

AsyncSocket::AsyncSocket(EventLoop& loop, Fd fd, bool already_watched)
    : loop_(loop), fd_(std::move(fd)) {
  if (!already_watched) loop.Watch(fd_.get());
}

ReadResult AsyncSocket::TryRead(std::string_view& received) {
  for (;;) {
    const std::span<char> scratch = loop_.ReadScratch();
    const ssize_t n = ::recv(fd_.get(), scratch.data(), scratch.size(), 0);
    if (n > 0) {
      received = std::string_view(scratch.data(), static_cast<size_t>(n));
      return ReadResult::kData;
    }
    if (n == 0) return ReadResult::kClosed;
    if (errno == EINTR) continue;
    return errno == EAGAIN ? ReadResult::kWouldBlock : ReadResult::kClosed;  // or a reset
  }
}

Task<ReadResult> AsyncSocket::Read(std::string_view& received, absl::Time deadline,
                                   bool stop_aware) {
  for (;;) {
    if (const ReadResult result = TryRead(received); result != ReadResult::kWouldBlock) {
      co_return result;
    }
    const Wake wake = co_await loop_.Readable(fd_.get(), deadline, stop_aware);
    if (wake == Wake::kTimeout) co_return ReadResult::kTimeout;
    if (wake == Wake::kStop) co_return ReadResult::kStop;
    if (wake == Wake::kError) co_return ReadResult::kClosed;  // nothing can be waited for
  }
}

// common's WaitForRoom with co_await in place of poll(): false once the client has acknowledged
// nothing for kSendTimeout (SendStall explains why a successful write is no proof of life).
Task<bool> AsyncSocket::WaitForRoom(SendStall& stall) {
  for (;;) {
    const absl::Time deadline = stall.Deadline();
    if (deadline <= loop_.Now()) co_return false;
    const Wake wake =
        co_await loop_.Writable(fd_.get(), std::min(deadline, loop_.Now() + kStallCheck));
    if (wake == Wake::kReady) co_return true;
    if (wake == Wake::kError) co_return false;
  }
}

Task<absl::Status> AsyncSocket::Send(std::string_view first, std::string_view second, bool more) {
  const int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
  SendStall stall(fd_.get(), kSendTimeout);
  while (!first.empty() || !second.empty()) {
    const ssize_t n = SendSome(fd_.get(), first, second, flags);
    if (n >= 0) {
      stall.Sent(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) co_return absl::ErrnoToStatus(errno, "send");
    // The socket buffer is full: the client has not read what we sent yet.
    if (!co_await WaitForRoom(stall)) co_return StalledError(kSendTimeout);
  }
  co_return absl::OkStatus();
}

Task<absl::Status> AsyncSocket::SendFile(int file_fd, size_t from, size_t count) {
  off_t offset = static_cast<off_t>(from);
  SendStall stall(fd_.get(), kSendTimeout);
  while (count > 0) {
    const ssize_t n = ::sendfile(fd_.get(), file_fd, &offset, count);
    if (n > 0) {
      count -= static_cast<size_t>(n);
      stall.Sent(static_cast<size_t>(n));
      continue;
    }
    if (n == 0) co_return absl::DataLossError("sendfile: file shrank while sending");
    if (errno == EINTR) continue;
    if (errno != EAGAIN) co_return absl::ErrnoToStatus(errno, "sendfile");
    if (!co_await WaitForRoom(stall)) co_return StalledError(kSendTimeout);
  }
  co_return absl::OkStatus();
}

Task<> AsyncSocket::LingeringClose() {
  ::shutdown(fd_.get(), SHUT_WR);
  const absl::Time deadline = loop_.Now() + kLingerTimeout;
  size_t dropped = 0;
  while (dropped < kLingerMaxBytes) {
    const std::span<char> scratch = loop_.ReadScratch();
    const ssize_t n = ::recv(fd_.get(), scratch.data(), scratch.size(), 0);
    if (n > 0) {
      dropped += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) break;  // EOF: the client has read our answer and closed
    if (errno == EINTR) continue;
    if (errno != EAGAIN) break;
    if (co_await loop_.Readable(fd_.get(), deadline) != Wake::kReady) break;
  }
}

}  // namespace hs::async
