// The blocking way to carry out a conversation's kSend and kClose steps, from a thread that may
// block: the head, then the body or the file, on a non-blocking socket that waits in poll() while
// the send buffer is full; then a close, gracefully when the step asks. Used by common/
// connection.cc's blocking driver and by the thread pool's workers (pool_server/
// pooled_connection.cc). The async model does the same with co_await (async_server/connection.cc).
#pragma once

#include "absl/status/status.h"
#include "common/conversation.h"
#include "common/http_response.h"
#include "common/socket.h"

namespace hs {

// Sends `plan` on `fd` whole. Gives up (kDeadlineExceeded) when the client has acknowledged
// nothing for kSendTimeout (SendStall: a client that stops reading), or on a reset.
absl::Status SendResponse(int fd, const ResponsePlan& plan);

// kSend: sends the step's response and tells `conversation` how it went (Sent or SendFailed).
void SendStep(int fd, const Step& step, Conversation& conversation);

// kClose: closes `socket`, after LingeringClose when the step asks for it (or, for kIfUnreadInput,
// when the client has sent more than was read).
void CloseStep(Fd socket, const Step& step);

}  // namespace hs
