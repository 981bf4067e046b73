// Socket helpers: a move-only file descriptor and wrappers that hide EINTR and short counts,
// in the spirit of CS:APP's csapp.h, so the servers read like the protocol.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace hs {

// Owns one file descriptor; closes it when destroyed. Move-only, so ownership is always visible.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release();            // gives up ownership without closing
  void reset(int fd = -1);  // closes the current descriptor, then owns `fd`

 private:
  int fd_ = -1;
};

// A non-blocking listening TCP socket on all IPv4 addresses, with SO_REUSEADDR. Port 0 picks an
// ephemeral port; "port in use" comes back as kUnavailable. Never SO_REUSEPORT: that would let
// another process bind the same port and take a share of our clients.
absl::StatusOr<Fd> ListenTcp(int port);

// The port a bound socket really listens on (useful after ListenTcp(0)).
int LocalPort(int fd);

// accept4() that restarts on EINTR and ECONNABORTED. `flags` go to accept4 (SOCK_NONBLOCK,
// SOCK_CLOEXEC is always added). Returns kUnavailable on EAGAIN (nothing waiting),
// kResourceExhausted when out of descriptors (EMFILE, ENFILE), another error status otherwise. Sets
// TCP_NODELAY on the new socket.
absl::StatusOr<Fd> AcceptClient(int listen_fd, int flags = 0);

// At shutdown: every connection waiting in the accept queue of the non-blocking `listen_fd`,
// accepted with `flags` until the queue is empty (or descriptors run out).
std::vector<Fd> AcceptQueued(int listen_fd, int flags = 0);

// Writes every byte (restarting after EINTR and short writes). `more` sets MSG_MORE so headers
// and a following sendfile body leave in one segment. Never raises SIGPIPE. On a non-blocking
// socket it waits in poll() while the send buffer is full, and gives up (kDeadlineExceeded) once
// the peer has acknowledged nothing for `stall_timeout` (see SendStall).
absl::Status SendAll(int fd, std::string_view data, bool more = false,
                     absl::Duration stall_timeout = absl::InfiniteDuration());
// The same for two pieces, `first` then `second`, written together (sendmsg with two iovecs): a
// head and a small body leave in one system call.
absl::Status SendAll(int fd, std::string_view first, std::string_view second, bool more,
                     absl::Duration stall_timeout);

// One sendmsg() of what is left of `first`, then `second`; advances both past what it wrote.
// Returns what sendmsg() returns (-1 with errno: EAGAIN, EINTR, ...). SendAll's loop, and the
// event loop's, are built on it.
ssize_t SendSome(int fd, std::string_view& first, std::string_view& second, int flags);

// sendfile(2) until `count` bytes from `offset` are sent, handling partial writes and EINTR; on a
// non-blocking socket it waits and gives up like SendAll.
absl::Status SendFileAll(int fd, int file_fd, off_t offset, size_t count,
                         absl::Duration stall_timeout = absl::InfiniteDuration());

// When to give up on a peer that has stopped reading. "A write made progress" proves nothing:
// while the peer's receive window is closed, the kernel still lets our own send buffer take a
// little more now and then, so a timeout restarted by every successful write (or SO_SNDTIMEO,
// which bounds each call, not the stall) can hold a worker for minutes. The peer acknowledging
// bytes is progress; SendStall watches that (SIOCOUTQ: bytes sent and not yet acknowledged).
// Report every byte written with Sent(); ask Deadline() when the send buffer is full.
class SendStall {
 public:
  SendStall(int fd, absl::Duration timeout) : fd_(fd), timeout_(timeout) {}
  void Sent(size_t bytes) { sent_ += bytes; }
  // `timeout` after the last acknowledgement seen (or after the first call).
  absl::Time Deadline();

 private:
  const int fd_;
  const absl::Duration timeout_;
  uint64_t sent_ = 0;
  bool watching_ = false;
  int64_t acked_ = 0;  // acknowledged bytes, up to a constant (what was queued before us)
  absl::Time last_ack_;
};

// How often a sender waiting for room asks SendStall. A peer may acknowledge a little without
// freeing enough room to report the socket writable; the clock learns of it at the next look, so
// a peer that has stopped reading is dropped between the stall timeout and this much later.
inline constexpr absl::Duration kStallCheck = absl::Milliseconds(500);

// Waits in poll() until `fd` has room in its send buffer; false once the peer has stalled.
bool WaitForRoom(int fd, SendStall& stall);

// The error a sender returns when SendStall's deadline has passed.
absl::Status StalledError(absl::Duration timeout);

// Outcome of waiting for a socket to become readable.
enum class WaitResult { kReady, kTimeout, kStop };

// Waits until `fd` is readable, `deadline` passes, or (when `stop_fd` >= 0) `stop_fd` becomes
// readable. Restarts on EINTR. A deadline already past still looks once: bytes that have
// arrived count.
WaitResult WaitReadable(int fd, absl::Time deadline, int stop_fd = -1);

// Closes a connection whose peer may still be sending (an error answer, unread pipelined
// bytes): a plain close() with unread input makes the kernel send RST, which can destroy the
// response before the client reads it. So: shut our side, read and drop what arrives for a
// short while (kLingerTimeout, at most kLingerMaxBytes), then close.
void LingeringClose(Fd fd);
inline constexpr absl::Duration kLingerTimeout = absl::Seconds(1);
inline constexpr size_t kLingerMaxBytes = 256 * 1024;

// Bytes the peer sent that nobody has read yet (FIONREAD).
bool HasUnreadInput(int fd);

// True when a connection waits in `listen_fd`'s accept queue (a poll() that does not wait).
bool HasPendingConnection(int listen_fd);

void SetNonBlocking(int fd, bool non_blocking = true);

// Ignore SIGPIPE process-wide: a peer that closes early must produce EPIPE, not kill us.
void IgnoreSigpipe();

}  // namespace hs
