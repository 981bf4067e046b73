// Tests for the decision about an existing file (RFC 9110 13 and 14): entity tags, each
// precondition, their order of precedence, Range and If-Range. Pure: facts are made up, the
// clock is a parameter.
#include "common/file_decision.h"

#include <sys/stat.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/http_request.h"
#include "common/http_response.h"
#include "gtest/gtest.h"

namespace hs {
namespace {

constexpr time_t kModified = 1577836800;  // Wed, 01 Jan 2020 00:00:00 GMT, 0x5e0be100
constexpr char kTag[] = "\"5e0be100-3e8\"";
constexpr char kOther[] = "\"5e0be101-3e8\"";
const absl::Time kNow = absl::FromTimeT(kModified) + absl::Hours(24 * 365);

FileFacts Facts() {
  struct stat st {};
  st.st_mtim.tv_sec = kModified;
  st.st_size = 1000;
  return DescribeFile(st, "text/plain");
}

std::string DateAt(time_t t) { return HttpDate(absl::FromTimeT(t)); }

// The decision for a GET with these headers (name, value).
FileDecision Decide(std::vector<std::pair<std::string_view, std::string_view>> headers,
                    absl::Time now = kNow) {
  HttpRequest request;
  request.method = "GET";
  request.target = "/f.txt";
  for (const auto& [name, value] : headers) request.headers[request.header_count++] = {name, value};
  return DecideFileResponse(request, Facts(), now);
}

int Status(std::vector<std::pair<std::string_view, std::string_view>> headers) {
  return Decide(std::move(headers)).status;
}

TEST(EntityTagTest, AsNginxMakesIt) {
  EXPECT_EQ(EntityTag(kModified, 1000), kTag);
  EXPECT_EQ(EntityTag(kModified, 12), "\"5e0be100-c\"");
  EXPECT_EQ(EntityTag(0, 0), "\"0-0\"");
  const FileFacts facts = Facts();
  EXPECT_EQ(facts.etag, kTag);
  EXPECT_EQ(facts.size, 1000u);
  EXPECT_EQ(facts.last_modified, "Wed, 01 Jan 2020 00:00:00 GMT");
  EXPECT_EQ(facts.content_type, "text/plain");
}

TEST(EntityTagTest, ListMatching) {
  EXPECT_TRUE(EntityTagListMatches(kTag, kTag, false));
  EXPECT_TRUE(EntityTagListMatches(std::string("\"a\", ") + kTag, kTag, false));
  EXPECT_TRUE(EntityTagListMatches(std::string("\"a\",") + kTag + ",\"b\"", kTag, false));
  EXPECT_TRUE(EntityTagListMatches(std::string(" ,, ") + kTag + " ,", kTag, false));
  EXPECT_TRUE(EntityTagListMatches("\"a,b\", \"5e0be100-3e8\"", kTag, false));  // comma in a tag
  // W/ matches only weakly.
  EXPECT_FALSE(EntityTagListMatches(std::string("W/") + kTag, kTag, false));
  EXPECT_TRUE(EntityTagListMatches(std::string("W/") + kTag, kTag, true));
  EXPECT_FALSE(EntityTagListMatches(kOther, kTag, true));
  EXPECT_FALSE(EntityTagListMatches("5e0be100-3e8", kTag, true));  // unquoted
  EXPECT_FALSE(EntityTagListMatches("", kTag, true));
  // A malformed element ends the list.
  EXPECT_FALSE(EntityTagListMatches(std::string("junk, ") + kTag, kTag, true));
  EXPECT_FALSE(EntityTagListMatches(std::string("\"a\" x, ") + kTag, kTag, true));
  EXPECT_FALSE(EntityTagListMatches("\"5e0be100-3e8", kTag, true));
}

TEST(FileDecisionTest, PlainGetIsTheWholeFile) {
  const FileDecision d = Decide({});
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.range.first, 0u);
  EXPECT_EQ(d.range.length, 1000u);
}

TEST(FileDecisionTest, IfNoneMatch) {
  EXPECT_EQ(Status({{"If-None-Match", kTag}}), 304);
  EXPECT_EQ(Status({{"If-None-Match", "W/\"5e0be100-3e8\""}}), 304);  // weak comparison
  EXPECT_EQ(Status({{"If-None-Match", "*"}}), 304);
  EXPECT_EQ(Status({{"If-None-Match", "\"x\", \"5e0be100-3e8\""}}), 304);
  EXPECT_EQ(Status({{"if-none-match", "\"x\""}, {"If-None-Match", kTag}}), 304);  // two lines
  EXPECT_EQ(Status({{"If-None-Match", kOther}}), 200);
  EXPECT_EQ(Status({{"If-None-Match", "\"x\", \"y\""}}), 200);
}

TEST(FileDecisionTest, IfNoneMatchTakesPrecedenceOverIfModifiedSince) {
  const std::string since = DateAt(kModified);
  EXPECT_EQ(Status({{"If-Modified-Since", since}}), 304);
  EXPECT_EQ(Status({{"If-None-Match", kOther}, {"If-Modified-Since", since}}), 200);
  EXPECT_EQ(Status({{"If-Modified-Since", since}, {"If-None-Match", kOther}}), 200);
  EXPECT_EQ(Status({{"If-None-Match", kTag}, {"If-Modified-Since", DateAt(0)}}), 304);
}

TEST(FileDecisionTest, IfModifiedSince) {
  EXPECT_EQ(Status({{"If-Modified-Since", DateAt(kModified + 1)}}), 304);
  EXPECT_EQ(Status({{"If-Modified-Since", DateAt(kModified - 1)}}), 200);
  EXPECT_EQ(Status({{"If-Modified-Since", "yesterday"}}), 200);
  // Later than our clock: invalid, ignored.
  EXPECT_EQ(Decide({{"If-Modified-Since", DateAt(kModified + 10)}}, absl::FromTimeT(kModified + 5))
                .status,
            200);
}

TEST(FileDecisionTest, IfMatch) {
  EXPECT_EQ(Status({{"If-Match", kTag}}), 200);
  EXPECT_EQ(Status({{"If-Match", "*"}}), 200);
  EXPECT_EQ(Status({{"If-Match", "\"x\", \"5e0be100-3e8\""}}), 200);
  EXPECT_EQ(Status({{"If-Match", kOther}}), 412);
  EXPECT_EQ(Status({{"If-Match", "W/\"5e0be100-3e8\""}}), 412);  // strong comparison
  EXPECT_EQ(Status({{"If-Match", "garbage"}}), 412);
}

TEST(FileDecisionTest, IfUnmodifiedSince) {
  EXPECT_EQ(Status({{"If-Unmodified-Since", DateAt(kModified)}}), 200);
  EXPECT_EQ(Status({{"If-Unmodified-Since", DateAt(kModified + 60)}}), 200);
  EXPECT_EQ(Status({{"If-Unmodified-Since", DateAt(kModified - 1)}}), 412);
  EXPECT_EQ(Status({{"If-Unmodified-Since", "not a date"}}), 200);  // ignored
  // Ignored when If-Match is present (RFC 9110 13.1.4), either way round.
  EXPECT_EQ(Status({{"If-Match", kTag}, {"If-Unmodified-Since", DateAt(kModified - 1)}}), 200);
  EXPECT_EQ(Status({{"If-Match", kOther}, {"If-Unmodified-Since", DateAt(kModified + 1)}}), 412);
}

// RFC 9110 13.2.2: If-Match / If-Unmodified-Since first, then If-None-Match, then Range.
TEST(FileDecisionTest, PreconditionsBeforeCacheValidationBeforeRange) {
  EXPECT_EQ(Status({{"If-None-Match", kTag}, {"If-Match", kOther}}), 412);
  EXPECT_EQ(Status({{"If-None-Match", kTag}, {"If-Unmodified-Since", DateAt(0)}}), 412);
  EXPECT_EQ(Status({{"If-None-Match", kTag}, {"If-Match", kTag}}), 304);
  EXPECT_EQ(Status({{"Range", "bytes=0-9"}, {"If-None-Match", kTag}}), 304);
  EXPECT_EQ(Status({{"Range", "bytes=0-9"}, {"If-Match", kOther}}), 412);
  EXPECT_EQ(Status({{"Range", "bytes=0-9"}, {"If-Match", kTag}}), 206);
}

TEST(FileDecisionTest, Ranges) {
  FileDecision d = Decide({{"Range", "bytes=10-19"}});
  EXPECT_EQ(d.status, 206);
  EXPECT_EQ(d.range.first, 10u);
  EXPECT_EQ(d.range.length, 10u);
  d = Decide({{"range", "bytes=-100"}});
  EXPECT_EQ(d.status, 206);
  EXPECT_EQ(d.range.first, 900u);
  EXPECT_EQ(d.range.length, 100u);
  EXPECT_EQ(Status({{"Range", "bytes=1000-"}}), 416);
  EXPECT_EQ(Status({{"Range", "bytes=9-0"}}), 200);
  EXPECT_EQ(Status({{"Range", "bytes=0-1,5-6"}}), 200);
  EXPECT_EQ(Decide({{"Range", "bytes=0-1,5-6"}}).range.length, 1000u);
}

TEST(FileDecisionTest, IfRange) {
  EXPECT_EQ(Status({{"Range", "bytes=0-9"}, {"If-Range", kTag}}), 206);
  EXPECT_EQ(Status({{"Range", "bytes=0-9"}, {"If-Range", kOther}}), 200);
  EXPECT_EQ(Status({{"Range", "bytes=0-9"}, {"If-Range", "W/\"5e0be100-3e8\""}}), 200);
  const std::string exact = DateAt(kModified);
  EXPECT_EQ(Status({{"Range", "bytes=0-9"}, {"If-Range", exact}}), 206);
  EXPECT_EQ(Status({{"Range", "bytes=0-9"}, {"If-Range", DateAt(kModified + 1)}}), 200);
  EXPECT_EQ(Status({{"Range", "bytes=0-9"}, {"If-Range", DateAt(kModified - 1)}}), 200);
  EXPECT_EQ(Status({{"Range", "bytes=0-9"}, {"If-Range", "junk"}}), 200);
  // An If-Range that does not hold also spares the client a 416: it gets the new file.
  EXPECT_EQ(Status({{"Range", "bytes=5000-"}, {"If-Range", kOther}}), 200);
  EXPECT_EQ(Status({{"If-Range", kOther}}), 200);  // without Range: nothing to decide
}

}  // namespace
}  // namespace hs
