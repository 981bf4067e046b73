// libFuzzer target for the two layers that keep requests inside the document root
// (common/request_target.cc and common/document_root.cc, used by common/file_responder.cc). The
// bytes are a request-target.
//
// Layer 1, hs::ResolveTarget (text only):
//   - the status is 200, 400, 403 or 404, and ResolveTarget is deterministic;
//   - a 200 path is non-empty, never starts with '/', never contains NUL, has no "", "." or ".."
//     segment, ends in "index.html" when trailing_slash is set, and joined onto a root and
//     normalised lexically (std::filesystem) stays inside that root;
//   - it agrees with a small independent model of the documented rules (strip "?#", accept
//     absolute-form, percent-decode once, resolve dot-segments, 403 above the root);
//   - resolving "/" + a 200 path again (when it holds no '%', '?' or '#') gives the same path.
// Layer 2, on a real root in a temporary directory with symlinks pointing outside it:
//   - hs::Respond (openat2 beneath the root) and the realpath() fallback only ever open regular
//     files that physically live inside the root; Respond answers 200, 301, 400, 403 or 404 and
//     its head is well-formed (CRLF line ends only, one blank line at the very end), so no
//     decoded byte can inject a header.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/document_root.h"
#include "common/file_responder.h"
#include "common/http_request.h"
#include "common/mime.h"
#include "common/request_target.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// The model: the rules of request_target.h, written independently and plainly.

struct Expected {
  int status = 200;
  std::string path;
  bool trailing_slash = false;
};

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

int Hex(char c) {
  const std::string_view digits = "0123456789abcdef";
  const size_t at = digits.find(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

Expected Model(std::string_view target) {
  Expected out;
  target = target.substr(0, std::min(target.find('?'), target.find('#')));
  bool absolute = false;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!absolute && StartsWithNoCase(target, scheme)) {
      absolute = true;
      target.remove_prefix(scheme.size());
      const size_t slash = target.find('/');
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
  }
  if (target.empty() || target[0] != '/') return {.status = 400};
  std::string decoded;
  for (size_t i = 0; i < target.size(); ++i) {
    int c = static_cast<unsigned char>(target[i]);
    if (c == '%') {
      if (i + 2 >= target.size() || Hex(target[i + 1]) < 0 || Hex(target[i + 2]) < 0) {
        return {.status = 400};
      }
      c = Hex(target[i + 1]) * 16 + Hex(target[i + 2]);
      i += 2;
    }
    if (c == 0) return {.status = 400};
    decoded.push_back(static_cast<char>(c));
  }
  std::vector<std::string> stack;
  bool directory = true;
  size_t start = 0;
  while (start <= decoded.size()) {
    size_t end = decoded.find('/', start);
    if (end == std::string::npos) end = decoded.size();
    const std::string segment = decoded.substr(start, end - start);
    start = end + 1;
    if (segment == "..") {
      if (stack.empty()) return {.status = 403};
      stack.pop_back();
      directory = true;
    } else if (segment.empty() || segment == ".") {
      directory = true;
    } else {
      stack.push_back(segment);
      directory = false;
    }
  }
  if (directory) stack.push_back("index.html");
  for (const std::string& segment : stack) out.path += (out.path.empty() ? "" : "/") + segment;
  out.trailing_slash = directory;
  return out;
}

// ---------------------------------------------------------------------------------------------
// A real root: files, a subdirectory, symlinks leading outside and one leading inside.

struct Site {
  std::string base;                                // temporary directory holding both
  std::optional<hs::DocumentRoot> root;            // base/www
  std::set<std::pair<dev_t, ino_t>> inside_files;  // regular files physically under www/
};

Site* site = nullptr;

void RemoveSite() {
  std::error_code ec;
  if (site != nullptr) fs::remove_all(site->base, ec);
}

void MakeSite() {
  char tmpl[] = "/tmp/resolve-fuzz-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) std::abort();
  site = new Site{.base = tmpl};
  const fs::path www = fs::path(site->base) / "www";
  fs::create_directories(www / "sub" / "deeper");
  fs::create_directories(www / "empty");
  for (const char* file : {"index.html", "404.html", "a.txt", "sub/index.html", "sub/b.css",
                           "sub/deeper/c.js", "..x", "sp ace.html"}) {
    std::ofstream(www / file) << "inside: " << file << "\n";
  }
  std::ofstream(fs::path(site->base) / "secret.txt") << "outside\n";
  fs::create_symlink("../secret.txt", www / "out");
  fs::create_symlink("..", www / "up");
  fs::create_symlink(fs::path(site->base) / "secret.txt", www / "abs");
  fs::create_symlink("/etc", www / "etc");
  fs::create_symlink("sub/b.css", www / "in");
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(www)) {
    if (entry.is_symlink() || !entry.is_regular_file()) continue;
    struct stat st;
    if (stat(entry.path().c_str(), &st) != 0) std::abort();
    site->inside_files.insert({st.st_dev, st.st_ino});
  }
  absl::StatusOr<hs::DocumentRoot> root = hs::DocumentRoot::Open(www.string());
  if (!root.ok()) std::abort();
  site->root.emplace(*std::move(root));
  std::atexit(RemoveSite);
}

