// The file cache (common/file_cache.h) with a clock of the test's own: hits cost no system call,
// entries are checked again after kRevalidateAfter, and every bound holds.
#include "common/file_cache.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/time/time.h"
#include "common/document_root.h"
#include "gtest/gtest.h"

namespace hs {
namespace {

namespace fs = std::filesystem;

const absl::Time kStart = absl::FromUnixSeconds(1'000'000);

class FileCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = (fs::temp_directory_path() / "file_cache_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(dir.data()), nullptr);
    base_ = dir;
    Write("small.txt", "small\n");
    Write("large.bin", std::string(kSmallFileBytes + 1, 'L'));
    fs::create_directory(base_ / "dir");
    absl::StatusOr<DocumentRoot> root = DocumentRoot::Open(base_.string());
    ASSERT_TRUE(root.ok());
    root_.emplace(*std::move(root));
  }
  void TearDown() override { fs::remove_all(base_); }

  void Write(const std::string& name, const std::string& contents) {
    std::ofstream(base_ / name, std::ios::binary | std::ios::trunc) << contents;
  }

  fs::path base_;
  std::optional<DocumentRoot> root_;
};

TEST_F(FileCacheTest, ASmallFileIsKeptAsBytesAndALargeOneOpen) {
  FileCache cache;
  FileLookup small = cache.Find(*root_, "small.txt", kStart);
  ASSERT_TRUE(small.file);
  EXPECT_TRUE(small.file->in_memory());
  EXPECT_EQ(small.file->bytes, "small\n");
  EXPECT_EQ(small.file->size, 6u);
  FileLookup large = cache.Find(*root_, "large.bin", kStart);
  ASSERT_TRUE(large.file);
  EXPECT_FALSE(large.file->in_memory());
  EXPECT_EQ(large.file->size, kSmallFileBytes + 1);
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_EQ(cache.bytes(), 6u);
  EXPECT_EQ(cache.open_files(), 1u);
}

TEST_F(FileCacheTest, AFreshEntryIsTrustedAndAnOldOneCheckedAgain) {
  FileCache cache;
  const FileLookup first = cache.Find(*root_, "small.txt", kStart);
  Write("small.txt", "changed, and longer\n");
  // Within kRevalidateAfter the entry is the answer: no look at the file system.
  EXPECT_EQ(cache.Find(*root_, "small.txt", kStart + kRevalidateAfter / 2).file, first.file);
  // After it, the change is seen.
  const FileLookup later = cache.Find(*root_, "small.txt", kStart + kRevalidateAfter);
  ASSERT_TRUE(later.file);
  EXPECT_EQ(later.file->bytes, "changed, and longer\n");
  // The response still sending the old bytes keeps them.
  EXPECT_EQ(first.file->bytes, "small\n");
}

TEST_F(FileCacheTest, AnUnchangedFileKeepsItsEntryWhenChecked) {
  FileCache cache;
  const FileLookup first = cache.Find(*root_, "large.bin", kStart);
  EXPECT_EQ(cache.Find(*root_, "large.bin", kStart + 5 * kRevalidateAfter).file, first.file);
}

TEST_F(FileCacheTest, DeletedAndOtherThingsAreNotEntries) {
  FileCache cache;
  ASSERT_TRUE(cache.Find(*root_, "small.txt", kStart).file);
  fs::remove(base_ / "small.txt");
  const FileLookup gone = cache.Find(*root_, "small.txt", kStart + kRevalidateAfter);
  EXPECT_FALSE(gone.file);
  EXPECT_EQ(gone.error, ENOENT);
  EXPECT_EQ(cache.entries(), 0u);
  const FileLookup dir = cache.Find(*root_, "dir", kStart);
  EXPECT_FALSE(dir.file);
  EXPECT_EQ(dir.type, static_cast<mode_t>(S_IFDIR));
  EXPECT_EQ(cache.Find(*root_, "missing", kStart).error, ENOENT);
  EXPECT_EQ(cache.entries(), 0u) << "only regular files are kept";
}

TEST_F(FileCacheTest, TheLeastRecentlyUsedGoFirstWhenEntriesAreFull) {
  FileCache cache({.entries = 2, .bytes = 1 << 20, .open_files = 8});
  for (const char* name : {"a", "b", "c"}) Write(name, name);
  auto a = cache.Find(*root_, "a", kStart).file;
  cache.Find(*root_, "b", kStart);
  EXPECT_EQ(cache.Find(*root_, "a", kStart).file, a);  // a is now the most recently used
  cache.Find(*root_, "c", kStart);                     // so b goes
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_EQ(cache.Find(*root_, "a", kStart).file, a) << "a was evicted instead of b";
}

TEST_F(FileCacheTest, BytesAndOpenFilesAreBounded) {
  FileCache cache({.entries = 100, .bytes = 10, .open_files = 1});
  Write("six.txt", "123456");
  Write("large2.bin", std::string(kSmallFileBytes + 2, 'M'));
  cache.Find(*root_, "small.txt", kStart);  // 6 bytes
  cache.Find(*root_, "six.txt", kStart);    // 12 > 10: small.txt goes
  EXPECT_LE(cache.bytes(), 10u);
  cache.Find(*root_, "large.bin", kStart);
  cache.Find(*root_, "large2.bin", kStart);
  EXPECT_EQ(cache.open_files(), 1u);
  EXPECT_EQ(cache.entries(), 2u);
}

TEST_F(FileCacheTest, AnotherRootEmptiesTheCache) {
  FileCache cache;
  ASSERT_TRUE(cache.Find(*root_, "small.txt", kStart).file);
  absl::StatusOr<DocumentRoot> other = DocumentRoot::Open((base_ / "dir").string());
  ASSERT_TRUE(other.ok());
  // The same name beneath another root is another file (here: none).
  EXPECT_EQ(cache.Find(*other, "small.txt", kStart).error, ENOENT);
  EXPECT_EQ(cache.entries(), 0u);
}

}  // namespace
}  // namespace hs
