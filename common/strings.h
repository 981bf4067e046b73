// Debian builds Abseil with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW is 0), so
// absl::StrCat and friends take absl::string_view, which std::string_view does not convert to.
// Sv() bridges the two without copying.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace hs {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace hs
