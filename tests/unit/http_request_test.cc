#include "common/http_request.h"

#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hs {
namespace {

using ::testing::Optional;

constexpr size_t kMaxHead = 8192;

// A GET whose head (request line through the blank line) is exactly `size` bytes long.
std::string RequestWithHeadSize(size_t size) {
  const std::string prefix = "GET / HTTP/1.1\r\nX-Pad: ";
  const std::string suffix = "\r\n\r\n";
  std::string request = prefix + std::string(size - prefix.size() - suffix.size(), 'a') + suffix;
  EXPECT_EQ(request.size(), size);
  return request;
}

// A request line (CRLF included) exactly `size` bytes long.
std::string RequestLineWithSize(size_t size) {
  std::string line = "GET /" + std::string(size - 16, 'a') + " HTTP/1.1\r\n";
  EXPECT_EQ(line.size(), size);
  return line;
}

std::string RequestWithHeaders(int count) {
  std::string request = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < count; ++i)
    request += "X-H" + std::to_string(i) + ": v" + std::to_string(i) + "\r\n";
  return request + "\r\n";
}

void ExpectError(std::string_view input, int status, const ParserLimits& limits = {}) {
  const ParseResult result = ParseRequest(input, limits);
  EXPECT_TRUE(result.error()) << "input: " << testing::PrintToString(std::string(input));
  EXPECT_EQ(result.error_status, status) << "input: " << testing::PrintToString(std::string(input));
}

void ExpectSameRequest(const ParseResult& a, const ParseResult& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.consumed, b.consumed);
  EXPECT_EQ(a.request.method, b.request.method);
  EXPECT_EQ(a.request.target, b.request.target);
  EXPECT_EQ(a.request.version_minor, b.request.version_minor);
  EXPECT_EQ(a.request.content_length, b.request.content_length);
  EXPECT_EQ(a.request.keep_alive, b.request.keep_alive);
  ASSERT_EQ(a.request.header_count, b.request.header_count);
  for (size_t i = 0; i < a.request.header_count; ++i) {
    EXPECT_EQ(a.request.headers[i].name, b.request.headers[i].name);
    EXPECT_EQ(a.request.headers[i].value, b.request.headers[i].value);
  }
}

// --- Valid requests ---------------------------------------------------------------------------

TEST(HttpRequestTest, EmptyBufferNeedsMore) {
  const ParseResult result = ParseRequest("");
  EXPECT_TRUE(result.need_more());
  EXPECT_EQ(result.consumed, 0u);
  EXPECT_EQ(result.error_status, 0);
}

TEST(HttpRequestTest, SimpleGet) {
  const std::string input = "GET /index.html HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";
  const ParseResult result = ParseRequest(input);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, input.size());
  EXPECT_EQ(result.error_status, 0);
  const HttpRequest& request = result.request;
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/index.html");
  EXPECT_EQ(request.version_minor, 1);
  ASSERT_EQ(request.header_count, 2u);
  EXPECT_EQ(request.headers[0].name, "Host");
  EXPECT_EQ(request.headers[0].value, "localhost");
  EXPECT_EQ(request.headers[1].name, "Accept");
  EXPECT_EQ(request.headers[1].value, "*/*");
  EXPECT_EQ(request.content_length, 0u);
  EXPECT_TRUE(request.keep_alive);
}

TEST(HttpRequestTest, ViewsPointIntoTheBuffer) {
  const std::string input = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  const ParseResult result = ParseRequest(input);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.request.method.data(), input.data());
  EXPECT_EQ(result.request.target.data(), input.data() + 4);
  EXPECT_EQ(result.request.headers[0].name.data(), input.data() + 17);
  EXPECT_EQ(result.request.headers[0].value.data(), input.data() + 23);
}

