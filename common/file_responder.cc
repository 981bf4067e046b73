// Turning a request target into a file under the document root is the security-critical part of
// a static file server, so it is done in two independent layers:
//
// 1. ResolveTarget() works on the text. It percent-decodes exactly once: decoding again would
//    turn "%252e%252e" into ".." after the check, the classic double-decoding bug. Dot-segments
//    are removed only after decoding, so "..", "%2e%2e" and "..%2f" are all the same "..", and a
//    ".." that would climb above the root is refused with 403 whatever its spelling.
//
// 2. The kernel then opens the path with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
//    relative to the root's directory descriptor. Even if layer 1 had a bug, or a symlink inside
//    the root points elsewhere, the kernel refuses any resolution that leaves the root (EXDEV).
//    That also closes the check-then-open race a realpath()-based check has. Kernels without
//    openat2 (before 5.6, or containers whose seccomp filter blocks it) get a realpath() prefix
//    check instead.
//
// The 200 path is kept short: one openat2, one fstat, one formatted head. The 404.html lookup
// and the error pages are only built when needed.
#include "common/file_responder.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/http_response.h"
#include "common/strings.h"

namespace hs {

namespace internal {
// Exposed (without a header) so the unit tests can exercise the fallback on kernels that do
// have openat2. Returns a descriptor, or -1 with errno set (EXDEV when the path leaves the root).
int OpenBeneathWithRealpath(int root_fd, const std::string& path);
}  // namespace internal

namespace {

constexpr std::string_view kHtml = "text/html; charset=utf-8";
constexpr std::string_view kIndexFile = "index.html";
constexpr std::string_view kNotFoundPage = "404.html";

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer and hang the worker.
// It changes nothing for regular files.
constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;

using ExtraHeaders = std::vector<std::pair<std::string_view, std::string>>;

// ---------------------------------------------------------------------------------------------
// Target resolution

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

// ---------------------------------------------------------------------------------------------
// Opening files beneath the root

// One probe per process: a seccomp filter may answer EPERM instead of ENOSYS, and EPERM from a
// real open would otherwise be mistaken for "forbidden" on every request.
bool Openat2Works() {
  static const bool works = [] {
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    const long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
    if (fd < 0) return false;
    close(static_cast<int>(fd));
    return true;
  }();
  return works;
}

int Openat2Beneath(int root_fd, const char* path) {
  open_how how{};
  how.flags = kOpenFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  // EAGAIN: the kernel saw a concurrent rename while following a symlink's ".." and could not
  // prove the walk stayed inside; retrying is the documented answer.
  constexpr int kMaxAttempts = 3;
  long fd = -1;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
    if (fd >= 0 || (errno != EAGAIN && errno != EINTR)) break;
  }
  return static_cast<int>(fd);
}

// The open file, or an invalid Fd with the reason in *error.
Fd OpenBeneath(int root_fd, const std::string& path, int* error) {
  const int fd = Openat2Works() ? Openat2Beneath(root_fd, path.c_str())
                                : internal::OpenBeneathWithRealpath(root_fd, path);
  if (fd < 0) *error = errno;
  return Fd(fd);
}

// ---------------------------------------------------------------------------------------------
// Building responses

// What the response shape depends on besides the status.
struct ReplyOptions {
  int version_minor = 1;
  bool keep_alive = false;
  bool head_only = false;  // HEAD: same headers, no body
};

ResponsePlan MakePlan(int status, const ReplyOptions& reply, std::string_view content_type,
                      size_t content_length, ExtraHeaders extra) {
  ResponsePlan plan;
  plan.status = status;
  plan.close = !reply.keep_alive;
  plan.head = SerializeHead({.status = status,
                             .version_minor = reply.version_minor,
                             .content_type = content_type,
                             .content_length = content_length,
                             .keep_alive = reply.keep_alive,
                             .extra_headers = std::move(extra)});
  return plan;
}

// A small in-memory HTML page naming the status (error pages, the 301 page).
ResponsePlan PageReply(int status, const ReplyOptions& reply, ExtraHeaders extra = {}) {
  if (status == 405) extra.emplace_back("Allow", "GET, HEAD");
  const std::string_view reason = ReasonPhrase(status);
  std::string body =
      absl::StrCat("<!DOCTYPE html><html><head><title>", status, " ", Sv(reason),
                   "</title></head><body><h1>", status, " ", Sv(reason), "</h1></body></html>\n");
  ResponsePlan plan = MakePlan(status, reply, kHtml, body.size(), std::move(extra));
  if (!reply.head_only) plan.body = std::move(body);
  return plan;
}

// A body sent from an open file. For HEAD the file is closed here (when `file` goes out of
// scope): the caller must not be able to send it by mistake.
ResponsePlan FileReply(int status, Fd file, size_t size, const ReplyOptions& reply,
                       std::string_view content_type, ExtraHeaders extra = {}) {
  ResponsePlan plan = MakePlan(status, reply, content_type, size, std::move(extra));
  if (!reply.head_only) {
    plan.file = std::move(file);
    plan.file_size = size;
  }
  return plan;
}

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

// 304: no body, and no Content-Type (a 304 only refreshes the client's cached copy, RFC 9110
// 15.4.5); Content-Length may stay, as the length a 200 would have had (RFC 9110 8.6).
ResponsePlan NotModifiedReply(size_t size, const ReplyOptions& reply, ExtraHeaders extra) {
  return MakePlan(304, reply, /*content_type=*/"", size, std::move(extra));
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

// The directory's own URL, with the request's query kept: "/sub?x=1" -> "/sub/?x=1".
ResponsePlan RedirectToDirectory(const std::string& path, std::string_view query,
                                 const ReplyOptions& reply) {
  ExtraHeaders extra;
  extra.emplace_back("Location", absl::StrCat("/", PercentEncode(path, NeedsNoEscape), "/",
                                              PercentEncode(query, IsVisibleAscii)));
  return PageReply(301, reply, std::move(extra));
}

// 404 with the site's own 404.html when it has one (opened beneath the root like any file).
ResponsePlan NotFound(const DocumentRoot& root, const ReplyOptions& reply) {
  int error = 0;
  Fd page = OpenBeneath(root.fd(), std::string(kNotFoundPage), &error);
  struct stat st;
  if (page && fstat(page.get(), &st) == 0 && S_ISREG(st.st_mode)) {
    return FileReply(404, std::move(page), static_cast<size_t>(st.st_size), reply, kHtml);
  }
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

namespace internal {

int OpenBeneathWithRealpath(int root_fd, const std::string& path) {
  using CPath = std::unique_ptr<char, decltype(&std::free)>;
  // The root is only held as a descriptor; /proc names the directory it refers to.
  const CPath root(realpath(absl::StrCat("/proc/self/fd/", root_fd).c_str(), nullptr), &std::free);
  if (root == nullptr) return -1;
  const absl::string_view root_path(root.get());
  const CPath resolved(realpath(absl::StrCat(root_path, "/", path).c_str(), nullptr), &std::free);
  if (resolved == nullptr) return -1;
  const absl::string_view resolved_path(resolved.get());
  const bool inside =
      resolved_path == root_path || (absl::StartsWith(resolved_path, root_path) &&
                                     (root_path == "/" || resolved_path[root_path.size()] == '/'));
  if (!inside) {
    errno = EXDEV;
    return -1;
  }
  return open(resolved.get(), kOpenFlags);
}

}  // namespace internal

absl::StatusOr<DocumentRoot> DocumentRoot::Open(const std::string& folder) {
  const int fd = open(folder.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) return DocumentRoot(Fd(fd));
  const int error = errno;
  if (error == ENOENT) {
    return absl::NotFoundError(absl::StrCat("document root '", folder, "' does not exist"));
  }
  if (error == ENOTDIR) {
    return absl::InvalidArgumentError(
        absl::StrCat("document root '", folder, "' is not a directory"));
  }
  return absl::ErrnoToStatus(error, absl::StrCat("cannot open document root '", folder, "'"));
}

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

std::string_view MimeType(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"html", kHtml},
      {"htm", kHtml},
      {"css", "text/css; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"txt", "text/plain; charset=utf-8"},
      {"json", "application/json"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"svg", "image/svg+xml"},
      {"ico", "image/x-icon"},
      {"webp", "image/webp"},
  };
  const size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  if (dot != std::string_view::npos) {
    const std::string_view extension = name.substr(dot + 1);
    for (const auto& [known, type] : kTypes) {
      if (absl::EqualsIgnoreCase(Sv(extension), Sv(known))) return type;
    }
  }
  return "application/octet-stream";
}

ResponsePlan Respond(const HttpRequest& request, const DocumentRoot& root,
                     const RespondContext& context) {
  const ReplyOptions reply{.version_minor = request.version_minor,
                           .keep_alive = request.keep_alive && context.keep_alive_allowed,
                           .head_only = request.method == "HEAD"};
  if (!reply.head_only && request.method != "GET") return PageReply(405, reply);

  const ResolvedTarget target = ResolveTarget(request.target);
  if (target.status != 200) return PageReply(target.status, reply);

  int error = 0;
  Fd file = OpenBeneath(root.fd(), target.path, &error);
  if (!file) return OpenFailure(error, root, reply);

  struct stat st;
  if (fstat(file.get(), &st) != 0) return PageReply(500, reply);
  if (S_ISDIR(st.st_mode) && !target.trailing_slash) {
    return RedirectToDirectory(target.path, QueryOf(request.target), reply);
  }
  // FIFOs, devices, sockets, and a directory that is itself called index.html.
  if (!S_ISREG(st.st_mode)) return PageReply(403, reply);

  ExtraHeaders extra;
  extra.emplace_back("Last-Modified", LastModified(st.st_mtim.tv_sec));
  const size_t size = static_cast<size_t>(st.st_size);
  if (NotModified(request, st.st_mtim.tv_sec))
    return NotModifiedReply(size, reply, std::move(extra));
  return FileReply(200, std::move(file), size, reply, MimeType(target.path), std::move(extra));
}

ResponsePlan ErrorResponse(int status, int version_minor) {
  return PageReply(status,
                   {.version_minor = version_minor, .keep_alive = false, .head_only = false});
}

}  // namespace hs
