// The request-target as text: where it points inside the document root (ResolveTarget, layer 1
// of keeping requests inside the root; document_root.h is layer 2), and the URL of a directory
// for a redirect's Location. No file system access.
#pragma once

#include <string>
#include <string_view>

namespace hs {

// Where a target points inside the root, or the status that refuses it.
struct ResolvedTarget {
  int status = 200;             // 200, or 400 (bad escape, %00), 403/404 (outside the root)
  std::string path;             // relative to the root, no leading '/', "index.html" for "/"
  bool trailing_slash = false;  // the decoded path ended in '/'
};

// Drops the query string and fragment, accepts absolute-form (http://host/path), percent-decodes
// once, and normalises "." and ".." segments. A path that would climb above the root is refused
// whatever its spelling ("../", "%2e%2e/", "..%2f"). A path ending in '/' maps to its index.html.
// Backslash is an ordinary character.
ResolvedTarget ResolveTarget(std::string_view target);

// The URL of directory `path` (a resolved path) with a trailing slash, keeping the query of the
// request-target `target` it was resolved from: "sub" + "/sub?x=1" -> "/sub/?x=1". Escaped so
// that no file name or query can break the header line it goes into.
std::string DirectoryUrl(std::string_view path, std::string_view target);

}  // namespace hs
