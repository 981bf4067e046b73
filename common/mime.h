// Content-Type values: the type of a file from its extension, looked up in a table read from
// /etc/mime.types at start-up (Debian's media-types package: the list nginx and Apache ship a
// copy of), with a small built-in table when that file is missing or unreadable.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace hs {

// HTML pages: .html/.htm files, and the pages the server writes itself (errors, 301).
inline constexpr std::string_view kHtmlType = "text/html; charset=utf-8";
inline constexpr std::string_view kUnknownType = "application/octet-stream";
inline constexpr char kSystemMimeTypes[] = "/etc/mime.types";

// Extension (lower case, no dot) -> Content-Type value. Built once, then only read: lookups are
// one hash of the extension, safe from any number of threads.
class MimeTable {
 public:
  // The mime.types format: "type ext1 ext2 ..." per line, '#' comments, blank lines. Extensions
  // are matched case-insensitively; the first line naming an extension wins (the file lists the
  // registered types before the x- ones that repeat a few). Extensions holding a dot
  // ("tm.json") are skipped: a name's type comes from the text after its last dot.
  static MimeTable Parse(std::string_view text);
  // The table used when /etc/mime.types cannot be read: what a static site serves.
  static MimeTable BuiltIn();

  // The type of "a/b.css" ("text/css"), or kUnknownType.
  std::string_view TypeOf(std::string_view path) const;
  size_t size() const { return types_.size(); }

 private:
  absl::flat_hash_map<std::string, std::string> types_;
};

// A mime.types file as a table, or why not (missing, unreadable, names no extension).
absl::StatusOr<MimeTable> ReadMimeTypes(const std::string& path);

// Makes `table` the one MimeType() uses. At start-up only, before any thread or child exists.
void InstallMimeTable(MimeTable table);

// Start-up: installs the table of `path` (kSystemMimeTypes), or keeps the built-in one when it
// cannot be read. Returns a line saying which, for -v.
std::string LoadMimeTypes(const std::string& path = kSystemMimeTypes);

// The type of `path` in the installed table (the built-in one until another is installed).
std::string_view MimeType(std::string_view path);

}  // namespace hs
