// The extension -> type table (see mime.h).
//
// Charset: a text type says nothing about its encoding, and the recipient then guesses. Only
// text/html and text/plain get "; charset=utf-8" here, because they are the two where the guess
// goes wrong: a browser reads an undeclared HTML or plain-text file in a legacy locale encoding
// (windows-1252 in most locales, WHATWG Encoding), so a UTF-8 page without <meta charset> or a
// .txt file (which has no way to declare one) shows mojibake. Everything else decides without
// us: CSS and JavaScript are read in their page's encoding (modules always as UTF-8), JSON is
// UTF-8 by definition (RFC 8259), SVG and XML declare their own. So text/css is sent bare, as
// nginx sends every type by default (charset off), and clients that compare it exactly agree.
// The cost: an HTML file in a legacy encoding that declares it only in <meta> is overridden by
// our header -- rare today, and the server's own pages are UTF-8 HTML.
#include "common/mime.h"

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace hs {
namespace {

// Longer extensions are not looked up (the longest in Debian's file without a dot has 25).
constexpr size_t kMaxExtension = 32;

// Debian's names for the same extensions, so that a machine without /etc/mime.types answers as
// one with it does.
constexpr std::string_view kBuiltInTypes = R"(
text/html                 html htm
text/css                  css
text/javascript           js mjs
text/plain                txt
text/markdown             md
text/csv                  csv
application/json          json
application/manifest+json webmanifest
application/wasm          wasm
application/xml           xml
application/pdf           pdf
application/zip           zip
application/gzip          gz
image/png                 png
image/jpeg                jpg jpeg
image/gif                 gif
image/svg+xml             svg
image/webp                webp
image/avif                avif
image/vnd.microsoft.icon  ico
font/woff                 woff
font/woff2                woff2
audio/mpeg                mp3
video/mp4                 mp4
video/webm                webm
)";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// The next whitespace-separated word of `line`, removed from it ("" at the end).
std::string_view NextWord(std::string_view& line) {
  while (!line.empty() && IsSpace(line.front())) line.remove_prefix(1);
  size_t end = 0;
  while (end < line.size() && !IsSpace(line[end])) ++end;
  const std::string_view word = line.substr(0, end);
  line.remove_prefix(end);
  return word;
}

// The Content-Type value for a media type (see the top of the file for the charset rule).
std::string ContentType(std::string_view type) {
  std::string value = absl::AsciiStrToLower(Sv(type));
  if (value == "text/html" || value == "text/plain") value += "; charset=utf-8";
  return value;
}

const MimeTable*& InstalledTable() {
  static const MimeTable* table = new MimeTable(MimeTable::BuiltIn());  // never destroyed
  return table;
}

}  // namespace

MimeTable MimeTable::Parse(std::string_view text) {
  MimeTable table;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    line = line.substr(0, line.find('#'));
    const std::string_view type = NextWord(line);
    if (type.empty() || type.find('/') == std::string_view::npos) continue;
    const std::string value = ContentType(type);
    for (std::string_view ext = NextWord(line); !ext.empty(); ext = NextWord(line)) {
      if (ext.size() > kMaxExtension || ext.find('.') != std::string_view::npos) continue;
      table.types_.try_emplace(absl::AsciiStrToLower(Sv(ext)), value);  // first one wins
    }
  }
  return table;
}

MimeTable MimeTable::BuiltIn() { return Parse(kBuiltInTypes); }

std::string_view MimeTable::TypeOf(std::string_view path) const {
  const size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return kUnknownType;
  const std::string_view extension = name.substr(dot + 1);
  if (extension.empty() || extension.size() > kMaxExtension) return kUnknownType;
  char lower[kMaxExtension];  // no allocation on the hot path
  for (size_t i = 0; i < extension.size(); ++i) lower[i] = absl::ascii_tolower(extension[i]);
  const auto it = types_.find(absl::string_view(lower, extension.size()));
  return it == types_.end() ? kUnknownType : std::string_view(it->second);
}

absl::StatusOr<MimeTable> ReadMimeTypes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::ErrnoToStatus(errno, path);
  std::ostringstream text;
  text << in.rdbuf();
  MimeTable table = MimeTable::Parse(text.str());
  if (table.size() == 0) return absl::InvalidArgumentError(path + " names no extension");
  return table;
}

void InstallMimeTable(MimeTable table) {
  delete InstalledTable();
  InstalledTable() = new MimeTable(std::move(table));
}

std::string LoadMimeTypes(const std::string& path) {
  absl::StatusOr<MimeTable> table = ReadMimeTypes(path);
  if (!table.ok()) {
    return absl::StrCat("MIME types: the built-in table (", InstalledTable()->size(),
                        " extensions): ", table.status().message());
  }
  const size_t count = table->size();
  InstallMimeTable(*std::move(table));
  return absl::StrCat("MIME types: ", count, " extensions from ", path);
}

std::string_view MimeType(std::string_view path) { return InstalledTable()->TypeOf(path); }

}  // namespace hs
