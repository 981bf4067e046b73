// Responses: the status line and headers serialised as one string, ready for SendAll(), and the
// plan a driver sends (head, then an in-memory body or an open file).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/file_cache.h"
#include "common/socket.h"

namespace hs {

inline constexpr std::string_view kServerName = "hs-concurrent/1.0";

// "Not Found" for 404, ... ("Unknown" for codes we never send).
std::string_view ReasonPhrase(int status);

// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7).
std::string HttpDate(absl::Time t);

// An HTTP-date in any of the three forms a recipient must accept (RFC 9110 5.6.7): IMF-fixdate
// "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and asctime
// "Sun Nov  6 08:49:37 1994". nullopt for anything else (the caller ignores such a header).
std::optional<absl::Time> ParseHttpDate(std::string_view value);

// The Date header value for now; formatted at most once per second per thread.
const std::string& CurrentHttpDate();

// Headers after the fixed ones, in order: Last-Modified, Allow, Location, ...
using ExtraHeaders = std::vector<std::pair<std::string_view, std::string>>;

// What SerializeHead writes.
struct ResponseHead {
  int status = 200;
  int version_minor = 1;  // answer HTTP/1.1, or HTTP/1.0 to a 1.0 client
  std::string_view content_type;
  size_t content_length = 0;
  bool keep_alive = false;
  ExtraHeaders extra_headers;
};

// "HTTP/1.1 200 OK\r\nDate: ...\r\nServer: ...\r\nContent-Type: ...\r\nContent-Length: ...\r\n
//  Connection: keep-alive|close\r\n<extra headers>\r\n"
std::string SerializeHead(const ResponseHead& head);

// What a driver sends: the head, then `body` or part of `file`.
struct ResponsePlan {
  int status = 200;
  std::string head;  // status line + headers + blank line
  std::string body;  // an in-memory body of our own (error pages); empty for HEAD
  // Or a body from a file (never for HEAD): `file_size` bytes from `file_offset` -- the whole
  // file, or a 206's range -- out of a small file's cached bytes or by sendfile() from a large
  // one's descriptor (every driver passes the offset on). Shared with the file
  // cache, so the file stays open while it is sent even if the cache lets go of it.
  std::shared_ptr<const CachedFile> file;
  size_t file_offset = 0;
  size_t file_size = 0;
  bool close = false;  // close the connection after sending

  // What follows the head from memory: `body`, or the part of a small file to send. A driver
  // sends it with the head in one system call (SendAll of two pieces).
  std::string_view InMemoryBody() const;
  // The descriptor to sendfile() `file_size` bytes from, at `file_offset`; -1 when none.
  int SendfileFd() const;
};

// What a reply's shape depends on besides its status and body: the builders below take it, and
// Respond() derives it from the request and the connection.
struct ReplyOptions {
  int version_minor = 1;    // answer HTTP/1.1, or HTTP/1.0 to a 1.0 client
  bool keep_alive = false;  // "Connection: keep-alive"; false: close after sending
  bool head_only = false;   // HEAD: same headers, no body
};

// A small in-memory HTML page naming the status (error pages, the 301 page), with `explanation`
// as a paragraph below the title when there is one (plain text: it is not escaped). A 405 also
// gets "Allow: GET, HEAD".
ResponsePlan PageReply(int status, const ReplyOptions& reply, ExtraHeaders extra = {},
                       std::string_view explanation = {});

// `size` bytes of `file` from `offset` (the whole file, or a 206's range) as the body. For HEAD
// the plan does not hold the file: the caller must not be able to send it by mistake.
ResponsePlan FileReply(int status, std::shared_ptr<const CachedFile> file, size_t offset,
                       size_t size, const ReplyOptions& reply, std::string_view content_type,
                       ExtraHeaders extra = {});
// The same with a head built beforehand (a cached one).
ResponsePlan FileReply(int status, std::shared_ptr<const CachedFile> file, size_t offset,
                       size_t size, const ReplyOptions& reply, std::string head);

// 304: no body, and no Content-Type (a 304 only refreshes the client's cached copy, RFC 9110
// 15.4.5); Content-Length may stay, as the length a 200 would have had (RFC 9110 8.6).
ResponsePlan NotModifiedReply(size_t size, const ReplyOptions& reply, ExtraHeaders extra);

// An error response with a small HTML body and "Connection: close" (parse errors, 408, ...),
// explained as PageReply does.
ResponsePlan ErrorResponse(int status, int version_minor = 1, std::string_view explanation = {});

}  // namespace hs
