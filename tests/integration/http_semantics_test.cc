// Issue 14 over every model, as real processes over real sockets: byte ranges sent with sendfile
// from an offset (every driver), entity tags and the conditional requests, the Host rule, the
// 403 for a folder without index.html and the Content-Type from the MIME table -- plus curl's
// own range and resume options against each server.
#include <sys/stat.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/models.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"

namespace hs::testing {
namespace {

std::string ModelName(const ::testing::TestParamInfo<ModelInfo>& info) { return info.param.binary; }

constexpr size_t kDataSize = 10000;
constexpr size_t kBigSize = 4 * 1024 * 1024;  // far more than a socket buffer: many sendfiles

class HttpSemanticsTest : public ::testing::TestWithParam<ModelInfo> {
 protected:
  HttpSemanticsTest() {
    dir_.Write("index.html", "<p>index</p>\n");
    dir_.Write("data.bin", data_);
    dir_.Write("big.bin", big_);
    dir_.Write("style.css", "p { color: red }\n");
    dir_.Write("empty/.keep", "");  // a folder without index.html
  }
  ServerProcess Start() { return ServerProcess(GetParam().binary, {"-f", dir_.path()}); }

  // One GET of `path` with `headers` ("Name: value\r\n" lines) on a fresh connection.
  std::optional<HttpResponse> GetWith(int port, const std::string& path, const std::string& headers,
                                      bool head = false) {
    return Fetch(
        port,
        absl::StrCat(head ? "HEAD " : "GET ", path,
                     " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n", headers, "\r\n"),
        head);
  }
  // The ETag the server must give `name`: nginx's "<mtime hex>-<size hex>".
  std::string ExpectedETag(const std::string& name) const {
    struct stat st;
    EXPECT_EQ(stat((dir_.path() + "/" + name).c_str(), &st), 0);
    return absl::StrFormat("\"%x-%x\"", st.st_mtim.tv_sec, st.st_size);
  }

  const std::string data_ = PseudoRandomBytes(kDataSize);
  const std::string big_ = PseudoRandomBytes(kBigSize);
  TempDir dir_;
};

TEST_P(HttpSemanticsTest, SingleRangesSendExactlyThoseBytes) {
  ServerProcess server = Start();
  struct Case {
    std::string range;
    std::string file;
    size_t first;
    size_t length;
  };
  for (const Case& c : std::vector<Case>{
           {"bytes=0-99", "data.bin", 0, 100},
           {"bytes=100-", "data.bin", 100, kDataSize - 100},
           {"bytes=-500", "data.bin", kDataSize - 500, 500},
           {"bytes=9000-99999", "data.bin", 9000, 1000},  // clipped to the end
           {"bytes=1000000-3999999", "big.bin", 1000000, 3000000},
       }) {
    SCOPED_TRACE(c.range);
    auto r = GetWith(server.port(), "/" + c.file, "Range: " + c.range + "\r\n");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status_line, "HTTP/1.1 206 Partial Content");
    const size_t size = c.file == "big.bin" ? kBigSize : kDataSize;
    EXPECT_EQ(r->Header("content-range"),
              absl::StrCat("bytes ", c.first, "-", c.first + c.length - 1, "/", size));
    EXPECT_EQ(r->Header("content-length"), std::to_string(c.length));
    EXPECT_EQ(r->Header("accept-ranges"), "bytes");
    EXPECT_EQ(r->Header("content-type"), "application/octet-stream");
    const std::string& whole = c.file == "big.bin" ? big_ : data_;
    ASSERT_EQ(r->body.size(), c.length);
    EXPECT_TRUE(r->body == whole.substr(c.first, c.length)) << "wrong bytes";
  }
  // HEAD mirrors GET: the 206 head, and not one body byte.
  Fd fd = Connect(server.port());
  SendRaw(fd.get(), "HEAD /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99\r\n\r\n");
  auto head = ReadResponse(fd.get(), /*head_only=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 206);
  EXPECT_EQ(head->Header("content-length"), "100");
  EXPECT_EQ(head->Header("content-range"), "bytes 0-99/10000");
  if (GetParam().keep_alive) {  // the next answer follows at once: no body was sent
    SendRaw(fd.get(), Get("/index.html"));
    auto next = ReadResponse(fd.get());
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->body, "<p>index</p>\n");
  } else {
    EXPECT_TRUE(PeerClosed(fd.get()));
  }
}

TEST_P(HttpSemanticsTest, UnsatisfiableInvalidSeveralAndStaleRanges) {
  ServerProcess server = Start();
  auto unsatisfiable = GetWith(server.port(), "/data.bin", "Range: bytes=10000-\r\n");
  ASSERT_TRUE(unsatisfiable.has_value());
  EXPECT_EQ(unsatisfiable->status_line, "HTTP/1.1 416 Range Not Satisfiable");
  EXPECT_EQ(unsatisfiable->Header("content-range"), "bytes */10000");
  EXPECT_TRUE(absl::StrContains(unsatisfiable->body, "416")) << unsatisfiable->body;

  const std::string etag = ExpectedETag("data.bin");
  for (const std::string headers : {
           "Range: bytes=50-10\r\n",                     // invalid: ignored
           "Range: pages=1-2\r\n",                       // another unit: ignored
           "Range: bytes=0-9,20-29\r\n",                 // several ranges: the whole file
           "Range: bytes=0-9\r\nIf-Range: \"old\"\r\n",  // another version: the whole file
           "Range: bytes=0-9\r\nIf-Range: Thu, 01 Jan 1970 00:00:00 GMT\r\n",
       }) {
    SCOPED_TRACE(headers);
    auto r = GetWith(server.port(), "/data.bin", headers);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status_line, "HTTP/1.1 200 OK");
    EXPECT_EQ(r->headers.count("content-range"), 0u);
    EXPECT_EQ(r->Header("etag"), etag);
    EXPECT_TRUE(r->body == data_);
  }
  // If-Range naming the current version: the range.
  auto current =
      GetWith(server.port(), "/data.bin", "Range: bytes=0-9\r\nIf-Range: " + etag + "\r\n");
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->status, 206);
  EXPECT_EQ(current->body, data_.substr(0, 10));
}

