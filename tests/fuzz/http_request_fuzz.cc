// libFuzzer target for hs::ParseRequest: the bytes are what a client sent so far.
//
// Every input is parsed under three sets of limits (the defaults, tiny ones that make the 413,
// 414 and 431 paths reachable with short inputs, and a max_headers above the array size), and
// the result is checked against properties the server relies on:
//
//   - kComplete: head_size = consumed - content_length lies in [1, max_head_bytes] and ends with
//     an empty line; consumed <= size; content_length <= max_body_bytes; method, target and every
//     header name and value are views inside the head with the characters the grammar allows;
//     version_minor is 0 or 1; header_count <= min(max_headers, 100); keep_alive follows the
//     version when there is no Connection header.
//   - kError: the status is one of 400, 413, 414, 431, 501, 505; 413 only for a Content-Length
//     above the limit; 414 only once max_head_bytes bytes have arrived.
//   - kNeedMore below max_head_bytes bytes is always possible; at or above it only while a body
//     is pending.
//   - Parsing is a pure function of the bytes: the same buffer gives the same result, and every
//     prefix agrees with the full buffer (the server re-parses after each recv()): a prefix
//     shorter than `consumed` needs more, the prefix of exactly `consumed` bytes is the same
//     complete request, and an error, once reported for a prefix, stays the same error.
//   - Pipelined requests: the bytes after `consumed` are parsed in turn the same way.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/http_request.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using hs::ParseRequest;
using hs::ParseResult;
using hs::ParserLimits;

bool Inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (const unsigned char c : s) {
    const bool ok =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool IsTarget(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

bool IsFieldValue(std::string_view s) {
  if (!s.empty() && (s.front() == ' ' || s.front() == '\t')) return false;
  if (!s.empty() && (s.back() == ' ' || s.back() == '\t')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); });
}

bool SameResult(const ParseResult& a, const ParseResult& b) {
  if (a.kind != b.kind) return false;
  if (a.error()) return a.error_status == b.error_status;
  if (a.need_more()) return true;
  const hs::HttpRequest& x = a.request;
  const hs::HttpRequest& y = b.request;
  if (a.consumed != b.consumed || x.method != y.method || x.target != y.target ||
      x.version_minor != y.version_minor || x.header_count != y.header_count ||
      x.content_length != y.content_length || x.keep_alive != y.keep_alive) {
    return false;
  }
  for (size_t i = 0; i < x.header_count; ++i) {
    if (x.headers[i].name != y.headers[i].name || x.headers[i].value != y.headers[i].value) {
      return false;
    }
  }
  return true;
}

void CheckComplete(std::string_view buffer, const ParserLimits& limits, const ParseResult& r) {
  const hs::HttpRequest& request = r.request;
  FUZZ_CHECK(r.consumed <= buffer.size());
  FUZZ_CHECK(request.content_length <= limits.max_body_bytes);
  FUZZ_CHECK(request.content_length <= r.consumed);
  const size_t head_size = r.consumed - request.content_length;
  FUZZ_CHECK(head_size >= 1 && head_size <= limits.max_head_bytes);
  const std::string_view head = buffer.substr(0, head_size);
  // The head ends with an empty line: LF LF, or LF CR LF.
  FUZZ_CHECK(head.size() >= 2 && head.back() == '\n');
  const std::string_view before = head.substr(0, head.size() - 1);
  FUZZ_CHECK(before.ends_with('\n') || before.ends_with("\n\r"));

  FUZZ_CHECK(Inside(request.method, head) && IsToken(request.method));
  FUZZ_CHECK(Inside(request.target, head) && IsTarget(request.target));
  FUZZ_CHECK(request.method.data() + request.method.size() < request.target.data());
  FUZZ_CHECK(request.version_minor == 0 || request.version_minor == 1);
  FUZZ_CHECK(request.header_count <= std::min(limits.max_headers, request.headers.size()));
  for (size_t i = 0; i < request.header_count; ++i) {
    const hs::HttpHeader& header = request.headers[i];
    FUZZ_CHECK(Inside(header.name, head) && IsToken(header.name));
    FUZZ_CHECK(Inside(header.value, head) && IsFieldValue(header.value));
    FUZZ_CHECK(header.name.data() > request.target.data());
  }
  if (request.content_length > 0) FUZZ_CHECK(request.Header("Content-Length").has_value());
  if (!request.Header("connection").has_value()) {
    FUZZ_CHECK(request.keep_alive == (request.version_minor == 1));
  }
}

void CheckError(std::string_view buffer, const ParserLimits& limits, const ParseResult& r) {
  switch (r.error_status) {
    case 400:
    case 431:
    case 501:
    case 505:
      break;
    case 413:
      FUZZ_CHECK(r.request.content_length > limits.max_body_bytes);
      break;
    case 414:
      FUZZ_CHECK(buffer.size() >= limits.max_head_bytes);
      break;
    default:
      FUZZ_CHECK(false && "unexpected error status");
  }
}

// Prefix lengths to re-parse: all of them for short inputs; for long ones the first 64, the
// last 64 and a stride through the middle, plus the boundaries around `consumed`.
template <typename Fn>
void ForSomePrefixes(size_t size, size_t consumed, Fn fn) {
  constexpr size_t kEdge = 64;
  if (size <= 4 * kEdge) {
    for (size_t n = 0; n < size; ++n) fn(n);
    return;
  }
  for (size_t n = 0; n < kEdge; ++n) fn(n);
  const size_t stride = std::max<size_t>(1, (size - 2 * kEdge) / 64);
  for (size_t n = kEdge; n < size - kEdge; n += stride) fn(n);
  for (size_t n = size - kEdge; n < size; ++n) fn(n);
  for (size_t n : {consumed - 1, consumed, consumed + 1}) {
    if (consumed > 0 && n < size) fn(n);
  }
}

// Checks one request at the start of `buffer`; returns its result.
ParseResult CheckOne(std::string_view buffer, const ParserLimits& limits) {
  const ParseResult r = ParseRequest(buffer, limits);
  FUZZ_CHECK(SameResult(r, ParseRequest(buffer, limits)));
  if (r.complete()) CheckComplete(buffer, limits, r);
  if (r.error()) CheckError(buffer, limits, r);
  if (r.need_more() && buffer.size() >= limits.max_head_bytes) {
    // Only a body still on its way can make a full window "need more": the head has ended.
    FUZZ_CHECK(r.request.content_length > 0);
  }

  ForSomePrefixes(buffer.size(), r.complete() ? r.consumed : 0, [&](size_t n) {
    const ParseResult p = ParseRequest(buffer.substr(0, n), limits);
    if (r.complete()) {
      if (n < r.consumed) FUZZ_CHECK(p.need_more());
      if (n >= r.consumed) FUZZ_CHECK(SameResult(p, r));
    } else if (r.need_more()) {
      FUZZ_CHECK(p.need_more());
    } else {
      FUZZ_CHECK(p.need_more() || SameResult(p, r));
    }
  });
  return r;
}

const ParserLimits kLimits[] = {
    {},
    {.max_head_bytes = 64, .max_headers = 3, .max_body_bytes = 8},
    {.max_head_bytes = 64 * 1024, .max_headers = 1000, .max_body_bytes = 1 << 20},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const ParserLimits& limits : kLimits) {
    std::string_view rest = input;
    // Pipelined requests, as the connection loop would consume them.
    for (int i = 0; i < 32; ++i) {
      const ParseResult r = CheckOne(rest, limits);
      if (!r.complete() || r.consumed == 0) break;
      rest.remove_prefix(r.consumed);
    }
  }
  return 0;
}
