// What to answer for a file that exists, in two steps with a seam between them:
//
//   facts     FileFacts: what is known about the opened file -- size, mtime, type, validators.
//             Nothing about the request; a file cache can keep these beside the descriptor.
//   decision  DecideFileResponse: request + facts -> 200, 206, 304, 412 or 416 (and the bytes).
//             Pure: no file system, no clock (the caller passes `now`), so every rule of RFC
//             9110's conditional requests (13) and ranges (14) is unit-tested directly.
//
// file_responder.cc opens the file, builds its facts, asks for the decision and turns it into a
// ResponsePlan.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "common/byte_range.h"
#include "common/http_request.h"

namespace hs {

// The entity tag nginx gives a file (ngx_http_set_etag): "<mtime seconds hex>-<size hex>" in
// quotes, e.g. "5e0be100-c". Strong: it changes when the file is rewritten (its mtime) or resized.
std::string EntityTag(time_t mtime, size_t size);

struct FileFacts {
  size_t size = 0;
  time_t mtime = 0;               // whole seconds, like Last-Modified
  std::string_view content_type;  // static storage (the MIME table)
  std::string etag;               // EntityTag(mtime, size)
  std::string last_modified;      // HttpDate(mtime)
};

// The facts of a regular file from its fstat(), typed by `content_type`.
FileFacts DescribeFile(const struct stat& st, std::string_view content_type);

struct FileDecision {
  int status = 200;  // 200, 206 (range), 304 (not modified), 412 (precondition failed), 416
  ByteRange range;   // the body's bytes for 200 (the whole file) and 206
};

// For a GET or HEAD of `file`, with the preconditions in RFC 9110 13.2.2's order:
//   1. If-Match (strong comparison, "*" matches) false -> 412;
//   2. else If-Unmodified-Since (a valid date) earlier than the file -> 412;
//   3. If-None-Match (weak comparison, "*" matches) matching -> 304;
//   4. else If-Modified-Since a valid date not after `now` and not before the file -> 304;
//   5. Range (see ParseRange), unless an If-Range names another version: an entity tag must
//      match strongly, a date must equal Last-Modified exactly; otherwise the whole file.
// A header whose value cannot be parsed is ignored, except If-Match, which then matches nothing.
// HEAD is decided like GET (a 206 head without its body), as RFC 9110 9.3.2 asks.
FileDecision DecideFileResponse(const HttpRequest& request, const FileFacts& file, absl::Time now);

// Whether the entity-tag list `list` (If-Match / If-None-Match syntax: "*" is handled by the
// caller) contains `etag`: with `weak`, W/"x" and "x" match each other (RFC 9110 8.8.3.2); without,
// only two strong, identical tags do. A malformed element ends the list: what follows never
// matches.
bool EntityTagListMatches(std::string_view list, std::string_view etag, bool weak);

}  // namespace hs