TEST(HttpRequestTest, HeadHttp10WithoutHeaders) {
  const std::string input = "HEAD /docs/ HTTP/1.0\r\n\r\n";
  const ParseResult result = ParseRequest(input);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, input.size());
  EXPECT_EQ(result.request.method, "HEAD");
  EXPECT_EQ(result.request.target, "/docs/");
  EXPECT_EQ(result.request.version_minor, 0);
  EXPECT_EQ(result.request.header_count, 0u);
  EXPECT_FALSE(result.request.keep_alive);
}

TEST(HttpRequestTest, MethodIsAnyTokenAndCaseIsKept) {
  const ParseResult result = ParseRequest("get / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.request.method, "get");

  const ParseResult odd = ParseRequest("M-SEARCH! * HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(odd.complete());
  EXPECT_EQ(odd.request.method, "M-SEARCH!");
  EXPECT_EQ(odd.request.target, "*");
}

TEST(HttpRequestTest, TargetIsKeptExactly) {
  const std::string input = "GET http://example.com:80/a%20b?x=1&y=[2]#frag HTTP/1.1\r\n\r\n";
  const ParseResult result = ParseRequest(input);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.request.target, "http://example.com:80/a%20b?x=1&y=[2]#frag");
}

TEST(HttpRequestTest, HeaderValuesAreTrimmed) {
  const std::string input =
      "GET / HTTP/1.1\r\n"
      "X-A:value\r\n"
      "X-B:   spaced   \r\n"
      "X-C:\t tabbed\t \r\n"
      "X-D:\r\n"
      "X-E:  inner  space\tand tab \r\n"
      "X-F: \t \r\n"
      "\r\n";
  const ParseResult result = ParseRequest(input);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, input.size());
  ASSERT_EQ(result.request.header_count, 6u);
  EXPECT_EQ(result.request.headers[0].value, "value");
  EXPECT_EQ(result.request.headers[1].value, "spaced");
  EXPECT_EQ(result.request.headers[2].value, "tabbed");
  EXPECT_EQ(result.request.headers[3].value, "");
  EXPECT_EQ(result.request.headers[4].value, "inner  space\tand tab");
  EXPECT_EQ(result.request.headers[5].value, "");
}

TEST(HttpRequestTest, ObsTextAndPunctuationInValuesAreAccepted) {
  const std::string input = "GET / HTTP/1.1\r\nX-Name: caf\xc3\xa9 \"q\"; a=b, c:d\r\n\r\n";
  const ParseResult result = ParseRequest(input);
  ASSERT_TRUE(result.complete());
  EXPECT_THAT(result.request.Header("x-name"),
              Optional(std::string_view("caf\xc3\xa9 \"q\"; a=b, c:d")));
}

TEST(HttpRequestTest, HeaderLookupIsCaseInsensitive) {
  const std::string input =
      "GET / HTTP/1.1\r\ncontent-TYPE: text/plain\r\nX-Dup: first\r\nx-dup: second\r\n\r\n";
  const ParseResult result = ParseRequest(input);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.request.headers[0].name, "content-TYPE");  // kept as sent
  EXPECT_THAT(result.request.Header("Content-Type"), Optional(std::string_view("text/plain")));
  EXPECT_THAT(result.request.Header("CONTENT-TYPE"), Optional(std::string_view("text/plain")));
  EXPECT_THAT(result.request.Header("X-DUP"), Optional(std::string_view("first")));
  EXPECT_EQ(result.request.Header("Content-Typ"), std::nullopt);
  EXPECT_EQ(result.request.Header("Host"), std::nullopt);
  EXPECT_EQ(result.request.Header(""), std::nullopt);
}

