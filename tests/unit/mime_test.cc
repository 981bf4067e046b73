// Tests for the Content-Type table.
#include "common/mime.h"

#include "gtest/gtest.h"

namespace hs {
namespace {

TEST(MimeTypeTest, KnownExtensions) {
  EXPECT_EQ(MimeType("a.html"), "text/html; charset=utf-8");
  EXPECT_EQ(MimeType("a.htm"), "text/html; charset=utf-8");
  EXPECT_EQ(MimeType("a.jpg"), "image/jpeg");
  EXPECT_EQ(MimeType("a.jpeg"), "image/jpeg");
  EXPECT_EQ(MimeType("a.png"), "image/png");
  EXPECT_EQ(MimeType("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(MimeType("a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(MimeType("a.svg"), "image/svg+xml");
  EXPECT_EQ(MimeType("a.ico"), "image/x-icon");
  EXPECT_EQ(MimeType("a.gif"), "image/gif");
  EXPECT_EQ(MimeType("a.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(MimeType("a.json"), "application/json");
  EXPECT_EQ(MimeType("a.webp"), "image/webp");
}

TEST(MimeTypeTest, CaseInsensitive) {
  EXPECT_EQ(MimeType("PHOTO.JPG"), "image/jpeg");
  EXPECT_EQ(MimeType("Index.HtMl"), "text/html; charset=utf-8");
  EXPECT_EQ(MimeType("x.PNG"), "image/png");
}

TEST(MimeTypeTest, UsesLastExtensionOfLastComponent) {
  EXPECT_EQ(MimeType("docs/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(MimeType("archive.tar.gz"), "application/octet-stream");
  EXPECT_EQ(MimeType("page.html.bak"), "application/octet-stream");
  EXPECT_EQ(MimeType("dir.html/readme"), "application/octet-stream");
  EXPECT_EQ(MimeType("a.min.js"), "text/javascript; charset=utf-8");
}

TEST(MimeTypeTest, Unknown) {
  EXPECT_EQ(MimeType("README"), "application/octet-stream");
  EXPECT_EQ(MimeType("a.exe"), "application/octet-stream");
  EXPECT_EQ(MimeType("a."), "application/octet-stream");
  EXPECT_EQ(MimeType(""), "application/octet-stream");
  EXPECT_EQ(MimeType("a.htmlx"), "application/octet-stream");
}

}  // namespace
}  // namespace hs