// A file the cache found is one of the site's: by its identity, and by its descriptor when it
// holds one (a large file) -- the descriptor is what sendfile() would read.
bool IsInsideFile(const hs::CachedFile& file) {
  if (site->inside_files.count({file.dev, file.ino}) != 1) return false;
  if (file.in_memory()) return true;
  struct stat st;
  return fstat(file.file.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == file.dev &&
         st.st_ino == file.ino;
}

// CRLF line ends only, and the only empty line is the last one.
bool WellFormedHead(std::string_view head) {
  if (!head.ends_with("\r\n\r\n") || head.find("\r\n\r\n") != head.size() - 4) return false;
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\r' && (i + 1 == head.size() || head[i + 1] != '\n')) return false;
    if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------

void CheckResolved(std::string_view target, const hs::ResolvedTarget& r) {
  FUZZ_CHECK(r.status == 200 || r.status == 400 || r.status == 403 || r.status == 404);
  const Expected expected = Model(target);
  FUZZ_CHECK(r.status == expected.status);
  if (r.status != 200) return;
  FUZZ_CHECK(r.path == expected.path);
  FUZZ_CHECK(r.trailing_slash == expected.trailing_slash);

  const std::string& path = r.path;
  FUZZ_CHECK(!path.empty() && path.front() != '/');
  FUZZ_CHECK(path.find('\0') == std::string::npos);
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string_view segment = std::string_view(path).substr(start, end - start);
    FUZZ_CHECK(!segment.empty() && segment != "." && segment != "..");
    start = end + 1;
  }
  if (r.trailing_slash) FUZZ_CHECK(path == "index.html" || path.ends_with("/index.html"));
  const std::string joined = (fs::path("/srv/www") / path).lexically_normal().string();
  FUZZ_CHECK(joined.starts_with("/srv/www/") && joined.size() > 9);

  if (path.find_first_of("%?#") == std::string::npos) {
    const hs::ResolvedTarget again = hs::ResolveTarget("/" + path);
    FUZZ_CHECK(again.status == 200 && again.path == path);
  }
  FUZZ_CHECK(!hs::MimeType(path).empty());
}

void CheckOpened(std::string_view target, const hs::ResolvedTarget& r) {
  hs::HttpRequest request;
  request.method = "GET";
  request.target = target;
  request.keep_alive = true;
  const hs::ResponsePlan plan = hs::Respond(request, *site->root, /*keep_alive_allowed=*/true);
  FUZZ_CHECK(plan.status == 200 || plan.status == 301 || plan.status == 400 || plan.status == 403 ||
             plan.status == 404);
  FUZZ_CHECK(WellFormedHead(plan.head));
  if (plan.file) FUZZ_CHECK(IsInsideFile(*plan.file));
  if (plan.status == 200) FUZZ_CHECK(plan.file != nullptr);
  if (r.status != 200) FUZZ_CHECK(plan.status == r.status);

  if (r.status == 200) {
    const int fd = hs::internal::OpenBeneathWithRealpath(site->root->fd(), r.path);
    if (fd >= 0) {
      struct stat st;
      FUZZ_CHECK(fstat(fd, &st) == 0);
      // The fallback opens directories too (Respond then redirects); files must be inside.
      if (!S_ISDIR(st.st_mode)) {
        FUZZ_CHECK(S_ISREG(st.st_mode) && site->inside_files.count({st.st_dev, st.st_ino}) == 1);
      }
      close(fd);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  MakeSite();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  const hs::ResolvedTarget r = hs::ResolveTarget(target);
  const hs::ResolvedTarget again = hs::ResolveTarget(target);
  FUZZ_CHECK(r.status == again.status && r.path == again.path &&
             r.trailing_slash == again.trailing_slash);
  CheckResolved(target, r);
  CheckOpened(target, r);
  return 0;
}