// The parser only records whether Host came; the conversation refuses an HTTP/1.1 request
// without it (RFC 9112 3.2).
TEST(HttpRequestTest, RecordsWhetherHostWasSent) {
  ParseResult result = ParseRequest("GET / HTTP/1.1\r\nhOsT: x\r\n\r\n");
  ASSERT_TRUE(result.complete());
  EXPECT_TRUE(result.request.has_host);
  result = ParseRequest("GET / HTTP/1.1\r\nHost-Name: x\r\n\r\n");
  ASSERT_TRUE(result.complete());
  EXPECT_FALSE(result.request.has_host);
  result = ParseRequest("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(result.complete());
  EXPECT_FALSE(result.request.has_host);
}

TEST(HttpRequestTest, LfOnlyLineEndings) {
  const std::string input = "GET /lf HTTP/1.1\nHost: x\nAccept: y \n\n";
  const ParseResult result = ParseRequest(input);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, input.size());
  EXPECT_EQ(result.request.target, "/lf");
  ASSERT_EQ(result.request.header_count, 2u);
  EXPECT_EQ(result.request.headers[0].value, "x");
  EXPECT_EQ(result.request.headers[1].value, "y");
}

TEST(HttpRequestTest, MixedLineEndings) {
  const std::string input = "GET / HTTP/1.1\nHost: x\r\nA: b\n\r\nNEXT";
  const ParseResult result = ParseRequest(input);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, input.size() - 4);
  EXPECT_EQ(result.request.header_count, 2u);
}

TEST(HttpRequestTest, LeadingEmptyLinesAreSkippedAndConsumed) {
  const std::string input = "\r\n\n\r\nGET / HTTP/1.1\r\n\r\n";
  const ParseResult result = ParseRequest(input);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, input.size());
  EXPECT_EQ(result.request.method, "GET");

  EXPECT_TRUE(ParseRequest("\r\n").need_more());
  EXPECT_TRUE(ParseRequest("\r\n\r").need_more());
  ExpectError("\r\r\n", 400);
}

TEST(HttpRequestTest, TrailingBytesAreNotConsumed) {
  const std::string input = "GET / HTTP/1.1\r\n\r\nGARBAGE that belongs to the next request";
  const ParseResult result = ParseRequest(input);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, 18u);
}

// --- Keep-alive -----------------------------------------------------------------------------

struct KeepAliveCase {
  std::string version;
  std::string connection_headers;  // complete header lines, possibly none
  bool keep_alive;
};

class KeepAliveTest : public testing::TestWithParam<KeepAliveCase> {};

TEST_P(KeepAliveTest, FollowsVersionAndConnectionTokens) {
  const KeepAliveCase& c = GetParam();
  const std::string input = "GET / " + c.version + "\r\n" + c.connection_headers + "\r\n";
  const ParseResult result = ParseRequest(input);
  ASSERT_TRUE(result.complete()) << input;
  EXPECT_EQ(result.request.keep_alive, c.keep_alive) << input;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, KeepAliveTest,
    testing::Values(
        KeepAliveCase{"HTTP/1.1", "", true},
        KeepAliveCase{"HTTP/1.1", "Connection: close\r\n", false},
        KeepAliveCase{"HTTP/1.1", "Connection: Close\r\n", false},
        KeepAliveCase{"HTTP/1.1", "connection: CLOSE\r\n", false},
        KeepAliveCase{"HTTP/1.1", "Connection: keep-alive, close\r\n", false},
        KeepAliveCase{"HTTP/1.1", "Connection: Upgrade,close \r\n", false},
        KeepAliveCase{"HTTP/1.1", "Connection: Upgrade ,\tclose\t, foo\r\n", false},
        KeepAliveCase{"HTTP/1.1", "Connection: keep-alive, Upgrade\r\n", true},
        KeepAliveCase{"HTTP/1.1", "Connection: closed\r\n", true},
        KeepAliveCase{"HTTP/1.1", "Connection: close-ish, xclose\r\n", true},
        KeepAliveCase{"HTTP/1.1", "Connection: \r\n", true},
        KeepAliveCase{"HTTP/1.1", "Connection: keep-alive\r\nConnection: close\r\n", false},
        KeepAliveCase{"HTTP/1.1", "X-Connection: close\r\n", true},
        KeepAliveCase{"HTTP/1.0", "", false},
        KeepAliveCase{"HTTP/1.0", "Connection: keep-alive\r\n", true},
        KeepAliveCase{"HTTP/1.0", "Connection: Keep-Alive\r\n", true},
        KeepAliveCase{"HTTP/1.0", "Connection: Upgrade, keep-alive\r\n", true},
        KeepAliveCase{"HTTP/1.0", "Connection: keep-alive, close\r\n", false},
        KeepAliveCase{"HTTP/1.0", "Connection: keep-alive-ish\r\n", false},
        KeepAliveCase{"HTTP/1.0", "Connection: close\r\n", false},
        KeepAliveCase{"HTTP/1.0", "Connection: foo\r\nConnection: keep-alive\r\n", true}));

