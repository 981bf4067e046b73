// Tests for the Content-Type table: the mime.types parser (fed text, not the host's file), the
// built-in table, the charset rule, and reading a file.
#include "common/mime.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace hs {
namespace {

constexpr char kSample[] = R"(# a comment line
text/html				html htm shtml
text/css					css
text/plain					txt text
image/PNG					PNG
text/javascript					es js mjs  # trailing comment
application/x-sh				sh
text/x-sh					sh
application/tm+json				tm.json
application/no-extensions
not-a-type					xyz
image/jpeg					jpeg jpg jpe
)";

TEST(MimeTableTest, ParsesTheMimeTypesFormat) {
  const MimeTable table = MimeTable::Parse(kSample);
  EXPECT_EQ(table.TypeOf("a.css"), "text/css");
  EXPECT_EQ(table.TypeOf("a.shtml"), "text/html; charset=utf-8");
  EXPECT_EQ(table.TypeOf("a.text"), "text/plain; charset=utf-8");
  EXPECT_EQ(table.TypeOf("a.mjs"), "text/javascript");
  EXPECT_EQ(table.TypeOf("a.jpe"), "image/jpeg");
  EXPECT_EQ(table.TypeOf("a.png"), "image/png");        // types and extensions lower-cased
  EXPECT_EQ(table.TypeOf("a.sh"), "application/x-sh");  // the first line wins
  EXPECT_EQ(table.TypeOf("a.json"), kUnknownType);      // "tm.json" is not "json"
  EXPECT_EQ(table.TypeOf("a.tm.json"), kUnknownType);   // nor looked up whole
  EXPECT_EQ(table.TypeOf("a.xyz"), kUnknownType);       // a line without a type/subtype
  EXPECT_EQ(table.TypeOf("a.comment"), kUnknownType);   // comments are not extensions
  EXPECT_EQ(table.size(), 14u);
  EXPECT_EQ(MimeTable::Parse("").size(), 0u);
  EXPECT_EQ(MimeTable::Parse("# nothing\n\n   \n").size(), 0u);
  EXPECT_EQ(MimeTable::Parse("text/css css").TypeOf("x.css"), "text/css");  // no final newline
  EXPECT_EQ(MimeTable::Parse("text/css\tcss\r\n").TypeOf("x.css"), "text/css");
}

// Only text/html and text/plain carry a charset (see mime.cc): text/css is sent bare, as nginx
// sends it.
TEST(MimeTableTest, CharsetOnlyForHtmlAndPlainText) {
  const MimeTable table = MimeTable::Parse("TEXT/HTML html\ntext/csv csv\ntext/markdown md\n");
  EXPECT_EQ(table.TypeOf("a.html"), "text/html; charset=utf-8");
  EXPECT_EQ(table.TypeOf("a.csv"), "text/csv");
  EXPECT_EQ(table.TypeOf("a.md"), "text/markdown");
}

TEST(MimeTableTest, BuiltInTable) {
  const MimeTable table = MimeTable::BuiltIn();
  EXPECT_EQ(table.TypeOf("a.html"), "text/html; charset=utf-8");
  EXPECT_EQ(table.TypeOf("a.htm"), "text/html; charset=utf-8");
  EXPECT_EQ(table.TypeOf("a.css"), "text/css");
  EXPECT_EQ(table.TypeOf("a.js"), "text/javascript");
  EXPECT_EQ(table.TypeOf("a.mjs"), "text/javascript");
  EXPECT_EQ(table.TypeOf("a.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(table.TypeOf("a.json"), "application/json");
  EXPECT_EQ(table.TypeOf("a.wasm"), "application/wasm");
  EXPECT_EQ(table.TypeOf("a.png"), "image/png");
  EXPECT_EQ(table.TypeOf("a.jpg"), "image/jpeg");
  EXPECT_EQ(table.TypeOf("a.jpeg"), "image/jpeg");
  EXPECT_EQ(table.TypeOf("a.gif"), "image/gif");
  EXPECT_EQ(table.TypeOf("a.svg"), "image/svg+xml");
  EXPECT_EQ(table.TypeOf("a.ico"), "image/vnd.microsoft.icon");
  EXPECT_EQ(table.TypeOf("a.webp"), "image/webp");
  EXPECT_EQ(table.TypeOf("a.woff2"), "font/woff2");
}

TEST(MimeTableTest, CaseInsensitive) {
  const MimeTable table = MimeTable::BuiltIn();
  EXPECT_EQ(table.TypeOf("PHOTO.JPG"), "image/jpeg");
  EXPECT_EQ(table.TypeOf("Index.HtMl"), "text/html; charset=utf-8");
  EXPECT_EQ(table.TypeOf("x.PNG"), "image/png");
}

TEST(MimeTableTest, UsesLastExtensionOfLastComponent) {
  const MimeTable table = MimeTable::BuiltIn();
  EXPECT_EQ(table.TypeOf("docs/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(table.TypeOf("archive.tar.gz"), "application/gzip");
  EXPECT_EQ(table.TypeOf("page.html.bak"), kUnknownType);
  EXPECT_EQ(table.TypeOf("dir.html/readme"), kUnknownType);
  EXPECT_EQ(table.TypeOf("a.min.js"), "text/javascript");
}

TEST(MimeTableTest, Unknown) {
  const MimeTable table = MimeTable::BuiltIn();
  EXPECT_EQ(table.TypeOf("README"), "application/octet-stream");
  EXPECT_EQ(table.TypeOf("a.exe"), kUnknownType);
  EXPECT_EQ(table.TypeOf("a."), kUnknownType);
  EXPECT_EQ(table.TypeOf(""), kUnknownType);
  EXPECT_EQ(table.TypeOf("a.htmlx"), kUnknownType);
  EXPECT_EQ(table.TypeOf("a." + std::string(40, 'h')), kUnknownType);  // too long to look up
}

// Until a server installs another table, MimeType() answers from the built-in one.
TEST(MimeTypeTest, DefaultsToTheBuiltInTable) {
  EXPECT_EQ(MimeType("a/b.css"), "text/css");
  EXPECT_EQ(MimeType("a/b.html"), "text/html; charset=utf-8");
  EXPECT_EQ(MimeType("a/b"), kUnknownType);
}

TEST(MimeTypeTest, ReadMimeTypesFromAFile) {
  char path[] = "/tmp/mime_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << kSample;
  absl::StatusOr<MimeTable> table = ReadMimeTypes(path);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->TypeOf("x.jpe"), "image/jpeg");

  std::ofstream(path) << "# only comments\n";
  table = ReadMimeTypes(path);
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  unlink(path);
  table = ReadMimeTypes(path);
  EXPECT_EQ(table.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(table.status().message().find(path), absl::string_view::npos);

  // A missing file keeps the built-in table, and says so.
  const std::string said = LoadMimeTypes(path);
  EXPECT_EQ(said.rfind("MIME types: the built-in table (", 0), 0u) << said;
  EXPECT_NE(said.find(path), std::string::npos) << said;
  EXPECT_EQ(MimeType("a.css"), "text/css");
}

}  // namespace
}  // namespace hs
