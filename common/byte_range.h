// The Range request header (RFC 9110 14.2) read against a representation of `size` bytes: which
// bytes to send, if not all of them. A pure function over text: unit-tested
// (tests/unit/byte_range_test.cc) and fuzzed (tests/fuzz/byte_range_fuzz.cc).
#pragma once

#include <cstdint>
#include <string_view>

namespace hs {

// Bytes [first, first + length) of the file; never empty when it comes from ParseRange.
struct ByteRange {
  uint64_t first = 0;
  uint64_t length = 0;
  uint64_t last() const { return first + length - 1; }  // as Content-Range writes it
};

struct RangeRequest {
  enum class Kind {
    kWhole,          // no usable Range (absent, another unit, or malformed): 200, the whole file
    kSingle,         // one range, within the file: 206 with `range`
    kMultiple,       // several ranges, at least one within the file: 200, the whole file
    kUnsatisfiable,  // no range touches the file: 416
  };
  Kind kind = Kind::kWhole;
  ByteRange range;  // kSingle: clipped to the file ("bytes=0-999" of 100 bytes is 0-99)
};

// `header` is the Range field's value: "bytes=0-99", "bytes=100-", "bytes=-500", or a list of
// such range-specs. The unit is case-insensitive; spaces around list elements and empty elements
// are tolerated (RFC 9110 5.6.1). A syntactically invalid header (a last-pos before its
// first-pos, a sign, no range at all ...) is kWhole: the RFC lets a server ignore Range, and
// nginx and Apache do the same. Numbers too large for 64 bits saturate instead of failing.
//
// Several ranges are answered with the whole file (kMultiple -> 200) rather than a
// multipart/byteranges body: the RFC allows it (a server MAY ignore Range), browsers and
// download tools ask for one range at a time, and many overlapping ranges were a classic
// denial of service ("Apache Killer", CVE-2011-3192). When none of them touches the file, the
// client learns it with a 416, as it would for one range.
RangeRequest ParseRange(std::string_view header, uint64_t size);

}  // namespace hs
