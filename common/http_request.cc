// HTTP/1.x request parser (see http_request.h for the interface).
//
// Accepted grammar (RFC 9112, with the usual robustness allowances):
//
//   request      = *( CRLF ) request-line *( header-line ) EOL [ body ]
//   request-line = method SP request-target SP "HTTP/" DIGIT "." DIGIT EOL
//   header-line  = field-name ":" OWS field-value OWS EOL
//   EOL          = CRLF / LF            ; a bare LF is accepted, a bare CR is not
//   method       = 1*tchar              ; field-name likewise
//   request-target = 1*( %x21-7E )      ; visible ASCII, no spaces or controls
//   field-value  = *( HTAB / SP / %x21-7E / %x80-FF )
//   body         = Content-Length bytes
//
// Errors (answered by the server before it closes the connection):
//   400  anything malformed: bad characters, missing or doubled spaces, bare CR, header line
//        without a colon or with whitespace before it, obsolete line folding, empty header name,
//        invalid or conflicting Content-Length, duplicate Host, malformed version string
//   413  Content-Length above max_body_bytes (seen once the head is complete)
//   414  the request line alone does not fit in max_head_bytes
//   431  the head (request line through the blank line) exceeds max_head_bytes, or has more
//        than max_headers header lines
//   501  any Transfer-Encoding (request bodies must use Content-Length)
//   505  a well-formed version other than HTTP/1.0 and HTTP/1.1
//
// Sizes are counted from the start of the buffer, so skipped leading empty lines count towards
// max_head_bytes; otherwise an endless stream of CRLFs would never be rejected.
//
// The caller re-parses from the start after every recv(). That costs one linear pass over at
// most max_head_bytes per call, which is cheap next to the syscall and keeps the parser stateless.
// Only the first max_head_bytes of the buffer are ever scanned for the head: if the head has not
// ended there, it is too large, whatever follows.
#include "common/http_request.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace hs {
namespace {

// Results of the internal steps: kOk, kNeedMore, or an HTTP error status (> 0).
constexpr int kOk = 0;
constexpr int kNeedMore = -1;

constexpr int kBadRequest = 400;
constexpr int kPayloadTooLarge = 413;
constexpr int kUriTooLong = 414;
constexpr int kHeadersTooLarge = 431;
constexpr int kNotImplemented = 501;
constexpr int kVersionNotSupported = 505;

using CharTable = std::array<bool, 256>;

template <typename Pred>
constexpr CharTable MakeTable(Pred pred) {
  CharTable table{};
  for (int c = 0; c < 256; ++c) table[c] = pred(static_cast<unsigned char>(c));
  return table;
}

constexpr bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }

