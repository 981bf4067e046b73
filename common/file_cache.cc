#include "common/file_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <utility>

#include "common/mime.h"

namespace hs {
namespace {

// File contents held by every cache of this process (all threads): a cache only keeps a small
// file's bytes when they fit under kProcessCacheBytes, so a thousand connection threads of
// thread_server cannot each fill a cache of their own. Touched only when an entry is added or
// dropped, never on a hit.
std::atomic<size_t> process_bytes{0};

bool SameTime(const timespec& a, const timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

// The same inode, not changed since: the entry still tells the truth about the file.
bool Unchanged(const CachedFile& file, const struct stat& st) {
  return file.dev == st.st_dev && file.ino == st.st_ino &&
         file.size == static_cast<size_t>(st.st_size) && SameTime(file.mtime, st.st_mtim) &&
         SameTime(file.ctime, st.st_ctim);
}

// Reads the whole of a small file; false when it could not (or it changed size meanwhile).
bool ReadWhole(int fd, size_t size, std::string* bytes) {
  bytes->resize(size);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, bytes->data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  char extra;  // one more byte would mean the file grew since fstat()
  return ::pread(fd, &extra, 1, static_cast<off_t>(size)) == 0;
}

}  // namespace

FileCache::FileCache(Limits limits) : limits_(limits) {}

FileCache::~FileCache() { process_bytes -= bytes_; }

FileCache& FileCache::ForThisThread() {
  thread_local FileCache cache;
  return cache;
}

FileLookup FileCache::Find(const DocumentRoot& root, const std::string& path, absl::Time now) {
  if (root.id() != root_id_) {  // another root (a unit test's): nothing here is about it
    while (!lru_.empty()) Erase(lru_.begin());
    root_id_ = root.id();
  }
  Lru::iterator it = lru_.end();
  if (auto found = map_.find(std::string_view(path)); found != map_.end()) {
    it = found->second;
    if (now - it->checked < kRevalidateAfter) {  // the hot path: no system call
      lru_.splice(lru_.begin(), lru_, it);
      return {.file = it->file, .type = S_IFREG};
    }
  }
  return Load(root, path, now, &it);
}

// A miss, or an entry due for its check: open and fstat the path as it is now.
FileLookup FileCache::Load(const DocumentRoot& root, const std::string& path, absl::Time now,
                           Lru::iterator* old) {
  int error = 0;
  Fd fd = OpenBeneath(root.fd(), path, &error);
  if (!fd && (error == EMFILE || error == ENFILE) && open_files_ > 0) {
    DropOpenFiles();  // descriptors we hold for speed must not cost a client its answer
    fd = OpenBeneath(root.fd(), path, &error);
  }
  struct stat st;
  if (fd && ::fstat(fd.get(), &st) != 0) {
    error = errno;
    fd.reset();
  }
  if (!fd) {
    if (*old != lru_.end()) Erase(*old);
    return {.error = error};
  }
  if (*old != lru_.end()) {
    if (S_ISREG(st.st_mode) && Unchanged(*(*old)->file, st)) {
      (*old)->checked = now;
      lru_.splice(lru_.begin(), lru_, *old);
      return {.file = (*old)->file, .type = S_IFREG};
    }
    Erase(*old);
  }
  if (!S_ISREG(st.st_mode)) return {.type = static_cast<mode_t>(st.st_mode & S_IFMT)};

  auto file = std::make_shared<CachedFile>();
  file->dev = st.st_dev;
  file->ino = st.st_ino;
  file->size = static_cast<size_t>(st.st_size);
  file->mtime = st.st_mtim;
  file->ctime = st.st_ctim;
  file->facts = DescribeFile(st, MimeType(path));
  const bool small =
      file->size <= kSmallFileBytes &&
      process_bytes.load(std::memory_order_relaxed) + file->size <= kProcessCacheBytes;
  if (!small || !ReadWhole(fd.get(), file->size, &file->bytes)) {
    file->bytes.clear();
    file->file = std::move(fd);
  }
  Insert(path, file, now);
  return {.file = std::move(file), .type = S_IFREG};
}

void FileCache::Insert(const std::string& path, std::shared_ptr<const CachedFile> file,
                       absl::Time now) {
  lru_.push_front({.path = path, .file = std::move(file), .checked = now});
  map_.emplace(std::string_view(lru_.front().path), lru_.begin());
  const CachedFile& added = *lru_.front().file;
  bytes_ += added.bytes.size();
  process_bytes += added.bytes.size();
  if (!added.in_memory()) ++open_files_;
  Trim();
}

void FileCache::Erase(Lru::iterator it) {
  bytes_ -= it->file->bytes.size();
  process_bytes -= it->file->bytes.size();
  if (!it->file->in_memory()) --open_files_;
  map_.erase(std::string_view(it->path));
  lru_.erase(it);
}

void FileCache::DropOpenFiles() {
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (!it->file->in_memory()) Erase(it);
    it = next;
  }
}

// Least recently used out, until every bound holds (the newest entry, at the front, stays).
void FileCache::Trim() {
  while (lru_.size() > 1 && (lru_.size() > limits_.entries || bytes_ > limits_.bytes ||
                             open_files_ > limits_.open_files)) {
    auto victim = std::prev(lru_.end());
    if (open_files_ > limits_.open_files && lru_.size() <= limits_.entries &&
        bytes_ <= limits_.bytes) {
      // Only descriptors are over: drop the least recently used entry that holds one.
      while (victim != lru_.begin() && victim->file->in_memory()) --victim;
      if (victim == lru_.begin()) break;
    }
    Erase(victim);
  }
}

}  // namespace hs
