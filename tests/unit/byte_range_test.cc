// Tests for the Range header parser (RFC 9110 14): the three forms of a single range, clipping,
// unsatisfiable ranges, several ranges, and the malformed headers that must be ignored.
#include "common/byte_range.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace hs {
namespace {

using Kind = RangeRequest::Kind;

// kSingle [first, last] of a file of `size` bytes, or a failure naming what came instead.
::testing::AssertionResult IsSingle(std::string_view header, uint64_t size, uint64_t first,
                                    uint64_t last) {
  const RangeRequest r = ParseRange(header, size);
  if (r.kind != Kind::kSingle) {
    return ::testing::AssertionFailure() << header << ": kind " << static_cast<int>(r.kind);
  }
  if (r.range.first != first || r.range.last() != last || r.range.length != last - first + 1) {
    return ::testing::AssertionFailure() << header << ": got " << r.range.first << "-"
                                         << r.range.last() << " length " << r.range.length;
  }
  return ::testing::AssertionSuccess();
}

Kind KindOf(std::string_view header, uint64_t size = 1000) { return ParseRange(header, size).kind; }

TEST(ByteRangeTest, TheThreeForms) {
  EXPECT_TRUE(IsSingle("bytes=0-99", 1000, 0, 99));
  EXPECT_TRUE(IsSingle("bytes=100-", 1000, 100, 999));
  EXPECT_TRUE(IsSingle("bytes=-500", 1000, 500, 999));
  EXPECT_TRUE(IsSingle("bytes=999-999", 1000, 999, 999));
  EXPECT_TRUE(IsSingle("bytes=0-0", 1, 0, 0));
}

TEST(ByteRangeTest, RangesAreClippedToTheFile) {
  EXPECT_TRUE(IsSingle("bytes=0-99", 50, 0, 49));
  EXPECT_TRUE(IsSingle("bytes=-500", 100, 0, 99));  // more than there is: all of it
  EXPECT_TRUE(IsSingle("bytes=10-18446744073709551615", 100, 10, 99));
  // Too large for 64 bits: saturates instead of being refused.
  EXPECT_TRUE(IsSingle("bytes=10-99999999999999999999999", 100, 10, 99));
  EXPECT_TRUE(IsSingle("bytes=-99999999999999999999999", 100, 0, 99));
}

TEST(ByteRangeTest, UnitIsCaseInsensitiveAndListSpacingTolerated) {
  EXPECT_TRUE(IsSingle("Bytes=0-9", 100, 0, 9));
  EXPECT_TRUE(IsSingle("BYTES=0-9", 100, 0, 9));
  EXPECT_TRUE(IsSingle("bytes= 0-9 ", 100, 0, 9));
  EXPECT_TRUE(IsSingle("bytes=,0-9,", 100, 0, 9));  // empty list elements (RFC 9110 5.6.1)
}

TEST(ByteRangeTest, Unsatisfiable) {
  EXPECT_EQ(KindOf("bytes=1000-", 1000), Kind::kUnsatisfiable);
  EXPECT_EQ(KindOf("bytes=1000-2000", 1000), Kind::kUnsatisfiable);
  EXPECT_EQ(KindOf("bytes=-0", 1000), Kind::kUnsatisfiable);
  EXPECT_EQ(KindOf("bytes=99999999999999999999-", 1000), Kind::kUnsatisfiable);
  // An empty file has no byte to send, whatever is asked.
  EXPECT_EQ(KindOf("bytes=0-", 0), Kind::kUnsatisfiable);
  EXPECT_EQ(KindOf("bytes=0-0", 0), Kind::kUnsatisfiable);
  EXPECT_EQ(KindOf("bytes=-5", 0), Kind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=1000-", 1000).range.length, 0u);
}

TEST(ByteRangeTest, SeveralRangesMeanTheWholeFileUnlessNoneFits) {
  EXPECT_EQ(KindOf("bytes=0-9,20-29"), Kind::kMultiple);
  EXPECT_EQ(KindOf("bytes=0-9, 5-15"), Kind::kMultiple);
  EXPECT_EQ(KindOf("bytes=0-9,5000-"), Kind::kMultiple);  // one of them fits
  EXPECT_EQ(KindOf("bytes=-1,-2"), Kind::kMultiple);
  EXPECT_EQ(KindOf("bytes=5000-,6000-7000"), Kind::kUnsatisfiable);
}

TEST(ByteRangeTest, MalformedHeadersAreIgnored) {
  for (const std::string& header : std::vector<std::string>{
           "",
           "bytes",
           "bytes=",
           "bytes=,",
           "bytes=-",
           "bytes=abc",
           "bytes=5",
           "bytes=10-5",
           "bytes=0-9,10-5",  // one bad element spoils the set
           "bytes=0-9,x",
           "bytes=+1-2",
           "bytes=1-+2",
           "bytes=-+2",
           "bytes=1--2",
           "bytes=1-2-3",
           "bytes=0 - 9",
           "bytes=0x10-20",
           "bytes =0-9",
           " bytes=0-9",
           "items=0-9",
           "bytes;0-9",
           "byte=0-9",
           "bytess=0-9",
           "bytes=0-9;x",
           "=0-9",
           std::string("bytes=0-\0", 9),
       }) {
    EXPECT_EQ(KindOf(header), Kind::kWhole) << '"' << header << '"';
  }
}

}  // namespace
}  // namespace hs
