// What to answer for a file: the target is resolved on the text (request_target.cc, layer 1 of
// keeping requests inside the root) and opened beneath the root by the kernel (document_root.cc,
// layer 2); the file's facts then go to DecideFileResponse (file_decision.h: 200, 206, 304, 412,
// 416), and this file turns the decision into a plan.
//
// The 200 path is kept short: a lookup in the thread's file cache (file_cache.h: no system call
// while the entry is fresh), the decision, one formatted head. The 404.html lookup and the error
// pages are only built when needed.
#include "common/file_responder.h"

#include <sys/stat.h>

#include <cerrno>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/file_cache.h"
#include "common/file_decision.h"
#include "common/mime.h"
#include "common/request_target.h"

namespace hs {

namespace {

constexpr std::string_view kNotFoundPage = "404.html";
constexpr std::string_view kIndexName = "index.html";  // what ResolveTarget maps "dir/" to

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
  if (page.file) {
    const size_t size = page.file->size;
    return FileReply(404, std::move(page.file), 0, size, reply, kHtmlType);
  }
  return PageReply(404, reply);
}

// "dir/" whose index.html is missing: the folder exists but has nothing to show, and we list no
// directories -- 403, as nginx and Apache answer; 404 stays for what does not exist.
bool IsDirectoryWithoutIndex(const ResolvedTarget& target, const DocumentRoot& root) {
  if (!target.trailing_slash) return false;
  const std::string_view path = target.path;
  const std::string_view parent = path.substr(0, path.size() - kIndexName.size());
  const std::string folder(parent.empty() ? std::string_view(".") : parent);  // "." for "/"
  int error = 0;
  const Fd dir = OpenBeneath(root.fd(), folder, &error);
  struct stat st;
  return dir && fstat(dir.get(), &st) == 0 && S_ISDIR(st.st_mode);
}

ResponsePlan OpenFailure(int error, const ResolvedTarget& target, const DocumentRoot& root,
                         const ReplyOptions& reply) {
  if (error == ENOENT && IsDirectoryWithoutIndex(target, root)) return PageReply(403, reply);
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

// The validators every answer about the file itself carries.
ExtraHeaders Validators(const FileFacts& file) {
  ExtraHeaders extra;
  extra.emplace_back("Last-Modified", file.last_modified);
  extra.emplace_back("ETag", file.etag);
  return extra;
}

// The head of a whole-file 200 -- the answer to nearly every request -- built at most once a
// second per HTTP version and keep-alive choice, then copied: while the file stays the same (a
// changed file is a new cache entry) only its Date changes.
std::string WholeFileHead(const CachedFile& cached, const ReplyOptions& reply) {
  CachedFile::Head& slot = cached.heads[reply.version_minor == 0 ? 0 : 1][reply.keep_alive];
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  if (slot.second != now) {
    ExtraHeaders extra = Validators(cached.facts);
    extra.emplace_back("Accept-Ranges", "bytes");
    slot.text = SerializeHead({.status = 200,
                               .version_minor = reply.version_minor,
                               .content_type = cached.facts.content_type,
                               .content_length = cached.size,
                               .keep_alive = reply.keep_alive,
                               .extra_headers = std::move(extra)});
    slot.second = now;
  }
  return slot.text;
}

// The decision as a plan. The validators go with every answer about the file itself (200, 206,
// 304, and the ETag on a 412, so the client learns the version it failed against); 416 says how
// long the file is instead.
ResponsePlan FileResponse(const FileDecision& decision, std::shared_ptr<const CachedFile> cached,
                          const ReplyOptions& reply) {
  const FileFacts& file = cached->facts;
  ExtraHeaders extra;
  switch (decision.status) {
    case 412:
      extra.emplace_back("ETag", file.etag);
      return PageReply(412, reply, std::move(extra));
    case 416:
      extra.emplace_back("Content-Range", absl::StrCat("bytes */", file.size));
      return PageReply(416, reply, std::move(extra));
    case 304:
      return NotModifiedReply(file.size, reply, Validators(file));
    case 200: {
      const size_t size = file.size;
      std::string head = WholeFileHead(*cached, reply);
      return FileReply(200, std::move(cached), 0, size, reply, std::move(head));
    }
    default:
      break;
  }
  extra = Validators(file);
  extra.emplace_back("Accept-Ranges", "bytes");
  const ByteRange& range = decision.range;
  if (decision.status == 206) {
    extra.emplace_back("Content-Range",
                       absl::StrCat("bytes ", range.first, "-", range.last(), "/", file.size));
  }
  const std::string_view type = file.content_type;
  return FileReply(decision.status, std::move(cached), range.first, range.length, reply, type,
                   std::move(extra));
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
  if (found.error != 0) return OpenFailure(found.error, target, root, reply);
  if (found.type == S_IFDIR && !target.trailing_slash) {
    return RedirectToDirectory(target.path, request.target, reply);
  }
  // FIFOs, devices, sockets, and a directory that is itself called index.html.
  if (!found.file) return PageReply(403, reply);

  const FileDecision decision =
      DecideFileResponse(request, found.file->facts, absl::FromTimeT(std::time(nullptr)));
  return FileResponse(decision, std::move(found.file), reply);
}

}  // namespace hs