// --- Content-Length and bodies ---------------------------------------------------------------

TEST(HttpRequestTest, BodyIsConsumedWhenComplete) {
  const std::string head = "POST /form HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
  const std::string input = head + "hello world";
  const ParseResult result = ParseRequest(input);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, head.size() + 11);
  EXPECT_EQ(result.request.content_length, 11u);
  EXPECT_EQ(result.request.method, "POST");
}

TEST(HttpRequestTest, PartialBodyNeedsMore) {
  const std::string head = "POST /form HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
  EXPECT_TRUE(ParseRequest(head).need_more());
  EXPECT_TRUE(ParseRequest(head + "hello").need_more());
  EXPECT_TRUE(ParseRequest(head + "hello worl").need_more());
  const ParseResult result = ParseRequest(head + "hello worldGET");
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, head.size() + 11);
}

TEST(HttpRequestTest, ContentLengthZeroAndIdenticalRepeats) {
  const std::string zero = "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
  ParseResult result = ParseRequest(zero);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, zero.size());
  EXPECT_EQ(result.request.content_length, 0u);

  const std::string head = "POST / HTTP/1.1\r\nContent-Length: 3\r\ncontent-length:  3 \r\n\r\n";
  result = ParseRequest(head + "abc");
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, head.size() + 3);
  EXPECT_EQ(result.request.content_length, 3u);

  const std::string list = "POST / HTTP/1.1\r\nContent-Length: 3, 3,3\r\n\r\n";
  result = ParseRequest(list + "abc");
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, list.size() + 3);

  const std::string leading_zeros = "POST / HTTP/1.1\r\nContent-Length: 007\r\n\r\n";
  result = ParseRequest(leading_zeros + "1234567");
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.request.content_length, 7u);
}

class InvalidContentLengthTest : public testing::TestWithParam<std::string> {};

TEST_P(InvalidContentLengthTest, Is400) {
  ExpectError("POST / HTTP/1.1\r\nContent-Length:" + GetParam() + "\r\n\r\nbody", 400);
}

INSTANTIATE_TEST_SUITE_P(Values, InvalidContentLengthTest,
                         testing::Values("", " ", " abc", " -1", " +1", " 1,2", " 1, 2", " 1,",
                                         " ,1", " 1 2", " 0x10", " 1.5", " 1e3",
                                         " 99999999999999999999999",
                                         " 18446744073709551616",  // 2^64
                                         " 4\x80"));

