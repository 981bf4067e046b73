// libFuzzer target for the Range header parser (common/byte_range.cc) and the decision built on
// it (common/file_decision.cc). The first byte chooses the file's size: below 0x80 it is the
// size (so an ASCII seed "dbytes=0-99" asks about a 100-byte file); otherwise the next 8 bytes,
// little-endian, are (sizes up to 2^64 - 1). The rest is the Range header's value.
//
// Properties:
//   - ParseRange is deterministic and agrees with a small independent model of RFC 9110 14
//     (split on '=' and ',', digits only, saturating numbers, clipping, at most one range);
//   - a kSingle range is non-empty, starts inside the file and ends inside it (no overflow), and
//     "bytes=<first>-<last>" parses back to the same range; other kinds carry no range;
//   - DecideFileResponse with that Range answers 206 exactly for kSingle (with its range), 416
//     for kUnsatisfiable, else 200 with the whole file; an If-Range naming another version
//     always gives 200 with the whole file.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_range.h"
#include "common/file_decision.h"
#include "common/http_request.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using Kind = hs::RangeRequest::Kind;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// ---------------------------------------------------------------------------------------------
// The model, written plainly with std::string.

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

bool AllDigits(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

uint64_t Saturating(const std::string& digits) {
  unsigned __int128 n = 0;
  for (char c : digits) {
    n = n * 10 + static_cast<unsigned>(c - '0');
    if (n > kMax) return kMax;
  }
  return static_cast<uint64_t>(n);
}

hs::RangeRequest Model(const std::string& header, uint64_t size) {
  const size_t eq = header.find('=');
  if (eq == std::string::npos) return {};
  std::string unit = header.substr(0, eq);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit != "bytes") return {};
  std::vector<std::string> elements;
  std::string rest = header.substr(eq + 1);
  for (size_t comma; (comma = rest.find(',')) != std::string::npos; rest.erase(0, comma + 1)) {
    elements.push_back(Trim(rest.substr(0, comma)));
  }
  elements.push_back(Trim(rest));
  int specs = 0, satisfiable = 0;
  hs::ByteRange first_fit;
  for (const std::string& e : elements) {
    if (e.empty()) continue;
    if (std::count(e.begin(), e.end(), '-') != 1) return {};
    const std::string a = e.substr(0, e.find('-')), b = e.substr(e.find('-') + 1);
    if (!AllDigits(a) || !AllDigits(b) || (a.empty() && b.empty())) return {};
    ++specs;
    hs::ByteRange r;
    bool fits = false;
    if (a.empty()) {
      const uint64_t suffix = Saturating(b);
      fits = suffix > 0 && size > 0;
      if (fits) r = {size - std::min(suffix, size), std::min(suffix, size)};
    } else {
      const uint64_t first = Saturating(a);
      const uint64_t last = b.empty() ? kMax : Saturating(b);
      if (last < first) return {};
      fits = first < size;
      if (fits) r = {first, std::min(last, size - 1) - first + 1};
    }
    if (fits && satisfiable++ == 0) first_fit = r;
  }
  if (specs == 0) return {};
  if (satisfiable == 0) return {.kind = Kind::kUnsatisfiable};
  if (specs > 1) return {.kind = Kind::kMultiple};
  return {.kind = Kind::kSingle, .range = first_fit};
}

bool Same(const hs::RangeRequest& a, const hs::RangeRequest& b) {
  return a.kind == b.kind && a.range.first == b.range.first && a.range.length == b.range.length;
}

hs::FileDecision Decide(std::string_view range, std::string_view if_range, uint64_t size) {
  hs::HttpRequest request;
  request.method = "GET";
  request.target = "/f";
  request.headers[request.header_count++] = {"Range", range};
  if (!if_range.empty()) request.headers[request.header_count++] = {"If-Range", if_range};
  hs::FileFacts facts;
  facts.size = static_cast<size_t>(size);
  facts.mtime = 1577836800;
  facts.etag = hs::EntityTag(facts.mtime, facts.size);
  facts.content_type = "application/octet-stream";
  return hs::DecideFileResponse(request, facts, absl::FromUnixSeconds(1700000000));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint64_t file_size = data[0];
  size_t used = 1;
  if (data[0] >= 0x80) {
    if (size < 9) return 0;
    std::memcpy(&file_size, data + 1, sizeof(file_size));
    used = 9;
  }
  const std::string header(reinterpret_cast<const char*>(data) + used, size - used);

  const hs::RangeRequest r = hs::ParseRange(header, file_size);
  FUZZ_CHECK(Same(r, hs::ParseRange(header, file_size)));
  FUZZ_CHECK(Same(r, Model(header, file_size)));
  if (r.kind == Kind::kSingle) {
    FUZZ_CHECK(r.range.length > 0);
    FUZZ_CHECK(r.range.first < file_size);
    FUZZ_CHECK(r.range.length <= file_size - r.range.first);
    FUZZ_CHECK(r.range.last() < file_size);
    const std::string again =
        "bytes=" + std::to_string(r.range.first) + "-" + std::to_string(r.range.last());
    FUZZ_CHECK(Same(r, hs::ParseRange(again, file_size)));
  } else {
    FUZZ_CHECK(r.range.first == 0 && r.range.length == 0);
  }

  // The decision only on sizes a size_t holds (always, on the 64-bit machines we build for).
  const hs::FileDecision d = Decide(header, "", file_size);
  switch (r.kind) {
    case Kind::kSingle:
      FUZZ_CHECK(d.status == 206 && d.range.first == r.range.first &&
                 d.range.length == r.range.length);
      break;
    case Kind::kUnsatisfiable:
      FUZZ_CHECK(d.status == 416);
      break;
    case Kind::kWhole:
    case Kind::kMultiple:
      FUZZ_CHECK(d.status == 200 && d.range.first == 0 && d.range.length == file_size);
      break;
  }
  const hs::FileDecision stale = Decide(header, "\"another-version\"", file_size);
  FUZZ_CHECK(stale.status == 200 && stale.range.first == 0 && stale.range.length == file_size);
  return 0;
}
