// Response serialisation: status line and headers as one string, ready for SendAll().
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"

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

struct ResponseHead {
  int status = 200;
  int version_minor = 1;  // answer HTTP/1.1, or HTTP/1.0 to a 1.0 client
  std::string_view content_type;
  size_t content_length = 0;
  bool keep_alive = false;
  std::vector<std::pair<std::string_view, std::string>> extra_headers;  // Last-Modified, Allow, ...
};

// "HTTP/1.1 200 OK\r\nDate: ...\r\nServer: ...\r\nContent-Type: ...\r\nContent-Length: ...\r\n
//  Connection: keep-alive|close\r\n<extra headers>\r\n"
std::string SerializeHead(const ResponseHead& head);

}  // namespace hs