TEST(HttpRequestTest, ConflictingContentLengthHeadersAre400) {
  ExpectError("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400);
  // Reported as soon as the second header line ends.
  ExpectError("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n", 400);
}

TEST(HttpRequestTest, BodyAboveLimitIs413AsSoonAsTheHeadIsComplete) {
  ExpectError("POST / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 413);
  ExpectError("POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n", 413);
  // Not before: the head is still incomplete.
  EXPECT_TRUE(ParseRequest("POST / HTTP/1.1\r\nContent-Length: 65537\r\n").need_more());

  const std::string head = "POST / HTTP/1.1\r\nContent-Length: 65536\r\n\r\n";
  EXPECT_TRUE(ParseRequest(head).need_more());
  const ParseResult result = ParseRequest(head + std::string(65536, 'x'));
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, head.size() + 65536);

  ParserLimits limits;
  limits.max_body_bytes = 4;
  ExpectError("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", 413, limits);
  EXPECT_TRUE(ParseRequest("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd", limits).complete());
}

// --- Errors ---------------------------------------------------------------------------------

TEST(HttpRequestTest, TransferEncodingIs501) {
  ExpectError("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501);
  ExpectError("POST / HTTP/1.1\r\ntransfer-encoding: identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501);
  ExpectError("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello",
              501);
  ExpectError("GET / HTTP/1.0\r\nTransfer-Encoding:\r\n\r\n", 501);
}

class UnsupportedVersionTest : public testing::TestWithParam<std::string> {};

TEST_P(UnsupportedVersionTest, Is505) {
  ExpectError("GET / " + GetParam() + "\r\nHost: x\r\n\r\n", 505);
  // Known once the request line has ended.
  ExpectError("GET / " + GetParam() + "\r\n", 505);
  ExpectError("GET / " + GetParam() + "\n", 505);
  // version_minor stays 0 or 1, so an error response never claims e.g. HTTP/1.9.
  EXPECT_EQ(ParseRequest("GET / " + GetParam() + "\r\n").request.version_minor, 1);
}

INSTANTIATE_TEST_SUITE_P(Versions, UnsupportedVersionTest,
                         testing::Values("HTTP/2.0", "HTTP/1.2", "HTTP/1.9", "HTTP/0.9", "HTTP/0.0",
                                         "HTTP/3.0", "HTTP/9.1"));

class MalformedVersionTest : public testing::TestWithParam<std::string> {};

TEST_P(MalformedVersionTest, Is400) { ExpectError("GET / " + GetParam() + "\r\n\r\n", 400); }

INSTANTIATE_TEST_SUITE_P(Versions, MalformedVersionTest,
                         testing::Values("HTP/1.1", "HTTP/1.x", "HTTP/x.1", "http/1.1", "HTTP/11",
                                         "HTTP/1.10", "HTTP/10.1", "HTTP/1", "HTTP/2", "HTTP 1.1",
                                         "HTTP/1.1 ", "HTTP/1.1\t", "HTTP/1.1x", " HTTP/1.1", "",
                                         "HTTP/1.1\r\r"));

class MalformedRequestLineTest : public testing::TestWithParam<std::string> {};

TEST_P(MalformedRequestLineTest, Is400) { ExpectError(GetParam(), 400); }

INSTANTIATE_TEST_SUITE_P(Lines, MalformedRequestLineTest,
                         testing::Values("GARBAGE\r\n\r\n", "GET\r\n\r\n", "GET /\r\n\r\n",
                                         "GET / \r\n\r\n", "GET  / HTTP/1.1\r\n\r\n",
                                         "GET /  HTTP/1.1\r\n\r\n", " GET / HTTP/1.1\r\n\r\n",
                                         "\tGET / HTTP/1.1\r\n\r\n", "GET\t/ HTTP/1.1\r\n\r\n",
                                         "GET /\tHTTP/1.1\r\n\r\n", "GET /a b HTTP/1.1\r\n\r\n",
                                         "GE(T / HTTP/1.1\r\n\r\n", "GE\"T / HTTP/1.1\r\n\r\n",
                                         std::string("GET /\0 HTTP/1.1\r\n\r\n", 20),
                                         "GET /\x01 HTTP/1.1\r\n\r\n", "GET /\x7f HTTP/1.1\r\n\r\n",
                                         "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n",
                                         "GET / HTTP/1.1\rX\r\n\r\n", "GET / HTTP/1.1\r\r\n\r\n",
                                         ": / HTTP/1.1\r\n\r\n", "\r\n\r\nGARBAGE\r\n"));

TEST(HttpRequestTest, RequestLineErrorsAreReportedEarly) {
  ExpectError("GET\x01", 400);
  ExpectError("GARBAGE\r", 400);
  ExpectError("GARBAGE\r\n", 400);
  ExpectError("GARBAGE\n", 400);
  ExpectError(" ", 400);
  ExpectError("GET  ", 400);
  ExpectError("GET /\x01", 400);
  ExpectError("GET /\r", 400);
  ExpectError("GET / HX", 400);
  ExpectError("GET / HTTP/1.1 ", 400);
  ExpectError("GET / HTTP/1.1\rX", 400);
  // Prefixes of a possibly valid line still need more.
  EXPECT_TRUE(ParseRequest("GET / H").need_more());
  EXPECT_TRUE(ParseRequest("GET / HTTP/1.1\r").need_more());
}

class MalformedHeaderTest : public testing::TestWithParam<std::string> {};

TEST_P(MalformedHeaderTest, Is400) {
  ExpectError("GET / HTTP/1.1\r\nHost: x\r\n" + GetParam() + "\r\n\r\n", 400);
}

INSTANTIATE_TEST_SUITE_P(
    Headers, MalformedHeaderTest,
    testing::Values("NoColon", "No colon here", "Name : value", "Name\t: value",
                    " folded continuation", "\tfolded continuation", ": empty name", "Na(me: value",
                    "Na/me: value", "Na\"me: value", "Caf\xc3\xa9: value", "Name: a\x01z",
                    "Name: a\x7fz", std::string("Name: a\0z", 9), "Name: a\rz", "Name: \x1b[31m",
                    "Name: a\vz", "Name: a\fz", "Host: y", "HOST: y"));

TEST(HttpRequestTest, HeaderErrorsAreReportedEarly) {
  ExpectError("GET / HTTP/1.1\r\nHost\x01", 400);
  ExpectError("GET / HTTP/1.1\r\nHost ", 400);
  ExpectError("GET / HTTP/1.1\r\nHost\r", 400);
  ExpectError("GET / HTTP/1.1\r\n ", 400);
  ExpectError("GET / HTTP/1.1\r\n:", 400);
  ExpectError("GET / HTTP/1.1\r\nX: a\x01", 400);
  ExpectError("GET / HTTP/1.1\r\nX: a\rb", 400);
  ExpectError("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n", 400);
  ExpectError("GET / HTTP/1.1\r\n\rX", 400);
}

TEST(HttpRequestTest, MissingHostIsAccepted) {
  EXPECT_TRUE(ParseRequest("GET / HTTP/1.1\r\n\r\n").complete());
}

// --- Limits ---------------------------------------------------------------------------------

TEST(HttpRequestTest, HeadOfExactlyMaxSizeIsAccepted) {
  const std::string input = RequestWithHeadSize(kMaxHead);
  const ParseResult result = ParseRequest(input);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, kMaxHead);

  // The body does not count towards the head limit.
  const std::string prefix = "POST / HTTP/1.1\r\nContent-Length: 100\r\nX-Pad: ";
  const std::string with_body =
      prefix + std::string(kMaxHead - prefix.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(with_body.size(), kMaxHead);
  const ParseResult body_result = ParseRequest(with_body + std::string(100, 'b'));
  ASSERT_TRUE(body_result.complete());
  EXPECT_EQ(body_result.consumed, kMaxHead + 100);
}

TEST(HttpRequestTest, HeadOneByteOverMaxSizeIs431) {
  ExpectError(RequestWithHeadSize(kMaxHead + 1), 431);
  ExpectError(RequestWithHeadSize(3 * kMaxHead), 431);
}

TEST(HttpRequestTest, HeadThatNeverEndsIs431AsSoonAsTheLimitIsReached) {
  std::string input = "GET / HTTP/1.1\r\nX-Pad: ";
  input += std::string(kMaxHead - 1 - input.size(), 'a');
  EXPECT_TRUE(ParseRequest(input).need_more());  // 8191 bytes: still within the limit
  input += 'a';
  ExpectError(input, 431);  // 8192 bytes without the end of the head can never fit
  ExpectError(input + "aaaa", 431);

  // Many small complete headers, but no blank line.
  std::string many = "GET / HTTP/1.1\r\n";
  while (many.size() < kMaxHead) many += "A: b\r\n";
  ExpectError(many, 431);
  // The blank line would end the head one byte past the limit.
  ExpectError(RequestWithHeadSize(kMaxHead + 1).substr(0, kMaxHead), 431);
}

TEST(HttpRequestTest, RequestLineTooLongIs414) {
  // Request line with its CRLF one byte over the limit: even the line alone does not fit.
  ExpectError(RequestLineWithSize(kMaxHead + 1) + "\r\n", 414);
  ExpectError(RequestLineWithSize(kMaxHead + 100) + "Host: x\r\n\r\n", 414);
  // A request line that fits exactly leaves no room for the blank line: the head is too large.
  ExpectError(RequestLineWithSize(kMaxHead) + "\r\n", 431);
  ExpectError(RequestLineWithSize(kMaxHead - 1) + "\r\n", 431);
  const std::string fits = RequestLineWithSize(kMaxHead - 2) + "\r\n";
  const ParseResult result = ParseRequest(fits);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, kMaxHead);
  EXPECT_EQ(result.request.target.size(), kMaxHead - 2 - 16 + 1);
}

TEST(HttpRequestTest, RequestLineTooLongIs414AsSoonAsTheLimitIsReached) {
  std::string input = "GET /" + std::string(kMaxHead - 6, 'a');
  ASSERT_EQ(input.size(), kMaxHead - 1);
  EXPECT_TRUE(ParseRequest(input).need_more());
  input += 'a';
  ExpectError(input, 414);
  ExpectError(input + std::string(10000, 'a'), 414);
  // Also while still in the method, or in the version.
  ExpectError(std::string(kMaxHead, 'G'), 414);
  ExpectError("GET " + std::string(kMaxHead - 10, 'a') + " HTTP/", 414);
  // Also when the line ends, but the CR is the last byte that fits.
  ExpectError(RequestLineWithSize(kMaxHead + 1).substr(0, kMaxHead), 414);
}

TEST(HttpRequestTest, ExactlyMaxHeadersIsAccepted) {
  const std::string input = RequestWithHeaders(100);
  const ParseResult result = ParseRequest(input);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, input.size());
  ASSERT_EQ(result.request.header_count, 100u);
  EXPECT_EQ(result.request.headers[0].name, "X-H0");
  EXPECT_EQ(result.request.headers[99].name, "X-H99");
  EXPECT_EQ(result.request.headers[99].value, "v99");
  EXPECT_THAT(result.request.Header("x-h99"), Optional(std::string_view("v99")));
}

TEST(HttpRequestTest, OneHeaderTooManyIs431) {
  const std::string input = RequestWithHeaders(101);
  ExpectError(input, 431);
  // As soon as the first byte of the 101st header line arrives.
  const size_t start_of_101st = RequestWithHeaders(100).size() - 2;
  EXPECT_TRUE(ParseRequest(input.substr(0, start_of_101st)).need_more());
  ExpectError(input.substr(0, start_of_101st + 1), 431);
}

TEST(HttpRequestTest, CustomLimits) {
  ParserLimits limits;
  limits.max_headers = 2;
  EXPECT_TRUE(ParseRequest(RequestWithHeaders(2), limits).complete());
  ExpectError(RequestWithHeaders(3), 431, limits);

  // Never more than the request's fixed header array.
  limits.max_headers = 1000;
  EXPECT_TRUE(ParseRequest(RequestWithHeaders(100), limits).complete());
  ExpectError(RequestWithHeaders(101), 431, limits);

  limits = ParserLimits();
  limits.max_head_bytes = 64;
  EXPECT_TRUE(ParseRequest(RequestWithHeadSize(64), limits).complete());
  ExpectError(RequestWithHeadSize(65), 431, limits);
  ExpectError(RequestLineWithSize(65) + "\r\n", 414, limits);
}

// --- Incremental parsing and pipelining -----------------------------------------------------

std::vector<std::string> ValidRequests() {
  return {
      "GET / HTTP/1.1\r\n\r\n",
      "GET /index.html HTTP/1.1\r\nHost: localhost:8085\r\nUser-Agent: curl/8.0\r\n"
      "Accept: */*\r\n\r\n",
      "HEAD /a/b?c=d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
      "GET /lf HTTP/1.1\nHost: x\nX-Empty:\n\n",
      "\r\n\nGET /after-empty-lines HTTP/1.0\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nX-Spaces: \t padded \t\r\nContent-Length: 0\r\n\r\n",
      RequestWithHeaders(100),
  };
}

TEST(HttpRequestTest, EveryPrefixOfAValidRequestNeedsMore) {
  for (const std::string& input : ValidRequests()) {
    const ParseResult whole = ParseRequest(input);
    ASSERT_TRUE(whole.complete()) << input;
    ASSERT_EQ(whole.consumed, input.size()) << input;
    for (size_t n = 0; n < input.size(); ++n) {
      // A fresh copy per prefix, so that ASan catches any read past the prefix.
      const std::string prefix = input.substr(0, n);
      const ParseResult partial = ParseRequest(prefix);
      ASSERT_TRUE(partial.need_more()) << "prefix " << n << " of " << input;
      EXPECT_EQ(partial.consumed, 0u);
      EXPECT_EQ(partial.error_status, 0);
    }
  }
}

TEST(HttpRequestTest, ByteByByteFeedingMatchesAllAtOnce) {
  for (const std::string& input : ValidRequests()) {
    std::string buffer;
    ParseResult result;
    for (char c : input) {
      ASSERT_FALSE(result.complete()) << "completed early: " << input;
      buffer += c;
      result = ParseRequest(buffer);
      ASSERT_FALSE(result.error()) << input;
    }
    ASSERT_TRUE(result.complete()) << input;
    ExpectSameRequest(result, ParseRequest(input));
  }
}

TEST(HttpRequestTest, EveryPrefixOfAMaximalHeadNeedsMore) {
  const std::string input = RequestWithHeadSize(kMaxHead);
  for (size_t n = 0; n < input.size(); ++n) {
    ASSERT_TRUE(ParseRequest(std::string_view(input).substr(0, n)).need_more()) << n;
  }
  EXPECT_TRUE(ParseRequest(input).complete());
}

TEST(HttpRequestTest, ThreePipelinedRequests) {
  const std::string first = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string second = "POST /two HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody";
  const std::string third = "HEAD /three HTTP/1.1\r\nConnection: close\r\n\r\n";
  const std::string buffer = first + second + third;
  std::string_view rest = buffer;

  ParseResult result = ParseRequest(rest);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, first.size());
  EXPECT_EQ(result.request.method, "GET");
  EXPECT_EQ(result.request.target, "/one");
  EXPECT_TRUE(result.request.keep_alive);
  rest.remove_prefix(result.consumed);

  result = ParseRequest(rest);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, second.size());
  EXPECT_EQ(result.request.method, "POST");
  EXPECT_EQ(result.request.target, "/two");
  EXPECT_EQ(result.request.content_length, 4u);
  rest.remove_prefix(result.consumed);

  result = ParseRequest(rest);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, third.size());
  EXPECT_EQ(result.request.method, "HEAD");
  EXPECT_EQ(result.request.target, "/three");
  EXPECT_FALSE(result.request.keep_alive);
  rest.remove_prefix(result.consumed);
  EXPECT_TRUE(rest.empty());
  EXPECT_TRUE(ParseRequest(rest).need_more());
}

TEST(HttpRequestTest, PipelinedRequestAfterPartialSecond) {
  const std::string first = "GET /one HTTP/1.1\r\n\r\n";
  const std::string buffer = first + "GET /tw";
  const ParseResult result = ParseRequest(buffer);
  ASSERT_TRUE(result.complete());
  EXPECT_EQ(result.consumed, first.size());
  EXPECT_TRUE(ParseRequest(std::string_view(buffer).substr(result.consumed)).need_more());
}

}  // namespace
}  // namespace hs
