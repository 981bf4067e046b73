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
//   - Parsing is a pure function of the bytes: the same buffer gives the same result, and a
//     prefix agrees with the full buffer (the server re-parses after each recv()): a prefix
//     shorter than `consumed` needs more, the prefix of exactly `consumed` bytes is the same
//     complete request, and an error, once reported for a prefix, stays the same error. These
//     re-parses are checked under one of the sets of limits per input (picked by its bytes) and
//     at a bounded number of split points (see ForSomePrefixes), not at every one.
//   - Pipelined requests: the bytes after `consumed` are parsed in turn the same way.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
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

// Prefix lengths to re-parse: the server re-parses all it has received after every recv(), and
// a recv() may end anywhere. Re-parsing every prefix costs O(size^2) per input (the parser scans
// each prefix from the start), which held this target to ~2,000 inputs a second; a bounded set
// of split points keeps each input linear:
//   - the edges: 0, 1, and end - 1 and end, where `end` is `consumed` for a complete request
//     (the last byte missing, and exactly the request), else the size;
//   - at the first kLineEnds line feeds before `end`: just before the LF (between CR and LF) and
//     just after it, where an incremental parser most often goes wrong;
//   - kRandomSplits lengths below `end` from a generator seeded with the bytes themselves (the
//     standard library's hash has no random seed): the same for a saved crashing input,
//     different for every mutation, so across a run's millions of inputs every split is tried.
template <typename Fn>
void ForSomePrefixes(std::string_view buffer, size_t consumed, Fn fn) {
  constexpr int kLineEnds = 3;
  constexpr int kRandomSplits = 4;
  const size_t size = buffer.size();
  const size_t end = consumed > 0 ? consumed : size;
  auto split = [&](size_t n) {
    if (n <= end && n < size) fn(n);  // also skips a "- 1" that wrapped around
  };
  for (const size_t n : {size_t{0}, size_t{1}, end - 1, end}) split(n);
  size_t from = 0;
  for (int i = 0; i < kLineEnds; ++i) {
    const size_t lf = buffer.find('\n', from);
    if (lf == std::string_view::npos || lf >= end) break;
    for (const size_t n : {lf, lf + 1}) split(n);
    from = lf + 1;
  }
  uint64_t state = std::hash<std::string_view>{}(buffer);
  for (int i = 0; i < kRandomSplits && end > 0; ++i) {
    state = state * 6364136223846793005u + 1442695040888963407u;  // Knuth's MMIX generator
    split((state >> 33) % end);
  }
}

// Checks one request at the start of `buffer`, and its prefixes when `prefixes`; returns its
// result.
ParseResult CheckOne(std::string_view buffer, const ParserLimits& limits, bool prefixes) {
  const ParseResult r = ParseRequest(buffer, limits);
  if (r.complete()) CheckComplete(buffer, limits, r);
  if (r.error()) CheckError(buffer, limits, r);
  if (r.need_more() && buffer.size() >= limits.max_head_bytes) {
    // Only a body still on its way can make a full window "need more": the head has ended.
    FUZZ_CHECK(r.request.content_length > 0);
  }

  if (!prefixes) return r;
  FUZZ_CHECK(SameResult(r, ParseRequest(buffer, limits)));
  ForSomePrefixes(buffer, r.complete() ? r.consumed : 0, [&](size_t n) {
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
  // The prefixes are re-parsed under one set of limits per input, picked by the bytes: the limits
  // only move the 413/414/431 thresholds, and across a run every set gets its share.
  const size_t prefix_limits = std::hash<std::string_view>{}(input) % std::size(kLimits);
  for (size_t l = 0; l < std::size(kLimits); ++l) {
    std::string_view rest = input;
    // Pipelined requests, as the connection loop would consume them.
    for (int i = 0; i < 32; ++i) {
      const ParseResult r = CheckOne(rest, kLimits[l], l == prefix_limits);
      if (!r.complete() || r.consumed == 0) break;
      rest.remove_prefix(r.consumed);
    }
  }
  return 0;
}
