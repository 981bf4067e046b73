// Turning a request target into a file under the document root is the security-critical part of
// a static file server, so it is done in two independent layers. Layer 1, on the text, is in
// request_target.cc; this file is layer 2:
//
// 2. The kernel then opens the path with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
//    relative to the root's directory descriptor. Even if layer 1 had a bug, or a symlink inside
//    the root points elsewhere, the kernel refuses any resolution that leaves the root (EXDEV).
//    That also closes the check-then-open race a realpath()-based check has. Kernels without
//    openat2 (before 5.6, or containers whose seccomp filter blocks it) get a realpath() prefix
//    check instead.
#include "common/document_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hs {

namespace {

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer and hang the worker.
// It changes nothing for regular files.
constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;

// One probe per process: a seccomp filter may answer EPERM instead of ENOSYS, and EPERM from a
// real open would otherwise be mistaken for "forbidden" on every request.
bool Openat2Works() {
  static const bool works = [] {
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    const long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
    if (fd < 0) return false;
    close(static_cast<int>(fd));
    return true;
  }();
  return works;
}

int Openat2Beneath(int root_fd, const char* path) {
  open_how how{};
  how.flags = kOpenFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  // EAGAIN: the kernel saw a concurrent rename while following a symlink's ".." and could not
  // prove the walk stayed inside; retrying is the documented answer.
  constexpr int kMaxAttempts = 3;
  long fd = -1;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
    if (fd >= 0 || (errno != EAGAIN && errno != EINTR)) break;
  }
  return static_cast<int>(fd);
}

}  // namespace

namespace internal {

int OpenBeneathWithRealpath(int root_fd, const std::string& path) {
  using CPath = std::unique_ptr<char, decltype(&std::free)>;
  // The root is only held as a descriptor; /proc names the directory it refers to.
  const CPath root(realpath(absl::StrCat("/proc/self/fd/", root_fd).c_str(), nullptr), &std::free);
  if (root == nullptr) return -1;
  const absl::string_view root_path(root.get());
  const CPath resolved(realpath(absl::StrCat(root_path, "/", path).c_str(), nullptr), &std::free);
  if (resolved == nullptr) return -1;
  const absl::string_view resolved_path(resolved.get());
  const bool inside =
      resolved_path == root_path || (absl::StartsWith(resolved_path, root_path) &&
                                     (root_path == "/" || resolved_path[root_path.size()] == '/'));
  if (!inside) {
    errno = EXDEV;
    return -1;
  }
  return open(resolved.get(), kOpenFlags);
}

}  // namespace internal

DocumentRoot::DocumentRoot(Fd dir) : dir_(std::move(dir)) {
  static std::atomic<uint64_t> last_id{0};
  id_ = ++last_id;
}

absl::StatusOr<DocumentRoot> DocumentRoot::Open(const std::string& folder) {
  const int fd = open(folder.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) return DocumentRoot(Fd(fd));
  const int error = errno;
  if (error == ENOENT) {
    return absl::NotFoundError(absl::StrCat("document root '", folder, "' does not exist"));
  }
  if (error == ENOTDIR) {
    return absl::InvalidArgumentError(
        absl::StrCat("document root '", folder, "' is not a directory"));
  }
  return absl::ErrnoToStatus(error, absl::StrCat("cannot open document root '", folder, "'"));
}

Fd OpenBeneath(int root_fd, const std::string& path, int* error) {
  const int fd = Openat2Works() ? Openat2Beneath(root_fd, path.c_str())
                                : internal::OpenBeneathWithRealpath(root_fd, path);
  if (fd < 0) *error = errno;
  return Fd(fd);
}

}  // namespace hs
