// Content-Type values: the type of a file from its extension.
#pragma once

#include <string_view>

namespace hs {

// HTML pages: .html/.htm files, and the pages the server writes itself (errors, 301).
inline constexpr std::string_view kHtmlType = "text/html; charset=utf-8";

// "text/html; charset=utf-8" for "a/b.html", ... "application/octet-stream" when unknown.
std::string_view MimeType(std::string_view path);

}  // namespace hs
