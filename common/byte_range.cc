// Range header parsing (see byte_range.h). The grammar, RFC 9110 14.1.1 and 14.2:
//
//   Range        = ranges-specifier
//   ranges-specifier = range-unit "=" range-set        ; range-unit is "bytes", any case
//   range-set    = 1#range-spec                        ; comma-separated, OWS around commas
//   range-spec   = int-range / suffix-range
//   int-range    = first-pos "-" [ last-pos ]          ; last-pos >= first-pos, else invalid
//   suffix-range = "-" suffix-length                   ; the last suffix-length bytes
//
// Satisfiable (14.1.3): an int-range whose first-pos is below the size, or a suffix-range with a
// non-zero suffix-length on a non-empty file. So every range of an empty file is unsatisfiable.
#include "common/byte_range.h"

#include <algorithm>
#include <limits>
#include <optional>

namespace hs {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// 1*DIGIT, saturating at kMax; nullopt when `digits` is empty or holds anything else.
std::optional<uint64_t> ParseNumber(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  uint64_t n = 0;
  for (const char c : digits) {
    if (!IsDigit(c)) return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    n = n > (kMax - digit) / 10 ? kMax : n * 10 + digit;
  }
  return n;
}

struct Spec {
  bool valid = false;
  bool satisfiable = false;
  ByteRange range;  // when satisfiable, clipped to the file
};

// One range-spec (already trimmed, not empty).
Spec ParseSpec(std::string_view spec, uint64_t size) {
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return {};
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);
  if (first_text.empty()) {  // suffix-range
    const std::optional<uint64_t> suffix = ParseNumber(last_text);
    if (!suffix) return {};
    if (*suffix == 0 || size == 0) return {.valid = true};
    const uint64_t length = std::min(*suffix, size);
    return {.valid = true, .satisfiable = true, .range = {size - length, length}};
  }
  const std::optional<uint64_t> first = ParseNumber(first_text);
  if (!first) return {};
  uint64_t last = kMax;  // "first-": to the end
  if (!last_text.empty()) {
    const std::optional<uint64_t> parsed = ParseNumber(last_text);
    if (!parsed || *parsed < *first) return {};
    last = *parsed;
  }
  if (*first >= size) return {.valid = true};
  last = std::min(last, size - 1);
  return {.valid = true, .satisfiable = true, .range = {*first, last - *first + 1}};
}

bool IsBytesUnit(std::string_view unit) {
  static constexpr std::string_view kBytes = "bytes";
  if (unit.size() != kBytes.size()) return false;
  for (size_t i = 0; i < unit.size(); ++i) {
    const char c = unit[i] >= 'A' && unit[i] <= 'Z' ? static_cast<char>(unit[i] + 32) : unit[i];
    if (c != kBytes[i]) return false;
  }
  return true;
}

}  // namespace

RangeRequest ParseRange(std::string_view header, uint64_t size) {
  const size_t equals = header.find('=');
  if (equals == std::string_view::npos || !IsBytesUnit(header.substr(0, equals))) return {};
  std::string_view set = header.substr(equals + 1);
  size_t specs = 0;
  size_t satisfiable = 0;
  ByteRange first_satisfiable;
  while (true) {
    const size_t comma = set.find(',');
    const std::string_view element = TrimOws(set.substr(0, comma));
    if (!element.empty()) {
      const Spec spec = ParseSpec(element, size);
      if (!spec.valid) return {};
      ++specs;
      if (spec.satisfiable && satisfiable++ == 0) first_satisfiable = spec.range;
    }
    if (comma == std::string_view::npos) break;
    set.remove_prefix(comma + 1);
  }
  if (specs == 0) return {};  // "bytes=" or "bytes=,": 1#range-spec needs one
  if (satisfiable == 0) return {.kind = RangeRequest::Kind::kUnsatisfiable};
  if (specs > 1) return {.kind = RangeRequest::Kind::kMultiple};
  return {.kind = RangeRequest::Kind::kSingle, .range = first_satisfiable};
}

}  // namespace hs
