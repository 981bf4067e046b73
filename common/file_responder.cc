// What to answer for a file: the target is resolved on the text (request_target.cc, layer 1 of
// keeping requests inside the root) and opened beneath the root by the kernel (document_root.cc,
// layer 2); this file makes the decisions that depend on the file itself.
//
// The 200 path is kept short: one openat2, one fstat, one formatted head. The 404.html lookup
// and the error pages are only built when needed.
#include "common/file_responder.h"

#include <sys/stat.h>

#include <cerrno>
#include <ctime>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/file_cache.h"
#include "common/mime.h"
#include "common/request_target.h"

namespace hs {

namespace {

constexpr std::string_view kNotFoundPage = "404.html";

// Sites are usually deployed in one go, so consecutive responses often share an mtime; caching
// the last one per thread skips most of the time formatting on the hot path.
std::string LastModified(time_t mtime) {
  thread_local time_t cached_mtime = std::numeric_limits<time_t>::min();
  thread_local std::string cached;
  if (mtime != cached_mtime) {
    cached = HttpDate(absl::FromTimeT(mtime));
    cached_mtime = mtime;
  }
  return cached;
}

// A conditional GET or HEAD (RFC 9110 13.1.3): the client's cached copy is current when the file
// has not changed since the If-Modified-Since date it sends (our own Last-Modified, echoed back
// by a browser revalidating its cache). An unparsable date is ignored; so is a date later than
// our clock, which is invalid (it cannot be a Last-Modified we sent, and would keep a stale copy
// "current" until then); and so is the whole header when If-None-Match is present: entity tags
// take precedence, and we issue none, so none match.
bool NotModified(const HttpRequest& request, time_t mtime) {
  const std::optional<std::string_view> since = request.Header("If-Modified-Since");
  if (!since || request.Header("If-None-Match")) return false;
  const std::optional<absl::Time> date = ParseHttpDate(*since);
  return date && *date <= absl::Now() && absl::FromTimeT(mtime) <= *date;
}

// The directory's own URL, with the request's query kept: "/sub?x=1" -> "/sub/?x=1".
ResponsePlan RedirectToDirectory(const std::string& path, std::string_view target,
                                 const ReplyOptions& reply) {
  ExtraHeaders extra;
  extra.emplace_back("Location", DirectoryUrl(path, target));
  return PageReply(301, reply, std::move(extra));
}

// 404 with the site's own 404.html when it has one (found beneath the root like any file).
ResponsePlan NotFound(const DocumentRoot& root, const ReplyOptions& reply) {
  FileLookup page = FileCache::ForThisThread().Find(root, std::string(kNotFoundPage), absl::Now());
  if (page.file) return FileReply(404, std::move(page.file), reply, kHtmlType);
  return PageReply(404, reply);
}

ResponsePlan OpenFailure(int error, const DocumentRoot& root, const ReplyOptions& reply) {
  switch (error) {
    case ENOENT:
    case ENOTDIR:       // "/file.txt/x"
    case EXDEV:         // a symlink (or anything else) leading outside the root
    case ELOOP:         // symlink loop, or a /proc magic link
    case ENAMETOOLONG:  // cannot exist
      return NotFound(root, reply);
    case EACCES:
    case EPERM:
    case ENXIO:  // a socket file: not something to serve
      return PageReply(403, reply);
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EAGAIN:
      return PageReply(503, reply);
    default:
      return PageReply(500, reply);
  }
}

}  // namespace

ResponsePlan Respond(const HttpRequest& request, const DocumentRoot& root,
                     bool keep_alive_allowed) {
  const ReplyOptions reply{.version_minor = request.version_minor,
                           .keep_alive = request.keep_alive && keep_alive_allowed,
                           .head_only = request.method == "HEAD"};
  if (!reply.head_only && request.method != "GET") return PageReply(405, reply);

  const ResolvedTarget target = ResolveTarget(request.target);
  if (target.status != 200) return PageReply(target.status, reply);

  FileLookup found = FileCache::ForThisThread().Find(root, target.path, absl::Now());
  if (found.error != 0) return OpenFailure(found.error, root, reply);
  if (found.type == S_IFDIR && !target.trailing_slash) {
    return RedirectToDirectory(target.path, request.target, reply);
  }
  // FIFOs, devices, sockets, and a directory that is itself called index.html.
  if (!found.file) return PageReply(403, reply);

  const CachedFile& file = *found.file;
  ExtraHeaders extra;
  extra.emplace_back("Last-Modified", LastModified(file.mtime.tv_sec));
  if (NotModified(request, file.mtime.tv_sec)) {
    return NotModifiedReply(file.size, reply, std::move(extra));
  }
  return FileReply(200, std::move(found.file), reply, MimeType(target.path), std::move(extra));
}

}  // namespace hs
