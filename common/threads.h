// Starting a server's fixed set of threads, where "the system said no" is an error message and
// not an abort. std::thread throws std::system_error when pthread_create fails -- EAGAIN under
// a thread limit (RLIMIT_NPROC) or when an address-space limit (ulimit -v) leaves no room for
// another stack -- and an exception nobody catches ends the server with "terminate called ..."
// and a core dump (exit 134).
#pragma once

#include <functional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace hs {

// Starts threads number `first` to `last`, each running `body`, and appends them to `threads`.
// Stops at the first one that cannot be created and returns
// "cannot start <what> <number> of <last>: <reason>"; those already started are left running in
// `threads`, for the caller to stop and join.
absl::Status StartThreads(std::vector<std::thread>& threads, int first, int last,
                          absl::string_view what, const std::function<void()>& body);

}  // namespace hs
