// Tests for the file responder and the document root, against a real document root built in a
// temporary directory (with symlinks, a FIFO and a secret file just outside the root).
#include "common/file_responder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/document_root.h"
#include "common/http_request.h"
#include "common/http_response.h"
#include "common/socket.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hs {

namespace {

using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

namespace fs = std::filesystem;

constexpr char kDateRegex[] =
    "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
    "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT";
constexpr char kSecret[] = "TOP-SECRET-DO-NOT-SERVE";
constexpr char kPng[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR-some-bytes";
constexpr char kCustom404[] = "<html><body>custom not found</body></html>\n";
// A directory name that would inject a header if the Location were not percent-encoded.
constexpr char kInjectDir[] = "x\r\nSet-Cookie: a=b";

// ---------------------------------------------------------------------------------------------
// A real document root:
//   <base>/secret.txt                  outside the root: must never be served
//   <base>/root/                       index.html page.html a.png 404.html "hello world.txt"
//               sub/index.html sub/up_link.html -> ../page.html   nodir/   "my dir/"
//               inside_link.html -> page.html     sublink -> sub
//               passwd_link -> /etc/passwd        secret_link -> ../secret.txt
//               abs_secret_link -> <base>/secret.txt             loop -> loop
//               fifo (a FIFO)      unreadable.txt (mode 000)      "x\r\nSet-Cookie: a=b/"
//   <base>/plain/index.html            a root without 404.html

void WriteFile(const fs::path& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  ASSERT_TRUE(out.good()) << path;
}

class FileResponderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/hs_responder_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr) << strerror(errno);
    base_ = new fs::path(pattern);
    const fs::path root = *base_ / "root";
    fs::create_directories(root / "sub");
    fs::create_directories(root / "nodir");
    fs::create_directories(root / "my dir");
    fs::create_directories(root / kInjectDir);
    fs::create_directories(*base_ / "plain");
    WriteFile(*base_ / "secret.txt", kSecret);
    WriteFile(root / "index.html", "<h1>home</h1>\n");
    WriteFile(root / "page.html", "<p>page</p>\n");
    // Changed on 1 Jan 2020: the conditional tests send dates up to a day after that, which must
    // lie in the past (a date in the future is ignored).
    const timespec changed[2] = {{.tv_sec = 1577836800}, {.tv_sec = 1577836800}};
    ASSERT_EQ(utimensat(AT_FDCWD, (root / "page.html").c_str(), changed, 0), 0) << strerror(errno);
    WriteFile(root / "a.png", std::string_view(kPng, sizeof(kPng) - 1));
    WriteFile(root / "404.html", kCustom404);
    WriteFile(root / "hello world.txt", "hello\n");
    WriteFile(root / "sub" / "index.html", "<h1>sub</h1>\n");
    WriteFile(root / "my dir" / "index.html", "<h1>my dir</h1>\n");
    WriteFile(*base_ / "plain" / "index.html", "<h1>plain</h1>\n");
    fs::create_symlink("page.html", root / "inside_link.html");
    fs::create_symlink("../page.html", root / "sub" / "up_link.html");
    fs::create_directory_symlink("sub", root / "sublink");
    fs::create_symlink("/etc/passwd", root / "passwd_link");
    fs::create_symlink("../secret.txt", root / "secret_link");
    fs::create_symlink(*base_ / "secret.txt", root / "abs_secret_link");
    fs::create_symlink("loop", root / "loop");
    ASSERT_EQ(mkfifo((root / "fifo").c_str(), 0644), 0) << strerror(errno);
    WriteFile(root / "unreadable.txt", "unreadable\n");
    ASSERT_EQ(chmod((root / "unreadable.txt").c_str(), 0), 0);
  }

  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(*base_, ignored);
    delete base_;
    base_ = nullptr;
  }

  void SetUp() override {
    absl::StatusOr<DocumentRoot> root = DocumentRoot::Open((*base_ / "root").string());
    ASSERT_TRUE(root.ok()) << root.status();
    root_ = std::make_unique<DocumentRoot>(*std::move(root));
    absl::StatusOr<DocumentRoot> plain = DocumentRoot::Open((*base_ / "plain").string());
    ASSERT_TRUE(plain.ok()) << plain.status();
    plain_ = std::make_unique<DocumentRoot>(*std::move(plain));
  }

  static HttpRequest Request(std::string_view method, std::string_view target,
                             int version_minor = 1, bool keep_alive = true) {
    HttpRequest request;
    request.method = method;
    request.target = target;
    request.version_minor = version_minor;
    request.keep_alive = keep_alive;
    return request;
  }

  ResponsePlan Get(std::string_view target) const {
    return Respond(Request("GET", target), *root_, /*keep_alive_allowed=*/true);
  }

  static fs::path Base() { return *base_; }

  static fs::path* base_;
  std::unique_ptr<DocumentRoot> root_;
  std::unique_ptr<DocumentRoot> plain_;
};

