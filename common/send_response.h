// Sending a response from a thread that may block: the head, then the body or the file, on a
// non-blocking socket that waits in poll() while the send buffer is full. Used by the worker
// threads of thread_pool_server (pool_server/pooled_connection.cc) and by common/connection.cc's
// blocking driver. The async model sends the same way with co_await (async_server/connection.cc).
#pragma once

#include "absl/status/status.h"
#include "common/http_response.h"

namespace hs {

// Sends `plan` on `fd` whole. Gives up (kDeadlineExceeded) when the client has acknowledged
// nothing for kSendTimeout (SendStall: a client that stops reading), or on a reset.
absl::Status SendResponse(int fd, const ResponsePlan& plan);

}  // namespace hs
