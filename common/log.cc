#include "common/log.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hs {
namespace {
// Set once in main() before any thread or child exists, read everywhere after.
std::atomic<bool> verbose{false};

void WriteStderr(const std::string& line) {
  // One write(2) per line: lines from concurrent threads and processes never interleave.
  ssize_t unused = ::write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}
}  // namespace

void SetVerbose(bool on) { verbose.store(on, std::memory_order_relaxed); }
bool Verbose() { return verbose.load(std::memory_order_relaxed); }

void LogLine(int fd, absl::string_view message) {
  std::string line = absl::StrCat("[pid ", ::getpid(), " tid ", ::syscall(SYS_gettid));
  if (fd >= 0) absl::StrAppend(&line, " fd ", fd);
  absl::StrAppend(&line, "] ", message, "\n");
  WriteStderr(line);
}

void LogInfo(absl::string_view message) { WriteStderr(absl::StrCat(message, "\n")); }

std::string ServedByHeader(absl::Time began) {
  // Per process: a forked worker starts from its parent's count, and parents serve nothing.
  static std::atomic<uint64_t> stamped{0};
  const int64_t micros = absl::ToUnixMicros(began);
  return absl::StrFormat("X-Served-By: pid=%d tid=%d n=%d began=%d.%06d\r\n", ::getpid(),
                         ::syscall(SYS_gettid), stamped.fetch_add(1) + 1, micros / 1000000,
                         micros % 1000000);
}

}  // namespace hs