fs::path* FileResponderTest::base_ = nullptr;

struct ParsedHead {
  std::string status_line;
  std::vector<std::string> names;  // in order
  std::map<std::string, std::string> values;
};

ParsedHead Parse(const std::string& head) {
  ParsedHead parsed;
  EXPECT_EQ(head.find("\r\n\r\n"), head.size() - 4) << "head must end with one blank line";
  std::vector<std::string> lines = absl::StrSplit(head.substr(0, head.size() - 4), "\r\n");
  parsed.status_line = lines.front();
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(": ");
    EXPECT_NE(colon, std::string::npos) << lines[i];
    const std::string name = lines[i].substr(0, colon);
    EXPECT_EQ(parsed.values.count(name), 0u) << "duplicate header " << name;
    parsed.names.push_back(name);
    parsed.values[name] = lines[i].substr(colon + 2);
  }
  return parsed;
}

std::string ReadAll(const Fd& file) {
  std::string contents;
  char buffer[4096];
  off_t offset = 0;
  for (;;) {
    const ssize_t n = pread(file.get(), buffer, sizeof(buffer), offset);
    if (n <= 0) break;
    contents.append(buffer, static_cast<size_t>(n));
    offset += n;
  }
  return contents;
}

// What a server would send as the body.
std::string Body(const ResponsePlan& plan) {
  if (plan.file && !plan.file->in_memory()) {
    return ReadAll(plan.file->file).substr(plan.file_offset, plan.file_size);
  }
  return std::string(plan.InMemoryBody());
}

void ExpectCommonHeaders(const ParsedHead& head) {
  EXPECT_THAT(head.values.at("Date"), MatchesRegex(kDateRegex));
  EXPECT_EQ(head.values.at("Server"), kServerName);
  EXPECT_EQ(head.values.count("Content-Type"), 1u);
  EXPECT_EQ(head.values.count("Content-Length"), 1u);
  EXPECT_EQ(head.values.count("Connection"), 1u);
}

// --- DocumentRoot ---

TEST_F(FileResponderTest, OpenMissingFolderNamesIt) {
  const std::string missing = (Base() / "no-such-folder").string();
  absl::StatusOr<DocumentRoot> root = DocumentRoot::Open(missing);
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(root.status().message(), HasSubstr(missing));
}

TEST_F(FileResponderTest, OpenFileIsNotADirectory) {
  const std::string file = (Base() / "secret.txt").string();
  absl::StatusOr<DocumentRoot> root = DocumentRoot::Open(file);
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(root.status().message(), HasSubstr(file));
}

TEST_F(FileResponderTest, OpenGivesValidDescriptor) { EXPECT_GE(root_->fd(), 0); }

// --- 200 ---

