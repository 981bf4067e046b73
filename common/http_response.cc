// Response heads are built as one std::string so a server can hand them to a single send()
// (with MSG_MORE before a sendfile body). Every response carries the same fixed headers in the
// same order, which keeps the output predictable for tests and for students reading a capture.
//
// The Date header is needed on every response, but formatting a time is comparatively slow
// (civil-time conversion plus strftime-style formatting). Its value only changes once a second,
// so each thread keeps the last formatted string and reformats only when the second changes:
// thread_local means no locking, and the common case is one cheap clock read and a compare.
//
// The reply builders at the end (PageReply, FileReply, NotModifiedReply, ErrorResponse) give
// every reply -- a file, a built-in page, a 304 -- its head from SerializeHead in the same way.
#include "common/http_response.h"

#include <cstdint>
#include <ctime>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/mime.h"
#include "common/strings.h"

namespace hs {

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";  // RFC 9110 name (formerly "Payload Too Large")
    case 414:
      return "URI Too Long";
    case 416:
      return "Range Not Satisfiable";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string HttpDate(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", t, absl::UTCTimeZone());
}

std::optional<absl::Time> ParseHttpDate(std::string_view value) {
  static constexpr const char* kForms[] = {"%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate
                                           "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850
                                           "%a %b %e %H:%M:%S %Y"};      // asctime
  const std::string text(value);
  for (const char* form : kForms) {
    absl::Time t;
    if (absl::ParseTime(form, text, absl::UTCTimeZone(), &t, nullptr)) return t;
  }
  return std::nullopt;
}

const std::string& CurrentHttpDate() {
  thread_local int64_t cached_second = std::numeric_limits<int64_t>::min();
  thread_local std::string cached_date;
  // time() is a vDSO read of the kernel's coarse clock (about a nanosecond); absl::Now() is
  // precise but costs tens of nanoseconds, and a Date header only needs the second.
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  if (now != cached_second) {
    cached_date = HttpDate(absl::FromUnixSeconds(now));
    cached_second = now;
  }
  return cached_date;
}

std::string SerializeHead(const ResponseHead& head) {
  // Fixed text, a 29-byte date, the server name and a few numbers fit comfortably in this;
  // reserving up front means the appends below never reallocate.
  constexpr size_t kFixedBytes = 160;
  size_t extra_bytes = 0;
  for (const auto& [name, value] : head.extra_headers) {
    extra_bytes += name.size() + value.size() + 4;  // ": " and "\r\n"
  }
  std::string out;
  out.reserve(kFixedBytes + head.content_type.size() + extra_bytes);

  absl::StrAppend(&out, head.version_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ", head.status, " ",
                  Sv(ReasonPhrase(head.status)), "\r\nDate: ", CurrentHttpDate(),
                  "\r\nServer: ", Sv(kServerName), "\r\n");
  // A response without a body type (a 304) simply omits the header.
  if (!head.content_type.empty()) {
    absl::StrAppend(&out, "Content-Type: ", Sv(head.content_type), "\r\n");
  }
  absl::StrAppend(&out, "Content-Length: ", head.content_length,
                  "\r\nConnection: ", head.keep_alive ? "keep-alive" : "close", "\r\n");
  for (const auto& [name, value] : head.extra_headers) {
    absl::StrAppend(&out, Sv(name), ": ", value, "\r\n");
  }
  out += "\r\n";
  return out;
}

namespace {

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

}  // namespace

std::string_view ResponsePlan::InMemoryBody() const {
  if (!file) return body;
  if (!file->in_memory()) return {};
  return std::string_view(file->bytes).substr(file_offset, file_size);
}

int ResponsePlan::SendfileFd() const {
  return file && !file->in_memory() && file_size > 0 ? file->file.get() : -1;
}

ResponsePlan PageReply(int status, const ReplyOptions& reply, ExtraHeaders extra,
                       std::string_view explanation) {
  if (status == 405) extra.emplace_back("Allow", "GET, HEAD");
  const std::string_view reason = ReasonPhrase(status);
  std::string body = absl::StrCat("<!DOCTYPE html><html><head><title>", status, " ", Sv(reason),
                                  "</title></head><body><h1>", status, " ", Sv(reason), "</h1>");
  if (!explanation.empty()) absl::StrAppend(&body, "<p>", Sv(explanation), "</p>");
  body += "</body></html>\n";
  ResponsePlan plan = MakePlan(status, reply, kHtmlType, body.size(), std::move(extra));
  if (!reply.head_only) plan.body = std::move(body);
  return plan;
}

ResponsePlan FileReply(int status, std::shared_ptr<const CachedFile> file, size_t offset,
                       size_t size, const ReplyOptions& reply, std::string_view content_type,
                       ExtraHeaders extra) {
  std::string head = SerializeHead({.status = status,
                                    .version_minor = reply.version_minor,
                                    .content_type = content_type,
                                    .content_length = size,
                                    .keep_alive = reply.keep_alive,
                                    .extra_headers = std::move(extra)});
  return FileReply(status, std::move(file), offset, size, reply, std::move(head));
}

ResponsePlan FileReply(int status, std::shared_ptr<const CachedFile> file, size_t offset,
                       size_t size, const ReplyOptions& reply, std::string head) {
  ResponsePlan plan;
  plan.status = status;
  plan.close = !reply.keep_alive;
  plan.head = std::move(head);
  if (!reply.head_only) {
    plan.file = std::move(file);
    plan.file_offset = offset;
    plan.file_size = size;
  }
  return plan;
}

ResponsePlan NotModifiedReply(size_t size, const ReplyOptions& reply, ExtraHeaders extra) {
  return MakePlan(304, reply, /*content_type=*/"", size, std::move(extra));
}

ResponsePlan ErrorResponse(int status, int version_minor, std::string_view explanation) {
  return PageReply(status,
                   {.version_minor = version_minor, .keep_alive = false, .head_only = false}, {},
                   explanation);
}

}  // namespace hs