// Lookup tables keep the hot loops to one load and one branch per byte.
// tchar (RFC 9110 5.6.2): methods and header names.
constexpr CharTable kTokenChar = MakeTable([](unsigned char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
});
// Request-target: visible ASCII only; spaces separate the request-line parts.
constexpr CharTable kTargetChar = MakeTable([](unsigned char c) { return c > 0x20 && c < 0x7f; });
// field-value (RFC 9110 5.5): HTAB, SP, VCHAR and obs-text; no other control characters.
constexpr CharTable kValueChar =
    MakeTable([](unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); });

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Debian's Abseil is built with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0),
// so absl::EqualsIgnoreCase and absl::StrSplit do not take std::string_view; these two small
// helpers do the same without conversions.
constexpr char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// Calls fn(element) for each element of a comma-separated list (RFC 9110 5.6.1), with the
// surrounding whitespace removed; stops and returns false as soon as fn returns false.
template <typename Fn>
bool ForEachListElement(std::string_view list, Fn fn) {
  while (true) {
    const size_t comma = list.find(',');
    if (!fn(TrimOws(list.substr(0, comma)))) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

// Content-Length is 1*DIGIT; RFC 9110 8.6 lets a recipient accept a list of identical values
// ("42, 42"), which some proxies produce when merging duplicate headers.
bool ParseContentLength(std::string_view value, uint64_t* out) {
  bool have_value = false;
  uint64_t result = 0;
  const bool ok = ForEachListElement(value, [&](std::string_view element) {
    if (element.empty()) return false;
    uint64_t n = 0;
    for (char c : element) {
      if (!IsDigit(static_cast<unsigned char>(c))) return false;
      const uint64_t digit = static_cast<uint64_t>(c - '0');
      if (n > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;  // overflow
      n = n * 10 + digit;
    }
    if (have_value && n != result) return false;
    result = n;
    have_value = true;
    return true;
  });
  if (ok) *out = result;
  return ok;
}

// Parses the head (request line, headers, blank line) found in `head`, filling `request`.
class HeadParser {
 public:
  HeadParser(std::string_view head, size_t max_headers, HttpRequest& request)
      : head_(head), max_headers_(max_headers), request_(request) {}

  // kOk once the blank line ending the head has been read, else kNeedMore or an error status.
  int Parse() {
    int status = SkipEmptyLines();
    if (status == kOk) status = ParseRequestLine();
    if (status != kOk) return status;
    request_line_done_ = true;
    // An unsupported version is reported right away: nothing in the headers can rescue it.
    if (version_major_ != 1 || version_minor_ > 1) return kVersionNotSupported;
    request_.version_minor = version_minor_;  // only ever 0 or 1, even in error paths
    while (true) {
      if (pos_ == head_.size()) return kNeedMore;
      const char c = head_[pos_];
      if (c == '\r' || c == '\n') break;  // the blank line that ends the head
      if (request_.header_count == max_headers_) return kHeadersTooLarge;
      status = ParseHeaderLine();
      if (status != kOk) return status;
    }
    status = ConsumeLineEnd();
    if (status != kOk) return status;
    head_size_ = pos_;
    request_.keep_alive = request_.version_minor >= 1
                              ? !connection_close_
                              : connection_keep_alive_ && !connection_close_;
    return kOk;
  }

  bool request_line_done() const { return request_line_done_; }
  bool has_transfer_encoding() const { return has_transfer_encoding_; }
  size_t head_size() const { return head_size_; }

 private:
  // Advances pos_ over the bytes in `table`.
  void Skip(const CharTable& table) {
    while (pos_ < head_.size() && table[static_cast<unsigned char>(head_[pos_])]) ++pos_;
  }

  // Expects CRLF or LF at pos_. A CR followed by anything else is a bare CR: 400.
  int ConsumeLineEnd() {
    if (pos_ == head_.size()) return kNeedMore;
    if (head_[pos_] == '\n') {
      ++pos_;
      return kOk;
    }
    if (head_[pos_] != '\r') return kBadRequest;
    if (pos_ + 1 == head_.size()) return kNeedMore;
    if (head_[pos_ + 1] != '\n') return kBadRequest;
    pos_ += 2;
    return kOk;
  }

  // RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line
  // (clients sometimes send a stray CRLF after a body).
  int SkipEmptyLines() {
    while (pos_ < head_.size() && (head_[pos_] == '\r' || head_[pos_] == '\n')) {
      const int status = ConsumeLineEnd();
      if (status != kOk) return status;
    }
    return kOk;
  }

  int ParseRequestLine() {
    size_t start = pos_;
    Skip(kTokenChar);
    if (pos_ == head_.size()) return kNeedMore;
    // Any byte other than the single SP ends the method too early: a control character, a
    // second separator, or the end of a line that has no spaces at all ("GARBAGE\r\n").
    if (head_[pos_] != ' ' || pos_ == start) return kBadRequest;
    request_.method = head_.substr(start, pos_ - start);
    ++pos_;

    start = pos_;
    Skip(kTargetChar);
    if (pos_ == head_.size()) return kNeedMore;
    if (head_[pos_] != ' ' || pos_ == start) return kBadRequest;
    request_.target = head_.substr(start, pos_ - start);
    ++pos_;

    return ParseVersion();
  }

  // "HTTP/" DIGIT "." DIGIT, checked byte by byte so that a wrong prefix fails immediately.
  int ParseVersion() {
    static constexpr std::string_view kPattern = "HTTP/d.d";  // 'd' stands for a digit
    for (size_t i = 0; i < kPattern.size(); ++i) {
      if (pos_ + i == head_.size()) return kNeedMore;
      const char c = head_[pos_ + i];
      const bool ok =
          kPattern[i] == 'd' ? IsDigit(static_cast<unsigned char>(c)) : c == kPattern[i];
      if (!ok) return kBadRequest;
    }
    version_major_ = head_[pos_ + 5] - '0';
    version_minor_ = head_[pos_ + 7] - '0';
    pos_ += kPattern.size();
    return ConsumeLineEnd();  // anything else after the version, even a space, is malformed
  }

  int ParseHeaderLine() {
    const size_t name_start = pos_;
    Skip(kTokenChar);
    if (pos_ == head_.size()) return kNeedMore;
    // Covers a line without a colon, whitespace before the colon (RFC 9112 5.1 requires 400),
    // obsolete line folding (the line starts with SP/HTAB, so the name is empty) and bad bytes.
    if (head_[pos_] != ':' || pos_ == name_start) return kBadRequest;
    const std::string_view name = head_.substr(name_start, pos_ - name_start);
    ++pos_;

    const size_t value_start = pos_;
    Skip(kValueChar);
    if (pos_ == head_.size()) return kNeedMore;
    const size_t value_end = pos_;
    // Stops at the line end; a control character in the value is not one, hence 400.
    const int status = ConsumeLineEnd();
    if (status != kOk) return status;

    const std::string_view value = TrimOws(head_.substr(value_start, value_end - value_start));
    request_.headers[request_.header_count++] = HttpHeader{name, value};
    return OnHeader(name, value);
  }

  // Headers that affect framing or connection handling.
  int OnHeader(std::string_view name, std::string_view value) {
    if (EqualsIgnoreCase(name, "content-length")) {
      uint64_t length = 0;
      if (!ParseContentLength(value, &length)) return kBadRequest;
      // Conflicting lengths are the classic request-smuggling vector (RFC 9112 6.3).
      if (has_content_length_ && length != content_length_) return kBadRequest;
      has_content_length_ = true;
      content_length_ = length;
      // Clamped so that a 32-bit size_t cannot wrap; anything this large fails the 413 check.
      request_.content_length =
          static_cast<size_t>(std::min<uint64_t>(length, std::numeric_limits<size_t>::max()));
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      // Answered with 501 once the head is complete: the head itself is fine, we just do not
      // implement chunked request bodies.
      has_transfer_encoding_ = true;
    } else if (EqualsIgnoreCase(name, "host")) {
      // Two are ambiguous (RFC 9112 3.2). A missing one is grammatical: the conversation
      // refuses an HTTP/1.1 request without it, with a page that says why.
      if (has_host_) return kBadRequest;
      has_host_ = true;
      request_.has_host = true;
    } else if (EqualsIgnoreCase(name, "connection")) {
      ForEachListElement(value, [this](std::string_view token) {
        if (EqualsIgnoreCase(token, "close")) connection_close_ = true;
        if (EqualsIgnoreCase(token, "keep-alive")) connection_keep_alive_ = true;
        return true;
      });
    }
    return kOk;
  }

  const std::string_view head_;
  const size_t max_headers_;
  HttpRequest& request_;
  size_t pos_ = 0;
  size_t head_size_ = 0;
  int version_major_ = 1;
  int version_minor_ = 1;
  bool request_line_done_ = false;
  bool has_content_length_ = false;
  uint64_t content_length_ = 0;
  bool has_transfer_encoding_ = false;
  bool has_host_ = false;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
};

}  // namespace

std::optional<std::string_view> HttpRequest::Header(std::string_view name) const {
  for (size_t i = 0; i < header_count; ++i) {
    if (EqualsIgnoreCase(headers[i].name, name)) return headers[i].value;
  }
  return std::nullopt;
}

ParseResult ParseRequest(std::string_view buffer, const ParserLimits& limits) {
  ParseResult result;  // kNeedMore until proven otherwise
  const size_t window = std::min(buffer.size(), limits.max_head_bytes);
  const size_t max_headers = std::min(limits.max_headers, result.request.headers.size());
  HeadParser parser(buffer.substr(0, window), max_headers, result.request);
  int status = parser.Parse();
  if (status == kNeedMore) {
    if (buffer.size() < limits.max_head_bytes) return result;
    // The whole window has been seen without the end of the head, so the head (or already the
    // request line) will be longer than allowed: say so now instead of buffering forever.
    status = parser.request_line_done() ? kHeadersTooLarge : kUriTooLong;
  }
  if (status == kOk && parser.has_transfer_encoding()) status = kNotImplemented;
  if (status == kOk && result.request.content_length > limits.max_body_bytes) {
    status = kPayloadTooLarge;
  }
  if (status != kOk) {
    result.kind = ParseResult::Kind::kError;
    result.error_status = status;
    return result;
  }
  result.head_size = parser.head_size();
  if (buffer.size() - result.head_size < result.request.content_length)
    return result;  // body pending
  result.kind = ParseResult::Kind::kComplete;
  result.consumed = result.head_size + result.request.content_length;
  return result;
}

}  // namespace hs
