// A small fixed table covers what a static site serves; anything else is sent as bytes
// (application/octet-stream) rather than guessed at.
#include "common/mime.h"

#include <string_view>
#include <utility>

#include "absl/strings/match.h"
#include "common/strings.h"

namespace hs {

std::string_view MimeType(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"html", kHtmlType},
      {"htm", kHtmlType},
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

}  // namespace hs
