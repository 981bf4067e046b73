// Request + document root -> response plan: the status, the serialised head, and where the body
// comes from (a small in-memory page, or an open file to sendfile()). Pure apart from
// openat2/fstat: no sockets, so it is unit-tested directly.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/http_request.h"
#include "common/socket.h"

namespace hs {

// The folder being served, opened once (O_PATH). Files are opened relative to it with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so neither ".." nor a symlink can lead
// outside it.
class DocumentRoot {
 public:
  // Fails when `folder` is missing or not a directory.
  static absl::StatusOr<DocumentRoot> Open(const std::string& folder);
  int fd() const { return dir_.get(); }

 private:
  explicit DocumentRoot(Fd dir) : dir_(std::move(dir)) {}
  Fd dir_;
};

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

// "text/html; charset=utf-8" for "a/b.html", ... "application/octet-stream" when unknown.
std::string_view MimeType(std::string_view path);

struct ResponsePlan {
  int status = 200;
  std::string head;  // status line + headers + blank line
  std::string body;  // in-memory body (error pages); empty when `file` is used or for HEAD
  Fd file;           // body to sendfile(), when valid (never for HEAD)
  size_t file_size = 0;
  bool close = false;  // close the connection after sending
};

// Everything the responder needs to know about the connection besides the request.
struct RespondContext {
  bool keep_alive_allowed = true;  // false: single_server, shutdown in progress, ...
};

// GET/HEAD of a file under `root`. Other methods -> 405 with "Allow: GET, HEAD". Directory
// without trailing slash -> 301 to "path/" (plus the request's query). Missing -> 404 (body: the
// root's 404.html when it exists, else a small built-in page); unreadable -> 403. Every response
// carries Date, Server, Content-Length, Content-Type, Connection; files also Last-Modified. A
// file unchanged since the request's If-Modified-Since (a date not in the future) -> 304 with no
// body and no Content-Type.
ResponsePlan Respond(const HttpRequest& request, const DocumentRoot& root,
                     const RespondContext& context);

// An error response with a small HTML body and "Connection: close" (parse errors, 408, ...).
ResponsePlan ErrorResponse(int status, int version_minor = 1);

}  // namespace hs
