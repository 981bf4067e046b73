// A connected non-blocking socket whose operations suspend the calling coroutine instead of
// blocking the thread: co_await conn.Read(...), co_await conn.Send(...), co_await
// X
// SendAll, SendFileAll, LingeringClose) with one change: where the blocking version waits in
// poll() or inside send(), this one tries the system call and, on EAGAIN, co_awaits the loop.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "async_server/event_loop.h"
#include "async_server/task.h"
#include "common/socket.h"

namespace hs::async {

enum class ReadResult { kData, kClosed, kTimeout, kStop, kWouldBlock };

class AsyncSocket {
 public:
  // Takes `fd` (non-blocking) and makes it known to `loop` (EventLoop::Watch), unless `loop`
  // already watches it (a parked connection taken back).
  AsyncSocket(EventLoop& loop, Fd fd, bool already_watched = false);
  ~AsyncSocket() {
    if (fd_) loop_.Forget(fd_.get());  // then ~Fd closes it
  }
  AsyncSocket(const AsyncSocket&) = delete;
  AsyncSocket& operator=(const AsyncSocket&) = delete;

  int fd() const { return fd_.get(); }
  EventLoop& loop() const { return loop_; }

  // Gives the socket up, still watched by the loop (to park it).
  Fd Release() { return std::move(fd_); }

  // One recv() that does not wait: kData, kClosed or kWouldBlock (nothing there yet).
  ReadResult TryRead(std::string_view& received);
  // Receives what the client sends, waiting at most until `deadline`; with `stop_aware` the
  // wait also ends when shutdown begins. On kData, `received` views the bytes, valid until the
  // loop's next read (they land in the loop's scratch buffer).
  Task<ReadResult> Read(std::string_view& received, absl::Time deadline, bool stop_aware);

  // Every byte of `first`, then of `second`, written together (one sendmsg while the buffer has
  // room); `more` sets MSG_MORE (the head waits in the kernel for a body sent next). Fails once
  // the client has acknowledged nothing for kSendTimeout (see SendStall in common/socket.h).
  Task<absl::Status> Send(std::string_view first, std::string_view second, bool more = false);
  // `count` bytes of `file_fd` from `offset` with sendfile(2); same timeout.
  Task<absl::Status> SendFile(int file_fd, size_t offset, size_t count);

  // Closing with unread input makes the kernel send RST, which can destroy the answer before
  // the client reads it: shut our side, drop what arrives for a short while, then close.
  Task<> LingeringClose();

 private:
  // Waits for room in the send buffer; false once the client has stalled.
  Task<bool> WaitForRoom(SendStall& stall);

  EventLoop& loop_;
  Fd fd_;
};

}  // namespace hs::async
