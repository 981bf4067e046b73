// Verbose logging (-v): one line per event on stderr, prefixed with the process id, the thread id
// and the client socket, so a reader can follow which worker serves which connection.
// When -v is off, HS_VLOG costs one predictable branch and formats nothing.
#pragma once

#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace hs {

void SetVerbose(bool on);
bool Verbose();

// Writes "[pid P tid T fd F] message" to stderr in one write(2), so lines from concurrent workers
// do not interleave. fd < 0 omits the fd part.
void LogLine(int fd, absl::string_view message);

// Always printed (start-up line, errors): "program: message".
void LogInfo(absl::string_view message);

// --served-by: the header line "X-Served-By: pid=P tid=T n=N began=S\r\n" -- the process and
// thread that answer, how many answers this process has stamped (n, from 1), and when this
// answer began (S: Unix seconds with microseconds, before any -d delay). bench/timeline.py
// draws from it; on one machine, `began` and the client's clock agree.
std::string ServedByHeader(absl::Time began);

}  // namespace hs

#define HS_VLOG(fd, ...)                                                    \
  do {                                                                      \
    if (::hs::Verbose()) ::hs::LogLine((fd), absl::StrFormat(__VA_ARGS__)); \
  } while (0)
