#include "common/threads.h"

#include <system_error>

#include "absl/strings/str_cat.h"

namespace hs {

absl::Status StartThreads(std::vector<std::thread>& threads, int first, int last,
                          absl::string_view what, const std::function<void()>& body) {
  for (int number = first; number <= last; ++number) {
    try {
      threads.emplace_back(body);
    } catch (const std::system_error& e) {
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot start ", what, " ", number, " of ", last, ": ", e.code().message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace hs
