// Tests for resolving a request-target on the text alone (layer 1 of keeping requests inside the
// document root) and for the directory URL a redirect sends.
#include "common/request_target.h"

#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"

namespace hs {
namespace {

ResolvedTarget Resolve(std::string_view target) { return ResolveTarget(target); }

void ExpectPath(std::string_view target, std::string_view path, bool trailing_slash) {
  SCOPED_TRACE(target);
  const ResolvedTarget resolved = ResolveTarget(target);
  EXPECT_EQ(resolved.status, 200);
  EXPECT_EQ(resolved.path, path);
  EXPECT_EQ(resolved.trailing_slash, trailing_slash);
}

TEST(ResolveTargetTest, PlainPaths) {
  ExpectPath("/page.html", "page.html", false);
  ExpectPath("/sub/page.html", "sub/page.html", false);
  ExpectPath("/sub", "sub", false);
}

TEST(ResolveTargetTest, DirectoriesMapToIndex) {
  ExpectPath("/", "index.html", true);
  ExpectPath("/sub/", "sub/index.html", true);
  ExpectPath("/docs/api/", "docs/api/index.html", true);
}

TEST(ResolveTargetTest, QueryAndFragmentDropped) {
  ExpectPath("/page.html?x=1&y=2", "page.html", false);
  ExpectPath("/?a", "index.html", true);
  ExpectPath("/p#frag", "p", false);
  ExpectPath("/p?q#frag", "p", false);
  // Dot-segments in the query are not part of the path.
  ExpectPath("/a?b/../../..", "a", false);
  ExpectPath("/a?%zz", "a", false);
}

TEST(ResolveTargetTest, PercentDecoding) {
  ExpectPath("/hello%20world.txt", "hello world.txt", false);
  ExpectPath("/%41%62%63", "Abc", false);
  ExpectPath("/%e2%82%AC", "\xe2\x82\xac", false);
  ExpectPath("/%25", "%", false);
  ExpectPath("/a%2Fb", "a/b", false);
  ExpectPath("/a%2fb%2f", "a/b/index.html", true);
}

TEST(ResolveTargetTest, DecodesOnlyOnce) {
  // "%252e" is "%2e" after one decoding: an ordinary name, not "..".
  ExpectPath("/%252e%252e/x", "%2e%2e/x", false);
  ExpectPath("/%252e%252e%252fsecret", "%2e%2e%2fsecret", false);
}

TEST(ResolveTargetTest, BadEscapesAndNulAre400) {
  for (std::string_view target :
       {"/%zz", "/%4", "/%", "/a%", "/a%g1", "/a%1g", "/%00", "/a%00.html", "/%00/../x"}) {
    EXPECT_EQ(Resolve(target).status, 400) << target;
  }
  EXPECT_EQ(Resolve(std::string_view("/a\0b", 4)).status, 400);
}

TEST(ResolveTargetTest, NotAPathIs400) {
  for (std::string_view target : {"", "*", "page.html", "example.com/x", "?x", "#f", "ftp://h/x"}) {
    EXPECT_EQ(Resolve(target).status, 400) << target;
  }
}

TEST(ResolveTargetTest, TraversalIs403InEverySpelling) {
  for (std::string_view target : {
           "/..",
           "/../",
           "/../x",
           "/../../etc/passwd",
           "/%2e%2e/x",
           "/%2E%2E/x",
           "/%2e%2E/x",
           "/.%2e/x",
           "/%2e./x",
           "/..%2fx",
           "/..%2Fx",
           "/%2e%2e%2fx",
           "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
           "/a/../../x",
           "/a/b/../../../x",
           "/./../x",
           "//../x",
           "/a/%2e%2e/%2e%2e/x",
           "/a%2f..%2f..%2fx",
           "http://host/../x",
           "http://host/%2e%2e/x",
           "HTTPS://host:8443/a/../../x",
       }) {
    const ResolvedTarget resolved = Resolve(target);
    EXPECT_EQ(resolved.status, 403) << target;
  }
}

TEST(ResolveTargetTest, DotSegmentsThatStayInside) {
  ExpectPath("/./x", "x", false);
  ExpectPath("//x", "x", false);
  ExpectPath("///a//b", "a/b", false);
  ExpectPath("/a/./b/../c", "a/c", false);
  ExpectPath("/a/..", "index.html", true);
  ExpectPath("/a/../", "index.html", true);
  ExpectPath("/a/.", "a/index.html", true);
  ExpectPath("/a/b/..", "a/index.html", true);
  ExpectPath("/a/%2e", "a/index.html", true);
  ExpectPath("/a/..%2fb", "b", false);
}

TEST(ResolveTargetTest, DotsInsideNamesAreOrdinary) {
  ExpectPath("/..foo", "..foo", false);
  ExpectPath("/foo..", "foo..", false);
  ExpectPath("/.../x", ".../x", false);
  ExpectPath("/.hidden", ".hidden", false);
}

TEST(ResolveTargetTest, BackslashIsOrdinary) {
  ExpectPath("/a\\b", "a\\b", false);
  ExpectPath("/..\\x", "..\\x", false);
  ExpectPath("/%5c..%5cx", "\\..\\x", false);
  ExpectPath("/\\..\\..\\etc\\passwd", "\\..\\..\\etc\\passwd", false);
}

TEST(ResolveTargetTest, AbsoluteForm) {
  ExpectPath("http://example.com/page.html", "page.html", false);
  ExpectPath("HTTP://Example.com:8080/a/b?q=1", "a/b", false);
  ExpectPath("https://h/sub/", "sub/index.html", true);
  ExpectPath("http://h", "index.html", true);
  ExpectPath("http://h?x=/y", "index.html", true);
  ExpectPath("http://user@h:80/x", "x", false);
}

// The path is escaped to RFC 3986 pchars (so '%', CR and LF cannot survive into the header);
// the query is kept as sent, with only bytes outside visible ASCII escaped; a fragment goes.
TEST(DirectoryUrlTest, EscapesPathAndKeepsQuery) {
  for (const auto& [path, target, url] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"sub", "/sub", "/sub/"},
           {"my dir", "/my%20dir?q", "/my%20dir/?q"},
           {"100%", "/100%25", "/100%25/"},
           {"x\r\nSet-Cookie: a=b", "/x%0D%0ASet-Cookie:%20a=b", "/x%0D%0ASet-Cookie:%20a=b/"},
           {"sub", "/sub?a=1&b=%2F%20", "/sub/?a=1&b=%2F%20"},
           {"sub", "http://h/sub?x=1#top", "/sub/?x=1"},
           {"sub", "/sub#top?x=1", "/sub/"},
           {"sub", "/sub?a b\r\nc\x80", "/sub/?a%20b%0D%0Ac%80"},
       }) {
    EXPECT_EQ(DirectoryUrl(path, target), url) << target;
  }
}

}  // namespace
}  // namespace hs
