// The folder being served, and opening files beneath it so that nothing outside can be reached
// (layer 2 of keeping requests inside the root; request_target.h is layer 1). See
// document_root.cc for why the kernel does the check.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "common/socket.h"

namespace hs {

// The folder being served, opened once (O_PATH). Files are opened relative to it with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so neither ".." nor a symlink can lead
// outside it.
class DocumentRoot {
 public:
  // Fails when `folder` is missing or not a directory.
  static absl::StatusOr<DocumentRoot> Open(const std::string& folder);
  int fd() const { return dir_.get(); }
  // Unique in this process: tells caches (file_cache.h) which root an entry belongs to, where a
  // descriptor number, reused once a root is closed, would not.
  uint64_t id() const { return id_; }

 private:
  explicit DocumentRoot(Fd dir);
  Fd dir_;
  uint64_t id_;
};

// Opens `path` (relative, as ResolveTarget gives it) for reading beneath the directory `root_fd`,
// never outside it: the open file, or an invalid Fd with errno's reason in *error (EXDEV when the
// path, or a symlink on it, leads outside the root). Non-blocking, so a FIFO cannot hang it.
Fd OpenBeneath(int root_fd, const std::string& path, int* error);

namespace internal {
// The realpath() fallback OpenBeneath uses when the kernel has no openat2; exposed so the unit
// tests and the fuzzer can exercise it on kernels that do. Returns a descriptor, or -1 with errno
// set (EXDEV when the path leaves the root).
int OpenBeneathWithRealpath(int root_fd, const std::string& path);
}  // namespace internal

}  // namespace hs