TEST_F(FileResponderTest, GetFileHasExactHeaders) {
  const ResponsePlan plan = Get("/page.html");
  EXPECT_EQ(plan.status, 200);
  EXPECT_FALSE(plan.close);
  EXPECT_THAT(plan.body, IsEmpty());
  ASSERT_TRUE(plan.file);
  EXPECT_EQ(plan.file_size, 12u);
  EXPECT_EQ(Body(plan), "<p>page</p>\n");

  const ParsedHead head = Parse(plan.head);
  EXPECT_EQ(head.status_line, "HTTP/1.1 200 OK");
  EXPECT_THAT(head.names, ElementsAre("Date", "Server", "Content-Type", "Content-Length",
                                      "Connection", "Last-Modified", "ETag", "Accept-Ranges"));
  ExpectCommonHeaders(head);
  EXPECT_EQ(head.values.at("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(head.values.at("Content-Length"), "12");
  EXPECT_EQ(head.values.at("Connection"), "keep-alive");
  EXPECT_THAT(head.values.at("Last-Modified"), MatchesRegex(kDateRegex));

  struct stat st;
  ASSERT_EQ(stat((Base() / "root" / "page.html").c_str(), &st), 0);
  EXPECT_EQ(head.values.at("Last-Modified"), HttpDate(absl::FromTimeT(st.st_mtime)));
  // nginx's form: mtime 1577836800 = 0x5e0be100, 12 bytes = 0xc.
  EXPECT_EQ(head.values.at("ETag"), "\"5e0be100-c\"");
  EXPECT_EQ(head.values.at("Accept-Ranges"), "bytes");
  EXPECT_EQ(plan.file_offset, 0u);
}

TEST_F(FileResponderTest, GetBinaryFile) {
  const ResponsePlan plan = Get("/a.png");
  EXPECT_EQ(plan.status, 200);
  const ParsedHead head = Parse(plan.head);
  EXPECT_EQ(head.values.at("Content-Type"), "image/png");
  EXPECT_EQ(head.values.at("Content-Length"), absl::StrCat(sizeof(kPng) - 1));
  EXPECT_EQ(plan.file_size, sizeof(kPng) - 1);
  EXPECT_EQ(Body(plan), std::string_view(kPng, sizeof(kPng) - 1));
}

TEST_F(FileResponderTest, IndexMapping) {
  ResponsePlan plan = Get("/");
  EXPECT_EQ(plan.status, 200);
  EXPECT_EQ(Body(plan), "<h1>home</h1>\n");
  plan = Get("/sub/");
  EXPECT_EQ(plan.status, 200);
  EXPECT_EQ(Body(plan), "<h1>sub</h1>\n");
  EXPECT_EQ(Parse(plan.head).values.at("Content-Type"), "text/html; charset=utf-8");
}

TEST_F(FileResponderTest, PercentEncodedNameAndQuery) {
  ResponsePlan plan = Get("/hello%20world.txt?download=1");
  EXPECT_EQ(plan.status, 200);
  EXPECT_EQ(Body(plan), "hello\n");
  EXPECT_EQ(Parse(plan.head).values.at("Content-Type"), "text/plain; charset=utf-8");
  plan = Get("/my%20dir/");
  EXPECT_EQ(plan.status, 200);
  EXPECT_EQ(Body(plan), "<h1>my dir</h1>\n");
}

TEST_F(FileResponderTest, AbsoluteFormTarget) {
  const ResponsePlan plan = Get("http://localhost:8085/page.html");
  EXPECT_EQ(plan.status, 200);
  EXPECT_EQ(Body(plan), "<p>page</p>\n");
}

TEST_F(FileResponderTest, SymlinksInsideTheRootAreFollowed) {
  ResponsePlan plan = Get("/inside_link.html");
  EXPECT_EQ(plan.status, 200);
  EXPECT_EQ(Body(plan), "<p>page</p>\n");
  plan = Get("/sub/up_link.html");
  EXPECT_EQ(plan.status, 200);
  EXPECT_EQ(Body(plan), "<p>page</p>\n");
  plan = Get("/sublink/");
  EXPECT_EQ(plan.status, 200);
  EXPECT_EQ(Body(plan), "<h1>sub</h1>\n");
}

TEST_F(FileResponderTest, HeadHasSameHeadersAndNoBody) {
  const ResponsePlan get = Get("/page.html");
  const ResponsePlan head =
      Respond(Request("HEAD", "/page.html"), *root_, /*keep_alive_allowed=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_FALSE(head.file);
  EXPECT_EQ(head.file_size, 0u);
  EXPECT_THAT(head.body, IsEmpty());
  ParsedHead get_head = Parse(get.head);
  ParsedHead head_head = Parse(head.head);
  EXPECT_EQ(head_head.status_line, get_head.status_line);
  EXPECT_EQ(head_head.names, get_head.names);
  get_head.values.erase("Date");  // may tick between the two calls
  head_head.values.erase("Date");
  EXPECT_EQ(head_head.values, get_head.values);
  EXPECT_EQ(head_head.values.at("Content-Length"), "12");
}

// --- 304 ---

// A request carrying these headers (name, value), as the parser would hand it over.
HttpRequest WithHeaders(HttpRequest request,
                        std::vector<std::pair<std::string_view, std::string_view>> headers) {
  for (const auto& [name, value] : headers) request.headers[request.header_count++] = {name, value};
  return request;
}

// page.html's entity tag: changed 2020-01-01 (0x5e0be100), 12 bytes.
constexpr char kPageTag[] = "\"5e0be100-c\"";

class ConditionalGetTest : public FileResponderTest {
 protected:
  // page.html's Last-Modified, shifted by `seconds`.
  static std::string PageModifiedPlus(int seconds) {
    struct stat st;
    EXPECT_EQ(stat((Base() / "root" / "page.html").c_str(), &st), 0);
    return HttpDate(absl::FromTimeT(st.st_mtime) + absl::Seconds(seconds));
  }
  ResponsePlan Conditional(std::string_view method,
                           std::vector<std::pair<std::string_view, std::string_view>> headers) {
    return Respond(WithHeaders(Request(method, "/page.html"), std::move(headers)), *root_,
                   /*keep_alive_allowed=*/true);
  }
};

TEST_F(ConditionalGetTest, UnchangedSinceIsNotModified) {
  for (const int shift : {0, 1, 86400}) {
    const std::string since = PageModifiedPlus(shift);
    SCOPED_TRACE(since);
    const ResponsePlan plan = Conditional("GET", {{"If-Modified-Since", since}});
    EXPECT_EQ(plan.status, 304);
    EXPECT_FALSE(plan.file);
    EXPECT_THAT(plan.body, IsEmpty());
    EXPECT_FALSE(plan.close);
    const ParsedHead head = Parse(plan.head);
    EXPECT_EQ(head.status_line, "HTTP/1.1 304 Not Modified");
    EXPECT_THAT(head.names, ElementsAre("Date", "Server", "Content-Length", "Connection",
                                        "Last-Modified", "ETag"));
    EXPECT_EQ(head.values.at("Content-Length"), "12");  // what a 200 would have sent
    EXPECT_EQ(head.values.at("Last-Modified"), PageModifiedPlus(0));
    EXPECT_EQ(head.values.at("ETag"), kPageTag);
  }
}

TEST_F(ConditionalGetTest, HeadIsNotModifiedToo) {
  const ResponsePlan plan = Conditional("HEAD", {{"if-modified-since", PageModifiedPlus(0)}});
  EXPECT_EQ(plan.status, 304);
  EXPECT_FALSE(plan.file);
  EXPECT_THAT(plan.body, IsEmpty());
}

TEST_F(ConditionalGetTest, ChangedSinceSendsTheFile) {
  const ResponsePlan plan = Conditional("GET", {{"If-Modified-Since", PageModifiedPlus(-1)}});
  EXPECT_EQ(plan.status, 200);
  EXPECT_EQ(Body(plan), "<p>page</p>\n");
}

TEST_F(ConditionalGetTest, OtherDateFormsAreUnderstood) {
  // The same instant in RFC 850 form, one day after the file changed.
  const absl::Time later = *ParseHttpDate(PageModifiedPlus(86400));
  const std::string rfc850 =
      absl::FormatTime("%A, %d-%b-%y %H:%M:%S GMT", later, absl::UTCTimeZone());
  EXPECT_EQ(Conditional("GET", {{"If-Modified-Since", rfc850}}).status, 304);
}

TEST_F(ConditionalGetTest, BadDateOrIfNoneMatchIsIgnored) {
  EXPECT_EQ(Conditional("GET", {{"If-Modified-Since", "not a date"}}).status, 200);
  EXPECT_EQ(Conditional("GET", {{"If-Modified-Since", ""}}).status, 200);
  EXPECT_EQ(
      Conditional("GET", {{"If-None-Match", "\"abc\""}, {"If-Modified-Since", PageModifiedPlus(0)}})
          .status,
      200);
}

// RFC 9110 13.1.3: a date later than the server's clock is invalid. Honouring it would keep a
// client's copy "current" until then, however often the file changed.
TEST_F(ConditionalGetTest, DateInTheFutureIsIgnored) {
  for (const std::string& since :
       {std::string("Fri, 01 Jan 2100 00:00:00 GMT"), HttpDate(absl::Now() + absl::Hours(1))}) {
    SCOPED_TRACE(since);
    const ResponsePlan plan = Conditional("GET", {{"If-Modified-Since", since}});
    EXPECT_EQ(plan.status, 200);
    EXPECT_EQ(Body(plan), "<p>page</p>\n");
    EXPECT_EQ(Parse(plan.head).status_line, "HTTP/1.1 200 OK");
  }
}

TEST_F(ConditionalGetTest, MatchingEntityTagIsNotModified) {
  for (const std::string_view tags :
       {"\"5e0be100-c\"", "W/\"5e0be100-c\"", "*", "\"a\", \"5e0be100-c\""}) {
    SCOPED_TRACE(tags);
    const ResponsePlan plan = Conditional("GET", {{"If-None-Match", tags}});
    EXPECT_EQ(plan.status, 304);
    EXPECT_FALSE(plan.file);
    const ParsedHead head = Parse(plan.head);
    EXPECT_EQ(head.values.at("ETag"), kPageTag);
    EXPECT_EQ(head.values.at("Last-Modified"), PageModifiedPlus(0));
  }
  const ResponsePlan other = Conditional("GET", {{"If-None-Match", "\"5e0be100-d\""}});
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(Body(other), "<p>page</p>\n");
}

TEST_F(ConditionalGetTest, FailedPreconditionIs412WithTheEntityTag) {
  for (const auto& [name, value] : std::vector<std::pair<std::string_view, std::string>>{
           {"If-Match", "\"other\""}, {"If-Unmodified-Since", PageModifiedPlus(-1)}}) {
    SCOPED_TRACE(name);
    const ResponsePlan plan = Conditional("GET", {{name, value}});
    EXPECT_EQ(plan.status, 412);
    EXPECT_FALSE(plan.file);
    EXPECT_THAT(plan.body, HasSubstr("412 Precondition Failed"));
    const ParsedHead head = Parse(plan.head);
    EXPECT_EQ(head.status_line, "HTTP/1.1 412 Precondition Failed");
    ExpectCommonHeaders(head);
    EXPECT_EQ(head.values.at("ETag"), kPageTag);
    EXPECT_EQ(head.values.at("Connection"), "keep-alive");
  }
  EXPECT_EQ(Conditional("GET", {{"If-Match", kPageTag}}).status, 200);
}

// --- 206 / 416 ---

TEST_F(ConditionalGetTest, SingleRangeIsPartialContentFromAnOffset) {
  // page.html is "<p>page</p>\n": 12 bytes.
  for (const auto& [range, first, length, content_range] :
       std::vector<std::tuple<std::string_view, size_t, size_t, std::string>>{
           {"bytes=0-2", 0, 3, "bytes 0-2/12"},
           {"bytes=3-", 3, 9, "bytes 3-11/12"},
           {"bytes=-5", 7, 5, "bytes 7-11/12"},
           {"bytes=4-100", 4, 8, "bytes 4-11/12"}}) {
    SCOPED_TRACE(range);
    const ResponsePlan plan = Conditional("GET", {{"Range", range}});
    EXPECT_EQ(plan.status, 206);
    ASSERT_TRUE(plan.file);
    EXPECT_EQ(plan.file_offset, first);
    EXPECT_EQ(plan.file_size, length);
    const ParsedHead head = Parse(plan.head);
    EXPECT_EQ(head.status_line, "HTTP/1.1 206 Partial Content");
    EXPECT_THAT(head.names,
                ElementsAre("Date", "Server", "Content-Type", "Content-Length", "Connection",
                            "Last-Modified", "ETag", "Accept-Ranges", "Content-Range"));
    EXPECT_EQ(head.values.at("Content-Length"), absl::StrCat(length));
    EXPECT_EQ(head.values.at("Content-Range"), content_range);
    EXPECT_EQ(head.values.at("Content-Type"), "text/html; charset=utf-8");
  }
}

TEST_F(ConditionalGetTest, HeadOfARangeIsA206HeadWithoutBody) {
  const ResponsePlan plan = Conditional("HEAD", {{"Range", "bytes=0-2"}});
  EXPECT_EQ(plan.status, 206);
  EXPECT_FALSE(plan.file);
  EXPECT_EQ(plan.file_size, 0u);
  EXPECT_THAT(plan.body, IsEmpty());
  const ParsedHead head = Parse(plan.head);
  EXPECT_EQ(head.values.at("Content-Length"), "3");
  EXPECT_EQ(head.values.at("Content-Range"), "bytes 0-2/12");
}

TEST_F(ConditionalGetTest, UnsatisfiableRangeIs416WithTheLength) {
  const ResponsePlan plan = Conditional("GET", {{"Range", "bytes=12-"}});
  EXPECT_EQ(plan.status, 416);
  EXPECT_FALSE(plan.file);
  EXPECT_THAT(plan.body, HasSubstr("416 Range Not Satisfiable"));
  const ParsedHead head = Parse(plan.head);
  EXPECT_EQ(head.status_line, "HTTP/1.1 416 Range Not Satisfiable");
  EXPECT_EQ(head.values.at("Content-Range"), "bytes */12");
  EXPECT_EQ(head.values.at("Content-Length"), absl::StrCat(plan.body.size()));
}

TEST_F(ConditionalGetTest, IgnoredRangesSendTheWholeFile) {
  for (const auto& headers :
       std::vector<std::vector<std::pair<std::string_view, std::string_view>>>{
           {{"Range", "bytes=5-2"}},
           {{"Range", "lines=1-2"}},
           {{"Range", "bytes=0-1,4-5"}},
           {{"Range", "bytes=0-1"}, {"If-Range", "\"5e0be100-d\""}},
           {{"Range", "bytes=0-1"}, {"If-Range", "Thu, 02 Jan 2020 00:00:00 GMT"}}}) {
    const ResponsePlan plan = Conditional("GET", headers);
    EXPECT_EQ(plan.status, 200) << headers.front().second;
    EXPECT_EQ(plan.file_offset, 0u);
    EXPECT_EQ(plan.file_size, 12u);
    EXPECT_EQ(Parse(plan.head).values.count("Content-Range"), 0u);
  }
  EXPECT_EQ(Conditional("GET", {{"Range", "bytes=0-1"}, {"If-Range", kPageTag}}).status, 206);
  EXPECT_EQ(Conditional("GET", {{"Range", "bytes=0-1"}, {"If-Range", PageModifiedPlus(0)}}).status,
            206);
}

TEST_F(ConditionalGetTest, OnlyFilesAreConditional) {
  const std::string since = PageModifiedPlus(86400);
  HttpRequest missing =
      WithHeaders(Request("GET", "/missing.html"), {{"If-Modified-Since", since}});
  EXPECT_EQ(Respond(missing, *root_, /*keep_alive_allowed=*/true).status, 404);
  HttpRequest post = WithHeaders(Request("POST", "/page.html"), {{"If-Modified-Since", since}});
  EXPECT_EQ(Respond(post, *root_, /*keep_alive_allowed=*/true).status, 405);
}

// --- 404 ---

TEST_F(FileResponderTest, MissingUsesRoot404Page) {
  const ResponsePlan plan = Get("/missing.html");
  EXPECT_EQ(plan.status, 404);
  ASSERT_TRUE(plan.file);
  EXPECT_THAT(plan.body, IsEmpty());
  EXPECT_EQ(plan.file_size, sizeof(kCustom404) - 1);
  EXPECT_EQ(Body(plan), kCustom404);
  const ParsedHead head = Parse(plan.head);
  EXPECT_EQ(head.status_line, "HTTP/1.1 404 Not Found");
  ExpectCommonHeaders(head);
  EXPECT_EQ(head.values.at("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(head.values.at("Content-Length"), absl::StrCat(sizeof(kCustom404) - 1));
  EXPECT_EQ(head.values.at("Connection"), "keep-alive");
  EXPECT_FALSE(plan.close);
}

TEST_F(FileResponderTest, MissingWithoutRoot404PageUsesBuiltIn) {
  const ResponsePlan plan =
      Respond(Request("GET", "/missing.html"), *plain_, /*keep_alive_allowed=*/true);
  EXPECT_EQ(plan.status, 404);
  EXPECT_FALSE(plan.file);
  EXPECT_EQ(plan.body,
            "<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
            "<body><h1>404 Not Found</h1></body></html>\n");
  const ParsedHead head = Parse(plan.head);
  EXPECT_EQ(head.values.at("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(head.values.at("Content-Length"), absl::StrCat(plan.body.size()));
}

TEST_F(FileResponderTest, HeadOf404HasLengthButNoBody) {
  const ResponsePlan plan =
      Respond(Request("HEAD", "/missing"), *root_, /*keep_alive_allowed=*/true);
  EXPECT_EQ(plan.status, 404);
  EXPECT_FALSE(plan.file);
  EXPECT_THAT(plan.body, IsEmpty());
  EXPECT_EQ(Parse(plan.head).values.at("Content-Length"), absl::StrCat(sizeof(kCustom404) - 1));

  const ResponsePlan plain =
      Respond(Request("HEAD", "/missing"), *plain_, /*keep_alive_allowed=*/true);
  EXPECT_EQ(plain.status, 404);
  EXPECT_THAT(plain.body, IsEmpty());
  EXPECT_NE(Parse(plain.head).values.at("Content-Length"), "0");
}

TEST_F(FileResponderTest, OtherMissingShapesAre404) {
  for (std::string_view target :
       {"/page.html/", "/page.html/x", "/missing/", "/loop", "/sub/missing.html", "/loop/"}) {
    EXPECT_EQ(Get(target).status, 404) << target;
  }
}

// A folder exists but has no index.html, and we list no folders: 403, as nginx and Apache answer.
TEST_F(FileResponderTest, DirectoryWithoutIndexIs403) {
  for (std::string_view target : {"/nodir/", "/nodir/?x=1", "/./nodir/", "/nodir//"}) {
    SCOPED_TRACE(target);
    const ResponsePlan plan = Get(target);
    EXPECT_EQ(plan.status, 403);
    EXPECT_FALSE(plan.file);
    EXPECT_THAT(plan.body, HasSubstr("403 Forbidden"));
  }
  // The root itself, in a root without index.html.
  absl::StatusOr<DocumentRoot> bare = DocumentRoot::Open((Base() / "root" / "nodir").string());
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(Respond(Request("GET", "/"), *bare, true).status, 403);
  EXPECT_EQ(Respond(Request("GET", "/x/"), *bare, true).status, 404);
}

// --- 301 ---

TEST_F(FileResponderTest, DirectoryWithoutSlashRedirects) {
  for (const auto& [target, location] : std::vector<std::pair<std::string, std::string>>{
           {"/sub", "/sub/"},
           {"/nodir", "/nodir/"},
           {"/sublink", "/sublink/"},
           {"/my%20dir", "/my%20dir/"},
           {"/./sub", "/sub/"},
           {"http://h/sub", "/sub/"},
       }) {
    SCOPED_TRACE(target);
    const ResponsePlan plan = Get(target);
    EXPECT_EQ(plan.status, 301);
    EXPECT_FALSE(plan.file);
    EXPECT_THAT(plan.body, HasSubstr("301 Moved Permanently"));
    const ParsedHead head = Parse(plan.head);
    EXPECT_EQ(head.status_line, "HTTP/1.1 301 Moved Permanently");
    ExpectCommonHeaders(head);
    EXPECT_EQ(head.values.at("Location"), location);
    EXPECT_EQ(head.values.at("Content-Length"), absl::StrCat(plan.body.size()));
  }
}

// The query belongs to the resource; only the fragment (which clients should not send) goes.
TEST_F(FileResponderTest, DirectoryRedirectKeepsTheQuery) {
  for (const auto& [target, location] : std::vector<std::pair<std::string, std::string>>{
           {"/sub?x=1", "/sub/?x=1"},
           {"/sub?a=1&b=%2F%20", "/sub/?a=1&b=%2F%20"},
           {"/my%20dir?q", "/my%20dir/?q"},
           {"http://h/sub?x=1#top", "/sub/?x=1"},
           {"/sub#top?x=1", "/sub/"},
           // Not from the parser, which refuses such a target; escaped all the same.
           {"/sub?a b\r\nSet-Cookie: c=d\x80", "/sub/?a%20b%0D%0ASet-Cookie:%20c=d%80"},
       }) {
    SCOPED_TRACE(target);
    const ResponsePlan plan = Get(target);
    EXPECT_EQ(plan.status, 301);
    EXPECT_EQ(Parse(plan.head).values.at("Location"), location);
  }
}

TEST_F(FileResponderTest, LocationCannotInjectHeaders) {
  const ResponsePlan plan = Get("/x%0D%0ASet-Cookie:%20a=b");
  EXPECT_EQ(plan.status, 301);
  const ParsedHead head = Parse(plan.head);
  EXPECT_EQ(head.values.at("Location"), "/x%0D%0ASet-Cookie:%20a=b/");
  EXPECT_EQ(head.values.count("Set-Cookie"), 0u);
}

// --- 403 / 405 ---

TEST_F(FileResponderTest, FifoIs403WithoutBlocking) {
  const ResponsePlan plan = Get("/fifo");
  EXPECT_EQ(plan.status, 403);
  EXPECT_FALSE(plan.file);
  EXPECT_THAT(plan.body, HasSubstr("403 Forbidden"));
  EXPECT_EQ(Parse(plan.head).status_line, "HTTP/1.1 403 Forbidden");
}

TEST_F(FileResponderTest, UnreadableFile) {
  const ResponsePlan plan = Get("/unreadable.txt");
  if (geteuid() != 0) {
    EXPECT_EQ(plan.status, 403);
    EXPECT_FALSE(plan.file);
  } else {
    // root bypasses file permissions, so the kernel lets the open succeed.
    EXPECT_EQ(plan.status, 200);
  }
}

TEST_F(FileResponderTest, OtherMethodsAre405) {
  for (std::string_view method : {"POST", "PUT", "DELETE", "OPTIONS", "get", "TRACE"}) {
    SCOPED_TRACE(method);
    const ResponsePlan plan =
        Respond(Request(method, "/page.html"), *root_, /*keep_alive_allowed=*/true);
    EXPECT_EQ(plan.status, 405);
    EXPECT_FALSE(plan.file);
    EXPECT_THAT(plan.body, HasSubstr("405 Method Not Allowed"));
    const ParsedHead head = Parse(plan.head);
    EXPECT_EQ(head.status_line, "HTTP/1.1 405 Method Not Allowed");
    ExpectCommonHeaders(head);
    EXPECT_EQ(head.values.at("Allow"), "GET, HEAD");
  }
}

TEST_F(FileResponderTest, BadTargetsAre400) {
  for (std::string_view target : {"/%zz", "/%00", "*", "page.html"}) {
    const ResponsePlan plan = Get(target);
    EXPECT_EQ(plan.status, 400) << target;
    EXPECT_THAT(plan.body, HasSubstr("400 Bad Request"));
  }
}

// --- Never outside the root ---

TEST_F(FileResponderTest, TraversalNeverReachesTheSecret) {
  for (std::string_view target : {
           "/../secret.txt",
           "/%2e%2e/secret.txt",
           "/%2E%2E/secret.txt",
           "/..%2fsecret.txt",
           "/%2e%2e%2fsecret.txt",
           "/sub/../../secret.txt",
           "http://h/../secret.txt",
           "/..\\secret.txt",
           "/%5c..%5csecret.txt",
           "/%252e%252e/secret.txt",
           "/secret_link",
           "/abs_secret_link",
           "/sub/../secret_link",
       }) {
    SCOPED_TRACE(target);
    const ResponsePlan plan = Get(target);
    EXPECT_THAT(plan.status, AnyOf(400, 403, 404));
    EXPECT_THAT(Body(plan), Not(HasSubstr(kSecret)));
  }
  EXPECT_EQ(Get("/../secret.txt").status, 403);
  EXPECT_EQ(Get("/..%2fsecret.txt").status, 403);
}

TEST_F(FileResponderTest, SymlinksLeavingTheRootAre404) {
  for (std::string_view target : {"/secret_link", "/abs_secret_link", "/passwd_link"}) {
    SCOPED_TRACE(target);
    const ResponsePlan plan = Get(target);
    EXPECT_EQ(plan.status, 404);
    const std::string body = Body(plan);
    EXPECT_THAT(body, Not(HasSubstr(kSecret)));
    EXPECT_THAT(body, Not(HasSubstr("root:")));
    EXPECT_EQ(body, kCustom404);
  }
}

// The realpath() fallback used when the kernel has no openat2 must enforce the same boundary.
TEST_F(FileResponderTest, RealpathFallbackStaysBeneathTheRoot) {
  Fd page(internal::OpenBeneathWithRealpath(root_->fd(), "page.html"));
  ASSERT_TRUE(page);
  EXPECT_EQ(ReadAll(page), "<p>page</p>\n");
  Fd link(internal::OpenBeneathWithRealpath(root_->fd(), "sub/up_link.html"));
  ASSERT_TRUE(link);
  EXPECT_EQ(ReadAll(link), "<p>page</p>\n");
  for (const std::string path : {"secret_link", "abs_secret_link", "passwd_link"}) {
    errno = 0;
    EXPECT_EQ(internal::OpenBeneathWithRealpath(root_->fd(), path), -1) << path;
    EXPECT_EQ(errno, EXDEV) << path;
  }
  errno = 0;
  EXPECT_EQ(internal::OpenBeneathWithRealpath(root_->fd(), "missing"), -1);
  EXPECT_EQ(errno, ENOENT);
}

// --- Connection handling ---

struct KeepAliveCase {
  int version_minor;
  bool request_keep_alive;
  bool allowed;
  bool keep;
};

TEST_F(FileResponderTest, KeepAliveCombinations) {
  for (const KeepAliveCase& c : std::vector<KeepAliveCase>{
           {1, true, true, true},
           {1, false, true, false},
           {1, true, false, false},
           {0, true, true, true},  // HTTP/1.0 client that sent "Connection: keep-alive"
           {0, false, true, false},
           {0, true, false, false},
       }) {
    SCOPED_TRACE(absl::StrCat("1.", c.version_minor, " keep_alive=", c.request_keep_alive,
                              " allowed=", c.allowed));
    for (std::string_view target : {"/page.html", "/missing", "/sub", "/%zz"}) {
      SCOPED_TRACE(target);
      const ResponsePlan plan =
          Respond(Request("GET", target, c.version_minor, c.request_keep_alive), *root_, c.allowed);
      EXPECT_EQ(plan.close, !c.keep);
      const ParsedHead head = Parse(plan.head);
      EXPECT_THAT(head.status_line, StartsWith(c.version_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 "));
      EXPECT_EQ(head.values.at("Connection"), c.keep ? "keep-alive" : "close");
    }
  }
}

// --- ErrorResponse ---

TEST(ErrorResponseTest, ClosesWithSmallPage) {
  for (int status : {400, 408, 413, 414, 431, 501, 505}) {
    SCOPED_TRACE(status);
    const ResponsePlan plan = ErrorResponse(status);
    EXPECT_EQ(plan.status, status);
    EXPECT_TRUE(plan.close);
    EXPECT_FALSE(plan.file);
    const std::string title = absl::StrCat(status, " ", std::string(ReasonPhrase(status)));
    EXPECT_EQ(plan.body, absl::StrCat("<!DOCTYPE html><html><head><title>", title,
                                      "</title></head><body><h1>", title, "</h1></body></html>\n"));
    const ParsedHead head = Parse(plan.head);
    EXPECT_EQ(head.status_line, absl::StrCat("HTTP/1.1 ", title));
    ExpectCommonHeaders(head);
    EXPECT_EQ(head.values.at("Connection"), "close");
    EXPECT_EQ(head.values.at("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(head.values.at("Content-Length"), absl::StrCat(plan.body.size()));
    EXPECT_EQ(head.values.count("Allow"), 0u);
  }
}

TEST(ErrorResponseTest, Http10AndAllow) {
  ResponsePlan plan = ErrorResponse(505, 0);
  EXPECT_THAT(plan.head, StartsWith("HTTP/1.0 505 HTTP Version Not Supported\r\n"));
  plan = ErrorResponse(405);
  EXPECT_EQ(Parse(plan.head).values.at("Allow"), "GET, HEAD");
  EXPECT_TRUE(plan.close);
}

}  // namespace
}  // namespace hs
