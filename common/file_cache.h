// An open-file cache: what the server learned about a file the last time it served it -- its
// identity and times, its type and validators, and either its bytes (a small file) or an open
// descriptor (a large one) -- so that answering it again takes no open(), no fstat() and, for a
// small file, no second system call: the head and the body leave in one send.
//
// Freshness is a correctness rule, not a tuning knob. An entry older than kRevalidateAfter is
// checked again before it is used, the way lighttpd's stat cache does: the path is opened beneath
// the root again (so a component swapped for a symlink leading out is refused, EXDEV, and a file
// made unreadable is refused, EACCES) and fstat()ed; the same inode with the same size, mtime and
// ctime keeps the entry, anything else replaces or removes it. So a file changed, replaced,
// deleted or made unreadable is answered as it now is within a second. inotify would tell sooner,
// but it is a per-process resource (128 instances by default): a thousand forked children could
// not each have one, and one check a second per file served is cheap.
//
// One cache per thread (ForThisThread): a thread reads and writes only its own, so the hot path
// takes no lock. Every thread that serves has one -- an event loop, a pool worker, a connection's
// own thread -- and forked processes each build their own: processes share no memory unless they
// map it (the process pool's scoreboard is the one thing they do share). The price is memory per
// thread, so each cache is bounded (entries, bytes, open descriptors; least recently used out)
// and all the caches of a process together stay under kProcessCacheBytes.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "common/document_root.h"
#include "common/file_decision.h"
#include "common/socket.h"

namespace hs {

// Files up to this size are kept in memory and sent with their head in one send(). 16 KiB is
// Linux's default initial TCP send buffer (net.ipv4.tcp_wmem), so such an answer fits the socket
// at once; a larger file goes by sendfile() from the page cache, with no copy through ours.
inline constexpr size_t kSmallFileBytes = 16 * 1024;
// An entry is checked against the file system again when it is this old.
inline constexpr absl::Duration kRevalidateAfter = absl::Seconds(1);
// All the caches of one process hold at most this many bytes of file contents.
inline constexpr size_t kProcessCacheBytes = 64 << 20;

// What the cache knows about one regular file. Shared (shared_ptr) with the responses that send
// it, so an entry evicted or replaced mid-send stays alive until its last response is sent.
struct CachedFile {
  dev_t dev = 0;
  ino_t ino = 0;
  size_t size = 0;
  timespec mtime{};
  timespec ctime{};
  FileFacts facts;    // type and validators, as the decision needs them (file_decision.h)
  std::string bytes;  // the whole file, when it is small (size <= kSmallFileBytes)
  Fd file;            // open for sendfile(), when it is not
  bool in_memory() const { return !file.valid(); }

  // The head of a whole-file 200, by [HTTP/1.0, 1.1][close, keep-alive], as last built and the
  // second it was built in (file_responder.cc builds and uses them). Mutable: only the thread
  // whose cache holds the entry looks it up, so only that thread writes them.
  struct Head {
    int64_t second = -1;
    std::string text;
  };
  mutable Head heads[2][2];
};

// What a lookup found: a regular file, or what else is at the path (a directory, a FIFO, ...),
// or why nothing could be opened (`error`, an errno value: ENOENT, EACCES, EXDEV, ...).
struct FileLookup {
  std::shared_ptr<const CachedFile> file;  // set for a regular file
  mode_t type = 0;                         // S_IFREG, S_IFDIR, ... when something was opened
  int error = 0;                           // when nothing was
};

class FileCache {
 public:
  struct Limits {
    size_t entries = 1024;
    size_t bytes = 8 << 20;  // of file contents, in this cache
    size_t open_files = 64;  // descriptors held for large files
  };

  explicit FileCache(Limits limits);
  FileCache() : FileCache(Limits{}) {}
  ~FileCache();
  FileCache(const FileCache&) = delete;
  FileCache& operator=(const FileCache&) = delete;

  // The calling thread's cache.
  static FileCache& ForThisThread();

  // The file at `path` (relative, as ResolveTarget gives it) beneath `root`, as it is at `now`
  // (an entry checked less than kRevalidateAfter ago is trusted).
  FileLookup Find(const DocumentRoot& root, const std::string& path, absl::Time now);

  size_t entries() const { return map_.size(); }
  size_t bytes() const { return bytes_; }
  size_t open_files() const { return open_files_; }

 private:
  struct Entry {
    std::string path;
    std::shared_ptr<const CachedFile> file;
    absl::Time checked;
  };
  using Lru = std::list<Entry>;  // most recently used first

  FileLookup Load(const DocumentRoot& root, const std::string& path, absl::Time now,
                  Lru::iterator* old);
  void Insert(const std::string& path, std::shared_ptr<const CachedFile> file, absl::Time now);
  void Erase(Lru::iterator it);
  void DropOpenFiles();  // on EMFILE: give back every descriptor this cache holds
  void Trim();

  const Limits limits_;
  uint64_t root_id_ = 0;  // the DocumentRoot the entries belong to
  Lru lru_;
  absl::flat_hash_map<std::string_view, Lru::iterator> map_;  // keys point into Entry::path
  size_t bytes_ = 0;
  size_t open_files_ = 0;
};

}  // namespace hs
