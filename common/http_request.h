// An incremental HTTP/1.x request parser with no I/O, in the spirit of h2o's picohttpparser:
// the caller owns the buffer and feeds it everything received so far; the parser answers
// "need more", "complete request that used N bytes", or "error, answer with status S".
// The parsed request points into the caller's buffer (string_views), so parsing allocates
// nothing; the views stay valid while the buffer is unchanged.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace hs {

struct ParserLimits {
  size_t max_head_bytes = 8 * 1024;  // request line + headers (+ the blank line)
  size_t max_headers = 100;
  size_t max_body_bytes = 64 * 1024;  // Content-Length above this -> 413, connection closes
};

struct HttpHeader {
  std::string_view name;   // as sent; compare case-insensitively
  std::string_view value;  // leading and trailing spaces/tabs removed
};

struct HttpRequest {
  std::string_view method;  // case-sensitive token, e.g. "GET"
  std::string_view target;  // request-target exactly as sent (origin-form or absolute-form)
  int version_minor = 1;    // HTTP/1.<version_minor>: 0 or 1
  std::array<HttpHeader, 100> headers;
  size_t header_count = 0;
  size_t content_length = 0;  // body bytes that followed the head (already consumed, discarded)
  bool keep_alive = false;    // from the version and the Connection header
  bool has_host = false;      // a Host header was sent (HTTP/1.1 requires one: RFC 9112 3.2)

  // First header with this name (case-insensitive), if any.
  std::optional<std::string_view> Header(std::string_view name) const;
};

struct ParseResult {
  enum class Kind { kNeedMore, kComplete, kError };
  Kind kind = Kind::kNeedMore;
  // kComplete: bytes used by this request, head and body, from the start of the buffer. A
  // pipelined next request starts at buffer[consumed].
  size_t consumed = 0;
  // kError: the status to answer with (400, 413, 414, 431, 501, 505) before closing.
  int error_status = 0;
  // The head's size once it has arrived whole and valid -- also while its body is still arriving
  // (kNeedMore), so that an `Expect: 100-continue` can be answered before the body is sent.
  size_t head_size = 0;
  HttpRequest request;  // valid for kComplete, and for kNeedMore when head_complete()

  bool head_complete() const { return head_size > 0; }

  bool complete() const { return kind == Kind::kComplete; }
  bool need_more() const { return kind == Kind::kNeedMore; }
  bool error() const { return kind == Kind::kError; }
};

// Parses the request at the start of `buffer` (the bytes received so far). Errors are reported
// as early as they can be seen (a malformed request line does not wait for the headers).
ParseResult ParseRequest(std::string_view buffer, const ParserLimits& limits = {});

}  // namespace hs
