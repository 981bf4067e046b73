// Turning a request target into a file under the document root is the security-critical part of
// a static file server, so it is done in two independent layers. This file is layer 1; layer 2,
// the kernel's check, is in document_root.cc.
//
// 1. ResolveTarget() works on the text. It percent-decodes exactly once: decoding again would
//    turn "%252e%252e" into ".." after the check, the classic double-decoding bug. Dot-segments
//    are removed only after decoding, so "..", "%2e%2e" and "..%2f" are all the same "..", and a
//    ".." that would climb above the root is refused with 403 whatever its spelling.
#include "common/request_target.h"

#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace hs {

namespace {

constexpr std::string_view kIndexFile = "index.html";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Leaves only the path of an origin-form or absolute-form target; false when there is none.
bool ExtractPath(std::string_view* target) {
  std::string_view t = *target;
  t = t.substr(0, t.find_first_of("?#"));
  for (std::string_view scheme : {"http://", "https://"}) {
    if (absl::StartsWithIgnoreCase(Sv(t), Sv(scheme))) {
      t.remove_prefix(scheme.size());
      const size_t slash = t.find('/');
      *target = slash == std::string_view::npos ? "/" : t.substr(slash);
      return true;
    }
  }
  *target = t;
  return absl::StartsWith(Sv(t), "/");  // also rejects "" and the asterisk-form "*"
}

// Decodes every %XX once. A NUL byte (raw or %00) would truncate the C path string, so it is
// rejected like a malformed escape.
bool PercentDecode(std::string_view in, std::string* out) {
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (in.size() - i < 3) return false;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return false;
    out->push_back(c);
  }
  return true;
}

// pchar of RFC 3986 (plus '/'): everything else, including '%' itself and CR/LF, is escaped so a
// file name can never inject a header into the Location line.
bool NeedsNoEscape(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=:@/").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

// A query is kept as the client sent it, escapes and all; only bytes that are not visible ASCII
// (which the parser never lets into a target) are escaped, so it cannot break the header line.
bool IsVisibleAscii(unsigned char c) { return c > 0x20 && c < 0x7f; }

// Every byte for which keep(byte) is false becomes %XX.
std::string PercentEncode(std::string_view text, bool (*keep)(unsigned char)) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + 2);
  for (const unsigned char c : text) {
    if (keep(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

// The query of a request-target with its '?' ("?x=1"), or "" when there is none; a fragment
// (which clients should not send) is dropped.
std::string_view QueryOf(std::string_view target) {
  const size_t start = target.find_first_of("?#");
  if (start == std::string_view::npos || target[start] == '#') return "";
  const size_t fragment = target.find('#', start);
  return target.substr(start, fragment == std::string_view::npos ? fragment : fragment - start);
}

}  // namespace

ResolvedTarget ResolveTarget(std::string_view target) {
  ResolvedTarget result;
  std::string decoded;
  if (!ExtractPath(&target) || !PercentDecode(target, &decoded)) {
    result.status = 400;
    return result;
  }
  // Segments are joined with '/' into `path`, with no leading or trailing slash. `directory`
  // tracks whether the last segment names a directory: "", "." and ".." all do.
  std::string& path = result.path;
  path.reserve(decoded.size() + kIndexFile.size());
  bool directory = true;
  for (absl::string_view segment : absl::StrSplit(decoded, '/')) {
    if (segment == "..") {
      if (path.empty()) {
        result.status = 403;
        return result;
      }
      const size_t slash = path.rfind('/');
      path.resize(slash == std::string::npos ? 0 : slash);
      directory = true;
    } else if (segment.empty() || segment == ".") {
      directory = true;
    } else {
      if (!path.empty()) path.push_back('/');
      absl::StrAppend(&path, segment);
      directory = false;
    }
  }
  result.trailing_slash = directory;
  if (directory) absl::StrAppend(&path, path.empty() ? "" : "/", Sv(kIndexFile));
  return result;
}

std::string DirectoryUrl(std::string_view path, std::string_view target) {
  return absl::StrCat("/", PercentEncode(path, NeedsNoEscape), "/",
                      PercentEncode(QueryOf(target), IsVisibleAscii));
}

}  // namespace hs
