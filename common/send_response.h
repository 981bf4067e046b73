// The blocking way to carry out a conversation's kSend and kClose steps, from a thread that may
// block: the head, then the body or the file, on a non-blocking socket that waits in poll() while
// the send buffer is full; then a close, gracefully when the step asks. Used by common/
// connection.cc's blocking driver and by the thread pool's workers (pool_server/
// pooled_connection.cc). The async model does the same with co_await (async_server/connection.cc).
#pragma once

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/conversation.h"
#include "common/http_response.h"
#include "common/socket.h"

namespace hs {

// A response sent a piece at a time, for a driver that must not wait while its client is slow to
// read: the thread pool's workers give the connection back to the poller instead, to wait for
// room in the send buffer (a slow reader must not hold a worker). Each Continue() writes what
// the socket takes now -- the head and a body from memory in one sendmsg(), or the head and then
// sendfile() from the plan's offset -- and remembers how far it got.
class PartialSend {
 public:
  enum class Result { kDone, kBlocked, kFailed };
  explicit PartialSend(int fd) : fd_(fd), stall_(fd, kSendTimeout) {}

  // More of `plan` (the same plan on every call, until kDone or kFailed). kBlocked: the send
  // buffer is full; call again when there is room, or at Deadline(). kFailed: a reset, or the
  // client acknowledged nothing for kSendTimeout (error() says which).
  Result Continue(const ResponsePlan& plan);
  // When to look again if no room comes: the stall deadline, or sooner (kStallCheck) since a
  // client may acknowledge a little without freeing enough room to report the socket writable.
  absl::Time NextLook();
  SendStall& stall() { return stall_; }
  const absl::Status& error() const { return error_; }

 private:
  int fd_;
  SendStall stall_;
  size_t sent_ = 0;  // of the head and the body together
  absl::Status error_;
};

// Sends `plan` on `fd` whole. Gives up (kDeadlineExceeded) when the client has acknowledged
// nothing for kSendTimeout (SendStall: a client that stops reading), or on a reset.
absl::Status SendResponse(int fd, const ResponsePlan& plan);

// kSend: sends the step's response and tells `conversation` how it went (Sent or SendFailed).
void SendStep(int fd, const Step& step, Conversation& conversation);

// kClose: closes `socket`, after LingeringClose when the step asks for it (or, for kIfUnreadInput,
// when the client has sent more than was read).
void CloseStep(Fd socket, const Step& step);

}  // namespace hs
