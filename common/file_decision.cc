// Conditional requests (RFC 9110 13) and ranges (14) for a file: see file_decision.h.
//
// The request's headers are read in one pass (a request usually has none of these six, and the
// pass is then a handful of length compares). If-Match and If-None-Match are lists, which a
// client may split over several header lines (RFC 9110 5.3): each line is tried.
#include "common/file_decision.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/http_response.h"
#include "common/strings.h"

namespace hs {
namespace {

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

std::string_view SkipOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// One If-Match / If-None-Match line: "*" (any current representation, and the file is one) or
// a list of entity tags.
bool ListMatches(std::string_view value, std::string_view etag, bool weak) {
  return value == "*" || EntityTagListMatches(value, etag, weak);
}

// If-Range (RFC 9110 13.1.5): the client's copy is the file's current version. An entity tag
// must match strongly; a date must be the file's Last-Modified exactly (a later one does not
// prove the copy is current: the file may have changed twice within a second).
bool IfRangeHolds(std::string_view value, const FileFacts& file) {
  if (value.starts_with("W/") || value.starts_with('"')) return value == file.etag;
  const std::optional<absl::Time> date = ParseHttpDate(value);
  return date && *date == absl::FromTimeT(file.mtime);
}

// The headers the decision reads, collected in one pass.
struct Conditions {
  bool if_match = false;        // present
  bool if_match_holds = false;  // some line matches (strongly)
  bool if_none_match = false;
  bool if_none_match_matches = false;  // some line matches (weakly)
  std::optional<std::string_view> if_unmodified_since;
  std::optional<std::string_view> if_modified_since;
  std::optional<std::string_view> range;
  std::optional<std::string_view> if_range;
};

Conditions ReadConditions(const HttpRequest& request, std::string_view etag) {
  Conditions c;
  for (size_t i = 0; i < request.header_count; ++i) {
    const absl::string_view name = Sv(request.headers[i].name);
    const std::string_view value = request.headers[i].value;
    if (absl::EqualsIgnoreCase(name, "If-Match")) {
      c.if_match = true;
      c.if_match_holds = c.if_match_holds || ListMatches(value, etag, /*weak=*/false);
    } else if (absl::EqualsIgnoreCase(name, "If-None-Match")) {
      c.if_none_match = true;
      c.if_none_match_matches = c.if_none_match_matches || ListMatches(value, etag, /*weak=*/true);
    } else if (absl::EqualsIgnoreCase(name, "If-Unmodified-Since")) {
      if (!c.if_unmodified_since) c.if_unmodified_since = value;
    } else if (absl::EqualsIgnoreCase(name, "If-Modified-Since")) {
      if (!c.if_modified_since) c.if_modified_since = value;
    } else if (absl::EqualsIgnoreCase(name, "Range")) {
      if (!c.range) c.range = value;
    } else if (absl::EqualsIgnoreCase(name, "If-Range")) {
      if (!c.if_range) c.if_range = value;
    }
  }
  return c;
}

}  // namespace

std::string EntityTag(time_t mtime, size_t size) {
  return absl::StrCat("\"", absl::Hex(static_cast<uint64_t>(mtime)), "-",
                      absl::Hex(static_cast<uint64_t>(size)), "\"");
}

FileFacts DescribeFile(const struct stat& st, std::string_view content_type) {
  const time_t mtime = st.st_mtim.tv_sec;
  const size_t size = static_cast<size_t>(st.st_size);
  return {.size = size,
          .mtime = mtime,
          .content_type = content_type,
          .etag = EntityTag(mtime, size),
          .last_modified = LastModified(mtime)};
}

bool EntityTagListMatches(std::string_view list, std::string_view etag, bool weak) {
  while (true) {
    while (!list.empty() && (list.front() == ',' || list.front() == ' ' || list.front() == '\t')) {
      list.remove_prefix(1);
    }
    if (list.empty()) return false;
    const bool tag_is_weak = list.starts_with("W/");
    if (tag_is_weak) list.remove_prefix(2);
    if (list.empty() || list.front() != '"') return false;
    const size_t close = list.find('"', 1);
    if (close == std::string_view::npos) return false;
    // Our tags are strong, so only a weak comparison lets a W/ tag match.
    if (list.substr(0, close + 1) == etag && (weak || !tag_is_weak)) return true;
    list = SkipOws(list.substr(close + 1));
    if (!list.empty() && list.front() != ',') return false;
  }
}

FileDecision DecideFileResponse(const HttpRequest& request, const FileFacts& file, absl::Time now) {
  const Conditions c = ReadConditions(request, file.etag);
  const absl::Time modified = absl::FromTimeT(file.mtime);
  // 1, 2: may the client act on the file as it is now? (for GET and HEAD this is rarely sent,
  // but a client can use it to make sure it resumes the version it started with)
  if (c.if_match) {
    if (!c.if_match_holds) return {.status = 412};
  } else if (c.if_unmodified_since) {
    const std::optional<absl::Time> date = ParseHttpDate(*c.if_unmodified_since);
    if (date && modified > *date) return {.status = 412};
  }
  // 3, 4: is the client's cached copy current? A date later than our clock is invalid
  // (13.1.3): it cannot be a Last-Modified we sent, and would keep a stale copy "current".
  if (c.if_none_match) {
    if (c.if_none_match_matches) return {.status = 304};
  } else if (c.if_modified_since) {
    const std::optional<absl::Time> date = ParseHttpDate(*c.if_modified_since);
    if (date && *date <= now && modified <= *date) return {.status = 304};
  }
  // 5: part of the file?
  const FileDecision whole = {.status = 200, .range = {.first = 0, .length = file.size}};
  if (!c.range || (c.if_range && !IfRangeHolds(*c.if_range, file))) return whole;
  const RangeRequest range = ParseRange(*c.range, file.size);
  switch (range.kind) {
    case RangeRequest::Kind::kSingle:
      return {.status = 206, .range = range.range};
    case RangeRequest::Kind::kUnsatisfiable:
      return {.status = 416};
    case RangeRequest::Kind::kWhole:
    case RangeRequest::Kind::kMultiple:
      break;
  }
  return whole;
}

}  // namespace hs
