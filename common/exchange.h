// The protocol decisions of one connection, with no I/O, shared by the blocking loop
// (common/connection.cc) and the async coroutine (async_server/): given the bytes received so
// far, what to answer next, how long to wait for the rest, when to close.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "absl/time/time.h"
#include "common/file_responder.h"
#include "common/http_request.h"

namespace hs {

// An idle keep-alive connection (no byte of a next request) closes after this long.
inline constexpr absl::Duration kIdleTimeout = absl::Seconds(5);
// A request that has not fully arrived this long after its first byte gets 408.
inline constexpr absl::Duration kRequestTimeout = absl::Seconds(10);
// A client that stops reading our response for this long is dropped.
inline constexpr absl::Duration kSendTimeout = absl::Seconds(10);
// How many bytes one read asks for.
inline constexpr size_t kReadChunk = 16 * 1024;

struct Exchange {
  ResponsePlan response;
  size_t consumed = 0;       // request bytes (head and body) to drop once answered
  bool apply_delay = false;  // -d applies to answered requests, not to protocol errors
  std::string_view method;   // for the verbose log; views into the caller's buffer
  std::string_view target;
};

// The answer to the request at the start of `buffered`, or nullopt when more bytes are needed.
// Protocol errors (400, 413, 414, 431, 501, 505) come back as an error response that closes.
std::optional<Exchange> NextExchange(std::string_view buffered, const DocumentRoot& root,
                                     bool keep_alive_allowed);

// How long to wait for more bytes: kIdleTimeout after the last answer while nothing of the
// next request has arrived, kRequestTimeout from the first byte of a request otherwise.
absl::Time ReadDeadline(bool request_started, absl::Time idle_since, absl::Time first_byte_at);

// After an answer, a connection with nothing buffered is idle; during shutdown an idle
// connection that has been answered at least once closes (a fresh one is owed its first answer).
inline bool CloseIdleConnection(bool shutting_down, int answered, size_t buffered) {
  return shutting_down && answered > 0 && buffered == 0;
}

// After the answer that closes the connection: close gracefully (LingeringClose) rather than at
// once when the client may still be sending -- unread pipelined bytes, an error answer (it may be
// mid-upload), or input already waiting in the kernel.
inline bool LingerBeforeClose(int status, size_t buffered, bool unread_input) {
  return buffered > 0 || status >= 400 || unread_input;
}

}  // namespace hs
