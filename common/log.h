// Verbose logging (-v): one line per event on stderr, prefixed with the process id, the thread id
// and the client socket, so a reader can follow which worker serves which connection.
// When -v is off, HS_VLOG costs one predictable branch and formats nothing.
#pragma once

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace hs {

void SetVerbose(bool on);
bool Verbose();

// Writes "[pid P tid T fd F] message" to stderr in one write(2), so lines from concurrent workers
// do not interleave. fd < 0 omits the fd part.
void LogLine(int fd, absl::string_view message);

// Always printed (start-up line, errors): "program: message".
void LogInfo(absl::string_view message);

}  // namespace hs

#define HS_VLOG(fd, ...)                                                    \
  do {                                                                      \
    if (::hs::Verbose()) ::hs::LogLine((fd), absl::StrFormat(__VA_ARGS__)); \
  } while (0)