TEST_P(HttpSemanticsTest, EntityTagsAndPreconditions) {
  ServerProcess server = Start();
  const std::string etag = ExpectedETag("data.bin");
  auto plain = GetWith(server.port(), "/data.bin", "");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->status, 200);
  EXPECT_EQ(plain->Header("etag"), etag);
  EXPECT_EQ(plain->Header("accept-ranges"), "bytes");

  // Revalidation by entity tag, weak or strong, on a connection that must stay in step.
  Fd fd = Connect(server.port());
  SendRaw(fd.get(), "GET /data.bin HTTP/1.1\r\nHost: x\r\nIf-None-Match: W/" + etag + "\r\n\r\n");
  auto not_modified = ReadResponse(fd.get());
  ASSERT_TRUE(not_modified.has_value());
  EXPECT_EQ(not_modified->status_line, "HTTP/1.1 304 Not Modified");
  EXPECT_EQ(not_modified->Header("etag"), etag);
  EXPECT_EQ(not_modified->Header("last-modified"), plain->Header("last-modified"));
  EXPECT_EQ(not_modified->headers.count("content-type"), 0u);
  if (GetParam().keep_alive) {
    SendRaw(fd.get(), Get("/index.html"));
    auto next = ReadResponse(fd.get());
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->body, "<p>index</p>\n");
  }
  // If-None-Match wins over If-Modified-Since: another tag means the file, whatever the date.
  auto changed = GetWith(
      server.port(), "/data.bin",
      "If-None-Match: \"other\"\r\nIf-Modified-Since: " + plain->Header("last-modified") + "\r\n");
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ(changed->status, 200);
  EXPECT_TRUE(changed->body == data_);

  for (const std::string headers :
       {"If-Match: \"other\"\r\n", "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n"}) {
    SCOPED_TRACE(headers);
    auto failed = GetWith(server.port(), "/data.bin", headers);
    ASSERT_TRUE(failed.has_value());
    EXPECT_EQ(failed->status_line, "HTTP/1.1 412 Precondition Failed");
    EXPECT_EQ(failed->Header("etag"), etag);
    EXPECT_TRUE(absl::StrContains(failed->body, "412 Precondition Failed")) << failed->body;
  }
  auto matched = GetWith(server.port(), "/data.bin", "If-Match: \"x\", " + etag + "\r\n");
  ASSERT_TRUE(matched.has_value());
  EXPECT_EQ(matched->status, 200);
}

TEST_P(HttpSemanticsTest, Http11WithoutHostIs400ThatSaysWhy) {
  ServerProcess server = Start();
  Fd fd = Connect(server.port());
  SendRaw(fd.get(), "GET /index.html HTTP/1.1\r\n\r\n");
  auto r = ReadResponse(fd.get());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status_line, "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(absl::StrContains(r->body, "<p>HTTP/1.1 requests need a Host header")) << r->body;
  EXPECT_TRUE(PeerClosed(fd.get()));
  auto old = Fetch(server.port(), "GET /index.html HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->status_line, "HTTP/1.0 200 OK");
  EXPECT_EQ(old->body, "<p>index</p>\n");
}

TEST_P(HttpSemanticsTest, FolderWithoutIndexIs403AndTypesComeFromTheTable) {
  ServerProcess server = Start();
  auto folder = Fetch(server.port(), Get("/empty/"));
  ASSERT_TRUE(folder.has_value());
  EXPECT_EQ(folder->status_line, "HTTP/1.1 403 Forbidden");
  auto missing = Fetch(server.port(), Get("/nothing/"));
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status, 404);
  auto css = Fetch(server.port(), Get("/style.css"));
  ASSERT_TRUE(css.has_value());
  EXPECT_EQ(css->Header("content-type"), "text/css");  // no charset: as nginx sends it
  EXPECT_EQ(css->body, "p { color: red }\n");
}

// What users type: curl -r for a range, curl -C - to resume a download cut short.
TEST_P(HttpSemanticsTest, CurlRangeAndResume) {
  ServerProcess server = Start();
  const std::string url = absl::StrCat("http://127.0.0.1:", server.port(), "/big.bin");
  TempDir out;
  const std::string part = out.path() + "/part";
  CommandResult r = RunCommand({"/usr/bin/env", "curl", "-sS", "-f", "-r", "0-99", "-o", part, url},
                               absl::Seconds(20));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(ReadFile(part) == big_.substr(0, 100));

  const std::string resumed = out.path() + "/resumed";
  out.Write("resumed", big_.substr(0, 1234567));  // a download cut short
  r = RunCommand({"/usr/bin/env", "curl", "-sS", "-f", "-C", "-", "-o", resumed, "-w",
                  "%{http_code} %{size_download}", url},
                 absl::Seconds(30));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, absl::StrCat("206 ", kBigSize - 1234567));
  const std::string file = ReadFile(resumed);
  ASSERT_EQ(file.size(), kBigSize);
  EXPECT_TRUE(file == big_) << "the resumed file differs";
}

INSTANTIATE_TEST_SUITE_P(AllModels, HttpSemanticsTest, ::testing::ValuesIn(Models()), ModelName);

}  // namespace
}  // namespace hs::testing
