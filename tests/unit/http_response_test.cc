// Tests for response-head serialisation and HTTP dates.
#include "common/http_response.h"

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hs {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kDateRegex[] =
    "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
    "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT";

TEST(ReasonPhraseTest, EveryStatusTheServersSend) {
  EXPECT_EQ(ReasonPhrase(200), "OK");
  EXPECT_EQ(ReasonPhrase(301), "Moved Permanently");
  EXPECT_EQ(ReasonPhrase(304), "Not Modified");
  EXPECT_EQ(ReasonPhrase(400), "Bad Request");
  EXPECT_EQ(ReasonPhrase(403), "Forbidden");
  EXPECT_EQ(ReasonPhrase(404), "Not Found");
  EXPECT_EQ(ReasonPhrase(405), "Method Not Allowed");
  EXPECT_EQ(ReasonPhrase(408), "Request Timeout");
  EXPECT_EQ(ReasonPhrase(413), "Content Too Large");
  EXPECT_EQ(ReasonPhrase(414), "URI Too Long");
  EXPECT_EQ(ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(ReasonPhrase(500), "Internal Server Error");
  EXPECT_EQ(ReasonPhrase(501), "Not Implemented");
  EXPECT_EQ(ReasonPhrase(503), "Service Unavailable");
  EXPECT_EQ(ReasonPhrase(505), "HTTP Version Not Supported");
}

TEST(ReasonPhraseTest, UnknownCode) {
  EXPECT_EQ(ReasonPhrase(299), "Unknown");
  EXPECT_EQ(ReasonPhrase(0), "Unknown");
}

TEST(HttpDateTest, Rfc9110Example) {
  EXPECT_EQ(HttpDate(absl::FromUnixSeconds(784111777)), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(HttpDateTest, EpochAndSubSecondsTruncated) {
  EXPECT_EQ(HttpDate(absl::UnixEpoch()), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(HttpDate(absl::FromUnixSeconds(784111777) + absl::Milliseconds(999)),
            "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(HttpDateTest, SingleDigitDayIsZeroPadded) {
  // 2024-02-29 (leap day) 23:59:59 UTC.
  EXPECT_EQ(HttpDate(absl::FromUnixSeconds(1709251199)), "Thu, 29 Feb 2024 23:59:59 GMT");
  // 2000-03-05 01:02:03 UTC.
  EXPECT_EQ(HttpDate(absl::FromUnixSeconds(952218123)), "Sun, 05 Mar 2000 01:02:03 GMT");
}

TEST(ParseHttpDateTest, AcceptsTheThreeFormsOfRfc9110) {
  const absl::Time example = absl::FromUnixSeconds(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), example);
  EXPECT_EQ(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), example);
  EXPECT_EQ(ParseHttpDate("Sun Nov  6 08:49:37 1994"), example);
  EXPECT_EQ(ParseHttpDate("Thu, 29 Feb 2024 23:59:59 GMT"), absl::FromUnixSeconds(1709251199));
}

TEST(ParseHttpDateTest, RoundTripsHttpDate) {
  for (const int64_t s :
       {int64_t{0}, int64_t{952218123}, int64_t{1709251199}, int64_t{4102444800}}) {
    const absl::Time t = absl::FromUnixSeconds(s);
    EXPECT_EQ(ParseHttpDate(HttpDate(t)), t) << HttpDate(t);
  }
}

TEST(ParseHttpDateTest, RejectsAnythingElse) {
  for (const std::string_view bad :
       {"", "yesterday", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 GMT junk",
        "Sun, 06 Nov 1994 08:49 GMT", "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT", "1994-11-06T08:49:37Z", "784111777"}) {
    EXPECT_EQ(ParseHttpDate(bad), std::nullopt) << bad;
  }
}

TEST(CurrentHttpDateTest, IsNowInImfFixdate) {
  const int64_t before = absl::ToUnixSeconds(absl::Now());
  const std::string date = CurrentHttpDate();
  const int64_t after = absl::ToUnixSeconds(absl::Now());
  EXPECT_THAT(date, MatchesRegex(kDateRegex));
  bool matches = false;
  // CurrentHttpDate() reads the kernel's coarse clock, which may trail absl::Now() by a tick.
  for (int64_t s = before - 1; s <= after; ++s) {
    matches = matches || date == HttpDate(absl::FromUnixSeconds(s));
  }
  EXPECT_TRUE(matches) << date;
}

TEST(CurrentHttpDateTest, EachThreadHasItsOwnValue) {
  std::string other;
  std::thread thread([&other] { other = CurrentHttpDate(); });
  thread.join();
  EXPECT_THAT(other, MatchesRegex(kDateRegex));
  EXPECT_THAT(CurrentHttpDate(), MatchesRegex(kDateRegex));
}

TEST(SerializeHeadTest, ExactBytesFor200KeepAlive) {
  ResponseHead head;
  head.status = 200;
  head.content_type = "text/html; charset=utf-8";
  head.content_length = 1234;
  head.keep_alive = true;
  head.extra_headers.emplace_back("Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT");
  const std::string out = SerializeHead(head);
  const std::string date = out.substr(out.find("Date: ") + 6, 29);
  EXPECT_THAT(date, MatchesRegex(kDateRegex));
  EXPECT_EQ(out, absl::StrCat("HTTP/1.1 200 OK\r\n"
                              "Date: ",
                              date,
                              "\r\n"
                              "Server: hs-concurrent/1.0\r\n"
                              "Content-Type: text/html; charset=utf-8\r\n"
                              "Content-Length: 1234\r\n"
                              "Connection: keep-alive\r\n"
                              "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                              "\r\n"));
}

TEST(SerializeHeadTest, Http10CloseWithExtrasInOrder) {
  ResponseHead head;
  head.status = 405;
  head.version_minor = 0;
  head.content_type = "text/html; charset=utf-8";
  head.content_length = 0;
  head.keep_alive = false;
  head.extra_headers.emplace_back("Allow", "GET, HEAD");
  head.extra_headers.emplace_back("X-Second", "2");
  const std::string out = SerializeHead(head);
  const std::string date = out.substr(out.find("Date: ") + 6, 29);
  EXPECT_EQ(out, absl::StrCat("HTTP/1.0 405 Method Not Allowed\r\n"
                              "Date: ",
                              date,
                              "\r\n"
                              "Server: hs-concurrent/1.0\r\n"
                              "Content-Type: text/html; charset=utf-8\r\n"
                              "Content-Length: 0\r\n"
                              "Connection: close\r\n"
                              "Allow: GET, HEAD\r\n"
                              "X-Second: 2\r\n"
                              "\r\n"));
}

TEST(SerializeHeadTest, UsesCurrentDate) {
  const std::string out = SerializeHead(ResponseHead{});
  const std::string date = out.substr(out.find("Date: ") + 6, 29);
  // The second may tick between the two calls; accept the date just read.
  EXPECT_THAT(out, HasSubstr(absl::StrCat("\r\nDate: ", date, "\r\nServer: ")));
  EXPECT_THAT(date, MatchesRegex(kDateRegex));
}

TEST(SerializeHeadTest, DefaultsAndNoContentType) {
  const std::string out = SerializeHead(ResponseHead{});
  EXPECT_THAT(out, StartsWith("HTTP/1.1 200 OK\r\nDate: "));
  EXPECT_THAT(out, Not(HasSubstr("Content-Type")));
  EXPECT_THAT(out, HasSubstr("\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(out.find("\r\n\r\n"), out.size() - 4);
}

TEST(SerializeHeadTest, LargeContentLengthAndUnknownStatus) {
  ResponseHead head;
  head.status = 299;
  head.content_type = "application/octet-stream";
  head.content_length = 5'000'000'000ULL;
  const std::string out = SerializeHead(head);
  EXPECT_THAT(out, StartsWith("HTTP/1.1 299 Unknown\r\n"));
  EXPECT_THAT(out, HasSubstr("\r\nContent-Length: 5000000000\r\n"));
}

}  // namespace
}  // namespace hs
